"""iomesh_cluster_problems: nodes, server version and an existing release, as read from the API."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f


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


def check(clusters, nodes, version="v1.25.16", release=None, settings=None, **options):
    return f.iomesh_cluster_problems(clusters, nodes, version, release, settings or {}, options)


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


def test_release_of_another_chart(clusters):
    errors = check(clusters, all_nodes(), release={"chart": "nginx-1.2.3", "values": {}})["errors"]
    assert "installs chart nginx-1.2.3, not iomesh" in errors[0]


def test_bad_arguments(clusters):
    with pytest.raises(AnsibleFilterError, match="cluster list"):
        f.iomesh_cluster_problems("iomesh", [], "v1.25.0")
    with pytest.raises(AnsibleFilterError, match="Node objects"):
        f.iomesh_cluster_problems(clusters, "w0", "v1.25.0")
