"""The `lifecycle` molecule scenario with helm 4 (docs/day-2.md): deploy chart v1.0.1 with two clusters, add a node,
add a third cluster, upgrade to v1.1.0, activate a licence, remove one cluster, tear everything down — after each
step the run changes what --check named, a re-run and --check change nothing, and the clusters the step leaves
alone keep serving."""

from __future__ import annotations

import pytest

from .scenario import VENV_BIN, _free_port, molecule_test, unexplained_warnings

STEPS = ("deploy chart v1.0.1, two clusters", "add node lc-b-3 to lc-b", "add a third cluster lc-c",
         "upgrade to chart v1.1.0", "activate a licence on lc-c", "remove lc-c", "tear everything down")


def test_lifecycle_helm4(tmp_path):
    binary = VENV_BIN / "helm4"
    if not binary.exists():
        pytest.skip(f"{binary} is missing (make setup installs helm3 and helm4)")
    output = molecule_test("lifecycle", tmp_path, {
        "IOMESH_HELM": str(binary),
        "IOMESH_TESTBED_PORT": str(_free_port()),
        "IOMESH_TESTBED_CHART_PORT": str(_free_port()),
    })
    for step in ("create", "converge", "verify", "destroy"):
        assert f"[lifecycle > {step}] Executed: Successful" in output, f"step {step} did not run successfully"
    for step in STEPS:
        assert f"{step}: --check named" in output, f"lifecycle step {step!r} was not judged"
    assert "nothing of lc-a, lc-b, lc-c is left" in output
    assert unexplained_warnings(output) == []
