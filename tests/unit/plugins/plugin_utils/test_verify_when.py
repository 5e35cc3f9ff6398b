"""When verification runs (iomesh_verify_when): the fingerprint of what a cluster's verification depends on, the
decision per cluster, and the record of passed results (plugins/plugin_utils/verify.py, filters iomesh_verify_plan
and iomesh_verify_record). Names are not the seed's: a cluster called anything must behave the same."""

from __future__ import annotations

import copy
import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_csi as c
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import verify

from ..conftest import Inventory, node

MGMT_NS = "vault-sys"
OPTIONS = {"namespace": "probe-ns", "size": "2Gi", "pod": True, "pod_image": "registry.local/bb:1",
           "node_label_key": "kubernetes.io/hostname"}
RECORD = "vault-verification"


@pytest.fixture
def clusters():
    inv = Inventory((3, 3, 3))
    inv.clusters[0].update(name="vault", namespace=MGMT_NS)
    inv.clusters[1].update(name="ledger", storage_class={"name": "ledger-fast"})
    inv.clusters[2].update(name="archive-2", namespace="cold-tier")
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


def obj(kind, name, namespace=None, uid=None, **meta):
    metadata = {"name": name, "uid": uid or f"uid-{kind}-{name}", **meta}
    if namespace:
        metadata["namespace"] = namespace
    return {"kind": kind, "metadata": metadata}


@pytest.fixture
def objects(clusters):
    nodes = []
    for cl in clusters:
        for n in cl["nodes"]:
            nodes.append({**node(n), "metadata": {**node(n)["metadata"], "uid": f"uid-node-{n}", "resourceVersion": "1"}})
    return {
        "iomesh_clusters": [obj("IOMeshCluster", cl["name"], cl["namespace"], generation=2) for cl in clusters],
        "zookeeper_clusters": [obj("ZookeeperCluster", cl["zookeeper_name"], cl["namespace"], generation=1)
                               for cl in clusters],
        "storage_classes": [obj("StorageClass", cl["storage_class"]["name"], resourceVersion="40") for cl in clusters],
        "configmaps": [obj("ConfigMap", cl["csi_configmap_name"], cl["namespace"], resourceVersion="41")
                       for cl in clusters],
        "workloads": [obj("Deployment", "iomesh-operator", MGMT_NS, generation=1),
                      obj("DaemonSet", "iomesh-csi-driver-node-plugin", MGMT_NS, generation=3),
                      obj("Deployment", "unrelated", "elsewhere", generation=9)],
        "nodes": nodes,
    }


def passed(cluster, run="r1"):
    return {**{k: None for k in verify.RESULT_KEYS}, "cluster": cluster, "namespace": "probe-ns", "result": "passed",
            "pvc": f"iomesh-verify-{cluster}-{run}", "phase": "Bound", "pv_nodes": ["w0"], "problems": [],
            "message": f"claim of {cluster} is Bound."}


def plan(clusters, objects, record=None, when="on_change", options=None):
    return c.iomesh_verify_plan(clusters, MGMT_NS, options or OPTIONS, objects, record=record, when=when)


def record_of(clusters, objects, results, earlier=None):
    first = plan(clusters, objects, earlier)
    return c.iomesh_verify_record(first, RECORD, MGMT_NS, results)["data"]


def test_without_a_record_every_cluster_is_verified_with_the_reason(clusters, objects):
    got = plan(clusters, objects)
    assert [cl["name"] for cl in got["verify"]] == ["vault", "ledger", "archive-2"]
    assert got["reasons"] == {name: "no earlier run passed its verification" for name in ("vault", "ledger", "archive-2")}
    assert got["kept"] == [] and got["kept_records"] == {}
    assert sorted(got["fingerprints"]) == ["archive-2", "ledger", "vault"]
    assert len(set(got["fingerprints"].values())) == 3


def test_a_record_of_the_same_state_keeps_every_result_and_verifies_nothing(clusters, objects):
    data = record_of(clusters, objects, [passed("vault"), passed("ledger"), passed("archive-2")])
    assert sorted(data) == ["archive-2", "ledger", "vault"]
    got = plan(clusters, objects, data)
    assert got["verify"] == [] and got["reasons"] == {}
    assert [r["cluster"] for r in got["kept"]] == ["vault", "ledger", "archive-2"]
    kept = got["kept"][1]
    assert kept == {**passed("ledger"), "message": verify.UNCHANGED + "claim of ledger is Bound."}
    assert got["kept_records"] == data


def test_always_verifies_every_cluster_even_when_unchanged(clusters, objects):
    data = record_of(clusters, objects, [passed("vault"), passed("ledger"), passed("archive-2")])
    got = plan(clusters, objects, data, when="always")
    assert [cl["name"] for cl in got["verify"]] == ["vault", "ledger", "archive-2"]
    assert set(got["reasons"].values()) == {"iomesh_verify_when is always"}
    assert got["kept"] == []


CHANGES = [
    ("iomesh_clusters", 1, "generation", 3, ["ledger"]),
    ("zookeeper_clusters", 2, "generation", 2, ["archive-2"]),
    ("storage_classes", 0, "resourceVersion", "99", ["vault"]),
    ("configmaps", 1, "resourceVersion", "77", ["ledger"]),
    ("iomesh_clusters", 2, "uid", "recreated", ["archive-2"]),
    # The management namespace's workloads (operator, CSI driver) count for every cluster.
    ("workloads", 0, "generation", 2, ["vault", "ledger", "archive-2"]),
    ("workloads", 1, "uid", "new", ["vault", "ledger", "archive-2"]),
    # A node of ledger (w3..w5) replaced.
    ("nodes", 4, "uid", "uid-node-w4-new", ["ledger"]),
]


@pytest.mark.parametrize("key, index, field, value, changed", CHANGES)
def test_a_change_of_what_a_verification_depends_on_verifies_that_cluster_again(clusters, objects, key, index, field,
                                                                                value, changed):
    data = record_of(clusters, objects, [passed("vault"), passed("ledger"), passed("archive-2")])
    later = copy.deepcopy(objects)
    later[key][index]["metadata"][field] = value
    got = plan(clusters, later, data)
    assert [cl["name"] for cl in got["verify"]] == changed
    assert set(got["reasons"].values()) == {
        "something its verification depends on changed since an earlier run passed it"}
    assert [r["cluster"] for r in got["kept"]] == [n for n in ("vault", "ledger", "archive-2") if n not in changed]


@pytest.mark.parametrize("key, index, field, value", [
    ("workloads", 2, "generation", 10),        # another namespace's Deployment
    ("nodes", 4, "resourceVersion", "2"),      # a node's status
    ("iomesh_clusters", 0, "resourceVersion", "9"),
])
def test_what_a_verification_does_not_depend_on_changes_nothing(clusters, objects, key, index, field, value):
    data = record_of(clusters, objects, [passed("vault"), passed("ledger"), passed("archive-2")])
    later = copy.deepcopy(objects)
    later[key][index]["metadata"][field] = value
    assert plan(clusters, later, data)["verify"] == []


def test_a_missing_object_is_a_change(clusters, objects):
    data = record_of(clusters, objects, [passed("vault"), passed("ledger"), passed("archive-2")])
    later = copy.deepcopy(objects)
    del later["storage_classes"][1]
    assert [cl["name"] for cl in plan(clusters, later, data)["verify"]] == ["ledger"]


@pytest.mark.parametrize("option, value", [("size", "3Gi"), ("pod", False), ("pod_image", "bb:2"),
                                           ("namespace", "other-probe")])
def test_a_change_of_how_clusters_are_verified_verifies_all_again(clusters, objects, option, value):
    data = record_of(clusters, objects, [passed("vault"), passed("ledger"), passed("archive-2")])
    got = plan(clusters, objects, data, options={**OPTIONS, option: value})
    assert [cl["name"] for cl in got["verify"]] == ["vault", "ledger", "archive-2"]


def test_a_change_of_a_clusters_nodes_in_the_inventory_verifies_it_again(clusters, objects):
    data = record_of(clusters, objects, [passed("vault"), passed("ledger"), passed("archive-2")])
    later = copy.deepcopy(clusters)
    later[2]["nodes"] = later[2]["nodes"][:2]
    assert [cl["name"] for cl in plan(later, objects, data)["verify"]] == ["archive-2"]


def test_a_failed_cluster_is_not_recorded_and_is_verified_again(clusters, objects):
    failed = {**passed("ledger"), "result": "failed", "message": "Pending"}
    data = record_of(clusters, objects, [passed("vault"), failed, passed("archive-2")])
    assert sorted(data) == ["archive-2", "vault"]
    got = plan(clusters, objects, data)
    assert [cl["name"] for cl in got["verify"]] == ["ledger"]
    assert got["reasons"] == {"ledger": "no earlier run passed its verification"}


def test_the_record_keeps_unverified_entries_verbatim_and_replaces_the_verified_ones(clusters, objects):
    data = record_of(clusters, objects, [passed("vault"), passed("ledger"), passed("archive-2")])
    later = copy.deepcopy(objects)
    later["configmaps"][1]["metadata"]["resourceVersion"] = "78"
    second = plan(clusters, later, data)
    manifest = c.iomesh_verify_record(second, RECORD, MGMT_NS, [passed("ledger", run="r2")])
    assert manifest["metadata"] == {"name": RECORD, "namespace": MGMT_NS,
                                    "labels": {"app.kubernetes.io/managed-by": "iomesh.multicluster",
                                               "app.kubernetes.io/component": "verify-record"}}
    assert manifest["kind"] == "ConfigMap" and manifest["apiVersion"] == "v1"
    assert list(manifest["data"]) == ["archive-2", "ledger", "vault"]
    assert manifest["data"]["vault"] == data["vault"] and manifest["data"]["archive-2"] == data["archive-2"]
    entry = json.loads(manifest["data"]["ledger"])
    assert entry == {"fingerprint": second["fingerprints"]["ledger"], "result": passed("ledger", run="r2")}
    assert entry["fingerprint"] != json.loads(data["ledger"])["fingerprint"]
    # The next run keeps all three.
    assert plan(clusters, later, manifest["data"])["verify"] == []


def test_a_cluster_removed_from_the_inventory_leaves_the_record(clusters, objects):
    data = record_of(clusters, objects, [passed("vault"), passed("ledger"), passed("archive-2")])
    got = plan(clusters[:2], objects, data)
    manifest = c.iomesh_verify_record(got, RECORD, MGMT_NS, [])
    assert sorted(manifest["data"]) == ["ledger", "vault"]


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"fingerprint": 1, "result": {}}',
                                  '{"fingerprint": "x", "result": {"result": "failed"}}', '{"result": {}}'])
def test_an_unreadable_or_foreign_record_entry_is_verified_again(clusters, objects, text):
    data = record_of(clusters, objects, [passed("vault"), passed("ledger"), passed("archive-2")])
    got = plan(clusters, objects, {**data, "ledger": text})
    assert [cl["name"] for cl in got["verify"]] == ["ledger"]
    assert got["reasons"]["ledger"] == "no earlier run passed its verification"


def test_the_fingerprint_ignores_order_and_is_stable(clusters, objects):
    shuffled = {key: list(reversed(value)) for key, value in objects.items()}
    assert plan(clusters, shuffled)["fingerprints"] == plan(clusters, objects)["fingerprints"]
    digest = verify.fingerprint(clusters[1], MGMT_NS, OPTIONS, objects)
    assert len(digest) == 64 and digest == plan(clusters, objects)["fingerprints"]["ledger"]


@pytest.mark.parametrize("args, kwargs, message", [
    (("not-a-list", MGMT_NS, OPTIONS, {}), {}, "expects the cluster list"),
    ((None, "Bad_NS", OPTIONS, None), {}, "namespace must be a namespace name"),
    ((None, MGMT_NS, "x", None), {}, "options must be a dictionary"),
    ((None, MGMT_NS, OPTIONS, {"nodes": []}), {}, "objects must be a dictionary with the keys iomesh_clusters, "),
    ((None, MGMT_NS, OPTIONS, None), {"when": "sometimes"},
     "when must be one of on_change, always \\(iomesh_verify_when\\), got 'sometimes'"),
    ((None, MGMT_NS, OPTIONS, None), {"record": ["x"]}, "record must be the data of the record ConfigMap"),
])
def test_plan_argument_errors(clusters, objects, args, kwargs, message):
    args = tuple(clusters if a is None and i == 0 else objects if a is None and i == 3 else a
                 for i, a in enumerate(args))
    with pytest.raises(AnsibleFilterError, match=message):
        c.iomesh_verify_plan(*args, **kwargs)


def test_plan_refuses_an_object_list_that_is_not_one(clusters, objects):
    with pytest.raises(AnsibleFilterError, match="objects.nodes must be"):
        c.iomesh_verify_plan(clusters, MGMT_NS, OPTIONS, {**objects, "nodes": {"items": []}})


@pytest.mark.parametrize("args, message", [
    (({}, RECORD, MGMT_NS, []), "expects the result of iomesh_verify_plan"),
    ((None, "", MGMT_NS, []), "name must be the record ConfigMap's name"),
    ((None, RECORD, "-bad", []), "namespace must be a namespace name"),
    ((None, RECORD, MGMT_NS, "x"), "results must be the verification results"),
])
def test_record_argument_errors(clusters, objects, args, message):
    args = (plan(clusters, objects) if args[0] is None else args[0],) + args[1:]
    with pytest.raises(AnsibleFilterError, match=message):
        c.iomesh_verify_record(*args)
