"""Inventories and fixtures shared by the tests of plugins/filter and plugins/plugin_utils."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f

ROOT = Path(__file__).resolve().parents[3]
SEED_INVENTORY = ROOT / "inventories" / "seed-example"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_inventory(path: Path) -> tuple[dict, dict, dict]:
    """groups, hostvars and the all-group variables of an inventory, as Ansible itself reads them."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(path)])
    variables = VariableManager(loader=loader, inventory=inventory)
    groups = {name: [h.name for h in group.get_hosts()] for name, group in inventory.groups.items()}
    hostvars = {h.name: dict(variables.get_vars(host=h)) for h in inventory.get_hosts()}
    all_vars = hostvars[next(iter(hostvars))]
    return groups, hostvars, all_vars


@pytest.fixture(scope="session")
def seed_inventory():
    groups, hostvars, all_vars = load_inventory(SEED_INVENTORY)
    settings = {k: v for k, v in all_vars.items() if k.startswith("iomesh_") and k != "iomesh_clusters"}
    return {"clusters": all_vars["iomesh_clusters"], "groups": groups, "hostvars": hostvars, "settings": settings}


def fixture_yaml(name: str):
    return list(yaml.safe_load_all((FIXTURES / name).read_text()))


class Inventory:
    """A small synthetic inventory: clusters of hosts h0..hN in groups g0, g1, ... with addresses in 10.234.1.0/24."""

    def __init__(self, sizes=(3, 3)):
        self.groups = {"all": [], "ungrouped": []}
        self.hostvars = {}
        self.clusters = []
        self.settings = {}
        n = 0
        for index, size in enumerate(sizes):
            hosts = [f"w{n + i}" for i in range(size)]
            n += size
            self.groups[f"g{index}"] = hosts
            self.groups["all"] += hosts
            for host in hosts:
                self.hostvars[host] = {"ansible_host": f"10.234.1.{10 + int(host[1:])}"}
            self.clusters.append({
                "name": "iomesh" if index == 0 else f"iomesh-cluster-{index}",
                "hosts_group": f"g{index}",
                "data_cidr": "10.234.1.0/24",
                **({"management": True} if index == 0 else {}),
            })

    def copy(self):
        return copy.deepcopy(self)


@pytest.fixture
def inv():
    return Inventory()


# --- StorageClasses (the csi and verify tests) -------------------------------------------------------------------
MANAGED = {"app.kubernetes.io/managed-by": "iomesh.multicluster"}


@pytest.fixture
def clusters(inv):
    """The seed's clusters, normalised."""
    return f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)


@pytest.fixture
def wanted(clusters, inv):
    """The StorageClass the collection applies for each seed cluster."""
    return [f.iomesh_csi_manifests(cl, f.iomesh_settings(inv.settings))[1] for cl in clusters]


def existing(sc, labels=None, **changes):
    """The StorageClass as the API server returns it (managed by the collection unless `labels` says otherwise),
    plus `changes` (None removes a field)."""
    have = copy.deepcopy(sc)
    have["metadata"] = {"name": sc["metadata"]["name"], "labels": dict(MANAGED if labels is None else labels), "uid": "u-1",
                        "resourceVersion": "7"}
    for key, value in changes.items():
        if key.startswith("parameters."):
            if value is None:
                have["parameters"].pop(key.split(".", 1)[1])
            else:
                have["parameters"][key.split(".", 1)[1]] = value
        elif value is None:
            have.pop(key, None)
        else:
            have[key] = value
    return have


# --- host facts (the prereq filter and hostcheck tests) -----------------------------------------------------------
GB = 1000 ** 3


def facts(**over):
    """Gathered facts of a Debian 12 storage host that passes every check, with `over` replacing keys."""
    base = {
        "os_family": "Debian", "distribution": "Debian", "distribution_version": "12.8", "pkg_mgr": "apt",
        "selinux": {"status": "disabled"},
        "processor_vcpus": 16, "memtotal_mb": 64000,
        "mounts": [
            {"mount": "/", "size_available": 20 * GB},
            {"mount": "/opt", "size_available": 500 * GB},
            {"mount": "/optical", "size_available": 1 * GB},
        ],
        "all_ipv4_addresses": ["192.168.0.5", "10.234.1.12"],
    }
    base.update(over)
    return base


# --- nodes and PersistentVolumes (the PV node affinity tests) ------------------------------------------------
def node(name, **labels):
    """A Node with its hostname label and `labels`."""
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **labels}}}


NODES = [node(f"w{i}", zone="a" if i < 3 else "b", rank=str(i)) for i in range(6)]


def volume(*terms, driver="com.iomesh.csi-driver", sc="iomesh-cluster-1"):
    """A PV of the CSI driver with node affinity `terms` (None: no nodeAffinity at all)."""
    spec = {"csi": {"driver": driver}, "storageClassName": sc}
    if terms != (None,):
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": list(terms)}}
    return {"metadata": {"name": "pvc-1"}, "spec": spec}
