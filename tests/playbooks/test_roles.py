"""Every role has the same shape; argument_specs and defaults document the same variables."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import contract

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir())


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_role_layout(role):
    assert role.name.startswith("iomesh_")
    for part in ("tasks/main.yml", "meta/main.yml", "meta/argument_specs.yml", "defaults/main.yml"):
        assert (role / part).is_file(), f"{role.name} lacks {part}"


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_argument_specs_match_defaults(role):
    defaults = yaml.safe_load((role / "defaults/main.yml").read_text()) or {}
    options = yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    # A role's own variables; the contract's (iomesh_cluster_domain starts like iomesh_cluster's) come from contract.py.
    own = {k for k in options if k.startswith(role.name + "_") and k not in contract.NAMES}
    assert set(defaults) == own, f"defaults {sorted(defaults)} vs argument_specs {sorted(own)}"
    for name, value in defaults.items():
        assert options[name].get("default") == value, f"{role.name}: default of {name} differs"
    for name in defaults:
        assert name.startswith(role.name + "_"), f"{name} is not prefixed with {role.name}_"
