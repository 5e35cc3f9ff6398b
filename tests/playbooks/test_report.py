"""playbooks/report.yml against the API emulator with the IOMesh twin: the report reads the live state only,
works on a fresh cluster and after a partial deployment, says what it saw, and rewrites nothing when nothing
changed."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import types
import urllib.request
from pathlib import Path

import pytest
import yaml

from . import conftest, play_recap
from .conftest import CHART, ROOT, SEED_NODES

PLAYBOOK = "playbooks/report.yml"
SEED = ROOT / "inventories" / "seed-example"
MGMT_NODES = ["k8s-woker-0", "k8s-woker-1", "k8s-woker-2"]
C1_NODES = ["k8s-woker-3", "k8s-woker-4", "k8s-woker-5"]
MOUNT_TYPES = {"SSD": "cacheWithJournal", "HDD": "dataStore"}
NO_DOT = "/nonexistent/graphviz/dot"


def twin_disks() -> dict[str, list[dict]]:
    """The disks the twin gives each seed node (serials are derived from node and path, stable)."""
    from iomesh_twin import disks  # pylint: disable=import-outside-toplevel
    return disks.layout({"nodes": SEED_NODES})


def write_inventory(path: Path) -> None:
    """The seed inventory plus iomesh_disks per host: management nodes by serial, cluster-1 nodes by path.
    The twin puts an ext4 filesystem on k8s-woker-5's /dev/sdd, so that declared disk is never claimed."""
    shutil.copytree(SEED, path)
    (path / "host_vars").mkdir()
    for node, disks in twin_disks().items():
        entries = []
        for disk in disks:
            if disk["mountPoint"]:
                continue  # the OS disk
            ident = {"serial": disk["serial"]} if node in MGMT_NODES else {"path": disk["path"]}
            entries.append({**ident, "mount_type": MOUNT_TYPES[disk["driveType"]]})
        (path / "host_vars" / f"{node}.yml").write_text(yaml.safe_dump({"iomesh_disks": entries}))


def ansible_playbook(env: dict, playbook: str, inventory: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), playbook, "-i", str(inventory), *args]
    env = dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


def merge_patch(testbed: conftest.Testbed, path: str, body: dict) -> dict:
    req = urllib.request.Request(testbed.url + path, data=json.dumps(body).encode(), method="PATCH",
                                 headers={"Content-Type": "application/merge-patch+json", "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def wait_for(what: str, probe, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def attached(testbed: conftest.Testbed, ns: str, name: str) -> list[dict]:
    cr = testbed.get(f"/apis/iomesh.com/v1alpha1/namespaces/{ns}/iomeshclusters/{name}")
    return (cr.get("status") or {}).get("attachedDevices") or []


@pytest.fixture(scope="module")
def deployed():
    """One testbed for the module, deployed once: management and additional cluster (playbooks), the declared
    disks labelled as the disk stage would, and the CSI ConfigMap and StorageClass of the management cluster only
    (cluster 1's are left missing, so the report has something to complain about)."""
    workdir = Path(tempfile.mkdtemp(prefix="iomesh-rpw-"))
    tmpdir = Path(tempfile.mkdtemp(prefix="iomesh-rp-"))
    testbed = conftest.Testbed(workdir / "testbed", tmpdir, {"nodes": SEED_NODES})
    try:
        inventory = workdir / "inventory"
        write_inventory(inventory)
        extra = ["-e", f"iomesh_kubeconfig={testbed.kubeconfig}", "-e", f"iomesh_chart_ref={CHART}",
                 "-e", "iomesh_mgmt_wait_delay=1", "-e", "iomesh_cluster_wait_delay=1"]
        for playbook in ("playbooks/mgmt.yml", "playbooks/cluster.yml"):
            proc = ansible_playbook(testbed.env, playbook, inventory, *extra)
            assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]

        bd_path = "/apis/openebs.io/v1alpha1/namespaces/iomesh-system/blockdevices"
        bds = testbed.get(bd_path)["items"]
        for cluster, nodes in (("iomesh", MGMT_NODES), ("iomesh-cluster-1", C1_NODES)):
            for bd in bds:
                if bd["spec"]["nodeAttributes"]["nodeName"] in nodes:
                    merge_patch(testbed, f"{bd_path}/{bd['metadata']['name']}", {"metadata": {"labels": {
                        "iomesh.multicluster/cluster": cluster,
                        "iomesh.multicluster/mount-type": MOUNT_TYPES[bd["spec"]["details"]["driveType"]]}}})
        # 3 nodes x (SSD + 2 HDD); k8s-woker-5's ext4 disk is refused
        wait_for("the management cluster's disks", lambda: len(attached(testbed, "iomesh-system", "iomesh")) == 9)
        wait_for("cluster 1's disks", lambda: len(attached(testbed, "iomesh-cluster-1", "iomesh-cluster-1")) == 8)

        status, body = testbed.post("/api/v1/namespaces/iomesh-system/configmaps", {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "iomesh-csi-configmap", "namespace": "iomesh-system"},
            "data": {"clusterId": "k8s-cluster", "iscsiPortal": "127.0.0.1:3260",
                     "metaAddr": "iomesh-meta-client.iomesh-system.svc.cluster.local:10100"}})
        assert status == 201, body
        status, body = testbed.post("/apis/storage.k8s.io/v1/storageclasses", {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "iomesh"},
            "provisioner": "com.iomesh.csi-driver", "reclaimPolicy": "Delete", "allowVolumeExpansion": True,
            "volumeBindingMode": "Immediate",
            "parameters": {"clusterConnection": "iomesh-system/iomesh-csi-configmap", "iomeshCluster": "iomesh-system/iomesh",
                           "csi.storage.k8s.io/fstype": "ext4", "replicaFactor": "2", "thinProvision": "true"}})
        assert status == 201, body
        # The emulator logs a request after answering it: let the log catch up, so tests count only their own.
        wait_for("the request log", lambda: any(r["method"] == "POST" and r["path"].endswith("/storageclasses")
                                                for r in testbed.requests()), timeout=30)
        yield types.SimpleNamespace(testbed=testbed, inventory=inventory, workdir=workdir)
    finally:
        testbed.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(tmpdir, ignore_errors=True)


def report(testbed: conftest.Testbed, inventory: Path, outdir: Path | None, *args: str, env: dict | None = None, **extra):
    """Run the report playbook; the run's `writes` are the requests it sent that would have changed something."""
    since = len(testbed.requests())
    extra_args = ["-e", f"iomesh_kubeconfig={testbed.kubeconfig}"]
    if outdir is not None:
        extra_args += ["-e", f"iomesh_report_dir={outdir}"]
    if extra:
        extra_args += ["-e", json.dumps(extra)]
    proc = ansible_playbook(env or testbed.env, PLAYBOOK, inventory, *extra_args, *args)
    return types.SimpleNamespace(rc=proc.returncode, output=proc.stdout + proc.stderr,
                                 writes=testbed.write_requests(since))


def section(text: str, title: str) -> str:
    level = len(title) - len(title.lstrip("#"))
    match = re.search(rf"^{re.escape(title)}\n(.*?)(?=^#{{1,{level}}} |\Z)", text, re.S | re.M)
    assert match, f"no section {title!r} in:\n{text}"
    return match.group(1)


def pods_per_node(testbed: conftest.Testbed, ns: str, name: str) -> dict[str, dict[str, str]]:
    """Meta/chunk/redirector/zookeeper pods per node, straight from the API, as the report writes each cell: the
    count when all are ready, ready/total when not, '-' for none (ZooKeeper's anti-affinity is only preferred, so a
    node may have none)."""
    patterns = {"meta": rf"^{name}-meta-\d+$", "chunk": rf"^{name}-chunk-\d+$",
                "redirector": rf"^{name}-iscsi-redirector-[a-z0-9]+$", "zookeeper": rf"^{name}-zookeeper-\d+$"}
    counts: dict[str, dict[str, list[int]]] = {}
    for pod in testbed.get(f"/api/v1/namespaces/{ns}/pods")["items"]:
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or [])
        for comp, pattern in patterns.items():
            if re.match(pattern, pod["metadata"]["name"]) and pod["spec"].get("nodeName"):
                node = counts.setdefault(pod["spec"]["nodeName"], {c: [0, 0] for c in patterns})
                node[comp][0] += int(ready)
                node[comp][1] += 1
    return {node: {comp: "-" if total == 0 else str(total) if ready == total else f"{ready}/{total}"
                   for comp, (ready, total) in comps.items()} for node, comps in counts.items()}


def leader_node(testbed: conftest.Testbed, ns: str) -> str:
    pods = testbed.get(f"/api/v1/namespaces/{ns}/pods", labelSelector="iomesh.com/meta-leader")["items"]
    assert len(pods) == 1
    return pods[0]["spec"]["nodeName"]


def test_fresh_testbed(testbed, tmp_path):
    """Nothing deployed: every cluster is shown as not deployed, nothing crashes, nothing is written to the API."""
    before = testbed.state()
    out = tmp_path / "report"
    run = report(testbed, SEED, out, iomesh_report_dot_binary=NO_DOT)
    assert run.rc == 0, run.output[-4000:]
    assert run.writes == [] and testbed.state() == before
    text = (out / "iomesh-report.md").read_text()
    assert "- Management Helm release `iomesh` in `iomesh-system`: not installed" in text
    assert "- IOMesh clusters in the inventory: 2; deployed: 0" in text
    problems = section(text, "## Problems")
    assert "- iomesh: not deployed: IOMeshCluster iomesh-system/iomesh does not exist" in problems
    assert "- iomesh-cluster-1: not deployed: IOMeshCluster iomesh-cluster-1/iomesh-cluster-1 does not exist" in problems
    assert "could not read" not in problems
    assert "| iomesh-cluster-1 | iomesh-cluster-1 (missing) | 3 | not deployed | - | missing |" in text
    assert text.count("- Result: **not run in this run**") == 2
    assert "no picture: Graphviz (/nonexistent/graphviz/dot) is not installed or could not be run" in text
    assert sorted(p.name for p in out.iterdir()) == ["iomesh-report.md", "iomesh-topology.dot"]
    assert (out / "iomesh-report.md").stat().st_mode & 0o777 == 0o644
    dot = (out / "iomesh-topology.dot").read_text()
    assert 'label="IOMeshCluster iomesh-cluster-1\\nnot deployed"' in dot
    assert f"IOMesh report: {out}/iomesh-report.md (" in run.output


def test_report_after_deployment(deployed, tmp_path):
    testbed = deployed.testbed
    out = tmp_path / "report"
    run = report(testbed, deployed.inventory, out, iomesh_report_dot_binary=NO_DOT)
    assert run.rc == 0, run.output[-4000:]
    assert run.writes == [], run.writes
    assert play_recap.counts(run.output)["changed"] >= 2  # directory, source and report
    text = (out / "iomesh-report.md").read_text()
    release = testbed.helm("list", "-n", "iomesh-system", "-o", "json")
    (helm_release,) = json.loads(release.stdout)
    assert (f"- Management Helm release `iomesh` in `iomesh-system`: chart {helm_release['chart']} "
            f"(app {helm_release['app_version']}), revision {helm_release['revision']}, deployed") in text
    assert "- IOMesh clusters in the inventory: 2; deployed: 2" in text
    assert "- Verification: not run in this run" in text

    for name, ns, nodes in (("iomesh", "iomesh-system", MGMT_NODES), ("iomesh-cluster-1", "iomesh-cluster-1", C1_NODES)):
        title = f"## Cluster `{name}` ({'management cluster, Helm release' if name == 'iomesh' else 'additional cluster'})"
        body = section(text, title)
        assert f"- Namespace `{ns}`: exists" in body
        leader = leader_node(testbed, ns)
        cr = testbed.get(f"/apis/iomesh.com/v1alpha1/namespaces/{ns}/iomeshclusters/{name}")
        assert f"meta leader {cr['status']['summary']['metaSummary']['leader']} (pod `" in body
        assert f"` on `{leader}`)" in body
        assert f"- ZookeeperCluster `{name}-zookeeper`: 3 of 3 replicas ready" in body
        per_node = pods_per_node(testbed, ns, name)
        assert sorted(per_node) == nodes
        disks = {n: sum(1 for d in cr["status"]["attachedDevices"] if d["nodeName"] == n) for n in nodes}
        for node in nodes:
            counts = per_node[node]
            meta = f"{counts['meta']}{' (leader)' if node == leader else ''}"
            row = f"| {node} | {meta} | {counts['chunk']} | {counts['redirector']} | {counts['zookeeper']} | {disks[node] or '-'} |"
            assert row in body, (row, body)
        summary = next(line for line in section(text, "## Summary").splitlines() if line.startswith(f"| {name}"))
        assert f"| {ns} (exists) | 3 | deployed | {leader} | 3/3 ready |" in summary

    mgmt = section(text, "## Cluster `iomesh` (management cluster, Helm release)")
    serials = {d["serial"]: d for d in twin_disks()["k8s-woker-0"]}
    ssd = next(s for s, d in serials.items() if d["path"] == "/dev/sdb")
    assert f"| k8s-woker-0 | `/dev/sdb` | `{ssd}` | SSD | 400 GB | cacheWithJournal | `blockdevice-" in mgmt
    assert "| Claimed | cacheWithJournal |" in mgmt
    assert "- `iomeshCluster`: `iomesh-system/iomesh`" in mgmt
    assert "- `metaAddr`: `iomesh-meta-client.iomesh-system.svc.cluster.local:10100`" in mgmt

    problems = section(text, "## Problems").strip().splitlines()
    assert [p for p in problems if p.startswith("- iomesh:")] == []
    assert re.fullmatch(r"- iomesh-cluster-1: disk /dev/sdd on k8s-woker-5 \(blockdevice-[0-9a-f]{32}\) is labelled for "
                        r"it but not claimed \(claimState Unclaimed; it carries a ext4 filesystem\)\.", problems[0])
    assert problems[1:] == [
        "- iomesh-cluster-1: StorageClass iomesh-cluster-1 does not exist (stage iomesh_csi not run).",
        "- iomesh-cluster-1: CSI ConfigMap iomesh-cluster-1/iomesh-cluster-1-csi-configmap does not exist "
        "(stage iomesh_csi not run).",
    ]
    dot = (out / "iomesh-topology.dot").read_text()
    # Each node's pods as the diagram lists them ("zookeeper x2" where two landed on one node: ZooKeeper's
    # anti-affinity is only preferred), read from the API.
    for name, ns, nodes in (("iomesh", "iomesh-system", MGMT_NODES), ("iomesh-cluster-1", "iomesh-cluster-1", C1_NODES)):
        per_node = pods_per_node(testbed, ns, name)
        for node in nodes:
            totals = {comp: 0 if cell == "-" else int(cell.rsplit("/", 1)[-1]) for comp, cell in per_node[node].items()}
            parts = [comp if n == 1 else f"{comp} x{n}" for comp, n in totals.items() if n]
            assert "chunk" in parts and "redirector" in parts, (node, per_node[node])
            assert f'label="{node}\\n{", ".join(parts)}' in dot, (node, parts)
    assert '"storageclass:iomesh" [shape=note, label="StorageClass iomesh\\nexists"];' in dot


def test_second_run_changes_nothing_and_check_mode_writes_nothing(deployed, tmp_path):
    testbed = deployed.testbed
    out = tmp_path / "report"
    first = report(testbed, deployed.inventory, out, iomesh_report_dot_binary=NO_DOT)
    assert first.rc == 0, first.output[-4000:]
    files = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}

    second = report(testbed, deployed.inventory, out, iomesh_report_dot_binary=NO_DOT)
    assert second.rc == 0 and play_recap.counts(second.output)["changed"] == 0, second.output[-4000:]
    assert second.writes == []
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == files

    check = report(testbed, deployed.inventory, out, "--check", "--diff", iomesh_report_dot_binary=NO_DOT)
    assert check.rc == 0 and play_recap.counts(check.output)["changed"] == 0, check.output[-4000:]

    # A report of another state: check mode runs no verification, so it leaves the last real run's report alone
    # (a report written then would say "skipped" for the verification) and says so.
    (out / "iomesh-report.md").write_text("# an old report\n")
    check = report(testbed, deployed.inventory, out, "--check", "--diff", iomesh_report_dot_binary=NO_DOT)
    assert check.rc == 0 and play_recap.counts(check.output)["changed"] == 0, check.output[-4000:]
    assert "is left as the last real run wrote it" in check.output
    assert (out / "iomesh-report.md").read_text() == "# an old report\n"

    # --check into a directory that does not exist: nothing is created.
    fresh = tmp_path / "not-yet"
    check = report(testbed, deployed.inventory, fresh, "--check", iomesh_report_dot_binary=NO_DOT)
    assert check.rc == 0, check.output[-4000:]
    assert not fresh.exists() and check.writes == []


def test_verification_results_of_the_same_run(deployed, tmp_path):
    out = tmp_path / "report"
    results = [
        {"cluster": "iomesh", "namespace": "iomesh-verify", "storage_class": "iomesh", "pvc": "iomesh-verify-pvc",
         "phase": "Bound", "pv": "pvc-0001", "driver": "com.iomesh.csi-driver", "pv_nodes": MGMT_NODES,
         "within_cluster_nodes": True, "result": "passed", "message": "bound, on the cluster's nodes"},
        {"cluster": "iomesh-cluster-1", "namespace": "iomesh-verify", "storage_class": "iomesh-cluster-1",
         "pvc": "iomesh-cluster-1-verify-pvc", "phase": "Pending", "pv": "", "driver": "", "pv_nodes": [],
         "within_cluster_nodes": None, "result": "failed", "message": "StorageClass iomesh-cluster-1 does not exist"},
    ]
    run = report(deployed.testbed, deployed.inventory, out, iomesh_report_dot_binary=NO_DOT,
                 iomesh_verify_results=results)
    assert run.rc == 0, run.output[-4000:]
    text = (out / "iomesh-report.md").read_text()
    assert "- Verification: results of this run (a cluster unchanged since it last passed keeps that result" in text
    mgmt = section(text, "## Cluster `iomesh` (management cluster, Helm release)")
    assert "- Result: **passed**" in mgmt
    assert "- Verification claim in namespace `iomesh-verify` on StorageClass `iomesh`: phase Bound" in mgmt
    assert "allowed nodes k8s-woker-0, k8s-woker-1, k8s-woker-2 (within the cluster's nodes)" in mgmt
    other = section(text, "## Cluster `iomesh-cluster-1` (additional cluster)")
    assert "- Result: **failed**" in other and "phase Pending" in other
    assert "- iomesh-cluster-1: verification failed: StorageClass iomesh-cluster-1 does not exist" in \
        section(text, "## Problems")


def test_the_run_settings_judge_the_csi_cluster_id(deployed, tmp_path):
    """The live objects are judged against what the stages render from this run's settings, not the defaults: a CSI
    ConfigMap written for another Kubernetes cluster id is a problem (the role once judged with the defaults)."""
    out = tmp_path / "report"
    run = report(deployed.testbed, deployed.inventory, out, iomesh_report_dot_binary=NO_DOT,
                 iomesh_k8s_cluster_id="lab-east-7")
    assert run.rc == 0, run.output[-4000:]
    problems = section((out / "iomesh-report.md").read_text(), "## Problems")
    assert ("- iomesh: CSI ConfigMap iomesh-system/iomesh-csi-configmap: clusterId is k8s-cluster, expected "
            "lab-east-7." in problems), problems


def test_fail_on_problems_still_writes_the_report(deployed, tmp_path):
    out = tmp_path / "report"
    run = report(deployed.testbed, deployed.inventory, out, iomesh_report_dot_binary=NO_DOT,
                 iomesh_report_fail_on_problems=True)
    assert run.rc == 2 and play_recap.counts(run.output)["failed"] == 1
    assert "The report lists 3 problem(s) and iomesh_report_fail_on_problems is true:" in run.output
    assert "  - iomesh-cluster-1: StorageClass iomesh-cluster-1 does not exist" in run.output
    assert (out / "iomesh-report.md").is_file()


def test_default_directory_is_where_ansible_playbook_was_started(deployed, tmp_path):
    run = report(deployed.testbed, deployed.inventory, None, env={**deployed.testbed.env, "PWD": str(tmp_path)},
                 iomesh_report_dot_binary="")
    assert run.rc == 0, run.output[-4000:]
    text = (tmp_path / "iomesh-report.md").read_text()
    assert "no picture: SVG rendering is off (iomesh_report_dot_binary is empty)." in text


def test_disabled_writes_nothing(deployed, tmp_path):
    run = report(deployed.testbed, deployed.inventory, tmp_path / "report", iomesh_report_enabled=False)
    assert run.rc == 0 and play_recap.counts(run.output)["changed"] == 0
    assert not (tmp_path / "report").exists()


def test_svg_picture_when_graphviz_is_installed(deployed, tmp_path):
    if shutil.which("dot", path=deployed.testbed.env["PATH"]) is None:
        pytest.skip("Graphviz (dot) is not installed here; the no-renderer path is covered by the other tests")
    out = tmp_path / "report"
    out.mkdir()
    # Graphviz, counting its runs.
    runs = tmp_path / "dot-runs"
    dot = tmp_path / "dot"
    dot.write_text(f"#!/bin/sh\necho run >> {runs}\nexec {shutil.which('dot', path=deployed.testbed.env['PATH'])} \"$@\"\n")
    dot.chmod(0o755)
    run = report(deployed.testbed, deployed.inventory, out, iomesh_report_dot_binary=str(dot))
    assert run.rc == 0, run.output[-4000:]
    assert runs.read_text().count("run") == 1
    svg = html.unescape((out / "iomesh-topology.svg").read_text())  # Graphviz writes "-" as &#45;
    assert "<svg" in svg and "k8s-woker-5" in svg and "IOMeshCluster iomesh-cluster-1" in svg
    text = (out / "iomesh-report.md").read_text()
    assert "picture [`iomesh-topology.svg`](iomesh-topology.svg)" in text and "![topology](iomesh-topology.svg)" in text
    drawn = (out / "iomesh-topology.svg").stat().st_mtime_ns
    again = report(deployed.testbed, deployed.inventory, out, iomesh_report_dot_binary=str(dot))
    assert again.rc == 0 and play_recap.counts(again.output)["changed"] == 0, again.output[-4000:]
    # Its source unchanged, the picture is not drawn again (docs/architecture.md, "The no-change path").
    assert runs.read_text().count("run") == 1
    assert (out / "iomesh-topology.svg").stat().st_mtime_ns == drawn
    # Nor without the renderer: the picture shows the state the report describes.
    same = report(deployed.testbed, deployed.inventory, out, iomesh_report_dot_binary=NO_DOT)
    assert same.rc == 0 and play_recap.counts(same.output)["changed"] == 0, same.output[-4000:]
    assert "![topology](iomesh-topology.svg)" in (out / "iomesh-report.md").read_text()
    # A new state without the renderer: the picture would describe the older one, so it is removed, and the report
    # says why.
    results = [{"cluster": "iomesh", "namespace": "iomesh-verify", "storage_class": "iomesh", "pvc": "p",
                "phase": "Pending", "pv": "", "driver": "", "pv_nodes": [], "within_cluster_nodes": None,
                "result": "failed", "message": "not bound"}]
    without = report(deployed.testbed, deployed.inventory, out, iomesh_report_dot_binary=NO_DOT,
                     iomesh_verify_results=results)
    assert without.rc == 0, without.output[-4000:]
    assert not (out / "iomesh-topology.svg").exists()
    assert "no picture: Graphviz" in (out / "iomesh-report.md").read_text()
    # A missing picture is drawn again, though its source did not change.
    redrawn = report(deployed.testbed, deployed.inventory, out, iomesh_verify_results=results,
                     iomesh_report_dot_binary=str(dot))
    assert redrawn.rc == 0, redrawn.output[-4000:]
    assert "<svg" in (out / "iomesh-topology.svg").read_text()
    assert runs.read_text().count("run") == 2


def test_unreachable_api_is_reported_not_crashed(tmp_path, short_tmp):
    """A kubeconfig pointing at nothing: the report is still written, and says what it could not read."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}], "users": [{"name": "u", "user": {}}]}))
    env = conftest.client_env(tmp_path / "client", short_tmp)
    out = tmp_path / "report"
    proc = ansible_playbook(env, PLAYBOOK, SEED, "-e", f"iomesh_kubeconfig={kubeconfig}", "-e",
                            f"iomesh_report_dir={out}", "-e", f"iomesh_report_dot_binary={NO_DOT}")
    assert proc.returncode == 0, proc.stdout[-4000:]
    text = (out / "iomesh-report.md").read_text()
    problems = section(text, "## Problems")
    # The client's own reason, on one line (a failed k8s_info registered with failed_when has lost it).
    reason = "the API cannot be reached: Failed to establish a new connection: [Errno 111] Connection refused"
    assert f"- could not read: namespaces: {reason}" in problems and f"- could not read: IOMeshClusters: {reason}" in problems
    assert "ConnectionPool" not in text
    assert "`iomesh` in `iomesh-system`: unknown (could not be read)" in text
    assert "not deployed" not in problems
    assert os.path.isfile(out / "iomesh-topology.dot")
