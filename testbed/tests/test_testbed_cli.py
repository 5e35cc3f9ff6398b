"""make testbed-up / testbed-down: the emulator with the seed's workers, and nothing left behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml
from iomesh_testbed.launcher import _alive

TESTBED = Path(__file__).resolve().parents[1]
ROOT = TESTBED.parent
KUBECTL = str(Path(sys.executable).parent / "kubectl")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args, env, check=True):
    proc = subprocess.run([sys.executable, "-m", "iomesh_testbed", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert not check or proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _pids(state: Path) -> list[int]:
    return [int(p.read_text()) for p in state.glob("*.pid")]


def _bring_up(tmp_path, nodes=None):
    state = tmp_path / "testbed"
    env = dict(os.environ, TESTBED_DIR=str(state), TESTBED_PORT=str(_free_port()), TESTBED_CHART_PORT=str(_free_port()))
    env.pop("TESTBED_HOSTS", None)
    if nodes:
        env["TESTBED_NODES"] = " ".join(nodes)
    _run(["up"], env)
    return state, env


def test_up_serves_the_seed_workers_and_down_leaves_nothing(tmp_path):
    state, env = _bring_up(tmp_path)
    try:
        pids = _pids(state)
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        out = subprocess.run([KUBECTL, "--kubeconfig", str(state / "kubeconfig"), "get", "nodes", "-o", "name"],
                             capture_output=True, text=True, check=True).stdout.split()
        assert out == [f"node/k8s-woker-{i}" for i in range(6)]
        inventory = yaml.safe_load((state / "inventory.yml").read_text())
        assert inventory["all"]["vars"]["iomesh_kubeconfig"] == str(state / "kubeconfig")
        with urllib.request.urlopen(inventory["all"]["vars"]["iomesh_chart_repo_url"] + "/index.yaml") as index:
            entries = yaml.safe_load(index.read())["entries"]
        assert {n: sorted(e["version"] for e in v) for n, v in entries.items()} == {"iomesh": ["v1.0.1", "v1.1.0"],
                                                                                     "IOMesh": ["v1.2.0"]}
    finally:
        _run(["down"], env)
    assert not any(_alive(p) for p in pids)
    assert not list(state.glob("*.pid"))


def test_custom_node_names_reach_nodes_and_inventory(tmp_path):
    names = ["storage-a", "storage-b", "storage-c"]
    state, env = _bring_up(tmp_path, names)
    try:
        out = subprocess.run([KUBECTL, "--kubeconfig", str(state / "kubeconfig"), "get", "nodes", "-o",
                              "jsonpath={.items[*].metadata.labels.kubernetes\\.io/hostname}"],
                             capture_output=True, text=True, check=True).stdout.split()
        assert out == names
        hosts = yaml.safe_load((state / "inventory.yml").read_text())["all"]["children"]["testbed_nodes"]["hosts"]
        assert sorted(hosts) == names
        for name, hostvars in hosts.items():
            assert hostvars["iomesh_node_name"] == name
            assert hostvars["ansible_host"].startswith("10.234.1.")
    finally:
        _run(["down"], env)
