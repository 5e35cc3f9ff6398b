# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guarded teardown (docs/day-2.md, "Teardown"): which clusters go, what is deleted in which order, and what
refuses it — judged from the plan and from what the cluster holds, before anything changes.

The order is IOMesh's (docs/pitfalls.md P18): the verification's leftovers, then the StorageClasses and CSI
ConfigMaps, then each additional cluster's IOMeshCluster and ZookeeperCluster (waited until gone, while the operators
that finalise them still run), then their namespaces; with every cluster, the management cluster's custom resources
and at last the Helm release. Disks are never wiped: the BlockDevices the removed clusters used are listed, with the
commands an operator runs by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import names
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.k8s import labels as _labels
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.k8s import meta as _meta
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.constants import (
    CLUSTER_LABEL, COMPONENT_LABEL, CSI_DRIVER, HOSTNAME_LABEL, IOMESH_API_VERSION, MANAGED_BY, MANAGED_BY_LABEL,
    MONITORING_API_VERSION, NDM_API_VERSION, ZOOKEEPER_API_VERSION,
)
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.render import INTERNAL_STORAGE_CLASS

ALL = "all"
CONFIRM = "iomesh_confirm_data_loss"
CLUSTERS = "iomesh_teardown_clusters"
FORCE = "iomesh_teardown_force"
KEEP_NAMESPACES = "iomesh_teardown_keep_namespaces"
VERIFY_COMPONENT = "verify"
# API groups of the CRDs the chart brings (its crds/ and sub-charts), which Helm leaves behind.
CHART_API_GROUPS = ("iomesh.com", "openebs.io", "zookeeper.pravega.io", "deck.smartx.com")
# What the plan lists of the objects to delete, in the order they go.
PHASES = ("verify", "csi", "custom_resources", "namespaces", "management")


def _ref(api_version: str, kind: str, name: str, namespace: str | None = None) -> dict:
    ref = {"api_version": api_version, "kind": kind, "name": name}
    if namespace:
        ref["namespace"] = namespace
    return ref


def _ref_text(ref: Mapping) -> str:
    where = f"{ref['namespace']}/" if ref.get("namespace") else ""
    return f"{ref['kind']} {where}{ref['name']}"


def _ours(obj: Mapping) -> bool:
    return _labels(obj).get(MANAGED_BY_LABEL) == MANAGED_BY


def select(plan: Mapping, confirm: object, requested: object) -> dict:
    """{"clusters": [removed clusters of the plan, in plan order], "all": bool, "errors": [...]}.

    Refused without the confirmation, without a cluster to remove, with a name the inventory does not have, and with
    the management cluster but not all the others: the management release carries the operator, CSI driver and disk
    manager every other cluster runs on.
    """
    errors = []
    if confirm is not True:
        errors.append(
            f"{CONFIRM} is not true: the teardown deletes IOMesh clusters, and every volume on them is lost "
            f"(docs/day-2.md, \"Teardown\"). Set {CONFIRM}: true together with {CLUSTERS} (the names of the clusters to "
            f"remove, or {ALL}), e.g. -e '{{\"{CONFIRM}\": true, \"{CLUSTERS}\": [\"<cluster>\"]}}'.")
    clusters = list(plan.get("clusters") or [])
    by_name = {c["name"]: c for c in clusters}
    if isinstance(requested, str):
        requested = [requested] if requested.strip() else []
    if not isinstance(requested, Sequence) or not requested or not all(isinstance(n, str) and n for n in requested):
        errors.append(f"{CLUSTERS} names no cluster: set it to a list of names of iomesh_clusters "
                      f"({', '.join(by_name) or 'none'}), or to {ALL}.")
        return {"clusters": [], "all": False, "errors": errors}
    wanted = set(by_name) if ALL in requested else set(requested)
    unknown = sorted(wanted - set(by_name))
    if unknown:
        errors.append(f"{CLUSTERS} names {', '.join(unknown)}, not in iomesh_clusters ({', '.join(by_name)}): the "
                      "teardown removes only clusters the inventory still describes (remove a cluster from the "
                      "inventory after its teardown).")
    everything = bool(by_name) and wanted >= set(by_name)
    management = next((c["name"] for c in clusters if c.get("management")), None)
    if management in wanted and not everything:
        rest = sorted(set(by_name) - wanted)
        errors.append(f"{CLUSTERS} names the management cluster {management} but not {', '.join(rest)}: the "
                      "management release runs the operator, CSI driver and disk manager of every cluster. Remove the "
                      f"others first, or set {CLUSTERS} to {ALL}.")
    return {"clusters": [c for c in clusters if c["name"] in wanted], "all": everything, "errors": errors}


def _iomesh_storage_classes(removed: Sequence[Mapping], everything: bool, storage_classes: Sequence[Mapping]) -> dict:
    """StorageClass name -> cluster name for every class whose volumes live on a removed cluster: the clusters' own,
    and any other class of the CSI driver that connects to one (every class of the driver when all go)."""
    out = {c["storage_class"]["name"]: c["name"] for c in removed}
    by_connection = {c["cluster_connection"]: c["name"] for c in removed}
    for sc in storage_classes:
        if sc.get("provisioner") != CSI_DRIVER:
            continue
        connection = (sc.get("parameters") or {}).get("clusterConnection")
        if connection in by_connection:
            out.setdefault(_meta(sc).get("name"), by_connection[connection])
        elif everything:
            out.setdefault(_meta(sc).get("name"), "every cluster")
    return out


def _is_verification(obj: Mapping, removed_names: set) -> bool:
    labels = _labels(obj)
    return _ours(obj) and labels.get(COMPONENT_LABEL) == VERIFY_COMPONENT and labels.get(CLUSTER_LABEL) in removed_names


def _foreign(cluster: Mapping, pods: Sequence[Mapping], claims: Sequence[Mapping], removed_names: set) -> list[str]:
    """Pods and claims in the cluster's namespace that are neither IOMesh's (its pods by name, its own volumes on the
    internal class) nor the verification's: deleting the namespace would delete them."""
    patterns = [re.compile(p) for p in names.pod_patterns(cluster["name"]).values()]
    out = []
    for pod in pods:
        meta = _meta(pod)
        if meta.get("namespace") != cluster["namespace"] or _is_verification(pod, removed_names):
            continue
        if not any(p.match(str(meta.get("name") or "")) for p in patterns):
            out.append(f"Pod {meta.get('namespace')}/{meta.get('name')}")
    for claim in claims:
        meta = _meta(claim)
        if meta.get("namespace") != cluster["namespace"] or _is_verification(claim, removed_names):
            continue
        if (claim.get("spec") or {}).get("storageClassName") != INTERNAL_STORAGE_CLASS:
            out.append(f"PersistentVolumeClaim {meta.get('namespace')}/{meta.get('name')}")
    return sorted(out)


def _present(objects: Sequence[Mapping]) -> set:
    return {(_meta(o).get("namespace") or "", _meta(o).get("name")) for o in objects}


def reads(topology: Mapping, selection: Mapping, after: bool = False) -> list[dict]:
    """The reads (iomesh_read) the plan is judged from, or with `after` the leftovers are listed from."""
    removed = list(selection.get("clusters") or [])
    management = topology.get("management") or {}
    verify = [f"{MANAGED_BY_LABEL}={MANAGED_BY}", f"{COMPONENT_LABEL}={VERIFY_COMPONENT}"]
    disks = {"key": "block_devices", "api_version": NDM_API_VERSION, "kind": "BlockDevice",
             "namespace": management.get("block_device_namespace") or management.get("namespace"),
             "label_selectors": [CLUSTER_LABEL]}
    if after:
        out = [{"key": "storage_classes", "api_version": "storage.k8s.io/v1", "kind": "StorageClass"},
               {"key": "volumes", "kind": "PersistentVolume"},
               {"key": "namespaces", "kind": "Namespace"}, disks]
        if selection.get("all"):
            out += [{"key": f"kept {kind}", "api_version": "apps/v1", "kind": kind,
                     "namespace": management.get("namespace")} for kind in ("Deployment", "DaemonSet", "StatefulSet")]
            out.append({"key": "crds", "api_version": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition"})
        return out
    out = [{"key": "storage_classes", "api_version": "storage.k8s.io/v1", "kind": "StorageClass"},
           {"key": "claims", "kind": "PersistentVolumeClaim"},
           {"key": "pods", "kind": "Pod", "label_selectors": verify},
           {"key": "configmaps", "kind": "ConfigMap", "label_selectors": [f"{MANAGED_BY_LABEL}={MANAGED_BY}"]},
           {"key": "iomesh_clusters", "api_version": IOMESH_API_VERSION, "kind": "IOMeshCluster"},
           {"key": "zookeeper_clusters", "api_version": ZOOKEEPER_API_VERSION, "kind": "ZookeeperCluster"},
           {"key": "namespaces", "kind": "Namespace"}, disks]
    out += [{"key": f"pods in {c['namespace']}", "kind": "Pod", "namespace": c["namespace"]}
            for c in removed if not c.get("management")]
    if selection.get("all"):
        # ServiceMonitor iomesh, which the management stage applies with iomesh_monitoring (docs/day-2.md).
        out.append({"key": "monitors", "api_version": MONITORING_API_VERSION, "kind": "ServiceMonitor",
                    "label_selectors": [f"{MANAGED_BY_LABEL}={MANAGED_BY}"]})
    return out


def live_objects(objects: Mapping) -> dict:
    """What iomesh_read returned for reads(), as the lists plan() and leftovers() take: the pods of each namespace
    and the verification's in one list, the kept workloads in one."""
    out = {key: list(value or []) for key, value in objects.items() if not key.startswith(("pods", "kept "))}
    pods = {}
    for key, value in objects.items():
        if key.startswith("pods"):
            for pod in value or []:
                pods[(_meta(pod).get("namespace"), _meta(pod).get("name"))] = pod
    out["pods"] = [pods[k] for k in sorted(pods, key=str)]
    out["kept"] = [dict(o, kind=o.get("kind") or key.split(" ", 1)[1])
                   for key, value in objects.items() if key.startswith("kept ") for o in value or []]
    return out


def block_devices(removed: Sequence[Mapping], devices: Sequence[Mapping]) -> list[dict]:
    """The BlockDevices the disk stage labelled for a removed cluster: released, never wiped."""
    removed_names = {c["name"] for c in removed}
    out = []
    for bd in devices:
        labels = _labels(bd)
        if labels.get(CLUSTER_LABEL) not in removed_names:
            continue
        spec = bd.get("spec") or {}
        node = labels.get(HOSTNAME_LABEL) or (spec.get("nodeAttributes") or {}).get("nodeName") or ""
        out.append({"name": _meta(bd).get("name"), "cluster": labels[CLUSTER_LABEL], "node": node,
                    "path": spec.get("path") or ""})
    return sorted(out, key=lambda d: (d["cluster"], d["node"], d["path"], d["name"]))


def plan(topology: Mapping, selection: Mapping, live: Mapping, force: bool = False,
         keep_namespaces: bool = False) -> dict:
    """What the teardown deletes, phase by phase (only what exists), and what refuses it.

    `live` holds lists read from the cluster: storage_classes, claims (every namespace), pods (the removed clusters'
    namespaces and the verification's), configmaps (the collection's), iomesh_clusters, zookeeper_clusters,
    namespaces, block_devices; and release (the management release's status, or None).
    """
    removed = list(selection.get("clusters") or [])
    everything = bool(selection.get("all"))
    removed_names = {c["name"] for c in removed}
    additional = [c for c in removed if not c.get("management")]
    management = next((c for c in removed if c.get("management")), None) if everything else None
    storage_classes = list(live.get("storage_classes") or [])
    claims = list(live.get("claims") or [])
    pods = list(live.get("pods") or [])

    classes = _iomesh_storage_classes(removed, everything, storage_classes)
    blocking = sorted(
        f"PersistentVolumeClaim {_meta(c).get('namespace')}/{_meta(c).get('name')} "
        f"(StorageClass {(c.get('spec') or {}).get('storageClassName')}, cluster "
        f"{classes[(c.get('spec') or {}).get('storageClassName')]})"
        for c in claims
        if (c.get("spec") or {}).get("storageClassName") in classes and not _is_verification(c, removed_names))

    phases: dict[str, list] = {phase: [] for phase in PHASES}
    phases["verify"] = sorted(
        (_ref("v1", o.get("kind") or kind, _meta(o).get("name"), _meta(o).get("namespace"))
         for kind, group in (("Pod", pods), ("PersistentVolumeClaim", claims))
         for o in group if _is_verification(o, removed_names)),
        key=lambda r: (r["kind"] != "Pod", r["namespace"], r["name"]))

    configmaps = _present(live.get("configmaps") or [])
    ours = {_meta(sc).get("name") for sc in storage_classes if _ours(sc)}
    foreign_classes = []
    for cluster in removed:
        if (cluster["namespace"], cluster["csi_configmap_name"]) in configmaps:
            phases["csi"].append(_ref("v1", "ConfigMap", cluster["csi_configmap_name"], cluster["namespace"]))
        sc_name = cluster["storage_class"]["name"]
        if sc_name in ours:
            phases["csi"].append(_ref("storage.k8s.io/v1", "StorageClass", sc_name))
        elif any(_meta(sc).get("name") == sc_name for sc in storage_classes):
            foreign_classes.append(sc_name)

    crs = _present(live.get("iomesh_clusters") or [])
    zks = _present(live.get("zookeeper_clusters") or [])

    def custom_resources(cluster: Mapping) -> list[dict]:
        out = []
        if (cluster["namespace"], cluster["name"]) in crs:
            out.append(_ref(IOMESH_API_VERSION, "IOMeshCluster", cluster["name"], cluster["namespace"]))
        if (cluster["namespace"], cluster["zookeeper_name"]) in zks:
            out.append(_ref(ZOOKEEPER_API_VERSION, "ZookeeperCluster", cluster["zookeeper_name"], cluster["namespace"]))
        return out

    for cluster in additional:
        phases["custom_resources"].extend(custom_resources(cluster))
    namespaces = {_meta(n).get("name") for n in live.get("namespaces") or []}
    problems, foreign = [], {}
    if not keep_namespaces:
        for cluster in additional:
            if cluster["namespace"] not in namespaces:
                continue
            phases["namespaces"].append(_ref("v1", "Namespace", cluster["namespace"]))
            held = _foreign(cluster, pods, claims, removed_names)
            if held:
                foreign[cluster["namespace"]] = held
                problems.append(
                    f"namespace {cluster['namespace']} of cluster {cluster['name']} holds what is not IOMesh's: "
                    f"{', '.join(held)}. The teardown deletes the namespace with everything in it: move them, or set "
                    f"{KEEP_NAMESPACES}: true to leave the namespace.")
    release = None
    if management is not None:
        phases["management"] = custom_resources(management) + [
            _ref(MONITORING_API_VERSION, "ServiceMonitor", _meta(m).get("name"), _meta(m).get("namespace"))
            for m in live.get("monitors") or [] if _ours(m)]
        if live.get("release"):
            release = {"name": management["name"], "namespace": management["namespace"]}
    if blocking and not force:
        problems.insert(0, f"{len(blocking)} volume claim(s) live on the clusters to remove, and their data would be "
                           f"lost: {'; '.join(blocking)}. Delete them (or move their data) first, or set {FORCE}: true "
                           "to delete the clusters under them.")
    devices = block_devices(removed, live.get("block_devices") or [])
    result = {
        "clusters": [c["name"] for c in removed], "all": everything, **phases, "release": release,
        "claims": blocking, "foreign": foreign, "foreign_storage_classes": sorted(foreign_classes),
        "block_devices": devices, "problems": problems,
    }
    result["deletions"] = [dict(ref, phase=phase) for phase in PHASES for ref in result[phase]]
    result["lines"] = _lines(result, topology)
    result["changes"] = any(result[p] for p in PHASES) or release is not None
    return result


def _lines(result: Mapping, topology: Mapping) -> list[str]:
    """The plan as printed before anything changes."""
    if not result["clusters"]:
        return ["Nothing to remove."]
    what = "every IOMesh cluster and the Helm release" if result["all"] else "IOMesh cluster(s)"
    lines = [f"Teardown of {what}: {', '.join(result['clusters'])}."]
    titles = {
        "verify": "1. the verification's leftovers",
        "csi": "2. StorageClasses and CSI connection ConfigMaps",
        "custom_resources": "3. additional clusters' IOMeshCluster and ZookeeperCluster, waited until gone",
        "namespaces": "4. their namespaces, waited until gone",
        "management": "5. the management cluster's IOMeshCluster and ZookeeperCluster (and the collection's "
                      "ServiceMonitor), waited until gone",
    }
    for phase in PHASES if result["all"] else PHASES[:-1]:
        refs = result[phase]
        lines.append(f"{titles[phase]}: {', '.join(_ref_text(r) for r in refs) if refs else 'nothing left'}")
    if result["all"]:
        release = result["release"]
        lines.append("6. Helm release " + (f"{release['namespace']}/{release['name']} (helm uninstall, its delete hook "
                                           "included)" if release else "of the management cluster: not installed"))
    if result["claims"]:
        lines.append(f"Volume claims lost with their data: {'; '.join(result['claims'])}")
    for sc in result["foreign_storage_classes"]:
        lines.append(f"StorageClass {sc} is not the collection's (no {MANAGED_BY_LABEL}={MANAGED_BY}): left in place.")
    lines.extend(disk_lines(result["block_devices"], topology))
    return lines


def disk_lines(devices: Sequence[Mapping], topology: Mapping) -> list[str]:
    """The released disks and what to run by hand: the collection never wipes a disk."""
    if not devices:
        return []
    namespace = ((topology.get("management") or {}).get("namespace")) or "<management namespace>"
    lines = [f"Disks released, never wiped by the collection ({len(devices)}): "
             + ", ".join(f"BlockDevice {d['name']} ({d['node']}:{d['path']}, cluster {d['cluster']})" for d in devices)]
    lines.append("To reuse them, on each node, after making sure nothing on them is needed: wipefs --all <path>; "
                 f"then drop the label with kubectl -n {namespace} label blockdevice <name> {CLUSTER_LABEL}-.")
    return lines


def leftovers(topology: Mapping, selection: Mapping, live: Mapping) -> list[str]:
    """What is left after the teardown, for the operator (never deleted by the collection)."""
    removed = list(selection.get("clusters") or [])
    everything = bool(selection.get("all"))
    lines = []
    classes = _iomesh_storage_classes(removed, everything, live.get("storage_classes") or [])
    for pv in live.get("volumes") or []:
        sc = (pv.get("spec") or {}).get("storageClassName")
        if sc in classes or (everything and ((pv.get("spec") or {}).get("csi") or {}).get("driver") == CSI_DRIVER):
            lines.append(f"PersistentVolume {_meta(pv).get('name')} (StorageClass {sc}, "
                         f"{(pv.get('status') or {}).get('phase', 'unknown')}): its data is gone; "
                         f"kubectl delete pv {_meta(pv).get('name')}")
    for ns in live.get("namespaces") or []:
        name = _meta(ns).get("name")
        if any(c["namespace"] == name and not c.get("management") for c in removed):
            lines.append(f"Namespace {name} (kept, or still terminating)")
    if everything:
        management = topology.get("management") or {}
        for obj in live.get("kept") or []:
            lines.append(f"{obj.get('kind')} {management.get('namespace')}/{_meta(obj).get('name')} "
                         "(kept by the chart: helm.sh/resource-policy keep, or made by an operator)")
        for crd in live.get("crds") or []:
            if (crd.get("spec") or {}).get("group") not in CHART_API_GROUPS:
                continue
            lines.append(f"CustomResourceDefinition {_meta(crd).get('name')} (Helm never deletes a chart's CRDs; "
                         f"kubectl delete crd {_meta(crd).get('name')} once no other IOMesh uses it)")
    lines.extend(disk_lines(block_devices(removed, live.get("block_devices") or []), topology))
    return lines
