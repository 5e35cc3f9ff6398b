"""iomesh_readiness: the judgement behind every bounded wait."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f

NODES = ["w0", "w1", "w2"]


def pod(name, node, state="Ready"):
    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    if state == "CrashLoopBackOff":
        status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                  "containerStatuses": [{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
    elif state == "Unschedulable":
        status = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                                      "message": "0/6 nodes are available"}]}
        node = None
    return {"metadata": {"name": name}, "spec": {"nodeName": node} if node else {}, "status": status}


def deployment(replicas, available, generation=1, observed=1):
    return {"metadata": {"name": "operator", "generation": generation}, "spec": {"replicas": replicas},
            "status": {"availableReplicas": available, "updatedReplicas": available, "observedGeneration": observed}}


def test_deployment():
    assert f.iomesh_readiness([deployment(3, 3)], "deployment", name="operator")["ready"]
    partial = f.iomesh_readiness([deployment(3, 1)], "deployment", name="operator")
    assert not partial["ready"] and partial["seen"] == "1/3 available, 1 updated"
    stale = f.iomesh_readiness([deployment(3, 3, generation=2)], "deployment", name="operator")
    assert not stale["ready"] and "rollout not observed" in stale["seen"]
    missing = f.iomesh_readiness([], "deployment", name="operator")
    assert not missing["ready"] and missing["seen"] == "Deployment operator does not exist"
    assert missing["expected"] == "Deployment operator with all replicas available"


def test_daemonset_uses_status_counts():
    ds = {"metadata": {"name": "x"}, "status": {"desiredNumberScheduled": 6, "numberReady": 6}}
    assert f.iomesh_readiness([ds], "daemonset", name="x")["ready"]
    ds["status"]["numberReady"] = 5
    assert f.iomesh_readiness([ds], "daemonset", name="x")["seen"] == "5/6 ready"
    assert not f.iomesh_readiness([{"status": {}}], "daemonset", name="x")["ready"]


def test_zookeeper():
    zk = {"metadata": {"name": "c-zookeeper"}, "spec": {"replicas": 3}, "status": {"readyReplicas": 2}}
    assert f.iomesh_readiness([zk], "zookeeper", name="c-zookeeper")["seen"] == "2/3 ready replicas"
    zk["status"]["readyReplicas"] = 3
    assert f.iomesh_readiness([zk], "zookeeper", name="c-zookeeper")["ready"]


def test_pods_ready_on_the_cluster_nodes():
    pods = [pod(f"c-meta-{i}", f"w{i}") for i in range(3)]
    assert f.iomesh_readiness(pods, "pods_on_nodes", what="meta", nodes=NODES, count=3)["ready"]


def test_pod_outside_the_cluster_nodes_is_never_ready():
    pods = [pod("c-meta-0", "w0"), pod("c-meta-1", "w1"), pod("c-meta-2", "w4")]
    result = f.iomesh_readiness(pods, "pods_on_nodes", what="meta", nodes=NODES, count=3)
    assert not result["ready"] and "OUTSIDE the cluster's nodes: c-meta-2 on w4" in result["seen"]


def test_unschedulable_pod_is_shown_with_its_reason():
    pods = [pod("c-chunk-0", "w0"), pod("c-chunk-1", "w1"), pod("c-chunk-2", None, "Unschedulable")]
    result = f.iomesh_readiness(pods, "pods_on_nodes", what="chunk", nodes=NODES, count=3)
    assert not result["ready"]
    assert "Pending (Unschedulable: 0/6 nodes are available): c-chunk-2" in result["seen"]


def test_every_node():
    pods = [pod("r-a", "w0"), pod("r-b", "w1")]
    assert not f.iomesh_readiness(pods, "pods_on_nodes", what="redirector", nodes=NODES, every_node=True)["ready"]
    pods.append(pod("r-c", "w2"))
    assert f.iomesh_readiness(pods, "pods_on_nodes", what="redirector", nodes=NODES, every_node=True)["ready"]


def test_csi_node_plugin_crash_on_pending_nodes_is_expected():
    pods = [pod(f"p{i}", f"w{i}") for i in range(3)] + [pod(f"p{i}", f"w{i}", "CrashLoopBackOff") for i in range(3, 6)]
    result = f.iomesh_readiness(pods, "csi_node_plugin", nodes=NODES, pending_nodes=["w3", "w4", "w5"])
    assert result["ready"]
    assert result["notes"] == ["expected until their IOMesh cluster is deployed (pitfall P1): the CSI node plugin is "
                               "not ready on w3 (CrashLoopBackOff), w4 (CrashLoopBackOff), w5 (CrashLoopBackOff)"]
    pods[1] = pod("p1", "w1", "CrashLoopBackOff")
    broken = f.iomesh_readiness(pods, "csi_node_plugin", nodes=NODES, pending_nodes=["w3", "w4", "w5"])
    assert not broken["ready"] and "CrashLoopBackOff: p1@w1" in broken["seen"]


def test_iomesh_cluster_status():
    cr = {"metadata": {"name": "c"}, "status": {"summary": {"metaSummary": {"leader": "10.234.1.10:10100"}}, "license": {"serial": "abc"}}}
    assert f.iomesh_readiness([cr], "iomesh_cluster", name="c")["ready"]
    cr["status"]["license"] = {}
    result = f.iomesh_readiness([cr], "iomesh_cluster", name="c")
    assert not result["ready"] and result["seen"] == "meta leader 10.234.1.10:10100, licence serial none"


@pytest.mark.parametrize("args, kwargs, match", [
    (("nope",), {}, "check must be one of"),
    (("deployment",), {"nam": "x"}, "wrong arguments for check deployment"),
])
def test_bad_arguments(args, kwargs, match):
    with pytest.raises(AnsibleFilterError, match=match):
        f.iomesh_readiness([], *args, **kwargs)
    with pytest.raises(AnsibleFilterError, match="resources list"):
        f.iomesh_readiness("x", "deployment", name="x")


def test_name_pattern_picks_pods_out_of_a_namespace():
    pods = [pod(f"c-meta-{i}", f"w{i}") for i in range(3)] + [pod("c-chunk-0", "w4", "CrashLoopBackOff"), pod("operator-x", "w5")]
    result = f.iomesh_readiness(pods, "pods_on_nodes", what="meta", nodes=NODES, count=3, name_pattern=r"^c-meta-\d+$")
    assert result["ready"] and "c-chunk-0" not in result["seen"]
    assert not f.iomesh_readiness(pods, "pods_on_nodes", what="meta", nodes=NODES, count=3)["ready"]
