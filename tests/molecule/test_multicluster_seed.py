"""The `multicluster` molecule scenario on the seed inventory (two clusters of three nodes) with helm 4, the
Kubernetes side (--skip-tags iomesh_prereq)."""

from __future__ import annotations

from .scenario import multicluster_case


def test_multicluster_seed_helm4(tmp_path):
    multicluster_case(tmp_path, "inventories/seed-example", "helm4", hosts=False)
