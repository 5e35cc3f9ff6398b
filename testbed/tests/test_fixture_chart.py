"""Tests of the testbed's IOMesh fixture chart (testbed/charts/iomesh, and charts/versions for v1.1.0/v1.2.0).

The chart stands in for the official `iomesh/iomesh` chart v1.0.1 (and v1.1.0, v1.2.0), so the roles of the
collection can `helm upgrade --install` it against the Kubernetes emulator. These tests pin the behaviour the
roles rely on: real object names, values at their real paths (and only there), image-tag derivation, the
CRs the chart renders for the management cluster, and the validity of every object it renders (lint and
validity for every version; the rest on v1.0.1). test_fixture_chart_facts.py compares every version's objects,
names and labels with the real chart's render facts.

Every test runs with helm 3 and helm 4 (`helm template` / `helm lint`, offline).
The binaries are taken from $TESTBED_HELM3 / $TESTBED_HELM4, else from the running venv's bin/,
else from PATH.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from iomesh_testbed import launcher

CHART = Path(__file__).resolve().parents[1] / "charts" / "iomesh"
VERSIONS = launcher.CHART_VERSIONS
DEFAULT_VERSION = launcher.DEFAULT_CHART_VERSION
# Secrets whose certificates the chart generates on every render (and the caBundles that trust them).
GENERATED_CERT_SECRETS = ("iomesh-webhook-cert", "iomesh-apiserver-cert")
RELEASE = "iomesh"
NAMESPACE = "iomesh-system"
K8S_VERSION = "1.25"
CR_GROUPS = ("iomesh.com", "zookeeper.pravega.io", "openebs.io")

ZBS_DEFAULT_TAG = "v5.3.0-rc13-community"
OPERATOR_DEFAULT_TAG = "v1.0.1"

MGMT_NODES = ["k8s-woker-0", "k8s-woker-1", "k8s-woker-2"]
DATA_CIDR = "10.234.1.0/24"


def _node_affinity(nodes):
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": nodes}]}
                ]
            }
        }
    }


def _zk_affinity(nodes, release):
    affinity = _node_affinity(nodes)
    affinity["podAntiAffinity"] = {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": 20,
                "podAffinityTerm": {
                    "labelSelector": {
                        "matchExpressions": [{"key": "app", "operator": "In", "values": [f"{release}-zookeeper"]}]
                    },
                    "topologyKey": "kubernetes.io/hostname",
                },
            }
        ]
    }
    return affinity


# The management cluster's values as the seed / English docs describe them (docs/architecture.md#rendering).
SEED_VALUES = {
    "iomesh": {
        "chunk": {"dataCIDR": DATA_CIDR, "podPolicy": {"affinity": _node_affinity(MGMT_NODES)}},
        "meta": {"podPolicy": {"affinity": _node_affinity(MGMT_NODES)}},
        "redirector": {"podPolicy": {"affinity": _node_affinity(MGMT_NODES)}},
        "zookeeper": {"podPolicy": {"affinity": _zk_affinity(MGMT_NODES, RELEASE)}},
    }
}


# --------------------------------------------------------------------------------------------- helpers


def _find_helm(name: str) -> str:
    override = os.environ.get(f"TESTBED_{name.upper()}")
    candidates = [override] if override else []
    candidates += [str(Path(sys.executable).parent / name), shutil.which(name)]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(f"{name} not found (set TESTBED_{name.upper()} or put it next to {sys.executable})")


@pytest.fixture(params=["helm3", "helm4"], scope="module")
def helm(request) -> str:
    return _find_helm(request.param)


def _merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _run_helm(helm_bin: str, *args: str, values: dict | None = None) -> subprocess.CompletedProcess:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values_file:
        yaml.safe_dump(values or {}, values_file)
        values_file.flush()
        return subprocess.run(
            [helm_bin, *args, "-f", values_file.name],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "HELM_CACHE_HOME": tempfile.gettempdir() + "/testbed-helm-cache"},
        )


@functools.lru_cache(maxsize=None)
def _template_text(helm_bin: str, values_json: str, release: str, namespace: str, extra: tuple, version: str) -> str:
    result = _run_helm(
        helm_bin, "template", release, str(launcher.chart_dir(version)), "--namespace", namespace, *extra,
        values=json.loads(values_json),
    )
    assert result.returncode == 0, f"helm template failed:\n{result.stderr}"
    return result.stdout


def render_text(helm_bin, values=None, release=RELEASE, namespace=NAMESPACE, extra=(), version=DEFAULT_VERSION) -> str:
    return _template_text(helm_bin, json.dumps(values or {}, sort_keys=True), release, namespace, tuple(extra),
                          version)


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=None)
def _parsed(text: str) -> tuple:
    return tuple(doc for doc in yaml.load_all(text, Loader=_YAML_LOADER) if doc)


def render(helm_bin, values=None, release=RELEASE, namespace=NAMESPACE, extra=(),
           version=DEFAULT_VERSION) -> list[dict]:
    """Rendered documents (a fresh copy: tests may modify what they get)."""
    return copy.deepcopy(list(_parsed(render_text(helm_bin, values, release, namespace, extra, version))))


def without_generated_certs(docs: list[dict]) -> list[dict]:
    """`docs` without what differs on every render: the generated certificates and the caBundles trusting them."""
    docs = copy.deepcopy(docs)
    for doc in docs:
        if doc["kind"] == "Secret" and doc["metadata"]["name"] in GENERATED_CERT_SECRETS:
            doc["data"] = sorted(doc["data"])
        for hook in doc.get("webhooks") or []:
            hook["clientConfig"].pop("caBundle", None)
        if doc["kind"] == "APIService":
            doc["spec"].pop("caBundle", None)
    return docs


def find(docs, kind, name=None) -> list[dict]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs, kind, name) -> dict:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected exactly one {kind} {name}, found {len(found)}"
    return found[0]


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def container(workload: dict, name: str) -> dict:
    matches = [c for c in pod_spec(workload)["containers"] if c["name"] == name]
    assert len(matches) == 1, f"container {name} not found in {workload['metadata']['name']}"
    return matches[0]


def volumes_by_name(workload: dict) -> dict:
    return {v["name"]: v for v in pod_spec(workload)["volumes"]}


def load_crds(version: str = DEFAULT_VERSION) -> dict[str, dict]:
    crds = {}
    for path in sorted((launcher.chart_dir(version) / "crds").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                crds[doc["spec"]["names"]["kind"]] = doc
    return crds


def crd_schema(crd: dict) -> dict:
    (version,) = crd["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]


def _to_jsonschema(node: dict) -> dict:
    """openAPIV3Schema -> JSON schema, stricter than the API server about unknown fields.

    The API server prunes unknown fields silently; here they fail validation, which is what a test of
    a chart template wants (a misspelt key must not vanish unnoticed). Fields under
    x-kubernetes-preserve-unknown-fields stay open; nullable becomes an explicit null type.
    """
    out = {k: v for k, v in node.items() if not k.startswith("x-kubernetes-") and k not in ("description",)}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    out.pop("nullable", None)
    if "properties" in node:
        out["properties"] = {k: _to_jsonschema(v) for k, v in node["properties"].items()}
        if not node.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in node:
            out["additionalProperties"] = False
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = _to_jsonschema(node["additionalProperties"])
    if "items" in node:
        out["items"] = _to_jsonschema(node["items"])
    return out


def _drop_nulls(value):
    """The API server drops null values of non-nullable fields before validating a custom resource."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def cr_errors(obj: dict) -> list[str]:
    schema = _to_jsonschema(crd_schema(load_crds()[obj["kind"]]))
    validator = jsonschema.Draft7Validator(schema)
    return sorted(
        f"{'.'.join(str(p) for p in err.absolute_path)}: {err.message}"
        for err in validator.iter_errors(_drop_nulls(obj))
    )


def iomesh_cr(docs) -> dict:
    return one(docs, "IOMeshCluster", RELEASE)


def zk_cr(docs) -> dict:
    return one(docs, "ZookeeperCluster", f"{RELEASE}-zookeeper")


WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet")

# (kind, name) the roles wait on or look up (docs/architecture.md#object-names, #management-cluster-wait-order).
EXPECTED_OBJECTS = {
    ("Deployment", "operator"),
    ("Service", "operator"),
    ("Service", "iomesh-webhook"),
    ("Secret", "iomesh-webhook-cert"),
    ("ValidatingWebhookConfiguration", "iomesh-validating-webhook-configuration"),
    ("Deployment", "iomesh-csi-driver-controller-plugin"),
    ("DaemonSet", "iomesh-csi-driver-node-plugin"),
    ("CSIDriver", "com.iomesh.csi-driver"),
    ("StorageClass", "iomesh-csi-driver"),
    ("ConfigMap", "iomesh-csi-driver-iscsi-config"),
    ("DaemonSet", "iomesh-openebs-ndm"),
    ("Deployment", "iomesh-openebs-ndm-operator"),
    ("Deployment", "iomesh-openebs-ndm-cluster-exporter"),
    ("DaemonSet", "iomesh-openebs-ndm-node-exporter"),
    ("ConfigMap", "iomesh-openebs-ndm-config"),
    ("Deployment", "iomesh-zookeeper-operator"),
    ("DaemonSet", "iomesh-hostpath-provisioner"),
    ("StorageClass", "hostpath"),
    ("Deployment", "iomesh-blockdevice-monitor"),
    ("DaemonSet", "iomesh-blockdevice-monitor-prober"),
    ("DaemonSet", "iomesh-localpv-manager"),
    ("CSIDriver", "com.iomesh.iomesh-localpv-manager"),
    ("StorageClass", "iomesh-localpv-manager-hostpath"),
    ("StorageClass", "iomesh-localpv-manager-device"),
    ("DaemonSet", "prepare-csi"),
    ("IOMeshCluster", "iomesh"),
    ("ZookeeperCluster", "iomesh-zookeeper"),
    # Hooks: helm waits for the Job after install/upgrade, for the Pod at uninstall.
    ("Job", "iomesh-zookeeper-operator-post-install-upgrade"),
    ("Pod", "iomesh-post-delete-hook"),
    # The snapshot controller, rendered while the cluster has no snapshot API.
    ("Deployment", "snapshot-controller"),
    ("CustomResourceDefinition", "volumesnapshots.snapshot.storage.k8s.io"),
    ("ClusterRole", "iomesh:manager"),
    ("ClusterRoleBinding", "iomesh:manager"),
}

CLUSTER_SCOPED = {"ValidatingWebhookConfiguration", "CSIDriver", "StorageClass", "ClusterRole", "ClusterRoleBinding",
                  "CustomResourceDefinition", "APIService"}


# ------------------------------------------------------------------------------------- chart & lint


# One render with non-default values at their real paths, shared by the tests of those values
# (keeps the number of helm runs low). SEED_VALUES' affinities stay in place underneath.
NODE_SELECTOR = {"iomesh.example/member": "true"}
TOLERATIONS = [{"key": "storage", "operator": "Exists", "effect": "NoSchedule"}]
# `priority` is not a podPolicy key the chart passes on.
POD_POLICY_EXTRA = {"nodeSelector": NODE_SELECTOR, "tolerations": TOLERATIONS, "priority": 5}
DEVICE_MAP = {
    "cacheWithJournal": {
        "selector": {"matchLabels": {"iomesh.example/cluster": "iomesh", "iomesh.example/mount-type": "cache"}}
    },
    "dataStore": {
        "selector": {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": MGMT_NODES}]},
        "exclude": ["blockdevice-0123456789abcdef0123456789abcdef"],
    },
}
OPTIONS_VALUES = _merge(
    SEED_VALUES,
    {
        "operator": {"replicaCount": 1, "image": {"tag": "v1.0.1-hotfix"}},
        "iomesh": {
            "edition": "enterprise",
            "diskDeploymentMode": "allFlash",
            "storageClass": "local-ssd",
            "reclaimPolicy": {"volume": "Retain", "blockdevice": "Retain"},
            "meta": {"replicaCount": 5, "image": {"tag": "m1"}, "podPolicy": POD_POLICY_EXTRA},
            "chunk": {
                "replicaCount": 4,
                "dataCIDR": "192.168.50.0/24",
                "accessCIDR": "10.0.0.0/16",
                "deviceMap": DEVICE_MAP,
                "image": {"tag": "c1"},
                "devicemanager": {"image": {"tag": "d1"}, "blockDeviceNamespace": "iomesh-system"},
                "resources": {"limits": {"cpu": "3", "memory": "5000Mi"}},
                "podPolicy": POD_POLICY_EXTRA,
            },
            "redirector": {"iscsiVirtualIP": "192.168.2.1", "image": {"tag": "r1"}, "podPolicy": POD_POLICY_EXTRA},
            "probe": {"image": {"tag": "p1"}},
            "toolbox": {"image": {"tag": "t1"}},
            "zookeeper": {
                "replicas": 5,
                # An unquoted 3.10 would turn into the number 3.1.
                "image": {"tag": "3.10"},
                "storageClass": "zk-local",
                "storageSize": "50Gi",
                "reclaimPolicy": "Retain",
                "podPolicy": POD_POLICY_EXTRA,
            },
        },
        "csi-driver": {
            "storageClass": {"default": True, "allowVolumeExpansion": False},
            "driver": {
                "clusterID": "k8s-a",
                "controller": {
                    "replicas": 1,
                    "driver": {"podDeletePolicy": "delete-both-statefulset-and-deployment-pod"},
                },
                "node": {
                    "nodeSelector": NODE_SELECTOR,
                    "affinity": _node_affinity(MGMT_NODES),
                    "driver": {"iscsi": {"node.session.queue_depth": 128}, "kubeletRootDir": "/var/lib/k0s/kubelet"},
                },
            },
        },
        "hostpath-provisioner": {"pvDir": "/data/hostpath", "storageClass": {"name": "local", "defaultClass": True}},
        "openebs-ndm": {"ndm": {"filters": {"excludePaths": "loop,/dev/md"}}},
        "zookeeper-operator": {"watchNamespace": "iomesh-system"},
    },
)

# Everything that can be switched off, switched off.
DISABLED_VALUES = _merge(
    SEED_VALUES,
    {
        "iomesh": {"create": False},
        "prepareCSI": {"enabled": False},
        "openebs-ndm": {"enabled": False},
        "iomesh-localpv-manager": {"enabled": False},
        "csi-driver": {"storageClass": {"create": False}},
        "hostpath-provisioner": {"storageClass": {"create": False}},
    },
)


# ------------------------------------------------------------------------------------- chart & lint


def test_chart_metadata_matches_the_real_chart_identity():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert (chart["name"], chart["version"], chart["appVersion"]) == ("iomesh", "v1.0.1", "v5.3.0-rc13")
    assert "dependencies" not in chart, "the fixture chart inlines its sub-charts; it must not depend on a repository"
    assert not (CHART / "charts").exists()


def test_values_keep_the_real_top_level_layout():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for key in (
        "operator",
        "prepareCSI",
        "iomesh",
        "csi-driver",
        "openebs-ndm",
        "zookeeper-operator",
        "hostpath-provisioner",
        "blockdevice-monitor",
        "iomesh-localpv-manager",
    ):
        assert key in values, key
    # Pitfall P7: these live under `iomesh.` in the real chart, never at the top level.
    for misplaced in ("diskDeploymentMode", "edition", "platform", "chunk", "meta"):
        assert misplaced not in values


def test_every_version_assembles_from_one_template_source():
    for version in VERSIONS:
        chart = launcher.chart_dir(version)
        assert sorted(p.name for p in (chart / "templates").iterdir()) == sorted(
            p.name for p in (CHART / "templates").iterdir()
        ), version
        values = yaml.safe_load((chart / "values.yaml").read_text())
        # Chart v1.1.0 moved prepareCSI into the csi-driver sub-chart.
        assert ("prepareCSI" in values) == (version == "v1.0.1"), version
        assert ("prepareCSI" in values["csi-driver"]) == (version != "v1.0.1"), version
    assert launcher.chart_dir(DEFAULT_VERSION) == launcher.CHART == CHART


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("values", [{}, SEED_VALUES], ids=["defaults", "seed"])
def test_lint(helm, values, version):
    strict = ["--strict"] if helm.endswith("helm3") else []
    result = _run_helm(helm, "lint", str(launcher.chart_dir(version)), *strict, values=values)
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith(("[WARNING]", "[ERROR]"))]
    # Helm 4 warns about the leading "v" of the version, which the real chart has too (v1.0.1).
    assert warnings in ([], [f"[WARNING] Chart.yaml: version '{version}' is not a valid SemVerV2"])


def test_rendering_is_deterministic_but_for_the_generated_certificates(helm):
    args = ("template", RELEASE, str(CHART), "--namespace", NAMESPACE)
    first, second = (_run_helm(helm, *args, values=SEED_VALUES) for _ in range(2))
    assert first.returncode == 0 and first.stdout
    assert first.stdout != second.stdout, "the webhook CA must be generated anew on every render"
    parsed = [without_generated_certs([d for d in yaml.safe_load_all(r.stdout) if d]) for r in (first, second)]
    assert parsed[0] == parsed[1] == without_generated_certs(render(helm, SEED_VALUES))


# -------------------------------------------------------------------------------- objects & validity


def test_renders_the_real_object_names(helm):
    docs = render(helm, SEED_VALUES)
    rendered = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert EXPECTED_OBJECTS <= rendered, sorted(EXPECTED_OBJECTS - rendered)
    keys = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs]
    assert len(keys) == len(set(keys)), "duplicate objects"
    for doc in docs:
        namespace = doc["metadata"].get("namespace")
        if doc["kind"] in CLUSTER_SCOPED:
            # Only the zookeeper-operator sub-chart sets a namespace on its cluster-scoped RBAC (ignored).
            assert namespace is None or doc["metadata"]["name"] == "iomesh-zookeeper-operator", doc["kind"]
        else:
            # None: the template sets no namespace and Helm creates the object in the release namespace.
            assert namespace in (NAMESPACE, None, "kube-system"), (doc["kind"], doc["metadata"]["name"])
            assert namespace != "kube-system" or "snapshot-controller" in doc["metadata"]["name"]
    assert "iomesh-access" not in {d["metadata"]["name"] for d in docs}, "the IOMesh operator creates iomesh-access"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "values",
    [{}, SEED_VALUES, OPTIONS_VALUES, DISABLED_VALUES],
    ids=["defaults", "seed", "options", "disabled"],
)
def test_every_builtin_object_validates_strictly_for_kubernetes_1_25(helm, values, version):
    builtin = [d for d in render(helm, values, version=version) if d["apiVersion"].split("/")[0] not in CR_GROUPS]
    assert len(builtin) >= 20
    for doc in builtin:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_crds_validate_strictly_for_kubernetes_1_25(version):
    crds = load_crds(version)
    expected = {"IOMeshCluster", "ZookeeperCluster", "BlockDevice", "BlockDeviceClaim", "BlockDeviceMonitor"}
    if version != "v1.0.1":
        expected |= {"Session", "User"}
    assert set(crds) == expected
    for crd in crds.values():
        kubernetes_validate.validate(crd, K8S_VERSION, strict=True)


@pytest.mark.parametrize("version", VERSIONS[1:])
def test_later_iomeshcluster_crds_add_the_fields_their_chart_renders(helm, version):
    spec = crd_schema(load_crds(version)["IOMeshCluster"])["properties"]["spec"]["properties"]
    assert {"version", "edition", "platform", "cpuExclusiveOptions", "clusterID"} <= set(spec)
    assert "extraEnvs" in spec["chunk"]["properties"]
    assert ("prioritizedSpaceRatioMap" in spec["chunk"]["properties"]) == (version == "v1.2.0")
    # The v1.0.1 CRD has none of them (a field the CRD lacks would be pruned by the API server).
    assert "version" not in crd_schema(load_crds()["IOMeshCluster"])["properties"]["spec"]["properties"]
    values = _merge(SEED_VALUES, {"iomesh": {"edition": "enterprise", "chunk": {"extraEnvs": {"A": "1"}}}})
    cr = iomesh_cr(render(helm, values, version=version))
    assert cr["spec"]["version"] == version and cr["spec"]["edition"] == "enterprise"
    assert cr["spec"]["cpuExclusiveOptions"] == {"cpuExclusivePolicy": "kubeletCpuManager", "exclusiveCpusets": {}}
    assert cr["spec"]["chunk"]["extraEnvs"] == {"A": "1"}
    assert cr["spec"]["meta"]["image"]["repository"] == "docker.io/iomesh/zbs-metad"
    schema = _to_jsonschema(crd_schema(load_crds(version)["IOMeshCluster"]))
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(_drop_nulls(cr))]
    assert errors == []


@pytest.mark.parametrize("values", [SEED_VALUES, OPTIONS_VALUES], ids=["seed", "options"])
def test_rendered_custom_resources_validate_against_our_crds(helm, values):
    docs = render(helm, values)
    for obj in (iomesh_cr(docs), zk_cr(docs)):
        assert cr_errors(obj) == [], obj["kind"]


def test_schema_check_catches_bad_custom_resources():
    """The CR validation used in these tests rejects what the API server would reject."""
    good = {
        "apiVersion": "iomesh.com/v1alpha1",
        "kind": "IOMeshCluster",
        "metadata": {"name": "c1", "namespace": "c1"},
        "spec": {
            "storageClass": "hostpath",
            "reclaimPolicy": {"volume": "Delete", "blockdevice": "Delete"},
            "meta": {"replicas": 3, "image": {"repository": "iomesh/zbs-metad"}},
            "chunk": {
                "dataCIDR": DATA_CIDR,
                "replicas": 3,
                "image": {"repository": "iomesh/zbs-chunkd"},
                "devicemanager": {"image": {"repository": "iomesh/operator-devicemanager"}},
            },
            "redirector": {"dataCIDR": DATA_CIDR, "image": {"repository": "iomesh/zbs-iscsi-redirectord"}},
            "probe": {"image": {"repository": "iomesh/operator-probe"}},
            "toolbox": {"image": {"repository": "iomesh/operator-toolbox"}},
        },
    }
    assert cr_errors(good) == []
    bad_mode = _merge(good, {"spec": {"diskDeploymentMode": "allflash"}})
    assert any(e.startswith("spec.diskDeploymentMode:") for e in cr_errors(bad_mode))
    misspelt = _merge(good, {"spec": {"chunk": {"dataCidr": DATA_CIDR}}})
    assert any("dataCidr" in e for e in cr_errors(misspelt))
    bad_type = _merge(good, {"spec": {"meta": {"replicas": "three"}}})
    assert any(e.startswith("spec.meta.replicas:") for e in cr_errors(bad_type))
    bad_quantity = _merge(good, {"spec": {"meta": {"resources": {"limits": {"cpu": "lots"}}}}})
    assert any(e.startswith("spec.meta.resources.limits.cpu:") for e in cr_errors(bad_quantity))


# --------------------------------------------------------------------------------------------- CRDs


def test_crd_identity_and_subresources():
    crds = load_crds()
    expected = {
        "IOMeshCluster": ("iomeshclusters.iomesh.com", "v1alpha1", ["iomesh"], {"status": {}}),
        "ZookeeperCluster": ("zookeeperclusters.zookeeper.pravega.io", "v1beta1", ["zk"], {"status": {}}),
        # Like upstream openebs: no status subresource.
        "BlockDevice": ("blockdevices.openebs.io", "v1alpha1", ["bd"], {}),
        "BlockDeviceClaim": ("blockdeviceclaims.openebs.io", "v1alpha1", ["bdc"], {}),
    }
    for kind, (name, version, short_names, subresources) in expected.items():
        crd = crds[kind]
        (served,) = crd["spec"]["versions"]
        assert crd["metadata"]["name"] == name
        assert crd["spec"]["scope"] == "Namespaced"
        assert crd["spec"]["names"]["shortNames"] == short_names
        assert (served["name"], served["served"], served["storage"]) == (version, True, True)
        assert served.get("subresources", {}) == subresources, kind


def test_crd_printer_columns():
    crds = load_crds()

    def columns(kind):
        (version,) = crds[kind]["spec"]["versions"]
        return {c["name"]: c["jsonPath"] for c in version.get("additionalPrinterColumns", [])}

    assert columns("BlockDevice") == {
        "NodeName": ".spec.nodeAttributes.nodeName",
        "Path": ".spec.path",
        "FSType": ".spec.filesystem.fsType",
        "Size": ".spec.capacity.storage",
        "ClaimState": ".status.claimState",
        "Status": ".status.state",
        "Age": ".metadata.creationTimestamp",
    }
    assert columns("BlockDeviceClaim") == {
        "BlockDeviceName": ".spec.blockDeviceName",
        "Phase": ".status.phase",
        "Age": ".metadata.creationTimestamp",
    }
    assert columns("ZookeeperCluster") == {
        "Replicas": ".spec.replicas",
        "Ready Replicas": ".status.readyReplicas",
        "Version": ".status.currentVersion",
        "Desired Version": ".spec.image.tag",
        "Internal Endpoint": ".status.internalClientEndpoint",
        "External Endpoint": ".status.externalClientEndpoint",
        "Age": ".metadata.creationTimestamp",
    }
    # The upstream IOMeshCluster CRD defines no printer columns.
    assert columns("IOMeshCluster") == {}


def test_iomeshcluster_crd_keeps_required_fields_enum_and_defaults():
    spec = crd_schema(load_crds()["IOMeshCluster"])["properties"]["spec"]
    props = spec["properties"]
    assert sorted(spec["required"]) == [
        "chunk",
        "meta",
        "probe",
        "reclaimPolicy",
        "redirector",
        "storageClass",
        "toolbox",
    ]
    assert props["diskDeploymentMode"]["enum"] == ["hybridFlash", "allFlash"]
    assert props["diskDeploymentMode"]["default"] == "hybridFlash"
    assert props["portOffset"]["default"] == -1
    assert sorted(props["reclaimPolicy"]["required"]) == ["blockdevice", "volume"]
    assert sorted(props["meta"]["required"]) == ["image", "replicas"]
    assert sorted(props["chunk"]["required"]) == ["dataCIDR", "devicemanager", "image", "replicas"]
    assert sorted(props["redirector"]["required"]) == ["dataCIDR", "image"]
    assert props["probe"]["required"] == ["image"] and props["toolbox"]["required"] == ["image"]
    assert props["chunk"]["properties"]["devicemanager"]["required"] == ["image"]
    assert "blockDeviceNamespace" in props["chunk"]["properties"]["devicemanager"]["properties"]
    assert {"licenseSecretName", "storageClass"} <= set(props)
    for component in ("meta", "chunk", "redirector"):
        component_props = props[component]["properties"]
        assert component_props["image"]["required"] == ["repository"]
        assert set(component_props["podPolicy"]["properties"]) == {"affinity", "nodeSelector", "tolerations"}
        assert component_props["podPolicy"]["properties"]["affinity"]["x-kubernetes-preserve-unknown-fields"]
        assert set(component_props["resources"]["properties"]) == {"limits", "requests"}
    device_map = props["chunk"]["properties"]["deviceMap"]["additionalProperties"]["properties"]
    assert set(device_map) == {"selector", "exclude"}
    assert set(device_map["selector"]["properties"]) == {"matchLabels", "matchExpressions"}
    assert device_map["selector"]["properties"]["matchExpressions"]["items"]["required"] == ["key", "operator"]
    assert device_map["exclude"]["items"]["type"] == "string"
    assert "iscsiVirtualIP" in props["redirector"]["properties"]
    assert "accessCIDR" in props["chunk"]["properties"]


def test_iomeshcluster_crd_keeps_status_fields():
    status = crd_schema(load_crds()["IOMeshCluster"])["properties"]["status"]["properties"]
    assert set(status) == {
        "attachedDevices",
        "license",
        "portOffset",
        "readyReplicas",
        "runningImages",
        "summary",
        "taskInProcess",
    }
    assert set(status["attachedDevices"]["items"]["properties"]) == {"device", "mountType", "nodeName", "uuid"}
    assert set(status["license"]["properties"]) == {
        "expirationDate",
        "licenseType",
        "maxChunkNum",
        "maxPhysicalDataCapacity",
        "maxPhysicalDataCapacityPerNode",
        "serial",
        "signDate",
        "softwareEdition",
        "subscriptionExpirationDate",
        "subscriptionStartDate",
    }
    assert status["readyReplicas"]["additionalProperties"]["type"] == "integer"
    assert set(status["runningImages"]["properties"]) == {"chunk", "meta"}
    summary = status["summary"]["properties"]
    assert set(summary) == {"chunkSummary", "clusterSummary", "metaSummary"}
    assert set(summary["metaSummary"]["properties"]) == {"aliveHost", "leader", "status"}
    chunk = summary["chunkSummary"]["properties"]["chunks"]["items"]["properties"]
    assert set(chunk) == {"id", "ip", "status", "spaceInfo"}
    for space_info in (chunk["spaceInfo"], summary["clusterSummary"]["properties"]["spaceInfo"]):
        assert len(space_info["required"]) == 8 and set(space_info["required"]) == set(space_info["properties"])


def test_zookeepercluster_crd_keeps_enums_and_fields():
    schema = crd_schema(load_crds()["ZookeeperCluster"])
    spec = schema["properties"]["spec"]["properties"]
    assert spec["replicas"]["minimum"] == 1
    assert spec["image"]["properties"]["pullPolicy"]["enum"] == ["Always", "Never", "IfNotPresent"]
    assert spec["persistence"]["properties"]["reclaimPolicy"]["enum"] == ["Delete", "Retain"]
    assert {"storageClassName", "resources"} <= set(spec["persistence"]["properties"]["spec"]["properties"])
    assert {"affinity", "nodeSelector", "tolerations", "securityContext", "resources"} <= set(spec["pod"]["properties"])
    assert spec["ports"]["items"]["properties"]["protocol"]["default"] == "TCP"
    status = schema["properties"]["status"]["properties"]
    assert {"readyReplicas", "replicas", "conditions", "internalClientEndpoint", "currentVersion", "members"} <= set(
        status
    )


def test_blockdevice_crds_keep_required_fields_and_enums():
    crds = load_crds()
    bd = crd_schema(crds["BlockDevice"])["properties"]
    assert sorted(bd["spec"]["required"]) == ["capacity", "devlinks", "nodeAttributes", "path"]
    assert bd["spec"]["properties"]["capacity"]["required"] == ["storage"]
    details = bd["spec"]["properties"]["details"]["properties"]
    assert details["deviceType"]["enum"] == ["disk", "partition", "sparse", "loop", "lvm", "crypt", "dm", "mpath"]
    assert details["driveType"]["enum"] == ["HDD", "SSD", "Unknown", ""]
    assert {"serial", "vendor", "model"} <= set(details)
    assert bd["spec"]["properties"]["devlinks"]["items"]["properties"]["kind"]["enum"] == ["by-id", "by-path"]
    assert bd["spec"]["properties"]["partitioned"]["enum"] == ["Yes", "No"]
    assert set(bd["spec"]["properties"]["filesystem"]["properties"]) == {"fsType", "mountPoint"}
    assert sorted(bd["status"]["required"]) == ["claimState", "state"]
    assert bd["status"]["properties"]["claimState"]["enum"] == ["Claimed", "Unclaimed", "Released"]
    assert bd["status"]["properties"]["state"]["enum"] == ["Active", "Inactive", "Unknown"]
    bdc = crd_schema(crds["BlockDeviceClaim"])["properties"]
    assert bdc["status"]["required"] == ["phase"]
    assert bdc["spec"]["properties"]["resources"]["required"] == ["requests"]
    assert {"blockDeviceName", "blockDeviceNodeAttributes", "selector"} <= set(bdc["spec"]["properties"])


def _structural_violations(node: dict, path: str = "") -> list[str]:
    problems = []
    if "type" not in node and not (
        node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields")
    ):
        problems.append(f"{path or '<root>'}: no type")
    for key, child in node.get("properties", {}).items():
        problems += _structural_violations(child, f"{path}.{key}")
    if isinstance(node.get("additionalProperties"), dict):
        problems += _structural_violations(node["additionalProperties"], f"{path}{{*}}")
    if "items" in node:
        problems += _structural_violations(node["items"], f"{path}[]")
    if "default" in node:
        try:
            jsonschema.validate(node["default"], _to_jsonschema(node))
        except jsonschema.ValidationError as err:
            problems.append(f"{path}: default does not match its schema: {err.message}")
    return problems


@pytest.mark.parametrize("version", VERSIONS)
def test_crd_schemas_are_structural(version):
    for kind, crd in load_crds(version).items():
        assert _structural_violations(crd_schema(crd)) == [], kind


def test_helm_sends_the_crds_from_the_crds_dir(helm):
    """helm installs crds/ before the templates (and never upgrades them); --include-crds shows them."""
    docs = [d for d in yaml.safe_load_all(render_text(helm, SEED_VALUES, extra=("--include-crds",))) if d]
    names = {d["metadata"]["name"] for d in find(docs, "CustomResourceDefinition")}
    assert names == {
        "iomeshclusters.iomesh.com",
        "zookeeperclusters.zookeeper.pravega.io",
        "blockdevices.openebs.io",
        "blockdeviceclaims.openebs.io",
        "blockdevicemonitors.iomesh.com",
        # Templates of the csi-driver sub-chart, rendered while the cluster has no snapshot API.
        "volumesnapshotclasses.snapshot.storage.k8s.io",
        "volumesnapshotcontents.snapshot.storage.k8s.io",
        "volumesnapshots.snapshot.storage.k8s.io",
    }


# ----------------------------------------------------------------------------- the management CRs


def test_iomeshcluster_defaults(helm):
    cr = iomesh_cr(render(helm, {"iomesh": {"chunk": {"dataCIDR": DATA_CIDR}}}))
    assert cr["apiVersion"] == "iomesh.com/v1alpha1"
    assert cr["metadata"]["namespace"] == NAMESPACE
    spec = cr["spec"]
    assert spec["diskDeploymentMode"] == "hybridFlash"
    assert spec["storageClass"] == "hostpath"
    assert spec["reclaimPolicy"] == {"volume": "Delete", "blockdevice": "Delete"}
    assert spec["meta"]["replicas"] == 3 and spec["chunk"]["replicas"] == 3
    images = {
        "meta": spec["meta"]["image"],
        "chunk": spec["chunk"]["image"],
        "redirector": spec["redirector"]["image"],
        "devicemanager": spec["chunk"]["devicemanager"]["image"],
        "probe": spec["probe"]["image"],
        "toolbox": spec["toolbox"]["image"],
    }
    assert {k: v["repository"] for k, v in images.items()} == {
        "meta": "iomesh/zbs-metad",
        "chunk": "iomesh/zbs-chunkd",
        "redirector": "iomesh/zbs-iscsi-redirectord",
        "devicemanager": "iomesh/operator-devicemanager",
        "probe": "iomesh/operator-probe",
        "toolbox": "iomesh/operator-toolbox",
    }
    assert {k: v["tag"] for k, v in images.items()} == {
        "meta": ZBS_DEFAULT_TAG,
        "chunk": ZBS_DEFAULT_TAG,
        "redirector": ZBS_DEFAULT_TAG,
        "devicemanager": OPERATOR_DEFAULT_TAG,
        "probe": OPERATOR_DEFAULT_TAG,
        "toolbox": OPERATOR_DEFAULT_TAG,
    }
    assert {v["pullPolicy"] for v in images.values()} == {"IfNotPresent"}
    for component in ("meta", "chunk", "redirector"):
        assert "podPolicy" not in spec[component] and "resources" not in spec[component]
    for optional in ("deviceMap", "accessCIDR"):
        assert optional not in spec["chunk"]
    assert "blockDeviceNamespace" not in spec["chunk"]["devicemanager"]
    assert "iscsiVirtualIP" not in spec["redirector"]
    assert cr_errors(cr) == []


def test_zookeepercluster_defaults(helm):
    zk = zk_cr(render(helm, {}))
    assert zk["apiVersion"] == "zookeeper.pravega.io/v1beta1"
    assert zk["metadata"]["namespace"] == NAMESPACE
    spec = zk["spec"]
    assert spec["replicas"] == 3
    assert spec["image"] == {"repository": "iomesh/zookeeper", "tag": "3.5.9", "pullPolicy": "IfNotPresent"}
    assert spec["pod"]["securityContext"] == {"runAsUser": 0}
    assert spec["pod"]["resources"] == {
        "limits": {"cpu": "400m", "memory": "2000Mi"},
        "requests": {"cpu": "400m", "memory": "2000Mi"},
    }
    assert set(spec["pod"]) == {"securityContext", "resources"}
    assert spec["persistence"] == {
        "reclaimPolicy": "Delete",
        "spec": {"storageClassName": "hostpath", "resources": {"requests": {"storage": "20Gi"}}},
    }
    assert cr_errors(zk) == []


def test_cr_names_follow_the_release(helm):
    docs = render(helm, SEED_VALUES, release="store-a", namespace="storage-a")
    assert one(docs, "IOMeshCluster", "store-a")["metadata"]["namespace"] == "storage-a"
    assert one(docs, "ZookeeperCluster", "store-a-zookeeper")["metadata"]["namespace"] == "storage-a"
    webhook = one(docs, "ValidatingWebhookConfiguration", "iomesh-validating-webhook-configuration")
    assert webhook["webhooks"][0]["clientConfig"]["service"]["namespace"] == "storage-a"
    # Release-prefixed sub-chart objects; csi-driver keeps its fixed name. The openebs-ndm and
    # hostpath-provisioner templates set no namespace: Helm creates them in the release namespace.
    for kind, name in (
        ("Deployment", "store-a-zookeeper-operator"),
        ("DaemonSet", "store-a-openebs-ndm"),
        ("DaemonSet", "store-a-hostpath-provisioner"),
        ("Deployment", "store-a-blockdevice-monitor"),
        ("DaemonSet", "iomesh-csi-driver-node-plugin"),
        ("Deployment", "operator"),
    ):
        assert one(docs, kind, name)["metadata"].get("namespace") in ("storage-a", None)


def test_seed_affinities_land_in_the_crs(helm):
    docs = render(helm, SEED_VALUES)
    spec = iomesh_cr(docs)["spec"]
    for component in ("meta", "chunk", "redirector"):
        assert spec[component]["podPolicy"] == {"affinity": _node_affinity(MGMT_NODES)}, component
    pod = zk_cr(docs)["spec"]["pod"]
    assert pod["affinity"] == _zk_affinity(MGMT_NODES, RELEASE)
    anti = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert anti["weight"] == 20
    assert anti["podAffinityTerm"]["labelSelector"]["matchExpressions"][0]["values"] == ["iomesh-zookeeper"]
    # The chart's own ZooKeeper pod settings stay next to the user's affinity.
    assert pod["securityContext"] == {"runAsUser": 0}
    assert pod["resources"]["limits"] == {"cpu": "400m", "memory": "2000Mi"}


def test_pod_policy_passes_affinity_node_selector_and_tolerations_only(helm):
    docs = render(helm, OPTIONS_VALUES)
    expected = {"affinity": _node_affinity(MGMT_NODES), "nodeSelector": NODE_SELECTOR, "tolerations": TOLERATIONS}
    for component in ("meta", "chunk", "redirector"):
        assert iomesh_cr(docs)["spec"][component]["podPolicy"] == expected, component
    pod = zk_cr(docs)["spec"]["pod"]
    assert (pod["nodeSelector"], pod["tolerations"]) == (NODE_SELECTOR, TOLERATIONS)
    assert pod["affinity"] == _zk_affinity(MGMT_NODES, RELEASE)
    assert "priority" not in pod


def test_data_cidr_lands_in_chunk_and_redirector(helm):
    for values, cidr in ((SEED_VALUES, DATA_CIDR), (OPTIONS_VALUES, "192.168.50.0/24")):
        spec = iomesh_cr(render(helm, values))["spec"]
        assert spec["chunk"]["dataCIDR"] == spec["redirector"]["dataCIDR"] == cidr


def test_missing_data_cidr_is_rejected_by_the_crd_not_by_the_chart(helm):
    """Like the real chart: the template renders, the API server refuses the CR."""
    cr = iomesh_cr(render(helm, {}))
    assert cr["spec"]["chunk"]["dataCIDR"] is None and cr["spec"]["redirector"]["dataCIDR"] is None
    errors = cr_errors(cr)
    assert any(e.startswith("spec.chunk:") and "'dataCIDR' is a required property" in e for e in errors), errors
    assert any(e.startswith("spec.redirector:") and "'dataCIDR' is a required property" in e for e in errors), errors


@pytest.mark.parametrize(
    ("edition", "platform", "zbs_tag"),
    [
        ("", "", "v5.3.0-rc13-community"),
        ("community", "", "v5.3.0-rc13-community"),
        ("enterprise", "", "v5.3.0-rc13-enterprise"),
        ("", "hygon_x86_64", "v5.3.0-rc13-community-hygon"),
        ("enterprise", "hygon_x86_64", "v5.3.0-rc13-enterprise-hygon"),
    ],
)
def test_edition_and_platform_select_zbs_image_tags(helm, edition, platform, zbs_tag):
    values = (
        SEED_VALUES
        if not (edition or platform)
        else _merge(SEED_VALUES, {"iomesh": {"edition": edition, "platform": platform}})
    )
    spec = iomesh_cr(render(helm, values))["spec"]
    assert [spec[c]["image"]["tag"] for c in ("meta", "chunk", "redirector")] == [zbs_tag] * 3
    operator_side = [spec["chunk"]["devicemanager"], spec["probe"], spec["toolbox"]]
    assert [c["image"]["tag"] for c in operator_side] == [OPERATOR_DEFAULT_TAG] * 3


def test_explicit_image_tags_win(helm):
    docs = render(helm, OPTIONS_VALUES)
    spec = iomesh_cr(docs)["spec"]
    tags = [
        spec["meta"]["image"]["tag"],
        spec["chunk"]["image"]["tag"],
        spec["chunk"]["devicemanager"]["image"]["tag"],
        spec["redirector"]["image"]["tag"],
        spec["probe"]["image"]["tag"],
        spec["toolbox"]["image"]["tag"],
    ]
    assert tags == ["m1", "c1", "d1", "r1", "p1", "t1"]
    assert zk_cr(docs)["spec"]["image"]["tag"] == "3.10"


def test_top_level_keys_are_ignored_like_the_real_chart(helm):
    """Pitfall P7: the docs show top-level diskDeploymentMode/edition/platform; the chart ignores them."""
    misplaced = {
        "diskDeploymentMode": "allFlash",
        "edition": "enterprise",
        "platform": "hygon_x86_64",
        "chunk": {"replicaCount": 5, "dataCIDR": "172.16.0.0/16"},
        "meta": {"replicaCount": 5},
        "zookeeper": {"replicas": 5},
    }
    baseline = without_generated_certs(render(helm, SEED_VALUES))
    with_misplaced = without_generated_certs(render(helm, _merge(SEED_VALUES, misplaced)))
    assert with_misplaced == baseline
    assert iomesh_cr(with_misplaced)["spec"]["diskDeploymentMode"] == "hybridFlash"


def test_nested_disk_deployment_mode_and_replicas_land_in_the_cr(helm):
    docs = render(helm, OPTIONS_VALUES)
    spec = iomesh_cr(docs)["spec"]
    assert spec["diskDeploymentMode"] == "allFlash"
    assert (spec["meta"]["replicas"], spec["chunk"]["replicas"]) == (5, 4)
    assert zk_cr(docs)["spec"]["replicas"] == 5


def test_storage_class_reclaim_policy_and_zookeeper_persistence_values(helm):
    docs = render(helm, OPTIONS_VALUES)
    spec = iomesh_cr(docs)["spec"]
    assert spec["storageClass"] == "local-ssd"
    assert spec["reclaimPolicy"] == {"volume": "Retain", "blockdevice": "Retain"}
    assert zk_cr(docs)["spec"]["persistence"] == {
        "reclaimPolicy": "Retain",
        "spec": {"storageClassName": "zk-local", "resources": {"requests": {"storage": "50Gi"}}},
    }


def test_device_map_block_device_namespace_and_optional_fields(helm):
    cr = iomesh_cr(render(helm, OPTIONS_VALUES))
    chunk = cr["spec"]["chunk"]
    assert chunk["deviceMap"] == DEVICE_MAP
    assert chunk["devicemanager"]["blockDeviceNamespace"] == "iomesh-system"
    assert chunk["accessCIDR"] == "10.0.0.0/16"
    assert chunk["resources"] == {"limits": {"cpu": "3", "memory": "5000Mi"}}
    assert cr["spec"]["redirector"]["iscsiVirtualIP"] == "192.168.2.1"


def test_create_false_renders_no_cluster_but_the_shared_components(helm):
    docs = render(helm, DISABLED_VALUES)
    assert find(docs, "IOMeshCluster") == [] and find(docs, "ZookeeperCluster") == []
    rendered = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {
        ("Deployment", "operator"),
        ("ValidatingWebhookConfiguration", "iomesh-validating-webhook-configuration"),
        ("Service", "iomesh-webhook"),
        ("Deployment", "iomesh-csi-driver-controller-plugin"),
        ("DaemonSet", "iomesh-csi-driver-node-plugin"),
        ("CSIDriver", "com.iomesh.csi-driver"),
        ("Deployment", "iomesh-zookeeper-operator"),
        ("DaemonSet", "iomesh-hostpath-provisioner"),
        ("Deployment", "iomesh-blockdevice-monitor"),
    } <= rendered


# ---------------------------------------------------------------------------- operator and webhook


def test_operator_deployment(helm):
    docs = render(helm, SEED_VALUES)
    operator = one(docs, "Deployment", "operator")
    assert operator["spec"]["replicas"] == 3
    assert container(operator, "operator")["image"] == "iomesh/operator:v1.0.1"
    assert operator["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    sa = pod_spec(operator)["serviceAccountName"]
    assert one(docs, "ServiceAccount", sa)["metadata"]["namespace"] == NAMESPACE
    secret = volumes_by_name(operator)["webhook-cert"]["secret"]["secretName"]
    assert one(docs, "Secret", secret)

    operator = one(render(helm, OPTIONS_VALUES), "Deployment", "operator")
    assert operator["spec"]["replicas"] == 1
    assert container(operator, "operator")["image"] == "iomesh/operator:v1.0.1-hotfix"


def test_validating_webhook(helm):
    docs = render(helm, SEED_VALUES)
    config = one(docs, "ValidatingWebhookConfiguration", "iomesh-validating-webhook-configuration")
    (hook,) = config["webhooks"]
    assert hook["name"] == "validate-iomeshcluster.iomesh.com"
    assert hook["failurePolicy"] == "Fail"
    assert hook["sideEffects"] == "None"
    assert hook["clientConfig"]["service"]["name"] == "iomesh-webhook"
    assert hook["clientConfig"]["service"]["namespace"] == NAMESPACE
    (rule,) = hook["rules"]
    assert rule["apiGroups"] == ["iomesh.com"] and rule["apiVersions"] == ["v1alpha1"]
    assert sorted(rule["operations"]) == ["CREATE", "UPDATE"]
    assert rule["resources"] == ["iomeshclusters"]

    service = one(docs, "Service", "iomesh-webhook")
    (port,) = service["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (443, 9443)
    operator = one(docs, "Deployment", "operator")
    assert service["spec"]["selector"].items() <= operator["spec"]["template"]["metadata"]["labels"].items()
    assert 9443 in {p["containerPort"] for p in container(operator, "operator")["ports"]}


def test_webhook_ca_bundle_is_the_generated_ca(helm):
    docs = render(helm, SEED_VALUES)
    config = one(docs, "ValidatingWebhookConfiguration", "iomesh-validating-webhook-configuration")
    secret = one(docs, "Secret", "iomesh-webhook-cert")
    assert sorted(secret["data"]) == ["ca.crt", "tls.crt", "tls.key"]
    assert config["webhooks"][0]["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]
    assert "timeoutSeconds" not in config["webhooks"][0]
    later = render(helm, SEED_VALUES, version="v1.1.0")
    hook = one(later, "ValidatingWebhookConfiguration", "iomesh-validating-webhook-configuration")["webhooks"][0]
    assert hook["timeoutSeconds"] == 30


def test_hook_job_and_delete_hook_pod(helm):
    docs = render(helm, SEED_VALUES)
    job = one(docs, "Job", "iomesh-zookeeper-operator-post-install-upgrade")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install, post-upgrade"
    assert job["spec"]["backoffLimit"] == 10
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert container(job, "post-install-upgrade-job")["image"] == "docker.io/lachlanevenson/k8s-kubectl:v1.23.2"
    configmap = one(docs, "ConfigMap", "iomesh-zookeeper-operator-post-install-upgrade")
    assert pod_spec(job)["volumes"][0]["configMap"]["name"] == configmap["metadata"]["name"]
    pod = one(docs, "Pod", "iomesh-post-delete-hook")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "post-delete"
    assert pod["spec"]["restartPolicy"] == "Never"
    service_account = one(docs, "ServiceAccount", "iomesh-post-delete-hook")
    assert pod["spec"]["serviceAccountName"] == service_account["metadata"]["name"]
    later = render(helm, SEED_VALUES, version="v1.2.0")
    assert one(later, "Pod", "iomesh-post-delete-hook")["metadata"]["annotations"]["helm.sh/hook"] == "pre-delete"


# --------------------------------------------------------------------------------------- csi-driver


def test_csi_driver_and_controller(helm):
    docs = render(helm, SEED_VALUES)
    assert one(docs, "CSIDriver", "com.iomesh.csi-driver")["spec"]["attachRequired"] is True
    controller = one(docs, "Deployment", "iomesh-csi-driver-controller-plugin")
    assert controller["spec"]["replicas"] == 3
    driver = container(controller, "csi-driver")
    assert driver["image"] == "docker.io/iomesh/csi-driver:v2.6.0"
    for arg in (
        "--driver_name=com.iomesh.csi-driver",
        "--cluster_id=iomesh",
        "--deployment_mode=HCI",
        "--pod_delete_policy=no-delete-pod",
        "--meta_proxy=iomesh-access.$(NAMESPACE).svc:10206",
    ):
        assert arg in driver["args"]
    assert "--feature-gates=Topology=true" in container(controller, "csi-provisioner")["args"]

    controller = one(render(helm, OPTIONS_VALUES), "Deployment", "iomesh-csi-driver-controller-plugin")
    assert controller["spec"]["replicas"] == 1
    args = container(controller, "csi-driver")["args"]
    assert "--cluster_id=k8s-a" in args
    assert "--pod_delete_policy=delete-both-statefulset-and-deployment-pod" in args
    # The node plugin's scheduling values do not leak into the controller.
    assert "nodeSelector" not in pod_spec(controller) and "affinity" not in pod_spec(controller)


@pytest.mark.parametrize(("kube_version", "provisioner_tag"), [("1.21.0", "v1.6.0"), ("1.25.0", "v3.0.0")])
def test_csi_sidecars_follow_the_kubernetes_version(helm, kube_version, provisioner_tag):
    docs = render(helm, SEED_VALUES, extra=("--kube-version", kube_version))
    controller = one(docs, "Deployment", "iomesh-csi-driver-controller-plugin")
    assert container(controller, "csi-provisioner")["image"] == f"docker.io/iomesh/csi-provisioner:{provisioner_tag}"


def test_csi_node_plugin_host_paths(helm):
    node = one(render(helm, SEED_VALUES), "DaemonSet", "iomesh-csi-driver-node-plugin")
    host_paths = {
        v["hostPath"]["path"]: v["hostPath"].get("type") for v in volumes_by_name(node).values() if "hostPath" in v
    }
    assert host_paths["/sbin/iscsiadm"] == "File"
    assert host_paths["/etc/iscsi"] == "Directory"
    assert host_paths["/var/lib/kubelet"] == "Directory"
    assert host_paths["/var/lib/kubelet/plugins/com.iomesh.csi-driver"] == "DirectoryOrCreate"
    for path in (
        "/var/lib/iscsi",
        "/run/lock/iscsi",
        "/var/lock/iscsi",
        "/lib",
        "/lib64",
        "/usr/lib64",
        "/sys",
        "/dev",
    ):
        assert path in host_paths
    mounts = {m["name"]: m for m in container(node, "csi-driver")["volumeMounts"]}
    assert mounts["iscsiadm"]["mountPath"] == "/host/sbin/iscsiadm"
    assert mounts["pods-mount-dir"]["mountPropagation"] == "Bidirectional"
    assert pod_spec(node)["hostNetwork"] is True
    assert "nodeSelector" not in pod_spec(node) and "affinity" not in pod_spec(node)
    args = container(node, "csi-driver")["args"]
    assert "--iscsi_portal=127.0.0.1:3260" in args and "--driver_name=com.iomesh.csi-driver" in args


def test_csi_node_plugin_values(helm):
    docs = render(helm, OPTIONS_VALUES)
    node = one(docs, "DaemonSet", "iomesh-csi-driver-node-plugin")
    assert pod_spec(node)["nodeSelector"] == NODE_SELECTOR
    assert pod_spec(node)["affinity"] == _node_affinity(MGMT_NODES)
    volumes = volumes_by_name(node)
    assert volumes["pods-mount-dir"]["hostPath"] == {"path": "/var/lib/k0s/kubelet", "type": "Directory"}
    assert volumes["registration-dir"]["hostPath"]["path"] == "/var/lib/k0s/kubelet/plugins_registry/"
    registrar = container(node, "driver-registrar")
    assert (
        "--kubelet-registration-path=/var/lib/k0s/kubelet/plugins/com.iomesh.csi-driver/csi.sock" in registrar["args"]
    )
    iscsi = yaml.safe_load(one(docs, "ConfigMap", "iomesh-csi-driver-iscsi-config")["data"]["iscsi"])
    assert iscsi == {"node.session.queue_depth": 128}


def test_default_storage_class(helm):
    sc = one(render(helm, SEED_VALUES), "StorageClass", "iomesh-csi-driver")
    assert sc["provisioner"] == "com.iomesh.csi-driver"
    assert sc["parameters"] == {"csi.storage.k8s.io/fstype": "ext4", "replicaFactor": "2", "thinProvision": "true"}
    assert (sc["reclaimPolicy"], sc["allowVolumeExpansion"], sc["volumeBindingMode"]) == ("Delete", True, "Immediate")
    assert "annotations" not in sc["metadata"]
    marked = one(render(helm, OPTIONS_VALUES), "StorageClass", "iomesh-csi-driver")
    assert marked["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert marked["allowVolumeExpansion"] is False
    disabled = render(helm, DISABLED_VALUES)
    assert find(disabled, "StorageClass", "iomesh-csi-driver") == []
    assert one(disabled, "CSIDriver", "com.iomesh.csi-driver")


# ------------------------------------------------------------------------------ other sub-charts


def _ndm_filters(docs) -> dict:
    config = yaml.safe_load(one(docs, "ConfigMap", "iomesh-openebs-ndm-config")["data"]["node-disk-manager.config"])
    return {f["key"]: f for f in config["filterconfigs"]}


def test_openebs_ndm(helm):
    docs = render(helm, SEED_VALUES)
    ndm = one(docs, "DaemonSet", "iomesh-openebs-ndm")
    assert container(ndm, "node-disk-manager")["image"] == "openebs/node-disk-manager:1.8.0"
    assert ndm["spec"]["template"]["metadata"]["labels"]["app"] == "openebs-ndm"
    assert volumes_by_name(ndm)["config"]["configMap"]["name"] == "iomesh-openebs-ndm-config"
    assert one(docs, "Deployment", "iomesh-openebs-ndm-operator")["spec"]["replicas"] == 1
    assert one(docs, "Deployment", "iomesh-openebs-ndm-cluster-exporter")
    assert one(docs, "DaemonSet", "iomesh-openebs-ndm-node-exporter")
    filters = _ndm_filters(docs)
    assert filters["vendor-filter"]["exclude"] == "ZBS"
    assert filters["path-filter"]["exclude"] == "/dev/fd0,/dev/sr0,/dev/ram,/dev/dm-,/dev/md,loop"
    assert filters["os-disk-exclude-filter"]["exclude"] == "/,/etc/hosts,/boot"

    assert _ndm_filters(render(helm, OPTIONS_VALUES))["path-filter"]["exclude"] == "loop,/dev/md"
    assert not [d for d in render(helm, DISABLED_VALUES) if "openebs-ndm" in d["metadata"]["name"]]


def test_zookeeper_operator_watches_all_namespaces(helm):
    def watch_namespace(values):
        operator = one(render(helm, values), "Deployment", "iomesh-zookeeper-operator")
        env = {e["name"]: e.get("value") for e in container(operator, "iomesh-zookeeper-operator")["env"]}
        return env["WATCH_NAMESPACE"], container(operator, "iomesh-zookeeper-operator")["image"]

    assert watch_namespace(SEED_VALUES) == ("", "docker.io/iomesh/zookeeper-operator:0.2.15")
    assert watch_namespace(OPTIONS_VALUES)[0] == "iomesh-system"


def test_hostpath_provisioner(helm):
    docs = render(helm, SEED_VALUES)
    sc = one(docs, "StorageClass", "hostpath")
    assert sc["provisioner"] == "kubevirt.io/hostpath-provisioner"
    assert (sc["volumeBindingMode"], sc["reclaimPolicy"]) == ("WaitForFirstConsumer", "Delete")
    assert "annotations" not in sc["metadata"]
    ds = one(docs, "DaemonSet", "iomesh-hostpath-provisioner")
    assert volumes_by_name(ds)["pv-volume"]["hostPath"]["path"] == "/opt/iomesh/hostpath"

    docs = render(helm, OPTIONS_VALUES)
    assert find(docs, "StorageClass", "hostpath") == []
    assert (
        one(docs, "StorageClass", "local")["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"]
        == "true"
    )
    ds = one(docs, "DaemonSet", "iomesh-hostpath-provisioner")
    assert volumes_by_name(ds)["pv-volume"]["hostPath"]["path"] == "/data/hostpath"
    assert {"name": "PV_DIR", "value": "/data/hostpath"} in container(ds, "hostpath-provisioner")["env"]

    docs = render(helm, DISABLED_VALUES)
    assert find(docs, "StorageClass", "hostpath") == [] and one(docs, "DaemonSet", "iomesh-hostpath-provisioner")


def test_blockdevice_monitor_and_localpv_manager(helm):
    docs = render(helm, SEED_VALUES)
    monitor = one(docs, "Deployment", "iomesh-blockdevice-monitor")
    assert container(monitor, "blockdevicemonitor")["image"] == "docker.io/iomesh/blockdevice-monitor:v0.1.0"
    assert one(docs, "DaemonSet", "iomesh-blockdevice-monitor-prober")
    localpv = one(docs, "DaemonSet", "iomesh-localpv-manager")
    assert len(pod_spec(localpv)["containers"]) == 4
    for sc_name, volume_type in (
        ("iomesh-localpv-manager-hostpath", "hostpath"),
        ("iomesh-localpv-manager-device", "device"),
    ):
        sc = one(docs, "StorageClass", sc_name)
        assert sc["provisioner"] == "com.iomesh.iomesh-localpv-manager"
        assert sc["parameters"]["volumeType"] == volume_type
        assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    assert not [d for d in render(helm, DISABLED_VALUES) if "localpv-manager" in d["metadata"]["name"]]


def test_prepare_csi(helm):
    prepare = one(render(helm, SEED_VALUES), "DaemonSet", "prepare-csi")
    assert container(prepare, "prepare-csi")["image"] == "iomesh/prepare-csi:v1.0.1"
    terms = pod_spec(prepare)["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"][0]["matchExpressions"] == [
        {"key": "iomesh.com/iscsi-installed", "operator": "DoesNotExist"}
    ]
    assert pod_spec(prepare)["hostPID"] is True
    assert not [d for d in render(helm, DISABLED_VALUES) if d["metadata"]["name"] == "prepare-csi"]


def test_resource_policy_keep_where_the_real_chart_has_it(helm):
    kept = {
        (d["kind"], d["metadata"]["name"])
        for d in render(helm, SEED_VALUES)
        if (d["metadata"].get("annotations") or {}).get("helm.sh/resource-policy") == "keep"
    }
    assert kept == {
        ("Deployment", "operator"),
        ("DaemonSet", "iomesh-openebs-ndm"),
        ("Deployment", "iomesh-openebs-ndm-operator"),
        ("ConfigMap", "iomesh-openebs-ndm-config"),
        ("DaemonSet", "iomesh-hostpath-provisioner"),
        ("Deployment", "iomesh-zookeeper-operator"),
        # Everything of the snapshot controller: an upgrade once the snapshot API exists renders none of it.
        ("CustomResourceDefinition", "volumesnapshotclasses.snapshot.storage.k8s.io"),
        ("CustomResourceDefinition", "volumesnapshotcontents.snapshot.storage.k8s.io"),
        ("CustomResourceDefinition", "volumesnapshots.snapshot.storage.k8s.io"),
        ("ServiceAccount", "snapshot-controller"),
        ("ClusterRole", "snapshot-controller-runner"),
        ("ClusterRoleBinding", "snapshot-controller-role"),
        ("Role", "snapshot-controller-leaderelection"),
        ("RoleBinding", "snapshot-controller-leaderelection"),
        ("Deployment", "snapshot-controller"),
    }


def test_snapshot_controller_is_left_out_once_the_snapshot_api_exists(helm):
    docs = render(helm, SEED_VALUES, extra=("--api-versions", "snapshot.storage.k8s.io/v1"))
    left = {(d["kind"], d["metadata"]["name"]) for d in docs if "snapshot" in d["metadata"]["name"]}
    # The CSI sidecar's own RBAC stays; the controller, its RBAC and the CRDs are gone.
    assert left == {("ClusterRole", "iomesh-csi-driver-snapshotter"),
                    ("ClusterRoleBinding", "iomesh-csi-driver-snapshotter-binding")}


@pytest.mark.parametrize("version", VERSIONS)
def test_workload_pods_carry_the_real_labels_and_match_their_selectors(helm, version):
    """Pod labels are exactly the real chart's (test_fixture_chart_facts.py); here: what docs and waits rely on."""
    workloads = [d for d in render(helm, SEED_VALUES, version=version) if d["kind"] in WORKLOAD_KINDS]
    assert len(workloads) == (14 if version == "v1.0.1" else 16)
    for workload in workloads:
        name = workload["metadata"]["name"]
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
    # Labels that docs and operators select on (docs/architecture.md#blockdevices-live-in-the-management-namespace: -l app=openebs-ndm).
    by_name = {w["metadata"]["name"]: w["spec"]["template"]["metadata"]["labels"] for w in workloads}
    assert by_name["iomesh-csi-driver-node-plugin"] == {"app": "iomesh-csi-driver-node-plugin"}
    assert by_name["iomesh-csi-driver-controller-plugin"] == {"app": "iomesh-csi-driver-controller-plugin"}
    assert by_name["iomesh-openebs-ndm"]["app"] == "openebs-ndm"
    assert by_name["iomesh-openebs-ndm"]["release"] == RELEASE
    assert by_name["operator"]["app.kubernetes.io/name"] == "operator"
    assert by_name["operator"]["app.kubernetes.io/instance"] == RELEASE
    assert by_name["iomesh-zookeeper-operator"] == {"name": "iomesh-zookeeper-operator",
                                                    "component": "zookeeper-operator"}
