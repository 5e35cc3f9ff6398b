# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names of the objects the IOMesh chart and the IOMesh operators make, derived once.

Chart-made names follow Helm's fullname rule applied to the release name (the management cluster's name);
operator-made names are prefixed with the IOMesh cluster's name. Everything else reads them from here.
"""

from __future__ import annotations

import re

# A cluster name is a DNS-1035 label: nothing in it is special in a regular expression, so patterns embed it
# verbatim and stay readable in messages.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

# Sub-charts whose objects are named by the fullname rule.
ZOOKEEPER_OPERATOR_CHART = "zookeeper-operator"
NDM_CHART = "openebs-ndm"
# The chart's values pin csi-driver.fullnameOverride to this, so the CSI objects never follow the release name.
CSI_DRIVER_FULLNAME = "iomesh-csi-driver"
# The chart names the IOMesh operator's Deployment literally.
OPERATOR_DEPLOYMENT = "operator"
# StorageClasses the chart creates under fixed names (values storageClass.nameOverride and the localpv manager's):
# the CSI default one, the hostpath one, and iomesh-localpv-manager-hostpath/-device.
CHART_STORAGE_CLASS = "iomesh-csi-driver"
CHART_STORAGE_CLASSES = (CHART_STORAGE_CLASS, "hostpath")
CHART_STORAGE_CLASS_PREFIX = "iomesh-localpv-manager-"

# Pods of one IOMesh cluster, by component; <C> is the cluster name (StatefulSet ordinals, DaemonSet suffixes).
POD_SUFFIXES = {
    "meta": "-meta-[0-9]+",
    "chunk": "-chunk-[0-9]+",
    "iscsi-redirector": "-iscsi-redirector-[a-z0-9]+",
    "zookeeper": "-zookeeper-[0-9]+",
}


# Kubernetes' limit for names that are DNS labels (Services, Jobs through their job-name label, workloads whose
# pods carry their name in labels): the limit every name below must keep.
DNS_LABEL_MAX = 63

# Objects the IOMesh operator, the ZooKeeper operator and this collection make for every IOMesh cluster <C>,
# the management cluster included, as (kind, suffix appended to <C>) (docs/architecture.md#object-names).
CLUSTER_OBJECTS = (
    ("IOMeshCluster", ""),
    ("ZookeeperCluster", "-zookeeper"),
    ("StatefulSet", "-zookeeper"),
    ("ConfigMap", "-zookeeper-configmap"),
    ("Service", "-zookeeper-client"),
    ("Service", "-zookeeper-headless"),
    ("Service", "-zookeeper-admin-server"),
    ("StatefulSet", "-meta"),
    ("Service", "-meta-client"),
    ("StatefulSet", "-chunk"),
    ("DaemonSet", "-iscsi-redirector"),
    ("ConfigMap", "-csi-configmap"),
)

# Objects the chart names after Helm release <R> (the management cluster), as (kind, suffix appended to <R>): every
# other name with <R> that `helm template` renders in chart v1.0.1, v1.1.0 or v1.2.0 (its IOMeshCluster <R> and
# ZookeeperCluster <R>-zookeeper are among CLUSTER_OBJECTS; one kind stands for several sharing a name). Written
# literally, not by the fullname rule: a release containing a sub-chart's name only makes them shorter. The longest,
# the post-install hook Job, is what limits the release name (docs/pitfalls.md P23).
RELEASE_OBJECTS = (
    ("Job", "-zookeeper-operator-post-install-upgrade"),
    ("Service", "-openebs-ndm-cluster-exporter-service"),
    ("Service", "-openebs-ndm-node-exporter-service"),
    ("Deployment", "-openebs-ndm-cluster-exporter"),
    ("DaemonSet", "-blockdevice-monitor-prober"),
    ("DaemonSet", "-openebs-ndm-node-exporter"),
    ("DaemonSet", "-hostpath-provisioner"),
    ("Deployment", "-openebs-ndm-operator"),
    ("Deployment", "-blockdevice-monitor"),
    ("ConfigMap", "-openebs-ndm-config"),
    ("Deployment", "-zookeeper-operator"),
    ("DaemonSet", "-deck-plugin-iomesh"),
    ("ClusterRole", "-deck-impersonate"),
    ("DaemonSet", "-openebs-ndm"),
    ("LimitRange", "-limit-range"),
    ("ServiceAccount", "-operator"),
    ("Deployment", "-deck"),
)


def _longest(objects: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    return max(objects, key=lambda item: len(item[1]))


# The longest cluster and release names whose every object name stays a DNS label: 63 - 23 = 40 for any cluster
# (<C>-zookeeper-admin-server), 63 - 40 = 23 for the management cluster (<R>-zookeeper-operator-post-install-upgrade).
MAX_CLUSTER_NAME = DNS_LABEL_MAX - len(_longest(CLUSTER_OBJECTS)[1])
MAX_RELEASE_NAME = min(MAX_CLUSTER_NAME, DNS_LABEL_MAX - len(_longest(RELEASE_OBJECTS)[1]))


def longest_cluster_object(cluster_name: str) -> tuple[str, str]:
    """(kind, name) of the longest object name the operators and this collection make for cluster <cluster_name>."""
    kind, suffix = _longest(CLUSTER_OBJECTS)
    return kind, f"{cluster_name}{suffix}"


def longest_release_object(release: str) -> tuple[str, str]:
    """(kind, name) of the longest object name the chart makes for Helm release <release>."""
    kind, suffix = _longest(RELEASE_OBJECTS)
    return kind, f"{release}{suffix}"


def object_names(cluster_name: str, management: bool = False) -> list[tuple[str, str]]:
    """(kind, name) of every object named after IOMesh cluster <cluster_name> (and after its release if management)."""
    objects = CLUSTER_OBJECTS + (RELEASE_OBJECTS if management else ())
    return [(kind, f"{cluster_name}{suffix}") for kind, suffix in objects]


class InvalidName(ValueError):
    """A name that cannot prefix Kubernetes objects."""


def _checked(what: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidName(f"{what} must be a DNS label (lowercase letters, digits and '-'), got {name!r}")
    return name


def fullname(release: str, chart: str) -> str:
    """Helm's fullname rule: the release name when it contains the chart name, else <release>-<chart>.

    Cut to 63 characters with any trailing '-' trimmed, as `trunc 63 | trimSuffix "-"` does.
    """
    release = _checked("release", release)
    chart = _checked("chart", chart)
    name = release if chart in release else f"{release}-{chart}"
    name = name[:63]
    return name[:-1] if name.endswith("-") else name


def pod_patterns(cluster_name: str) -> dict[str, str]:
    """{component: anchored regular expression of its pod names} of IOMesh cluster <cluster_name>.

    Components: meta, chunk, iscsi-redirector, zookeeper.
    """
    name = _checked("cluster name", cluster_name)
    return {component: f"^{name}{suffix}$" for component, suffix in POD_SUFFIXES.items()}


def cluster_names(cluster_name: str) -> dict[str, str]:
    """Names the IOMesh operator, the ZooKeeper operator and this collection give the objects of one cluster.

    Plain formatting: the inventory check (topology.py) reports a bad cluster name once, by itself.
    """
    name = str(cluster_name)
    return {
        "iomesh_cluster": name,
        "zookeeper_cluster": f"{name}-zookeeper",
        # Pods of the ZookeeperCluster carry app=<C>-zookeeper: what the anti-affinity selects on.
        "zookeeper_app_label": f"{name}-zookeeper",
        "meta_client_service": f"{name}-meta-client",
        "csi_configmap": f"{name}-csi-configmap",
    }


def release_names(release: str) -> dict[str, str]:
    """Names of the shared objects the chart makes for Helm release <release> (the management cluster)."""
    release = _checked("release", release)
    ndm = fullname(release, NDM_CHART)
    zookeeper_operator = fullname(release, ZOOKEEPER_OPERATOR_CHART)
    return {
        "operator_deployment": OPERATOR_DEPLOYMENT,
        "zookeeper_operator_deployment": zookeeper_operator,
        # The chart's post-install/post-upgrade hook Job: Helm waits for it (docs/air-gap.md).
        "zookeeper_operator_hook_job": f"{zookeeper_operator}-post-install-upgrade",
        "ndm_daemonset": ndm,
        "ndm_operator_deployment": f"{ndm}-operator",
        "csi_controller_deployment": f"{CSI_DRIVER_FULLNAME}-controller-plugin",
        "csi_node_daemonset": f"{CSI_DRIVER_FULLNAME}-node-plugin",
        "csi_node_pod_pattern": f"^{CSI_DRIVER_FULLNAME}-node-plugin-[a-z0-9]+$",
        # The collection's own: the ConfigMap recording which verifications passed (plugin_utils/verify.py).
        "verification_record": f"{release}-verification",
    }
