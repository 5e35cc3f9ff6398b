# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the Kubernetes data of each IOMesh cluster from a normalised cluster (see topology.py).

Every function returns plain data with sorted lists and a fixed key order, so that a re-run produces
byte-identical Helm values and manifests and therefore changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import images as image_mirror
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import monitoring
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.constants import (
    CLUSTER_LABEL, CSI_DRIVER, HOSTNAME_LABEL, IOMESH_API_VERSION, ISCSI_PORTAL, MANAGED_BY, MANAGED_BY_LABEL,
    MOUNT_TYPE_LABEL, ZOOKEEPER_API_VERSION,
)

ZOOKEEPER_WEIGHT = 20
# The chart's own defaults for what the CRs need besides topology (values.yaml of chart v1.0.1).
INTERNAL_STORAGE_CLASS = "hostpath"
ZOOKEEPER_STORAGE_SIZE = "20Gi"
ZOOKEEPER_RESOURCES = {"cpu": "400m", "memory": "2000Mi"}
IMAGE_PULL_POLICY = "IfNotPresent"
# ZooKeeper image of additional clusters when neither the inventory nor a management ZookeeperCluster names one
# (the chart v1.0.1 default; v1.2.0's is 3.5.9-20, which additional clusters then copy).
ZOOKEEPER_IMAGE = {"repository": image_mirror.ZOOKEEPER_REPOSITORY, "tag": "3.5.9"}
# Fields of the management IOMeshCluster's spec that chart v1.1.0+ sets and that every cluster of the release
# must share; copied to additional clusters as the image tags are (docs/pitfalls.md P6).
SHARED_SPEC_FIELDS = ("version", "edition", "platform", "cpuExclusiveOptions")
# The IOMeshCluster's component repositories (written once, in images.py, with their values keys): zbs images take
# the zbs tag, the operator's the chart version.
ZBS_IMAGES = {part: image_mirror.CR_REPOSITORIES[(part,)] for part in ("meta", "chunk", "redirector")}
OPERATOR_IMAGES = {
    "devicemanager": image_mirror.CR_REPOSITORIES[("chunk", "devicemanager")],
    "probe": image_mirror.CR_REPOSITORIES[("probe",)],
    "toolbox": image_mirror.CR_REPOSITORIES[("toolbox",)],
}


def node_affinity(nodes: Sequence[str], key: str = HOSTNAME_LABEL) -> dict:
    """Required node affinity pinning pods to `nodes` (the block the seed writes under podPolicy.affinity)."""
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": key, "operator": "In", "values": sorted(set(nodes))}]}
                ]
            }
        }
    }


def zookeeper_affinity(nodes: Sequence[str], app_label: str, weight: int = ZOOKEEPER_WEIGHT,
                       key: str = HOSTNAME_LABEL) -> dict:
    """Node affinity plus the preferred anti-affinity that spreads ZooKeeper pods over nodes."""
    affinity = node_affinity(nodes, key)
    affinity["podAntiAffinity"] = {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "podAffinityTerm": {
                    "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": [app_label]}]},
                    "topologyKey": key,
                },
                "weight": weight,
            }
        ]
    }
    return affinity


def device_map(cluster: Mapping) -> dict:
    """spec.chunk.deviceMap: one label selector per mount type the inventory declares.

    The selectors match only BlockDevices that the disk stage has validated and labelled for this cluster,
    and the hostname guard keeps a cluster from ever taking another cluster's disks, even if mislabelled.
    The guard is kubernetes.io/hostname whatever iomesh_node_label_key is: NDM labels each BlockDevice with the
    hostname of its node and with none of the node's other labels (docs/architecture.md#disk-mapping).
    """
    return {
        mount_type: {
            "selector": {
                "matchExpressions": [{"key": HOSTNAME_LABEL, "operator": "In", "values": list(cluster["nodes"])}],
                "matchLabels": {CLUSTER_LABEL: cluster["name"], MOUNT_TYPE_LABEL: mount_type},
            }
        }
        for mount_type in cluster["mount_types"]
    }


def zbs_tag(settings: Mapping) -> str:
    """Tag the chart gives meta/chunk/redirector images: <appVersion>-<edition>[-hygon] (the settings' edition is
    normalised: an empty one is community)."""
    tag = f"{settings['iomesh_app_version']}-{settings['iomesh_edition']}"
    return tag + ("-hygon" if settings.get("iomesh_platform") == "hygon_x86_64" else "")


def _labels(cluster: Mapping) -> dict:
    return {MANAGED_BY_LABEL: MANAGED_BY, CLUSTER_LABEL: cluster["name"]}


def _image(repository: str, tag: str) -> dict:
    return {"repository": repository, "tag": tag, "pullPolicy": IMAGE_PULL_POLICY}


def _merged(base: dict, extra: Mapping) -> dict:
    """`base` with `extra` deep-merged over it (maps merge, other values replace)."""
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merged(base[key], value)
        else:
            base[key] = value
    return base


def mgmt_values(cluster: Mapping, settings: Mapping) -> dict:
    """Helm values for the management release, at the chart's real (nested) paths (docs/pitfalls.md P7), with the
    private registry's and pull Secrets' values of the chart version (docs/air-gap.md)."""
    key = settings["iomesh_node_label_key"]
    pinned = {"affinity": node_affinity(cluster["nodes"], key)}
    chunk = {
        "dataCIDR": cluster["data_cidr"],
        "podPolicy": pinned,
        "replicaCount": cluster["chunk_replicas"],
    }
    if cluster["mount_types"]:
        chunk["deviceMap"] = device_map(cluster)
    values = {
        "iomesh": {
            "chunk": chunk,
            "diskDeploymentMode": cluster["disk_deployment_mode"],
            "edition": settings["iomesh_edition"],
            "meta": {"podPolicy": pinned, "replicaCount": cluster["meta_replicas"]},
            "platform": settings["iomesh_platform"],
            "redirector": {"podPolicy": pinned},
            "zookeeper": {
                "podPolicy": {"affinity": zookeeper_affinity(cluster["nodes"], cluster["zookeeper_name"], key=key)},
                "replicas": cluster["zookeeper_replicas"],
            },
        }
    }
    # The chart's optional monitoring objects (docs/day-2.md, "Monitoring"); none while iomesh_monitoring is false.
    _merged(values, monitoring.chart_values(settings))
    return _merged(values, image_mirror.values(settings["iomesh_chart_version"], settings.get("iomesh_image_registry") or "",
                                               settings.get("iomesh_image_pull_secrets") or ()))


def _mgmt_images(mgmt_cr: Mapping | None, settings: Mapping) -> dict:
    """Images of every IOMesh component: copied from the management IOMeshCluster when known (docs/pitfalls.md P6),
    in the private registry if one is set (docs/air-gap.md), with or without a management IOMeshCluster."""
    registry = settings.get("iomesh_image_registry") or ""
    images = {part: _image(image_mirror.mirror(repo, registry), zbs_tag(settings)) for part, repo in ZBS_IMAGES.items()}
    images.update({part: _image(image_mirror.mirror(repo, registry), settings["iomesh_chart_version"])
                   for part, repo in OPERATOR_IMAGES.items()})
    if not mgmt_cr:
        return images
    spec = mgmt_cr.get("spec") or {}
    found = {
        "meta": (spec.get("meta") or {}).get("image"),
        "chunk": (spec.get("chunk") or {}).get("image"),
        "redirector": (spec.get("redirector") or {}).get("image"),
        "devicemanager": ((spec.get("chunk") or {}).get("devicemanager") or {}).get("image"),
        "probe": (spec.get("probe") or {}).get("image"),
        "toolbox": (spec.get("toolbox") or {}).get("image"),
    }
    for part, image in found.items():
        if isinstance(image, Mapping) and image.get("tag"):
            images[part] = _image(image_mirror.mirror(image.get("repository") or images[part]["repository"], registry),
                                  image["tag"])
            images[part]["pullPolicy"] = image.get("pullPolicy") or IMAGE_PULL_POLICY
    return images


def _zookeeper_image(settings: Mapping, mgmt_zk: Mapping | None) -> dict:
    """The inventory's ZooKeeper image if set, else the management ZookeeperCluster's, else the chart default."""
    found = ((mgmt_zk or {}).get("spec") or {}).get("image") or {}
    found = found if isinstance(found, Mapping) else {}
    repository = image_mirror.mirror(
        str(settings.get("iomesh_zookeeper_image_repository") or found.get("repository") or ZOOKEEPER_IMAGE["repository"]),
        settings.get("iomesh_image_registry") or "")
    tag = settings.get("iomesh_zookeeper_image_tag") or found.get("tag") or ZOOKEEPER_IMAGE["tag"]
    image = _image(str(repository), str(tag))
    if not settings.get("iomesh_zookeeper_image_tag") and found.get("pullPolicy"):
        image["pullPolicy"] = found["pullPolicy"]
    return image


def _zookeeper_resources(mgmt_zk: Mapping | None) -> dict:
    """Resources of the management ZookeeperCluster's pods (they differ between chart versions), else the chart's."""
    found = (((mgmt_zk or {}).get("spec") or {}).get("pod") or {}).get("resources")
    if isinstance(found, Mapping) and found:
        return {key: dict(found[key]) if isinstance(found[key], Mapping) else found[key] for key in sorted(found)}
    return {"limits": dict(ZOOKEEPER_RESOURCES), "requests": dict(ZOOKEEPER_RESOURCES)}


def zookeeper_manifest(cluster: Mapping, settings: Mapping, mgmt_zk: Mapping | None = None) -> dict:
    key = settings["iomesh_node_label_key"]
    return {
        "apiVersion": ZOOKEEPER_API_VERSION,
        "kind": "ZookeeperCluster",
        "metadata": {"labels": _labels(cluster), "name": cluster["zookeeper_name"], "namespace": cluster["namespace"]},
        "spec": {
            "image": _zookeeper_image(settings, mgmt_zk),
            "persistence": {
                "reclaimPolicy": "Delete",
                "spec": {
                    "resources": {"requests": {"storage": ZOOKEEPER_STORAGE_SIZE}},
                    "storageClassName": INTERNAL_STORAGE_CLASS,
                },
            },
            "pod": {
                "affinity": zookeeper_affinity(cluster["nodes"], cluster["zookeeper_name"], key=key),
                **_pull_secrets(settings.get("iomesh_image_pull_secrets")),
                "resources": _zookeeper_resources(mgmt_zk),
                "securityContext": {"runAsUser": 0},
            },
            "replicas": cluster["zookeeper_replicas"],
        },
    }


def _pull_secrets(names: Sequence[str] | None) -> dict:
    """spec.pod.imagePullSecrets of a ZookeeperCluster (its CRD takes them; the IOMeshCluster's does not)."""
    return {"imagePullSecrets": image_mirror.pull_secret_refs(names)} if names else {}


def iomesh_cluster_manifest(cluster: Mapping, settings: Mapping, mgmt_cr: Mapping | None = None) -> dict:
    key = settings["iomesh_node_label_key"]
    pinned = {"affinity": node_affinity(cluster["nodes"], key)}
    images = _mgmt_images(mgmt_cr, settings)
    chunk = {
        "dataCIDR": cluster["data_cidr"],
        "devicemanager": {"blockDeviceNamespace": cluster["block_device_namespace"], "image": images["devicemanager"]},
        "image": images["chunk"],
        "podPolicy": pinned,
        "replicas": cluster["chunk_replicas"],
    }
    if cluster["mount_types"]:
        chunk["deviceMap"] = device_map(cluster)
    mgmt_spec = (mgmt_cr or {}).get("spec")
    shared = mgmt_spec if isinstance(mgmt_spec, Mapping) else {}
    return {
        "apiVersion": IOMESH_API_VERSION,
        "kind": "IOMeshCluster",
        "metadata": {"labels": _labels(cluster), "name": cluster["name"], "namespace": cluster["namespace"]},
        "spec": {
            **{field: shared[field] for field in SHARED_SPEC_FIELDS if shared.get(field) not in (None, "")},
            "chunk": chunk,
            "diskDeploymentMode": cluster["disk_deployment_mode"],
            "meta": {"image": images["meta"], "podPolicy": pinned, "replicas": cluster["meta_replicas"]},
            "probe": {"image": images["probe"]},
            "reclaimPolicy": {"blockdevice": "Delete", "volume": "Delete"},
            "redirector": {"dataCIDR": cluster["data_cidr"], "image": images["redirector"], "podPolicy": pinned},
            "storageClass": INTERNAL_STORAGE_CLASS,
            "toolbox": {"image": images["toolbox"]},
        },
    }


def cluster_manifests(cluster: Mapping, settings: Mapping, mgmt_cr: Mapping | None = None,
                      mgmt_zk: Mapping | None = None) -> list[dict]:
    """ZookeeperCluster then IOMeshCluster of an additional cluster, in the order they must be applied."""
    return [zookeeper_manifest(cluster, settings, mgmt_zk), iomesh_cluster_manifest(cluster, settings, mgmt_cr)]


class ChartRenderError(ValueError):
    """`helm template` output that lacks the management cluster's custom resources."""


# Labels of the chart's objects that would misstate who manages the management cluster's custom resources
# once the collection applies them (helm.sh/chart also changes with every chart version).
_HELM_ONLY_LABELS = (MANAGED_BY_LABEL, "helm.sh/chart")


def mgmt_manifests(rendered: str, cluster: Mapping, pull_secrets: Sequence[str] = ()) -> list[dict]:
    """ZookeeperCluster then IOMeshCluster of the management cluster, taken from `helm template` of the chart.

    The release is installed with iomesh.create: false and the collection applies these two itself, after the
    operator's webhook serves the current certificate (docs/pitfalls.md P10): their spec is the chart's own
    rendering (same values, iomesh.create: true), so it stays exactly what the chart would create. Labels keep the
    chart's, with the collection as manager and the cluster label added. The chart passes no pull Secrets to the
    ZookeeperCluster: `pull_secrets` (iomesh_image_pull_secrets) are added to its spec.pod (docs/air-gap.md).
    """
    wanted = {("ZookeeperCluster", cluster["zookeeper_name"]): None, ("IOMeshCluster", cluster["name"]): None}
    try:
        documents = list(yaml.safe_load_all(rendered or ""))
    except yaml.YAMLError as exc:
        raise ChartRenderError(f"helm template output is not YAML: {exc}") from exc
    for doc in documents:
        if not isinstance(doc, Mapping):
            continue
        key = (doc.get("kind"), (doc.get("metadata") or {}).get("name"))
        if key in wanted and wanted[key] is None:
            wanted[key] = doc
    missing = [f"{kind} {name}" for (kind, name), doc in wanted.items() if doc is None]
    if missing:
        raise ChartRenderError(
            f"the chart rendered no {' and no '.join(missing)} with iomesh.create: true; the chart at "
            "iomesh_chart_ref / iomesh_chart_repo_url is not an IOMesh chart this collection supports"
        )
    out = []
    for (kind, name), doc in wanted.items():
        labels = {k: str(v) for k, v in sorted(((doc.get("metadata") or {}).get("labels") or {}).items())
                  if k not in _HELM_ONLY_LABELS}
        labels.update(_labels(cluster))
        spec = doc.get("spec") or {}
        if kind == "ZookeeperCluster" and pull_secrets:
            spec = dict(spec, pod=dict(spec.get("pod") or {}, **_pull_secrets(pull_secrets)))
        out.append({
            "apiVersion": doc.get("apiVersion") or (IOMESH_API_VERSION if kind == "IOMeshCluster" else ZOOKEEPER_API_VERSION),
            "kind": kind,
            "metadata": {"labels": labels, "name": name, "namespace": cluster["namespace"]},
            "spec": spec,
        })
    return out


def csi_manifests(cluster: Mapping, settings: Mapping) -> list[dict]:
    """The CSI connection ConfigMap and the cluster's StorageClass (top-level reclaimPolicy, docs/pitfalls.md P9)."""
    sc = cluster["storage_class"]
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"labels": _labels(cluster), "name": cluster["csi_configmap_name"], "namespace": cluster["namespace"]},
        "data": {
            "clusterId": settings["iomesh_k8s_cluster_id"],
            "iscsiPortal": ISCSI_PORTAL,
            "metaAddr": cluster["meta_addr"],
        },
    }
    storage_class = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"labels": _labels(cluster), "name": sc["name"]},
        "provisioner": CSI_DRIVER,
        "parameters": {
            "clusterConnection": cluster["cluster_connection"],
            "csi.storage.k8s.io/fstype": sc["fstype"],
            "iomeshCluster": cluster["iomesh_cluster_ref"],
            "replicaFactor": sc["replica_factor"],
            "thinProvision": sc["thin_provision"],
        },
        "reclaimPolicy": sc["reclaim_policy"],
        "allowVolumeExpansion": sc["allow_volume_expansion"],
        "volumeBindingMode": sc["volume_binding_mode"],
    }
    return [configmap, storage_class]
