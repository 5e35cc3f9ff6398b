"""Filters of plugins/filter/iomesh_csi.py: argument checks and registration."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_csi as c
from ansible_collections.iomesh.multicluster.plugins.filter.iomesh_csi import FilterModule

from ..conftest import NODES, volume


@pytest.fixture
def clusters(inv):
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


# --- StorageClass conflicts ---------------------------------------------------------------------------------

def test_registered():
    assert set(FilterModule().filters()) == {
        "iomesh_storage_class_conflicts", "iomesh_pv_nodes", "iomesh_verify_manifests", "iomesh_verify_results",
        "iomesh_verify_plan", "iomesh_verify_record"}


@pytest.mark.parametrize("args, message", [
    (("nope", []), "the input must be the StorageClass manifests"),
    (([{"kind": "ConfigMap", "metadata": {"name": "x"}}], []), "must be a StorageClass manifest"),
    (([], {"items": []}), "existing must be the resources list"),
    (([], [], "x"), "persistent_volumes must be"),
    (([], [], [], "yes"), "recreate must be true or false"),
    (([], [], [], False, "yes"), "adopt must be true or false"),
])
def test_conflict_input_errors(args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        c.iomesh_storage_class_conflicts(*args)


# --- PV node affinity ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (([], NODES), "expects a PersistentVolume"),
    (({"kind": "Pod"}, NODES), "expects a PersistentVolume"),
    ((volume(None), "w1"), "nodes must be"),
    ((volume(None), NODES, "bad key!"), "node_label_key must be"),
])
def test_pv_nodes_input_errors(args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        c.iomesh_pv_nodes(*args)


@pytest.mark.parametrize("args, message", [
    (("x", "ns"), "expects the cluster list"),
    (([{"name": "x"}], "ns"), "expects the cluster list"),
    ((None, "Bad_NS"), "namespace must be"),
    ((None, "ns", ""), "size must be"),
    ((None, "ns", "1Gi", 3), "pod_image must be"),
])
def test_verify_manifests_input_errors(clusters, args, message):
    args = (clusters if args[0] is None else args[0], *args[1:])
    with pytest.raises(AnsibleFilterError, match=message):
        c.iomesh_verify_manifests(*args)


@pytest.mark.parametrize("kwargs, message", [
    ({"clusters": [{"name": "x"}]}, "expects the cluster list"),
    ({"namespace": "NS"}, "namespace must be"),
    ({"skip_reason": ""}, "skip_reason must be"),
    ({"wait_timeout": "10"}, "wait_timeout must be"),
    ({"claims": {"items": []}}, "claims must be the resources list"),
    ({"nodes": ["w1"]}, "nodes must be the resources list"),
    ({"check_pod": "yes"}, "check_pod must be true or false"),
    ({"node_label_key": ""}, "node_label_key must be"),
])
def test_verify_results_input_errors(clusters, kwargs, message):
    args = {"clusters": clusters, "namespace": "iomesh-verify", **kwargs}
    with pytest.raises(AnsibleFilterError, match=message):
        c.iomesh_verify_results(args.pop("clusters"), args.pop("namespace"), **args)
