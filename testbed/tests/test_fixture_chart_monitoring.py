"""The fixture chart's optional monitoring objects (charts/README.md): none by default; with their values on, the
real chart's kinds, names and namespaces for any release name, in every chart version (the ServiceMonitor of the IOMesh
exporters named after the chart: iomesh, IOMesh in v1.2.0; only with iomesh.create)."""

from __future__ import annotations

import pytest
from iomesh_testbed import launcher

from test_fixture_chart import _find_helm, render

ON = {"create": True}
PLACED = {"create": True, "namespace": "prom-east", "labels": {"release": "kps"}}
ALL_ON = {
    "operator": {"serviceMonitor": PLACED, "prometheusRule": PLACED, "kubeStateMetrics": ON},
    "iomesh": {"serviceMonitor": PLACED},
    "blockdevice-monitor": {"podMonitor": PLACED, "prometheusRule": PLACED},
}
MONITORING_KINDS = ("ServiceMonitor", "PodMonitor", "PrometheusRule")


@pytest.fixture(scope="module")
def helm() -> str:
    return _find_helm("helm4")


def _monitoring(docs):
    return sorted((d["kind"], d["metadata"]["namespace"], d["metadata"]["name"])
                  for d in docs if d["kind"] in MONITORING_KINDS)


@pytest.mark.parametrize("version", launcher.CHART_VERSIONS)
def test_no_monitoring_object_by_default(helm, version):
    docs = render(helm, None, release="vault-x", namespace="vault-ns", version=version)
    assert _monitoring(docs) == []
    assert not [d for d in docs if d["metadata"]["name"] == "kube-state-metrics"]


@pytest.mark.parametrize(("version", "chart_name", "ksm_image"), [
    ("v1.0.1", "iomesh", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.7.0"),
    ("v1.1.0", "iomesh", "docker.io/iomesh/kube-state-metrics:v2.7.0"),
    ("v1.2.0", "IOMesh", "docker.io/iomesh/kube-state-metrics:v2.7.0"),
])
def test_every_monitoring_object_with_its_values_on(helm, version, chart_name, ksm_image):
    docs = render(helm, ALL_ON, release="vault-x", namespace="vault-ns", version=version)
    assert _monitoring(docs) == sorted([
        ("ServiceMonitor", "prom-east", chart_name), ("ServiceMonitor", "prom-east", "iomesh-operator"),
        ("ServiceMonitor", "prom-east", "kube-state-metrics"),
        ("PodMonitor", "prom-east", "blockdevice-monitor"), ("PodMonitor", "prom-east", "blockdevice-monitor-prober"),
        ("PrometheusRule", "prom-east", "iomesh"), ("PrometheusRule", "prom-east", "blockdevicemonitor"),
    ])
    for doc in docs:
        if doc["kind"] in ("ServiceMonitor", "PodMonitor"):
            assert doc["spec"]["namespaceSelector"] == {"matchNames": ["vault-ns"]}
        if doc["kind"] == "PodMonitor":
            assert doc["metadata"]["labels"] == {"release": "vault-x", **PLACED["labels"]}
        elif doc["kind"] in MONITORING_KINDS:
            assert doc["metadata"]["labels"] == PLACED["labels"]
    deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "kube-state-metrics")
    assert deployment["metadata"]["namespace"] == "vault-ns"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == ksm_image


def test_the_exporters_service_monitor_needs_iomesh_create(helm):
    values = {**ALL_ON, "iomesh": {"create": False, "serviceMonitor": PLACED}}
    names = [n for kind, _ns, n in _monitoring(render(helm, values, release="r2", namespace="n2")) if kind == "ServiceMonitor"]
    assert names == ["iomesh-operator", "kube-state-metrics"]


def test_kube_state_metrics_service_monitor_needs_the_operator_one(helm):
    values = {"operator": {"kubeStateMetrics": ON}}
    docs = render(helm, values, release="r3", namespace="n3")
    assert _monitoring(docs) == []
    assert [d["kind"] for d in docs if d["metadata"]["name"] == "kube-state-metrics"] == [
        "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Service", "Deployment"]
