"""A testbed for one fault scenario: the API emulator with the IOMesh twin (tests/playbooks/conftest.Testbed), a
small inventory with names that are not the defaults, and a runner for `site.yml --skip-tags iomesh_prereq` that
reads the output line by line, so that a fault can be armed (or the run SIGKILLed) at a chosen point."""

from __future__ import annotations

import base64
import calendar
import gzip
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml
from iomesh_testbed import launcher
from iomesh_twin import disks as twin_disks
from playbooks import conftest  # tests/playbooks/conftest.py: Testbed, client_env, CHART
from playbooks import play_recap

ROOT = conftest.ROOT
VENV_BIN = conftest.VENV_BIN

# The inventory: a management cluster and one additional cluster, three nodes each, nothing named as the defaults.
MGMT, MGMT_NS = "core-blk", "blk-core"
EDGE, EDGE_NS = "edge-blk", "blk-edge"
MGMT_NODES = [f"core-node-{i}" for i in range(3)]
EDGE_NODES = [f"edge-node-{i}" for i in range(3)]
SC_MGMT, SC_EDGE = "core-blk-sc", "edge-blk-sc"
VERIFY_NS = "blk-verify"
# Disks are declared for two nodes of each cluster; the third node of each has its disks left alone.
DISK_NODES = MGMT_NODES[:2] + EDGE_NODES[:2]
STAGES = ["iomesh_preflight", "iomesh_mgmt", "iomesh_cluster", "iomesh_disks", "iomesh_csi", "iomesh_verify",
          "iomesh_report"]
CLUSTER_LABEL = "iomesh.multicluster/cluster"
MOUNT_LABEL = "iomesh.multicluster/mount-type"
LOCK = "iomesh-multicluster-lock"
IOMESH = "/apis/iomesh.com/v1alpha1"
ZOOKEEPER = "/apis/zookeeper.pravega.io/v1beta1"
BD_PATH = f"/apis/openebs.io/v1alpha1/namespaces/{MGMT_NS}/blockdevices"
# More arguments for every ansible-playbook run of the suite (e.g. -e iomesh_preflight_kubernetes=false while the
# Kubernetes preflight itself is broken); they are part of the reference's cache key.
EXTRA_ARGS = shlex.split(os.environ.get("IOMESH_FAULTS_EXTRA_ARGS", ""))
TASK_RE = re.compile(r"^TASK \[iomesh\.multicluster\.(iomesh_[a-z]+) : ")


def testbed_config() -> dict:
    # The twin's operator serves a rotated webhook certificate 5 s after a render of the chart (default 60): a re-run
    # that installs the release again waits that long before its IOMeshCluster applies pass (P10).
    return {"nodes": launcher.seed_node_config(MGMT_NODES + EDGE_NODES), "iomeshTwin": {"webhookCertReloadSeconds": 5}}


CONFIG = testbed_config()
LAYOUT = twin_disks.layout(CONFIG)


def declared_disks() -> dict[str, list[dict]]:
    """The SSD as cacheWithJournal and the HDDs as dataStore (hybridFlash), not the OS disk, for DISK_NODES."""
    return {node: [{"serial": d["serial"], "mount_type": "cacheWithJournal" if d["driveType"] == "SSD" else "dataStore"}
                   for d in LAYOUT[node] if not d["mountPoint"] and not d["fsType"]]
            for node in DISK_NODES}


def inventory(kubeconfig: Path, report_dir: Path) -> dict:
    disks = declared_disks()

    def hosts(names):
        return {"hosts": {n: {"ansible_host": f"10.234.1.{10 + (MGMT_NODES + EDGE_NODES).index(n)}",
                              **({"iomesh_disks": disks[n]} if n in disks else {})} for n in names}}

    return {"all": {
        "vars": {
            "iomesh_kubeconfig": str(kubeconfig),
            "iomesh_chart_ref": str(conftest.CHART),
            "iomesh_helm_binary": str(VENV_BIN / "helm3"),
            "iomesh_k8s_cluster_id": "fault-lab",
            "iomesh_mgmt_wait_delay": 1, "iomesh_cluster_wait_delay": 1, "iomesh_disks_wait_delay": 1,
            "iomesh_csi_wait_delay": 1, "iomesh_verify_wait_delay": 1,
            "iomesh_verify_pod": True, "iomesh_verify_namespace": VERIFY_NS,
            "iomesh_report_dir": str(report_dir),
            "iomesh_clusters": [
                {"name": MGMT, "namespace": MGMT_NS, "management": True, "hosts_group": "core_nodes",
                 "data_cidr": launcher.DATA_CIDR, "disk_deployment_mode": "hybridFlash",
                 "storage_class": {"name": SC_MGMT}},
                {"name": EDGE, "namespace": EDGE_NS, "hosts_group": "edge_nodes",
                 "data_cidr": launcher.DATA_CIDR, "disk_deployment_mode": "hybridFlash",
                 "storage_class": {"name": SC_EDGE}},
            ],
        },
        "children": {"core_nodes": hosts(MGMT_NODES), "edge_nodes": hosts(EDGE_NODES)},
    }}


class Run:
    """One ansible-playbook run: rc (-9 when this harness killed it), output, when each stage started."""

    def __init__(self, rc: int, output: str, seconds: float, killed: str | None, stage_starts: dict[str, int],
                 armed: list[str]):
        self.rc, self.output, self.seconds, self.killed = rc, output, seconds, killed
        self.stage_starts = stage_starts   # stage -> index in the request log when its first task started
        self.armed = armed                 # what the hooks did, in order

    def recap(self) -> dict[str, int] | None:
        """The counts of localhost in the run's PLAY RECAP; None when the run printed none (killed before its end)."""
        return play_recap.find(self.output)

    def changed(self) -> int | None:
        recap = self.recap()
        return None if recap is None else recap["changed"]

    def failed_tasks(self) -> list[tuple[str, str]]:
        """(role, the failure's text) for each `fatal:` of the output, with the TASK line it fell under."""
        out, role = [], "?"
        for line in self.output.splitlines():
            task = TASK_RE.match(line)
            if task:
                role = task.group(1)
            elif line.startswith("TASK ["):
                role = line[6:].split(" :", 1)[0].split("]", 1)[0]
            if line.startswith("fatal:") or line.startswith("failed:"):
                out.append((role, line))
        return out

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.output.splitlines()[-n:])

    def __repr__(self):
        return f"<Run rc={self.rc} killed={self.killed} {self.seconds:.0f}s>\n{self.tail(80)}"


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def kill_tree(pid: int) -> None:
    """SIGKILL a process and every descendant, as a controller that dies takes them all. Not the process group:
    ansible-core's workers each run in a session of their own (os.setsid), and helm under them."""
    stopped: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            os.kill(current, signal.SIGSTOP)   # no new children while the tree is walked
        except ProcessLookupError:
            continue
        stopped.append(current)
        pending.extend(_children().get(current, []))
    for current in stopped:
        try:
            os.kill(current, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Bed:
    """A fresh testbed with this module's inventory. Use as a context manager (stops the emulator, removes files)."""

    def __init__(self, config: dict | None = None):
        self.base = Path(tempfile.mkdtemp(prefix="iomesh-ft-"))   # short: ansible's socket path under TMPDIR
        tmpdir = self.base / "t"
        tmpdir.mkdir()
        self.testbed = conftest.Testbed(self.base / "testbed", tmpdir, config or CONFIG)
        self.report_dir = self.base / "report"
        self.report_dir.mkdir()
        self.inventory = self.base / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump(inventory(self.testbed.kubeconfig, self.report_dir)))
        self.runs: list[Run] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.testbed.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    # --- runs ---
    def site(self, *args: str, on_stage: Callable[[str, Run], str | None] | None = None,
             watch: Callable[[Bed], str | None] | None = None, timeout: float = 900) -> Run:
        """site.yml --skip-tags iomesh_prereq [args]. `on_stage(stage)` is called when the first task of each stage
        shows in the output; it returns None, a note (something was armed), or "KILL" to SIGKILL the run's process
        tree at once. `watch(bed)` is polled every 0.05 s from a thread; when it returns a text, the run is SIGKILLed
        (that text says why)."""
        cmd = [str(VENV_BIN / "ansible-playbook"), "site.yml", "-i", str(self.inventory),
               "--skip-tags", "iomesh_prereq", *EXTRA_ARGS, *args]
        env = dict(self.testbed.env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PYTHONUNBUFFERED="1")
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                bufsize=1, start_new_session=True)
        lines: list[str] = []
        stage_starts: dict[str, int] = {}
        armed: list[str] = []
        killed: list[str] = []
        done = threading.Event()

        def kill(why: str) -> None:
            if not killed:
                killed.append(why)
                kill_tree(proc.pid)

        def watcher() -> None:
            while not done.is_set() and proc.poll() is None:
                why = watch(self)
                if why:
                    kill(why)
                    return
                time.sleep(0.05)

        thread = threading.Thread(target=watcher, daemon=True) if watch else None
        if thread:
            thread.start()
        timer = threading.Timer(timeout, lambda: kill(f"timeout after {timeout:.0f} s"))
        timer.start()
        try:
            for line in proc.stdout:
                lines.append(line)
                task = TASK_RE.match(line)
                if task and task.group(1) not in stage_starts:
                    stage = task.group(1)
                    stage_starts[stage] = len(self.testbed.requests())
                    if on_stage and not killed:
                        note = on_stage(stage)
                        if note == "KILL":
                            kill(f"SIGKILL at the start of {stage}")
                            break
                        if note:
                            armed.append(note)
            proc.stdout.close()
            proc.wait()
        finally:
            done.set()
            timer.cancel()
            if thread:
                thread.join(5)
        # A killed run's descendants may outlive the leader (helm): reap them as well.
        if killed:
            kill_tree(proc.pid)
        run = Run(proc.returncode, "".join(lines), time.monotonic() - started, killed[0] if killed else None,
                  stage_starts, armed)
        self.runs.append(run)
        return run

    # --- the API ---
    def get(self, path: str, **query: str) -> dict | None:
        try:
            return self.testbed.get(path, **query)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise

    def items(self, path: str, **query: str) -> list[dict]:
        got = self.get(path, **query)
        return got["items"] if got else []

    def put(self, path: str, body: dict) -> None:
        req = urllib.request.Request(self.testbed.url + path, data=json.dumps(body).encode(), method="PUT",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30):
            pass

    def helm_records(self, status: str | None = None) -> list[dict]:
        selector = f"owner=helm,name={MGMT}" + (f",status={status}" if status else "")
        return self.items(f"/api/v1/namespaces/{MGMT_NS}/secrets", labelSelector=selector)

    def backdate_pending(self, minutes: int = 20) -> list[str]:
        """Move the last_deployed of every pending Helm record `minutes` back (what a crashed run leaves behind
        once iomesh_mgmt_helm_timeout + 60 s have passed)."""
        done = []
        for secret in self.helm_records():
            if not secret["metadata"].get("labels", {}).get("status", "").startswith("pending-"):
                continue
            release = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))
            stamp = release["info"]["last_deployed"][:19]
            moved = time.strftime("%Y-%m-%dT%H:%M:%S",
                                  time.gmtime(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S")) - minutes * 60))
            release["info"]["last_deployed"] = moved + ".000000000Z"
            release["info"]["first_deployed"] = moved + ".000000000Z"
            secret["data"]["release"] = base64.b64encode(
                base64.b64encode(gzip.compress(json.dumps(release).encode()))).decode()
            self.put(f"/api/v1/namespaces/{MGMT_NS}/secrets/{secret['metadata']['name']}", secret)
            done.append(secret["metadata"]["name"])
        return done

    def helm_status(self) -> dict | None:
        proc = self.testbed.helm("status", MGMT, "-n", MGMT_NS, "-o", "json")
        if proc.returncode != 0:
            return None
        status = json.loads(proc.stdout)
        return {"revision": status["version"], "status": status["info"]["status"]}
