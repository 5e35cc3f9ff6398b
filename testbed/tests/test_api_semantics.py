"""API semantics over raw HTTP: Status errors, selectors, patch types, server-side apply, protobuf,
watch, generation/no-op rules, status subresource, CRD validation, deletion and garbage collection."""

from __future__ import annotations

import json
import socket
import time

import pytest
import yaml

from conftest import FIXTURES

CM = "/api/v1/namespaces/{ns}/configmaps"
DEP = "/apis/apps/v1/namespaces/{ns}/deployments"
WIDGETS = "/apis/example.com/v1/namespaces/{ns}/widgets"
CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def ns(emu, name):
    code, body, _ = emu.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                               "metadata": {"name": name}})
    assert code in (201, 409), body
    return name


def cm_body(name, data=None, labels=None):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}},
            "data": data or {"k": "v"}}


def deployment(name, replicas=1, image="registry.invalid/app:1"):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": image,
                                                           "env": [{"name": "A", "value": "1"}]}]}}}}


@pytest.fixture(scope="module")
def crd(emu):
    body = yaml.safe_load((FIXTURES / "charts/demo/crds/widgets.yaml").read_text())
    code, out, _ = emu.request("POST", CRD_PATH, body)
    assert code == 201, out
    emu.wait_for(lambda: any(c["type"] == "Established" and c["status"] == "True" for c in
                             emu.get(f"{CRD_PATH}/widgets.example.com").get("status", {}).get("conditions", [])))
    return out


# --- discovery, version, OpenAPI ---------------------------------------------------------------------

def test_discovery_and_version(emu):
    assert emu.get("/version")["gitVersion"] == "v1.25.16"
    assert emu.get("/api")["versions"] == ["v1"]
    groups = {g["name"] for g in emu.get("/apis")["groups"]}
    assert {"apps", "apiextensions.k8s.io", "storage.k8s.io", "rbac.authorization.k8s.io"} <= groups
    res = {r["name"]: r for r in emu.get("/apis/apps/v1")["resources"]}
    assert res["deployments"]["namespaced"] and "deployments/status" in res and res["deployments/scale"]["kind"] == \
        "Scale"
    code, _, _ = emu.request("GET", "/openapi/v2")
    assert code == 404


def test_openapi_declares_field_validation(emu, crd):
    index = emu.get("/openapi/v3")["paths"]
    assert "api/v1" in index and "apis/example.com/v1" in index
    doc = emu.get(index["apis/apps/v1"]["serverRelativeURL"])
    op = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert op["x-kubernetes-group-version-kind"]["kind"] == "Deployment"
    assert "fieldValidation" in {p["name"] for p in op["parameters"]}


# --- CRUD errors -------------------------------------------------------------------------------------

def test_not_found_status(emu):
    code, body, _ = emu.request("GET", "/apis/apps/v1/namespaces/default/deployments/nope")
    assert code == 404
    assert body["kind"] == "Status" and body["reason"] == "NotFound"
    assert body["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}
    assert body["message"] == 'deployments.apps "nope" not found'


def test_create_conflicts_and_stale_update(emu):
    n = ns(emu, "sem-crud")
    code, created, _ = emu.request("POST", CM.format(ns=n), cm_body("a"))
    assert code == 201 and created["metadata"]["uid"] and created["metadata"]["creationTimestamp"]
    code, body, _ = emu.request("POST", CM.format(ns=n), cm_body("a"))
    assert code == 409 and body["reason"] == "AlreadyExists"
    stale = dict(created, data={"k": "w"})
    code, updated, _ = emu.request("PUT", CM.format(ns=n) + "/a", stale)
    assert code == 200 and int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    code, body, _ = emu.request("PUT", CM.format(ns=n) + "/a", stale)  # still carries the old resourceVersion
    assert code == 409 and body["reason"] == "Conflict"


def test_namespace_must_exist(emu):
    code, body, _ = emu.request("POST", CM.format(ns="no-such-ns"), cm_body("x"))
    assert code == 404 and body["details"] == {"name": "no-such-ns", "kind": "namespaces"}


def test_invalid_name_is_422(emu):
    code, body, _ = emu.request("POST", CM.format(ns="default"), cm_body("Bad_Name"))
    assert code == 422 and body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "metadata.name"


def test_strict_and_warn_field_validation(emu):
    n = ns(emu, "sem-fv")
    bad = cm_body("t")
    bad["dataa"] = {"x": "y"}
    code, body, _ = emu.request("POST", CM.format(ns=n) + "?fieldValidation=Strict", bad)
    assert code == 400 and body["reason"] == "BadRequest" and 'unknown field "dataa"' in body["message"]
    code, body, headers = emu.request("POST", CM.format(ns=n), bad)
    assert code == 201 and "dataa" not in body and 'unknown field \\"dataa\\"' in headers.get("Warning", "")


def test_selector_required_and_immutable(emu):
    n = ns(emu, "sem-imm")
    d = deployment("imm")
    d["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    code, body, _ = emu.request("POST", DEP.format(ns=n), d)
    assert code == 422 and "selector" in body["message"]
    code, created, _ = emu.request("POST", DEP.format(ns=n), deployment("imm"))
    assert code == 201
    del created["metadata"]["resourceVersion"]  # unconditional update; controllers wrote meanwhile
    created["spec"]["selector"] = {"matchLabels": {"app": "imm", "x": "y"}}
    created["spec"]["template"]["metadata"]["labels"]["x"] = "y"
    code, body, _ = emu.request("PUT", DEP.format(ns=n) + "/imm", created)
    assert code == 422 and "field is immutable" in body["message"]


# --- selectors and lists -----------------------------------------------------------------------------

def test_label_and_field_selectors(emu):
    n = ns(emu, "sem-sel")
    for name, labels in (("a", {"app": "x", "tier": "fe"}), ("b", {"app": "y", "tier": "be"}), ("c", {"app": "x"})):
        assert emu.request("POST", CM.format(ns=n), cm_body(name, labels=labels))[0] == 201

    def names(query):
        body = emu.get(CM.format(ns=n) + "?" + query)
        assert body["kind"] == "ConfigMapList" and body["apiVersion"] == "v1" and body["metadata"]["resourceVersion"]
        return sorted(i["metadata"]["name"] for i in body["items"] if i["metadata"]["name"] != "kube-root-ca.crt")

    assert names("labelSelector=app%3Dx") == ["a", "c"]
    assert names("labelSelector=app%3D%3Dx,tier") == ["a"]
    assert names("labelSelector=app!%3Dx") == ["b"]
    assert names("labelSelector=tier%20in%20(fe,be)") == ["a", "b"]
    assert names("labelSelector=tier%20notin%20(fe)") == ["b", "c"]
    assert names("labelSelector=!tier") == ["c"]
    assert names("fieldSelector=metadata.name%3Db") == ["b"]
    assert names("fieldSelector=metadata.name!%3Db,metadata.namespace%3D" + n) == ["a", "c"]
    code, body, _ = emu.request("GET", CM.format(ns=n) + "?fieldSelector=data.k%3Dv")
    assert code == 400 and "field label not supported" in body["message"]
    page = emu.get(CM.format(ns=n) + "?limit=2")
    assert len(page["items"]) == 2 and page["metadata"]["continue"]
    rest = emu.get(CM.format(ns=n) + "?limit=2&continue=" + page["metadata"]["continue"])
    assert len(page["items"]) + len(rest["items"]) == 4


# --- patches and apply -------------------------------------------------------------------------------

def test_patch_types(emu):
    n = ns(emu, "sem-patch")
    assert emu.request("POST", DEP.format(ns=n), deployment("p"))[0] == 201
    path = DEP.format(ns=n) + "/p"
    smp = {"spec": {"template": {"spec": {"containers": [{"name": "c", "env": [{"name": "B", "value": "2"}]},
                                                         {"name": "side", "image": "registry.invalid/s:1"}]}}}}
    code, body, _ = emu.request("PATCH", path, smp, "application/strategic-merge-patch+json")
    assert code == 200
    containers = body["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["c", "side"]
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert containers[0]["image"] == "registry.invalid/app:1"  # merged by name, not replaced
    assert body["metadata"]["generation"] == 2
    delete = {"spec": {"template": {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}}
    code, body, _ = emu.request("PATCH", path, delete, "application/strategic-merge-patch+json")
    assert [c["name"] for c in body["spec"]["template"]["spec"]["containers"]] == ["c"]
    code, body, _ = emu.request("PATCH", path, {"metadata": {"labels": {"m": "1"}}}, "application/merge-patch+json")
    assert code == 200 and body["metadata"]["labels"] == {"m": "1"} and body["metadata"]["generation"] == 3
    ops = [{"op": "replace", "path": "/spec/replicas", "value": 2}]
    code, body, _ = emu.request("PATCH", path, ops, "application/json-patch+json")
    assert code == 200 and body["spec"]["replicas"] == 2 and body["metadata"]["generation"] == 4
    code, body, _ = emu.request("PATCH", path + "?dryRun=All", [{"op": "replace", "path": "/spec/replicas",
                                                                   "value": 5}], "application/json-patch+json")
    assert code == 200 and body["spec"]["replicas"] == 5
    assert emu.get(path)["spec"]["replicas"] == 2


def test_server_side_apply(emu):
    n = ns(emu, "sem-ssa")
    path = CM.format(ns=n) + "/ssa"
    cfg = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: '1'\n  b: '2'\n"
    code, body, _ = emu.request("PATCH", path + "?fieldManager=mgr", cfg, "application/apply-patch+yaml")
    assert code == 201 and body["data"] == {"a": "1", "b": "2"}
    assert body["metadata"]["managedFields"][0]["operation"] == "Apply"
    rv = body["metadata"]["resourceVersion"]
    code, body, _ = emu.request("PATCH", path + "?fieldManager=mgr", cfg, "application/apply-patch+yaml")
    assert code == 200 and body["metadata"]["resourceVersion"] == rv
    # another writer adds a key; the applier then drops b: only b goes, c stays
    emu.request("PATCH", path, {"data": {"c": "3"}}, "application/merge-patch+json")
    smaller = cfg.replace("  b: '2'\n", "")
    code, body, _ = emu.request("PATCH", path + "?fieldManager=mgr", smaller, "application/apply-patch+yaml")
    assert body["data"] == {"a": "1", "c": "3"}
    code, body, _ = emu.request("PATCH", path, cfg, "application/apply-patch+yaml")
    assert code == 400 and "fieldManager is required" in body["message"]


def test_no_op_writes_keep_resource_version(emu):
    n = ns(emu, "sem-noop")
    emu.request("POST", DEP.format(ns=n), deployment("noop"))
    path = DEP.format(ns=n) + "/noop"
    settled = emu.wait_for(lambda: (lambda d: d if d.get("status", {}).get("readyReplicas") == 1 else None)(
        emu.get(path)))
    rv = settled["metadata"]["resourceVersion"]
    code, body, _ = emu.request("PATCH", path, {"spec": {"replicas": 1}}, "application/strategic-merge-patch+json")
    assert code == 200 and body["metadata"]["resourceVersion"] == rv
    code, body, _ = emu.request("PUT", path, settled)
    assert code == 200 and body["metadata"]["resourceVersion"] == rv and body["metadata"]["generation"] == 1
    code, body, _ = emu.request("PATCH", path, {"metadata": {"annotations": {"a": "b"}}},
                                "application/merge-patch+json")
    assert int(body["metadata"]["resourceVersion"]) > int(rv) and body["metadata"]["generation"] == 1


def test_status_subresource_and_generation(emu, crd):
    n = ns(emu, "sem-status")
    code, w, _ = emu.request("POST", WIDGETS.format(ns=n), {"apiVersion": "example.com/v1", "kind": "Widget",
                                                            "metadata": {"name": "w"}, "spec": {"size": 1},
                                                            "status": {"phase": "Ignored"}})
    assert code == 201 and "status" not in w and w["metadata"]["generation"] == 1
    w["status"] = {"phase": "Ready"}
    code, body, _ = emu.request("PUT", WIDGETS.format(ns=n) + "/w/status", w)
    assert code == 200 and body["status"] == {"phase": "Ready"} and body["metadata"]["generation"] == 1
    code, body, _ = emu.request("PATCH", WIDGETS.format(ns=n) + "/w", {"status": {"phase": "Hacked"}, "spec": {
        "size": 2}}, "application/merge-patch+json")
    assert body["status"] == {"phase": "Ready"} and body["spec"]["size"] == 2 and body["metadata"]["generation"] == 2
    code, body, _ = emu.request("PATCH", WIDGETS.format(ns=n) + "/w", {"metadata": {"labels": {"l": "1"}}},
                                "application/merge-patch+json")
    assert body["metadata"]["generation"] == 2


def test_custom_resource_schema(emu, crd):
    n = ns(emu, "sem-cr")
    base = {"apiVersion": "example.com/v1", "kind": "Widget"}
    code, body, _ = emu.request("POST", WIDGETS.format(ns=n), {**base, "metadata": {"name": "d"},
                                                               "spec": {"size": 2, "unknown": 1, "port": 80}})
    assert code == 201 and body["spec"] == {"size": 2, "port": 80, "color": "green"}  # pruned and defaulted
    code, body, _ = emu.request("POST", WIDGETS.format(ns=n) + "?fieldValidation=Strict", {
        **base, "metadata": {"name": "s"}, "spec": {"size": 2, "unknown": 1}})
    assert code == 400 and 'unknown field "spec.unknown"' in body["message"]
    code, body, _ = emu.request("POST", WIDGETS.format(ns=n), {**base, "metadata": {"name": "e"},
                                                               "spec": {"size": 0, "color": "pink"}})
    assert code == 422
    fields = {c["field"]: c["reason"] for c in body["details"]["causes"]}
    assert fields == {"spec.size": "FieldValueInvalid", "spec.color": "FieldValueNotSupported"}
    code, body, _ = emu.request("POST", WIDGETS.format(ns=n), {**base, "metadata": {"name": "r"}, "spec": {}})
    assert code == 422 and body["details"]["causes"][0]["field"] == "spec.size"
    code, body, _ = emu.request("PATCH", WIDGETS.format(ns=n) + "/d", {"spec": {"size": 3}},
                                "application/strategic-merge-patch+json")
    assert code == 415 and body["reason"] == "UnsupportedMediaType"
    assert emu.get(f"/apis/example.com/v1/widgets")["kind"] == "WidgetList"


# --- protobuf ----------------------------------------------------------------------------------------

def _pb_field(num: int, data: bytes) -> bytes:
    key, length, out = (num << 3) | 2, len(data), b""
    out += bytes([key])
    while True:
        b = length & 0x7F
        length >>= 7
        out += bytes([b | (0x80 if length else 0)])
        if not length:
            return out + data


def test_protobuf_secret_and_delete_options(emu):
    n = ns(emu, "sem-pb")
    label = _pb_field(1, b"owner") + _pb_field(2, b"helm")
    meta = _pb_field(1, b"pbsecret") + _pb_field(11, label)
    secret = meta and (_pb_field(1, meta) + _pb_field(2, _pb_field(1, b"release") + _pb_field(2, b"\x00\x01abc"))
                       + _pb_field(3, b"helm.sh/release.v1"))
    envelope = b"k8s\x00" + _pb_field(1, _pb_field(1, b"v1") + _pb_field(2, b"Secret")) + _pb_field(2, secret)
    code, body, _ = emu.request("POST", f"/api/v1/namespaces/{n}/secrets", envelope,
                                "application/vnd.kubernetes.protobuf")
    assert code == 201, body
    assert body["metadata"]["labels"] == {"owner": "helm"} and body["type"] == "helm.sh/release.v1"
    assert body["data"]["release"] == "AAFhYmM="
    opts = b"k8s\x00" + _pb_field(1, _pb_field(1, b"meta.k8s.io/v1") + _pb_field(2, b"DeleteOptions")) + \
        _pb_field(2, _pb_field(4, b"Background"))
    code, body, _ = emu.request("DELETE", f"/api/v1/namespaces/{n}/secrets/pbsecret", opts,
                                "application/vnd.kubernetes.protobuf")
    assert code == 200 and body["status"] == "Success"


# --- watch -------------------------------------------------------------------------------------------

def _watch_lines(emu, path, count, timeout=10.0):
    host, port = emu.url.split("//")[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n".encode())
    buf, events, deadline = b"", [], time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
        events = [json.loads(x) for x in buf.split(b"\r\n") if x.startswith(b"{")]
    sock.close()
    return events


def test_watch_list_bookmark_and_events(emu):
    n = ns(emu, "sem-watch")
    emu.request("POST", CM.format(ns=n), cm_body("w1", labels={"w": "1"}))
    import threading
    t = threading.Timer(0.5, lambda: (emu.request("POST", CM.format(ns=n), cm_body("w2", labels={"w": "1"})),
                                      emu.request("DELETE", CM.format(ns=n) + "/w1")))
    t.start()
    events = _watch_lines(emu, CM.format(ns=n) + "?watch=true&sendInitialEvents=true&allowWatchBookmarks=true"
                          "&resourceVersionMatch=NotOlderThan&labelSelector=w%3D1&timeoutSeconds=5", 4)
    t.join()
    kinds = [(e["type"], e["object"]["metadata"].get("name")) for e in events]
    assert kinds[0] == ("ADDED", "w1")
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert kinds[2:] == [("ADDED", "w2"), ("DELETED", "w1")]


def test_watch_from_resource_version_with_field_selector(emu):
    n = ns(emu, "sem-watch2")
    rv = emu.get(CM.format(ns=n))["metadata"]["resourceVersion"]
    emu.request("POST", CM.format(ns=n), cm_body("x"))
    emu.request("POST", CM.format(ns=n), cm_body("y"))
    emu.request("PATCH", CM.format(ns=n) + "/y", {"data": {"k": "z"}}, "application/merge-patch+json")
    events = _watch_lines(emu, CM.format(ns=n) + f"?watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3Dy"
                          "&timeoutSeconds=2", 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "y"), ("MODIFIED", "y")]


# --- deletion ----------------------------------------------------------------------------------------

def test_finalizers_hold_deletion(emu):
    n = ns(emu, "sem-fin")
    body = cm_body("f")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    emu.request("POST", CM.format(ns=n), body)
    code, out, _ = emu.request("DELETE", CM.format(ns=n) + "/f")
    assert code == 200 and out["metadata"]["deletionTimestamp"]
    assert emu.get(CM.format(ns=n) + "/f")["metadata"]["deletionTimestamp"]
    emu.request("PATCH", CM.format(ns=n) + "/f", {"metadata": {"finalizers": None}}, "application/merge-patch+json")
    assert emu.request("GET", CM.format(ns=n) + "/f")[0] == 404


def test_namespace_deletion_cascades(emu):
    n = ns(emu, "sem-nsdel")
    emu.request("POST", CM.format(ns=n), cm_body("c1"))
    held = cm_body("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    emu.request("POST", CM.format(ns=n), held)
    code, body, _ = emu.request("DELETE", f"/api/v1/namespaces/{n}")
    assert code == 200 and body["status"]["phase"] == "Terminating"
    code, body, _ = emu.request("POST", CM.format(ns=n), cm_body("late"))
    assert code == 403 and body["details"]["causes"][0]["reason"] == "NamespaceTerminating"
    emu.wait_for(lambda: emu.request("GET", CM.format(ns=n) + "/c1")[0] == 404)
    assert emu.get(f"/api/v1/namespaces/{n}")["status"]["phase"] == "Terminating"  # held by the finalizer
    emu.request("PATCH", CM.format(ns=n) + "/held", {"metadata": {"finalizers": None}},
                "application/merge-patch+json")
    emu.wait_for(lambda: emu.request("GET", f"/api/v1/namespaces/{n}")[0] == 404)
    code, body, _ = emu.request("DELETE", "/api/v1/namespaces/default")
    assert code == 403


def test_owner_reference_garbage_collection(emu):
    n = ns(emu, "sem-gc")
    code, owner, _ = emu.request("POST", CM.format(ns=n), cm_body("owner"))
    dep = cm_body("dependent")
    dep["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                                           "uid": owner["metadata"]["uid"]}]
    emu.request("POST", CM.format(ns=n), dep)
    orphan = cm_body("orphan")
    orphan["metadata"]["ownerReferences"] = dep["metadata"]["ownerReferences"]
    emu.request("POST", CM.format(ns=n), orphan)
    emu.request("DELETE", CM.format(ns=n) + "/owner?propagationPolicy=Background")
    emu.wait_for(lambda: emu.request("GET", CM.format(ns=n) + "/dependent")[0] == 404)
    # Foreground: the owner waits for its dependents
    code, owner, _ = emu.request("POST", CM.format(ns=n), cm_body("fg"))
    child = cm_body("child")
    child["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "fg",
                                             "uid": owner["metadata"]["uid"], "blockOwnerDeletion": True}]
    emu.request("POST", CM.format(ns=n), child)
    code, body, _ = emu.request("DELETE", CM.format(ns=n) + "/fg", {"propagationPolicy": "Foreground"})
    assert code == 200 and "foregroundDeletion" in body["metadata"]["finalizers"]
    emu.wait_for(lambda: emu.request("GET", CM.format(ns=n) + "/fg")[0] == 404)
    assert emu.request("GET", CM.format(ns=n) + "/child")[0] == 404


def test_deployment_deletion_collects_replicasets_and_pods(emu):
    n = ns(emu, "sem-depgc")
    emu.request("POST", DEP.format(ns=n), deployment("gc", replicas=2))
    emu.wait_for(lambda: len(emu.get(f"/api/v1/namespaces/{n}/pods")["items"]) == 2)
    code, body, _ = emu.request("DELETE", DEP.format(ns=n) + "/gc")
    assert code == 200 and body["kind"] == "Status" and body["status"] == "Success"
    emu.wait_for(lambda: not emu.get(f"/api/v1/namespaces/{n}/pods")["items"]
                 and not emu.get(f"/apis/apps/v1/namespaces/{n}/replicasets")["items"])


def test_a_request_is_in_the_request_log_once_its_response_arrives(emu):
    """Tests judge a run by the requests logged since they started it: every request must be logged before its
    response reaches the client, or a request of the test itself shows up in the next run's window."""
    ns = "request-log-order"
    emu.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    for i in range(200):
        code, _, _ = emu.request("POST", f"/api/v1/namespaces/{ns}/configmaps",
                                 {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}"}})
        assert code == 201
        last = emu.requests_logged()[-1]
        assert (last["method"], last["path"], last["status"]) == (
            "POST", f"/api/v1/namespaces/{ns}/configmaps", 201), f"request {i} was not logged before its response"


def test_the_log_entry_is_written_before_the_response():
    """The order inside the handler, without a race to win: log first, then status line, headers and body."""
    from types import SimpleNamespace

    from kubeemu import http as khttp

    events: list[str] = []
    handler = khttp.Handler.__new__(khttp.Handler)
    handler.server = SimpleNamespace(log=SimpleNamespace(write=lambda **entry: events.append(f"log {entry['status']}")))
    handler.wfile = SimpleNamespace(write=lambda data: events.append("body"))
    handler.command, handler.path, handler.headers = "POST", "/api/v1/namespaces/ns/configmaps", {}
    handler._logged, handler._start = False, 0.0
    handler.send_response = lambda code, message=None: events.append(f"status {code}")
    handler.send_header = lambda *args: None
    handler.end_headers = lambda: events.append("headers")
    handler._send(201, {"kind": "ConfigMap"})
    assert events == ["log 201", "status 201", "headers", "body"]
