"""render: the management cluster's custom resources taken from `helm template`, and what additional clusters copy
from the management cluster (chart v1.1.0+ spec fields, the ZooKeeper image and resources)."""

from __future__ import annotations

import re

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import plan

from ..conftest import Inventory


def _clusters(mgmt_name="blk-store", namespace="storage-ops"):
    inv = Inventory()
    inv.clusters[0].update(name=mgmt_name, namespace=namespace)
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars)


SETTINGS = f.iomesh_settings(None)


def _rendered(release, namespace, extra_spec=None):
    """What `helm template` prints: every object of the chart, the two wanted among others (a Secret first)."""
    chart_labels = {
        "app.kubernetes.io/instance": release, "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/name": "iomesh", "helm.sh/chart": "iomesh-v1.2.0",
    }
    docs = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "iomesh-webhook-cert", "namespace": namespace},
         "data": {"tls.key": "c2VjcmV0"}},
        {"apiVersion": "iomesh.com/v1alpha1", "kind": "IOMeshCluster",
         "metadata": {"name": release, "namespace": namespace, "labels": chart_labels},
         "spec": {"version": "v5.6.0-rc112", "edition": "enterprise", "chunk": {"dataCIDR": "10.0.0.0/24"},
                  **(extra_spec or {})}},
        None,
        {"apiVersion": "zookeeper.pravega.io/v1beta1", "kind": "ZookeeperCluster",
         "metadata": {"name": f"{release}-zookeeper", "namespace": namespace, "labels": chart_labels},
         "spec": {"image": {"repository": "iomesh/zookeeper", "tag": "3.5.9-20"}, "replicas": 3}},
    ]
    return "# Source: iomesh/templates/x.yaml\n" + yaml.safe_dump_all(docs)


def test_mgmt_manifests_take_the_charts_objects_for_any_release_name():
    clusters = _clusters("blk-store", "storage-ops")
    zookeeper, cr = f.iomesh_mgmt_manifests(_rendered("blk-store", "storage-ops"), clusters[0])
    assert (zookeeper["kind"], zookeeper["metadata"]["name"]) == ("ZookeeperCluster", "blk-store-zookeeper")
    assert (cr["kind"], cr["metadata"]["name"]) == ("IOMeshCluster", "blk-store")
    assert cr["metadata"]["namespace"] == zookeeper["metadata"]["namespace"] == "storage-ops"
    # The chart's spec, untouched; Helm's manager labels replaced by the collection's.
    assert cr["spec"] == {"version": "v5.6.0-rc112", "edition": "enterprise", "chunk": {"dataCIDR": "10.0.0.0/24"}}
    assert zookeeper["spec"]["image"]["tag"] == "3.5.9-20"
    assert cr["metadata"]["labels"] == {
        "app.kubernetes.io/instance": "blk-store", "app.kubernetes.io/managed-by": "iomesh.multicluster",
        "app.kubernetes.io/name": "iomesh", "iomesh.multicluster/cluster": "blk-store",
    }
    assert "tls.key" not in repr([zookeeper, cr])


def test_mgmt_manifests_refuse_a_render_without_the_cluster():
    clusters = _clusters("blk-store", "storage-ops")
    # Rendered for another release name: neither object is the management cluster's.
    with pytest.raises(AnsibleFilterError, match="rendered no ZookeeperCluster blk-store-zookeeper and no IOMeshCluster blk-store"):
        f.iomesh_mgmt_manifests(_rendered("iomesh", "storage-ops"), clusters[0])
    with pytest.raises(AnsibleFilterError, match="not YAML"):
        f.iomesh_mgmt_manifests("a: [", clusters[0])
    with pytest.raises(AnsibleFilterError, match="is not the management cluster"):
        f.iomesh_mgmt_manifests(_rendered("blk-store", "storage-ops"), clusters[1])
    with pytest.raises(AnsibleFilterError, match="stdout of helm template"):
        f.iomesh_mgmt_manifests(None, clusters[0])


MGMT_CR = {"spec": {
    "version": "v5.6.0-rc112", "edition": "enterprise", "platform": "hygon_x86_64",
    "cpuExclusiveOptions": {"cpuExclusivePolicy": "kubeletCpuManager"}, "storageClass": "hostpath",
}}
MGMT_ZK = {"spec": {
    "image": {"repository": "registry.local/iomesh/zookeeper", "tag": "3.5.9-20", "pullPolicy": "Always"},
    "pod": {"resources": {"limits": {"cpu": "1", "memory": "4Gi"}, "requests": {"cpu": "500m", "memory": "2Gi"}}},
}}


def test_additional_clusters_copy_the_shared_spec_fields_of_the_management_cluster():
    clusters = _clusters()
    cr = f.iomesh_cluster_manifests(clusters[1], SETTINGS, MGMT_CR)[1]
    for field in ("version", "edition", "platform", "cpuExclusiveOptions"):
        assert cr["spec"][field] == MGMT_CR["spec"][field]
    # Chart v1.0.1 sets none of them: none is invented.
    cr = f.iomesh_cluster_manifests(clusters[1], SETTINGS, {"spec": {"storageClass": "hostpath"}})[1]
    assert not {"version", "edition", "platform", "cpuExclusiveOptions"} & set(cr["spec"])


def test_additional_clusters_take_zookeeper_image_and_resources_from_the_management_cluster():
    clusters = _clusters()
    zookeeper = f.iomesh_cluster_manifests(clusters[1], SETTINGS, MGMT_CR, MGMT_ZK)[0]
    assert zookeeper["spec"]["image"] == MGMT_ZK["spec"]["image"]
    assert zookeeper["spec"]["pod"]["resources"] == MGMT_ZK["spec"]["pod"]["resources"]
    # Without a management ZookeeperCluster: the chart's defaults.
    zookeeper = f.iomesh_cluster_manifests(clusters[1], SETTINGS)[0]
    assert zookeeper["spec"]["image"] == {"repository": "iomesh/zookeeper", "tag": "3.5.9", "pullPolicy": "IfNotPresent"}
    assert zookeeper["spec"]["pod"]["resources"]["limits"] == {"cpu": "400m", "memory": "2000Mi"}


def test_the_inventory_overrides_the_zookeeper_image():
    inv = Inventory()
    inv.settings.update(iomesh_zookeeper_image_repository="mirror/zk", iomesh_zookeeper_image_tag="3.6.4")
    clusters = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars)
    zookeeper = f.iomesh_cluster_manifests(clusters[1], f.iomesh_settings(inv.settings), MGMT_CR, MGMT_ZK)[0]
    assert zookeeper["spec"]["image"] == {"repository": "mirror/zk", "tag": "3.6.4", "pullPolicy": "IfNotPresent"}
    # Resources still follow the management cluster.
    assert zookeeper["spec"]["pod"]["resources"] == MGMT_ZK["spec"]["pod"]["resources"]


@pytest.mark.parametrize("key, value", [("iomesh_chart_name", ""), ("iomesh_chart_name", "io mesh"),
                                        ("iomesh_zookeeper_image_tag", 3.5)])
def test_bad_chart_and_image_settings_are_named(key, value):
    with pytest.raises(AnsibleFilterError, match=key):
        f.iomesh_settings({key: value})


def test_mgmt_manifests_refuse_bad_objects():
    clusters = _clusters()
    with pytest.raises(AnsibleFilterError, match="mgmt_zk must be"):
        f.iomesh_cluster_manifests(clusters[1], SETTINGS, MGMT_CR, ["not", "an", "object"])


# kube-apiserver's Status message as kubernetes.core reports it: the Status as JSON text inside msg.
CALL_FAILED = ('Failed to apply object: {"kind":"Status","message":"Internal error occurred: failed calling webhook '
               '\\"validate-iomeshcluster.iomesh.com\\": failed to call webhook: Post \\"https://iomesh-webhook.ops.svc:443'
               '/validate-iomesh-com-v1alpha1-iomeshcluster?timeout=30s\\": tls: failed to verify certificate: x509: '
               'certificate signed by unknown authority","reason":"InternalError","code":500}')


@pytest.mark.parametrize("message, retried", [
    (CALL_FAILED, True),
    (CALL_FAILED.replace('\\"', '"'), True),
    ('Internal error occurred: failed calling webhook "validate-iomeshcluster.iomesh.com": failed to call webhook: '
     'Post "https://iomesh-webhook.ops.svc:443/x": dial tcp 10.96.0.9:443: connect: connection refused', True),
    # The webhook answered: a denial is final.
    ('admission webhook \\"validate-iomeshcluster.iomesh.com\\" denied the request: mount type rawCache is not allowed',
     False),
    # Another webhook failing is not the IOMesh operator's certificate: not retried.
    ('Internal error occurred: failed calling webhook "validate.kyverno.svc": x509', False),
    ("", False),
])
def test_only_a_failed_call_of_the_iomesh_webhook_is_retried(message, retried):
    pattern = plan.constants_view()["webhook_unavailable"]
    assert bool(re.search(pattern, message)) is retried
