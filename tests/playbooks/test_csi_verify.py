"""playbooks/csi.yml and playbooks/verify.yml against the API emulator with the IOMesh twin.

The two clusters of inventories/seed-example are deployed once for the module (mgmt.yml, cluster.yml); the tests
then run in file order and each states what it leaves behind for the next one. Expectations are written from the
facts of docs/architecture.md (CSI connection and StorageClass, verification, scenarios 3-5), not from the filters.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from . import conftest
from .conftest import CHART, ROOT, SEED_NODES, VENV_BIN, seed_clusters

INVENTORY = "inventories/seed-example"
CLUSTERS = {  # name -> (namespace, nodes), from the seed inventory
    "iomesh": ("iomesh-system", ["k8s-woker-0", "k8s-woker-1", "k8s-woker-2"]),
    "iomesh-cluster-1": ("iomesh-cluster-1", ["k8s-woker-3", "k8s-woker-4", "k8s-woker-5"]),
}
VERIFY_NS = "iomesh-verify"
# The deployment lock's run id, which ends the names of a run's verification objects.
RUN_ID = "[0-9a-f]{10}"
SC_API = "/apis/storage.k8s.io/v1/storageclasses"


class Run(conftest.PlaybookRun):
    def __init__(self, proc: subprocess.CompletedProcess, data: dict | None):
        super().__init__(proc)
        self.data = data


class Stage:
    """The deployed testbed plus helpers to run the collection's playbooks against it."""

    def __init__(self, testbed: conftest.Testbed, workdir: Path):
        self.testbed = testbed
        self.workdir = workdir
        self.runs = 0

    def play(self, playbook: str, extra: dict | None = None, *args: str, as_json: bool = False) -> Run:
        """ansible-playbook PLAYBOOK against the testbed; `as_json` parses the JSON callback's output."""
        self.runs += 1
        extra_file = self.workdir / f"extra-{self.runs}.yml"
        extra_file.write_text(yaml.safe_dump({
            "iomesh_kubeconfig": str(self.testbed.kubeconfig), "iomesh_chart_ref": str(CHART),
            "iomesh_mgmt_wait_delay": 1, "iomesh_cluster_wait_delay": 1, "iomesh_csi_wait_delay": 1,
            "iomesh_verify_wait_delay": 1, **(extra or {})}))
        env = dict(self.testbed.env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        if as_json:
            env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.json"
        proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), playbook, "-i", INVENTORY, "-e", f"@{extra_file}",
                               *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200, check=False)
        data = json.loads(proc.stdout) if as_json and proc.stdout.strip().startswith("{") else None
        return Run(proc, data)

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        proc = subprocess.run([str(VENV_BIN / "kubectl"), "--kubeconfig", str(self.testbed.kubeconfig), *args],
                              input=stdin, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def get(self, path: str) -> dict | None:
        try:
            return self.testbed.get(path)
        except Exception as exc:  # urllib's HTTPError: 404 means absent
            if getattr(exc, "code", None) == 404:
                return None
            raise

    def replace_storage_class(self, name: str, labels: dict, **changes) -> None:
        """Put a StorageClass with other (immutable) fields in place, as an earlier run or a person would have."""
        sc = self.get(f"{SC_API}/{name}")
        body = {k: v for k, v in sc.items() if k in ("apiVersion", "kind", "provisioner", "parameters", "reclaimPolicy",
                                                     "allowVolumeExpansion", "volumeBindingMode")}
        body["metadata"] = {"name": name, "labels": labels}
        for key, value in changes.items():
            if key.startswith("parameters."):
                body["parameters"][key.split(".", 1)[1]] = value
            else:
                body[key] = value
        self.kubectl("delete", "storageclass", name)
        code, created = self.testbed.post(SC_API, body)
        assert code == 201, created

    def writes(self, since: int) -> list[dict]:
        """Requests of the collection after `since` that changed something (server-side dry runs change nothing).

        The test's own requests (urllib, kubectl) are left out: the request log is written after the response, so
        one made just before `since` was taken may still be logged after it."""
        return [r for r in self.testbed.write_requests(since) if "dryRun=All" not in (r.get("query") or "")
                and not (r.get("userAgent") or "").startswith(("Python-urllib", "kubectl"))]


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    short = Path(tempfile.mkdtemp(prefix="iomesh-cv-"))
    workdir = tmp_path_factory.mktemp("csi-verify")
    testbed = conftest.Testbed(workdir / "testbed", short, {"nodes": SEED_NODES})
    try:
        stage = Stage(testbed, workdir)
        for playbook in ("playbooks/mgmt.yml", "playbooks/cluster.yml"):
            run = stage.play(playbook)
            assert run.rc == 0, run.output[-4000:]
        yield stage
    finally:
        testbed.stop()
        shutil.rmtree(short, ignore_errors=True)


def task_results(data: dict, name: str) -> list[dict]:
    """Results of the tasks whose name ends with `name` (one per loop item when looped)."""
    found = []
    for play in data["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].endswith(name):
                res = task["hosts"]["localhost"]
                found.extend(res.get("results") or [res])
    return found


def verify_results(data: dict) -> list[dict]:
    published = task_results(data, "Publish the verification results") + task_results(
        data, "Publish skipped results (check mode)")
    facts = [r["ansible_facts"]["iomesh_verify_results"] for r in published if "ansible_facts" in r]
    assert len(facts) == 1, published
    return facts[0]


# --- csi.yml -----------------------------------------------------------------------------------------------

def test_csi_check_diff_on_fresh_stage_shows_the_objects(stage):
    since = len(stage.testbed.requests())
    run = stage.play("playbooks/csi.yml", None, "--check", "--diff")
    assert run.rc == 0, run.output[-4000:]
    assert run.recap()["changed"] == 2, run.output[-3000:]  # the ConfigMap task and the StorageClass task
    added = "\n".join(line[1:].strip() for line in run.output.splitlines() if line.startswith("+"))
    for text in ('"name": "iomesh-csi-configmap"', '"name": "iomesh-cluster-1-csi-configmap"',
                 '"metaAddr": "iomesh-cluster-1-meta-client.iomesh-cluster-1.svc.cluster.local:10100"',
                 '"clusterConnection": "iomesh-system/iomesh-csi-configmap"', '"name": "iomesh-cluster-1"',
                 '"reclaimPolicy": "Delete"'):
        assert text in added, text
    assert stage.writes(since) == []
    assert stage.get(f"{SC_API}/iomesh") is None


def test_csi_creates_configmaps_and_storage_classes(stage):
    run = stage.play("playbooks/csi.yml")
    assert run.rc == 0, run.output[-4000:]
    assert run.recap()["changed"] == 2  # the ConfigMap task and the StorageClass task (loops)
    cluster_ids = set()
    for name, (ns, _nodes) in CLUSTERS.items():
        # Scenario 3: the CSI connection ConfigMap of each cluster.
        cm = stage.get(f"/api/v1/namespaces/{ns}/configmaps/{name}-csi-configmap")
        assert cm["data"]["iscsiPortal"] == "127.0.0.1:3260"
        assert cm["data"]["metaAddr"] == f"{name}-meta-client.{ns}.svc.cluster.local:10100"
        cluster_ids.add(cm["data"]["clusterId"])
        svc = stage.get(f"/api/v1/namespaces/{ns}/services/{name}-meta-client")
        assert 10100 in [p["port"] for p in svc["spec"]["ports"]]
        # Scenario 4: the StorageClass of each cluster, every documented field.
        sc = stage.get(f"{SC_API}/{name}")
        assert sc["provisioner"] == "com.iomesh.csi-driver"
        assert sc["parameters"] == {
            "clusterConnection": f"{ns}/{name}-csi-configmap",
            "iomeshCluster": f"{ns}/{name}",
            "replicaFactor": "2",
            "thinProvision": "true",
            "csi.storage.k8s.io/fstype": "ext4",
        }  # no parameters.reclaimPolicy (docs/pitfalls.md P9): the policy is the top-level field
        assert sc["reclaimPolicy"] == "Delete"
        assert sc["allowVolumeExpansion"] is True
        assert sc["volumeBindingMode"] == "Immediate"
        assert sc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "iomesh.multicluster"
    assert cluster_ids == {"k8s-cluster"}


def versions(stage: Stage) -> dict:
    paths = [f"/api/v1/namespaces/{ns}/configmaps/{name}-csi-configmap" for name, (ns, _nodes) in CLUSTERS.items()]
    paths += [f"{SC_API}/{name}" for name in CLUSTERS]
    return {path: stage.get(path)["metadata"]["resourceVersion"] for path in paths}


def test_csi_rerun_and_check_mode_change_nothing(stage):
    before = versions(stage)
    run = stage.play("playbooks/csi.yml")
    assert run.rc == 0 and run.recap()["changed"] == 0, run.output[-4000:]
    since = len(stage.testbed.requests())
    run = stage.play("playbooks/csi.yml", None, "--check", "--diff")
    assert run.rc == 0 and run.recap()["changed"] == 0, run.output[-4000:]
    assert stage.writes(since) == []
    assert versions(stage) == before


def test_a_hand_edit_shows_as_its_own_diff_without_managed_fields(stage):
    """A ConfigMap field edited by hand: --check --diff shows that field going back and changed=1, without the
    managedFields bookkeeping the server keeps; the real run takes it back; then --check --diff shows nothing."""
    path = "/api/v1/namespaces/iomesh-system/configmaps/iomesh-csi-configmap"
    stage.kubectl("-n", "iomesh-system", "patch", "configmap", "iomesh-csi-configmap", "--type", "merge",
                  "-p", '{"data": {"iscsiPortal": "10.0.0.9:3260"}}')
    assert stage.get(path)["metadata"].get("managedFields"), "the server keeps managedFields (else this tests nothing)"
    check = stage.play("playbooks/csi.yml", None, "--check", "--diff")
    assert check.rc == 0 and check.recap()["changed"] == 1, check.output[-4000:]
    removed = [line for line in check.output.splitlines() if line.startswith("-")]
    added = [line for line in check.output.splitlines() if line.startswith("+")]
    assert any('"iscsiPortal": "10.0.0.9:3260"' in line for line in removed), check.output[-4000:]
    assert any('"iscsiPortal": "127.0.0.1:3260"' in line for line in added), check.output[-4000:]
    assert "managedFields" not in check.output and "fieldsV1" not in check.output, check.output[-6000:]
    assert stage.get(path)["data"]["iscsiPortal"] == "10.0.0.9:3260"
    run = stage.play("playbooks/csi.yml")
    assert run.rc == 0 and run.recap()["changed"] == 1, run.output[-4000:]
    assert stage.get(path)["data"]["iscsiPortal"] == "127.0.0.1:3260"
    again = stage.play("playbooks/csi.yml", None, "--check", "--diff")
    assert again.rc == 0 and again.recap()["changed"] == 0, again.output[-4000:]
    assert not [line for line in again.output.splitlines() if line.startswith(("+ ", "- ", "+\t", "-\t"))]


def test_differing_storage_classes_are_refused_before_anything_is_written(stage):
    """Leaves iomesh-cluster-1 managed with replicaFactor 3 and iomesh unmanaged with Retain."""
    stage.replace_storage_class("iomesh-cluster-1", {"app.kubernetes.io/managed-by": "iomesh.multicluster"},
                                **{"parameters.replicaFactor": "3"})
    stage.replace_storage_class("iomesh", {}, reclaimPolicy="Retain")
    cm_before = stage.get("/api/v1/namespaces/iomesh-system/configmaps/iomesh-csi-configmap")["metadata"]["resourceVersion"]
    since = len(stage.testbed.requests())
    run = stage.play("playbooks/csi.yml")
    assert run.rc != 0
    assert ("StorageClass iomesh-cluster-1 (cluster iomesh-cluster-1) already exists with different immutable fields: "
            "parameters.replicaFactor '3' -> '2'.") in run.output
    assert "Kubernetes forbids changing provisioner, parameters, reclaimPolicy" in run.output
    assert "set iomesh_csi_recreate_storage_classes: true to delete and create it again" in run.output
    assert "StorageClass iomesh (cluster iomesh) already exists with different immutable fields: reclaimPolicy " \
           "'Retain' -> 'Delete'." in run.output
    assert "It is not managed by iomesh.multicluster (label app.kubernetes.io/managed-by is missing)" in run.output
    assert stage.writes(since) == []
    assert stage.get("/api/v1/namespaces/iomesh-system/configmaps/iomesh-csi-configmap")["metadata"][
        "resourceVersion"] == cm_before


def test_recreate_is_refused_while_a_volume_uses_the_class(stage):
    pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-in-use"},
          "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "iomesh-cluster-1",
                   "hostPath": {"path": "/tmp/pv-in-use"}}}
    code, created = stage.testbed.post("/api/v1/persistentvolumes", pv)
    assert code == 201, created
    try:
        since = len(stage.testbed.requests())
        run = stage.play("playbooks/csi.yml", {"iomesh_csi_recreate_storage_classes": True})
        assert run.rc != 0
        assert ("iomesh_csi_recreate_storage_classes is true, but PersistentVolume(s) pv-in-use use it, so it is not "
                "recreated.") in run.output
        # An unmanaged class is not deleted even when recreating is allowed.
        assert "so it is neither changed nor deleted, whatever iomesh_csi_recreate_storage_classes says" in run.output
        assert stage.writes(since) == []
    finally:
        stage.kubectl("delete", "pv", "pv-in-use", "--wait=false")


def test_recreate_without_volumes_and_adopt_an_equal_unmanaged_class(stage):
    """Leaves both StorageClasses as the inventory describes them, managed by the collection."""
    # Unmanaged but with equal immutable fields, created by someone else (this test, field manager Python-urllib).
    stage.replace_storage_class("iomesh", {}, reclaimPolicy="Delete", allowVolumeExpansion=False)
    foreign = stage.get(f"{SC_API}/iomesh")
    old_uid = stage.get(f"{SC_API}/iomesh-cluster-1")["metadata"]["uid"]
    recreate = {"iomesh_csi_recreate_storage_classes": True}
    adopt = {**recreate, "iomesh_csi_adopt_storage_classes": True}
    # Without the opt-in it is refused, and nothing is written: not even the class recreating would allow.
    since = len(stage.testbed.requests())
    run = stage.play("playbooks/csi.yml", recreate)
    assert run.rc != 0
    assert ("StorageClass iomesh (cluster iomesh) exists without the label app.kubernetes.io/managed-by=iomesh.multicluster: "
            "someone else made it (made by: field manager(s) Python-urllib). Its immutable fields equal those of cluster "
            "iomesh's storage_class, but it is not adopted without iomesh_csi_adopt_storage_classes: true, because "
            "adopting labels it as the collection's and iomesh_csi_recreate_storage_classes may then delete it. Fix: set "
            "iomesh_csi_adopt_storage_classes: true to adopt it; or give cluster iomesh another storage_class.name in "
            "iomesh_clusters; or delete the class yourself if nothing uses it.") in run.output
    assert stage.writes(since) == []
    assert stage.get(f"{SC_API}/iomesh")["metadata"]["resourceVersion"] == foreign["metadata"]["resourceVersion"]
    assert stage.get(f"{SC_API}/iomesh-cluster-1")["metadata"]["uid"] == old_uid
    # With it: adopted, including the mutable allowVolumeExpansion.
    since = len(stage.testbed.requests())
    run = stage.play("playbooks/csi.yml", adopt, "--check", "--diff")
    assert run.rc == 0, run.output[-4000:]
    assert "Check mode: would create StorageClass iomesh-cluster-1 again as" in run.output
    assert stage.writes(since) == [] and stage.get(f"{SC_API}/iomesh-cluster-1")["metadata"]["uid"] == old_uid
    run = stage.play("playbooks/csi.yml", adopt)
    assert run.rc == 0, run.output[-4000:]
    assert "StorageClass iomesh-cluster-1 is deleted and created again" in run.output
    assert ("StorageClass iomesh exists without the label app.kubernetes.io/managed-by=iomesh.multicluster (made by: "
            "field manager(s) Python-urllib), but its immutable fields are those of cluster iomesh's storage_class, so it "
            "is adopted (iomesh_csi_adopt_storage_classes: true)") in run.output
    recreated = stage.get(f"{SC_API}/iomesh-cluster-1")
    assert recreated["metadata"]["uid"] != old_uid
    assert recreated["parameters"]["replicaFactor"] == "2"
    adopted = stage.get(f"{SC_API}/iomesh")
    assert adopted["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "iomesh.multicluster",
                                             "iomesh.multicluster/cluster": "iomesh"}
    assert adopted["allowVolumeExpansion"] is True


# --- verify.yml --------------------------------------------------------------------------------------------

def claims_in(ns: str, stage: Stage) -> list[dict]:
    return stage.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")["items"]


def assert_cleaned_up(stage: Stage) -> None:
    assert stage.get(f"/api/v1/namespaces/{VERIFY_NS}") is None
    leftover = [pv["metadata"]["name"] for pv in stage.get("/api/v1/persistentvolumes")["items"]
                if (pv["spec"].get("claimRef") or {}).get("namespace") == VERIFY_NS]
    assert leftover == []


def test_verify_check_mode_creates_nothing(stage):
    since = len(stage.testbed.requests())
    run = stage.play("playbooks/verify.yml", None, "--check", as_json=True)
    assert run.rc == 0, run.output[-4000:]
    results = verify_results(run.data)
    assert [(r["cluster"], r["result"]) for r in results] == [("iomesh", "skipped"), ("iomesh-cluster-1", "skipped")]
    assert results[0]["message"].startswith("Check mode: no verification claim or test pod is created")
    assert run.data["stats"]["localhost"]["changed"] == 0
    assert stage.writes(since) == []


def test_verify_with_test_pods_cleans_up(stage):
    """The emulator's scheduler ignores the volume's node affinity (a real one honours it), so a test pod may land
    outside its cluster there; the role must then fail naming the node, which is what is asserted."""
    run = stage.play("playbooks/verify.yml", {"iomesh_verify_wait_timeout": 120}, as_json=True)
    results = verify_results(run.data)
    assert [r["cluster"] for r in results] == list(CLUSTERS)
    # Named for the run (the deployment lock's run id), the same run for every cluster.
    runs = {re.fullmatch(rf"iomesh-verify-{re.escape(r['cluster'])}-({RUN_ID})", r["pvc"]).group(1) for r in results}
    assert len(runs) == 1, results
    for r in results:
        ns, nodes = CLUSTERS[r["cluster"]]
        assert (r["namespace"], r["storage_class"]) == (VERIFY_NS, r["cluster"])
        assert r["phase"] == "Bound" and r["pv"].startswith("pvc-")
        assert r["driver"] == "com.iomesh.csi-driver"
        assert r["pv_nodes"] == nodes and r["within_cluster_nodes"] is True
        assert r["pod"] == r["pvc"] and r["pod_node"].startswith("k8s-woker-")
        if r["pod_node"] in nodes:
            assert r["result"] == "passed" and r["problems"] == [], r
        else:
            assert r["result"] == "failed"
            assert r["problems"] == [f"Test pod {VERIFY_NS}/{r['pod']} was scheduled on {r['pod_node']}, outside "
                                     f"cluster {r['cluster']} (nodes {', '.join(nodes)})."]
    assert (run.rc == 0) == all(r["result"] == "passed" for r in results), run.output[-3000:]
    assert_cleaned_up(stage)


def test_verify_failure_is_reported_and_cleaned_up(stage):
    """A StorageClass whose iomeshCluster names no IOMesh cluster: the twin leaves the claim Pending."""
    broken = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "iomesh-broken"},
              "provisioner": "com.iomesh.csi-driver", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate",
              "parameters": {"clusterConnection": "iomesh-cluster-1/iomesh-cluster-1-csi-configmap",
                             "iomeshCluster": "iomesh-cluster-1/does-not-exist"}}
    code, created = stage.testbed.post(SC_API, broken)
    assert code == 201, created
    clusters = copy.deepcopy(seed_clusters())
    clusters[1]["storage_class"] = {"name": "iomesh-broken"}
    run = stage.play("playbooks/verify.yml", {
        "iomesh_clusters": clusters, "iomesh_verify_pod": False, "iomesh_verify_wait_timeout": 15}, as_json=True)
    assert run.rc != 0
    good, bad = verify_results(run.data)
    assert good["result"] == "passed", good
    assert (bad["result"], bad["phase"], bad["pv"], bad["within_cluster_nodes"]) == ("failed", "Pending", None, False)
    assert ("StorageClass iomesh-broken has parameters.iomeshCluster 'iomesh-cluster-1/does-not-exist', expected "
            "'iomesh-cluster-1/iomesh-cluster-1'") in bad["message"]
    assert re.search(rf"PersistentVolumeClaim {VERIFY_NS}/iomesh-verify-iomesh-cluster-1-{RUN_ID} is Pending, not "
                     "Bound within 15 s; events: ProvisioningFailed: ", bad["message"]), bad["message"]
    assert "iomeshCluster: iomeshcluster iomesh-cluster-1/does-not-exist not found" in bad["message"]
    failed = task_results(run.data, "Require every cluster to pass its verification")[0]
    assert failed["failed"] and failed["msg"] == [f"iomesh-cluster-1: {bad['message']}"]
    assert_cleaned_up(stage)
    stage.kubectl("delete", "storageclass", "iomesh-broken")


def test_verify_keep_leaves_bound_claims_within_their_clusters(stage):
    run = stage.play("playbooks/verify.yml", {"iomesh_verify_keep": True, "iomesh_verify_pod": False,
                                              "iomesh_verify_when": "always"}, as_json=True)
    assert run.rc == 0, run.output[-4000:]
    assert [r["result"] for r in verify_results(run.data)] == ["passed", "passed"]
    # Scenario 5, read from the API: Bound claims on each cluster's class, IOMesh volumes pinned to its nodes.
    claims = {c["metadata"]["labels"]["iomesh.multicluster/cluster"]: c for c in claims_in(VERIFY_NS, stage)}
    assert sorted(claims) == sorted(CLUSTERS)
    for name, (_ns, nodes) in CLUSTERS.items():
        claim = claims[name]
        assert re.fullmatch(rf"iomesh-verify-{re.escape(name)}-{RUN_ID}", claim["metadata"]["name"])
        assert claim["metadata"]["name"].endswith(claim["metadata"]["labels"]["iomesh.multicluster/run"])
        assert claim["status"]["phase"] == "Bound" and claim["spec"]["storageClassName"] == name
        pv = stage.get(f"/api/v1/persistentvolumes/{claim['spec']['volumeName']}")
        assert pv["spec"]["csi"]["driver"] == "com.iomesh.csi-driver"
        terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
        allowed = {v for t in terms for e in t["matchExpressions"] for v in e["values"]}
        assert terms and allowed <= set(nodes), terms
    # No claim anywhere uses the chart's single-cluster class (docs/pitfalls.md P5).
    every_claim = stage.get("/api/v1/persistentvolumeclaims")["items"]
    assert all(c["spec"].get("storageClassName") != "iomesh-csi-driver" for c in every_claim)


def test_a_later_run_names_its_objects_its_own_way_and_clears_an_earlier_runs(stage):
    """The claims kept by the run above stay until another run verifies: that run holds the deployment lock, so no
    other run can be verifying, and what it finds of earlier runs is stale."""
    kept = {c["metadata"]["name"] for c in claims_in(VERIFY_NS, stage)}
    assert len(kept) == len(CLUSTERS), kept
    run = stage.play("playbooks/verify.yml", {"iomesh_verify_pod": False, "iomesh_verify_when": "always"},
                     as_json=True)
    assert run.rc == 0, run.output[-4000:]
    names = {r["pvc"] for r in verify_results(run.data)}
    assert len(names) == len(CLUSTERS) and names.isdisjoint(kept)
    assert claims_in(VERIFY_NS, stage) == []
    leftover = [pv["metadata"]["name"] for pv in stage.get("/api/v1/persistentvolumes")["items"]
                if (pv["spec"].get("claimRef") or {}).get("namespace") == VERIFY_NS]
    assert leftover == []


# --- iomesh_verify_when (docs/architecture.md, "When verification runs") -------------------------------------------

RECORD_PATH = "/api/v1/namespaces/iomesh-system/configmaps/iomesh-verification"
PVC_POST = re.compile(rf"^/api/v1/namespaces/{VERIFY_NS}/persistentvolumeclaims$")


def claims_posted(stage: Stage, since: int) -> int:
    """How many verification claims the collection created after `since` (from the request log)."""
    return sum(1 for r in stage.writes(since) if r["method"] == "POST" and PVC_POST.match(r["path"]))


def test_a_no_change_rerun_creates_no_claim_and_publishes_the_recorded_results(stage):
    first = stage.play("playbooks/verify.yml", {"iomesh_verify_pod": False, "iomesh_verify_when": "always"},
                       as_json=True)
    assert first.rc == 0, first.output[-4000:]
    verified = verify_results(first.data)
    assert [r["result"] for r in verified] == ["passed", "passed"]
    record = stage.get(RECORD_PATH)
    assert record["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "iomesh.multicluster",
                                            "app.kubernetes.io/component": "verify-record"}
    assert sorted(record["data"]) == sorted(CLUSTERS)
    assert [json.loads(record["data"][r["cluster"]])["result"]["pvc"] for r in verified] == [r["pvc"] for r in verified]

    since = len(stage.testbed.requests())
    again = stage.play("playbooks/verify.yml", {"iomesh_verify_pod": False}, as_json=True)
    assert again.rc == 0, again.output[-4000:]
    assert again.data["stats"]["localhost"]["changed"] == 0
    kept = verify_results(again.data)
    assert [(r["cluster"], r["result"], r["pvc"]) for r in kept] == [(r["cluster"], "passed", r["pvc"]) for r in verified]
    assert all(r["message"].startswith("Not verified again: nothing this verification depends on has changed") for r in kept)
    assert claims_posted(stage, since) == 0
    # Nothing verified, nothing recorded: the record is as the first run left it.
    assert stage.get(RECORD_PATH)["metadata"]["resourceVersion"] == record["metadata"]["resourceVersion"]


def test_a_hand_edited_csi_configmap_verifies_its_cluster_again_and_only_it(stage):
    record = stage.get(RECORD_PATH)
    stage.kubectl("annotate", "configmap", "-n", "iomesh-cluster-1", "iomesh-cluster-1-csi-configmap",
                  "edited-by=hand", "--overwrite")
    since = len(stage.testbed.requests())
    run = stage.play("playbooks/verify.yml", {"iomesh_verify_pod": False}, as_json=True)
    assert run.rc == 0, run.output[-4000:]
    assert claims_posted(stage, since) == 1
    results = {r["cluster"]: r for r in verify_results(run.data)}
    assert results["iomesh"]["message"].startswith("Not verified again")
    assert results["iomesh-cluster-1"]["result"] == "passed"
    assert not results["iomesh-cluster-1"]["message"].startswith("Not verified again")
    assert results["iomesh-cluster-1"]["pvc"] != json.loads(record["data"]["iomesh-cluster-1"])["result"]["pvc"]
    after = stage.get(RECORD_PATH)["data"]
    assert after["iomesh"] == record["data"]["iomesh"]
    assert json.loads(after["iomesh-cluster-1"])["result"]["pvc"] == results["iomesh-cluster-1"]["pvc"]
    assert after["iomesh-cluster-1"] != record["data"]["iomesh-cluster-1"]
    # Verified, recorded: the next run verifies nothing.
    since = len(stage.testbed.requests())
    third = stage.play("playbooks/verify.yml", {"iomesh_verify_pod": False}, as_json=True)
    assert third.rc == 0, third.output[-4000:]
    assert claims_posted(stage, since) == 0


def test_a_bad_iomesh_verify_when_is_refused_before_anything_is_read(stage):
    since = len(stage.testbed.requests())
    run = stage.play("playbooks/verify.yml", {"iomesh_verify_when": "sometimes"})
    assert run.rc != 0
    assert "iomesh_verify_when" in run.output and "on_change, always" in run.output, run.output[-3000:]
    assert stage.writes(since) == []
