"""report_diagram: Graphviz DOT and Mermaid of a judged view. Expected text is literal."""

from __future__ import annotations

import re

import pytest
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import report_diagram, report_model

from ..conftest import Inventory
from .test_report_markdown import LEDGER_RESULTS, ledger, ledger_state, reads_failed  # noqa: F401 pylint: disable=unused-import


@pytest.fixture
def clusters():
    inv = Inventory()
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


def deployed_mgmt():
    """The release and the management IOMeshCluster; two meta pods on w0 (one of them the leader), none elsewhere."""
    ns = "iomesh-system"
    ready = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    return {
        "release": {"chart": "iomesh-v1.0.1", "revision": 3, "status": "deployed"},
        "iomesh_clusters": [{"metadata": {"name": "iomesh", "namespace": ns},
                             "status": {"summary": {"metaSummary": {"leader": "10.234.1.10:10100"}}}}],
        "pods": [{"metadata": {"name": f"iomesh-meta-{i}", "namespace": ns,
                               "labels": {"iomesh.com/meta-leader": "true"} if i == 0 else {}},
                  "spec": {"nodeName": "w0"}, "status": ready} for i in range(2)],
    }


def test_dot_draws_the_release_clusters_nodes_and_storage_classes(clusters):
    dot = report_diagram.dot(report_model.build(clusters, deployed_mgmt(), None))
    assert dot.startswith("digraph iomesh {\n") and dot.endswith("}\n")
    assert '  "release:iomesh" [shape=folder, label="Helm release iomesh\\niomesh-v1.0.1 rev 3"];\n' in dot
    assert '    "iomeshcluster:iomesh-system:iomesh" [shape=component, label="IOMeshCluster iomesh\\nleader w0"];\n' in dot
    assert '    "node:iomesh:w0" [label="w0\\nmeta x2\\nmeta leader"];\n' in dot
    assert '    "node:iomesh:w1" [label="w1"];\n' in dot
    assert '  "release:iomesh" -> "iomeshcluster:iomesh-system:iomesh";\n' in dot
    assert '    "iomeshcluster:iomesh-cluster-1:iomesh-cluster-1" [shape=component, style=dashed, color=red, ' \
           'label="IOMeshCluster iomesh-cluster-1\\nnot deployed"];\n' in dot
    assert '  "storageclass:iomesh-cluster-1" [shape=note, style=dashed, color=red, ' \
           'label="StorageClass iomesh-cluster-1\\nmissing"];\n' in dot
    assert dot.count("  subgraph cluster_") == 2
    assert "pvc:" not in dot


def test_dot_draws_the_verification_claim(clusters):
    results = [{"cluster": "iomesh-cluster-1", "pvc": "check", "result": "failed", "message": "m"}]
    dot = report_diagram.dot(report_model.build(clusters, deployed_mgmt(), results))
    assert '  "pvc:iomesh-cluster-1" [shape=oval, color=red, label="verification claim\\nfailed"];\n' in dot
    assert '  "pvc:iomesh-cluster-1" -> "storageclass:iomesh-cluster-1";\n' in dot


def test_mermaid_ids_are_made_of_safe_characters(clusters):
    text = report_diagram.mermaid(report_model.build(clusters, deployed_mgmt(), None))
    assert text.startswith("flowchart LR\n  n_release_iomesh[\"Helm release iomesh<br/>iomesh-v1.0.1\"]\n")
    assert "  subgraph n_sub_iomesh_cluster_1 [\"iomesh-cluster-1, namespace iomesh-cluster-1\"]\n" in text
    assert "    n_cr_iomesh_cluster_1{{\"IOMeshCluster iomesh-cluster-1<br/>not deployed\"}}\n" in text
    assert "  n_sc_iomesh_cluster_1[/\"StorageClass iomesh-cluster-1<br/>missing\"/]\n" in text
    assert "  n_release_iomesh --> n_cr_iomesh\n" in text
    ids = re.findall(r"^\s+(n_\w+)[\[({]", text, re.M)
    assert len(ids) == len(set(ids))


def test_mermaid_quotes_are_escaped():
    inv = Inventory()
    clusters = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)
    observed = deployed_mgmt()
    observed["release"]["chart"] = 'say "hi"'
    text = report_diagram.mermaid(report_model.build(clusters, observed, None))
    assert 'n_release_iomesh["Helm release iomesh<br/>say #quot;hi#quot;"]' in text


LEDGER_DOT = (
    "digraph iomesh {\n"
    '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, label="IOMesh multi-cluster '
    'topology", labelloc=t];\n'
    '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];\n'
    '  edge [fontname="Helvetica", fontsize=9];\n'
    '  "release:ledger" [shape=folder, label="Helm release ledger\\niomesh-v1.0.1 rev 4"];\n'
    "  subgraph cluster_0 {\n"
    '    label="ledger (management)\\nnamespace ledger-sys";\n'
    "    style=solid;\n"
    '    "iomeshcluster:ledger-sys:ledger" [shape=component, label="IOMeshCluster ledger\\nleader w1"];\n'
    '    "node:ledger:w0" [label="w0\\nchunk, zookeeper"];\n'
    '    "node:ledger:w1" [label="w1\\nmeta, chunk\\nmeta leader"];\n'
    '    "node:ledger:w2" [label="w2\\nmeta, chunk"];\n'
    '    "node:ledger:w9" [label="w9\\nredirector", color=red];\n'
    '    "disk:ledger:w0:blockdevice-7f" [shape=cylinder, '
    'label="/dev/nvme0n1\\ndataStoreWithJournal 960 GB\\nattached"];\n'
    '    "disk:ledger:w1:serial SN-B1 as dataStoreWithJournal" [shape=cylinder, '
    'style=dashed, color=red, label="SN-B1\\ndataStoreWithJournal\\nnot found"];\n'
    "  }\n"
    '  "release:ledger" -> "iomeshcluster:ledger-sys:ledger";\n'
    '  "iomeshcluster:ledger-sys:ledger" -> "node:ledger:w0";\n'
    '  "iomeshcluster:ledger-sys:ledger" -> "node:ledger:w1";\n'
    '  "iomeshcluster:ledger-sys:ledger" -> "node:ledger:w2";\n'
    '  "iomeshcluster:ledger-sys:ledger" -> "node:ledger:w9";\n'
    '  "node:ledger:w0" -> "disk:ledger:w0:blockdevice-7f";\n'
    '  "node:ledger:w1" -> "disk:ledger:w1:serial SN-B1 as dataStoreWithJournal" [style=dashed];\n'
    '  "storageclass:ledger" [shape=note, label="StorageClass ledger\\nexists"];\n'
    '  "storageclass:ledger" -> "iomeshcluster:ledger-sys:ledger" [label="provisions from"];\n'
    '  "pvc:ledger" [shape=oval, label="verification claim\\npassed"];\n'
    '  "pvc:ledger" -> "storageclass:ledger";\n'
    "  subgraph cluster_1 {\n"
    '    label="cold\\nnamespace cold-store";\n'
    "    style=dashed;\n"
    '    "iomeshcluster:cold-store:cold" [shape=component, style=dashed, color=red, '
    'label="IOMeshCluster cold\\nnot deployed"];\n'
    '    "node:cold:w3" [label="w3"];\n'
    '    "node:cold:w4" [label="w4"];\n'
    '    "node:cold:w5" [label="w5"];\n'
    "  }\n"
    '  "iomeshcluster:cold-store:cold" -> "node:cold:w3";\n'
    '  "iomeshcluster:cold-store:cold" -> "node:cold:w4";\n'
    '  "iomeshcluster:cold-store:cold" -> "node:cold:w5";\n'
    '  "storageclass:cold" [shape=note, style=dashed, color=red, label="StorageClass cold\\nmissing"];\n'
    '  "storageclass:cold" -> "iomeshcluster:cold-store:cold" [label="provisions from"];\n'
    '  "pvc:cold" [shape=oval, color=red, label="verification claim\\nfailed"];\n'
    '  "pvc:cold" -> "storageclass:cold";\n'
    "}\n"
)


def test_whole_dot_of_a_deployment_half_done(ledger):
    """The picture of the report of test_report_markdown's half-done deployment, line by line."""
    assert report_diagram.dot(report_model.build(ledger, ledger_state(), LEDGER_RESULTS)) == LEDGER_DOT


FAILED_DOT = (
    "digraph iomesh {\n"
    '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, label="IOMesh multi-cluster '
    'topology", labelloc=t];\n'
    '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];\n'
    '  edge [fontname="Helvetica", fontsize=9];\n'
    '  "release:ledger" [shape=folder, label="Helm release ledger\\nunknown", style=dashed, color=red];\n'
    "  subgraph cluster_0 {\n"
    '    label="ledger (management)\\nnamespace ledger-sys";\n'
    "    style=solid;\n"
    '    "iomeshcluster:ledger-sys:ledger" [shape=component, label="IOMeshCluster ledger\\nleader none"];\n'
    '    "node:ledger:w0" [label="w0"];\n'
    '    "node:ledger:w1" [label="w1"];\n'
    '    "node:ledger:w2" [label="w2"];\n'
    '    "disk:ledger:w0:serial SN-A0 as dataStoreWithJournal" [shape=cylinder, '
    'style=dashed, color=red, label="SN-A0\\ndataStoreWithJournal\\nnot found"];\n'
    '    "disk:ledger:w1:serial SN-B1 as dataStoreWithJournal" [shape=cylinder, '
    'style=dashed, color=red, label="SN-B1\\ndataStoreWithJournal\\nnot found"];\n'
    "  }\n"
    '  "release:ledger" -> "iomeshcluster:ledger-sys:ledger";\n'
    '  "iomeshcluster:ledger-sys:ledger" -> "node:ledger:w0";\n'
    '  "iomeshcluster:ledger-sys:ledger" -> "node:ledger:w1";\n'
    '  "iomeshcluster:ledger-sys:ledger" -> "node:ledger:w2";\n'
    '  "node:ledger:w0" -> "disk:ledger:w0:serial SN-A0 as dataStoreWithJournal" [style=dashed];\n'
    '  "node:ledger:w1" -> "disk:ledger:w1:serial SN-B1 as dataStoreWithJournal" [style=dashed];\n'
    '  "storageclass:ledger" [shape=note, style=dashed, color=red, label="StorageClass '
    'ledger\\nunknown (could not be read)"];\n'
    '  "storageclass:ledger" -> "iomeshcluster:ledger-sys:ledger" [label="provisions from"];\n'
    "  subgraph cluster_1 {\n"
    '    label="cold\\nnamespace cold-store";\n'
    "    style=dashed;\n"
    '    "iomeshcluster:cold-store:cold" [shape=component, style=dashed, color=red, '
    'label="IOMeshCluster cold\\nnot deployed"];\n'
    '    "node:cold:w3" [label="w3"];\n'
    '    "node:cold:w4" [label="w4"];\n'
    '    "node:cold:w5" [label="w5"];\n'
    "  }\n"
    '  "iomeshcluster:cold-store:cold" -> "node:cold:w3";\n'
    '  "iomeshcluster:cold-store:cold" -> "node:cold:w4";\n'
    '  "iomeshcluster:cold-store:cold" -> "node:cold:w5";\n'
    '  "storageclass:cold" [shape=note, style=dashed, color=red, label="StorageClass '
    'cold\\nunknown (could not be read)"];\n'
    '  "storageclass:cold" -> "iomeshcluster:cold-store:cold" [label="provisions from"];\n'
    "}\n"
)


def test_whole_dot_when_only_the_iomesh_clusters_could_be_read(ledger):
    """What could not be read is drawn dashed and red, as "unknown"."""
    assert report_diagram.dot(report_model.build(ledger, reads_failed(), None)) == FAILED_DOT


def test_mermaid_ids_of_names_that_differ_only_in_punctuation_are_told_apart(clusters):
    """Node names may hold dots: `n.1` and `n-1` make the same Mermaid identifier, the second one gets a suffix."""
    observed = deployed_mgmt()
    ready = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    observed["pods"] += [{"metadata": {"name": f"iomesh-chunk-{i}", "namespace": "iomesh-system"},
                          "spec": {"nodeName": node}, "status": ready} for i, node in enumerate(("n.1", "n-1"))]
    text = report_diagram.mermaid(report_model.build(clusters, observed, None))
    assert '    n_node_iomesh_n_1["n-1<br/>chunk"]\n    n_node_iomesh_n_1_2["n.1<br/>chunk"]\n' in text
    assert "  n_cr_iomesh --> n_node_iomesh_n_1\n  n_cr_iomesh --> n_node_iomesh_n_1_2\n" in text


def test_dot_escapes_quotes_and_backslashes_in_identifiers():
    inv = Inventory()
    inv.hostvars["w0"]["iomesh_disks"] = [{"serial": 'SN"7\\b', "mount_type": "cacheWithJournal"},
                                          {"serial": "SN8", "mount_type": "dataStore"}]
    clusters = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)
    dot = report_diagram.dot(report_model.build(clusters, {}, None))
    assert '    "disk:iomesh:w0:serial SN\\"7\\\\b as cacheWithJournal" [shape=cylinder, style=dashed, ' \
           'label="SN\\"7\\\\b\\ncacheWithJournal\\nnot found"];\n' in dot


def test_a_disk_labelled_for_the_cluster_without_a_mount_type(clusters):
    observed = deployed_mgmt()
    observed["block_devices"] = [{"metadata": {"name": "bd-q", "namespace": "iomesh-system",
                                               "labels": {"iomesh.multicluster/cluster": "iomesh"}},
                                  "spec": {"nodeAttributes": {"nodeName": "w1"}, "path": "/dev/sdq"}}]
    dot = report_diagram.dot(report_model.build(clusters, observed, None))
    assert '    "disk:iomesh:w1:bd-q" [shape=cylinder, style=dashed, color=red, label="/dev/sdq\\n- ?\\nnot found"];\n' in dot


def test_both_diagrams_tell_a_release_that_could_not_be_read_from_one_that_is_not_installed(ledger):
    """Mermaid said "not installed" for a release whose read had failed, while DOT said "unknown"."""
    failed = report_model.build(ledger, reads_failed(), None)
    assert '  n_release_ledger["Helm release ledger<br/>unknown"]\n' in report_diagram.mermaid(failed) + "\n"
    assert '"release:ledger" [shape=folder, label="Helm release ledger\\nunknown", style=dashed, color=red];' in report_diagram.dot(failed)
    absent = reads_failed()
    absent["release"], absent["errors"] = {}, []
    missing = report_model.build(ledger, absent, None)
    assert '  n_release_ledger["Helm release ledger<br/>not installed"]\n' in report_diagram.mermaid(missing) + "\n"
    assert 'label="Helm release ledger\\nnot installed", style=dashed, color=red];' in report_diagram.dot(missing)
