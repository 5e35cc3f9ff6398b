# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the licence stage (plugins/plugin_utils/licensing.py; docs/day-2.md, "Licences").

The documentation of each filter is in the YAML file of the same name beside this one.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import licensing, topology
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.k8s import cluster_list, object_list

CLUSTER_KEYS = ("name", "namespace")


def _codes(filter_name: str, codes: object) -> dict:
    if not isinstance(codes, Mapping) or not all(isinstance(v, str) for v in codes.values()):
        raise AnsibleFilterError(f"{filter_name}: codes must map cluster names to licence codes (text)")
    return {str(k): v for k, v in codes.items()}


def iomesh_license_steps(clusters, codes, secrets, iomesh_clusters, labels=None):
    """What the licence stage does for each cluster given a code: keep, create, set_field, replace or no_cluster."""
    name = "iomesh_license_steps"
    return licensing.steps(cluster_list(name, clusters, CLUSTER_KEYS), _codes(name, codes),
                           object_list(name, "secrets", secrets, allow_none=True),
                           object_list(name, "iomesh_clusters", iomesh_clusters, allow_none=True),
                           topology.plain(labels or {}))


def iomesh_license_activated(step, iomesh_cluster):
    """Whether the IOMeshCluster reports the step's licence as activated."""
    if not isinstance(step, Mapping) or "action" not in step or "before" not in step:
        raise AnsibleFilterError(f"iomesh_license_activated: expects a step of iomesh_license_steps, got {step!r}")
    if iomesh_cluster is not None and not isinstance(iomesh_cluster, Mapping):
        raise AnsibleFilterError(f"iomesh_license_activated: expects an IOMeshCluster object, got {iomesh_cluster!r}")
    return licensing.activated(topology.plain(step), topology.plain(iomesh_cluster))


def iomesh_license_report(clusters, iomesh_clusters, now, warn_days=14):
    """Each cluster's licence as the operator reports it, and a warning per licence ending within warn_days days."""
    name = "iomesh_license_report"
    if not isinstance(now, datetime.datetime):
        raise AnsibleFilterError(f"{name}: now must be a datetime, such as now(utc=true), got {now!r}")
    # now(utc=true) is naive: UTC.
    now = now if now.tzinfo else now.replace(tzinfo=datetime.timezone.utc)
    if isinstance(warn_days, bool) or not isinstance(warn_days, int) or warn_days < 0:
        raise AnsibleFilterError(f"{name}: warn_days must be a whole number of days, at least 0, got {warn_days!r}")
    return licensing.report(cluster_list(name, clusters, CLUSTER_KEYS),
                            object_list(name, "iomesh_clusters", iomesh_clusters, allow_none=True), now, warn_days)


class FilterModule:
    """iomesh.multicluster filters of the licence stage."""

    def filters(self):
        return {
            "iomesh_license_steps": iomesh_license_steps,
            "iomesh_license_activated": iomesh_license_activated,
            "iomesh_license_report": iomesh_license_report,
        }
