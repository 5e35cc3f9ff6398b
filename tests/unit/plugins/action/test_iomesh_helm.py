"""The iomesh_helm action (plugins/action/iomesh_helm.py) with a fake helm on disk: `helm history --max 1` and `helm get values` read as
kubernetes.core.helm_info returns its status, the connection options handed to helm as kubernetes.core's helm modules
hand them (Helm's environment variables), a release that does not exist read as no status, every failure a message
naming the release, and the rollback to the last deployed revision (docs/pitfalls.md P24), reported but not run under
--check."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from ansible_collections.iomesh.multicluster.plugins.action import iomesh_helm
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import helm

from . import runner

NAME, NS = "blk-core-m", "store-east"


def release(revision, status, values=None, chart="iomesh-v1.1.0", app="v5.3.0"):
    """A revision as the fake helm keeps it: what `helm history -o json` prints of it, and its user-supplied values."""
    return {"revision": revision, "updated": f"2026-12-05T10:0{revision}:00.5Z", "status": status, "chart": chart,
            "app_version": app, "description": "Upgrade complete", "values": values}


# The fake helm: `history --max 1` prints the last revision of state.json as Helm 3 and 4 print it, `get values
# --revision N` that revision's values (null when none, as helm prints them), `rollback` adds a revision; each call
# (argv and Helm's connection variables) is logged to calls.json.
FAKE_HELM = textwrap.dedent("""\
    import json, os, sys, time
    here = os.path.dirname(os.path.abspath(__file__))
    state = json.load(open(os.path.join(here, "state.json")))
    keys = ("KUBECONFIG", "HELM_KUBECONTEXT", "HELM_KUBETOKEN", "HELM_KUBEAPISERVER", "HELM_KUBECAFILE",
            "HELM_KUBEINSECURE_SKIP_TLS_VERIFY")
    env = {k: os.environ[k] for k in keys if k in os.environ}
    if "KUBECONFIG" in env and os.path.exists(env["KUBECONFIG"]):
        env["kubeconfig content"] = open(env["KUBECONFIG"]).read()
    log = os.path.join(here, "calls.json")
    calls = json.load(open(log)) if os.path.exists(log) else []
    json.dump(calls + [{"argv": sys.argv[1:], "env": env}], open(log, "w"))
    command = sys.argv[1] if sys.argv[1] != "get" else "get " + sys.argv[2]
    time.sleep(state.get("sleep", {}).get(command, 0))
    if command in state.get("fail", {}):
        sys.stderr.write(state["fail"][command] + "\\n"); sys.exit(1)
    revisions = state["revisions"]
    if not revisions:
        sys.stderr.write("Error: release: not found\\n"); sys.exit(1)
    if command in state.get("print", {}):
        print(state["print"][command])
    elif command == "history":
        print(json.dumps([{k: v for k, v in revisions[-1].items() if k != "values"}]))
    elif command == "get values":
        print(json.dumps([r for r in revisions if str(r["revision"]) == sys.argv[sys.argv.index("--revision") + 1]][0]["values"]))
    elif command == "rollback":
        back = [r for r in revisions if str(r["revision"]) == sys.argv[3]][0]
        state["revisions"] = revisions + [dict(back, revision=revisions[-1]["revision"] + 1, status="deployed",
                                               description="Rollback to " + sys.argv[3])]
        state["fail"] = dict(state.get("fail", {}), **state.get("fail_after_rollback", {}))
        json.dump(state, open(os.path.join(here, "state.json"), "w"))
        print("Rollback was a success! Happy Helming!")
""")


class FakeHelm:
    def __init__(self, directory: Path, revisions, **state):
        self.dir = directory
        self.path = directory / "helm"
        self.path.write_text(f"#!{sys.executable}\n{FAKE_HELM}")
        self.path.chmod(0o755)
        (directory / "state.json").write_text(json.dumps({"revisions": revisions, **state}))

    def calls(self):
        log = self.dir / "calls.json"
        return json.loads(log.read_text()) if log.exists() else []

    def revisions(self):
        return json.loads((self.dir / "state.json").read_text())["revisions"]


def run_action(args, check_mode=False):
    return runner.run_action(iomesh_helm.ActionModule, "Read the management release", args, check_mode)


@pytest.fixture(autouse=True)
def no_inherited_connection(monkeypatch):
    for var in ("K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT", "K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "K8S_AUTH_SSL_CA_CERT",
                "K8S_AUTH_VERIFY_SSL", "KUBECONFIG", "HELM_KUBECONTEXT"):
        monkeypatch.delenv(var, raising=False)


def args(fake, **more):
    return {"release_name": NAME, "release_namespace": NS, "binary_path": str(fake.path), **more}


def test_the_last_revision_is_read_with_one_helm_status_as_helm_info_returns_it(tmp_path):
    values = {"iomesh": {"create": False, "chunk": {"dataCIDR": "10.9.0.0/24"}}, "registry": {"password": "pw"}}
    fake = FakeHelm(tmp_path, [release(2, "superseded"), release(3, "deployed", values)])
    result = run_action(args(fake, kubeconfig="/etc/kube/east.conf", context="admin@east"))
    assert not result.get("failed") and result["changed"] is False
    assert result["status"] == {"name": NAME, "namespace": NS, "revision": "3", "status": "deployed",
                                "chart": "iomesh-v1.1.0", "app_version": "v5.3.0", "updated": "2026-12-05T10:03:00.5Z",
                                "release_values": values}
    env = {"KUBECONFIG": "/etc/kube/east.conf", "HELM_KUBECONTEXT": "admin@east"}
    assert fake.calls() == [{"argv": ["history", NAME, "--namespace", NS, "--max", "1", "--output", "json"], "env": env},
                            {"argv": ["get", "values", NAME, "--namespace", NS, "--revision", "3", "--output", "json"], "env": env}]


@pytest.mark.parametrize("state", ["pending-upgrade", "pending-install", "failed"])
def test_a_revision_in_any_state_is_the_last_one(tmp_path, state):
    fake = FakeHelm(tmp_path, [release(4, "deployed"), release(5, state, chart="IOMesh-v1.2.0")])
    status = run_action(args(fake))["status"]
    assert (status["status"], status["revision"], status["chart"]) == (state, "5", "IOMesh-v1.2.0")


def test_a_release_that_does_not_exist_is_no_status_and_no_failure(tmp_path):
    result = run_action(args(FakeHelm(tmp_path, [])))
    assert "status" not in result and not result.get("failed") and "msg" not in result


def test_every_connection_option_helm_can_use_reaches_it_as_its_variables(tmp_path, monkeypatch):
    fake = FakeHelm(tmp_path, [release(1, "deployed")])
    run_action(args(fake, host="https://10.7.0.1:6443", api_key="tok-sentinel", ca_cert="/etc/kube/ca.pem",
                    validate_certs=False))
    assert fake.calls()[0]["env"] == {"HELM_KUBEAPISERVER": "https://10.7.0.1:6443", "HELM_KUBETOKEN": "tok-sentinel",
                                      "HELM_KUBECAFILE": "/etc/kube/ca.pem", "HELM_KUBEINSECURE_SKIP_TLS_VERIFY": "true"}
    # The K8S_AUTH_* fallbacks of kubernetes.core, as its helm modules take them.
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", "/srv/kube/west.conf")
    monkeypatch.setenv("K8S_AUTH_CONTEXT", "ops@west")
    run_action(args(fake))
    assert fake.calls()[2]["env"] == {"KUBECONFIG": "/srv/kube/west.conf", "HELM_KUBECONTEXT": "ops@west"}


def test_a_kubeconfig_given_as_a_mapping_is_a_file_for_the_run_only(tmp_path):
    fake = FakeHelm(tmp_path, [release(1, "deployed")])
    kubeconfig = {"apiVersion": "v1", "kind": "Config", "current-context": "c", "clusters": [], "contexts": []}
    assert run_action(args(fake, kubeconfig=kubeconfig))["status"]["revision"] == "1"
    seen = fake.calls()[0]["env"]
    assert json.loads(seen["kubeconfig content"]) == kubeconfig
    assert not os.path.exists(seen["KUBECONFIG"])


def test_options_helm_cannot_use_fail_naming_them(tmp_path):
    fake = FakeHelm(tmp_path, [release(1, "deployed")])
    result = run_action(args(fake, proxy="http://proxy:3128", client_cert="/etc/kube/me.crt"))
    assert result["failed"] is True and fake.calls() == []
    assert result["msg"] == ("iomesh_helm: helm cannot use the connection options client_cert, proxy; give helm a "
                             "kubeconfig (iomesh_kubeconfig) that holds them.")


def test_every_failure_names_the_release_and_says_why(tmp_path):
    fake = FakeHelm(tmp_path, [release(1, "deployed")],
                    fail={"history": "Error: Kubernetes cluster unreachable: Get \"https://10.7.0.1:6443/version\": "
                                     "dial tcp: refused"})
    result = run_action(args(fake))
    assert result["failed"] is True and "status" not in result
    assert result["msg"] == (f"helm history of release {NS}/{NAME} failed: Error: Kubernetes cluster unreachable: Get "
                             "\"https://10.7.0.1:6443/version\": dial tcp: refused")
    forbidden = run_action(args(FakeHelm(tmp_path, [release(1, "deployed")], fail={
        "get values": "Error: secrets \"sh.helm.release.v1.x.v1\" is forbidden\nsecond line"})))
    assert forbidden["failed"] is True and "status" not in forbidden
    assert forbidden["msg"] == (f"helm get values of release {NS}/{NAME} failed: Error: secrets "
                                "\"sh.helm.release.v1.x.v1\" is forbidden second line")
    missing = run_action({"release_name": NAME, "release_namespace": NS, "binary_path": str(tmp_path / "helm-3.9")})
    assert missing["msg"] == f"helm history of release {NS}/{NAME} failed: {tmp_path / 'helm-3.9'} was not found"
    (tmp_path / "not-executable").write_text("")
    denied = run_action({"release_name": NAME, "release_namespace": NS, "binary_path": str(tmp_path / "not-executable")})
    assert denied["msg"].endswith("not-executable cannot be run")
    for printed, msg in (
            (("history", "[]"), f"helm history of release {NS}/{NAME}: helm history printed '[]', not a revision"),
            (("get values", "[1]"), f"helm get values of release {NS}/{NAME}: helm get values printed '[1]', not values"),
            (("get values", "WARNING: x"), f"helm get values of release {NS}/{NAME}: helm get values printed 'WARNING: x', "
                                           "not values")):
        garbled = run_action(args(FakeHelm(tmp_path, [release(1, "deployed")], print=dict([printed]))))
        assert garbled["failed"] is True and garbled["msg"] == msg and "status" not in garbled


def test_a_helm_that_does_not_answer_fails_within_the_request_timeout(tmp_path):
    result = run_action(args(FakeHelm(tmp_path, [release(1, "deployed")], sleep={"history": 5}), request_timeout=1))
    assert result["failed"] is True
    assert result["msg"] == f"helm history of release {NS}/{NAME} failed: {tmp_path / 'helm'} history did not answer within 1 s"


def test_the_rollback_returns_to_the_last_deployed_revision_then_reads_it(tmp_path):
    fake = FakeHelm(tmp_path, [release(6, "superseded"), release(7, "deployed", {"a": 1})])
    result = run_action(args(fake, rollback_deployed=True, timeout=420, kubeconfig="/etc/kube/east.conf"))
    assert result["changed"] is True and result["rolled_back_to"] == "7"
    assert [c["argv"] for c in fake.calls()] == [
        ["history", NAME, "--namespace", NS, "--max", "1", "--output", "json"],
        ["get", "values", NAME, "--namespace", NS, "--revision", "7", "--output", "json"],
        ["rollback", NAME, "7", "--namespace", NS, "--timeout", "420s"],
        ["history", NAME, "--namespace", NS, "--max", "1", "--output", "json"],
        ["get", "values", NAME, "--namespace", NS, "--revision", "8", "--output", "json"]]
    assert all(c["env"] == {"KUBECONFIG": "/etc/kube/east.conf"} for c in fake.calls())
    assert result["status"]["revision"] == "8" and result["status"]["release_values"] == {"a": 1}


def test_the_rollback_is_reported_not_run_under_check(tmp_path):
    fake = FakeHelm(tmp_path, [release(7, "deployed")])
    result = run_action(args(fake, rollback_deployed=True), check_mode=True)
    assert result["changed"] is False and result["rolled_back_to"] == "7" and result["status"]["revision"] == "7"
    assert [c["argv"][0] for c in fake.calls()] == ["history", "get"]


@pytest.mark.parametrize("revisions", [[], [release(2, "deployed"), release(3, "failed")]])
def test_no_rollback_without_a_deployed_last_revision(tmp_path, revisions):
    # An interrupted first install leaves no release; a failed last revision is upgraded by the install that follows.
    fake = FakeHelm(tmp_path, revisions)
    result = run_action(args(fake, rollback_deployed=True))
    assert result["changed"] is False and "rolled_back_to" not in result
    assert "rollback" not in [c["argv"][0] for c in fake.calls()]


def test_a_rollback_that_fails_says_so(tmp_path):
    fake = FakeHelm(tmp_path, [release(7, "deployed")], fail={"rollback": "Error: timed out waiting for the condition"})
    result = run_action(args(fake, rollback_deployed=True))
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == (f"helm rollback of release {NS}/{NAME} to revision 7 failed: Error: timed out waiting for "
                             "the condition")


def test_helm_environment_and_status_shape_without_the_action():
    assert helm.environment({"kubeconfig": "/k", "context": "", "validate_certs": True}) == {"KUBECONFIG": "/k"}
    assert helm.environment({"kubeconfig": {"kind": "Config"}}, "/tmp/written") == {"KUBECONFIG": "/tmp/written"}
    assert helm.environment({"kubeconfig": {"kind": "Config"}}) == {}
    assert helm.unsupported({"proxy": "", "username": None, "persist_config": False, "impersonate_groups": []}) == []
    assert helm.status("r", "n", {"revision": 1}, "null") == {
        "name": "r", "namespace": "n", "revision": "1", "status": "", "chart": "", "app_version": "", "updated": "",
        "release_values": {}}
    assert helm.last_revision('[{"revision": 1}, {"revision": 2}]') == {"revision": 2}
    with pytest.raises(ValueError, match="not a revision"):
        helm.last_revision('{"revision": 2}')
    assert helm.not_found("Error: release: not found") and not helm.not_found("Error: release name is invalid")


def test_fallbacks_are_taken_only_for_options_not_given():
    environ = {"K8S_AUTH_KUBECONFIG": "/env.conf", "K8S_AUTH_VERIFY_SSL": "no", "K8S_AUTH_CONTEXT": "env@ctx"}
    found = helm.with_fallbacks({"kubeconfig": "/given.conf", "context": "", "validate_certs": None}, environ)
    assert found == {"kubeconfig": "/given.conf", "context": "env@ctx", "validate_certs": False}
    assert helm.with_fallbacks({}, {"K8S_AUTH_VERIFY_SSL": "true"}) == {"validate_certs": True}
    assert helm.with_fallbacks({"validate_certs": True}, {"K8S_AUTH_VERIFY_SSL": "false"}) == {"validate_certs": True}


def test_helm_on_the_path_without_a_binary_and_a_failure_that_says_nothing(tmp_path, monkeypatch):
    fake = FakeHelm(tmp_path, [release(2, "deployed")], fail={"get values": ""})
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    result = run_action({"release_name": NAME, "release_namespace": NS})
    assert [c["argv"][0] for c in fake.calls()] == ["history", "get"]
    assert result["msg"] == f"helm get values of release {NS}/{NAME} failed: exit code 1"


def test_the_rollback_has_helms_timeout_and_the_request_timeout(tmp_path):
    # helm's own --timeout bounds the rollback; the process gets the request timeout on top before it is given up.
    fake = FakeHelm(tmp_path, [release(3, "deployed")], sleep={"rollback": 1.5})
    result = run_action(args(fake, rollback_deployed=True, timeout=1, request_timeout=1))
    assert not result.get("failed") and result["changed"] is True, result
    assert ["rollback", NAME, "3", "--namespace", NS, "--timeout", "1s"] in [c["argv"] for c in fake.calls()]


def test_a_read_after_the_rollback_that_fails_leaves_no_stale_status(tmp_path):
    fake = FakeHelm(tmp_path, [release(3, "deployed")], fail_after_rollback={"history": "Error: connection refused"})
    result = run_action(args(fake, rollback_deployed=True))
    assert result["failed"] is True and "status" not in result and result["rolled_back_to"] == "3"
    assert result["msg"] == f"helm history of release {NS}/{NAME} failed: Error: connection refused"


@pytest.mark.parametrize(("text", "verify"), [("no", False), ("False", False), ("0", False), ("off", False),
                                              ("n", False), ("yes", True), ("1", True), ("on", True)])
def test_the_verify_fallback_is_read_as_ansible_reads_a_boolean(text, verify):
    assert helm.with_fallbacks({}, {"K8S_AUTH_VERIFY_SSL": text})["validate_certs"] is verify


def test_what_helm_printed_wrongly_is_quoted_shortly_and_missing_fields_are_empty():
    with pytest.raises(ValueError) as caught:
        helm.last_revision("x" * 300)
    assert str(caught.value) == f"helm history printed {'x' * 200!r}, not a revision"
    assert helm.status("r", "n", {}, "{}")["revision"] == ""
    assert helm.environment({"kubeconfig": ""}) == {}


def test_a_verify_fallback_that_is_no_boolean_fails_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("K8S_AUTH_VERIFY_SSL", "maybe")
    fake = FakeHelm(tmp_path, [release(1, "deployed")])
    result = run_action(args(fake))
    assert result["failed"] is True and fake.calls() == []
    assert result["msg"] == "iomesh_helm: K8S_AUTH_VERIFY_SSL is 'maybe', not a boolean (yes or no)"
    monkeypatch.delenv("K8S_AUTH_VERIFY_SSL")
    garbled = run_action(args(FakeHelm(tmp_path, [release(1, "deployed")], print={"get values": "v" * 300})))
    assert garbled["msg"] == f"helm get values of release {NS}/{NAME}: helm get values printed {'v' * 200!r}, not values"
