"""The iomesh_dry_run action (plugins/action/iomesh_dry_run.py) on a fake API client: which items a server-side apply
would change, judged as kubernetes.core.k8s judges its own apply, from one read and one dry run per object over one
client; whatever cannot be told counts as a change, never as a failed task; the same under --check."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.iomesh.multicluster.plugins.action import iomesh_dry_run
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import k8s_client

from ..fake_k8s import api_error
from . import runner

ZK_API = "zookeeper.pravega.io/v1beta1"
IOMESH_API = "iomesh.com/v1alpha1"


def manifest(api_version, kind, name, namespace=None, **spec):
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **({"spec": spec} if spec else {})}


def stored(definition, **extra_meta):
    """The object as the API server keeps it: the manifest with the server's metadata."""
    out = copy.deepcopy(definition)
    out["metadata"].update({"uid": f"uid-{definition['metadata']['name']}", "resourceVersion": "41", "generation": 2,
                            "managedFields": [{"manager": "blk-deployer", "operation": "Apply"}], **extra_meta})
    return out


CM = manifest("v1", "ConfigMap", "tank-csi-configmap", "stor-west")
CM["data"] = {"metaAddr": "tank-meta-client.stor-west.svc.cluster.local:10100"}
ZK = manifest(ZK_API, "ZookeeperCluster", "tank-zookeeper", "stor-west", replicas=3)
CR = manifest(IOMESH_API, "IOMeshCluster", "tank", "stor-west", diskDeploymentMode="hybridFlash")
SC = manifest("storage.k8s.io/v1", "StorageClass", "tank-replica-2")
SC["parameters"] = {"replicaFactor": "2"}
SERVED = ("ConfigMap", "ZookeeperCluster", "IOMeshCluster", "StorageClass")
ALL = [stored(CM), stored(ZK), stored(CR), stored(SC)]


def run_action(args, check_mode=False):
    return runner.run_action(iomesh_dry_run.ActionModule, "Dry-run the storage objects",
                             {"field_manager": "blk-deployer", **args}, check_mode)


def applies(client):
    return [c for c in client.calls if c[0] == "apply"]


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_objects_an_apply_would_not_change_are_told_from_one_read_and_one_dry_run_each(fake_api, check_mode):
    client = fake_api(objects=ALL, served=SERVED)
    result = run_action({"definitions": [CM, [ZK, CR], SC], "request_timeout": 13, "kubeconfig": "/etc/stor/kc",
                         "context": "stor@west"}, check_mode=check_mode)
    assert not result.get("failed") and result["changed"] is False, result
    assert result["would_change"] == [False, False, False]
    assert result["reasons"] == [None, None, None] and result["pending"] == 0
    assert result["msg"] == "0 of 3 item(s) would change"
    # One client, with the task's connection.
    assert fake_api.holder["created"] == 1
    assert fake_api.holder["connection"] == {"kubeconfig": "/etc/stor/kc", "context": "stor@west"}
    # Each object read by name, then dry-run as the real apply would send it: the field manager, forced, dryRun=All.
    assert [c[1:] for c in client.calls if c[0] == "get"] == [
        ("ConfigMap", {"name": "tank-csi-configmap", "namespace": "stor-west", "_request_timeout": 13}),
        ("ZookeeperCluster", {"name": "tank-zookeeper", "namespace": "stor-west", "_request_timeout": 13}),
        ("IOMeshCluster", {"name": "tank", "namespace": "stor-west", "_request_timeout": 13}),
        ("StorageClass", {"name": "tank-replica-2", "namespace": None, "_request_timeout": 13})]
    assert [c[1:] for c in applies(client)] == [
        (kind, name, namespace, True, {"field_manager": "blk-deployer", "dry_run": "All", "_request_timeout": 13}, body)
        for kind, name, namespace, body in (("ConfigMap", "tank-csi-configmap", "stor-west", CM),
                                            ("ZookeeperCluster", "tank-zookeeper", "stor-west", ZK),
                                            ("IOMeshCluster", "tank", "stor-west", CR),
                                            ("StorageClass", "tank-replica-2", None, SC))]
    assert [c[1:] for c in client.calls if c[0] == "resource"] == [
        ("ConfigMap", "v1"), ("ZookeeperCluster", ZK_API), ("IOMeshCluster", IOMESH_API),
        ("StorageClass", "storage.k8s.io/v1")]


def test_a_field_that_would_change_marks_its_item_and_the_rest_of_the_item_is_not_dry_run(fake_api):
    def applied(obj, body):
        return {**obj, "spec": body["spec"]} if obj["kind"] == "ZookeeperCluster" else obj

    zk = manifest(ZK_API, "ZookeeperCluster", "tank-zookeeper", "stor-west", replicas=5)
    client = fake_api(objects=ALL, served=SERVED, applied=applied)
    result = run_action({"definitions": [CM, [zk, CR], SC], "force_conflicts": False})
    assert result["would_change"] == [False, True, False] and result["pending"] == 1
    assert result["reasons"] == [None, None, None]
    assert result["msg"] == "1 of 3 item(s) would change"
    # The item is applied whole: its IOMeshCluster needs no dry run of its own.
    assert [c[2] for c in applies(client)] == ["tank-csi-configmap", "tank-zookeeper", "tank-replica-2"]
    assert {c[4] for c in applies(client)} == {False}


def test_server_metadata_alone_is_no_change_nor_is_a_new_field_manager(fake_api):
    """kubernetes.core.k8s ignores a difference in metadata.generation and resourceVersion alone, and the collection's
    applies hide managedFields (constants.APPLY_HIDDEN_FIELDS): a manager taking over fields whose values stay is no
    change for the real apply, so none for the dry run either (else --check would report one the run does not).
    Anything else the server's answer holds that the stored object does not is a change."""
    def applied(obj, body):
        if obj["kind"] == "ConfigMap":
            return {**obj, "metadata": {**obj["metadata"], "resourceVersion": "42", "generation": 3}}
        if obj["kind"] == "StorageClass":
            return {**obj, "metadata": {**obj["metadata"], "managedFields": [
                {"manager": "blk-deployer", "operation": "Apply"}, {"manager": "kubectl-edit", "operation": "Update"}]}}
        if obj["kind"] == "IOMeshCluster":
            return {**obj, "metadata": {**obj["metadata"], "labels": {"tier": "gold"}, "managedFields": []}}
        return obj

    fake_api(objects=ALL, served=SERVED, applied=applied)
    assert run_action({"definitions": [CM, SC]})["would_change"] == [False, False]
    assert run_action({"definitions": [CR]})["would_change"] == [True]


def test_an_object_that_does_not_exist_would_be_created_without_a_dry_run(fake_api):
    other = manifest("v1", "ConfigMap", "vault-csi-configmap", "stor-east", )
    client = fake_api(objects=ALL, served=SERVED)
    result = run_action({"definitions": [other, CM]})
    assert result["would_change"] == [True, False] and result["reasons"] == [None, None]
    assert [c[2] for c in applies(client)] == ["tank-csi-configmap"]


def test_what_cannot_be_told_counts_as_a_change_with_the_clients_reason(fake_api):
    webhook = ('Internal error occurred: failed calling webhook "vcluster.iomesh.com": Post '
               '"https://tank-webhook.stor-west.svc:443/validate": x509: certificate signed by unknown authority')
    fake_api(objects=ALL, served=("ConfigMap", "IOMeshCluster", "StorageClass"),
             apply_errors={"tank": api_error(500, "Internal Server Error", webhook)},
             fail_for={"StorageClass": api_error(403, "Forbidden", 'storageclasses.storage.k8s.io "tank-replica-2" is '
                                                                   'forbidden: User "auditor" cannot get resource')})
    result = run_action({"definitions": [CR, ZK, SC, CM]})
    assert not result.get("failed") and result["changed"] is False
    assert result["would_change"] == [True, True, True, False] and result["pending"] == 3
    assert result["reasons"][0] == f"500 Internal Server Error: {webhook}"
    # The kind is not served (its CRD is not installed yet): the apply that follows says so.
    assert "ZookeeperCluster" in result["reasons"][1]
    assert result["reasons"][2].startswith('403 Forbidden: storageclasses.storage.k8s.io "tank-replica-2" is forbidden')
    assert result["reasons"][3] is None


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_a_client_that_cannot_be_created_leaves_every_item_to_apply(monkeypatch, check_mode):
    def get_api_client(**_connection):
        raise RuntimeError("Could not create API client: Invalid kube-config file. No configuration found.")

    monkeypatch.setattr(k8s_client, "get_api_client", get_api_client)
    result = run_action({"definitions": [CM, [ZK, CR]], "kubeconfig": "/nowhere"}, check_mode=check_mode)
    assert not result.get("failed") and result["changed"] is False
    assert result["would_change"] == [True, True] and result["pending"] == 2
    reason = "Could not create API client: Invalid kube-config file. No configuration found."
    assert result["reasons"] == [reason, reason]
    assert result["msg"] == f"Nothing was dry-run: the Kubernetes API cannot be used: {reason}"


@pytest.mark.parametrize("bad", [
    [{"kind": "ConfigMap", "metadata": {"name": "x"}}],
    [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}],
    [{"apiVersion": "v1", "kind": "", "metadata": {"name": "x"}}],
    [[CM, "tank"]],
    ["tank-csi-configmap"],
    [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": "x"}],
], ids=["no apiVersion", "no name", "empty kind", "a string in a group", "a string", "metadata not a mapping"])
def test_an_item_that_is_not_a_manifest_fails_the_task_before_any_request(fake_api, bad):
    client = fake_api(objects=ALL, served=SERVED)
    result = run_action({"definitions": [CM, *bad]})
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == ("iomesh_dry_run: every item of definitions must be a Kubernetes manifest (apiVersion, kind "
                             "and metadata.name) or a list of them.")
    assert client.calls == [] and fake_api.holder["created"] == 0


def test_no_items_make_no_request(fake_api):
    client = fake_api(objects=ALL, served=SERVED)
    result = run_action({"definitions": []})
    assert result["would_change"] == [] and result["pending"] == 0 and client.calls == []
    assert fake_api.holder["created"] == 0 and result["msg"] == "0 of 0 item(s) would change"
