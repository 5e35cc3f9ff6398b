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


@pytest.fixture(name="commands")
def fixture_commands(tmp_path, monkeypatch):
    """Commands on PATH (and nothing else) that answer from a table: {name: {args: (stdout, rc)}}; an unknown
    call prints nothing and exits 4. Returns the file that records every call."""
    def make(table):
        calls = tmp_path / "calls"
        answers = tmp_path / "answers.json"
        answers.write_text(json.dumps({name: {" ".join(args): out for args, out in by_args.items()}
                                       for name, by_args in table.items()}))
        bindir = tmp_path / "bin"
        bindir.mkdir(exist_ok=True)
        for name in table:
            script = bindir / name
            script.write_text(
                f"#!{sys.executable}\nimport json, sys\n"
                f"open({str(calls)!r}, 'a').write({name!r} + ' ' + ' '.join(sys.argv[1:]) + '\\n')\n"
                f"out, rc = json.load(open({str(answers)!r}))[{name!r}].get(' '.join(sys.argv[1:]), ['', 4])\n"
                "sys.stdout.write(out)\nsys.exit(rc)\n")
            script.chmod(0o755)
        monkeypatch.setenv("PATH", str(bindir))
        return calls
    return make


@pytest.fixture(name="systemctl")
def fixture_systemctl(commands):
    """A systemctl that answers {(verb, unit): stdout} (exit 0 for enabled/active, as systemctl does, else 3)."""
    def make(answers):
        return commands({"systemctl": {(verb, unit): (out, 0 if out.strip() in ("enabled", "active") else 3)
                                       for (verb, unit), out in answers.items()}})
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
    assert calls.read_text().splitlines() == ["systemctl is-enabled iscsid", "systemctl is-active iscsid",
                                              "systemctl is-active other"]


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


@pytest.mark.parametrize(("status", "rc", "installed"), [
    ("install ok installed", 0, True),
    ("deinstall ok config-files", 0, False),   # removed, its configuration kept
    ("install ok half-configured", 0, False),
    ("", 1, False),                            # dpkg-query: no packages found matching
])
def test_a_package_is_installed_when_dpkg_records_it_so(probe, commands, status, rc, installed):
    calls = commands({"dpkg-query": {("-W", "-f=${Status}", "open-iscsi"): (status, rc)}})
    assert probe.package_installed("open-iscsi") is installed
    assert calls.read_text() == "dpkg-query -W -f=${Status} open-iscsi\n"


def test_rpm_tells_without_dpkg_and_nothing_tells_without_either(probe, commands, tmp_path, monkeypatch):
    commands({"rpm": {("-q", "--quiet", "iscsi-initiator-utils"): ("", 0)}})
    assert probe.package_installed("iscsi-initiator-utils") is True
    assert probe.package_installed("other") is False
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert probe.package_installed("iscsi-initiator-utils") is None


def test_the_package_is_reported_only_when_named(probe, commands, capsys):
    commands({"dpkg-query": {("-W", "-f=${Status}", "open-iscsi"): ("install ok installed", 0)}})
    probe.main(["iscsi_probe.py", "/sbin/iscsiadm", "/nonexistent/iscsid.conf", "/opt", "", "open-iscsi"])
    out = json.loads(capsys.readouterr().out)
    assert out["package"] == {"name": "open-iscsi", "installed": True} and "service" not in out
