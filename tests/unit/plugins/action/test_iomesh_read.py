"""The iomesh_read action (plugins/action/iomesh_read.py) on a fake API client: many reads over one client, each read
answered as kubernetes.core.k8s_info would answer it, a failed read an answer (null objects and the client's reason)
rather than a failed task, the API that cannot be used said as iomesh_api_probe says it, and the same under --check."""

from __future__ import annotations


import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.iomesh.multicluster.plugins.action import iomesh_read
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import k8s_client

from ..fake_k8s import api_error
from . import runner


def obj(kind, name, namespace=None, **labels):
    meta = {"name": name, **({"namespace": namespace} if namespace else {}), **({"labels": labels} if labels else {})}
    return {"kind": kind, "metadata": meta}


EAST_META = obj("Pod", "vault-meta-0", "stor-east", app="meta")
EAST_CHUNK = obj("Pod", "vault-chunk-0", "stor-east", app="chunk")
WEST_META = obj("Pod", "tank-meta-0", "stor-west", app="meta")
EAST_CM = obj("ConfigMap", "vault-csi-configmap", "stor-east")
SC = obj("StorageClass", "tank-replica-2")
OBJECTS = [EAST_META, EAST_CHUNK, WEST_META, EAST_CM, SC, obj("Namespace", "stor-east"), obj("Namespace", "stor-west")]
SERVED = ("Pod", "ConfigMap", "StorageClass", "Namespace")


def run_action(args, check_mode=False):
    return runner.run_action(iomesh_read.ActionModule, "Read the storage clusters", args, check_mode)


READS = [
    {"key": "pods in stor-east", "kind": "Pod", "namespace": "stor-east"},
    {"key": "pods in stor-west", "kind": "Pod", "namespace": "stor-west"},
    {"key": "config of vault", "kind": "ConfigMap", "namespace": "stor-east", "name": "vault-csi-configmap"},
    {"key": "storage classes", "api_version": "storage.k8s.io/v1", "kind": "StorageClass"},
    {"key": "vault clusters", "api_version": "iomesh.com/v1alpha1", "kind": "IOMeshCluster"},
]


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_several_reads_are_made_over_one_client_and_returned_per_key(fake_api, check_mode):
    client = fake_api(objects=OBJECTS, served=SERVED)
    result = run_action({"reads": READS, "request_timeout": 11, "kubeconfig": "/etc/stor/kubeconfig",
                         "context": "stor-admin@east"}, check_mode=check_mode)
    assert not result.get("failed") and result["changed"] is False, result
    assert result["objects"] == {
        "pods in stor-east": [EAST_META, EAST_CHUNK], "pods in stor-west": [WEST_META], "config of vault": [EAST_CM],
        "storage classes": [SC],
        # Its CRD is not installed: no objects, as k8s_info reads it.
        "vault clusters": []}
    assert result["errors"] == {} and result["reachable"] is True and result["error"] == ""
    # Whether each kind is served, as k8s_info's api_found says it.
    assert result["api_found"] == {"pods in stor-east": True, "pods in stor-west": True, "config of vault": True,
                                   "storage classes": True, "vault clusters": False}
    assert result["msg"] == "5 read(s), 0 failed"
    # One client, with the task's connection; the API asked whether it answers, then one request per read.
    assert fake_api.holder["created"] == 1
    assert fake_api.holder["connection"] == {"kubeconfig": "/etc/stor/kubeconfig", "context": "stor-admin@east"}
    assert client.calls[0] == ("request", "get", "/version", {"_request_timeout": 11})
    assert [c[1:] for c in client.calls if c[0] == "get"] == [
        ("Pod", {"_request_timeout": 11, "namespace": "stor-east"}),
        ("Pod", {"_request_timeout": 11, "namespace": "stor-west"}),
        ("ConfigMap", {"_request_timeout": 11, "namespace": "stor-east", "name": "vault-csi-configmap"}),
        ("StorageClass", {"_request_timeout": 11})]
    # Each kind looked up with its API version (v1 when none is given).
    assert [c[1:] for c in client.calls if c[0] == "resource"][:4] == [
        ("Pod", "v1"), ("Pod", "v1"), ("ConfigMap", "v1"), ("StorageClass", "storage.k8s.io/v1")]
    # The kind not served is looked up once (api_found included): the client's own lookup already looked past its
    # discovery cache.
    assert ("invalidate",) not in client.calls
    assert client.calls.count(("resource", "IOMeshCluster", "iomesh.com/v1alpha1")) == 1


def test_label_selectors_are_passed_joined_and_a_missing_name_is_no_objects(fake_api):
    client = fake_api(objects=OBJECTS, served=SERVED)
    result = run_action({"reads": [
        {"key": "meta of tank", "kind": "Pod", "namespace": "stor-west", "label_selectors": ["app=meta", "tier=ssd"]},
        {"key": "gone", "kind": "ConfigMap", "namespace": "stor-west", "name": "tank-csi-configmap"}]})
    assert [c for c in client.calls if c[0] == "get"][0] == ("get", "Pod", {
        "_request_timeout": 60, "namespace": "stor-west", "label_selector": "app=meta,tier=ssd"})
    assert result["objects"]["gone"] == [] and result["errors"] == {}
    # No objects, but the kind is served.
    assert result["api_found"] == {"meta of tank": True, "gone": True}


def test_a_failed_read_is_null_with_the_clients_reason_and_the_others_still_read(fake_api):
    fake_api(objects=OBJECTS, served=SERVED, fail_for={
        "ConfigMap": api_error(403, "Forbidden", 'configmaps is forbidden: User "auditor" cannot list resource '
                                                 '"configmaps" in API group "" in the namespace "stor-east"')})
    result = run_action({"reads": READS})
    assert not result.get("failed") and result["changed"] is False
    assert result["objects"]["config of vault"] is None
    assert result["api_found"]["config of vault"] is None and result["api_found"]["pods in stor-west"] is True
    assert result["errors"] == {"config of vault": '403 Forbidden: configmaps is forbidden: User "auditor" cannot list '
                                                   'resource "configmaps" in API group "" in the namespace "stor-east"'}
    assert result["objects"]["pods in stor-west"] == [WEST_META] and result["objects"]["storage classes"] == [SC]
    # The API answered: the failure is that read's, not the API's.
    assert result["reachable"] is True and result["error"] == ""
    assert result["msg"] == "5 read(s), 1 failed"


def test_a_read_that_times_out_is_failed_not_hung(fake_api):
    fake_api(objects=[], served=SERVED,
             fail=TimeoutError("HTTPSConnectionPool(host='api.stor', port=6443): Read timed out. (read timeout=3)"))
    result = run_action({"reads": READS[:2], "request_timeout": 3})
    assert result["objects"] == {"pods in stor-east": None, "pods in stor-west": None}
    assert all(reason.endswith("Read timed out. (read timeout=3)") for reason in result["errors"].values())
    assert set(result["errors"]) == {"pods in stor-east", "pods in stor-west"}


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_a_client_that_cannot_be_created_makes_no_read_and_says_why(monkeypatch, check_mode):
    def get_api_client(**_connection):
        raise RuntimeError("Could not create API client: Invalid kube-config file. No configuration found.")

    monkeypatch.setattr(k8s_client, "get_api_client", get_api_client)
    result = run_action({"reads": READS, "kubeconfig": "/nowhere"}, check_mode=check_mode)
    assert not result.get("failed") and result["changed"] is False
    assert result["reachable"] is False
    # Whole, as iomesh_api_probe returns it: the report words it with the iomesh_api_error_reason filter.
    assert result["error"] == "Could not create API client: Invalid kube-config file. No configuration found."
    assert result["objects"] == {read["key"]: None for read in READS}
    assert result["api_found"] == {read["key"]: None for read in READS}
    assert set(result["errors"]) == {read["key"] for read in READS}
    assert result["msg"] == ("No read was made: the Kubernetes API cannot be used: Could not create API client: "
                             "Invalid kube-config file. No configuration found.")


def test_an_api_that_does_not_answer_makes_no_read(fake_api):
    refused = ("HTTPSConnectionPool(host='10.9.8.7', port=6443): Max retries exceeded with url: /version (Caused by "
               "NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new "
               "connection: [Errno 111] Connection refused'))")
    client = fake_api(objects=OBJECTS, served=SERVED, version_error=ConnectionError(refused))
    result = run_action({"reads": READS[:2]})
    assert result["reachable"] is False and result["error"] == refused
    assert result["objects"] == {"pods in stor-east": None, "pods in stor-west": None}
    assert result["errors"] == {key: "Failed to establish a new connection: [Errno 111] Connection refused"
                                for key in ("pods in stor-east", "pods in stor-west")}
    assert [c[0] for c in client.calls] == ["request"]


def test_a_key_given_twice_is_refused_before_any_read(fake_api):
    client = fake_api(objects=OBJECTS, served=SERVED)
    reads = [*READS, {"key": "storage classes", "kind": "Namespace"}, {"key": "pods in stor-west", "kind": "Pod"}]
    result = run_action({"reads": reads})
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == ("iomesh_read: each read needs a key of its own; 'pods in stor-west', 'storage classes' are "
                             "given to more than one read.")
    result = run_action({"reads": [*READS, {"key": "vault clusters", "kind": "Namespace"}]})
    assert result["msg"] == "iomesh_read: each read needs a key of its own; 'vault clusters' is given to more than one read."
    assert client.calls == [] and fake_api.holder["created"] == 0


def test_arguments_are_validated_before_any_read(fake_api):
    client = fake_api(objects=OBJECTS, served=SERVED)
    with pytest.raises(AnsibleActionFail, match="missing required arguments: kind found in reads"):
        run_action({"reads": [{"key": "what"}]})
    with pytest.raises(AnsibleActionFail, match="missing required arguments: key found in reads"):
        run_action({"reads": [{"kind": "Pod"}]})
    with pytest.raises(AnsibleActionFail, match="missing required arguments: reads"):
        run_action({})
    assert client.calls == []


def test_an_empty_list_reads_nothing_and_a_zero_timeout_is_still_a_bound(fake_api):
    client = fake_api(objects=OBJECTS, served=SERVED)
    result = run_action({"reads": [], "request_timeout": 0})
    assert (result["objects"], result["errors"], result["reachable"]) == ({}, {}, True)
    result = run_action({"reads": READS[:1], "request_timeout": -4})
    assert {c[-1]["_request_timeout"] for c in client.calls if c[0] in ("get", "request")} == {1}


def test_an_ordinary_run_warns_about_nothing(fake_api, monkeypatch):
    """The read's `key` is no secret (no no_log warning), and nothing else is warned about."""
    warnings = []
    monkeypatch.setattr("ansible.plugins.action.display.warning", lambda msg, *a, **kw: warnings.append(msg))
    fake_api(objects=OBJECTS, served=SERVED)
    result = run_action({"reads": READS})
    assert warnings == [] and not result.get("warnings"), (warnings, result.get("warnings"))


def test_fail_on_error_fails_naming_each_read_that_failed_and_keeps_the_objects(fake_api):
    fake_api(objects=OBJECTS, served=SERVED, fail_for={
        "ConfigMap": api_error(403, "Forbidden", "configmaps is forbidden"),
        "StorageClass": api_error(500, "Internal Server Error", "etcd timeout")})
    result = run_action({"reads": READS, "fail_on_error": True})
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == ("Could not read config of vault: 403 Forbidden: configmaps is forbidden; "
                             "storage classes: 500 Internal Server Error: etcd timeout")
    assert result["objects"]["pods in stor-east"] == [EAST_META, EAST_CHUNK]
    assert result["objects"]["config of vault"] is None and result["reachable"] is True


def test_fail_on_error_fails_when_the_api_cannot_be_used(fake_api):
    fake_api(objects=OBJECTS, served=SERVED, version_error=ConnectionError("Connection refused"))
    result = run_action({"reads": READS[:1], "fail_on_error": True})
    assert result["failed"] is True and result["reachable"] is False
    assert result["msg"].startswith("No read was made: the Kubernetes API cannot be used: ")


def test_fail_on_error_does_not_fail_when_every_read_succeeded(fake_api):
    fake_api(objects=OBJECTS, served=SERVED)
    result = run_action({"reads": READS, "fail_on_error": True})
    assert not result.get("failed") and result["msg"] == "5 read(s), 0 failed"


def test_managed_fields_are_left_out_when_asked_and_kept_by_default(fake_api):
    managed = [{"manager": "kubelet", "operation": "Update", "fieldsV1": {"f:status": {}}}]
    pod = {"kind": "Pod", "metadata": {"name": "vault-meta-0", "namespace": "stor-east", "uid": "u1",
                                       "managedFields": managed}, "spec": {"nodeName": "n1"}}
    bare = {"kind": "Pod", "metadata": {"name": "vault-chunk-0", "namespace": "stor-east"}}
    fake_api(objects=[pod, bare], served=SERVED)
    reads = [{"key": "pods", "kind": "Pod", "namespace": "stor-east"}]
    kept = run_action({"reads": reads})
    assert kept["objects"]["pods"] == [pod, bare]
    dropped = run_action({"reads": reads, "managed_fields": False})
    assert dropped["objects"]["pods"] == [
        {"kind": "Pod", "metadata": {"name": "vault-meta-0", "namespace": "stor-east", "uid": "u1"},
         "spec": {"nodeName": "n1"}}, bare]
    # The objects read are not changed in place.
    assert pod["metadata"]["managedFields"] == managed
