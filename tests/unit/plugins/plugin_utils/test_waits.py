"""waits: the one description of what an IOMesh cluster waits for, management and additional alike."""

from __future__ import annotations

import pytest
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import waits

from ..conftest import Inventory


def clusters(sizes=(3, 3, 3), release="iomesh", namespace="iomesh-system"):
    inv = Inventory(sizes)
    from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
    inv.clusters[0].update(name=release, namespace=namespace)
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars)


# The waits of the management cluster of the seed (release iomesh in iomesh-system, nodes w0-w2), written out.
SEED_MANAGEMENT = [
    {"label": "the IOMesh operator (its webhook guards every IOMeshCluster write)", "api_version": "apps/v1",
     "kind": "Deployment", "namespace": "iomesh-system", "check": "deployment", "args": {"name": "operator"}},
    {"label": "the ZooKeeper operator", "api_version": "apps/v1", "kind": "Deployment", "namespace": "iomesh-system",
     "check": "deployment", "args": {"name": "iomesh-zookeeper-operator"}},
    {"label": "the node disk manager operator", "api_version": "apps/v1", "kind": "Deployment",
     "namespace": "iomesh-system", "check": "deployment", "args": {"name": "iomesh-openebs-ndm-operator"}},
    {"label": "the node disk manager", "api_version": "apps/v1", "kind": "DaemonSet", "namespace": "iomesh-system",
     "check": "daemonset", "args": {"name": "iomesh-openebs-ndm"}},
    {"label": "the CSI controller", "api_version": "apps/v1", "kind": "Deployment", "namespace": "iomesh-system",
     "check": "deployment", "args": {"name": "iomesh-csi-driver-controller-plugin"}},
    {"label": "ZooKeeper iomesh-zookeeper", "api_version": "zookeeper.pravega.io/v1beta1", "kind": "ZookeeperCluster",
     "namespace": "iomesh-system", "name": "iomesh-zookeeper", "check": "zookeeper",
     "args": {"name": "iomesh-zookeeper"}},
    {"label": "the meta pods of iomesh", "api_version": "v1", "kind": "Pod", "namespace": "iomesh-system",
     "check": "pods_on_nodes", "args": {"what": "meta", "nodes": ["w0", "w1", "w2"], "count": 3,
                                        "name_pattern": "^iomesh-meta-[0-9]+$"}},
    {"label": "the chunk pods of iomesh", "api_version": "v1", "kind": "Pod", "namespace": "iomesh-system",
     "check": "pods_on_nodes", "args": {"what": "chunk", "nodes": ["w0", "w1", "w2"], "count": 3,
                                        "name_pattern": "^iomesh-chunk-[0-9]+$"}},
    {"label": "the iSCSI redirectors of iomesh", "api_version": "v1", "kind": "Pod", "namespace": "iomesh-system",
     "check": "pods_on_nodes", "args": {"what": "iscsi-redirector", "nodes": ["w0", "w1", "w2"], "every_node": True,
                                        "name_pattern": "^iomesh-iscsi-redirector-[a-z0-9]+$"}},
    {"label": "Service iomesh-meta-client (the metaAddr of iomesh-csi-configmap)", "api_version": "v1",
     "kind": "Service", "namespace": "iomesh-system", "name": "iomesh-meta-client", "check": "service",
     "args": {"name": "iomesh-meta-client", "port": 10100}},
    {"label": "IOMeshCluster iomesh", "api_version": "iomesh.com/v1alpha1", "kind": "IOMeshCluster",
     "namespace": "iomesh-system", "name": "iomesh", "check": "iomesh_cluster", "args": {"name": "iomesh"}},
    {"label": "the CSI node plugin on the nodes of iomesh", "api_version": "v1", "kind": "Pod",
     "namespace": "iomesh-system", "check": "csi_node_plugin",
     "args": {"nodes": ["w0", "w1", "w2"], "pending_nodes": ["w3", "w4", "w5", "w6", "w7", "w8"],
              "name_pattern": "^iomesh-csi-driver-node-plugin-[a-z0-9]+$"}},
]


def test_management_waits_shared_components_then_its_own():
    all_clusters = clusters()
    assert waits.cluster_waits(all_clusters[0], all_clusters) == SEED_MANAGEMENT


def test_additional_cluster_waits_zookeeper_then_the_same_per_cluster_waits():
    all_clusters = clusters()
    got = waits.cluster_waits(all_clusters[1], all_clusters)
    assert [w["label"] for w in got] == [
        "ZooKeeper iomesh-cluster-1-zookeeper",
        "the meta pods of iomesh-cluster-1",
        "the chunk pods of iomesh-cluster-1",
        "the iSCSI redirectors of iomesh-cluster-1",
        "Service iomesh-cluster-1-meta-client (the metaAddr of iomesh-cluster-1-csi-configmap)",
        "IOMeshCluster iomesh-cluster-1",
        "the CSI node plugin on the nodes of iomesh-cluster-1",
    ]
    assert {w["namespace"] for w in got[:-1]} == {"iomesh-cluster-1"}
    assert got[1]["args"]["name_pattern"] == "^iomesh-cluster-1-meta-[0-9]+$"
    # The CSI node plugin runs in the management namespace, named by the chart whatever the release.
    assert got[-1]["namespace"] == "iomesh-system"
    assert got[-1]["args"] == {"nodes": ["w3", "w4", "w5"], "pending_nodes": ["w6", "w7", "w8"],
                               "name_pattern": "^iomesh-csi-driver-node-plugin-[a-z0-9]+$"}


def test_the_last_cluster_expects_no_pending_node():
    all_clusters = clusters()
    assert waits.cluster_waits(all_clusters[2], all_clusters)[-1]["args"]["pending_nodes"] == []


@pytest.mark.parametrize(("release", "zookeeper_operator", "ndm", "ndm_operator"), [
    ("storage", "storage-zookeeper-operator", "storage-openebs-ndm", "storage-openebs-ndm-operator"),
    ("openebs-ndm-prod", "openebs-ndm-prod-zookeeper-operator", "openebs-ndm-prod", "openebs-ndm-prod-operator"),
])
def test_shared_names_follow_the_release_name(release, zookeeper_operator, ndm, ndm_operator):
    all_clusters = clusters(release=release, namespace="storage-system")
    shared = {w["label"]: (w["namespace"], w["args"]["name"]) for w in waits.shared_waits(all_clusters[0])}
    assert shared == {
        "the IOMesh operator (its webhook guards every IOMeshCluster write)": ("storage-system", "operator"),
        "the ZooKeeper operator": ("storage-system", zookeeper_operator),
        "the node disk manager operator": ("storage-system", ndm_operator),
        "the node disk manager": ("storage-system", ndm),
        "the CSI controller": ("storage-system", "iomesh-csi-driver-controller-plugin"),
    }


def test_plan_waits_are_the_parts_of_cluster_waits():
    all_clusters = clusters()
    for cluster in all_clusters:
        parts = waits.plan_waits(cluster, all_clusters)
        assert parts["all"] == waits.cluster_waits(cluster, all_clusters)
        assert parts["all"][-len(parts["serving"]):] == parts["serving"]
        assert parts["zookeeper"][0] in parts["all"] and parts["meta_client"][0] in parts["serving"]
    assert [w["args"]["name"] for w in waits.plan_waits(all_clusters[0], all_clusters)["operator"]] == ["operator"]
    assert waits.plan_waits(all_clusters[1], all_clusters)["operator"] == []


def test_every_wait_is_valid_for_the_wait_action():
    from ansible_collections.iomesh.multicluster.plugins.action.iomesh_wait import WAIT_SPEC
    from ansible_collections.iomesh.multicluster.plugins.plugin_utils import readiness
    all_clusters = clusters()
    for cluster in all_clusters:
        for wait in waits.cluster_waits(cluster, all_clusters):
            assert set(wait) <= set(WAIT_SPEC)
            assert wait["check"] in readiness.CHECKS


def test_a_cluster_list_without_exactly_one_management_cluster_is_refused():
    all_clusters = clusters()
    no_management = [{**c, "management": False} for c in all_clusters]
    with pytest.raises(ValueError, match=r"^the cluster list must hold exactly one management cluster, found 0$"):
        waits.serving_waits(no_management[1], no_management)
    two = [all_clusters[0], {**all_clusters[1], "management": True}, all_clusters[2]]
    with pytest.raises(ValueError, match=r"^the cluster list must hold exactly one management cluster, found 2$"):
        waits.cluster_waits(two[2], two)
