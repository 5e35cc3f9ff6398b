"""readiness: the judgement behind every bounded wait (through iomesh_readiness), and wait_all, the loop behind
the iomesh_wait action: shared reads, bounded waits that fail saying what they expected and saw, API errors
surfaced."""

from __future__ import annotations

import pytest
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import readiness


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


def deployment(replicas, available, generation=1, observed=1, updated=None):
    """A Deployment's status as the API reports it: status.replicas counts every pod of the rollout."""
    return {"metadata": {"name": "operator", "generation": generation}, "spec": {"replicas": replicas},
            "status": {"replicas": replicas, "availableReplicas": available,
                       "updatedReplicas": available if updated is None else updated, "observedGeneration": observed}}


def test_deployment():
    assert f.iomesh_readiness([deployment(3, 3)], "deployment", name="operator")["ready"]
    partial = f.iomesh_readiness([deployment(3, 1)], "deployment", name="operator")
    assert not partial["ready"] and partial["seen"] == "1/3 available, 1 updated"
    stale = f.iomesh_readiness([deployment(3, 3, generation=2)], "deployment", name="operator")
    assert not stale["ready"] and "rollout not observed" in stale["seen"]
    missing = f.iomesh_readiness([], "deployment", name="operator")
    assert not missing["ready"] and missing["seen"] == "Deployment operator does not exist"
    assert missing["expected"] == "Deployment operator with all replicas available"


def test_a_deployment_mid_rollout_is_not_ready():
    """All replicas available but not all of the new template (updatedReplicas lags): still rolling out."""
    lagging = f.iomesh_readiness([deployment(3, 3, updated=2)], "deployment", name="operator")
    assert lagging["ready"] is False and lagging["seen"] == "3/3 available, 2 updated"
    # A surge pod of the rollout: more pods than wanted (kubernetes.core's rule: status.replicas == spec.replicas).
    surging = deployment(3, 3)
    surging["status"]["replicas"] = 4
    assert f.iomesh_readiness([surging], "deployment", name="operator")["ready"] is False
    unavailable = deployment(3, 3)
    unavailable["status"]["unavailableReplicas"] = 1
    assert f.iomesh_readiness([unavailable], "deployment", name="operator")["ready"] is False


def daemonset(desired, ready, updated=None, generation=1, observed=1, name="x"):
    return {"metadata": {"name": name, "generation": generation},
            "status": {"desiredNumberScheduled": desired, "numberReady": ready, "observedGeneration": observed,
                       "updatedNumberScheduled": ready if updated is None else updated}}


def test_daemonset_uses_status_counts():
    assert f.iomesh_readiness([daemonset(6, 6)], "daemonset", name="x")["ready"] is True
    short = f.iomesh_readiness([daemonset(6, 5)], "daemonset", name="x")
    assert short["ready"] is False and short["seen"] == "5/6 ready, 5 updated"
    missing = f.iomesh_readiness([{"status": {}}], "daemonset", name="x")
    assert missing["ready"] is False and missing["seen"] == "DaemonSet x does not exist"


def test_a_daemonset_on_no_node_or_mid_rollout_is_not_ready():
    nowhere = f.iomesh_readiness([daemonset(0, 0)], "daemonset", name="x")
    assert nowhere["ready"] is False and nowhere["seen"] == "0/0 ready, 0 updated"
    lagging = f.iomesh_readiness([daemonset(6, 6, updated=5)], "daemonset", name="x")
    assert lagging["ready"] is False and lagging["seen"] == "6/6 ready, 5 updated"
    stale = f.iomesh_readiness([daemonset(6, 6, generation=3, observed=2)], "daemonset", name="x")
    assert stale["ready"] is False and stale["seen"] == "6/6 ready, 6 updated, rollout not observed yet"


def test_zookeeper():
    zk = {"metadata": {"name": "c-zookeeper"}, "spec": {"replicas": 3}, "status": {"readyReplicas": 2}}
    short = f.iomesh_readiness([zk], "zookeeper", name="c-zookeeper")
    assert short["ready"] is False and short["seen"] == "2/3 ready replicas"
    zk["status"]["readyReplicas"] = 3
    assert f.iomesh_readiness([zk], "zookeeper", name="c-zookeeper")["ready"]


def test_zookeeper_counts_and_defaults():
    # No spec.replicas: the operator's default of 3; no status yet: 0 ready.
    fresh = f.iomesh_readiness([{"metadata": {"name": "z"}, "spec": {}}], "zookeeper", name="z")
    assert fresh == {"ready": False, "expected": "ZookeeperCluster z with all replicas ready",
                     "seen": "0/3 ready replicas", "notes": []}
    five = {"metadata": {"name": "z"}, "spec": {"replicas": 5}, "status": {"readyReplicas": 3}}
    assert f.iomesh_readiness([five], "zookeeper", name="z")["ready"] is False
    five["status"]["readyReplicas"] = 5
    assert f.iomesh_readiness([five], "zookeeper", name="z") == {
        "ready": True, "expected": "ZookeeperCluster z with all replicas ready", "seen": "5/5 ready replicas",
        "notes": []}
    missing = f.iomesh_readiness([], "zookeeper", name="z")
    assert missing["ready"] is False and missing["seen"] == "ZookeeperCluster z does not exist"


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
    assert result["notes"] == ["expected until their cluster is deployed (docs/pitfalls.md P1): the CSI node plugin is "
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


def test_name_pattern_picks_pods_out_of_a_namespace():
    pods = [pod(f"c-meta-{i}", f"w{i}") for i in range(3)] + [pod("c-chunk-0", "w4", "CrashLoopBackOff"), pod("operator-x", "w5")]
    result = f.iomesh_readiness(pods, "pods_on_nodes", what="meta", nodes=NODES, count=3, name_pattern=r"^c-meta-\d+$")
    assert result["ready"] and "c-chunk-0" not in result["seen"]
    assert not f.iomesh_readiness(pods, "pods_on_nodes", what="meta", nodes=NODES, count=3)["ready"]


# --- wait_all: the loop behind the iomesh_wait action ----------------------------------------------------------

class FakeClock:
    def __init__(self):
        # Not 0: a monotonic clock's epoch is arbitrary, so durations must be differences.
        self.now = 5000.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def listed_deployment(name, available, replicas=1):
    return {"metadata": {"name": name, "generation": 1}, "spec": {"replicas": replicas},
            "status": {"replicas": replicas, "availableReplicas": available, "updatedReplicas": available,
                       "observedGeneration": 1}}


def wait_spec(label, name, kind="Deployment", check="deployment", **extra):
    return {"label": label, "api_version": "apps/v1", "kind": kind, "namespace": "ns", "check": check,
            "args": {"name": name}, **extra}


def test_checks_pick_the_named_object_out_of_a_namespace_list():
    listing = [listed_deployment("operator", 0), listed_deployment("iomesh-zookeeper-operator", 1)]
    assert f.iomesh_readiness(listing, "deployment", name="iomesh-zookeeper-operator")["ready"]
    assert not f.iomesh_readiness(listing, "deployment", name="operator")["ready"]
    missing = f.iomesh_readiness(listing, "deployment", name="csi")
    assert missing["seen"] == "Deployment csi does not exist"


def test_service_check():
    svc = {"metadata": {"name": "c-meta-client"}, "spec": {"ports": [{"port": 10100}, {"port": 10206}]}}
    assert f.iomesh_readiness([svc], "service", name="c-meta-client", port=10100)["ready"]
    wrong = f.iomesh_readiness([svc], "service", name="c-meta-client", port=10101)
    assert not wrong["ready"] and wrong["seen"] == "ports 10100, 10206"
    assert f.iomesh_readiness([], "service", name="c-meta-client")["seen"] == "Service c-meta-client does not exist"


def test_waits_in_order_and_shares_reads_until_the_next_sleep():
    clock = FakeClock()
    reads = []
    states = iter([[listed_deployment("a", 0), listed_deployment("b", 1)], [listed_deployment("a", 1), listed_deployment("b", 1)]])

    def fetch(s):
        reads.append(s["label"])
        return next(states), None

    done = readiness.wait_all([wait_spec("A", "a"), wait_spec("B", "b")], fetch, timeout=60, delay=5,
                              clock=clock.clock, sleep=clock.sleep)
    # First round: A not ready (one read); after the sleep one fresh read serves both A and B.
    assert reads == ["A", "A"]
    assert clock.sleeps == [5]
    assert [(d["label"], d["polls"], d["seconds"]) for d in done] == [("A", 2, 5.0), ("B", 1, 0.0)]


def test_gives_up_after_the_timeout_with_what_it_expected_and_saw():
    clock = FakeClock()
    with pytest.raises(readiness.WaitFailed) as err:
        readiness.wait_all([wait_spec("the IOMesh operator", "operator")], lambda s: ([listed_deployment("operator", 0, 2)], None),
                           timeout=20, delay=5, clock=clock.clock, sleep=clock.sleep)
    message = str(err.value)
    assert message.startswith("Gave up after 20 s (5 polls) waiting for the IOMesh operator in namespace ns.")
    assert "Expected: Deployment operator with all replicas available. Seen: 0/2 available, 0 updated." in message
    assert clock.now - 5000.0 <= 20   # never sleeps past its timeout


def test_an_api_error_is_what_it_saw_and_never_counts_as_ready():
    clock = FakeClock()
    with pytest.raises(readiness.WaitFailed) as err:
        readiness.wait_all([wait_spec("ZooKeeper", "zk", kind="ZookeeperCluster", check="zookeeper")],
                           lambda s: ([], "Failed to find exact match for zookeeper.pravega.io/v1beta1.ZookeeperCluster"),
                           timeout=10, delay=5, clock=clock.clock, sleep=clock.sleep)
    assert "Seen: the API read failed: Failed to find exact match" in str(err.value)


def test_notes_of_the_last_judgement_are_returned():
    clock = FakeClock()
    pods = [
        {"metadata": {"name": "p0"}, "spec": {"nodeName": "w0"},
         "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}},
        {"metadata": {"name": "p3"}, "spec": {"nodeName": "w3"},
         "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                    "containerStatuses": [{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}},
    ]
    wait = {"label": "csi", "api_version": "v1", "kind": "Pod", "namespace": "ns", "check": "csi_node_plugin",
            "args": {"nodes": ["w0"], "pending_nodes": ["w3"]}}
    done = readiness.wait_all([wait], lambda s: (pods, None), timeout=10, delay=5, clock=clock.clock, sleep=clock.sleep)
    assert done[0]["notes"] == [
        "expected until their cluster is deployed (docs/pitfalls.md P1): the CSI node plugin is "
        "not ready on w3 (CrashLoopBackOff)"
    ]


# --- readiness checks of the waits ---------------------------------------------------------------------------


DEVICES = [{"device": "bd-a", "node": "w3", "path": "/dev/sdb", "mount_type": "cacheWithJournal"},
           {"device": "bd-b", "node": "w3", "path": "/dev/sdc", "mount_type": "dataStore"}]


def test_blockdevices_claimed():
    objs = [{"metadata": {"name": "bd-a"}, "status": {"claimState": "Claimed"}},
            {"metadata": {"name": "bd-b"}, "status": {"claimState": "Unclaimed"}}]
    state = f.iomesh_readiness(objs, "blockdevices_claimed", devices=DEVICES)
    assert not state["ready"]
    assert state["seen"] == "Claimed: bd-a (/dev/sdb on w3); Unclaimed: bd-b (/dev/sdc on w3)"
    assert state["expected"].startswith("2 BlockDevice(s) Claimed: bd-a (/dev/sdb on w3)")
    objs[1]["status"]["claimState"] = "Claimed"
    assert f.iomesh_readiness(objs, "blockdevices_claimed", devices=DEVICES)["ready"]
    assert "missing: bd-b" in f.iomesh_readiness(objs[:1], "blockdevices_claimed", devices=DEVICES)["seen"]


def test_attached_devices():
    cluster = {"metadata": {"name": "c1"}, "status": {"attachedDevices": [
        {"device": "bd-a", "mountType": "cacheWithJournal", "nodeName": "w3"}]}}
    state = f.iomesh_readiness([cluster], "attached_devices", name="c1", devices=DEVICES)
    assert not state["ready"] and state["seen"] == "1/2 attached as declared; not attached: bd-b (/dev/sdc on w3)"
    cluster["status"]["attachedDevices"].append({"device": "bd-b", "mountType": "dataStore", "nodeName": "w4"})
    state = f.iomesh_readiness([cluster], "attached_devices", name="c1", devices=DEVICES)
    assert not state["ready"] and "attached with another mount type or node: bd-b (/dev/sdc on w3) as dataStore on w4" \
        in state["seen"]
    cluster["status"]["attachedDevices"][1]["nodeName"] = "w3"
    assert f.iomesh_readiness([cluster], "attached_devices", name="c1", devices=DEVICES)["ready"]
    missing = f.iomesh_readiness([], "attached_devices", name="c1", devices=DEVICES)
    assert not missing["ready"] and missing["seen"] == "IOMeshCluster c1 does not exist"


# --- readiness checks of the verification waits -------------------------------------------------------------

def test_readiness_pvc_bound():
    claims = [{"metadata": {"name": "a"}, "status": {"phase": "Bound"}}, {"metadata": {"name": "b"}, "status": {}}]
    state = f.iomesh_readiness(claims, "pvc_bound", names=["a", "b", "c"])
    assert not state["ready"]
    assert state["expected"] == "PersistentVolumeClaim(s) a, b, c Bound"
    assert state["seen"] == "Bound: a; Pending: b; missing: c"
    assert f.iomesh_readiness(claims[:1], "pvc_bound", names=["a"])["ready"]


def test_readiness_pod_ready():
    ready = {"metadata": {"name": "a"}, "spec": {"nodeName": "w1"},
             "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    done = {"metadata": {"name": "b"}, "spec": {"nodeName": "w2"}, "status": {"phase": "Succeeded"}}
    waiting = {"metadata": {"name": "c"}, "spec": {"nodeName": "w3"}, "status": {"phase": "Pending", "containerStatuses": [
        {"state": {"waiting": {"reason": "ContainerCreating"}}}]}}
    assert f.iomesh_readiness([ready, done], "pod_ready", names=["a", "b"])["ready"]
    state = f.iomesh_readiness([ready, waiting], "pod_ready", names=["a", "c", "d"])
    assert not state["ready"]
    assert state["seen"] == "ContainerCreating on w3: c; Ready on w1: a; missing: d"


def test_a_long_wait_reports_progress_at_the_interval_and_a_quick_one_never():
    clock = FakeClock()
    lines = []
    states = iter([[listed_deployment("operator", 0, 2)]] * 7 + [[listed_deployment("operator", 2, 2)]])
    done = readiness.wait_all([wait_spec("the IOMesh operator", "operator")], lambda s: (next(states), None),
                              timeout=600, delay=5, clock=clock.clock, sleep=clock.sleep,
                              progress=lines.append, progress_interval=15)
    assert done[0]["seconds"] == 35.0
    assert lines == [
        "Still waiting for the IOMesh operator in namespace ns (15 s of 600 s). Seen: 0/2 available, 0 updated.",
        "Still waiting for the IOMesh operator in namespace ns (30 s of 600 s). Seen: 0/2 available, 0 updated.",
    ]
    quick = []
    readiness.wait_all([wait_spec("B", "b")], lambda s: ([listed_deployment("b", 1)], None), timeout=600, delay=5,
                       clock=clock.clock, sleep=clock.sleep, progress=quick.append, progress_interval=15)
    silent = []
    states = iter([[listed_deployment("operator", 0, 2)]] * 7 + [[listed_deployment("operator", 2, 2)]])
    readiness.wait_all([wait_spec("the IOMesh operator", "operator")], lambda s: (next(states), None),
                       timeout=600, delay=5, clock=clock.clock, sleep=clock.sleep, progress=silent.append,
                       progress_interval=0)
    assert quick == [] and silent == []


def test_an_interval_of_a_second_reports_every_poll_after_it():
    clock = FakeClock()
    lines = []
    states = iter([[listed_deployment("operator", 0)]] * 3 + [[listed_deployment("operator", 1)]])
    readiness.wait_all([wait_spec("the operator", "operator")], lambda s: (next(states), None), timeout=60, delay=1,
                       clock=clock.clock, sleep=clock.sleep, progress=lines.append, progress_interval=1)
    assert [line.split(" (")[1].split(")")[0] for line in lines] == ["1 s of 60 s", "2 s of 60 s"]


def test_progress_names_the_api_error_it_sees():
    clock = FakeClock()
    lines = []
    with pytest.raises(readiness.WaitFailed):
        readiness.wait_all([wait_spec("ZooKeeper", "zk", kind="ZookeeperCluster", check="zookeeper")],
                           lambda s: ([], "503 Service Unavailable"), timeout=20, delay=5, clock=clock.clock,
                           sleep=clock.sleep, progress=lines.append, progress_interval=10)
    assert lines == ["Still waiting for ZooKeeper in namespace ns (10 s of 20 s). Seen: the API read failed: "
                     "503 Service Unavailable."]


# --- what each check says: the expected and seen texts a failed wait's message is made of ---------------------


@pytest.mark.parametrize("check, args, expected, seen", [
    ("deployment", {"name": "blk-operator"}, "Deployment blk-operator with all replicas available",
     "Deployment blk-operator does not exist"),
    ("daemonset", {"name": "blk-csi-node"}, "DaemonSet blk-csi-node ready on every node it runs on",
     "DaemonSet blk-csi-node does not exist"),
    ("zookeeper", {"name": "blk-zk"}, "ZookeeperCluster blk-zk with all replicas ready", "ZookeeperCluster blk-zk does not exist"),
    ("iomesh_cluster", {"name": "blk"}, "IOMeshCluster blk with a meta leader and a licence in its status",
     "IOMeshCluster blk does not exist"),
    ("service", {"name": "blk-meta-client", "port": 10100}, "Service blk-meta-client with port 10100",
     "Service blk-meta-client does not exist"),
    ("service", {"name": "blk-meta-client"}, "Service blk-meta-client", "Service blk-meta-client does not exist"),
    ("attached_devices", {"name": "blk", "devices": [{"device": "blockdevice-9f", "node": "k8s-w5", "path": "/dev/nvme1n1",
                                                      "mount_type": "cacheWithJournal"}]},
     "IOMeshCluster blk listing 1 device(s) in status.attachedDevices with their node and mount type: "
     "blockdevice-9f (/dev/nvme1n1 on k8s-w5) as cacheWithJournal", "IOMeshCluster blk does not exist"),
])
def test_a_missing_object_is_not_ready_and_says_what_was_expected(check, args, expected, seen):
    # Another object of the namespace is listed: only the named one counts.
    other = {"metadata": {"name": "something-else"}, "spec": {}, "status": {}}
    assert f.iomesh_readiness([other], check, **args) == {"ready": False, "expected": expected, "seen": seen, "notes": []}


def test_a_deployment_without_replicas_wants_one_and_a_fresh_one_has_not_observed_its_rollout():
    fresh = {"metadata": {"name": "zk-operator", "generation": 1}, "spec": {},
             "status": {"availableReplicas": 1, "updatedReplicas": 1}}
    assert f.iomesh_readiness([fresh], "deployment", name="zk-operator") == {
        "ready": False, "expected": "Deployment zk-operator with all replicas available",
        "seen": "1/1 available, 1 updated, rollout not observed yet", "notes": []}
    # No generation and no observedGeneration (a bare object): nothing to observe.
    bare = {"metadata": {"name": "zk-operator"}, "spec": {"replicas": 2}}
    assert f.iomesh_readiness([bare], "deployment", name="zk-operator")["seen"] == "0/2 available, 0 updated"


def test_a_daemonset_on_one_node_and_one_just_created():
    one = f.iomesh_readiness([daemonset(1, 1, name="csi-node")], "daemonset", name="csi-node")
    assert one == {"ready": True, "expected": "DaemonSet csi-node ready on every node it runs on",
                   "seen": "1/1 ready, 1 updated", "notes": []}
    created = {"metadata": {"name": "csi-node", "generation": 1}, "status": {"desiredNumberScheduled": 2}}
    assert f.iomesh_readiness([created], "daemonset", name="csi-node") == {
        "ready": False, "expected": "DaemonSet csi-node ready on every node it runs on",
        "seen": "0/2 ready, 0 updated, rollout not observed yet", "notes": []}
    bare = {"metadata": {"name": "csi-node"}}
    assert f.iomesh_readiness([bare], "daemonset", name="csi-node")["seen"] == "0/0 ready, 0 updated"


def test_an_iomesh_cluster_without_status_has_no_leader_and_no_licence():
    assert f.iomesh_readiness([{"metadata": {"name": "blk"}}], "iomesh_cluster", name="blk") == {
        "ready": False, "expected": "IOMeshCluster blk with a meta leader and a licence in its status",
        "seen": "meta leader none, licence serial none", "notes": []}
    licensed = {"metadata": {"name": "blk"}, "status": {"license": {"serial": "SN-7"}}}
    assert f.iomesh_readiness([licensed], "iomesh_cluster", name="blk")["seen"] == "meta leader none, licence serial SN-7"


def test_a_service_without_ports_and_a_service_without_a_port_asked():
    svc = {"metadata": {"name": "blk-access"}, "spec": {}}
    assert f.iomesh_readiness([svc], "service", name="blk-access", port=10201) == {
        "ready": False, "expected": "Service blk-access with port 10201", "seen": "ports none", "notes": []}
    assert f.iomesh_readiness([svc], "service", name="blk-access") == {
        "ready": True, "expected": "Service blk-access", "seen": "ports none", "notes": []}


def status_pod(status, name="p", node="w1"):
    return {"metadata": {"name": name}, "spec": {"nodeName": node} if node else {}, "status": status}


@pytest.mark.parametrize("status, state", [
    ({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False"}]}, "Pending (unscheduled: no node fits)"),
    ({"phase": "Pending", "containerStatuses": [
        {"state": {"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "iomesh/zk:3.5.9"'}}}]},
     'ImagePullBackOff (Back-off pulling image "iomesh/zk:3.5.9")'),
    ({"phase": "Running", "containerStatuses": [{"state": {"running": {}}}, {"state": {"waiting": {}}}]},
     "Running, not ready"),
    ({"phase": "Running", "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False"}]},
     "Running, not ready"),
    ({"phase": "Pending"}, "Pending"),
    ({"phase": "Failed"}, "Failed"),
    ({}, "Unknown"),
    ({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}, "Ready"),
])
def test_pod_state_names_why_a_pod_is_not_ready(status, state):
    assert readiness.pod_state(status_pod(status)) == state


def test_pods_on_nodes_by_count_says_what_it_saw_of_every_pod():
    pods = [pod("blk-meta-0", "k8s-w1"), pod("blk-meta-1", "k8s-w2"), pod("blk-meta-2", None, "Unschedulable"),
            status_pod({"phase": "Pending"}, name="blk-meta-3", node=None), {"spec": {"nodeName": "k8s-w2"}, "status": {}},
            pod("blk-meta-4", "k8s-w9"), pod("blk-meta-5", "k8s-w8")]
    result = f.iomesh_readiness(pods, "pods_on_nodes", what="meta", nodes=["k8s-w2", "k8s-w1"], count=2)
    assert result == {
        "ready": False, "expected": "2 meta pod(s) ready, only on k8s-w1, k8s-w2",
        "seen": "Pending: blk-meta-3; Pending (Unschedulable: 0/6 nodes are available): blk-meta-2; "
                "Ready: blk-meta-0@k8s-w1, blk-meta-1@k8s-w2, blk-meta-4@k8s-w9, blk-meta-5@k8s-w8; Unknown: ?@k8s-w2; "
                "OUTSIDE the cluster's nodes: blk-meta-4 on k8s-w9, blk-meta-5 on k8s-w8",
        "notes": []}
    # Without the strays: two ready pods on the cluster's nodes are enough; the pending ones do not matter.
    assert f.iomesh_readiness(pods[:5], "pods_on_nodes", what="meta", nodes=["k8s-w2", "k8s-w1"], count=2)["ready"] is True
    assert f.iomesh_readiness(pods[:1], "pods_on_nodes", what="meta", nodes=["k8s-w2", "k8s-w1"], count=2)["ready"] is False


def test_pods_on_nodes_counts_by_default_and_zero_pods_wanted_is_ready_with_none():
    # Two of three nodes: enough for a count of 2, not for one pod on each node.
    pods = [pod("chunk-a", "n1"), pod("chunk-b", "n2")]
    assert f.iomesh_readiness(pods, "pods_on_nodes", what="chunk", nodes=["n1", "n2", "n3"], count=2)["ready"] is True
    assert f.iomesh_readiness([], "pods_on_nodes", what="chunk", nodes=["n1"], count=0) == {
        "ready": True, "expected": "0 chunk pod(s) ready, only on n1", "seen": "no pods", "notes": []}


def test_pods_on_every_node_says_which_nodes():
    pods = [pod("redir-a", "n1"), pod("redir-b", "n3", "CrashLoopBackOff")]
    assert f.iomesh_readiness(pods, "pods_on_nodes", what="iscsi-redirector", nodes=["n3", "n1"], every_node=True) == {
        "ready": False, "expected": "iscsi-redirector ready on each of n1, n3 and nowhere else",
        "seen": "CrashLoopBackOff: redir-b@n3; Ready: redir-a@n1", "notes": []}


def test_csi_node_plugin_judges_only_its_own_pods_and_notes_only_pending_nodes_not_ready():
    plugin = "iomesh-csi-driver-node-plugin"
    pods = [pod(f"{plugin}-a", "n1"), pod(f"{plugin}-b", "n2"), pod("blk-chunk-0", "n1", "CrashLoopBackOff"),
            pod(f"{plugin}-c", "n5"), pod(f"{plugin}-d", "n6", "CrashLoopBackOff")]
    result = f.iomesh_readiness(pods, "csi_node_plugin", nodes=["n1", "n2"], pending_nodes=["n5", "n6"],
                                name_pattern=f"^{plugin}-")
    assert result == {
        "ready": True, "expected": "iomesh-csi-driver-node-plugin ready on each of n1, n2 and nowhere else",
        "seen": f"Ready: {plugin}-a@n1, {plugin}-b@n2",
        "notes": ["expected until their cluster is deployed (docs/pitfalls.md P1): the CSI node plugin is not ready on "
                  "n6 (CrashLoopBackOff)"]}


def test_blockdevices_claimed_texts():
    devices = [{"device": "blockdevice-1", "node": "k8s-w4", "path": "/dev/sdd"}, {"device": "blockdevice-2", "node": "k8s-w4"},
               {"device": "blockdevice-3"}, {"path": "/dev/sde"}]
    objs = [{"metadata": {"name": "blockdevice-1"}, "status": {}}, {"metadata": {"name": "blockdevice-2"}}]
    assert f.iomesh_readiness(objs, "blockdevices_claimed", devices=devices) == {
        "ready": False,
        "expected": "4 BlockDevice(s) Claimed: blockdevice-1 (/dev/sdd on k8s-w4), blockdevice-2 (k8s-w4), blockdevice-3, ? (/dev/sde)",
        "seen": "missing: blockdevice-3, ? (/dev/sde); no claimState: blockdevice-1 (/dev/sdd on k8s-w4), blockdevice-2 (k8s-w4)",
        "notes": []}
    assert f.iomesh_readiness(objs, "blockdevices_claimed", devices=[]) == {
        "ready": True, "expected": "0 BlockDevice(s) Claimed: ", "seen": "no devices", "notes": []}


def test_attached_devices_texts():
    devices = [{"device": f"bd-{i}", "node": "k8s-w7", "path": f"/dev/sd{c}", "mount_type": "dataStore"}
               for i, c in enumerate("bcdef")]
    cluster = {"metadata": {"name": "blk-2"}, "status": {"attachedDevices": [
        {"device": "bd-0", "mountType": "dataStore", "nodeName": "k8s-w7"},
        {"device": "bd-3", "mountType": "cacheWithJournal", "nodeName": "k8s-w7"},
        {"device": "bd-4", "mountType": "dataStore", "nodeName": "k8s-w8"}, "not a mapping"]}}
    assert f.iomesh_readiness([cluster], "attached_devices", name="blk-2", devices=devices) == {
        "ready": False,
        "expected": "IOMeshCluster blk-2 listing 5 device(s) in status.attachedDevices with their node and mount type: "
                    "bd-0 (/dev/sdb on k8s-w7) as dataStore, bd-1 (/dev/sdc on k8s-w7) as dataStore, "
                    "bd-2 (/dev/sdd on k8s-w7) as dataStore, bd-3 (/dev/sde on k8s-w7) as dataStore, "
                    "bd-4 (/dev/sdf on k8s-w7) as dataStore",
        "seen": "1/5 attached as declared; not attached: bd-1 (/dev/sdc on k8s-w7), bd-2 (/dev/sdd on k8s-w7); "
                "attached with another mount type or node: bd-3 (/dev/sde on k8s-w7) as cacheWithJournal on k8s-w7, "
                "bd-4 (/dev/sdf on k8s-w7) as dataStore on k8s-w8",
        "notes": []}


def test_pod_ready_texts():
    pods = [status_pod({"phase": "Succeeded"}, name="smoke-0", node="k8s-w3"),
            status_pod({"phase": "Pending"}, name="smoke-1", node=None), status_pod({"phase": "Pending"}, name="smoke-2", node=None),
            status_pod({"phase": "Succeeded"}, name="smoke-3", node=None)]
    assert f.iomesh_readiness(pods, "pod_ready", names=["smoke-0", "smoke-1", "smoke-2", "smoke-3"]) == {
        "ready": False, "expected": "Pod(s) smoke-0, smoke-1, smoke-2, smoke-3 ready or completed",
        "seen": "Pending: smoke-1, smoke-2; Succeeded: smoke-3; Succeeded on k8s-w3: smoke-0", "notes": []}
    assert f.iomesh_readiness(pods, "pod_ready", names=["smoke-0", "smoke-3"])["ready"] is True
    assert f.iomesh_readiness(pods, "pod_ready", names=[]) == {
        "ready": True, "expected": "Pod(s)  ready or completed", "seen": "nothing", "notes": []}


# --- wait_all: which reads are shared, the seconds reported, the messages -------------------------------------


def test_waits_on_other_objects_read_their_own_and_the_same_objects_share_one_read():
    clock = FakeClock()
    reads = []

    def fetch(s):
        reads.append(s["label"])
        return [{"metadata": {"name": "svc"}}], None

    base = {"api_version": "v1", "kind": "Service", "namespace": "blk-a", "name": "svc", "label_selectors": ["app=x"],
            "check": "service", "args": {"name": "svc"}}
    waits = [{**base, "label": "base"}, {**base, "label": "same"}, {**base, "label": "api", "api_version": "v2"},
             {**base, "label": "kind", "kind": "Endpoints"}, {**base, "label": "ns", "namespace": "blk-b"},
             {**base, "label": "name", "name": "other"}, {**base, "label": "selector", "label_selectors": ["app=y"]},
             {**base, "label": "unnamed", "name": None}]
    done = readiness.wait_all(waits, fetch, timeout=60, delay=5, clock=clock.clock, sleep=clock.sleep)
    assert [d["label"] for d in done] == ["base", "same", "api", "kind", "ns", "name", "selector", "unnamed"]
    assert reads == ["base", "api", "kind", "ns", "name", "selector", "unnamed"]


def test_the_seconds_of_a_wait_are_rounded_to_a_tenth():
    clock = FakeClock()

    def slow_fetch(_spec):
        clock.now += 1.26   # a slow API answer
        return [listed_deployment("op", 1)], None

    done = readiness.wait_all([wait_spec("op", "op")], slow_fetch, timeout=60, delay=5, clock=clock.clock, sleep=clock.sleep)
    assert done == [{"label": "op", "seconds": 1.3, "polls": 1, "notes": []}]


def test_no_progress_without_an_interval_and_no_namespace_for_a_cluster_wide_wait():
    clock = FakeClock()
    lines = []
    wait = {"label": "the BlockDevices of blk", "api_version": "iomesh.com/v1alpha1", "kind": "BlockDevice", "namespace": None,
            "check": "service", "args": {"name": "bd"}}
    with pytest.raises(readiness.WaitFailed) as err:
        readiness.wait_all([wait], lambda s: ([], None), timeout=12, delay=4, clock=clock.clock, sleep=clock.sleep,
                           progress=lines.append)
    assert str(err.value) == ("Gave up after 12 s (4 polls) waiting for the BlockDevices of blk. Expected: Service bd. "
                              "Seen: Service bd does not exist.")
    assert lines == []
    clock = FakeClock()
    with pytest.raises(readiness.WaitFailed):
        readiness.wait_all([wait], lambda s: ([], None), timeout=12, delay=4, clock=clock.clock, sleep=clock.sleep,
                           progress=lines.append, progress_interval=8)
    assert lines == ["Still waiting for the BlockDevices of blk (8 s of 12 s). Seen: Service bd does not exist."]


def test_a_failed_wait_adds_the_notes_of_its_last_judgement():
    clock = FakeClock()
    pods = [pod("iomesh-csi-driver-node-plugin-a", "n1", "CrashLoopBackOff"),
            pod("iomesh-csi-driver-node-plugin-b", "n4", "CrashLoopBackOff")]
    wait = {"label": "the CSI node plugin", "api_version": "v1", "kind": "Pod", "namespace": "csi-ns", "check": "csi_node_plugin",
            "args": {"nodes": ["n1"], "pending_nodes": ["n4"]}}
    with pytest.raises(readiness.WaitFailed) as err:
        readiness.wait_all([wait], lambda s: (pods, None), timeout=5, delay=5, clock=clock.clock, sleep=clock.sleep)
    assert str(err.value) == (
        "Gave up after 5 s (2 polls) waiting for the CSI node plugin in namespace csi-ns. Expected: iomesh-csi-driver-node-plugin "
        "ready on each of n1 and nowhere else. Seen: CrashLoopBackOff: iomesh-csi-driver-node-plugin-a@n1. Also noted: expected "
        "until their cluster is deployed (docs/pitfalls.md P1): the CSI node plugin is not ready on n4 (CrashLoopBackOff)")
