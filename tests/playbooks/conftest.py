"""Run the collection's playbooks with ansible-playbook, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


class PlaybookRun:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr

    def __repr__(self):
        return f"<PlaybookRun rc={self.rc}>\n{self.output[-4000:]}"


@pytest.fixture
def run_playbook(tmp_path):
    """ansible-playbook PLAYBOOK -i INVENTORY [-e @extra.yml], from the repository root."""

    def run(playbook: str, inventory: Path | str, extra_vars: dict | None = None, *args: str) -> PlaybookRun:
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), playbook, "-i", str(inventory)]
        if extra_vars is not None:
            extra = tmp_path / "extra.yml"
            extra.write_text(yaml.safe_dump(extra_vars))
            cmd += ["-e", f"@{extra}"]
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", TMPDIR=str(tmp_path))
        env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".venv" / "collections"))
        proc = subprocess.run(cmd + list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
        return PlaybookRun(proc)

    return run


def seed_clusters() -> list:
    return yaml.safe_load((ROOT / "inventories/seed-example/group_vars/all/iomesh.yml").read_text())["iomesh_clusters"]


def dumps(data) -> str:
    return json.dumps(data)
