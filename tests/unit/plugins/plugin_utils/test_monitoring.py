"""monitoring: the chart values that turn the monitoring objects on (per chart version, read in the real chart's
values), the CRD check, ServiceMonitor iomesh taken from the chart's rendering with every cluster's namespace, and
what is stale (docs/day-2.md, "Monitoring")."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_monitoring as fm
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import monitoring

from ..conftest import Inventory

REFERENCE = Path(__file__).resolve().parents[4].parent / "shared" / "reference"
CHART_VERSIONS = ("v1.0.1", "v1.1.0", "v1.2.0")
CRDS = ["servicemonitors.monitoring.coreos.com", "podmonitors.monitoring.coreos.com",
        "prometheusrules.monitoring.coreos.com"]


def _plan(version="v1.0.1", **settings):
    inv = Inventory(sizes=(3, 3, 3))
    inv.clusters[0].update(name="vault-core", namespace="vault-sys")
    inv.clusters[1].update(name="edge-b", namespace="zz-edge")
    inv.clusters[2].update(name="arc-c")
    inv.settings.update(iomesh_chart_version=version, **settings)
    conf = f.iomesh_settings(inv.settings)
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, conf), conf


def _chart_values(version: str) -> dict:
    return yaml.safe_load((REFERENCE / f"iomesh-chart-{version}" / "values" / "iomesh.yaml").read_text())


def _leaves(values, prefix=()):
    if isinstance(values, dict) and values:
        for key, value in values.items():
            yield from _leaves(value, prefix + (key,))
    else:
        yield prefix, values


def test_without_monitoring_the_values_have_no_monitoring_key():
    clusters, conf = _plan()
    values = f.iomesh_mgmt_values(clusters[0], conf)
    assert "operator" not in values and "blockdevice-monitor" not in values
    assert "serviceMonitor" not in values["iomesh"]


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_every_monitoring_value_is_a_key_of_the_real_chart(version):
    clusters, conf = _plan(version, iomesh_monitoring=True, iomesh_monitoring_namespace="prom-ops",
                           iomesh_monitoring_labels={"release": "kps"})
    values = f.iomesh_mgmt_values(clusters[0], conf)
    real = _chart_values(version)
    paths = [path for path, _value in _leaves(values) if path[0] in ("operator", "blockdevice-monitor")
             or path[:2] == ("iomesh", "serviceMonitor")]
    assert len(paths) == 16, paths
    for path in paths:
        node = real
        for key in path[:-1] if path[-2:-1] == ("labels",) else path:
            assert isinstance(node, dict) and key in node, (version, path)
            node = node[key]
    # Literal expectations (domain doc §11, "Monitoring / dashboard").
    for top, key in (("operator", "serviceMonitor"), ("operator", "prometheusRule"), ("iomesh", "serviceMonitor"),
                     ("blockdevice-monitor", "podMonitor"), ("blockdevice-monitor", "prometheusRule")):
        assert values[top][key] == {"create": True, "namespace": "prom-ops", "labels": {"release": "kps"}}
        assert real[top][key]["create"] is False
    assert values["operator"]["kubeStateMetrics"] == {"create": True}


def test_monitoring_without_namespace_or_labels_sets_create_only():
    clusters, conf = _plan("v1.1.0", iomesh_monitoring="yes")
    values = f.iomesh_mgmt_values(clusters[0], conf)
    assert values["blockdevice-monitor"] == {"podMonitor": {"create": True}, "prometheusRule": {"create": True}}
    assert values["iomesh"]["serviceMonitor"] == {"create": True}
    assert values["iomesh"]["chunk"]["replicaCount"] == 3


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("iomesh_monitoring", "maybe", "'maybe' must be true or false (default false)."),
    ("iomesh_monitoring_namespace", "Prom_Ops", "'Prom_Ops' is not a namespace name"),
    ("iomesh_monitoring_labels", {"release": "a b"}, "must map label keys to label values"),
    ("iomesh_monitoring_labels", ["release"], "must map label keys to label values"),
])
def test_bad_monitoring_settings_are_refused(variable, value, expected):
    inv = Inventory()
    inv.settings[variable] = value
    found = f.iomesh_topology_report(inv.clusters, inv.groups, inv.hostvars, inv.settings)["errors"]
    assert len(found) == 1 and found[0].startswith(f"{variable}: ") and expected in found[0], found


def test_missing_crds_are_named_with_the_variable_and_the_fix():
    _clusters, conf = _plan(iomesh_monitoring=True)
    present = [{"metadata": {"name": CRDS[0]}}, {"metadata": {"name": "iomeshclusters.iomesh.com"}}]
    problems = fm.iomesh_monitoring_problems(present, conf)
    assert problems == [
        "iomesh_monitoring: true needs the Prometheus Operator's CRDs, and the cluster has no "
        "podmonitors.monitoring.coreos.com, prometheusrules.monitoring.coreos.com. Install the Prometheus Operator "
        "first (e.g. the kube-prometheus-stack chart) or set iomesh_monitoring: false (docs/day-2.md, \"Monitoring\")."]
    assert fm.iomesh_monitoring_problems([{"metadata": {"name": n}} for n in CRDS], conf) == []
    assert "servicemonitors.monitoring.coreos.com" in fm.iomesh_monitoring_problems(None, conf)[0]
    _clusters, off = _plan()
    assert fm.iomesh_monitoring_problems(None, off) == []


def _rendered(name: str, namespace: str, monitor_namespace: str | None = None) -> str:
    docs = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "iomesh-webhook-cert", "namespace": namespace}},
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
         "metadata": {"name": "iomesh-operator", "namespace": monitor_namespace or namespace},
         "spec": {"namespaceSelector": {"matchNames": [namespace]}}},
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
         "metadata": {"name": name, "namespace": monitor_namespace or namespace, "labels": {"release": "kps"}},
         "spec": {"jobLabel": "prometheus.io/name", "namespaceSelector": {"matchNames": [namespace]},
                  "selector": {"matchLabels": {"prometheus.io/scrape": "true"}},
                  "endpoints": [{"port": "meta-exporter", "path": "/api/v1/prometheus/basic"}]}},
    ]
    return yaml.safe_dump_all(docs)


@pytest.mark.parametrize(("chart_name", "monitor_namespace"), [("iomesh", None), ("IOMesh", "prom-ops")])
def test_service_monitor_selects_every_cluster_namespace(chart_name, monitor_namespace):
    clusters, conf = _plan("v1.2.0", iomesh_monitoring=True)
    found = fm.iomesh_monitoring_manifests(_rendered(chart_name, "vault-sys", monitor_namespace), clusters, conf)
    assert found == [{
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "iomesh", "namespace": monitor_namespace or "vault-sys",
                     "labels": {"release": "kps", "app.kubernetes.io/managed-by": "iomesh.multicluster",
                                "iomesh.multicluster/cluster": "vault-core"}},
        "spec": {"jobLabel": "prometheus.io/name", "namespaceSelector": {"matchNames": ["arc-c", "vault-sys", "zz-edge"]},
                 "selector": {"matchLabels": {"prometheus.io/scrape": "true"}},
                 "endpoints": [{"port": "meta-exporter", "path": "/api/v1/prometheus/basic"}]},
    }]


def test_no_service_monitor_without_monitoring_and_a_chart_without_one_fails():
    clusters, conf = _plan("v1.0.1")
    assert fm.iomesh_monitoring_manifests("", clusters, conf) == []
    clusters, conf = _plan("v1.0.1", iomesh_monitoring=True)
    with pytest.raises(AnsibleFilterError, match="rendered no ServiceMonitor iomesh"):
        fm.iomesh_monitoring_manifests(_rendered("other", "vault-sys"), clusters, conf)
    with pytest.raises(AnsibleFilterError, match="settings must be the settings"):
        fm.iomesh_monitoring_manifests("", clusters, {"iomesh_monitoring": True})


def test_stale_service_monitors_are_those_not_wanted():
    wanted = [{"metadata": {"name": "iomesh", "namespace": "prom-ops"}}]
    found = [{"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": n, "namespace": ns}}
             for n, ns in (("iomesh", "vault-sys"), ("iomesh", "prom-ops"), ("iomesh", "a-old"))]
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in fm.iomesh_monitoring_stale(found, wanted)] == [
        ("a-old", "iomesh"), ("vault-sys", "iomesh")]
    assert len(fm.iomesh_monitoring_stale(found, [])) == 3
    assert fm.iomesh_monitoring_stale(None, wanted) == []


def test_required_crds_are_the_three_kinds_of_the_chart():
    assert sorted(monitoring.REQUIRED_CRDS) == sorted(CRDS)


def test_turning_monitoring_off_is_not_taken_for_dropping_values_set_by_hand():
    clusters, conf = _plan("v1.2.0", iomesh_monitoring=True, iomesh_monitoring_labels={"app.kubernetes.io/part-of": "x"})
    live = f.iomesh_mgmt_values(clusters[0], conf)
    live["operator"]["replicaCount"] = 5
    clusters, off = _plan("v1.2.0")
    wanted = f.iomesh_mgmt_values(clusters[0], off)
    problems = f.iomesh_release_problems({"release_values": live, "chart": "IOMesh-v1.2.0", "status": "deployed"},
                                         clusters[0], off, {"values": wanted})
    assert len(problems["errors"]) == 1, problems
    assert "(operator.replicaCount)" in problems["errors"][0]
