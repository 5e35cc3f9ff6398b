"""Scale-out by re-run; scale-down refused, never automated (docs/day-2.md) — on the API emulator with the IOMesh twin.

A node added to an additional cluster's group: --check reports that cluster's change and writes nothing, the run
extends its node affinity and chunk pods onto the new node without touching the management cluster or its pods,
and a re-run changes nothing. Taking the node out again is refused, naming IOMesh's manual procedure, by preflight
and by the stage itself whatever the entry point, with nothing written; so is moving the management cluster off one
of its nodes. Names, namespaces, nodes, the edition and the chart version are not the defaults.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from iomesh_testbed import launcher

from . import conftest
from .conftest import VENV_BIN

VERSION = "v1.2.0"
HUB, HUB_NS = "hub-blk", "hub-store"
TIER, TIER_NS = "tier-2", "tier-ns"
NODES = [f"sc-{i}" for i in range(8)]
IOMESH = "/apis/iomesh.com/v1alpha1"
# Only the stages the scaling concerns; the host stage never runs here (no SSH).
STAGES = ["site.yml", "--skip-tags", "iomesh_prereq,iomesh_disks,iomesh_csi,iomesh_verify,iomesh_report"]
REFUSED = "The collection never scales a cluster down: IOMesh takes chunk pods away only by hand"


class Site:
    def __init__(self, testbed: conftest.Testbed, workdir: Path):
        self.testbed = testbed
        self.inventory = workdir / "inventory.yml"
        self.chart = launcher.chart_dir(VERSION)

    def write_inventory(self, hub: list[str], tier: list[str]) -> None:
        address = {host: f"10.234.1.{20 + i}" for i, host in enumerate(NODES)}
        self.inventory.write_text(yaml.safe_dump({"all": {
            "vars": {
                "iomesh_kubeconfig": str(self.testbed.kubeconfig), "iomesh_chart_ref": str(self.chart),
                "iomesh_chart_version": VERSION, "iomesh_helm_binary": str(VENV_BIN / "helm3"),
                "iomesh_edition": "enterprise", "iomesh_cluster_wait_delay": 1, "iomesh_mgmt_wait_delay": 1,
                "iomesh_clusters": [
                    {"name": HUB, "namespace": HUB_NS, "management": True, "hosts_group": "hub",
                     "data_cidr": launcher.DATA_CIDR},
                    {"name": TIER, "namespace": TIER_NS, "hosts_group": "tier", "data_cidr": launcher.DATA_CIDR},
                ],
            },
            "children": {"hub": {"hosts": {h: {"ansible_host": address[h]} for h in hub}},
                         "tier": {"hosts": {h: {"ansible_host": address[h]} for h in tier}}},
        }}))

    def run(self, *args: str) -> conftest.PlaybookRun:
        return conftest.run_site(self.testbed, self.inventory, *args)

    def cr(self, namespace: str, name: str) -> dict:
        return self.testbed.get(f"{IOMESH}/namespaces/{namespace}/iomeshclusters/{name}")

    def pods(self, namespace: str) -> dict[str, dict]:
        return {p["metadata"]["name"]: p for p in self.testbed.get(f"/api/v1/namespaces/{namespace}/pods")["items"]}

    def changes(self, since: int) -> list[dict]:
        """Requests after `since` that changed something: writes, neither the lock's nor server-side dry runs."""
        return [r for r in self.testbed.write_requests(since) if "dryRun=All" not in (r.get("query") or "")]


def pinned(cr: dict) -> set[str]:
    """The nodes the required node affinity of each part allows, per part."""
    out = {}
    for part in ("meta", "chunk", "redirector"):
        terms = cr["spec"][part]["podPolicy"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        out[part] = sorted(v for t in terms for e in t["matchExpressions"] for v in e["values"])
    return out


@pytest.fixture(scope="module")
def site():
    with conftest.short_testbed("iomesh-sc-", NODES) as (testbed, base):
        made = Site(testbed, base)
        made.write_inventory(hub=NODES[:3], tier=NODES[3:6])
        run = made.run(*STAGES)
        assert run.rc == 0, run
        yield made


@pytest.fixture(scope="module")
def scaled_out(site):
    """sc-6 added to the additional cluster's group: --check, the run, and a re-run."""
    before = {"hub_pods": {n: p["metadata"]["uid"] for n, p in site.pods(HUB_NS).items()},
              "hub_cr": site.cr(HUB_NS, HUB)["spec"], "tier_cr": site.cr(TIER_NS, TIER)["spec"]}
    site.write_inventory(hub=NODES[:3], tier=NODES[3:7])
    since = len(site.testbed.requests())
    check = site.run("playbooks/cluster.yml", "--check", "--diff")
    check_writes = site.changes(since)
    since = len(site.testbed.requests())
    run = site.run("playbooks/cluster.yml")
    writes = site.changes(since)
    again = site.run(*STAGES)
    return {"before": before, "check": check, "check_writes": check_writes, "run": run, "writes": writes,
            "again": again}


def test_check_mode_shows_the_scale_out_and_writes_nothing(scaled_out):
    check = scaled_out["check"]
    assert check.rc == 0, check
    assert check.recap()["changed"] >= 1
    # The diff of the additional cluster's IOMeshCluster names the new node.
    assert "sc-6" in check.output, check
    assert scaled_out["check_writes"] == []


def test_a_node_added_to_a_group_extends_its_cluster_by_re_run(site, scaled_out):
    run = scaled_out["run"]
    assert run.rc == 0, run
    cr = site.cr(TIER_NS, TIER)
    # Enterprise: one chunk pod per node by default, now four; every part may run on the new node.
    assert cr["spec"]["chunk"]["replicas"] == 4 and cr["spec"]["meta"]["replicas"] == 3
    assert pinned(cr) == {part: NODES[3:7] for part in ("meta", "chunk", "redirector")}
    chunks = {p["spec"].get("nodeName") for n, p in site.pods(TIER_NS).items() if re.match(rf"^{TIER}-chunk-\d+$", n)}
    assert chunks == set(NODES[3:7])
    # Only the additional cluster was written; the management cluster and its pods were left alone.
    assert scaled_out["writes"] and all(f"/namespaces/{TIER_NS}/" in w["path"] or w["path"].endswith(f"/namespaces/{TIER_NS}")
                                        for w in scaled_out["writes"]), scaled_out["writes"]
    assert site.cr(HUB_NS, HUB)["spec"] == scaled_out["before"]["hub_cr"]
    hub_pods = {n: p["metadata"]["uid"] for n, p in site.pods(HUB_NS).items()}
    assert {n: hub_pods.get(n) for n in scaled_out["before"]["hub_pods"]} == scaled_out["before"]["hub_pods"]


def test_a_re_run_after_scale_out_changes_nothing(scaled_out):
    again = scaled_out["again"]
    assert again.rc == 0 and again.recap()["changed"] == 0, again


@pytest.mark.parametrize("entry", ["playbooks/preflight.yml", "playbooks/cluster.yml",
                                   "site.yml --skip-tags iomesh_preflight"])
def test_taking_the_node_out_again_is_refused(site, scaled_out, tmp_path, entry):
    assert scaled_out["run"].rc == 0
    site.write_inventory(hub=NODES[:3], tier=NODES[3:6])
    tier = site.cr(TIER_NS, TIER)["spec"]
    since = len(site.testbed.requests())
    run = site.run(*conftest.entry_args(entry, tmp_path))
    assert run.rc == 2, run
    assert (f"IOMeshCluster {TIER_NS}/{TIER} would be scaled down: chunk pods from 4 to 3 (chunk_replicas); node sc-6 "
            f"taken out of the cluster (not in group tier any more). {REFUSED}") in run.output, run
    assert "iomeshctl chunk unregister <id>" in run.output
    assert site.changes(since) == [] and site.cr(TIER_NS, TIER)["spec"] == tier


def test_moving_the_management_cluster_off_a_node_is_refused(site, scaled_out):
    assert scaled_out["run"].rc == 0
    site.write_inventory(hub=[NODES[0], NODES[1], NODES[7]], tier=NODES[3:7])
    revision = site.testbed.helm("history", HUB, "-n", HUB_NS, "--max", "1", "-o", "json").stdout
    since = len(site.testbed.requests())
    run = site.run("playbooks/mgmt.yml")
    assert run.rc == 2, run
    assert (f"IOMeshCluster {HUB_NS}/{HUB} would be scaled down: node sc-2 taken out of the cluster (not in group hub "
            f"any more). {REFUSED}") in run.output, run
    assert site.changes(since) == []
    assert site.testbed.helm("history", HUB, "-n", HUB_NS, "--max", "1", "-o", "json").stdout == revision
