"""No entry point converts a single-cluster IOMesh (docs/pitfalls.md P2) without iomesh_allow_single_cluster_conversion.

The stages that write enforce the guard themselves, so it holds for their playbooks, site.yml by tag, site.yml
without the preflight or without its Kubernetes part, and the roles by FQCN in another playbook. On the API emulator
with the IOMesh twin: first a single-cluster release under the inventory's management cluster name (management
stage), then, once that was converted on purpose, a single-cluster IOMeshCluster under an additional cluster's name
(additional clusters' stage). Names, namespaces, nodes and the chart version are not the defaults.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from iomesh_testbed import launcher

from . import conftest
from .conftest import VENV_BIN

VERSION = "v1.1.0"
MGMT, MGMT_NS = "solo-blk", "solo-store"
EDGE, EDGE_NS = "edge-blk", "edge-ns"
NODES = [f"blk-{i}" for i in range(6)]
IOMESH = "/apis/iomesh.com/v1alpha1"
CONVERSION = "(a single-cluster install)"


class Site:
    def __init__(self, testbed: conftest.Testbed, workdir: Path):
        self.testbed = testbed
        self.workdir = workdir
        self.chart = launcher.chart_dir(VERSION)
        self.inventory = workdir / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump({"all": {
            "vars": {
                "iomesh_kubeconfig": str(testbed.kubeconfig), "iomesh_chart_ref": str(self.chart),
                "iomesh_chart_version": VERSION, "iomesh_helm_binary": str(VENV_BIN / "helm3"),
                # The management cluster's own waits are not what is tested here (converting it on purpose
                # reschedules its pods: docs/pitfalls.md P2).
                "iomesh_mgmt_wait": False, "iomesh_cluster_wait_delay": 1,
                "iomesh_clusters": [
                    {"name": MGMT, "namespace": MGMT_NS, "management": True, "hosts_group": "solo",
                     "data_cidr": launcher.DATA_CIDR},
                    {"name": EDGE, "namespace": EDGE_NS, "hosts_group": "edge", "data_cidr": launcher.DATA_CIDR},
                ],
            },
            "children": {"solo": {"hosts": {h: {"ansible_host": f"10.234.1.{10 + i}"} for i, h in enumerate(NODES[:3])}},
                         "edge": {"hosts": {h: {"ansible_host": f"10.234.1.{13 + i}"}
                                            for i, h in enumerate(NODES[3:])}}},
        }}))

    def run(self, *args: str) -> conftest.PlaybookRun:
        return conftest.run_site(self.testbed, self.inventory, *args)

    def revision(self) -> int:
        return json.loads(self.testbed.helm("status", MGMT, "-n", MGMT_NS, "-o", "json").stdout)["version"]

    def cr(self, namespace: str, name: str) -> dict:
        return self.testbed.get(f"{IOMESH}/namespaces/{namespace}/iomeshclusters/{name}")


@pytest.fixture(scope="module")
def site():
    with conftest.short_testbed("iomesh-ep-", NODES) as (testbed, base):
        made = Site(testbed, base)
        # `helm install` of the IOMesh documentation's single-cluster procedure: no node affinity anywhere.
        installed = testbed.helm("install", MGMT, str(made.chart), "-n", MGMT_NS, "--create-namespace",
                                 "--set", f"iomesh.chunk.dataCIDR={launcher.DATA_CIDR}")
        assert installed.returncode == 0, installed.stderr
        yield made


@pytest.mark.parametrize("entry", conftest.entry_points("mgmt"))
def test_no_entry_point_converts_a_single_cluster_release(site, tmp_path, entry):
    before = site.cr(MGMT_NS, MGMT)["spec"]
    since = len(site.testbed.requests())
    run = site.run(*conftest.entry_args(entry, tmp_path))
    assert run.rc == 2, run
    assert f"Helm release {MGMT} in namespace {MGMT_NS} is an IOMesh installation without node affinity" in run.output
    assert "set iomesh_allow_single_cluster_conversion: true" in run.output, run
    assert site.testbed.write_requests(since) == []
    # (its status moves on: the operator writes it)
    assert site.revision() == 1 and site.cr(MGMT_NS, MGMT)["spec"] == before


@pytest.fixture(scope="module")
def single_cluster_edge(site):
    """The release converted on purpose; then an IOMeshCluster under the additional cluster's name, unpinned, as
    the chart of a single-cluster install renders it."""
    run = site.run("playbooks/mgmt.yml", "-e", "iomesh_allow_single_cluster_conversion=true")
    assert run.rc == 0, run
    assert "Converting anyway: iomesh_allow_single_cluster_conversion is true." in run.output
    rendered = subprocess.run([str(VENV_BIN / "helm3"), "template", EDGE, str(site.chart), "-n", EDGE_NS,
                               "--set", f"iomesh.chunk.dataCIDR={launcher.DATA_CIDR}"],
                              capture_output=True, text=True, check=True)
    cr = next(d for d in yaml.safe_load_all(rendered.stdout) if d and d.get("kind") == "IOMeshCluster")
    assert site.testbed.post("/api/v1/namespaces", {"metadata": {"name": EDGE_NS}})[0] == 201
    code, body = site.testbed.post(f"{IOMESH}/namespaces/{EDGE_NS}/iomeshclusters", cr)
    assert code == 201, body
    return body


@pytest.mark.parametrize("entry", conftest.entry_points("cluster"))
def test_no_entry_point_converts_a_single_cluster_iomesh_cluster(site, single_cluster_edge, tmp_path, entry):
    since = len(site.testbed.requests())
    run = site.run(*conftest.entry_args(entry, tmp_path))
    assert run.rc == 2, run
    assert (f"IOMeshCluster {EDGE_NS}/{EDGE} exists and its meta, chunk, redirector pods carry no node affinity "
            f"{CONVERSION}") in run.output, run
    assert "set iomesh_allow_single_cluster_conversion: true" in run.output
    # The management stage may run before (site.yml) and change nothing; nothing of the additional cluster is written.
    assert [w for w in site.testbed.write_requests(since) if f"/namespaces/{EDGE_NS}/" in w["path"]] == []
    assert site.cr(EDGE_NS, EDGE)["spec"] == single_cluster_edge["spec"]
    assert "podPolicy" not in (single_cluster_edge["spec"].get("chunk") or {})
