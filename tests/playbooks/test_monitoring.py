"""Optional monitoring (docs/day-2.md, "Monitoring") — on the API emulator with the IOMesh twin.

The Prometheus Operator's CRDs installed (testbed/fixtures/manifests/prometheus-operator-crds.yaml), two clusters
deployed without monitoring: no monitoring object exists. iomesh_monitoring: true while one of the CRDs is missing is
refused by preflight, naming the variable, the CRD and the fix, before anything is written. With all of them, --check
writes nothing and names the changes of the run; the run creates the chart's monitoring objects and ServiceMonitor iomesh selecting both clusters'
namespaces; a re-run and a --check after it change nothing. Turning monitoring off removes them all. Names,
namespaces, nodes and the chart version are not the defaults.
"""

from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest
import yaml

from . import conftest, play_recap

CORE, CORE_NS = "obs-core", "obs-sys"
EDGE, EDGE_NS = "obs-edge", "obs-store"
PROM_NS = "prom-ops"
NODES = [f"mo-{i}" for i in range(6)]
CHART_VERSION = "v1.1.0"
MONITORING = "/apis/monitoring.coreos.com/v1"
CRDS = Path(__file__).resolve().parents[2] / "testbed" / "fixtures" / "manifests" / "prometheus-operator-crds.yaml"
STAGES = ["site.yml", "--skip-tags", "iomesh_prereq,iomesh_license,iomesh_disks,iomesh_csi,iomesh_verify,iomesh_report"]
# The monitoring objects by kind: (namespace, name), literal (domain doc §11, "Monitoring / dashboard").
EXPECTED = {
    "servicemonitors": [(PROM_NS, "iomesh"), (PROM_NS, "iomesh-operator"), (PROM_NS, "kube-state-metrics")],
    "podmonitors": [(PROM_NS, "blockdevice-monitor"), (PROM_NS, "blockdevice-monitor-prober")],
    "prometheusrules": [(PROM_NS, "blockdevicemonitor"), (PROM_NS, "iomesh")],
}


class Site:
    def __init__(self, testbed: conftest.Testbed, workdir: Path):
        self.testbed = testbed
        self.inventory = workdir / "inventory.yml"

    def write_inventory(self, **settings) -> None:
        self.inventory.write_text(yaml.safe_dump(conftest.two_cluster_inventory(
            self.testbed, NODES, (CORE, CORE_NS), (EDGE, EDGE_NS), 70, CHART_VERSION, **settings)))

    def run(self, *args: str) -> conftest.PlaybookRun:
        return conftest.run_site(self.testbed, self.inventory, *args)

    def monitoring_objects(self) -> dict:
        found = {}
        for plural in EXPECTED:
            try:
                items = self.testbed.get(f"{MONITORING}/{plural}")["items"]
            except urllib.error.HTTPError:
                items = []
            found[plural] = sorted((i["metadata"]["namespace"], i["metadata"]["name"]) for i in items)
        return found


MONITORING_ON = {"iomesh_monitoring": True, "iomesh_monitoring_namespace": PROM_NS,
                 "iomesh_monitoring_labels": {"release": "kps-east"}}


CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


@pytest.fixture(scope="module")
def site():
    """Two clusters deployed without monitoring, the Prometheus Operator's CRDs and namespace installed."""
    with conftest.short_testbed("iomesh-mo-", NODES) as (testbed, base):
        made = Site(testbed, base)
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PROM_NS}}
        assert testbed.post("/api/v1/namespaces", namespace)[0] == 201
        for crd in yaml.safe_load_all(CRDS.read_text()):
            status, body = testbed.post(CRD_PATH, crd)
            assert status == 201, body
        made.write_inventory()
        made.deployed = made.run(*STAGES)
        made.deployed_objects = made.monitoring_objects()
        yield made


@pytest.fixture(scope="module")
def refused(site):
    """Monitoring asked for, the PodMonitor CRD not installed (removed, then put back)."""
    assert site.deployed.rc == 0, site.deployed
    crd = next(c for c in yaml.safe_load_all(CRDS.read_text()) if c["spec"]["names"]["kind"] == "PodMonitor")
    assert site.testbed.delete(f"{CRD_PATH}/{crd['metadata']['name']}")[0] == 200
    site.write_inventory(**MONITORING_ON)
    since = len(site.testbed.requests())
    run = site.run(*STAGES)
    done = {"run": run, "writes": site.testbed.write_requests(since, lock=True), "after": site.monitoring_objects()}
    assert site.testbed.post(CRD_PATH, crd)[0] == 201
    return done


@pytest.fixture(scope="module")
def enabled(site, refused):
    """Monitoring on: --check, the run, a re-run, --check again, then monitoring off."""
    assert refused["run"].rc != 0
    since = len(site.testbed.requests())
    check = site.run(*STAGES, "--check", "--diff")
    check_writes = site.testbed.changes(since)
    run = site.run(*STAGES)
    after = site.monitoring_objects()
    monitor = site.testbed.get(f"{MONITORING}/namespaces/{PROM_NS}/servicemonitors/iomesh")
    again = site.run(*STAGES)
    check_again = site.run(*STAGES, "--check")
    site.write_inventory()
    disabled = site.run("playbooks/mgmt.yml")
    return {"check": check, "check_writes": check_writes, "run": run,
            "after": after, "monitor": monitor, "again": again, "check_again": check_again, "disabled": disabled,
            "disabled_objects": site.monitoring_objects()}


def test_monitoring_without_the_prometheus_operator_is_refused_before_any_change(refused):
    run = refused["run"]
    assert run.rc != 0, run
    assert "iomesh_monitoring: true needs the Prometheus Operator's CRDs" in run.output
    assert "iomesh_monitoring: false" in run.output
    assert refused["writes"] == []
    assert "the cluster has no podmonitors.monitoring.coreos.com. Install the Prometheus Operator" in run.output
    assert refused["writes"] == []


def test_without_monitoring_no_monitoring_object_exists(site):
    assert site.deployed.rc == 0, site.deployed
    assert site.deployed_objects == {plural: [] for plural in EXPECTED}


def test_check_mode_writes_nothing_and_names_the_changes_of_the_run(enabled):
    assert enabled["check"].rc == 0 and enabled["run"].rc == 0, (enabled["check"], enabled["run"])
    assert enabled["check_writes"] == []
    changed = play_recap.changed_tasks(enabled["run"].output)
    assert changed and play_recap.changed_tasks(enabled["check"].output) == changed


def test_the_monitoring_objects_exist_and_service_monitor_iomesh_selects_every_cluster(enabled):
    assert enabled["after"] == {plural: sorted(refs) for plural, refs in EXPECTED.items()}
    monitor = enabled["monitor"]
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["obs-store", "obs-sys"]}
    assert monitor["metadata"]["labels"]["release"] == "kps-east"
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["meta-exporter", "meta-exporter", "chunk-exporter"]


def test_a_re_run_and_check_mode_after_it_change_nothing(enabled):
    for done in ("again", "check_again"):
        assert enabled[done].rc == 0 and enabled[done].recap()["changed"] == 0, enabled[done]


def test_turning_monitoring_off_removes_every_monitoring_object(enabled):
    assert enabled["disabled"].rc == 0, enabled["disabled"].output[-3000:]
    assert enabled["disabled_objects"] == {plural: [] for plural in EXPECTED}
