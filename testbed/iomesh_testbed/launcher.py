"""The one way to start the testbed's processes: the API emulator (with the IOMesh twin), the fixture chart
repository, and the testbed inventory. Used by `python -m iomesh_testbed up` (make testbed-up, make demo, the
multicluster molecule scenario), by the playbook tests (tests/playbooks/conftest.py) and by the testbed's own tests.

A process is either a child of its caller (stopped with it: tests) or detached into its own session with a pid file
(`up` returns while it keeps running; `down` stops it by its pid file).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
CHART = PACKAGE_ROOT / "charts" / "iomesh"
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
    config        the testbed config (nodes, ...) written to workdir/config.yaml; None: the emulator's default
    port          0 picks a free port
    twin          load the IOMesh twin plugin
    args          more `kubeemu serve` arguments (--delay, --server-version, ...)
    detach        run in its own session with workdir/emulator.pid, for `up`
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
    """The fixture chart packaged and served as a Helm repository on 127.0.0.1:`port`."""

    def __init__(self, workdir: Path, port: int, helm: str, env: Mapping[str, str] | None = None,
                 detach: bool = False):
        repo = workdir / "charts"
        repo.mkdir(parents=True, exist_ok=True)
        subprocess.run([helm, "package", str(CHART), "-d", str(repo)], check=True, stdout=subprocess.DEVNULL,
                       env=dict(env) if env is not None else None)
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
