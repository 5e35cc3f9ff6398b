# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only checks of the target Kubernetes cluster, on data the caller read from the API.

Pure functions: the preflight role reads Nodes, the server version, the management Helm release and the
IOMeshCluster objects with kubernetes.core modules and passes them here; every problem is reported at once,
naming node or object.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence

# Kubernetes versions each IOMesh chart line supports (IOMesh release notes). None: not published.
SUPPORTED_KUBERNETES = {
    "v1.0": ((1, 17), (1, 25)),
}
VERSION = re.compile(r"^v?(\d+)\.(\d+)")


def _ready(node: Mapping) -> bool:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def _internal_ips(node: Mapping) -> list[str]:
    return [a.get("address") for a in (node.get("status") or {}).get("addresses") or [] if a.get("type") == "InternalIP"]


def _control_plane_only(node: Mapping) -> bool:
    """A node no ordinary pod lands on (a tainted control-plane node), so no CSI node plugin either."""
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") == "NoSchedule" and taint.get("key") in (
            "node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master",
        ):
            return True
    return False


def node_problems(clusters: Sequence[Mapping], nodes: Sequence[Mapping], key: str) -> dict:
    """Every listed node exists with label `key` equal to its name, is Ready and schedulable."""
    errors: list[str] = []
    warnings: list[str] = []
    by_label: dict[str, Mapping] = {}
    for node in nodes:
        value = ((node.get("metadata") or {}).get("labels") or {}).get(key)
        if value is not None:
            by_label[value] = node
    wanted: set[str] = set()
    for cluster in clusters:
        missing, not_ready, cordoned, outside = [], [], [], []
        network = ipaddress.ip_network(cluster["data_cidr"]) if cluster.get("data_cidr") else None
        for name in cluster["nodes"]:
            wanted.add(name)
            node = by_label.get(name)
            if node is None:
                missing.append(name)
                continue
            if not _ready(node):
                not_ready.append(name)
            if (node.get("spec") or {}).get("unschedulable"):
                cordoned.append(name)
            ips = [ipaddress.ip_address(a) for a in _internal_ips(node) if a]
            if network is not None and ips and not any(ip.version == 4 and ip in network for ip in ips):
                outside.append(f"{name} ({', '.join(map(str, ips))})")
        where = f"cluster {cluster['name']}"
        if missing:
            errors.append(
                f"{where}: no Kubernetes node has label {key} equal to {', '.join(missing)}; check the host names, "
                "iomesh_node_name or iomesh_node_label_key (kubectl get nodes -L " + key + ")."
            )
        if not_ready:
            errors.append(f"{where}: node(s) {', '.join(not_ready)} are not Ready; IOMesh pods cannot start there.")
        if cordoned:
            errors.append(f"{where}: node(s) {', '.join(cordoned)} are cordoned (unschedulable); uncordon them first.")
        if outside:
            warnings.append(
                f"{where}: the InternalIP of {', '.join(outside)} is outside data_cidr {cluster['data_cidr']}; "
                "fine if the storage network is a second interface, otherwise chunk and redirector cannot bind."
            )
    spare = sorted(
        (n.get("metadata") or {}).get("labels", {}).get(key) or (n.get("metadata") or {}).get("name", "?")
        for n in nodes
        if ((n.get("metadata") or {}).get("labels") or {}).get(key) not in wanted and not _control_plane_only(n)
    )
    if spare:
        warnings.append(
            f"node(s) {', '.join(spare)} belong to no IOMesh cluster: the IOMesh CSI node plugin runs on every "
            "schedulable node and stays in CrashLoopBackOff where no redirector runs (docs/pitfalls.md P4); add them "
            "to a cluster, or restrict csi-driver.driver.node.nodeSelector through iomesh_mgmt_extra_values."
        )
    return {"errors": errors, "warnings": warnings}


def version_problems(server_version: str, chart_version: str, allow_unsupported: bool = False) -> dict:
    """The Kubernetes server version against the range the IOMesh chart line supports."""
    errors: list[str] = []
    warnings: list[str] = []
    match = VERSION.match(str(server_version or ""))
    if not match:
        return {"errors": [f"could not read the Kubernetes server version from {server_version!r}."], "warnings": []}
    server = (int(match.group(1)), int(match.group(2)))
    line = ".".join(str(chart_version).split(".")[:2])
    supported = SUPPORTED_KUBERNETES.get(line)
    shown = f"{server[0]}.{server[1]}"
    if supported is None:
        warnings.append(
            f"IOMesh chart {chart_version} publishes no supported Kubernetes range; the server runs {shown}."
        )
    elif not supported[0] <= server <= supported[1]:
        low, high = (f"{v[0]}.{v[1]}" for v in supported)
        message = (
            f"Kubernetes {shown} is outside the range IOMesh chart {chart_version} supports ({low} to {high})."
        )
        if allow_unsupported:
            warnings.append(message + " Continuing: iomesh_preflight_allow_unsupported_kubernetes is true.")
        else:
            errors.append(message + " Set iomesh_preflight_allow_unsupported_kubernetes: true to try anyway.")
    return {"errors": errors, "warnings": warnings}


# The components a multi-cluster install pins to its cluster's nodes (the seed's podPolicy.affinity).
PINNED_PARTS = ("meta", "chunk", "redirector")
CONVERSION_RISK = (
    "IOMesh does not support expanding an existing cluster into multiple clusters: pinning its meta, chunk "
    "and redirector pods to a node subset reschedules them (docs/pitfalls.md P2)."
)


def _unpinned_parts(section: Mapping) -> list[str]:
    """Parts of an IOMeshCluster spec (or of the chart's `iomesh` values) without required node affinity."""
    unpinned = []
    for part in PINNED_PARTS:
        policy = (section.get(part) or {}).get("podPolicy") or {}
        if not (policy.get("affinity") or {}).get("nodeAffinity"):
            unpinned.append(part)
    return unpinned


def _conversion(what: str, allow_conversion: bool) -> dict:
    message = f"{what} (a single-cluster install). {CONVERSION_RISK}"
    if allow_conversion:
        return {"errors": [], "warnings": [message + " Converting anyway: iomesh_allow_single_cluster_conversion is true."]}
    return {"errors": [message + " Nothing was changed. To convert it regardless, set "
                       "iomesh_allow_single_cluster_conversion: true."], "warnings": []}


def release_problems(release: Mapping | None, cluster: Mapping, allow_conversion: bool = False) -> dict:
    """Refuse to turn an existing single-cluster IOMesh release into the management cluster (docs/pitfalls.md P2).

    `release` is what kubernetes.core.helm_info returns as `status` (None when there is no release).
    A release that already pins meta, chunk and redirector with node affinity was installed as a
    multi-cluster management release (by us or by hand) and may be upgraded by a re-run.
    """
    if not release:
        return {"errors": [], "warnings": []}
    chart = str(release.get("chart") or "")
    where = f"Helm release {cluster['name']} in namespace {cluster['namespace']}"
    # helm_info reports <chart name>-<chart version>; chart v1.2.0 names itself IOMesh.
    if chart and not chart.lower().startswith("iomesh-"):
        return {"errors": [f"{where} exists but installs chart {chart}, not iomesh; choose another cluster name."],
                "warnings": []}
    # helm_info >= 6 returns the user-supplied values as release_values (status.values is deprecated).
    values = release.get("release_values", release.get("values")) or {}
    if not _unpinned_parts(values.get("iomesh") or {}):
        return {"errors": [], "warnings": []}
    return _conversion(f"{where} is an IOMesh installation without node affinity", allow_conversion)


# <chart name>-<chart version> as helm_info reports a release's chart (iomesh-v1.0.1, IOMesh-v1.2.0).
RELEASE_CHART = re.compile(r"^.+-v?(\d+)\.(\d+)\.(\d+)(\S*)$")


def _chart_version(text: str) -> tuple[int, int, int] | None:
    match = RELEASE_CHART.match(str(text or "")) or re.match(r"^v?(\d+)\.(\d+)\.(\d+)", str(text or ""))
    return tuple(int(match.group(i)) for i in (1, 2, 3)) if match else None


def downgrade_problems(release: Mapping | None, cluster: Mapping, chart_version: str, allow_downgrade: bool = False) -> dict:
    """An installed release of a newer chart than iomesh_chart_version: Helm would roll IOMesh back (docs/pitfalls.md P2
    lists what IOMesh supports; it publishes no downgrade path)."""
    if not release:
        return {"errors": [], "warnings": []}
    installed = _chart_version(release.get("chart") or "")
    wanted = _chart_version(chart_version)
    if installed is None or wanted is None or installed <= wanted:
        return {"errors": [], "warnings": []}
    message = (f"Helm release {cluster['name']} in namespace {cluster['namespace']} runs chart {release.get('chart')}, "
               f"newer than iomesh_chart_version {chart_version}: the run would downgrade IOMesh, which IOMesh does not "
               "support.")
    if allow_downgrade:
        return {"errors": [], "warnings": [message + " Downgrading anyway: iomesh_allow_downgrade is true."]}
    return {"errors": [message + f" Nothing was changed. Set iomesh_chart_version to {release.get('chart', '').rsplit('-', 1)[-1]} "
                       "(or newer), or iomesh_allow_downgrade: true to downgrade regardless."], "warnings": []}


def release_guards(release: Mapping | None, cluster: Mapping, chart_version: str, allow_conversion: bool = False,
                   allow_downgrade: bool = False) -> dict:
    """Every guard on the management release (no single-cluster conversion, no downgrade), merged; what preflight
    reports and what the management stage enforces itself."""
    results = (release_problems(release, cluster, allow_conversion),
               downgrade_problems(release, cluster, chart_version, allow_downgrade))
    return {"errors": [e for r in results for e in r["errors"]], "warnings": [w for r in results for w in r["warnings"]]}


def _ref(obj: Mapping) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def existing_cluster_problems(existing: Sequence[Mapping], clusters: Sequence[Mapping], allow_conversion: bool = False,
                              governed: Sequence[tuple[str, str]] = ()) -> dict:
    """IOMeshCluster objects already in the API, against the clusters of the inventory.

    - One of ours (same namespace and name) must pin meta, chunk and redirector with node affinity, as the
      manifests and management values this collection renders do; without, it is a single-cluster install
      that deploying would convert (docs/pitfalls.md P2). `governed` lists (namespace, name) pairs a Helm release
      decides (the management cluster when its release exists): release_problems judges those.
    - Another name in one of our namespaces: deploying would put a second IOMesh cluster there.
    - Anywhere else: not ours, but it shares the IOMesh operator (and CSI driver) with our clusters.
    """
    errors: list[str] = []
    warnings: list[str] = []
    ours = {(c["namespace"], c["name"]) for c in clusters}
    by_namespace = {c["namespace"]: c["name"] for c in clusters}
    skipped = {tuple(g) for g in governed}
    foreign = []
    by_ref = {_ref(obj): obj for obj in existing}
    for namespace, name in sorted(by_ref):
        ref = f"{namespace}/{name}"
        if (namespace, name) in ours:
            if (namespace, name) in skipped:
                continue
            unpinned = _unpinned_parts(by_ref[(namespace, name)].get("spec") or {})
            if unpinned:
                result = _conversion(
                    f"IOMeshCluster {ref} exists and its {', '.join(unpinned)} pods carry no node affinity",
                    allow_conversion,
                )
                errors += result["errors"]
                warnings += result["warnings"]
        elif namespace in by_namespace:
            errors.append(
                f"IOMeshCluster {ref} already exists in namespace {namespace}, where the inventory puts cluster "
                f"{by_namespace[namespace]}: deploying would add a second IOMesh cluster to that namespace. Give "
                f"cluster {by_namespace[namespace]} another namespace in iomesh_clusters, or remove {ref} if it is "
                "no longer used."
            )
        else:
            foreign.append(ref)
    if foreign:
        warnings.append(
            f"IOMeshCluster(s) {', '.join(foreign)} exist but are not in iomesh_clusters; the IOMesh operator is "
            "cluster-wide, so they share it (and its upgrades) with the clusters deployed here. Fine if intended; "
            "otherwise add them to iomesh_clusters."
        )
    return {"errors": errors, "warnings": warnings}
