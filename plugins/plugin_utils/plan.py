# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a run: the inventory normalised and validated once, with every name, wait and constant the roles read.

The action iomesh.multicluster.iomesh_plan returns it; filters that take its clusters or settings check that they
got the plan's (normalised) data, not raw inventory variables.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import constants, monitoring, names, topology, waits

# Keys every normalised cluster carries; a filter given anything else fails naming the plan.
CLUSTER_KEYS = (
    "name", "namespace", "management", "hosts", "host_nodes", "nodes", "data_cidr", "disk_deployment_mode",
    "meta_replicas", "chunk_replicas", "zookeeper_replicas", "storage_class", "license", "disks", "mount_types",
    "zookeeper_name", "meta_client_service", "csi_configmap_name", "meta_addr", "cluster_connection",
    "iomesh_cluster_ref", "block_device_namespace",
)
SETTINGS_KEYS = tuple(topology.SETTINGS_DEFAULTS)
VERIFY_COMPONENT = "verify"


def constants_view() -> dict:
    """The constants YAML needs, so that no task re-spells an API version, label or port."""
    managed = {constants.MANAGED_BY_LABEL: constants.MANAGED_BY}
    verify = {**managed, constants.COMPONENT_LABEL: VERIFY_COMPONENT}
    return {
        "api_versions": {
            "iomesh": constants.IOMESH_API_VERSION,
            "zookeeper": constants.ZOOKEEPER_API_VERSION,
            "ndm": constants.NDM_API_VERSION,
            "monitoring": constants.MONITORING_API_VERSION,
        },
        "labels": {
            "managed": managed,
            "managed_selector": [f"{key}={value}" for key, value in managed.items()],
            "verify": verify,
            "verify_selector": [f"{key}={value}" for key, value in verify.items()],
        },
        "csi_driver": constants.CSI_DRIVER,
        "license_secret": constants.LICENSE_SECRET,
        "service_monitor_crd": monitoring.SERVICE_MONITOR_CRD,
        "meta_client_port": constants.META_CLIENT_PORT,
        "webhook_unavailable": constants.WEBHOOK_UNAVAILABLE,
        "helm_release_annotation": constants.HELM_RELEASE_ANNOTATION,
        "helm_keep": dict(constants.HELM_KEEP),
        # module_defaults of kubernetes.core.k8s in every writing role.
        "apply_defaults": {"hidden_fields": list(constants.APPLY_HIDDEN_FIELDS)},
    }


def _with_derived(cluster: Mapping, clusters: list) -> dict:
    out = dict(cluster)
    out["names"] = names.cluster_names(cluster["name"])
    out["pod_patterns"] = names.pod_patterns(cluster["name"])
    out["waits"] = waits.plan_waits(cluster, clusters)
    return out


def build(clusters: object, groups: Mapping, hostvars: Mapping, settings: Mapping | None) -> dict:
    """The plan: {clusters, management, settings, release, constants, errors, warnings}.

    With errors, clusters hold what could be normalised and nothing is derived from them (no names, no waits):
    a caller may only report the errors.
    """
    normalised, conf, report = topology.normalize_topology(clusters, groups, hostvars, settings)
    plan = {
        "clusters": normalised,
        "management": None,
        "settings": conf,
        "release": {},
        "constants": constants_view(),
        "errors": list(report.errors),
        "warnings": list(report.warnings),
    }
    if report.errors:
        return plan
    derived = [_with_derived(c, normalised) for c in normalised]
    plan["clusters"] = derived
    plan["management"] = next(c for c in derived if c["management"])
    plan["release"] = names.release_names(plan["management"]["name"])
    return plan


def problems_text(source: str, errors: list) -> str:
    lines = "\n".join(f"  - {e}" for e in errors)
    return f"{source} found {len(errors)} problem(s) in the IOMesh inventory:\n{lines}"


def is_settings(value: object) -> bool:
    """Whether `value` is the plan's settings (every collection-wide variable, defaults applied, app version known)."""
    return (isinstance(value, Mapping) and all(key in value for key in SETTINGS_KEYS)
            and bool(value.get("iomesh_app_version"))
            and value.get("iomesh_edition") in ("community", "enterprise"))


def is_cluster(value: object) -> bool:
    """Whether `value` is one cluster of the plan (normalised, with its derived names)."""
    return isinstance(value, Mapping) and all(key in value for key in CLUSTER_KEYS)


def default_settings() -> dict:
    """The settings of an inventory that sets no collection-wide variable."""
    report = topology.TopologyReport()
    return topology.normalize_settings({}, report)
