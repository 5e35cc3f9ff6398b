"""k8s_checks (through iomesh_cluster_problems): nodes, server version, an existing release and IOMeshClusters,
as read from the API."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import k8s_checks


def node(name, ready=True, ip=None, unschedulable=False, label=None, taints=None):
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": label or name}},
        "spec": {"unschedulable": unschedulable, "taints": taints or []},
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "addresses": [{"type": "InternalIP", "address": ip or f"10.234.1.{10 + int(name[1:])}"}],
        },
    }


@pytest.fixture
def clusters(inv):
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars)


def check(clusters, nodes, version="v1.25.16", release=None, settings=None, existing=None, **options):
    return f.iomesh_cluster_problems(clusters, nodes, version, release, f.iomesh_settings(settings or {}), options,
                                     iomesh_clusters=existing)


def all_nodes():
    return [node(f"w{i}") for i in range(6)]


def test_healthy_cluster_has_no_problem(clusters):
    assert check(clusters, all_nodes()) == {"errors": [], "warnings": []}


def test_every_missing_node_is_listed(clusters):
    nodes = [n for n in all_nodes() if n["metadata"]["name"] not in ("w1", "w4", "w5")]
    errors = check(clusters, nodes)["errors"]
    assert len(errors) == 2
    assert "cluster iomesh: no Kubernetes node has label kubernetes.io/hostname equal to w1" in errors[0]
    assert "cluster iomesh-cluster-1:" in errors[1] and "w4, w5" in errors[1]


def test_node_matched_by_label_not_by_name(clusters):
    nodes = all_nodes()
    nodes[3] = node("w3", label="w3.example.org")
    errors = check(clusters, nodes)["errors"]
    assert errors and "equal to w3;" in errors[0]


def test_not_ready_and_cordoned_nodes(clusters):
    nodes = all_nodes()
    nodes[2] = node("w2", ready=False)
    nodes[5] = node("w5", unschedulable=True)
    errors = check(clusters, nodes)["errors"]
    assert any("w2 are not Ready" in e for e in errors)
    assert any("w5 are cordoned" in e for e in errors)


def test_internal_ip_outside_data_cidr_is_a_warning(clusters):
    nodes = all_nodes()
    nodes[0] = node("w0", ip="192.168.7.1")
    result = check(clusters, nodes)
    assert result["errors"] == []
    assert any("w0 (192.168.7.1) is outside data_cidr 10.234.1.0/24" in w for w in result["warnings"])


def test_nodes_in_no_cluster_are_warned_about(clusters):
    nodes = all_nodes() + [node("w6"), node("w7", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])]
    warnings = check(clusters, nodes)["warnings"]
    assert len(warnings) == 1 and "node(s) w6 belong to no IOMesh cluster" in warnings[0] and "P4" in warnings[0]


@pytest.mark.parametrize("version, ok", [("v1.17.0", True), ("v1.25.16", True), ("v1.16.9", False), ("v1.26.1", False),
                                         ("v1.30.2+k3s1", False)])
def test_server_version_range(clusters, version, ok):
    result = check(clusters, all_nodes(), version)
    assert (result["errors"] == []) is ok
    if not ok:
        assert "outside the range IOMesh chart v1.0.1 supports (1.17 to 1.25)" in result["errors"][0]
        allowed = check(clusters, all_nodes(), version, allow_unsupported_kubernetes=True)
        assert allowed["errors"] == [] and "Continuing" in allowed["warnings"][0]


def test_unknown_range_for_newer_chart_is_a_warning(clusters):
    result = check(clusters, all_nodes(), "v1.30.0", settings={"iomesh_chart_version": "v1.2.0"})
    assert result["errors"] == [] and "publishes no supported Kubernetes range" in result["warnings"][0]


def test_unreadable_version(clusters):
    assert "could not read the Kubernetes server version" in check(clusters, all_nodes(), "unknown")["errors"][0]


def pinned_values():
    affinity = {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}}}
    return {"iomesh": {p: {"podPolicy": affinity} for p in ("meta", "chunk", "redirector")}}


def test_single_cluster_release_is_refused(clusters):
    release = {"chart": "iomesh-v1.0.1", "values": {"iomesh": {"chunk": {"dataCIDR": "10.234.1.0/24"}}}}
    errors = check(clusters, all_nodes(), release=release)["errors"]
    assert len(errors) == 1
    assert "Helm release iomesh in namespace iomesh-system is an IOMesh installation without node affinity" in errors[0]
    assert "iomesh_allow_single_cluster_conversion: true" in errors[0]
    allowed = check(clusters, all_nodes(), release=release, allow_single_cluster_conversion=True)
    assert allowed["errors"] == [] and "Converting anyway" in allowed["warnings"][0]


def test_multi_cluster_release_may_be_upgraded(clusters):
    release = {"chart": "iomesh-v1.0.0", "values": pinned_values()}
    assert check(clusters, all_nodes(), release=release)["errors"] == []


@pytest.mark.parametrize("chart", ["iomesh-v1.1.0", "IOMesh-v1.2.0"])
def test_a_release_of_any_iomesh_chart_version_may_be_upgraded(clusters, chart):
    # Chart v1.2.0 calls itself IOMesh: a re-run over its release must not take it for another chart.
    settings = {"iomesh_chart_version": chart.rsplit("-", 1)[1]}
    assert check(clusters, all_nodes(), release={"chart": chart, "values": pinned_values()}, settings=settings)["errors"] == []
    # Preflight reports a downgrade as the role refuses it.
    assert "newer than iomesh_chart_version v1.0.1" in check(
        clusters, all_nodes(), release={"chart": chart, "values": pinned_values()})["errors"][0]


def test_release_of_another_chart(clusters):
    errors = check(clusters, all_nodes(), release={"chart": "nginx-1.2.3", "values": {}})["errors"]
    assert "installs chart nginx-1.2.3, not iomesh" in errors[0]


def test_release_values_of_current_helm_info_are_read(clusters):
    # kubernetes.core.helm_info >= 6 returns the values as release_values; status.values is deprecated.
    release = {"chart": "iomesh-v1.0.1", "release_values": pinned_values()}
    assert check(clusters, all_nodes(), release=release) == {"errors": [], "warnings": []}
    release = {"chart": "iomesh-v1.0.1", "release_values": {}, "values": pinned_values()}
    assert "without node affinity" in check(clusters, all_nodes(), release=release)["errors"][0]


# --- IOMeshCluster objects already in the API ---

def cr(namespace, name, spec=None):
    return {"apiVersion": "iomesh.com/v1alpha1", "kind": "IOMeshCluster",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec if spec is not None else {}}


def single_cluster_spec():
    """What `helm install iomesh` without affinity values leaves: podPolicy absent or without nodeAffinity."""
    return {"chunk": {"dataCIDR": "10.234.1.0/24", "replicas": 3}, "meta": {"replicas": 3, "podPolicy": {}},
            "redirector": {"dataCIDR": "10.234.1.0/24", "podPolicy": {"affinity": {}}}}


def chart_cr(cluster, values):
    """The management IOMeshCluster as the chart renders it: each part's podPolicy copied from the values."""
    spec = {part: {"podPolicy": values["iomesh"][part]["podPolicy"]} for part in ("meta", "chunk", "redirector")}
    return cr(cluster["namespace"], cluster["name"], spec)


def pinned(*nodes):
    """podPolicy with the required node affinity a multi-cluster install gives each part (domain doc section 6.3)."""
    return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": list(nodes)}]}]}}}}


def converged(mgmt=("iomesh-system", "iomesh"), other=("iomesh-cluster-1", "iomesh-cluster-1")):
    """Release and IOMeshClusters as a previous run of this collection left them (management cluster on w0..w2, the
    other on w3..w5), as the API returns them: written out, not rendered by the code whose output they stand for."""
    values = {"iomesh": {
        "chunk": {"dataCIDR": "10.234.1.0/24", "podPolicy": pinned("w0", "w1", "w2"), "replicaCount": 3},
        "diskDeploymentMode": "hybridFlash", "edition": "community", "platform": "",
        "meta": {"podPolicy": pinned("w0", "w1", "w2"), "replicaCount": 3},
        "redirector": {"podPolicy": pinned("w0", "w1", "w2")},
        "zookeeper": {"podPolicy": pinned("w0", "w1", "w2"), "replicas": 3},
    }}
    release = {"chart": "iomesh-v1.0.1", "release_values": values, "values": values}
    crs = [
        cr(mgmt[0], mgmt[1], {"chunk": {"dataCIDR": "10.234.1.0/24", "podPolicy": pinned("w0", "w1", "w2"), "replicas": 3},
                              "meta": {"podPolicy": pinned("w1", "w0", "w2"), "replicas": 3},
                              "redirector": {"dataCIDR": "10.234.1.0/24", "podPolicy": pinned("w2", "w1", "w0")}}),
        cr(other[0], other[1], {"chunk": {"dataCIDR": "10.234.1.0/24", "podPolicy": pinned("w3", "w4", "w5"), "replicas": 3,
                                          "devicemanager": {"blockDeviceNamespace": mgmt[0]}},
                                "diskDeploymentMode": "hybridFlash",
                                "meta": {"podPolicy": pinned("w3", "w4", "w5"), "replicas": 3},
                                "redirector": {"dataCIDR": "10.234.1.0/24", "podPolicy": pinned("w3", "w4", "w5")},
                                "reclaimPolicy": {"blockdevice": "Delete", "volume": "Delete"}, "storageClass": "hostpath"}),
    ]
    for index, obj in enumerate(crs):
        obj["metadata"].update({"uid": f"u-{index}", "resourceVersion": str(40 + index), "generation": 1})
        obj["status"] = {"readyReplicas": 3}
    return release, crs


def test_own_clusters_pass_a_rerun(clusters):
    release, crs = converged()
    assert check(clusters, all_nodes(), release=release, existing=crs) == {"errors": [], "warnings": []}


def test_own_clusters_with_names_and_namespaces_of_their_own_pass_a_rerun(inv):
    inv.clusters[0].update(name="blk-core", namespace="store-core")
    inv.clusters[1].update(name="blk-2", namespace="store-two")
    renamed = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars)
    release, crs = converged(mgmt=("store-core", "blk-core"), other=("store-two", "blk-2"))
    assert check(renamed, all_nodes(), release=release, existing=crs) == {"errors": [], "warnings": []}
    # The same objects under the seed's names are not these clusters: foreign, and no longer judged as ours.
    _release, seed_named = converged()
    result = check(renamed, all_nodes(), existing=seed_named)
    assert result["errors"] == []
    assert result["warnings"][0].startswith(
        "IOMeshCluster(s) iomesh-cluster-1/iomesh-cluster-1, iomesh-system/iomesh exist but are not in iomesh_clusters")


def test_what_the_collection_renders_passes_a_rerun(clusters):
    # The render stages' own output as the live state (input, not expectation): what they apply must not be refused
    # by the check of the next run.
    settings = f.iomesh_settings({})
    values = f.iomesh_mgmt_values(clusters[0], settings)
    release = {"chart": "iomesh-v1.0.1", "release_values": values, "values": values}
    crs = [chart_cr(clusters[0], values)] + [f.iomesh_cluster_manifests(c, settings)[1] for c in clusters[1:]]
    assert [c["metadata"]["name"] for c in crs] == ["iomesh", "iomesh-cluster-1"]
    assert check(clusters, all_nodes(), release=release, existing=crs) == {"errors": [], "warnings": []}


def test_own_rendered_crs_pass_without_release(clusters):
    # E.g. the management release was renamed: its CR is judged on its own and must pass too.
    _release, crs = converged()
    assert check(clusters, all_nodes(), existing=crs) == {"errors": [], "warnings": []}


def test_no_crd_or_no_iomesh_cluster_is_fine(clusters):
    assert check(clusters, all_nodes(), existing=None) == check(clusters, all_nodes(), existing=[])
    assert check(clusters, all_nodes(), existing=[]) == {"errors": [], "warnings": []}


def test_single_cluster_iomesh_cluster_is_refused(clusters):
    existing = [cr("iomesh-cluster-1", "iomesh-cluster-1", single_cluster_spec())]
    errors = check(clusters, all_nodes(), existing=existing)["errors"]
    assert len(errors) == 1
    assert ("IOMeshCluster iomesh-cluster-1/iomesh-cluster-1 exists and its meta, chunk, redirector pods carry no "
            "node affinity (a single-cluster install)") in errors[0]
    assert "docs/pitfalls.md P2" in errors[0] and "Nothing was changed" in errors[0]
    assert "iomesh_allow_single_cluster_conversion: true" in errors[0]
    allowed = check(clusters, all_nodes(), existing=existing, allow_single_cluster_conversion=True)
    assert allowed["errors"] == []
    assert len(allowed["warnings"]) == 1 and "Converting anyway" in allowed["warnings"][0]


def test_partly_pinned_iomesh_cluster_names_the_free_parts(clusters):
    _release, crs = converged()
    del crs[1]["spec"]["chunk"]["podPolicy"]
    errors = check(clusters, all_nodes(), existing=crs)["errors"]
    assert len(errors) == 1 and "IOMeshCluster iomesh-cluster-1/iomesh-cluster-1 exists and its chunk pods" in errors[0]


def test_management_cr_without_release_is_judged(clusters):
    existing = [cr("iomesh-system", "iomesh", single_cluster_spec())]
    errors = check(clusters, all_nodes(), existing=existing)["errors"]
    assert len(errors) == 1 and "IOMeshCluster iomesh-system/iomesh exists" in errors[0]


def test_single_cluster_release_and_its_cr_are_one_problem(clusters):
    release = {"chart": "iomesh-v1.0.1", "release_values": {"iomesh": {"chunk": {"dataCIDR": "10.234.1.0/24"}}}}
    existing = [cr("iomesh-system", "iomesh", single_cluster_spec())]
    errors = check(clusters, all_nodes(), release=release, existing=existing)["errors"]
    assert len(errors) == 1 and errors[0].startswith("Helm release iomesh in namespace iomesh-system")


def test_second_cluster_in_a_target_namespace_is_refused(clusters):
    _release, crs = converged()
    existing = crs + [cr("iomesh-cluster-1", "legacy", single_cluster_spec())]
    result = check(clusters, all_nodes(), existing=existing, allow_single_cluster_conversion=True)
    assert result["warnings"] == []
    assert len(result["errors"]) == 1
    assert ("IOMeshCluster iomesh-cluster-1/legacy already exists in namespace iomesh-cluster-1, where the "
            "inventory puts cluster iomesh-cluster-1") in result["errors"][0]


def test_foreign_iomesh_clusters_are_a_warning(clusters):
    # Our name in another namespace is not ours either.
    existing = [cr("team-b", "store", single_cluster_spec()), cr("team-a", "iomesh-cluster-1"), cr("team-a", "a")]
    result = check(clusters, all_nodes(), existing=existing)
    assert result["errors"] == []
    assert len(result["warnings"]) == 1
    assert result["warnings"][0].startswith(
        "IOMeshCluster(s) team-a/a, team-a/iomesh-cluster-1, team-b/store exist but are not in iomesh_clusters")
    assert "share it" in result["warnings"][0]


# --- the guards every writer of the management release enforces (iomesh_release_problems) ----------------------

@pytest.mark.parametrize(("installed", "wanted", "refused"), [
    ("iomesh-v1.1.0", "v1.0.1", True),
    ("IOMesh-v1.2.0", "v1.1.0", True),
    ("iomesh-v1.0.1", "v1.0.1", False),
    ("iomesh-v1.0.1", "v1.2.0", False),
    ("iomesh-v1.0.0", "v1.0.1", False),
])
def test_a_downgrade_is_refused_unless_allowed(clusters, installed, wanted, refused):
    release = {"chart": installed, "release_values": pinned_values()}
    settings = f.iomesh_settings({"iomesh_chart_version": wanted})
    found = f.iomesh_release_problems(release, clusters[0], settings)
    assert bool(found["errors"]) is refused, found
    if refused:
        assert f"runs chart {installed}, newer than iomesh_chart_version {wanted}" in found["errors"][0]
        assert "iomesh_allow_downgrade: true" in found["errors"][0]
        allowed = f.iomesh_release_problems(release, clusters[0], settings, {"allow_downgrade": True})
        assert allowed["errors"] == [] and "Downgrading anyway" in allowed["warnings"][0]


def test_the_role_guard_refuses_a_single_cluster_release_too(clusters):
    release = {"chart": "iomesh-v1.0.1", "release_values": {"iomesh": {"chunk": {"dataCIDR": "10.234.1.0/24"}}}}
    found = f.iomesh_release_problems(release, clusters[0], None)
    assert "a single-cluster install" in found["errors"][0]
    assert f.iomesh_release_problems(release, clusters[0], None, {"allow_single_cluster_conversion": True})["errors"] == []
    assert f.iomesh_release_problems(None, clusters[0], None) == {"errors": [], "warnings": [], "recover": None}
    with pytest.raises(AnsibleFilterError, match="is not the management cluster"):
        f.iomesh_release_problems(None, clusters[1], None)


# --- values set by hand (docs/pitfalls.md P24) ----------------------------------------------------------------------

WANTED = {"iomesh": {"create": False, "chunk": {"dataCIDR": "10.9.0.0/16"}, "meta": {"podPolicy": {"affinity": {"x": 1}}}},
          "csi-driver": {"driver": {"controller": {"driver": {"podDeletePolicy": "no-delete-pod"}}}}}


def test_values_the_collection_renders_are_owned_by_the_inventory(clusters):
    # Another CIDR, other affinity: an inventory change, not a hand edit; the upgrade applies the inventory.
    live = {"iomesh": {"create": True, "chunk": {"dataCIDR": "10.1.0.0/16"}, "meta": {"podPolicy": {"affinity": {"y": 2}}}}}
    found = f.iomesh_release_problems({"chart": "iomesh-v1.0.1", "release_values": {**live, **pinned_values()}},
                                      clusters[0], None, {"values": {**WANTED, **pinned_values()}})
    assert found["errors"] == [] and found["warnings"] == []


def test_values_set_by_hand_are_refused_naming_their_keys_not_their_values(clusters):
    pinned = pinned_values()["iomesh"]
    live = {"iomesh": {**pinned, "meta": {**pinned["meta"], "resources": {"limits": {"cpu": "3"}}}},
            "global": {"registry": {"password": "hunter2-sentinel"}}}
    release = {"chart": "iomesh-v1.0.1", "release_values": live}
    found = f.iomesh_release_problems(release, clusters[0], None, {"values": {**WANTED, **pinned_values()}})
    assert found["errors"] == [
        "Helm release iomesh in namespace iomesh-system has values the inventory does not set "
        "(global.registry.password, iomesh.meta.resources.limits.cpu): set by hand, they would be reset to the chart's "
        "defaults by the upgrade (docs/pitfalls.md P24). Nothing was changed. Keep them by adding them to "
        "iomesh_mgmt_extra_values, or set iomesh_mgmt_reset_values: true to drop them."]
    assert "hunter2-sentinel" not in str(found)
    allowed = f.iomesh_release_problems(release, clusters[0], None, {"values": WANTED, "allow_reset_values": True})
    assert allowed["errors"] == [] and allowed["warnings"][0].endswith("Resetting them: iomesh_mgmt_reset_values is true.")
    # Without the values of the run (preflight), the guard is not applied.
    assert f.iomesh_release_problems(release, clusters[0], None)["errors"] == []


def test_a_list_is_one_value_and_an_empty_mapping_none(clusters):
    live = {**pinned_values(), "tolerations": [{"key": "a"}], "extra": {}}
    release = {"chart": "iomesh-v1.0.1", "release_values": live}
    found = f.iomesh_release_problems(release, clusters[0], None, {"values": {**pinned_values(), "tolerations": []}})
    assert found["errors"] == []


# --- a revision an interrupted Helm command left pending (docs/pitfalls.md P24) ------------------------------------

def pending(status="pending-upgrade", revision="7", updated="2026-12-04 19:50:29.1966487 +0000 UTC"):
    return {"chart": "iomesh-v1.0.1", "release_values": pinned_values(), "status": status, "revision": revision,
            "updated": updated}


@pytest.mark.parametrize("status", ["pending-install", "pending-upgrade", "pending-rollback"])
def test_a_stale_pending_revision_is_recovered(clusters, status):
    # 19:50:29 + 300 s timeout + 60 s grace = 19:56:29: at 19:56:30 no Helm command of the run can still be on it.
    found = f.iomesh_release_problems(pending(status), clusters[0], None,
                                      {"now": "2026-12-04T19:56:30+00:00", "helm_timeout": 300})
    assert found["errors"] == []
    assert found["recover"] == {"kind": "Secret", "name": "sh.helm.release.v1.iomesh.v7", "revision": "7"}
    assert found["warnings"] == [
        f"Helm release iomesh-system/iomesh is {status} (revision 7, since 2026-12-04 19:50:29.1966487 +0000 UTC), "
        "361 s ago, longer than any Helm command of this collection runs (iomesh_mgmt_helm_timeout + 60 s): an "
        "interrupted run left it. Removing that revision's record (Secret sh.helm.release.v1.iomesh.v7) so that Helm "
        "can install or upgrade the release again (docs/pitfalls.md P24)."]


def test_a_recent_pending_revision_stops_the_run_with_the_command(clusters):
    found = f.iomesh_release_problems(pending(), clusters[0], None,
                                      {"now": "2026-12-04T19:56:29+00:00", "helm_timeout": 300})
    assert found["recover"] is None
    assert found["errors"] == [
        "Helm release iomesh-system/iomesh is pending-upgrade (revision 7, since 2026-12-04 19:50:29.1966487 +0000 UTC): "
        "a Helm operation on it has not finished. Nothing was changed. If a helm command is still running on it, let "
        "it finish; if it was interrupted (a killed run), re-run in 0 s, when it is older than iomesh_mgmt_helm_timeout "
        "+ 60 s and the run removes the unfinished revision itself, or remove it now with: kubectl -n iomesh-system "
        "delete secret sh.helm.release.v1.iomesh.v7 (Helm's record of that revision only; the objects it created stay, "
        "and the next run adopts them)."]


def test_pending_times_in_other_zones_and_the_configmap_driver(clusters):
    # 12:00 at -0500 is 17:00 UTC; with the ConfigMap driver the record is a ConfigMap.
    found = f.iomesh_release_problems(pending(updated="2026-12-04 12:00:00 -0500 EST"), clusters[0], None,
                                      {"now": "2026-12-04T17:01:01+00:00", "helm_timeout": 0, "helm_driver": "configmap"})
    assert found["recover"]["kind"] == "ConfigMap" and "61 s ago" in found["warnings"][0]
    young = f.iomesh_release_problems(pending(updated="2026-12-04 12:00:00 -0500 EST"), clusters[0], None,
                                      {"now": "2026-12-04T17:00:59+00:00", "helm_timeout": 0})
    assert "re-run in 1 s" in young["errors"][0]


def test_a_pending_revision_with_a_driver_outside_kubernetes_stops_the_run(clusters):
    found = f.iomesh_release_problems(pending(), clusters[0], None,
                                      {"now": "2030-01-01T00:00:00+00:00", "helm_timeout": 300, "helm_driver": "sql"})
    assert found["recover"] is None and "HELM_DRIVER=sql keeps its record outside Kubernetes objects" in found["errors"][0]


@pytest.mark.parametrize("status", ["deployed", "failed", "superseded"])
def test_a_finished_revision_needs_no_recovery(clusters, status):
    found = f.iomesh_release_problems(pending(status), clusters[0], None,
                                      {"now": "2030-01-01T00:00:00+00:00", "helm_timeout": 300})
    assert found == {"errors": [], "warnings": [], "recover": None}


def test_an_unreadable_time_is_never_taken_as_stale(clusters):
    found = f.iomesh_release_problems(pending(updated="yesterday"), clusters[0], None,
                                      {"now": "2030-01-01T00:00:00+00:00", "helm_timeout": 300})
    assert found["recover"] is None and "re-run later" in found["errors"][0]
    with pytest.raises(AnsibleFilterError, match="options.now must be a time"):
        f.iomesh_release_problems(pending(), clusters[0], None, {"now": "soon"})


# --- the guards the additional clusters' stage enforces itself (iomesh_cluster_guards) ------------------------------

def test_the_cluster_stage_refuses_a_single_cluster_iomesh_cluster_and_a_crowded_namespace(clusters):
    existing = [cr("iomesh-cluster-1", "iomesh-cluster-1", single_cluster_spec())]
    found = f.iomesh_cluster_guards(existing, clusters)
    assert len(found["errors"]) == 1
    assert found["errors"][0].startswith(
        "IOMeshCluster iomesh-cluster-1/iomesh-cluster-1 exists and its meta, chunk, redirector pods carry no node "
        "affinity (a single-cluster install)")
    allowed = f.iomesh_cluster_guards(existing, clusters, {"allow_single_cluster_conversion": True})
    assert allowed["errors"] == [] and "Converting anyway" in allowed["warnings"][0]
    crowded = f.iomesh_cluster_guards([cr("iomesh-cluster-1", "legacy", single_cluster_spec())], clusters)
    assert "IOMeshCluster iomesh-cluster-1/legacy already exists in namespace iomesh-cluster-1" in crowded["errors"][0]


def test_the_cluster_stage_leaves_the_management_cluster_to_its_release(clusters):
    # Unpinned, but the management cluster's: its Helm release decides (iomesh_release_problems).
    existing = [cr("iomesh-system", "iomesh", single_cluster_spec())]
    assert f.iomesh_cluster_guards(existing, clusters) == {"errors": [], "warnings": []}
    _release, crs = converged()
    assert f.iomesh_cluster_guards(crs, clusters) == {"errors": [], "warnings": []}
    with pytest.raises(AnsibleFilterError, match="must be the IOMeshCluster objects"):
        f.iomesh_cluster_guards("nope", clusters)


# --- whether the management release changes, and its diff (iomesh_release_change) ----------------------------------

CORE = {"name": "core-blk", "namespace": "store-a", "management": True}
WANTED = {"iomesh": {"create": False, "chunk": {"dataCIDR": "10.9.0.0/24", "podPolicy": {"replicas": 4}}},
          "imagePullSecrets": [{"name": "pull-a"}], "registry": {"password": "hunter2-sentinel"}}


def live(values, chart="iomesh-v1.1.0", status="deployed", revision=3):
    return {"chart": chart, "status": status, "revision": revision, "release_values": values}


def test_an_unchanged_release_is_no_change_and_no_diff():
    change = k8s_checks.release_change(live(copy.deepcopy(WANTED)), CORE, "v1.1.0", WANTED)
    assert change["changed"] is False and change["reasons"] == []
    assert change["msg"] == "Helm release store-a/core-blk runs chart v1.1.0 with the values of the inventory."


def test_a_value_changed_by_hand_is_the_diff_and_a_secret_is_never_printed():
    edited = copy.deepcopy(WANTED)
    edited["iomesh"]["chunk"]["podPolicy"]["replicas"] = 7
    edited["registry"]["password"] = "old-sentinel"
    change = k8s_checks.release_change(live(edited), CORE, "v1.1.0", WANTED, hidden={"registry": {"password": "x"}})
    assert change["changed"] is True
    assert change["reasons"] == ["values at iomesh.chunk.podPolicy.replicas, registry.password"]
    before, after = change["diff"]["before"], change["diff"]["after"]
    assert "replicas: 7" in before and "replicas: 4" in after
    assert "password: (hidden, changed)" in before and "password: (hidden, changed)" in after
    assert "sentinel" not in before + after + change["msg"]
    assert change["diff"]["before_header"] == "Helm release store-a/core-blk (revision 3, deployed)"
    assert change["diff"]["after_header"] == "Helm release store-a/core-blk as the inventory computes it"


def test_a_key_that_names_a_secret_is_hidden_even_outside_the_extra_values():
    values = {"license": {"key": "LIC-123-sentinel"}, "auth": {"token": "tok-sentinel"}}
    change = k8s_checks.release_change(live({"license": {"key": "LIC-000-sentinel"}, "auth": {"token": "tok-sentinel"}}),
                                       CORE, "v1.1.0", values)
    text = change["diff"]["before"] + change["diff"]["after"]
    assert "sentinel" not in text
    assert "key: (hidden, changed)" in text and "token: (hidden)" in text


@pytest.mark.parametrize(("release", "reasons"), [
    (None, ["not installed"]),
    (live(WANTED, chart="iomesh-v1.0.1"), ["chart v1.0.1 -> v1.1.0"]),
    (live(WANTED, chart="IOMesh-v1.1.0"), []),
    (live(WANTED, status="failed"), ["its last revision is failed"]),
    (live(WANTED, status="pending-upgrade"), ["its last revision is pending-upgrade"]),
])
def test_why_the_release_is_installed_or_upgraded(release, reasons):
    change = k8s_checks.release_change(release, CORE, "v1.1.0", WANTED)
    assert change["reasons"] == reasons and change["changed"] is bool(reasons)


def test_a_first_install_shows_every_value_hidden_where_it_must_be():
    change = k8s_checks.release_change(None, CORE, "v1.2.0", WANTED)
    assert change["diff"]["before"] == ""
    assert change["diff"]["after"].startswith("chart: v1.2.0\nvalues:\n")
    assert "dataCIDR: 10.9.0.0/24" in change["diff"]["after"] and "hunter2" not in change["diff"]["after"]
    assert change["msg"] == "Helm release store-a/core-blk is not installed: install chart v1.2.0."


def test_the_filter_checks_its_arguments(clusters):
    with pytest.raises(AnsibleFilterError, match="options.values must be the Helm values the run installs"):
        f.iomesh_release_change(None, clusters[0], None, {})
    with pytest.raises(AnsibleFilterError, match="options.hidden must be a dictionary"):
        f.iomesh_release_change(None, clusters[0], None, {"values": {}, "hidden": ["x"]})
    assert f.iomesh_release_change(None, clusters[0], None, {"values": {}})["changed"] is True


# --- the checks called directly, as plugin_utils callers do: whole results, exact messages -------------------------

KEY = "topology.example.com/host"


def kube_node(name, label=None, conditions=None, ips=("10.40.0.5",), taints=None, unschedulable=False):
    """A Node as k8s_info returns it; labelled with KEY unless label is False."""
    meta = {"name": name}
    if label is not False:
        meta["labels"] = {KEY: label or name}
    return {"metadata": meta, "spec": {"unschedulable": unschedulable, "taints": taints or []},
            "status": {"conditions": [{"type": "Ready", "status": "True"}] if conditions is None else conditions,
                       "addresses": [{"type": "Hostname", "address": name}]
                       + [{"type": "InternalIP", "address": ip} for ip in ips]}}


def test_node_problems_name_every_node_of_a_problem_together():
    blue = {"name": "blue", "nodes": ["b1", "b2", "b3", "b4", "b5", "b6", "b7"], "data_cidr": "10.40.0.0/16"}
    nodes = [kube_node("b1", conditions=[]), kube_node("b2", conditions=[{"type": "MemoryPressure", "status": "False"}]),
             kube_node("b3", unschedulable=True), kube_node("b4", unschedulable=True),
             kube_node("b5", ips=("192.168.9.5", "fd00::5")), kube_node("b6", ips=("172.16.0.6",))]
    assert k8s_checks.node_problems([blue], nodes, KEY) == {
        "errors": [
            f"cluster blue: no Kubernetes node has label {KEY} equal to b7; check the host names, iomesh_node_name or "
            f"iomesh_node_label_key (kubectl get nodes -L {KEY}).",
            "cluster blue: node(s) b1, b2 are not Ready; IOMesh pods cannot start there.",
            "cluster blue: node(s) b3, b4 are cordoned (unschedulable); uncordon them first.",
        ],
        "warnings": [
            "cluster blue: the InternalIP of b5 (192.168.9.5, fd00::5), b6 (172.16.0.6) is outside data_cidr "
            "10.40.0.0/16; fine if the storage network is a second interface, otherwise chunk and redirector cannot bind.",
        ],
    }


def test_node_problems_without_data_cidr_leave_addresses_alone_and_list_spare_nodes():
    # No data_cidr: no address is judged. Spare nodes are named by their label, else by their name, else "?".
    green = {"name": "green", "nodes": ["g1", "g2"]}
    nodes = [kube_node("g1", ips=("192.168.1.1",)), kube_node("g2", ips=("8.8.8.8",)),
             kube_node("node-17", label="rack2-h17"), kube_node("node-03", label=False), {"metadata": {}},
             kube_node("cp-legacy", taints=[{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}]),
             kube_node("cp-soft", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "PreferNoSchedule"}]),
             kube_node("gpu-1", taints=[{"key": "nvidia.com/gpu", "effect": "NoSchedule"}])]
    assert k8s_checks.node_problems([green], nodes, KEY) == {"errors": [], "warnings": [
        "node(s) ?, cp-soft, gpu-1, node-03, rack2-h17 belong to no IOMesh cluster: the IOMesh CSI node plugin runs on "
        "every schedulable node and stays in CrashLoopBackOff where no redirector runs (docs/pitfalls.md P4); add them "
        "to a cluster, or restrict csi-driver.driver.node.nodeSelector through iomesh_mgmt_extra_values."]}


@pytest.mark.parametrize(("server", "expected"), [
    ("v1.26.3", {"errors": ["Kubernetes 1.26 is outside the range IOMesh chart v1.0.3 supports (1.17 to 1.25). Set "
                            "iomesh_preflight_allow_unsupported_kubernetes: true to try anyway."], "warnings": []}),
    ("1.9.0", {"errors": ["Kubernetes 1.9 is outside the range IOMesh chart v1.0.3 supports (1.17 to 1.25). Set "
                          "iomesh_preflight_allow_unsupported_kubernetes: true to try anyway."], "warnings": []}),
    ("v1.21.14-eks-1", {"errors": [], "warnings": []}),
    (None, {"errors": ["could not read the Kubernetes server version from None."], "warnings": []}),
    ("", {"errors": ["could not read the Kubernetes server version from ''."], "warnings": []}),
])
def test_version_problems_refuse_by_default(server, expected):
    assert k8s_checks.version_problems(server, "v1.0.3") == expected


def test_version_problems_allowed_and_unknown_lines():
    assert k8s_checks.version_problems("v1.28.2", "v1.0.1", allow_unsupported=True) == {"errors": [], "warnings": [
        "Kubernetes 1.28 is outside the range IOMesh chart v1.0.1 supports (1.17 to 1.25). Continuing: "
        "iomesh_preflight_allow_unsupported_kubernetes is true."]}
    assert k8s_checks.version_problems("v1.28.2", "v1.1.0") == {"errors": [], "warnings": [
        "IOMesh chart v1.1.0 publishes no supported Kubernetes range; the server runs 1.28."]}


PIN = {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}}
ORANGE = {"name": "orange", "namespace": "blk-orange", "management": True}


def test_release_problems_refuse_a_conversion_by_default():
    release = {"chart": "iomesh-v1.0.1", "release_values": {"iomesh": {"meta": {"podPolicy": PIN}}}}
    assert k8s_checks.release_problems(release, ORANGE) == {"errors": [
        "Helm release orange in namespace blk-orange is an IOMesh installation without node affinity (a single-cluster "
        "install). IOMesh does not support expanding an existing cluster into multiple clusters: pinning its meta, "
        "chunk and redirector pods to a node subset reschedules them (docs/pitfalls.md P2). Nothing was changed. To "
        "convert it regardless, set iomesh_allow_single_cluster_conversion: true."], "warnings": []}
    assert k8s_checks.release_problems(release, ORANGE, allow_conversion=True) == {"errors": [], "warnings": [
        "Helm release orange in namespace blk-orange is an IOMesh installation without node affinity (a single-cluster "
        "install). IOMesh does not support expanding an existing cluster into multiple clusters: pinning its meta, "
        "chunk and redirector pods to a node subset reschedules them (docs/pitfalls.md P2). Converting anyway: "
        "iomesh_allow_single_cluster_conversion is true."]}


def test_a_release_status_without_chart_is_judged_by_its_values():
    pinned_iomesh = {"iomesh": {part: {"podPolicy": PIN} for part in ("meta", "chunk", "redirector")}}
    assert k8s_checks.release_problems({"values": pinned_iomesh}, ORANGE) == {"errors": [], "warnings": []}
    assert k8s_checks.release_problems({"chart": None, "values": {}}, ORANGE)["errors"][0].startswith(
        "Helm release orange in namespace blk-orange is an IOMesh installation without node affinity")


DOWNGRADE = (" newer than iomesh_chart_version v1.0.1: the run would downgrade IOMesh, which IOMesh does not support.")


def test_downgrade_problems_name_the_version_to_set():
    release = {"chart": "iomesh-v1.2.0", "status": "deployed"}
    assert k8s_checks.downgrade_problems(release, ORANGE, "v1.0.1") == {"errors": [
        "Helm release orange in namespace blk-orange runs chart iomesh-v1.2.0," + DOWNGRADE + " Nothing was changed. "
        "Set iomesh_chart_version to v1.2.0 (or newer), or iomesh_allow_downgrade: true to downgrade regardless."],
        "warnings": []}
    assert k8s_checks.downgrade_problems(release, ORANGE, "v1.0.1", allow_downgrade=True) == {"errors": [], "warnings": [
        "Helm release orange in namespace blk-orange runs chart iomesh-v1.2.0," + DOWNGRADE + " Downgrading anyway: "
        "iomesh_allow_downgrade is true."]}
    # A chart reported as its bare version: the version to set is that version.
    assert k8s_checks.downgrade_problems({"chart": "1.1.2"}, ORANGE, "v1.0.1")["errors"] == [
        "Helm release orange in namespace blk-orange runs chart 1.1.2," + DOWNGRADE + " Nothing was changed. "
        "Set iomesh_chart_version to 1.1.2 (or newer), or iomesh_allow_downgrade: true to downgrade regardless."]


@pytest.mark.parametrize(("chart", "wanted"), [
    ("iomesh-v1.2.0", "v2.1.0"),   # a newer major line is an upgrade, whatever its minor
    ("iomesh-v1.2.0", "v1.10.0"),  # numbers, not text: 10 > 2
    ("iomesh", "v1.0.1"),          # no version in the release's chart: nothing to compare
    ("iomesh-v1.2.0", "main"),     # no version wanted: nothing to compare
    (None, "v1.0.1"),
])
def test_no_downgrade_without_two_versions_to_compare(chart, wanted):
    assert k8s_checks.downgrade_problems({"chart": chart}, ORANGE, wanted) == {"errors": [], "warnings": []}


def test_release_guards_report_every_guard_and_refuse_by_default():
    release = {"chart": "iomesh-v1.1.0", "revision": 4,
               "values": {"iomesh": {"chunk": {"dataCIDR": "10.8.0.0/16"}}, "logLevel": "debug"}}
    found = k8s_checks.release_guards(release, ORANGE, "v1.0.1", wanted_values={"iomesh": {"chunk": {"dataCIDR": "10.9.0.0/16"}}})
    assert found["warnings"] == []
    assert [e.split(": ")[0].split(" (")[0] for e in found["errors"]] == [
        "Helm release orange in namespace blk-orange is an IOMesh installation without node affinity",
        "Helm release orange in namespace blk-orange runs chart iomesh-v1.1.0, newer than iomesh_chart_version v1.0.1",
        "Helm release orange in namespace blk-orange has values the inventory does not set"]
    assert found["errors"][2] == (
        "Helm release orange in namespace blk-orange has values the inventory does not set (logLevel): set by hand, "
        "they would be reset to the chart's defaults by the upgrade (docs/pitfalls.md P24). Nothing was changed. Keep "
        "them by adding them to iomesh_mgmt_extra_values, or set iomesh_mgmt_reset_values: true to drop them.")
    allowed = k8s_checks.release_guards(release, ORANGE, "v1.0.1", True, True, {"iomesh": {}}, True)
    assert allowed["errors"] == [] and [w.rsplit(". ", 1)[-1] for w in allowed["warnings"]] == [
        "Converting anyway: iomesh_allow_single_cluster_conversion is true.",
        "Downgrading anyway: iomesh_allow_downgrade is true.",
        "Resetting them: iomesh_mgmt_reset_values is true."]


def test_values_problems_read_the_values_of_older_helm_info_and_own_what_is_under_a_rendered_value():
    # helm_info < 6 returns the user-supplied values as status.values only.
    live_global = {"registry": {"url": "old.example", "insecure": True}, "registryMirror": "m.example"}
    release = {"chart": "iomesh-v1.0.1", "values": {"global": live_global}}
    wanted = {"global": {"registry": "registry.example.com/iomesh"}}
    assert k8s_checks.values_problems(release, ORANGE, wanted)["errors"][0].startswith(
        "Helm release orange in namespace blk-orange has values the inventory does not set (global.registryMirror): ")
    assert k8s_checks.hand_set_values({7: {"a": 1}, "b": 2}, {"b": 3}) == ["7.a"]


def test_a_skipped_or_converted_object_does_not_hide_the_others():
    # The keys of a normalised cluster the checks read.
    shape = {"meta_replicas": 3, "chunk_replicas": 3, "nodes": ["n1", "n2", "n3"], "hosts_group": "g"}
    clusters = [{"name": "m", "namespace": "a-mgmt", **shape}, {"name": "p", "namespace": "p-ns", **shape},
                {"name": "q", "namespace": "q-ns", **shape}]
    existing = [{"metadata": {"namespace": ns, "name": n}, "spec": {}} for ns, n in (("a-mgmt", "m"), ("p-ns", "p"), ("q-ns", "q"))]
    risk = ("(a single-cluster install). IOMesh does not support expanding an existing cluster into multiple clusters: "
            "pinning its meta, chunk and redirector pods to a node subset reschedules them (docs/pitfalls.md P2).")
    assert k8s_checks.existing_cluster_problems(existing, clusters, governed=[["a-mgmt", "m"]]) == {"errors": [
        f"IOMeshCluster p-ns/p exists and its meta, chunk, redirector pods carry no node affinity {risk} Nothing was "
        "changed. To convert it regardless, set iomesh_allow_single_cluster_conversion: true.",
        f"IOMeshCluster q-ns/q exists and its meta, chunk, redirector pods carry no node affinity {risk} Nothing was "
        "changed. To convert it regardless, set iomesh_allow_single_cluster_conversion: true."], "warnings": []}
    assert k8s_checks.existing_cluster_problems(existing, clusters, True, [("a-mgmt", "m")]) == {"errors": [], "warnings": [
        f"IOMeshCluster p-ns/p exists and its meta, chunk, redirector pods carry no node affinity {risk} Converting "
        "anyway: iomesh_allow_single_cluster_conversion is true.",
        f"IOMeshCluster q-ns/q exists and its meta, chunk, redirector pods carry no node affinity {risk} Converting "
        "anyway: iomesh_allow_single_cluster_conversion is true."]}


def test_existing_objects_of_others_are_named_in_full():
    clusters = [{"name": "p", "namespace": "p-ns"}]
    existing = [{"metadata": {"namespace": "p-ns", "name": "old"}}, {"metadata": {"name": "bare"}}, {"metadata": {"namespace": "x"}}]
    assert k8s_checks.existing_cluster_problems(existing, clusters) == {
        "errors": ["IOMeshCluster p-ns/old already exists in namespace p-ns, where the inventory puts cluster p: "
                   "deploying would add a second IOMesh cluster to that namespace. Give cluster p another namespace in "
                   "iomesh_clusters, or remove p-ns/old if it is no longer used."],
        "warnings": ["IOMeshCluster(s) /bare, x/ exist but are not in iomesh_clusters; the IOMesh operator is "
                     "cluster-wide, so they share it (and its upgrades) with the clusters deployed here. Fine if "
                     "intended; otherwise add them to iomesh_clusters."]}


# helm list times, with the zones Helm writes
@pytest.mark.parametrize(("text", "utc"), [
    ("2026-12-04 19:50:29.1966487 +0530 IST", "2026-12-04T14:20:29+00:00"),
    ("2026-12-04 19:50:29 -0330 NST", "2026-12-04T23:20:29+00:00"),
    ("2026-12-04T19:50:29Z", "2026-12-04T19:50:29+00:00"),
    ("2026-12-04 19:50:29", "2026-12-04T19:50:29+00:00"),
    ("2026-12-04 19:50:29 +09:00", "2026-12-04T10:50:29+00:00"),
])
def test_helm_time_reads_every_zone(text, utc):
    assert k8s_checks.helm_time(text) == k8s_checks.datetime.fromisoformat(utc)


@pytest.mark.parametrize("text", [None, "", "yesterday", "19:50:29 2026-12-04"])
def test_helm_time_unreadable(text):
    assert k8s_checks.helm_time(text) is None


BLUE = {"name": "blue-m", "namespace": "store-blue"}


def pending_at(updated, revision=12, status="pending-install"):
    return {"chart": "iomesh-v1.0.1", "status": status, "revision": revision, "updated": updated}


def test_pending_release_defaults_to_secrets_and_reads_now_in_any_zone():
    # 10:00 UTC + 120 s + 60 s grace = 10:03:00; now is given at -05:00, then naive (UTC).
    release = pending_at("2026-12-04 10:00:00 +0000 UTC")
    for now in ("2026-12-04T05:03:01-05:00", "2026-12-04T10:03:01"):
        assert k8s_checks.pending_release(release, BLUE, now, 120) == {
            "errors": [], "recover": {"kind": "Secret", "name": "sh.helm.release.v1.blue-m.v12", "revision": "12"},
            "warnings": ["Helm release store-blue/blue-m is pending-install (revision 12, since 2026-12-04 10:00:00 +0000 "
                         "UTC), 181 s ago, longer than any Helm command of this collection runs (iomesh_mgmt_helm_timeout "
                         "+ 60 s): an interrupted run left it. Removing that revision's record (Secret "
                         "sh.helm.release.v1.blue-m.v12) so that Helm can install or upgrade the release again "
                         "(docs/pitfalls.md P24)."]}
    young = k8s_checks.pending_release(release, BLUE, k8s_checks.datetime(2026, 12, 4, 10, 2, 0), 120, "secrets")
    assert "re-run in 60 s," in young["errors"][0] and young["recover"] is None


def test_pending_release_with_an_unreadable_time_or_another_driver():
    unread = k8s_checks.pending_release(pending_at("a while ago", status="pending-rollback"), BLUE, "2030-01-01T00:00:00", 300, "ConfigMaps")
    assert unread == {"errors": [
        "Helm release store-blue/blue-m is pending-rollback (revision 12, since a while ago): a Helm operation on it has "
        "not finished. Nothing was changed. If a helm command is still running on it, let it finish; if it was "
        "interrupted (a killed run), re-run later, when it is older than iomesh_mgmt_helm_timeout + 60 s and the run "
        "removes the unfinished revision itself, or remove it now with: kubectl -n store-blue delete configmap "
        "sh.helm.release.v1.blue-m.v12 (Helm's record of that revision only; the objects it created stay, and the next "
        "run adopts them)."], "warnings": [], "recover": None}
    assert k8s_checks.pending_release(pending_at("2026-12-04 10:00:00 +0000 UTC"), BLUE, "2030-01-01T00:00:00", 300, "memory") == {
        "errors": ["Helm release store-blue/blue-m is pending-install (revision 12, since 2026-12-04 10:00:00 +0000 UTC), "
                   "and HELM_DRIVER=memory keeps its record outside Kubernetes objects: Nothing was changed. Recover as "
                   "Helm documents for that driver, then re-run."], "warnings": [], "recover": None}
    assert k8s_checks.pending_release(None, BLUE, "2030-01-01T00:00:00", 300) == {"errors": [], "warnings": [], "recover": None}


# --- release_change: reasons, message and the diff as Ansible shows it ----------------------------------------------

def test_the_diff_of_an_upgrade_written_out():
    live_values = {"iomesh": {"chunk": {"dataCIDR": "10.8.0.0/16", "podPolicy": {"replicas": 3}}, "edition": "community"},
                   "global": {"registry": "old.example.com"}, "logLevel": "debug", "token": "t-1"}
    wanted = {"iomesh": {"chunk": {"dataCIDR": "10.9.0.0/16", "podPolicy": {"replicas": 3}}, "edition": "community"},
              "global": {"registry": "new.example.com"}, "nodeSelector": None, "token": "t-1",
              "image": {"note": "a long value " * 10}}
    release = {"chart": "iomesh-ee-v1.0.1", "status": "deployed", "revision": 9, "values": live_values}
    change = k8s_checks.release_change(release, BLUE, "v1.1.0", wanted, hidden={"global": {"registry": "x"}})
    assert change == {
        "changed": True,
        "reasons": ["chart v1.0.1 -> v1.1.0",
                    "values at global.registry, image.note, iomesh.chunk.dataCIDR, logLevel, nodeSelector"],
        "msg": "Helm release store-blue/blue-m would be upgraded: chart v1.0.1 -> v1.1.0; values at global.registry, "
               "image.note, iomesh.chunk.dataCIDR, logLevel, nodeSelector.",
        "diff": {
            "before": "chart: v1.0.1\nvalues:\n  global:\n    registry: (hidden, changed)\n  iomesh:\n    chunk:\n"
                      "      dataCIDR: 10.8.0.0/16\n      podPolicy:\n        replicas: 3\n    edition: community\n"
                      "  logLevel: debug\n  token: (hidden)\n",
            "after": "chart: v1.1.0\nvalues:\n  global:\n    registry: (hidden, changed)\n  image:\n    note: '"
                     + "a long value " * 10 + "'\n  iomesh:\n    chunk:\n      dataCIDR: 10.9.0.0/16\n      podPolicy:\n"
                     "        replicas: 3\n    edition: community\n  nodeSelector: null\n  token: (hidden)\n",
            "before_header": "Helm release store-blue/blue-m (revision 9, deployed)",
            "after_header": "Helm release store-blue/blue-m as the inventory computes it"}}


def test_a_first_install_written_out():
    wanted = {"iomesh": {"edition": "community"}, "licenseKey": None, "registry": {"host": "r.example"}}
    change = k8s_checks.release_change(None, BLUE, "v1.0.1", wanted, hidden={"registry": {"host": "r.example"}})
    assert change == {
        "changed": True, "reasons": ["not installed"],
        "msg": "Helm release store-blue/blue-m is not installed: install chart v1.0.1.",
        "diff": {"before": "", "after": "chart: v1.0.1\nvalues:\n  iomesh:\n    edition: community\n"
                                        "  licenseKey: (hidden, changed)\n  registry:\n    host: (hidden, changed)\n",
                 "before_header": "Helm release store-blue/blue-m (not installed)",
                 "after_header": "Helm release store-blue/blue-m as the inventory computes it"}}


def test_a_release_in_no_known_state_and_without_chart():
    change = k8s_checks.release_change({"values": {"a": 1}}, BLUE, "v1.0.1", {"a": 1})
    assert change["reasons"] == ["its last revision is in no known state", "chart ? -> v1.0.1"]
    assert change["diff"]["before"] == "chart: ''\nvalues:\n  a: 1\n"


@pytest.mark.parametrize(("count", "listed"), [
    (8, "values at k1, k2, k3, k4, k5, k6, k7, k8"),
    (9, "values at k1, k2, k3, k4, k5, k6, k7, k8 and more"),
])
def test_at_most_eight_changed_values_are_named(count, listed):
    wanted = {f"k{i}": i for i in range(1, count + 1)}
    change = k8s_checks.release_change({"chart": "iomesh-v1.0.1", "status": "deployed", "values": {}}, BLUE, "v1.0.1", wanted)
    assert change["reasons"] == [listed]


def test_a_null_the_release_had_and_the_inventory_drops_is_a_change():
    # In Helm values null removes the chart's default: dropping it brings the default back.
    release = {"chart": "iomesh-v1.0.1", "status": "deployed", "values": {"iomesh": {"meta": {"resources": None}}}}
    change = k8s_checks.release_change(release, BLUE, "v1.0.1", {"iomesh": {}})
    assert change["reasons"] == ["values at iomesh.meta.resources"]


def test_a_key_holding_a_dot_stays_one_key_in_the_diff_and_in_the_guard():
    """A nodeSelector's kubernetes.io/hostname is one key: the diff shows it under nodeSelector (not as kubernetes ->
    io/hostname), and the paths named to the user escape its dot as helm --set does."""
    wanted = {"redirector": {"nodeSelector": {"kubernetes.io/os": "linux"}}}
    live_values = {"redirector": {"nodeSelector": {"kubernetes.io/os": "windows", "topology.kubernetes.io/zone": "z1"}}}
    change = k8s_checks.release_change(live(live_values, chart="iomesh-v1.2.0"), CORE, "v1.2.0", wanted)
    assert change["reasons"] == ["values at redirector.nodeSelector.kubernetes\\.io/os, "
                                 "redirector.nodeSelector.topology\\.kubernetes\\.io/zone"]
    assert change["diff"]["before"] == ("chart: v1.2.0\nvalues:\n  redirector:\n    nodeSelector:\n"
                                        "      kubernetes.io/os: windows\n      topology.kubernetes.io/zone: z1\n")
    assert change["diff"]["after"] == "chart: v1.2.0\nvalues:\n  redirector:\n    nodeSelector:\n      kubernetes.io/os: linux\n"
    assert k8s_checks.hand_set_values(live_values, wanted) == ["redirector.nodeSelector.topology\\.kubernetes\\.io/zone"]
    # A key under a leaf the inventory renders (a list, a scalar) is the inventory's, however deep.
    assert k8s_checks.hand_set_values({"tolerations": {"a.b": {"c": 1}}, "x": {"y.z": 2}}, {"tolerations": [], "x": {}}) == ["x.y\\.z"]


# --- scale-down: refused, never automated (docs/day-2.md) ---

def scaled(inv, group_hosts=None, **cluster_keys):
    """The inventory's clusters after an edit: the second cluster's group and keys changed."""
    inv = inv.copy()
    if group_hosts is not None:
        inv.groups["g1"] = group_hosts
    inv.clusters[1].update(cluster_keys)
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars)


def test_scale_out_passes(inv):
    """A node added to the second cluster's group (w6) and one more chunk pod: what a re-run extends, not refused."""
    inv.hostvars["w6"] = {"ansible_host": "10.234.1.16"}
    inv.groups["all"].append("w6")
    release, crs = converged()
    inv.groups["g1"] = ["w3", "w4", "w5", "w6"]
    grown = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, {"iomesh_edition": "enterprise"})
    assert grown[1]["chunk_replicas"] == 4
    result = check(grown, all_nodes() + [node("w6")], release=release, existing=crs, settings={"iomesh_edition": "enterprise"})
    assert result["errors"] == []


@pytest.mark.parametrize("edit, expected", [
    ({"group_hosts": ["w3", "w4", "w9"]}, "node w5 taken out of the cluster (not in group g1 any more)"),
    ({"group_hosts": ["w9", "w4", "w8"]}, "nodes w3, w5 taken out of the cluster (not in group g1 any more)"),
], ids=["one-node", "two-nodes"])
def test_nodes_taken_out_of_a_cluster_are_refused(inv, edit, expected):
    for host in ("w8", "w9"):
        inv.hostvars[host] = {"ansible_host": f"10.234.1.{10 + int(host[1:])}"}
        inv.groups["all"].append(host)
    release, crs = converged()
    shrunk = scaled(inv, **edit)
    errors = check(shrunk, all_nodes() + [node("w8"), node("w9")], release=release, existing=crs)["errors"]
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"IOMeshCluster iomesh-cluster-1/iomesh-cluster-1 would be scaled down: {expected}. "
                                "The collection never scales a cluster down: IOMesh takes chunk pods away only by hand")
    assert "iomeshctl chunk unregister <id>" in errors[0] and errors[0].endswith(
        "Nothing was changed; put the inventory back as the cluster runs, or finish the procedure first.")


def test_fewer_chunk_or_meta_pods_than_run_are_refused(inv):
    release, crs = converged()
    crs[1]["spec"]["chunk"]["replicas"] = 5
    crs[1]["spec"]["meta"]["replicas"] = 5
    errors = check(f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars), all_nodes(), release=release,
                   existing=crs)["errors"]
    assert len(errors) == 1
    assert errors[0].startswith("IOMeshCluster iomesh-cluster-1/iomesh-cluster-1 would be scaled down: chunk pods from 5 "
                                "to 3 (chunk_replicas); meta pods from 5 to 3 (meta_replicas). ")


def test_the_management_cluster_is_judged_too_whatever_its_release(clusters):
    """Its release decides conversion (iomesh_release_problems), but a scale-down is judged on its live CR."""
    release, crs = converged()
    crs[0]["spec"]["chunk"]["replicas"] = 4
    for guard in (check(clusters, all_nodes(), release=release, existing=crs),
                  f.iomesh_cluster_guards(crs, clusters), f.iomesh_cluster_guards(crs[:1], clusters[:1])):
        assert len(guard["errors"]) == 1 and guard["errors"][0].startswith(
            "IOMeshCluster iomesh-system/iomesh would be scaled down: chunk pods from 4 to 3 (chunk_replicas). ")


def test_pinned_nodes_read_every_part_and_only_in_expressions():
    spec = {"meta": {"podPolicy": pinned("n2", "n1")}, "chunk": {"podPolicy": pinned("n3")},
            "redirector": {"podPolicy": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "NotIn", "values": ["n9"]},
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n4"]}]}]}}}}},
            "zookeeper": {"podPolicy": pinned("n7")}}
    assert k8s_checks.pinned_nodes(spec) == ["n1", "n2", "n3", "n4"]
    assert k8s_checks.pinned_nodes({}) == []


def test_a_cluster_not_deployed_yet_or_without_replicas_is_no_scale_down(clusters):
    release, crs = converged()
    del crs[1]["spec"]["chunk"]["replicas"]
    crs[1]["spec"]["meta"]["replicas"] = "5"
    assert check(clusters, all_nodes(), release=release, existing=crs)["errors"] == []
    assert check(clusters, all_nodes(), release=release, existing=crs[:1])["errors"] == []


# --- upgrade: refused while a cluster runs a single meta or chunk pod (docs/pitfalls.md P11) ---

@pytest.mark.parametrize("parts, runs", [
    (("chunk",), "a single chunk pod"),
    (("meta", "chunk"), "a single meta and a single chunk pod"),
], ids=["chunk", "meta-and-chunk"])
def test_an_upgrade_of_a_cluster_with_a_single_pod_is_refused(clusters, parts, runs):
    release, crs = converged()
    for part in parts:
        crs[1]["spec"][part]["replicas"] = 1
    errors = check(clusters, all_nodes(), release=release, existing=crs,
                   settings={"iomesh_chart_version": "v1.1.0"})["errors"]
    assert errors == [
        f"IOMeshCluster iomesh-cluster-1/iomesh-cluster-1 runs {runs}: IOMesh never starts an upgrade of such a cluster "
        "(docs/pitfalls.md P11), so upgrading chart iomesh-v1.0.1 to v1.1.0 would leave it behind. Nothing was changed. "
        "Scale it out first (3 or 5 meta pods, at least 3 chunk pods: meta_replicas, chunk_replicas) with "
        "iomesh_chart_version v1.0.1, then upgrade."]
    # The stage's own guard says the same when told the release and the version.
    assert f.iomesh_cluster_guards(crs, clusters, {"release": release, "chart_version": "v1.1.0"})["errors"] == errors


def test_a_single_pod_without_an_upgrade_is_no_upgrade_problem(clusters):
    release, crs = converged()
    crs[0]["spec"]["meta"]["replicas"] = 1
    same = {"iomesh_chart_version": "v1.0.1"}
    assert k8s_checks.upgrade_problems(crs, clusters, release, "v1.0.1") == []
    assert k8s_checks.upgrade_problems(crs, clusters, None, "v1.1.0") == []
    assert k8s_checks.upgrade_problems(crs, clusters, {"chart": "not-a-chart"}, "v1.1.0") == []
    # The management cluster runs one meta pod: a scale-up by this run is no upgrade of it.
    assert [e for e in check(clusters, all_nodes(), release=release, existing=crs, settings=same)["errors"]
            if "P11" in e] == []
    # Without a version to judge, the guard judges no upgrade.
    assert f.iomesh_cluster_guards(crs, clusters, {"release": release})["errors"] == []
    assert len(f.iomesh_cluster_guards(crs, clusters, {"release": release, "chart_version": "v1.2.0"})["errors"]) == 1
