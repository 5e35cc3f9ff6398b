"""Fixtures: emulators started as subprocesses on free ports, each with its own kubeconfig, and an
environment for the real clients (kubectl, helm 3/4, ansible-playbook) whose caches (TMPDIR for
kubernetes.core's discovery cache, HOME for kubectl/helm) belong to this test session only."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from iomesh_testbed import launcher
from polling import poll

TESTBED = Path(__file__).resolve().parents[1]
REPO = TESTBED.parent
FIXTURES = TESTBED / "fixtures"
VENV_BIN = Path(sys.executable).parent
COLLECTIONS = REPO / ".venv" / "collections"


def tool(name: str) -> str:
    path = VENV_BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} not installed")
    return found


class Emulator(launcher.Emulator):
    """The launcher's emulator (iomesh_testbed.launcher) with raw HTTP and real clients bound to it."""

    def __init__(self, workdir: Path, env: dict[str, str], *args: str):
        super().__init__(workdir, None, twin=False, args=args, env=env)
        self.env = {**env, "KUBECONFIG": str(self.kubeconfig), "K8S_AUTH_KUBECONFIG": str(self.kubeconfig)}

    # --- raw HTTP ---
    def request(self, method: str, path: str, body: Any = None, ctype: str = "application/json",
                headers: dict | None = None) -> tuple[int, Any, dict]:
        data = body if isinstance(body, (bytes, type(None))) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": ctype, "Accept": "application/json",
                                              **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw, code, hdrs = resp.read(), resp.status, dict(resp.headers)
        except urllib.error.HTTPError as e:
            raw, code, hdrs = e.read(), e.code, dict(e.headers)
        try:
            return code, json.loads(raw) if raw else None, hdrs
        except ValueError:
            return code, raw.decode(), hdrs

    def get(self, path: str) -> Any:
        code, body, _ = self.request("GET", path)
        assert code == 200, (path, code, body)
        return body

    def wait_for(self, predicate, timeout: float = 15.0, interval: float = 0.05) -> Any:
        return poll(predicate, timeout, interval)

    def requests_logged(self) -> list[dict]:
        if not self.request_log.exists():
            return []
        return [json.loads(line) for line in self.request_log.read_text().splitlines() if line]

    # --- real clients ---
    def run(self, *cmd: str, check: bool = False, timeout: float = 120, extra_env: dict | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
        res = subprocess.run(list(cmd), env={**self.env, **(extra_env or {})}, capture_output=True, text=True,
                             timeout=timeout, cwd=cwd or self.workdir)
        if check:
            assert res.returncode == 0, f"{cmd} -> {res.returncode}\n{res.stdout}\n{res.stderr}"
        return res

    def kubectl(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run(tool("kubectl"), *args, **kw)

    def helm(self, binary: str, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run(tool(binary), *args, **kw)


@pytest.fixture(scope="session")
def session_env(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("clients")
    home, tmp = base / "home", base / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "K8S_AUTH", "HELM_", "ANSIBLE_"))}
    env.update(HOME=str(home), TMPDIR=str(tmp), PATH=f"{VENV_BIN}:{env.get('PATH', '')}",
               ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-local"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_HOST_KEY_CHECKING="0", ANSIBLE_RETRY_FILES_ENABLED="0")
    return env


@pytest.fixture(scope="session")
def start_emulator(tmp_path_factory, session_env):
    """Factory: start_emulator("--delay", "1") -> Emulator; all are stopped at session end."""
    started: list[Emulator] = []

    def start(*args: str) -> Emulator:
        emu = Emulator(tmp_path_factory.mktemp("emu"), session_env, *args)
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture(scope="module")
def emu(start_emulator) -> Emulator:
    return start_emulator()
