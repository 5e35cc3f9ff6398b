"""The disks of the testbed's nodes (from the testbed config) and the BlockDevice objects NDM makes of them.

Config (all optional; see ../PLUGIN_CONTRACT.md, "Disks"):

    nodes:
      - name: k8s-woker-0
        disks:                        # replaces the default layout for this node ([] = no disks)
          - path: /dev/sdb            # required
            driveType: SSD            # SSD | HDD (default HDD)
            size: 400G                # bytes or a quantity (G/T decimal, Gi/Ti binary)
            serial: S3Z8NB0K401234    # default: derived from node name and path (stable)
            vendor: ATA
            model: SAMSUNG MZ7LH400
            fsType: ext4              # a filesystem is on the disk
            mountPoint: /             # it is mounted there (NDM's OS-disk filter looks at this)
            deviceType: disk          # NDM deviceType (disk, partition, ...)
    iomeshTwin:
      defaultDisks: [...]             # layout of nodes without `disks` (default: DEFAULT_LAYOUT)
      formattedDisk:                  # a default-layout disk that carries a filesystem (null: none)
        node: k8s-woker-5             # default: the last node of the config
        path: /dev/sdd
        fsType: ext4
"""

from __future__ import annotations

import copy
import hashlib

from .util import NDM_AV, bytes_of

DEFAULT_LAYOUT = [
    # The OS disk: NDM's os-disk-exclude filter hides it (mounted at /).
    {"path": "/dev/sda", "driveType": "SSD", "size": "128G", "vendor": "ATA", "model": "INTEL SSDSC2KB120G8",
     "fsType": "ext4", "mountPoint": "/"},
    {"path": "/dev/sdb", "driveType": "SSD", "size": "400G", "vendor": "ATA", "model": "SAMSUNG MZ7LH400"},
    {"path": "/dev/sdc", "driveType": "HDD", "size": "2T", "vendor": "ATA", "model": "ST2000NM0055-1V4104"},
    {"path": "/dev/sdd", "driveType": "HDD", "size": "2T", "vendor": "ATA", "model": "ST2000NM0055-1V4104"},
]


def _serial(node: str, path: str, drive: str) -> str:
    h = hashlib.sha1(f"{node}:{path}".encode()).hexdigest().upper()
    return ("S4" + h[:12]) if drive == "SSD" else ("ZA" + h[:6])


def node_disks(config: dict, node_index: int) -> list[dict]:
    """The disks of one node of the config, with every field filled in."""
    nodes = config.get("nodes") or []
    spec = nodes[node_index]
    name = spec["name"]
    twin = config.get("iomeshTwin") or {}
    if spec.get("disks") is not None:
        raw = copy.deepcopy(spec["disks"])
    else:
        raw = copy.deepcopy(twin.get("defaultDisks") or DEFAULT_LAYOUT)
        fmt = twin.get("formattedDisk", {"node": nodes[-1]["name"] if nodes else None, "path": "/dev/sdd",
                                         "fsType": "ext4"})
        if fmt and fmt.get("node") == name:
            for d in raw:
                if d["path"] == fmt.get("path"):
                    d["fsType"] = fmt.get("fsType", "ext4")
    out = []
    for i, d in enumerate(raw):
        drive = d.get("driveType", "HDD")
        letter_index = i + 1
        disk = {
            "node": name,
            "path": d["path"],
            "driveType": drive,
            "size": bytes_of(d.get("size", "1T")),
            "serial": str(d.get("serial") or _serial(name, d["path"], drive)),
            "vendor": d.get("vendor", "ATA"),
            "model": d.get("model", "SAMSUNG MZ7LH400" if drive == "SSD" else "ST2000NM0055-1V4104"),
            "fsType": d.get("fsType", ""),
            "mountPoint": d.get("mountPoint", ""),
            "deviceType": d.get("deviceType", "disk"),
            "byPath": d.get("byPath") or f"/dev/disk/by-path/pci-0000:00:1f.2-ata-{letter_index}",
        }
        wwn = hashlib.sha1(f"wwn:{name}:{d['path']}".encode()).hexdigest()[:12]
        disk["byId"] = [f"/dev/disk/by-id/ata-{disk['model'].replace(' ', '_')}_{disk['serial']}",
                        f"/dev/disk/by-id/wwn-0x5000{wwn}"]
        out.append(disk)
    return out


def layout(config: dict) -> dict[str, list[dict]]:
    """node name -> disks (before NDM's filters). Tests use it to know serials."""
    return {n["name"]: node_disks(config, i) for i, n in enumerate(config.get("nodes") or [])}


def blockdevice_name(node: str, disk: dict) -> str:
    """NDM's gpt uuid scheme: blockdevice-<md5 of the device's stable identity>, stable per node+serial."""
    return "blockdevice-" + hashlib.md5(f"{node}/{disk['serial']}/{disk['model']}".encode()).hexdigest()


def ndm_filters(config_text: str | None) -> dict:
    """The filterconfigs of NDM's node-disk-manager.config (ConfigMap iomesh-openebs-ndm-config)."""
    import yaml
    out = {"os": [], "vendors": [], "include": [], "exclude": []}
    try:
        conf = yaml.safe_load(config_text or "") or {}
    except yaml.YAMLError:
        return out
    for f in conf.get("filterconfigs") or []:
        if str(f.get("state")).lower() != "true":
            continue
        split = lambda v: [x.strip() for x in str(v or "").split(",") if x.strip()]  # noqa: E731
        if f.get("key") == "os-disk-exclude-filter":
            out["os"] = split(f.get("exclude"))
        elif f.get("key") == "vendor-filter":
            out["vendors"] = split(f.get("exclude"))
        elif f.get("key") == "path-filter":
            out["include"] = split(f.get("include"))
            out["exclude"] = split(f.get("exclude"))
    return out


def visible(disk: dict, filters: dict) -> bool:
    """NDM's filters: OS disk (mounted at /, /boot, ...), excluded vendors, path include/exclude (substring)."""
    if disk["mountPoint"] and disk["mountPoint"] in filters["os"]:
        return False
    if disk["vendor"] in filters["vendors"]:
        return False
    if filters["include"] and not any(p in disk["path"] for p in filters["include"]):
        return False
    return not any(p in disk["path"] for p in filters["exclude"])


def blockdevice(disk: dict, namespace: str) -> dict:
    ssd = disk["driveType"] == "SSD"
    labels = {
        "iomesh.com/bd-devicePath": disk["path"].lstrip("/").replace("/", "."),
        "iomesh.com/bd-deviceType": disk["deviceType"],
        "iomesh.com/bd-driverType": disk["driveType"],
        "iomesh.com/bd-serial": disk["serial"],
        "iomesh.com/bd-vendor": disk["vendor"],
        "kubernetes.io/hostname": disk["node"],
        "ndm.io/blockdevice-type": "blockdevice",
        "ndm.io/managed": "true",
    }
    spec = {
        "capacity": {"storage": disk["size"], "logicalSectorSize": 512, "physicalSectorSize": 512 if ssd else 4096},
        "details": {"compliance": "SPC-4", "deviceType": disk["deviceType"], "driveType": disk["driveType"],
                    "firmwareRevision": "HXT7404Q" if ssd else "SN05", "hardwareSectorSize": 512,
                    "logicalBlockSize": 512, "physicalBlockSize": 512 if ssd else 4096, "model": disk["model"],
                    "serial": disk["serial"], "vendor": disk["vendor"]},
        "devlinks": [{"kind": "by-id", "links": list(disk["byId"])}, {"kind": "by-path", "links": [disk["byPath"]]}],
        "filesystem": {"fsType": disk["fsType"], "mountPoint": disk["mountPoint"]} if disk["fsType"] else {},
        "nodeAttributes": {"nodeName": disk["node"]},
        "partitioned": "No",
        "path": disk["path"],
    }
    return {"apiVersion": NDM_AV, "kind": "BlockDevice",
            "metadata": {"name": blockdevice_name(disk["node"], disk), "namespace": namespace, "labels": labels,
                         "annotations": {"internal.openebs.io/uuid-scheme": "gpt"}},
            "spec": spec, "status": {"claimState": "Unclaimed", "state": "Active"}}
