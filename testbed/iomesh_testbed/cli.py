"""Start and stop the whole testbed: API emulator + IOMesh twin, a local chart repository, optional podman hosts.

    python -m iomesh_testbed up      # make testbed-up
    python -m iomesh_testbed down    # make testbed-down
    python -m iomesh_testbed status

Environment:
    TESTBED_NODES="n1 n2 ..."   node names (default: the seed's k8s-woker-0..5)
    TESTBED_HOSTS=1             also start one podman host (Debian 12, systemd) per node; node addresses are theirs
    TESTBED_PORT=16443          API emulator port (127.0.0.1)
    TESTBED_CHART_PORT=16444    chart repository port (127.0.0.1)
    TESTBED_DELAY=0             seconds before fake controllers react (exercises wait loops)
    TESTBED_DIR=.testbed        where state, logs, kubeconfig and inventory go
    TESTBED_HELM                helm used to package the fixture chart (default: helm3 beside this Python, or helm)

Writes under TESTBED_DIR: kubeconfig, inventory.yml (nodes as hosts with iomesh_node_name, ansible_host (with hosts:
the container, testbed_data_ip its address) and iomesh_disks examples; iomesh_kubeconfig and iomesh_chart_repo_url for
the collection), config.yaml (the emulator's testbed config), logs and pid files. `down` stops every process it
started and removes the hosts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from iomesh_testbed import launcher

NETWORK = "iomesh-testbed"


def _state() -> Path:
    return Path(os.environ.get("TESTBED_DIR") or Path.cwd() / ".testbed").resolve()


def _helm() -> str:
    beside = Path(sys.executable).parent / "helm3"
    return os.environ.get("TESTBED_HELM") or (str(beside) if beside.exists() else shutil.which("helm") or "helm")


def hosts_env(state: Path) -> dict[str, str]:
    """The environment of the host scripts (and of ansible with the podman connection): CONTAINERS_CONF, and their
    state under `state`."""
    return dict(os.environ, CONTAINERS_CONF=str(launcher.HOSTS / "containers.conf"),
                IOMESH_TESTBED_STATE=str(state / "state"))


def hosts_up(state: Path, names: list[str], network: str = NETWORK, subnet: str | None = None) -> dict[str, str]:
    """Podman hosts named like the nodes on `network` (subnet: the scripts' default, the data CIDR); returns name ->
    address on the data network. Also used by scripts/bench_deploy.py, on a network and subnet of its own."""
    env = hosts_env(state)
    subprocess.run([str(launcher.HOSTS / "build-image.sh")], check=True, env=env)
    hosts_inventory = state / "hosts.yml"
    subnet_args = ["--subnet", subnet] if subnet else []
    subprocess.run([str(launcher.HOSTS / "hosts-up.sh"), "--network", network, *subnet_args, "--inventory",
                    str(hosts_inventory), *names], check=True, env=env)
    data = yaml.safe_load(hosts_inventory.read_text())
    found = {}
    for group in (data.get("all", {}).get("children") or {}).values():
        for host, hostvars in (group.get("hosts") or {}).items():
            found[host] = (hostvars or {}).get("testbed_data_ip")
    return found


def hosts_down(state: Path, network: str = NETWORK, always: bool = False) -> None:
    """Remove the hosts (and the network) hosts_up started with this `state`; `always`: also when hosts_up did not
    get as far as its inventory (hosts-down.sh finds the containers by their network's label)."""
    if not always and not (state / "hosts.yml").exists():
        return
    subprocess.run([str(launcher.HOSTS / "hosts-down.sh"), "--network", network, "--inventory",
                    str(state / "hosts.yml")], check=False, env=hosts_env(state))
    (state / "hosts.yml").unlink(missing_ok=True)


def up() -> int:
    state = _state()
    state.mkdir(parents=True, exist_ok=True)
    if any(launcher.running(state).values()):
        print("testbed: already up (make testbed-down first)", file=sys.stderr)
        return 1
    names = os.environ.get("TESTBED_NODES", "").split() or list(launcher.SEED_NODES)
    with_hosts = os.environ.get("TESTBED_HOSTS") == "1"
    addresses = hosts_up(state, names) if with_hosts else {}
    config = {"nodes": [{**node, "internalIP": addresses.get(node["name"]) or node["internalIP"]}
                        for node in launcher.seed_node_config(names)]}
    port = int(os.environ.get("TESTBED_PORT", "16443"))
    emulator = launcher.Emulator(state, config, port=port, log_requests=False, detach=True,
                                 args=("--delay", os.environ.get("TESTBED_DELAY", "0")))
    try:
        chart = launcher.ChartRepo(state, int(os.environ.get("TESTBED_CHART_PORT", "16444")), _helm(), detach=True)
    except (RuntimeError, subprocess.CalledProcessError):
        emulator.stop()
        raise
    from kubeemu import config as kconfig

    full = kconfig.load(str(state / "config.yaml"))
    inventory = launcher.inventory(full, addresses, emulator.kubeconfig, chart.url, with_hosts)
    (state / "inventory.yml").write_text(yaml.safe_dump(inventory, sort_keys=False))
    print(f"testbed up: API {emulator.url} ({len(names)} nodes{', with podman hosts' if with_hosts else ''})")
    print(f"  export KUBECONFIG={emulator.kubeconfig}")
    print(f"  chart repository {chart.url}; inventory {state / 'inventory.yml'}")
    return 0


def down() -> int:
    state = _state()
    if state.exists():
        launcher.stop_detached(state)
        hosts_down(state)
    print("testbed down")
    return 0


def status() -> int:
    state = _state()
    found = launcher.running(state) if state.exists() else {}
    for name in ("emulator", "chart-repo"):
        print(f"{name}: {'running' if found.get(name) else 'stopped'}")
    print(f"hosts: {'up' if (state / 'hosts.yml').exists() else 'none'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"up": up, "down": down, "status": status}
    if len(argv) != 1 or argv[0] not in commands:
        print("usage: python -m iomesh_testbed {up|down|status}", file=sys.stderr)
        return 2
    return commands[argv[0]]()
