# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the report reads of the live state, and how those reads become the `observed` of report_model.

The reads (iomesh_read's shape: key, api_version, kind, namespace) and, from their answers and the management
release's, the observed dictionary report_model.build judges: each key a list of objects, or None when its read
failed, and every read that failed named in `errors` with the client's reason. A read that fails never ends the
report: what could not be read is a problem of the report (docs/architecture.md, "Report").
"""

from __future__ import annotations

from collections.abc import Mapping

# The keys of the reads of the management namespace and of every cluster namespace (what the report names in
# "could not read: <key>: <reason>").
BLOCK_DEVICES = "BlockDevices in {}"
PODS = "pods in {}"
CONFIGMAPS = "ConfigMaps in {}"


def namespaces(plan: Mapping) -> list[str]:
    """The clusters' namespaces, sorted, once each."""
    return sorted({cluster["namespace"] for cluster in plan["clusters"]})


def reads(plan: Mapping) -> list[dict]:
    """Every read of the report: namespaces, IOMesh and ZooKeeper clusters, the management namespace's BlockDevices,
    StorageClasses, then the pods and the ConfigMaps of each cluster namespace."""
    api = plan["constants"]["api_versions"]
    mgmt_ns = plan["management"]["namespace"]
    each = namespaces(plan)
    return [
        {"key": "namespaces", "api_version": "v1", "kind": "Namespace"},
        {"key": "IOMeshClusters", "api_version": api["iomesh"], "kind": "IOMeshCluster"},
        {"key": "ZookeeperClusters", "api_version": api["zookeeper"], "kind": "ZookeeperCluster"},
        {"key": BLOCK_DEVICES.format(mgmt_ns), "api_version": api["ndm"], "kind": "BlockDevice", "namespace": mgmt_ns},
        {"key": "StorageClasses", "api_version": "storage.k8s.io/v1", "kind": "StorageClass"},
        *({"key": PODS.format(ns), "api_version": "v1", "kind": "Pod", "namespace": ns} for ns in each),
        *({"key": CONFIGMAPS.format(ns), "api_version": "v1", "kind": "ConfigMap", "namespace": ns} for ns in each),
    ]


def _joined(objects: Mapping, keys: list[str]) -> list:
    """The objects of several reads in one list; a read that failed adds none (its error is reported)."""
    return [obj for key in keys for obj in objects.get(key) or []]


def observed(plan: Mapping, read: Mapping, release: Mapping | None, release_error: str | None) -> dict:
    """report_model's observed from k8s_client.read_all's answer and the management release (helm.release's status
    and error)."""
    mgmt = plan["management"]
    objects = read["objects"]
    each = namespaces(plan)
    errors = []
    if release_error:
        binary = plan["settings"].get("iomesh_helm_binary") or "helm on PATH"
        errors.append(f"Helm release {mgmt['name']} in {mgmt['namespace']} with {binary}: {release_error}")
    for key, found in objects.items():
        if found is None:
            # When the API cannot be used every read failed for that reason, said as the probe says it.
            errors.append(f"{key}: {'' if read['reachable'] else 'the API cannot be reached: '}{read['errors'][key]}")
    return {
        "release": None if release_error else (
            {key: release[key] for key in ("chart", "revision", "status", "app_version")} if release else {}),
        "namespaces": objects["namespaces"],
        "iomesh_clusters": objects["IOMeshClusters"],
        "zookeeper_clusters": objects["ZookeeperClusters"],
        "pods": _joined(objects, [PODS.format(ns) for ns in each]),
        "block_devices": objects[BLOCK_DEVICES.format(mgmt["namespace"])],
        "storage_classes": objects["StorageClasses"],
        "configmaps": _joined(objects, [CONFIGMAPS.format(ns) for ns in each]),
        "errors": errors,
    }
