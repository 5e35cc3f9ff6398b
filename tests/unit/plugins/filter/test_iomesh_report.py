"""The report filters: Markdown and Graphviz DOT of the live state, problems, determinism."""

from __future__ import annotations

import copy
import itertools
import json
import os
import random
import re
import subprocess
import sys

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_report as r
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import report_model

from ..conftest import Inventory

SERIALS = {"cacheWithJournal": ("S4", "/dev/sdb", "SSD", 400 * 10**9), "dataStore": ("ZA", "/dev/sdc", "HDD", 2 * 10**12)}


def inventory(with_disks: bool = True) -> Inventory:
    inv = Inventory()
    if with_disks:
        for host in inv.hostvars:
            inv.hostvars[host]["iomesh_disks"] = [
                {"serial": f"{prefix}{host.upper()}", "mount_type": mount_type}
                for mount_type, (prefix, _path, _drive, _size) in SERIALS.items()
            ]
    return inv


def topology(inv: Inventory) -> list[dict]:
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


@pytest.fixture
def clusters():
    return topology(inventory())


# --- API objects as kubernetes.core.k8s_info returns them -----------------------------------------------

def namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def pod(name, ns, node, ready=True, leader=False):
    labels = {"app": name.rsplit("-", 1)[0]}
    if leader:
        labels["iomesh.com/meta-leader"] = "true"
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    status = {"phase": "Running", "conditions": conditions}
    if not ready:
        status["containerStatuses"] = [{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]
    return {"kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"nodeName": node}, "status": status}


def cluster_pods(cluster):
    name, ns = cluster["name"], cluster["namespace"]
    pods = []
    for i, node in enumerate(cluster["nodes"]):
        pods += [pod(f"{name}-meta-{i}", ns, node, leader=i == 0), pod(f"{name}-chunk-{i}", ns, node),
                 pod(f"{name}-iscsi-redirector-x{i}abc", ns, node), pod(f"{name}-zookeeper-{i}", ns, node)]
    return pods


def blockdevice(node, mount_type, cluster=None, claimed=False, fs_type=""):
    prefix, path, drive, size = SERIALS[mount_type]
    host = node  # the synthetic inventory's node names are its host names
    labels = {"kubernetes.io/hostname": node, "iomesh.com/bd-serial": f"{prefix}{host.upper()}"}
    if cluster:
        labels.update({"iomesh.multicluster/cluster": cluster, "iomesh.multicluster/mount-type": mount_type})
    return {
        "kind": "BlockDevice",
        "metadata": {"name": f"blockdevice-{node}-{path[-3:]}", "namespace": "iomesh-system", "labels": labels},
        "spec": {"nodeAttributes": {"nodeName": node}, "path": path, "capacity": {"storage": size},
                 "details": {"serial": f"{prefix}{host.upper()}", "driveType": drive},
                 "filesystem": {"fsType": fs_type} if fs_type else {}},
        "status": {"claimState": "Claimed" if claimed else "Unclaimed", "state": "Active"},
    }


def iomesh_cluster(cluster, leader="10.234.1.10:10100", attached=None):
    return {
        "kind": "IOMeshCluster",
        "metadata": {"name": cluster["name"], "namespace": cluster["namespace"]},
        "spec": {"diskDeploymentMode": cluster["disk_deployment_mode"]},
        "status": {
            "readyReplicas": {"meta": 3, "chunk": 3, "iscsi-redirector": 3},
            "summary": {"metaSummary": {"leader": leader, "aliveHost": [], "status": "Healthy"}},
            "license": {"licenseType": "Trial", "softwareEdition": "COMMUNITY"},
            "portOffset": 0 if cluster["management"] else 1000,
            "attachedDevices": attached or [],
        },
    }


def zookeeper(cluster, ready=3):
    # <release>-zookeeper (the chart's ZookeeperCluster, shared/reference/iomesh-chart-render-facts.md), and the same
    # name for an additional cluster's (domain doc section 6.2: iomesh-cluster-1-zookeeper)
    return {"kind": "ZookeeperCluster", "metadata": {"name": f"{cluster['name']}-zookeeper", "namespace": cluster["namespace"]},
            "spec": {"replicas": 3}, "status": {"readyReplicas": ready, "replicas": 3}}


def csi_objects(name, namespace):
    """The CSI ConfigMap and StorageClass of one IOMesh cluster as the API returns them after the csi stage, written
    out from the documented shape (domain doc sections 8 and 9: <C>-csi-configmap in <N>, metaAddr
    <C>-meta-client.<N>.svc.cluster.local:10100, the documented SC defaults), never rendered by the collection."""
    labels = {"app.kubernetes.io/managed-by": "iomesh.multicluster", "iomesh.multicluster/cluster": name}
    configmap = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": f"{name}-csi-configmap", "namespace": namespace, "labels": dict(labels), "uid": f"cm-{name}",
                     "resourceVersion": "311", "creationTimestamp": "2026-03-02T10:00:00Z"},
        "data": {"clusterId": "k8s-cluster", "iscsiPortal": "127.0.0.1:3260",
                 "metaAddr": f"{name}-meta-client.{namespace}.svc.cluster.local:10100"},
    }
    storage_class = {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": name, "labels": dict(labels), "uid": f"sc-{name}", "resourceVersion": "312",
                     "creationTimestamp": "2026-03-02T10:00:01Z"},
        "provisioner": "com.iomesh.csi-driver",
        "parameters": {"clusterConnection": f"{namespace}/{name}-csi-configmap", "csi.storage.k8s.io/fstype": "ext4",
                       "iomeshCluster": f"{namespace}/{name}", "replicaFactor": "2", "thinProvision": "true"},
        "reclaimPolicy": "Delete", "allowVolumeExpansion": True, "volumeBindingMode": "Immediate",
    }
    return configmap, storage_class


def full_state(clusters):
    """Every stage done: release, namespaces, CRs, ZooKeeper, pods, every declared disk claimed, SC and ConfigMap."""
    observed = {
        "release": {"chart": "iomesh-v1.0.1", "revision": 1, "status": "deployed", "app_version": "v5.3.0-rc13"},
        "namespaces": [namespace(n) for n in ("default", "iomesh-system", "iomesh-cluster-1")],
        "iomesh_clusters": [], "zookeeper_clusters": [], "pods": [], "block_devices": [], "storage_classes": [],
        "configmaps": [], "errors": [],
    }
    for cluster in clusters:
        attached = []
        for node in cluster["nodes"]:
            for mount_type in SERIALS:
                bd = blockdevice(node, mount_type, cluster["name"], claimed=True)
                observed["block_devices"].append(bd)
                attached.append({"device": bd["metadata"]["name"], "mountType": mount_type, "nodeName": node,
                                 "uuid": "u"})
        observed["iomesh_clusters"].append(iomesh_cluster(cluster, attached=attached))
        observed["zookeeper_clusters"].append(zookeeper(cluster))
        observed["pods"] += cluster_pods(cluster)
        configmap, storage_class = csi_objects(cluster["name"], cluster["namespace"])
        observed["configmaps"].append(configmap)
        observed["storage_classes"].append(storage_class)
    return observed


def verify_results(clusters, result="passed"):
    return [{"cluster": c["name"], "namespace": "iomesh-verify", "storage_class": c["storage_class"]["name"],
             "pvc": f"{c['name']}-verify-pvc", "phase": "Bound", "pv": f"pvc-{c['name']}",
             "driver": "com.iomesh.csi-driver", "pv_nodes": list(reversed(c["nodes"])),
             "within_cluster_nodes": result == "passed", "pod": f"{c['name']}-verify-pod", "pod_node": c["nodes"][1],
             "result": result,
             "message": "bound on the cluster's nodes" if result == "passed" else "PV allows nodes of another cluster"}
            for c in clusters]


def section(text, title):
    """The body of one Markdown section (up to the next heading of the same or a higher level)."""
    level = len(title) - len(title.lstrip("#"))
    match = re.search(rf"^{re.escape(title)}\n(.*?)(?=^#{{1,{level}}} |\Z)", text, re.S | re.M)
    assert match, f"no section {title!r} in:\n{text}"
    return match.group(1)


# --- Markdown --------------------------------------------------------------------------------------------

def test_full_state(clusters):
    results = verify_results(clusters)
    text = r.iomesh_report_markdown(clusters, full_state(clusters), results, {"diagram_image": "iomesh-topology.svg"})
    assert text.startswith("# IOMesh multi-cluster report\n") and text.endswith("\n") and not text.endswith("\n\n")
    assert "- Management Helm release `iomesh` in `iomesh-system`: chart iomesh-v1.0.1 (app v5.3.0-rc13), revision 1, " \
           "deployed" in text
    assert "- IOMesh clusters in the inventory: 2; deployed: 2" in text
    assert "- Verification: results of this run (a cluster unchanged since it last passed keeps that result" in text
    assert section(text, "## Problems").strip() == "None seen."
    summary = section(text, "## Summary")
    assert "| iomesh (management) | iomesh-system (exists) | 3 | deployed | w0 | 3/3 ready | 6 of 6 declared | " \
           "iomesh (exists) | iomesh-csi-configmap (exists) | passed |" in summary
    assert "| iomesh-cluster-1 | iomesh-cluster-1 (exists) | 3 | deployed | w3 |" in summary
    # clusters -> namespaces -> nodes -> claimed disks -> StorageClass -> verification, in that order
    mgmt = section(text, "## Cluster `iomesh` (management cluster, Helm release)")
    order = [mgmt.index(s) for s in ("- Namespace `iomesh-system`: exists", "### Nodes", "### Disks",
                                     "### StorageClass `iomesh`", "### Verification")]
    assert order == sorted(order)
    assert "meta leader 10.234.1.10:10100 (pod `iomesh-meta-0` on `w0`)" in mgmt
    assert "| w0 | 1 (leader) | 1 | 1 | 1 | 2 |" in mgmt and "| w1 | 1 | 1 | 1 | 1 | 2 |" in mgmt
    assert "| w0 | `/dev/sdb` | `S4W0` | SSD | 400 GB | cacheWithJournal | `blockdevice-w0-sdb` | Claimed | " \
           "cacheWithJournal |" in mgmt
    assert "| w2 | `/dev/sdc` | `ZAW2` | HDD | 2 TB | dataStore | `blockdevice-w2-sdc` | Claimed | dataStore |" in mgmt
    assert "- `iomeshCluster`: `iomesh-system/iomesh`" in mgmt
    assert "- `allowVolumeExpansion`: `true`" in mgmt
    assert "- `clusterConnection`: `iomesh-system/iomesh-csi-configmap`" in mgmt
    assert "- `metaAddr`: `iomesh-meta-client.iomesh-system.svc.cluster.local:10100`" in mgmt
    assert "- Result: **passed**" in mgmt
    assert "- Verification claim in namespace `iomesh-verify` on StorageClass `iomesh`: phase Bound" in mgmt
    assert "allowed nodes w0, w1, w2 (within the cluster's nodes)" in mgmt
    assert "- Test pod using it ran on a node of the cluster" in mgmt
    assert "pvc-iomesh" not in mgmt  # the volume name changes from run to run: kept out of the report
    other = section(text, "## Cluster `iomesh-cluster-1` (additional cluster)")
    assert "| w3 | 1 (leader) | 1 | 1 | 1 | 2 |" in other and "port offset 1000" in other
    assert "```mermaid\nflowchart LR\n" in text
    assert "Graphviz source [`iomesh-topology.dot`](iomesh-topology.dot), picture [`iomesh-topology.svg`]" in text
    assert "![topology](iomesh-topology.svg)" in text
    assert "Generated at" not in text


def test_nothing_deployed_yet(clusters):
    """A fresh cluster: no release, no CRDs; every cluster is shown as not deployed, nothing crashes."""
    observed = {"release": {}, "namespaces": [namespace("default")], "iomesh_clusters": [], "zookeeper_clusters": [],
                "pods": [], "block_devices": [], "storage_classes": [], "configmaps": [], "errors": []}
    text = r.iomesh_report_markdown(clusters, observed)
    assert "`iomesh` in `iomesh-system`: not installed" in text
    assert "- IOMesh clusters in the inventory: 2; deployed: 0" in text
    problems = section(text, "## Problems")
    assert "- Helm release iomesh is not installed in namespace iomesh-system (stage iomesh_mgmt not run)." in problems
    assert "- iomesh: not deployed: IOMeshCluster iomesh-system/iomesh does not exist (stage iomesh_mgmt not run)." \
        in problems
    assert "- iomesh-cluster-1: not deployed: IOMeshCluster iomesh-cluster-1/iomesh-cluster-1 does not exist (stage " \
           "iomesh_cluster not run)." in problems
    # nothing is blamed on a cluster that does not exist: no pod, leader, ZooKeeper or disk complaints
    assert not re.search(r"leader|pods ready|ZookeeperCluster|disk", problems)
    assert "| iomesh (management) | iomesh-system (missing) | 3 | not deployed | - | missing |" in text
    assert "- Namespace `iomesh-cluster-1`: missing" in text
    assert text.count("- Result: **not run in this run**") == 2
    # the declared disks are listed even though NDM has not reported them yet
    assert "| w0 | - | `S4W0` | - | - | cacheWithJournal | - | no BlockDevice found | no |" in text


def test_empty_observed_is_nothing_found(clusters):
    text = r.iomesh_report_markdown(clusters, None)
    assert "not installed" in text and "deployed: 0" in text and "not run in this run" in text
    assert r.iomesh_report_diagram(clusters, {}).startswith("digraph iomesh {")


def test_only_management_deployed(clusters):
    """After the mgmt stage only: no additional cluster, no disks labelled, no CSI objects, no verification."""
    observed = full_state(clusters)
    mgmt, other = clusters
    observed["iomesh_clusters"] = [iomesh_cluster(mgmt)]
    observed["zookeeper_clusters"] = [zookeeper(mgmt)]
    observed["pods"] = cluster_pods(mgmt)
    observed["namespaces"] = [namespace("iomesh-system")]
    observed["block_devices"] = [blockdevice(n, t) for c in clusters for n in c["nodes"] for t in SERIALS]
    observed["storage_classes"] = observed["configmaps"] = []
    text = r.iomesh_report_markdown(clusters, observed, None)
    problems = section(text, "## Problems")
    assert "- iomesh: declared disk /dev/sdb on w0 (blockdevice-w0-sdb) is not labelled yet (stage iomesh_disks not " \
           "run)." in problems
    assert "- iomesh: StorageClass iomesh does not exist (stage iomesh_csi not run)." in problems
    assert "- iomesh: CSI ConfigMap iomesh-system/iomesh-csi-configmap does not exist (stage iomesh_csi not run)." \
        in problems
    assert "- iomesh-cluster-1: not deployed" in problems
    assert not [p for p in problems.splitlines() if p.startswith("- iomesh-cluster-1:") and "disk" in p]
    assert "| iomesh (management) | iomesh-system (exists) | 3 | deployed | w0 | 3/3 ready | 0 of 6 declared |" in text
    assert "| iomesh-cluster-1 | iomesh-cluster-1 (missing) | 3 | not deployed | - | missing | 0 of 6 declared |" in text
    assert "| w0 | `/dev/sdb` | `S4W0` | SSD | 400 GB | cacheWithJournal | `blockdevice-w0-sdb` | Unclaimed, " \
           "not labelled | no |" in text
    assert "- Verification: not run in this run" in text


def test_reads_that_failed_are_unknown_not_missing(clusters):
    observed = {key: None for key in ("namespaces", "iomesh_clusters", "zookeeper_clusters", "block_devices",
                                      "storage_classes", "configmaps")}
    observed.update(release=None, pods=[], errors=["IOMeshClusters: Forbidden", "namespaces: connection refused"])
    text = r.iomesh_report_markdown(clusters, observed)
    problems = section(text, "## Problems")
    assert problems.strip().splitlines() == ["- could not read: IOMeshClusters: Forbidden",
                                             "- could not read: namespaces: connection refused"]
    assert "`iomesh` in `iomesh-system`: unknown (could not be read)" in text
    assert "| iomesh (management) | iomesh-system (unknown (could not be read)) | 3 | unknown (could not be read) |" in text
    assert "BlockDevices: unknown (could not be read)." not in text  # declared disks are still listed
    assert "- unknown (could not be read)" in section(text, "### StorageClass `iomesh`")


def test_problems_are_listed_first_and_precisely(clusters):
    observed = full_state(clusters)
    mgmt, other = clusters
    observed["release"]["status"] = "failed"
    # management: no leader, one pod crash-looping, a pod on another cluster's node, ZooKeeper short
    observed["iomesh_clusters"][0]["status"]["summary"] = {}
    observed["pods"] = [p for p in observed["pods"] if p["metadata"]["name"] != "iomesh-chunk-1"]
    observed["pods"].append(pod("iomesh-chunk-1", "iomesh-system", "w1", ready=False))
    observed["pods"].append(pod("iomesh-iscsi-redirector-zz9", "iomesh-system", "w4"))
    observed["zookeeper_clusters"][0]["status"]["readyReplicas"] = 2
    # cluster 1: a disk labelled but refused (filesystem), its StorageClass wrong, ConfigMap metaAddr wrong
    attached = observed["iomesh_clusters"][1]["status"]["attachedDevices"]
    observed["iomesh_clusters"][1]["status"]["attachedDevices"] = [a for a in attached if a["device"] != "blockdevice-w5-sdc"]
    observed["block_devices"] = [b for b in observed["block_devices"] if b["metadata"]["name"] != "blockdevice-w5-sdc"]
    observed["block_devices"].append(blockdevice("w5", "dataStore", "iomesh-cluster-1", fs_type="ext4"))
    observed["storage_classes"][1]["parameters"]["replicaFactor"] = "3"
    observed["configmaps"][1]["data"]["metaAddr"] = "wrong:10100"
    observed["configmaps"][1]["data"]["clusterId"] = "other"
    results = verify_results(clusters)
    results[1].update(result="failed", within_cluster_nodes=False, message="PV allows nodes w0, w3")
    problems = r.iomesh_report_problems(clusters, observed, results)
    assert problems == [
        "Helm release iomesh is failed, not deployed.",
        "iomesh: no meta leader (status.summary.metaSummary.leader is empty).",
        "iomesh: ZooKeeper iomesh-zookeeper: 2 of 3 replicas ready.",
        "iomesh: pods on node w4, which is not one of its nodes: iomesh-iscsi-redirector-zz9.",
        "iomesh: pod iomesh-chunk-1 on w1 is CrashLoopBackOff.",
        "iomesh: 2 of 3 chunk pods ready.",
        "iomesh-cluster-1: disk /dev/sdc on w5 (blockdevice-w5-sdc) is labelled for it but not claimed (claimState "
        "Unclaimed; it carries a ext4 filesystem).",
        "iomesh-cluster-1: StorageClass iomesh-cluster-1: replicaFactor is 3, the inventory says 2.",
        "iomesh-cluster-1: CSI ConfigMap iomesh-cluster-1/iomesh-cluster-1-csi-configmap: metaAddr is wrong:10100, "
        "expected iomesh-cluster-1-meta-client.iomesh-cluster-1.svc.cluster.local:10100.",
        "iomesh-cluster-1: verification failed: PV allows nodes w0, w3",
        "the CSI ConfigMaps carry different clusterId values (k8s-cluster, other); they must be identical.",
    ]
    text = r.iomesh_report_markdown(clusters, observed, results)
    assert text.index("## Problems") < text.index("## Summary") < text.index("## Cluster") < text.index("## Topology")
    assert '[shape=cylinder, style=dashed, color=red, label="/dev/sdc\\ndataStore 2 TB\\nunclaimed"]' in \
        r.iomesh_report_diagram(clusters, observed, results)
    assert section(text, "## Problems").strip().splitlines() == [f"- {p}" for p in problems]
    assert "| w4 (not a node of this cluster) | - | - | 1 | - | - |" in text
    assert "| w1 | 1 | 0/1 | 1 | 1 | 2 |" in text
    assert "| w5 | `/dev/sdc` | `ZAW5` | HDD | 2 TB | dataStore | `blockdevice-w5-sdc` | Unclaimed (ext4 filesystem) | no |" \
        in text
    assert "- Result: **failed**" in text and "(NOT within the cluster's nodes)" in text


def test_disk_problems(clusters):
    observed = full_state(clusters)
    mgmt = clusters[0]
    cr = observed["iomesh_clusters"][0]
    # w0's SSD is not reported by NDM; w1's SSD is labelled for the other cluster; w2's HDD attached with another type
    observed["block_devices"] = [b for b in observed["block_devices"] if b["metadata"]["name"] != "blockdevice-w0-sdb"]
    cr["status"]["attachedDevices"] = [a for a in cr["status"]["attachedDevices"]
                                       if a["device"] not in ("blockdevice-w0-sdb", "blockdevice-w1-sdb")]
    for bd in observed["block_devices"]:
        if bd["metadata"]["name"] == "blockdevice-w1-sdb":
            bd["metadata"]["labels"]["iomesh.multicluster/cluster"] = "iomesh-cluster-1"
            bd["status"]["claimState"] = "Unclaimed"
    for item in cr["status"]["attachedDevices"]:
        if item["device"] == "blockdevice-w2-sdc":
            item["mountType"] = "cacheWithJournal"
    problems = [p for p in r.iomesh_report_problems(clusters, observed) if p.startswith("iomesh:")]
    assert problems == [
        "iomesh: declared disk serial S4W0 as cacheWithJournal on w0: no BlockDevice on that node matches it "
        "(node-disk-manager does not report it).",
        "iomesh: declared disk /dev/sdb on w1 (blockdevice-w1-sdb) is labelled for cluster iomesh-cluster-1.",
        "iomesh: disk /dev/sdc on w2 is attached as cacheWithJournal, declared as dataStore.",
    ]
    assert mgmt["name"] == "iomesh"


def test_cluster_without_disks_has_no_capacity():
    clusters = topology(inventory(with_disks=False))
    observed = full_state(clusters)
    for cr in observed["iomesh_clusters"]:
        cr["status"]["attachedDevices"] = []
    observed["block_devices"] = []
    problems = r.iomesh_report_problems(clusters, observed)
    assert problems == [f"{c['name']}: no disk is attached: the cluster has no storage capacity (no iomesh_disks "
                        "declared for its hosts)." for c in clusters]
    text = r.iomesh_report_markdown(clusters, observed)
    assert "No disk declared in the inventory (`iomesh_disks`), labelled for this cluster or attached." in text


def test_verification_results(clusters):
    observed = full_state(clusters)
    results = verify_results(clusters)[:1]
    results[0].update(result="skipped", message="verification disabled")
    text = r.iomesh_report_markdown(clusters, observed, results)
    assert r.iomesh_report_problems(clusters, observed, results) == []
    mgmt = section(text, "## Cluster `iomesh` (management cluster, Helm release)")
    assert "- Result: **skipped**" in mgmt and "- Message: verification disabled" in mgmt
    assert "- Result: **no result for this cluster in this run**" in text
    assert r.iomesh_report_markdown(clusters, observed, []).count("no result for this cluster in this run") == 4


def test_iomesh_clusters_outside_the_inventory_are_listed(clusters):
    observed = full_state(clusters)
    stray = copy.deepcopy(observed["iomesh_clusters"][1])
    stray["metadata"].update(name="legacy", namespace="legacy")
    observed["iomesh_clusters"].append(stray)
    text = r.iomesh_report_markdown(clusters, observed)
    assert "## IOMeshClusters outside the inventory\n\n- `legacy/legacy`\n" in text


def test_meta(clusters):
    observed = full_state(clusters)
    meta = {"generated_at": "2026-01-02 03:04:05 UTC", "mermaid": False,
            "renderer_note": "Graphviz (dot) is not installed"}
    text = r.iomesh_report_markdown(clusters, observed, None, meta)
    assert "\n\nGenerated at 2026-01-02 03:04:05 UTC.\n\n" in text
    assert "```mermaid" not in text
    assert "Graphviz source [`iomesh-topology.dot`](iomesh-topology.dot); no picture: Graphviz (dot) is not " \
           "installed." in text
    assert "![topology]" not in text


def test_markdown_cells_are_escaped():
    inv = inventory()
    clusters = topology(inv)
    observed = full_state(clusters)
    observed["configmaps"][0]["data"]["clusterId"] = "a|b"
    observed["configmaps"][1]["data"]["clusterId"] = "a|b"
    text = r.iomesh_report_markdown(clusters, observed)
    assert "- `clusterId`: `a|b`" in text  # not in a table: left as is
    observed["iomesh_clusters"][0]["status"]["summary"]["metaSummary"]["leader"] = "x|y"
    observed["pods"] = [p for p in observed["pods"] if "iomesh.com/meta-leader" not in p["metadata"]["labels"]]
    assert "| x\\|y |" in r.iomesh_report_markdown(clusters, observed)


# --- diagram ---------------------------------------------------------------------------------------------

def test_diagram_has_every_cluster_node_disk_and_storage_class(clusters):
    observed = full_state(clusters)
    dot = r.iomesh_report_diagram(clusters, observed, verify_results(clusters))
    assert dot.startswith("digraph iomesh {\n") and dot.endswith("}\n")
    assert dot.count("subgraph cluster_") == 2
    assert '"release:iomesh" -> "iomeshcluster:iomesh-system:iomesh";' in dot
    for cluster in clusters:
        cr = f'"iomeshcluster:{cluster["namespace"]}:{cluster["name"]}"'
        assert f'label="IOMeshCluster {cluster["name"]}\\nleader {cluster["nodes"][0]}"' in dot
        sc = f'"storageclass:{cluster["storage_class"]["name"]}"'
        assert f"{sc} -> {cr} [label=\"provisions from\"];" in dot
        assert f'"pvc:{cluster["name"]}" -> {sc};' in dot
        for node in cluster["nodes"]:
            node_id = f'"node:{cluster["name"]}:{node}"'
            assert f"{cr} -> {node_id};" in dot
            assert f'{node_id} [label="{node}\\nmeta, chunk, redirector, zookeeper' in dot
            for path in ("sdb", "sdc"):
                assert f'{node_id} -> "disk:{cluster["name"]}:{node}:blockdevice-{node}-{path}";' in dot
    # every edge joins declared vertices
    declared = set(re.findall(r'^\s*("[^"]+") \[', dot, re.M))
    edges = re.findall(r'^\s*("[^"]+") -> ("[^"]+")', dot, re.M)
    assert edges and all(a in declared and b in declared for a, b in edges)


def test_diagram_marks_what_is_missing(clusters):
    dot = r.iomesh_report_diagram(clusters, {})
    assert '"release:iomesh" [shape=folder, label="Helm release iomesh\\nnot installed", style=dashed, color=red];' in dot
    assert dot.count("style=dashed;") == 2  # both cluster boxes
    assert 'label="IOMeshCluster iomesh-cluster-1\\nnot deployed"' in dot
    assert 'label="StorageClass iomesh\\nmissing"' in dot
    assert "pvc:" not in dot


def test_diagram_escapes_quotes():
    inv = inventory(with_disks=False)
    for host in list(inv.hostvars):
        inv.hostvars[host]["iomesh_node_name"] = host
    clusters = topology(inv)
    observed = full_state(clusters)
    observed["iomesh_clusters"][0]["status"]["summary"]["metaSummary"]["leader"] = 'a"b\\c'
    observed["pods"] = []
    dot = r.iomesh_report_diagram(clusters, observed)
    assert 'leader a\\"b\\\\c"' in dot


def test_mermaid_ids_are_unique_and_safe(clusters):
    text = r.iomesh_report_markdown(clusters, full_state(clusters), verify_results(clusters))
    block = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    ids = re.findall(r"^\s+(n_\w+)[\[({]", block, re.M)
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"n_\w+", i) for i in ids)
    assert 'n_sc_iomesh -- provisions from --> n_cr_iomesh' in block
    assert "n_node_iomesh_w0 --> n_disk_iomesh_0" in block
    assert 'n_disk_iomesh_0[("/dev/sdb<br/>cacheWithJournal 400 GB<br/>attached")]' in block


# --- determinism ---------------------------------------------------------------------------------------

def reversed_keys(value):
    """`value` with every mapping's keys inserted in the reverse order (as another reader of the API could build it)."""
    if isinstance(value, dict):
        return {k: reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(v) for v in value]
    return value


REPORT_IN_A_FRESH_INTERPRETER = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_report as r
clusters, observed, results = json.load(sys.stdin)
json.dump([r.iomesh_report_markdown(clusters, observed, results), r.iomesh_report_diagram(clusters, observed, results),
           r.iomesh_report_problems(clusters, observed, results)], sys.stdout)
"""


@pytest.mark.fresh_interpreters
def test_output_does_not_depend_on_key_order_or_hash_seed(clusters):
    observed = full_state(clusters)
    observed["iomesh_clusters"][1]["status"]["summary"] = {}  # some problems, so their text is covered too
    # pods of iomesh-cluster-1 on three nodes that are not its own: a set of nodes whose order the report must fix
    observed["pods"] += [pod(f"iomesh-cluster-1-meta-{7 + i}", "iomesh-cluster-1", f"w{i}", ready=i != 1) for i in range(3)]
    results = verify_results(clusters, "failed")
    inputs = json.loads(json.dumps([clusters, observed, results]))
    expected = [r.iomesh_report_markdown(*inputs), r.iomesh_report_diagram(*inputs), r.iomesh_report_problems(*inputs)]
    assert expected[2], "the state must have problems"
    # dict insertion order: every mapping of the inventory, the API objects and the results with its keys reversed
    flipped = reversed_keys(inputs)
    assert [r.iomesh_report_markdown(*flipped), r.iomesh_report_diagram(*flipped), r.iomesh_report_problems(*flipped)] \
        == expected
    # set iteration order: it changes with the string hash seed, never within one interpreter (so a second call here
    # proves nothing); other interpreters with other seeds must write the same report byte for byte
    for hash_seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", REPORT_IN_A_FRESH_INTERPRETER, json.dumps(sys.path)],
                              input=json.dumps(inputs), capture_output=True, text=True, env=env, check=True, timeout=120)
        assert json.loads(done.stdout) == expected, f"PYTHONHASHSEED={hash_seed}"


@pytest.mark.parametrize("seed", range(5))
def test_input_order_does_not_matter(clusters, seed):
    observed = full_state(clusters)
    observed["iomesh_clusters"][0]["status"]["summary"] = {}  # some problems, so their order is covered too
    observed["pods"].append(pod("iomesh-chunk-9", "iomesh-system", "w5", ready=False))
    results = verify_results(clusters, "failed")
    expected = (r.iomesh_report_markdown(clusters, observed, results), r.iomesh_report_diagram(clusters, observed, results),
                r.iomesh_report_problems(clusters, observed, results))
    rng = random.Random(seed)
    shuffled = copy.deepcopy(observed)
    for value in shuffled.values():
        if isinstance(value, list):
            rng.shuffle(value)
    for cr in shuffled["iomesh_clusters"]:
        rng.shuffle(cr["status"]["attachedDevices"])
    reordered = [dict(reversed(list(c.items()))) for c in reversed(clusters)]
    for cluster in reordered:
        cluster["nodes"] = rng.sample(cluster["nodes"], len(cluster["nodes"]))
    results_shuffled = rng.sample(results, len(results))
    assert (r.iomesh_report_markdown(reordered, shuffled, results_shuffled),
            r.iomesh_report_diagram(reordered, shuffled, results_shuffled),
            r.iomesh_report_problems(reordered, shuffled, results_shuffled)) == expected


def test_every_cluster_order_gives_the_same_report():
    clusters = topology(Inventory(sizes=(3, 3, 3)))
    observed = {"release": {}}
    outputs = {r.iomesh_report_markdown(list(p), observed) for p in itertools.permutations(clusters)}
    assert len(outputs) == 1


# --- errors ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["iomesh", None, [{"name": "x"}], [1]])
def test_rejects_clusters_that_are_not_normalised(bad):
    for flt in (r.iomesh_report_markdown, r.iomesh_report_diagram, r.iomesh_report_problems):
        with pytest.raises(AnsibleFilterError, match=flt.__name__ + ": .*iomesh_topology"):
            flt(bad, {})


@pytest.mark.parametrize("observed, match", [
    ("state", "observed must be a dictionary"),
    ({"pods": "x"}, "observed.pods must be a list"),
    ({"iomesh_clusters": {"a": 1}}, "observed.iomesh_clusters must be a list"),
    ({"release": ["deployed"]}, "observed.release must be the status dictionary"),
])
def test_rejects_bad_observed(clusters, observed, match):
    with pytest.raises(AnsibleFilterError, match="iomesh_report_markdown: " + match):
        r.iomesh_report_markdown(clusters, observed)


@pytest.mark.parametrize("results", ["passed", {"cluster": "iomesh"}, [{"result": "passed"}], [None]])
def test_rejects_bad_verify_results(clusters, results):
    with pytest.raises(AnsibleFilterError, match="iomesh_report_diagram: verify_results must be null"):
        r.iomesh_report_diagram(clusters, {}, results)


def test_rejects_bad_meta(clusters):
    with pytest.raises(AnsibleFilterError, match="iomesh_report_markdown: meta must be a dictionary"):
        r.iomesh_report_markdown(clusters, {}, None, "x")


def test_markdown_from_the_view_is_the_markdown_from_what_was_read(clusters):
    """The view the iomesh_report action hands back renders the same report as the objects it judged."""
    observed = full_state(clusters)
    meta = {"diagram_image": "topology.svg", "mermaid": False, "generated_at": "2026-12-06 01:00:00 UTC"}
    view = report_model.build(clusters, observed, None)
    assert r.iomesh_report_view_markdown(view, meta) == r.iomesh_report_markdown(clusters, observed, None, meta)
    assert r.iomesh_report_view_markdown(view) == r.iomesh_report_markdown(clusters, observed)


@pytest.mark.parametrize("view, match", [
    ("a report", "expects the view the iomesh.multicluster.iomesh_report action returns"),
    ({"release": {}, "clusters": []}, r"expects the view .*\(keys release, errors, verify_ran, clusters, outside, problems\)"),
])
def test_rejects_what_is_no_view(view, match):
    with pytest.raises(AnsibleFilterError, match="iomesh_report_view_markdown: " + match):
        r.iomesh_report_view_markdown(view)


def test_view_markdown_rejects_bad_meta(clusters):
    with pytest.raises(AnsibleFilterError, match="iomesh_report_view_markdown: meta must be a dictionary"):
        r.iomesh_report_view_markdown(report_model.build(clusters, {}, None), ["x"])


def test_filters_are_registered():
    expected = {"iomesh_report_markdown", "iomesh_report_diagram", "iomesh_report_problems", "iomesh_report_view_markdown"}
    assert set(r.FilterModule().filters()) == expected
