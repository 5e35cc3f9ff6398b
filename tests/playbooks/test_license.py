"""Licences by re-run (docs/day-2.md, "Licences") — on the API emulator with the IOMesh twin.

Two clusters deployed; the additional cluster is given a licence code issued for its own serial: --check writes
nothing and names the same changes as the run; the run creates Secret iomesh-authorization-code, sets
spec.licenseSecretName and waits until the cluster reports the licence, leaving the management cluster on its trial;
a re-run changes nothing. A new code (from a file) is put in place as IOMesh documents its update (the Secret deleted
and created again). A code issued for another cluster's serial fails naming the cluster and the operator's event.
The codes never appear in the output. Names, namespaces and nodes are not the defaults.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml
from iomesh_twin import licence

from . import conftest, play_recap

CORE, CORE_NS = "lic-core", "lic-sys"
EDGE, EDGE_NS = "lic-edge", "lic-store"
NODES = [f"li-{i}" for i in range(6)]
IOMESH = "/apis/iomesh.com/v1alpha1"
SECRET = "iomesh-authorization-code"
STAGES = ["site.yml", "--skip-tags", "iomesh_prereq,iomesh_disks,iomesh_csi,iomesh_verify,iomesh_report"]


class Site:
    def __init__(self, testbed: conftest.Testbed, workdir: Path):
        self.testbed = testbed
        self.workdir = workdir
        self.inventory = workdir / "inventory.yml"

    def write_inventory(self, edge: dict | None = None, core: dict | None = None, **settings) -> None:
        inventory = conftest.two_cluster_inventory(
            self.testbed, NODES, (CORE, CORE_NS), (EDGE, EDGE_NS), 60, iomesh_license_wait_delay=1,
            iomesh_license_wait_timeout=20, **settings)
        clusters = inventory["all"]["vars"]["iomesh_clusters"]
        clusters[0].update(core or {})
        clusters[1].update(edge or {})
        self.inventory.write_text(yaml.safe_dump(inventory))

    def run(self, *args: str) -> conftest.PlaybookRun:
        return conftest.run_site(self.testbed, self.inventory, *args)

    def cr(self, namespace: str, name: str) -> dict:
        return self.testbed.get(f"{IOMESH}/namespaces/{namespace}/iomeshclusters/{name}")

    def license(self, namespace: str, name: str) -> dict:
        return self.cr(namespace, name)["status"]["license"]

    def secret(self, namespace: str) -> dict:
        return self.testbed.get(f"/api/v1/namespaces/{namespace}/secrets/{SECRET}")

    def step(self) -> dict:
        """--check --diff and the run of the licence stage, then a re-run of site.yml (the clusters' stages, which
        apply the IOMeshClusters under their own field manager, must leave spec.licenseSecretName alone)."""
        since = len(self.testbed.requests())
        check = self.run("playbooks/license.yml", "--check", "--diff")
        check_writes = self.testbed.changes(since)
        run = self.run("playbooks/license.yml")
        after = {"edge": self.cr(EDGE_NS, EDGE), "core": self.cr(CORE_NS, CORE), "secret": self.secret(EDGE_NS)}
        again = self.run(*STAGES)
        return {"check": check, "check_writes": check_writes, "run": run, "after": after, "again": again}


@pytest.fixture(scope="module")
def site():
    with conftest.short_testbed("iomesh-li-", NODES) as (testbed, base):
        made = Site(testbed, base)
        made.write_inventory()
        run = made.run(*STAGES)
        assert run.rc == 0, run
        yield made


@pytest.fixture(scope="module")
def activated(site):
    serial = site.license(EDGE_NS, EDGE)["serial"]
    code = licence.issue(serial, "Subscription", days=365)
    site.write_inventory(edge={"license_code": code})
    return {"code": code, "serial": serial, **site.step()}


@pytest.fixture(scope="module")
def replaced(site, activated):
    assert activated["run"].rc == 0
    code = licence.issue(activated["serial"], "Perpetual")
    path = site.workdir / "edge-licence.txt"
    path.write_text(code + "\n")
    site.write_inventory(edge={"license_file": str(path)})
    uid = site.secret(EDGE_NS)["metadata"]["uid"]
    return {"code": code, "old_uid": uid, **site.step()}


def test_check_mode_writes_nothing_and_names_the_changes_of_the_run(activated, replaced):
    for done in (activated, replaced):
        assert done["check"].rc == 0 and done["run"].rc == 0, done
        assert done["check_writes"] == []
        changed = play_recap.changed_tasks(done["run"].output)
        assert changed and play_recap.changed_tasks(done["check"].output) == changed
        assert any(f"(item={EDGE_NS}/{EDGE})" in task for task in changed)


def test_a_licence_code_is_activated_on_its_cluster_only(activated):
    assert activated["run"].rc == 0, activated["run"]
    edge, core = activated["after"]["edge"], activated["after"]["core"]
    found = edge["status"]["license"]
    assert found["licenseType"] == "Subscription" and found["serial"] == activated["serial"]
    assert edge["spec"]["licenseSecretName"] == SECRET
    data = activated["after"]["secret"]["data"]["authorizationCode"]
    assert base64.b64decode(data).decode() == activated["code"]
    # The management cluster keeps its trial licence, and no Secret.
    assert core["status"]["license"]["licenseType"] == "Trial"
    assert "licenseSecretName" not in core["spec"]
    # Reported, the code never printed.
    assert f"IOMeshCluster {EDGE_NS}/{EDGE}: Subscription licence, serial {activated['serial']}" in activated["run"].output
    assert f"IOMeshCluster {CORE_NS}/{CORE}: Trial licence" in activated["run"].output
    for done in ("check", "run", "again"):
        assert activated["code"] not in activated[done].output


def test_a_re_run_changes_nothing(activated, replaced):
    for done in (activated, replaced):
        assert done["again"].rc == 0 and done["again"].recap()["changed"] == 0, done["again"]


def test_a_new_code_from_a_file_replaces_the_secret_as_iomesh_documents(replaced):
    assert replaced["run"].rc == 0, replaced["run"]
    assert replaced["after"]["edge"]["status"]["license"]["licenseType"] == "Perpetual"
    secret = replaced["after"]["secret"]
    # Deleted and created again: IOMesh does not read a Secret changed in place.
    assert secret["metadata"]["uid"] != replaced["old_uid"]
    assert base64.b64decode(secret["data"]["authorizationCode"]).decode() == replaced["code"]
    assert replaced["code"] not in replaced["run"].output


def test_a_code_of_another_cluster_fails_naming_the_cluster(site, replaced):
    assert replaced["run"].rc == 0
    edge_serial = site.license(EDGE_NS, EDGE)["serial"]
    wrong = licence.issue(edge_serial, "Subscription")
    site.write_inventory(edge={"license_file": str(site.workdir / "edge-licence.txt")}, core={"license_code": wrong})
    run = site.run("playbooks/license.yml")
    assert run.rc == 2, run
    assert f"IOMeshCluster {CORE_NS}/{CORE} did not activate the licence code it was given within 20 s" in run.output
    assert f"the licence was issued for serial {edge_serial}" in run.output
    assert wrong not in run.output
    assert site.license(CORE_NS, CORE)["licenseType"] == "Trial"


def test_a_licence_ending_soon_is_warned_about(site, replaced):
    assert replaced["run"].rc == 0
    site.write_inventory(edge={"license_file": str(site.workdir / "edge-licence.txt")}, iomesh_license_warn_days=40)
    run = site.run("playbooks/license.yml")
    assert run.rc == 0 and run.recap()["changed"] == 0, run
    assert f"IOMeshCluster {CORE_NS}/{CORE}: its Trial licence expires on" in run.output
    assert "(iomesh_license_warn_days: 40)" in run.output
    assert f"IOMeshCluster {EDGE_NS}/{EDGE}: its" not in run.output
