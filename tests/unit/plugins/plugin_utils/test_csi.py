"""csi (through iomesh_storage_class_conflicts): what applying the StorageClasses would do to existing ones."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_csi as c

from ..conftest import Inventory, existing  # the clusters and wanted fixtures are in ..conftest too


def pv(name, sc_name):
    return {"metadata": {"name": name}, "spec": {"storageClassName": sc_name}}


def test_nothing_exists(wanted):
    plan = c.iomesh_storage_class_conflicts(wanted, [])
    assert plan == {"conflicts": [], "recreate": [], "adopt": [], "errors": [], "warnings": []}


def test_equal_class_is_no_conflict(wanted):
    have = [existing(sc) for sc in wanted]
    plan = c.iomesh_storage_class_conflicts(wanted, have)
    assert plan["conflicts"] == [] and plan["errors"] == []


def test_api_defaults_are_no_difference(wanted):
    """The server fills in reclaimPolicy Delete and volumeBindingMode Immediate; an empty mountOptions equals none."""
    have = existing(wanted[1], reclaimPolicy=None, volumeBindingMode=None, mountOptions=[])
    assert c.iomesh_storage_class_conflicts(wanted, [have])["errors"] == []


def test_allow_volume_expansion_is_mutable(wanted):
    have = existing(wanted[1], allowVolumeExpansion=False)
    assert c.iomesh_storage_class_conflicts(wanted, [have])["conflicts"] == []


@pytest.mark.parametrize("change, field, old, new", [
    ({"parameters.replicaFactor": "3"}, "parameters.replicaFactor", "'3'", "'2'"),
    ({"parameters.thinProvision": "false"}, "parameters.thinProvision", "'false'", "'true'"),
    ({"parameters.csi.storage.k8s.io/fstype": "xfs"}, "parameters.csi.storage.k8s.io/fstype", "'xfs'", "'ext4'"),
    ({"parameters.iomeshCluster": "x/y"}, "parameters.iomeshCluster", "'x/y'", "'iomesh-cluster-1/iomesh-cluster-1'"),
    ({"parameters.clusterConnection": None}, "parameters.clusterConnection", "(unset)",
     "'iomesh-cluster-1/iomesh-cluster-1-csi-configmap'"),
    ({"parameters.reclaimPolicy": "Delete"}, "parameters.reclaimPolicy", "'Delete'", "(unset)"),
    ({"reclaimPolicy": "Retain"}, "reclaimPolicy", "'Retain'", "'Delete'"),
    ({"volumeBindingMode": "WaitForFirstConsumer"}, "volumeBindingMode", "'WaitForFirstConsumer'", "'Immediate'"),
    ({"provisioner": "other.csi"}, "provisioner", "'other.csi'", "'com.iomesh.csi-driver'"),
    ({"mountOptions": ["discard"]}, "mountOptions", "['discard']", "(unset)"),
    ({"allowedTopologies": [{"matchLabelExpressions": []}]}, "allowedTopologies", "[{'matchLabelExpressions': []}]",
     "(unset)"),
])
def test_each_immutable_field_is_refused(wanted, change, field, old, new):
    plan = c.iomesh_storage_class_conflicts(wanted, [existing(wanted[1], **change)])
    assert plan["recreate"] == [] and len(plan["errors"]) == 1
    error = plan["errors"][0]
    assert error.startswith("StorageClass iomesh-cluster-1 (cluster iomesh-cluster-1) already exists with different "
                            "immutable fields: ")
    assert f"{field} {old} -> {new}" in error
    assert error.endswith(
        "so it cannot be updated in place. Fix: make storage_class of cluster iomesh-cluster-1 in iomesh_clusters match "
        "the existing class, or set iomesh_csi_recreate_storage_classes: true to delete and create it again (refused "
        "while a PersistentVolume uses it; volumes keep the parameters they were provisioned with).")
    assert plan["conflicts"][0]["differences"][0]["field"] == field
    assert plan["conflicts"][0]["action"] == "refuse"


def test_every_difference_is_listed(wanted):
    have = existing(wanted[1], reclaimPolicy="Retain", **{"parameters.replicaFactor": "3", "parameters.auth": "true"})
    plan = c.iomesh_storage_class_conflicts(wanted, [have, existing(wanted[0], volumeBindingMode="WaitForFirstConsumer")])
    assert [e.split(" ", 2)[1] for e in plan["errors"]] == ["iomesh", "iomesh-cluster-1"]
    fields = [d["field"] for d in plan["conflicts"][1]["differences"]]
    assert fields == ["parameters.auth", "parameters.replicaFactor", "reclaimPolicy"]


def test_recreate_without_volumes(wanted):
    have = existing(wanted[1], **{"parameters.replicaFactor": "3"})
    plan = c.iomesh_storage_class_conflicts(wanted, [have], [pv("other", "iomesh")], True)
    assert plan["errors"] == [] and plan["recreate"] == ["iomesh-cluster-1"]
    assert plan["conflicts"][0]["action"] == "recreate"
    assert "deleted and created again" in plan["warnings"][0]


def test_recreate_refused_while_a_volume_uses_the_class(wanted):
    have = existing(wanted[1], **{"parameters.replicaFactor": "3"})
    volumes = [pv("pvc-b", "iomesh-cluster-1"), pv("pvc-a", "iomesh-cluster-1"), pv("pvc-c", "iomesh")]
    plan = c.iomesh_storage_class_conflicts(wanted, [have], volumes, True)
    assert plan["recreate"] == []
    assert "PersistentVolume(s) pvc-a, pvc-b use it, so it is not recreated" in plan["errors"][0]
    assert plan["conflicts"][0]["persistent_volumes"] == ["pvc-a", "pvc-b"]


def test_recreate_refused_when_volumes_were_not_read(wanted):
    plan = c.iomesh_storage_class_conflicts(wanted, [existing(wanted[1], reclaimPolicy="Retain")], None, True)
    assert plan["recreate"] == [] and "were not read" in plan["errors"][0]


@pytest.mark.parametrize("labels", [{}, {"app.kubernetes.io/managed-by": "Helm"}])
def test_foreign_class_is_never_recreated(wanted, labels):
    have = existing(wanted[1], labels=labels, **{"parameters.replicaFactor": "3"})
    plan = c.iomesh_storage_class_conflicts(wanted, [have], [], True)
    assert plan["recreate"] == []
    assert "is not managed by iomesh.multicluster" in plan["errors"][0]
    assert ("'Helm'" if labels else "missing") in plan["errors"][0]
    assert "kubectl label storageclass iomesh-cluster-1 app.kubernetes.io/managed-by=iomesh.multicluster" in \
        plan["errors"][0]


def made_by_someone_else(sc, labels=None, annotations=None):
    """An equal class someone else made: kubectl created it, then a controller touched it."""
    have = existing(sc, labels=labels or {})
    have["metadata"]["managedFields"] = [
        {"manager": "kubectl-create", "operation": "Update", "apiVersion": "storage.k8s.io/v1"},
        {"manager": "some-controller", "operation": "Update", "apiVersion": "storage.k8s.io/v1"},
        {"manager": "kubectl-create", "operation": "Update", "apiVersion": "storage.k8s.io/v1", "subresource": "x"},
    ]
    if annotations:
        have["metadata"]["annotations"] = annotations
    return have


def test_foreign_equal_class_is_refused_without_the_opt_in(wanted):
    plan = c.iomesh_storage_class_conflicts(wanted, [made_by_someone_else(wanted[1])])
    assert plan["adopt"] == [] and plan["recreate"] == [] and plan["warnings"] == []
    assert plan["conflicts"][0]["action"] == "refuse" and plan["conflicts"][0]["differences"] == []
    assert plan["errors"] == [
        "StorageClass iomesh-cluster-1 (cluster iomesh-cluster-1) exists without the label "
        "app.kubernetes.io/managed-by=iomesh.multicluster: someone else made it (made by: field manager(s) "
        "kubectl-create, some-controller). Its immutable fields equal those of cluster iomesh-cluster-1's "
        "storage_class, but it is not adopted without iomesh_csi_adopt_storage_classes: true, because adopting labels "
        "it as the collection's and iomesh_csi_recreate_storage_classes may then delete it. Fix: set "
        "iomesh_csi_adopt_storage_classes: true to adopt it; or give cluster iomesh-cluster-1 another "
        "storage_class.name in iomesh_clusters; or delete the class yourself if nothing uses it."]


def test_foreign_equal_class_is_refused_even_when_recreating(wanted):
    plan = c.iomesh_storage_class_conflicts(wanted, [made_by_someone_else(wanted[1])], [], True)
    assert plan["adopt"] == [] and plan["recreate"] == [] and len(plan["errors"]) == 1


@pytest.mark.parametrize("labels, annotations, maker", [
    ({"app.kubernetes.io/managed-by": "Helm"},
     {"meta.helm.sh/release-name": "csi", "meta.helm.sh/release-namespace": "kube-storage"},
     "(made by: field manager(s) kubectl-create, some-controller; label app.kubernetes.io/managed-by=Helm; "
     "Helm release csi in namespace kube-storage)"),
    (None, {"meta.helm.sh/release-name": "csi"},
     "(made by: field manager(s) kubectl-create, some-controller; Helm release csi)"),
])
def test_refusal_names_who_made_the_class(wanted, labels, annotations, maker):
    have = made_by_someone_else(wanted[1], labels, annotations)
    assert maker in c.iomesh_storage_class_conflicts(wanted, [have])["errors"][0]


def test_refusal_says_when_the_maker_is_not_recorded(wanted):
    plan = c.iomesh_storage_class_conflicts(wanted, [existing(wanted[1], labels={})])
    assert ("someone else made it (made by: unknown, no managedFields and no app.kubernetes.io/managed-by label). "
            in plan["errors"][0])


def test_foreign_equal_class_is_adopted_with_the_opt_in(wanted):
    plan = c.iomesh_storage_class_conflicts(wanted, [made_by_someone_else(wanted[1])], None, False, True)
    assert plan["errors"] == [] and plan["adopt"] == ["iomesh-cluster-1"]
    assert plan["conflicts"][0]["action"] == "adopt"
    assert plan["warnings"] == [
        "StorageClass iomesh-cluster-1 exists without the label app.kubernetes.io/managed-by=iomesh.multicluster "
        "(made by: field manager(s) kubectl-create, some-controller), but its immutable fields are those of cluster "
        "iomesh-cluster-1's storage_class, so it is adopted (iomesh_csi_adopt_storage_classes: true): the "
        "collection's labels are added and allowVolumeExpansion is set from the inventory; from now on "
        "iomesh_csi_recreate_storage_classes may delete it."]


def test_opt_in_adopts_no_differing_foreign_class(wanted):
    have = made_by_someone_else(wanted[1])
    have["parameters"]["replicaFactor"] = "3"
    plan = c.iomesh_storage_class_conflicts(wanted, [have], [], True, True)
    assert plan["adopt"] == [] and plan["recreate"] == []
    assert "Made by: field manager(s) kubectl-create, some-controller. It is not managed by iomesh.multicluster " \
        "(label app.kubernetes.io/managed-by is missing), so it is neither changed nor deleted" in plan["errors"][0]


def test_opt_in_changes_nothing_for_managed_classes(wanted):
    have = [existing(sc) for sc in wanted]
    assert c.iomesh_storage_class_conflicts(wanted, have, None, False, True) == {
        "conflicts": [], "recreate": [], "adopt": [], "errors": [], "warnings": []}


def test_chart_default_class_is_a_warning(wanted):
    chart = {"metadata": {"name": "iomesh-csi-driver",
                          "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
             "provisioner": "com.iomesh.csi-driver", "parameters": {"replicaFactor": "2"}}
    plan = c.iomesh_storage_class_conflicts(wanted, [chart])
    assert plan["errors"] == [] and "docs/pitfalls.md P5" in plan["warnings"][0]
    chart["metadata"]["annotations"] = {}
    assert c.iomesh_storage_class_conflicts(wanted, [chart])["warnings"] == []


# --- a class named otherwise than its cluster; whole plans and messages --------------------------------------------

@pytest.fixture
def west_thick():
    """The StorageClass west-thick of cluster hdd-west (replicaFactor 3, thick), as the csi stage renders it."""
    inv = Inventory((3, 3))
    inv.clusters[1]["name"] = "hdd-west"
    inv.clusters[1]["storage_class"] = {"name": "west-thick", "replica_factor": 3, "thin_provision": False}
    cl = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)
    return [f.iomesh_csi_manifests(c_, f.iomesh_settings(inv.settings))[1] for c_ in cl]


WHAT = ("StorageClass west-thick (cluster hdd-west) already exists with different immutable fields: "
        "parameters.replicaFactor '2' -> '3'; parameters.thinProvision 'true' -> 'false'; reclaimPolicy 'Retain' -> "
        "'Delete'. Kubernetes forbids changing provisioner, parameters, reclaimPolicy, volumeBindingMode, mountOptions, "
        "allowedTopologies of a StorageClass, so it cannot be updated in place.")
DIFFS = [{"field": "parameters.replicaFactor", "old": "2", "new": "3"},
         {"field": "parameters.thinProvision", "old": "true", "new": "false"},
         {"field": "reclaimPolicy", "old": "Retain", "new": "Delete"}]


def thin_retained(sc, **kwargs):
    return existing(sc, reclaimPolicy="Retain", **{"parameters.replicaFactor": "2", "parameters.thinProvision": "true"},
                    **kwargs)


def test_refusal_whole_names_the_cluster_not_only_the_class(west_thick):
    """The managed, equal class of the first cluster is no conflict; the second one's differences are all told."""
    plan = c.iomesh_storage_class_conflicts(west_thick, [existing(west_thick[0]), thin_retained(west_thick[1])])
    assert plan == {
        "conflicts": [{"name": "west-thick", "cluster": "hdd-west", "managed": True, "differences": DIFFS,
                       "persistent_volumes": [], "action": "refuse"}],
        "recreate": [], "adopt": [], "warnings": [],
        "errors": [f"{WHAT} Fix: make storage_class of cluster hdd-west in iomesh_clusters match the existing class, "
                   "or set iomesh_csi_recreate_storage_classes: true to delete and create it again (refused while a "
                   "PersistentVolume uses it; volumes keep the parameters they were provisioned with)."]}


def test_recreate_whole(west_thick):
    plan = c.iomesh_storage_class_conflicts(west_thick, [thin_retained(west_thick[1])], [pv("pvc-9", "iomesh")], True)
    assert plan == {
        "conflicts": [{"name": "west-thick", "cluster": "hdd-west", "managed": True, "differences": DIFFS,
                       "persistent_volumes": [], "action": "recreate"}],
        "recreate": ["west-thick"], "adopt": [], "errors": [],
        "warnings": ["StorageClass west-thick is deleted and created again (iomesh_csi_recreate_storage_classes: true, "
                     "no PersistentVolume uses it): parameters.replicaFactor '2' -> '3'; parameters.thinProvision "
                     "'true' -> 'false'; reclaimPolicy 'Retain' -> 'Delete'."]}


def test_recreate_refusals_word_for_word(west_thick):
    have = [thin_retained(west_thick[1])]
    plan = c.iomesh_storage_class_conflicts(west_thick, have, None, True)
    assert plan["errors"] == [
        f"{WHAT} iomesh_csi_recreate_storage_classes is true, but the PersistentVolumes were not read, so it is not "
        "known whether a volume uses the class; it is not recreated."]
    plan = c.iomesh_storage_class_conflicts(west_thick, have, [pv("pvc-b2", "west-thick"), pv("pvc-a1", "west-thick")],
                                            True)
    assert plan["errors"] == [
        f"{WHAT} iomesh_csi_recreate_storage_classes is true, but PersistentVolume(s) pvc-a1, pvc-b2 use it, so it is "
        "not recreated. Fix: delete those volumes (or migrate their data) first, or make storage_class of cluster "
        "hdd-west in iomesh_clusters match the existing class."]
    assert plan["conflicts"][0]["persistent_volumes"] == ["pvc-a1", "pvc-b2"]


def test_class_without_cluster_label_is_named_by_itself(west_thick):
    want = copy.deepcopy(west_thick[1])
    del want["metadata"]["labels"]["iomesh.multicluster/cluster"]
    plan = c.iomesh_storage_class_conflicts([want], [thin_retained(want)])
    assert plan["conflicts"][0]["cluster"] == "west-thick"
    assert plan["errors"][0].startswith("StorageClass west-thick (cluster west-thick) already exists")


def test_field_manager_entries_without_a_manager_are_left_out(west_thick):
    have = existing(west_thick[1], labels={})
    have["metadata"]["managedFields"] = [{"operation": "Update"}, "garbage", {"manager": "", "operation": "Apply"},
                                         {"manager": "argocd-controller", "operation": "Apply"}]
    assert "(made by: field manager(s) argocd-controller)." in c.iomesh_storage_class_conflicts(west_thick, [have])["errors"][0]


def test_chart_default_class_warning_word_for_word(wanted):
    chart = {"metadata": {"name": "iomesh-csi-driver",
                          "annotations": {"storageclass.beta.kubernetes.io/is-default-class": "True"}},
             "provisioner": "com.iomesh.csi-driver"}
    assert c.iomesh_storage_class_conflicts(wanted, [chart])["warnings"] == [
        "StorageClass iomesh-csi-driver (the chart's single-cluster class) is the cluster's default class: any claim "
        "without storageClassName lands on the management cluster (docs/pitfalls.md P5). Set "
        "csi-driver.storageClass.default: false through iomesh_mgmt_extra_values."]
