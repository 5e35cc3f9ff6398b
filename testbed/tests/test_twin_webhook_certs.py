"""The operator's webhook serving certificate against the caBundle a `helm upgrade` rotates, and Service
iomesh-access, which the operator (not the chart) creates for the management cluster.

The chart's objects are created by hand (no zookeeper, no disks): Secret iomesh-webhook-cert, Service
iomesh-webhook, Deployment operator (image iomesh/operator) mounting the Secret, the webhook configuration with a
caBundle. A rotation writes the Secret and the caBundle as helm does; the operator keeps serving what it loaded
until iomeshTwin.webhookCertReloadSeconds have passed or its pods are replaced."""

from __future__ import annotations

import base64
import secrets
import time

import pytest
import yaml
from twin_helpers import CHART, default_host_disks, filters, topology

pytestmark = pytest.mark.xdist_group("iomesh-twin-certs")

NS = "iomesh-system"
C1 = "iomesh-cluster-1"
VWC = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/iomesh-validating-webhook-configuration"
SECRET = f"/api/v1/namespaces/{NS}/secrets/iomesh-webhook-cert"
UNTRUSTED = ('Internal error occurred: failed calling webhook "validate-iomeshcluster.iomesh.com": failed to call '
             'webhook: Post "https://iomesh-webhook.iomesh-system.svc:443/validate-iomesh-com-v1alpha1-iomeshcluster'
             '?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority')
OPERATOR_LABELS = {"app.kubernetes.io/name": "operator", "app.kubernetes.io/instance": "iomesh"}


def pem(kind: str = "CERTIFICATE") -> str:
    body = base64.encodebytes(secrets.token_bytes(96)).decode()
    return f"-----BEGIN {kind}-----\n{body}-----END {kind}-----\n"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def cert_data(ca: str) -> dict:
    return {"ca.crt": b64(ca), "tls.crt": b64(pem()), "tls.key": b64(pem("RSA PRIVATE KEY"))}


def chart_objects(ca: str) -> list[dict]:
    crd = next(d for d in yaml.safe_load_all((CHART / "crds" / "iomesh.com_iomeshclusters.yaml").read_text()) if d)
    return [
        crd,
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": C1}},
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "data": cert_data(ca),
         "metadata": {"name": "iomesh-webhook-cert", "namespace": NS, "labels": OPERATOR_LABELS}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "iomesh-webhook", "namespace": NS},
         "spec": {"selector": OPERATOR_LABELS, "ports": [{"port": 443, "targetPort": 9443}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "operator", "namespace": NS},
         "spec": {"replicas": 2, "selector": {"matchLabels": OPERATOR_LABELS},
                  "template": {"metadata": {"labels": OPERATOR_LABELS}, "spec": {
                      "containers": [{"name": "operator", "image": "iomesh/operator:v1.0.1",
                                      "volumeMounts": [{"name": "webhook-cert", "readOnly": True,
                                                        "mountPath": "/tmp/k8s-webhook-server/serving-certs/"}]}],
                      "volumes": [{"name": "webhook-cert", "secret": {"secretName": "iomesh-webhook-cert"}}]}}}},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
         "metadata": {"name": "iomesh-validating-webhook-configuration"},
         "webhooks": [{"name": "validate-iomeshcluster.iomesh.com", "admissionReviewVersions": ["v1beta1", "v1"],
                       "clientConfig": {"caBundle": b64(ca), "service": {
                           "name": "iomesh-webhook", "namespace": NS, "port": 443,
                           "path": "/validate-iomesh-com-v1alpha1-iomeshcluster"}},
                       "failurePolicy": "Fail", "sideEffects": "None",
                       "rules": [{"apiGroups": ["iomesh.com"], "apiVersions": ["v1alpha1"],
                                  "operations": ["CREATE", "UPDATE"], "resources": ["iomeshclusters"]}]}]},
    ]


def iomesh_cluster(ns: str, name: str) -> dict:
    clusters, settings = topology(default_host_disks())
    _, cr = filters.iomesh_cluster_manifests(clusters[1], settings)
    cr["metadata"].update(namespace=ns, name=name)
    return cr


class Cluster:
    def __init__(self, emu):
        self.emu = emu

    def create(self, obj: dict) -> dict:
        av, kind, ns = obj["apiVersion"], obj["kind"], obj["metadata"].get("namespace")
        base = "/api/v1" if av == "v1" else f"/apis/{av}"
        plural = {"CustomResourceDefinition": "customresourcedefinitions", "Namespace": "namespaces",
                  "Secret": "secrets", "Service": "services", "Deployment": "deployments",
                  "ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
                  "IOMeshCluster": "iomeshclusters"}[kind]
        path = f"{base}/namespaces/{ns}/{plural}" if ns else f"{base}/{plural}"
        code, out, _ = self.emu.request("POST", path, obj)
        assert code == 201, out
        return out

    def touch(self, ns: str = C1, name: str = C1) -> tuple[int, dict]:
        """An UPDATE of an IOMeshCluster (a label), as a re-run of a role would send."""
        code, out, _ = self.emu.request("PATCH", f"/apis/iomesh.com/v1alpha1/namespaces/{ns}/iomeshclusters/{name}",
                                        {"metadata": {"labels": {"touched": secrets.token_hex(4)}}},
                                        "application/merge-patch+json")
        return code, out

    def rotate(self, ca: str, **hook) -> float:
        """What `helm upgrade` of the real chart does: a new Secret and the new CA in the caBundle."""
        secret = self.emu.get(SECRET)
        secret["data"] = cert_data(ca)
        code, out, _ = self.emu.request("PUT", SECRET, secret)
        assert code == 200, out
        self.webhook(caBundle=b64(ca), **hook)
        return time.monotonic()

    def webhook(self, **fields) -> None:
        vwc = self.emu.get(VWC)
        wh = vwc["webhooks"][0]
        for key, value in fields.items():
            target = wh["clientConfig"] if key == "caBundle" else wh
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
        code, out, _ = self.emu.request("PUT", VWC, vwc)
        assert code == 200, out


def start(start_emulator, tmp_path_factory, reload_seconds: float) -> Cluster:
    cfg = tmp_path_factory.mktemp("cfg") / "testbed.yaml"
    cfg.write_text(yaml.safe_dump({"iomeshTwin": {"webhookCertReloadSeconds": reload_seconds}}))
    emu = start_emulator("--plugin", "iomesh_twin", "--config", str(cfg), "--resync", "1")
    cluster = Cluster(emu)
    objects = chart_objects(pem())
    cluster.create(objects[0])
    emu.wait_for(lambda: emu.request("GET", f"/apis/iomesh.com/v1alpha1/namespaces/{NS}/iomeshclusters")[0] == 200,
                 15)
    for obj in objects[1:]:
        cluster.create(obj)
    emu.wait_for(lambda: (emu.get(f"/apis/apps/v1/namespaces/{NS}/deployments/operator").get("status") or {})
                 .get("availableReplicas") == 2, 30)
    return cluster


@pytest.fixture(scope="module")
def quick(start_emulator, tmp_path_factory) -> Cluster:
    """The operator reloads a changed certificate 4 s after the change."""
    return start(start_emulator, tmp_path_factory, 4)


@pytest.fixture(scope="module")
def slow(start_emulator, tmp_path_factory) -> Cluster:
    """The operator would take 10 minutes to reload: only new pods serve a new certificate."""
    return start(start_emulator, tmp_path_factory, 600)


def test_matching_ca_bundle_is_trusted(quick):
    quick.create(iomesh_cluster(C1, C1))
    code, out = quick.touch()
    assert code == 200, out


def test_rotation_is_refused_until_the_operator_reloads(quick):
    rotated = quick.rotate(pem())
    code, out = quick.touch()
    if time.monotonic() - rotated > 3:
        pytest.skip("too slow to call the webhook before the reload delay passed")
    assert (code, out["reason"], out["message"]) == (500, "InternalError", UNTRUSTED)
    quick.emu.wait_for(lambda: quick.touch()[0] == 200, 15)
    assert time.monotonic() - rotated >= 4 - 1, "served the old certificate until it reloaded (1 s timestamps)"


def test_failure_policy_ignore_lets_the_request_pass(quick):
    rotated = quick.rotate(pem(), failurePolicy="Ignore")
    code, out = quick.touch()
    assert code == 200, out
    quick.webhook(failurePolicy="Fail")
    code, out = quick.touch()
    if time.monotonic() - rotated > 3:
        pytest.skip("too slow to call the webhook before the reload delay passed")
    assert (code, out["message"]) == (500, UNTRUSTED)
    quick.emu.wait_for(lambda: quick.touch()[0] == 200, 15)


def test_no_ca_bundle_means_system_roots(quick):
    quick.webhook(caBundle=None)
    try:
        code, out = quick.touch()
        assert (code, out["message"]) == (500, UNTRUSTED)
    finally:
        quick.webhook(caBundle=quick.emu.get(SECRET)["data"]["ca.crt"])
    assert quick.touch()[0] == 200


def test_new_operator_pods_serve_the_new_certificate(slow):
    slow.create(iomesh_cluster(C1, C1))
    slow.rotate(pem())
    time.sleep(1.5)
    code, out = slow.touch()
    assert (code, out["message"]) == (500, UNTRUSTED), "the running operator keeps its certificate"
    old = {p["metadata"]["name"] for p in slow.emu.get(f"/api/v1/namespaces/{NS}/pods")["items"]}
    slow.emu.kubectl("rollout", "restart", "deployment/operator", "-n", NS, check=True)
    slow.emu.wait_for(lambda: slow.touch()[0] == 200, 20)
    pods = slow.emu.get(f"/api/v1/namespaces/{NS}/pods?labelSelector=app.kubernetes.io%2Fname%3Doperator")["items"]
    assert not old & {p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")}


def access(emu, ns: str = NS) -> dict | None:
    code, out, _ = emu.request("GET", f"/api/v1/namespaces/{ns}/services/iomesh-access")
    return out if code == 200 else None


def test_operator_creates_iomesh_access_for_the_management_cluster(slow):
    emu = slow.emu
    mgmt = slow.create(iomesh_cluster(NS, "iomesh"))
    svc = emu.wait_for(lambda: access(emu), 15)
    assert svc["spec"]["type"] == "ClusterIP" and svc["spec"]["clusterIP"]
    assert [(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]] == [
        ("iscsi", 3260, "TCP"), ("meta-proxy", 10206, "TCP"), ("tcp-10201", 10201, "TCP"),
        ("tcp-10207", 10207, "TCP")]
    (ref,) = svc["metadata"]["ownerReferences"]
    assert (ref["kind"], ref["name"], ref["uid"], ref["controller"]) == ("IOMeshCluster", "iomesh",
                                                                         mgmt["metadata"]["uid"], True)
    assert access(emu, C1) is None, "an additional cluster gets no iomesh-access"
    time.sleep(1.5)  # idempotent: reconciles (resync 1 s) leave it alone
    assert access(emu)["metadata"]["resourceVersion"] == svc["metadata"]["resourceVersion"]
    # a changed port list is restored, a deleted Service recreated
    code, out, _ = emu.request("PATCH", f"/api/v1/namespaces/{NS}/services/iomesh-access",
                               {"spec": {"ports": [{"name": "iscsi", "port": 3260}]}}, "application/merge-patch+json")
    assert code == 200, out
    emu.wait_for(lambda: len(access(emu)["spec"]["ports"]) == 4, 15)
    emu.kubectl("delete", "service", "iomesh-access", "-n", NS, check=True)
    again = emu.wait_for(lambda: access(emu), 15)
    assert again["metadata"]["uid"] != svc["metadata"]["uid"]
    # deleted with its IOMeshCluster (ownerReference garbage collection)
    emu.kubectl("delete", "iomeshcluster", "iomesh", "-n", NS, check=True)
    emu.wait_for(lambda: access(emu) is None, 15)
