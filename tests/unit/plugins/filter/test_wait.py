"""readiness.wait_all (the loop behind the iomesh_wait action) and the checks it adds: shared reads, bounded
waits that fail saying what they expected and saw, API errors surfaced."""

from __future__ import annotations

import pytest
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import readiness


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def deployment(name, available, replicas=1):
    return {"metadata": {"name": name, "generation": 1}, "spec": {"replicas": replicas},
            "status": {"availableReplicas": available, "updatedReplicas": available, "observedGeneration": 1}}


def spec(label, name, kind="Deployment", check="deployment", **extra):
    return {"label": label, "api_version": "apps/v1", "kind": kind, "namespace": "ns", "check": check,
            "args": {"name": name}, **extra}


def test_checks_pick_the_named_object_out_of_a_namespace_list():
    listing = [deployment("operator", 0), deployment("iomesh-zookeeper-operator", 1)]
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
    states = iter([[deployment("a", 0), deployment("b", 1)], [deployment("a", 1), deployment("b", 1)]])

    def fetch(s):
        reads.append(s["label"])
        return next(states), None

    done = readiness.wait_all([spec("A", "a"), spec("B", "b")], fetch, timeout=60, delay=5,
                              clock=clock.clock, sleep=clock.sleep)
    # First round: A not ready (one read); after the sleep one fresh read serves both A and B.
    assert reads == ["A", "A"]
    assert clock.sleeps == [5]
    assert [(d["label"], d["polls"], d["seconds"]) for d in done] == [("A", 2, 5.0), ("B", 1, 0.0)]


def test_gives_up_after_the_timeout_with_what_it_expected_and_saw():
    clock = FakeClock()
    with pytest.raises(readiness.WaitFailed) as err:
        readiness.wait_all([spec("the IOMesh operator", "operator")], lambda s: ([deployment("operator", 0, 2)], None),
                           timeout=20, delay=5, clock=clock.clock, sleep=clock.sleep)
    message = str(err.value)
    assert message.startswith("Gave up after 20 s (5 polls) waiting for the IOMesh operator in namespace ns.")
    assert "Expected: Deployment operator with all replicas available. Seen: 0/2 available, 0 updated." in message
    assert clock.now <= 20


def test_an_api_error_is_what_it_saw_and_never_counts_as_ready():
    clock = FakeClock()
    with pytest.raises(readiness.WaitFailed) as err:
        readiness.wait_all([spec("ZooKeeper", "zk", kind="ZookeeperCluster", check="zookeeper")],
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
        "expected until their IOMesh cluster is deployed (pitfall P1): the CSI node plugin is not ready on w3 (CrashLoopBackOff)"
    ]
