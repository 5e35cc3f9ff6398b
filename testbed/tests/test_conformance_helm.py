"""helm 3 and helm 4 operations of k8s-client-request-log.md (install, upgrade, --wait, list, uninstall).
The emulator runs with --delay 1 so that --wait really waits for the simulated rollout."""

from __future__ import annotations

import json
import time

import pytest

from conftest import FIXTURES

CHART = str(FIXTURES / "charts" / "demo")


@pytest.fixture(scope="module", params=["helm3", "helm4"])
def hm(request, start_emulator):
    emu = start_emulator("--delay", "1")
    emu.helm_bin = request.param
    emu.ns = "apps" + request.param[-1]
    return emu


def helm(hm, *args, check=True):
    return hm.helm(hm.helm_bin, *args, check=check)


def release_secrets(hm, name):
    items = hm.get(f"/api/v1/namespaces/{hm.ns}/secrets?labelSelector=owner%3Dhelm,name%3D{name}")["items"]
    return {s["metadata"]["name"]: s["metadata"]["labels"]["status"] for s in items}


def test_upgrade_install_creates_release(hm):
    res = helm(hm, "upgrade", "--install", "r", CHART, "-n", hm.ns, "--create-namespace")
    assert "has been upgraded" in res.stdout or "STATUS: deployed" in res.stdout
    assert release_secrets(hm, "r") == {"sh.helm.release.v1.r.v1": "deployed"}
    secret = hm.get(f"/api/v1/namespaces/{hm.ns}/secrets/sh.helm.release.v1.r.v1")
    assert secret["type"] == "helm.sh/release.v1" and secret["data"]["release"]
    cm = hm.get(f"/api/v1/namespaces/{hm.ns}/configmaps/r-cfg")
    assert cm["data"] == {"greeting": "hello"}
    dep = hm.get(f"/apis/apps/v1/namespaces/{hm.ns}/deployments/r-web")
    assert dep["spec"]["replicas"] == 2
    # helm 3 waits for the CRD to be Established; helm 4 does so only with --wait
    crd = hm.wait_for(lambda: hm.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
                      if hm.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com").get(
                          "status") else None)
    assert {c["type"]: c["status"] for c in crd["status"]["conditions"]}["Established"] == "True"
    ns = hm.get(f"/api/v1/namespaces/{hm.ns}")
    assert ns["status"]["phase"] == "Active"


def test_upgrade_again_bumps_revision(hm):
    cm_before = hm.get(f"/api/v1/namespaces/{hm.ns}/configmaps/r-cfg")
    dep_before = hm.get(f"/apis/apps/v1/namespaces/{hm.ns}/deployments/r-web")
    helm(hm, "upgrade", "--install", "r", CHART, "-n", hm.ns, "--set", "greeting=hi")
    assert release_secrets(hm, "r") == {"sh.helm.release.v1.r.v1": "superseded",
                                        "sh.helm.release.v1.r.v2": "deployed"}
    cm = hm.get(f"/api/v1/namespaces/{hm.ns}/configmaps/r-cfg")
    assert cm["data"] == {"greeting": "hi"}
    assert cm["metadata"]["uid"] == cm_before["metadata"]["uid"]
    dep = hm.get(f"/apis/apps/v1/namespaces/{hm.ns}/deployments/r-web")
    # the Deployment did not change, so its generation and resourceVersion did not either
    assert dep["metadata"]["generation"] == dep_before["metadata"]["generation"] == 1


def test_upgrade_install_wait(hm):
    start = time.monotonic()
    helm(hm, "upgrade", "--install", "rw", CHART, "-n", hm.ns, "--wait", "--timeout", "60s")
    elapsed = time.monotonic() - start
    dep = hm.get(f"/apis/apps/v1/namespaces/{hm.ns}/deployments/rw-web")
    assert dep["status"]["readyReplicas"] == 2 and dep["status"]["availableReplicas"] == 2
    assert elapsed >= 1.0  # it had to wait for the delayed controllers
    assert release_secrets(hm, "rw") == {"sh.helm.release.v1.rw.v1": "deployed"}


def test_upgrade_wait_change(hm):
    helm(hm, "upgrade", "--install", "rw", CHART, "-n", hm.ns, "--wait", "--timeout", "60s",
         "--set", "image=registry.invalid/demo:2.0", "--set", "replicaCount=3")
    dep = hm.get(f"/apis/apps/v1/namespaces/{hm.ns}/deployments/rw-web")
    assert dep["metadata"]["generation"] == 2 and dep["status"]["observedGeneration"] == 2
    assert dep["status"]["updatedReplicas"] == 3 and dep["status"]["readyReplicas"] == 3
    pods = hm.get(f"/api/v1/namespaces/{hm.ns}/pods?labelSelector=app.kubernetes.io%2Finstance%3Drw")["items"]
    assert len(pods) == 3
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"registry.invalid/demo:2.0"}
    assert release_secrets(hm, "rw") == {"sh.helm.release.v1.rw.v1": "superseded",
                                         "sh.helm.release.v1.rw.v2": "deployed"}


def test_wait_legacy_helm4(hm):
    if hm.helm_bin != "helm4":
        pytest.skip("--wait=legacy is a helm 4 option")
    helm(hm, "upgrade", "--install", "rl", CHART, "-n", hm.ns, "--wait=legacy", "--timeout", "60s")
    assert hm.get(f"/apis/apps/v1/namespaces/{hm.ns}/deployments/rl-web")["status"]["readyReplicas"] == 2


def test_list(hm):
    res = helm(hm, "list", "-A", "-o", "json")
    releases = {r["name"]: r for r in json.loads(res.stdout)}
    assert releases["r"]["revision"] == "2" and releases["r"]["status"] == "deployed"
    assert releases["rw"]["namespace"] == hm.ns


def test_uninstall(hm):
    helm(hm, "uninstall", "r", "-n", hm.ns)
    assert release_secrets(hm, "r") == {}
    for path in (f"/api/v1/namespaces/{hm.ns}/configmaps/r-cfg", f"/apis/apps/v1/namespaces/{hm.ns}/deployments/r-web"):
        code, body, _ = hm.request("GET", path)
        assert code == 404, body
    # the ReplicaSet and Pods go by ownerReference garbage collection
    hm.wait_for(lambda: not hm.get(f"/api/v1/namespaces/{hm.ns}/pods?labelSelector=app.kubernetes.io%2Finstance%3Dr")
                ["items"])
    res = helm(hm, "list", "-n", hm.ns, "-o", "json")
    assert "r" not in {r["name"] for r in json.loads(res.stdout)}
