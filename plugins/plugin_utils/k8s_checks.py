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
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import monitoring

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


def _node_affinity(section: Mapping, part: str) -> Mapping:
    """The nodeAffinity of one part (meta, chunk, redirector) of an IOMeshCluster spec or of the chart's `iomesh`
    values; empty when it has none."""
    return (((section.get(part) or {}).get("podPolicy") or {}).get("affinity") or {}).get("nodeAffinity") or {}


def _unpinned_parts(section: Mapping) -> list[str]:
    """Parts of an IOMeshCluster spec (or of the chart's `iomesh` values) without required node affinity."""
    return [part for part in PINNED_PARTS if not _node_affinity(section, part)]


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
    text = str(text)  # None reads "None": no version, as any other text without one
    match = RELEASE_CHART.match(text) or re.match(r"^v?(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(match.group(i)) for i in (1, 2, 3)) if match else None


def downgrade_problems(release: Mapping | None, cluster: Mapping, chart_version: str, allow_downgrade: bool = False) -> dict:
    """An installed release of a newer chart than iomesh_chart_version: Helm would roll IOMesh back (docs/pitfalls.md P2
    lists what IOMesh supports; it publishes no downgrade path)."""
    if not release:
        return {"errors": [], "warnings": []}
    chart = release.get("chart")
    installed = _chart_version(chart)
    wanted = _chart_version(chart_version)
    if installed is None or wanted is None or installed <= wanted:
        return {"errors": [], "warnings": []}
    message = (f"Helm release {cluster['name']} in namespace {cluster['namespace']} runs chart {chart}, "
               f"newer than iomesh_chart_version {chart_version}: the run would downgrade IOMesh, which IOMesh does not "
               "support.")
    if allow_downgrade:
        return {"errors": [], "warnings": [message + " Downgrading anyway: iomesh_allow_downgrade is true."]}
    return {"errors": [message + f" Nothing was changed. Set iomesh_chart_version to {str(chart).rpartition('-')[2]} "
                       "(or newer), or iomesh_allow_downgrade: true to downgrade regardless."], "warnings": []}


def _leaf_paths(values: object, prefix: tuple = ()) -> dict[tuple, object]:
    """Key paths (tuples of keys) of a values tree down to its leaves (a list is a leaf, as Helm merges lists whole; an
    empty mapping has none: merged with the chart's defaults, it changes nothing). Tuples, not dotted strings: a key may
    hold a dot (kubernetes.io/hostname in a nodeSelector)."""
    if isinstance(values, Mapping):
        out: dict[tuple, object] = {}
        for key in sorted(values, key=str):
            out.update(_leaf_paths(values[key], prefix + (str(key),)))
        return out
    return {prefix: values} if prefix else {}


def _path_text(path: tuple) -> str:
    """A key path as helm --set writes it: keys joined by dots, a dot inside a key escaped (kubernetes\\.io/hostname)."""
    return ".".join(key.replace(".", "\\.") for key in path)


def hand_set_values(live: Mapping | None, wanted: Mapping) -> list[str]:
    """Key paths (as helm --set writes them) the live release was given (helm's user-supplied values) that the
    collection does not render: set by hand (`helm upgrade --set`, another tool). An upgrade with the computed values
    would drop them (docs/pitfalls.md P24). A key the collection renders is owned by the inventory and never listed
    here."""
    wanted_paths = _leaf_paths(wanted)
    return [_path_text(path) for path in _leaf_paths(live or {})
            if not any(path[:n] in wanted_paths for n in range(1, len(path) + 1))]


def values_problems(release: Mapping | None, cluster: Mapping, wanted: Mapping | None,
                    allow_reset: bool = False) -> dict:
    """Refuse an upgrade that would drop values set by hand, unless iomesh_mgmt_reset_values allows it."""
    if not release or wanted is None:
        return {"errors": [], "warnings": []}
    dropped = [path for path in hand_set_values(release.get("release_values", release.get("values")), wanted)
               if not monitoring.owned_value(path)]
    if not dropped:
        return {"errors": [], "warnings": []}
    message = (f"Helm release {cluster['name']} in namespace {cluster['namespace']} has values the inventory does not "
               f"set ({', '.join(dropped)}): set by hand, they would be reset to the chart's defaults by the upgrade "
               "(docs/pitfalls.md P24).")
    if allow_reset:
        return {"errors": [], "warnings": [message + " Resetting them: iomesh_mgmt_reset_values is true."]}
    return {"errors": [message + " Nothing was changed. Keep them by adding them to iomesh_mgmt_extra_values, or set "
                       "iomesh_mgmt_reset_values: true to drop them."], "warnings": []}


def release_guards(release: Mapping | None, cluster: Mapping, chart_version: str, allow_conversion: bool = False,
                   allow_downgrade: bool = False, wanted_values: Mapping | None = None,
                   allow_reset_values: bool = False) -> dict:
    """Every guard on the management release (no single-cluster conversion, no downgrade, no values set by hand
    dropped), merged; what preflight reports and what the management stage enforces itself. The values guard needs
    the values the run would install (`wanted_values`); without them it is skipped."""
    results = (release_problems(release, cluster, allow_conversion),
               downgrade_problems(release, cluster, chart_version, allow_downgrade),
               values_problems(release, cluster, wanted_values, allow_reset_values))
    return {"errors": [e for r in results for e in r["errors"]], "warnings": [w for r in results for w in r["warnings"]]}


# A value is shown in a diff as HIDDEN when it came from iomesh_mgmt_extra_values (it may carry a registry or licence
# credential) or when its key names a secret.
SECRET_KEY = re.compile(r"(?i)(password|passwd|secret|token|credential|licen[cs]e|auth|private|key)$")
HIDDEN = "(hidden)"


def _masked(paths: Mapping[tuple, object], hidden: set[tuple], other_paths: Mapping[tuple, object]) -> dict:
    """The values tree of the leaves `paths` (_leaf_paths), every hidden leaf replaced by HIDDEN, or by
    '(hidden, changed)' where `other_paths` differs there."""
    out: dict = {}
    for path, value in paths.items():
        if path in hidden or SECRET_KEY.search(path[-1]):
            value = HIDDEN if other_paths.get(path, HIDDEN) == value else "(hidden, changed)"
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return out


def _yaml(data: Mapping) -> str:
    # Imported here: PyYAML comes with ansible-core; the checks above need nothing but the standard library.
    import yaml  # pylint: disable=import-outside-toplevel
    # Block style and sorted keys are PyYAML's defaults (>= 5.1); no line is folded, however long its value.
    return yaml.safe_dump(data, width=math.inf)


def release_change(release: Mapping | None, cluster: Mapping, chart_version: str, wanted: Mapping,
                   hidden: Mapping | None = None) -> dict:
    """Whether the management release must be installed or upgraded, why, and the difference as Ansible shows a diff.

    The collection's own comparison, so that --check --diff shows what an upgrade would change without Helm's diff
    plugin: the chart version and the user-supplied values of the live release (what helm_info returns) against the
    chart version and values the run installs. A last revision that is not deployed (failed, pending) is upgraded
    again. Values at the paths of `hidden` (iomesh_mgmt_extra_values) or under a key that names a secret are shown as
    (hidden) and, when they differ, (hidden, changed): the diff never prints a credential."""
    wanted = dict(wanted or {})
    hidden_paths = set(_leaf_paths(hidden or {}))
    where = f"Helm release {cluster['namespace']}/{cluster['name']}"
    wanted_paths = _leaf_paths(wanted)
    if not release:
        after = {"chart": chart_version, "values": _masked(wanted_paths, hidden_paths, {})}
        return {"changed": True, "reasons": ["not installed"],
                "msg": f"{where} is not installed: install chart {chart_version}.",
                "diff": {"before": "", "after": _yaml(after), "before_header": f"{where} (not installed)",
                         "after_header": f"{where} as the inventory computes it"}}
    live = dict(release.get("release_values", release.get("values")) or {})
    installed = str(release.get("chart") or "")
    live_version = installed.rpartition("-")[2]
    status = str(release.get("status") or "")
    reasons = []
    if status.lower() != "deployed":
        reasons.append(f"its last revision is {status or 'in no known state'}")
    if _chart_version(installed) != _chart_version(chart_version):
        reasons.append(f"chart {live_version or '?'} -> {chart_version}")
    live_paths, absent = _leaf_paths(live), object()
    changed_paths = sorted(path for path in set(live_paths) | set(wanted_paths)
                           if live_paths.get(path, absent) != wanted_paths.get(path, absent))
    if changed_paths:
        reasons.append(f"values at {', '.join(_path_text(p) for p in changed_paths[:8])}"
                       + (" and more" if len(changed_paths) > 8 else ""))
    before = {"chart": live_version, "values": _masked(live_paths, hidden_paths, wanted_paths)}
    after = {"chart": chart_version, "values": _masked(wanted_paths, hidden_paths, live_paths)}
    revision = release.get("revision")
    return {"changed": bool(reasons), "reasons": reasons,
            "msg": (f"{where} would be upgraded: {'; '.join(reasons)}." if reasons
                    else f"{where} runs chart {chart_version} with the values of the inventory."),
            "diff": {"before": _yaml(before), "after": _yaml(after),
                     "before_header": f"{where} (revision {revision}, {status})",
                     "after_header": f"{where} as the inventory computes it"}}


# A revision Helm left unfinished: every other operation on the release is refused until its record is removed.
PENDING_STATUSES = ("pending-install", "pending-upgrade", "pending-rollback")
# Beyond the operation's own --timeout: the time Helm may spend rendering and writing before the hooks' wait starts.
PENDING_GRACE_SECONDS = 60
# Where Helm keeps a release's revisions, by HELM_DRIVER (Helm's storage drivers; sql and memory are not objects).
HELM_RECORD_KINDS = {"": "Secret", "secret": "Secret", "secrets": "Secret", "configmap": "ConfigMap",
                     "configmaps": "ConfigMap"}
# How helm list (and so helm_info) writes a time: 2026-12-04 19:50:29.1966487 +0000 UTC.
HELM_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.\d+)?\s*(?:([+-]\d{2}):?(\d{2})|Z)?")


def helm_time(text: object) -> datetime | None:
    """The time of a helm list entry, timezone-aware; None when it cannot be read."""
    match = HELM_TIME.match(str(text or ""))
    if not match:
        return None
    sign = -1 if (match.group(3) or "").startswith("-") else 1
    offset = timedelta(minutes=sign * (abs(int(match.group(3) or 0)) * 60 + int(match.group(4) or 0)))
    return datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}").replace(tzinfo=timezone(offset))


def _as_time(value: object) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def pending_release(release: Mapping | None, cluster: Mapping, now: object, helm_timeout: int,
                    helm_driver: str = "") -> dict:
    """A release whose last revision is still pending-*: the Helm command that made it was interrupted, or still runs.

    Helm refuses every other operation on such a release ("another operation (install/upgrade/rollback) is in
    progress") until the record of that revision is removed; the objects it created stay and the next install or
    upgrade adopts them (they carry the release's ownership annotations). Older than iomesh_mgmt_helm_timeout plus a
    grace period, no Helm command of this collection can still be working on it, so the record is removed (`recover`);
    younger, the run stops with the command to recover by hand (docs/pitfalls.md P24).
    Returns {"errors": [...], "warnings": [...], "recover": {"kind", "name", "revision"} or None}.
    """
    status = str((release or {}).get("status") or "")
    if status not in PENDING_STATUSES:
        return {"errors": [], "warnings": [], "recover": None}
    name, namespace = cluster["name"], cluster["namespace"]
    revision = str(release.get("revision") or "")
    kind = HELM_RECORD_KINDS.get(str(helm_driver or "").lower())
    record = f"sh.helm.release.v1.{name}.v{revision}"
    where = f"Helm release {namespace}/{name} is {status} (revision {revision}, since {release.get('updated')})"
    if kind is None:
        return {"errors": [f"{where}, and HELM_DRIVER={helm_driver} keeps its record outside Kubernetes objects: "
                           "Nothing was changed. Recover as Helm documents for that driver, then re-run."],
                "warnings": [], "recover": None}
    started = helm_time(release.get("updated"))
    age = int((_as_time(now) - started).total_seconds()) if started else None
    limit = int(helm_timeout) + PENDING_GRACE_SECONDS
    manual = f"kubectl -n {namespace} delete {kind.lower()} {record}"
    if age is None or age <= limit:
        wait = f"re-run in {limit - age} s" if age is not None else "re-run later"
        return {"errors": [f"{where}: a Helm operation on it has not finished. Nothing was changed. If a helm command "
                           f"is still running on it, let it finish; if it was interrupted (a killed run), {wait}, when it "
                           f"is older than iomesh_mgmt_helm_timeout + {PENDING_GRACE_SECONDS} s and the run removes "
                           f"the unfinished revision itself, or remove it now with: {manual} (Helm's record of that "
                           "revision only; the objects it created stay, and the next run adopts them)."],
                "warnings": [], "recover": None}
    return {"errors": [], "recover": {"kind": kind, "name": record, "revision": revision},
            "warnings": [f"{where}, {age} s ago, longer than any Helm command of this collection runs "
                         f"(iomesh_mgmt_helm_timeout + {PENDING_GRACE_SECONDS} s): an interrupted run left it. Removing "
                         f"that revision's record ({kind} {record}) so that Helm can install or upgrade the release "
                         "again (docs/pitfalls.md P24)."]}


def _ref(obj: Mapping) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


# What IOMesh documents for taking capacity away (domain notes §11, "Scale down"; docs/day-2.md): never automated here.
SCALE_DOWN_PROCEDURE = (
    "IOMesh takes chunk pods away only by hand, one at a time, highest ordinal first: find the chunk's id by its "
    "node's data IP in the IOMeshCluster's status.summary.chunkSummary.chunks, run `/opt/iomesh/iomeshctl chunk "
    "unregister <id>` in the iomesh-meta container of the meta leader (the pod labelled iomesh.com/meta-leader), "
    "wait until the chunk is gone from the status (minutes to hours), then lower the replicas by one in the "
    "IOMeshCluster and in the inventory; take a node out of the cluster's group only once no pod of the cluster "
    "runs on it (docs/day-2.md, \"Scale-down\")"
)


def pinned_nodes(spec: Mapping) -> list[str]:
    """The nodes an IOMeshCluster's required node affinity allows its meta, chunk and redirector pods on, sorted."""
    nodes: set[str] = set()
    for part in PINNED_PARTS:
        required = _node_affinity(spec, part).get("requiredDuringSchedulingIgnoredDuringExecution") or {}
        for term in required.get("nodeSelectorTerms") or []:
            for expression in term.get("matchExpressions") or []:
                if expression.get("operator") == "In":
                    nodes.update(str(value) for value in expression.get("values") or [])
    return sorted(nodes)


def _replicas(spec: Mapping, part: str) -> int | None:
    value = (spec.get(part) or {}).get("replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def scale_down_problems(existing: Sequence[Mapping], clusters: Sequence[Mapping]) -> list[str]:
    """The IOMeshClusters of the inventory that a deployment would scale down: fewer chunk or meta pods than they run,
    or nodes taken out of their node affinity (which would move their pods, and their data, off those nodes). The
    collection scales out by re-run and never scales down (docs/day-2.md)."""
    by_ref = {_ref(obj): obj for obj in existing}
    errors = []
    for cluster in sorted(clusters, key=lambda c: (c["namespace"], c["name"])):
        live = by_ref.get((cluster["namespace"], cluster["name"]))
        if live is None:
            continue
        spec = live.get("spec") or {}
        shrinks = []
        for part in ("chunk", "meta"):
            have, want = _replicas(spec, part), cluster[f"{part}_replicas"]
            if have is not None and have > want:
                shrinks.append(f"{part} pods from {have} to {want} ({part}_replicas)")
        removed = [node for node in pinned_nodes(spec) if node not in cluster["nodes"]]
        if removed:
            shrinks.append(f"node{'s' if len(removed) > 1 else ''} {', '.join(removed)} taken out of the cluster "
                           f"(not in group {cluster['hosts_group']} any more)")
        if shrinks:
            errors.append(
                f"IOMeshCluster {cluster['namespace']}/{cluster['name']} would be scaled down: "
                f"{'; '.join(shrinks)}. The collection never scales a cluster down: {SCALE_DOWN_PROCEDURE}. "
                "Nothing was changed; put the inventory back as the cluster runs, or finish the procedure first."
            )
    return errors


def upgrade_problems(existing: Sequence[Mapping], clusters: Sequence[Mapping], release: Mapping | None,
                     chart_version: str) -> list[str]:
    """An upgrade (the management release's chart to another version, every cluster's images after it) of a cluster
    that runs one meta or one chunk pod: IOMesh never starts it (docs/pitfalls.md P11), and the cluster would be left
    between versions. No release, or one of the chart version already, is no upgrade."""
    installed = _chart_version((release or {}).get("chart"))
    wanted = _chart_version(chart_version)
    if not release or installed is None or installed == wanted:
        return []
    by_ref = {_ref(obj): obj for obj in existing}
    errors = []
    for cluster in sorted(clusters, key=lambda c: (c["namespace"], c["name"])):
        spec = (by_ref.get((cluster["namespace"], cluster["name"])) or {}).get("spec") or {}
        single = [part for part in ("meta", "chunk") if _replicas(spec, part) == 1]
        if single:
            errors.append(
                f"IOMeshCluster {cluster['namespace']}/{cluster['name']} runs a single {' and a single '.join(single)} "
                f"pod: IOMesh never starts an upgrade of such a cluster (docs/pitfalls.md P11), so upgrading chart "
                f"{release.get('chart')} to {chart_version} would leave it behind. Nothing was changed. Scale it out "
                "first (3 or 5 meta pods, at least 3 chunk pods: meta_replicas, chunk_replicas) with iomesh_chart_version "
                f"{str(release.get('chart')).rpartition('-')[2]}, then upgrade."
            )
    return errors


def existing_cluster_problems(existing: Sequence[Mapping], clusters: Sequence[Mapping], allow_conversion: bool = False,
                              governed: Sequence[tuple[str, str]] = ()) -> dict:
    """IOMeshCluster objects already in the API, against the clusters of the inventory.

    - One of ours (same namespace and name) must pin meta, chunk and redirector with node affinity, as the
      manifests and management values this collection renders do; without, it is a single-cluster install
      that deploying would convert (docs/pitfalls.md P2). `governed` lists (namespace, name) pairs a Helm release
      decides (the management cluster when its release exists): release_problems judges those.
    - Another name in one of our namespaces: deploying would put a second IOMesh cluster there.
    - Anywhere else: not ours, but it shares the IOMesh operator (and CSI driver) with our clusters.
    - Any of ours, governed or not, that the inventory would scale down (scale_down_problems).
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
    errors += scale_down_problems(existing, clusters)
    if foreign:
        warnings.append(
            f"IOMeshCluster(s) {', '.join(foreign)} exist but are not in iomesh_clusters; the IOMesh operator is "
            "cluster-wide, so they share it (and its upgrades) with the clusters deployed here. Fine if intended; "
            "otherwise add them to iomesh_clusters."
        )
    return {"errors": errors, "warnings": warnings}
