"""Cluster simulation: nodes from the testbed config, scheduler, workload controllers, kubelet,
PVC binding, --delay, and plugins (admission hook, controller, pod hook)."""

from __future__ import annotations

import time

import pytest
import yaml

from conftest import FIXTURES

CONFIG = {
    "nodes": [
        {"name": "k8s-woker-0", "internalIP": "10.234.1.10", "labels": {"disk": "ssd"}},
        {"name": "k8s-woker-1", "internalIP": "10.234.1.11", "labels": {"disk": "ssd"}},
        {"name": "k8s-woker-2", "internalIP": "10.234.1.12",
         "taints": [{"key": "dedicated", "value": "storage", "effect": "NoSchedule"}]},
        {"name": "k8s-woker-3", "internalIP": "10.234.1.13", "allocatable": {"cpu": "1", "memory": "1Gi"}},
    ],
    "objects": [{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "hostpath"},
                 "provisioner": "kubevirt.io/hostpath-provisioner", "volumeBindingMode": "WaitForFirstConsumer"}],
    "extraForPlugins": {"dataCIDR": "10.234.1.0/24"},
}


@pytest.fixture(scope="module")
def sim(start_emulator, tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "testbed.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    return start_emulator("--config", str(path), "--plugin", "tests.plugin_sample")


def pods(sim, ns, selector):
    return sim.get(f"/api/v1/namespaces/{ns}/pods?labelSelector={selector}")["items"]


def create(sim, path, body):
    code, out, _ = sim.request("POST", path, body)
    assert code == 201, out
    return out


def pod(name, **spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": "registry.invalid/x:1"}], **spec}}


def test_default_nodes(start_emulator):
    plain = start_emulator()
    nodes = plain.get("/api/v1/nodes")["items"]
    assert [n["metadata"]["name"] for n in nodes] == [f"k8s-woker-{i}" for i in range(6)]
    for n in nodes:
        assert n["metadata"]["labels"]["kubernetes.io/hostname"] == n["metadata"]["name"]
        ip = next(a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP")
        assert ip.startswith("10.234.1.")
        assert {c["type"]: c["status"] for c in n["status"]["conditions"]}["Ready"] == "True"
        assert n["status"]["allocatable"]["cpu"] and n["status"]["allocatable"]["memory"]


def test_scheduler_node_affinity_selector_taints(sim):
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["k8s-woker-1"]}]}]}}}
    create(sim, "/api/v1/namespaces/default/pods", pod("aff", affinity=affinity))
    create(sim, "/api/v1/namespaces/default/pods", pod("sel", nodeSelector={"disk": "ssd"}))
    create(sim, "/api/v1/namespaces/default/pods", pod("tainted-only", nodeSelector={
        "kubernetes.io/hostname": "k8s-woker-2"}))
    create(sim, "/api/v1/namespaces/default/pods", pod("tolerates", nodeSelector={
        "kubernetes.io/hostname": "k8s-woker-2"}, tolerations=[{"key": "dedicated", "operator": "Equal",
                                                               "value": "storage", "effect": "NoSchedule"}]))
    fields = {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["k8s-woker-0",
                                                                                     "k8s-woker-1", "k8s-woker-3"]}]}
    create(sim, "/api/v1/namespaces/default/pods", pod("fields", affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [fields]}}},
        tolerations=[{"operator": "Exists"}]))
    create(sim, "/api/v1/namespaces/default/pods", pod("big", containers=[
        {"name": "c", "image": "registry.invalid/x:1", "resources": {"requests": {"cpu": "64"}}}]))

    def get(name):
        return sim.get(f"/api/v1/namespaces/default/pods/{name}")

    sim.wait_for(lambda: all(get(n).get("status", {}).get("phase") == "Running"
                             for n in ("aff", "sel", "tolerates", "fields")))
    assert get("aff")["spec"]["nodeName"] == "k8s-woker-1"
    assert get("sel")["spec"]["nodeName"] in ("k8s-woker-0", "k8s-woker-1")
    assert get("tolerates")["spec"]["nodeName"] == get("fields")["spec"]["nodeName"] == "k8s-woker-2"
    for name, text in (("tainted-only", "untolerated taint {dedicated: storage}"), ("big", "Insufficient cpu")):
        p = sim.wait_for(lambda: (lambda x: x if x.get("status", {}).get("conditions") else None)(get(name)))
        assert p["status"]["phase"] == "Pending" and "nodeName" not in p["spec"]
        cond = p["status"]["conditions"][0]
        assert (cond["type"], cond["status"], cond["reason"]) == ("PodScheduled", "False", "Unschedulable")
        assert cond["message"].startswith("0/4 nodes are available") and text in cond["message"]
    running = get("aff")
    assert running["status"]["podIP"].startswith("10.244.") and running["status"]["hostIP"] == "10.234.1.11"
    assert {c["type"]: c["status"] for c in running["status"]["conditions"]}["Ready"] == "True"


def test_daemonset_one_pod_per_eligible_node(sim):
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
          "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": {
              "metadata": {"labels": {"app": "agent"}},
              "spec": {"containers": [{"name": "a", "image": "registry.invalid/agent:1"}]}}}}
    create(sim, "/apis/apps/v1/namespaces/default/daemonsets", ds)
    status = sim.wait_for(lambda: (lambda d: d["status"] if d.get("status", {}).get("numberReady") == 3 else None)(
        sim.get("/apis/apps/v1/namespaces/default/daemonsets/agent")))
    assert status["desiredNumberScheduled"] == 3  # the tainted node is not eligible
    assert sorted(p["spec"]["nodeName"] for p in pods(sim, "default", "app%3Dagent")) == [
        "k8s-woker-0", "k8s-woker-1", "k8s-woker-3"]
    res = sim.kubectl("rollout", "status", "daemonset/agent", "--timeout=20s", check=True)
    assert "successfully rolled out" in res.stdout


def test_statefulset_pods_and_claims(sim):
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
           "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                    "template": {"metadata": {"labels": {"app": "db"}},
                                 "spec": {"containers": [{"name": "db", "image": "registry.invalid/db:1"}]}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                        "accessModes": ["ReadWriteOnce"], "storageClassName": "hostpath",
                        "resources": {"requests": {"storage": "1Gi"}}}}]}}
    create(sim, "/apis/apps/v1/namespaces/default/statefulsets", sts)
    res = sim.kubectl("rollout", "status", "statefulset/db", "--timeout=30s", check=True)
    assert "complete" in res.stdout or "rolled out" in res.stdout
    names = sorted(p["metadata"]["name"] for p in pods(sim, "default", "app%3Ddb"))
    assert names == ["db-0", "db-1", "db-2"]
    for i in range(3):
        pvc = sim.get(f"/api/v1/namespaces/default/persistentvolumeclaims/data-db-{i}")
        assert pvc["status"]["phase"] == "Bound" and pvc["spec"]["volumeName"]
        pv = sim.get(f"/api/v1/persistentvolumes/{pvc['spec']['volumeName']}")
        assert pv["spec"]["claimRef"]["name"] == f"data-db-{i}"


def test_unbound_claim_keeps_pod_pending(sim):
    create(sim, "/api/v1/namespaces/default/persistentvolumeclaims", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "other"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "not-served",
                 "resources": {"requests": {"storage": "1Gi"}}}})
    create(sim, "/api/v1/namespaces/default/pods", pod("needs-pvc", volumes=[
        {"name": "v", "persistentVolumeClaim": {"claimName": "other"}}]))
    p = sim.wait_for(lambda: (lambda x: x if x.get("status", {}).get("conditions") else None)(
        sim.get("/api/v1/namespaces/default/pods/needs-pvc")))
    assert "unbound immediate PersistentVolumeClaims" in p["status"]["conditions"][0]["message"]


def _bound_claim(sim, name, node):
    """A PersistentVolume whose required node affinity admits only `node`, and a claim bound to it."""
    create(sim, "/api/v1/persistentvolumes", {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"pv-{name}"},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "local",
                 "claimRef": {"namespace": "default", "name": name},
                 "csi": {"driver": "example.csi", "volumeHandle": name},
                 "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                     {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}})
    create(sim, "/api/v1/namespaces/default/persistentvolumeclaims", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local", "volumeName": f"pv-{name}",
                 "resources": {"requests": {"storage": "1Gi"}}}})


def test_volume_node_affinity_limits_the_pod(sim):
    # As kube-scheduler's VolumeBinding plugin: a pod goes only where its bound volumes may be used.
    _bound_claim(sim, "on-w1", "k8s-woker-1")
    create(sim, "/api/v1/namespaces/default/pods", pod("uses-on-w1", volumes=[
        {"name": "v", "persistentVolumeClaim": {"claimName": "on-w1"}}]))
    placed = sim.wait_for(lambda: (lambda x: x if x["spec"].get("nodeName") else None)(
        sim.get("/api/v1/namespaces/default/pods/uses-on-w1")))
    assert placed["spec"]["nodeName"] == "k8s-woker-1"

    # The volume's node does not take the pod (untolerated taint): no other node may take it either.
    _bound_claim(sim, "on-w2", "k8s-woker-2")
    create(sim, "/api/v1/namespaces/default/pods", pod("uses-on-w2", volumes=[
        {"name": "v", "persistentVolumeClaim": {"claimName": "on-w2"}}]))
    stuck = sim.wait_for(lambda: (lambda x: x if x.get("status", {}).get("conditions") else None)(
        sim.get("/api/v1/namespaces/default/pods/uses-on-w2")))
    assert not stuck["spec"].get("nodeName")
    message = stuck["status"]["conditions"][0]["message"]
    assert "node(s) had volume node affinity conflict" in message and "untolerated taint" in message


def test_plugin_pod_hook_crashloop(sim):
    body = pod("crashy")
    body["metadata"]["labels"]["crash"] = "true"
    create(sim, "/api/v1/namespaces/default/pods", body)
    p = sim.wait_for(lambda: (lambda x: x if x.get("status", {}).get("containerStatuses") else None)(
        sim.get("/api/v1/namespaces/default/pods/crashy")))
    cs = p["status"]["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff" and cs["restartCount"] == 3 and not cs["ready"]
    res = sim.kubectl("wait", "--for=condition=Ready", "pod/crashy", "--timeout=2s")
    assert res.returncode != 0


def test_plugin_admission_hook(sim):
    code, body, _ = sim.request("POST", "/api/v1/namespaces/default/configmaps", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "denied", "labels": {"deny": "true"}}})
    assert code == 400 and "denied the request" in body["message"]
    res = sim.kubectl("create", "configmap", "ok-cm", "--from-literal=a=b", check=True)
    assert "created" in res.stdout


def test_admission_runs_for_unchanged_updates(sim):
    """A real apiserver calls validating admission before it detects a no-op update (Store.Update)."""
    cm = create(sim, "/api/v1/namespaces/default/configmaps", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "frozen", "annotations": {"frozen": "true"}},
        "data": {"a": "b"}})
    code, body, _ = sim.request("PUT", "/api/v1/namespaces/default/configmaps/frozen", cm)
    assert code == 400 and "the object is frozen" in body["message"]
    after = sim.get("/api/v1/namespaces/default/configmaps/frozen")
    assert after["metadata"]["resourceVersion"] == cm["metadata"]["resourceVersion"]


def test_plugin_controller_and_events(sim):
    crd = yaml.safe_load((FIXTURES / "charts/demo/crds/widgets.yaml").read_text())
    create(sim, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    sim.kubectl("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s", check=True)
    create(sim, "/apis/example.com/v1/namespaces/default/widgets", {
        "apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}})
    sim.wait_for(lambda: sim.get("/apis/example.com/v1/namespaces/default/widgets/w").get("status") == {
        "phase": "Ready"})
    events = sim.get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dw")["items"]
    assert events and events[0]["reason"] == "Ready"


def test_delay_makes_status_late(start_emulator):
    slow = start_emulator("--delay", "1.5")
    create(slow, "/apis/apps/v1/namespaces/default/deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "late"},
        "spec": {"selector": {"matchLabels": {"app": "late"}}, "template": {
            "metadata": {"labels": {"app": "late"}},
            "spec": {"containers": [{"name": "c", "image": "registry.invalid/x:1"}]}}}})
    start = time.monotonic()
    time.sleep(0.5)
    assert "status" not in slow.get("/apis/apps/v1/namespaces/default/deployments/late")
    slow.wait_for(lambda: slow.get("/apis/apps/v1/namespaces/default/deployments/late").get("status", {}).get(
        "availableReplicas") == 1)
    assert time.monotonic() - start >= 1.4
