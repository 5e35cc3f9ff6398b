"""The one way to start the testbed's processes: the API emulator (with the IOMesh twin), the fixture chart
repository, and the testbed inventory. Used by `python -m iomesh_testbed up` (make testbed-up, make demo, the
multicluster molecule scenario), by the playbook tests (tests/playbooks/conftest.py) and by the testbed's own tests.

A process is either a child of its caller (stopped with it: tests) or detached into its own session with a pid file
(`up` returns while it keeps running; `down` stops it by its pid file).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
CHARTS = PACKAGE_ROOT / "charts"
# The fixture IOMesh chart v1.0.1, an installable chart directory as it is. It also holds the templates of every
# version; CHART_OVERLAYS/<version> holds what a later version changes (Chart.yaml, values, CRDs): chart_dir().
CHART = CHARTS / "iomesh"
CHART_OVERLAYS = CHARTS / "versions"
CHART_VERSIONS = ("v1.0.1", "v1.1.0", "v1.2.0")
DEFAULT_CHART_VERSION = CHART_VERSIONS[0]
HOSTS = PACKAGE_ROOT / "hosts"
DATA_CIDR = "10.234.1.0/24"
SEED_NODES = tuple(f"k8s-woker-{i}" for i in range(6))
LISTENING = "kubeemu listening on "


def seed_node_config(names: Sequence[str] = SEED_NODES) -> list[dict]:
    """Testbed nodes with addresses in DATA_CIDR (10.234.1.10, .11, ...), as the seed inventory has them."""
    return [{"name": name, "internalIP": f"10.234.1.{10 + i}"} for i, name in enumerate(names)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def stop_pid(pid: int, group: bool, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds, to a process (or its whole process group)."""
    kill = os.killpg if group else os.kill
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _alive(pid):
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            time.sleep(0.05)
        if not _alive(pid):
            return


class Process:
    """A testbed process whose output goes to `log`; detached ones also get `pidfile`."""

    def __init__(self, cmd: Sequence[str], log: Path, env: Mapping[str, str] | None = None,
                 pidfile: Path | None = None, cwd: Path | None = None):
        self.log = log
        self.pidfile = pidfile
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         cwd=cwd, env=dict(env) if env is not None else None,
                                         start_new_session=pidfile is not None)
        if pidfile is not None:
            pidfile.write_text(str(self.proc.pid))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            stop_pid(self.proc.pid, group=self.pidfile is not None)
            self.proc.wait()
        if self.pidfile is not None:
            self.pidfile.unlink(missing_ok=True)


class Emulator(Process):
    """kubeemu on 127.0.0.1 with the IOMesh twin; `url` and `kubeconfig` once it listens.

    workdir       its kubeconfig, config.yaml, emulator.log and (log_requests) requests.jsonl
    config        the testbed config (nodes, iomeshTwin, faults, ...) written to workdir/config.yaml; None: the
                  emulator's default
    port          0 picks a free port
    twin          load the IOMesh twin plugin
    args          more `kubeemu serve` arguments (--delay, --server-version, ...)
    detach        run in its own session with workdir/emulator.pid, for `up`

    Faults and twin settings switch at runtime (the emulator's /_testbed/ control surface, kubeemu/control.py):
    `add_faults`, `set_faults`, `faults`, `clear_faults`; `set_settings`, `settings`, `reset_settings`.
    """

    def __init__(self, workdir: Path, config: Mapping | None = None, *, port: int = 0, twin: bool = True,
                 log_requests: bool = True, args: Sequence[str] = (), env: Mapping[str, str] | None = None,
                 detach: bool = False, timeout: float = 30.0):
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.kubeconfig = workdir / "kubeconfig"
        self.kubeconfig.unlink(missing_ok=True)
        self.request_log = workdir / "requests.jsonl"
        cmd = [sys.executable, "-m", "kubeemu", "serve", "--port", str(port), "--kubeconfig", str(self.kubeconfig)]
        if config is not None:
            (workdir / "config.yaml").write_text(yaml.safe_dump(dict(config)))
            cmd += ["--config", str(workdir / "config.yaml")]
        if twin:
            cmd += ["--plugin", "iomesh_twin"]
        if log_requests:
            cmd += ["--log-requests", str(self.request_log)]
        log = workdir / "emulator.log"
        log.unlink(missing_ok=True)
        super().__init__([*cmd, *args], log, env, workdir / "emulator.pid" if detach else None)
        self.url = self._wait_listening(timeout)

    # --- runtime faults and settings (kubeemu/control.py) ---
    def control(self, method: str, path: str, body: Any = None) -> Any:
        """A request to the emulator's control surface /_testbed/<path>; its JSON answer, or RuntimeError."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/_testbed/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} /_testbed/{path}: {e.code} {e.read().decode(errors='replace')}") from None

    def add_faults(self, *rules: Mapping) -> list[dict]:
        """Append fault rules (kubeemu/faults.py); returns them with their ids."""
        return self.control("POST", "faults", [dict(r) for r in rules])["rules"]

    def set_faults(self, rules: Sequence[Mapping]) -> list[dict]:
        """Make `rules` the only fault rules in force."""
        return self.control("PUT", "faults", [dict(r) for r in rules])["rules"]

    def faults(self) -> list[dict]:
        """The rules in force, with how many requests each matched and was applied to."""
        return self.control("GET", "faults")["rules"]

    def clear_faults(self, rule_id: str | None = None) -> list[dict]:
        """Remove one rule (or all); returns what was removed."""
        if rule_id is None:
            return self.control("DELETE", "faults")["rules"]
        return [self.control("DELETE", f"faults/{rule_id}")]

    def set_settings(self, section: str = "iomeshTwin", **values: Any) -> dict:
        """Change plugin settings at runtime, e.g. set_settings(webhookDown=True, operatorDelaySeconds=5); a value
        None drops the change (the start config's value is back). Returns the section as plugins now see it."""
        return self.control("PATCH", f"settings/{section}", values)

    def settings(self, section: str = "iomeshTwin") -> dict:
        return self.control("GET", f"settings/{section}")

    def reset_settings(self, section: str = "iomeshTwin") -> dict:
        """Drop every runtime change of the section."""
        return self.control("DELETE", f"settings/{section}")

    def _wait_listening(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.output().splitlines():
                if line.startswith(LISTENING):
                    return line[len(LISTENING):].strip()
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the API emulator did not start within {timeout:.0f} s:\n{self.output()[-4000:]}")


class _PlainDumper(yaml.SafeDumper):
    """Writes shared objects out in full (no anchors/aliases)."""

    def ignore_aliases(self, data):
        return True


def _merge_values(base: Mapping, overlay: Mapping) -> dict:
    """`overlay` merged over `base`: maps merge key by key, a None removes the key, anything else replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _add_crd_fields(crd: dict, fields: Mapping[str, Mapping]) -> None:
    """Add properties to a CRD's schemas: {dotted path of an object under openAPIV3Schema: {property: schema}}."""
    for served in crd["spec"]["versions"]:
        schema = served["schema"]["openAPIV3Schema"]
        for path, properties in fields.items():
            node = schema
            for part in path.split("."):
                node = node["properties"][part]
            node.setdefault("properties", {}).update(copy.deepcopy(dict(properties)))


def _overlays(version: str) -> list[Path]:
    """The overlay directories that make `version` out of the v1.0.1 chart, oldest first."""
    if version not in CHART_VERSIONS:
        raise ValueError(f"the fixture chart has versions {', '.join(CHART_VERSIONS)}, not {version!r}")
    return [CHART_OVERLAYS / v for v in CHART_VERSIONS[1:CHART_VERSIONS.index(version) + 1]]


def chart_name(version: str = DEFAULT_CHART_VERSION) -> str:
    """The chart name of `version` (`iomesh`; `IOMesh` from v1.2.0, as the real chart)."""
    overlays = _overlays(version)
    chart_yaml = (overlays[-1] if overlays else CHART) / "Chart.yaml"
    return yaml.safe_load(chart_yaml.read_text())["name"]


def assemble_chart(version: str, dest: Path) -> Path:
    """Write the fixture chart of `version` as chart directory dest/<chart name> and return it.

    Templates and CRDs of CHART; Chart.yaml of the version's overlay; values.yaml = CHART's values with every
    overlay up to the version merged over them; each overlay's crds/ added and its crd-fields.yaml applied.
    """
    overlays = _overlays(version)
    target = dest / chart_name(version)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(CHART, target)
    if not overlays:
        return target
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    crd_fields: dict[str, list[Mapping]] = {}
    for overlay in overlays:
        values = _merge_values(values, yaml.safe_load((overlay / "values.yaml").read_text()) or {})
        for crd_file in sorted((overlay / "crds").glob("*.yaml")):
            shutil.copy2(crd_file, target / "crds" / crd_file.name)
        fields_file = overlay / "crd-fields.yaml"
        if fields_file.exists():
            for crd_name, fields in (yaml.safe_load(fields_file.read_text()) or {}).items():
                crd_fields.setdefault(crd_name, []).append(fields)
    shutil.copy2(overlays[-1] / "Chart.yaml", target / "Chart.yaml")
    sources = ", ".join(f"charts/versions/{o.name}/values.yaml" for o in overlays)
    header = (f"# Values of the IOMesh fixture chart {version}: assembled by iomesh_testbed.launcher from\n"
              f"# charts/iomesh/values.yaml and {sources}.\n")
    (target / "values.yaml").write_text(header + yaml.dump(values, Dumper=_PlainDumper, sort_keys=False))
    for crd_file in sorted((target / "crds").glob("*.yaml")):
        docs = [d for d in yaml.safe_load_all(crd_file.read_text()) if d]
        if not any(d["metadata"]["name"] in crd_fields for d in docs):
            continue
        for doc in docs:
            for fields in crd_fields.get(doc["metadata"]["name"], []):
                _add_crd_fields(doc, fields)
        header = (f"# Reduced CRD for the testbed (our own text), chart {version}: {crd_file.name} of\n"
                  "# charts/iomesh/crds with the fields of charts/versions/*/crd-fields.yaml added by the launcher.\n")
        crd_file.write_text(header + yaml.dump_all(docs, Dumper=_PlainDumper, sort_keys=False, explicit_start=True))
    return target


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for root in (CHART, CHART_OVERLAYS):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(CHARTS)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def chart_dir(version: str = DEFAULT_CHART_VERSION) -> Path:
    """The fixture chart of `version` as a chart directory (for helm template/lint/install/package).

    v1.0.1 is CHART itself; later versions are assembled once per content of the chart sources, under the
    temporary directory (concurrent callers: the first complete one wins).
    """
    if version == DEFAULT_CHART_VERSION:
        return CHART
    cache = Path(tempfile.gettempdir()) / f"iomesh-testbed-charts-{os.getuid()}" / _sources_digest() / version
    target = cache / chart_name(version)
    if (target / "Chart.yaml").exists():
        return target
    cache.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=cache.parent))
    try:
        assemble_chart(version, staging)
        with contextlib.suppress(OSError):  # another caller renamed its copy first
            os.rename(staging, cache)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def wait_http(url: str, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout:.0f} s")


class ChartRepo(Process):
    """The fixture chart, every version of `versions`, packaged and served as one Helm repository on
    127.0.0.1:`port` (index entries `iomesh` v1.0.1 and v1.1.0, `IOMesh` v1.2.0, like the real charts)."""

    def __init__(self, workdir: Path, port: int, helm: str, env: Mapping[str, str] | None = None,
                 detach: bool = False, versions: Sequence[str] = CHART_VERSIONS):
        repo = workdir / "charts"
        repo.mkdir(parents=True, exist_ok=True)
        self.versions = tuple(versions)
        for version in self.versions:
            subprocess.run([helm, "package", str(chart_dir(version)), "-d", str(repo)], check=True,
                           stdout=subprocess.DEVNULL, env=dict(env) if env is not None else None)
        self.url = f"http://127.0.0.1:{port}"
        subprocess.run([helm, "repo", "index", str(repo), "--url", self.url], check=True,
                       env=dict(env) if env is not None else None)
        super().__init__([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory",
                          str(repo)], workdir / "chart-repo.log", env, workdir / "chart-repo.pid" if detach else None)
        try:
            wait_http(f"{self.url}/index.yaml", "the chart repository")
        except RuntimeError:
            self.stop()
            raise


def stop_detached(workdir: Path) -> list[str]:
    """Stop every detached process whose pid file is in `workdir`; returns their names."""
    stopped = []
    for pidfile in sorted(workdir.glob("*.pid")):
        with contextlib.suppress(ValueError):
            stop_pid(int(pidfile.read_text()), group=True)
        pidfile.unlink(missing_ok=True)
        stopped.append(pidfile.stem)
    return stopped


def running(workdir: Path) -> dict[str, bool]:
    """name -> alive, for every pid file in `workdir`."""
    found = {}
    for pidfile in sorted(workdir.glob("*.pid")):
        try:
            found[pidfile.stem] = _alive(int(pidfile.read_text()))
        except ValueError:
            found[pidfile.stem] = False
    return found


def inventory(config: Mapping, addresses: Mapping[str, str], kubeconfig: Path, chart_url: str,
              with_hosts: bool) -> dict:
    """The testbed's inventory: every node as a host with iomesh_node_name, ansible_host and iomesh_disks examples
    (the twin's usable disks: SSD cacheWithJournal, HDD dataStore), and the variables that point the collection at
    the testbed."""
    from iomesh_twin import disks as diskmod

    layout = diskmod.layout(config)
    hosts = {}
    for node in config["nodes"]:
        name = node["name"]
        hostvars = {"iomesh_node_name": name, "ansible_host": addresses.get(name) or node["internalIP"]}
        usable = [d for d in layout.get(name, []) if not d["fsType"] and d["deviceType"] == "disk"]
        if usable:
            hostvars["iomesh_disks"] = [
                {"serial": d["serial"], "mount_type": "cacheWithJournal" if d["driveType"] == "SSD" else "dataStore"}
                for d in usable
            ]
        if with_hosts:
            # The podman connection execs into the container named by ansible_host (its play context's address),
            # so ansible_host is the container and testbed_data_ip its data address; podman needs CONTAINERS_CONF
            # (hosts/containers.conf) in the environment of ansible.
            hostvars["ansible_connection"] = "containers.podman.podman"
            hostvars["ansible_host"] = name
            hostvars["testbed_data_ip"] = addresses.get(name) or node["internalIP"]
            hostvars["ansible_python_interpreter"] = "/usr/bin/python3"
        hosts[name] = hostvars
    return {
        "all": {
            "vars": {
                "iomesh_kubeconfig": str(kubeconfig),
                "iomesh_chart_repo_url": chart_url,
                "testbed_data_cidr": DATA_CIDR,
            },
            "children": {"testbed_nodes": {"hosts": hosts}},
        }
    }
