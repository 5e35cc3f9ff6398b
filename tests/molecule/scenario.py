"""Run molecule scenarios with `molecule test -s <name>` from the repository root, as CI would: one test file per
case (tests/molecule/test_*.py), so that pytest-xdist (--dist loadfile --no-loadscope-reorder) starts the long
cases on both workers at once.

* prereq (marker ``hosts``): six podman containers with systemd; needs root, podman and the testbed image
  (built on first use by testbed/hosts/build-image.sh; debootstrap needed then).
* prereq_vm (marker ``vm``): one QEMU VM with a real kernel; needs root,
  qemu-system-x86_64, qemu-img and ssh.

Each run has its own molecule ephemeral directory, so pytest-xdist may run scenarios side by side (the prereq
containers and the multicluster hosts have different names); each test leaves no container or VM behind (molecule's
destroy runs even on failure: --destroy=always).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOSTS_DIR = ROOT / "testbed" / "hosts"
VENV_BIN = Path(sys.executable).parent
TIMEOUT = {"prereq": 1800, "prereq_vm": 3600, "multicluster": 2400, "lifecycle": 2400}


def _environment(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".venv" / "collections"),
        # Each run its own molecule state, so that scenarios (and two cases of one scenario) can run at once.
        MOLECULE_EPHEMERAL_DIRECTORY=str(tmp_path / "molecule"),
        CONTAINERS_CONF=str(HOSTS_DIR / "containers.conf"),
        TMPDIR=str(tmp_path),
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PY_COLORS="0",
        NO_COLOR="1",
    )
    return env


def _not_root() -> str | None:
    if os.name != "posix" or os.geteuid() != 0:
        return "needs root (rootful podman / QEMU testbed)"
    if not (VENV_BIN / "molecule").exists() and not shutil.which("molecule"):
        return "molecule is not installed (make setup)"
    return None


def _podman_unavailable() -> str | None:
    reason = _not_root()
    if reason:
        return reason
    if not shutil.which("podman"):
        return "podman is not installed (apt-get install podman runc debootstrap)"
    env = dict(os.environ, CONTAINERS_CONF=str(HOSTS_DIR / "containers.conf"))
    try:
        info = subprocess.run(["podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"], env=env,
                              capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"podman does not answer: {exc}"
    if info.returncode != 0:
        return f"podman info fails: {info.stderr.strip()[:300]}"
    image = subprocess.run(["podman", "image", "exists", "localhost/iomesh-testbed-debian12:latest"], env=env,
                           capture_output=True, check=False)
    if image.returncode != 0 and not shutil.which("debootstrap"):
        return "the testbed image is missing and debootstrap is not installed to build it"
    return None


def _qemu_unavailable() -> str | None:
    reason = _not_root()
    if reason:
        return reason
    missing = [c for c in ("qemu-system-x86_64", "qemu-img", "ssh") if not shutil.which(c)]
    if missing:
        return f"missing {', '.join(missing)} (apt-get install qemu-system-x86 qemu-utils openssh-client)"
    return None


def molecule_test(scenario: str, tmp_path: Path, extra_env: dict[str, str] | None = None) -> str:
    """`molecule test -s <scenario>`; fails with the log's tail unless it passes; returns the whole output."""
    molecule = VENV_BIN / "molecule" if (VENV_BIN / "molecule").exists() else Path(shutil.which("molecule"))
    cmd = [str(molecule), "test", "-s", scenario, "--destroy=always"]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env={**_environment(tmp_path), **(extra_env or {})}, capture_output=True,
                          text=True, timeout=TIMEOUT[scenario], check=False)
    elapsed = time.monotonic() - start
    output = proc.stdout + proc.stderr
    (tmp_path / f"molecule-{scenario}.log").write_text(output)
    print(f"molecule test -s {scenario}: rc {proc.returncode} in {elapsed:.0f} s")
    assert proc.returncode == 0, (
        f"`{' '.join(cmd)}` failed with rc {proc.returncode} after {elapsed:.0f} s "
        f"(full log: {tmp_path / f'molecule-{scenario}.log'}); last lines:\n{output[-6000:]}"
    )
    return output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def multicluster_case(tmp_path: Path, inventory: str, helm: str, hosts: bool) -> None:
    """One case of the `multicluster` scenario, the whole site.yml on the testbed: create -> check on a fresh
    cluster -> converge -> idempotence (changed=0) -> verify (docs/architecture.md#acceptance-scenarios 1-9, the
    report) -> check on the converged clusters (changed=0) -> destroy."""
    binary = VENV_BIN / helm
    if not binary.exists():
        pytest.skip(f"{binary} is missing (make setup installs helm3 and helm4)")
    # The hosts double the case's time (the prereq stage on ten containers, four times); CI's 90 minutes do not
    # leave room for it next to the prereq scenarios, so it runs on request: IOMESH_MULTICLUSTER_HOSTS=1.
    with_hosts = hosts and os.environ.get("IOMESH_MULTICLUSTER_HOSTS") == "1" and _podman_unavailable() is None
    output = molecule_test("multicluster", tmp_path, {
        "IOMESH_SCENARIO_INVENTORY": inventory,
        "IOMESH_HELM": str(binary),
        "IOMESH_TESTBED_PORT": str(_free_port()),
        "IOMESH_TESTBED_CHART_PORT": str(_free_port()),
        "IOMESH_SCENARIO_HOSTS": "1" if with_hosts else "0",
        "IOMESH_SCENARIO_SKIP_TAGS": "never" if with_hosts else "iomesh_prereq",
    })
    # Each stage of the sequence ran and passed (a missing playbook would be skipped with a warning).
    for step in ("create", "check", "converge", "idempotence", "verify", "side_effect", "destroy"):
        assert f"[multicluster > {step}] Executed: Successful" in output, f"step {step} did not run successfully"
    assert "check mode on the converged clusters: changed=0, failed=0" in output
    # Every stage of site.yml ran in the converge (its plays are named in the output).
    for play in ("Mount the declared disks", "CSI connection ConfigMap", "Verify every IOMesh cluster",
                 "Report the live IOMesh topology"):
        assert play in output, f"play {play!r} did not run"
    if with_hosts:
        assert "Prepare the IOMesh hosts" in output
    assert unexplained_warnings(output) == []


# Warnings a run may print, each explained in the README ("Warnings"); anything else fails the scenario.
EXPLAINED_WARNINGS = (
    # kubernetes.core 6.x's helm module, when it upgrades an existing release (it reads the release's values the
    # deprecated way itself); gone with kubernetes.core 8.
    "[DEPRECATION WARNING]: The 'status.values' return value is deprecated",
    # ansible-core's hint after any deprecation (here that one).
    "[WARNING]: Deprecation warnings can be disabled by setting",
    # molecule's own: its inventory file before create.yml writes it, and its scenario layout.
    "as an inventory source",
    "Molecule scenarios should migrate to",
)


def unexplained_warnings(output: str) -> list[str]:
    """The warning lines of a run that the README does not explain."""
    lines = [line for line in output.splitlines() if "WARNING" in line.split(":", 1)[0]]
    return [line for line in lines if not any(text in line for text in EXPLAINED_WARNINGS)]
