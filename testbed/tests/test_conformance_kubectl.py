"""kubectl operations of k8s-client-request-log.md against the emulator (real kubectl binary)."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES

M = FIXTURES / "manifests"


def cm(emu, name="cm1", ns="default") -> dict:
    return emu.get(f"/api/v1/namespaces/{ns}/configmaps/{name}")


@pytest.fixture(scope="module")
def kc(emu):
    return emu


def test_apply_create_unchanged_configure(kc):
    res = kc.kubectl("apply", "-f", str(M / "cm.yaml"), check=True)
    assert "configmap/cm1 created" in res.stdout
    first = cm(kc)
    assert first["data"] == {"a": "1"}
    assert "kubectl.kubernetes.io/last-applied-configuration" in first["metadata"]["annotations"]

    res = kc.kubectl("apply", "-f", str(M / "cm.yaml"), check=True)
    assert "configmap/cm1 unchanged" in res.stdout
    assert cm(kc)["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]

    res = kc.kubectl("apply", "-f", str(M / "cm-changed.yaml"), check=True)
    assert "configmap/cm1 configured" in res.stdout
    changed = cm(kc)
    assert changed["data"] == {"a": "2", "b": "x"}
    assert int(changed["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    patches = [r for r in kc.requests_logged() if r["method"] == "PATCH" and r["path"].endswith("/cm1")]
    assert patches[-1]["contentType"] == "application/strategic-merge-patch+json"
    assert "fieldValidation=Strict" in patches[-1]["query"]


def test_get_list_yaml_and_label_selector(kc):
    res = kc.kubectl("get", "cm", check=True)
    assert "cm1" in res.stdout and "kube-root-ca.crt" in res.stdout
    res = kc.kubectl("get", "cm", "cm1", "-o", "yaml", check=True)
    assert "name: cm1" in res.stdout and 'b: x' in res.stdout
    res = kc.kubectl("get", "cm", "-l", "app=demo", "-o", "name", check=True)
    assert res.stdout.split() == ["configmap/cm1"]
    res = kc.kubectl("get", "cm", "-l", "app!=demo", "-o", "name", check=True)
    assert "configmap/cm1" not in res.stdout.split()
    res = kc.kubectl("get", "cm", "-o", "json", check=True)
    assert json.loads(res.stdout)["kind"] == "List"


def test_apply_server_side(kc):
    res = kc.kubectl("apply", "--server-side", "-f", str(M / "cm-changed.yaml"), check=True)
    assert "serverside-applied" in res.stdout
    managers = {(e["manager"], e["operation"]) for e in cm(kc)["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers
    before = cm(kc)["metadata"]["resourceVersion"]
    kc.kubectl("apply", "--server-side", "-f", str(M / "cm-changed.yaml"), check=True)
    assert cm(kc)["metadata"]["resourceVersion"] == before  # re-applying the same config is a no-op


def test_diff_shows_change_and_does_not_store(kc):
    before = cm(kc)
    res = kc.kubectl("diff", "-f", str(M / "cm.yaml"))
    assert res.returncode == 1, res.stderr
    assert '-  a: "2"' in res.stdout and '+  a: "1"' in res.stdout
    after = cm(kc)
    assert after["data"] == before["data"] and after["metadata"]["resourceVersion"] == \
        before["metadata"]["resourceVersion"]
    dry = [r for r in kc.requests_logged() if "dryRun=All" in r["query"]]
    assert dry and dry[-1]["status"] == 200


def test_delete(kc):
    res = kc.kubectl("delete", "-f", str(M / "cm.yaml"), check=True)
    assert 'configmap "cm1" deleted' in res.stdout
    code, body, _ = kc.request("GET", "/api/v1/namespaces/default/configmaps/cm1")
    assert code == 404 and body["reason"] == "NotFound"


def test_apply_typo_strict_rejected_then_warn(kc):
    res = kc.kubectl("apply", "-f", str(M / "typo-deploy.yaml"))
    assert res.returncode == 1
    assert 'strict decoding error: unknown field "spec.replicass"' in res.stderr
    code, _, _ = kc.request("GET", "/apis/apps/v1/namespaces/default/deployments/typo")
    assert code == 404
    res = kc.kubectl("apply", "-f", str(M / "typo-deploy.yaml"), "--validate=warn")
    assert res.returncode == 0, res.stderr
    assert 'unknown field "spec.replicass"' in res.stderr
    dep = kc.get("/apis/apps/v1/namespaces/default/deployments/typo")
    assert "replicass" not in dep["spec"] and dep["spec"]["replicas"] == 1  # dropped, then defaulted
    kc.kubectl("delete", "deploy", "typo", check=True)


def test_apply_deploy_rollout_status_wait(kc):
    kc.kubectl("apply", "-f", str(M / "deploy.yaml"), check=True)
    res = kc.kubectl("rollout", "status", "deploy/web", "--timeout=30s", check=True)
    assert 'deployment "web" successfully rolled out' in res.stdout
    res = kc.kubectl("wait", "--for=condition=Available", "deploy/web", "--timeout=30s", check=True)
    assert "condition met" in res.stdout
    dep = kc.get("/apis/apps/v1/namespaces/default/deployments/web")
    assert dep["status"]["readyReplicas"] == 2 and dep["status"]["observedGeneration"] == 1
    pods = kc.get("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")["items"]
    assert len(pods) == 2 and all(p["status"]["phase"] == "Running" for p in pods)
    res = kc.kubectl("apply", "-f", str(M / "deploy.yaml"), check=True)
    assert "unchanged" in res.stdout
    assert kc.get("/apis/apps/v1/namespaces/default/deployments/web")["metadata"]["generation"] == 1


def test_rollout_waits_with_delay(start_emulator):
    slow = start_emulator("--delay", "1.5")
    slow.kubectl("apply", "-f", str(M / "deploy.yaml"), check=True)
    res = slow.kubectl("rollout", "status", "deploy/web", "--timeout=30s", check=True)
    assert "Waiting for deployment" in res.stdout and "successfully rolled out" in res.stdout
    watches = [r for r in slow.requests_logged() if "watch=true" in r["query"]]
    assert watches and "sendInitialEvents=true" in watches[0]["query"]
    res = slow.kubectl("scale", "deploy/web", "--replicas=3", check=True)
    slow.kubectl("wait", "--for=jsonpath={.status.readyReplicas}=3", "deploy/web", "--timeout=30s", check=True)


def test_kubectl_against_other_server_version(start_emulator):
    other = start_emulator("--server-version", "v1.30.4")
    res = other.kubectl("version", "-o", "json", check=True)
    assert json.loads(res.stdout)["serverVersion"]["gitVersion"] == "v1.30.4"
    other.kubectl("apply", "-f", str(M / "cm.yaml"), check=True)
