"""Filters of plugins/filter/iomesh_prereq.py: argument checks, registration and doc files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_prereq as f

from ..conftest import facts

ROOT = Path(__file__).resolve().parents[4]


ROLE_VARS = yaml.safe_load((ROOT / "roles/iomesh_prereq/vars/main.yml").read_text())


OS_TABLE = ROLE_VARS["__iomesh_prereq_os_table"]


def test_plan_input_errors():
    with pytest.raises(AnsibleFilterError, match="iomesh_prereq_platform: facts must be a dictionary"):
        f.iomesh_prereq_platform("Debian", OS_TABLE, "h")
    with pytest.raises(AnsibleFilterError, match="os_table must be the role's OS table"):
        f.iomesh_prereq_platform(facts(), {"Debian": {}}, "h")


# --- host checks ----------------------------------------------------------------------------------------------------

CIDR = [{"cluster": "iomesh", "data_cidr": "10.234.1.0/24"}]


def test_thresholds_must_be_a_dictionary():
    with pytest.raises(AnsibleFilterError, match="thresholds must be a dictionary"):
        f.iomesh_prereq_host_report(facts(), "h", [8], CIDR)


def test_filter_module_lists_every_filter_with_a_doc_file():
    names = set(f.FilterModule().filters())
    docs = {p.stem for p in (ROOT / "plugins/filter").glob("iomesh_prereq_*.yml")}
    assert names == docs
