"""Filters of plugins/filter/iomesh_disks.py: argument checks and registration."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_disks as fd


def clusters_of(inv):
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


@pytest.mark.parametrize("args, match", [
    (("not clusters", []), "expects the cluster list"),
    (([{"name": "x"}], []), "expects the cluster list"),
    ((None, [], None, None), "expects the cluster list"),
])
def test_plan_rejects_bad_clusters(args, match):
    with pytest.raises(AnsibleFilterError, match=match):
        fd.iomesh_disk_plan(*args)


def test_plan_rejects_bad_objects(inv):
    clusters = clusters_of(inv)
    with pytest.raises(AnsibleFilterError, match="blockdevices must be the resources list"):
        fd.iomesh_disk_plan(clusters, {"items": []})
    with pytest.raises(AnsibleFilterError, match="iomesh_clusters must be the resources list"):
        fd.iomesh_disk_plan(clusters, [], None, "x")
    with pytest.raises(AnsibleFilterError, match="settings must be the settings of the iomesh.multicluster.iomesh_plan"):
        fd.iomesh_disk_plan(clusters, [], ["x"])
    # Raw variables, even valid ones, are refused: normalising them is the plan's job alone.
    for raw in ({}, {"iomesh_edition": "gold"}, {"iomesh_node_label_key": "example.com/storage-node"}):
        with pytest.raises(AnsibleFilterError, match="not raw iomesh_\\* variables"):
            fd.iomesh_disk_plan(clusters, [], raw)
    with pytest.raises(AnsibleFilterError, match="expects the result of"):
        fd.iomesh_disk_waits([], clusters)


def test_filter_module_exposes_both_filters():
    assert set(fd.FilterModule().filters()) == {"iomesh_disk_plan", "iomesh_disk_waits"}
