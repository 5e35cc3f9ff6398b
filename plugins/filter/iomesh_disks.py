# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the disk stage (role iomesh_disks).

The documentation of each filter is in the YAML file of the same name beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import disks, plan, topology
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.k8s import cluster_list, object_list

CLUSTERS_DETAIL = " (normalised, with nodes and disks)"
CLUSTER_KEYS = ("name", "namespace", "nodes", "disks", "host_nodes", "disk_deployment_mode", "block_device_namespace")


def iomesh_disk_plan(clusters, blockdevices, settings=None, iomesh_clusters=None, pending=None):
    """Which BlockDevice each declared disk is, every reason to refuse one, and the labels to set."""
    name = "iomesh_disk_plan"
    clusters = cluster_list(name, clusters, CLUSTER_KEYS, CLUSTERS_DETAIL)
    blockdevices = object_list(name, "blockdevices", blockdevices)
    if settings is None:
        conf = plan.default_settings()
    elif plan.is_settings(settings):
        conf = topology.plain(settings)
    else:
        raise AnsibleFilterError(
            f"{name}: settings must be the settings of the iomesh.multicluster.iomesh_plan action (every "
            f"collection-wide variable, defaults applied), not raw iomesh_* variables; got {settings!r}"
        )
    if iomesh_clusters is not None:
        iomesh_clusters = object_list(name, "iomesh_clusters", iomesh_clusters)
    pending = object_list(name, "pending", pending, allow_none=True)
    return disks.disk_plan(clusters, blockdevices, conf, iomesh_clusters, pending)


def iomesh_disk_waits(plan, clusters):
    """The iomesh_wait waits of a plan: each cluster's disks Claimed, then in its status.attachedDevices."""
    name = "iomesh_disk_waits"
    if not isinstance(plan, Mapping) or not isinstance(plan.get("labels"), Sequence):
        raise AnsibleFilterError(f"{name}: expects the result of iomesh.multicluster.iomesh_disk_plan, got {plan!r}")
    if plan.get("errors"):
        raise AnsibleFilterError(f"{name}: the plan has {len(plan['errors'])} problem(s); nothing may be waited for")
    return disks.disk_waits(topology.plain(plan), cluster_list(name, clusters, CLUSTER_KEYS, CLUSTERS_DETAIL))


class FilterModule:
    """iomesh.multicluster disk-stage filters."""

    def filters(self):
        return {
            "iomesh_disk_plan": iomesh_disk_plan,
            "iomesh_disk_waits": iomesh_disk_waits,
        }
