# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the optional monitoring (plugins/plugin_utils/monitoring.py; docs/day-2.md, "Monitoring").

The documentation of each filter is in the YAML file of the same name beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import monitoring, plan, topology
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.k8s import cluster_list, object_list

CLUSTER_KEYS = ("name", "namespace")


def _settings(filter_name: str, settings: object) -> dict:
    if not isinstance(settings, Mapping) or not plan.is_settings(settings):
        raise AnsibleFilterError(f"{filter_name}: settings must be the settings of the iomesh.multicluster.iomesh_plan "
                                 f"action, got {settings!r}")
    return topology.plain(settings)


def iomesh_monitoring_problems(crds, settings):
    """Why iomesh_monitoring cannot be true: the Prometheus Operator's CRDs missing from the cluster."""
    name = "iomesh_monitoring_problems"
    return monitoring.crd_problems(_settings(name, settings), object_list(name, "crds", crds, allow_none=True))


def iomesh_monitoring_manifests(rendered, clusters, settings):
    """ServiceMonitor iomesh as the chart renders it, selecting every cluster's namespace; [] without monitoring."""
    name = "iomesh_monitoring_manifests"
    settings = _settings(name, settings)
    clusters = cluster_list(name, clusters, CLUSTER_KEYS + ("management",))
    if not settings["iomesh_monitoring"]:
        return []
    if not isinstance(rendered, str):
        raise AnsibleFilterError(f"{name}: expects the stdout of helm template (iomesh.multicluster.iomesh_helm_template), "
                                 f"got {type(rendered).__name__}")
    management = [c for c in clusters if c.get("management")]
    if len(management) != 1:
        raise AnsibleFilterError(f"{name}: expects the plan's cluster list, with one management cluster")
    try:
        return [monitoring.service_monitor(rendered, management[0], [c["namespace"] for c in clusters])]
    except monitoring.MonitoringRenderError as exc:
        raise AnsibleFilterError(f"{name}: {exc}") from exc


def iomesh_monitoring_stale(found, wanted):
    """The ServiceMonitors the collection applied that are not wanted any more, as references to delete."""
    name = "iomesh_monitoring_stale"
    return monitoring.stale(object_list(name, "found", found, allow_none=True),
                            object_list(name, "wanted", wanted, fix="the list iomesh_monitoring_manifests returns"))


class FilterModule:
    """iomesh.multicluster filters of the optional monitoring."""

    def filters(self):
        return {
            "iomesh_monitoring_problems": iomesh_monitoring_problems,
            "iomesh_monitoring_manifests": iomesh_monitoring_manifests,
            "iomesh_monitoring_stale": iomesh_monitoring_stale,
        }
