"""Run the collection's playbooks with ansible-playbook, as a user would."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from iomesh_testbed import launcher

from . import play_recap

ROOT = Path(__file__).resolve().parents[2]
# Requests on the deployment lock (a Lease created with POST on the collection, then PUT/DELETE by name).
LOCK_PATH = re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/[^/]+/leases(/iomesh-multicluster-lock)?$")
VENV_BIN = Path(sys.executable).parent
# The checkout as ansible_collections.iomesh.multicluster (make setup links it there), for tests that compute what
# the collection would (e.g. the values an earlier release installed).
if str(ROOT / ".venv" / "collections") not in sys.path:
    sys.path.insert(0, str(ROOT / ".venv" / "collections"))


class PlaybookRun:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr

    def recap(self, host: str = "localhost") -> dict[str, int]:
        """The counts of `host` in the run's PLAY RECAP (tests/playbooks/play_recap.py); fails the test when the run
        printed no recap or no line for that host."""
        return play_recap.counts(self.output, host)

    def __repr__(self):
        return f"<PlaybookRun rc={self.rc}>\n{self.output[-4000:]}"


@pytest.fixture
def run_playbook(tmp_path):
    """ansible-playbook PLAYBOOK -i INVENTORY [-e @extra.yml], from the repository root."""

    def run(playbook: str, inventory: Path | str, extra_vars: dict | None = None, *args: str,
            env: dict | None = None) -> PlaybookRun:
        """`env` replaces the inherited environment (e.g. Testbed.env: own HOME, TMPDIR and kubeconfig)."""
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), playbook, "-i", str(inventory)]
        if extra_vars is not None:
            extra = tmp_path / "extra.yml"
            extra.write_text(yaml.safe_dump(extra_vars))
            cmd += ["-e", f"@{extra}"]
        if env is None:
            env = dict(os.environ, TMPDIR=str(tmp_path))
        env = dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".venv" / "collections"))
        proc = subprocess.run(cmd + list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
        return PlaybookRun(proc)

    return run


def seed_clusters() -> list:
    return yaml.safe_load((ROOT / "inventories/seed-example/group_vars/all/iomesh.yml").read_text())["iomesh_clusters"]


def dumps(data) -> str:
    return json.dumps(data)


def client_env(workdir: Path, tmpdir: Path) -> dict[str, str]:
    """Environment for ansible-playbook and helm owned by one test: its own HOME (helm's configuration and
    cache) and TMPDIR (kubernetes.core's discovery cache), no inherited kubeconfig, the venv's helm on PATH.

    `tmpdir` must have a short path: ansible-core's controller RPC listens on a Unix socket under TMPDIR, whose
    path may not exceed 107 bytes (pytest's tmp_path is too deep)."""
    home = workdir / "home"
    home.mkdir(parents=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "K8S_AUTH", "HELM_", "ANSIBLE_"))}
    return {**base, "HOME": str(home), "TMPDIR": str(tmpdir), "PATH": f"{VENV_BIN}:{base.get('PATH', '')}",
            "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".venv" / "collections"),
            "ANSIBLE_LOCAL_TEMP": str(tmpdir / "ansible-local")}


@pytest.fixture
def short_tmp():
    """A fresh directory with a short path (see client_env), removed after the test."""
    path = Path(tempfile.mkdtemp(prefix="iomesh-pf-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def client(tmp_path, short_tmp) -> dict[str, str]:
    """client_env of this test, for runs that need no cluster."""
    return client_env(tmp_path / "client", short_tmp)


SEED_NODES = launcher.seed_node_config()
CHART = launcher.CHART  # the testbed's fixture chart


class Testbed(launcher.Emulator):
    """The testbed's API emulator with the IOMesh twin (iomesh_testbed.launcher), on a free port.

    Every client it hands out (ansible-playbook, helm) gets this testbed's own HOME and TMPDIR (helm's config,
    kubernetes.core's discovery cache) and kubeconfig.
    """

    def __init__(self, workdir: Path, tmpdir: Path, config: dict, *args: str):
        self.env = client_env(workdir, tmpdir)
        super().__init__(workdir, config, args=args, env=self.env)

    def get(self, path: str, **query: str) -> dict:
        url = self.url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/json"}), timeout=30) as r:
            return json.loads(r.read())

    def state(self) -> dict:
        """What a deployment would create: namespaces, Helm releases (their Secrets), IOMesh objects."""
        def names(items: list[dict]) -> list[str]:
            return sorted(f"{i['metadata'].get('namespace', '')}/{i['metadata']['name']}" for i in items)

        state = {
            "namespaces": names(self.get("/api/v1/namespaces")["items"]),
            "helm_releases": names(self.get("/api/v1/secrets", labelSelector="owner=helm")["items"]),
        }
        groups = {g["name"] for g in self.get("/apis")["groups"]}
        if "iomesh.com" in groups:
            state["iomesh_clusters"] = names(self.get("/apis/iomesh.com/v1alpha1/iomeshclusters")["items"])
        return state

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def patch(self, path: str, body: dict, manager: str = "kubectl-edit") -> tuple[int, dict]:
        """A JSON merge patch, as `kubectl edit` or `kubectl patch --type merge` by hand would send it."""
        req = urllib.request.Request(f"{self.url}{path}?fieldManager={manager}", data=json.dumps(body).encode(),
                                     method="PATCH", headers={"Content-Type": "application/merge-patch+json",
                                                              "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def delete(self, path: str) -> tuple[int, dict]:
        """A DELETE, as `kubectl delete` by hand would send it."""
        req = urllib.request.Request(self.url + path, method="DELETE", headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def requests(self) -> list[dict]:
        """Every API request so far, from the emulator's request log (method, path, query, status, ...)."""
        if not self.request_log.exists():
            return []
        return [json.loads(line) for line in self.request_log.read_text().splitlines() if line]

    def write_requests(self, since: int = 0, lock: bool = False) -> list[dict]:
        """Requests after the first `since` that would change something. The deployment lock's Lease, which every
        writing stage takes and releases again (docs/architecture.md, "One run at a time"), is not a change of the
        deployment: left out unless `lock`."""
        return [e for e in self.requests()[since:] if e["method"] not in ("GET", "HEAD", "OPTIONS")
                and (lock or not LOCK_PATH.search(e["path"]))]

    def changes(self, since: int = 0, lock: bool = False) -> list[dict]:
        """write_requests() without the server-side dry runs (dryRun=All), which change nothing."""
        return [r for r in self.write_requests(since, lock) if "dryRun=All" not in (r.get("query") or "")]

    def helm(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(VENV_BIN / "helm3"), "--kubeconfig", str(self.kubeconfig), *args], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, timeout=180, check=False)


def two_cluster_inventory(testbed: Testbed, nodes: list[str], core: tuple[str, str], edge: tuple[str, str],
                          first_address: int, version: str | None = None, **settings) -> dict:
    """The inventory the day-2 tests deploy: management cluster core (name, namespace) on the first three of `nodes`
    (group core), additional cluster edge on the others (group edge), addresses 10.234.1.<first_address>.. in the
    testbed's data CIDR, helm 4, the fixture chart of `version` (v1.0.1 when None) and short wait delays; `settings`
    are added to (and override) the variables."""
    address = {host: f"10.234.1.{first_address + i}" for i, host in enumerate(nodes)}
    chart = {"iomesh_chart_ref": str(launcher.chart_dir(version) if version else CHART)}
    if version:
        chart["iomesh_chart_version"] = version
    return {"all": {
        "vars": {
            "iomesh_kubeconfig": str(testbed.kubeconfig), **chart, "iomesh_helm_binary": str(VENV_BIN / "helm4"),
            "iomesh_cluster_wait_delay": 1, "iomesh_mgmt_wait_delay": 1,
            "iomesh_clusters": [
                {"name": core[0], "namespace": core[1], "management": True, "hosts_group": "core",
                 "data_cidr": launcher.DATA_CIDR},
                {"name": edge[0], "namespace": edge[1], "hosts_group": "edge", "data_cidr": launcher.DATA_CIDR},
            ],
            **settings,
        },
        "children": {"core": {"hosts": {h: {"ansible_host": address[h]} for h in nodes[:3]}},
                     "edge": {"hosts": {h: {"ansible_host": address[h]} for h in nodes[3:]}}},
    }}


@contextlib.contextmanager
def short_testbed(prefix: str, nodes: list[str]):
    """(testbed, its base directory): a testbed of `nodes` under a short temporary directory (ansible's socket path
    lives under TMPDIR), stopped and removed afterwards; for a module's own deployment."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    (base / "t").mkdir()
    testbed = Testbed(base / "testbed", base / "t", {"nodes": launcher.seed_node_config(nodes)})
    try:
        yield testbed, base
    finally:
        testbed.stop()
        shutil.rmtree(base, ignore_errors=True)


def run_site(testbed: Testbed, inventory: Path, *args: str) -> PlaybookRun:
    """ansible-playbook ARGS -i INVENTORY from the repository root, as a client of `testbed`."""
    cmd = [str(VENV_BIN / "ansible-playbook"), *args, "-i", str(inventory)]
    env = dict(testbed.env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    return PlaybookRun(subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False))


@pytest.fixture
def start_testbed(tmp_path, short_tmp):
    """Factory: start_testbed(nodes=..., server_version=...) -> Testbed; all are stopped after the test."""
    started: list[Testbed] = []

    def start(nodes: list[dict] | None = None, server_version: str | None = None) -> Testbed:
        args = ("--server-version", server_version) if server_version else ()
        name = f"testbed{len(started)}"
        tmpdir = short_tmp / name
        tmpdir.mkdir()
        testbed = Testbed(tmp_path / name, tmpdir, {"nodes": nodes or SEED_NODES}, *args)
        started.append(testbed)
        return testbed

    yield start
    for testbed in started:
        testbed.stop()


@pytest.fixture
def testbed(start_testbed) -> Testbed:
    """An emulator with the seed's six workers k8s-woker-0..5 (10.234.1.10..15), Kubernetes v1.25.16."""
    return start_testbed()


ROLE_PLAYBOOK = """---
- name: The {role} stage as someone else's playbook uses it
  hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: iomesh.multicluster.{role}
"""


def entry_points(stage: str) -> list[str]:
    """Every way of reaching a writing stage: its playbook, site.yml by its tag, site.yml without the preflight or
    without its Kubernetes part (each stage before it runs too), and the role by its FQCN in another playbook."""
    return [f"playbooks/{stage}.yml", f"site.yml --tags iomesh_{stage}", "site.yml --skip-tags iomesh_preflight",
            "site.yml -e iomesh_preflight_kubernetes=false", f"role iomesh.multicluster.iomesh_{stage}"]


def entry_args(entry: str, workdir: Path) -> list[str]:
    """The ansible-playbook arguments of an entry point of entry_points(); the host stage never runs (no SSH here)."""
    if entry.startswith("role "):
        playbook = workdir / "role.yml"
        playbook.write_text(ROLE_PLAYBOOK.format(role=entry.rsplit(".", 1)[-1]))
        return [str(playbook)]
    args = entry.split()
    if args[0] == "site.yml":
        skip = ["iomesh_prereq"] + (args[2].split(",") if args[1] == "--skip-tags" else [])
        args = [a for a in args if not (a == "--skip-tags" or a in skip)] + ["--skip-tags", ",".join(skip)]
    return args
