"""disks (through iomesh_disk_plan / iomesh_disk_waits): every rule of the disk stage."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_disks as fd
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import readiness


NS = "iomesh-system"


CLUSTER = "iomesh.multicluster/cluster"


MOUNT = "iomesh.multicluster/mount-type"


GB = 1000 ** 3


def bd(node, path, serial, drive="HDD", size=2000 * GB, fs="", state="Active", claim="Unclaimed", labels=None,
       device_type="disk", claim_ref=None, name=None):
    """A BlockDevice as NDM reports it (the twin's shape, which is the CRD's)."""
    spec = {
        "capacity": {"storage": size},
        "details": {"deviceType": device_type, "driveType": drive, "serial": serial, "model": "M"},
        "devlinks": [{"kind": "by-id", "links": [f"/dev/disk/by-id/ata-M_{serial}"]},
                     {"kind": "by-path", "links": [f"/dev/disk/by-path/pci-0000:00:1f.2-{node}{path[-1]}"]}],
        "filesystem": {"fsType": fs} if fs else {},
        "nodeAttributes": {"nodeName": node},
        "path": path,
    }
    if claim_ref:
        spec["claimRef"] = claim_ref
    return {"apiVersion": "openebs.io/v1alpha1", "kind": "BlockDevice",
            "metadata": {"name": name or f"blockdevice-{node}-{path[-3:]}", "namespace": NS,
                         "labels": {"kubernetes.io/hostname": node, **(labels or {})}},
            "spec": spec, "status": {"claimState": claim, "state": state}}


def default_bds():
    """Every node w0..w5: /dev/sdb SSD 400 GB, /dev/sdc HDD 2 TB."""
    out = []
    for i in range(6):
        node = f"w{i}"
        out.append(bd(node, "/dev/sdb", f"SSD{i}", drive="SSD", size=400 * GB))
        out.append(bd(node, "/dev/sdc", f"HDD{i}"))
    return out


def declare(inv, hosts=None, ssd=lambda i: {"serial": f"SSD{i}"}, hdd=lambda i: {"serial": f"HDD{i}"}):
    for host in hosts or [f"w{i}" for i in range(6)]:
        i = int(host[1:])
        inv.hostvars[host]["iomesh_disks"] = [{**ssd(i), "mount_type": "cacheWithJournal"},
                                              {**hdd(i), "mount_type": "dataStore"}]


def clusters_of(inv):
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


HOSTNAME = "kubernetes.io/hostname"


# spec.chunk.deviceMap as the mgmt/cluster stages leave it on each IOMeshCluster of the synthetic inventory (hosts w0..w2
# in cluster iomesh, w3..w5 in iomesh-cluster-1, each declaring a cacheWithJournal SSD and a dataStore HDD): one label
# selector per mount type, guarded on the hostnames of the cluster's nodes (domain doc section 7.2/7.3), written out here
# rather than rendered, so that the plan's deviceMap check is judged against a fixed shape.
DEVICE_MAPS = {
    "iomesh": {
        "cacheWithJournal": {"selector": {
            "matchExpressions": [{"key": HOSTNAME, "operator": "In", "values": ["w0", "w1", "w2"]}],
            "matchLabels": {"iomesh.multicluster/cluster": "iomesh", "iomesh.multicluster/mount-type": "cacheWithJournal"}}},
        "dataStore": {"selector": {
            "matchExpressions": [{"key": HOSTNAME, "operator": "In", "values": ["w0", "w1", "w2"]}],
            "matchLabels": {"iomesh.multicluster/cluster": "iomesh", "iomesh.multicluster/mount-type": "dataStore"}}},
    },
    "iomesh-cluster-1": {
        "cacheWithJournal": {"selector": {
            "matchExpressions": [{"key": HOSTNAME, "operator": "In", "values": ["w3", "w4", "w5"]}],
            "matchLabels": {"iomesh.multicluster/cluster": "iomesh-cluster-1",
                            "iomesh.multicluster/mount-type": "cacheWithJournal"}}},
        "dataStore": {"selector": {
            "matchExpressions": [{"key": HOSTNAME, "operator": "In", "values": ["w3", "w4", "w5"]}],
            "matchLabels": {"iomesh.multicluster/cluster": "iomesh-cluster-1", "iomesh.multicluster/mount-type": "dataStore"}}},
    },
}


def cr(cluster, key=None, attached=(), device_map=None):
    """The IOMeshCluster as the mgmt/cluster stages leave it: the literal deviceMap above (or one guarded on `key`)."""
    if device_map is None:
        device_map = copy.deepcopy(DEVICE_MAPS[cluster["name"]])
        for entry in device_map.values() if key else ():
            entry["selector"]["matchExpressions"][0]["key"] = key
    return {"metadata": {"name": cluster["name"], "namespace": cluster["namespace"]},
            "spec": {"chunk": {"deviceMap": device_map}},
            "status": {"attachedDevices": list(attached)}}


def plan(inv, bds, crs="rendered"):
    clusters = clusters_of(inv)
    if crs == "rendered":
        crs = [cr(c) for c in clusters if c["mount_types"]]
    return fd.iomesh_disk_plan(clusters, bds, f.iomesh_settings(inv.settings), crs)


def only_error(result, *fragments):
    assert len(result["errors"]) == 1, result["errors"]
    for fragment in fragments:
        assert fragment in result["errors"][0], result["errors"][0]
    return result["errors"][0]


# --- the normal case -------------------------------------------------------------------------------------


def test_every_declared_disk_is_planned(inv):
    declare(inv)
    result = plan(inv, default_bds())
    assert result["errors"] == [] and result["warnings"] == []
    assert len(result["labels"]) == 12
    first = result["labels"][0]
    assert first == {"name": "blockdevice-w0-sdb", "namespace": NS, "cluster": "iomesh", "node": "w0",
                     "mount_type": "cacheWithJournal", "path": "/dev/sdb", "changed": True,
                     "labels": {CLUSTER: "iomesh", MOUNT: "cacheWithJournal"}}
    assert result["expected"]["iomesh-cluster-1"] == sorted(
        f"blockdevice-w{i}-{d}" for i in (3, 4, 5) for d in ("sdb", "sdc"))
    assert {item["cluster"] for item in result["labels"] if item["node"] in ("w3", "w4", "w5")} == {"iomesh-cluster-1"}
    assert any("deviceMap of IOMeshCluster iomesh-cluster-1/iomesh-cluster-1" in n and "left unchanged" in n
               for n in result["notes"])


def test_disks_named_by_id_and_path(inv):
    declare(inv, ssd=lambda i: {"by_id": f"ata-M_SSD{i}"}, hdd=lambda i: {"path": "/dev/sdc"})
    result = plan(inv, default_bds())
    assert result["errors"] == []
    names = [item["name"] for item in result["labels"] if item["node"] == "w4"]
    assert names == ["blockdevice-w4-sdb", "blockdevice-w4-sdc"]


def test_labelled_disks_are_unchanged(inv):
    declare(inv)
    bds = default_bds()
    # What the previous run left: every disk labelled for the cluster of its node and for the mount type of its path,
    # and claimed by IOMesh (the BlockDeviceClaim is named like the BlockDevice).
    for target in bds:
        node, name = target["spec"]["nodeAttributes"]["nodeName"], target["metadata"]["name"]
        target["metadata"]["labels"].update({CLUSTER: "iomesh" if node in ("w0", "w1", "w2") else "iomesh-cluster-1",
                                             MOUNT: {"/dev/sdb": "cacheWithJournal", "/dev/sdc": "dataStore"}[target["spec"]["path"]]})
        target["status"]["claimState"] = "Claimed"
        target["spec"]["claimRef"] = {"name": name, "namespace": NS}
    result = plan(inv, bds)
    assert result["errors"] == [] and len(result["labels"]) == 12
    assert not any(item["changed"] for item in result["labels"])


def test_disk_attached_to_its_own_cluster_without_labels_is_accepted(inv):
    declare(inv)
    bds = default_bds()
    bds[6]["status"]["claimState"] = "Claimed"   # w3 /dev/sdb
    clusters = clusters_of(inv)
    crs = [cr(clusters[0]), cr(clusters[1], attached=[{"device": "blockdevice-w3-sdb", "mountType": "cacheWithJournal",
                                                       "nodeName": "w3"}])]
    result = fd.iomesh_disk_plan(clusters, bds, f.iomesh_settings(inv.settings), crs)
    assert result["errors"] == []
    assert next(i for i in result["labels"] if i["name"] == "blockdevice-w3-sdb")["changed"]


def test_unclaimed_disk_of_the_same_cluster_may_change_mount_type(inv):
    declare(inv)
    bds = default_bds()
    bds[1]["metadata"]["labels"].update({CLUSTER: "iomesh", MOUNT: "rawCache"})   # w0 /dev/sdc, not mounted
    result = plan(inv, bds)
    assert result["errors"] == []
    assert next(i for i in result["labels"] if i["name"] == "blockdevice-w0-sdc")["changed"]


def test_cluster_without_disks_has_nothing_to_do(inv):
    declare(inv, hosts=["w0", "w1", "w2"])
    result = plan(inv, default_bds())
    assert result["errors"] == []
    assert "cluster iomesh-cluster-1: no host declares iomesh_disks; nothing to mount for this cluster." in result["notes"]
    assert "iomesh-cluster-1" not in result["expected"]
    assert {item["cluster"] for item in result["labels"]} == {"iomesh"}


def test_without_iomesh_clusters_the_device_map_is_not_judged(inv):
    declare(inv)
    result = fd.iomesh_disk_plan(clusters_of(inv), default_bds(), f.iomesh_settings(inv.settings))
    assert result["errors"] == [] and not any("deviceMap" in n for n in result["notes"])


# --- refusals --------------------------------------------------------------------------------------------


def test_filesystem_is_refused_with_manual_wipe_steps(inv):
    declare(inv)
    bds = default_bds()
    bds[11]["spec"]["filesystem"] = {"fsType": "ext4", "mountPoint": "/data"}   # w5 /dev/sdc
    result = plan(inv, bds)
    assert "blockdevice-w5-sdc" not in [item["name"] for item in result["labels"]]
    assert "blockdevice-w5-sdc" not in result["expected"]["iomesh-cluster-1"]
    message = only_error(result, "cluster iomesh-cluster-1, host w5", "serial 'HDD5' (dataStore)",
                         "blockdevice-w5-sdc (/dev/sdc", "ext4 filesystem, mounted on /data",
                         "never wipes", "on node w5 run `wipefs --all /dev/sdc`",
                         "delete pod -l app=openebs-ndm --field-selector spec.nodeName=w5")
    assert message.startswith("cluster iomesh-cluster-1, host w5, iomesh_disks serial 'HDD5' (dataStore): ")


def test_unknown_serial_is_refused_listing_what_ndm_sees(inv):
    declare(inv)
    inv.hostvars["w4"]["iomesh_disks"][1] = {"serial": "NOPE", "mount_type": "dataStore"}
    only_error(plan(inv, default_bds()), "host w4", "serial 'NOPE'", "no BlockDevice in namespace iomesh-system",
               "on node w4", "NDM reports on this node: /dev/sdb serial SSD4, /dev/sdc serial HDD4", "get blockdevice")


def test_node_without_any_blockdevice(inv):
    declare(inv)
    bds = [b for b in default_bds() if b["spec"]["nodeAttributes"]["nodeName"] != "w1"]
    result = plan(inv, bds)
    assert len(result["errors"]) == 2
    assert all("NDM reports no BlockDevice at all on node w1" in e for e in result["errors"])


def test_disk_on_another_node_is_refused(inv):
    declare(inv)
    inv.hostvars["w0"]["iomesh_disks"][1] = {"serial": "HDD3", "mount_type": "dataStore"}
    # Only w0 declares HDD3 (declaring it on both hosts is refused by the inventory check already); w3 names its
    # HDD by path instead.
    inv.hostvars["w3"]["iomesh_disks"] = [d if d.get("serial") != "HDD3" else {"path": "/dev/sdc", "mount_type": "dataStore"}
                                          for d in inv.hostvars["w3"]["iomesh_disks"]]
    result = plan(inv, default_bds())
    errors = [e for e in result["errors"] if "host w0" in e]
    assert len(errors) == 1, result["errors"]
    assert "is not on node w0: NDM reports it on node w3" in errors[0]


def test_two_entries_naming_the_same_disk_are_refused(inv):
    declare(inv)
    inv.hostvars["w2"]["iomesh_disks"].append({"path": "/dev/sdc", "mount_type": "dataStore"})
    only_error(plan(inv, default_bds()), "cluster iomesh, host w2, iomesh_disks serial 'HDD2' (dataStore): names "
               "BlockDevice blockdevice-w2-sdc (/dev/sdc, HDD, 2000.0 GB) on node w2, as does iomesh_disks path "
               "'/dev/sdc' (dataStore); list each disk once.")


def test_inactive_disk_is_refused(inv):
    declare(inv)
    bds = default_bds()
    bds[0]["status"]["state"] = "Inactive"
    only_error(plan(inv, bds), "host w0", "blockdevice-w0-sdb", "is Inactive, not Active")


def test_stale_inactive_device_with_the_same_path_is_ignored(inv):
    declare(inv, hdd=lambda i: {"path": "/dev/sdc"})
    bds = default_bds() + [bd("w1", "/dev/sdc", "OLD", state="Inactive", name="blockdevice-w1-old")]
    result = plan(inv, bds)
    assert result["errors"] == []
    assert "blockdevice-w1-sdc" in result["expected"]["iomesh"]


def test_ambiguous_path_is_refused(inv):
    declare(inv, hdd=lambda i: {"path": "/dev/sdc"})
    bds = default_bds() + [bd("w1", "/dev/sdc", "OTHER", name="blockdevice-w1-other")]
    only_error(plan(inv, bds), "host w1", "matches 2 BlockDevices on node w1", "name the disk by serial or by_id")


def test_partition_is_refused(inv):
    declare(inv)
    bds = default_bds()
    bds[3]["spec"]["details"]["deviceType"] = "partition"
    only_error(plan(inv, bds), "host w1", "deviceType partition, not disk")


@pytest.mark.parametrize("size, refused", [(50 * GB, True), (60 * GB, True), (61 * GB, False)])
def test_journal_disk_must_exceed_60_gb(inv, size, refused):
    declare(inv)
    bds = default_bds()
    bds[2]["spec"]["capacity"]["storage"] = size   # w1 /dev/sdb, cacheWithJournal
    result = plan(inv, bds)
    if refused:
        only_error(result, "host w1", "blockdevice-w1-sdb", "cacheWithJournal needs more than 60 GB")
    else:
        assert result["errors"] == []


def test_small_datastore_disk_is_fine(inv):
    declare(inv)
    bds = default_bds()
    bds[3]["spec"]["capacity"]["storage"] = 20 * GB   # w1 /dev/sdc, dataStore
    assert plan(inv, bds)["errors"] == []


def test_hdd_as_cache_is_refused(inv):
    declare(inv)
    bds = default_bds()
    bds[4]["spec"]["details"]["driveType"] = "HDD"   # w2 /dev/sdb
    only_error(plan(inv, bds), "host w2", "is an HDD; cacheWithJournal needs an SSD")


def test_drive_type_warnings(inv):
    declare(inv)
    bds = default_bds()
    bds[4]["spec"]["details"]["driveType"] = "Unknown"
    bds[5]["spec"]["details"]["driveType"] = "SSD"
    result = plan(inv, bds)
    assert result["errors"] == []
    assert len(result["warnings"]) == 2
    assert "drive type Unknown" in result["warnings"][0] and "must be an SSD" in result["warnings"][0]
    assert "is an SSD used as dataStore" in result["warnings"][1]


def test_mount_type_the_mode_forbids_is_refused(inv):
    declare(inv)
    clusters = clusters_of(inv)
    # Preflight rejects this in the inventory already; the disk stage re-checks what it is handed.
    clusters[1]["disk_deployment_mode"] = "allFlash"
    result = fd.iomesh_disk_plan(clusters, default_bds(), f.iomesh_settings(inv.settings))
    assert len(result["errors"]) == 3   # the SSDs of w3..w5; dataStore is allowed in allFlash
    assert all("(cacheWithJournal): mount_type cacheWithJournal is rejected in allFlash mode" in e
               for e in result["errors"])
    assert {i["node"] for i in result["labels"] if i["cluster"] == "iomesh-cluster-1"} == {"w3", "w4", "w5"}


def test_disk_labelled_for_another_cluster_is_refused(inv):
    declare(inv)
    bds = default_bds()
    bds[7]["metadata"]["labels"].update({CLUSTER: "iomesh", MOUNT: "dataStore"})   # w3 /dev/sdc
    message = only_error(plan(inv, bds), "cluster iomesh-cluster-1, host w3", "blockdevice-w3-sdc",
                         "labelled for another IOMesh cluster (iomesh.multicluster/cluster=iomesh",
                         "claim state Unclaimed", "kubectl -n iomesh-system label blockdevice blockdevice-w3-sdc")
    assert "wipefs" not in message


def test_disk_mounted_by_another_cluster_is_refused(inv):
    declare(inv)
    bds = default_bds()
    bds[6]["status"]["claimState"] = "Claimed"
    bds[6]["spec"]["claimRef"] = {"name": "blockdevice-w3-sdb", "namespace": NS}
    clusters = clusters_of(inv)
    crs = [cr(clusters[0], attached=[{"device": "blockdevice-w3-sdb", "mountType": "cacheWithJournal",
                                      "nodeName": "w3"}]), cr(clusters[1])]
    only_error(fd.iomesh_disk_plan(clusters, bds, f.iomesh_settings(inv.settings), crs), "cluster iomesh-cluster-1, host w3",
               "blockdevice-w3-sdb", "already mounted by IOMesh cluster iomesh-system/iomesh (as cacheWithJournal)")


def test_disk_claimed_by_something_else_is_refused(inv):
    declare(inv)
    bds = default_bds()
    bds[8]["status"]["claimState"] = "Claimed"   # w4 /dev/sdb
    bds[8]["spec"]["claimRef"] = {"name": "bdc-localpv-1", "namespace": NS}
    only_error(plan(inv, bds), "host w4", "blockdevice-w4-sdb", "already Claimed by iomesh-system/bdc-localpv-1",
               "which is not IOMesh cluster iomesh-cluster-1/iomesh-cluster-1")


def test_mounted_disk_may_not_change_mount_type(inv):
    declare(inv)
    bds = default_bds()
    bds[0]["metadata"]["labels"].update({CLUSTER: "iomesh", MOUNT: "rawCache"})
    bds[0]["status"]["claimState"] = "Claimed"
    only_error(plan(inv, bds), "host w0", "already mounted in iomesh as rawCache", "Declare it as rawCache")


def test_released_disk_is_refused(inv):
    declare(inv)
    bds = default_bds()
    bds[1]["status"]["claimState"] = "Released"
    only_error(plan(inv, bds), "host w0", "claim state Released, not Unclaimed")


def test_every_problem_is_reported_at_once(inv):
    declare(inv)
    inv.hostvars["w4"]["iomesh_disks"][1] = {"serial": "NOPE", "mount_type": "dataStore"}
    bds = default_bds()
    bds[11]["spec"]["filesystem"] = {"fsType": "xfs"}
    bds[0]["status"]["state"] = "Unknown"
    bds[0]["spec"]["capacity"]["storage"] = 30 * GB
    result = plan(inv, bds)
    assert len(result["errors"]) == 4, result["errors"]
    assert sum("host w0" in e for e in result["errors"]) == 2


# --- the deviceMap the earlier stages rendered ---------------------------------------------------------------


def test_missing_iomesh_cluster_is_a_problem(inv):
    declare(inv)
    clusters = clusters_of(inv)
    result = fd.iomesh_disk_plan(clusters, default_bds(), f.iomesh_settings(inv.settings), [cr(clusters[0])])
    only_error(result, "IOMeshCluster iomesh-cluster-1/iomesh-cluster-1 does not exist",
               "iomesh_cluster (playbooks/cluster.yml)")


def test_different_device_map_is_a_problem(inv):
    declare(inv)
    clusters = clusters_of(inv)
    broad = {"dataStore": {"selector": {"matchLabels": {"iomesh.com/bd-driverType": "HDD"}}}}
    result = fd.iomesh_disk_plan(clusters, default_bds(), f.iomesh_settings(inv.settings), [cr(clusters[0], device_map=broad), cr(clusters[1])])
    only_error(result, "cluster iomesh: spec.chunk.deviceMap of IOMeshCluster iomesh-system/iomesh",
               "Re-run the iomesh_mgmt (playbooks/mgmt.yml) stage", "Nothing is labelled")


def test_check_mode_verifies_the_device_map_the_earlier_stages_would_apply(inv):
    """Under --check the mgmt/cluster stages apply nothing: a deviceMap they would change (a node added to a cluster)
    is judged as rendered, so check mode finds what the run will (found by the lifecycle scenario)."""
    declare(inv)
    clusters = clusters_of(inv)
    broad = {"dataStore": {"selector": {"matchLabels": {"iomesh.com/bd-driverType": "HDD"}}}}
    live = [cr(clusters[0], device_map=broad), cr(clusters[1])]

    def rendered(cluster, **kwargs):
        return dict(cr(cluster, **kwargs), kind="IOMeshCluster")

    # A ZookeeperCluster of the same name is no IOMeshCluster.
    pending = [{"kind": "ZookeeperCluster", "metadata": {"name": "iomesh", "namespace": "iomesh-system"}},
               rendered(clusters[0])]
    settings = f.iomesh_settings(inv.settings)
    assert fd.iomesh_disk_plan(clusters, default_bds(), settings, live, pending)["errors"] == []
    # Without it (the disk stage alone), or with another cluster's rendering, the live one is judged.
    assert fd.iomesh_disk_plan(clusters, default_bds(), settings, live)["errors"]
    assert fd.iomesh_disk_plan(clusters, default_bds(), settings, live, [rendered(clusters[1])])["errors"]
    assert fd.iomesh_disk_plan(clusters, default_bds(), settings, live, pending[:1])["errors"]
    # A rendering that differs is judged as such.
    wrong = rendered(clusters[1], device_map=broad)
    assert fd.iomesh_disk_plan(clusters, default_bds(), settings, [cr(clusters[0]), cr(clusters[1])], [wrong])["errors"]


def test_device_map_comparison_ignores_order(inv):
    declare(inv)
    clusters = clusters_of(inv)
    mgmt = cr(clusters[0])
    for entry in mgmt["spec"]["chunk"]["deviceMap"].values():
        entry["selector"]["matchExpressions"][0]["values"].reverse()
        entry["exclude"] = []
    assert fd.iomesh_disk_plan(clusters, default_bds(), f.iomesh_settings(inv.settings), [mgmt, cr(clusters[1])])["errors"] == []


def test_device_map_guard_is_the_hostname_label_whatever_the_node_label_key(inv):
    # BlockDevices carry kubernetes.io/hostname, never the node's other labels (docs/architecture.md#disk-mapping).
    inv.settings["iomesh_node_label_key"] = "example.com/storage-node"
    declare(inv)
    clusters = clusters_of(inv)
    hostname_guarded = [cr(c) for c in clusters]
    result = fd.iomesh_disk_plan(clusters, default_bds(), f.iomesh_settings(inv.settings), hostname_guarded)
    assert result["errors"] == []
    assert any("only on kubernetes.io/hostname In [w3, w4, w5]" in note for note in result["notes"]), result["notes"]
    label_guarded = [cr(c, key="example.com/storage-node") for c in clusters]
    result = fd.iomesh_disk_plan(clusters, default_bds(), f.iomesh_settings(inv.settings), label_guarded)
    assert len(result["errors"]) == 2 and "is not the one the inventory renders" in result["errors"][0]


def test_device_map_of_clusters_with_names_of_their_own(inv):
    inv.clusters[0].update(name="vault", namespace="store-mgmt")
    inv.clusters[1].update(name="archive-2", namespace="cold-tier")
    declare(inv, hosts=["w3", "w4", "w5"])
    bds = default_bds()
    for item in bds:
        item["metadata"]["namespace"] = "store-mgmt"   # NDM's BlockDevices live in the management namespace
    clusters = clusters_of(inv)
    archive = {
        "cacheWithJournal": {"selector": {
            "matchExpressions": [{"key": HOSTNAME, "operator": "In", "values": ["w5", "w3", "w4"]}],
            "matchLabels": {"iomesh.multicluster/mount-type": "cacheWithJournal", "iomesh.multicluster/cluster": "archive-2"}}},
        "dataStore": {"selector": {
            "matchExpressions": [{"key": HOSTNAME, "operator": "In", "values": ["w4", "w5", "w3"]}],
            "matchLabels": {"iomesh.multicluster/mount-type": "dataStore", "iomesh.multicluster/cluster": "archive-2"}}},
    }
    result = fd.iomesh_disk_plan(clusters, bds, f.iomesh_settings(inv.settings), [cr(clusters[1], device_map=archive)])
    assert result["errors"] == [], result["errors"]
    assert {(i["name"], i["namespace"], i["cluster"]) for i in result["labels"] if i["node"] == "w4"} == {
        ("blockdevice-w4-sdb", "store-mgmt", "archive-2"), ("blockdevice-w4-sdc", "store-mgmt", "archive-2")}
    assert ("cluster archive-2: spec.chunk.deviceMap of IOMeshCluster cold-tier/archive-2 selects cacheWithJournal, dataStore "
            "by the labels iomesh.multicluster/cluster=archive-2 and iomesh.multicluster/mount-type=<type>, only on "
            "kubernetes.io/hostname In [w3, w4, w5], as rendered by the iomesh_cluster (playbooks/cluster.yml) stage; "
            "left unchanged.") in result["notes"]
    # The same selectors naming the namespace instead of the cluster select nothing the disk stage labels.
    by_namespace = copy.deepcopy(archive)
    for entry in by_namespace.values():
        entry["selector"]["matchLabels"]["iomesh.multicluster/cluster"] = "cold-tier"
    result = fd.iomesh_disk_plan(clusters, bds, f.iomesh_settings(inv.settings), [cr(clusters[1], device_map=by_namespace)])
    only_error(result, "cluster archive-2: spec.chunk.deviceMap of IOMeshCluster cold-tier/archive-2 is not the one")


def test_labelled_disk_no_longer_declared_is_a_warning_and_left_alone(inv):
    declare(inv)
    inv.hostvars["w5"]["iomesh_disks"] = [{"serial": "SSD5", "mount_type": "cacheWithJournal"},
                                          {"serial": "HDD5", "mount_type": "dataStore"}]
    bds = default_bds() + [bd("w5", "/dev/sdd", "HDD5B", name="blockdevice-w5-sdd",
                              labels={CLUSTER: "iomesh-cluster-1", MOUNT: "dataStore"}, claim="Claimed")]
    result = plan(inv, bds)
    assert result["errors"] == []
    (warning,) = result["warnings"]
    assert "blockdevice-w5-sdd" in warning and "no host of iomesh-cluster-1 declares it" in warning and "left as it is" in warning
    assert "blockdevice-w5-sdd" not in [i["name"] for i in result["labels"]]


# --- waits ---------------------------------------------------------------------------------------------------


def test_waits(inv):
    declare(inv, hosts=["w3", "w4", "w5"])
    clusters = clusters_of(inv)
    result = plan(inv, default_bds())
    waits = fd.iomesh_disk_waits(result, clusters)
    assert [w["check"] for w in waits] == ["blockdevices_claimed", "attached_devices"]
    claimed, attached = waits
    assert claimed["namespace"] == NS and claimed["label_selectors"] == ["iomesh.multicluster/cluster=iomesh-cluster-1"]
    assert claimed["kind"] == "BlockDevice" and claimed["api_version"] == "openebs.io/v1alpha1"
    assert attached["namespace"] == attached["name"] == attached["args"]["name"] == "iomesh-cluster-1"
    assert attached["args"]["devices"][0] == {"device": "blockdevice-w3-sdb", "node": "w3", "path": "/dev/sdb",
                                              "mount_type": "cacheWithJournal"}
    assert set(readiness.CHECKS) >= {w["check"] for w in waits}


def test_no_waits_for_a_plan_with_problems(inv):
    declare(inv)
    inv.hostvars["w4"]["iomesh_disks"][1] = {"serial": "NOPE", "mount_type": "dataStore"}
    with pytest.raises(AnsibleFilterError, match="1 problem"):
        fd.iomesh_disk_waits(plan(inv, default_bds()), clusters_of(inv))


def test_plan_does_not_modify_its_input(inv):
    declare(inv)
    bds = default_bds()
    before = copy.deepcopy(bds)
    plan(inv, bds)
    assert bds == before


# --- whole results, for clusters, namespaces and nodes with names of their own ---------------------------------------
# Cluster vault (management, namespace store-mgmt, hybridFlash) on hosts w0..w2 and cluster archive-2 (namespace
# cold-tier, allFlash) on hosts w3..w5; every host sets iomesh_node_name node-<n>, so the messages name host and node.
OWN_NS = "store-mgmt"


@pytest.fixture
def own(inv):
    inv.clusters[0].update(name="vault", namespace=OWN_NS)
    inv.clusters[1].update(name="archive-2", namespace="cold-tier", disk_deployment_mode="allFlash")
    for i in range(6):
        inv.hostvars[f"w{i}"]["iomesh_node_name"] = f"node-{i}"
    return inv


def own_bd(node, path, serial, name, **kwargs):
    """A BlockDevice of the management namespace store-mgmt."""
    item = bd(node, path, serial, name=name, **kwargs)
    item["metadata"]["namespace"] = OWN_NS
    return item


def vault_bds():
    """node-0 of vault: an 800 GB NVMe SSD and a 4 TB HDD."""
    return [own_bd("node-0", "/dev/nvme0n1", "SA0", "bd-n0-cache", drive="SSD", size=800 * GB),
            own_bd("node-0", "/dev/sdd", "HA0", "bd-n0-data", size=4000 * GB)]


def declare_w0(inv, cache=None, data=None):
    inv.hostvars["w0"]["iomesh_disks"] = [{**(cache or {"serial": "SA0"}), "mount_type": "cacheWithJournal"},
                                          {**(data or {"serial": "HA0"}), "mount_type": "dataStore"}]


def own_plan(inv, bds, crs=None, clusters=None):
    clusters = clusters or clusters_of(inv)
    return fd.iomesh_disk_plan(clusters, bds, f.iomesh_settings(inv.settings), crs)


W0_CACHE = "cluster vault, host w0 (node node-0), iomesh_disks serial 'SA0' (cacheWithJournal)"
W0_DATA = "cluster vault, host w0 (node node-0), iomesh_disks serial 'HA0' (dataStore)"
CACHE_DESC = "BlockDevice bd-n0-cache (/dev/nvme0n1, SSD, 800.0 GB)"
DATA_DESC = "BlockDevice bd-n0-data (/dev/sdd, HDD, 4000.0 GB)"
WIPE_SDD = ("This collection never wipes a disk. If its data is not needed, clear it by hand: on node node-0 run "
            "`wipefs --all /dev/sdd` (and remove any partitions), then let NDM rescan with `kubectl -n store-mgmt delete "
            "pod -l app=openebs-ndm --field-selector spec.nodeName=node-0` and re-run this stage.")


def test_single_disk_cluster_whole_plan_and_waits(own):
    # vault declares nothing (and comes first); archive-2 has one dataStoreWithJournal SSD on node-4.
    own.hostvars["w4"]["iomesh_disks"] = [{"serial": "S4", "mount_type": "dataStoreWithJournal"}]
    bds = [own_bd("node-4", "/dev/sdb", "S4", "bd-n4-b", drive="SSD", size=960 * GB),
           own_bd("node-4", "/dev/sdc", "S4X", "bd-n4-c", drive="SSD", size=960 * GB)]   # not declared, not labelled
    clusters = clusters_of(own)
    archive_map = {"dataStoreWithJournal": {"selector": {
        "matchExpressions": [{"key": HOSTNAME, "operator": "In", "values": ["node-3", "node-4", "node-5"]}],
        "matchLabels": {CLUSTER: "archive-2", MOUNT: "dataStoreWithJournal"}}}}
    result = own_plan(own, bds, [cr(clusters[1], device_map=archive_map)], clusters)
    assert result == {
        "errors": [],
        "warnings": [],
        "notes": [
            "cluster vault: no host declares iomesh_disks; nothing to mount for this cluster.",
            "cluster archive-2: spec.chunk.deviceMap of IOMeshCluster cold-tier/archive-2 selects dataStoreWithJournal by "
            "the labels iomesh.multicluster/cluster=archive-2 and iomesh.multicluster/mount-type=<type>, only on "
            "kubernetes.io/hostname In [node-3, node-4, node-5], as rendered by the iomesh_cluster (playbooks/cluster.yml) "
            "stage; left unchanged.",
        ],
        "labels": [{"name": "bd-n4-b", "namespace": OWN_NS, "labels": {CLUSTER: "archive-2", MOUNT: "dataStoreWithJournal"},
                    "node": "node-4", "cluster": "archive-2", "mount_type": "dataStoreWithJournal", "path": "/dev/sdb",
                    "changed": True}],
        "expected": {"archive-2": ["bd-n4-b"]},
    }
    hint = ("if this times out, `kubectl -n cold-tier describe iomeshcluster archive-2` shows why the operator did not "
            "mount a disk")
    assert fd.iomesh_disk_waits(result, clusters) == [
        {"label": f"the declared disks of archive-2 to be Claimed ({hint})",
         "api_version": "openebs.io/v1alpha1", "kind": "BlockDevice", "namespace": OWN_NS,
         "label_selectors": ["iomesh.multicluster/cluster=archive-2"], "check": "blockdevices_claimed",
         "args": {"devices": [{"device": "bd-n4-b", "node": "node-4", "path": "/dev/sdb"}]}},
        {"label": f"the declared disks of archive-2 in status.attachedDevices of IOMeshCluster cold-tier/archive-2 ({hint})",
         "api_version": "iomesh.com/v1alpha1", "kind": "IOMeshCluster", "namespace": "cold-tier", "name": "archive-2",
         "check": "attached_devices",
         "args": {"name": "archive-2", "devices": [{"device": "bd-n4-b", "node": "node-4", "path": "/dev/sdb",
                                                    "mount_type": "dataStoreWithJournal"}]}},
    ]


def test_labels_go_to_the_namespace_of_each_blockdevice(own):
    # A BlockDevice without a namespace of its own is in the clusters' management namespace; one that names another
    # namespace is labelled there. A device without a path is planned with an empty path.
    declare_w0(own)
    cache, data = vault_bds()
    del cache["metadata"]["namespace"]
    data["metadata"]["namespace"] = "openebs"
    del data["spec"]["path"]
    result = own_plan(own, [cache, data])
    assert result["errors"] == [] and result["warnings"] == []
    assert [(i["name"], i["namespace"], i["path"]) for i in result["labels"]] == [
        ("bd-n0-data", "openebs", ""), ("bd-n0-cache", OWN_NS, "/dev/nvme0n1")]


def test_state_and_claim_state_missing(own):
    declare_w0(own)
    cache, data = vault_bds()
    data["status"] = {}
    assert own_plan(own, [cache, data])["errors"] == [
        f"{W0_DATA}: {DATA_DESC} is no state, not Active: NDM does not see the disk right now (unplugged, failed, or the "
        "known Active/Inactive flapping); check the disk and the openebs-ndm pod on node-0.",
        f"{W0_DATA}: {DATA_DESC} has claim state no claimState, not Unclaimed: NDM has not finished releasing it. Wait "
        f"for NDM to clean it up, or clear it by hand. {WIPE_SDD}",
    ]


def test_device_and_drive_type_from_the_labels_of_ndm(own):
    # Without spec.details NDM's labels say what the device is: here a disk, but an HDD, so no cache.
    declare_w0(own)
    cache, data = vault_bds()
    cache["spec"]["details"] = {"serial": "SA0"}
    cache["metadata"]["labels"].update({"iomesh.com/bd-deviceType": "disk", "iomesh.com/bd-driverType": "HDD"})
    data["spec"]["details"] = {"serial": "HA0"}
    assert own_plan(own, [cache, data])["errors"] == [
        f"{W0_CACHE}: BlockDevice bd-n0-cache (/dev/nvme0n1, drive type unknown, 800.0 GB) is an HDD; cacheWithJournal "
        "needs an SSD (hybridFlash: SSD cache + HDD dataStore; allFlash: SSDs only). Declare it as dataStore in a "
        "hybridFlash cluster, or pick an SSD.",
        f"{W0_DATA}: BlockDevice bd-n0-data (/dev/sdd, drive type unknown, 4000.0 GB) has deviceType unset, not disk: "
        "IOMesh mounts whole disks only (no partitions, LVM, device-mapper or loop devices).",
    ]


def test_filesystem_without_mount_point_on_a_device_without_path(own):
    declare_w0(own)
    cache, data = vault_bds()
    data["spec"]["filesystem"] = {"fsType": "xfs"}
    del data["spec"]["path"]
    assert own_plan(own, [cache, data])["errors"] == [
        f"{W0_DATA}: BlockDevice bd-n0-data (no path, HDD, 4000.0 GB) carries a xfs filesystem; IOMesh only takes empty "
        "disks. This collection never wipes a disk. If its data is not needed, clear it by hand: on node node-0 run "
        "`wipefs --all <device>` (and remove any partitions), then let NDM rescan with `kubectl -n store-mgmt delete pod "
        "-l app=openebs-ndm --field-selector spec.nodeName=node-0` and re-run this stage.",
    ]


def test_small_journal_disk_and_mode_forbidden_type_messages(own):
    declare_w0(own)
    cache, data = vault_bds()
    cache["spec"]["capacity"]["storage"] = 60 * GB
    clusters = clusters_of(own)
    clusters[0]["disk_deployment_mode"] = "allFlash"
    assert own_plan(own, [cache, data], clusters=clusters)["errors"] == [
        f"{W0_CACHE}: mount_type cacheWithJournal is rejected in allFlash mode; use dataStore or dataStoreWithJournal.",
        f"{W0_CACHE}: BlockDevice bd-n0-cache (/dev/nvme0n1, SSD, 60.0 GB) has 60.0 GB; cacheWithJournal needs more than "
        "60 GB (IOMesh puts a journal partition on it).",
    ]


def test_drive_type_warning_messages(own):
    declare_w0(own)
    cache, data = vault_bds()
    del cache["spec"]["details"]["driveType"]
    data["spec"]["details"]["driveType"] = "SSD"
    result = own_plan(own, [cache, data])
    assert result["errors"] == []
    assert result["warnings"] == [
        f"{W0_CACHE}: NDM reports drive type unset for BlockDevice bd-n0-cache (/dev/nvme0n1, drive type unknown, 800.0 GB); "
        "cacheWithJournal must be an SSD - make sure it is one.",
        f"{W0_DATA}: BlockDevice bd-n0-data (/dev/sdd, SSD, 4000.0 GB) is an SSD used as dataStore (capacity tier); in "
        "hybridFlash the SSDs normally serve as cacheWithJournal.",
    ]


def test_disk_mounted_by_another_cluster_message(own):
    declare_w0(own)
    cache, data = vault_bds()
    data["status"]["claimState"] = "Claimed"
    other = {"metadata": {"name": "archive-2", "namespace": "cold-tier"},
             "status": {"attachedDevices": ["garbage", {"mountType": "dataStore"}, {"device": "bd-n0-data"}]}}
    result = own_plan(own, [cache, data], [other])
    assert result["errors"] == [
        "cluster vault: IOMeshCluster store-mgmt/vault does not exist; deploy it first with the iomesh_mgmt "
        "(playbooks/mgmt.yml) stage (site.yml runs the stages in order), then this one.",
        f"{W0_DATA}: {DATA_DESC} is already mounted by IOMesh cluster cold-tier/archive-2 (as ?); a disk serves one "
        "cluster. Remove it from this host's iomesh_disks; releasing it from that cluster destroys its data and is not "
        "automated.",
    ]
    assert result["notes"] == ["cluster archive-2: no host declares iomesh_disks; nothing to mount for this cluster."]


def test_disk_labelled_for_another_cluster_message(own):
    declare_w0(own)
    cache, data = vault_bds()
    data["metadata"]["labels"].update({CLUSTER: "archive-2", MOUNT: "dataStore"})
    assert own_plan(own, [cache, data])["errors"] == [
        f"{W0_DATA}: {DATA_DESC} is labelled for another IOMesh cluster (iomesh.multicluster/cluster=archive-2, claim "
        "state Unclaimed); a disk serves one cluster. Fix the inventory, or if archive-2 no longer uses it, remove the "
        "labels by hand: `kubectl -n store-mgmt label blockdevice bd-n0-data iomesh.multicluster/cluster- "
        "iomesh.multicluster/mount-type-`.",
    ]


def test_mounted_disk_changing_mount_type_message(own):
    declare_w0(own)
    cache, data = vault_bds()
    data["metadata"]["labels"].update({CLUSTER: "vault", MOUNT: "rawCache"})
    data["status"]["claimState"] = "Claimed"
    assert own_plan(own, [cache, data])["errors"] == [
        f"{W0_DATA}: {DATA_DESC} is already mounted in vault as rawCache; changing the mount type of a mounted disk "
        "means unmounting it first, which destroys its data and is not automated. Declare it as rawCache.",
    ]


@pytest.mark.parametrize("claim, claim_ref, labels, holder", [
    ("Claimed", None, {}, "an unknown claim"),
    ("Claimed", {"name": "bdc-pg-0"}, {}, "store-mgmt/bdc-pg-0"),
    # a claimRef is a claim even before NDM updates the claim state
    ("Unclaimed", {"name": "bdc-pg-1", "namespace": "db"}, {}, "db/bdc-pg-1"),
    # a stray mount-type label without the cluster label says nothing about who holds the disk
    ("Claimed", {"name": "bdc-pg-2", "namespace": "db"}, {MOUNT: "rawCache"}, "db/bdc-pg-2"),
])
def test_disk_claimed_by_something_else_message(own, claim, claim_ref, labels, holder):
    declare_w0(own)
    cache, data = vault_bds()
    data["status"]["claimState"] = claim
    data["metadata"]["labels"].update(labels)
    if claim_ref:
        data["spec"]["claimRef"] = claim_ref
    assert own_plan(own, [cache, data])["errors"] == [
        f"{W0_DATA}: {DATA_DESC} is already {claim} by {holder}, which is not IOMesh cluster store-mgmt/vault (another "
        "IOMesh cluster, or a local PV of localpv-manager); a disk serves one user. Remove it from this host's "
        "iomesh_disks.",
    ]


def test_released_disk_message(own):
    declare_w0(own)
    cache, data = vault_bds()
    data["status"]["claimState"] = "Released"
    assert own_plan(own, [cache, data])["errors"] == [
        f"{W0_DATA}: {DATA_DESC} has claim state Released, not Unclaimed: NDM has not finished releasing it. Wait for NDM "
        f"to clean it up, or clear it by hand. {WIPE_SDD}",
    ]


def test_ambiguous_path_message_lists_the_devices_by_name(own):
    declare_w0(own, data={"path": "/dev/sdd"})
    cache, data = vault_bds()
    twin = own_bd("node-0", "/dev/sdd", "HA0-B", "bd-n0-adata", size=1000 * GB)
    assert own_plan(own, [data, twin, cache])["errors"] == [
        "cluster vault, host w0 (node node-0), iomesh_disks path '/dev/sdd' (dataStore): matches 2 BlockDevices on node "
        "node-0 (BlockDevice bd-n0-adata (/dev/sdd, HDD, 1000.0 GB); BlockDevice bd-n0-data (/dev/sdd, HDD, 4000.0 GB)); "
        "name the disk by serial or by_id so that exactly one matches.",
    ]


def test_disk_found_on_other_nodes_message(own):
    declare_w0(own, data={"by_id": "ata-M_HA0"})
    cache, data = vault_bds()
    data["spec"]["nodeAttributes"]["nodeName"] = "node-5"
    moved = own_bd("node-3", "/dev/sde", "HA0", "bd-n3-e", size=4000 * GB)
    assert own_plan(own, [data, moved, cache])["errors"] == [
        "cluster vault, host w0 (node node-0), iomesh_disks by_id '/dev/disk/by-id/ata-M_HA0' (dataStore): is not on "
        "node node-0: NDM reports it on node node-3, node-5 (BlockDevice bd-n0-data (/dev/sdd, HDD, 4000.0 GB); "
        "BlockDevice bd-n3-e (/dev/sde, HDD, 4000.0 GB)). Declare it in the host_vars of the host of that node, or fix "
        "the identifier.",
    ]


def test_path_found_only_on_other_nodes_lists_what_the_node_has(own):
    # A path names a different disk on every node, so a path seen elsewhere is simply not on this node.
    declare_w0(own, data={"path": "/dev/sdd"})
    cache, data = vault_bds()
    data["spec"]["nodeAttributes"]["nodeName"] = "node-1"
    bare = own_bd("node-0", "/dev/sda", "", "bd-n0-0bare")
    del bare["spec"]["path"]
    os_disk = own_bd("node-0", "/dev/sda", "OS0", "bd-n0-1os")
    assert own_plan(own, [os_disk, data, bare, cache])["errors"] == [
        "cluster vault, host w0 (node node-0), iomesh_disks path '/dev/sdd' (dataStore): no BlockDevice in namespace "
        "store-mgmt matches it on node node-0. NDM reports on this node: ? serial ?, /dev/nvme0n1 serial SA0, /dev/sda "
        "serial OS0. A disk NDM does not report is hidden by its filters (the OS disk, device-mapper/md/loop devices, "
        "excluded vendors or paths), sits behind a RAID controller without passthrough, or the identifier is wrong; "
        "compare with `kubectl -n store-mgmt get blockdevice -o wide`.",
    ]


def test_node_without_blockdevices_message(own):
    own.hostvars["w1"]["iomesh_disks"] = [{"serial": "SA1", "mount_type": "cacheWithJournal"},
                                          {"serial": "HA1", "mount_type": "dataStore"}]
    result = own_plan(own, vault_bds())
    assert result["errors"][0] == (
        "cluster vault, host w1 (node node-1), iomesh_disks serial 'SA1' (cacheWithJournal): no BlockDevice in namespace "
        "store-mgmt matches it on node node-1. NDM reports no BlockDevice at all on node node-1 (is the openebs-ndm pod "
        "running there, and is the node name right?). A disk NDM does not report is hidden by its filters (the OS disk, "
        "device-mapper/md/loop devices, excluded vendors or paths), sits behind a RAID controller without passthrough, or "
        "the identifier is wrong; compare with `kubectl -n store-mgmt get blockdevice -o wide`.")
    assert len(result["errors"]) == 2


def test_labelled_but_undeclared_disk_warning_message(own):
    declare_w0(own)
    cache, data = vault_bds()
    cache["metadata"]["labels"].update({CLUSTER: "vault", MOUNT: "cacheWithJournal"})   # declared: no warning
    # What NDM may report for a device it knows little about: no name, path, details or size; the hostname label only.
    stray = {"metadata": {"labels": {HOSTNAME: "node-2", CLUSTER: "vault", MOUNT: "dataStore"}}, "spec": {},
             "status": {"state": "Active"}}
    other = own_bd("node-2", "/dev/sdf", "HX2", "bd-n2-f", labels={CLUSTER: "elsewhere", MOUNT: "dataStore"})
    result = own_plan(own, [cache, data, stray, other])
    assert result["errors"] == []
    assert result["warnings"] == [
        "BlockDevice ? (no path, drive type unknown, 0.0 GB) on node node-2 is labelled for cluster vault "
        "(iomesh.multicluster/mount-type=dataStore) but no host of vault declares it; it is left as it is (removing the "
        "labels would unmount it and destroy its data). Remove the labels by hand if that is intended, or declare it "
        "again.",
    ]


def vault_map():
    """The deviceMap the mgmt stage renders for vault when node-0 declares a cacheWithJournal SSD and a dataStore HDD."""
    return {
        "cacheWithJournal": {"selector": {
            "matchExpressions": [{"key": HOSTNAME, "operator": "In", "values": ["node-0", "node-1", "node-2"]}],
            "matchLabels": {CLUSTER: "vault", MOUNT: "cacheWithJournal"}}},
        "dataStore": {"selector": {
            "matchExpressions": [{"key": HOSTNAME, "operator": "In", "values": ["node-0", "node-1", "node-2"]}],
            "matchLabels": {CLUSTER: "vault", MOUNT: "dataStore"}}},
    }


def test_device_map_difference_message_shows_both_maps_sorted(own):
    declare_w0(own)
    clusters = clusters_of(own)
    seen = {"dataStore": {"selector": {"matchLabels": {MOUNT: "dataStore", CLUSTER: "vault"}}}, "cacheWithJournal": None}
    result = own_plan(own, vault_bds(), [cr(clusters[0], device_map=seen)], clusters)
    expected = ('{"cacheWithJournal": {"selector": {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", '
                '"values": ["node-0", "node-1", "node-2"]}], "matchLabels": {"iomesh.multicluster/cluster": "vault", '
                '"iomesh.multicluster/mount-type": "cacheWithJournal"}}}, "dataStore": {"selector": {"matchExpressions": '
                '[{"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-0", "node-1", "node-2"]}], '
                '"matchLabels": {"iomesh.multicluster/cluster": "vault", "iomesh.multicluster/mount-type": "dataStore"}}}}')
    found = ('{"cacheWithJournal": null, "dataStore": {"selector": {"matchLabels": {"iomesh.multicluster/cluster": "vault", '
             '"iomesh.multicluster/mount-type": "dataStore"}}}}')
    assert result["errors"] == [
        f"cluster vault: spec.chunk.deviceMap of IOMeshCluster store-mgmt/vault is not the one the inventory renders; "
        f"expected {expected}, found {found}. Re-run the iomesh_mgmt (playbooks/mgmt.yml) stage, which renders it, then "
        "this one. Nothing is labelled while it differs: a different selector could mount disks nobody declared."]
    assert result["notes"] == ["cluster archive-2: no host declares iomesh_disks; nothing to mount for this cluster."]


def changed_map(change):
    device_map = vault_map()
    change(device_map)
    return device_map


@pytest.mark.parametrize("device_map", [
    pytest.param(changed_map(lambda m: m.pop("cacheWithJournal")), id="a mount type missing"),
    pytest.param(changed_map(lambda m: m["cacheWithJournal"].update(selector=m["dataStore"]["selector"])),
                 id="one mount type selecting the other's disks"),
    pytest.param(changed_map(lambda m: m["dataStore"].update(exclude=["blockdevice-0"])), id="an exclude list"),
    pytest.param(changed_map(lambda m: m["dataStore"]["selector"]["matchExpressions"][0].update(operator="NotIn")),
                 id="NotIn instead of In"),
    pytest.param(changed_map(lambda m: m["dataStore"]["selector"]["matchExpressions"][0].update(values=["node-0"])),
                 id="fewer nodes"),
    pytest.param(changed_map(lambda m: m["dataStore"]["selector"]["matchExpressions"][0].update(values=[])),
                 id="no nodes"),
    pytest.param(changed_map(lambda m: m["dataStore"]["selector"]["matchExpressions"][0].update(
        values=["node-0", "node-1", "node-7"])), id="another node"),
    pytest.param(changed_map(lambda m: m["dataStore"]["selector"].pop("matchLabels")), id="no labels"),
    pytest.param(changed_map(lambda m: m["dataStore"]["selector"]["matchLabels"].update({MOUNT: "rawCache"})),
                 id="another mount type label"),
    pytest.param(changed_map(lambda m: m["dataStore"]["selector"]["matchLabels"].update({"vault": "yes"})),
                 id="an extra label"),
    pytest.param(changed_map(lambda m: m["dataStore"]["selector"].update(matchLabels={"example.com/cluster": "vault", MOUNT: "dataStore"})),
                 id="another label key"),
    pytest.param(changed_map(lambda m: m.update(dataStore="all")), id="not a dictionary"),
    pytest.param(changed_map(lambda m: m.update(dataStore=None)), id="null"),
    pytest.param(["cacheWithJournal", "dataStore"], id="a list"),
])
def test_any_other_device_map_is_refused(own, device_map):
    declare_w0(own)
    clusters = clusters_of(own)
    result = own_plan(own, vault_bds(), [cr(clusters[0], device_map=device_map)], clusters)
    only_error(result, "cluster vault: spec.chunk.deviceMap of IOMeshCluster store-mgmt/vault is not the one")


def test_device_map_with_the_same_selectors_in_another_order_is_accepted(own):
    declare_w0(own)
    clusters = clusters_of(own)
    device_map = vault_map()
    device_map["dataStore"]["selector"]["matchExpressions"][0]["values"] = ["node-2", "node-0", "node-1"]
    device_map["dataStore"]["exclude"] = []
    device_map = {"dataStore": device_map["dataStore"], "cacheWithJournal": device_map["cacheWithJournal"]}
    result = own_plan(own, vault_bds(), [cr(clusters[0], device_map=device_map)], clusters)
    assert result["errors"] == []


def test_serial_from_the_label_and_path_as_a_by_path_link(own):
    # NDM's serial label stands in for spec.details.serial; a path may be any of the device's links.
    declare_w0(own, data={"path": "/dev/disk/by-path/pci-0000:00:1f.2-node-0d"})
    cache, data = vault_bds()
    del cache["spec"]["details"]["serial"]
    cache["metadata"]["labels"]["iomesh.com/bd-serial"] = "SA0"
    result = own_plan(own, [cache, data])
    assert result["errors"] == []
    assert result["expected"] == {"vault": ["bd-n0-cache", "bd-n0-data"]}


def test_by_id_names_only_the_by_id_links(own):
    # The same text among the device's other links, or as its path, is not a by-id link of it.
    declare_w0(own, data={"by_id": "wwn-0x5000c500a1b2c3d4"})
    cache, data = vault_bds()
    data["spec"]["devlinks"] = [{"kind": "by-id", "links": ["/dev/disk/by-id/ata-M_HA0"]},
                                {"kind": "by-path", "links": ["/dev/disk/by-id/wwn-0x5000c500a1b2c3d4"]}]
    data["spec"]["path"] = "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4"
    only_error(own_plan(own, [cache, data]), "iomesh_disks by_id '/dev/disk/by-id/wwn-0x5000c500a1b2c3d4' (dataStore): "
               "no BlockDevice in namespace store-mgmt matches it on node node-0.")


def test_matching_device_without_a_node_is_not_on_any_node(own):
    declare_w0(own)
    cache, data = vault_bds()
    del data["spec"]["nodeAttributes"]
    del data["metadata"]["labels"][HOSTNAME]
    only_error(own_plan(own, [cache, data]), f"{W0_DATA}: no BlockDevice in namespace store-mgmt matches it on node "
               "node-0. NDM reports on this node: /dev/nvme0n1 serial SA0. A disk")
