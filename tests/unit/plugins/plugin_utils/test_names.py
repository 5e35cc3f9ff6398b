"""names: Helm's fullname rule and every chart-made and operator-made name, against the real chart's renders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import names

# The real chart's render facts live in the project's shared/ folder, beside the repository (CI clones it there too).
FACTS = Path(__file__).resolve().parents[4].parent / "shared" / "reference" / "iomesh-chart-render-facts.md"

# What `helm template <R>` of the real chart names each shared workload, the same in v1.0.1, v1.1.0 and v1.2.0
# (docs: the chart render facts, rows "Deployment"/"DaemonSet").
REAL_CHART = {
    "operator_deployment": ("Deployment", "operator"),
    "zookeeper_operator_deployment": ("Deployment", "<R>-zookeeper-operator"),
    "zookeeper_operator_hook_job": ("Job", "<R>-zookeeper-operator-post-install-upgrade"),
    "ndm_operator_deployment": ("Deployment", "<R>-openebs-ndm-operator"),
    "ndm_daemonset": ("DaemonSet", "<R>-openebs-ndm"),
    "csi_controller_deployment": ("Deployment", "iomesh-csi-driver-controller-plugin"),
    "csi_node_daemonset": ("DaemonSet", "iomesh-csi-driver-node-plugin"),
}


@pytest.mark.parametrize("release", ["iomesh", "storage", "iomesh-cluster-0"])
def test_release_names_follow_the_real_chart(release):
    got = names.release_names(release)
    for key, (_kind, name) in REAL_CHART.items():
        assert got[key] == name.replace("<R>", release)


def test_the_literal_table_is_what_the_facts_file_lists_for_every_chart_version():
    if not FACTS.exists():
        pytest.skip("the chart render facts are not on this machine")
    sections = re.split(r"^## Chart (v[0-9.]+):.*$", FACTS.read_text(), flags=re.M)
    versions = dict(zip(sections[1::2], sections[2::2]))
    assert sorted(versions) == ["v1.0.1", "v1.1.0", "v1.2.0"]
    for version, table in versions.items():
        rows = {tuple(cell.strip() for cell in line.split("|")[1:3]) for line in table.splitlines()
                if line.startswith("| ")}
        for kind, name in REAL_CHART.values():
            assert (kind, name) in rows, (version, kind, name)
        for kind, name in (("IOMeshCluster", "<R>"), ("ZookeeperCluster", "<R>-zookeeper")):
            assert (kind, name) in rows, (version, kind, name)


@pytest.mark.parametrize(("release", "chart", "expected"), [
    ("iomesh", "zookeeper-operator", "iomesh-zookeeper-operator"),
    ("my-zookeeper-operator-1", "zookeeper-operator", "my-zookeeper-operator-1"),
    ("openebs-ndm", "openebs-ndm", "openebs-ndm"),
    ("a" * 60, "openebs-ndm", "a" * 60 + "-op"),
    ("a" * 62, "openebs-ndm", "a" * 62),          # cut at 63 leaves a trailing '-', which is trimmed
    ("b" * 70, "openebs-ndm", "b" * 63),
])
def test_fullname_rule(release, chart, expected):
    assert names.fullname(release, chart) == expected


def test_release_containing_the_sub_chart_name_is_used_alone():
    got = names.release_names("site-openebs-ndm")
    assert got["ndm_daemonset"] == "site-openebs-ndm"
    assert got["ndm_operator_deployment"] == "site-openebs-ndm-operator"
    assert got["zookeeper_operator_deployment"] == "site-openebs-ndm-zookeeper-operator"


def test_pod_patterns_of_a_cluster():
    patterns = names.pod_patterns("blue")
    assert patterns == {
        "meta": "^blue-meta-[0-9]+$",
        "chunk": "^blue-chunk-[0-9]+$",
        "iscsi-redirector": "^blue-iscsi-redirector-[a-z0-9]+$",
        "zookeeper": "^blue-zookeeper-[0-9]+$",
    }
    assert re.search(patterns["meta"], "blue-meta-2")
    assert not re.search(patterns["meta"], "blue-green-meta-2")
    assert not re.search(patterns["chunk"], "blue-chunk-x")
    assert re.search(patterns["iscsi-redirector"], "blue-iscsi-redirector-x7b2k")
    assert not re.search(patterns["zookeeper"], "blue-zookeeper-operator-5d9")


def test_csi_node_plugin_pattern_matches_daemonset_pods_only():
    pattern = names.release_names("iomesh")["csi_node_pod_pattern"]
    assert re.search(pattern, "iomesh-csi-driver-node-plugin-x7b2k")
    assert not re.search(pattern, "iomesh-csi-driver-controller-plugin-6d9f-x7b2k")


def test_cluster_names():
    assert names.cluster_names("c1") == {
        "iomesh_cluster": "c1",
        "zookeeper_cluster": "c1-zookeeper",
        "zookeeper_app_label": "c1-zookeeper",
        "meta_client_service": "c1-meta-client",
        "csi_configmap": "c1-csi-configmap",
    }


@pytest.mark.parametrize("bad", ["", "Blue", "a.b", "-a", None, "a b"])
def test_names_that_cannot_prefix_objects_are_refused(bad):
    with pytest.raises(names.InvalidName) as refused:
        names.pod_patterns(bad)
    assert str(refused.value) == f"cluster name must be a DNS label (lowercase letters, digits and '-'), got {bad!r}"


@pytest.mark.parametrize(("call", "what"), [
    (lambda: names.fullname("Rel", "iomesh"), "release"),
    (lambda: names.fullname("rel", "Chart_X"), "chart"),
    (lambda: names.release_names("Rel"), "release"),
])
def test_a_refused_name_says_which_name_it_is(call, what):
    message = rf"^{what} must be a DNS label \(lowercase letters, digits and '-'\), got '(Rel|Chart_X)'$"
    with pytest.raises(names.InvalidName, match=message):
        call()


def test_chart_storage_classes_are_the_real_charts():
    # docs: the chart render facts, rows "StorageClass" (the same in every version).
    assert names.CHART_STORAGE_CLASSES == ("iomesh-csi-driver", "hostpath")
    assert names.CHART_STORAGE_CLASS_PREFIX == "iomesh-localpv-manager-"


def _facts_names():
    """{version: {(kind, name)}} of every row of the chart render facts."""
    sections = re.split(r"^## Chart (v[0-9.]+):.*$", FACTS.read_text(), flags=re.M)
    return {version: {tuple(cell.strip() for cell in line.split("|")[1:3]) for line in table.splitlines()
                      if line.startswith("| ")}
            for version, table in zip(sections[1::2], sections[2::2])}


def test_release_objects_are_every_name_the_real_chart_derives_from_the_release():
    if not FACTS.exists():
        pytest.skip("the chart render facts are not on this machine")
    versions = _facts_names()
    listed = {suffix for _kind, suffix in names.RELEASE_OBJECTS + names.CLUSTER_OBJECTS}
    for version, rows in versions.items():
        for _kind, name in rows:
            if "<R>" in name:
                assert name.startswith("<R>") and name[3:] in listed, (version, name)
    for kind, suffix in names.RELEASE_OBJECTS:
        assert any((kind, f"<R>{suffix}") in rows for rows in versions.values()), (kind, suffix)


def test_longest_chart_made_names_as_the_real_chart_renders_them():
    if not FACTS.exists():
        pytest.skip("the chart render facts are not on this machine")
    for version, rows in _facts_names().items():
        assert ("Job", "<R>-zookeeper-operator-post-install-upgrade") in rows, version
        assert ("Service", "<R>-openebs-ndm-cluster-exporter-service") in rows, version
        assert ("Service", "<R>-openebs-ndm-node-exporter-service") in rows, version


def test_name_limits_are_exact():
    # 63 - len("-zookeeper-operator-post-install-upgrade") = 63 - 40; 63 - len("-zookeeper-admin-server") = 63 - 23.
    assert names.MAX_RELEASE_NAME == 23
    assert names.MAX_CLUSTER_NAME == 40
    assert names.longest_release_object("r" * 23) == ("Job", "r" * 23 + "-zookeeper-operator-post-install-upgrade")
    assert len(names.longest_release_object("r" * 23)[1]) == 63
    assert names.longest_cluster_object("c" * 40) == ("Service", "c" * 40 + "-zookeeper-admin-server")
    assert len(names.longest_cluster_object("c" * 40)[1]) == 63


def test_every_object_name_fits_at_the_limits():
    assert max(len(name) for _kind, name in names.object_names("r" * 23, management=True)) == 63
    assert max(len(name) for _kind, name in names.object_names("c" * 40)) == 63
    assert ("Service", "c1-zookeeper-client") in names.object_names("c1")
    assert ("Service", "iomesh-openebs-ndm-node-exporter-service") in names.object_names("iomesh", management=True)
