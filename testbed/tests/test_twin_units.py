"""The twin's pure parts without an emulator: disk layout config, NDM filters, webhook rules, CrashLoopBackOff."""

from __future__ import annotations

import datetime

import twin_helpers  # noqa: F401  (puts testbed on sys.path)
from iomesh_twin import disks, register
from iomesh_twin.pods import crash_loop
from iomesh_twin.webhook import spec_problems

CHART_FILTERS = """
filterconfigs:
  - key: os-disk-exclude-filter
    state: true
    exclude: "/,/etc/hosts,/boot"
  - key: vendor-filter
    state: true
    include: ""
    exclude: "ZBS"
  - key: path-filter
    state: true
    include: ""
    exclude: "/dev/fd0,/dev/sr0,/dev/ram,/dev/dm-,/dev/md,loop"
"""


def test_default_layout():
    cfg = {"nodes": [{"name": f"n{i}"} for i in range(3)]}
    lay = disks.layout(cfg)
    assert [d["path"] for d in lay["n0"]] == ["/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd"]
    assert [(d["driveType"], d["size"]) for d in lay["n0"][1:]] == [("SSD", 400 * 10**9), ("HDD", 2 * 10**12),
                                                                    ("HDD", 2 * 10**12)]
    assert [d["fsType"] for d in lay["n2"]] == ["ext4", "", "", "ext4"], "root disk + the formatted HDD"
    assert [d["fsType"] for d in lay["n0"]] == ["ext4", "", "", ""]
    assert len({d["serial"] for ds in lay.values() for d in ds}) == 12
    assert disks.layout(cfg) == lay, "serials and names are stable"


def test_configured_layout_and_filters():
    cfg = {"nodes": [{"name": "a", "disks": [
        {"path": "/dev/nvme0n1", "driveType": "SSD", "size": "960G", "serial": "NVME1"},
        {"path": "/dev/dm-0", "size": "1Ti"},
        {"path": "/dev/sdx", "vendor": "ZBS", "size": "10G"}]}, {"name": "b", "disks": []}],
        "iomeshTwin": {"formattedDisk": None}}
    lay = disks.layout(cfg)
    assert lay["b"] == []
    f = disks.ndm_filters(CHART_FILTERS)
    seen = [d for d in lay["a"] if disks.visible(d, f)]
    assert [d["path"] for d in seen] == ["/dev/nvme0n1"], "device-mapper and IOMesh (ZBS) LUNs are filtered"
    bd = disks.blockdevice(seen[0], "iomesh-system")
    assert bd["spec"]["capacity"]["storage"] == 960 * 10**9
    assert bd["metadata"]["labels"]["iomesh.com/bd-serial"] == "NVME1"
    assert bd["metadata"]["labels"]["iomesh.com/bd-devicePath"] == "dev.nvme0n1"
    assert bd["metadata"]["name"] == disks.blockdevice_name("a", seen[0])
    assert disks.visible(disks.layout({"nodes": [{"name": "z"}]})["z"][0], f) is False, "OS disk"


def test_webhook_mode_rules():
    def cr(mode, *types):
        return {"spec": {"diskDeploymentMode": mode, "chunk": {"deviceMap": {t: {} for t in types}}}}
    assert spec_problems(cr("hybridFlash", "cacheWithJournal", "dataStore")) == []
    assert spec_problems(cr("allFlash", "dataStoreWithJournal")) == []
    assert spec_problems(cr("hybridFlash", "dataStoreWithJournal"))
    assert len(spec_problems(cr("allFlash", "cacheWithJournal", "rawCache", "dataStoreWithJournal"))) == 2


def test_crash_loop_backoff_grows():
    pod = {"metadata": {"name": "p", "namespace": "n", "uid": "u", "creationTimestamp": "2026-01-01T00:00:00Z"},
           "spec": {"containers": [{"name": "a"}, {"name": "csi-driver"}]}}
    t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    counts = [crash_loop(pod, "csi-driver", "x", t0 + datetime.timedelta(seconds=s))["containers"]["csi-driver"]
              ["restartCount"] for s in (0, 15, 35, 75, 1000)]
    assert counts == sorted(counts) and counts[0] == 1 and counts[-1] > counts[2]
    state = crash_loop(pod, "csi-driver", "x", t0)
    assert state["ready"] is False and state["containers"]["a"] == {"ready": True}
    assert state["containers"]["csi-driver"]["state"]["waiting"]["reason"] == "CrashLoopBackOff"


def test_register_follows_the_contract():
    controllers, hooks, pod_hooks = register({"config": {"nodes": [{"name": "a"}]}})
    assert all(c.name and c.watches and callable(c.reconcile) for c in controllers)
    assert [h.name for h in hooks] == ["iomesh-twin-webhook"]
    assert all(callable(h.pod_state) for h in pod_hooks)
