# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model of the topology report: what the live Kubernetes state says about each IOMesh cluster of the inventory.

Everything here is pure. Callers pass the normalised clusters (iomesh_topology), what kubernetes.core read
(``observed``), the verification results of the same run and, when known, the plan's settings; `build`
returns one view of the whole deployment, judged once, which report_markdown and report_diagram only render.
The view depends on content only, never on input order, so an unchanged deployment renders byte-identical files.

What the live objects should look like is never described here: it is rendered by the functions the stages
apply (render.py), so the report and the roles cannot disagree about a name, a replica count or a field.

``observed`` keys (all optional; a missing key means "nothing found", ``None`` means "could not be read"):
``release`` (helm_info status: chart, revision, status, app_version), ``namespaces``, ``iomesh_clusters``,
``zookeeper_clusters``, ``pods`` (of the clusters' namespaces), ``block_devices`` (of the management
namespace), ``storage_classes``, ``configmaps`` (lists of API objects) and ``errors`` (reads that failed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import names, plan, readiness, render
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.constants import (
    BD_SERIAL_LABEL,
    CLUSTER_LABEL,
    META_LEADER_LABEL,
    MOUNT_TYPE_LABEL,
)
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.disks import bd_node
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.topology import plain
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.k8s import (
    labels as _labels,
    meta as _meta,
    name as _name,
    namespace as _ns,
)

# The report's word for each component whose pods names.pod_patterns matches, in the order it lists them.
COMPONENTS = (("meta", "meta"), ("chunk", "chunk"), ("redirector", "iscsi-redirector"), ("zookeeper", "zookeeper"))
COMPONENT_NAMES = tuple(component for component, _key in COMPONENTS)
# StorageClass fields the report shows and judges: (its name for them, path in the object).
STORAGE_CLASS_FIELDS = (
    ("provisioner", ("provisioner",)),
    ("iomeshCluster", ("parameters", "iomeshCluster")),
    ("clusterConnection", ("parameters", "clusterConnection")),
    ("replicaFactor", ("parameters", "replicaFactor")),
    ("thinProvision", ("parameters", "thinProvision")),
    ("csi.storage.k8s.io/fstype", ("parameters", "csi.storage.k8s.io/fstype")),
    ("reclaimPolicy", ("reclaimPolicy",)),
    ("volumeBindingMode", ("volumeBindingMode",)),
    ("allowVolumeExpansion", ("allowVolumeExpansion",)),
)
# What the API server stores when a StorageClass leaves these fields out.
STORAGE_CLASS_API_DEFAULTS = {"reclaimPolicy": "Delete", "volumeBindingMode": "Immediate", "allowVolumeExpansion": False}
# CSI ConfigMap keys in the order the report shows them, and the order it reports differences in.
CONFIGMAP_KEYS = ("clusterId", "iscsiPortal", "metaAddr")
CONFIGMAP_CHECK_ORDER = ("metaAddr", "iscsiPortal", "clusterId")
NOT_RUN = "not run in this run"
# The results of a run that verified: a cluster unchanged since it last passed keeps the result then recorded.
VERIFY_RAN = "results of this run (a cluster unchanged since it last passed keeps that result: iomesh_verify_when)"
UNKNOWN = "unknown (could not be read)"


def verify_results(results: object) -> list[dict] | None:
    """The verification results of the run (iomesh_verify_results), checked and plain; None: not run in this run.
    ValueError saying what they must be."""
    if results is None:
        return None
    if isinstance(results, (str, bytes)) or not isinstance(results, Sequence) or \
            not all(isinstance(r, Mapping) and r.get("cluster") for r in results):
        raise ValueError(f"verify_results must be null (verification not run) or a list of dictionaries each with a "
                         f"cluster key, as iomesh_verify sets it; got {results!r}")
    return plain(list(results))


def existence(found: bool | None) -> str:
    """How the report words an object that was found, not found, or whose read failed."""
    return UNKNOWN if found is None else ("exists" if found else "missing")


def disk_name(row: Mapping) -> str:
    """How the report names a disk row: its path, else its serial, BlockDevice or declaration."""
    return row["path"] or row["serial"] or row["block_device"] or row["declared"] or "?"


# --- what the stages apply --------------------------------------------------------------------------------

def desired(cluster: Mapping, settings: Mapping) -> dict:
    """The objects of one cluster as the stages render them, and the figures the report reads from them.

    The management cluster's IOMeshCluster and ZookeeperCluster are rendered by the chart from the Helm values
    (render.mgmt_values) and applied by iomesh_mgmt; an additional cluster's are the CRs iomesh_cluster applies
    (render.cluster_manifests).
    """
    configmap, storage_class = render.csi_manifests(cluster, settings)
    if cluster.get("management"):
        values = render.mgmt_values(cluster, settings)["iomesh"]
        replicas = {"meta": values["meta"]["replicaCount"], "chunk": values["chunk"]["replicaCount"],
                    "zookeeper": values["zookeeper"]["replicas"]}
        made = names.cluster_names(cluster["name"])
        iomesh_cluster = made["iomesh_cluster"]
        zookeeper_cluster = made["zookeeper_cluster"]
    else:
        zookeeper, cr = render.cluster_manifests(cluster, settings)
        replicas = {"meta": cr["spec"]["meta"]["replicas"], "chunk": cr["spec"]["chunk"]["replicas"],
                    "zookeeper": zookeeper["spec"]["replicas"]}
        iomesh_cluster = _name(cr)
        zookeeper_cluster = _name(zookeeper)
    # The iSCSI redirector is a DaemonSet pinned to the cluster's nodes: one pod per node.
    replicas["redirector"] = len(cluster["nodes"])
    return {
        "iomesh_cluster": iomesh_cluster,
        "zookeeper_cluster": zookeeper_cluster,
        "replicas": replicas,
        "configmap": configmap,
        "storage_class": storage_class,
        "pod_patterns": names.pod_patterns(cluster["name"]),
    }


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


def _pod_ready(pod: Mapping) -> bool:
    return readiness.pod_is_ready(pod) and not _meta(pod).get("deletionTimestamp")


def _pod_state(pod: Mapping) -> str:
    return "Terminating" if _meta(pod).get("deletionTimestamp") else readiness.pod_state(pod)


# --- the model both renderings share -----------------------------------------------------------------

def build(clusters: Sequence[Mapping], observed: Mapping | None, verify_results: Sequence[Mapping] | None,
          settings: Mapping | None = None) -> dict:
    """Everything the report says, judged once: one view per cluster, the release, and every problem.

    `settings` are the run's normalised settings; without them the objects are rendered with the collection's
    defaults and the CSI ConfigMaps' clusterId is only judged for being set and the same everywhere.
    """
    observed = observed or {}
    settings_known = settings is not None
    settings = plan.default_settings() if settings is None else settings
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
        want = desired(cluster, settings)
        cv = _cluster_view(cluster, want, observed, view["verify_ran"], verify_by_cluster.get(cluster["name"]),
                           settings_known)
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


def _cluster_view(cluster: Mapping, want: Mapping, observed: Mapping, verify_ran: bool, verify: Mapping | None,
                  settings_known: bool) -> dict:
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
    cr = _find(crs, ns, want["iomesh_cluster"])
    cv["cr_found"] = None if crs is None else cr is not None
    cv["cr"] = _cr_view(cr)
    if cv["cr_found"] is False:
        problems.append(
            f"not deployed: IOMeshCluster {ns}/{want['iomesh_cluster']} does not exist"
            f" (stage {'iomesh_mgmt' if cv['management'] else 'iomesh_cluster'} not run)."
        )
    elif cr is not None:
        if not cv["cr"]["leader"]:
            problems.append("no meta leader (status.summary.metaSummary.leader is empty).")
    cv["zookeeper"] = _zookeeper_view(cluster, want, observed, problems, cv["cr_found"])
    cv["pods"] = _pods_view(cluster, want, observed, problems, cv["cr_found"])
    cv["disks"] = _disks_view(cluster, observed, cr, problems)
    cv["storage_class"] = _storage_class_view(want["storage_class"], observed, problems)
    cv["configmap"] = _configmap_view(want["configmap"], observed, cv["storage_class"], problems, settings_known)
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
    # The versions it runs (docs/day-2.md, "Upgrade"): the zbs tag of its meta pods, the operator's of its probe.
    tags = [(what, ((spec.get(part) or {}).get("image") or {}).get("tag")) for what, part in
            (("zbs", "meta"), ("operator", "probe"))]
    return {
        "images": ", ".join(f"{what} {tag}" for what, tag in tags if tag),
        "leader": str(meta_summary.get("leader") or ""),
        "meta_status": str(meta_summary.get("status") or ""),
        "alive_hosts": sorted(str(h) for h in meta_summary.get("aliveHost") or []),
        "ready": {k: ready.get(k) for k in ("meta", "chunk", "iscsi-redirector")},
        "license": licence,
        "port_offset": status.get("portOffset"),
        "mode": str(spec.get("diskDeploymentMode") or ""),
        "attached": [d for d in status.get("attachedDevices") or [] if isinstance(d, Mapping)],
    }


def _zookeeper_view(cluster: Mapping, want: Mapping, observed: Mapping, problems: list[str],
                    cr_found: bool | None) -> dict:
    zk_name = want["zookeeper_cluster"]
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


def _pods_view(cluster: Mapping, want: Mapping, observed: Mapping, problems: list[str], cr_found: bool | None) -> dict:
    ns = cluster["namespace"]
    nodes = sorted(cluster.get("nodes") or [])
    patterns = [(comp, re.compile(want["pod_patterns"][key])) for comp, key in COMPONENTS]
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
    for comp in COMPONENT_NAMES:
        expected = want["replicas"][comp]
        have = sum(1 for p in pods if p["component"] == comp and p["ready"])
        if isinstance(expected, int) and have < expected:
            problems.append(f"{have} of {expected} {comp} pods ready.")
    missing_redirector = [n for n in nodes if per_node[n]["redirector"][0] == 0]
    if missing_redirector and len(missing_redirector) < len(nodes):
        problems.append(f"no ready iSCSI redirector on {', '.join(missing_redirector)}.")
    return out


def _bd_matches(bd: Mapping, disk: Mapping) -> bool:
    spec = bd.get("spec") or {}
    if disk["id_key"] == "serial":
        return str((spec.get("details") or {}).get("serial") or "") == disk["id"] or \
            _labels(bd).get(BD_SERIAL_LABEL) == disk["id"]
    if disk["id_key"] == "path":
        return spec.get("path") == disk["id"]
    links = [link for group in spec.get("devlinks") or [] for link in (group or {}).get("links") or []]
    return disk["id"] in links


def _disk_row(bd: Mapping | None, node: str) -> dict:
    spec = (bd or {}).get("spec") or {}
    details = spec.get("details") or {}
    status = (bd or {}).get("status") or {}
    return {
        "node": bd_node(bd) or node if bd else node,
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
                       if bd_node(b) == node
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
    for row in out_rows:
        where = f"{disk_name(row)} on {row['node']}"
        if row["attached"] and row["node"] not in nodes:
            problems.append(f"disk {where} is attached but {row['node']} is not one of its nodes.")
        if row["attached"] and row["mount_type"] and row["attached"] != row["mount_type"]:
            problems.append(f"disk {where} is attached as {row['attached']}, declared as {row['mount_type']}.")
        if row["attached"] or not deployed:
            continue
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
    # A deployed cluster's rows that are not attached are problems of their own (above), and every declared disk has a
    # row: with no row at all, nothing is declared, labelled or attached.
    if deployed and not out_rows:
        problems.append("no disk is attached: the cluster has no storage capacity (no iomesh_disks declared for its hosts).")
    return view


def _field(obj: Mapping, path: Sequence[str]) -> object:
    value: object = obj
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _storage_class_view(rendered: Mapping, observed: Mapping, problems: list[str]) -> dict:
    """The live StorageClass beside the one iomesh_csi applies (API defaults filled in where the live one omits)."""
    sc_name = _name(rendered)
    scs = _objects(observed, "storage_classes")
    sc = _find(scs, None, sc_name)
    out = {"name": sc_name, "found": None if scs is None else sc is not None, "fields": {}, "mismatches": []}
    if sc is None:
        if out["found"] is False:
            problems.append(f"StorageClass {sc_name} does not exist (stage iomesh_csi not run).")
        return out
    for key, path in STORAGE_CLASS_FIELDS:
        value = _field(sc, path)
        out["fields"][key] = STORAGE_CLASS_API_DEFAULTS.get(key) if value is None else value
    for key, path in STORAGE_CLASS_FIELDS:
        expected = _field(rendered, path)
        # The API server keeps strings as given and booleans as booleans: compare their text, case aside.
        if expected is not None and str(out["fields"][key]).lower() != str(expected).lower():
            out["mismatches"].append(f"{key} is {out['fields'][key]!s}, the inventory says {expected!s}")
    if out["mismatches"]:
        problems.append(f"StorageClass {sc_name}: {'; '.join(out['mismatches'])}.")
    return out


def _configmap_view(rendered: Mapping, observed: Mapping, sc_view: Mapping, problems: list[str],
                    settings_known: bool) -> dict:
    """The CSI ConfigMap the live StorageClass points at (else the rendered one) beside the one iomesh_csi applies."""
    connection = str(sc_view["fields"].get("clusterConnection") or "")
    cm_ns, _sep, cm_name = connection.partition("/")
    if not cm_name:
        cm_ns, cm_name = _ns(rendered), _name(rendered)
    cms = _objects(observed, "configmaps")
    cm = _find(cms, cm_ns, cm_name)
    out = {"namespace": cm_ns, "name": cm_name, "found": None if cms is None else cm is not None, "data": {},
           "mismatches": []}
    if cm is None:
        if out["found"] is False:
            problems.append(f"CSI ConfigMap {cm_ns}/{cm_name} does not exist (stage iomesh_csi not run).")
        return out
    data = cm.get("data") or {}
    out["data"] = {k: str(data.get(k, "")) for k in CONFIGMAP_KEYS}
    expected = {k: str(v) for k, v in (rendered.get("data") or {}).items()}
    if not settings_known:
        # Rendered with the default cluster id, not the run's: only judged for being set (and, across clusters,
        # for being the same).
        expected.pop("clusterId", None)
    for key in CONFIGMAP_CHECK_ORDER:
        have = out["data"][key]
        if key in expected and have != expected[key]:
            out["mismatches"].append(f"{key} is {have or 'empty'}, expected {expected[key]}")
        elif key not in expected and not have:
            out["mismatches"].append(f"{key} is empty")
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


def problems(clusters: Sequence[Mapping], observed: Mapping | None, verify_results: Sequence[Mapping] | None = None,
             settings: Mapping | None = None) -> list[str]:
    """The problems of the view, whole-deployment ones first, then each cluster's prefixed with its name."""
    return build(clusters, observed, verify_results, settings)["problems"]
