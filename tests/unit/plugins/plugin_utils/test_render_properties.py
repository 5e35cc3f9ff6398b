"""Properties over random valid inventories: every name fits Kubernetes, every rendered CR fits its chart's CRD.

Inventories vary what users vary: cluster names up to their limits, namespaces, node names, 3 to 7 nodes per
cluster, editions, chart versions v1.0.1/v1.1.0/v1.2.0, node label keys, disk modes and the nodes with disks.
The CRDs are the real chart's, read from the shared reference folder beside the repository.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
jsonschema = pytest.importorskip("jsonschema")

from hypothesis import HealthCheck, assume, given, settings, strategies as st  # noqa: E402
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f  # noqa: E402
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import names, render, verify  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[4].parent / "shared" / "reference"
FACTS = REFERENCE / "iomesh-chart-render-facts.md"
CHART_VERSIONS = ("v1.0.1", "v1.1.0", "v1.2.0")
CRD_FILES = {"IOMeshCluster": "iomesh.com_iomeshclusters.yaml",
             "ZookeeperCluster": "zookeeper.pravega.io_zookeeperclusters_crd.yaml"}
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
# A StatefulSet's pods carry controller-revision-hash=<name>-<hash of up to 10 characters>, a label value.
REVISION_HASH_SUFFIX = len("-") + 10
# What the IOMesh operator, the ZooKeeper operator and this collection name after every IOMesh cluster <C>
# (docs/architecture.md#object-names): (kind, suffix).
CLUSTER_OBJECTS = (
    ("IOMeshCluster", ""), ("ZookeeperCluster", "-zookeeper"), ("StatefulSet", "-zookeeper"),
    ("Service", "-zookeeper-client"), ("Service", "-zookeeper-headless"), ("Service", "-zookeeper-admin-server"),
    ("ConfigMap", "-zookeeper-configmap"), ("StatefulSet", "-meta"), ("Service", "-meta-client"),
    ("StatefulSet", "-chunk"), ("DaemonSet", "-iscsi-redirector"), ("ConfigMap", "-csi-configmap"),
)
RESERVED = ("iomesh-csi-driver", "hostpath", "kube-system", "kube-public", "kube-node-lease", "iomesh-system")


def _structural(schema: object) -> object:
    """A Kubernetes structural schema as JSON Schema: int-or-string, nullable, and unknown fields refused.

    The API server prunes a field its CRD does not know (unless x-kubernetes-preserve-unknown-fields), so a
    rendered field the schema lacks would be dropped silently: here it is an error.
    """
    if isinstance(schema, list):
        return [_structural(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _structural(v) for k, v in schema.items() if not k.startswith("x-kubernetes-")}
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out = {"anyOf": [{"type": "integer"}, {"type": "string"}], **out}
    if out.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if (out.get("type") == "object" and "additionalProperties" not in out
            and not schema.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
        out.setdefault("properties", {})
    return out


@functools.lru_cache(maxsize=None)
def _validator(chart_version: str, kind: str):
    path = REFERENCE / f"iomesh-chart-{chart_version}" / "crds" / CRD_FILES[kind]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs = yaml.load_all(path.read_text(), Loader=loader)
    crd = next(d for d in docs if d and d.get("kind") == "CustomResourceDefinition")
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    schema = _structural(version["schema"]["openAPIV3Schema"])
    # metadata is the API server's ObjectMeta, not the CRD's; checked separately below.
    schema["properties"]["metadata"] = {"type": "object"}
    return jsonschema.Draft7Validator(schema), f"{crd['spec']['group']}/{version['name']}"


def _crds_present() -> bool:
    return FACTS.exists() and all((REFERENCE / f"iomesh-chart-{v}" / "crds" / name).exists()
                                  for v in CHART_VERSIONS for name in CRD_FILES.values())


@functools.lru_cache(maxsize=None)
def _release_objects(chart_version: str) -> tuple[tuple[str, str], ...]:
    """(kind, name with <R>) of every object the real chart names after the release (the chart render facts)."""
    sections = re.split(r"^## Chart (v[0-9.]+):.*$", FACTS.read_text(), flags=re.M)
    table = dict(zip(sections[1::2], sections[2::2]))[chart_version]
    rows = (tuple(cell.strip() for cell in line.split("|")[1:3])
            for line in table.splitlines() if line.startswith("| "))
    return tuple(sorted({(kind, name) for kind, name in rows if "<R>" in name}))


LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"


@st.composite
def _label(draw, max_len: int, first: str = LOWER, edges: tuple[int, ...] = ()) -> str:
    """A DNS label of up to max_len characters; lengths at the edges (and the maximum) come up often."""
    length = draw(st.one_of(st.sampled_from((1, max_len) + edges), st.integers(1, max_len)))
    if length == 1:
        return draw(st.sampled_from(first))
    middle = draw(st.text(LOWER + DIGITS + "-", min_size=length - 2, max_size=length - 2))
    return draw(st.sampled_from(first)) + middle + draw(st.sampled_from(LOWER + DIGITS))


LABEL_KEYS = st.one_of(
    st.just("kubernetes.io/hostname"),
    st.builds(lambda prefix, name: f"{prefix}.example.com/{name}", _label(20), _label(30)),
    _label(40),
)


@st.composite
def inventories(draw):
    """A valid inventory: (clusters, groups, hostvars, settings)."""
    edition = draw(st.sampled_from(("community", "enterprise")))
    settings_ = {"iomesh_edition": edition, "iomesh_chart_version": draw(st.sampled_from(CHART_VERSIONS)),
                 "iomesh_node_label_key": draw(LABEL_KEYS)}
    count = draw(st.integers(1, 3))
    # Every cluster name may be up to 40 characters: the management cluster's is refused beyond 23 (see below).
    cluster_names = [draw(_label(40, edges=(23, 24, 26, 27))) for _index in range(count)]
    assume(len(set(cluster_names)) == count and not set(cluster_names) & set(RESERVED))
    assume(not any(n.startswith("iomesh-localpv-manager-") for n in cluster_names))
    node_names = draw(st.lists(_label(63, LOWER + DIGITS), min_size=3 * count, max_size=7 * count, unique=True))
    sizes = [3] * count
    for _extra in range(len(node_names) - 3 * count):
        index = draw(st.sampled_from([i for i, s in enumerate(sizes) if s < 7]))
        sizes[index] += 1
    clusters, groups, hostvars = [], {"all": [], "ungrouped": []}, {}
    namespaces = set()
    start = 0
    for index, (name, size) in enumerate(zip(cluster_names, sizes)):
        hosts = [f"h{start + i}" for i in range(size)]
        nodes = node_names[start:start + size]
        start += size
        groups[f"g{index}"] = hosts
        groups["all"] += hosts
        mode = draw(st.sampled_from(("hybridFlash", "allFlash")))
        top = 3 if edition == "community" else size
        chunk = draw(st.integers(3, top))
        cluster = {"name": name, "hosts_group": f"g{index}", "data_cidr": "10.234.0.0/16",
                   "disk_deployment_mode": mode, "chunk_replicas": chunk,
                   "meta_replicas": draw(st.sampled_from((3, 5) if edition == "enterprise" and size >= 5 else (3,))),
                   "zookeeper_replicas": draw(st.sampled_from((3, 5) if size >= 5 else (3,)))}
        if draw(st.booleans()):
            del cluster["chunk_replicas"]
            chunk = top  # the default: one chunk pod per node within the edition's limit (README)
        if index == 0:
            cluster["management"] = True
        if draw(st.booleans()):
            cluster["namespace"] = draw(_label(63))
        namespaces.add(cluster.get("namespace") or ("iomesh-system" if index == 0 else name))
        clusters.append(cluster)
        with_disks = draw(st.integers(0, chunk))
        for i, (host, node) in enumerate(zip(hosts, nodes)):
            hostvars[host] = {"ansible_host": f"10.234.{index}.{10 + i}", "iomesh_node_name": node}
            if i < with_disks:
                hostvars[host]["iomesh_disks"] = (
                    [{"serial": f"SSD-{node}", "mount_type": "dataStoreWithJournal"}] if mode == "allFlash" else
                    [{"serial": f"SSD-{node}", "mount_type": "cacheWithJournal"},
                     {"serial": f"HDD-{node}", "mount_type": "dataStore"}])
    assume(len(namespaces) == count and not namespaces & set(RESERVED[2:5]))
    return clusters, groups, hostvars, settings_


def _too_long(cluster_name: str, management: bool, chart_version: str) -> list[str]:
    """The names made after this cluster (and its release, for the management cluster) that break a limit."""
    objects = [(kind, f"{cluster_name}{suffix}") for kind, suffix in CLUSTER_OBJECTS]
    if management:
        objects += [(kind, name.replace("<R>", cluster_name)) for kind, name in _release_objects(chart_version)]
    bad = [f"{kind} {name}" for kind, name in objects if len(name) > 63 or not DNS1123_LABEL.match(name)
           or (kind == "Service" and not DNS1035_LABEL.match(name))
           or (kind == "StatefulSet" and len(name) + REVISION_HASH_SUFFIX > 63)]
    return bad + ([f"Helm release {cluster_name}"] if management and len(cluster_name) > 53 else [])


def _check_names(cluster: dict) -> None:
    for component, replicas in (("zookeeper", "zookeeper_replicas"), ("meta", "meta_replicas"),
                                ("chunk", "chunk_replicas")):
        pod = f"{cluster['name']}-{component}-{cluster[replicas] - 1}"
        assert len(pod) <= 63 and re.match(names.pod_patterns(cluster["name"])[component], pod)
    assert len(cluster["namespace"]) <= 63
    assert len(verify.claim_name(cluster["name"])) <= 63  # also its test pod's name
    assert len(cluster["storage_class"]["name"]) <= 253
    assert all(len(node) <= 63 for node in cluster["nodes"])  # label values


@pytest.mark.skipif(not _crds_present(), reason="the real chart's CRDs are not on this machine")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(inventories())
def test_valid_inventories_make_names_that_fit_and_crs_their_crds_accept(inventory):
    clusters_in, groups, hostvars, settings_in = inventory
    report = f.iomesh_topology_report(clusters_in, groups, hostvars, settings_in)
    too_long = _too_long(clusters_in[0]["name"], True, settings_in["iomesh_chart_version"])
    for cluster in clusters_in[1:]:
        assert _too_long(cluster["name"], False, settings_in["iomesh_chart_version"]) == []
    if too_long:
        # Refused, and only for that: the message names the cluster and the chart's longest name.
        assert len(report["errors"]) == 1, (too_long, report["errors"])
        assert report["errors"][0].startswith(f"iomesh_clusters[0] ({clusters_in[0]['name']}).name")
        assert any(name.split()[1] in report["errors"][0] for name in too_long), (too_long, report["errors"])
        return
    assert report["errors"] == []
    conf = report["settings"]
    for cluster in report["clusters"]:
        _check_names(cluster)
        if cluster["management"]:
            continue
        zookeeper, iomesh_cluster = render.cluster_manifests(cluster, conf)
        chunk = iomesh_cluster["spec"]["chunk"]
        # Disks only where chunk pods can run, guarded by the hostname label NDM puts on BlockDevices.
        assert len(cluster["disks"]) <= chunk["replicas"] <= len(cluster["nodes"])
        for entry in (chunk.get("deviceMap") or {}).values():
            assert entry["selector"]["matchExpressions"] == [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": sorted(cluster["nodes"])}]
        for manifest in (zookeeper, iomesh_cluster):
            validator, api_version = _validator(conf["iomesh_chart_version"], manifest["kind"])
            assert manifest["apiVersion"] == api_version
            assert DNS1123_LABEL.match(manifest["metadata"]["name"])
            errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
            assert not errors, [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def test_the_schema_conversion_refuses_what_the_api_server_would_prune_or_reject():
    schema = _structural({"type": "object", "properties": {
        "port": {"x-kubernetes-int-or-string": True},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "fixed": {"type": "object", "properties": {"a": {"type": "string"}}},
    }})
    validator = jsonschema.Draft7Validator(schema)
    assert validator.is_valid({"port": 8080, "free": {"anything": 1}, "fixed": {"a": "x"}})
    assert validator.is_valid({"port": "http"})
    assert not validator.is_valid({"fixed": {"b": "pruned"}})
    assert not validator.is_valid({"port": 1.5})
