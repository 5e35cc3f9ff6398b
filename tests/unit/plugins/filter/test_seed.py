"""Fed the seed inventory, the filters return the seed's YAML with its known errors fixed."""

from __future__ import annotations

import json
import random

import yaml
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f

from .conftest import fixture_yaml


def _topology(seed):
    return f.iomesh_topology(seed["clusters"], seed["groups"], seed["hostvars"], seed["settings"])


def test_seed_topology_is_normalised(seed_inventory):
    report = f.iomesh_topology_report(
        seed_inventory["clusters"], seed_inventory["groups"], seed_inventory["hostvars"], seed_inventory["settings"]
    )
    assert report["errors"] == []
    mgmt, second = report["clusters"]
    assert (mgmt["name"], mgmt["namespace"], mgmt["management"]) == ("iomesh", "iomesh-system", True)
    assert mgmt["nodes"] == ["k8s-woker-0", "k8s-woker-1", "k8s-woker-2"]
    assert (second["name"], second["namespace"], second["management"]) == ("iomesh-cluster-1", "iomesh-cluster-1", False)
    assert second["nodes"] == ["k8s-woker-3", "k8s-woker-4", "k8s-woker-5"]
    assert second["block_device_namespace"] == "iomesh-system"
    assert second["zookeeper_name"] == "iomesh-cluster-1-zookeeper"
    assert second["meta_addr"] == "iomesh-cluster-1-meta-client.iomesh-cluster-1.svc.cluster.local:10100"
    assert mgmt["storage_class"] == {
        "name": "iomesh", "fstype": "ext4", "replica_factor": "2", "thin_provision": "true",
        "reclaim_policy": "Delete", "volume_binding_mode": "Immediate", "allow_volume_expansion": True,
    }
    assert report["settings"]["iomesh_app_version"] == "v5.3.0-rc13"


def test_seed_mgmt_values_equal_fixed_seed(seed_inventory):
    mgmt = _topology(seed_inventory)[0]
    assert f.iomesh_mgmt_values(mgmt, seed_inventory["settings"]) == fixture_yaml("seed/mgmt-values.yaml")[0]


def test_seed_additional_cluster_manifests_equal_fixed_seed(seed_inventory):
    second = _topology(seed_inventory)[1]
    zookeeper, iomesh_cluster = f.iomesh_cluster_manifests(second, seed_inventory["settings"])
    assert zookeeper == fixture_yaml("seed/iomesh-cluster-1-zookeeper.yaml")[0]
    assert iomesh_cluster == fixture_yaml("seed/iomesh-cluster-1.yaml")[0]


def test_seed_csi_manifests_equal_fixed_seed(seed_inventory):
    rendered = []
    for cluster in _topology(seed_inventory):
        rendered += f.iomesh_csi_manifests(cluster, seed_inventory["settings"])
    assert rendered == fixture_yaml("seed/csi.yaml")[0]
    for storage_class in rendered[1::2]:
        assert "reclaimPolicy" not in storage_class["parameters"]
        assert storage_class["reclaimPolicy"] == "Delete"


def test_seed_output_is_valid_yaml_without_tabs(seed_inventory):
    clusters = _topology(seed_inventory)
    docs = [f.iomesh_mgmt_values(clusters[0], seed_inventory["settings"])]
    docs += f.iomesh_cluster_manifests(clusters[1], seed_inventory["settings"])
    for cluster in clusters:
        docs += f.iomesh_csi_manifests(cluster, seed_inventory["settings"])
    text = yaml.safe_dump_all(docs)
    assert "\t" not in text
    assert list(yaml.safe_load_all(text)) == docs


def test_output_is_byte_stable_whatever_the_input_order(seed_inventory):
    def render(groups, hostvars):
        clusters = f.iomesh_topology(seed_inventory["clusters"], groups, hostvars, seed_inventory["settings"])
        out = [f.iomesh_mgmt_values(clusters[0], seed_inventory["settings"])]
        out += f.iomesh_cluster_manifests(clusters[1], seed_inventory["settings"])
        out += [f.iomesh_csi_manifests(c, seed_inventory["settings"]) for c in clusters]
        return json.dumps(out), yaml.safe_dump(out)

    first = render(seed_inventory["groups"], seed_inventory["hostvars"])
    rng = random.Random(7)
    for _round in range(5):
        groups = {k: rng.sample(v, len(v)) for k, v in seed_inventory["groups"].items()}
        hostvars = dict(rng.sample(sorted(seed_inventory["hostvars"].items()), len(seed_inventory["hostvars"])))
        assert render(groups, hostvars) == first
