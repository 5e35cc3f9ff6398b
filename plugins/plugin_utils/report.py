# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology report: what the live Kubernetes state says about each IOMesh cluster of the inventory.

Everything here is pure. Callers pass the normalised clusters (iomesh_topology), what kubernetes.core read
(``observed``), the verification results of the same run and a few facts about the run (``meta``); the
functions return Markdown and Graphviz DOT text. Output depends on content only, never on input order, so
an unchanged deployment gives byte-identical files and the write reports no change.

``observed`` keys (all optional; a missing key means "nothing found", ``None`` means "could not be read"):
``release`` (helm_info status: chart, revision, status, app_version), ``namespaces``, ``iomesh_clusters``,
``zookeeper_clusters``, ``pods`` (of the clusters' namespaces), ``block_devices`` (of the management
namespace), ``storage_classes``, ``configmaps`` (lists of API objects) and ``errors`` (reads that failed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import readiness
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.k8s import (
    labels as _labels,
    meta as _meta,
    name as _name,
    namespace as _ns,
)

CSI_DRIVER = "com.iomesh.csi-driver"
ISCSI_PORTAL = "127.0.0.1:3260"
META_LEADER_LABEL = "iomesh.com/meta-leader"
CLUSTER_LABEL = "iomesh.multicluster/cluster"
MOUNT_TYPE_LABEL = "iomesh.multicluster/mount-type"
# Pod names the chart and the operator give each component of cluster <C> (domain doc 0.3).
COMPONENTS = (
    ("meta", r"-meta-[0-9]+"),
    ("chunk", r"-chunk-[0-9]+"),
    ("redirector", r"-iscsi-redirector-[a-z0-9]+"),
    ("zookeeper", r"-zookeeper-[0-9]+"),
)
COMPONENT_NAMES = tuple(component[0] for component in COMPONENTS)
NOT_RUN = "not run in this run"
UNKNOWN = "unknown (could not be read)"


# --- small helpers -----------------------------------------------------------------------------------

def _objects(observed: Mapping, key: str) -> list[Mapping] | None:
    """The objects of one read, sorted by namespace and name; None when the read failed."""
    if key in observed and observed[key] is None:
        return None
    items = [o for o in observed.get(key) or [] if isinstance(o, Mapping)]
    return sorted(items, key=lambda o: (_ns(o), _name(o)))


def _find(objects: list[Mapping] | None, namespace: str | None, name: str) -> Mapping | None:
    for obj in objects or []:
        if _name(obj) == name and (namespace is None or _ns(obj) == namespace):
            return obj
    return None


def _size(value: object) -> str:
    """Decimal units, as NDM and the IOMesh docs count disk sizes."""
    try:
        size = int(str(value))
    except (TypeError, ValueError):
        return str(value or "?")
    for unit, factor in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6)):
        if size >= factor:
            text = f"{size / factor:.1f}".rstrip("0").rstrip(".")
            return f"{text} {unit}"
    return f"{size} B"


def _cell(value: object) -> str:
    """A Markdown table cell: pipes escaped, no line breaks."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _code(value: object) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"  # as Kubernetes writes them
    return f"`{value}`" if value not in (None, "") else "-"


def _pod_ready(pod: Mapping) -> bool:
    return readiness.pod_is_ready(pod) and not _meta(pod).get("deletionTimestamp")


def _pod_state(pod: Mapping) -> str:
    return "Terminating" if _meta(pod).get("deletionTimestamp") else readiness.pod_state(pod)


# --- the model both renderings share -----------------------------------------------------------------

def build(clusters: Sequence[Mapping], observed: Mapping | None, verify_results: Sequence[Mapping] | None) -> dict:
    """Everything the report says, judged once: one view per cluster, the release, and every problem."""
    observed = observed or {}
    ordered = sorted(clusters, key=lambda c: (not c.get("management"), c["name"]))
    mgmt = next((c for c in ordered if c.get("management")), None)
    view = {
        "release": _release(mgmt, observed),
        "errors": sorted(str(e) for e in observed.get("errors") or []),
        "verify_ran": verify_results is not None,
        "clusters": [],
        "outside": [],
        "problems": [],
    }
    for err in view["errors"]:
        view["problems"].append(f"could not read: {err}")
    rel = view["release"]
    if rel["found"] is False:
        view["problems"].append(
            f"Helm release {rel['name']} is not installed in namespace {rel['namespace']} (stage iomesh_mgmt not run)."
        )
    elif rel["found"] and rel["status"] != "deployed":
        view["problems"].append(f"Helm release {rel['name']} is {rel['status']}, not deployed.")

    cluster_ids = set()
    verify_by_cluster = {}
    for item in verify_results or []:
        if isinstance(item, Mapping) and item.get("cluster"):
            verify_by_cluster[str(item["cluster"])] = item
    for cluster in ordered:
        cv = _cluster_view(cluster, observed, view["verify_ran"], verify_by_cluster.get(cluster["name"]))
        view["clusters"].append(cv)
        view["problems"].extend(f"{cluster['name']}: {p}" for p in cv["problems"])
        cluster_ids.add((cluster["namespace"], cluster["name"]))

    _cross_cluster_checks(view)
    for cr in _objects(observed, "iomesh_clusters") or []:
        if (_ns(cr), _name(cr)) not in cluster_ids:
            view["outside"].append(f"{_ns(cr)}/{_name(cr)}")
    return view


def _release(mgmt: Mapping | None, observed: Mapping) -> dict:
    name = mgmt["name"] if mgmt else "?"
    namespace = mgmt["namespace"] if mgmt else "?"
    out = {"name": name, "namespace": namespace, "found": None, "chart": "", "app_version": "", "revision": "",
           "status": ""}
    if "release" not in observed:
        out["found"] = False
        return out
    release = observed["release"]
    if release is None:
        return out  # could not be read: the error is reported as such
    if not release:
        out["found"] = False
        return out
    out.update(found=True, chart=str(release.get("chart") or ""), app_version=str(release.get("app_version") or ""),
               revision=str(release.get("revision") or ""), status=str(release.get("status") or "unknown"))
    return out


def _cluster_view(cluster: Mapping, observed: Mapping, verify_ran: bool, verify: Mapping | None) -> dict:
    name, ns = cluster["name"], cluster["namespace"]
    problems: list[str] = []
    cv = {
        "name": name,
        "namespace": ns,
        "management": bool(cluster.get("management")),
        "nodes": sorted(cluster.get("nodes") or []),
        "problems": problems,
    }
    namespaces = _objects(observed, "namespaces")
    cv["namespace_found"] = None if namespaces is None else _find(namespaces, None, ns) is not None
    crs = _objects(observed, "iomesh_clusters")
    cr = _find(crs, ns, name)
    cv["cr_found"] = None if crs is None else cr is not None
    cv["cr"] = _cr_view(cr)
    if cv["cr_found"] is False:
        problems.append(
            f"not deployed: IOMeshCluster {ns}/{name} does not exist"
            f" (stage {'iomesh_mgmt' if cv['management'] else 'iomesh_cluster'} not run)."
        )
    elif cr is not None:
        if not cv["cr"]["leader"]:
            problems.append("no meta leader (status.summary.metaSummary.leader is empty).")
    cv["zookeeper"] = _zookeeper_view(cluster, observed, problems, cv["cr_found"])
    cv["pods"] = _pods_view(cluster, observed, problems, cv["cr_found"])
    cv["disks"] = _disks_view(cluster, observed, cr, problems)
    cv["storage_class"] = _storage_class_view(cluster, observed, problems)
    cv["configmap"] = _configmap_view(cluster, observed, cv["storage_class"], problems)
    cv["verify"] = {**_verify_view(verify_ran, verify, problems), "cluster_nodes": sorted(cluster["nodes"])}
    leader_pod = next((p for p in cv["pods"]["pods"] if p["component"] == "meta" and p["leader"]), None)
    cv["cr"]["leader_pod"] = leader_pod["name"] if leader_pod else ""
    cv["cr"]["leader_node"] = leader_pod["node"] if leader_pod else ""
    return cv


def _cr_view(cr: Mapping | None) -> dict:
    status = (cr or {}).get("status") or {}
    summary = status.get("summary") or {}
    meta_summary = summary.get("metaSummary") or {}
    license_ = status.get("license") or {}
    ready = status.get("readyReplicas") or {}
    spec = (cr or {}).get("spec") or {}
    licence = " ".join(str(license_.get(k)) for k in ("licenseType", "softwareEdition") if license_.get(k))
    if license_.get("expirationDate"):
        licence += f", expires {license_['expirationDate']}"
    return {
        "leader": str(meta_summary.get("leader") or ""),
        "meta_status": str(meta_summary.get("status") or ""),
        "alive_hosts": sorted(str(h) for h in meta_summary.get("aliveHost") or []),
        "ready": {k: ready.get(k) for k in ("meta", "chunk", "iscsi-redirector")},
        "license": licence,
        "port_offset": status.get("portOffset"),
        "mode": str(spec.get("diskDeploymentMode") or ""),
        "attached": [d for d in status.get("attachedDevices") or [] if isinstance(d, Mapping)],
    }


def _zookeeper_view(cluster: Mapping, observed: Mapping, problems: list[str], cr_found: bool | None) -> dict:
    zk_name = cluster.get("zookeeper_name") or f"{cluster['name']}-zookeeper"
    zks = _objects(observed, "zookeeper_clusters")
    zk = _find(zks, cluster["namespace"], zk_name)
    out = {"name": zk_name, "found": None if zks is None else zk is not None, "ready": None, "replicas": None}
    if zk is None:
        if out["found"] is False and cr_found:
            problems.append(f"ZookeeperCluster {cluster['namespace']}/{zk_name} does not exist.")
        return out
    status = zk.get("status") or {}
    out["ready"] = int(status.get("readyReplicas") or 0)
    out["replicas"] = int((zk.get("spec") or {}).get("replicas") or status.get("replicas") or 0)
    if out["ready"] < out["replicas"]:
        problems.append(f"ZooKeeper {zk_name}: {out['ready']} of {out['replicas']} replicas ready.")
    return out


def _pods_view(cluster: Mapping, observed: Mapping, problems: list[str], cr_found: bool | None) -> dict:
    name, ns = cluster["name"], cluster["namespace"]
    nodes = sorted(cluster.get("nodes") or [])
    patterns = [(comp, re.compile("^" + re.escape(name) + suffix + "$")) for comp, suffix in COMPONENTS]
    pods = []
    for pod in _objects(observed, "pods") or []:
        if _ns(pod) != ns:
            continue
        comp = next((c for c, pattern in patterns if pattern.match(_name(pod))), None)
        if comp is None:
            continue
        pods.append({
            "name": _name(pod),
            "component": comp,
            "node": str((pod.get("spec") or {}).get("nodeName") or ""),
            "ready": _pod_ready(pod),
            "state": _pod_state(pod),
            "leader": META_LEADER_LABEL in _labels(pod),
        })
    per_node = {n: {c: [0, 0] for c in COMPONENT_NAMES} for n in nodes}
    elsewhere = sorted({p["node"] for p in pods if p["node"] and p["node"] not in per_node})
    for node in elsewhere:
        per_node[node] = {c: [0, 0] for c in COMPONENT_NAMES}
    for pod in pods:
        if pod["node"]:
            counts = per_node[pod["node"]][pod["component"]]
            counts[1] += 1
            counts[0] += int(pod["ready"])
    out = {"pods": pods, "per_node": per_node, "elsewhere": elsewhere}
    if not cr_found:
        return out
    for node in elsewhere:
        found = sorted(p["name"] for p in pods if p["node"] == node)
        problems.append(f"pods on node {node}, which is not one of its nodes: {', '.join(found)}.")
    for pod in pods:
        if not pod["ready"]:
            where = f" on {pod['node']}" if pod["node"] else ""
            problems.append(f"pod {pod['name']}{where} is {pod['state']}.")
    expected = {"meta": cluster.get("meta_replicas"), "chunk": cluster.get("chunk_replicas"),
                "zookeeper": cluster.get("zookeeper_replicas"), "redirector": len(nodes)}
    for comp in COMPONENT_NAMES:
        want = expected[comp]
        have = sum(1 for p in pods if p["component"] == comp and p["ready"])
        if isinstance(want, int) and have < want:
            problems.append(f"{have} of {want} {comp} pods ready.")
    missing_redirector = [n for n in nodes if per_node[n]["redirector"][0] == 0]
    if missing_redirector and len(missing_redirector) < len(nodes):
        problems.append(f"no ready iSCSI redirector on {', '.join(missing_redirector)}.")
    return out


def _bd_matches(bd: Mapping, disk: Mapping) -> bool:
    spec = bd.get("spec") or {}
    if disk["id_key"] == "serial":
        return str((spec.get("details") or {}).get("serial") or "") == disk["id"] or \
            _labels(bd).get("iomesh.com/bd-serial") == disk["id"]
    if disk["id_key"] == "path":
        return spec.get("path") == disk["id"]
    links = [link for group in spec.get("devlinks") or [] for link in (group or {}).get("links") or []]
    return disk["id"] in links


def _disk_row(bd: Mapping | None, node: str) -> dict:
    spec = (bd or {}).get("spec") or {}
    details = spec.get("details") or {}
    status = (bd or {}).get("status") or {}
    return {
        "node": str((spec.get("nodeAttributes") or {}).get("nodeName") or node),
        "block_device": _name(bd) if bd else "",
        "path": str(spec.get("path") or ""),
        "serial": str(details.get("serial") or ""),
        "drive_type": str(details.get("driveType") or ""),
        "size": _size((spec.get("capacity") or {}).get("storage")) if bd else "",
        "fs_type": str((spec.get("filesystem") or {}).get("fsType") or ""),
        "claim_state": str(status.get("claimState") or ""),
        "state": str(status.get("state") or ""),
        "declared": "",
        "label": str(_labels(bd).get(MOUNT_TYPE_LABEL) or "") if bd else "",
        "labelled": bool(bd) and _labels(bd).get(CLUSTER_LABEL) is not None,
        "label_cluster": str(_labels(bd).get(CLUSTER_LABEL) or "") if bd else "",
        "attached": "",
    }


def _disks_view(cluster: Mapping, observed: Mapping, cr: Mapping | None, problems: list[str]) -> dict:
    """Declared disks, BlockDevices labelled for the cluster and the devices its status says are attached."""
    name = cluster["name"]
    nodes = set(cluster.get("nodes") or [])
    bds = _objects(observed, "block_devices")
    bd_ns = cluster.get("block_device_namespace")
    known = {_name(b): b for b in bds or [] if not bd_ns or _ns(b) == bd_ns}
    rows: dict[str, dict] = {}
    unmatched: list[dict] = []
    for node, disks in sorted((cluster.get("disks") or {}).items()):
        for disk in disks:
            bd = next((b for b in known.values()
                       if ((b.get("spec") or {}).get("nodeAttributes") or {}).get("nodeName") == node
                       and _bd_matches(b, disk)), None)
            declared = f"{disk['id_key']} {disk['id']} as {disk['mount_type']}"
            if bd is None:
                unmatched.append({**_disk_row(None, node), "declared": declared, "path": disk["id"]
                                  if disk["id_key"] == "path" else "", "serial": disk["id"]
                                  if disk["id_key"] == "serial" else "", "mount_type": disk["mount_type"]})
                continue
            row = rows.setdefault(_name(bd), _disk_row(bd, node))
            row["declared"] = declared
            row["mount_type"] = disk["mount_type"]
    for bd in known.values():
        if _labels(bd).get(CLUSTER_LABEL) == name:
            row = rows.setdefault(_name(bd), _disk_row(bd, ""))
            row.setdefault("mount_type", row["label"])
    attached = {str(d.get("device") or ""): d for d in ((cr or {}).get("status") or {}).get("attachedDevices") or []
                if isinstance(d, Mapping)}
    for device, item in attached.items():
        row = rows.get(device)
        if row is None:
            row = rows.setdefault(device, _disk_row(known.get(device), str(item.get("nodeName") or "")))
            if device not in known:
                row["block_device"] = device
        row["attached"] = str(item.get("mountType") or "?")
        row.setdefault("mount_type", row["attached"])
        if item.get("nodeName"):
            row["node"] = str(item["nodeName"])
    out_rows = sorted(list(rows.values()) + unmatched,
                      key=lambda r: (r["node"], r["path"], r["serial"], r["block_device"], r["declared"]))
    for row in out_rows:
        row.setdefault("mount_type", "")
    view = {"rows": out_rows, "declared": sum(len(d) for d in (cluster.get("disks") or {}).values()),
            "attached": sum(1 for r in out_rows if r["attached"]), "read": bds is not None}

    deployed = cr is not None
    flagged = False
    for row in out_rows:
        where = f"{_disk_name(row)} on {row['node']}"
        if row["attached"] and row["node"] not in nodes:
            problems.append(f"disk {where} is attached but {row['node']} is not one of its nodes.")
        if row["attached"] and row["mount_type"] and row["attached"] != row["mount_type"]:
            problems.append(f"disk {where} is attached as {row['attached']}, declared as {row['mount_type']}.")
        if row["attached"] or not deployed:
            continue
        flagged = True
        if not row["block_device"]:
            if bds is not None and known:
                problems.append(f"declared disk {row['declared']} on {row['node']}: no BlockDevice on that node "
                                "matches it (node-disk-manager does not report it).")
            continue
        if row["label_cluster"] and row["label_cluster"] != name:
            problems.append(f"declared disk {where} ({row['block_device']}) is labelled for cluster "
                            f"{row['label_cluster']}.")
            continue
        if not row["labelled"]:
            problems.append(f"declared disk {where} ({row['block_device']}) is not labelled yet (stage iomesh_disks "
                            "not run).")
            continue
        hint = f"; it carries a {row['fs_type']} filesystem" if row["fs_type"] else ""
        problems.append(f"disk {where} ({row['block_device']}) is labelled for it but not claimed "
                        f"(claimState {row['claim_state'] or 'unknown'}{hint}).")
    if deployed and view["attached"] == 0 and not flagged:
        problems.append("no disk is attached: the cluster has no storage capacity"
                        + (" (no iomesh_disks declared for its hosts)." if not view["declared"] else "."))
    return view


def _storage_class_view(cluster: Mapping, observed: Mapping, problems: list[str]) -> dict:
    want = cluster.get("storage_class") or {}
    sc_name = str(want.get("name") or cluster["name"])
    scs = _objects(observed, "storage_classes")
    sc = _find(scs, None, sc_name)
    out = {"name": sc_name, "found": None if scs is None else sc is not None, "fields": {}, "mismatches": []}
    if sc is None:
        if out["found"] is False:
            problems.append(f"StorageClass {sc_name} does not exist (stage iomesh_csi not run).")
        return out
    params = sc.get("parameters") or {}
    fields = {
        "provisioner": sc.get("provisioner"),
        "iomeshCluster": params.get("iomeshCluster"),
        "clusterConnection": params.get("clusterConnection"),
        "replicaFactor": params.get("replicaFactor"),
        "thinProvision": params.get("thinProvision"),
        "csi.storage.k8s.io/fstype": params.get("csi.storage.k8s.io/fstype"),
        "reclaimPolicy": sc.get("reclaimPolicy", "Delete"),
        "volumeBindingMode": sc.get("volumeBindingMode", "Immediate"),
        "allowVolumeExpansion": sc.get("allowVolumeExpansion", False),
    }
    expected = {
        "provisioner": CSI_DRIVER,
        "iomeshCluster": cluster.get("iomesh_cluster_ref") or f"{cluster['namespace']}/{cluster['name']}",
        "clusterConnection": cluster.get("cluster_connection"),
        "replicaFactor": want.get("replica_factor"),
        "thinProvision": want.get("thin_provision"),
        "csi.storage.k8s.io/fstype": want.get("fstype"),
        "reclaimPolicy": want.get("reclaim_policy"),
        "volumeBindingMode": want.get("volume_binding_mode"),
        "allowVolumeExpansion": want.get("allow_volume_expansion"),
    }
    out["fields"] = fields
    for key, value in expected.items():
        if value is None:
            continue
        if str(fields[key]).lower() != str(value).lower():
            out["mismatches"].append(f"{key} is {fields[key]!s}, the inventory says {value!s}")
    if out["mismatches"]:
        problems.append(f"StorageClass {sc_name}: {'; '.join(out['mismatches'])}.")
    return out


def _configmap_view(cluster: Mapping, observed: Mapping, sc_view: Mapping, problems: list[str]) -> dict:
    connection = str(sc_view["fields"].get("clusterConnection") or cluster.get("cluster_connection") or "")
    cm_ns, _sep, cm_name = connection.partition("/")
    if not cm_name:
        cm_ns, cm_name = cluster["namespace"], str(cluster.get("csi_configmap_name") or f"{cluster['name']}-csi-configmap")
    cms = _objects(observed, "configmaps")
    cm = _find(cms, cm_ns, cm_name)
    out = {"namespace": cm_ns, "name": cm_name, "found": None if cms is None else cm is not None, "data": {},
           "mismatches": []}
    if cm is None:
        if out["found"] is False:
            problems.append(f"CSI ConfigMap {cm_ns}/{cm_name} does not exist (stage iomesh_csi not run).")
        return out
    data = cm.get("data") or {}
    out["data"] = {k: str(data.get(k, "")) for k in ("clusterId", "iscsiPortal", "metaAddr")}
    if cluster.get("meta_addr") and out["data"]["metaAddr"] != cluster["meta_addr"]:
        out["mismatches"].append(f"metaAddr is {out['data']['metaAddr'] or 'empty'}, expected {cluster['meta_addr']}")
    if out["data"]["iscsiPortal"] != ISCSI_PORTAL:
        out["mismatches"].append(f"iscsiPortal is {out['data']['iscsiPortal'] or 'empty'}, expected {ISCSI_PORTAL}")
    if not out["data"]["clusterId"]:
        out["mismatches"].append("clusterId is empty")
    if out["mismatches"]:
        problems.append(f"CSI ConfigMap {cm_ns}/{cm_name}: {'; '.join(out['mismatches'])}.")
    return out


def _verify_view(ran: bool, result: Mapping | None, problems: list[str]) -> dict:
    if not ran:
        return {"result": NOT_RUN}
    if result is None:
        return {"result": "no result for this cluster in this run"}
    out = {k: result.get(k) for k in ("namespace", "storage_class", "pvc", "phase", "pv", "driver", "pod", "pod_node",
                                      "message")}
    out["result"] = str(result.get("result") or "unknown")
    out["pv_nodes"] = sorted(str(n) for n in result.get("pv_nodes") or [])
    out["within_cluster_nodes"] = result.get("within_cluster_nodes")
    if out["result"] != "passed" and out["result"] != "skipped":
        problems.append(f"verification {out['result']}: {result.get('message') or 'no message'}")
    return out


def _cross_cluster_checks(view: dict) -> None:
    ids = sorted({c["configmap"]["data"].get("clusterId") for c in view["clusters"] if c["configmap"]["data"]})
    if len(ids) > 1:
        view["problems"].append(
            f"the CSI ConfigMaps carry different clusterId values ({', '.join(ids)}); they must be identical."
        )


def problems(clusters: Sequence[Mapping], observed: Mapping | None,
             verify_results: Sequence[Mapping] | None = None) -> list[str]:
    return build(clusters, observed, verify_results)["problems"]


# --- Markdown ------------------------------------------------------------------------------------------

def _exists(found: bool | None) -> str:
    return UNKNOWN if found is None else ("exists" if found else "missing")


def _ready_cell(counts: Sequence[int]) -> str:
    ready, total = counts
    if total == 0:
        return "-"
    return f"{ready}/{total}" if ready != total else str(total)


def _summary_table(view: dict) -> list[str]:
    lines = [
        "| Cluster | Namespace | Nodes | IOMeshCluster | Meta leader | ZooKeeper | Attached disks | StorageClass | "
        "CSI ConfigMap | Verification |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cv in view["clusters"]:
        zk = cv["zookeeper"]
        zk_text = f"{zk['ready']}/{zk['replicas']} ready" if zk["found"] else _exists(zk["found"])
        lines.append("| " + " | ".join(_cell(x) for x in (
            f"{cv['name']}{' (management)' if cv['management'] else ''}",
            f"{cv['namespace']} ({_exists(cv['namespace_found'])})",
            len(cv["nodes"]),
            "deployed" if cv["cr_found"] else ("not deployed" if cv["cr_found"] is False else UNKNOWN),
            cv["cr"]["leader_node"] or cv["cr"]["leader"] or ("none" if cv["cr_found"] else "-"),
            zk_text,
            f"{cv['disks']['attached']} of {cv['disks']['declared']} declared",
            f"{cv['storage_class']['name']} ({_exists(cv['storage_class']['found'])})",
            f"{cv['configmap']['name']} ({_exists(cv['configmap']['found'])})",
            cv["verify"]["result"],
        )) + " |")
    return lines


def _cluster_section(cv: dict) -> list[str]:
    role = "management cluster, Helm release" if cv["management"] else "additional cluster"
    lines = [f"## Cluster `{cv['name']}` ({role})", ""]
    cr = cv["cr"]
    lines.append(f"- Namespace `{cv['namespace']}`: {_exists(cv['namespace_found'])}")
    if cv["cr_found"]:
        ready = ", ".join(f"{k} {v}" for k, v in cr["ready"].items() if v is not None) or "none reported"
        leader = cr["leader"] or "none"
        if cr["leader_pod"]:
            leader += f" (pod `{cr['leader_pod']}` on `{cr['leader_node']}`)"
        lines.append(f"- IOMeshCluster `{cv['namespace']}/{cv['name']}`: exists; meta leader {leader}; "
                     f"ready replicas: {ready}")
        extra = []
        if cr["mode"]:
            extra.append(f"disk deployment mode {cr['mode']}")
        if cr["port_offset"] is not None:
            extra.append(f"port offset {cr['port_offset']}")
        if cr["license"]:
            extra.append(f"licence {cr['license']}")
        if extra:
            lines.append(f"  - {'; '.join(extra)}")
    else:
        lines.append(f"- IOMeshCluster `{cv['namespace']}/{cv['name']}`: "
                     f"{'not deployed' if cv['cr_found'] is False else UNKNOWN}")
    zk = cv["zookeeper"]
    zk_text = f"{zk['ready']} of {zk['replicas']} replicas ready" if zk["found"] else _exists(zk["found"])
    lines.append(f"- ZookeeperCluster `{zk['name']}`: {zk_text}")
    lines += ["", "### Nodes", "",
              "| Node | meta | chunk | iSCSI redirector | ZooKeeper | Attached disks |", "|---|---|---|---|---|---|"]
    for node, counts in cv["pods"]["per_node"].items():
        label = f"{node} (not a node of this cluster)" if node in cv["pods"]["elsewhere"] else node
        meta = _ready_cell(counts["meta"])
        if cr["leader_node"] == node:
            meta += " (leader)"
        disks = sum(1 for r in cv["disks"]["rows"] if r["attached"] and r["node"] == node)
        lines.append("| " + " | ".join(_cell(x) for x in (
            label, meta, _ready_cell(counts["chunk"]), _ready_cell(counts["redirector"]),
            _ready_cell(counts["zookeeper"]), disks or "-")) + " |")
    unscheduled = sorted(p["name"] for p in cv["pods"]["pods"] if not p["node"])
    if unscheduled:
        lines += ["", f"Unscheduled pods: {', '.join(unscheduled)}."]
    lines += ["", "Pod counts are ready pods (ready/total when some are not ready).", ""]
    lines += _disks_section(cv)
    lines += _storage_section(cv)
    lines += _verify_section(cv)
    return lines


def _disks_section(cv: dict) -> list[str]:
    disks = cv["disks"]
    lines = ["### Disks", ""]
    if not disks["rows"]:
        if not disks["read"]:
            lines += [f"BlockDevices: {UNKNOWN}.", ""]
        else:
            lines += ["No disk declared in the inventory (`iomesh_disks`), labelled for this cluster or attached.", ""]
        return lines
    lines += ["| Node | Path | Serial | Type | Size | Mount type | BlockDevice | Claim | Attached |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in disks["rows"]:
        claim = r["claim_state"] or "-"
        if r["fs_type"]:
            claim += f" ({r['fs_type']} filesystem)"
        if not r["block_device"]:
            claim = "no BlockDevice found"
        elif not r["labelled"]:
            claim += ", not labelled"
        lines.append("| " + " | ".join(_cell(x) for x in (
            r["node"], _code(r["path"]), _code(r["serial"]), r["drive_type"] or "-", r["size"] or "-",
            r["mount_type"] or "-", _code(r["block_device"]), claim, r["attached"] or "no")) + " |")
    lines.append("")
    return lines


def _storage_section(cv: dict) -> list[str]:
    sc = cv["storage_class"]
    cm = cv["configmap"]
    lines = [f"### StorageClass `{sc['name']}`", ""]
    if sc["found"]:
        lines += [f"- `{k}`: {_code(v)}" for k, v in sc["fields"].items()]
    else:
        lines.append(f"- {_exists(sc['found'])}")
    lines += ["", f"CSI ConfigMap `{cm['namespace']}/{cm['name']}`: {_exists(cm['found'])}"]
    if cm["found"]:
        lines += [""] + [f"- `{k}`: {_code(v)}" for k, v in cm["data"].items()]
    lines.append("")
    return lines


def _verify_section(cv: dict) -> list[str]:
    v = cv["verify"]
    lines = ["### Verification", "", f"- Result: **{v['result']}**"]
    if "pvc" in v:
        pvc = f"{v.get('namespace') or '?'}/{v.get('pvc') or '?'}"
        lines.append(f"- PVC `{pvc}` on StorageClass {_code(v.get('storage_class'))}: phase {v.get('phase') or '-'}")
        # The volume's name and the test pod's node change from run to run: left out, so that a re-run over an
        # unchanged deployment writes the same report (the run's output names them).
        lines.append(f"- Volume of driver {_code(v.get('driver'))}, "
                     f"allowed nodes {', '.join(v['pv_nodes']) or '-'}"
                     + ("" if v.get("within_cluster_nodes") is None else
                        f" ({'within' if v['within_cluster_nodes'] else 'NOT within'} the cluster's nodes)"))
        if v.get("pod"):
            lines.append(f"- Pod `{v['pod']}` using it ran on "
                         + ("a node of the cluster" if v.get("pod_node") in v["cluster_nodes"]
                            else _code(v.get("pod_node"))))
        if v["result"] != "passed" and v.get("message"):
            lines.append(f"- Message: {v['message']}")
    lines.append("")
    return lines


def markdown(clusters: Sequence[Mapping], observed: Mapping | None, verify_results: Sequence[Mapping] | None,
             meta: Mapping | None = None) -> str:
    meta = meta or {}
    view = build(clusters, observed, verify_results)
    rel = view["release"]
    lines = ["# IOMesh multi-cluster report", ""]
    if meta.get("generated_at"):
        lines += [f"Generated at {meta['generated_at']}.", ""]
    if rel["found"]:
        release = (f"`{rel['name']}` in `{rel['namespace']}`: chart {rel['chart'] or '?'}"
                   f"{' (app ' + rel['app_version'] + ')' if rel['app_version'] else ''}, revision {rel['revision']},"
                   f" {rel['status']}")
    elif rel["found"] is False:
        release = f"`{rel['name']}` in `{rel['namespace']}`: not installed"
    else:
        release = f"`{rel['name']}` in `{rel['namespace']}`: {UNKNOWN}"
    lines += [
        f"- Management Helm release {release}",
        f"- IOMesh clusters in the inventory: {len(view['clusters'])}; deployed: "
        f"{sum(1 for c in view['clusters'] if c['cr_found'])}",
        f"- Verification: {'results of this run' if view['verify_ran'] else NOT_RUN}",
        "",
        "## Problems",
        "",
    ]
    lines += [f"- {p}" for p in view["problems"]] or ["None seen."]
    lines += ["", "## Summary", ""] + _summary_table(view) + [""]
    for cv in view["clusters"]:
        lines += _cluster_section(cv)
    lines += ["## Topology", ""]
    if meta.get("mermaid", True):
        lines += ["```mermaid"] + mermaid(view).splitlines() + ["```", ""]
    source = meta.get("diagram_source") or "iomesh-topology.dot"
    picture = meta.get("diagram_image") or ""
    if picture:
        lines += [f"Graphviz source [`{source}`]({source}), picture [`{picture}`]({picture}).", "", f"![topology]({picture})"]
    else:
        note = meta.get("renderer_note") or "no renderer was run"
        lines += [f"Graphviz source [`{source}`]({source}); no picture: {note}."]
    lines.append("")
    if view["outside"]:
        lines += ["## IOMeshClusters outside the inventory", ""] + [f"- `{o}`" for o in view["outside"]] + [""]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


# --- diagrams ------------------------------------------------------------------------------------------

def _dot_id(*parts: str) -> str:
    text = ":".join(parts)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_label(lines: Sequence[str]) -> str:
    text = "\\n".join(str(x).replace("\\", "\\\\").replace('"', '\\"') for x in lines)
    return f'"{text}"'


def _node_label(cv: dict, node: str) -> list[str]:
    counts = cv["pods"]["per_node"].get(node) or {}
    parts = [c if counts[c][1] == 1 else f"{c} x{counts[c][1]}" for c in COMPONENT_NAMES if counts.get(c, [0, 0])[1]]
    label = [node]
    if parts:
        label.append(", ".join(parts))
    if cv["cr"]["leader_node"] == node:
        label.append("meta leader")
    return label


def _disk_name(row: dict) -> str:
    return row["path"] or row["serial"] or row["block_device"] or row["declared"] or "?"


def _disk_label(row: dict) -> list[str]:
    return [_disk_name(row),
            " ".join(x for x in (row["mount_type"] or "-", row["size"]) if x),
            "attached" if row["attached"] else (row["claim_state"] or "not found").lower()]


def dot(view: dict) -> str:
    out = [
        "digraph iomesh {",
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, label="IOMesh multi-cluster topology", labelloc=t];',
        '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    rel = view["release"]
    release_id = _dot_id("release", rel["name"])
    rel_label = ["Helm release " + rel["name"], (rel["chart"] + " rev " + rel["revision"]) if rel["found"] else
                 ("not installed" if rel["found"] is False else "unknown")]
    out.append(f"  {release_id} [shape=folder, label={_dot_label(rel_label)}"
               f"{'' if rel['found'] else ', style=dashed, color=red'}];")
    for index, cv in enumerate(view["clusters"]):
        name = cv["name"]
        cluster_id = _dot_id("iomeshcluster", cv["namespace"], name)
        out.append(f"  subgraph cluster_{index} {{")
        out.append(f"    label={_dot_label([name + (' (management)' if cv['management'] else ''), 'namespace ' + cv['namespace']])};")
        out.append("    style=" + ("solid" if cv["cr_found"] else "dashed") + ";")
        cr_label = ["IOMeshCluster " + name,
                    ("leader " + (cv["cr"]["leader_node"] or cv["cr"]["leader"] or "none")) if cv["cr_found"]
                    else "not deployed"]
        attrs = "shape=component" + ("" if cv["cr_found"] else ", style=dashed, color=red")
        out.append(f"    {cluster_id} [{attrs}, label={_dot_label(cr_label)}];")
        for node in cv["pods"]["per_node"]:
            node_attrs = ", color=red" if node in cv["pods"]["elsewhere"] else ""
            out.append(f"    {_dot_id('node', name, node)} [label={_dot_label(_node_label(cv, node))}{node_attrs}];")
        for row in cv["disks"]["rows"]:
            key = row["block_device"] or row["declared"]
            disk_attrs = "shape=cylinder" + ("" if row["attached"] else ", style=dashed") + \
                (", color=red" if cv["cr_found"] and not row["attached"] else "")
            out.append(f"    {_dot_id('disk', name, row['node'], key)} [{disk_attrs}, label={_dot_label(_disk_label(row))}];")
        out.append("  }")
        if cv["management"]:
            out.append(f"  {release_id} -> {cluster_id};")
        for node in cv["pods"]["per_node"]:
            out.append(f"  {cluster_id} -> {_dot_id('node', name, node)};")
        for row in cv["disks"]["rows"]:
            key = row["block_device"] or row["declared"]
            style = "" if row["attached"] else " [style=dashed]"
            out.append(f"  {_dot_id('node', name, row['node'])} -> {_dot_id('disk', name, row['node'], key)}{style};")
        sc = cv["storage_class"]
        sc_id = _dot_id("storageclass", sc["name"])
        sc_attrs = "shape=note" + ("" if sc["found"] else ", style=dashed, color=red")
        out.append(f"  {sc_id} [{sc_attrs}, label={_dot_label(['StorageClass ' + sc['name'], _exists(sc['found'])])}];")
        out.append(f"  {sc_id} -> {cluster_id} [label=\"provisions from\"];")
        v = cv["verify"]
        if "pvc" in v:
            pvc_id = _dot_id("pvc", name)
            color = "" if v["result"] in ("passed", "skipped") else ", color=red"
            out.append(f"  {pvc_id} [shape=oval{color}, label={_dot_label(['PVC ' + str(v.get('pvc') or '?'), 'verification ' + v['result']])}];")
            out.append(f"  {pvc_id} -> {sc_id};")
    out.append("}")
    return "\n".join(out) + "\n"


def _mm_id(*parts: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9]", "_", "_".join(parts))


def _mm_label(lines: Sequence[str]) -> str:
    text = "<br/>".join(str(x) for x in lines)
    return '"' + text.replace('"', "#quot;") + '"'


def mermaid(view: dict) -> str:
    out = ["flowchart LR"]
    rel = view["release"]
    rel_id = _mm_id("release", rel["name"])
    out.append(f"  {rel_id}[{_mm_label(['Helm release ' + rel['name'], rel['chart'] if rel['found'] else 'not installed'])}]")
    seen_ids: dict[str, int] = {}

    def unique(ident: str) -> str:
        seen_ids[ident] = seen_ids.get(ident, 0) + 1
        return ident if seen_ids[ident] == 1 else f"{ident}_{seen_ids[ident]}"

    for cv in view["clusters"]:
        name = cv["name"]
        sub = unique(_mm_id("sub", name))
        cluster_id = unique(_mm_id("cr", name))
        out.append(f"  subgraph {sub} [{_mm_label([name + (' (management)' if cv['management'] else '') + ', namespace ' + cv['namespace']])}]")
        cr_label = ["IOMeshCluster " + name, ("leader " + (cv["cr"]["leader_node"] or "none")) if cv["cr_found"]
                    else "not deployed"]
        out.append(f"    {cluster_id}{{{{{_mm_label(cr_label)}}}}}")
        node_ids = {}
        for node in cv["pods"]["per_node"]:
            node_ids[node] = unique(_mm_id("node", name, node))
            out.append(f"    {node_ids[node]}[{_mm_label(_node_label(cv, node))}]")
        disk_ids = []
        for index, row in enumerate(cv["disks"]["rows"]):
            disk_id = unique(_mm_id("disk", name, str(index)))
            disk_ids.append((row, disk_id))
            out.append(f"    {disk_id}[({_mm_label(_disk_label(row))})]")
        out.append("  end")
        if cv["management"]:
            out.append(f"  {rel_id} --> {cluster_id}")
        for node, node_id in node_ids.items():
            out.append(f"  {cluster_id} --> {node_id}")
        for row, disk_id in disk_ids:
            node_id = node_ids.get(row["node"])
            if node_id:
                out.append(f"  {node_id} {'-->' if row['attached'] else '-.->'} {disk_id}")
        sc = cv["storage_class"]
        sc_id = unique(_mm_id("sc", sc["name"]))
        out.append(f"  {sc_id}[/{_mm_label(['StorageClass ' + sc['name'], _exists(sc['found'])])}/]")
        out.append(f"  {sc_id} -- provisions from --> {cluster_id}")
        v = cv["verify"]
        if "pvc" in v:
            pvc_id = unique(_mm_id("pvc", name))
            out.append(f"  {pvc_id}([{_mm_label(['PVC ' + str(v.get('pvc') or '?'), 'verification ' + v['result']])}])")
            out.append(f"  {pvc_id} --> {sc_id}")
    return "\n".join(out) + "\n"


def diagram(clusters: Sequence[Mapping], observed: Mapping | None, verify_results: Sequence[Mapping] | None = None) -> str:
    return dot(build(clusters, observed, verify_results))
