"""images: which values key moves which image of each chart version (docs/air-gap.md), judged against the real
chart's published values and render facts; the mirror of one image; the settings' validation; the additional
clusters' and the management ZookeeperCluster's images and pull Secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_images as fi
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import images, render

from ..conftest import Inventory

REFERENCE = Path(__file__).resolve().parents[4].parent / "shared" / "reference"
FACTS = REFERENCE / "iomesh-chart-render-facts.md"
VERSIONS = ("v1.0.1", "v1.1.0", "v1.2.0")
REGISTRY = "harbor.corp.internal:8443/iomesh-mirror"


def _facts(version: str) -> list[str]:
    """Every image of the version's render facts (the images column)."""
    if not FACTS.exists():
        pytest.skip("the chart render facts are not on this machine")
    sections = re.split(r"^## Chart (v[0-9.]+):.*$", FACTS.read_text(), flags=re.M)
    table = dict(zip(sections[1::2], sections[2::2]))[version]
    found = set()
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) > 8 and cells[1] not in ("kind", "---"):
            found.update(image.strip() for image in cells[7].split(",") if image.strip())
    return sorted(found)


def _reference_values(version: str) -> dict:
    """The chart's values: the parent's (iomesh.yaml) at the top, each sub-chart's under its name."""
    folder = REFERENCE / f"iomesh-chart-{version}" / "values"
    out = {}
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        out.update({"": data} if path.stem == "iomesh" else {path.stem: data})
    return out


def _image_keys(tree, path=()):
    """(path of an `image` map, the map) of every image the values name by repository."""
    if isinstance(tree, dict):
        if isinstance(tree.get("repository"), str):
            yield path, tree
        for key, value in tree.items():
            yield from _image_keys(value, (*path, key))


def _get(tree: dict, path) -> object:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


@pytest.mark.parametrize("version", VERSIONS)
def test_every_image_the_chart_renders_is_moved_by_a_values_key_of_the_reference_or_listed(version):
    values = images.values(version, REGISTRY)
    reference = _reference_values(version)
    fixed = set(images.not_rewritable(version))
    declared_global = {chart for chart, data in reference.items()
                       if _get(data, ("global", "registry")) == "docker.io/"}
    moved = []
    for image in _facts(version):
        host, path = images.split_reference(image)
        if image in fixed:
            assert not host, f"{image} carries a registry: global.registry would move it"
            continue
        if host == "docker.io":
            # Rendered with the docker.io/ of a global.registry that the version's values declare.
            assert declared_global, f"{version}: no values declare global.registry, yet {image} carries docker.io/"
            assert values["global"]["registry"] == REGISTRY + "/"
            moved.append(image)
            continue
        assert not host, f"{image}: a registry no values key of {version} names"
        repository = path.rsplit(":", 1)[0]
        keys = [(chart, key) for chart, data in reference.items() for key, image_map in _image_keys(data)
                if image_map["repository"] == repository]
        assert keys, f"{version}: {image} is named by no values key and not listed as not rewritable"
        ours = []
        for chart, key in keys:
            full = (chart, *key) if chart else key
            ours += [_get(values, (*full, "repository")) == images.mirror(repository, REGISTRY),
                     _get(values, (*full, "registry")) == REGISTRY + "/"]
        assert any(ours), f"{version}: {image} ({keys}) is not moved by images.values"
        moved.append(image)
    assert moved and fixed <= set(_facts(version))


@pytest.mark.parametrize("version", VERSIONS)
def test_the_custom_resources_images_are_moved(version):
    values = images.values(version, REGISTRY)
    assert values["iomesh"]["zookeeper"]["image"]["repository"] == f"{REGISTRY}/iomesh/zookeeper"
    if version == "v1.0.1":
        # Rendered as their repository value (no global.registry in the parent chart v1.0.x).
        assert values["iomesh"]["chunk"]["devicemanager"]["image"]["repository"] == f"{REGISTRY}/iomesh/operator-devicemanager"
        assert values["iomesh"]["meta"]["image"]["repository"] == f"{REGISTRY}/iomesh/zbs-metad"
        assert values["openebs-ndm"]["helperPod"]["image"]["registry"] == REGISTRY + "/"
    else:
        # From v1.1.0 the parent chart declares global.registry: docker.io/ and prefixes them itself.
        assert _get(_reference_values(version), ("", "global", "registry")) == "docker.io/"
        assert "meta" not in values["iomesh"]
        assert values["openebs-ndm"] == {"helperPod": {"image": {"registry": REGISTRY + "/"}}}


def test_no_registry_changes_no_value():
    assert images.values("v1.2.0", "") == {}
    assert images.not_rewritable("v1.2.0") == () and "iomesh/post-delete-hook:v1.0.1" in images.not_rewritable("v1.0.0")


@pytest.mark.parametrize("source,target", [
    ("docker.io/iomesh/operator:v1.2.0", f"{REGISTRY}/iomesh/operator:v1.2.0"),
    ("iomesh/operator:v1.0.1", f"{REGISTRY}/iomesh/operator:v1.0.1"),
    ("registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.7.0",
     f"{REGISTRY}/kube-state-metrics/kube-state-metrics:v2.7.0"),
    ("localhost:5000/a/b@sha256:" + "0" * 64, f"{REGISTRY}/a/b@sha256:" + "0" * 64),
    ("busybox:1.36.1", f"{REGISTRY}/busybox:1.36.1"),
    (f"{REGISTRY}/iomesh/zookeeper", f"{REGISTRY}/iomesh/zookeeper"),
])
def test_mirror_keeps_the_path_and_replaces_the_host(source, target):
    assert images.mirror(source, REGISTRY) == target
    assert images.mirror(source, "") == source
    assert fi.iomesh_image_mirror(source, REGISTRY) == target


@pytest.mark.parametrize("key,value,message", [
    ("iomesh_image_registry", "https://harbor.corp.internal", "use 'harbor.corp.internal'"),
    ("iomesh_image_registry", "harbor.corp.internal/", "no trailing slash"),
    ("iomesh_image_registry", "harbor.corp.internal/x:1", "no tag"),
    ("iomesh_image_registry", 5000, "must be a string"),
    ("iomesh_image_pull_secrets", ["Pull_Secret"], "'Pull_Secret' is not a Secret name (a DNS-1123 subdomain"),
    ("iomesh_image_pull_secrets", "pull-a", "must be a list of Secret names"),
])
def test_bad_registry_or_pull_secret_is_refused_naming_the_variable(key, value, message):
    inv = Inventory()
    inv.settings[key] = value
    with pytest.raises(AnsibleFilterError) as err:
        f.iomesh_settings(inv.settings)
    assert key in str(err.value) and message in str(err.value)
    with pytest.raises(AnsibleFilterError, match="iomesh_image_registry"):
        fi.iomesh_image_mirror("busybox:1", "https://x")


def _settings(version, **extra):
    return f.iomesh_settings({"iomesh_chart_version": version, "iomesh_image_registry": REGISTRY,
                              "iomesh_image_pull_secrets": ["corp-pull", "corp-pull"], **extra})


def _images_of(manifest) -> list[str]:
    return list(images.rendered_images(yaml.safe_dump(manifest)).values())


@pytest.mark.parametrize("version", ["v1.1.0", "v1.0.1"])
def test_additional_clusters_pull_from_the_mirror_without_a_management_cr(version):
    inv = Inventory()
    clusters = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars)
    extra = [c for c in clusters if not c["management"]][0]
    zk, cr = render.cluster_manifests(extra, _settings(version))
    found = _images_of(zk) + _images_of(cr)
    assert len(found) == 7 and all(image.startswith(REGISTRY + "/iomesh/") for image in found), found
    assert zk["spec"]["pod"]["imagePullSecrets"] == [{"name": "corp-pull"}]
    # Copying the management cluster's (already mirrored) images keeps them; an inventory ZooKeeper image moves.
    mgmt_cr = {"spec": {"meta": {"image": {"repository": f"{REGISTRY}/iomesh/zbs-metad", "tag": "v9"}}}}
    mgmt_zk = {"spec": {"image": {"repository": "docker.io/iomesh/zookeeper", "tag": "3.5.9-20"}}}
    zk, cr = render.cluster_manifests(extra, _settings(version, iomesh_image_pull_secrets=[]), mgmt_cr, mgmt_zk)
    assert cr["spec"]["meta"]["image"]["repository"] == f"{REGISTRY}/iomesh/zbs-metad"
    assert zk["spec"]["image"]["repository"] == f"{REGISTRY}/iomesh/zookeeper" and "imagePullSecrets" not in zk["spec"]["pod"]


def test_management_values_and_zookeeper_cluster_carry_the_mirror_and_pull_secrets():
    inv = Inventory()
    clusters = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars)
    mgmt = [c for c in clusters if c["management"]][0]
    values = render.mgmt_values(mgmt, _settings("v1.2.0"))
    assert values["global"] == {"imagePullSecrets": ["corp-pull"], "registry": REGISTRY + "/"}
    assert values["deck"]["imagePullSecrets"] == [{"name": "corp-pull"}]
    # The topology's values are kept beside the mirror's.
    assert values["iomesh"]["zookeeper"]["replicas"] == mgmt["zookeeper_replicas"]
    assert values["iomesh"]["zookeeper"]["image"]["repository"] == f"{REGISTRY}/iomesh/zookeeper"
    rendered = yaml.safe_dump_all([
        {"kind": "IOMeshCluster", "metadata": {"name": mgmt["name"]}, "spec": {}},
        {"kind": "ZookeeperCluster", "metadata": {"name": mgmt["zookeeper_name"]}, "spec": {"pod": {"labels": {}}}},
    ])
    zk = f.iomesh_mgmt_manifests(rendered, mgmt, ["corp-pull"])[0]
    assert zk["spec"]["pod"] == {"imagePullSecrets": [{"name": "corp-pull"}], "labels": {}}
    assert "imagePullSecrets" not in f.iomesh_mgmt_manifests(rendered, mgmt)[0]["spec"]["pod"]
    with pytest.raises(AnsibleFilterError, match="pull_secrets must be a list"):
        f.iomesh_mgmt_manifests(rendered, mgmt, "corp-pull")


def test_image_list_pairs_by_place_and_names_what_stays():
    def pod(name, image, env=None):
        container = {"name": "c", "image": image, **({"env": env} if env else {})}
        return {"kind": "DaemonSet", "metadata": {"name": name}, "spec": {"template": {"spec": {"containers": [container]}}}}
    default = yaml.safe_dump_all([pod("a", "docker.io/iomesh/a:1", [{"name": "HELPER_IMAGE", "value": "x/h:2"}]),
                                  pod("b", "iomesh/b:1"), None])
    mirrored = yaml.safe_dump_all([pod("a", f"{REGISTRY}/iomesh/a:1", [{"name": "HELPER_IMAGE", "value": f"{REGISTRY}/x/h:2"}]),
                                   pod("b", "iomesh/b:1")])
    listed = fi.iomesh_image_list(default, mirrored, REGISTRY, ["busybox:1.36.1", "busybox:1.36.1"])
    assert listed["lines"] == [f"busybox:1.36.1 -> {REGISTRY}/busybox:1.36.1",
                               f"docker.io/iomesh/a:1 -> {REGISTRY}/iomesh/a:1",
                               "iomesh/b:1 -> iomesh/b:1", f"x/h:2 -> {REGISTRY}/x/h:2"]
    assert listed["not_rewritable"] == ["iomesh/b:1"]
    assert fi.iomesh_image_list(default, default)["not_rewritable"] == []
