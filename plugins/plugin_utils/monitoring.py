# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Optional monitoring of the IOMesh clusters (docs/day-2.md, "Monitoring").

The chart makes every monitoring object behind values that are false by default. The management release turns them
on (chart_values); the ServiceMonitor that scrapes the IOMesh clusters' meta and chunk exporters is the one object the
release never creates, because the chart renders it only with iomesh.create, which the release never has
(roles/iomesh_mgmt/tasks/install.yml). The collection applies it from the chart's own rendering instead, with every
cluster's namespace in its namespaceSelector (service_monitor): Helm does not own it, so no later upgrade of the
release takes the additional namespaces away. Pure functions on data the roles read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from ansible_collections.iomesh.multicluster.plugins.plugin_utils.constants import (
    CLUSTER_LABEL, MANAGED_BY, MANAGED_BY_LABEL, MONITORING_API_VERSION,
)

API_VERSION = MONITORING_API_VERSION
API_GROUP = API_VERSION.split("/", maxsplit=1)[0]
# The Prometheus Operator's CRDs the chart's monitoring objects are instances of.
REQUIRED_CRDS = tuple(f"{plural}.{API_GROUP}" for plural in ("podmonitors", "prometheusrules", "servicemonitors"))
# The CRD of the one kind the collection applies itself (ServiceMonitor iomesh).
SERVICE_MONITOR_CRD = REQUIRED_CRDS[2]
# The chart's values that create them, each with `create`, `namespace` and `labels`: the same paths in the values of
# charts v1.0.1, v1.1.0 and v1.2.0 (tests/unit/plugins/plugin_utils/test_monitoring.py reads them there).
PLACED_OBJECTS = (
    ("operator", "serviceMonitor"),
    ("operator", "prometheusRule"),
    ("iomesh", "serviceMonitor"),
    ("blockdevice-monitor", "podMonitor"),
    ("blockdevice-monitor", "prometheusRule"),
)
# kube-state-metrics has `create` only: its ServiceMonitor takes operator.serviceMonitor's namespace and labels.
KUBE_STATE_METRICS = ("operator", "kubeStateMetrics")
# The value paths (as helm --set writes them) chart_values writes: the collection's whether monitoring is on or off, so
# turning it off drops them without the release guard taking them for values set by hand (docs/pitfalls.md P24).
OWNED_VALUES = tuple(f"{top}.{key}.{leaf}" for top, key in PLACED_OBJECTS for leaf in ("create", "namespace", "labels"))
OWNED_VALUES += (".".join(KUBE_STATE_METRICS) + ".create",)
# ServiceMonitor of the IOMesh clusters' exporters. The chart names it after itself: chart v1.2.0 is called IOMesh,
# not a valid object name, so it is written in lower case (docs/day-2.md, "Monitoring").
SERVICE_MONITOR = "iomesh"


class MonitoringRenderError(ValueError):
    """The chart's rendering holds no ServiceMonitor of the IOMesh clusters."""


def chart_values(settings: Mapping) -> dict:
    """The Helm values that turn the chart's monitoring objects on; {} while iomesh_monitoring is false, so that a
    release deployed without monitoring keeps its values (and is not upgraded) when the collection is updated."""
    if not settings.get("iomesh_monitoring"):
        return {}
    placed: dict = {"create": True}
    if settings.get("iomesh_monitoring_namespace"):
        placed["namespace"] = settings["iomesh_monitoring_namespace"]
    if settings.get("iomesh_monitoring_labels"):
        placed["labels"] = {str(k): str(v) for k, v in sorted(settings["iomesh_monitoring_labels"].items())}
    values: dict = {}
    for top, key in PLACED_OBJECTS:
        values.setdefault(top, {})[key] = dict(placed)
    values[KUBE_STATE_METRICS[0]][KUBE_STATE_METRICS[1]] = {"create": True}
    return values


def crd_problems(settings: Mapping, crds: Sequence[Mapping]) -> list[str]:
    """Why monitoring cannot be turned on: the Prometheus Operator's CRDs it needs that the cluster does not serve."""
    if not settings.get("iomesh_monitoring"):
        return []
    found = {(crd.get("metadata") or {}).get("name") for crd in crds}
    missing = [name for name in REQUIRED_CRDS if name not in found]
    if not missing:
        return []
    return [f"iomesh_monitoring: true needs the Prometheus Operator's CRDs, and the cluster has no {', '.join(missing)}. "
            "Install the Prometheus Operator first (e.g. the kube-prometheus-stack chart) or set iomesh_monitoring: "
            "false (docs/day-2.md, \"Monitoring\")."]


def owned_value(path: str) -> bool:
    """Whether a value path (helm --set text, labels' keys escaped) is one chart_values writes."""
    return any(path == owned or path.startswith(owned + ".") for owned in OWNED_VALUES)


def labels(cluster: Mapping) -> dict:
    """Labels the collection puts on the ServiceMonitor it applies, and selects it by later."""
    return {MANAGED_BY_LABEL: MANAGED_BY, CLUSTER_LABEL: cluster["name"]}


def service_monitor(rendered: str, cluster: Mapping, namespaces: Sequence[str]) -> dict:
    """ServiceMonitor `iomesh` as the chart renders it (helm template with iomesh.create: true), selecting the
    exporters of every cluster's namespace (sorted, once each) instead of the management cluster's only."""
    try:
        documents = list(yaml.safe_load_all(rendered or ""))
    except yaml.YAMLError as exc:
        raise MonitoringRenderError(f"helm template output is not YAML: {exc}") from exc
    found = [doc for doc in documents if isinstance(doc, Mapping) and doc.get("kind") == "ServiceMonitor"
             and str((doc.get("metadata") or {}).get("name") or "").lower() == SERVICE_MONITOR]
    if not found:
        raise MonitoringRenderError(
            "the chart rendered no ServiceMonitor iomesh with iomesh.create and iomesh.serviceMonitor.create true; the "
            "chart at iomesh_chart_ref / iomesh_chart_repo_url is not an IOMesh chart this collection supports"
        )
    doc = found[0]
    metadata = doc.get("metadata") or {}
    shown = {str(k): str(v) for k, v in sorted((metadata.get("labels") or {}).items())}
    shown.update(labels(cluster))
    spec = dict(doc.get("spec") or {})
    spec["namespaceSelector"] = {"matchNames": sorted({str(n) for n in namespaces} | {cluster["namespace"]})}
    return {
        "apiVersion": doc.get("apiVersion") or API_VERSION,
        "kind": "ServiceMonitor",
        "metadata": {"labels": shown, "name": SERVICE_MONITOR,
                     "namespace": metadata.get("namespace") or cluster["namespace"]},
        "spec": spec,
    }


def stale(found: Sequence[Mapping], wanted: Sequence[Mapping]) -> list[dict]:
    """The ServiceMonitors the collection applied earlier that are no longer wanted (monitoring turned off, or
    iomesh_monitoring_namespace changed), as references to delete, sorted."""
    keep = {((w.get("metadata") or {}).get("namespace"), (w.get("metadata") or {}).get("name")) for w in wanted}
    out = []
    for obj in found:
        meta = obj.get("metadata") or {}
        ref = (meta.get("namespace"), meta.get("name"))
        if ref not in keep:
            out.append({"apiVersion": obj.get("apiVersion") or API_VERSION, "kind": "ServiceMonitor",
                        "metadata": {"name": ref[1], "namespace": ref[0]}})
    return sorted(out, key=lambda o: (o["metadata"]["namespace"] or "", o["metadata"]["name"] or ""))
