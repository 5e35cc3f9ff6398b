"""Filters of plugins/filter/iomesh.py: argument checks, errors that name the filter, registration and docs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f


def topology(inv):
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


@pytest.mark.parametrize("nodes", [[], "n0", None, ["n0", ""], ["n0", 3]])
def test_node_affinity_rejects_bad_nodes(nodes):
    with pytest.raises(AnsibleFilterError, match="iomesh_node_affinity"):
        f.iomesh_node_affinity(nodes)


def test_node_affinity_rejects_bad_key():
    with pytest.raises(AnsibleFilterError, match="node label key"):
        f.iomesh_node_affinity(["n0"], key="not a key")


@pytest.mark.parametrize("args", [("",), ("ok", 0), ("ok", 101), ("ok", True), ("bad label!",)])
def test_zookeeper_affinity_rejects_bad_arguments(args):
    with pytest.raises(AnsibleFilterError, match="iomesh_zookeeper_affinity"):
        f.iomesh_zookeeper_affinity(["n0"], *args)


def test_render_filters_refuse_wrong_clusters(inv):
    clusters = topology(inv)
    with pytest.raises(AnsibleFilterError, match="not the management cluster"):
        f.iomesh_mgmt_values(clusters[1], f.iomesh_settings(inv.settings))
    with pytest.raises(AnsibleFilterError, match="is the management cluster"):
        f.iomesh_cluster_manifests(clusters[0], f.iomesh_settings(inv.settings))
    with pytest.raises(AnsibleFilterError, match="as returned by iomesh.multicluster.iomesh_topology"):
        f.iomesh_csi_manifests(inv.clusters[1], f.iomesh_settings(inv.settings))
    with pytest.raises(AnsibleFilterError, match="mgmt_cr must be"):
        f.iomesh_cluster_manifests(clusters[1], f.iomesh_settings(inv.settings), "iomesh")
    with pytest.raises(AnsibleFilterError, match="iomesh_csi_manifests: settings must be the settings of the iomesh.multicluster.iomesh_plan"):
        f.iomesh_csi_manifests(clusters[1], {"iomesh_edition": "gold"})
    # Raw variables, even valid ones, are refused by every filter: normalising them is the plan's job alone.
    raw = {"iomesh_edition": "enterprise"}
    for call in (lambda: f.iomesh_mgmt_values(clusters[0], raw), lambda: f.iomesh_cluster_manifests(clusters[1], raw),
                 lambda: f.iomesh_csi_manifests(clusters[1], raw),
                 lambda: f.iomesh_cluster_problems(clusters, [], "v1.25.0", settings=raw)):
        with pytest.raises(AnsibleFilterError, match="not raw iomesh_\\* variables"):
            call()


def test_filter_module_exposes_every_filter_with_its_doc():
    names = set(f.FilterModule().filters())
    assert names == {
        "iomesh_topology", "iomesh_topology_report", "iomesh_settings", "iomesh_node_affinity",
        "iomesh_zookeeper_affinity", "iomesh_mgmt_values", "iomesh_cluster_manifests", "iomesh_csi_manifests",
        "iomesh_cluster_problems", "iomesh_readiness", "iomesh_mgmt_manifests", "iomesh_release_problems",
        "iomesh_cluster_guards", "iomesh_release_change",
    }
    docs = Path(f.__file__).parent
    for name in names:
        doc = yaml.safe_load((docs / f"{name}.yml").read_text())
        assert doc["DOCUMENTATION"]["name"] == name


@pytest.fixture
def clusters(inv):
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars)


def test_cluster_problems_bad_arguments(clusters):
    with pytest.raises(AnsibleFilterError, match="cluster list"):
        f.iomesh_cluster_problems("iomesh", [], "v1.25.0")
    with pytest.raises(AnsibleFilterError, match="Node objects"):
        f.iomesh_cluster_problems(clusters, "w0", "v1.25.0")
    for bad in ("iomesh", {"items": []}, ["iomesh"]):
        with pytest.raises(AnsibleFilterError, match="IOMeshCluster objects"):
            f.iomesh_cluster_problems(clusters, [], "v1.25.0", iomesh_clusters=bad)


@pytest.mark.parametrize("args, kwargs, match", [
    (("nope",), {}, "check must be one of"),
    (("deployment",), {"nam": "x"}, "wrong arguments for check deployment"),
])
def test_readiness_bad_arguments(args, kwargs, match):
    with pytest.raises(AnsibleFilterError, match=match):
        f.iomesh_readiness([], *args, **kwargs)
    with pytest.raises(AnsibleFilterError, match="resources list"):
        f.iomesh_readiness("x", "deployment", name="x")
