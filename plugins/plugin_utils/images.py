# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images of an IOMesh deployment and their private-registry mirror (docs/air-gap.md).

What redirects each image of the chart is a fact of the chart version, established from the chart's published
values and what `helm template` renders (docs/air-gap.md, "Which values key moves which image"):

- an image the chart renders as `docker.io/<path>` belongs to a (sub-)chart whose values declare
  `global.registry: docker.io/`; Helm hands the parent's `global.registry` to every sub-chart, so one value moves
  all of them;
- an image rendered without a registry is its `repository` value verbatim: the mirror is written into that value;
- openebs-ndm's images carry a per-image `registry` (`Make sure that registry name end with a '/'`);
- an image no values key of that chart version names cannot be moved: it is listed, never silently kept.

A mirror keeps the image's path and replaces its registry host: `docker.io/iomesh/x:1`, `iomesh/x:1` and
`registry.k8s.io/iomesh/x:1` all become `<registry>/iomesh/x:1`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import yaml

# A registry host[:port] with an optional path, no scheme, no trailing slash (docs/air-gap.md).
REGISTRY = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                      r"|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
PULL_SECRET = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

# The IOMeshCluster's components and their values keys under `iomesh` (values.yaml of every chart version).
CR_IMAGE_KEYS = (("meta",), ("chunk",), ("chunk", "devicemanager"), ("redirector",), ("probe",), ("toolbox",))
CR_REPOSITORIES = {
    ("meta",): "iomesh/zbs-metad",
    ("chunk",): "iomesh/zbs-chunkd",
    ("chunk", "devicemanager"): "iomesh/operator-devicemanager",
    ("redirector",): "iomesh/zbs-iscsi-redirectord",
    ("probe",): "iomesh/operator-probe",
    ("toolbox",): "iomesh/operator-toolbox",
}
ZOOKEEPER_REPOSITORY = "iomesh/zookeeper"

# Chart v1.0.x: the parent chart declares no global.registry; csi-driver 2.6.0, zookeeper-operator 0.2.15 and
# blockdevice-monitor 0.1.0 do (the same blockdevice-monitor 0.1.0 is in chart v1.1.0's values). Everything else
# is its repository value as rendered (operator, prepare-csi, hostpath-provisioner, the IOMeshCluster and
# ZookeeperCluster repositories) or openebs-ndm's per-image registry.
V1_0_REPOSITORIES = {
    ("operator", "image", "repository"): "iomesh/operator",
    ("prepareCSI", "image", "repository"): "iomesh/prepare-csi",
    ("hostpath-provisioner", "image", "repository"): "iomesh/hostpath-provisioner",
}
V1_0_NDM_IMAGES = ("ndm", "ndmOperator", "ndmExporter", "helperPod")
# Rendered without a registry by chart v1.0.x and named by no values key of its published values: iomesh-localpv-
# manager 0.1.0 ships no values in the parent chart's (its sidecars are not csi-driver's `docker.io/` ones) and the
# post-delete hook has no image key before chart v1.2.0.
V1_0_FIXED = (
    "iomesh/csi-node-driver-registrar:v2.5.0",
    "iomesh/csi-provisioner:v3.0.0",
    "iomesh/livenessprobe:v2.8.0",
    "iomesh/localpv-manager:v0.1.0",
    "iomesh/post-delete-hook:v1.0.1",
)


def _scheme(chart_version: str) -> str:
    """The values scheme of a chart version: 'v1.0' before v1.1.0 (chart v1.0.0/v1.0.1), else 'v1.1'."""
    match = re.match(r"^v?(\d+)\.(\d+)", chart_version or "")
    if match and (int(match.group(1)), int(match.group(2))) < (1, 1):
        return "v1.0"
    return "v1.1"


def split_reference(reference: str) -> tuple[str, str]:
    """(registry host or "", path with tag or digest) of an image reference, as the container runtimes read it."""
    first, sep, rest = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        return first, rest
    return "", reference


def mirror(reference: str, registry: str) -> str:
    """The image's name in the private registry: same path, the registry's host. Unchanged without a registry, or
    when the image is already there (a management IOMeshCluster rendered with the mirror)."""
    if not registry or not reference or reference.startswith(registry + "/"):
        return reference
    return f"{registry}/{split_reference(reference)[1]}"


def not_rewritable(chart_version: str) -> tuple[str, ...]:
    """Images of the chart version's rendering that no values key redirects (docs/air-gap.md)."""
    return V1_0_FIXED if _scheme(chart_version) == "v1.0" else ()


def _put(tree: dict, path: Sequence[str], value: object) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


def values(chart_version: str, registry: str, pull_secrets: Sequence[str] = ()) -> dict:
    """Helm values that move every image the chart version can move to `registry`, and name the pull Secrets where
    the chart takes them. Empty without a registry and Secrets (the chart's own defaults stay)."""
    out: dict = {}
    if registry:
        _put(out, ("global", "registry"), registry + "/")
        # kube-state-metrics (monitoring, off by default): its own registry, registry.k8s.io by default.
        _put(out, ("operator", "kubeStateMetrics", "image", "registry"), registry)
        # The ZookeeperCluster's repository is rendered as it is in every version.
        _put(out, ("iomesh", "zookeeper", "image", "repository"), mirror(ZOOKEEPER_REPOSITORY, registry))
        if _scheme(chart_version) == "v1.0":
            for path, repository in V1_0_REPOSITORIES.items():
                _put(out, path, mirror(repository, registry))
            for part in CR_IMAGE_KEYS:
                _put(out, ("iomesh", *part, "image", "repository"), mirror(CR_REPOSITORIES[part], registry))
            for image in V1_0_NDM_IMAGES:
                _put(out, ("openebs-ndm", image, "image", "registry"), registry + "/")
        else:
            # helperPod keeps `registry: ""` in every version: its only key.
            _put(out, ("openebs-ndm", "helperPod", "image", "registry"), registry + "/")
    if pull_secrets:
        names = sorted(set(pull_secrets))
        refs = pull_secret_refs(names)
        # zookeeper-operator: global.imagePullSecrets, a list of names; openebs-ndm, hostpath-provisioner and deck
        # (v1.1.0+): imagePullSecrets, a list of references.
        _put(out, ("global", "imagePullSecrets"), names)
        _put(out, ("openebs-ndm", "imagePullSecrets"), refs)
        _put(out, ("hostpath-provisioner", "imagePullSecrets"), refs)
        if _scheme(chart_version) != "v1.0":
            _put(out, ("deck", "imagePullSecrets"), refs)
    return out


def pull_secret_refs(pull_secrets: Sequence[str]) -> list[dict]:
    """`imagePullSecrets` of a pod spec (the ZookeeperClusters' spec.pod)."""
    return [{"name": name} for name in sorted(set(pull_secrets or ()))]


def _pod_images(where: str, spec: Mapping, out: dict) -> None:
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or []:
            if not isinstance(container, Mapping):
                continue
            if container.get("image"):
                out[f"{where} {container.get('name')}"] = str(container["image"])
            for env in container.get("env") or []:
                # A component that starts pods of its own names their image in its environment (NDM's helper).
                if isinstance(env, Mapping) and str(env.get("name", "")).endswith("IMAGE") and env.get("value"):
                    out[f"{where} {container.get('name')} env {env['name']}"] = str(env["value"])


def _cr_image(where: str, image: object, out: dict) -> None:
    if isinstance(image, Mapping) and image.get("repository"):
        out[where] = f"{image['repository']}:{image.get('tag') or 'latest'}"


def rendered_images(rendered: str) -> dict:
    """Where -> image of every image `helm template` output pulls: pod templates, hook Pods and Jobs, and the
    IOMeshCluster's and ZookeeperCluster's component images."""
    out: dict = {}
    for doc in yaml.safe_load_all(rendered or ""):
        if not isinstance(doc, Mapping):
            continue
        kind = doc.get("kind")
        where = f"{kind} {(doc.get('metadata') or {}).get('name')}"
        spec = doc.get("spec") or {}
        if kind == "Pod":
            _pod_images(where, spec, out)
        elif kind == "CronJob":
            _pod_images(where, (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
                        or {}, out)
        elif isinstance(spec.get("template"), Mapping):
            _pod_images(where, spec["template"].get("spec") or {}, out)
        elif kind == "ZookeeperCluster":
            _cr_image(where, spec.get("image"), out)
        elif kind == "IOMeshCluster":
            for part in CR_IMAGE_KEYS:
                node = spec
                for key in part:
                    node = node.get(key) or {} if isinstance(node, Mapping) else {}
                _cr_image(f"{where} {'.'.join(part)}", node.get("image") if isinstance(node, Mapping) else None, out)
    return out


def image_list(default_render: str, mirrored_render: str, registry: str, extra: Sequence[str] = ()) -> dict:
    """Every image of a deployment, sorted and de-duplicated: the chart's (its rendering with the chart's registry
    values and with the mirror's, paired by where each appears) and the collection's own (`extra`, e.g. the
    verification pod's). `mirror` lists source -> target; `not_rewritable` the images no values key moves, which
    must be mirrored under their own name (docs/air-gap.md)."""
    before, after = rendered_images(default_render), rendered_images(mirrored_render)
    pairs = {(before[where], after.get(where, before[where])) for where in before}
    pairs |= {(image, mirror(image, registry)) for image in extra if image}
    rows = [{"source": source, "target": target if registry else source} for source, target in sorted(pairs)]
    fixed = sorted({row["source"] for row in rows if registry and not row["target"].startswith(registry + "/")})
    return {
        "registry": registry,
        "images": sorted({row["source"] for row in rows}),
        "mirror": rows,
        "not_rewritable": fixed,
        "lines": [f"{row['source']} -> {row['target']}" for row in rows],
    }


def validate(registry: object, pull_secrets: object) -> list[tuple[str, str]]:
    """(variable, problem) for a registry or pull Secret list the mirror cannot use."""
    problems = []
    if not isinstance(registry, str):
        problems.append(("iomesh_image_registry", f"must be a string such as 'registry.example.com:5000/iomesh', "
                                                  f"got {registry!r}."))
    elif registry and not REGISTRY.match(registry):
        fix = registry.split("://", 1)[-1].rstrip("/")
        hint = f" use {fix!r}" if fix != registry and REGISTRY.match(fix) else " use e.g. 'registry.example.com:5000/iomesh'"
        problems.append(("iomesh_image_registry",
                         f"{registry!r} is not a registry host[:port][/path]: no scheme (https://), no trailing slash, "
                         f"no tag;{hint}."))
    if not isinstance(pull_secrets, list):
        problems.append(("iomesh_image_pull_secrets", f"must be a list of Secret names, got {pull_secrets!r}."))
    else:
        for name in pull_secrets:
            if not isinstance(name, str) or len(name) > 253 or not PULL_SECRET.match(name):
                problems.append(("iomesh_image_pull_secrets",
                                 f"{name!r} is not a Secret name (a DNS-1123 subdomain: lower-case letters, digits, "
                                 "'-' and '.'); list the names of kubernetes.io/dockerconfigjson Secrets."))
    return problems
