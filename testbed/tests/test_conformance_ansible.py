"""kubernetes.core operations of k8s-client-request-log.md: ansible-playbook runs with the json stdout
callback, asserting each task's result and `changed` flag (re-runs must report no change)."""

from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest

from conftest import FIXTURES, Emulator, tool

PLAYBOOKS = FIXTURES / "playbooks"
CHART = FIXTURES / "charts" / "demo"


def playbook(emu: Emulator, name: str, **extra_vars) -> dict[str, dict]:
    """Run a playbook; return {task name: localhost result} (last occurrence wins)."""
    cmd = [tool("ansible-playbook"), "-i", "localhost,", str(PLAYBOOKS / name)]
    for k, v in extra_vars.items():
        cmd += ["-e", f"{k}={v}"]
    res = emu.run(*cmd, extra_env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}, timeout=180)
    try:
        out = json.loads(res.stdout)
    except ValueError:
        raise AssertionError(f"rc={res.returncode}\n{res.stdout}\n{res.stderr}")
    assert res.returncode == 0, json.dumps(out, indent=1)[:4000]
    results = {}
    for play in out["plays"]:
        for task in play["tasks"]:
            results[task["task"]["name"]] = task["hosts"]["localhost"]
    return results


@pytest.fixture(scope="module")
def chart_repo(tmp_path_factory, emu):
    """A local chart repository over 127.0.0.1 HTTP (helm package + helm repo index)."""
    repo = tmp_path_factory.mktemp("chartrepo")
    emu.helm("helm3", "package", str(CHART), "-d", str(repo), check=True)
    emu.helm("helm3", "repo", "index", str(repo), check=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(repo))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def emu(start_emulator):
    """--delay 1: every wait (CRD Established, k8s wait, helm --wait) really polls."""
    return start_emulator("--delay", "1")


@pytest.fixture(scope="module")
def converged(emu):
    return playbook(emu, "converge.yml", chart_dir=str(CHART))


def test_converge_creates(emu, converged):
    for task in ("namespace", "configmap", "apply", "json patch", "crd", "valid widget"):
        assert converged[task]["changed"], task
    cm = emu.get("/api/v1/namespaces/ans/configmaps/cm-present")
    assert cm["data"] == {"key": "value"} and cm["metadata"]["labels"]["patched"] == "yes"
    w1 = emu.get("/apis/example.com/v1/namespaces/ans/widgets/w1")
    assert w1["spec"] == {"size": 3, "port": "http", "color": "green", "extra": {"anything": [1, 2]}}


def test_invalid_custom_resource_is_422(converged):
    bad = converged["invalid widget"]
    assert bad["failed"] and bad["reason"] == "Unprocessable Entity"
    status = json.loads(bad["msg"].split(": ", 1)[1])
    assert status["code"] == 422 and status["details"]["causes"][0]["field"] == "spec.size"


def test_k8s_info_label_selectors(converged):
    names = sorted(r["metadata"]["name"] for r in converged["by labels"]["resources"])
    assert names == ["cm-apply", "cm-present"]
    assert [r["metadata"]["name"] for r in converged["by name"]["resources"]] == ["cm-apply"]
    assert converged["missing"]["resources"] == []
    assert not converged["by labels"]["changed"]


def test_rerun_reports_no_change(emu, converged):
    before = {p: emu.get(p)["metadata"]["resourceVersion"] for p in (
        "/api/v1/namespaces/ans", "/api/v1/namespaces/ans/configmaps/cm-present",
        "/api/v1/namespaces/ans/configmaps/cm-apply", "/apis/example.com/v1/namespaces/ans/widgets/w1",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")}
    again = playbook(emu, "converge.yml", chart_dir=str(CHART))
    changed = [name for name, r in again.items() if r.get("changed")]
    assert changed == []
    assert again["invalid widget"]["failed"]
    assert {p: emu.get(p)["metadata"]["resourceVersion"] for p in before} == before


def test_k8s_apply_change(emu, converged):
    changed = playbook(emu, "k8s_apply.yml", val="b")
    assert changed["apply"]["changed"] and changed["apply"]["result"]["data"] == {"val": "b"}
    assert emu.get("/api/v1/namespaces/ans/configmaps/cm-apply")["data"] == {"val": "b"}
    patches = [r for r in emu.requests_logged() if r["method"] == "PATCH" and r["path"].endswith("/cm-apply")]
    assert patches[-1]["contentType"] == "application/merge-patch+json"


def test_k8s_wait(emu, converged):
    res = playbook(emu, "k8s_wait.yml", ns="ans")
    assert res["deployment"]["changed"] and res["deployment"]["result"]["status"]["readyReplicas"] == 2
    assert res["pod"]["result"]["status"]["phase"] == "Running"
    assert res["scale up with wait"]["result"]["status"]["readyReplicas"] == 3


@pytest.mark.parametrize("helm_bin", ["helm3", "helm4"])
def test_helm_repository_helm_helm_info(emu, chart_repo, helm_bin):
    rel = f"ansrel{helm_bin[-1]}"
    first = playbook(emu, "helm.yml", helm_bin=tool(helm_bin), repo_url=chart_repo, rel=rel)
    assert first["release"]["changed"] and first["release"]["status"]["status"] == "deployed"
    assert first["info"]["status"]["revision"] == "1"
    dep = emu.get(f"/apis/apps/v1/namespaces/ans-helm/deployments/{rel}-web")
    assert dep["status"]["readyReplicas"] == 2
    again = playbook(emu, "helm.yml", helm_bin=tool(helm_bin), repo_url=chart_repo, rel=rel)
    assert not again["repository"]["changed"] and not again["release"]["changed"]
    assert again["info"]["status"]["revision"] == "1"


def test_absent_with_wait(emu):
    res = playbook(emu, "absent.yml")
    assert res["deployment absent"]["changed"] and res["namespace absent"]["changed"]
    code, _, _ = emu.request("GET", "/api/v1/namespaces/ans")
    assert code == 404
    assert emu.get("/api/v1/pods?labelSelector=app%3Dweb")["items"] == [] or all(
        p["metadata"]["namespace"] != "ans" for p in emu.get("/api/v1/pods")["items"])
