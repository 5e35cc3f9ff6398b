# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the guarded teardown (plugins/plugin_utils/teardown.py; docs/day-2.md, "Teardown").

The documentation of each filter is in the YAML file of the same name beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import plan as plan_utils
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import teardown, topology
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.k8s import object_list

LIVE_LISTS = ("storage_classes", "claims", "pods", "configmaps", "iomesh_clusters", "zookeeper_clusters", "namespaces",
              "block_devices", "monitors", "volumes", "kept", "crds")


def _plan(filter_name: str, value: object) -> dict:
    if not isinstance(value, Mapping) or not all(plan_utils.is_cluster(c) for c in value.get("clusters") or [None]):
        raise AnsibleFilterError(f"{filter_name}: expects the plan iomesh.multicluster.iomesh_plan returns, got {value!r}")
    return topology.plain(value)


def _selection(filter_name: str, value: object) -> dict:
    if not isinstance(value, Mapping) or not {"clusters", "all", "errors"} <= set(value):
        raise AnsibleFilterError(f"{filter_name}: expects what iomesh_teardown_selection returns, got {value!r}")
    return topology.plain(value)


def _live(filter_name: str, value: object, release: object = None) -> dict:
    """The objects iomesh_read returned for the reads of iomesh_teardown_reads."""
    if not isinstance(value, Mapping):
        raise AnsibleFilterError(f"{filter_name}: live must be the objects iomesh_read returned for the reads of "
                                 f"iomesh_teardown_reads, got {value!r}")
    lists = {key: object_list(filter_name, f"live[{key!r}]", objects, allow_none=True)
             for key, objects in value.items()}
    out = teardown.live_objects(lists)
    unknown = sorted(set(out) - set(LIVE_LISTS))
    if unknown:
        raise AnsibleFilterError(f"{filter_name}: live has unknown read(s) {', '.join(unknown)}; the reads are "
                                 "iomesh_teardown_reads'")
    out["release"] = topology.plain(release)
    return out


def iomesh_teardown_reads(selection, plan, after=False):
    """The reads (iomesh.multicluster.iomesh_read) the teardown is planned from, or with after its leftovers listed."""
    name = "iomesh_teardown_reads"
    return teardown.reads(_plan(name, plan), _selection(name, selection), bool(after))


def iomesh_teardown_selection(plan, confirm, clusters):
    """The clusters to remove (all, or named) and why the teardown is refused, before anything is read."""
    return teardown.select(_plan("iomesh_teardown_selection", plan), confirm, topology.plain(clusters))


def iomesh_teardown_plan(selection, plan, live, release=None, force=False, keep_namespaces=False):
    """What the teardown deletes, in order (only what exists), the printed plan, and what refuses it."""
    name = "iomesh_teardown_plan"
    for option, value in (("force", force), ("keep_namespaces", keep_namespaces)):
        if not isinstance(value, bool):
            raise AnsibleFilterError(f"{name}: {option} must be true or false, got {value!r}")
    return teardown.plan(_plan(name, plan), _selection(name, selection), _live(name, live, release), force,
                         keep_namespaces)


def iomesh_teardown_leftovers(selection, plan, live):
    """What the teardown leaves for the operator: volumes, kept objects, the chart's CRDs, the released disks."""
    name = "iomesh_teardown_leftovers"
    return teardown.leftovers(_plan(name, plan), _selection(name, selection), _live(name, live))


class FilterModule:
    """iomesh.multicluster filters of the teardown."""

    def filters(self):
        return {
            "iomesh_teardown_selection": iomesh_teardown_selection,
            "iomesh_teardown_reads": iomesh_teardown_reads,
            "iomesh_teardown_plan": iomesh_teardown_plan,
            "iomesh_teardown_leftovers": iomesh_teardown_leftovers,
        }
