# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What must be up before an IOMesh cluster counts as serving: the waits of the iomesh_wait action, written once.

The management cluster waits for the shared components its Helm release carries, then for ZooKeeper and the
cluster's own pods, Service, IOMeshCluster and CSI node plugin; an additional cluster waits for the same from its
ZooKeeper on. Waits that read the same kind in the same namespace share one API read per poll, so Deployments
and Pods are read as whole namespaces and picked by name or name pattern.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import names
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.constants import (
    IOMESH_API_VERSION, META_CLIENT_PORT, ZOOKEEPER_API_VERSION,
)


def _management(clusters: Sequence[Mapping]) -> Mapping:
    found = [c for c in clusters if c.get("management")]
    if len(found) != 1:
        raise ValueError(f"the cluster list must hold exactly one management cluster, found {len(found)}")
    return found[0]


def _workload(label: str, kind: str, namespace: str, name: str) -> dict:
    check = "deployment" if kind == "Deployment" else "daemonset"
    return {"label": label, "api_version": "apps/v1", "kind": kind, "namespace": namespace, "check": check,
            "args": {"name": name}}


def _pods(label: str, namespace: str, check: str, **args: object) -> dict:
    return {"label": label, "api_version": "v1", "kind": "Pod", "namespace": namespace, "check": check, "args": args}


def operator_waits(management: Mapping) -> list[dict]:
    """The IOMesh operator: its webhook guards every IOMeshCluster write (docs/pitfalls.md P10)."""
    release = names.release_names(management["name"])
    return [_workload("the IOMesh operator (its webhook guards every IOMeshCluster write)", "Deployment",
                      management["namespace"], release["operator_deployment"])]


def shared_waits(management: Mapping) -> list[dict]:
    """The shared components of the management release, in order: operators, disk manager, CSI controller."""
    release = names.release_names(management["name"])
    namespace = management["namespace"]
    return operator_waits(management) + [
        _workload("the ZooKeeper operator", "Deployment", namespace, release["zookeeper_operator_deployment"]),
        _workload("the node disk manager operator", "Deployment", namespace, release["ndm_operator_deployment"]),
        _workload("the node disk manager", "DaemonSet", namespace, release["ndm_daemonset"]),
        _workload("the CSI controller", "Deployment", namespace, release["csi_controller_deployment"]),
    ]


def zookeeper_waits(cluster: Mapping) -> list[dict]:
    """The cluster's ZookeeperCluster with all its replicas ready."""
    zookeeper = names.cluster_names(cluster["name"])["zookeeper_cluster"]
    return [{"label": f"ZooKeeper {zookeeper}", "api_version": ZOOKEEPER_API_VERSION, "kind": "ZookeeperCluster",
             "namespace": cluster["namespace"], "name": zookeeper, "check": "zookeeper", "args": {"name": zookeeper}}]


def meta_client_waits(cluster: Mapping) -> list[dict]:
    """The meta-client Service that the cluster's CSI ConfigMap names as metaAddr."""
    own = names.cluster_names(cluster["name"])
    service = own["meta_client_service"]
    return [{"label": f"Service {service} (the metaAddr of {own['csi_configmap']})", "api_version": "v1",
             "kind": "Service", "namespace": cluster["namespace"], "name": service, "check": "service",
             "args": {"name": service, "port": META_CLIENT_PORT}}]


def pending_nodes(cluster: Mapping, clusters: Sequence[Mapping]) -> list[str]:
    """Nodes whose CSI node plugin still crash-loops once `cluster` serves: those of the clusters deployed after it.

    The management cluster comes first; the additional clusters follow in inventory order (docs/pitfalls.md P1).
    """
    ordered = [c for c in clusters if c.get("management")] + [c for c in clusters if not c.get("management")]
    position = next(i for i, c in enumerate(ordered) if c["name"] == cluster["name"])
    return sorted({node for later in ordered[position + 1:] for node in later["nodes"]})


def serving_waits(cluster: Mapping, clusters: Sequence[Mapping]) -> list[dict]:
    """The cluster's own pods on its nodes, its meta-client Service, its IOMeshCluster and the CSI node plugin."""
    name, namespace, nodes = cluster["name"], cluster["namespace"], list(cluster["nodes"])
    patterns = names.pod_patterns(name)
    management = _management(clusters)
    return [
        _pods(f"the meta pods of {name}", namespace, "pods_on_nodes", what="meta", nodes=nodes,
              count=cluster["meta_replicas"], name_pattern=patterns["meta"]),
        _pods(f"the chunk pods of {name}", namespace, "pods_on_nodes", what="chunk", nodes=nodes,
              count=cluster["chunk_replicas"], name_pattern=patterns["chunk"]),
        _pods(f"the iSCSI redirectors of {name}", namespace, "pods_on_nodes", what="iscsi-redirector", nodes=nodes,
              every_node=True, name_pattern=patterns["iscsi-redirector"]),
        *meta_client_waits(cluster),
        {"label": f"IOMeshCluster {name}", "api_version": IOMESH_API_VERSION, "kind": "IOMeshCluster",
         "namespace": namespace, "name": name, "check": "iomesh_cluster", "args": {"name": name}},
        # The node plugin runs in the management namespace on every node, and turns ready last.
        _pods(f"the CSI node plugin on the nodes of {name}", management["namespace"], "csi_node_plugin", nodes=nodes,
              pending_nodes=pending_nodes(cluster, clusters),
              name_pattern=names.release_names(management["name"])["csi_node_pod_pattern"]),
    ]


def cluster_waits(cluster: Mapping, clusters: Sequence[Mapping]) -> list[dict]:
    """Every wait of an IOMesh cluster, in order.

    Management: the shared components, then ZooKeeper, then what the cluster serves. Additional: ZooKeeper,
    then the same per-cluster waits.
    """
    shared = shared_waits(cluster) if cluster.get("management") else []
    return shared + zookeeper_waits(cluster) + serving_waits(cluster, clusters)


def plan_waits(cluster: Mapping, clusters: Sequence[Mapping]) -> dict:
    """The waits of one cluster as the plan hands them to the roles: all of them, and the parts a role runs apart."""
    return {
        "all": cluster_waits(cluster, clusters),
        "operator": operator_waits(cluster) if cluster.get("management") else [],
        "zookeeper": zookeeper_waits(cluster),
        "serving": serving_waits(cluster, clusters),
        "meta_client": meta_client_waits(cluster),
    }
