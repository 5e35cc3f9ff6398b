"""Air-gapped installs (docs/air-gap.md) — on the API emulator with the IOMesh twin.

Chart v1.2.0 deployed once for the module with iomesh_image_registry and iomesh_image_pull_secrets, two clusters
with names and namespaces that are not the defaults: every image of every pod, workload, Job and custom resource the
API holds is in the private registry, the pull Secrets are where the chart and the CRDs take them, and a re-run
changes nothing. playbooks/images.yml lists the chart's images as the real chart renders them (the render facts) with
their mirror, without a cluster. Every fixture-chart version's rendering with the mirror's values moves every image
but the ones the collection lists as not rewritable.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from iomesh_testbed import launcher

from . import conftest, play_recap
from .conftest import ROOT, VENV_BIN

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import images

REGISTRY = "registry.airgap.test:5443/mirror"
PULL = "airgap-pull"
VERSION = "v1.2.0"
CORE, CORE_NS = "ag-core", "ag-sys"
EDGE, EDGE_NS = "ag-edge", "ag-store"
VERIFY_NS = "ag-verify"
NODES = [f"ag-{i}" for i in range(6)]
FACTS = ROOT.parent / "shared" / "reference" / "iomesh-chart-render-facts.md"
KINDS = {
    "pods": "/api/v1/pods", "deployments": "/apis/apps/v1/deployments", "daemonsets": "/apis/apps/v1/daemonsets",
    "statefulsets": "/apis/apps/v1/statefulsets", "jobs": "/apis/batch/v1/jobs",
    "iomeshclusters": "/apis/iomesh.com/v1alpha1/iomeshclusters",
    "zookeeperclusters": "/apis/zookeeper.pravega.io/v1beta1/zookeeperclusters",
}


class Site:
    def __init__(self, testbed: conftest.Testbed, workdir: Path):
        self.testbed = testbed
        self.inventory = workdir / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump(conftest.two_cluster_inventory(
            testbed, NODES, (CORE, CORE_NS), (EDGE, EDGE_NS), 80, VERSION, iomesh_image_registry=REGISTRY,
            iomesh_image_pull_secrets=[PULL], iomesh_verify_namespace=VERIFY_NS, iomesh_verify_keep=True,
            iomesh_report_dir=str(workdir), iomesh_csi_wait_delay=1, iomesh_verify_wait_delay=1,
            iomesh_disks_wait_delay=1)))

    def run(self, *args: str) -> conftest.PlaybookRun:
        return conftest.run_site(self.testbed, self.inventory, *args)

    def objects(self) -> dict:
        return {kind: self.testbed.get(path)["items"] for kind, path in KINDS.items()}


@pytest.fixture(scope="module")
def site():
    with conftest.short_testbed("iomesh-ag-", NODES) as (testbed, base):
        made = Site(testbed, base)
        first = made.run("site.yml", "--skip-tags", "iomesh_prereq,iomesh_report")
        assert first.rc == 0, first
        since = len(testbed.requests())
        again = made.run("site.yml", "--skip-tags", "iomesh_prereq,iomesh_verify,iomesh_report")
        made.again = again
        made.again_writes = [r for r in testbed.write_requests(since) if "dryRun=All" not in (r.get("query") or "")]
        made.listed = made.run("playbooks/images.yml")
        yield made


def _pod_spec(kind: str, item: dict) -> dict:
    if kind == "pods":
        return item["spec"]
    if kind == "jobs":
        return item["spec"]["template"]["spec"]
    return item["spec"]["template"]["spec"]


def _images(kind: str, item: dict) -> list[str]:
    if kind == "iomeshclusters" or kind == "zookeeperclusters":
        return list(images.rendered_images(yaml.safe_dump({**item, "kind": item["kind"]})).values())
    spec = _pod_spec(kind, item)
    return [c["image"] for field in ("initContainers", "containers") for c in spec.get(field) or []]


def test_every_image_in_the_api_is_in_the_private_registry(site):
    objects = site.objects()
    found = {(kind, f"{i['metadata'].get('namespace')}/{i['metadata']['name']}"): _images(kind, i)
             for kind, items in objects.items() for i in items}
    # Both clusters' custom resources, the chart's workloads and the verification pod are there to judge.
    assert {("iomeshclusters", f"{CORE_NS}/{CORE}"), ("iomeshclusters", f"{EDGE_NS}/{EDGE}"),
            ("zookeeperclusters", f"{EDGE_NS}/{EDGE}-zookeeper"), ("deployments", f"{CORE_NS}/operator")} <= set(found)
    assert any(kind == "pods" and where.startswith(f"{VERIFY_NS}/") for kind, where in found)
    assert len(found[("iomeshclusters", f"{EDGE_NS}/{EDGE}")]) == 6
    outside = {where: image for where, listed in found.items() for image in listed
               if not image.startswith(REGISTRY + "/")}
    assert outside == {}
    verify_pods = [i for i in objects["pods"] if i["metadata"]["namespace"] == VERIFY_NS]
    assert {c["image"] for i in verify_pods for c in i["spec"]["containers"]} == {f"{REGISTRY}/busybox:1.36.1"}


def test_pull_secrets_are_where_the_chart_and_the_crds_take_them(site):
    objects = site.objects()
    for zk in objects["zookeeperclusters"]:
        assert zk["spec"]["pod"]["imagePullSecrets"] == [{"name": PULL}], zk["metadata"]["name"]
    assert {zk["metadata"]["namespace"] for zk in objects["zookeeperclusters"]} == {CORE_NS, EDGE_NS}
    with_secrets = {i["metadata"]["name"] for kind in ("deployments", "daemonsets") for i in objects[kind]
                    if _pod_spec(kind, i).get("imagePullSecrets") == [{"name": PULL}]}
    assert {f"{CORE}-zookeeper-operator", f"{CORE}-openebs-ndm", f"{CORE}-openebs-ndm-operator",
            f"{CORE}-hostpath-provisioner", f"{CORE}-deck"} <= with_secrets


def test_rerun_changes_nothing(site):
    assert site.again.rc == 0, site.again
    assert site.again.recap()["changed"] == 0, play_recap.changed_tasks(site.again.output)
    assert site.again_writes == []


def _facts_images(version: str) -> set[str]:
    sections = re.split(r"^## Chart (v[0-9.]+):.*$", FACTS.read_text(), flags=re.M)
    table = dict(zip(sections[1::2], sections[2::2]))[version]
    cells = [[c.strip() for c in line.split("|")] for line in table.splitlines()]
    return {image.strip() for row in cells if len(row) > 8 and row[1] not in ("kind", "---")
            for image in row[7].split(",") if image.strip()}


def test_images_playbook_lists_the_charts_images_and_their_mirror(site):
    if not FACTS.exists():
        pytest.skip("the chart render facts are not on this machine")
    listed = site.listed
    assert listed.rc == 0, listed
    lines = set(re.findall(r'"(\S+ -> \S+)"', listed.output))
    pairs = dict(line.split(" -> ") for line in lines)
    # Every image of the real chart's rendering, each with its mirror; plus the CRs' and the collection's images.
    for image in _facts_images(VERSION):
        assert pairs.get(image) == images.mirror(image, REGISTRY), image
    assert pairs["busybox:1.36.1"] == f"{REGISTRY}/busybox:1.36.1"
    assert pairs["iomesh/zookeeper:3.5.9-20"] == f"{REGISTRY}/iomesh/zookeeper:3.5.9-20"
    assert pairs["docker.io/iomesh/zbs-metad:v5.6.0-rc112-community"].startswith(REGISTRY + "/")
    assert "pulls these images whatever iomesh_image_registry is" not in listed.output


@pytest.mark.parametrize("version", launcher.CHART_VERSIONS)
def test_fixture_chart_moves_every_image_but_the_listed_ones(version):
    """The fixture chart models which values key moves which image as the real chart's values say (docs/air-gap.md)."""
    renders = []
    for registry in ("", REGISTRY):
        values = images.values(version, registry, [PULL] if registry else [])
        values = {**values, "iomesh": {**values.get("iomesh", {}), "create": True, "chunk": {
            **values.get("iomesh", {}).get("chunk", {}), "dataCIDR": launcher.DATA_CIDR}}}
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as handle:
            yaml.safe_dump(values, handle)
            handle.flush()
            renders.append(subprocess.run([str(VENV_BIN / "helm4"), "template", "air", str(launcher.chart_dir(version)),
                                           "-n", "air-ns", "-f", handle.name], cwd=ROOT, capture_output=True,
                                          text=True, timeout=120, check=True).stdout)
    listed = images.image_list(renders[0], renders[1], REGISTRY)
    assert listed["not_rewritable"] == sorted(images.not_rewritable(version))
    assert len(listed["images"]) > 25
