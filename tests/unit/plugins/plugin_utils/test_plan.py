"""plan: the inventory normalised and validated once, with the names, waits and constants the roles read."""

from __future__ import annotations

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import plan

from ..conftest import Inventory


def test_seed_plan(seed_inventory):
    built = plan.build(seed_inventory["clusters"], seed_inventory["groups"], seed_inventory["hostvars"],
                       seed_inventory["settings"])
    assert built["errors"] == []
    assert [c["name"] for c in built["clusters"]] == ["iomesh", "iomesh-cluster-1"]
    assert built["management"] is built["clusters"][0]
    assert built["settings"]["iomesh_app_version"] == "v5.3.0-rc13"
    second = built["clusters"][1]
    assert second["names"] == {"iomesh_cluster": "iomesh-cluster-1", "zookeeper_cluster": "iomesh-cluster-1-zookeeper",
                               "zookeeper_app_label": "iomesh-cluster-1-zookeeper",
                               "meta_client_service": "iomesh-cluster-1-meta-client",
                               "csi_configmap": "iomesh-cluster-1-csi-configmap"}
    assert second["meta_addr"] == "iomesh-cluster-1-meta-client.iomesh-cluster-1.svc.cluster.local:10100"
    assert second["pod_patterns"]["chunk"] == "^iomesh-cluster-1-chunk-[0-9]+$"
    assert [w["label"] for w in second["waits"]["zookeeper"]] == ["ZooKeeper iomesh-cluster-1-zookeeper"]
    assert built["release"]["zookeeper_operator_deployment"] == "iomesh-zookeeper-operator"
    assert built["constants"] == {
        "api_versions": {"iomesh": "iomesh.com/v1alpha1", "zookeeper": "zookeeper.pravega.io/v1beta1",
                         "ndm": "openebs.io/v1alpha1", "monitoring": "monitoring.coreos.com/v1"},
        "labels": {
            "managed": {"app.kubernetes.io/managed-by": "iomesh.multicluster"},
            "managed_selector": ["app.kubernetes.io/managed-by=iomesh.multicluster"],
            "verify": {"app.kubernetes.io/managed-by": "iomesh.multicluster", "app.kubernetes.io/component": "verify"},
            "verify_selector": ["app.kubernetes.io/managed-by=iomesh.multicluster",
                                "app.kubernetes.io/component=verify"],
        },
        "csi_driver": "com.iomesh.csi-driver",
        "license_secret": "iomesh-authorization-code",
        "service_monitor_crd": "servicemonitors.monitoring.coreos.com",
        "meta_client_port": 10100,
        "webhook_unavailable": r'failed calling webhook \\*"validate\-iomeshcluster\.iomesh\.com\\*"',
        "helm_release_annotation": "meta.helm.sh/release-name",
        "helm_keep": {"helm.sh/resource-policy": "keep"},
        "apply_defaults": {"hidden_fields": ["metadata.managedFields"]},
    }
    assert plan.is_settings(built["settings"]) and all(plan.is_cluster(c) for c in built["clusters"])


def test_every_problem_at_once_and_nothing_derived():
    inv = Inventory()
    inv.clusters[1]["data_cidr"] = "10.1.0.0/33"
    inv.clusters[1]["meta_replicas"] = 4
    built = plan.build(inv.clusters, inv.groups, inv.hostvars, {"iomesh_edition": "gold"})
    assert built["errors"] == [
        "iomesh_edition: 'gold' is not an IOMesh edition; use 'community' or 'enterprise'.",
        "iomesh_clusters[1] (iomesh-cluster-1).data_cidr: '10.1.0.0/33' is not a valid IPv4 CIDR (four octets 0-255 "
        "and a prefix length 0-32, e.g. 10.234.1.0/24).",
        "iomesh_clusters[1] (iomesh-cluster-1).meta_replicas: is 4; IOMesh meta runs 3 or 5 replicas.",
    ]
    assert built["management"] is None and built["release"] == {}
    assert all("waits" not in c for c in built["clusters"])
    assert plan.problems_text("iomesh_plan", built["errors"]) == (
        "iomesh_plan found 3 problem(s) in the IOMesh inventory:\n"
        "  - iomesh_edition: 'gold' is not an IOMesh edition; use 'community' or 'enterprise'.\n"
        "  - iomesh_clusters[1] (iomesh-cluster-1).data_cidr: '10.1.0.0/33' is not a valid IPv4 CIDR (four octets 0-255 "
        "and a prefix length 0-32, e.g. 10.234.1.0/24).\n"
        "  - iomesh_clusters[1] (iomesh-cluster-1).meta_replicas: is 4; IOMesh meta runs 3 or 5 replicas."
    )


def test_misspelt_variable_is_a_warning():
    inv = Inventory()
    built = plan.build(inv.clusters, inv.groups, inv.hostvars, {"iomesh_chart_verison": "v1.2.0"})
    assert built["errors"] == []
    assert "iomesh_chart_verison: is not a variable of iomesh.multicluster and is ignored; did you mean " \
           "iomesh_chart_version?" in built["warnings"]


def test_raw_settings_are_not_the_plans():
    assert not plan.is_settings({})
    assert not plan.is_settings({"iomesh_edition": "enterprise"})
    assert not plan.is_settings(None)
    assert plan.is_settings(plan.default_settings())
    assert not plan.is_settings(dict(plan.default_settings(), iomesh_app_version=""))
    assert plan.is_settings(plan.build(*_enterprise_inventory())["settings"])
    assert not plan.is_settings(dict(plan.default_settings(), iomesh_edition=""))


def _enterprise_inventory():
    inv = Inventory()
    return inv.clusters, inv.groups, inv.hostvars, {"iomesh_edition": "enterprise", "iomesh_chart_version": "v1.2.0"}


def test_raw_clusters_are_not_the_plans():
    inv = Inventory()
    assert not plan.is_cluster(inv.clusters[1])
    assert not plan.is_cluster(None)
    assert not plan.is_cluster("iomesh-cluster-1")
