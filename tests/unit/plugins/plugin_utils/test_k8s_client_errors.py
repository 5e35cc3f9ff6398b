"""k8s: reading objects as k8s_info returns them (a missing section or object reads empty) and the argument checks the
filters share (the message names the filter, the argument and what it must be)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import k8s


@pytest.mark.parametrize("obj", [None, {}, {"metadata": None}, {"metadata": {"labels": {"app": "x"}}}])
def test_a_missing_name_or_namespace_reads_empty(obj):
    assert (k8s.name(obj), k8s.namespace(obj)) == ("", "")


def test_name_and_namespace_of_an_object():
    pod = {"metadata": {"name": "chunk-0", "namespace": "blk-east", "labels": {"app": "chunk"}}}
    assert (k8s.name(pod), k8s.namespace(pod), k8s.labels(pod)) == ("chunk-0", "blk-east", {"app": "chunk"})


def test_an_object_list_is_required_unless_none_is_allowed():
    with pytest.raises(AnsibleFilterError) as raised:
        k8s.object_list("iomesh_disk_claims", "blockdevices", None)
    assert str(raised.value) == ("iomesh_disk_claims: blockdevices must be the resources list of "
                                 "kubernetes.core.k8s_info, got None")
    assert k8s.object_list("iomesh_disk_claims", "blockdevices", None, allow_none=True) == []
    assert k8s.object_list("iomesh_disk_claims", "blockdevices", ({"kind": "BlockDevice"},)) == [{"kind": "BlockDevice"}]


def test_a_cluster_list_names_the_keys_it_misses_only_when_told():
    with pytest.raises(AnsibleFilterError) as raised:
        k8s.cluster_list("iomesh_csi_manifests", [{"name": "east"}], ["name", "namespace"])
    assert str(raised.value) == ("iomesh_csi_manifests: expects the cluster list returned by "
                                 "iomesh.multicluster.iomesh_topology, got [{'name': 'east'}]")
    with pytest.raises(AnsibleFilterError) as raised:
        k8s.cluster_list("iomesh_csi_manifests", "east", ["name"], " (with namespace)")
    assert str(raised.value) == ("iomesh_csi_manifests: expects the cluster list returned by "
                                 "iomesh.multicluster.iomesh_topology (with namespace), got 'east'")
    assert k8s.cluster_list("f", [{"name": "east", "namespace": "blk-east"}], ["name"]) == [
        {"name": "east", "namespace": "blk-east"}]
