"""render: affinity blocks, Helm values, custom resources and CSI objects; fed the seed inventory, the seed's
YAML with its known errors fixed."""

from __future__ import annotations

import json
import random

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f

from ..conftest import Inventory
from ..conftest import fixture_yaml


def topology(inv):
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


def test_node_affinity_sorts_and_deduplicates():
    affinity = f.iomesh_node_affinity(["n2", "n0", "n1", "n0"])
    term = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term == [{"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["n0", "n1", "n2"]}]}]
    assert list(affinity) == ["nodeAffinity"]


def test_node_affinity_custom_key():
    affinity = f.iomesh_node_affinity(["a"], key="example.com/storage-node")
    expr = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
    assert expr["matchExpressions"][0]["key"] == "example.com/storage-node"


def test_zookeeper_affinity():
    affinity = f.iomesh_zookeeper_affinity(["n1", "n0"], "c1-zookeeper")
    assert affinity["nodeAffinity"] == f.iomesh_node_affinity(["n0", "n1"])["nodeAffinity"]
    (term,) = affinity["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term == {
        "podAffinityTerm": {
            "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["c1-zookeeper"]}]},
            "topologyKey": "kubernetes.io/hostname",
        },
        "weight": 20,
    }
    assert f.iomesh_zookeeper_affinity(["n0"], "x", 50)["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"] == 50


@pytest.mark.parametrize(
    "edition, platform, tag",
    [
        ("community", "", "v5.3.0-rc13-community"),
        ("", "", "v5.3.0-rc13-community"),
        ("enterprise", "", "v5.3.0-rc13-enterprise"),
        ("community", "hygon_x86_64", "v5.3.0-rc13-community-hygon"),
        ("enterprise", "hygon_x86_64", "v5.3.0-rc13-enterprise-hygon"),
    ],
)
def test_image_tags_follow_edition_and_platform(inv, edition, platform, tag):
    inv.settings.update(iomesh_edition=edition, iomesh_platform=platform)
    iomesh_cluster = f.iomesh_cluster_manifests(topology(inv)[1], f.iomesh_settings(inv.settings))[1]
    spec = iomesh_cluster["spec"]
    assert {spec[p]["image"]["tag"] for p in ("meta", "chunk", "redirector")} == {tag}
    assert {spec["probe"]["image"]["tag"], spec["toolbox"]["image"]["tag"], spec["chunk"]["devicemanager"]["image"]["tag"]} == {"v1.0.1"}
    values = f.iomesh_mgmt_values(topology(inv)[0], f.iomesh_settings(inv.settings))["iomesh"]
    assert (values["edition"], values["platform"]) == (edition or "community", platform)


def test_chart_version_selects_app_version(inv):
    inv.settings["iomesh_chart_version"] = "v1.2.0"
    spec = f.iomesh_cluster_manifests(topology(inv)[1], f.iomesh_settings(inv.settings))[1]["spec"]
    assert spec["meta"]["image"]["tag"] == "v5.6.0-rc112-community"
    assert spec["probe"]["image"]["tag"] == "v1.2.0"
    inv.settings["iomesh_app_version"] = "v5.9.9"
    assert f.iomesh_cluster_manifests(topology(inv)[1], f.iomesh_settings(inv.settings))[1]["spec"]["meta"]["image"]["tag"] == "v5.9.9-community"


def test_images_are_copied_from_the_management_cluster(inv):
    mgmt_cr = {
        "spec": {
            "meta": {"image": {"repository": "registry.local/iomesh/zbs-metad", "tag": "v5.3.0-rc13-enterprise"}},
            "chunk": {
                "image": {"repository": "registry.local/iomesh/zbs-chunkd", "tag": "v5.3.0-rc13-enterprise", "pullPolicy": "Always"},
                "devicemanager": {"image": {"repository": "iomesh/operator-devicemanager", "tag": "v1.0.1-hotfix"}},
            },
            "redirector": {"image": {"repository": "iomesh/zbs-iscsi-redirectord", "tag": "v5.3.0-rc13-enterprise"}},
            "probe": {"image": {"tag": "v1.0.1-hotfix"}},
            "toolbox": {},
        }
    }
    spec = f.iomesh_cluster_manifests(topology(inv)[1], f.iomesh_settings(inv.settings), mgmt_cr)[1]["spec"]
    assert spec["meta"]["image"] == {"repository": "registry.local/iomesh/zbs-metad", "tag": "v5.3.0-rc13-enterprise", "pullPolicy": "IfNotPresent"}
    assert spec["chunk"]["image"]["pullPolicy"] == "Always"
    assert spec["chunk"]["devicemanager"]["image"]["tag"] == "v1.0.1-hotfix"
    assert spec["probe"]["image"] == {"repository": "iomesh/operator-probe", "tag": "v1.0.1-hotfix", "pullPolicy": "IfNotPresent"}
    assert spec["toolbox"]["image"]["tag"] == "v1.0.1"  # not in the management CR: the chart's rule


def test_additional_cluster_points_at_management_namespace(inv):
    inv.clusters[0]["namespace"] = "storage-mgmt"
    cr = f.iomesh_cluster_manifests(topology(inv)[1], f.iomesh_settings(inv.settings))[1]
    assert cr["spec"]["chunk"]["devicemanager"]["blockDeviceNamespace"] == "storage-mgmt"
    assert cr["spec"]["chunk"]["dataCIDR"] == cr["spec"]["redirector"]["dataCIDR"] == "10.234.1.0/24"


def _declare_disks(inv, mode):
    """Each host its own disks: a serial or by-id link names one disk, on one host."""
    for host in inv.groups["g1"] + inv.groups["g0"]:
        if mode == "allFlash":
            disks = [{"serial": f"SSD-{host}", "mount_type": "dataStoreWithJournal"}]
        else:
            disks = [{"serial": f"SSD-{host}", "mount_type": "cacheWithJournal"},
                     {"by_id": f"ata-HDD-{host}", "mount_type": "dataStore"}]
        inv.hostvars[host]["iomesh_disks"] = disks


def test_device_map_for_hybrid_flash(inv):
    _declare_disks(inv, "hybridFlash")
    clusters = topology(inv)
    assert clusters[1]["disks"]["w3"][1] == {"id_key": "by_id", "id": "/dev/disk/by-id/ata-HDD-w3", "mount_type": "dataStore"}
    device_map = f.iomesh_cluster_manifests(clusters[1], f.iomesh_settings(inv.settings))[1]["spec"]["chunk"]["deviceMap"]
    assert sorted(device_map) == ["cacheWithJournal", "dataStore"]
    assert device_map["dataStore"]["selector"] == {
        "matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["w3", "w4", "w5"]}],
        "matchLabels": {"iomesh.multicluster/cluster": "iomesh-cluster-1", "iomesh.multicluster/mount-type": "dataStore"},
    }
    mgmt_map = f.iomesh_mgmt_values(clusters[0], f.iomesh_settings(inv.settings))["iomesh"]["chunk"]["deviceMap"]
    assert mgmt_map["cacheWithJournal"]["selector"]["matchLabels"]["iomesh.multicluster/cluster"] == "iomesh"


def test_device_map_guard_uses_the_hostname_label_and_affinity_the_node_label_key(inv):
    # NDM labels a BlockDevice kubernetes.io/hostname=<node>; it never copies other node labels
    # (docs/architecture.md#disk-mapping), so only the pods' node affinity follows iomesh_node_label_key.
    inv.settings["iomesh_node_label_key"] = "example.com/storage-node"
    _declare_disks(inv, "hybridFlash")
    settings = f.iomesh_settings(inv.settings)
    mgmt, other = topology(inv)
    guard = {"key": "kubernetes.io/hostname", "operator": "In", "values": ["w3", "w4", "w5"]}
    spec = f.iomesh_cluster_manifests(other, settings)[1]["spec"]
    for entry in spec["chunk"]["deviceMap"].values():
        assert entry["selector"]["matchExpressions"] == [guard]
    affinity = spec["chunk"]["podPolicy"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert affinity["nodeSelectorTerms"][0]["matchExpressions"][0]["key"] == "example.com/storage-node"
    chunk = f.iomesh_mgmt_values(mgmt, settings)["iomesh"]["chunk"]
    for entry in chunk["deviceMap"].values():
        assert entry["selector"]["matchExpressions"] == [{**guard, "values": ["w0", "w1", "w2"]}]
    affinity = chunk["podPolicy"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert affinity["nodeSelectorTerms"][0]["matchExpressions"][0]["key"] == "example.com/storage-node"


def test_device_map_for_all_flash(inv):
    inv.clusters[1]["disk_deployment_mode"] = "allFlash"
    inv.clusters[0]["disk_deployment_mode"] = "allFlash"
    _declare_disks(inv, "allFlash")
    spec = f.iomesh_cluster_manifests(topology(inv)[1], f.iomesh_settings(inv.settings))[1]["spec"]
    assert spec["diskDeploymentMode"] == "allFlash"
    assert list(spec["chunk"]["deviceMap"]) == ["dataStoreWithJournal"]


def test_no_device_map_without_disks(inv):
    clusters = topology(inv)
    assert "deviceMap" not in f.iomesh_cluster_manifests(clusters[1], f.iomesh_settings(inv.settings))[1]["spec"]["chunk"]
    assert "deviceMap" not in f.iomesh_mgmt_values(clusters[0], f.iomesh_settings(inv.settings))["iomesh"]["chunk"]


def test_three_cluster_inventory():
    inv = Inventory(sizes=(3, 3, 5))
    inv.settings["iomesh_edition"] = "enterprise"
    inv.clusters[2].update(meta_replicas=5, chunk_replicas=5, zookeeper_replicas=5, storage_class={"replica_factor": "3"})
    clusters = topology(inv)
    assert [c["name"] for c in clusters] == ["iomesh", "iomesh-cluster-1", "iomesh-cluster-2"]
    zookeeper, cr = f.iomesh_cluster_manifests(clusters[2], f.iomesh_settings(inv.settings))
    assert zookeeper["spec"]["replicas"] == 5
    assert cr["spec"]["meta"]["replicas"] == cr["spec"]["chunk"]["replicas"] == 5
    assert cr["spec"]["meta"]["podPolicy"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["w10", "w6", "w7", "w8", "w9"]
    sc = f.iomesh_csi_manifests(clusters[2], f.iomesh_settings(inv.settings))[1]
    assert sc["parameters"]["replicaFactor"] == "3"
    assert sc["parameters"]["iomeshCluster"] == "iomesh-cluster-2/iomesh-cluster-2"


def test_csi_manifests_use_settings(inv):
    inv.settings.update(iomesh_k8s_cluster_id="prod-east", iomesh_cluster_domain="k8s.example")
    inv.clusters[1]["storage_class"] = {"name": "fast", "fstype": "xfs", "reclaim_policy": "Retain",
                                        "volume_binding_mode": "WaitForFirstConsumer", "allow_volume_expansion": False}
    configmap, sc = f.iomesh_csi_manifests(topology(inv)[1], f.iomesh_settings(inv.settings))
    assert configmap["data"] == {
        "clusterId": "prod-east",
        "iscsiPortal": "127.0.0.1:3260",
        "metaAddr": "iomesh-cluster-1-meta-client.iomesh-cluster-1.svc.k8s.example:10100",
    }
    assert (sc["metadata"]["name"], sc["reclaimPolicy"], sc["volumeBindingMode"], sc["allowVolumeExpansion"]) == (
        "fast", "Retain", "WaitForFirstConsumer", False)
    assert sc["parameters"]["csi.storage.k8s.io/fstype"] == "xfs"


def test_node_label_key_reaches_every_block(inv):
    inv.settings["iomesh_node_label_key"] = "example.com/node"
    clusters = topology(inv)
    values = f.iomesh_mgmt_values(clusters[0], f.iomesh_settings(inv.settings))
    zk = values["iomesh"]["zookeeper"]["podPolicy"]["affinity"]
    assert zk["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]["topologyKey"] == "example.com/node"
    for part in ("meta", "chunk", "redirector"):
        expr = values["iomesh"][part]["podPolicy"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert expr["nodeSelectorTerms"][0]["matchExpressions"][0]["key"] == "example.com/node"
    # An additional cluster: its ZookeeperCluster's node affinity and anti-affinity follow the key too.
    zookeeper, _cluster = f.iomesh_cluster_manifests(clusters[1], f.iomesh_settings(inv.settings))
    affinity = zookeeper["spec"]["pod"]["affinity"]
    terms = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"][0]["key"] == "example.com/node"
    anti = affinity["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
    assert anti["topologyKey"] == "example.com/node"


# --- the seed inventory gives the seed's YAML with its known errors fixed ------------------------------------

def _topology(seed):
    return f.iomesh_topology(seed["clusters"], seed["groups"], seed["hostvars"], seed["settings"])


def test_seed_mgmt_values_equal_fixed_seed(seed_inventory):
    mgmt = _topology(seed_inventory)[0]
    assert f.iomesh_mgmt_values(mgmt, f.iomesh_settings(seed_inventory["settings"])) == fixture_yaml("seed/mgmt-values.yaml")[0]


def test_seed_additional_cluster_manifests_equal_fixed_seed(seed_inventory):
    second = _topology(seed_inventory)[1]
    zookeeper, iomesh_cluster = f.iomesh_cluster_manifests(second, f.iomesh_settings(seed_inventory["settings"]))
    assert zookeeper == fixture_yaml("seed/iomesh-cluster-1-zookeeper.yaml")[0]
    assert iomesh_cluster == fixture_yaml("seed/iomesh-cluster-1.yaml")[0]


def test_seed_csi_manifests_equal_fixed_seed(seed_inventory):
    rendered = []
    for cluster in _topology(seed_inventory):
        rendered += f.iomesh_csi_manifests(cluster, f.iomesh_settings(seed_inventory["settings"]))
    assert rendered == fixture_yaml("seed/csi.yaml")[0]
    for storage_class in rendered[1::2]:
        assert "reclaimPolicy" not in storage_class["parameters"]
        assert storage_class["reclaimPolicy"] == "Delete"


def test_seed_output_is_valid_yaml_without_tabs(seed_inventory):
    clusters = _topology(seed_inventory)
    docs = [f.iomesh_mgmt_values(clusters[0], f.iomesh_settings(seed_inventory["settings"]))]
    docs += f.iomesh_cluster_manifests(clusters[1], f.iomesh_settings(seed_inventory["settings"]))
    for cluster in clusters:
        docs += f.iomesh_csi_manifests(cluster, f.iomesh_settings(seed_inventory["settings"]))
    text = yaml.safe_dump_all(docs)
    assert "\t" not in text
    assert list(yaml.safe_load_all(text)) == docs


def test_output_is_byte_stable_whatever_the_input_order(seed_inventory):
    def render(groups, hostvars):
        clusters = f.iomesh_topology(seed_inventory["clusters"], groups, hostvars, seed_inventory["settings"])
        out = [f.iomesh_mgmt_values(clusters[0], f.iomesh_settings(seed_inventory["settings"]))]
        out += f.iomesh_cluster_manifests(clusters[1], f.iomesh_settings(seed_inventory["settings"]))
        out += [f.iomesh_csi_manifests(c, f.iomesh_settings(seed_inventory["settings"])) for c in clusters]
        return json.dumps(out), yaml.safe_dump(out)

    first = render(seed_inventory["groups"], seed_inventory["hostvars"])
    rng = random.Random(7)
    for _round in range(5):
        groups = {k: rng.sample(v, len(v)) for k, v in seed_inventory["groups"].items()}
        hostvars = dict(rng.sample(sorted(seed_inventory["hostvars"].items()), len(seed_inventory["hostvars"])))
        assert render(groups, hostvars) == first


def test_redirector_and_toolbox_images_are_copied_from_the_management_cluster(inv):
    mgmt_cr = {"spec": {
        "redirector": {"image": {"repository": "harbor.example/iomesh/zbs-iscsi-redirectord", "tag": "v5.6.0-rc112-enterprise"}},
        "toolbox": {"image": {"repository": "harbor.example/iomesh/operator-toolbox", "tag": "v1.2.0",
                              "pullPolicy": "Always"}},
    }}
    spec = f.iomesh_cluster_manifests(topology(inv)[1], f.iomesh_settings(inv.settings), mgmt_cr)[1]["spec"]
    assert spec["redirector"]["image"] == {"repository": "harbor.example/iomesh/zbs-iscsi-redirectord",
                                           "tag": "v5.6.0-rc112-enterprise", "pullPolicy": "IfNotPresent"}
    assert spec["toolbox"] == {"image": {"repository": "harbor.example/iomesh/operator-toolbox", "tag": "v1.2.0",
                                         "pullPolicy": "Always"}}
    assert spec["meta"]["image"] == {"repository": "iomesh/zbs-metad", "tag": "v5.3.0-rc13-community",
                                     "pullPolicy": "IfNotPresent"}


def test_empty_shared_fields_of_the_management_cluster_are_not_copied(inv):
    mgmt_cr = {"spec": {"version": "v5.6.0-rc112", "edition": "", "platform": None}}
    spec = f.iomesh_cluster_manifests(topology(inv)[1], f.iomesh_settings(inv.settings), mgmt_cr)[1]["spec"]
    assert (spec["version"], "edition" in spec, "platform" in spec, "cpuExclusiveOptions" in spec) == (
        "v5.6.0-rc112", False, False, False)


@pytest.mark.parametrize("mgmt_zk", [
    {"spec": {"image": "iomesh/zookeeper:3.5.9-20", "pod": {"resources": {}}}},
    {"spec": {"image": None, "pod": {"resources": []}}},
])
def test_unusable_management_zookeeper_image_and_resources_give_the_chart_defaults(inv, mgmt_zk):
    zookeeper = f.iomesh_cluster_manifests(topology(inv)[1], f.iomesh_settings(inv.settings), None, mgmt_zk)[0]
    assert zookeeper["spec"]["image"] == {"repository": "iomesh/zookeeper", "tag": "3.5.9", "pullPolicy": "IfNotPresent"}
    assert zookeeper["spec"]["pod"]["resources"] == {"limits": {"cpu": "400m", "memory": "2000Mi"},
                                                     "requests": {"cpu": "400m", "memory": "2000Mi"}}


def test_mgmt_manifests_refusal_word_for_word_and_api_versions_filled_in(inv):
    mgmt = topology(inv)[0]
    with pytest.raises(AnsibleFilterError) as err:
        f.iomesh_mgmt_manifests("", mgmt)
    assert str(err.value) == (
        "iomesh_mgmt_manifests: the chart rendered no ZookeeperCluster iomesh-zookeeper and no IOMeshCluster iomesh "
        "with iomesh.create: true; the chart at iomesh_chart_ref / iomesh_chart_repo_url is not an IOMesh chart this "
        "collection supports")
    rendered = yaml.safe_dump_all([
        {"kind": "IOMeshCluster", "metadata": {"name": "iomesh"}, "spec": {"edition": "community"}},
        {"kind": "ZookeeperCluster", "metadata": {"name": "iomesh-zookeeper"}, "spec": {"replicas": 3}},
    ])
    zookeeper, cr = f.iomesh_mgmt_manifests(rendered, mgmt)
    assert (zookeeper["apiVersion"], cr["apiVersion"]) == ("zookeeper.pravega.io/v1beta1", "iomesh.com/v1alpha1")
    rendered = rendered.replace("kind: IOMeshCluster", "apiVersion: iomesh.com/v1\nkind: IOMeshCluster")
    assert f.iomesh_mgmt_manifests(rendered, mgmt)[1]["apiVersion"] == "iomesh.com/v1"
