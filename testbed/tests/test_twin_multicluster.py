"""The IOMesh twin end to end: the seed's two clusters installed as the collection does it - the management
cluster with helm and the values of iomesh_mgmt_values, the additional one with kubernetes.core.k8s and
iomesh_cluster_manifests - then every modelled behaviour checked through the API.

One emulator (--delay 0) serves the whole module; tests that change shared state restore it.
Run: .venv/bin/pytest testbed/tests/test_twin_*.py  (with xdist: -n 2 --dist loadfile)
"""

from __future__ import annotations

import json
import re
import time
import types

import pytest
from conftest import tool
from twin_helpers import (C1_NODES, CHART, IOMESH, MGMT_NODES, NODE_IPS, Api, cluster_ready, crash_looping,
                          csi_node_pods, default_host_disks, dump_yaml, filters, ready, topology, twin_disks, wait)

pytestmark = pytest.mark.xdist_group("iomesh-twin")

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Read the management IOMeshCluster (image tags)
      kubernetes.core.k8s_info:
        api_version: iomesh.com/v1alpha1
        kind: IOMeshCluster
        name: "{{ mgmt_name }}"
        namespace: "{{ mgmt_namespace }}"
      register: mgmt
    - name: Namespace
      kubernetes.core.k8s:
        api_version: v1
        kind: Namespace
        name: "{{ cluster.namespace }}"
    - name: ZookeeperCluster and IOMeshCluster
      kubernetes.core.k8s:
        definition: "{{ cluster | iomesh.multicluster.iomesh_cluster_manifests(settings, mgmt.resources[0]) }}"
"""


def csi_split(api: Api) -> tuple[set, set]:
    pods = csi_node_pods(api)
    return {n for n, p in pods.items() if ready(p)}, {n for n, p in pods.items() if crash_looping(p)}


@pytest.fixture(scope="module")
def env(start_emulator, tmp_path_factory):
    clusters, settings = topology(default_host_disks())
    mgmt, c1 = clusters
    work = tmp_path_factory.mktemp("twin")
    emu = start_emulator("--plugin", "iomesh_twin", "--delay", "0", "--resync", "1")
    api = Api(emu.kubeconfig)
    snap: dict = {}
    values = dump_yaml(work / "values.yaml", filters.iomesh_mgmt_values(mgmt, settings))
    emu.helm("helm3", "upgrade", "--install", "iomesh", str(CHART), "-n", "iomesh-system", "--create-namespace",
             "-f", str(values), check=True)
    wait(lambda: cluster_ready(api, "iomesh-system", "iomesh"), 300, what="management cluster ready")
    wait(lambda: csi_split(api) == (set(MGMT_NODES), set(C1_NODES)), 120, what="CSI node plugins split")
    snap["csi_mgmt_only"] = csi_node_pods(api)
    (work / "vars.json").write_text(json.dumps({"cluster": c1, "settings": settings, "mgmt_name": mgmt["name"],
                                                "mgmt_namespace": mgmt["namespace"]}))
    (work / "c1.yml").write_text(PLAYBOOK)
    res = emu.run(tool("ansible-playbook"), "-i", "localhost,", str(work / "c1.yml"), "-e", f"@{work / 'vars.json'}",
                  timeout=180)
    assert res.returncode == 0, res.stdout + res.stderr
    wait(lambda: cluster_ready(api, "iomesh-cluster-1", "iomesh-cluster-1"), 300, what="cluster 1 ready")
    wait(lambda: csi_split(api)[0] == set(MGMT_NODES + C1_NODES), 120, what="all CSI node plugins ready")
    return types.SimpleNamespace(emu=emu, api=api, mgmt=mgmt, c1=c1, settings=settings, snap=snap, work=work)


def pod_nodes(api: Api, ns: str, selector: str) -> list[str]:
    return sorted(p["spec"].get("nodeName") or "" for p in api.pods(ns, selector))


@pytest.mark.parametrize("ns,name,nodes", [("iomesh-system", "iomesh-zookeeper", MGMT_NODES),
                                           ("iomesh-cluster-1", "iomesh-cluster-1-zookeeper", C1_NODES)])
def test_zookeeper_cluster(env, ns, name, nodes):
    api = env.api
    zk = api.get(f"/apis/zookeeper.pravega.io/v1beta1/namespaces/{ns}/zookeeperclusters/{name}")
    st = zk["status"]
    assert (st["readyReplicas"], st["replicas"]) == (3, 3)
    assert {c["type"]: c["status"] for c in st["conditions"]}["PodsReady"] == "True"
    client = api.get(f"/api/v1/namespaces/{ns}/services/{name}-client")
    assert st["internalClientEndpoint"] == f"{client['spec']['clusterIP']}:2181"
    assert api.get(f"/api/v1/namespaces/{ns}/services/{name}-headless")["spec"]["clusterIP"] == "None"
    assert [p["port"] for p in api.get(f"/api/v1/namespaces/{ns}/services/{name}-admin-server")["spec"]["ports"]] \
        == [8080]
    pods = api.pods(ns, f"app={name}")
    assert len(pods) == 3 and all(ready(p) for p in pods)
    assert {p["spec"]["nodeName"] for p in pods} <= set(nodes), "placed by spec.pod.affinity"
    for p in pods:
        pvc = api.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data-{p['metadata']['name']}")
        assert pvc["spec"]["storageClassName"] == "hostpath" and pvc["status"]["phase"] == "Bound"
        pv = api.get(f"/api/v1/persistentvolumes/{pvc['spec']['volumeName']}")
        expr = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
        assert expr["values"] == [p["spec"]["nodeName"]], "hostpath PV pinned to the pod's node"


@pytest.mark.parametrize("ns,name,nodes", [("iomesh-system", "iomesh", MGMT_NODES),
                                           ("iomesh-cluster-1", "iomesh-cluster-1", C1_NODES)])
def test_iomesh_cluster_workloads_and_status(env, ns, name, nodes):
    api = env.api
    for kind, sts in (("meta", f"{name}-meta"), ("chunk", f"{name}-chunk")):
        obj = api.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/{sts}")
        assert obj["spec"]["replicas"] == 3 and obj["status"]["readyReplicas"] == 3
        assert set(pod_nodes(api, ns, f"app={sts}")) == set(nodes), f"{kind} pods on the cluster's nodes only"
    ds = api.get(f"/apis/apps/v1/namespaces/{ns}/daemonsets/{name}-iscsi-redirector")
    assert ds["status"]["desiredNumberScheduled"] == 3 and ds["status"]["numberReady"] == 3
    assert pod_nodes(api, ns, f"app={name}-iscsi-redirector") == sorted(nodes)
    svc = api.get(f"/api/v1/namespaces/{ns}/services/{name}-meta-client")
    assert [p["port"] for p in svc["spec"]["ports"]] == [10100]
    leaders = api.pods(ns, "iomesh.com/meta-leader")
    assert len(leaders) == 1 and leaders[0]["metadata"]["name"].startswith(f"{name}-meta-")
    st = api.cr(ns, name)["status"]
    assert st["readyReplicas"] == {"meta": 3, "chunk": 3, "iscsi-redirector": 3}
    meta = st["summary"]["metaSummary"]
    assert meta["leader"].split(":")[0] == NODE_IPS[leaders[0]["spec"]["nodeName"]]
    assert sorted(meta["aliveHost"]) == sorted(NODE_IPS[n] for n in nodes)
    assert sorted(c["ip"] for c in st["summary"]["chunkSummary"]["chunks"]) == sorted(NODE_IPS[n] for n in nodes)
    spec = api.cr(ns, name)["spec"]
    tag = spec["meta"]["image"]["tag"]
    assert sorted(st["runningImages"]["meta"]) == [f"{name}-meta-{i}" for i in range(3)]
    assert set(st["runningImages"]["meta"].values()) == {f"iomesh/zbs-metad:{tag}"}
    assert st["license"]["licenseType"] == "Trial" and st["license"]["serial"]
    assert isinstance(st["portOffset"], int)


def test_clusters_have_own_license_and_ports(env):
    a, b = env.api.cr("iomesh-system", "iomesh")["status"], env.api.cr("iomesh-cluster-1", "iomesh-cluster-1")["status"]
    assert a["license"]["serial"] != b["license"]["serial"]
    assert a["portOffset"] != b["portOffset"]


def test_csi_node_plugin_crashes_on_nodes_without_redirector(env):
    before = env.snap["csi_mgmt_only"]
    assert sorted(before) == sorted(MGMT_NODES + C1_NODES)
    for node, pod in before.items():
        statuses = {c["name"]: c for c in pod["status"]["containerStatuses"]}
        if node in MGMT_NODES:
            assert ready(pod) and not crash_looping(pod)
        else:  # P1: 2/3 ready, csi-driver in CrashLoopBackOff until the node's cluster exists
            assert not ready(pod) and pod["status"]["phase"] == "Running"
            assert statuses["csi-driver"]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
            assert statuses["csi-driver"]["restartCount"] > 0
            assert sum(c["ready"] for c in statuses.values()) == 2
    after = csi_node_pods(env.api)
    assert all(ready(p) for p in after.values()), "recovered once cluster 1's redirectors run"


def test_redirector_loss_is_reevaluated(env):
    """A redirector that cannot start (no node address in its dataCIDR) takes the node's CSI plugin down."""
    api, path = env.api, f"/apis/{IOMESH}/namespaces/iomesh-cluster-1/iomeshclusters/iomesh-cluster-1"
    code, body = api.merge_patch(path, {"spec": {"redirector": {"dataCIDR": "192.168.50.0/24"}}})
    assert code == 200, body
    try:
        wait(lambda: csi_split(api) == (set(MGMT_NODES), set(C1_NODES)), 120, what="CSI crash on cluster-1 nodes")
        reds = api.pods("iomesh-cluster-1", "app=iomesh-cluster-1-iscsi-redirector")
        assert reds and all(crash_looping(p) and not ready(p) for p in reds)
    finally:
        code, body = api.merge_patch(path, {"spec": {"redirector": {"dataCIDR": "10.234.1.0/24"}}})
        assert code == 200, body
    wait(lambda: csi_split(api)[0] == set(MGMT_NODES + C1_NODES), 120, what="CSI recovery")


def test_blockdevices_discovered_by_ndm(env):
    bds = env.api.items("/apis/openebs.io/v1alpha1/namespaces/iomesh-system/blockdevices")
    layout = twin_disks.layout({"nodes": [{"name": n} for n in NODE_IPS]})
    expected = {twin_disks.blockdevice_name(node, d): d for node, ds in layout.items() for d in ds
                if not d["mountPoint"]}  # NDM's OS-disk filter hides the disk mounted at /
    assert {b["metadata"]["name"] for b in bds} == set(expected)
    assert env.api.items("/apis/openebs.io/v1alpha1/namespaces/iomesh-cluster-1/blockdevices") == []
    for bd in bds:
        disk = expected[bd["metadata"]["name"]]
        assert re.fullmatch(r"blockdevice-[0-9a-f]{32}", bd["metadata"]["name"])
        assert bd["metadata"]["labels"] == {
            "iomesh.com/bd-devicePath": disk["path"][1:].replace("/", "."), "iomesh.com/bd-deviceType": "disk",
            "iomesh.com/bd-driverType": disk["driveType"], "iomesh.com/bd-serial": disk["serial"],
            "iomesh.com/bd-vendor": "ATA", "kubernetes.io/hostname": disk["node"],
            "ndm.io/blockdevice-type": "blockdevice", "ndm.io/managed": "true"}
        spec = bd["spec"]
        assert spec["nodeAttributes"]["nodeName"] == disk["node"] and spec["path"] == disk["path"]
        assert spec["capacity"]["storage"] == (400 * 10**9 if disk["driveType"] == "SSD" else 2 * 10**12)
        assert {d["kind"] for d in spec["devlinks"]} == {"by-id", "by-path"}
        assert spec["details"]["serial"] == disk["serial"] and spec["details"]["model"]
        assert spec.get("filesystem", {}).get("fsType", "") == disk["fsType"]
    formatted = [b for b in bds if b["spec"].get("filesystem", {}).get("fsType")]
    assert [(b["spec"]["nodeAttributes"]["nodeName"], b["spec"]["path"]) for b in formatted] == \
        [("k8s-woker-5", "/dev/sdd")]
    # claims happen only on request (test_disk_mapping); discovery alone leaves everything Unclaimed
    assert all(b["status"]["state"] == "Active" for b in bds)


@pytest.fixture(scope="module")
def mapped(env):
    """The disk stage's job: label each declared BlockDevice for its cluster and mount type."""
    api = env.api
    bds = api.items("/apis/openebs.io/v1alpha1/namespaces/iomesh-system/blockdevices")
    for cluster in (env.mgmt, env.c1):
        for node, entries in cluster["disks"].items():
            for entry in entries:
                bd = next(b for b in bds if b["spec"]["nodeAttributes"]["nodeName"] == node
                          and b["metadata"]["labels"]["iomesh.com/bd-serial"] == entry["id"])
                code, body = api.merge_patch(
                    f"/apis/openebs.io/v1alpha1/namespaces/iomesh-system/blockdevices/{bd['metadata']['name']}",
                    {"metadata": {"labels": {"iomesh.multicluster/cluster": cluster["name"],
                                             "iomesh.multicluster/mount-type": entry["mount_type"]}}})
                assert code == 200, body

    def attached(ns, name, count):
        devs = (api.cr(ns, name).get("status") or {}).get("attachedDevices") or []
        return devs if len(devs) == count else None
    # 3 nodes x (SSD + 2 HDD); on k8s-woker-5 one HDD carries ext4 and is refused
    return {"iomesh": wait(lambda: attached("iomesh-system", "iomesh", 9), 120, what="mgmt disks"),
            "iomesh-cluster-1": wait(lambda: attached("iomesh-cluster-1", "iomesh-cluster-1", 8), 120,
                                     what="cluster 1 disks")}


def test_disk_mapping(env, mapped):
    api = env.api
    bds = {b["metadata"]["name"]: b
           for b in api.items("/apis/openebs.io/v1alpha1/namespaces/iomesh-system/blockdevices")}
    claims = {c["metadata"]["name"]: c for c in
              api.items("/apis/openebs.io/v1alpha1/namespaces/iomesh-system/blockdeviceclaims")}
    for name, nodes in (("iomesh", MGMT_NODES), ("iomesh-cluster-1", C1_NODES)):
        for dev in mapped[name]:
            bd = bds[dev["device"]]
            assert dev["nodeName"] == bd["spec"]["nodeAttributes"]["nodeName"] and dev["nodeName"] in nodes
            assert dev["mountType"] == bd["metadata"]["labels"]["iomesh.multicluster/mount-type"]
            assert dev["mountType"] == ("cacheWithJournal" if bd["spec"]["details"]["driveType"] == "SSD"
                                        else "dataStore")
            assert bd["status"]["claimState"] == "Claimed"
            assert bd["spec"]["claimRef"]["kind"] == "BlockDeviceClaim" and bd["spec"]["claimRef"]["name"] in claims
            assert claims[dev["device"]]["status"]["phase"] == "Bound" and dev["uuid"]
    ext4 = next(b for b in bds.values() if b["spec"].get("filesystem", {}).get("fsType"))
    assert ext4["status"]["claimState"] == "Unclaimed" and "claimRef" not in ext4["spec"]
    msgs = [e["message"] for e in api.events("iomesh-cluster-1", "iomesh-cluster-1") if e["type"] == "Warning"]
    assert any(ext4["metadata"]["name"] in m and "ext4" in m for m in msgs), msgs
    cr1 = api.cr("iomesh-cluster-1", "iomesh-cluster-1")
    assert cr1["spec"]["chunk"]["devicemanager"]["blockDeviceNamespace"] == "iomesh-system"
    chunks = cr1["status"]["summary"]["chunkSummary"]["chunks"]
    assert all(int(c["spaceInfo"]["totalDataCapacity"]) > 0 and int(c["spaceInfo"]["totalCacheCapacity"]) > 0
               for c in chunks)


def test_claimed_disk_is_not_taken_by_another_cluster_and_affinity_mistakes_stay_pending(env, mapped):
    """A third cluster whose affinity admits only two nodes (one of them a typo) and whose deviceMap selects
    every HDD: one meta and one chunk pod stay Pending, and no disk of cluster 1 changes hands."""
    api, ns, name = env.api, "iomesh-bad", "iomesh-bad"
    bad = dict(env.c1, name=name, namespace=ns, zookeeper_name=f"{name}-zookeeper",
               nodes=["k8s-woker-3", "k8s-woker-4"],
               mount_types=[], disks={})
    zk, cr = filters.iomesh_cluster_manifests(bad, env.settings, api.cr("iomesh-system", "iomesh"))
    zk["spec"]["replicas"] = 1
    cr["spec"]["chunk"]["deviceMap"] = {"dataStore": {"selector": {"matchLabels": {"iomesh.com/bd-driverType": "HDD"}}}}
    env.emu.kubectl("create", "namespace", ns, check=True)
    env.emu.kubectl("apply", "-f", str(dump_yaml(env.work / "bad.yaml", [zk, cr])), check=True)
    try:
        def pending(app):
            pods = api.pods(ns, f"app={app}")
            stuck = [p for p in pods if not p["spec"].get("nodeName")]
            conds = [c for p in stuck for c in (p.get("status") or {}).get("conditions") or []
                     if c["type"] == "PodScheduled" and c["status"] == "False" and c.get("reason") == "Unschedulable"]
            return pods if len(pods) == 3 and len(stuck) == 1 and conds else None
        for app in (f"{name}-meta", f"{name}-chunk"):
            pods = wait(lambda: pending(app), 120, what=f"{app}: two running, one Unschedulable")
            assert {p["spec"]["nodeName"] for p in pods if p["spec"].get("nodeName")} == {"k8s-woker-3", "k8s-woker-4"}
        wait(lambda: any("already claimed" in e["message"] for e in api.events(ns, name)), 120,
             what="refusal events")
        assert (api.cr(ns, name)["status"].get("attachedDevices") or []) == []
        assert len(api.cr("iomesh-cluster-1", "iomesh-cluster-1")["status"]["attachedDevices"]) == 8
    finally:
        env.emu.kubectl("delete", "namespace", ns, "--wait=false")


def _pvc(name: str, sc: str) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": sc,
                     "resources": {"requests": {"storage": "1Gi"}}}}


def test_csi_provisioning(env):
    api, emu = env.api, env.emu
    docs = filters.iomesh_csi_manifests(env.mgmt, env.settings) + filters.iomesh_csi_manifests(env.c1, env.settings)
    broken_cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "typo-csi", "namespace": "default"},
                 "data": {"clusterId": "k8s-cluster", "iscsiPortal": "127.0.0.1:3260",
                          "metaAddr": "iomesh-cluster-1-meta-clinet.iomesh-cluster-1.svc.cluster.local:10100"}}
    bad_sc = dict(docs[3], metadata={"name": "no-such-cm"},
                  parameters={**docs[3]["parameters"], "clusterConnection": "iomesh-cluster-1/missing"})
    typo_sc = dict(docs[3], metadata={"name": "typo-metaaddr"},
                   parameters={**docs[3]["parameters"], "clusterConnection": "default/typo-csi"})
    pvcs = [_pvc("pvc-mgmt", "iomesh"), _pvc("pvc-c1", "iomesh-cluster-1"), _pvc("pvc-nocm", "no-such-cm"),
            _pvc("pvc-typo", "typo-metaaddr"), _pvc("pvc-default", "iomesh-csi-driver")]
    emu.kubectl("apply", "-f", str(dump_yaml(env.work / "csi.yaml", docs + [broken_cm, bad_sc, typo_sc] + pvcs)),
                check=True)

    def pvc(name):
        return api.get(f"/api/v1/namespaces/default/persistentvolumeclaims/{name}")

    def bound(name):
        p = pvc(name)
        return p if (p.get("status") or {}).get("phase") == "Bound" else None

    for name, nodes in (("pvc-mgmt", MGMT_NODES), ("pvc-c1", C1_NODES), ("pvc-default", MGMT_NODES)):
        claim = wait(lambda: bound(name), 20, what=f"{name} bound")
        pv = api.get(f"/api/v1/persistentvolumes/{claim['spec']['volumeName']}")
        assert pv["spec"]["csi"]["driver"] == "com.iomesh.csi-driver"
        expr = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
        assert (expr["key"], expr["operator"], expr["values"]) == ("kubernetes.io/hostname", "In", nodes)
        assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    for name, needle in (("pvc-nocm", "configmap iomesh-cluster-1/missing not found"),
                         ("pvc-typo", "iomesh-cluster-1-meta-clinet")):
        ev = wait(lambda: [e for e in api.events("default", name) if e["reason"] == "ProvisioningFailed"], 20,
                  what=f"{name} ProvisioningFailed")
        assert ev[0]["type"] == "Warning" and needle in ev[0]["message"], ev[0]["message"]
        assert pvc(name)["status"]["phase"] == "Pending"
    pv_name = pvc("pvc-c1")["spec"]["volumeName"]
    emu.kubectl("delete", "pvc", "pvc-c1", "-n", "default", check=True)
    wait(lambda: api.get(f"/api/v1/persistentvolumes/{pv_name}") is None, 20, what="PV deleted with its claim")


def test_webhook(env):
    api, emu = env.api, env.emu
    path = f"/apis/{IOMESH}/namespaces/iomesh-cluster-1/iomeshclusters/iomesh-cluster-1"
    # a spec the operator rejects: allFlash with a cache mount type
    code, body = api.merge_patch(path, {"spec": {"diskDeploymentMode": "allFlash"}})
    assert (code, body["reason"]) == (403, "Forbidden"), body
    assert body["message"].startswith('admission webhook "validate-iomeshcluster.iomesh.com" denied the request')
    assert "cacheWithJournal" in body["message"]
    # P10: operator unavailable -> every IOMeshCluster write fails with connection refused
    emu.kubectl("scale", "deployment", "operator", "-n", "iomesh-system", "--replicas=0", check=True)
    try:
        wait(lambda: not api.pods("iomesh-system", "app.kubernetes.io/name=operator"), 20, what="operator gone")
        code, body = api.merge_patch(path, {"metadata": {"labels": {"touched": "yes"}}})
        assert (code, body["reason"]) == (500, "InternalError"), body
        assert body["message"].startswith('Internal error occurred: failed calling webhook '
                                          '"validate-iomeshcluster.iomesh.com": failed to call webhook: Post '
                                          '"https://iomesh-webhook.iomesh-system.svc:443/')
        assert body["message"].endswith(":443: connect: connection refused")
        res = emu.kubectl("label", "iomesh", "iomesh", "-n", "iomesh-system", "touched=yes")
        assert res.returncode != 0 and "connection refused" in res.stderr
        # without the webhook configuration the API server checks nothing
        vwc = api.get("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/"
                      "iomesh-validating-webhook-configuration")
        emu.kubectl("delete", "validatingwebhookconfiguration", "iomesh-validating-webhook-configuration", check=True)
        code, body = api.merge_patch(path, {"metadata": {"labels": {"touched": "yes"}}})
        assert code == 200, body
        vwc["metadata"] = {k: v for k, v in vwc["metadata"].items() if k in ("name", "labels", "annotations")}
        code, body = api.call("POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", vwc)
        assert code == 201, body
    finally:
        emu.kubectl("scale", "deployment", "operator", "-n", "iomesh-system", "--replicas=3", check=True)
    wait(lambda: api.merge_patch(path, {"metadata": {"labels": {"touched": "again"}}})[0] == 200, 20,
         what="webhook serving again")


def test_a_licence_is_activated_from_its_secret_and_updated_only_by_the_documented_dance(env):
    """The operator reads spec.licenseSecretName's Secret (key authorizationCode) when the field is set; a code issued
    for another cluster's serial is refused with a Warning; a Secret changed in place is not read again until the
    field is removed and set again (domain notes §11); the other cluster keeps its trial licence."""
    import base64

    from iomesh_twin import licence

    ns, name = "iomesh-cluster-1", "iomesh-cluster-1"
    path = f"/apis/{IOMESH}/namespaces/{ns}/iomeshclusters/{name}"
    serial = env.api.cr(ns, name)["status"]["license"]["serial"]
    other = env.api.cr("iomesh-system", "iomesh")["status"]["license"]["serial"]

    def secret(code: str) -> None:
        env.api.call("DELETE", f"/api/v1/namespaces/{ns}/secrets/blk-licence")
        body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "blk-licence", "namespace": ns},
                "data": {"authorizationCode": base64.b64encode(code.encode()).decode()}}
        assert env.api.call("POST", f"/api/v1/namespaces/{ns}/secrets", body)[0] == 201

    def license_() -> dict:
        return env.api.cr(ns, name)["status"]["license"]

    try:
        secret(licence.issue(other))
        assert env.api.merge_patch(path, {"spec": {"licenseSecretName": "blk-licence"}})[0] == 200
        wait(lambda: any(e.get("reason") == "InvalidLicense" for e in env.api.events(ns, name)), what="InvalidLicense")
        assert license_()["licenseType"] == "Trial"
        # Changed in place: not read again.
        code = base64.b64encode(licence.issue(serial, days=400).encode()).decode()
        assert env.api.merge_patch(f"/api/v1/namespaces/{ns}/secrets/blk-licence",
                                   {"data": {"authorizationCode": code}})[0] == 200
        env.api.merge_patch(path, {"metadata": {"labels": {"touched": "yes"}}})
        wait(lambda: env.api.cr(ns, name)["metadata"].get("labels", {}).get("touched") == "yes")
        time.sleep(2)  # two resyncs of the twin
        assert license_()["licenseType"] == "Trial"
        # The dance: field removed, Secret deleted and created again, field set again.
        env.api.merge_patch(path, {"spec": {"licenseSecretName": None}})
        secret(licence.issue(serial, days=400))
        env.api.merge_patch(path, {"spec": {"licenseSecretName": "blk-licence"}})
        found = wait(lambda: license_() if license_()["licenseType"] == "Subscription" else None, what="licence")
        assert found["serial"] == serial and found["expirationDate"] > found["signDate"]
        assert env.api.cr("iomesh-system", "iomesh")["status"]["license"]["licenseType"] == "Trial"
    finally:
        env.api.merge_patch(path, {"spec": {"licenseSecretName": None}, "metadata": {"labels": {"touched": None}}})
        env.api.call("DELETE", f"/api/v1/namespaces/{ns}/secrets/blk-licence")
