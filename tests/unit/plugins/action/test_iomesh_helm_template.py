"""The iomesh_helm_template action (plugins/action/iomesh_helm_template.py) with a fake helm on disk: `helm template`
as kubernetes.core.helm_template runs it (values in a file, --repo and --version when given), the values file readable
by its owner only and gone afterwards, the same under --check, and every failure a message naming the chart."""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap

import pytest

from ansible_collections.iomesh.multicluster.plugins.action import iomesh_helm_template

from . import runner

# Logs its argv and the values file (content, permissions) to calls.json; prints a manifest naming the release and
# the values, or fails / sleeps as behaviour.json says.
FAKE_HELM = textwrap.dedent("""\
    import json, os, stat, sys, time
    here = os.path.dirname(os.path.abspath(__file__))
    behaviour = json.load(open(os.path.join(here, "behaviour.json")))
    if "--values" in sys.argv:
        values = sys.argv[sys.argv.index("--values") + 1]
        call = {"argv": sys.argv[1:], "values": json.load(open(values)), "mode": stat.S_IMODE(os.stat(values).st_mode)}
    else:
        call = {"argv": sys.argv[1:], "values": None}
    json.dump(call, open(os.path.join(here, "calls.json"), "w"))
    time.sleep(behaviour.get("sleep", 0))
    if behaviour.get("fail"):
        sys.stderr.write(behaviour["fail"] + "\\n"); sys.exit(behaviour.get("rc", 1))
    sys.stderr.write("walrus: deprecated key\\n")
    print("---\\nkind: IOMeshCluster\\nmetadata:\\n  name: " + sys.argv[2] + "\\nspec: " + json.dumps(call["values"]))
""")


@pytest.fixture
def fake_helm(tmp_path):
    path = tmp_path / "helm"
    path.write_text(f"#!{sys.executable}\n{FAKE_HELM}")
    path.chmod(0o755)

    def make(**behaviour):
        (tmp_path / "behaviour.json").write_text(json.dumps(behaviour))
        return path
    make.call = lambda: json.loads((tmp_path / "calls.json").read_text())
    return make


def run_action(args, check_mode=False):
    return runner.run_action(iomesh_helm_template.ActionModule, "Render the chart", args, check_mode)


VALUES = {"iomesh": {"create": True, "chunk": {"dataCIDR": "10.31.0.0/20"}}, "registry": {"password": "s3cret"}}


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_renders_from_a_repository_as_helm_template_does(fake_helm, check_mode):
    helm = fake_helm()
    result = run_action({"chart_ref": "iomesh", "chart_repo_url": "http://charts.lab:8879", "chart_version": "v1.2.0",
                         "release_name": "blk-core", "release_namespace": "store-west", "release_values": VALUES,
                         "binary_path": str(helm)}, check_mode=check_mode)
    assert not result.get("failed") and result["changed"] is False and result["rc"] == 0
    assert result["stdout"].startswith("---\nkind: IOMeshCluster\nmetadata:\n  name: blk-core\n")
    assert json.loads(result["stdout"].split("spec: ", 1)[1]) == VALUES
    assert result["stderr"] == "walrus: deprecated key\n"
    call = fake_helm.call()
    values_path = call["argv"][-1]
    assert call["argv"] == ["template", "blk-core", "iomesh", "--repo", "http://charts.lab:8879", "--version", "v1.2.0",
                            "--namespace", "store-west", "--values", values_path]
    assert call["values"] == VALUES and call["mode"] == stat.S_IRUSR | stat.S_IWUSR
    assert result["command"] == f"{helm} " + " ".join(call["argv"])
    # Gone once helm is done: it may hold credentials.
    assert not os.path.exists(values_path)


def test_a_local_chart_without_repository_or_version(fake_helm, tmp_path):
    helm = fake_helm()
    chart = tmp_path / "iomesh-v1.0.1.tgz"
    result = run_action({"chart_ref": str(chart), "release_name": "tank", "release_namespace": "tank-sys",
                         "binary_path": str(helm)})
    assert result["rc"] == 0
    argv = fake_helm.call()["argv"]
    assert argv == ["template", "tank", str(chart), "--namespace", "tank-sys", "--values", argv[-1]]
    assert fake_helm.call()["values"] == {}


@pytest.mark.parametrize("behaviour, rc, reason", [
    ({"fail": "Error: chart \"iomesh\" version \"v9.9.9\" not found in http://charts.lab:8879 repository"}, 1,
     "Error: chart \"iomesh\" version \"v9.9.9\" not found in http://charts.lab:8879 repository"),
    ({"fail": "Error: parse error\nline 2", "rc": 3}, 3, "Error: parse error line 2"),
    ({"sleep": 5}, 1, "template did not answer within 1 s"),
], ids=["not-found", "multi-line", "timeout"])
def test_a_failure_names_the_chart_and_helms_reason(fake_helm, behaviour, rc, reason):
    helm = fake_helm(**behaviour)
    result = run_action({"chart_ref": "iomesh", "chart_version": "v9.9.9", "release_name": "blk-core",
                         "release_namespace": "store-west", "binary_path": str(helm), "timeout": 1})
    assert result["failed"] is True and result["rc"] == rc and result["stdout"] == ""
    assert result["stderr"].endswith(reason) and result["msg"] == f"helm template of chart iomesh failed: {result['stderr']}"
    assert reason in result["msg"]


def test_a_helm_that_is_not_there(tmp_path):
    result = run_action({"chart_ref": "iomesh", "release_name": "a", "release_namespace": "b",
                         "binary_path": str(tmp_path / "no-helm")})
    assert result["failed"] is True and result["msg"] == f"helm template of chart iomesh failed: {tmp_path / 'no-helm'} was not found"


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_crds_only_shows_the_charts_crds_without_values(fake_helm, check_mode):
    helm = fake_helm()
    result = run_action({"chart_ref": "iomesh", "chart_repo_url": "http://charts.lab:8879", "chart_version": "v1.1.0",
                         "release_name": "blk-core", "release_namespace": "store-west", "release_values": VALUES,
                         "binary_path": str(helm), "crds_only": True}, check_mode=check_mode)
    assert not result.get("failed") and result["changed"] is False and result["rc"] == 0
    # helm show crds: no release, no values file written.
    assert fake_helm.call() == {"argv": ["show", "crds", "iomesh", "--repo", "http://charts.lab:8879", "--version",
                                         "v1.1.0"], "values": None}
    assert result["command"] == f"{helm} show crds iomesh --repo http://charts.lab:8879 --version v1.1.0"


def test_crds_only_failure_names_helm_show(fake_helm):
    helm = fake_helm(fail="Error: chart \"iomesh\" version \"v9.9.9\" not found", rc=1)
    result = run_action({"chart_ref": "iomesh", "chart_version": "v9.9.9", "release_name": "blk-core",
                         "release_namespace": "store-west", "binary_path": str(helm), "crds_only": True})
    assert result["failed"] is True and result["rc"] == 1
    assert result["msg"] == 'helm show of chart iomesh failed: Error: chart "iomesh" version "v9.9.9" not found'
