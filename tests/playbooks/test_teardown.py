"""Guarded teardown (docs/day-2.md, "Teardown") — on the API emulator with the IOMesh twin.

Two clusters deployed (the disks of the additional one mounted, the verification's claims kept, an application's claim
on the management cluster).
The teardown refuses to run without the confirmation, with the management cluster alone, and while a claim lives on
a cluster to remove — writing nothing. The additional cluster is removed: --check names exactly the changes of the
run, the run deletes its objects in IOMesh's order and leaves the management cluster serving (its pods not restarted,
the claim Bound), lists the released disks and never wipes them; run again it changes nothing. Then every cluster and
the Helm release, and again nothing. Names, namespaces and nodes are not the defaults. (The molecule scenario
lifecycle removes a third cluster, in its default namespace, next to two others.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from iomesh_testbed import launcher
from iomesh_twin import disks as diskmod

from . import conftest, play_recap
from .conftest import VENV_BIN

CORE, CORE_NS = "td-core", "td-sys"
EDGE, EDGE_NS = "td-edge", "td-blk"
NODES = [f"tn-{i}" for i in range(6)]
GROUPS = {"core": NODES[:3], "edge": NODES[3:]}
VERIFY_NS = "td-checks"
APP_NS = "td-apps"
IOMESH = "/apis/iomesh.com/v1alpha1"
ZOOKEEPER = "/apis/zookeeper.pravega.io/v1beta1"
STAGES = ["site.yml", "--skip-tags", "iomesh_prereq,iomesh_report"]
TEARDOWN = "playbooks/teardown.yml"


def extra(clusters, confirm: bool | None = True, **more) -> str:
    values = {"iomesh_teardown_clusters": clusters, **more}
    if confirm is not None:
        values["iomesh_confirm_data_loss"] = confirm
    return json.dumps(values)


class Site:
    def __init__(self, testbed: conftest.Testbed, workdir: Path):
        self.testbed = testbed
        self.inventory = workdir / "inventory.yml"
        config = {"nodes": launcher.seed_node_config(NODES)}
        self.disks = diskmod.layout(config)

    def write_inventory(self) -> None:
        address = {host: f"10.234.1.{80 + i}" for i, host in enumerate(NODES)}

        def host(name: str, with_disks: bool) -> dict:
            out = {"ansible_host": address[name]}
            usable = [d for d in self.disks[name] if not d["fsType"] and d["deviceType"] == "disk"]
            if with_disks and usable:
                out["iomesh_disks"] = [{"serial": d["serial"], "mount_type": "cacheWithJournal"
                                        if d["driveType"] == "SSD" else "dataStore"} for d in usable]
            return out

        self.inventory.write_text(yaml.safe_dump({"all": {
            "vars": {
                "iomesh_kubeconfig": str(self.testbed.kubeconfig), "iomesh_chart_ref": str(launcher.CHART),
                "iomesh_helm_binary": str(VENV_BIN / "helm4"), "iomesh_cluster_wait_delay": 1,
                "iomesh_mgmt_wait_delay": 1, "iomesh_verify_keep": True, "iomesh_verify_namespace": VERIFY_NS,
                "iomesh_teardown_wait_timeout": 120,
                "iomesh_clusters": [
                    {"name": CORE, "namespace": CORE_NS, "management": True, "hosts_group": "core",
                     "data_cidr": launcher.DATA_CIDR},
                    {"name": EDGE, "namespace": EDGE_NS, "hosts_group": "edge", "data_cidr": launcher.DATA_CIDR,
                     "storage_class": {"name": "td-edge-fast"}},
                ],
            },
            "children": {group: {"hosts": {h: host(h, group == "edge") for h in hosts}}
                         for group, hosts in GROUPS.items()},
        }}))

    def run(self, *args: str) -> conftest.PlaybookRun:
        return conftest.run_site(self.testbed, self.inventory, *args)

    def teardown(self, clusters, *args: str, **more) -> dict:
        """The teardown playbook's run, with the requests it made that would change something (the lock's too)."""
        since = len(self.testbed.requests())
        run = self.run(TEARDOWN, "-e", extra(clusters, **more), *args)
        return {"run": run, "writes": self.testbed.changes(since, lock=True)}

    def items(self, path: str, **query: str) -> list[dict]:
        return self.testbed.get(path, **query)["items"]

    def names(self, path: str, **query: str) -> set[str]:
        return {f"{i['metadata'].get('namespace', '')}/{i['metadata']['name']}" for i in self.items(path, **query)}

    def pods(self, namespace: str) -> dict[str, str]:
        return {p["metadata"]["name"]: p["metadata"]["uid"] for p in self.items(f"/api/v1/namespaces/{namespace}/pods")}

    def claim(self, namespace: str, name: str, storage_class: str) -> None:
        if namespace not in {n.strip("/") for n in self.names("/api/v1/namespaces")}:
            self.testbed.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": {"name": namespace}})
        code, body = self.testbed.post(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims", {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": namespace},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class,
                     "resources": {"requests": {"storage": "1Gi"}}}})
        assert code == 201, body


@pytest.fixture(scope="module")
def site():
    with conftest.short_testbed("iomesh-td-", NODES) as (testbed, base):
        made = Site(testbed, base)
        made.write_inventory()
        run = made.run(*STAGES)
        assert run.rc == 0, run
        made.claim(APP_NS, "core-data", CORE)
        yield made


@pytest.fixture(scope="module")
def refusals(site):
    """Every refusal, before the removal of EDGE (a claim on EDGE's class made for the last one, then deleted)."""
    out = {
        "unconfirmed": site.teardown([EDGE], confirm=None),
        "not_true": site.teardown([EDGE], confirm="yes"),
        "management_alone": site.teardown([CORE]),
        "unknown": site.teardown(["td-nowhere"]),
    }
    site.claim(APP_NS, "edge-data", "td-edge-fast")
    out["claim"] = site.teardown([EDGE])
    site.testbed.delete(f"/api/v1/namespaces/{APP_NS}/persistentvolumeclaims/edge-data")
    return out


@pytest.fixture(scope="module")
def removed(site, refusals):
    before = {CORE_NS: site.pods(CORE_NS)}
    devices = [d for d in site.items(f"/apis/openebs.io/v1alpha1/namespaces/{CORE_NS}/blockdevices")
               if d["metadata"].get("labels", {}).get("iomesh.multicluster/cluster") == EDGE]
    check = site.teardown([EDGE], "--check", "--diff")
    run = site.teardown([EDGE])
    after = {CORE_NS: site.pods(CORE_NS)}
    again = site.teardown([EDGE])
    return {"before": before, "after": after, "devices": devices, "check": check, "run": run, "again": again}


@pytest.fixture(scope="module")
def everything(site, removed):
    refused = site.teardown("all")
    check = site.teardown("all", "--check", iomesh_teardown_force=True)
    run = site.teardown("all", iomesh_teardown_force=True)
    again = site.teardown("all", iomesh_teardown_force=True)
    return {"refused": refused, "check": check, "run": run, "again": again}


def test_refused_before_anything_is_written(refusals):
    expected = {
        "unconfirmed": "iomesh_confirm_data_loss is not true",
        "not_true": "iomesh_confirm_data_loss is not true",
        "management_alone": f"names the management cluster {CORE} but not {EDGE}",
        "unknown": "names td-nowhere, not in iomesh_clusters",
        "claim": f"PersistentVolumeClaim {APP_NS}/edge-data (StorageClass td-edge-fast, cluster {EDGE})",
    }
    for case, message in expected.items():
        done = refusals[case]
        assert done["run"].rc != 0, (case, done["run"])
        assert "Teardown refused, nothing was changed" in done["run"].output and message in done["run"].output, case
    # Refused by the inventory alone: not even the lock was taken.
    for case in ("unconfirmed", "not_true", "management_alone", "unknown"):
        assert refusals[case]["writes"] == [], case
    # The claim is found under the lock, and nothing else is written.
    assert all(conftest.LOCK_PATH.search(w["path"]) for w in refusals["claim"]["writes"])


def test_check_mode_writes_nothing_and_names_the_changes_of_the_run(removed):
    check, run = removed["check"], removed["run"]
    assert check["run"].rc == 0 and run["run"].rc == 0, (check["run"], run["run"])
    assert all(conftest.LOCK_PATH.search(w["path"]) for w in check["writes"])
    changed = play_recap.changed_tasks(run["run"].output)
    assert changed and play_recap.changed_tasks(check["run"].output) == changed
    # IOMesh's order: the verification's claim and pod, the class and ConfigMap, the custom resources, the namespace.
    order = [task.split("(item=", 1)[1].split(":", 1)[0] for task in changed]
    assert order == sorted(order, key=["verify", "csi", "custom_resources", "namespaces"].index)
    assert order[0] == "verify" and order[-1] == "namespaces"


def test_one_cluster_is_removed_and_the_others_keep_serving(site, removed):
    assert removed["run"]["run"].rc == 0, removed["run"]["run"]
    assert f"{EDGE_NS}/{EDGE}" not in site.names(f"{IOMESH}/iomeshclusters")
    assert f"{EDGE_NS}/{EDGE}-zookeeper" not in site.names(f"{ZOOKEEPER}/zookeeperclusters")
    assert f"/{EDGE_NS}" not in site.names("/api/v1/namespaces")
    assert "/td-edge-fast" not in site.names("/apis/storage.k8s.io/v1/storageclasses")
    assert f"{CORE_NS}/{CORE}" in site.names(f"{IOMESH}/iomeshclusters")
    assert f"/{CORE}" in site.names("/apis/storage.k8s.io/v1/storageclasses")
    # Only EDGE's verification claim went.
    claims = site.items(f"/api/v1/namespaces/{VERIFY_NS}/persistentvolumeclaims")
    assert sorted(c["metadata"]["labels"]["iomesh.multicluster/cluster"] for c in claims) == [CORE]
    # The management cluster's pods were not restarted, and the application's claim on it stays Bound.
    assert removed["after"] == removed["before"] and all(removed["after"].values())
    app = site.testbed.get(f"/api/v1/namespaces/{APP_NS}/persistentvolumeclaims/core-data")
    assert app["status"]["phase"] == "Bound"


def test_released_disks_are_listed_never_wiped(site, removed):
    devices = removed["devices"]
    assert len(devices) >= 3
    output = removed["run"]["run"].output
    for bd in devices:
        assert f"BlockDevice {bd['metadata']['name']} ({bd['metadata']['labels']['kubernetes.io/hostname']}:" \
               f"{bd['spec']['path']}, cluster {EDGE})" in output
    assert "wipefs --all <path>" in output
    now = {d["metadata"]["name"]: d for d in site.items(f"/apis/openebs.io/v1alpha1/namespaces/{CORE_NS}/blockdevices")}
    for bd in devices:
        # Released by IOMesh (its claim went with the cluster), still there, still labelled: nothing wiped or unlabelled.
        found = now[bd["metadata"]["name"]]
        assert found["status"]["claimState"] == "Unclaimed"
        assert found["metadata"]["labels"]["iomesh.multicluster/cluster"] == EDGE


def test_a_finished_teardown_changes_nothing(removed, everything):
    for done in (removed["again"], everything["again"]):
        assert done["run"].rc == 0, done["run"]
        assert done["run"].recap()["changed"] == 0
        assert all(conftest.LOCK_PATH.search(w["path"]) for w in done["writes"])


def test_all_clusters_and_the_release_go_last(site, everything):
    assert everything["refused"]["run"].rc != 0
    assert f"PersistentVolumeClaim {APP_NS}/core-data (StorageClass {CORE}, cluster {CORE})" in \
        everything["refused"]["run"].output
    check, run = everything["check"], everything["run"]
    assert run["run"].rc == 0, run["run"]
    changed = play_recap.changed_tasks(run["run"].output)
    assert changed and play_recap.changed_tasks(check["run"].output) == changed
    assert changed[-1].endswith(f"iomesh_teardown : Uninstall Helm release {CORE}")
    assert site.names(f"{IOMESH}/iomeshclusters") == set()
    assert site.names(f"{ZOOKEEPER}/zookeeperclusters") == set()
    assert f"/{EDGE_NS}" not in site.names("/api/v1/namespaces") and f"/{CORE_NS}" in site.names("/api/v1/namespaces")
    assert not [s for s in site.testbed.state()["helm_releases"] if s.startswith(f"{CORE_NS}/")]
    # Left for the operator, and said so: the chart's CRDs (Helm never deletes them).
    assert "CustomResourceDefinition iomeshclusters.iomesh.com (Helm never deletes" in run["run"].output
