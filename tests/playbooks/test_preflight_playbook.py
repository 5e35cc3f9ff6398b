"""playbooks/preflight.yml on the seed inventory passes; bad input fails with its message, changing nothing."""

from __future__ import annotations

import copy

import pytest

from .conftest import ROOT, seed_clusters

SEED = ROOT / "inventories" / "seed-example"


def test_seed_inventory_passes(run_playbook):
    # Inventory stage only: there is no Kubernetes cluster here (test_preflight_kubernetes.py runs the Kubernetes
    # stage against the API emulator), and an unreachable API would rightly fail the run.
    run = run_playbook("playbooks/preflight.yml", SEED, {"iomesh_preflight_kubernetes": False})
    assert run.rc == 0, run
    assert run.recap()["changed"] == 0 and run.recap()["failed"] == 0, run
    assert "iomesh (management, namespace iomesh-system" in run.output
    assert "k8s-woker-3, k8s-woker-4, k8s-woker-5" in run.output


def test_site_runs_preflight_first(run_playbook):
    run = run_playbook("site.yml", SEED, None, "--list-tasks")
    assert run.rc == 0, run
    tasks = [line.strip() for line in run.output.splitlines() if "iomesh_preflight :" in line]
    assert "play #1 (localhost): Validate the IOMesh multi-cluster inventory" in run.output
    assert tasks[0].startswith("iomesh.multicluster.iomesh_preflight : Validating arguments against arg spec 'main'")
    assert tasks[1].startswith("iomesh.multicluster.iomesh_preflight : Validate the inventory")


def _mutate(change):
    clusters = copy.deepcopy(seed_clusters())
    change(clusters)
    return {"iomesh_clusters": clusters}


BAD_INPUTS = {
    "host-in-two-clusters": (_mutate(lambda c: c[1].update(hosts_group="iomesh_nodes")),
                             "k8s-woker-0, k8s-woker-1, k8s-woker-2: in two IOMesh clusters, iomesh and iomesh-cluster-1"),
    "no-management": (_mutate(lambda c: c[0].pop("management")), "exactly one cluster must have management: true"),
    "bad-name": (_mutate(lambda c: c[1].update(name="IOMesh_Cluster1")), "'IOMesh_Cluster1' is not a valid IOMesh cluster name"),
    "bad-cidr": (_mutate(lambda c: c[1].update(data_cidr="10.234.1.0/33")), "'10.234.1.0/33' is not a valid IPv4 CIDR"),
    # ansible_host alone may be an SSH address on another network; a storage address outside data_cidr is refused.
    "storage-address-outside-cidr": ({"iomesh_data_ip": "192.168.50.4"},
                                     "host k8s-woker-4.iomesh_data_ip: 192.168.50.4 is outside"),
    "community-chunk-limit": (_mutate(lambda c: c[0].update(chunk_replicas=5)), "is 5 but the cluster has 3 nodes"),
    "reserved-storage-class": (_mutate(lambda c: c[1].update(storage_class={"name": "iomesh-csi-driver"})),
                               "'iomesh-csi-driver' is a StorageClass the IOMesh chart creates itself"),
    "empty-cluster-id": ({"iomesh_k8s_cluster_id": ""}, "iomesh_k8s_cluster_id: '' must be a non-empty string"),
}


@pytest.mark.parametrize("extra, message", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_bad_input_fails_in_preflight(run_playbook, extra, message):
    run = run_playbook("site.yml", SEED, extra)
    assert run.rc == 2, run
    assert "Fail on inventory problems" in run.output
    assert message in run.output, run
    assert "nothing was changed" in run.output
    assert run.recap()["changed"] == 0, run


def test_warnings_can_be_made_fatal(run_playbook):
    run = run_playbook("playbooks/preflight.yml", SEED, {"iomesh_preflight_fail_on_warnings": True})
    assert run.rc == 2, run
    assert "warnings count as problems" in run.output
    assert "no host declares iomesh_disks" in run.output
