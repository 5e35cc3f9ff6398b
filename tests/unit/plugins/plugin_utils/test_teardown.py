"""The guarded teardown (plugins/plugin_utils/teardown.py and the iomesh_teardown_* filters): which clusters go, what is
deleted in which order, what refuses it, and what is left. Objects are written out as the API returns them; names and
namespaces are not the defaults."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_teardown as tf
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import plan as plan_utils
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import teardown

from ..conftest import Inventory

MANAGED = {"app.kubernetes.io/managed-by": "iomesh.multicluster"}
CLUSTER = "iomesh.multicluster/cluster"


@pytest.fixture(name="plan")
def plan_fixture():
    inv = Inventory(sizes=(3, 3, 3))
    for cluster, (name, namespace) in zip(inv.clusters, (("hub", "hub-sys"), ("west", "west-ns"), ("east", None))):
        cluster["name"] = name
        if namespace:
            cluster["namespace"] = namespace
    inv.clusters[1]["storage_class"] = {"name": "west-fast"}
    built = plan_utils.build(inv.clusters, inv.groups, inv.hostvars, {})
    assert built["errors"] == []
    return built


def obj(api_version, kind, name, namespace=None, labels=None, **rest):
    meta = {"name": name, **({"namespace": namespace} if namespace else {}), **({"labels": labels} if labels else {})}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **rest}


def sc(name, connection=None, ours=True, provisioner="com.iomesh.csi-driver"):
    params = {"clusterConnection": connection} if connection else {}
    return obj("storage.k8s.io/v1", "StorageClass", name, labels=dict(MANAGED) if ours else None,
               provisioner=provisioner, parameters=params)


def claim(namespace, name, storage_class, labels=None):
    return obj("v1", "PersistentVolumeClaim", name, namespace, labels, spec={"storageClassName": storage_class})


def pod(namespace, name, labels=None):
    return obj("v1", "Pod", name, namespace, labels)


def verification(kind, cluster):
    labels = {**MANAGED, "app.kubernetes.io/component": "verify", CLUSTER: cluster}
    maker = claim if kind == "PersistentVolumeClaim" else pod
    args = ("checks", f"iomesh-verify-{cluster}-1") + (("x",) if maker is claim else ())
    return maker(*args, labels=labels)


def deployed(plan):
    """What a deployment of the three clusters leaves in the API, as iomesh_read returns it for reads()."""
    hub, west, east = plan["clusters"]
    objects = {
        "storage_classes": [sc("west-fast", west["cluster_connection"]), sc("east", east["cluster_connection"]),
                            sc("hub", hub["cluster_connection"]), sc("iomesh-csi-driver", ours=False),
                            sc("hostpath", ours=False, provisioner="kubevirt.io/hostpath-provisioner")],
        "claims": [*(verification("PersistentVolumeClaim", c["name"]) for c in (hub, west, east)),
                   claim("west-ns", "meta-data-west-meta-0", "hostpath")],
        "pods": [verification("Pod", c["name"]) for c in (hub, west, east)],
        "configmaps": [obj("v1", "ConfigMap", c["csi_configmap_name"], c["namespace"], dict(MANAGED))
                       for c in (hub, west, east)],
        "iomesh_clusters": [obj("iomesh.com/v1alpha1", "IOMeshCluster", c["name"], c["namespace"])
                            for c in (hub, west, east)],
        "zookeeper_clusters": [obj("zookeeper.pravega.io/v1beta1", "ZookeeperCluster", c["zookeeper_name"],
                                   c["namespace"]) for c in (hub, west, east)],
        "namespaces": [obj("v1", "Namespace", ns) for ns in ("hub-sys", "west-ns", "east", "checks", "default")],
        "block_devices": [obj("openebs.io/v1alpha1", "BlockDevice", f"blockdevice-{i}", "hub-sys",
                              {CLUSTER: "west", "kubernetes.io/hostname": f"w{3 + i}"}, spec={"path": "/dev/sdb"})
                          for i in range(2)],
        "pods in west-ns": [pod("west-ns", n) for n in ("west-meta-0", "west-chunk-1", "west-zookeeper-2",
                                                        "west-iscsi-redirector-x7k2p")],
        "pods in east": [pod("east", "east-meta-0")],
    }
    return objects


def select(plan, clusters, confirm=True):
    return tf.iomesh_teardown_selection(plan, confirm, clusters)


def test_refused_without_the_confirmation_or_a_cluster(plan):
    for confirm in (False, None, "true", "yes", 1):
        errors = select(plan, ["west"], confirm)["errors"]
        assert len(errors) == 1 and errors[0].startswith("iomesh_confirm_data_loss is not true")
    for clusters in ([], None, "", " ", [1], [""]):
        errors = select(plan, clusters)["errors"]
        assert errors and "iomesh_teardown_clusters names no cluster" in errors[-1]
    assert "names moon, not in iomesh_clusters (hub, west, east)" in select(plan, ["west", "moon"])["errors"][0]


def test_the_management_cluster_goes_only_with_every_other(plan):
    errors = select(plan, ["hub", "west"])["errors"]
    assert errors == [errors[0]] and "names the management cluster hub but not east" in errors[0]
    for clusters in ("all", ["all"], ["east", "hub", "west"]):
        chosen = select(plan, clusters)
        assert chosen["errors"] == [] and chosen["all"] is True
        assert [c["name"] for c in chosen["clusters"]] == ["hub", "west", "east"]
    one = select(plan, "west")
    assert one["all"] is False and [c["name"] for c in one["clusters"]] == ["west"] and one["errors"] == []


def test_one_cluster_deletes_its_own_objects_in_iomesh_order(plan):
    done = tf.iomesh_teardown_plan(select(plan, ["west"]), plan, deployed(plan))
    assert done["problems"] == [] and done["changes"] is True and done["release"] is None
    assert [(d["phase"], d["kind"], d.get("namespace", ""), d["name"]) for d in done["deletions"]] == [
        ("verify", "Pod", "checks", "iomesh-verify-west-1"),
        ("verify", "PersistentVolumeClaim", "checks", "iomesh-verify-west-1"),
        ("csi", "ConfigMap", "west-ns", "west-csi-configmap"),
        ("csi", "StorageClass", "", "west-fast"),
        ("custom_resources", "IOMeshCluster", "west-ns", "west"),
        ("custom_resources", "ZookeeperCluster", "west-ns", "west-zookeeper"),
        ("namespaces", "Namespace", "", "west-ns"),
    ]
    assert done["management"] == []
    # The released disks, listed with the commands to run by hand.
    assert [d["name"] for d in done["block_devices"]] == ["blockdevice-0", "blockdevice-1"]
    assert "BlockDevice blockdevice-0 (w3:/dev/sdb, cluster west)" in done["lines"][-2]
    assert "wipefs --all <path>" in done["lines"][-1] and "kubectl -n hub-sys label blockdevice" in done["lines"][-1]


def test_every_cluster_ends_with_the_management_custom_resources_and_the_release(plan):
    live = deployed(plan)
    live["monitors"] = [obj("monitoring.coreos.com/v1", "ServiceMonitor", "iomesh", "metrics", dict(MANAGED)),
                        obj("monitoring.coreos.com/v1", "ServiceMonitor", "node-exporter", "metrics")]
    done = tf.iomesh_teardown_plan(select(plan, "all"), plan, live, {"status": "deployed"})
    phases = [d["phase"] for d in done["deletions"]]
    assert phases == sorted(phases, key=teardown.PHASES.index)
    # With the ServiceMonitor the collection applied (monitoring), not one of someone else's.
    assert [(d["kind"], d["name"]) for d in done["management"]] == [
        ("IOMeshCluster", "hub"), ("ZookeeperCluster", "hub-zookeeper"), ("ServiceMonitor", "iomesh")]
    # The management namespace is never deleted; the additional clusters' are.
    assert [d["name"] for d in done["namespaces"]] == ["west-ns", "east"]
    assert done["release"] == {"name": "hub", "namespace": "hub-sys"}
    assert [line for line in done["lines"] if line.startswith("6. ")] == [
        "6. Helm release hub-sys/hub (helm uninstall, its delete hook included)"]
    # A class the collection does not own is left (the chart's own goes with its release).
    assert ("StorageClass", "iomesh-csi-driver") not in [(d["kind"], d["name"]) for d in done["deletions"]]
    # Without the release, nothing is uninstalled.
    assert tf.iomesh_teardown_plan(select(plan, "all"), plan, deployed(plan))["release"] is None


def test_claims_on_a_removed_cluster_refuse_it_unless_forced(plan):
    live = deployed(plan)
    hub, west = plan["clusters"][:2]
    live["storage_classes"].append(sc("west-archive", west["cluster_connection"], ours=False))
    live["claims"] += [claim("apps", "orders", "west-archive"), claim("apps", "cache", "east"),
                       claim("apps", "logs", "iomesh-csi-driver"), claim("apps", "scratch", "hostpath")]
    done = tf.iomesh_teardown_plan(select(plan, ["west"]), plan, live)
    # A class of anyone's that connects to the cluster counts; other clusters' classes and the verification do not.
    assert done["claims"] == ["PersistentVolumeClaim apps/orders (StorageClass west-archive, cluster west)"]
    assert len(done["problems"]) == 1 and "iomesh_teardown_force: true" in done["problems"][0]
    assert tf.iomesh_teardown_plan(select(plan, ["west"]), plan, live, None, True)["problems"] == []
    # With every cluster, every class of the CSI driver counts; the hostpath class does not.
    everything = tf.iomesh_teardown_plan(select(plan, "all"), plan, live)
    assert [c.split(" (")[0] for c in everything["claims"]] == [
        "PersistentVolumeClaim apps/cache", "PersistentVolumeClaim apps/logs", "PersistentVolumeClaim apps/orders"]
    assert hub["name"] == "hub"


def test_a_namespace_holding_what_is_not_iomesh_is_refused_unless_kept(plan):
    live = deployed(plan)
    live["pods in west-ns"].append(pod("west-ns", "billing-7d9f"))
    live["claims"].append(claim("west-ns", "billing-db", "standard"))
    done = tf.iomesh_teardown_plan(select(plan, ["west"]), plan, live)
    assert done["foreign"] == {"west-ns": ["PersistentVolumeClaim west-ns/billing-db", "Pod west-ns/billing-7d9f"]}
    assert len(done["problems"]) == 1 and "iomesh_teardown_keep_namespaces: true" in done["problems"][0]
    kept = tf.iomesh_teardown_plan(select(plan, ["west"]), plan, live, None, False, True)
    assert kept["problems"] == [] and kept["namespaces"] == []
    assert [d["kind"] for d in kept["custom_resources"]] == ["IOMeshCluster", "ZookeeperCluster"]


def test_a_finished_teardown_has_nothing_to_do(plan):
    live = deployed(plan)
    west = plan["clusters"][1]
    gone = {"claims": [c for c in live["claims"] if "west" not in c["metadata"]["name"]],
            "pods": [p for p in live["pods"] if "west" not in p["metadata"]["name"]],
            "storage_classes": [s for s in live["storage_classes"] if s["metadata"]["name"] != "west-fast"],
            "configmaps": [c for c in live["configmaps"] if c["metadata"]["namespace"] != west["namespace"]],
            "iomesh_clusters": [c for c in live["iomesh_clusters"] if c["metadata"]["name"] != "west"],
            "zookeeper_clusters": [c for c in live["zookeeper_clusters"] if c["metadata"]["namespace"] != "west-ns"],
            "namespaces": [n for n in live["namespaces"] if n["metadata"]["name"] != "west-ns"],
            "block_devices": live["block_devices"], "pods in west-ns": []}
    done = tf.iomesh_teardown_plan(select(plan, ["west"]), plan, gone)
    assert done["deletions"] == [] and done["changes"] is False and done["problems"] == []
    assert done["block_devices"]  # still listed: never wiped, still the operator's to handle


def test_a_class_of_the_same_name_that_is_not_ours_is_left_and_said(plan):
    live = deployed(plan)
    live["storage_classes"] = [s for s in live["storage_classes"] if s["metadata"]["name"] != "west-fast"]
    live["storage_classes"].append(sc("west-fast", "elsewhere", ours=False))
    done = tf.iomesh_teardown_plan(select(plan, ["west"]), plan, live)
    assert ("StorageClass", "west-fast") not in [(d["kind"], d["name"]) for d in done["csi"]]
    assert done["foreign_storage_classes"] == ["west-fast"]
    assert any("StorageClass west-fast is not the collection's" in line for line in done["lines"])


def test_reads_cover_the_namespaces_to_delete_and_the_leftovers(plan):
    reads = tf.iomesh_teardown_reads(select(plan, ["west"]), plan)
    keys = [r["key"] for r in reads]
    assert "pods in west-ns" in keys and "pods in east" not in keys and "pods in hub-sys" not in keys
    assert "monitors" not in keys and "monitors" in [r["key"] for r in tf.iomesh_teardown_reads(select(plan, "all"), plan)]
    disks = next(r for r in reads if r["key"] == "block_devices")
    assert disks["namespace"] == "hub-sys" and disks["label_selectors"] == [CLUSTER]
    after_one = {r["key"] for r in tf.iomesh_teardown_reads(select(plan, ["west"]), plan, True)}
    after_all = {r["key"] for r in tf.iomesh_teardown_reads(select(plan, "all"), plan, True)}
    assert "crds" not in after_one and {"crds", "kept Deployment", "kept DaemonSet"} <= after_all


def test_leftovers_name_volumes_kept_objects_crds_and_disks(plan):
    selection = select(plan, "all")
    after = {
        "storage_classes": [],
        "volumes": [obj("v1", "PersistentVolume", "pvc-1", spec={"storageClassName": "east",
                                                                 "csi": {"driver": "com.iomesh.csi-driver"}},
                        status={"phase": "Released"}),
                    obj("v1", "PersistentVolume", "pvc-2", spec={"storageClassName": "standard"})],
        "namespaces": [obj("v1", "Namespace", "east")],
        "kept Deployment": [obj("apps/v1", "Deployment", "operator", "hub-sys")],
        "crds": [obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "iomeshclusters.iomesh.com",
                     spec={"group": "iomesh.com"}),
                 obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com",
                     spec={"group": "example.com"})],
        "block_devices": deployed(plan)["block_devices"],
    }
    lines = tf.iomesh_teardown_leftovers(selection, plan, after)
    assert lines[0].startswith("PersistentVolume pvc-1 (StorageClass east, Released)")
    assert "Namespace east (kept, or still terminating)" in lines
    assert any(line.startswith("Deployment hub-sys/operator") for line in lines)
    assert any("iomeshclusters.iomesh.com" in line for line in lines)
    assert not any("pvc-2" in line or "widgets.example.com" in line for line in lines)
    assert "wipefs" in lines[-1]


def test_filters_refuse_what_is_not_theirs(plan):
    with pytest.raises(AnsibleFilterError, match="expects the plan"):
        tf.iomesh_teardown_selection({"clusters": [{"name": "x"}]}, True, "all")
    with pytest.raises(AnsibleFilterError, match="expects what iomesh_teardown_selection returns"):
        tf.iomesh_teardown_plan({"clusters": []}, plan, {})
    with pytest.raises(AnsibleFilterError, match="unknown read"):
        tf.iomesh_teardown_plan(select(plan, "west"), plan, {"secrets": []})
    with pytest.raises(AnsibleFilterError, match="force must be true or false"):
        tf.iomesh_teardown_plan(select(plan, "west"), plan, {}, None, "yes")
