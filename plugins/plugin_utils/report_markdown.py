# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology report as Markdown, rendered from the view report_model.build judged.

Problems first, then a summary table, then one section per cluster (namespace, IOMeshCluster, ZooKeeper, pods
per node, disks, StorageClass, CSI ConfigMap, verification), the diagrams last. Nothing is judged here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible_collections.iomesh.multicluster.plugins.plugin_utils.report_diagram import mermaid
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.report_model import (
    NOT_RUN,
    VERIFY_RAN,
    UNKNOWN,
    existence as _exists,
)


def _cell(value: object) -> str:
    """A Markdown table cell: pipes escaped, no line breaks."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _code(value: object) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"  # as Kubernetes writes them
    return f"`{value}`" if value not in (None, "") else "-"


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
        if cr["images"]:
            extra.append(f"images {cr['images']}")
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
        # The claim's and the volume's names (named for the run: docs/architecture.md, "One run at a time") and the
        # test pod's node change from run to run: left out, so that a re-run over an unchanged deployment writes the
        # same report (the run's output names them).
        lines.append(f"- Verification claim in namespace {_code(v.get('namespace'))} on StorageClass "
                     f"{_code(v.get('storage_class'))}: phase {v.get('phase') or '-'}")
        lines.append(f"- Volume of driver {_code(v.get('driver'))}, "
                     f"allowed nodes {', '.join(v['pv_nodes']) or '-'}"
                     + ("" if v.get("within_cluster_nodes") is None else
                        f" ({'within' if v['within_cluster_nodes'] else 'NOT within'} the cluster's nodes)"))
        if v.get("pod"):
            lines.append("- Test pod using it ran on "
                         + ("a node of the cluster" if v.get("pod_node") in v["cluster_nodes"]
                            else _code(v.get("pod_node"))))
        if v["result"] != "passed" and v.get("message"):
            lines.append(f"- Message: {v['message']}")
    lines.append("")
    return lines


def markdown(view: Mapping, meta: Mapping | None = None) -> str:
    """The report of `view` (report_model.build).

    `meta`: generated_at (a "Generated at" line), mermaid (include the Mermaid diagram, default true),
    diagram_source and diagram_image (file names the report links to) and renderer_note (why there is no picture).
    """
    meta = meta or {}
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
        f"- Verification: {VERIFY_RAN if view['verify_ran'] else NOT_RUN}",
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
