"""playbooks/disks.yml on the API emulator with the IOMesh twin (docs/architecture.md#acceptance-scenarios 6, 7, 17).

The two seed clusters are deployed once for this module (playbooks/mgmt.yml and playbooks/cluster.yml, with
every node's disks declared); then the disk stage runs in check mode, for real, again (changed=0) and in check
mode on the converged clusters, and each bad disk is refused before the stage sends any write request.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from iomesh_twin import disks as twin_disks

from . import conftest
from .conftest import CHART, ROOT, SEED_NODES, VENV_BIN

SEED = ROOT / "inventories" / "seed-example"
NS = "iomesh-system"
BD_PATH = f"/apis/openebs.io/v1alpha1/namespaces/{NS}/blockdevices"
CLUSTER_LABEL = "iomesh.multicluster/cluster"
MOUNT_LABEL = "iomesh.multicluster/mount-type"
MGMT_NODES = [f"k8s-woker-{i}" for i in range(3)]
C1_NODES = [f"k8s-woker-{i}" for i in range(3, 6)]
CLUSTER_OF = {**{n: "iomesh" for n in MGMT_NODES}, **{n: "iomesh-cluster-1" for n in C1_NODES}}
CR_PATH = {"iomesh": "/apis/iomesh.com/v1alpha1/namespaces/iomesh-system/iomeshclusters/iomesh",
           "iomesh-cluster-1": "/apis/iomesh.com/v1alpha1/namespaces/iomesh-cluster-1/iomeshclusters/iomesh-cluster-1"}
HEADER = "The declared disks have {n} problem(s); nothing was changed"

# Spare disks besides the twin's default layout, never declared by the base inventory:
#   k8s-woker-3 /dev/sde, /dev/sdf (HDD): one gets labelled for the other cluster, one claimed by someone else;
#   k8s-woker-4 /dev/sde: an SSD of 50 GB, too small for a journal.
SPARE = {
    "k8s-woker-3": [{"path": "/dev/sde", "driveType": "HDD", "size": "2T"},
                    {"path": "/dev/sdf", "driveType": "HDD", "size": "2T"}],
    "k8s-woker-4": [{"path": "/dev/sde", "driveType": "SSD", "size": "50G", "model": "SMALL SSD 50G"}],
}


def _testbed_config() -> dict:
    nodes = copy.deepcopy(SEED_NODES)
    for node in nodes:
        if node["name"] in SPARE:
            node["disks"] = copy.deepcopy(twin_disks.DEFAULT_LAYOUT) + SPARE[node["name"]]
    return {"nodes": nodes}


CONFIG = _testbed_config()
LAYOUT = twin_disks.layout(CONFIG)


def disk(node: str, path: str) -> dict:
    return next(d for d in LAYOUT[node] if d["path"] == path)


def bd_name(node: str, path: str) -> str:
    return twin_disks.blockdevice_name(node, disk(node, path))


def declared_disks() -> dict[str, list[dict]]:
    """What an operator declares for the twin's disks: the SSD as cacheWithJournal, the HDDs as dataStore; not the
    OS disk, not the disk with a filesystem, not the spare disks."""
    out = {}
    for node, disks in LAYOUT.items():
        spare = {d["path"] for d in SPARE.get(node, [])}
        out[node] = [{"serial": d["serial"], "mount_type": "cacheWithJournal" if d["driveType"] == "SSD" else "dataStore"}
                     for d in disks if not d["mountPoint"] and not d["fsType"] and d["path"] not in spare]
    return out


DECLARED = declared_disks()


def write_inventory(directory: Path, host_disks: dict[str, list[dict]], clusters: list | None = None) -> Path:
    """A copy of the seed inventory with iomesh_disks in host_vars/<host>.yml."""
    if directory.exists():
        shutil.rmtree(directory)
    shutil.copytree(SEED, directory)
    (directory / "host_vars").mkdir()
    for host, disks in host_disks.items():
        (directory / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump({"iomesh_disks": disks}))
    if clusters is not None:
        path = directory / "group_vars" / "all" / "iomesh.yml"
        data = yaml.safe_load(path.read_text())
        data["iomesh_clusters"] = clusters
        path.write_text("---\n" + yaml.safe_dump(data))
    return directory


class Run(conftest.PlaybookRun):
    def __init__(self, proc: subprocess.CompletedProcess, writes: list[dict], seconds: float):
        super().__init__(proc)
        self.writes = writes
        self.seconds = seconds

    def __repr__(self):
        return f"<Run rc={self.rc} writes={len(self.writes)}>\n{self.output[-6000:]}"


class Deployment:
    """The deployed testbed of this module and a runner for the collection's playbooks against it."""

    def __init__(self, testbed: conftest.Testbed, workdir: Path):
        self.testbed = testbed
        self.workdir = workdir
        self.inventory = write_inventory(workdir / "inventory", DECLARED)
        self.extra = workdir / "extra.yml"
        self.extra.write_text(yaml.safe_dump({
            "iomesh_kubeconfig": str(testbed.kubeconfig),
            "iomesh_chart_ref": str(CHART),
            "iomesh_mgmt_wait_delay": 1,
            "iomesh_cluster_wait_delay": 1,
            "iomesh_disks_wait_delay": 1,
        }))

    def run(self, playbook: str, *args: str, inventory: Path | None = None, timeout: int = 900) -> Run:
        since = len(self.testbed.requests())
        started = time.monotonic()
        cmd = [str(VENV_BIN / "ansible-playbook"), playbook, "-i", str(inventory or self.inventory),
               "-e", f"@{self.extra}", *args]
        env = dict(self.testbed.env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        return Run(proc, self.testbed.write_requests(since), round(time.monotonic() - started, 1))

    def bds(self) -> dict[str, dict]:
        return {b["metadata"]["name"]: b for b in self.testbed.get(BD_PATH)["items"]}

    def attached(self, cluster: str) -> dict[str, dict]:
        cr = self.testbed.get(CR_PATH[cluster])
        return {a["device"]: a for a in (cr.get("status") or {}).get("attachedDevices") or []}


@pytest.fixture(scope="module")
def deployed():
    """The seed's two clusters on the emulator, deployed once by the mgmt and cluster stages (~1-3 min)."""
    base = Path(tempfile.mkdtemp(prefix="iomesh-dk-"))   # short: ansible's socket path under TMPDIR
    tmpdir = base / "t"
    tmpdir.mkdir()
    testbed = conftest.Testbed(base / "testbed", tmpdir, CONFIG)
    try:
        deployment = Deployment(testbed, base)
        for playbook in ("playbooks/mgmt.yml", "playbooks/cluster.yml"):
            run = deployment.run(playbook)
            assert run.rc == 0, run
        yield deployment
    finally:
        testbed.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def first_runs(deployed):
    """--check --diff before anything is labelled, then the real run, then a second real run and --check again."""
    before = deployed.bds()
    runs = {"check": deployed.run("playbooks/disks.yml", "--check", "--diff")}
    after_check = deployed.bds()
    runs["converge"] = deployed.run("playbooks/disks.yml")
    runs["again"] = deployed.run("playbooks/disks.yml")
    runs["check_converged"] = deployed.run("playbooks/disks.yml", "--check", "--diff")
    return {"runs": runs, "before": before, "after_check": after_check}


def test_check_mode_shows_the_labels_without_applying_them(first_runs):
    run = first_runs["runs"]["check"]
    assert run.rc == 0, run
    assert run.recap()["changed"] > 0 and run.recap()["failed"] == 0, run
    declared = sum(len(v) for v in DECLARED.values())
    assert f'+            "{CLUSTER_LABEL}": "iomesh-cluster-1",' in run.output, run   # the --diff of a label
    assert "in check mode: not applied" in run.output
    # Nothing was applied: only server-side dry runs were sent, and no BlockDevice carries a label.
    assert run.writes and all("dryRun=All" in w["query"] for w in run.writes), run.writes
    assert len(run.writes) == declared
    assert first_runs["after_check"] == first_runs["before"]
    assert not any(CLUSTER_LABEL in (b["metadata"].get("labels") or {}) for b in first_runs["after_check"].values())
    assert "Wait until each labelled disk" not in run.output


def test_declared_disks_are_labelled_claimed_and_attached(deployed, first_runs):
    run = first_runs["runs"]["converge"]
    assert run.rc == 0, run
    assert run.recap()["failed"] == 0, run
    assert "spec.chunk.deviceMap of IOMeshCluster iomesh-cluster-1/iomesh-cluster-1 selects cacheWithJournal, dataStore" \
        in run.output, run
    bds = deployed.bds()
    attached = {c: deployed.attached(c) for c in CR_PATH}
    declared_names = set()
    for node, entries in DECLARED.items():
        for entry in entries:
            d = next(x for x in LAYOUT[node] if x["serial"] == entry["serial"])
            name = twin_disks.blockdevice_name(node, d)
            declared_names.add(name)
            bd = bds[name]
            cluster = CLUSTER_OF[node]
            assert bd["metadata"]["labels"][CLUSTER_LABEL] == cluster
            assert bd["metadata"]["labels"][MOUNT_LABEL] == entry["mount_type"]
            assert bd["status"]["claimState"] == "Claimed", bd
            assert attached[cluster][name]["mountType"] == entry["mount_type"]
            assert attached[cluster][name]["nodeName"] == node
    # Undeclared disks (the one with ext4, the spares) stay Unclaimed and unlabelled.
    for name, bd in bds.items():
        if name not in declared_names:
            assert bd["status"]["claimState"] == "Unclaimed", bd
            assert CLUSTER_LABEL not in bd["metadata"]["labels"]
    assert bd_name("k8s-woker-5", "/dev/sdd") in bds and bd_name("k8s-woker-5", "/dev/sdd") not in declared_names
    # Scenario 6: no disk of the management cluster's nodes is attached to iomesh-cluster-1, and vice versa.
    assert {a["nodeName"] for a in attached["iomesh-cluster-1"].values()} == set(C1_NODES)
    assert {a["nodeName"] for a in attached["iomesh"].values()} == set(MGMT_NODES)
    assert len(attached["iomesh"]) + len(attached["iomesh-cluster-1"]) == len(declared_names) == 17
    # The stage wrote labels only: one merge patch per declared BlockDevice, nothing else.
    assert {w["method"] for w in run.writes} == {"PATCH"}
    assert len(run.writes) == len(declared_names)
    assert all(w["path"].startswith(BD_PATH + "/") and w["contentType"] == "application/merge-patch+json"
               for w in run.writes), run.writes


def test_second_run_changes_nothing(first_runs):
    run = first_runs["runs"]["again"]
    assert run.rc == 0 and run.recap()["changed"] == 0 and run.recap()["failed"] == 0, run
    assert run.writes == []


def test_check_mode_on_converged_clusters_changes_nothing(first_runs):
    run = first_runs["runs"]["check_converged"]
    assert run.rc == 0 and run.recap()["changed"] == 0 and run.recap()["failed"] == 0, run
    assert run.writes == []


# --- refusals, each before the stage writes anything ------------------------------------------------------


@pytest.fixture(scope="module")
def foreign(deployed, first_runs):
    """Spare disks of k8s-woker-3 made unavailable by others: /dev/sde labelled for the management cluster (as an
    earlier inventory would have left it; its hostname guard keeps it from being mounted there) and /dev/sdf
    claimed by a BlockDeviceClaim of someone else (as localpv-manager would)."""
    labelled, claimed = bd_name("k8s-woker-3", "/dev/sde"), bd_name("k8s-woker-3", "/dev/sdf")
    patch = subprocess.run(
        [str(VENV_BIN / "kubectl"), "--kubeconfig", str(deployed.testbed.kubeconfig), "-n", NS, "label", "blockdevice",
         labelled, f"{CLUSTER_LABEL}=iomesh", f"{MOUNT_LABEL}=dataStore"],
        capture_output=True, text=True, env=deployed.testbed.env, check=False)
    assert patch.returncode == 0, patch.stderr
    code, body = deployed.testbed.post(f"/apis/openebs.io/v1alpha1/namespaces/{NS}/blockdeviceclaims", {
        "apiVersion": "openebs.io/v1alpha1", "kind": "BlockDeviceClaim",
        "metadata": {"name": "bdc-localpv-test", "namespace": NS},
        "spec": {"blockDeviceName": claimed, "resources": {"requests": {"storage": "1Gi"}}},
    })
    assert code == 201, body
    deadline = time.monotonic() + 60
    while deployed.bds()[claimed]["status"]["claimState"] != "Claimed":
        assert time.monotonic() < deadline, deployed.bds()[claimed]
        time.sleep(0.5)
    time.sleep(2)   # let the twin's operator reconcile once: it must not mount the labelled disk on k8s-woker-3
    assert deployed.bds()[labelled]["status"]["claimState"] == "Unclaimed"
    return {"labelled": labelled, "claimed": claimed}


# Bad disks, all declared in one run (the stage reports every problem at once): case -> (host, entry, serial of
# the entry it replaces or None, fragments its refusal must contain: cluster, host = node, the inventory entry,
# the BlockDevice with its path, and why).
REFUSALS = {
    "filesystem": (
        "k8s-woker-5", lambda: {"serial": disk("k8s-woker-5", "/dev/sdd")["serial"], "mount_type": "dataStore"}, None,
        lambda: [f"cluster iomesh-cluster-1, host k8s-woker-5, iomesh_disks serial "
                 f"'{disk('k8s-woker-5', '/dev/sdd')['serial']}' (dataStore): BlockDevice "
                 f"{bd_name('k8s-woker-5', '/dev/sdd')} (/dev/sdd, HDD, 2000.0 GB) carries a ext4 filesystem",
                 "This collection never wipes a disk", "on node k8s-woker-5 run `wipefs --all /dev/sdd`",
                 "delete pod -l app=openebs-ndm --field-selector spec.nodeName=k8s-woker-5"]),
    "unknown-serial": (
        "k8s-woker-1", lambda: {"serial": "ZZ-NO-SUCH-DISK", "mount_type": "dataStore"}, None,
        lambda: ["cluster iomesh, host k8s-woker-1, iomesh_disks serial 'ZZ-NO-SUCH-DISK' (dataStore): no "
                 "BlockDevice in namespace iomesh-system matches it on node k8s-woker-1. NDM reports on this node: "
                 f"/dev/sdb serial {disk('k8s-woker-1', '/dev/sdb')['serial']}"]),
    "other-node": (
        "k8s-woker-4", lambda: {"by_id": disk("k8s-woker-0", "/dev/sdc")["byId"][0], "mount_type": "dataStore"}, None,
        lambda: [f"cluster iomesh-cluster-1, host k8s-woker-4, iomesh_disks by_id "
                 f"'{disk('k8s-woker-0', '/dev/sdc')['byId'][0]}' (dataStore): is not on node k8s-woker-4: NDM "
                 f"reports it on node k8s-woker-0 (BlockDevice {bd_name('k8s-woker-0', '/dev/sdc')} (/dev/sdc"]),
    "labelled-for-other-cluster": (
        "k8s-woker-3", lambda: {"path": "/dev/sde", "mount_type": "dataStore"}, None,
        lambda: ["cluster iomesh-cluster-1, host k8s-woker-3, iomesh_disks path '/dev/sde' (dataStore): BlockDevice "
                 f"{bd_name('k8s-woker-3', '/dev/sde')} (/dev/sde, HDD, 2000.0 GB) is labelled for another IOMesh "
                 "cluster (iomesh.multicluster/cluster=iomesh, claim state Unclaimed)"]),
    "claimed-by-other": (
        "k8s-woker-3", lambda: {"path": "/dev/sdf", "mount_type": "dataStore"}, None,
        lambda: ["cluster iomesh-cluster-1, host k8s-woker-3, iomesh_disks path '/dev/sdf' (dataStore): BlockDevice "
                 f"{bd_name('k8s-woker-3', '/dev/sdf')} (/dev/sdf, HDD, 2000.0 GB) is already Claimed by "
                 "iomesh-system/bdc-localpv-test"]),
    "hdd-as-cache": (   # a mounted dataStore HDD redeclared as cacheWithJournal
        "k8s-woker-0", lambda: {"path": "/dev/sdd", "mount_type": "cacheWithJournal"},
        lambda: disk("k8s-woker-0", "/dev/sdd")["serial"],
        lambda: ["cluster iomesh, host k8s-woker-0, iomesh_disks path '/dev/sdd' (cacheWithJournal): BlockDevice "
                 f"{bd_name('k8s-woker-0', '/dev/sdd')} (/dev/sdd, HDD, 2000.0 GB) is an HDD; cacheWithJournal needs "
                 "an SSD",
                 # it is mounted as dataStore already: a second problem of the same entry
                 f"{bd_name('k8s-woker-0', '/dev/sdd')} (/dev/sdd, HDD, 2000.0 GB) is already mounted in iomesh as "
                 "dataStore; changing the mount type of a mounted disk means unmounting it first, which destroys its "
                 "data and is not automated"]),
    "small-journal": (
        "k8s-woker-4", lambda: {"path": "/dev/sde", "mount_type": "cacheWithJournal"}, None,
        lambda: ["cluster iomesh-cluster-1, host k8s-woker-4, iomesh_disks path '/dev/sde' (cacheWithJournal): "
                 f"BlockDevice {bd_name('k8s-woker-4', '/dev/sde')} (/dev/sde, SSD, 50.0 GB) has 50.0 GB; "
                 "cacheWithJournal needs more than 60 GB"]),
}


def assert_refused(run: Run, problems: int) -> None:
    """Refused by the disk stage's own check, before it sent any write request."""
    assert run.rc == 2, run
    assert HEADER.format(n=problems) in run.output, run
    assert "Refuse the declared disks that IOMesh may not take" in run.output
    assert run.writes == [], run.writes
    assert run.recap()["changed"] == 0 and run.recap()["failed"] == 1, run


@pytest.fixture(scope="module")
def refused(deployed, foreign):
    """One run of the stage with every bad disk of REFUSALS declared besides the good ones."""
    disks = copy.deepcopy(DECLARED)
    for host, entry, replaces, _messages in REFUSALS.values():
        if replaces:
            disks[host] = [e for e in disks[host] if e.get("serial") != replaces()]
        disks[host].append(entry())
    before = deployed.bds()
    run = deployed.run("playbooks/disks.yml", inventory=write_inventory(deployed.workdir / "inv-bad", disks))
    return {"run": run, "before": before, "after": deployed.bds()}


def test_bad_disks_are_all_refused_at_once(refused):
    assert_refused(refused["run"], len(REFUSALS) + 1)   # hdd-as-cache has two problems
    assert refused["after"] == refused["before"]


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_bad_disk_is_refused_naming_node_and_disk(refused, case):
    run = refused["run"]
    assert run.rc == 2 and run.writes == [], run
    for message in REFUSALS[case][3]():
        assert message in run.output, (message, run)


def test_node_moved_to_another_cluster_keeps_its_mounted_disks(deployed, first_runs):
    """k8s-woker-2 and k8s-woker-3 swap clusters in the inventory: their disks are mounted by the cluster they
    left, and both deviceMaps differ from what the inventory now renders; every problem at once."""
    inventory = write_inventory(deployed.workdir / "inv-swap", DECLARED)
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())
    groups = hosts["all"]["children"]
    groups["iomesh_nodes"]["hosts"]["k8s-woker-3"] = groups["iomesh_cluster_1_nodes"]["hosts"].pop("k8s-woker-3")
    groups["iomesh_cluster_1_nodes"]["hosts"]["k8s-woker-2"] = groups["iomesh_nodes"]["hosts"].pop("k8s-woker-2")
    (inventory / "hosts.yml").write_text("---\n" + yaml.safe_dump(hosts))
    before = deployed.bds()
    run = deployed.run("playbooks/disks.yml", inventory=inventory)
    assert_refused(run, 2 + len(DECLARED["k8s-woker-2"]) + len(DECLARED["k8s-woker-3"]))
    assert deployed.bds() == before
    for message in [
        "cluster iomesh: spec.chunk.deviceMap of IOMeshCluster iomesh-system/iomesh is not the one the inventory "
        "renders",
        "Re-run the iomesh_mgmt (playbooks/mgmt.yml) stage",
        "Re-run the iomesh_cluster (playbooks/cluster.yml) stage",
        f"cluster iomesh-cluster-1, host k8s-woker-2, iomesh_disks serial '{disk('k8s-woker-2', '/dev/sdb')['serial']}' "
        f"(cacheWithJournal): BlockDevice {bd_name('k8s-woker-2', '/dev/sdb')} (/dev/sdb, SSD, 400.0 GB) is already "
        "mounted by IOMesh cluster iomesh-system/iomesh (as cacheWithJournal)",
        f"cluster iomesh, host k8s-woker-3, iomesh_disks serial '{disk('k8s-woker-3', '/dev/sdc')['serial']}' "
        f"(dataStore): BlockDevice {bd_name('k8s-woker-3', '/dev/sdc')} (/dev/sdc, HDD, 2000.0 GB) is already "
        "mounted by IOMesh cluster iomesh-cluster-1/iomesh-cluster-1 (as dataStore)",
    ]:
        assert message in run.output, (message, run)


def test_mount_type_the_mode_forbids_is_refused_by_the_inventory_check(deployed):
    """Scenario 7: cacheWithJournal in an allFlash cluster is the inventory's problem, reported before any read."""
    clusters = yaml.safe_load((SEED / "group_vars" / "all" / "iomesh.yml").read_text())["iomesh_clusters"]
    clusters[1]["disk_deployment_mode"] = "allFlash"
    disks = copy.deepcopy(DECLARED)
    for node in C1_NODES:
        disks[node] = [{"serial": disk(node, "/dev/sdb")["serial"], "mount_type": "dataStoreWithJournal"},
                       {"serial": disk(node, "/dev/sdc")["serial"], "mount_type": "cacheWithJournal"}]
    inventory = write_inventory(deployed.workdir / "inv-allflash", disks, clusters)
    since = len(deployed.testbed.requests())
    run = deployed.run("playbooks/disks.yml", inventory=inventory)
    assert run.rc == 2, run
    assert "host k8s-woker-3.iomesh_disks" in run.output and "mount_type cacheWithJournal is rejected in allFlash mode" \
        in run.output, run
    assert run.writes == []
    assert deployed.testbed.requests()[since:] == []   # not even a read


def test_no_declared_disks_means_nothing_to_do(deployed, first_runs):
    inventory = write_inventory(deployed.workdir / "inv-none", {})
    run = deployed.run("playbooks/disks.yml", inventory=inventory)
    assert run.rc == 0 and run.recap()["changed"] == 0 and run.recap()["failed"] == 0, run
    assert "No host of any IOMesh cluster declares iomesh_disks; there is nothing to mount." in run.output
    assert run.writes == []


# --- before the clusters exist (a fresh emulator, nothing deployed) -----------------------------------------


def test_check_mode_on_a_fresh_cluster_reports_what_it_cannot_judge(run_playbook, testbed, tmp_path):
    inventory = write_inventory(tmp_path / "inventory", DECLARED)
    since = len(testbed.requests())
    run = run_playbook("playbooks/disks.yml", inventory, {"iomesh_kubeconfig": str(testbed.kubeconfig)}, "--check",
                       env=testbed.env)
    assert run.rc == 0, run
    assert ("Check mode: not found yet - the BlockDevice API, IOMeshCluster iomesh-system/iomesh, IOMeshCluster "
            "iomesh-cluster-1/iomesh-cluster-1 (the earlier stages create them)") in run.output, run
    assert testbed.write_requests(since) == []


def test_without_node_disk_manager_nothing_is_written(run_playbook, testbed, tmp_path):
    inventory = write_inventory(tmp_path / "inventory", DECLARED)
    since = len(testbed.requests())
    run = run_playbook("playbooks/disks.yml", inventory, {"iomesh_kubeconfig": str(testbed.kubeconfig)},
                       env=testbed.env)
    assert run.rc == 2, run
    assert ("The BlockDevice API (openebs.io/v1alpha1) does not exist, so node-disk-manager, which reports the disks, "
            "is not installed; nothing was changed. Install the management cluster first (the iomesh_mgmt stage, "
            "playbooks/mgmt.yml)") in run.output, run
    assert testbed.write_requests(since) == []
