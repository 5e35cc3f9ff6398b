"""The `multicluster` molecule scenario on the ten-node three-cluster inventory (chart v1.2.0, enterprise edition, a
four-node management cluster blk-mgmt in storage-system, one cluster allFlash) with helm 4, with a podman host per
node when IOMESH_MULTICLUSTER_HOSTS=1 (the hosts double its time, so CI runs it without them)."""

from __future__ import annotations

from .scenario import multicluster_case


def test_multicluster_three_clusters_helm4_hosts(tmp_path):
    multicluster_case(tmp_path, "inventories/three-clusters", "helm4", hosts=True)
