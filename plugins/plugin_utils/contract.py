# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory contract, declared once: the collection-wide variables and the keys of iomesh_clusters.

Each entry is an Ansible argument spec (type, default, description in Ansible's doc markup). From here come the
defaults the topology applies (topology.SETTINGS_DEFAULTS, CLUSTER_KEYS, STORAGE_CLASS_DEFAULTS), every role's
meta/argument_specs.yml (written by scripts/argument_specs.py, checked by tests/unit/test_contract.py) and the
README's tables of the contract. Argument-spec validation refuses a value of the wrong type before a role's first
task; the rules across fields and hosts (names, sizes, replicas, networks, disks) are topology.py's, which names the
cluster and host of every problem (docs/architecture.md, "Validation rules").

Keys of iomesh_clusters that a cluster cannot do without (name, hosts_group, data_cidr) are not marked required
here: Ansible would only say "missing required arguments: data_cidr found in iomesh_clusters", while the topology
names the cluster that lacks it and reports every missing key at once.
"""

from __future__ import annotations

from ansible_collections.iomesh.multicluster.plugins.plugin_utils.constants import HOSTNAME_LABEL

# Collection-wide settings: every Kubernetes stage reads all of them through its plan (iomesh_plan).
SETTINGS = {
    "iomesh_chart_version": {
        "type": "str", "default": "v1.0.1",
        "description": "IOMesh chart version, with the leading C(v) (v1.0.0, v1.0.1, v1.1.0, v1.2.0 are built in).",
    },
    "iomesh_app_version": {
        "type": "str", "default": "",
        "description": "zbs image tag stem of meta, chunk and redirector; empty takes it from the chart version "
                       "(v1.0.x gives C(v5.3.0-rc13)). Set it for a chart not in the built-in table.",
    },
    "iomesh_chart_repo_url": {
        "type": "str", "default": "http://iomesh.com/charts",
        "description": "Helm repository of the chart (C(http://), C(https://) or C(oci://)).",
    },
    "iomesh_chart_ref": {
        "type": "str", "default": "",
        "description": "A chart directory or C(.tgz) on the controller; overrides the repository (offline installs, "
                       "docs/air-gap.md).",
    },
    "iomesh_chart_name": {
        "type": "str", "default": "iomesh",
        "description": "The chart's name in the repository index (chart v1.2.0 calls itself C(IOMesh)); ignored with "
                       "C(iomesh_chart_ref).",
    },
    "iomesh_edition": {
        "type": "str", "default": "community",
        "description": "IOMesh edition, C(community) or C(enterprise). The community edition runs at most 3 chunk "
                       "pods per cluster.",
    },
    "iomesh_platform": {
        "type": "str", "default": "",
        "description": "CPU platform of the images: empty (Intel x86_64, Kunpeng) or C(hygon_x86_64).",
    },
    "iomesh_k8s_cluster_id": {
        "type": "str", "default": "k8s-cluster",
        "description": "C(data.clusterId) of every CSI connection ConfigMap (identical in all); no spaces.",
    },
    "iomesh_kubeconfig": {
        "type": "str", "default": "",
        "description": "Kubeconfig of every Kubernetes call; empty for the usual lookup (C(K8S_AUTH_KUBECONFIG), "
                       "C(KUBECONFIG), C(~/.kube/config)).",
    },
    "iomesh_kube_context": {
        "type": "str", "default": "",
        "description": "Kubeconfig context; empty for the current context.",
    },
    "iomesh_helm_binary": {
        "type": "str", "default": "",
        "description": "The helm executable (Helm 3 or 4); empty for the first C(helm) on PATH.",
    },
    "iomesh_node_label_key": {
        "type": "str", "default": HOSTNAME_LABEL,
        "description": "Node label of the node affinities; its value on each node must be the node's name. The "
                       "deviceMap guard always selects on C(kubernetes.io/hostname), the only node label "
                       "BlockDevices carry.",
    },
    "iomesh_cluster_domain": {
        "type": "str", "default": "cluster.local",
        "description": "Cluster DNS domain, for the CSI C(metaAddr).",
    },
    "iomesh_zookeeper_image_repository": {
        "type": "str", "default": "",
        "description": "ZooKeeper image of additional clusters; empty copies the management ZookeeperCluster's "
                       "(C(iomesh/zookeeper) with every built-in chart).",
    },
    "iomesh_zookeeper_image_tag": {
        "type": "str", "default": "",
        "description": "ZooKeeper image tag of additional clusters; empty copies the management ZookeeperCluster's "
                       "(C(3.5.9) with chart v1.0.1, C(3.5.9-20) with v1.2.0).",
    },
    "iomesh_image_registry": {
        "type": "str", "default": "",
        "description": "Private registry (C(host[:port][/path]), no scheme, no trailing slash) that every image of "
                       "the chart and the collection is pulled from, path kept (C(docker.io/iomesh/x:1) becomes "
                       "C(<registry>/iomesh/x:1)); empty pulls from where the chart says. C(playbooks/images.yml) "
                       "lists what to mirror (docs/air-gap.md).",
    },
    "iomesh_image_pull_secrets": {
        "type": "list", "elements": "str", "default": [],
        "description": "Names of C(kubernetes.io/dockerconfigjson) Secrets, created beforehand in every IOMesh "
                       "namespace, that pods pull with where the chart and the CRDs take them (docs/air-gap.md).",
    },
    "iomesh_request_timeout": {
        "type": "int", "default": 60,
        "description": "Seconds any task of a Kubernetes stage may take unless it has a longer bound of its own "
                       "(Helm, waits); also each read of a wait. A request the API never answers fails the task "
                       "instead of hanging the run (docs/architecture.md, \"Time bounds\"). At least 5.",
    },
    "iomesh_monitoring": {
        "type": "bool", "default": False,
        "description": "Turn on the chart's monitoring objects (ServiceMonitors, PodMonitors, PrometheusRules, "
                       "kube-state-metrics) and list every cluster's namespace in ServiceMonitor C(iomesh) "
                       "(docs/day-2.md, \"Monitoring\"). Needs the Prometheus Operator's CRDs; refused without them.",
    },
    "iomesh_monitoring_namespace": {
        "type": "str", "default": "",
        "description": "Namespace of the monitoring objects (where the Prometheus Operator looks for them); empty "
                       "for the management cluster's namespace.",
    },
    "iomesh_monitoring_labels": {
        "type": "dict", "default": {},
        "description": "Labels of the monitoring objects, for the Prometheus Operator's selectors (e.g. "
                       "C(release: kube-prometheus-stack)).",
    },
}

# Guards: each lets a run do what it refuses by default; read by the roles named.
GUARDS = {
    "iomesh_allow_single_cluster_conversion": {
        "type": "bool", "default": False, "roles": ("iomesh_preflight", "iomesh_mgmt", "iomesh_cluster"),
        "description": "Let preflight and the management stage pass an existing single-cluster IOMesh "
                       "(docs/pitfalls.md P2); IOMesh does not support converting one.",
    },
    "iomesh_allow_downgrade": {
        "type": "bool", "default": False, "roles": ("iomesh_preflight", "iomesh_mgmt"),
        "description": "Let preflight and the management stage install a chart older than the release runs; "
                       "IOMesh publishes no downgrade path.",
    },
}

STORAGE_CLASS_OPTIONS = {
    "name": {
        "type": "str",
        "description": "StorageClass name; default the cluster's name. Unique; never one the chart creates "
                       "(C(iomesh-csi-driver), C(hostpath), C(iomesh-localpv-manager-*), docs/pitfalls.md P5).",
    },
    "fstype": {"type": "str", "default": "ext4", "description": "Filesystem: C(ext2), C(ext3), C(ext4) or C(xfs)."},
    "replica_factor": {"type": "str", "default": "2", "description": "Replicas of each volume: C(\"2\") or C(\"3\")."},
    "thin_provision": {"type": "str", "default": "true",
                       "description": "Thin provisioning: C(\"true\") or C(\"false\")."},
    "reclaim_policy": {"type": "str", "default": "Delete", "description": "C(Delete) or C(Retain)."},
    "volume_binding_mode": {"type": "str", "default": "Immediate",
                            "description": "C(Immediate) or C(WaitForFirstConsumer)."},
    "allow_volume_expansion": {"type": "bool", "default": True, "description": "Allow volume expansion."},
}

CLUSTER_OPTIONS = {
    "name": {
        "type": "str",
        "description": "Required. DNS-1035 label of at most 40 characters (it prefixes Services such as "
                       "C(<name>-zookeeper-admin-server)); unique. The management cluster's is also the Helm release "
                       "name, at most 23 characters (the chart names a Job "
                       "C(<name>-zookeeper-operator-post-install-upgrade), docs/pitfalls.md P23).",
    },
    "namespace": {
        "type": "str",
        "description": "DNS-1123 label, unique, not C(kube-*); default C(iomesh-system) for the management cluster, "
                       "the cluster's name for the others.",
    },
    "hosts_group": {
        "type": "str",
        "description": "Required. Inventory group whose hosts are this cluster's nodes: at least 3; a host belongs "
                       "to one cluster only. Its hosts may set C(iomesh_node_name) (the node's "
                       "C(kubernetes.io/hostname), default the inventory name), C(iomesh_data_ip) (the storage "
                       "address) and C(iomesh_disks) (README, \"Per host\").",
    },
    "management": {
        "type": "bool", "default": False,
        "description": "Exactly one cluster is the management cluster: installed first, with Helm, carrying the "
                       "shared operator, CSI driver and disk manager.",
    },
    "data_cidr": {
        "type": "str",
        "description": "Required. IPv4 storage network, e.g. C(10.234.1.0/24); every node with a known address "
                       "must have one inside it.",
    },
    "disk_deployment_mode": {
        "type": "str", "default": "hybridFlash",
        "description": "C(hybridFlash) (SSD cache and HDD) or C(allFlash).",
    },
    "meta_replicas": {"type": "int", "default": 3, "description": "3 or 5, at most the node count."},
    "chunk_replicas": {
        "type": "int",
        "description": "Default one per node: the node count with the enterprise edition, 3 with the community "
                       "edition. At least 3 and at most the node count (3 with the community edition); at least the "
                       "number of nodes whose hosts declare C(iomesh_disks).",
    },
    "zookeeper_replicas": {"type": "int", "default": 3, "description": "Odd, at least 3, at most the node count."},
    "storage_class": {
        "type": "dict", "options": STORAGE_CLASS_OPTIONS,
        "description": "The cluster's own StorageClass; unknown keys are refused.",
    },
    "license_code": {
        "type": "str", "no_log": True,
        "description": "The cluster's IOMesh licence code (issued for its own serial; keep it in a vault). The "
                       "iomesh_license stage puts it in Secret C(iomesh-authorization-code) of the cluster's namespace "
                       "and sets C(spec.licenseSecretName) (docs/day-2.md, \"Licences\"). Not with C(license_file).",
    },
    "license_file": {
        "type": "path",
        "description": "A file on the controller holding the licence code, instead of C(license_code).",
    },
}

CLUSTERS = {
    "iomesh_clusters": {
        "type": "list", "elements": "dict", "options": CLUSTER_OPTIONS,
        "description": "The IOMesh clusters, one item each (README, \"Inventory contract\"); exactly one has "
                       "C(management=true) and is installed first. Unknown keys are refused.",
    },
}

# Roles that read the cluster list and every setting through their plan; iomesh_prereq reads only the list.
KUBERNETES_ROLES = ("iomesh_preflight", "iomesh_mgmt", "iomesh_cluster", "iomesh_license", "iomesh_disks", "iomesh_csi",
                    "iomesh_verify", "iomesh_report", "iomesh_teardown")
# Every variable the contract declares (a role's own variables are the others of its argument spec).
NAMES = frozenset(CLUSTERS) | frozenset(SETTINGS) | frozenset(GUARDS)


def role_options(role: str) -> dict:
    """The contract's options a role reads, in the order ansible-doc shows them after the role's own."""
    out = {}
    for name, spec in CLUSTERS.items():
        out[name] = dict(spec, required=role in KUBERNETES_ROLES)
    if role in KUBERNETES_ROLES:
        out.update(SETTINGS)
    for name, spec in GUARDS.items():
        if role in spec["roles"]:
            out[name] = {key: value for key, value in spec.items() if key != "roles"}
    return out


def defaults(options: dict) -> dict:
    """Name -> default of the options that have one."""
    return {name: spec["default"] for name, spec in options.items() if "default" in spec}
