# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the report stage (role iomesh_report): the topology report as Markdown and Graphviz DOT.

The documentation of each filter is in the YAML file of the same name beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import report
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.topology import plain

CLUSTER_KEYS = ("name", "namespace", "nodes")
OBSERVED_LISTS = ("namespaces", "iomesh_clusters", "zookeeper_clusters", "pods", "block_devices", "storage_classes",
                  "configmaps", "errors")


def _clusters(name: str, clusters: object) -> list[dict]:
    if isinstance(clusters, (str, bytes)) or not isinstance(clusters, Sequence):
        raise AnsibleFilterError(f"{name}: expects the cluster list returned by iomesh.multicluster.iomesh_topology, "
                                 f"got {clusters!r}")
    for cluster in clusters:
        if not isinstance(cluster, Mapping) or any(k not in cluster for k in CLUSTER_KEYS):
            raise AnsibleFilterError(
                f"{name}: every cluster must be one returned by iomesh.multicluster.iomesh_topology (normalised, "
                f"with name, namespace and nodes), got {cluster!r}"
            )
    return plain(list(clusters))


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


def iomesh_report_markdown(clusters, observed, verify_results=None, meta=None):
    """The report as Markdown: problems first, then clusters, namespaces, nodes, disks, StorageClass, verification."""
    name = "iomesh_report_markdown"
    if meta is not None and not isinstance(meta, Mapping):
        raise AnsibleFilterError(f"{name}: meta must be a dictionary, got {meta!r}")
    return report.markdown(_clusters(name, clusters), _observed(name, observed), _verify(name, verify_results),
                           plain(meta or {}))


def iomesh_report_diagram(clusters, observed, verify_results=None):
    """The topology as Graphviz DOT source."""
    name = "iomesh_report_diagram"
    return report.diagram(_clusters(name, clusters), _observed(name, observed), _verify(name, verify_results))


def iomesh_report_problems(clusters, observed, verify_results=None):
    """The problems the report lists, one message each."""
    name = "iomesh_report_problems"
    return report.problems(_clusters(name, clusters), _observed(name, observed), _verify(name, verify_results))


class FilterModule:
    """iomesh.multicluster report filters."""

    def filters(self):
        return {
            "iomesh_report_markdown": iomesh_report_markdown,
            "iomesh_report_diagram": iomesh_report_diagram,
            "iomesh_report_problems": iomesh_report_problems,
        }
