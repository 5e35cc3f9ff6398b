"""Tests of the testbed's host builders (testbed/hosts).

* ``hosts``: two podman containers with systemd as PID 1 on one bridge network (slow: builds the
  image on first use, ~80 s; afterwards ~15 s).
* ``vm``: one QEMU VM with the real Debian kernel under software emulation (slower: builds the VM
  image on first use, ~3 min; boot to ssh ~30-60 s). With IOMESH_TESTBED_VM_ISCSI=1 it also runs
  vm-iscsi-selftest.sh (apt-get install open-iscsi targetcli-fb + iSCSI login; ~4 min more).

Both use their own network / VM names and a private state dir, so they do not touch hosts a
developer started with the default names; the image cache (~/.cache/iomesh-testbed, or
IOMESH_TESTBED_CACHE) is shared.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

HOSTS_DIR = Path(__file__).resolve().parents[1] / "hosts"
CONTAINERS_CONF = HOSTS_DIR / "containers.conf"
IMAGE = "localhost/iomesh-testbed-debian12:latest"
LABEL = "io.iomesh.testbed"


def _env(state_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = str(CONTAINERS_CONF)
    env["IOMESH_TESTBED_STATE"] = str(state_dir)
    return env


def _run(cmd, env=None, timeout=120, check=True, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        cmd, env=env, timeout=timeout, text=True, capture_output=True, check=False, **kw
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, cmd))} -> rc {proc.returncode}\n"
            f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        )
    return proc


def _podman_unavailable_reason() -> str | None:
    if os.name != "posix" or os.geteuid() != 0:
        return "needs root (rootful podman, debootstrap)"
    if not shutil.which("podman"):
        return "podman is not installed (apt-get install podman runc debootstrap)"
    env = dict(os.environ, CONTAINERS_CONF=str(CONTAINERS_CONF))
    try:
        info = subprocess.run(
            ["podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"podman does not answer: {exc}"
    if info.returncode != 0:
        return f"podman info fails: {info.stderr.strip()[:300]}"
    image = subprocess.run(
        ["podman", "image", "exists", IMAGE], env=env, capture_output=True, check=False
    )
    if image.returncode != 0 and not shutil.which("debootstrap"):
        return f"{IMAGE} is missing and debootstrap is not installed to build it"
    return None


def _vm_unavailable_reason() -> str | None:
    if os.name != "posix" or os.geteuid() != 0:
        return "needs root (debootstrap, mkfs.ext4 -d)"
    for cmd in (
        "qemu-system-x86_64",
        "qemu-img",
        "ssh",
        "ssh-keygen",
        "debootstrap",
        "mkfs.ext4",
    ):
        if not shutil.which(cmd):
            return (
                f"{cmd} is not installed (apt-get install --no-install-recommends "
                "qemu-system-x86 qemu-utils openssh-client debootstrap e2fsprogs)"
            )
    return None


def _used_subnets(env) -> set[ipaddress.IPv4Network]:
    out = _run(
        [
            "podman",
            "network",
            "ls",
            "--format",
            "{{range .Subnets}}{{.Subnet}} {{end}}",
        ],
        env=env,
    ).stdout
    nets = set()
    for word in out.split():
        try:
            nets.add(ipaddress.ip_network(word))
        except ValueError:
            pass
    return nets


def _live_processes_mentioning(words: list[str]) -> list[str]:
    """Non-zombie processes whose command line contains one of ``words``."""
    found = []
    for pid_dir in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (
                (pid_dir / "cmdline")
                .read_bytes()
                .replace(b"\0", b" ")
                .decode(errors="replace")
            )
            state = (pid_dir / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(w in cmdline for w in words):
            found.append(f"{pid_dir.name}: {cmdline.strip()}")
    return found


@pytest.mark.hosts
def test_podman_hosts_lifecycle(tmp_path):
    reason = _podman_unavailable_reason()
    if reason:
        pytest.skip(reason)
    env = _env(tmp_path / "state")
    tag = f"{os.getpid() % 100000}"
    network = f"iomesh-tbtest-{tag}"
    names = [f"tbtest-{tag}-a", f"tbtest-{tag}-b"]
    used = _used_subnets(env)
    subnet = next(
        (
            n
            for n in (ipaddress.ip_network(f"10.234.{i}.0/24") for i in range(200, 250))
            if not any(n.overlaps(u) for u in used)
        ),
        None,
    )
    assert subnet is not None, "no free 10.234.200-249.0/24 subnet for the test network"
    inventory = tmp_path / "inventory.yml"

    ids: list[str] = []
    try:
        _run(
            [
                HOSTS_DIR / "hosts-up.sh",
                "--network",
                network,
                "--subnet",
                str(subnet),
                "--inventory",
                inventory,
                *names,
            ],
            env=env,
            timeout=900,
        )
        ids = _run(
            [
                "podman",
                "ps",
                "-a",
                "--no-trunc",
                "-q",
                "--filter",
                f"label={LABEL}.network={network}",
            ],
            env=env,
        ).stdout.split()
        assert len(ids) == 2, f"expected 2 containers on {network}, got {ids}"

        inv = yaml.safe_load(inventory.read_text())
        group = inv["all"]["children"]["testbed_hosts"]
        assert group["vars"]["ansible_connection"] == "containers.podman.podman"
        assert group["vars"]["testbed_data_cidr"] == str(subnet)
        assert sorted(group["hosts"]) == sorted(names)
        data_ips = {n: group["hosts"][n]["testbed_data_ip"] for n in names}

        def pexec(name, *cmd, timeout=120, check=True):
            return _run(
                ["podman", "exec", name, *cmd], env=env, timeout=timeout, check=check
            )

        for name in names:
            # systemd is PID 1
            assert (
                pexec(name, "ps", "-p", "1", "-o", "comm=").stdout.strip() == "systemd"
            )
            assert (
                pexec(name, "readlink", "/proc/1/exe")
                .stdout.strip()
                .endswith("/systemd")
            )
            state = pexec(
                name, "systemctl", "is-system-running", check=False
            ).stdout.strip()
            assert state in ("running", "degraded"), f"{name}: systemd state {state!r}"
            assert pexec(name, "hostname").stdout.strip() == name
            # an IPv4 address in the data CIDR, the one the inventory names
            addrs = re.findall(
                r"inet (\d+\.\d+\.\d+\.\d+)/\d+",
                pexec(name, "ip", "-4", "-o", "addr", "show", "scope", "global").stdout,
            )
            assert addrs, f"{name}: no global IPv4 address"
            assert any(ipaddress.ip_address(a) in subnet for a in addrs), (
                name,
                addrs,
                subnet,
            )
            assert data_ips[name] in addrs
            # apt works (the image has no package lists: update is the real test)
            pexec(name, "apt-get", "update", "-qq", timeout=300)
            assert (
                pexec(name, "apt-cache", "policy", "open-iscsi").stdout.count(
                    "Candidate:"
                )
                == 1
            )

        # names resolve between the containers, to their data addresses
        a, b = names
        for src, dst in ((a, b), (b, a)):
            out = pexec(src, "getent", "hosts", dst).stdout.split()
            assert out and out[0] == data_ips[dst], f"{src} resolves {dst} to {out}"
    finally:
        down = _run(
            [
                HOSTS_DIR / "hosts-down.sh",
                "--network",
                network,
                "--inventory",
                inventory,
            ],
            env=env,
            timeout=300,
            check=False,
        )

    assert down.returncode == 0, down.stderr
    left = _run(
        ["podman", "ps", "-a", "-q", "--filter", f"label={LABEL}.network={network}"],
        env=env,
    ).stdout.split()
    assert not left, f"containers left: {left}"
    for name in names:
        assert (
            _run(
                ["podman", "container", "exists", name], env=env, check=False
            ).returncode
            == 1
        )
    assert (
        _run(["podman", "network", "exists", network], env=env, check=False).returncode
        == 1
    )
    assert not inventory.exists()
    assert not _live_processes_mentioning(ids), "processes left behind"


@pytest.mark.vm
@pytest.mark.testbed_vm
def test_vm_lifecycle(tmp_path):
    reason = _vm_unavailable_reason()
    if reason:
        pytest.skip(reason)
    state = tmp_path / "state"
    env = _env(state)
    name = f"tbtest-vm-{os.getpid() % 100000}"
    vm_dir = state / "vm" / name
    ssh_cfg = vm_dir / "ssh_config"

    def vssh(cmd: str, timeout=120, check=True):
        return _run(
            ["ssh", "-F", ssh_cfg, "-o", "BatchMode=yes", name, cmd],
            env=env,
            timeout=timeout,
            check=check,
        )

    try:
        _run([HOSTS_DIR / "vm-up.sh", name, "--timeout", "600"], env=env, timeout=1800)
        assert (vm_dir / "inventory.yml").exists()
        inv = yaml.safe_load((vm_dir / "inventory.yml").read_text())
        host = inv["all"]["children"]["testbed_vms"]["hosts"][name]
        assert host["ansible_host"] == "127.0.0.1"

        assert vssh("hostname").stdout.strip() == name
        assert vssh("uname -r").stdout.strip().endswith("-amd64")  # the Debian kernel
        vssh("modprobe iscsi_tcp")
        lsmod = vssh("lsmod").stdout
        assert re.search(r"^iscsi_tcp\s", lsmod, re.M), lsmod
        assert (
            vssh("test -e /sys/class/iscsi_transport/tcp", check=False).returncode == 0
        )

        if os.environ.get("IOMESH_TESTBED_VM_ISCSI") == "1":
            out = _run(
                [HOSTS_DIR / "vm-iscsi-selftest.sh", "--vm", name],
                env=env,
                timeout=1800,
            ).stdout
            assert "ISCSI-SELFTEST OK" in out, out
    finally:
        down = _run([HOSTS_DIR / "vm-down.sh", name], env=env, timeout=300, check=False)

    assert down.returncode == 0, down.stderr
    assert not vm_dir.exists(), "VM state dir left behind"
    assert not _live_processes_mentioning([str(vm_dir)]), "qemu process left behind"


def test_default_state_is_in_the_repository_and_cache_is_per_machine(tmp_path):
    """lib.sh's defaults: state under <repo>/.testbed/state (molecule's create.yml reads the VM inventory there), the
    image/VM cache in ~/.cache/iomesh-testbed, shared by every clone on the machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOMESH_TESTBED_") and k != "XDG_CACHE_HOME"}
    env["HOME"] = str(tmp_path)
    out = subprocess.run(["bash", "-c", 'source "$1"; printf "%s\\n%s\\n%s\\n" "$TESTBED_REPO_ROOT" "$TESTBED_STATE" '
                          '"$TESTBED_CACHE"', "-", str(HOSTS_DIR / "lib.sh")],
                         env=env, capture_output=True, text=True, check=True).stdout.split("\n")
    repo = HOSTS_DIR.parents[1]
    assert out[:3] == [str(repo), str(repo / ".testbed" / "state"), str(tmp_path / ".cache" / "iomesh-testbed")]
