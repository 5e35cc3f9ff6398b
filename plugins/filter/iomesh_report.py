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
    if results is None:
        return None
    if isinstance(results, (str, bytes)) or not isinstance(results, Sequence) or \
            not all(isinstance(r, Mapping) and r.get("cluster") for r in results):
        raise AnsibleFilterError(f"{name}: verify_results must be null (verification not run) or a list of "
                                 f"dictionaries each with a cluster key, as iomesh_verify sets it; got {results!r}")
    return plain(list(results))


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
            "iomesh_report_diagram": iomesh_report_diagram,
            "iomesh_report_problems": iomesh_report_problems,
        }
