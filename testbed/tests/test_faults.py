"""The test bed's fault switches, seen through real clients (the kubernetes Python client, kubectl):

* API faults (kubeemu/faults.py): `status` answers with kube-apiserver's own Status bodies and Retry-After,
  `delay`, `hang`, `drop`; `after`/`times` counting, listing and removal, the request log's `fault` field; switched
  at runtime through the emulator's /_testbed/ control surface (launcher.Emulator helpers) or from the start config;
* twin faults (iomeshTwin settings at runtime): `webhookDown` and `operatorDelaySeconds`.

Timing assertions only bound from below what the emulator guarantees (a delayed answer or reconcile cannot come
earlier than its delay) and give everything else generous time."""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.error
import urllib.request

import pytest
import yaml
from twin_helpers import CHART, default_host_disks, filters, topology

from iomesh_testbed import launcher

kubernetes = pytest.importorskip("kubernetes")
import urllib3  # noqa: E402  (a dependency of the kubernetes client)
from kubernetes import client, config  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

pytestmark = pytest.mark.xdist_group("testbed-faults")

NS = "faults"
CMS = f"^/api/v1/namespaces/{NS}/configmaps$"
TWIN_NS, C1 = "iomesh-system", "iomesh-cluster-1"
IOMESH = ("iomesh.com", "v1alpha1")
ZK = ("zookeeper.pravega.io", "v1beta1")
OPERATOR_LABELS = {"app.kubernetes.io/name": "operator", "app.kubernetes.io/instance": "iomesh"}
WEBHOOK_PATH = "/validate-iomesh-com-v1alpha1-iomeshcluster"

# What kube-apiserver sends (k8s.io/apimachinery/pkg/api/errors constructors, written by ErrorNegotiated).
STATUS_BODIES = {
    429: ({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": "storage is (re)initializing", "reason": "TooManyRequests",
           "details": {"retryAfterSeconds": 1}, "code": 429}, "1"),
    500: ({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": "Internal error occurred: etcdserver: request timed out", "reason": "InternalError",
           "details": {"causes": [{"message": "etcdserver: request timed out"}]}, "code": 500}, None),
    503: ({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": "apiserver is shutting down", "reason": "ServiceUnavailable", "code": 503}, "1"),
    504: ({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": "Timeout: request did not complete within requested timeout - context deadline exceeded",
           "reason": "Timeout", "details": {}, "code": 504}, None),
}


def configmap(name: str) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data={"k": "v"})


def exists(v1: client.CoreV1Api, name: str) -> bool:
    try:
        v1.read_namespaced_config_map(name, NS)
        return True
    except ApiException as e:
        assert e.status == 404, e
        return False


def log_entries(emu) -> list[dict]:
    return [json.loads(line) for line in emu.request_log.read_text().splitlines() if line]


def logged(emu, rule_id: str) -> list[dict]:
    return [r for r in log_entries(emu) if r.get("fault") == rule_id]


def raw(emu, method: str, path: str) -> tuple[int, dict, bytes]:
    """One request without any client-side retry."""
    req = urllib.request.Request(emu.url + path, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture(scope="module")
def v1(emu):
    api_client = config.new_client_from_config(config_file=str(emu.kubeconfig))
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)))
    yield core
    api_client.close()


@pytest.fixture
def faulty(emu, v1):
    """The module's emulator, with no fault rule left behind by a test."""
    assert emu.faults() == []
    yield emu
    emu.clear_faults()


# --- status ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(STATUS_BODIES))
def test_status_answers_with_kube_apiservers_status(faulty, v1, code):
    rule, = faulty.add_faults({"methods": "POST", "path": CMS, "action": "status", "code": code, "times": 1})
    name = f"status-{code}"
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_config_map(NS, configmap(name))
    body, retry_after = STATUS_BODIES[code]
    assert exc.value.status == code
    assert json.loads(exc.value.body) == body
    assert exc.value.headers.get("Retry-After") == retry_after
    assert not exists(v1, name), "the fault answered before the request reached storage"
    entry, = logged(faulty, rule["id"])
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", f"/api/v1/namespaces/{NS}/configmaps", code)
    v1.create_namespaced_config_map(NS, configmap(name))  # times: 1 -> the re-run goes through
    listed, = faulty.faults()
    assert (listed["matched"], listed["applied"]) == (2, 1)


def test_status_overrides_and_the_plain_text_of_a_server_filter(faulty):
    path = f"/api/v1/namespaces/{NS}/configmaps"
    faulty.add_faults({"id": "apf", "methods": "GET", "path": CMS, "action": "status", "code": 429, "times": 1,
                       "plainText": True},
                      {"id": "etcd", "methods": "GET", "path": CMS, "action": "status", "code": 500, "times": 1,
                       "reason": "", "message": "etcdserver: leader changed"},
                      {"id": "slow", "methods": "GET", "path": CMS, "action": "status", "code": 429, "times": 1,
                       "retryAfterSeconds": 3})
    code, headers, body = raw(faulty, "GET", path)  # max-in-flight / priority and fairness: http.Error
    assert (code, headers["Content-Type"], headers["Retry-After"], body) == (
        429, "text/plain; charset=utf-8", "1", b"Too many requests, please try again later.\n")
    code, headers, body = raw(faulty, "GET", path)  # an error that is not a StatusError: reason Unknown is omitted
    assert (code, json.loads(body)) == (500, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                              "status": "Failure", "message": "etcdserver: leader changed",
                                              "code": 500})
    assert "Retry-After" not in headers
    code, headers, body = raw(faulty, "GET", path)
    assert (code, headers["Retry-After"], json.loads(body)["details"]) == (429, "3", {"retryAfterSeconds": 3})
    assert raw(faulty, "GET", path)[0] == 200
    assert [r["status"] for r in faulty.requests_logged()[-4:]] == [429, 500, 429, 200]
    assert [r.get("fault") for r in faulty.requests_logged()[-4:]] == ["apf", "etcd", "slow", None]


def test_kubectl_waits_as_retry_after_says_and_retries(faulty):
    """client-go retries a 429 that carries Retry-After (up to 10 times), so `times` decides whether a run fails."""
    rule, = faulty.add_faults({"methods": "GET", "path": CMS, "action": "status", "code": 429, "times": 2})
    start = time.monotonic()
    res = faulty.kubectl("get", "configmaps", "-n", NS, "-o", "name", check=True)
    assert time.monotonic() - start >= 2.0, "Retry-After: 1, twice"
    lists = [r for r in faulty.requests_logged() if r["path"] == f"/api/v1/namespaces/{NS}/configmaps"][-3:]
    assert [(r["status"], r.get("fault")) for r in lists] == [(429, rule["id"]), (429, rule["id"]), (200, None)]
    assert "configmap/kube-root-ca.crt" in res.stdout


def test_python_client_retries_gets_that_carry_retry_after(faulty, v1):
    """urllib3's default Retry(3) in the kubernetes client (kubernetes.core's client): a GET answered 429/503 with
    Retry-After is sent again up to three times, so it takes `times: 4` to make a GET fail (a write fails at once)."""
    rule, = faulty.add_faults({"methods": "GET", "path": CMS, "action": "status", "code": 503, "times": 3})
    v1.list_namespaced_config_map(NS)
    lists = [r for r in log_entries(faulty) if r["path"] == f"/api/v1/namespaces/{NS}/configmaps"][-4:]
    assert [(r["status"], r.get("fault")) for r in lists] == [(503, rule["id"])] * 3 + [(200, None)]


# --- matching and counting ------------------------------------------------------------------------------------

def test_after_skips_and_times_stops(faulty, v1):
    v1.create_namespaced_config_map(NS, configmap("counted"))
    rule, = faulty.add_faults({"methods": ["get"], "path": "/configmaps/counted$", "after": 2, "times": 2,
                               "action": "status", "code": 500})
    outcomes = []
    for _ in range(6):
        try:
            v1.read_namespaced_config_map("counted", NS)
            outcomes.append(200)
        except ApiException as e:
            outcomes.append(e.status)
    v1.patch_namespaced_config_map("counted", NS, {"data": {"k": "w"}})  # another method: not matched
    assert outcomes == [200, 200, 500, 500, 200, 200]
    listed, = faulty.faults()
    assert (listed["matched"], listed["applied"]) == (6, 2)
    assert len(logged(faulty, rule["id"])) == 2


def test_query_regex_selects_dry_runs(faulty, v1):
    rule, = faulty.add_faults({"methods": "POST", "path": CMS, "query": "(^|&)dryRun=All(&|$)", "action": "status",
                               "code": 503})
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_config_map(NS, configmap("dry"), dry_run="All")
    assert exc.value.status == 503
    v1.create_namespaced_config_map(NS, configmap("wet"))
    entry, = logged(faulty, rule["id"])
    assert "dryRun=All" in entry["query"]


def test_rules_are_listed_and_removed(faulty, v1):
    added = faulty.add_faults({"id": "cm-down", "path": CMS, "action": "status", "code": 500},
                              {"path": "^/api/v1/namespaces/none/", "action": "drop"})
    assert [r["id"] for r in added] == ["cm-down", added[1]["id"]] and added[1]["id"]
    assert faulty.faults() == [
        {"id": "cm-down", "path": CMS, "action": "status", "code": 500, "matched": 0, "applied": 0},
        {"id": added[1]["id"], "path": "^/api/v1/namespaces/none/", "action": "drop", "matched": 0, "applied": 0}]
    assert faulty.control("GET", "faults/cm-down")["code"] == 500
    for bad, why in (({"id": "cm-down", "action": "drop"}, "exists already"),
                     ({"path": "(", "action": "drop"}, "invalid regular expression"),
                     ({"action": "explode"}, "action: want one of"),
                     ({"action": "status"}, "needs an HTTP status code"),
                     ({"action": "delay"}, "needs the seconds"),
                     ({"action": "drop", "time": 1}, "unknown rule keys: time")):
        with pytest.raises(RuntimeError, match=why):
            faulty.add_faults(bad)
    assert len(faulty.faults()) == 2, "a refused rule adds nothing"
    with pytest.raises(ApiException) as exc:
        v1.list_namespaced_config_map(NS)
    assert exc.value.status == 500
    assert faulty.clear_faults("cm-down")[0]["id"] == "cm-down"
    v1.list_namespaced_config_map(NS)
    with pytest.raises(RuntimeError, match="404"):
        faulty.clear_faults("cm-down")
    assert [r["id"] for r in faulty.set_faults([{"id": "only", "action": "drop", "path": "^/nowhere$"}])] == ["only"]
    assert [r["id"] for r in faulty.clear_faults()] == ["only"]
    assert faulty.faults() == []


# --- delay, hang, drop -----------------------------------------------------------------------------------------

def test_delay_fires_client_timeouts_and_the_write_still_lands(faulty, v1):
    rule, = faulty.add_faults({"methods": "POST", "path": CMS, "action": "delay", "seconds": 1.5, "times": 2})
    with pytest.raises(urllib3.exceptions.HTTPError):  # ReadTimeoutError: a POST is not retried
        v1.create_namespaced_config_map(NS, configmap("late"), _request_timeout=0.5)
    # the server went on with it, as kube-apiserver does with a request whose client has gone
    faulty.wait_for(lambda: exists(v1, "late"), 15)
    start = time.monotonic()
    v1.create_namespaced_config_map(NS, configmap("patient"))
    assert time.monotonic() - start >= 1.5
    entries = logged(faulty, rule["id"])
    assert [e["status"] for e in entries] == [201, 201] and all(e["ms"] >= 1500 for e in entries)


def test_hang_answers_nothing(faulty, v1):
    rule, _ = faulty.add_faults({"methods": "POST", "path": CMS, "action": "hang", "times": 1},
                                 {"id": "bounded", "methods": "POST", "path": CMS, "action": "hang", "seconds": 0.5,
                                  "times": 1})
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        v1.create_namespaced_config_map(NS, configmap("hung"), _request_timeout=1)
    with pytest.raises(urllib3.exceptions.ProtocolError):  # closed after 0.5 s without a response
        v1.create_namespaced_config_map(NS, configmap("hung"))
    assert not exists(v1, "hung")
    v1.create_namespaced_config_map(NS, configmap("hung"))
    assert [e["status"] for e in logged(faulty, rule["id"]) + logged(faulty, "bounded")] == [0, 0]


def test_drop_resets_the_connection(faulty, v1):
    rule, = faulty.add_faults({"methods": "POST", "path": CMS, "action": "drop", "times": 1})
    with pytest.raises(urllib3.exceptions.ProtocolError) as exc:
        v1.create_namespaced_config_map(NS, configmap("dropped"))
    assert "reset" in str(exc.value).lower() or "without response" in str(exc.value)
    assert not exists(v1, "dropped")
    v1.create_namespaced_config_map(NS, configmap("dropped"))
    entry, = logged(faulty, rule["id"])
    assert entry["status"] == 0


def test_kubectl_retries_a_get_whose_connection_was_reset(faulty):
    rule, = faulty.add_faults({"methods": "GET", "path": CMS, "action": "drop", "times": 1})
    faulty.kubectl("get", "configmaps", "-n", NS, check=True)
    lists = [r for r in faulty.requests_logged() if r["path"] == f"/api/v1/namespaces/{NS}/configmaps"][-2:]
    assert [(r["status"], r.get("fault")) for r in lists] == [(0, rule["id"]), (200, None)]


# --- the start config -----------------------------------------------------------------------------------------

def test_faults_and_twin_settings_from_the_start_config(tmp_path):
    emu = launcher.Emulator(tmp_path / "emu", {
        "faults": [{"id": "boot", "methods": "GET", "path": "^/version$", "action": "status", "code": 503,
                    "times": 1}],
        "iomeshTwin": {"operatorDelaySeconds": 7}})
    try:
        assert raw(emu, "GET", "/version")[0] == 503
        assert raw(emu, "GET", "/version")[0] == 200
        assert [(r["matched"], r["applied"]) for r in emu.faults()] == [(2, 1)]
        assert emu.settings() == {"operatorDelaySeconds": 7}
        assert emu.set_settings(operatorDelaySeconds=0, webhookDown=True) == {"operatorDelaySeconds": 0,
                                                                               "webhookDown": True}
        assert emu.set_settings(operatorDelaySeconds=None) == {"operatorDelaySeconds": 7, "webhookDown": True}
        assert emu.reset_settings() == {"operatorDelaySeconds": 7}
        with pytest.raises(RuntimeError, match="read when the emulator starts"):
            emu.set_settings("nodes", extra=1)
        entry, = [r for r in log_entries(emu) if r.get("fault")]
        assert (entry["path"], entry["status"], entry["fault"]) == ("/version", 503, "boot")
        assert not [r for r in log_entries(emu) if r["path"].startswith("/_testbed")], "control is not logged"
    finally:
        emu.stop()
    with pytest.raises(RuntimeError, match="testbed config faults: action"):
        launcher.Emulator(tmp_path / "bad", {"faults": [{"action": "melt"}]}, twin=False)


# --- the IOMesh twin: webhookDown, operatorDelaySeconds -------------------------------------------------------

def _pem() -> str:
    return "-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(secrets.token_bytes(48)).decode() + \
        "-----END CERTIFICATE-----\n"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _twin_objects() -> list[dict]:
    """What the chart installs for the operator's webhook, plus the zookeeper-operator (no disks, no ZooKeeper)."""
    ca = _pem()
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": TWIN_NS}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": C1}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "iomesh-webhook-cert", "namespace": TWIN_NS},
         "data": {"ca.crt": _b64(ca), "tls.crt": _b64(_pem()), "tls.key": _b64(_pem())}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "iomesh-webhook", "namespace": TWIN_NS},
         "spec": {"selector": OPERATOR_LABELS, "ports": [{"port": 443, "targetPort": 9443}]}},
        _deployment("operator", "iomesh/operator:v1.0.1", OPERATOR_LABELS),
        _deployment("iomesh-zookeeper-operator", "iomesh/zookeeper-operator:0.2.15", {"app": "zk-operator"}),
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
         "metadata": {"name": "iomesh-validating-webhook-configuration"},
         "webhooks": [{"name": "validate-iomeshcluster.iomesh.com", "admissionReviewVersions": ["v1"],
                       "clientConfig": {"caBundle": _b64(ca), "service": {
                           "name": "iomesh-webhook", "namespace": TWIN_NS, "port": 443, "path": WEBHOOK_PATH}},
                       "failurePolicy": "Fail", "sideEffects": "None",
                       "rules": [{"apiGroups": ["iomesh.com"], "apiVersions": ["v1alpha1"],
                                  "operations": ["CREATE", "UPDATE"], "resources": ["iomeshclusters"]}]}]},
    ]


def _deployment(name: str, image: str, labels: dict) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": TWIN_NS},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "containers": [{"name": name, "image": image}]}}}}


def _create(emu, obj: dict) -> None:
    av, kind, ns = obj["apiVersion"], obj["kind"], obj["metadata"].get("namespace")
    base = "/api/v1" if av == "v1" else f"/apis/{av}"
    path = f"{base}/namespaces/{ns}/{kind.lower()}s" if ns else f"{base}/{kind.lower()}s"
    code, out, _ = emu.request("POST", path, obj)
    assert code == 201, out


def _iomesh_cluster(name: str) -> dict:
    clusters, settings = topology(default_host_disks())
    _, cr = filters.iomesh_cluster_manifests(clusters[1], settings)
    cr["metadata"].update(namespace=C1, name=name)
    return cr


def _zookeeper(name: str) -> dict:
    return {"apiVersion": "/".join(ZK), "kind": "ZookeeperCluster", "metadata": {"name": name, "namespace": C1},
            "spec": {"replicas": 1}}


@pytest.fixture(scope="module")
def twin(start_emulator):
    emu = start_emulator("--plugin", "iomesh_twin", "--resync", "1")
    for crd_file in ("iomesh.com_iomeshclusters.yaml", "zookeeper.pravega.io_zookeeperclusters_crd.yaml"):
        for crd in (d for d in yaml.safe_load_all((CHART / "crds" / crd_file).read_text()) if d):
            _create(emu, crd)
    for plural in ("iomesh.com/v1alpha1/iomeshclusters", "zookeeper.pravega.io/v1beta1/zookeeperclusters"):
        emu.wait_for(lambda p=plural: emu.request("GET", f"/apis/{p}")[0] == 200, 15)
    for obj in _twin_objects():
        _create(emu, obj)
    for name in ("operator", "iomesh-zookeeper-operator"):
        emu.wait_for(lambda n=name: (emu.get(f"/apis/apps/v1/namespaces/{TWIN_NS}/deployments/{n}").get("status")
                                     or {}).get("availableReplicas") == 1, 30)
    api_client = config.new_client_from_config(config_file=str(emu.kubeconfig))
    emu.custom = client.CustomObjectsApi(api_client)
    yield emu
    api_client.close()


def test_webhook_down_refuses_iomeshclusters_until_switched_off(twin):
    custom = twin.custom
    cluster_ip = twin.get(f"/api/v1/namespaces/{TWIN_NS}/services/iomesh-webhook")["spec"]["clusterIP"]
    custom.create_namespaced_custom_object(*IOMESH, C1, "iomeshclusters", _iomesh_cluster("admitted"))
    assert twin.set_settings(webhookDown=True) == {"webhookDown": True}
    cause = ('failed calling webhook "validate-iomeshcluster.iomesh.com": failed to call webhook: Post '
             f'"https://iomesh-webhook.{TWIN_NS}.svc:443{WEBHOOK_PATH}?timeout=10s": '
             f'dial tcp {cluster_ip}:443: connect: connection refused')
    with pytest.raises(ApiException) as exc:
        custom.create_namespaced_custom_object(*IOMESH, C1, "iomeshclusters", _iomesh_cluster("refused"))
    assert exc.value.status == 500
    assert json.loads(exc.value.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f"Internal error occurred: {cause}", "reason": "InternalError",
        "details": {"causes": [{"message": cause}]}, "code": 500}
    res = twin.kubectl("label", "iomeshcluster", "admitted", "-n", C1, "touched=1")  # an UPDATE
    assert res.returncode == 1
    assert f"Error from server (InternalError): Internal error occurred: {cause}" in res.stderr
    assert twin.set_settings(webhookDown=None) == {}
    custom.create_namespaced_custom_object(*IOMESH, C1, "iomeshclusters", _iomesh_cluster("refused"))
    twin.kubectl("label", "iomeshcluster", "admitted", "-n", C1, "touched=1", check=True)


def _statefulset(twin, name: str) -> dict | None:
    code, body, _ = twin.request("GET", f"/apis/apps/v1/namespaces/{C1}/statefulsets/{name}")
    return body if code == 200 else None


def _status(twin, group_version: tuple[str, str], plural: str, name: str) -> dict:
    return twin.custom.get_namespaced_custom_object(*group_version, C1, plural, name).get("status") or {}


def test_operator_delay_holds_reconciliation_of_new_clusters(twin):
    """ZooKeeper's StatefulSet and the IOMeshCluster's status come no earlier than operatorDelaySeconds after the
    create; while they are held, both are absent."""
    delay = 4.0
    twin.set_settings(operatorDelaySeconds=delay)
    try:
        start = time.monotonic()
        twin.custom.create_namespaced_custom_object(*ZK, C1, "zookeeperclusters", _zookeeper("zk-slow"))
        twin.custom.create_namespaced_custom_object(*IOMESH, C1, "iomeshclusters", _iomesh_cluster("cr-slow"))
        held = 0
        appeared: dict[str, float] = {}
        deadline = start + delay + 30
        while len(appeared) < 2 and time.monotonic() < deadline:
            state = {"sts": _statefulset(twin, "zk-slow") is not None,
                     "status": "portOffset" in _status(twin, IOMESH, "iomeshclusters", "cr-slow")}
            now = time.monotonic()
            for what, present in state.items():
                if present:
                    appeared.setdefault(what, now)
            held += not any(state.values())
            time.sleep(0.2)
        assert set(appeared) == {"sts", "status"}, f"not reconciled within {delay + 30}s after the delay"
        assert held, "never looked while the delay ran"
        assert min(appeared.values()) - start >= delay, appeared
        assert _status(twin, ZK, "zookeeperclusters", "zk-slow").get("replicas") is not None
    finally:
        twin.set_settings(operatorDelaySeconds=None)


def test_switching_the_delay_off_releases_held_changes(twin):
    twin.set_settings(operatorDelaySeconds=600)
    try:
        start = time.monotonic()
        twin.custom.create_namespaced_custom_object(*ZK, C1, "zookeeperclusters", _zookeeper("zk-held"))
        time.sleep(1.5)
        assert _statefulset(twin, "zk-held") is None and not _status(twin, ZK, "zookeeperclusters", "zk-held")
    finally:
        assert twin.set_settings(operatorDelaySeconds=None) == {}
    twin.wait_for(lambda: _statefulset(twin, "zk-held"), 30)
    assert time.monotonic() - start < 600
