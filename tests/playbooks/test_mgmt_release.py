"""The management release on the real chart's terms (docs/pitfalls.md P10, P23), on the API emulator with the IOMesh
twin, with nothing named as the defaults are: chart v1.1.0 with helm 3, a 23-character release name (the longest the
chart allows) in a namespace that is not iomesh-system, a four-node enterprise management cluster, an additional
cluster, nodes selected by a node label key that is not kubernetes.io/hostname, and hosts whose SSH address
(ansible_host, 192.168.77.0/24) is outside data_cidr while their storage address (iomesh_data_ip) is inside.

The module starts from a release made the way collection 0.1.0 made it (iomesh.create: true: the chart owns the
management IOMeshCluster), then runs playbooks/mgmt.yml and playbooks/cluster.yml over it. The twin rotates the
webhook certificate on every render of the chart and its operator serves the old one for RELOAD_SECONDS after that.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import signal
import socket
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from iomesh_testbed import launcher

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import plan, render

from . import conftest
from .conftest import ROOT, VENV_BIN

VERSION = "v1.1.0"
HELM = "helm3"
MGMT = "blk-store-mgmt-prod-a01"
assert len(MGMT) == 23
NS = "storage-ops"
OTHER = "vault-east"
LABEL_KEY = "storage.example.com/node"
MGMT_NODES = [f"stor-{i}" for i in range(4)]
OTHER_NODES = [f"stor-{i}" for i in range(4, 7)]
RELOAD_SECONDS = 30
SENTINEL = "s3cr3t-registry-token-sentinel"
HOOK_JOB = f"{MGMT}-zookeeper-operator-post-install-upgrade"
IOMESH = "/apis/iomesh.com/v1alpha1"
ZOOKEEPER = "/apis/zookeeper.pravega.io/v1beta1"


def _config() -> dict:
    nodes = launcher.seed_node_config(MGMT_NODES + OTHER_NODES)
    for node in nodes:
        node["labels"] = {LABEL_KEY: node["name"]}
    return {"nodes": nodes, "iomeshTwin": {"webhookCertReloadSeconds": RELOAD_SECONDS}}


def _inventory(path: Path, chart: Path, kubeconfig: Path) -> dict:
    groups = {"mgmt_nodes": MGMT_NODES, "vault_nodes": OTHER_NODES}
    data = {
        "all": {
            "vars": {
                "iomesh_kubeconfig": str(kubeconfig),
                "iomesh_chart_ref": str(chart),
                "iomesh_chart_version": VERSION,
                "iomesh_helm_binary": str(VENV_BIN / HELM),
                "iomesh_edition": "enterprise",
                "iomesh_node_label_key": LABEL_KEY,
                "iomesh_mgmt_wait_delay": 1,
                "iomesh_cluster_wait_delay": 1,
                "iomesh_clusters": [
                    {"name": MGMT, "namespace": NS, "management": True, "hosts_group": "mgmt_nodes",
                     "data_cidr": launcher.DATA_CIDR},
                    {"name": OTHER, "hosts_group": "vault_nodes", "data_cidr": launcher.DATA_CIDR},
                ],
            },
            # SSH on a management network, IOMesh on the storage network (data_cidr): the usual layout.
            "children": {group: {"hosts": {h: {"ansible_host": f"192.168.77.{10 + int(h.split('-')[1])}",
                                               "iomesh_data_ip": f"10.234.1.{10 + int(h.split('-')[1])}"}
                                           for h in hosts}} for group, hosts in groups.items()},
        }
    }
    path.write_text(yaml.safe_dump(data))
    return data


class Deployment:
    def __init__(self, testbed: conftest.Testbed, workdir: Path):
        self.testbed = testbed
        self.chart = launcher.chart_dir(VERSION)
        self.inventory = workdir / "inventory.yml"
        self.data = _inventory(self.inventory, self.chart, testbed.kubeconfig)

    def run(self, playbook: str, *args: str) -> conftest.PlaybookRun:
        cmd = [str(VENV_BIN / "ansible-playbook"), playbook, "-i", str(self.inventory), *args]
        env = dict(self.testbed.env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        return conftest.PlaybookRun(subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                                                   timeout=900, check=False))

    def helm(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(VENV_BIN / HELM), "--kubeconfig", str(self.testbed.kubeconfig), *args], cwd=ROOT,
                              env=self.testbed.env, capture_output=True, text=True, timeout=300, check=False)

    def values_of_0_1_0(self) -> dict:
        """The values collection 0.1.0 installed: the computed ones with the chart's management cluster."""
        hosts = self.data["all"]["children"]
        groups = {g: sorted(v["hosts"]) for g, v in hosts.items()}
        hostvars = {h: dict(hv) for v in hosts.values() for h, hv in v["hosts"].items()}
        variables = self.data["all"]["vars"]
        built = plan.build(variables["iomesh_clusters"], groups, hostvars,
                           {k: v for k, v in variables.items() if k != "iomesh_clusters"})
        assert not built["errors"], built["errors"]
        values = render.mgmt_values(built["management"], built["settings"])
        values["iomesh"]["create"] = True
        return values

    def get(self, path: str) -> dict:
        return self.testbed.get(path)

    def mgmt_cr(self) -> dict:
        return self.get(f"{IOMESH}/namespaces/{NS}/iomeshclusters/{MGMT}")

    def webhook_ca(self) -> str:
        return self.get(f"/api/v1/namespaces/{NS}/secrets/iomesh-webhook-cert")["data"]["ca.crt"]


def patch(testbed: conftest.Testbed, path: str, body: dict, manager: str) -> dict:
    """A merge patch as `kubectl edit` sends it (field manager kubectl-edit)."""
    req = urllib.request.Request(f"{testbed.url}{path}?fieldManager={manager}", data=json.dumps(body).encode(),
                                 method="PATCH", headers={"Content-Type": "application/merge-patch+json",
                                                          "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def deployed():
    base = Path(tempfile.mkdtemp(prefix="iomesh-mr-"))   # short: ansible's socket path under TMPDIR
    tmpdir = base / "t"
    tmpdir.mkdir()
    testbed = conftest.Testbed(base / "testbed", tmpdir, _config())
    try:
        deployment = Deployment(testbed, base)
        values = base / "values-0.1.0.yml"
        values.write_text(yaml.safe_dump(deployment.values_of_0_1_0()))
        made = deployment.helm("install", MGMT, str(deployment.chart), "-n", NS, "--create-namespace", "-f", str(values))
        assert made.returncode == 0, made.stderr
        deployment.uid_before = deployment.mgmt_cr()["metadata"]["uid"]
        deployment.ca_before = deployment.webhook_ca()
        deployment.runs = {name: deployment.run(f"playbooks/{name}.yml") for name in ("mgmt", "cluster")}
        yield deployment
    finally:
        testbed.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_a_release_made_by_0_1_0_is_upgraded_and_keeps_its_cluster(deployed):
    run = deployed.runs["mgmt"]
    assert run.rc == 0, run
    cr = deployed.mgmt_cr()
    # The same object: Helm did not delete it when the new revision stopped rendering it.
    assert cr["metadata"]["uid"] == deployed.uid_before
    assert cr["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    status = json.loads(deployed.helm("status", MGMT, "-n", NS, "-o", "json").stdout)
    assert status["version"] == 2
    values = json.loads(deployed.helm("get", "values", MGMT, "-n", NS, "-o", "json").stdout)
    assert values["iomesh"]["create"] is False
    # The collection now manages it, with the chart's spec.
    assert cr["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "iomesh.multicluster"
    owners = {m["manager"] for m in cr["metadata"]["managedFields"]}
    assert "iomesh-multicluster" in owners


def test_the_upgrade_rotated_the_webhook_certificate_and_the_run_waited_it_out(deployed):
    run = deployed.runs["mgmt"]
    assert run.rc == 0, run
    assert deployed.webhook_ca() != deployed.ca_before
    # The management IOMeshCluster was written while the operator still served the old certificate: kube-apiserver
    # could not call the webhook, and the role retried until the operator reloaded.
    assert re.search(r"FAILED - RETRYING: \[localhost\]: \S+ : Apply IOMeshCluster", run.output), run


def test_the_hook_job_ran_and_helm_waited_for_it(deployed):
    writes = [r for r in deployed.testbed.requests() if "/jobs" in r["path"] and r["method"] in ("POST", "DELETE")]
    created = [r for r in writes if r["method"] == "POST"]
    deleted = [r for r in writes if r["method"] == "DELETE" and r["path"].endswith(f"/jobs/{HOOK_JOB}")]
    # Install and upgrade each ran the post-install/post-upgrade hook; hook-succeeded deleted it each time.
    assert len(created) >= 2 and len(deleted) >= 2, writes
    jobs = deployed.get(f"/apis/batch/v1/namespaces/{NS}/jobs")["items"]
    assert not [j for j in jobs if j["metadata"]["name"] == HOOK_JOB]


def test_additional_clusters_share_the_management_clusters_version_fields_and_zookeeper(deployed):
    run = deployed.runs["cluster"]
    assert run.rc == 0, run
    mgmt = deployed.mgmt_cr()["spec"]
    other = deployed.get(f"{IOMESH}/namespaces/{OTHER}/iomeshclusters/{OTHER}")["spec"]
    shared = {f: mgmt[f] for f in render.SHARED_SPEC_FIELDS if f in mgmt}
    assert shared.get("version") and shared.get("edition") == "enterprise", mgmt
    assert {f: other.get(f) for f in shared} == shared
    assert other["meta"]["image"] == mgmt["meta"]["image"]
    mgmt_zk = deployed.get(f"{ZOOKEEPER}/namespaces/{NS}/zookeeperclusters/{MGMT}-zookeeper")["spec"]
    other_zk = deployed.get(f"{ZOOKEEPER}/namespaces/{OTHER}/zookeeperclusters/{OTHER}-zookeeper")["spec"]
    assert other_zk["image"] == mgmt_zk["image"]
    assert other_zk["pod"]["resources"] == mgmt_zk["pod"]["resources"]


def test_four_enterprise_nodes_run_a_chunk_each_pinned_by_the_custom_label(deployed):
    spec = deployed.mgmt_cr()["spec"]
    assert spec["chunk"]["replicas"] == 4
    term = spec["chunk"]["podPolicy"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["nodeSelectorTerms"] == [{"matchExpressions": [{"key": LABEL_KEY, "operator": "In",
                                                                "values": MGMT_NODES}]}]
    pods = deployed.get(f"/api/v1/namespaces/{NS}/pods")["items"]
    chunk_nodes = sorted(p["spec"].get("nodeName") for p in pods if p["metadata"]["name"].startswith(f"{MGMT}-chunk-"))
    assert chunk_nodes == MGMT_NODES


def test_a_field_edited_by_hand_is_restored_after_another_rotation(deployed):
    path = f"{IOMESH}/namespaces/{OTHER}/iomeshclusters/{OTHER}"
    zk_path = f"{ZOOKEEPER}/namespaces/{OTHER}/zookeeperclusters/{OTHER}-zookeeper"
    before = deployed.get(path)["spec"]
    patch(deployed.testbed, path, {"spec": {"reclaimPolicy": {"volume": "Retain"}}}, "kubectl-edit")
    patch(deployed.testbed, zk_path, {"spec": {"replicas": 5}}, "kubectl-edit")
    assert deployed.get(path)["spec"]["reclaimPolicy"]["volume"] == "Retain"
    # Another render of the chart (helm upgrade) rotates the certificate again before the re-run.
    ca = deployed.webhook_ca()
    upgraded = deployed.helm("upgrade", MGMT, str(deployed.chart), "-n", NS, "--reuse-values")
    assert upgraded.returncode == 0, upgraded.stderr
    assert deployed.webhook_ca() != ca
    run = deployed.run("playbooks/cluster.yml")
    assert run.rc == 0, run
    assert re.search(r"FAILED - RETRYING: \[localhost\]: \S+ : Apply IOMeshCluster", run.output), run
    after = deployed.get(path)
    assert after["spec"]["reclaimPolicy"] == before["reclaimPolicy"]
    assert deployed.get(zk_path)["spec"]["replicas"] == 3
    owner = {m["manager"]: m for m in after["metadata"]["managedFields"]}
    assert "f:volume" in json.dumps(owner["iomesh-multicluster"]["fieldsV1"])
    assert "kubectl-edit" not in owner or "f:volume" not in json.dumps(owner["kubectl-edit"].get("fieldsV1"))


ENTRY_POINTS = conftest.entry_points("mgmt")


def release_status(deployment: Deployment) -> dict:
    return json.loads(deployment.helm("status", MGMT, "-n", NS, "-o", "json").stdout)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_no_entry_point_downgrades_the_release(deployed, tmp_path, entry):
    """Chart v1.1.0 is installed; an inventory asking for v1.0.1 stops before Helm, whatever the entry point."""
    before = release_status(deployed)["version"]
    run = deployed.run(*conftest.entry_args(entry, tmp_path), "-e", "iomesh_chart_version=v1.0.1",
                       "-e", f"iomesh_chart_ref={launcher.chart_dir('v1.0.1')}")
    assert run.rc == 2, run
    assert f"runs chart iomesh-{VERSION}, newer than iomesh_chart_version v1.0.1" in run.output, run
    assert "iomesh_allow_downgrade: true" in run.output
    assert release_status(deployed)["version"] == before


@pytest.fixture(scope="module")
def hand_set(deployed):
    """A value set by hand on the live release, as an operator does it (a new revision)."""
    made = deployed.helm("upgrade", MGMT, str(deployed.chart), "-n", NS, "--reuse-values",
                         "--set", "iomesh.meta.podPolicy.tolerations[0].key=storage-only")
    assert made.returncode == 0, made.stderr
    return release_status(deployed)["version"]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_no_entry_point_drops_a_value_set_by_hand(deployed, hand_set, tmp_path, entry):
    run = deployed.run(*conftest.entry_args(entry, tmp_path))
    assert run.rc == 2, run
    assert (f"Helm release {MGMT} in namespace {NS} has values the inventory does not set "
            "(iomesh.meta.podPolicy.tolerations): set by hand, they would be reset to the chart's defaults by the "
            "upgrade (docs/pitfalls.md P24). Nothing was changed.") in run.output, run
    assert release_status(deployed)["version"] == hand_set


def test_a_value_set_by_hand_is_dropped_only_when_allowed(deployed, hand_set):
    run = deployed.run("playbooks/mgmt.yml", "-e", "iomesh_mgmt_reset_values=true")
    assert run.rc == 0, run
    assert "Resetting them: iomesh_mgmt_reset_values is true." in run.output
    assert release_status(deployed)["version"] == hand_set + 1
    values = json.loads(deployed.helm("get", "values", MGMT, "-n", NS, "-o", "json").stdout)
    assert "tolerations" not in values["iomesh"]["meta"]["podPolicy"], values


def test_check_diff_shows_a_value_changed_by_hand_as_one_change_without_helms_diff_plugin(deployed):
    """A value the inventory renders, changed by hand on the live release: --check --diff shows it going back, as one
    change, and the real run then changes exactly that; afterwards --check --diff shows nothing. The release values
    carry a registry credential (iomesh_mgmt_extra_values) that no diff prints."""
    edited = deployed.helm("upgrade", MGMT, str(deployed.chart), "-n", NS, "--reuse-values",
                           "--set", "iomesh.chunk.replicaCount=2")
    assert edited.returncode == 0, edited.stderr
    revision = release_status(deployed)["version"]
    secret = ["-e", json.dumps({"iomesh_mgmt_extra_values": {"registry": {"password": SENTINEL}}})]
    check = deployed.run("playbooks/mgmt.yml", "--check", "--diff", *secret)
    assert check.rc == 0, [ln[:1500] for ln in check.output.splitlines() if ln.startswith(("fatal", "[ERROR]"))]
    assert check.recap()["changed"] == 1, check
    assert re.search(r"^-\s+replicaCount: 2$", check.output, re.M) and re.search(r"^\+\s+replicaCount: 4$", check.output, re.M), check
    assert "password: (hidden, changed)" in check.output and SENTINEL not in check.output, check
    assert release_status(deployed)["version"] == revision
    real = deployed.run("playbooks/mgmt.yml", "--diff", *secret)
    assert real.rc == 0, real
    assert real.recap()["changed"] == 1 and release_status(deployed)["version"] == revision + 1, real
    assert SENTINEL not in real.output
    values = json.loads(deployed.helm("get", "values", MGMT, "-n", NS, "-o", "json").stdout)
    assert values["iomesh"]["chunk"]["replicaCount"] == 4 and values["registry"]["password"] == SENTINEL
    again = deployed.run("playbooks/mgmt.yml", "--check", "--diff", *secret)
    assert again.rc == 0 and again.recap()["changed"] == 0, again
    assert "replicaCount" not in again.output and "+++" not in again.output, again
    # Back to the inventory without the extra value, for the tests below (dropping a value the inventory no longer sets
    # needs iomesh_mgmt_reset_values).
    back = deployed.run("playbooks/mgmt.yml", "-e", "iomesh_mgmt_reset_values=true")
    assert back.rc == 0 and back.recap()["changed"] == 1, back


def helm_record(deployment: Deployment, revision: int) -> tuple[dict, dict]:
    """The Secret in which Helm keeps a revision, and the release it holds (base64 of gzip of JSON, in a Secret)."""
    secret = deployment.get(f"/api/v1/namespaces/{NS}/secrets/sh.helm.release.v1.{MGMT}.v{revision}")
    return secret, json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))


def put_helm_record(deployment: Deployment, secret: dict, release: dict) -> None:
    secret["data"]["release"] = base64.b64encode(base64.b64encode(gzip.compress(json.dumps(release).encode()))).decode()
    name = secret["metadata"]["name"]
    req = urllib.request.Request(f"{deployment.testbed.url}/api/v1/namespaces/{NS}/secrets/{name}",
                                 data=json.dumps(secret).encode(), method="PUT",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30):
        pass


def interrupted_upgrade(deployment: Deployment) -> int:
    """helm upgrade killed (SIGKILL, as a dying controller kills it) once it has written its pending revision."""
    before = release_status(deployment)["version"]
    proc = subprocess.Popen([str(VENV_BIN / HELM), "--kubeconfig", str(deployment.testbed.kubeconfig), "upgrade", MGMT,
                             str(deployment.chart), "-n", NS, "--reuse-values", "--timeout", "120s"],
                            cwd=ROOT, env=deployment.testbed.env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            listed = deployment.testbed.get(f"/api/v1/namespaces/{NS}/secrets",
                                            labelSelector=f"owner=helm,name={MGMT},status=pending-upgrade")["items"]
            if listed:
                break
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert release_status(deployment)["info"]["status"] == "pending-upgrade"
    return before + 1


WEBHOOK_CERT = f"/api/v1/namespaces/{NS}/secrets/iomesh-webhook-cert"
WEBHOOK_CONFIG = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/iomesh-validating-webhook-configuration"


def applied_in_part(deployment: Deployment, revision: int) -> None:
    """What helm upgrade leaves when killed between two of its writes: the webhook certificate Secret of the revision
    it was applying (a new one, every render of the chart makes one) without the webhook configuration that trusts
    it. Helm writes Secrets before the other kinds of the chart."""
    release = helm_record(deployment, revision)[1]
    rendered = next(doc for doc in yaml.safe_load_all(release["manifest"])
                    if doc and doc["kind"] == "Secret" and doc["metadata"]["name"] == "iomesh-webhook-cert")
    live = deployment.get(WEBHOOK_CERT)
    live["data"] = rendered["data"]
    req = urllib.request.Request(f"{deployment.testbed.url}{WEBHOOK_CERT}", data=json.dumps(live).encode(),
                                 method="PUT", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30):
        pass


def webhook_trusts_its_certificate(deployment: Deployment) -> bool:
    """The CA of the webhook's certificate Secret is in the CA bundle of every webhook of its configuration."""
    ca = base64.b64decode(deployment.get(WEBHOOK_CERT)["data"]["ca.crt"]).strip()
    hooks = deployment.get(WEBHOOK_CONFIG)["webhooks"]
    return bool(hooks) and all(ca in base64.b64decode(h["clientConfig"]["caBundle"]) for h in hooks)


def test_a_revision_left_pending_by_a_killed_helm_is_recovered_by_a_re_run(deployed):
    pending = interrupted_upgrade(deployed)
    applied_in_part(deployed, pending)
    assert not webhook_trusts_its_certificate(deployed)
    record = f"sh.helm.release.v1.{MGMT}.v{pending}"
    # Just killed: another helm may still be running on it, so the run stops and says how to recover.
    run = deployed.run("playbooks/mgmt.yml")
    assert run.rc == 2, run
    assert f"Helm release {NS}/{MGMT} is pending-upgrade (revision {pending}, since " in run.output, run
    assert f"remove it now with: kubectl -n {NS} delete secret {record} (Helm's record" in run.output, run
    assert release_status(deployed)["info"]["status"] == "pending-upgrade"
    # The same record 20 minutes later, longer than iomesh_mgmt_helm_timeout + 60 s: what a crashed run leaves.
    secret, release = helm_record(deployed, pending)
    started = datetime.fromisoformat(release["info"]["last_deployed"][:19]) - timedelta(minutes=20)
    release["info"]["last_deployed"] = started.strftime("%Y-%m-%dT%H:%M:%S.000000000Z")
    put_helm_record(deployed, secret, release)
    uid = deployed.mgmt_cr()["metadata"]["uid"]
    run = deployed.run("playbooks/mgmt.yml")
    assert run.rc == 0, run
    assert (f"an interrupted run left it. Removing that revision's record (Secret {record}) so that Helm can install "
            "or upgrade the release again") in run.output, run
    # The interrupted upgrade had the values the release already has, so nothing was left to upgrade; but it had
    # applied part of its objects: the release was rolled back to its last deployed revision, as one change, and the
    # webhook trusts its certificate again.
    status = release_status(deployed)
    assert status["info"]["status"] == "deployed" and status["version"] == pending, status
    assert status["info"]["description"] == f"Rollback to {pending - 1}", status
    assert run.recap()["changed"] == 1, run
    assert webhook_trusts_its_certificate(deployed)
    assert deployed.mgmt_cr()["metadata"]["uid"] == uid


def test_a_second_run_changes_nothing(deployed):
    for playbook in ("playbooks/mgmt.yml", "playbooks/cluster.yml"):
        run = deployed.run(playbook)
        assert run.rc == 0 and run.recap()["changed"] == 0 and run.recap()["failed"] == 0, run


LEASES = f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases"


def other_runs_lease(pid: int) -> dict:
    """The Lease another run on this controller holds, as iomesh_lock writes it."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "iomesh-multicluster-lock", "namespace": NS,
                         "annotations": {"iomesh.multicluster/holder-host": socket.gethostname(),
                                         "iomesh.multicluster/holder-pid": str(pid)}},
            "spec": {"holderIdentity": f"ci@{socket.gethostname()} pid {pid} run other", "leaseDurationSeconds": 3600,
                     "acquireTime": now, "renewTime": now, "leaseTransitions": 0}}


def test_the_lock_is_free_after_every_run(deployed):
    with pytest.raises(urllib.error.HTTPError, match="404"):
        deployed.get(f"{LEASES}/iomesh-multicluster-lock")
    taken = [r for r in deployed.testbed.requests() if "/leases" in r["path"] and r["method"] in ("POST", "PUT")]
    released = [r for r in deployed.testbed.requests() if "/leases/" in r["path"] and r["method"] == "DELETE"]
    # Every stage run so far took the lock and gave it back, the refused ones included.
    assert len(taken) >= 10 and len(released) == len(taken), (len(taken), len(released))


def test_a_second_run_at_the_same_time_is_refused_and_a_killed_runs_lock_is_taken_over(deployed):
    # A live run holds the lock (this test's own process stands for it).
    code, body = deployed.testbed.post(LEASES, other_runs_lease(os.getpid()))
    assert code == 201, body
    since = len(deployed.testbed.requests())
    run = deployed.run("playbooks/cluster.yml")
    assert run.rc == 2, run
    assert (f"Another run is deploying: Lease {NS}/iomesh-multicluster-lock is held by ci@{socket.gethostname()} pid "
            f"{os.getpid()} run other since ") in run.output, run
    assert "Apply IOMeshCluster" not in run.output
    # Not even the lock is written (or released) by the run that did not get it.
    assert deployed.testbed.write_requests(since, lock=True) == []
    # That run was killed: its process is gone, the lock stays; the next run takes it over, then releases it.
    gone = subprocess.Popen(["true"])
    gone.wait()
    lease = deployed.get(f"{LEASES}/iomesh-multicluster-lock")
    lease["metadata"]["annotations"]["iomesh.multicluster/holder-pid"] = str(gone.pid)
    req = urllib.request.Request(f"{deployed.testbed.url}{LEASES}/iomesh-multicluster-lock", method="PUT",
                                 data=json.dumps(lease).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30):
        pass
    run = deployed.run("playbooks/cluster.yml")
    assert run.rc == 0 and run.recap()["changed"] == 0, run
    assert "a run on this controller that no longer runs (it was killed); taking it over." in run.output, run
    with pytest.raises(urllib.error.HTTPError, match="404"):
        deployed.get(f"{LEASES}/iomesh-multicluster-lock")


def test_a_hook_job_that_does_not_finish_fails_within_the_helm_timeout(tmp_path):
    """The chart's post-install hook Job runs longer than iomesh_mgmt_helm_timeout (its image could not be pulled,
    say): Helm gives up after that timeout, not after its own default of 5 minutes, and the role names the Job."""
    base = Path(tempfile.mkdtemp(prefix="iomesh-hk-"))
    (base / "t").mkdir()
    testbed = conftest.Testbed(base / "testbed", base / "t", {**_config(), "pods": {"completionSeconds": 600}})
    try:
        deployment = Deployment(testbed, base)
        deployment.data["all"]["vars"]["iomesh_mgmt_helm_timeout"] = 5
        # A credential in the extra values is never printed, not even with -vvv (or in the failure).
        deployment.data["all"]["vars"]["iomesh_mgmt_extra_values"] = {"operator": {"registryToken": SENTINEL}}
        deployment.inventory.write_text(yaml.safe_dump(deployment.data))
        started = time.monotonic()
        run = deployment.run("playbooks/mgmt.yml", "-vvv")
        elapsed = time.monotonic() - started
        assert run.rc != 0, run
        assert elapsed < 120, (elapsed, run)
        assert f"Helm waits for the chart's hook Job {HOOK_JOB} at most iomesh_mgmt_helm_timeout (5 s)" in run.output, run
        assert f"kubectl -n {NS} describe job {HOOK_JOB}" in run.output, run
        assert SENTINEL not in run.output
        # Nothing past the release was attempted.
        assert "Apply IOMeshCluster" not in run.output, run
    finally:
        testbed.stop()
        shutil.rmtree(base, ignore_errors=True)
