"""The fixture IOMesh chart renders what the real chart renders, per version, for any release name.

Expected values come from the real chart's render facts (shared/reference/iomesh-chart-render-facts.md, beside
the repository): per chart version a table of every object `helm template` renders, with the release name as
`<R>` and the namespace as `<NS>`. Each version of the fixture (iomesh_testbed.launcher.chart_dir) is rendered
with `helm template --include-crds` for several release names in a namespace other than iomesh-system, the
facts' names are expanded with Helm's fullname rule, and the two are compared object by object: kind, name,
namespace, labels, selector and pod labels, hook annotations, images, Secret keys, webhook and APIService
settings. The webhook and API server certificates are checked for what the real chart does: a fresh CA per
render, caBundle = the Secret's ca.crt, a serving certificate for <service>.<namespace>.svc signed by that CA.
"""

from __future__ import annotations

import base64
import copy
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from cryptography import x509

from iomesh_testbed import launcher

FACTS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "iomesh-chart-render-facts.md"
NAMESPACE = "tenant-storage"
# A plain name, the longest management release name (23 characters: docs/architecture.md#object-names), and
# one that contains a sub-chart's name (the fullname rule then uses the release name alone).
RELEASES = ("iomesh", "storage-cluster-edge-01", "edge-openebs-ndm")
# Names the real chart gives by Helm's fullname rule: <R>-<name>..., or <R>... when <R> contains <name>.
FULLNAME_CHARTS = ("zookeeper-operator", "openebs-ndm", "hostpath-provisioner", "blockdevice-monitor",
                   "deck-plugin-iomesh", "deck", "operator")
WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet")
# Which helm renders which version (both helm majors are used; v1.0.1, the default, by both).
HELMS = {"v1.0.1": ("helm3", "helm4"), "v1.1.0": ("helm4",), "v1.2.0": ("helm3",)}
CASES = [(version, helm) for version, helms in HELMS.items() for helm in helms]

pytestmark = pytest.mark.skipif(not FACTS.exists(), reason="the chart render facts are not on this machine")


# ------------------------------------------------------------------------------------------- the facts


def _pairs(text: str) -> dict[str, str]:
    """'a=b, c=d' -> {'a': 'b', 'c': 'd'}."""
    text = text.strip()
    return dict(item.split("=", 1) for item in text.split(", ")) if text else {}


def _hook(text: str) -> tuple | None:
    """'post-install, post-upgrade (weight 1, delete hook-succeeded, ...)' -> (events, weight, delete policies)."""
    text = text.strip()
    if not text:
        return None
    match = re.fullmatch(r"(.+) \(weight (-?\d+), delete (.+)\)", text)
    assert match, f"unexpected hook cell {text!r}"
    events, weight, policies = match.groups()
    return (frozenset(e.strip() for e in events.split(",")), int(weight),
            frozenset(p.strip() for p in policies.split(",")))


@functools.lru_cache(maxsize=None)
def facts() -> dict[str, tuple[int, tuple[dict, ...]]]:
    """version -> (object count of the section title, rows); a row's cells parsed into comparable values."""
    sections = re.split(r"^## Chart (v[0-9.]+): (\d+) objects$", FACTS.read_text(), flags=re.M)
    parsed = {}
    for version, count, table in zip(sections[1::3], sections[2::3], sections[3::3]):
        rows = []
        for line in table.splitlines():
            if not line.startswith("| ") or line.startswith("| kind |"):
                continue
            kind, name, namespace, labels, selector, hook, images = (c.strip() for c in line.strip()[1:-1].split("|"))
            row = {"kind": kind, "name": name, "namespace": namespace, "labels": _pairs(labels),
                   "hook": _hook(hook), "images": tuple(sorted(i.strip() for i in images.split(",") if i.strip())),
                   "selector": None, "pod": None, "settings": None}
            match = re.fullmatch(r"sel: (.*); pod: (.*)", selector)
            if match:
                row["selector"], row["pod"] = _pairs(match.group(1)), _pairs(match.group(2))
            elif selector:
                row["settings"] = " ".join(selector.split())
            rows.append(row)
        parsed[version] = (int(count), tuple(rows))
    return parsed


def fullname(release: str, chart: str) -> str:
    """Helm's fullname rule: the release alone when it contains the chart name, else <release>-<chart>; 63 max."""
    name = (release if chart in release else f"{release}-{chart}")[:63]
    return name[:-1] if name.endswith("-") else name


def expand(template: str, release: str, namespace: str) -> str:
    """A facts name or label value with <R> and <NS> filled in, by the fullname rule where the chart uses it."""
    template = template.replace("<NS>", namespace)
    if template == "<R>":
        return release
    if template.startswith("<R>-"):
        rest = template[len("<R>-"):]
        charts = [c for c in FULLNAME_CHARTS if rest == c or rest.startswith(f"{c}-")]
        if charts:
            chart = max(charts, key=len)
            return fullname(release, chart) + rest[len(chart):]
        return f"{release}-{rest}"
    return template


def expected_objects(version: str, release: str, namespace: str) -> dict[tuple, dict]:
    """(kind, name, namespace or None) -> the facts row with <R>/<NS> filled in."""
    def fill(labels):
        return None if labels is None else {k: expand(v, release, namespace) for k, v in labels.items()}

    out = {}
    for row in facts()[version][1]:
        row = dict(row, name=expand(row["name"], release, namespace),
                   namespace=None if row["namespace"] == "-" else expand(row["namespace"], release, namespace),
                   labels=fill(row["labels"]), selector=fill(row["selector"]), pod=fill(row["pod"]),
                   settings=row["settings"] and row["settings"].replace("<NS>", namespace))
        key = (row["kind"], row["name"], row["namespace"])
        assert key not in out, f"the facts of {version} list {key} twice"
        out[key] = row
    return out


# ------------------------------------------------------------------------------------ the fixture chart


def _find_helm(name: str) -> str:
    override = os.environ.get(f"TESTBED_{name.upper()}")
    for candidate in ([override] if override else []) + [str(Path(sys.executable).parent / name), shutil.which(name)]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(f"{name} not found (set TESTBED_{name.upper()} or put it next to {sys.executable})")


def helm_template(helm: str, version: str, release: str, namespace: str = NAMESPACE, *extra: str) -> list[dict]:
    result = subprocess.run(
        [_find_helm(helm), "template", release, str(launcher.chart_dir(version)), "--namespace", namespace,
         "--include-crds", "--set", "iomesh.create=true", *extra],
        capture_output=True, text=True, check=False,
        env={**os.environ, "HELM_CACHE_HOME": tempfile.gettempdir() + "/testbed-helm-cache"},
    )
    assert result.returncode == 0, f"helm template of {version} failed:\n{result.stderr}"
    return [d for d in yaml.safe_load_all(result.stdout) if d]


@functools.lru_cache(maxsize=None)
def _rendered(helm: str, version: str, release: str) -> tuple:
    return tuple(helm_template(helm, version, release))


def rendered(helm: str, version: str, release: str) -> list[dict]:
    """The fixture's render (a fresh copy: tests may change it)."""
    return copy.deepcopy(list(_rendered(helm, version, release)))


def _pod_template(doc: dict) -> dict:
    if doc["kind"] == "Pod":
        return doc
    return (doc.get("spec") or {}).get("template") or {}


def _images(doc: dict) -> tuple[str, ...]:
    spec = _pod_template(doc).get("spec") or {}
    containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
    return tuple(sorted({c["image"] for c in containers}))


def _hook_of(doc: dict) -> tuple | None:
    annotations = doc["metadata"].get("annotations") or {}
    if "helm.sh/hook" not in annotations:
        return None
    return (frozenset(e.strip() for e in annotations["helm.sh/hook"].split(",")),
            int(annotations.get("helm.sh/hook-weight", "0")),
            frozenset(p.strip() for p in annotations.get("helm.sh/hook-delete-policy", "").split(",") if p.strip()))


def settings_of(doc: dict) -> str | None:
    """Secret type and keys, APIService service and caBundle, webhooks: in the facts' wording."""
    if doc["kind"] == "Secret":
        return f"type={doc.get('type')} keys={','.join(sorted(doc.get('data') or {}))}"
    if doc["kind"] == "APIService":
        spec = doc["spec"]
        return f"service={spec['service']['name']} caBundle={'set' if spec.get('caBundle') else 'unset'}"
    if doc["kind"] == "ValidatingWebhookConfiguration":
        described = []
        for hook in doc.get("webhooks") or []:
            rules = " ".join(f"[{','.join(r['operations'])} {' '.join(r['resources'])}]" for r in hook["rules"])
            client = hook["clientConfig"]
            described.append(f"webhook {hook['name']}: failurePolicy={hook.get('failurePolicy')} "
                             f"timeout={hook.get('timeoutSeconds', '-')} rules={rules} "
                             f"service={client['service']['name']} "
                             f"caBundle={'set' if client.get('caBundle') else 'unset'}")
        return "; ".join(described)
    return None


def differences(version: str, release: str, namespace: str, docs: list[dict]) -> list[str]:
    """What differs between rendered `docs` and the facts of `version`; [] when they agree."""
    expected = expected_objects(version, release, namespace)
    problems = []
    if len(docs) != facts()[version][0]:
        problems.append(f"{len(docs)} objects rendered, the facts count {facts()[version][0]}")
    seen = {}
    for doc in docs:
        key = (doc["kind"], doc["metadata"]["name"], doc["metadata"].get("namespace"))
        if key in seen:
            problems.append(f"{key} rendered twice")
        seen[key] = doc
    problems += [f"missing {key}" for key in sorted(set(expected) - set(seen), key=str)]
    problems += [f"not in the facts: {key}" for key in sorted(set(seen) - set(expected), key=str)]
    for key in sorted(set(expected) & set(seen), key=str):
        want, doc = expected[key], seen[key]
        got = {"labels": doc["metadata"].get("labels") or {}, "hook": _hook_of(doc), "images": _images(doc),
               "settings": settings_of(doc) if want["settings"] else None}
        if doc["kind"] in WORKLOAD_KINDS or want["selector"] is not None:
            got["selector"] = (doc["spec"].get("selector") or {}).get("matchLabels")
            got["pod"] = _pod_template(doc).get("metadata", {}).get("labels") or {}
        else:
            got["selector"] = got["pod"] = None
        for field in ("labels", "selector", "pod", "hook", "images", "settings"):
            if got[field] != want[field]:
                problems.append(f"{key} {field}: rendered {got[field]!r}, the real chart {want[field]!r}")
    return problems


# ------------------------------------------------------------------------------------------------ tests


def test_facts_cover_every_fixture_version_and_count_their_rows():
    assert sorted(facts()) == list(launcher.CHART_VERSIONS)
    for version, (count, rows) in facts().items():
        assert len(rows) == count, version


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize(("version", "helm"), CASES)
def test_fixture_renders_the_real_objects_names_labels_hooks_and_images(version, helm, release):
    assert differences(version, release, NAMESPACE, rendered(helm, version, release)) == []


def test_the_fullname_rule_shortens_names_for_a_release_containing_a_sub_chart_name():
    """The facts expansion itself, on literals: the release edge-openebs-ndm names the NDM objects alone."""
    assert expand("<R>-openebs-ndm", "edge-openebs-ndm", NAMESPACE) == "edge-openebs-ndm"
    assert expand("<R>-openebs-ndm-operator", "edge-openebs-ndm", NAMESPACE) == "edge-openebs-ndm-operator"
    assert expand("<R>-zookeeper-operator", "edge-openebs-ndm", NAMESPACE) == "edge-openebs-ndm-zookeeper-operator"
    assert expand("<R>-zookeeper", "my-zookeeper-operator", NAMESPACE) == "my-zookeeper-operator-zookeeper"
    assert expand("<R>-limit-range", "deck", NAMESPACE) == "deck-limit-range"
    assert expand("<R>-deck-plugin-iomesh", "mydeck", NAMESPACE) == "mydeck-deck-plugin-iomesh"
    docs = rendered("helm3", "v1.0.1", "edge-openebs-ndm")
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {("DaemonSet", "edge-openebs-ndm"), ("Deployment", "edge-openebs-ndm-operator"),
            ("ConfigMap", "edge-openebs-ndm-config")} <= names


def test_the_longest_release_name_fills_the_hook_job_name_exactly():
    release = "storage-cluster-edge-01"
    assert len(release) == 23
    jobs = [d for d in rendered("helm3", "v1.2.0", release) if d["kind"] == "Job"]
    assert [j["metadata"]["name"] for j in jobs] == [f"{release}-zookeeper-operator-post-install-upgrade"]
    assert len(jobs[0]["metadata"]["name"]) == 63


@pytest.mark.parametrize("version", launcher.CHART_VERSIONS)
def test_the_comparison_reports_a_renamed_object_and_a_dropped_label(version):
    docs = rendered("helm3", version, "iomesh")
    assert differences(version, "iomesh", NAMESPACE, docs) == []
    renamed = next(d for d in docs
                   if d["kind"] == "Deployment" and d["metadata"]["name"] == "iomesh-zookeeper-operator")
    renamed["metadata"]["name"] = "zookeeper-operator"
    labelled = next(d for d in docs if d["kind"] == "DaemonSet" and d["metadata"]["name"] == "iomesh-openebs-ndm")
    del labelled["metadata"]["labels"]["openebs.io/component-name"]
    pod = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "operator")
    pod["spec"]["template"]["metadata"]["labels"]["app"] = "operator"
    hook = next(d for d in docs if d["kind"] == "Pod" and d["metadata"]["name"] == "iomesh-post-delete-hook")
    hook["metadata"]["annotations"]["helm.sh/hook"] = "post-install"
    problems = differences(version, "iomesh", NAMESPACE, docs)
    assert f"missing ('Deployment', 'iomesh-zookeeper-operator', '{NAMESPACE}')" in problems
    assert f"not in the facts: ('Deployment', 'zookeeper-operator', '{NAMESPACE}')" in problems
    assert any(p.startswith("('DaemonSet', 'iomesh-openebs-ndm', None) labels:") for p in problems), problems
    assert any(p.startswith(f"('Deployment', 'operator', '{NAMESPACE}') pod:") for p in problems), problems
    assert any(p.startswith(f"('Pod', 'iomesh-post-delete-hook', '{NAMESPACE}') hook:") for p in problems), problems
    assert len(problems) == 5, problems


def test_the_comparison_reports_a_changed_image_and_webhook_setting():
    docs = rendered("helm4", "v1.1.0", "iomesh")
    job = next(d for d in docs if d["kind"] == "Job")
    job["spec"]["template"]["spec"]["containers"][0]["image"] = "docker.io/lachlanevenson/k8s-kubectl:v1.23.2"
    config = next(d for d in docs if d["kind"] == "ValidatingWebhookConfiguration")
    del config["webhooks"][0]["timeoutSeconds"]
    problems = differences("v1.1.0", "iomesh", NAMESPACE, docs)
    assert len(problems) == 2, problems
    assert "images" in problems[0] + problems[1] and "timeout=-" in problems[0] + problems[1]


def _secret_pem(docs: list[dict], name: str, key: str) -> bytes:
    secret = next(d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == name)
    return base64.b64decode(secret["data"][key])


def _ca_bundles(docs: list[dict]) -> dict[str, bytes]:
    """Secret name -> the caBundle of the object that trusts its CA."""
    bundles = {}
    for doc in docs:
        if doc["kind"] == "ValidatingWebhookConfiguration":
            bundles["iomesh-webhook-cert"] = base64.b64decode(doc["webhooks"][0]["clientConfig"]["caBundle"])
        if doc["kind"] == "APIService":
            bundles["iomesh-apiserver-cert"] = base64.b64decode(doc["spec"]["caBundle"])
    return bundles


@pytest.mark.parametrize(("version", "helm"), CASES)
def test_every_render_generates_a_new_ca_trusted_by_the_webhook_and_api_service(version, helm):
    first, second = (helm_template(helm, version, "iomesh") for _ in range(2))
    bundles, again = _ca_bundles(first), _ca_bundles(second)
    services = {"iomesh-webhook-cert": "iomesh-webhook"}
    if version != "v1.0.1":
        services["iomesh-apiserver-cert"] = "iomesh-apiserver"
    assert set(bundles) == set(services)
    for secret, service in services.items():
        assert bundles[secret] != again[secret], f"{secret}: two renders share a CA"
        ca_pem = _secret_pem(first, secret, "ca.crt")
        assert bundles[secret] == ca_pem, f"{secret}: caBundle is not the Secret's ca.crt"
        ca = x509.load_pem_x509_certificate(ca_pem)
        serving = x509.load_pem_x509_certificate(_secret_pem(first, secret, "tls.crt"))
        serving.verify_directly_issued_by(ca)
        host = f"{service}.{NAMESPACE}.svc"
        dns_names = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert host in dns_names.get_values_for_type(x509.DNSName), secret
        assert serving.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == host
        assert b"PRIVATE KEY" in _secret_pem(first, secret, "tls.key")


def test_chart_identity_per_version():
    expected = {"v1.0.1": ("iomesh", "v5.3.0-rc13"), "v1.1.0": ("iomesh", "v5.5.0-rc27"),
                "v1.2.0": ("IOMesh", "v5.6.0-rc112")}
    for version, (name, app_version) in expected.items():
        chart = yaml.safe_load((launcher.chart_dir(version) / "Chart.yaml").read_text())
        assert (chart["name"], chart["version"], chart["appVersion"]) == (name, version, app_version)
        assert launcher.chart_name(version) == name
