# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the CSI and verification stages: StorageClass conflicts and the verdict on verification claims.

The documentation of each filter is in the YAML file of the same name beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import csi, topology, verify
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.k8s import K8S_INFO_LIST, cluster_list, object_list

CLUSTER_KEYS = ("name", "nodes", "storage_class", "cluster_connection", "iomesh_cluster_ref")


def _bool(filter_name: str, what: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise AnsibleFilterError(f"{filter_name}: {what} must be true or false, got {value!r}")
    return value


def _label_key(filter_name: str, key: object) -> str:
    if not isinstance(key, str) or not topology._valid_label_key(key):
        raise AnsibleFilterError(
            f"{filter_name}: node_label_key must be a node label key such as kubernetes.io/hostname, got {key!r}")
    return key


def iomesh_storage_class_conflicts(desired, existing, persistent_volumes=None, recreate=False, adopt=False):
    """Which existing StorageClasses conflict with the wanted ones, and whether each is refused, recreated or adopted."""
    name = "iomesh_storage_class_conflicts"
    desired = object_list(name, "the input", desired, "the StorageClass manifests to apply (a list of dictionaries)",
                          allow_none=True)
    for sc in desired:
        if sc.get("kind") != "StorageClass" or not (sc.get("metadata") or {}).get("name"):
            raise AnsibleFilterError(f"{name}: every input item must be a StorageClass manifest with a name, got {sc!r}")
    existing = object_list(name, "existing", existing, f"{K8S_INFO_LIST} for StorageClasses", allow_none=True)
    if persistent_volumes is not None:
        persistent_volumes = object_list(name, "persistent_volumes", persistent_volumes,
                                         f"{K8S_INFO_LIST} for PersistentVolumes")
    return csi.storage_class_plan(desired, existing, persistent_volumes, _bool(name, "recreate", recreate),
                                  _bool(name, "adopt", adopt))


def iomesh_pv_nodes(pv, nodes, node_label_key="kubernetes.io/hostname"):
    """Nodes on which a PersistentVolume may be used (its required node affinity evaluated against the Nodes)."""
    name = "iomesh_pv_nodes"
    if not isinstance(pv, Mapping) or pv.get("kind", "PersistentVolume") != "PersistentVolume":
        raise AnsibleFilterError(f"{name}: expects a PersistentVolume object, got {pv!r}")
    nodes = object_list(name, "nodes", nodes, "the Node objects from kubernetes.core.k8s_info", allow_none=True)
    return verify.pv_nodes(topology.plain(pv), nodes, _label_key(name, node_label_key))


def _namespace(filter_name: str, namespace: object) -> str:
    if not isinstance(namespace, str) or len(namespace) > 63 or not topology.DNS1123_LABEL.match(namespace):
        raise AnsibleFilterError(
            f"{filter_name}: namespace must be a namespace name (DNS-1123 label), got {namespace!r}")
    return namespace


def iomesh_verify_manifests(clusters, namespace, size="1Gi", pod_image="busybox:1.36.1", run=""):
    """The verification claim and test pod of each cluster, named for the run."""
    name = "iomesh_verify_manifests"
    if not isinstance(size, str) or not size.strip():
        raise AnsibleFilterError(f"{name}: size must be a Kubernetes quantity such as 1Gi, got {size!r}")
    if not isinstance(pod_image, str) or not pod_image.strip():
        raise AnsibleFilterError(f"{name}: pod_image must be an image reference such as busybox:1.36.1, got {pod_image!r}")
    return verify.manifests(cluster_list(name, clusters, CLUSTER_KEYS), _namespace(name, namespace), size, pod_image,
                            _run(name, run))


def _run(filter_name: str, run: object) -> str:
    if not isinstance(run, str) or (run and not topology.DNS1123_LABEL.match(run)) or len(run) > 20:
        raise AnsibleFilterError(f"{filter_name}: run must be a short DNS-1123 label (the run_id of iomesh_lock), "
                                 f"got {run!r}")
    return run


def iomesh_verify_results(clusters, namespace, storage_classes=None, claims=None, volumes=None, pods=None,
                          nodes=None, events=None, node_label_key="kubernetes.io/hostname", check_pod=True,
                          wait_timeout=None, skip_reason=None, run=""):
    """One verification result per cluster, judged from what the API returned (or all skipped, with the reason)."""
    name = "iomesh_verify_results"
    clusters = cluster_list(name, clusters, CLUSTER_KEYS)
    namespace = _namespace(name, namespace)
    if skip_reason is not None:
        if not isinstance(skip_reason, str) or not skip_reason:
            raise AnsibleFilterError(f"{name}: skip_reason must be a sentence saying why, got {skip_reason!r}")
        return verify.skipped(clusters, namespace, skip_reason, _run(name, run))
    if wait_timeout is not None and (isinstance(wait_timeout, bool) or not isinstance(wait_timeout, int)):
        raise AnsibleFilterError(f"{name}: wait_timeout must be a number of seconds, got {wait_timeout!r}")
    lists = {
        key: object_list(name, key, value, f"{K8S_INFO_LIST} for {kind}", allow_none=True)
        for key, value, kind in (
            ("storage_classes", storage_classes, "StorageClasses"), ("claims", claims, "PersistentVolumeClaims"),
            ("volumes", volumes, "PersistentVolumes"), ("pods", pods, "Pods"), ("nodes", nodes, "Nodes"),
            ("events", events, "Events"),
        )
    }
    return verify.judge_all(clusters, namespace, node_label_key=_label_key(name, node_label_key),
                            check_pod=_bool(name, "check_pod", check_pod), wait_timeout=wait_timeout,
                            run=_run(name, run), **lists)


def iomesh_verify_plan(clusters, management_namespace, options, objects, record=None, when="on_change"):
    """Which clusters this run verifies, and the recorded results of the others (iomesh_verify_when)."""
    name = "iomesh_verify_plan"
    clusters = cluster_list(name, clusters, CLUSTER_KEYS + ("namespace", "zookeeper_name", "csi_configmap_name"))
    if when not in verify.WHEN_CHOICES:
        raise AnsibleFilterError(f"{name}: when must be one of {', '.join(verify.WHEN_CHOICES)} (iomesh_verify_when), "
                                 f"got {when!r}")
    if not isinstance(options, Mapping):
        raise AnsibleFilterError(f"{name}: options must be a dictionary of the verification's settings, got {options!r}")
    if not isinstance(objects, Mapping) or sorted(objects) != sorted(verify.DEPENDS_ON):
        raise AnsibleFilterError(f"{name}: objects must be a dictionary with the keys {', '.join(verify.DEPENDS_ON)}, "
                                 f"got {objects!r}")
    lists = {key: object_list(name, f"objects.{key}", objects[key], K8S_INFO_LIST) for key in verify.DEPENDS_ON}
    if record is not None and not isinstance(record, Mapping):
        raise AnsibleFilterError(f"{name}: record must be the data of the record ConfigMap or null, got {record!r}")
    return verify.verification_plan(clusters, _namespace(name, management_namespace), topology.plain(options), lists,
                                    topology.plain(record), when)


def iomesh_verify_record(plan, name, namespace, results):
    """The record ConfigMap after this run: the clusters that passed, with what their verification depended on."""
    filter_name = "iomesh_verify_record"
    if not isinstance(plan, Mapping) or not all(k in plan for k in ("fingerprints", "kept_records")):
        raise AnsibleFilterError(f"{filter_name}: expects the result of iomesh_verify_plan, got {plan!r}")
    results = object_list(filter_name, "results", results, "the verification results (iomesh_verify_results)")
    if not isinstance(name, str) or not name:
        raise AnsibleFilterError(f"{filter_name}: name must be the record ConfigMap's name, got {name!r}")
    return verify.record_manifest(name, _namespace(filter_name, namespace), topology.plain(plan),
                                  topology.plain(results))


class FilterModule:
    """iomesh.multicluster filters of the CSI and verification stages."""

    def filters(self):
        return {
            "iomesh_storage_class_conflicts": iomesh_storage_class_conflicts,
            "iomesh_pv_nodes": iomesh_pv_nodes,
            "iomesh_verify_manifests": iomesh_verify_manifests,
            "iomesh_verify_results": iomesh_verify_results,
            "iomesh_verify_plan": iomesh_verify_plan,
            "iomesh_verify_record": iomesh_verify_record,
        }
