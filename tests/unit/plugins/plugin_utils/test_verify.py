"""verify (through iomesh_pv_nodes, iomesh_verify_manifests, iomesh_verify_results): the PV's nodes, the
verification claims and pods, and the verdict on each cluster."""

from __future__ import annotations

import pytest
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_csi as c
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import verify

from ..conftest import NODES, Inventory, existing, node, volume  # the clusters fixture is in ..conftest too


# --- PV node affinity ---------------------------------------------------------------------------------------


def expr(key, operator, *values):
    return {"key": key, "operator": operator, **({"values": list(values)} if values else {})}


@pytest.mark.parametrize("terms, nodes", [
    ([{"matchExpressions": [expr("kubernetes.io/hostname", "In", "w3", "w4", "w5")]}], ["w3", "w4", "w5"]),
    ([{"matchExpressions": [expr("zone", "NotIn", "a")]}], ["w3", "w4", "w5"]),
    ([{"matchExpressions": [expr("zone", "Exists")]}], [f"w{i}" for i in range(6)]),
    ([{"matchExpressions": [expr("zone", "DoesNotExist")]}], []),
    ([{"matchExpressions": [expr("rank", "Gt", "3")]}], ["w4", "w5"]),
    ([{"matchExpressions": [expr("rank", "Lt", "1")]}], ["w0"]),
    ([{"matchExpressions": [expr("rank", "Gt", "x")]}], []),
    ([{"matchExpressions": [expr("zone", "In", "b"), expr("rank", "Lt", "5")]}], ["w3", "w4"]),
    ([{"matchFields": [expr("metadata.name", "In", "w1")]}, {"matchExpressions": [expr("rank", "In", "5")]}],
     ["w1", "w5"]),
    ([{"matchFields": [expr("spec.unknown", "In", "w1")]}], []),
    ([{}], []),
    ([{"matchExpressions": [expr("zone", "Bogus", "a")]}], []),
])
def test_pv_nodes(terms, nodes):
    assert c.iomesh_pv_nodes(volume(*terms), NODES) == nodes


def test_pv_nodes_without_affinity_is_none():
    assert c.iomesh_pv_nodes(volume(None), NODES) is None


def test_pv_nodes_named_by_label_key():
    nodes = [node("n1", **{"example.com/node": "w3"}), {"metadata": {"name": "bare"}}]
    pvol = volume({"matchFields": [expr("metadata.name", "In", "n1", "bare")]})
    assert c.iomesh_pv_nodes(pvol, nodes, "example.com/node") == ["bare", "w3"]


# --- verification manifests ---------------------------------------------------------------------------------

def test_verify_manifests(clusters):
    out = c.iomesh_verify_manifests(clusters, "iomesh-verify", "2Gi", "registry.example/busybox:1")
    assert [m["metadata"]["name"] for m in out["claims"]] == ["iomesh-verify-iomesh", "iomesh-verify-iomesh-cluster-1"]
    claim, pod = out["claims"][1], out["pods"][1]
    assert claim["spec"] == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}},
                             "storageClassName": "iomesh-cluster-1"}
    assert claim["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "iomesh.multicluster",
                                           "app.kubernetes.io/component": "verify",
                                           "iomesh.multicluster/cluster": "iomesh-cluster-1"}
    assert pod["metadata"] == claim["metadata"] and pod["metadata"]["labels"] is not claim["metadata"]["labels"]
    assert "affinity" not in pod["spec"] and "nodeSelector" not in pod["spec"]
    assert pod["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "iomesh-verify-iomesh-cluster-1"}}]
    container = pod["spec"]["containers"][0]
    assert container["image"] == "registry.example/busybox:1"
    assert "sync && grep -qx iomesh-verify-ok /data/iomesh-verify" in container["command"][2]
    assert container["readinessProbe"]["exec"]["command"] == ["grep", "-qx", "iomesh-verify-ok", "/data/iomesh-verify"]


# --- verification verdicts ----------------------------------------------------------------------------------

def live_storage_class(name, namespace):
    """A StorageClass of one IOMesh cluster as the csi stage leaves it (domain doc section 9), written out rather than
    rendered: the verdict checks its CSI connection against the inventory, so it must not come from the same code."""
    return existing({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
                     "provisioner": "com.iomesh.csi-driver",
                     "parameters": {"clusterConnection": f"{namespace}/{name}-csi-configmap", "iomeshCluster": f"{namespace}/{name}",
                                    "csi.storage.k8s.io/fstype": "ext4", "replicaFactor": "2", "thinProvision": "true"},
                     "reclaimPolicy": "Delete", "allowVolumeExpansion": True, "volumeBindingMode": "Immediate"})


class World:
    """What the API returns after the verification claims of the two clusters were created and waited for."""

    def __init__(self, clusters):
        self.clusters = clusters
        self.storage_classes = [live_storage_class("iomesh", "iomesh-system"),
                                live_storage_class("iomesh-cluster-1", "iomesh-cluster-1")]
        self.nodes = NODES
        self.claims, self.volumes, self.pods, self.events = [], [], [], []
        for cl in clusters:
            name = f"iomesh-verify-{cl['name']}"
            self.claims.append({"metadata": {"name": name}, "spec": {"volumeName": f"pv-{cl['name']}"},
                                "status": {"phase": "Bound"}})
            pvol = volume({"matchExpressions": [expr("kubernetes.io/hostname", "In", *cl["nodes"])]},
                          sc=cl["storage_class"]["name"])
            pvol["metadata"]["name"] = f"pv-{cl['name']}"
            self.volumes.append(pvol)
            self.pods.append({"metadata": {"name": name}, "spec": {"nodeName": cl["nodes"][1]},
                              "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})

    def judge(self, **kwargs):
        return c.iomesh_verify_results(self.clusters, "iomesh-verify", storage_classes=self.storage_classes,
                                       claims=self.claims, volumes=self.volumes, pods=self.pods, nodes=self.nodes,
                                       events=self.events, **kwargs)


@pytest.fixture
def world(clusters):
    return World(clusters)


def test_both_clusters_pass(world):
    results = world.judge(wait_timeout=300)
    assert [r["result"] for r in results] == ["passed", "passed"]
    r = results[1]
    assert {k: r[k] for k in ("cluster", "namespace", "storage_class", "pvc", "phase", "pv", "driver", "pv_nodes",
                              "within_cluster_nodes", "pod", "pod_node", "problems")} == {
        "cluster": "iomesh-cluster-1", "namespace": "iomesh-verify", "storage_class": "iomesh-cluster-1",
        "pvc": "iomesh-verify-iomesh-cluster-1", "phase": "Bound", "pv": "pv-iomesh-cluster-1",
        "driver": "com.iomesh.csi-driver", "pv_nodes": ["w3", "w4", "w5"], "within_cluster_nodes": True,
        "pod": "iomesh-verify-iomesh-cluster-1", "pod_node": "w4", "problems": []}
    assert "usable only on w3, w4, w5, all nodes of cluster iomesh-cluster-1" in r["message"]
    assert "test pod wrote and read back a file on w4" in r["message"]


def test_without_pod(world):
    world.pods = []
    r = world.judge(check_pod=False)[0]
    assert r["result"] == "passed" and r["pod"] is None and "test pod" not in r["message"]


def test_subset_of_the_nodes_passes(world):
    world.volumes[1]["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] = ["w3"]
    assert world.judge()[1]["result"] == "passed"


def test_missing_storage_class(world):
    world.storage_classes = world.storage_classes[:1]
    r = world.judge()[1]
    assert r["result"] == "failed" and r["phase"] is None
    assert r["message"] == ("StorageClass iomesh-cluster-1 does not exist, so no claim was created; run the iomesh_csi "
                            "role (playbooks/csi.yml) first.")


@pytest.mark.parametrize("change, problem", [
    ({"provisioner": "other"}, "has provisioner 'other', expected 'com.iomesh.csi-driver'"),
    ({"parameters.iomeshCluster": "nowhere/x"},
     "has parameters.iomeshCluster 'nowhere/x', expected 'iomesh-cluster-1/iomesh-cluster-1'"),
    ({"parameters.clusterConnection": None}, "has parameters.clusterConnection None, expected"),
])
def test_storage_class_pointing_elsewhere(world, change, problem):
    world.storage_classes[1] = existing(world.storage_classes[1], **change)
    r = world.judge()[1]
    assert r["result"] == "failed" and problem in r["message"]


def test_claim_missing(world):
    world.claims = world.claims[:1]
    r = world.judge()[1]
    assert r["result"] == "failed" and "PersistentVolumeClaim iomesh-verify/iomesh-verify-iomesh-cluster-1 does not exist" in r["message"]


def test_pending_claim_quotes_its_warning_events(world):
    world.claims[1] = {"metadata": {"name": "iomesh-verify-iomesh-cluster-1"}, "spec": {}, "status": {"phase": "Pending"}}
    involved = {"kind": "PersistentVolumeClaim", "name": "iomesh-verify-iomesh-cluster-1"}
    world.events = [
        {"involvedObject": involved, "type": "Normal", "reason": "Provisioning", "message": "External provisioner is"},
        {"involvedObject": involved, "type": "Warning", "reason": "ProvisioningFailed", "message": "old",
         "lastTimestamp": "2026-01-01T00:00:00Z"},
        {"involvedObject": involved, "type": "Warning", "reason": "ProvisioningFailed", "message": "new",
         "lastTimestamp": "2026-01-01T00:00:09Z"},
        {"involvedObject": {**involved, "name": "other"}, "type": "Warning", "reason": "X", "message": "not mine"},
    ]
    r = world.judge(wait_timeout=20)[1]
    assert r["result"] == "failed" and r["phase"] == "Pending" and r["pv"] is None and r["pod"] is None
    assert r["message"] == ("PersistentVolumeClaim iomesh-verify/iomesh-verify-iomesh-cluster-1 is Pending, not Bound "
                            "within 20 s; events: ProvisioningFailed: new | ProvisioningFailed: old.")
    world.events = []
    assert world.judge()[1]["message"].endswith("not Bound; no warning events.")


def test_volume_not_readable(world):
    world.volumes = world.volumes[:1]
    assert "PersistentVolume pv-iomesh-cluster-1 of claim iomesh-verify/iomesh-verify-iomesh-cluster-1 could not be read" \
        in world.judge()[1]["message"]


def test_wrong_driver_and_class(world):
    world.volumes[1]["spec"]["csi"]["driver"] = "hostpath.csi"
    world.volumes[1]["spec"]["storageClassName"] = "iomesh-csi-driver"
    r = world.judge()[1]
    assert r["result"] == "failed" and r["driver"] == "hostpath.csi"
    assert "has CSI driver 'hostpath.csi', expected 'com.iomesh.csi-driver'" in r["message"]
    assert "has storageClassName 'iomesh-csi-driver', expected 'iomesh-cluster-1'" in r["message"]


def test_volume_without_node_affinity(world):
    del world.volumes[1]["spec"]["nodeAffinity"]
    r = world.judge()[1]
    assert r["result"] == "failed" and not r["within_cluster_nodes"] and r["pv_nodes"] == []
    assert "has no required node affinity: pods using it may run on any node" in r["message"]


def test_volume_affinity_matching_no_node(world):
    world.volumes[1]["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"] = [{"matchExpressions": [
        expr("kubernetes.io/hostname", "In", "gone")]}]
    assert "matches no node" in world.judge()[1]["message"]


def test_volume_reaching_outside_the_cluster(world):
    world.volumes[1]["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"].append(
        {"matchExpressions": [expr("kubernetes.io/hostname", "In", "w0")]})
    r = world.judge()[1]
    assert r["result"] == "failed" and not r["within_cluster_nodes"] and r["pv_nodes"] == ["w0", "w3", "w4", "w5"]
    assert ("PersistentVolume pv-iomesh-cluster-1 may be used on w0, outside cluster iomesh-cluster-1 "
            "(nodes w3, w4, w5).") in r["message"]


def test_pod_outside_the_cluster(world):
    world.pods[0]["spec"]["nodeName"] = "w4"
    r = world.judge()[0]
    assert r["result"] == "failed" and r["within_cluster_nodes"] and r["pod_node"] == "w4"
    assert r["message"] == ("Test pod iomesh-verify/iomesh-verify-iomesh was scheduled on w4, outside cluster iomesh "
                            "(nodes w0, w1, w2).")


def test_pod_not_ready(world):
    world.pods[1]["status"] = {"phase": "Pending", "containerStatuses": [
        {"state": {"waiting": {"reason": "ContainerCreating", "message": "attach failed"}}}]}
    r = world.judge(wait_timeout=60)[1]
    assert r["result"] == "failed"
    assert ("on w4 did not write and read back a file on the volume within 60 s: ContainerCreating (attach failed)"
            in r["message"])


def test_pod_completed_counts_as_ready(world):
    world.pods[1]["status"] = {"phase": "Succeeded"}
    assert world.judge()[1]["result"] == "passed"


def test_pod_not_scheduled_or_missing(world):
    world.pods[1] = {"metadata": {"name": "iomesh-verify-iomesh-cluster-1"}, "spec": {}, "status": {
        "phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                            "message": "0/6 nodes are available"}]}}
    assert "was not scheduled: Pending (Unschedulable: 0/6 nodes are available)" in world.judge()[1]["message"]
    world.pods = world.pods[:1]
    assert "Test pod iomesh-verify/iomesh-verify-iomesh-cluster-1 does not exist." == world.judge()[1]["message"]


def test_pod_node_named_by_label(world, clusters):
    world.nodes = [node(f"node-{i}", **{"example.com/node": f"w{i}"}) for i in range(6)]
    for pvol, cl in zip(world.volumes, clusters):
        pvol["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"] = [
            {"matchExpressions": [expr("example.com/node", "In", *cl["nodes"])]}]
    world.pods[1]["spec"]["nodeName"] = "node-5"
    r = world.judge(node_label_key="example.com/node")[1]
    assert r["result"] == "passed" and r["pod_node"] == "w5"


def test_skipped(clusters):
    results = c.iomesh_verify_results(clusters, "iomesh-verify", skip_reason="Check mode: nothing created.")
    assert [(r["cluster"], r["result"], r["message"], r["pvc"]) for r in results] == [
        ("iomesh", "skipped", "Check mode: nothing created.", "iomesh-verify-iomesh"),
        ("iomesh-cluster-1", "skipped", "Check mode: nothing created.", "iomesh-verify-iomesh-cluster-1")]
    assert set(results[0]) == {"cluster", "namespace", "storage_class", "pvc", "phase", "pv", "driver", "pv_nodes",
                               "within_cluster_nodes", "pod", "pod_node", "result", "message", "problems"}


# --- a run of its own, other cluster names and namespaces ----------------------------------------------------

@pytest.fixture
def east_west():
    """Clusters ssd-east (w0..w2, in iomesh-system) and hdd-west (w3..w6, in its own namespace hdd-west)."""
    inv = Inventory((3, 4))
    inv.clusters[0]["name"], inv.clusters[1]["name"] = "ssd-east", "hdd-west"
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


SEVEN_NODES = [node(f"w{i}") for i in range(7)]


class RunWorld:
    """What the API returns for the verification objects of run r20261205 after they were created and waited for."""

    RUN = "r20261205"

    def __init__(self, clusters):
        self.clusters = clusters
        self.storage_classes = [live_storage_class("ssd-east", "iomesh-system"), live_storage_class("hdd-west", "hdd-west")]
        self.nodes = SEVEN_NODES
        self.claims, self.volumes, self.pods, self.events = [], [], [], []
        for cl in clusters:
            name = f"iomesh-verify-{cl['name']}-{self.RUN}"
            self.claims.append({"metadata": {"name": name}, "spec": {"volumeName": f"pvc-{cl['name']}-0a1"},
                                "status": {"phase": "Bound"}})
            pvol = volume({"matchExpressions": [expr("kubernetes.io/hostname", "In", *cl["nodes"])]},
                          sc=cl["storage_class"]["name"])
            pvol["metadata"]["name"] = f"pvc-{cl['name']}-0a1"
            self.volumes.append(pvol)
            self.pods.append({"metadata": {"name": name}, "spec": {"nodeName": cl["nodes"][-1]},
                              "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})

    def judge(self, **kwargs):
        return c.iomesh_verify_results(self.clusters, "storage-check", storage_classes=self.storage_classes,
                                       claims=self.claims, volumes=self.volumes, pods=self.pods, nodes=self.nodes,
                                       events=self.events, run=self.RUN, **kwargs)


@pytest.fixture
def run_world(east_west):
    return RunWorld(east_west)


def test_verify_manifests_of_a_run(east_west):
    out = c.iomesh_verify_manifests(east_west, "storage-check", "512Mi", "mirror.example/busybox:1.36.1", run="r20261205")
    name = "iomesh-verify-hdd-west-r20261205"
    meta = {"name": name, "namespace": "storage-check",
            "labels": {"app.kubernetes.io/managed-by": "iomesh.multicluster", "app.kubernetes.io/component": "verify",
                       "iomesh.multicluster/cluster": "hdd-west", "iomesh.multicluster/run": "r20261205"}}
    assert [m["metadata"]["name"] for m in out["claims"]] == ["iomesh-verify-ssd-east-r20261205", name]
    assert [m["metadata"]["name"] for m in out["pods"]] == ["iomesh-verify-ssd-east-r20261205", name]
    assert out["claims"][1] == {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "512Mi"}},
                 "storageClassName": "hdd-west"}}
    assert out["pods"][1] == {
        "apiVersion": "v1", "kind": "Pod", "metadata": meta,
        "spec": {
            "containers": [{
                "command": ["sh", "-c", "echo iomesh-verify-ok > /data/iomesh-verify && sync && "
                            "grep -qx iomesh-verify-ok /data/iomesh-verify && exec sleep 3600"],
                "image": "mirror.example/busybox:1.36.1",
                "name": "probe",
                "readinessProbe": {"exec": {"command": ["grep", "-qx", "iomesh-verify-ok", "/data/iomesh-verify"]},
                                   "periodSeconds": 2},
                "securityContext": {"allowPrivilegeEscalation": False},
                "volumeMounts": [{"mountPath": "/data", "name": "data"}],
            }],
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": name}}],
        }}


def test_claim_name_with_and_without_run():
    assert verify.claim_name("hdd-west") == "iomesh-verify-hdd-west"
    assert verify.claim_name("hdd-west", "r7") == "iomesh-verify-hdd-west-r7"


def test_run_passes_with_whole_result(run_world):
    results = run_world.judge(wait_timeout=90)
    assert results == [
        {"cluster": "ssd-east", "namespace": "storage-check", "storage_class": "ssd-east",
         "pvc": "iomesh-verify-ssd-east-r20261205", "phase": "Bound", "pv": "pvc-ssd-east-0a1",
         "driver": "com.iomesh.csi-driver", "pv_nodes": ["w0", "w1", "w2"], "within_cluster_nodes": True,
         "pod": "iomesh-verify-ssd-east-r20261205", "pod_node": "w2", "result": "passed", "problems": [],
         "message": "PersistentVolumeClaim storage-check/iomesh-verify-ssd-east-r20261205 is Bound to pvc-ssd-east-0a1 "
                    "(com.iomesh.csi-driver), usable only on w0, w1, w2, all nodes of cluster ssd-east; test pod wrote "
                    "and read back a file on w2."},
        {"cluster": "hdd-west", "namespace": "storage-check", "storage_class": "hdd-west",
         "pvc": "iomesh-verify-hdd-west-r20261205", "phase": "Bound", "pv": "pvc-hdd-west-0a1",
         "driver": "com.iomesh.csi-driver", "pv_nodes": ["w3", "w4", "w5", "w6"], "within_cluster_nodes": True,
         "pod": "iomesh-verify-hdd-west-r20261205", "pod_node": "w6", "result": "passed", "problems": [],
         "message": "PersistentVolumeClaim storage-check/iomesh-verify-hdd-west-r20261205 is Bound to pvc-hdd-west-0a1 "
                    "(com.iomesh.csi-driver), usable only on w3, w4, w5, w6, all nodes of cluster hdd-west; test pod "
                    "wrote and read back a file on w6."},
    ]


def test_run_passes_without_pod_message(run_world):
    run_world.pods = []
    r = run_world.judge(check_pod=False)[1]
    assert r["result"] == "passed" and r["pod"] is None and r["pod_node"] is None
    assert r["message"] == ("PersistentVolumeClaim storage-check/iomesh-verify-hdd-west-r20261205 is Bound to "
                            "pvc-hdd-west-0a1 (com.iomesh.csi-driver), usable only on w3, w4, w5, w6, all nodes of "
                            "cluster hdd-west.")


def test_objects_of_another_run_are_not_taken_for_this_one(run_world):
    """The claims and pods of an earlier run (other suffix) or without a run are not this run's."""
    for claim, pod in zip(run_world.claims, run_world.pods):
        claim["metadata"]["name"] = claim["metadata"]["name"].replace("r20261205", "r20261204")
        pod["metadata"]["name"] = pod["metadata"]["name"].replace("-r20261205", "")
    r = run_world.judge()[1]
    assert r["result"] == "failed" and r["problems"] == [
        "PersistentVolumeClaim storage-check/iomesh-verify-hdd-west-r20261205 does not exist."]
    assert r["message"] == "PersistentVolumeClaim storage-check/iomesh-verify-hdd-west-r20261205 does not exist."


def test_skipped_run_whole_result(east_west):
    results = c.iomesh_verify_results(east_west, "storage-check", skip_reason="Inventory problems: nothing verified.",
                                      run="r20261205")
    assert results[1] == {
        "cluster": "hdd-west", "namespace": "storage-check", "storage_class": "hdd-west",
        "pvc": "iomesh-verify-hdd-west-r20261205", "phase": None, "pv": None, "driver": None, "pv_nodes": [],
        "within_cluster_nodes": False, "pod": None, "pod_node": None, "result": "skipped",
        "message": "Inventory problems: nothing verified.", "problems": []}


def test_several_problems_all_listed(run_world):
    run_world.storage_classes[1] = existing(run_world.storage_classes[1], provisioner="rbd.csi.ceph.com")
    run_world.volumes[1]["spec"]["csi"]["driver"] = "rbd.csi.ceph.com"
    r = run_world.judge()[1]
    assert r["problems"] == [
        "StorageClass hdd-west has provisioner 'rbd.csi.ceph.com', expected 'com.iomesh.csi-driver'.",
        "PersistentVolume pvc-hdd-west-0a1 has CSI driver 'rbd.csi.ceph.com', expected 'com.iomesh.csi-driver'."]
    assert r["message"] == ("StorageClass hdd-west has provisioner 'rbd.csi.ceph.com', expected 'com.iomesh.csi-driver'. "
                            "PersistentVolume pvc-hdd-west-0a1 has CSI driver 'rbd.csi.ceph.com', expected "
                            "'com.iomesh.csi-driver'.")


def test_claim_without_phase_yet_is_pending(run_world):
    """A claim just created has no status yet: it is reported as Pending."""
    run_world.claims[0] = {"metadata": {"name": "iomesh-verify-ssd-east-r20261205"}, "spec": {}}
    r = run_world.judge(wait_timeout=45)[0]
    assert r["phase"] == "Pending" and r["pvc"] == "iomesh-verify-ssd-east-r20261205"
    assert r["message"] == ("PersistentVolumeClaim storage-check/iomesh-verify-ssd-east-r20261205 is Pending, not Bound "
                            "within 45 s; no warning events.")


def test_pending_claim_events_ordered_by_event_time_or_creation(run_world):
    """Events with no lastTimestamp (events.k8s.io style) are ordered by eventTime, else by their creation; events
    without any time come last."""
    name = "iomesh-verify-hdd-west-r20261205"
    run_world.claims[1] = {"metadata": {"name": name}, "spec": {}, "status": {"phase": "Pending"}}
    involved = {"kind": "PersistentVolumeClaim", "name": name}

    def warning(message, **times):
        metadata = {"creationTimestamp": times.pop("created")} if "created" in times else {}
        return {"involvedObject": involved, "type": "Warning", "reason": "ProvisioningFailed", "message": message,
                "metadata": metadata, **times}

    run_world.events = [
        warning("undated"),
        warning("created 10:00", created="2026-12-05T10:00:00Z"),
        warning("event 10:05", eventTime="2026-12-05T10:05:00.000000Z", created="2026-12-05T09:00:00Z"),
        warning("created 10:07", created="2026-12-05T10:07:00Z"),
        warning("event 10:03", eventTime="2026-12-05T10:03:00.000000Z"),
    ]
    assert run_world.judge()[1]["message"] == (
        f"PersistentVolumeClaim storage-check/{name} is Pending, not Bound; events: ProvisioningFailed: created 10:07 | "
        "ProvisioningFailed: event 10:05 | ProvisioningFailed: event 10:03 | ProvisioningFailed: created 10:00 | "
        "ProvisioningFailed: undated.")


def test_volume_without_node_affinity_names_the_cluster_nodes(run_world):
    del run_world.volumes[1]["spec"]["nodeAffinity"]
    assert run_world.judge()[1]["message"] == (
        "PersistentVolume pvc-hdd-west-0a1 has no required node affinity: pods using it may run on any node, not only "
        "on the nodes of cluster hdd-west (w3, w4, w5, w6).")


def test_volume_reaching_two_nodes_outside(run_world):
    run_world.volumes[0]["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"] = [
        {"matchExpressions": [expr("kubernetes.io/hostname", "In", "w1", "w5", "w6")]}]
    r = run_world.judge()[0]
    assert r["pv_nodes"] == ["w1", "w5", "w6"] and r["within_cluster_nodes"] is False
    assert r["message"] == "PersistentVolume pvc-ssd-east-0a1 may be used on w5, w6, outside cluster ssd-east (nodes w0, w1, w2)."


def test_pod_on_a_node_missing_from_the_node_list(run_world):
    """A pod's node that the node list lacks is named by the pod's nodeName."""
    run_world.nodes = [n for n in SEVEN_NODES if n["metadata"]["name"] != "w6"]
    r = run_world.judge()[1]
    assert r["result"] == "passed" and r["pod_node"] == "w6" and r["pv_nodes"] == ["w3", "w4", "w5"]


@pytest.mark.parametrize("operator, nodes", [
    ("DoesNotExist", ["w0", "w2"]),
    ("Exists", ["w1"]),
])
def test_pv_nodes_label_on_some_nodes_only(operator, nodes):
    """Only w1 carries the label: DoesNotExist admits the others, Exists only w1."""
    labelled = [node("w0"), node("w1", **{"topology.example.com/rack": "r1"}), node("w2")]
    assert c.iomesh_pv_nodes(volume({"matchExpressions": [expr("topology.example.com/rack", operator)]}), labelled) == nodes
