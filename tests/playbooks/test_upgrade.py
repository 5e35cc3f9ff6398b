"""Upgrade by re-run (docs/day-2.md, "Upgrade") — on the API emulator with the IOMesh twin, with helm 4.

Two clusters deployed with chart v1.0.1, then iomesh_chart_version raised to v1.1.0 and to v1.2.0: --check reports
the upgrade and writes nothing; the run applies the chart's CRDs before Helm upgrades the release (Helm never
upgrades crds/), so the custom resources keep the fields the new CRDs bring; the additional cluster's images and
version fields follow the management cluster's; a re-run changes nothing. A cluster running a single chunk pod is
not upgraded (IOMesh never starts that upgrade). Names, namespaces and nodes are not the defaults.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from . import conftest, play_recap

CORE, CORE_NS = "vault-a", "vault-sys"
EDGE, EDGE_NS = "edge-7", "edge-store"
NODES = [f"ug-{i}" for i in range(6)]
IOMESH = "/apis/iomesh.com/v1alpha1"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
STAGES = ["site.yml", "--skip-tags", "iomesh_prereq,iomesh_disks,iomesh_csi,iomesh_verify,iomesh_report"]
PARTS = ("meta", "chunk", "redirector")


class Site:
    def __init__(self, testbed: conftest.Testbed, workdir: Path):
        self.testbed = testbed
        self.inventory = workdir / "inventory.yml"

    def write_inventory(self, version: str) -> None:
        self.inventory.write_text(yaml.safe_dump(
            conftest.two_cluster_inventory(self.testbed, NODES, (CORE, CORE_NS), (EDGE, EDGE_NS), 40, version)))

    def run(self, *args: str) -> conftest.PlaybookRun:
        return conftest.run_site(self.testbed, self.inventory, *args)

    def cr(self, namespace: str, name: str) -> dict:
        return self.testbed.get(f"{IOMESH}/namespaces/{namespace}/iomeshclusters/{name}")

    def chart(self) -> str:
        return json.loads(self.testbed.helm("history", CORE, "-n", CORE_NS, "--max", "1", "-o", "json").stdout)[-1]["chart"]

    def crd_properties(self, plural: str) -> set[str]:
        crd = self.testbed.get(f"{CRDS}/{plural}")
        return set(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"])


def images(cr: dict) -> dict[str, str]:
    spec = cr["spec"]
    return {part: spec[part]["image"]["tag"] for part in PARTS} | {
        "devicemanager": spec["chunk"]["devicemanager"]["image"]["tag"], "probe": spec["probe"]["image"]["tag"]}


@pytest.fixture(scope="module")
def site():
    with conftest.short_testbed("iomesh-ug-", NODES) as (testbed, base):
        made = Site(testbed, base)
        made.write_inventory("v1.0.1")
        run = made.run(*STAGES)
        assert run.rc == 0, run
        yield made


def upgrade(site: Site, version: str) -> dict:
    """--check, the run and a re-run with iomesh_chart_version raised to `version`."""
    before = {"core": site.cr(CORE_NS, CORE), "edge": site.cr(EDGE_NS, EDGE), "chart": site.chart()}
    site.write_inventory(version)
    since = len(site.testbed.requests())
    check = site.run(*STAGES, "--check", "--diff")
    check_writes = site.testbed.changes(since)
    since = len(site.testbed.requests())
    run = site.run(*STAGES)
    writes = site.testbed.changes(since)
    after = {"core": site.cr(CORE_NS, CORE), "edge": site.cr(EDGE_NS, EDGE), "chart": site.chart()}
    again = site.run(*STAGES)
    return {"before": before, "check": check, "check_writes": check_writes, "run": run, "writes": writes,
            "after": after, "again": again}


@pytest.fixture(scope="module")
def single_pod_refused(site):
    """Before the first upgrade: the management cluster edited by hand to one meta pod and the additional cluster to
    one chunk pod; preflight and the management stage with v1.1.0, then the edits undone."""
    site.write_inventory("v1.1.0")
    assert site.testbed.patch(f"{IOMESH}/namespaces/{CORE_NS}/iomeshclusters/{CORE}",
                              {"spec": {"meta": {"replicas": 1}}})[0] == 200
    assert site.testbed.patch(f"{IOMESH}/namespaces/{EDGE_NS}/iomeshclusters/{EDGE}",
                              {"spec": {"chunk": {"replicas": 1}}})[0] == 200
    runs = {}
    for playbook in ("playbooks/preflight.yml", "playbooks/mgmt.yml"):
        since = len(site.testbed.requests())
        runs[playbook] = (site.run(playbook), site.testbed.changes(since), site.chart())
    assert site.testbed.patch(f"{IOMESH}/namespaces/{CORE_NS}/iomeshclusters/{CORE}",
                              {"spec": {"meta": {"replicas": 3}}})[0] == 200
    assert site.testbed.patch(f"{IOMESH}/namespaces/{EDGE_NS}/iomeshclusters/{EDGE}",
                              {"spec": {"chunk": {"replicas": 3}}})[0] == 200
    site.write_inventory("v1.0.1")
    return runs


@pytest.fixture(scope="module")
def to_v110(site, single_pod_refused):
    return upgrade(site, "v1.1.0")


@pytest.fixture(scope="module")
def to_v120(site, to_v110):
    assert to_v110["run"].rc == 0
    return upgrade(site, "v1.2.0")


@pytest.fixture(params=["v1.1.0", "v1.2.0"])
def step(request, to_v110, to_v120):
    return request.param, {"v1.1.0": to_v110, "v1.2.0": to_v120}[request.param]


@pytest.mark.parametrize("playbook, refused", [
    ("playbooks/preflight.yml", [f"{CORE_NS}/{CORE} runs a single meta pod", f"{EDGE_NS}/{EDGE} runs a single chunk pod"]),
    ("playbooks/mgmt.yml", [f"{CORE_NS}/{CORE} runs a single meta pod"]),
])
def test_an_upgrade_is_refused_while_a_cluster_runs_a_single_pod(single_pod_refused, playbook, refused):
    run, writes, chart = single_pod_refused[playbook]
    assert run.rc == 2, run
    for what in refused:
        assert f"IOMeshCluster {what}: IOMesh never starts an upgrade of such a cluster (docs/pitfalls.md P11)" in run.output
    assert "Scale it out first" in run.output
    assert writes == [] and chart.endswith("v1.0.1")


def test_check_mode_shows_the_upgrade_and_writes_nothing(step):
    version, done = step
    check = done["check"]
    assert check.rc == 0, check
    assert check.recap()["changed"] >= 1
    assert done["check_writes"] == []
    # The release's change names the chart version it would install.
    assert version in check.output


def test_check_mode_names_every_change_the_run_then_makes(step):
    """The same tasks (and loop items) change under --check as in the run: the CRDs, the release, the management
    cluster's custom resources and the additional cluster following its images."""
    done = step[1]
    assert done["run"].rc == 0, done["run"]
    check = play_recap.changed_tasks(done["check"].output)
    assert check == play_recap.changed_tasks(done["run"].output)
    assert any(f"Apply IOMeshCluster {EDGE}" in task for task in check), check


def test_the_chart_crds_are_applied_before_helm_upgrades_the_release(step):
    version, done = step
    assert done["run"].rc == 0, done["run"]
    writes = done["writes"]
    crd_writes = [i for i, w in enumerate(writes) if w["path"].startswith(CRDS)]
    # Helm's first write of an upgrade is its new release revision (a Secret).
    release_writes = [i for i, w in enumerate(writes) if (w.get("userAgent") or "").lower().startswith("helm")]
    assert crd_writes and release_writes, writes
    assert max(crd_writes) < min(release_writes)
    assert done["after"]["chart"].endswith(version)


def test_the_new_crds_serve_the_fields_the_chart_brings(site, to_v110, to_v120):
    assert to_v120["run"].rc == 0, to_v120["run"]
    # From v1.1.0 the IOMeshCluster has spec.version (the chart sets it): kept, not pruned by an old schema.
    assert {"version", "edition"} <= site.crd_properties("iomeshclusters.iomesh.com")
    site.testbed.get(f"{CRDS}/blockdevicemonitors.iomesh.com")
    core, edge = site.cr(CORE_NS, CORE), site.cr(EDGE_NS, EDGE)
    assert core["spec"].get("version") and edge["spec"].get("version") == core["spec"]["version"]


def test_the_additional_cluster_follows_the_management_images(step):
    version, done = step
    assert done["run"].rc == 0, done["run"]
    core, edge = done["after"]["core"], done["after"]["edge"]
    assert images(edge) == images(core) != images(done["before"]["edge"])
    assert images(core)["probe"] == version
    assert done["before"]["chart"] != done["after"]["chart"]


def test_a_re_run_after_the_upgrade_changes_nothing(step):
    done = step[1]
    again = done["again"]
    assert again.rc == 0 and again.recap()["changed"] == 0, again
