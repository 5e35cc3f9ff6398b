"""The iomesh_prereq role's read-only probe (roles/iomesh_prereq/files/iscsi_probe.py): the iSCSI service's state
and the SELinux mode it reports, which the role's verify step judges instead of service_facts and getenforce."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).resolve().parents[3] / "roles" / "iomesh_prereq" / "files" / "iscsi_probe.py"


@pytest.fixture(name="probe")
def fixture_probe():
    spec = importlib.util.spec_from_file_location("iscsi_probe", PROBE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(name="systemctl")
def fixture_systemctl(tmp_path, monkeypatch):
    """A systemctl on PATH that answers from a table: {(verb, unit): stdout}; it records its calls."""
    def make(answers):
        calls = tmp_path / "calls"
        table = tmp_path / "answers.json"
        table.write_text(json.dumps({f"{verb} {unit}": out for (verb, unit), out in answers.items()}))
        script = tmp_path / "bin" / "systemctl"
        script.parent.mkdir(exist_ok=True)
        script.write_text(
            f"#!{sys.executable}\nimport json, sys\n"
            f"open({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
            f"out = json.load(open({str(table)!r})).get(' '.join(sys.argv[1:]))\n"
            "sys.stdout.write(out or '')\nsys.exit(0 if out in ('enabled', 'active') else 3)\n")
        script.chmod(0o755)
        monkeypatch.setenv("PATH", str(script.parent))
        return calls
    return make


@pytest.mark.parametrize(("enforce", "mode"), [(None, "Disabled"), ("1\n", "Enforcing"), ("0", "Permissive")])
def test_selinux_mode_as_getenforce_prints_it(probe, tmp_path, enforce, mode):
    if enforce is not None:
        (tmp_path / "enforce").write_text(enforce)
    assert probe.selinux_mode(str(tmp_path if enforce is not None else tmp_path / "absent")) == mode


def test_unit_state_is_systemctls_first_word(probe, systemctl):
    calls = systemctl({("is-enabled", "iscsid"): "static\n", ("is-active", "iscsid"): "inactive\n"})
    assert probe.unit_state("is-enabled", "iscsid") == "static"
    assert probe.unit_state("is-active", "iscsid") == "inactive"
    assert probe.unit_state("is-active", "other") is None
    assert calls.read_text().splitlines() == ["is-enabled iscsid", "is-active iscsid", "is-active other"]


def test_no_systemctl_is_no_answer(probe, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert probe.unit_state("is-enabled", "iscsid") is None


def test_the_service_is_reported_only_when_named(probe, systemctl, capsys):
    systemctl({("is-enabled", "iscsid-x"): "enabled", ("is-active", "iscsid-x"): "active"})
    assert probe.main(["iscsi_probe.py", "/sbin/iscsiadm", "/nonexistent/iscsid.conf", "/opt", "iscsid-x"]) == 0
    named = json.loads(capsys.readouterr().out)
    assert named["service"] == {"name": "iscsid-x", "enabled": "enabled", "active": "active"}
    assert named["selinux"] in ("Disabled", "Enforcing", "Permissive")
    probe.main(["iscsi_probe.py", "/sbin/iscsiadm", "/nonexistent/iscsid.conf", "/opt"])
    assert "service" not in json.loads(capsys.readouterr().out)
