"""report_model: what the live state is and how it compares with the objects the stages render.

Live objects are written out here as the API returns them; every expected value is a literal.
"""

from __future__ import annotations

import pytest
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import plan, report_model

from ..conftest import Inventory

MGMT_META_ADDR = "iomesh-meta-client.iomesh-system.svc.cluster.local:10100"
OTHER_META_ADDR = "iomesh-cluster-1-meta-client.iomesh-cluster-1.svc.cluster.local:10100"


@pytest.fixture
def clusters():
    """A 3-node management cluster and a 5-node enterprise cluster with its own replicas and StorageClass."""
    inv = Inventory(sizes=(3, 5))
    inv.settings = {"iomesh_edition": "enterprise"}
    inv.clusters[1].update(meta_replicas=5, chunk_replicas=4,
                           storage_class={"reclaim_policy": "Retain", "replica_factor": "3"})
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


@pytest.fixture
def settings():
    return {**plan.default_settings(), "iomesh_edition": "enterprise", "iomesh_k8s_cluster_id": "prod-k8s"}


def pod(name, ns, node, ready=True):
    return {"metadata": {"name": name, "namespace": ns}, "spec": {"nodeName": node},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def storage_class(**override):
    sc = {
        "metadata": {"name": "iomesh-cluster-1"},
        "provisioner": "com.iomesh.csi-driver",
        "parameters": {"iomeshCluster": "iomesh-cluster-1/iomesh-cluster-1",
                       "clusterConnection": "iomesh-cluster-1/iomesh-cluster-1-csi-configmap",
                       "replicaFactor": "3", "thinProvision": "true", "csi.storage.k8s.io/fstype": "ext4"},
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
    }
    sc.update(override)
    return sc


def configmap(name, ns, cluster_id="prod-k8s", meta_addr=OTHER_META_ADDR):
    return {"metadata": {"name": name, "namespace": ns},
            "data": {"clusterId": cluster_id, "iscsiPortal": "127.0.0.1:3260", "metaAddr": meta_addr}}


def other_cluster_crs(ready_zk=3):
    return {
        "iomesh_clusters": [{"metadata": {"name": "iomesh-cluster-1", "namespace": "iomesh-cluster-1"},
                             "status": {"summary": {"metaSummary": {"leader": "10.234.1.13:10100"}}}}],
        "zookeeper_clusters": [{"metadata": {"name": "iomesh-cluster-1-zookeeper", "namespace": "iomesh-cluster-1"},
                                "spec": {"replicas": 3}, "status": {"readyReplicas": ready_zk}}],
    }


def cluster_view(view, name):
    return next(c for c in view["clusters"] if c["name"] == name)


# --- what the stages apply ------------------------------------------------------------------------------------

def test_desired_of_an_additional_cluster_is_its_rendered_crs_and_csi_objects(clusters, settings):
    want = report_model.desired(clusters[1], settings)
    assert want["iomesh_cluster"] == "iomesh-cluster-1"
    assert want["zookeeper_cluster"] == "iomesh-cluster-1-zookeeper"
    assert want["replicas"] == {"meta": 5, "chunk": 4, "zookeeper": 3, "redirector": 5}
    assert want["configmap"]["metadata"]["name"] == "iomesh-cluster-1-csi-configmap"
    assert want["configmap"]["metadata"]["namespace"] == "iomesh-cluster-1"
    assert want["configmap"]["data"] == {"clusterId": "prod-k8s", "iscsiPortal": "127.0.0.1:3260",
                                         "metaAddr": OTHER_META_ADDR}
    sc = want["storage_class"]
    assert (sc["metadata"]["name"], sc["provisioner"], sc["reclaimPolicy"]) == \
        ("iomesh-cluster-1", "com.iomesh.csi-driver", "Retain")
    assert sc["parameters"]["replicaFactor"] == "3"
    assert want["pod_patterns"]["iscsi-redirector"] == "^iomesh-cluster-1-iscsi-redirector-[a-z0-9]+$"


def test_desired_of_the_management_cluster_reads_the_helm_values(clusters, settings):
    want = report_model.desired(clusters[0], settings)
    assert (want["iomesh_cluster"], want["zookeeper_cluster"]) == ("iomesh", "iomesh-zookeeper")
    assert want["replicas"] == {"meta": 3, "chunk": 3, "zookeeper": 3, "redirector": 3}
    assert want["configmap"]["data"]["metaAddr"] == MGMT_META_ADDR
    assert want["pod_patterns"]["meta"] == "^iomesh-meta-[0-9]+$"


# --- judging the live state against it ------------------------------------------------------------------------

def test_storage_class_is_judged_against_the_rendered_one_with_api_defaults(clusters, settings):
    # Written without reclaimPolicy, volumeBindingMode and allowVolumeExpansion: the API server stores its defaults.
    live = storage_class(parameters={**storage_class()["parameters"], "replicaFactor": "2"})
    for field in ("reclaimPolicy", "volumeBindingMode", "allowVolumeExpansion"):
        del live[field]
    view = report_model.build(clusters, {"storage_classes": [live]}, None, settings)
    sc = cluster_view(view, "iomesh-cluster-1")["storage_class"]
    assert sc["found"] is True
    assert sc["fields"] == {
        "provisioner": "com.iomesh.csi-driver",
        "iomeshCluster": "iomesh-cluster-1/iomesh-cluster-1",
        "clusterConnection": "iomesh-cluster-1/iomesh-cluster-1-csi-configmap",
        "replicaFactor": "2",
        "thinProvision": "true",
        "csi.storage.k8s.io/fstype": "ext4",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": False,
    }
    assert "iomesh-cluster-1: StorageClass iomesh-cluster-1: replicaFactor is 2, the inventory says 3; reclaimPolicy " \
           "is Delete, the inventory says Retain; allowVolumeExpansion is False, the inventory says True." \
        in view["problems"]


def test_storage_class_as_the_stage_wrote_it_is_no_problem(clusters, settings):
    view = report_model.build(clusters, {"storage_classes": [storage_class()]}, None, settings)
    assert cluster_view(view, "iomesh-cluster-1")["storage_class"]["mismatches"] == []
    assert not [p for p in view["problems"] if "StorageClass iomesh-cluster-1" in p]


def test_configmap_cluster_id_is_judged_only_when_the_settings_are_known(clusters, settings):
    observed = {"configmaps": [configmap("iomesh-cluster-1-csi-configmap", "iomesh-cluster-1", "k8s-cluster"),
                               configmap("iomesh-csi-configmap", "iomesh-system", "k8s-cluster", MGMT_META_ADDR)]}
    known = report_model.problems(clusters, observed, None, settings)
    assert "iomesh-cluster-1: CSI ConfigMap iomesh-cluster-1/iomesh-cluster-1-csi-configmap: clusterId is k8s-cluster, " \
           "expected prod-k8s." in known
    assert "iomesh: CSI ConfigMap iomesh-system/iomesh-csi-configmap: clusterId is k8s-cluster, expected prod-k8s." \
        in known
    unknown = report_model.problems(clusters, observed, None)
    assert not [p for p in unknown if "clusterId" in p]


def test_configmap_differences_are_listed_in_a_fixed_order(clusters):
    live = configmap("iomesh-cluster-1-csi-configmap", "iomesh-cluster-1", "", "old:10100")
    live["data"]["iscsiPortal"] = ""
    view = report_model.build(clusters, {"configmaps": [live]}, None)
    assert cluster_view(view, "iomesh-cluster-1")["configmap"]["mismatches"] == [
        f"metaAddr is old:10100, expected {OTHER_META_ADDR}",
        "iscsiPortal is empty, expected 127.0.0.1:3260",
        "clusterId is empty",
    ]


def test_configmap_is_looked_up_where_the_live_storage_class_points(clusters):
    live_sc = storage_class(parameters={**storage_class()["parameters"], "clusterConnection": "elsewhere/conn"})
    view = report_model.build(clusters, {"storage_classes": [live_sc], "configmaps": []}, None)
    cm = cluster_view(view, "iomesh-cluster-1")["configmap"]
    assert (cm["namespace"], cm["name"], cm["found"]) == ("elsewhere", "conn", False)
    assert "iomesh-cluster-1: CSI ConfigMap elsewhere/conn does not exist (stage iomesh_csi not run)." in view["problems"]


def test_replica_counts_come_from_the_rendered_crs(clusters):
    ns = "iomesh-cluster-1"
    pods = [pod(f"iomesh-cluster-1-meta-{i}", ns, f"w{3 + i}") for i in range(3)]
    pods += [pod(f"iomesh-cluster-1-chunk-{i}", ns, f"w{3 + i}") for i in range(4)]
    pods += [pod(f"iomesh-cluster-1-zookeeper-{i}", ns, f"w{3 + i}") for i in range(3)]
    pods += [pod(f"iomesh-cluster-1-iscsi-redirector-r{i}", ns, f"w{3 + i}") for i in range(5)]
    view = report_model.build(clusters, {"pods": pods, **other_cluster_crs()}, None)
    own = [p for p in view["problems"] if p.startswith("iomesh-cluster-1:") and "pods ready" in p]
    assert own == ["iomesh-cluster-1: 3 of 5 meta pods ready."]


def test_pods_are_sorted_by_the_names_pod_patterns(clusters):
    ns = "iomesh-cluster-1"
    pods = [pod("iomesh-cluster-1-meta-0", ns, "w3"), pod("iomesh-cluster-1-iscsi-redirector-x9z", ns, "w4"),
            pod("iomesh-cluster-1-metadata-0", ns, "w3"), pod("iomesh-cluster-1-meta-a", ns, "w3"),
            pod("iomesh-meta-0", ns, "w3")]
    view = report_model.build(clusters, {"pods": pods}, None)
    found = cluster_view(view, "iomesh-cluster-1")["pods"]["pods"]
    assert [(p["name"], p["component"]) for p in found] == [
        ("iomesh-cluster-1-iscsi-redirector-x9z", "redirector"), ("iomesh-cluster-1-meta-0", "meta")]


def test_zookeeper_is_looked_up_by_its_rendered_name(clusters):
    observed = other_cluster_crs()
    observed["zookeeper_clusters"][0]["metadata"]["name"] = "zk"
    view = report_model.build(clusters, observed, None)
    assert "iomesh-cluster-1: ZookeeperCluster iomesh-cluster-1/iomesh-cluster-1-zookeeper does not exist." \
        in view["problems"]
    observed = other_cluster_crs(ready_zk=1)
    view = report_model.build(clusters, observed, None)
    assert cluster_view(view, "iomesh-cluster-1")["zookeeper"] == {
        "name": "iomesh-cluster-1-zookeeper", "found": True, "ready": 1, "replicas": 3}
    assert "iomesh-cluster-1: ZooKeeper iomesh-cluster-1-zookeeper: 1 of 3 replicas ready." in view["problems"]


def test_block_device_matched_by_its_serial_label(clusters):
    inv = Inventory()
    for host in inv.hostvars:
        inv.hostvars[host]["iomesh_disks"] = [{"serial": f"SN-{host}", "mount_type": "dataStoreWithJournal"}]
    inv.clusters[0]["disk_deployment_mode"] = "allFlash"
    inv.clusters[1]["disk_deployment_mode"] = "allFlash"
    clusters = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)
    bd = {"metadata": {"name": "blockdevice-1", "namespace": "iomesh-system",
                       "labels": {"iomesh.com/bd-serial": "SN-w0", "iomesh.multicluster/cluster": "iomesh",
                                  "iomesh.multicluster/mount-type": "dataStoreWithJournal"}},
          "spec": {"nodeAttributes": {"nodeName": "w0"}, "path": "/dev/sdx", "details": {}},
          "status": {"claimState": "Unclaimed", "state": "Active"}}
    view = report_model.build(clusters, {"block_devices": [bd]}, None)
    rows = [r for r in cluster_view(view, "iomesh")["disks"]["rows"] if r["node"] == "w0"]
    assert [(r["block_device"], r["declared"], r["label_cluster"]) for r in rows] == \
        [("blockdevice-1", "serial SN-w0 as dataStoreWithJournal", "iomesh")]


def test_block_device_found_on_its_node_by_the_hostname_label_as_the_disk_stage_finds_it():
    # The disk stage reads a BlockDevice's node from spec.nodeAttributes.nodeName, else from its kubernetes.io/hostname
    # label (docs/architecture.md#blockdevices-live-in-the-management-namespace); so does the report.
    inv = Inventory()
    for host in inv.hostvars:
        inv.hostvars[host]["iomesh_disks"] = [{"serial": f"SN-{host}", "mount_type": "dataStoreWithJournal"}]
    inv.clusters[0]["disk_deployment_mode"] = "allFlash"
    inv.clusters[1]["disk_deployment_mode"] = "allFlash"
    clusters = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)
    bd = {"metadata": {"name": "blockdevice-2", "namespace": "iomesh-system",
                       "labels": {"kubernetes.io/hostname": "w1"}},
          "spec": {"path": "/dev/sdy", "details": {"serial": "SN-w1"}},
          "status": {"claimState": "Unclaimed", "state": "Active"}}
    view = report_model.build(clusters, {"block_devices": [bd]}, None)
    rows = [r for r in cluster_view(view, "iomesh")["disks"]["rows"] if r["block_device"] == "blockdevice-2"]
    assert [(r["node"], r["declared"]) for r in rows] == [("w1", "serial SN-w1 as dataStoreWithJournal")]


def test_words_of_the_view():
    words = [report_model.existence(x) for x in (True, False, None)]
    assert words == ["exists", "missing", "unknown (could not be read)"]
    row = {"path": "", "serial": "", "block_device": "", "declared": "serial S1 as dataStore"}
    assert report_model.disk_name(row) == "serial S1 as dataStore"
    assert report_model.disk_name({**row, "serial": "S1"}) == "S1"
    assert report_model.disk_name({**row, "path": "/dev/sdb", "serial": "S1"}) == "/dev/sdb"
    assert report_model.COMPONENT_NAMES == ("meta", "chunk", "redirector", "zookeeper")


# --- disks: declared, labelled and attached -------------------------------------------------------------------

def block_device(name, node, ns="vault-system", path="", serial="", labels=None, claim="Unclaimed", fs="", size=None,
                 links=None):
    spec = {"nodeAttributes": {"nodeName": node}, "path": path,
            "details": {"serial": serial, "driveType": "SSD"} if serial else {}}
    if size is not None:
        spec["capacity"] = {"storage": size}
    if fs:
        spec["filesystem"] = {"fsType": fs}
    if links:
        spec["devlinks"] = [{"kind": "by-path", "links": ["/dev/disk/by-path/pci-0000:00:1f.2-ata-1"]},
                            {"kind": "by-id", "links": links}]
    return {"metadata": {"name": name, "namespace": ns, "labels": labels or {}}, "spec": spec,
            "status": {"claimState": claim, "state": "Active"}}


@pytest.fixture
def vault():
    """A management cluster `vault` in `vault-system` (w0-w2) declaring disks by path, by-id link and serial."""
    inv = Inventory()
    inv.clusters[0].update(name="vault", namespace="vault-system", disk_deployment_mode="allFlash")
    inv.clusters[1]["name"] = "archive"
    inv.hostvars["w0"]["iomesh_disks"] = [{"path": "/dev/sdb", "mount_type": "dataStoreWithJournal"},
                                          {"by_id": "wwn-0x5000c5", "mount_type": "dataStoreWithJournal"}]
    inv.hostvars["w1"]["iomesh_disks"] = [{"serial": "SN-9", "mount_type": "dataStoreWithJournal"},
                                          {"path": "/dev/sdc", "mount_type": "dataStoreWithJournal"}]
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


MINE = {"iomesh.multicluster/cluster": "vault", "iomesh.multicluster/mount-type": "dataStoreWithJournal"}


def vault_state():
    bds = [
        block_device("bd-a", "w0", path="/dev/sdb", labels=MINE, claim="Claimed", size=1500000000000),
        block_device("bd-b", "w0", path="/dev/sdd", links=["/dev/disk/by-id/wwn-0x5000c5"], fs="ext4", size=480103981056),
        block_device("bd-c", "w1", path="/dev/sdc", labels={"iomesh.multicluster/cluster": "archive"}, size=512),
        block_device("bd-d", "w2", path="/dev/sde", serial="SN-D", labels=MINE, fs="xfs", size="lots"),
        block_device("bd-e", "w2", path="/dev/sdf", labels={**MINE, "iomesh.multicluster/mount-type": "dataStore"},
                     claim="Claimed"),
        block_device("bd-f", "w1", path="/dev/sdg", size=2 * 10**9),
        # the same path and label, in another namespace: not one of the management namespace's BlockDevices
        block_device("bd-x", "w0", ns="elsewhere", path="/dev/sdb", labels=MINE),
    ]
    cr = {"metadata": {"name": "vault", "namespace": "vault-system"},
          "spec": {"diskDeploymentMode": "allFlash",
                   "meta": {"image": {"repository": "iomesh/zbs-metad", "tag": "v5.6.0-rc112-enterprise"}},
                   "probe": {"image": {"repository": "iomesh/operator-probe"}}},
          "status": {"summary": {"metaSummary": {"leader": "10.234.1.11:10100", "status": "Healthy",
                                                 "aliveHost": ["10.234.1.12", "10.234.1.10"]}},
                     "license": {"licenseType": "Subscription", "softwareEdition": "ENTERPRISE",
                                 "expirationDate": "2027-01-31"},
                     "readyReplicas": {"meta": 3, "chunk": 2}, "portOffset": 0,
                     "attachedDevices": [{"device": "bd-a", "mountType": "dataStoreWithJournal", "nodeName": "w0"},
                                         {"device": "bd-gone", "mountType": "cacheWithJournal", "nodeName": "w7"},
                                         {"device": "bd-e", "mountType": "dataStoreWithJournal"},
                                         {"device": "bd-f", "nodeName": "w1"}, "junk"]}}
    return {"block_devices": bds, "iomesh_clusters": [cr]}


ROW_FIELDS = ("node", "block_device", "path", "serial", "declared", "mount_type", "attached", "size", "claim_state",
              "fs_type", "label", "labelled", "label_cluster", "drive_type", "state")


def test_disk_rows_join_declarations_labels_and_attached_devices(vault):
    cv = cluster_view(report_model.build(vault, vault_state(), None), "vault")
    disks = cv["disks"]
    assert {k: v for k, v in disks.items() if k != "rows"} == {"declared": 4, "attached": 4, "read": True}
    assert all(sorted(r) == sorted(ROW_FIELDS) for r in disks["rows"])
    assert [tuple(r[k] for k in ROW_FIELDS) for r in disks["rows"]] == [
        ("w0", "bd-a", "/dev/sdb", "", "path /dev/sdb as dataStoreWithJournal", "dataStoreWithJournal",
         "dataStoreWithJournal", "1.5 TB", "Claimed", "", "dataStoreWithJournal", True, "vault", "", "Active"),
        ("w0", "bd-b", "/dev/sdd", "", "by_id /dev/disk/by-id/wwn-0x5000c5 as dataStoreWithJournal",
         "dataStoreWithJournal", "", "480.1 GB", "Unclaimed", "ext4", "", False, "", "", "Active"),
        ("w1", "", "", "SN-9", "serial SN-9 as dataStoreWithJournal", "dataStoreWithJournal", "", "", "", "", "", False,
         "", "", ""),
        ("w1", "bd-c", "/dev/sdc", "", "path /dev/sdc as dataStoreWithJournal", "dataStoreWithJournal", "", "512 B",
         "Unclaimed", "", "", True, "archive", "", "Active"),
        # attached without a mount type, not labelled nor declared: shown with "?"
        ("w1", "bd-f", "/dev/sdg", "", "", "?", "?", "2 GB", "Unclaimed", "", "", False, "", "", "Active"),
        ("w2", "bd-d", "/dev/sde", "SN-D", "", "dataStoreWithJournal", "", "lots", "Unclaimed", "xfs",
         "dataStoreWithJournal", True, "vault", "SSD", "Active"),
        ("w2", "bd-e", "/dev/sdf", "", "", "dataStore", "dataStoreWithJournal", "?", "Claimed", "", "dataStore", True,
         "vault", "", "Active"),
        # attached, but no such BlockDevice: named by the device the status gives, on the node it gives
        ("w7", "bd-gone", "", "", "", "cacheWithJournal", "cacheWithJournal", "", "", "", "", False, "", "", ""),
    ]
    assert cv["problems"] == [
        "ZookeeperCluster vault-system/vault-zookeeper does not exist.",
        "0 of 3 meta pods ready.",
        "0 of 3 chunk pods ready.",
        "0 of 3 redirector pods ready.",
        "0 of 3 zookeeper pods ready.",
        "declared disk /dev/sdd on w0 (bd-b) is not labelled yet (stage iomesh_disks not run).",
        "declared disk serial SN-9 as dataStoreWithJournal on w1: no BlockDevice on that node matches it "
        "(node-disk-manager does not report it).",
        "declared disk /dev/sdc on w1 (bd-c) is labelled for cluster archive.",
        "disk /dev/sde on w2 (bd-d) is labelled for it but not claimed (claimState Unclaimed; it carries a xfs "
        "filesystem).",
        "disk /dev/sdf on w2 is attached as dataStoreWithJournal, declared as dataStore.",
        "disk bd-gone on w7 is attached but w7 is not one of its nodes.",
        "StorageClass vault does not exist (stage iomesh_csi not run).",
        "CSI ConfigMap vault-system/vault-csi-configmap does not exist (stage iomesh_csi not run).",
    ]


def test_iomesh_cluster_status_as_the_report_reads_it(vault):
    cr = cluster_view(report_model.build(vault, vault_state(), None), "vault")["cr"]
    assert cr == {
        "images": "zbs v5.6.0-rc112-enterprise",
        "leader": "10.234.1.11:10100",
        "meta_status": "Healthy",
        "alive_hosts": ["10.234.1.10", "10.234.1.12"],
        "ready": {"meta": 3, "chunk": 2, "iscsi-redirector": None},
        "license": "Subscription ENTERPRISE, expires 2027-01-31",
        "port_offset": 0,
        "mode": "allFlash",
        "attached": [{"device": "bd-a", "mountType": "dataStoreWithJournal", "nodeName": "w0"},
                     {"device": "bd-gone", "mountType": "cacheWithJournal", "nodeName": "w7"},
                     {"device": "bd-e", "mountType": "dataStoreWithJournal"},
                     {"device": "bd-f", "nodeName": "w1"}],
        "leader_pod": "",
        "leader_node": "",
    }


def test_no_block_device_at_all_blames_no_declared_disk(vault):
    """node-disk-manager reports no BlockDevice yet: the declared disks are listed, not each said to be unmatched."""
    state = vault_state()
    state["block_devices"] = []
    state["iomesh_clusters"][0]["status"]["attachedDevices"] = []
    cv = cluster_view(report_model.build(vault, state, None), "vault")
    assert [r["declared"] for r in cv["disks"]["rows"]] == [
        "by_id /dev/disk/by-id/wwn-0x5000c5 as dataStoreWithJournal", "path /dev/sdb as dataStoreWithJournal",
        "serial SN-9 as dataStoreWithJournal", "path /dev/sdc as dataStoreWithJournal"]
    assert [(r["node"], r["path"], r["serial"]) for r in cv["disks"]["rows"]] == [
        ("w0", "", ""), ("w0", "/dev/sdb", ""), ("w1", "", "SN-9"), ("w1", "/dev/sdc", "")]
    assert not [p for p in cv["problems"] if "disk" in p]


def test_objects_of_the_same_name_in_another_namespace_are_not_the_clusters(vault):
    """An IOMeshCluster and a CSI ConfigMap named like vault's, but in another namespace: vault is not deployed."""
    observed = {"iomesh_clusters": [{"metadata": {"name": "vault", "namespace": "iomesh-system"}}],
                "configmaps": [configmap("vault-csi-configmap", "default", meta_addr="x:10100")]}
    view = report_model.build(vault, observed, None)
    cv = cluster_view(view, "vault")
    assert (cv["cr_found"], cv["configmap"]["found"]) == (False, False)
    assert view["outside"] == ["iomesh-system/vault"]
    assert "vault: CSI ConfigMap vault-system/vault-csi-configmap does not exist (stage iomesh_csi not run)." \
        in view["problems"]


def test_configmap_keys_left_out_are_empty(vault, settings):
    live = {"metadata": {"name": "vault-csi-configmap", "namespace": "vault-system"},
            "data": {"metaAddr": "vault-meta-client.vault-system.svc.cluster.local:10100"}}
    view = report_model.build(vault, {"configmaps": [live]}, None, settings)
    cm = cluster_view(view, "vault")["configmap"]
    assert cm["data"] == {"clusterId": "", "iscsiPortal": "",
                          "metaAddr": "vault-meta-client.vault-system.svc.cluster.local:10100"}
    assert "vault: CSI ConfigMap vault-system/vault-csi-configmap: iscsiPortal is empty, expected 127.0.0.1:3260; " \
           "clusterId is empty, expected prod-k8s." in view["problems"]


def test_cluster_connection_names_the_namespace_before_the_first_slash(vault):
    live_sc = storage_class(metadata={"name": "archive"},
                            parameters={**storage_class()["parameters"], "clusterConnection": "ops/csi/extra"})
    cm = cluster_view(report_model.build(vault, {"storage_classes": [live_sc]}, None), "archive")["configmap"]
    assert (cm["namespace"], cm["name"], cm["found"]) == ("ops", "csi/extra", False)


# --- pods, ZooKeeper, release, verification -----------------------------------------------------------------------

def archive_deployed(pods):
    """archive (w3-w5, namespace `archive`) deployed with a leader; its ZookeeperCluster reports replicas only in status;
    a ZookeeperCluster of the same name in another namespace is all ready."""
    return {
        "iomesh_clusters": [{"metadata": {"name": "archive", "namespace": "archive"},
                             "status": {"summary": {"metaSummary": {"leader": "10.234.1.13:10100"}}}}],
        "zookeeper_clusters": [
            {"metadata": {"name": "archive-zookeeper", "namespace": "aaa-other"}, "spec": {"replicas": 3},
             "status": {"readyReplicas": 3}},
            {"metadata": {"name": "archive-zookeeper", "namespace": "archive"}, "status": {"replicas": 3}},
        ],
        "pods": pods,
    }


def test_pods_per_node_and_what_is_wrong_with_them(vault):
    terminating = pod("archive-meta-2", "archive", "w4")
    terminating["metadata"]["deletionTimestamp"] = "2026-12-05T08:00:00Z"
    pods = [pod("archive-meta-0", "aaa-other", "w5", ready=False),  # another namespace: not archive's
            pod("archive-meta-0", "archive", "w3"), pod("archive-meta-1", "archive", "w3"), terminating,
            pod("archive-iscsi-redirector-a1", "archive", "w3"), pod("archive-iscsi-redirector-b2", "archive", "w4", False),
            pod("archive-chunk-1", "archive", "w8"), pod("archive-chunk-0", "archive", "w8"),
            pod("archive-zookeeper-0", "archive", "w5")]
    cv = cluster_view(report_model.build(vault, archive_deployed(pods), None), "archive")
    empty = [0, 0]
    assert cv["pods"]["per_node"] == {
        "w3": {"meta": [2, 2], "chunk": empty, "redirector": [1, 1], "zookeeper": empty},
        "w4": {"meta": [0, 1], "chunk": empty, "redirector": [0, 1], "zookeeper": empty},
        "w5": {"meta": empty, "chunk": empty, "redirector": empty, "zookeeper": [1, 1]},
        "w8": {"meta": empty, "chunk": [2, 2], "redirector": empty, "zookeeper": empty},
    }
    assert cv["pods"]["elsewhere"] == ["w8"]
    assert [(p["name"], p["ready"], p["state"]) for p in cv["pods"]["pods"]] == [
        ("archive-chunk-0", True, "Ready"), ("archive-chunk-1", True, "Ready"),
        ("archive-iscsi-redirector-a1", True, "Ready"), ("archive-iscsi-redirector-b2", False, "Running, not ready"),
        ("archive-meta-0", True, "Ready"), ("archive-meta-1", True, "Ready"),
        ("archive-meta-2", False, "Terminating"), ("archive-zookeeper-0", True, "Ready")]
    assert cv["zookeeper"] == {"name": "archive-zookeeper", "found": True, "ready": 0, "replicas": 3}
    assert cv["problems"] == [
        "ZooKeeper archive-zookeeper: 0 of 3 replicas ready.",
        "pods on node w8, which is not one of its nodes: archive-chunk-0, archive-chunk-1.",
        "pod archive-iscsi-redirector-b2 on w4 is Running, not ready.",
        "pod archive-meta-2 on w4 is Terminating.",
        "2 of 3 meta pods ready.",
        "2 of 3 chunk pods ready.",
        "1 of 3 redirector pods ready.",
        "1 of 3 zookeeper pods ready.",
        "no ready iSCSI redirector on w4, w5.",
        "no disk is attached: the cluster has no storage capacity (no iomesh_disks declared for its hosts).",
        "StorageClass archive does not exist (stage iomesh_csi not run).",
        "CSI ConfigMap archive/archive-csi-configmap does not exist (stage iomesh_csi not run).",
    ]


@pytest.mark.parametrize("release, expected, problem", [
    (None, {"found": None, "chart": "", "app_version": "", "revision": "", "status": ""}, None),
    ({}, {"found": False, "chart": "", "app_version": "", "revision": "", "status": ""},
     "Helm release vault is not installed in namespace vault-system (stage iomesh_mgmt not run)."),
    ({"chart": "iomesh-v1.0.1"}, {"found": True, "chart": "iomesh-v1.0.1", "app_version": "", "revision": "",
                                  "status": "unknown"}, "Helm release vault is unknown, not deployed."),
    ({"chart": "iomesh-v1.0.2", "app_version": "v5.3.1", "revision": 7, "status": "pending-upgrade"},
     {"found": True, "chart": "iomesh-v1.0.2", "app_version": "v5.3.1", "revision": "7", "status": "pending-upgrade"},
     "Helm release vault is pending-upgrade, not deployed."),
])
def test_release_as_helm_reports_it(vault, release, expected, problem):
    view = report_model.build(vault, {"release": release}, None)
    assert view["release"] == {"name": "vault", "namespace": "vault-system", **expected}
    assert [p for p in view["problems"] if p.startswith("Helm")] == ([problem] if problem else [])


def test_without_a_management_cluster_the_release_is_unnamed(vault):
    view = report_model.build(vault[1:], {}, None)
    assert view["release"] == {"name": "?", "namespace": "?", "found": False, "chart": "", "app_version": "",
                               "revision": "", "status": ""}
    assert view["problems"][0] == "Helm release ? is not installed in namespace ? (stage iomesh_mgmt not run)."


def test_verification_result_without_a_result_or_message(vault):
    results = ["junk", {"result": "passed"}, {"cluster": "archive", "pvc": "c", "pv_nodes": ["w5", "w3"]}]
    view = report_model.build(vault, {}, results)
    assert cluster_view(view, "archive")["verify"] == {
        "namespace": None, "storage_class": None, "pvc": "c", "phase": None, "pv": None, "driver": None, "pod": None,
        "pod_node": None, "message": None, "result": "unknown", "pv_nodes": ["w3", "w5"], "within_cluster_nodes": None,
        "cluster_nodes": ["w3", "w4", "w5"]}
    assert cluster_view(view, "vault")["verify"] == {"result": "no result for this cluster in this run",
                                                     "cluster_nodes": ["w0", "w1", "w2"]}
    assert report_model.problems(vault, {}, results)[-1] == "archive: verification unknown: no message"


def test_a_disk_attached_under_no_device_name(vault):
    state = vault_state()
    state["iomesh_clusters"][0]["status"]["attachedDevices"] = [{"mountType": "dataStoreWithJournal", "nodeName": "w9"}]
    problems = cluster_view(report_model.build(vault, state, None), "vault")["problems"]
    assert "disk ? on w9 is attached but w9 is not one of its nodes." in problems


def test_storage_class_without_parameters(vault):
    live = {"metadata": {"name": "vault"}, "provisioner": "com.iomesh.csi-driver"}
    view = report_model.build(vault, {"storage_classes": [live]}, None)
    assert "vault: StorageClass vault: iomeshCluster is None, the inventory says vault-system/vault; clusterConnection " \
           "is None, the inventory says vault-system/vault-csi-configmap; replicaFactor is None, the inventory says 2; " \
           "thinProvision is None, the inventory says true; csi.storage.k8s.io/fstype is None, the inventory says ext4; " \
           "allowVolumeExpansion is False, the inventory says True." in view["problems"]


def test_iomesh_clusters_outside_the_inventory_by_namespace_then_name(vault):
    crs = [{"metadata": {"name": "a", "namespace": "b-ns"}}, {"metadata": {"name": "z", "namespace": "a-ns"}}]
    assert report_model.build(vault, {"iomesh_clusters": crs}, None)["outside"] == ["a-ns/z", "b-ns/a"]


@pytest.mark.parametrize("value, text", [
    (10**12, "1 TB"), (1536 * 10**9, "1.5 TB"), (999999999999, "1000 GB"), (10**9, "1 GB"), (10**6, "1 MB"),
    (2500000, "2.5 MB"), (999999, "999999 B"), (0, "0 B"), ("4000000", "4 MB"), ("big", "big"), (None, "?"), ("", "?"),
])
def test_disk_sizes_in_decimal_units(value, text):
    assert report_model._size(value) == text  # pylint: disable=protected-access
