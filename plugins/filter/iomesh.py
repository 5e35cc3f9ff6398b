# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of iomesh.multicluster: validate the inventory and compute every derived Kubernetes block.

The documentation of each filter is in the YAML file of the same name beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import k8s_checks, plan, readiness, render, topology

NORMALISED_KEYS = ("name", "namespace", "nodes", "mount_types", "zookeeper_name", "block_device_namespace")


def _settings(filter_name: str, settings: Mapping | None) -> dict:
    """The plan's settings, checked; None stands for an inventory that sets no collection-wide variable."""
    if settings is None:
        return plan.default_settings()
    if not plan.is_settings(settings):
        raise AnsibleFilterError(
            f"{filter_name}: settings must be the settings of the iomesh.multicluster.iomesh_plan action (every "
            f"collection-wide variable, defaults applied), not raw iomesh_* variables; got {settings!r}"
        )
    return topology.plain(settings)


def _cluster(filter_name: str, cluster: object) -> Mapping:
    if not isinstance(cluster, Mapping) or any(k not in cluster for k in NORMALISED_KEYS):
        raise AnsibleFilterError(
            f"{filter_name}: expects one cluster as returned by iomesh.multicluster.iomesh_topology "
            f"(normalised, with nodes and derived names), got {cluster!r}"
        )
    return cluster


def _management(filter_name: str, cluster: object) -> Mapping:
    cluster = _cluster(filter_name, cluster)
    if not cluster.get("management"):
        raise AnsibleFilterError(f"{filter_name}: cluster {cluster['name']} is not the management cluster")
    return cluster


def _problems(filter_name: str, errors: Sequence[str]) -> str:
    return plan.problems_text(filter_name, errors)


def _nodes(filter_name: str, nodes: object) -> list[str]:
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Sequence) or not nodes:
        raise AnsibleFilterError(f"{filter_name}: nodes must be a non-empty list of node names, got {nodes!r}")
    if not all(isinstance(n, str) and n for n in nodes):
        raise AnsibleFilterError(f"{filter_name}: every node name must be a non-empty string, got {list(nodes)!r}")
    return list(nodes)


def _key(filter_name: str, key: object) -> str:
    if not isinstance(key, str) or not topology._valid_label_key(key):
        raise AnsibleFilterError(f"{filter_name}: key must be a node label key such as kubernetes.io/hostname, got {key!r}")
    return key


def iomesh_topology_report(clusters, groups, hostvars, settings=None):
    """All problems and warnings of the inventory, plus the normalised clusters and settings."""
    if not isinstance(groups, Mapping) or not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("iomesh_topology_report: pass the inventory's groups and hostvars, in that order")
    clusters_out, conf, report = topology.normalize_topology(clusters, groups, hostvars, settings)
    return {"clusters": clusters_out, "settings": conf, "errors": report.errors, "warnings": report.warnings}


def iomesh_topology(clusters, groups, hostvars, settings=None):
    """Normalised cluster list; fails listing every problem at once."""
    report = iomesh_topology_report(clusters, groups, hostvars, settings)
    if report["errors"]:
        raise AnsibleFilterError(_problems("iomesh_topology", report["errors"]))
    return report["clusters"]


def iomesh_settings(settings):
    """Collection-wide settings with defaults applied; fails on invalid values."""
    if settings is not None and not isinstance(settings, Mapping):
        raise AnsibleFilterError(f"iomesh_settings: settings must be a dictionary of iomesh_* variables, got {settings!r}")
    report = topology.TopologyReport()
    conf = topology.normalize_settings(settings, report)
    if report.errors:
        raise AnsibleFilterError(_problems("iomesh_settings", report.errors))
    return conf


def iomesh_node_affinity(nodes, key="kubernetes.io/hostname"):
    return render.node_affinity(_nodes("iomesh_node_affinity", nodes), _key("iomesh_node_affinity", key))


def iomesh_zookeeper_affinity(nodes, app_label, weight=render.ZOOKEEPER_WEIGHT, key="kubernetes.io/hostname"):
    name = "iomesh_zookeeper_affinity"
    if not isinstance(app_label, str) or not topology.LABEL_VALUE.match(app_label) or not app_label:
        raise AnsibleFilterError(f"{name}: app_label must be a label value such as <cluster>-zookeeper, got {app_label!r}")
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
        raise AnsibleFilterError(f"{name}: weight must be a whole number from 1 to 100, got {weight!r}")
    return render.zookeeper_affinity(_nodes(name, nodes), app_label, weight, _key(name, key))


def iomesh_mgmt_values(cluster, settings=None):
    name = "iomesh_mgmt_values"
    cluster = _management(name, cluster)
    return render.mgmt_values(cluster, _settings(name, settings))


def iomesh_mgmt_manifests(rendered, cluster, pull_secrets=None):
    name = "iomesh_mgmt_manifests"
    cluster = _management(name, cluster)
    if not isinstance(rendered, str):
        raise AnsibleFilterError(f"{name}: expects the stdout of helm template (iomesh.multicluster.iomesh_helm_template, "
                                 f"kubernetes.core.helm_template), got {type(rendered).__name__}")
    try:
        return render.mgmt_manifests(rendered, cluster, _pull_secret_names(name, pull_secrets))
    except render.ChartRenderError as exc:
        raise AnsibleFilterError(f"{name}: {exc}") from exc


def _pull_secret_names(filter_name, pull_secrets):
    if pull_secrets is None:
        return ()
    if not isinstance(pull_secrets, list) or not all(isinstance(item, str) for item in pull_secrets):
        raise AnsibleFilterError(f"{filter_name}: pull_secrets must be a list of Secret names "
                                 f"(iomesh_image_pull_secrets), got {pull_secrets!r}")
    return tuple(pull_secrets)


def iomesh_release_problems(release, cluster, settings=None, options=None):
    """The guards every writer of the management release enforces itself: no single-cluster conversion, no downgrade,
    no values set by hand dropped; with options.now, also a revision an interrupted Helm command left pending."""
    name = "iomesh_release_problems"
    cluster = _management(name, cluster)
    if release is not None and not isinstance(release, Mapping):
        raise AnsibleFilterError(f"{name}: release must be the status kubernetes.core.helm_info returns, got {release!r}")
    opts = topology.plain(options or {})
    release = topology.plain(release)
    guards = k8s_checks.release_guards(release, cluster, _settings(name, settings)["iomesh_chart_version"],
                                       bool(opts.get("allow_single_cluster_conversion")),
                                       bool(opts.get("allow_downgrade")), opts.get("values"),
                                       bool(opts.get("allow_reset_values")))
    if opts.get("now") is None:
        return {**guards, "recover": None}
    try:
        pending = k8s_checks.pending_release(release, cluster, opts["now"], int(opts.get("helm_timeout") or 0),
                                             str(opts.get("helm_driver") or ""))
    except ValueError as exc:
        raise AnsibleFilterError(f"{name}: options.now must be a time (now(utc=true)), got {opts['now']!r}") from exc
    return {"errors": guards["errors"] + pending["errors"], "warnings": guards["warnings"] + pending["warnings"],
            "recover": pending["recover"]}


def iomesh_release_change(release, cluster, settings=None, options=None):
    """Whether the management release must be installed or upgraded, why, and the diff (secrets hidden)."""
    name = "iomesh_release_change"
    cluster = _management(name, cluster)
    if release is not None and not isinstance(release, Mapping):
        raise AnsibleFilterError(f"{name}: release must be the status kubernetes.core.helm_info returns, got {release!r}")
    opts = topology.plain(options or {})
    if not isinstance(opts.get("values"), Mapping):
        raise AnsibleFilterError(f"{name}: options.values must be the Helm values the run installs, got {opts.get('values')!r}")
    if opts.get("hidden") is not None and not isinstance(opts["hidden"], Mapping):
        raise AnsibleFilterError(f"{name}: options.hidden must be a dictionary (iomesh_mgmt_extra_values), got {opts['hidden']!r}")
    return k8s_checks.release_change(topology.plain(release), cluster, _settings(name, settings)["iomesh_chart_version"],
                                     opts["values"], opts.get("hidden"))


def iomesh_cluster_manifests(cluster, settings=None, mgmt_cr=None, mgmt_zk=None):
    name = "iomesh_cluster_manifests"
    cluster = _cluster(name, cluster)
    if cluster.get("management"):
        raise AnsibleFilterError(
            f"{name}: cluster {cluster['name']} is the management cluster; its CRs come from the chart "
            "(use iomesh_mgmt_manifests)"
        )
    for what, obj in (("mgmt_cr", mgmt_cr), ("mgmt_zk", mgmt_zk)):
        if obj is not None and not isinstance(obj, Mapping):
            raise AnsibleFilterError(f"{name}: {what} must be the management cluster's object as read, got {obj!r}")
    return render.cluster_manifests(cluster, _settings(name, settings), topology.plain(mgmt_cr), topology.plain(mgmt_zk))


def iomesh_csi_manifests(cluster, settings=None):
    name = "iomesh_csi_manifests"
    return render.csi_manifests(_cluster(name, cluster), _settings(name, settings))


def iomesh_cluster_problems(clusters, nodes, server_version, release=None, settings=None, options=None,
                            iomesh_clusters=None):
    """Problems of the target Kubernetes cluster: nodes, server version, existing releases and IOMeshClusters."""
    name = "iomesh_cluster_problems"
    if isinstance(clusters, (str, bytes)) or not isinstance(clusters, Sequence):
        raise AnsibleFilterError(f"{name}: expects the cluster list returned by iomesh_topology, got {clusters!r}")
    clusters = [_cluster(name, c) for c in clusters]
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Sequence):
        raise AnsibleFilterError(f"{name}: nodes must be the list of Node objects from kubernetes.core.k8s_info")
    existing = _existing(name, iomesh_clusters)
    conf = _settings(name, settings)
    opts = topology.plain(options or {})
    allow_conversion = bool(opts.get("allow_single_cluster_conversion"))
    nodes = topology.plain(nodes)
    release = topology.plain(release)
    results = [
        k8s_checks.node_problems(clusters, nodes, conf["iomesh_node_label_key"]),
        k8s_checks.version_problems(server_version, conf["iomesh_chart_version"],
                                    bool(opts.get("allow_unsupported_kubernetes"))),
    ]
    management = [c for c in clusters if c.get("management")]
    governed = []
    if management:
        results.append(k8s_checks.release_guards(release, management[0], conf["iomesh_chart_version"], allow_conversion,
                                                 bool(opts.get("allow_downgrade"))))
        if release:
            # The release's values decide the management IOMeshCluster; judging its CR too would repeat the release.
            governed.append((management[0]["namespace"], management[0]["name"]))
    results.append(k8s_checks.existing_cluster_problems(topology.plain(existing), clusters, allow_conversion,
                                                        governed))
    results.append({"errors": k8s_checks.upgrade_problems(topology.plain(existing), clusters, release,
                                                          conf["iomesh_chart_version"]), "warnings": []})
    return {
        "errors": [e for r in results for e in r["errors"]],
        "warnings": [w for r in results for w in r["warnings"]],
    }


def _existing(filter_name: str, iomesh_clusters: object) -> list:
    existing = [] if iomesh_clusters is None else iomesh_clusters
    if (isinstance(existing, (str, bytes)) or not isinstance(existing, Sequence)
            or not all(isinstance(o, Mapping) for o in existing)):
        raise AnsibleFilterError(
            f"{filter_name}: iomesh_clusters must be the IOMeshCluster objects from kubernetes.core.k8s_info (its "
            f"resources list), got {iomesh_clusters!r}"
        )
    return topology.plain(existing)


def iomesh_cluster_guards(iomesh_clusters, clusters, options=None):
    """The guards the additional clusters' stage enforces itself, whatever the entry point: an IOMeshCluster of the
    inventory that exists without node affinity is not converted (docs/pitfalls.md P2), and no second IOMesh cluster is
    put in a namespace that has one. The management cluster is its release's to judge (iomesh_release_problems)."""
    name = "iomesh_cluster_guards"
    if isinstance(clusters, (str, bytes)) or not isinstance(clusters, Sequence):
        raise AnsibleFilterError(f"{name}: expects the cluster list returned by iomesh_topology, got {clusters!r}")
    clusters = [_cluster(name, c) for c in clusters]
    governed = [(c["namespace"], c["name"]) for c in clusters if c.get("management")]
    opts = topology.plain(options or {})
    existing = _existing(name, iomesh_clusters)
    found = k8s_checks.existing_cluster_problems(existing, clusters, bool(opts.get("allow_single_cluster_conversion")),
                                                 governed)
    if opts.get("chart_version"):
        found["errors"] += k8s_checks.upgrade_problems(existing, clusters, opts.get("release"), opts["chart_version"])
    return found


def iomesh_readiness(resources, check, **kwargs):
    """Whether what k8s_info returned is ready, with what was expected and seen, for bounded waits."""
    name = "iomesh_readiness"
    if check not in readiness.CHECKS:
        raise AnsibleFilterError(f"{name}: check must be one of {', '.join(sorted(readiness.CHECKS))}, got {check!r}")
    if isinstance(resources, (str, bytes)) or not isinstance(resources, Sequence):
        raise AnsibleFilterError(f"{name}: expects the resources list of kubernetes.core.k8s_info, got {resources!r}")
    try:
        return readiness.CHECKS[check](topology.plain(resources), **topology.plain(kwargs))
    except TypeError as exc:
        raise AnsibleFilterError(f"{name}: wrong arguments for check {check}: {exc}") from exc


class FilterModule:
    """iomesh.multicluster filters."""

    def filters(self):
        return {
            "iomesh_topology": iomesh_topology,
            "iomesh_topology_report": iomesh_topology_report,
            "iomesh_settings": iomesh_settings,
            "iomesh_node_affinity": iomesh_node_affinity,
            "iomesh_zookeeper_affinity": iomesh_zookeeper_affinity,
            "iomesh_mgmt_values": iomesh_mgmt_values,
            "iomesh_cluster_manifests": iomesh_cluster_manifests,
            "iomesh_mgmt_manifests": iomesh_mgmt_manifests,
            "iomesh_release_problems": iomesh_release_problems,
            "iomesh_release_change": iomesh_release_change,
            "iomesh_csi_manifests": iomesh_csi_manifests,
            "iomesh_cluster_problems": iomesh_cluster_problems,
            "iomesh_cluster_guards": iomesh_cluster_guards,
            "iomesh_readiness": iomesh_readiness,
        }
