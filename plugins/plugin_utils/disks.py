# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which BlockDevice each declared disk is, may IOMesh take it, its labels (docs/architecture.md#disk-mapping).

Everything here is pure: callers pass the normalised clusters (topology.py), the BlockDevice objects of the
management namespace and, optionally, the IOMeshCluster objects. Every problem of every disk is reported at
once, each naming the cluster, host/node, the inventory entry and what the BlockDevice says. Nothing here
ever proposes to wipe a disk: a disk that is not empty is refused with the steps an operator takes by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import render, topology
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.constants import (
    BD_DEVICE_TYPE_LABEL, BD_DRIVE_TYPE_LABEL, BD_SERIAL_LABEL, CLUSTER_LABEL, HOSTNAME_LABEL, IOMESH_API_VERSION,
    MOUNT_TYPE_LABEL, NDM_API_VERSION,
)
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.k8s import (
    labels as _labels,
    meta as _meta,
    spec as _spec,
    status as _status,
)

# IOMesh carves a journal partition out of these disks; the docs require more than 60 GB (decimal, as disks are sold).
JOURNAL_MIN_BYTES = 60 * 1000 ** 3
JOURNAL_TYPES = ("cacheWithJournal", "dataStoreWithJournal")
SSD_TYPES = ("cacheWithJournal", "rawCache", "dataStoreWithJournal")
# The node label NDM copies onto every BlockDevice: the only one a deviceMap guard can select on
# (docs/architecture.md#disk-mapping). A BlockDevice's node is the inventory's iomesh_node_name.
NODE_LABEL = HOSTNAME_LABEL


def bd_node(bd: Mapping) -> str:
    """The node NDM found the device on (spec.nodeAttributes.nodeName; the hostname label as a fallback)."""
    return str((_spec(bd).get("nodeAttributes") or {}).get("nodeName") or _labels(bd).get(NODE_LABEL) or "")


def bd_serial(bd: Mapping) -> str:
    return str((_spec(bd).get("details") or {}).get("serial") or _labels(bd).get(BD_SERIAL_LABEL) or "")


def bd_links(bd: Mapping, kind: str | None = None) -> list[str]:
    return [str(link) for group in _spec(bd).get("devlinks") or [] if kind is None or group.get("kind") == kind
            for link in group.get("links") or []]


def bd_size(bd: Mapping) -> int:
    try:
        return int((_spec(bd).get("capacity") or {}).get("storage") or 0)
    except (TypeError, ValueError):
        return 0


def _gb(size: int) -> str:
    return f"{size / 1000 ** 3:.1f} GB"


def _describe(bd: Mapping) -> str:
    """BlockDevice <name> (<path>, <drive type>, <size>)."""
    details = _spec(bd).get("details") or {}
    parts = [str(_spec(bd).get("path") or "no path"), str(details.get("driveType") or "drive type unknown"),
             _gb(bd_size(bd))]
    return f"BlockDevice {_meta(bd).get('name', '?')} ({', '.join(parts)})"


def matches(bd: Mapping, entry: Mapping) -> bool:
    """Whether a normalised iomesh_disks entry ({id_key, id}) names this BlockDevice."""
    value = entry["id"]
    if entry["id_key"] == "serial":
        return bd_serial(bd) == value
    if entry["id_key"] == "by_id":
        return value in bd_links(bd, "by-id")
    return _spec(bd).get("path") == value or value in bd_links(bd)


def _entry_text(entry: Mapping) -> str:
    return f"iomesh_disks {entry['id_key']} {entry['id']!r} ({entry['mount_type']})"


def _wipe_hint(bd: Mapping, node: str, namespace: str) -> str:
    path = _spec(bd).get("path") or "<device>"
    return (
        "This collection never wipes a disk. If its data is not needed, clear it by hand: on node "
        f"{node} run `wipefs --all {path}` (and remove any partitions), then let NDM rescan with "
        f"`kubectl -n {namespace} delete pod -l app=openebs-ndm --field-selector spec.nodeName={node}` "
        "and re-run this stage."
    )


def _resolve(entry: Mapping, node: str, bds: Sequence[Mapping], namespace: str) -> tuple[Mapping | None, str]:
    """The one BlockDevice the entry names on `node`, or why there is none."""
    hits = [bd for bd in bds if matches(bd, entry)]
    here = [bd for bd in hits if bd_node(bd) == node]
    if len(here) > 1:
        active = [bd for bd in here if _status(bd).get("state") == "Active"]
        if len(active) == 1:  # NDM keeps stale Inactive devices that may share a path
            return active[0], ""
        found = "; ".join(_describe(bd) for bd in here)
        return None, (f"matches {len(here)} BlockDevices on node {node} ({found}); name the disk by serial or by_id "
                      "so that exactly one matches.")
    if here:
        return here[0], ""
    elsewhere = sorted({bd_node(bd) for bd in hits if bd_node(bd)})
    if elsewhere and entry["id_key"] != "path":
        return None, (f"is not on node {node}: NDM reports it on node {', '.join(elsewhere)} "
                      f"({'; '.join(_describe(bd) for bd in hits)}). Declare it in the host_vars of the host of that "
                      "node, or fix the identifier.")
    on_node = sorted((bd for bd in bds if bd_node(bd) == node), key=lambda b: str(_spec(b).get("path") or ""))
    if not on_node:
        seen = (f"NDM reports no BlockDevice at all on node {node} (is the openebs-ndm pod running there, and is "
                "the node name right?)")
    else:
        seen = "NDM reports on this node: " + ", ".join(
            f"{_spec(bd).get('path') or '?'} serial {bd_serial(bd) or '?'}" for bd in on_node)
    return None, (
        f"no BlockDevice in namespace {namespace} matches it on node {node}. {seen}. A disk NDM does not report "
        "is hidden by its filters (the OS disk, device-mapper/md/loop devices, excluded vendors or paths), sits "
        f"behind a RAID controller without passthrough, or the identifier is wrong; compare with "
        f"`kubectl -n {namespace} get blockdevice -o wide`."
    )


def _holders(iomesh_clusters: Sequence[Mapping] | None) -> dict[str, tuple[str, Mapping]]:
    """BlockDevice name -> (namespace/name of the IOMeshCluster that lists it as attached, the attachment)."""
    out: dict[str, tuple[str, Mapping]] = {}
    for cr in iomesh_clusters or []:
        ref = f"{_meta(cr).get('namespace', '')}/{_meta(cr).get('name', '')}"
        for attached in _status(cr).get("attachedDevices") or []:
            if isinstance(attached, Mapping) and attached.get("device"):
                out.setdefault(str(attached["device"]), (ref, attached))
    return out


def _judge(bd: Mapping, cluster: Mapping, entry: Mapping, node: str, holders: Mapping, namespace: str,
           warnings: list[str], where: str) -> list[str]:
    """Why IOMesh may not take this BlockDevice for this entry (empty: it may)."""
    problems = []
    name = _meta(bd).get("name", "?")
    desc = _describe(bd)
    mount_type = entry["mount_type"]
    mode = cluster["disk_deployment_mode"]
    ref = f"{cluster['namespace']}/{cluster['name']}"
    details = _spec(bd).get("details") or {}
    labels = _labels(bd)
    state = _status(bd).get("state") or "no state"
    claim_state = _status(bd).get("claimState") or "no claimState"
    claim_ref = _spec(bd).get("claimRef") or {}

    if mount_type in topology.MODE_FORBIDDEN_TYPES.get(mode, ()):
        allowed = [t for t in topology.MOUNT_TYPES if t not in topology.MODE_FORBIDDEN_TYPES[mode]]
        problems.append(f"mount_type {mount_type} is rejected in {mode} mode; use {' or '.join(allowed)}.")
    if state != "Active":
        problems.append(f"{desc} is {state}, not Active: NDM does not see the disk right now (unplugged, failed, or the "
                        f"known Active/Inactive flapping); check the disk and the openebs-ndm pod on {node}.")
    device_type = details.get("deviceType") or labels.get(BD_DEVICE_TYPE_LABEL) or ""
    if device_type != "disk":
        problems.append(f"{desc} has deviceType {device_type or 'unset'}, not disk: IOMesh mounts whole disks only "
                        "(no partitions, LVM, device-mapper or loop devices).")
    fs = (_spec(bd).get("filesystem") or {}).get("fsType") or ""
    if fs:
        mount_point = (_spec(bd).get("filesystem") or {}).get("mountPoint") or ""
        where_mounted = f", mounted on {mount_point}" if mount_point else ""
        problems.append(f"{desc} carries a {fs} filesystem{where_mounted}; IOMesh only takes empty disks. "
                        + _wipe_hint(bd, node, namespace))
    if mount_type in JOURNAL_TYPES and bd_size(bd) <= JOURNAL_MIN_BYTES:
        problems.append(f"{desc} has {_gb(bd_size(bd))}; {mount_type} needs more than 60 GB (IOMesh puts a journal "
                        "partition on it).")
    drive = details.get("driveType") or labels.get(BD_DRIVE_TYPE_LABEL) or ""
    if mount_type in SSD_TYPES and drive == "HDD":
        problems.append(f"{desc} is an HDD; {mount_type} needs an SSD (hybridFlash: SSD cache + HDD dataStore; allFlash: "
                        "SSDs only). Declare it as dataStore in a hybridFlash cluster, or pick an SSD.")
    elif mount_type in SSD_TYPES and drive != "SSD":  # an HDD was refused just above
        warnings.append(f"{where}: NDM reports drive type {drive or 'unset'} for {_describe(bd)}; {mount_type} "
                        "must be an SSD - make sure it is one.")
    elif mount_type == "dataStore" and drive == "SSD":
        warnings.append(f"{where}: {_describe(bd)} is an SSD used as dataStore (capacity tier); in hybridFlash "
                        "the SSDs normally serve as cacheWithJournal.")

    holder = holders.get(name)
    labelled_cluster = labels.get(CLUSTER_LABEL)
    labelled_type = labels.get(MOUNT_TYPE_LABEL)
    claimed = claim_state == "Claimed" or bool(claim_ref)
    if holder and holder[0] != ref:
        problems.append(f"{desc} is already mounted by IOMesh cluster {holder[0]} (as {holder[1].get('mountType', '?')}); a "
                        "disk serves one cluster. Remove it from this host's iomesh_disks; releasing it from that "
                        "cluster destroys its data and is not automated.")
    elif labelled_cluster and labelled_cluster != cluster["name"]:
        problems.append(f"{desc} is labelled for another IOMesh cluster ({CLUSTER_LABEL}={labelled_cluster}, claim state "
                        f"{claim_state}); a disk serves one cluster. Fix the inventory, or if {labelled_cluster} no "
                        f"longer uses it, remove the labels by hand: `kubectl -n {namespace} label blockdevice {name} "
                        f"{CLUSTER_LABEL}- {MOUNT_TYPE_LABEL}-`.")
    elif claimed:
        mounted_as = holder[1].get("mountType") if holder else (labelled_type if labelled_cluster else None)
        if mounted_as and mounted_as != mount_type:
            problems.append(f"{desc} is already mounted in {cluster['name']} as {mounted_as}; changing the mount type of a "
                            "mounted disk means unmounting it first, which destroys its data and is not automated. "
                            f"Declare it as {mounted_as}.")
        elif not mounted_as:
            holder_name = f"{claim_ref.get('namespace', namespace)}/{claim_ref['name']}" if claim_ref.get("name") \
                else "an unknown claim"
            problems.append(f"{desc} is already {claim_state} by {holder_name}, which is not IOMesh cluster {ref} (another "
                            "IOMesh cluster, or a local PV of localpv-manager); a disk serves one user. Remove it "
                            "from this host's iomesh_disks.")
    elif claim_state != "Unclaimed":
        problems.append(f"{desc} has claim state {claim_state}, not Unclaimed: NDM has not finished releasing it. Wait for "
                        "NDM to clean it up, or clear it by hand. " + _wipe_hint(bd, node, namespace))
    return problems


def _selector_key(selector: object) -> object:
    """A LabelSelector in a canonical form (sorted labels, expressions and values) for comparison."""
    if not isinstance(selector, Mapping):
        return selector
    labels = sorted((str(k), str(v)) for k, v in (selector.get("matchLabels") or {}).items())
    exprs = sorted(
        (str(e.get("key")), str(e.get("operator")), tuple(sorted(str(v) for v in e.get("values") or [])))
        for e in selector.get("matchExpressions") or [] if isinstance(e, Mapping)
    )
    return (tuple(labels), tuple(exprs))


def _device_map_key(device_map: object) -> object:
    if not isinstance(device_map, Mapping):
        return device_map
    return {
        str(t): (_selector_key((e or {}).get("selector")), tuple(sorted((e or {}).get("exclude") or [])))
        if isinstance(e, Mapping) or e is None else e
        for t, e in device_map.items()
    }


def device_map_problems(cluster: Mapping, cr: Mapping | None) -> tuple[list[str], str]:
    """Whether the IOMeshCluster's spec.chunk.deviceMap is the one the inventory renders (errors, note)."""
    ref = f"{cluster['namespace']}/{cluster['name']}"
    stage = "iomesh_mgmt (playbooks/mgmt.yml)" if cluster.get("management") else "iomesh_cluster (playbooks/cluster.yml)"
    if cr is None:
        return [f"cluster {cluster['name']}: IOMeshCluster {ref} does not exist; deploy it first with the {stage} "
                "stage (site.yml runs the stages in order), then this one."], ""
    want = render.device_map(cluster)
    seen = (_spec(cr).get("chunk") or {}).get("deviceMap") or {}
    if _device_map_key(seen) != _device_map_key(want):
        return [f"cluster {cluster['name']}: spec.chunk.deviceMap of IOMeshCluster {ref} is not the one the inventory "
                f"renders; expected {json.dumps(want, sort_keys=True)}, found {json.dumps(seen, sort_keys=True)}. "
                f"Re-run the {stage} stage, which renders it, then this one. Nothing is labelled while it differs: a different "
                "selector could mount disks nobody declared."], ""
    note = (f"cluster {cluster['name']}: spec.chunk.deviceMap of IOMeshCluster {ref} selects "
            f"{', '.join(sorted(want))} by the labels {CLUSTER_LABEL}={cluster['name']} and {MOUNT_TYPE_LABEL}=<type>, "
            f"only on {NODE_LABEL} In [{', '.join(cluster['nodes'])}], as rendered by the {stage} stage; "
            "left unchanged.")
    return [], note


def disk_plan(clusters: Sequence[Mapping], blockdevices: Sequence[Mapping], settings: Mapping | None = None,
              iomesh_clusters: Sequence[Mapping] | None = None, pending: Sequence[Mapping] | None = None) -> dict:
    """Match every cluster's declared disks to BlockDevices and judge them.

    Returns {"errors", "warnings", "notes", "labels", "expected"}: `labels` lists, per chosen BlockDevice, the
    labels to set ({name, namespace, labels, node, cluster, mount_type, path, changed}); `expected` maps each
    cluster name to the BlockDevice names its IOMeshCluster must end up listing in status.attachedDevices.
    With `iomesh_clusters` (the IOMeshCluster objects) the deviceMap of each cluster is verified too, and a
    disk another cluster has mounted is named with that cluster. `pending` are the IOMeshClusters the earlier
    stages of the same run apply (under --check they did not): the deviceMap verified is theirs where given, so check
    mode judges what the run will find (docs/architecture.md, "Check mode and diffs"). When errors is not empty, label
    nothing.
    """
    errors: list[str] = []
    warnings: list[str] = []
    notes: list[str] = []
    labels: list[dict] = []
    expected: dict[str, list[str]] = {}
    bds = sorted((bd for bd in blockdevices if isinstance(bd, Mapping)), key=lambda b: str(_meta(b).get("name", "")))
    holders = _holders(iomesh_clusters)
    crs = {(str(_meta(cr).get("namespace", "")), str(_meta(cr).get("name", ""))): cr for cr in iomesh_clusters or []}
    crs.update({(str(_meta(cr).get("namespace", "")), str(_meta(cr).get("name", ""))): cr for cr in pending or []
                if isinstance(cr, Mapping) and cr.get("kind") == "IOMeshCluster"})
    chosen: dict[str, str] = {}
    declared: set[str] = set()

    for cluster in clusters:
        name = cluster["name"]
        namespace = cluster.get("block_device_namespace") or topology.MANAGEMENT_NAMESPACE
        disks = cluster.get("disks") or {}
        if not disks:
            notes.append(f"cluster {name}: no host declares iomesh_disks; nothing to mount for this cluster.")
            continue
        if iomesh_clusters is not None:
            problems, note = device_map_problems(cluster, crs.get((cluster["namespace"], name)))
            errors.extend(problems)
            notes.extend([note] if note else [])
        hosts = {node: host for host, node in (cluster.get("host_nodes") or {}).items()}
        expected[name] = []
        for node in sorted(disks):
            host = hosts.get(node, node)
            for entry in disks[node]:
                where = (f"cluster {name}, host {host}" + (f" (node {node})" if host != node else "")
                         + f", {_entry_text(entry)}")
                bd, problem = _resolve(entry, node, bds, namespace)
                if bd is None:
                    errors.append(f"{where}: {problem}")
                    continue
                bd_name = str(_meta(bd).get("name"))
                declared.add(bd_name)
                if bd_name in chosen:  # a node serves one cluster, so the first entry is of this host too
                    errors.append(f"{where}: names {_describe(bd)} on node {node}, as does {chosen[bd_name]}; list "
                                  "each disk once.")
                    continue
                chosen[bd_name] = _entry_text(entry)
                problems = _judge(bd, cluster, entry, node, holders, namespace, warnings, where)
                errors.extend(f"{where}: {p}" for p in problems)
                if problems:
                    continue
                want = {CLUSTER_LABEL: name, MOUNT_TYPE_LABEL: entry["mount_type"]}
                current = {k: _labels(bd).get(k) for k in want}
                labels.append({
                    "name": bd_name,
                    "namespace": str(_meta(bd).get("namespace") or namespace),
                    "labels": want,
                    "node": node,
                    "cluster": name,
                    "mount_type": entry["mount_type"],
                    "path": str(_spec(bd).get("path") or ""),
                    "changed": current != want,
                })
                expected[name].append(bd_name)
        expected[name].sort()

    names = {c["name"] for c in clusters}
    for bd in bds:
        owner = _labels(bd).get(CLUSTER_LABEL)
        bd_name = str(_meta(bd).get("name"))
        if owner in names and bd_name not in declared:
            warnings.append(
                f"{_describe(bd)} on node {bd_node(bd)} is labelled for cluster {owner} "
                f"({MOUNT_TYPE_LABEL}={_labels(bd).get(MOUNT_TYPE_LABEL)}) but no host of {owner} declares it; it is "
                "left as it is (removing the labels would unmount it and destroy its data). Remove the labels by "
                "hand if that is intended, or declare it again."
            )
    labels.sort(key=lambda item: (item["cluster"], item["node"], item["path"], item["name"]))
    return {"errors": errors, "warnings": warnings, "notes": notes, "labels": labels, "expected": expected}


def disk_waits(plan: Mapping, clusters: Sequence[Mapping]) -> list[dict]:
    """Waits for the iomesh_wait action: per cluster, its disks Claimed, then listed as attached with their
    node and mount type."""
    waits = []
    for cluster in clusters:
        devices = [item for item in plan.get("labels") or [] if item["cluster"] == cluster["name"]]
        if not devices:
            continue
        name, namespace = cluster["name"], cluster["namespace"]
        bd_namespace = devices[0]["namespace"]
        hint = (f"if this times out, `kubectl -n {namespace} describe iomeshcluster {name}` shows why the operator "
                "did not mount a disk")
        waits.append({
            "label": f"the declared disks of {name} to be Claimed ({hint})",
            "api_version": NDM_API_VERSION,
            "kind": "BlockDevice",
            "namespace": bd_namespace,
            "label_selectors": [f"{CLUSTER_LABEL}={name}"],
            "check": "blockdevices_claimed",
            "args": {"devices": [{"device": d["name"], "node": d["node"], "path": d["path"]} for d in devices]},
        })
        waits.append({
            "label": f"the declared disks of {name} in status.attachedDevices of IOMeshCluster {namespace}/{name} "
                     f"({hint})",
            "api_version": IOMESH_API_VERSION,
            "kind": "IOMeshCluster",
            "namespace": namespace,
            "name": name,
            "check": "attached_devices",
            "args": {"name": name, "devices": [{"device": d["name"], "node": d["node"], "path": d["path"],
                                                "mount_type": d["mount_type"]} for d in devices]},
        })
    return waits
