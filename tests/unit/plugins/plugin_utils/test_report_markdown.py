"""report_markdown: the Markdown of a judged view. Views are built from literal live objects; expected text is literal."""

from __future__ import annotations

import pytest
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import report_diagram, report_markdown, report_model

from ..conftest import Inventory


@pytest.fixture
def clusters():
    inv = Inventory()
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


def pod(name, ns, node, ready=True):
    spec = {"nodeName": node} if node else {}
    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if not node:
        unschedulable = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}
        status = {"phase": "Pending", "conditions": [unschedulable]}
    return {"metadata": {"name": name, "namespace": ns}, "spec": spec, "status": status}


def mgmt_only():
    """The management cluster deployed, one meta pod not ready and one not scheduled; its StorageClass minimal."""
    ns = "iomesh-system"
    pods = [pod("iomesh-meta-0", ns, "w0"), pod("iomesh-meta-1", ns, None), pod("iomesh-meta-2", ns, "w2", False)]
    return {
        "release": {"chart": "iomesh-v1.0.1", "revision": 2, "status": "deployed", "app_version": ""},
        "namespaces": [{"metadata": {"name": ns}}],
        "iomesh_clusters": [{"metadata": {"name": "iomesh", "namespace": ns},
                             "status": {"summary": {"metaSummary": {"leader": "10.234.1.10:10100"}}}}],
        "pods": pods,
        "storage_classes": [{"metadata": {"name": "iomesh"}, "provisioner": "com.iomesh.csi-driver",
                             "parameters": {"iomeshCluster": "iomesh-system/iomesh"}}],
    }


def render(clusters, observed, meta=None, verify_results=None):
    return report_markdown.markdown(report_model.build(clusters, observed, verify_results), meta)


def test_header_without_app_version_and_verification(clusters):
    text = render(clusters, mgmt_only())
    assert text.startswith(
        "# IOMesh multi-cluster report\n\n"
        "- Management Helm release `iomesh` in `iomesh-system`: chart iomesh-v1.0.1, revision 2, deployed\n"
        "- IOMesh clusters in the inventory: 2; deployed: 1\n"
        "- Verification: not run in this run\n\n"
        "## Problems\n\n"
    )


def test_node_table_counts_ready_of_total_and_lists_unscheduled_pods(clusters):
    text = render(clusters, mgmt_only())
    assert "| Node | meta | chunk | iSCSI redirector | ZooKeeper | Attached disks |\n|---|---|---|---|---|---|\n" \
           "| w0 | 1 | - | - | - | - |\n| w1 | - | - | - | - | - |\n| w2 | 0/1 | - | - | - | - |\n" in text
    assert "\nUnscheduled pods: iomesh-meta-1.\n" in text


def test_storage_class_fields_show_api_defaults_as_kubernetes_writes_them(clusters):
    text = render(clusters, mgmt_only())
    assert "### StorageClass `iomesh`\n\n- `provisioner`: `com.iomesh.csi-driver`\n" in text
    assert "- `clusterConnection`: -\n" in text
    assert "- `reclaimPolicy`: `Delete`\n- `volumeBindingMode`: `Immediate`\n- `allowVolumeExpansion`: `false`\n" in text


def test_summary_row_of_a_cluster_whose_reads_failed(clusters):
    observed = {"namespaces": None, "iomesh_clusters": None, "zookeeper_clusters": None, "storage_classes": None,
                "configmaps": None, "release": None}
    text = render(clusters, observed)
    assert "| iomesh-cluster-1 | iomesh-cluster-1 (unknown (could not be read)) | 3 | unknown (could not be read) | - " \
           "| unknown (could not be read) | 0 of 0 declared | iomesh-cluster-1 (unknown (could not be read)) | " \
           "iomesh-cluster-1-csi-configmap (unknown (could not be read)) | not run in this run |" in text


def test_meta_names_the_diagram_files_and_drops_mermaid(clusters):
    meta = {"mermaid": False, "diagram_source": "topo.dot", "diagram_image": "topo.svg"}
    text = render(clusters, mgmt_only(), meta)
    assert text.endswith("## Topology\n\nGraphviz source [`topo.dot`](topo.dot), picture [`topo.svg`](topo.svg).\n\n"
                         "![topology](topo.svg)\n")
    assert "```mermaid" not in text


def test_without_a_picture_the_note_says_why(clusters):
    text = render(clusters, mgmt_only(), {"mermaid": False})
    assert text.endswith("Graphviz source [`iomesh-topology.dot`](iomesh-topology.dot); no picture: no renderer was "
                         "run.\n")


def test_verification_of_a_pod_outside_the_cluster_names_its_node(clusters):
    results = [{"cluster": "iomesh", "namespace": "v", "storage_class": "iomesh", "pvc": "p", "phase": "Bound",
                "driver": "com.iomesh.csi-driver", "pv_nodes": ["w1", "w0"], "within_cluster_nodes": None,
                "pod": "t", "pod_node": "w4", "result": "failed", "message": "pod ran on w4"}]
    text = render(clusters, mgmt_only(), None, results)
    assert "### Verification\n\n- Result: **failed**\n- Verification claim in namespace `v` on StorageClass `iomesh`: phase Bound\n" \
           "- Volume of driver `com.iomesh.csi-driver`, allowed nodes w0, w1\n- Test pod using it ran on `w4`\n" \
           "- Message: pod ran on w4\n" in text


def test_a_passed_verification_reads_the_same_whatever_the_run_named_its_objects(clusters):
    """The verification objects are named for the run (iomesh-verify-<cluster>-<run>): a re-run over an unchanged
    deployment must still write the same report."""
    def results(run):
        return [{"cluster": "iomesh", "namespace": "v", "storage_class": "iomesh", "pvc": f"iomesh-verify-iomesh-{run}",
                 "phase": "Bound", "pv": f"pvc-{run}", "driver": "com.iomesh.csi-driver", "pv_nodes": ["w0"],
                 "within_cluster_nodes": True, "pod": f"iomesh-verify-iomesh-{run}", "pod_node": "w0",
                 "result": "passed", "message": "ok"}]
    first, second = (render(clusters, mgmt_only(), None, results(run)) for run in ("0a1b2c3d4e", "9f8e7d6c5b"))
    assert first == second and "0a1b2c3d4e" not in first
    dots = [report_diagram.dot(report_model.build(clusters, mgmt_only(), results(run)))
            for run in ("0a1b2c3d4e", "9f8e7d6c5b")]
    assert dots[0] == dots[1] and "verification claim" in dots[0]


# --- one whole report -----------------------------------------------------------------------------------------

def ready_pod(name, ns, node, leader=False, ready=True):
    p = pod(name, ns, node, ready)
    if leader:
        p["metadata"]["labels"] = {"iomesh.com/meta-leader": "true"}
    return p


@pytest.fixture
def ledger():
    """`ledger` (management, in `ledger-sys`, w0-w2) with disks by serial; `cold` (in `cold-store`, w3-w5) without."""
    inv = Inventory()
    inv.clusters[0].update(name="ledger", namespace="ledger-sys", disk_deployment_mode="allFlash")
    inv.clusters[1].update(name="cold", namespace="cold-store")
    inv.hostvars["w0"]["iomesh_disks"] = [{"serial": "SN-A0", "mount_type": "dataStoreWithJournal"}]
    inv.hostvars["w1"]["iomesh_disks"] = [{"serial": "SN-B1", "mount_type": "dataStoreWithJournal"}]
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


def ledger_state():
    """ledger deployed: leader on w1, a meta pod not ready on w2, one unscheduled, a redirector on w9; one disk attached,
    one without a BlockDevice. cold: not deployed. A stray IOMeshCluster elsewhere."""
    ns = "ledger-sys"
    pods = [ready_pod("ledger-meta-0", ns, "w1", leader=True), ready_pod("ledger-meta-1", ns, "w2", ready=False),
            ready_pod("ledger-meta-2", ns, None), ready_pod("ledger-chunk-0", ns, "w0"),
            ready_pod("ledger-chunk-1", ns, "w1"), ready_pod("ledger-chunk-2", ns, "w2"),
            ready_pod("ledger-iscsi-redirector-k2x", ns, "w9"), ready_pod("ledger-zookeeper-0", ns, "w0")]
    bd = {"metadata": {"name": "blockdevice-7f", "namespace": ns,
                       "labels": {"iomesh.multicluster/cluster": "ledger",
                                  "iomesh.multicluster/mount-type": "dataStoreWithJournal"}},
          "spec": {"nodeAttributes": {"nodeName": "w0"}, "path": "/dev/nvme0n1", "capacity": {"storage": 960 * 10**9},
                   "details": {"serial": "SN-A0", "driveType": "SSD"}},
          "status": {"claimState": "Claimed", "state": "Active"}}
    return {
        "release": {"chart": "iomesh-v1.0.1", "revision": 4, "status": "deployed", "app_version": "v5.3.0"},
        "namespaces": [{"metadata": {"name": ns}}],
        "iomesh_clusters": [
            {"metadata": {"name": "ledger", "namespace": ns},
             "spec": {"diskDeploymentMode": "allFlash", "meta": {"image": {"tag": "v5.5.0-rc27-community"}},
                      "probe": {"image": {"tag": "v1.1.0"}}},
             "status": {"summary": {"metaSummary": {"leader": "10.234.1.11:10100"}},
                        "readyReplicas": {"meta": 2, "chunk": 3},
                        "license": {"licenseType": "Trial", "softwareEdition": "COMMUNITY"}, "portOffset": 0,
                        "attachedDevices": [{"device": "blockdevice-7f", "mountType": "dataStoreWithJournal",
                                             "nodeName": "w0"}]}},
            {"metadata": {"name": "old", "namespace": "legacy-ns"}},
        ],
        "zookeeper_clusters": [{"metadata": {"name": "ledger-zookeeper", "namespace": ns},
                                "spec": {"replicas": 3}, "status": {"readyReplicas": 1}}],
        "pods": pods,
        "block_devices": [bd],
        "storage_classes": [{"metadata": {"name": "ledger"}, "provisioner": "com.iomesh.csi-driver",
                             "parameters": {"iomeshCluster": "ledger-sys/ledger",
                                            "clusterConnection": "ledger-sys/ledger-csi-configmap",
                                            "replicaFactor": "2", "thinProvision": "true",
                                            "csi.storage.k8s.io/fstype": "ext4"},
                             "allowVolumeExpansion": True}],
        "configmaps": [{"metadata": {"name": "ledger-csi-configmap", "namespace": ns},
                        "data": {"clusterId": "k8s-cluster", "iscsiPortal": "127.0.0.1:3260",
                                 "metaAddr": "ledger-meta-client.ledger-sys.svc.cluster.local:10100"}}],
        "errors": [],
    }


LEDGER_RESULTS = [
    {"cluster": "ledger", "namespace": "iomesh-verify", "storage_class": "ledger", "pvc": "p1", "phase": "Bound",
     "driver": "com.iomesh.csi-driver", "pv_nodes": ["w2", "w0", "w1"], "within_cluster_nodes": True, "pod": "t1",
     "pod_node": "w1", "result": "passed", "message": "bound on the cluster's nodes"},
    {"cluster": "cold", "namespace": "iomesh-verify", "storage_class": "cold", "pvc": "p2", "phase": "Pending",
     "driver": None, "pv_nodes": [], "within_cluster_nodes": None, "pod": "", "result": "failed",
     "message": "claim not bound within 120s"},
]


LEDGER_MARKDOWN = (
    "# IOMesh multi-cluster report\n"
    "\n"
    "Generated at 2026-12-05 08:00 UTC.\n"
    "\n"
    "- Management Helm release `ledger` in `ledger-sys`: chart iomesh-v1.0.1 (app v5.3.0), "
    "revision 4, deployed\n"
    "- IOMesh clusters in the inventory: 2; deployed: 1\n"
    "- Verification: results of this run (a cluster unchanged since it last passed keeps that result: "
    "iomesh_verify_when)\n"
    "\n"
    "## Problems\n"
    "\n"
    "- ledger: ZooKeeper ledger-zookeeper: 1 of 3 replicas ready.\n"
    "- ledger: pods on node w9, which is not one of its nodes: ledger-iscsi-redirector-k2x.\n"
    "- ledger: pod ledger-meta-1 on w2 is Running, not ready.\n"
    "- ledger: pod ledger-meta-2 is Pending (Unschedulable: no node fits).\n"
    "- ledger: 1 of 3 meta pods ready.\n"
    "- ledger: 1 of 3 redirector pods ready.\n"
    "- ledger: 1 of 3 zookeeper pods ready.\n"
    "- ledger: declared disk serial SN-B1 as dataStoreWithJournal on w1: no BlockDevice on "
    "that node matches it (node-disk-manager does not report it).\n"
    "- cold: not deployed: IOMeshCluster cold-store/cold does not exist (stage iomesh_cluster not run).\n"
    "- cold: StorageClass cold does not exist (stage iomesh_csi not run).\n"
    "- cold: CSI ConfigMap cold-store/cold-csi-configmap does not exist (stage iomesh_csi not run).\n"
    "- cold: verification failed: claim not bound within 120s\n"
    "\n"
    "## Summary\n"
    "\n"
    "| Cluster | Namespace | Nodes | IOMeshCluster | Meta leader | ZooKeeper | Attached "
    "disks | StorageClass | CSI ConfigMap | Verification |\n"
    "|---|---|---|---|---|---|---|---|---|---|\n"
    "| ledger (management) | ledger-sys (exists) | 3 | deployed | w1 | 1/3 ready | 1 of 2 "
    "declared | ledger (exists) | ledger-csi-configmap (exists) | passed |\n"
    "| cold | cold-store (missing) | 3 | not deployed | - | missing | 0 of 0 declared | cold "
    "(missing) | cold-csi-configmap (missing) | failed |\n"
    "\n"
    "## Cluster `ledger` (management cluster, Helm release)\n"
    "\n"
    "- Namespace `ledger-sys`: exists\n"
    "- IOMeshCluster `ledger-sys/ledger`: exists; meta leader 10.234.1.11:10100 (pod "
    "`ledger-meta-0` on `w1`); ready replicas: meta 2, chunk 3\n"
    "  - disk deployment mode allFlash; port offset 0; images zbs v5.5.0-rc27-community, operator v1.1.0; licence "
    "Trial COMMUNITY\n"
    "- ZookeeperCluster `ledger-zookeeper`: 1 of 3 replicas ready\n"
    "\n"
    "### Nodes\n"
    "\n"
    "| Node | meta | chunk | iSCSI redirector | ZooKeeper | Attached disks |\n"
    "|---|---|---|---|---|---|\n"
    "| w0 | - | 1 | - | 1 | 1 |\n"
    "| w1 | 1 (leader) | 1 | - | - | - |\n"
    "| w2 | 0/1 | 1 | - | - | - |\n"
    "| w9 (not a node of this cluster) | - | - | 1 | - | - |\n"
    "\n"
    "Unscheduled pods: ledger-meta-2.\n"
    "\n"
    "Pod counts are ready pods (ready/total when some are not ready).\n"
    "\n"
    "### Disks\n"
    "\n"
    "| Node | Path | Serial | Type | Size | Mount type | BlockDevice | Claim | Attached |\n"
    "|---|---|---|---|---|---|---|---|---|\n"
    "| w0 | `/dev/nvme0n1` | `SN-A0` | SSD | 960 GB | dataStoreWithJournal | "
    "`blockdevice-7f` | Claimed | dataStoreWithJournal |\n"
    "| w1 | - | `SN-B1` | - | - | dataStoreWithJournal | - | no BlockDevice found | no |\n"
    "\n"
    "### StorageClass `ledger`\n"
    "\n"
    "- `provisioner`: `com.iomesh.csi-driver`\n"
    "- `iomeshCluster`: `ledger-sys/ledger`\n"
    "- `clusterConnection`: `ledger-sys/ledger-csi-configmap`\n"
    "- `replicaFactor`: `2`\n"
    "- `thinProvision`: `true`\n"
    "- `csi.storage.k8s.io/fstype`: `ext4`\n"
    "- `reclaimPolicy`: `Delete`\n"
    "- `volumeBindingMode`: `Immediate`\n"
    "- `allowVolumeExpansion`: `true`\n"
    "\n"
    "CSI ConfigMap `ledger-sys/ledger-csi-configmap`: exists\n"
    "\n"
    "- `clusterId`: `k8s-cluster`\n"
    "- `iscsiPortal`: `127.0.0.1:3260`\n"
    "- `metaAddr`: `ledger-meta-client.ledger-sys.svc.cluster.local:10100`\n"
    "\n"
    "### Verification\n"
    "\n"
    "- Result: **passed**\n"
    "- Verification claim in namespace `iomesh-verify` on StorageClass `ledger`: phase Bound\n"
    "- Volume of driver `com.iomesh.csi-driver`, allowed nodes w0, w1, w2 (within the cluster's nodes)\n"
    "- Test pod using it ran on a node of the cluster\n"
    "\n"
    "## Cluster `cold` (additional cluster)\n"
    "\n"
    "- Namespace `cold-store`: missing\n"
    "- IOMeshCluster `cold-store/cold`: not deployed\n"
    "- ZookeeperCluster `cold-zookeeper`: missing\n"
    "\n"
    "### Nodes\n"
    "\n"
    "| Node | meta | chunk | iSCSI redirector | ZooKeeper | Attached disks |\n"
    "|---|---|---|---|---|---|\n"
    "| w3 | - | - | - | - | - |\n"
    "| w4 | - | - | - | - | - |\n"
    "| w5 | - | - | - | - | - |\n"
    "\n"
    "Pod counts are ready pods (ready/total when some are not ready).\n"
    "\n"
    "### Disks\n"
    "\n"
    "No disk declared in the inventory (`iomesh_disks`), labelled for this cluster or attached.\n"
    "\n"
    "### StorageClass `cold`\n"
    "\n"
    "- missing\n"
    "\n"
    "CSI ConfigMap `cold-store/cold-csi-configmap`: missing\n"
    "\n"
    "### Verification\n"
    "\n"
    "- Result: **failed**\n"
    "- Verification claim in namespace `iomesh-verify` on StorageClass `cold`: phase Pending\n"
    "- Volume of driver -, allowed nodes -\n"
    "- Message: claim not bound within 120s\n"
    "\n"
    "## Topology\n"
    "\n"
    "```mermaid\n"
    "flowchart LR\n"
    '  n_release_ledger["Helm release ledger<br/>iomesh-v1.0.1"]\n'
    '  subgraph n_sub_ledger ["ledger (management), namespace ledger-sys"]\n'
    '    n_cr_ledger{{"IOMeshCluster ledger<br/>leader w1"}}\n'
    '    n_node_ledger_w0["w0<br/>chunk, zookeeper"]\n'
    '    n_node_ledger_w1["w1<br/>meta, chunk<br/>meta leader"]\n'
    '    n_node_ledger_w2["w2<br/>meta, chunk"]\n'
    '    n_node_ledger_w9["w9<br/>redirector"]\n'
    '    n_disk_ledger_0[("/dev/nvme0n1<br/>dataStoreWithJournal 960 GB<br/>attached")]\n'
    '    n_disk_ledger_1[("SN-B1<br/>dataStoreWithJournal<br/>not found")]\n'
    "  end\n"
    "  n_release_ledger --> n_cr_ledger\n"
    "  n_cr_ledger --> n_node_ledger_w0\n"
    "  n_cr_ledger --> n_node_ledger_w1\n"
    "  n_cr_ledger --> n_node_ledger_w2\n"
    "  n_cr_ledger --> n_node_ledger_w9\n"
    "  n_node_ledger_w0 --> n_disk_ledger_0\n"
    "  n_node_ledger_w1 -.-> n_disk_ledger_1\n"
    '  n_sc_ledger[/"StorageClass ledger<br/>exists"/]\n'
    "  n_sc_ledger -- provisions from --> n_cr_ledger\n"
    '  n_pvc_ledger(["verification claim<br/>passed"])\n'
    "  n_pvc_ledger --> n_sc_ledger\n"
    '  subgraph n_sub_cold ["cold, namespace cold-store"]\n'
    '    n_cr_cold{{"IOMeshCluster cold<br/>not deployed"}}\n'
    '    n_node_cold_w3["w3"]\n'
    '    n_node_cold_w4["w4"]\n'
    '    n_node_cold_w5["w5"]\n'
    "  end\n"
    "  n_cr_cold --> n_node_cold_w3\n"
    "  n_cr_cold --> n_node_cold_w4\n"
    "  n_cr_cold --> n_node_cold_w5\n"
    '  n_sc_cold[/"StorageClass cold<br/>missing"/]\n'
    "  n_sc_cold -- provisions from --> n_cr_cold\n"
    '  n_pvc_cold(["verification claim<br/>failed"])\n'
    "  n_pvc_cold --> n_sc_cold\n"
    "```\n"
    "\n"
    "Graphviz source [`t.dot`](t.dot), picture [`t.svg`](t.svg).\n"
    "\n"
    "![topology](t.svg)\n"
    "\n"
    "## IOMeshClusters outside the inventory\n"
    "\n"
    "- `legacy-ns/old`\n"
)


def test_whole_report_of_a_deployment_half_done(ledger):
    """Every section of the report at once: what a reader sees, line by line."""
    view = report_model.build(ledger, ledger_state(), LEDGER_RESULTS)
    meta = {"generated_at": "2026-12-05 08:00 UTC", "diagram_source": "t.dot", "diagram_image": "t.svg"}
    assert report_markdown.markdown(view, meta) == LEDGER_MARKDOWN


def reads_failed():
    """Only the IOMeshClusters could be read: ledger's, without any status yet."""
    observed = {key: None for key in ("release", "namespaces", "zookeeper_clusters", "pods", "block_devices",
                                      "storage_classes", "configmaps")}
    observed["iomesh_clusters"] = [{"metadata": {"name": "ledger", "namespace": "ledger-sys"}}]
    observed["errors"] = ["pods: the server was unable to return a response in the time allotted"]
    return observed


FAILED_MARKDOWN = (
    "# IOMesh multi-cluster report\n"
    "\n"
    "- Management Helm release `ledger` in `ledger-sys`: unknown (could not be read)\n"
    "- IOMesh clusters in the inventory: 2; deployed: 1\n"
    "- Verification: not run in this run\n"
    "\n"
    "## Problems\n"
    "\n"
    "- could not read: pods: the server was unable to return a response in the time allotted\n"
    "- ledger: no meta leader (status.summary.metaSummary.leader is empty).\n"
    "- ledger: 0 of 3 meta pods ready.\n"
    "- ledger: 0 of 3 chunk pods ready.\n"
    "- ledger: 0 of 3 redirector pods ready.\n"
    "- ledger: 0 of 3 zookeeper pods ready.\n"
    "- cold: not deployed: IOMeshCluster cold-store/cold does not exist (stage iomesh_cluster not run).\n"
    "\n"
    "## Summary\n"
    "\n"
    "| Cluster | Namespace | Nodes | IOMeshCluster | Meta leader | ZooKeeper | Attached "
    "disks | StorageClass | CSI ConfigMap | Verification |\n"
    "|---|---|---|---|---|---|---|---|---|---|\n"
    "| ledger (management) | ledger-sys (unknown (could not be read)) | 3 | deployed | none "
    "| unknown (could not be read) | 0 of 2 declared | ledger (unknown (could not be read)) "
    "| ledger-csi-configmap (unknown (could not be read)) | not run in this run |\n"
    "| cold | cold-store (unknown (could not be read)) | 3 | not deployed | - | unknown "
    "(could not be read) | 0 of 0 declared | cold (unknown (could not be read)) | "
    "cold-csi-configmap (unknown (could not be read)) | not run in this run |\n"
    "\n"
    "## Cluster `ledger` (management cluster, Helm release)\n"
    "\n"
    "- Namespace `ledger-sys`: unknown (could not be read)\n"
    "- IOMeshCluster `ledger-sys/ledger`: exists; meta leader none; ready replicas: none reported\n"
    "- ZookeeperCluster `ledger-zookeeper`: unknown (could not be read)\n"
    "\n"
    "### Nodes\n"
    "\n"
    "| Node | meta | chunk | iSCSI redirector | ZooKeeper | Attached disks |\n"
    "|---|---|---|---|---|---|\n"
    "| w0 | - | - | - | - | - |\n"
    "| w1 | - | - | - | - | - |\n"
    "| w2 | - | - | - | - | - |\n"
    "\n"
    "Pod counts are ready pods (ready/total when some are not ready).\n"
    "\n"
    "### Disks\n"
    "\n"
    "| Node | Path | Serial | Type | Size | Mount type | BlockDevice | Claim | Attached |\n"
    "|---|---|---|---|---|---|---|---|---|\n"
    "| w0 | - | `SN-A0` | - | - | dataStoreWithJournal | - | no BlockDevice found | no |\n"
    "| w1 | - | `SN-B1` | - | - | dataStoreWithJournal | - | no BlockDevice found | no |\n"
    "\n"
    "### StorageClass `ledger`\n"
    "\n"
    "- unknown (could not be read)\n"
    "\n"
    "CSI ConfigMap `ledger-sys/ledger-csi-configmap`: unknown (could not be read)\n"
    "\n"
    "### Verification\n"
    "\n"
    "- Result: **not run in this run**\n"
    "\n"
    "## Cluster `cold` (additional cluster)\n"
    "\n"
    "- Namespace `cold-store`: unknown (could not be read)\n"
    "- IOMeshCluster `cold-store/cold`: not deployed\n"
    "- ZookeeperCluster `cold-zookeeper`: unknown (could not be read)\n"
    "\n"
    "### Nodes\n"
    "\n"
    "| Node | meta | chunk | iSCSI redirector | ZooKeeper | Attached disks |\n"
    "|---|---|---|---|---|---|\n"
    "| w3 | - | - | - | - | - |\n"
    "| w4 | - | - | - | - | - |\n"
    "| w5 | - | - | - | - | - |\n"
    "\n"
    "Pod counts are ready pods (ready/total when some are not ready).\n"
    "\n"
    "### Disks\n"
    "\n"
    "BlockDevices: unknown (could not be read).\n"
    "\n"
    "### StorageClass `cold`\n"
    "\n"
    "- unknown (could not be read)\n"
    "\n"
    "CSI ConfigMap `cold-store/cold-csi-configmap`: unknown (could not be read)\n"
    "\n"
    "### Verification\n"
    "\n"
    "- Result: **not run in this run**\n"
    "\n"
    "## Topology\n"
    "\n"
    "Graphviz source [`iomesh-topology.dot`](iomesh-topology.dot); no picture: no renderer was run.\n"
)


def test_whole_report_when_only_the_iomesh_clusters_could_be_read(ledger):
    """Every read that failed reads "unknown", never "missing"; an IOMeshCluster without status has no leader."""
    view = report_model.build(ledger, reads_failed(), None)
    assert report_markdown.markdown(view, {"mermaid": False}) == FAILED_MARKDOWN


def test_iomesh_cluster_that_could_not_be_read(clusters):
    text = render(clusters, {"iomesh_clusters": None})
    assert "\n- IOMeshCluster `iomesh-cluster-1/iomesh-cluster-1`: unknown (could not be read)\n" in text


def test_a_value_on_several_lines_stays_in_its_table_cell(clusters):
    results = [{"cluster": "iomesh-cluster-1", "pvc": "p", "result": "failed\n(see the run's log)"}]
    text = render(clusters, mgmt_only(), None, results)
    assert "| iomesh-cluster-1-csi-configmap (missing) | failed (see the run's log) |\n" in text
