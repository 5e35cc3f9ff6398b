"""Start and stop the whole testbed: API emulator + IOMesh twin, a local chart repository, optional podman hosts.

    python tests/testbed/testbed.py up      # make testbed-up
    python tests/testbed/testbed.py down    # make testbed-down
    python tests/testbed/testbed.py status

Environment:
    TESTBED_NODES="n1 n2 ..."   node names (default: the seed's k8s-woker-0..5)
    TESTBED_HOSTS=1             also start one podman host (Debian 12, systemd) per node; node addresses are theirs
    TESTBED_PORT=16443          API emulator port (127.0.0.1)
    TESTBED_CHART_PORT=16444    chart repository port (127.0.0.1)
    TESTBED_DELAY=0             seconds before fake controllers react (exercises wait loops)
    TESTBED_DIR=.testbed        where state, logs, kubeconfig and inventory go

Writes under .testbed/: kubeconfig, inventory.yml (nodes as hosts with iomesh_node_name, ansible_host (with hosts:
the container, testbed_data_ip its address) and iomesh_disks examples; iomesh_kubeconfig and iomesh_chart_repo_url for the collection), config.yaml (the
emulator's testbed config), logs and pid files. `down` stops every process it started and removes the hosts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

TESTBED = Path(__file__).resolve().parent
ROOT = TESTBED.parents[1]
STATE = Path(os.environ.get("TESTBED_DIR") or ROOT / ".testbed").resolve()
HOSTS = TESTBED / "hosts"
NETWORK = "iomesh-testbed"
DATA_CIDR = "10.234.1.0/24"

sys.path.insert(0, str(TESTBED))


def _env_nodes() -> list[str]:
    names = os.environ.get("TESTBED_NODES", "").split()
    return names or [f"k8s-woker-{i}" for i in range(6)]


def _pidfile(name: str) -> Path:
    return STATE / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _start(name: str, cmd: list[str], env: dict | None = None) -> int:
    log = open(STATE / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child, closed when we return
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            cwd=ROOT, env=env, start_new_session=True)
    log.close()
    _pidfile(name).write_text(str(proc.pid))
    return proc.pid


def _stop(name: str) -> None:
    pidfile = _pidfile(name)
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text())
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        for _ in range(50):
            if not _alive(pid):
                break
            time.sleep(0.1)
        if not _alive(pid):
            break
    pidfile.unlink()


def _wait_http(url: str, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"testbed: {what} did not answer at {url} within {seconds:.0f} s; see {STATE}")


def _hosts_up(names: list[str]) -> dict[str, str]:
    """Podman hosts named like the nodes; returns name -> address on the data network."""
    env = dict(os.environ, CONTAINERS_CONF=str(HOSTS / "containers.conf"), IOMESH_TESTBED_STATE=str(STATE / "state"))
    subprocess.run([str(HOSTS / "build-image.sh")], check=True, env=env)
    inventory = STATE / "hosts.yml"
    subprocess.run([str(HOSTS / "hosts-up.sh"), "--network", NETWORK, "--inventory", str(inventory), *names],
                   check=True, env=env)
    data = yaml.safe_load(inventory.read_text())
    found = {}
    for group in (data.get("all", {}).get("children") or {}).values():
        for host, hostvars in (group.get("hosts") or {}).items():
            found[host] = (hostvars or {}).get("testbed_data_ip")
    return found


def _hosts_down() -> None:
    if not (STATE / "hosts.yml").exists():
        return
    env = dict(os.environ, CONTAINERS_CONF=str(HOSTS / "containers.conf"), IOMESH_TESTBED_STATE=str(STATE / "state"))
    subprocess.run([str(HOSTS / "hosts-down.sh"), "--network", NETWORK, "--inventory", str(STATE / "hosts.yml")],
                   check=False, env=env)
    (STATE / "hosts.yml").unlink(missing_ok=True)


def _chart_repo(port: int) -> str:
    """Package the fixture chart and serve it as a Helm repository on loopback."""
    repo = STATE / "charts"
    repo.mkdir(parents=True, exist_ok=True)
    helm = str(ROOT / ".venv" / "bin" / "helm3")
    subprocess.run([helm, "package", str(TESTBED / "charts" / "iomesh"), "-d", str(repo)], check=True,
                   stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    subprocess.run([helm, "repo", "index", str(repo), "--url", url], check=True)
    _start("chart-repo", [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                          "--directory", str(repo)])
    _wait_http(f"{url}/index.yaml", "the chart repository")
    return url


def _inventory(config: dict, addresses: dict[str, str], kubeconfig: Path, chart_url: str, with_hosts: bool) -> dict:
    try:
        from iomesh_twin import disks as diskmod
        layout = diskmod.layout(config)
    except ImportError:
        layout = {}
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


def up() -> None:
    STATE.mkdir(parents=True, exist_ok=True)
    if _pidfile("emulator").exists() and _alive(int(_pidfile("emulator").read_text())):
        sys.exit("testbed: already up (make testbed-down first)")
    names = _env_nodes()
    with_hosts = os.environ.get("TESTBED_HOSTS") == "1"
    addresses = _hosts_up(names) if with_hosts else {}
    config = {"nodes": [{"name": n, "internalIP": addresses.get(n) or f"10.234.1.{10 + i}"} for i, n in enumerate(names)]}
    (STATE / "config.yaml").write_text(yaml.safe_dump(config))
    port = int(os.environ.get("TESTBED_PORT", "16443"))
    kubeconfig = STATE / "kubeconfig"
    kubeconfig.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "kubeemu", "serve", "--port", str(port), "--kubeconfig", str(kubeconfig),
           "--config", str(STATE / "config.yaml"), "--delay", os.environ.get("TESTBED_DELAY", "0")]
    if (TESTBED / "iomesh_twin" / "__init__.py").exists():
        cmd += ["--plugin", "iomesh_twin"]
    env = dict(os.environ, PYTHONPATH=str(TESTBED))
    _start("emulator", cmd, env)
    _wait_http(f"http://127.0.0.1:{port}/version", "the API emulator")
    chart_url = _chart_repo(int(os.environ.get("TESTBED_CHART_PORT", "16444")))
    from kubeemu import config as kconfig
    full = kconfig.load(str(STATE / "config.yaml"))
    inventory = _inventory(full, addresses, kubeconfig, chart_url, with_hosts)
    (STATE / "inventory.yml").write_text(yaml.safe_dump(inventory, sort_keys=False))
    print(f"testbed up: API http://127.0.0.1:{port} ({len(names)} nodes{', with podman hosts' if with_hosts else ''})")
    print(f"  export KUBECONFIG={kubeconfig}")
    print(f"  chart repository {chart_url}; inventory {STATE / 'inventory.yml'}")


def down() -> None:
    for name in ("emulator", "chart-repo"):
        _stop(name)
    _hosts_down()
    print("testbed down")


def status() -> None:
    for name in ("emulator", "chart-repo"):
        pidfile = _pidfile(name)
        running = pidfile.exists() and _alive(int(pidfile.read_text()))
        print(f"{name}: {'running' if running else 'stopped'}")
    print(f"hosts: {'up' if (STATE / 'hosts.yml').exists() else 'none'}")


if __name__ == "__main__":
    commands = {"up": up, "down": down, "status": status}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: {sys.argv[0]} {{up|down|status}}")
    commands[sys.argv[1]]()
