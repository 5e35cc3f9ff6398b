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
