# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the report stage (role iomesh_report): the topology report as Markdown and Graphviz DOT.

The documentation of each filter is in the YAML file of the same name beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import plan, report_diagram, report_markdown, report_model
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.k8s import cluster_list
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.topology import plain

CLUSTERS_DETAIL = " (normalised, with its nodes, disks, replicas and derived names)"
OBSERVED_LISTS = ("namespaces", "iomesh_clusters", "zookeeper_clusters", "pods", "block_devices", "storage_classes",
                  "configmaps", "errors")
# What report_model.build returns, as the iomesh_report action hands it on.
VIEW_KEYS = ("release", "errors", "verify_ran", "clusters", "outside", "problems")


def _observed(name: str, observed: object) -> dict:
    if observed is None:
        return {}
    if not isinstance(observed, Mapping):
        raise AnsibleFilterError(f"{name}: observed must be a dictionary of what kubernetes.core read, got {observed!r}")
    for key in OBSERVED_LISTS:
        value = observed.get(key)
        if value is not None and (isinstance(value, (str, bytes)) or not isinstance(value, Sequence)):
            raise AnsibleFilterError(f"{name}: observed.{key} must be a list (or null when it could not be read), "
                                     f"got {value!r}")
    release = observed.get("release")
    if release is not None and not isinstance(release, Mapping):
        raise AnsibleFilterError(f"{name}: observed.release must be the status dictionary of "
                                 f"kubernetes.core.helm_info, {{}} when not installed or null, got {release!r}")
    return plain(dict(observed))


def _verify(name: str, results: object) -> list[dict] | None:
    try:
        return report_model.verify_results(results)
    except ValueError as exc:
        raise AnsibleFilterError(f"{name}: {exc}") from exc


def _settings(name: str, settings: object) -> dict | None:
    """The plan's settings, checked; None: not known (the report then renders with the defaults)."""
    if settings is None:
        return None
    if not plan.is_settings(settings):
        raise AnsibleFilterError(
            f"{name}: settings must be the settings of the iomesh.multicluster.iomesh_plan action (every "
            f"collection-wide variable, defaults applied), not raw iomesh_* variables; got {settings!r}"
        )
    return plain(dict(settings))


def _view(name: str, clusters: object, observed: object, verify_results: object, settings: object) -> dict:
    """The view every report filter renders, from its arguments, checked."""
    return report_model.build(cluster_list(name, clusters, plan.CLUSTER_KEYS, CLUSTERS_DETAIL), _observed(name, observed),
                              _verify(name, verify_results), _settings(name, settings))


def iomesh_report_markdown(clusters, observed, verify_results=None, meta=None, settings=None):
    """The report as Markdown: problems first, then clusters, namespaces, nodes, disks, StorageClass, verification."""
    name = "iomesh_report_markdown"
    if meta is not None and not isinstance(meta, Mapping):
        raise AnsibleFilterError(f"{name}: meta must be a dictionary, got {meta!r}")
    return report_markdown.markdown(_view(name, clusters, observed, verify_results, settings), plain(meta or {}))


def iomesh_report_view_markdown(view, meta=None):
    """The report as Markdown, from the view the iomesh_report action returns (what was read, judged once)."""
    name = "iomesh_report_view_markdown"
    if not isinstance(view, Mapping) or not all(key in view for key in VIEW_KEYS):
        raise AnsibleFilterError(f"{name}: expects the view the iomesh.multicluster.iomesh_report action returns "
                                 f"(keys {', '.join(VIEW_KEYS)}), got {str(view)[:200]!r}")
    if meta is not None and not isinstance(meta, Mapping):
        raise AnsibleFilterError(f"{name}: meta must be a dictionary, got {meta!r}")
    return report_markdown.markdown(plain(view), plain(meta or {}))


def iomesh_report_diagram(clusters, observed, verify_results=None, settings=None):
    """The topology as Graphviz DOT source."""
    name = "iomesh_report_diagram"
    return report_diagram.dot(_view(name, clusters, observed, verify_results, settings))


def iomesh_report_problems(clusters, observed, verify_results=None, settings=None):
    """The problems the report lists, one message each."""
    name = "iomesh_report_problems"
    return _view(name, clusters, observed, verify_results, settings)["problems"]


class FilterModule:
    """iomesh.multicluster report filters."""

    def filters(self):
        return {
            "iomesh_report_markdown": iomesh_report_markdown,
            "iomesh_report_view_markdown": iomesh_report_view_markdown,
            "iomesh_report_diagram": iomesh_report_diagram,
            "iomesh_report_problems": iomesh_report_problems,
        }
