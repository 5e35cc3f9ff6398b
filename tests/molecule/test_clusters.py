"""The `clusters` molecule scenario (preflight -> mgmt -> cluster on the testbed): create -> check on a fresh
cluster -> converge -> idempotence -> check on the converged clusters (changed=0) -> verify -> destroy.

Run on the seed inventory with helm 3 and with helm 4, and on the three-cluster sample inventory with helm 4
(a few minutes each). The testbed is
started by the scenario itself (no root, podman or VM needed); this file runs on its own pytest-xdist worker
while tests/molecule/test_scenarios.py boots hosts.
"""

from __future__ import annotations

import socket

import pytest

from .test_scenarios import VENV_BIN, molecule_test

CASES = {
    "seed-helm3": ("inventories/seed-example", "helm3"),
    "seed-helm4": ("inventories/seed-example", "helm4"),
    "three-clusters-helm4": ("inventories/three-clusters", "helm4"),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("inventory, helm", list(CASES.values()), ids=list(CASES))
def test_clusters_scenario(tmp_path, inventory, helm):
    binary = VENV_BIN / helm
    if not binary.exists():
        pytest.skip(f"{binary} is missing (make setup installs helm3 and helm4)")
    output = molecule_test("clusters", tmp_path, {
        "IOMESH_SCENARIO_INVENTORY": inventory,
        "IOMESH_HELM": str(binary),
        "IOMESH_TESTBED_PORT": str(_free_port()),
        "IOMESH_TESTBED_CHART_PORT": str(_free_port()),
    })
    # Each stage of the sequence ran and passed (a missing playbook would be skipped with a warning).
    for step in ("create", "check", "converge", "idempotence", "side_effect", "verify", "destroy"):
        assert f"[clusters > {step}] Executed: Successful" in output, f"step {step} did not run successfully"
    assert "check mode on the converged clusters: changed=0, failed=0" in output
