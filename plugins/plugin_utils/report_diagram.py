# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology of the report as diagrams: Graphviz DOT (the picture beside the report) and Mermaid (in it).

Both draw the view report_model.build judged: the management Helm release, per cluster its IOMeshCluster,
nodes with their pods, disks and StorageClass, and the verification claim. What is missing or wrong is drawn
dashed and red. Identifiers are derived from names only, so an unchanged deployment draws byte-identical text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ansible_collections.iomesh.multicluster.plugins.plugin_utils.report_model import (
    COMPONENT_NAMES,
    disk_name,
    existence as _exists,
)


def _dot_id(*parts: str) -> str:
    text = ":".join(parts)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_label(lines: Sequence[str]) -> str:
    text = "\\n".join(str(x).replace("\\", "\\\\").replace('"', '\\"') for x in lines)
    return f'"{text}"'


def _node_label(cv: Mapping, node: str) -> list[str]:
    counts = cv["pods"]["per_node"][node]  # every node drawn is one of per_node's, with a count for every component
    parts = [c if counts[c][1] == 1 else f"{c} x{counts[c][1]}" for c in COMPONENT_NAMES if counts[c][1]]
    label = [node]
    if parts:
        label.append(", ".join(parts))
    if cv["cr"]["leader_node"] == node:
        label.append("meta leader")
    return label


def _disk_label(row: Mapping) -> list[str]:
    return [disk_name(row),
            " ".join(x for x in (row["mount_type"] or "-", row["size"]) if x),
            "attached" if row["attached"] else (row["claim_state"] or "not found").lower()]


def _release_lines(rel: Mapping, revision: bool) -> list[str]:
    """The management release's box in either diagram: its chart (and revision) when found, "not installed" when the
    API said there is none, "unknown" when it could not be read (found is None)."""
    if rel["found"]:
        state = rel["chart"] + (" rev " + rel["revision"] if revision else "")
    else:
        state = "not installed" if rel["found"] is False else "unknown"
    return ["Helm release " + rel["name"], state]


def dot(view: Mapping) -> str:
    """The Graphviz DOT source of `view` (report_model.build)."""
    out = [
        "digraph iomesh {",
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, label="IOMesh multi-cluster topology", labelloc=t];',
        '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    rel = view["release"]
    release_id = _dot_id("release", rel["name"])
    rel_label = _release_lines(rel, revision=True)
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
            out.append(f"  {pvc_id} [shape=oval{color}, label={_dot_label(['verification claim', v['result']])}];")
            out.append(f"  {pvc_id} -> {sc_id};")
    out.append("}")
    return "\n".join(out) + "\n"


def _mm_id(*parts: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9]", "_", "_".join(parts))


def _mm_label(lines: Sequence[str]) -> str:
    text = "<br/>".join(str(x) for x in lines)
    return '"' + text.replace('"', "#quot;") + '"'


def mermaid(view: Mapping) -> str:
    """The Mermaid flowchart of `view` (report_model.build), for the Markdown report."""
    out = ["flowchart LR"]
    rel = view["release"]
    rel_id = _mm_id("release", rel["name"])
    out.append(f"  {rel_id}[{_mm_label(_release_lines(rel, revision=False))}]")
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
            out.append(f"  {pvc_id}([{_mm_label(['verification claim', v['result']])}])")
            out.append(f"  {pvc_id} --> {sc_id}")
    return "\n".join(out) + "\n"
