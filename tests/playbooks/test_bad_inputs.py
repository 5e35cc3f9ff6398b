"""A corpus of inventories a user could get wrong. Each runs the real entry point (`ansible-playbook site.yml`)
against the API emulator and must be refused with Ansible's exact return code, a message naming the culprit (the
variable or key, the cluster, the host), no Python traceback, no later play (site.yml stops in preflight, on the
controller, before any storage host is contacted), and no API write in the emulator's request log.

Most cases are one fault in one of two base inventories of this file (not the seed's):

- COMMUNITY: the community edition, a management cluster `vault` (namespace `vault-storage`, group `vault_ctl`, 3
  nodes, hybridFlash disks by serial in hosts.yml) and `flashpool` (namespace `flashpool-ns`, group `flash_pool`, 5
  nodes, allFlash disks by by-id link on 3 of them, StorageClass `flash-sc`).
- ENTERPRISE: the enterprise edition with chart v1.2.0, FQDN host names mapped to nodes by `iomesh_node_name`, disks
  in host_vars files: a management cluster `core` (`core-storage`, 5 nodes, 5 meta and ZooKeeper replicas),
  `edge-east` (namespace by default, 3 nodes, disks by path) and `edge-west` (`west-pool`, 3 nodes, allFlash, a
  storage network of its own given by `iomesh_data_ip`).

Both bases pass preflight (the first test), so each case is refused for its own fault. Faults of the inventory are
refused before preflight reads the API: they run two at a time against one shared testbed, whose request log stays
empty over the whole batch. Faults the Kubernetes side finds run one at a time on the same testbed (which also has a
NotReady and a cordoned node), each with its own window of the log. An existing single-cluster release, and a case
that does write, get a testbed of their own, stopped when their test ends.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from . import conftest
from .conftest import CHART, ROOT, VENV_BIN, PlaybookRun

# --- the testbeds ----------------------------------------------------------------------------------------------

DATA_NET = "172.20.8"
NODES = [f"blade-{i:02d}" for i in range(1, 12)]
NODE_IPS = {name: f"{DATA_NET}.{10 + i}" for i, name in enumerate(NODES, start=1)}
# Two more nodes of the shared testbed, in no base inventory: one NotReady, one cordoned.
SPARE_NOT_READY = "spare-01"
SPARE_CORDONED = "spare-02"
SHARED_NODES = (
    [{"name": n, "internalIP": NODE_IPS[n]} for n in NODES]
    + [{"name": SPARE_NOT_READY, "internalIP": f"{DATA_NET}.31", "ready": False},
       {"name": SPARE_CORDONED, "internalIP": f"{DATA_NET}.32", "unschedulable": True}]
)
LEGACY_RELEASE, LEGACY_NAMESPACE = "legacy", "legacy-store"


def _start(base: Path, name: str, nodes: list[dict]) -> conftest.Testbed:
    tmpdir = base / f"{name}-t"   # short: ansible-core's socket path under TMPDIR
    tmpdir.mkdir()
    return conftest.Testbed(base / name, tmpdir, {"nodes": nodes})


@pytest.fixture(scope="module")
def workdir():
    base = Path(tempfile.mkdtemp(prefix="iomesh-bi-"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def shared_testbed(workdir):
    """SHARED_NODES (blade-01..11 at 172.20.8.11..21, spare-01 NotReady, spare-02 cordoned), Kubernetes v1.25.16,
    nothing installed."""
    testbed = _start(workdir, "shared", SHARED_NODES)
    yield testbed
    testbed.stop()


# --- the inventories -------------------------------------------------------------------------------------------

@dataclass
class Inventory:
    """An inventory directory as a user writes it: hosts.yml (groups, inline host variables), group_vars/all/iomesh.yml,
    host_vars/<host>.yml, and raw files written last (for faults below the YAML data level)."""

    groups: dict[str, dict[str, dict]]
    all_vars: dict
    host_vars: dict[str, dict]
    files: dict[str, str]

    def host(self, name: str) -> dict:
        """The inline variables of a host in hosts.yml."""
        return next(hosts[name] for hosts in self.groups.values() if name in hosts)

    def cluster(self, name: str) -> dict:
        return next(c for c in self.all_vars["iomesh_clusters"] if c["name"] == name)

    def write(self, directory: Path, kubeconfig: Path) -> Path:
        directory.mkdir(parents=True)
        children = {group: {"hosts": {h: (hv or None) for h, hv in hosts.items()}} for group, hosts in self.groups.items()}
        (directory / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": children}}, sort_keys=False))
        (directory / "group_vars" / "all").mkdir(parents=True)
        (directory / "group_vars" / "all" / "iomesh.yml").write_text(yaml.safe_dump(self.all_vars, sort_keys=False))
        if "iomesh_kubeconfig" not in self.all_vars:
            (directory / "group_vars" / "all" / "kubernetes.yml").write_text(
                yaml.safe_dump({"iomesh_kubeconfig": str(kubeconfig)}))
        if self.host_vars:
            (directory / "host_vars").mkdir()
            for host, hv in self.host_vars.items():
                (directory / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(hv, sort_keys=False))
        for relative, text in self.files.items():
            (directory / relative).parent.mkdir(parents=True, exist_ok=True)
            (directory / relative).write_text(text)
        return directory


def _hybrid(prefix: str) -> list[dict]:
    return [{"serial": f"{prefix}SSD", "mount_type": "cacheWithJournal"},
            {"serial": f"{prefix}HDD", "mount_type": "dataStore"}]


def community() -> Inventory:
    vault = {n: {"ansible_host": NODE_IPS[n], "iomesh_disks": _hybrid(f"VLT{n[-2:]}")} for n in NODES[:3]}
    flash = {n: {"ansible_host": NODE_IPS[n]} for n in NODES[3:8]}
    for n in NODES[3:6]:
        flash[n]["iomesh_disks"] = [{"by_id": f"nvme-FLASH-{n[-2:]}", "mount_type": "dataStoreWithJournal"}]
    return Inventory(
        groups={"vault_ctl": vault, "flash_pool": flash},
        all_vars={"iomesh_clusters": [
            {"name": "vault", "namespace": "vault-storage", "management": True, "hosts_group": "vault_ctl",
             "data_cidr": f"{DATA_NET}.0/24"},
            {"name": "flashpool", "namespace": "flashpool-ns", "hosts_group": "flash_pool",
             "data_cidr": f"{DATA_NET}.0/24", "disk_deployment_mode": "allFlash",
             "storage_class": {"name": "flash-sc", "replica_factor": "3"}},
        ]},
        host_vars={}, files={},
    )


def fqdn(node: str) -> str:
    return f"stor-{node[-2:]}.dc2.example"


def enterprise() -> Inventory:
    def hosts(nodes: list[str], **extra) -> dict:
        return {fqdn(n): {"ansible_host": NODE_IPS[n], "iomesh_node_name": n, **extra.get(n, {})} for n in nodes}

    west = {n: {"iomesh_data_ip": f"10.77.0.{n[-2:].lstrip('0')}"} for n in NODES[8:11]}
    host_vars = {fqdn(n): {"iomesh_disks": _hybrid(f"CORE{n[-2:]}")} for n in NODES[:5]}
    host_vars.update({fqdn(n): {"iomesh_disks": [{"path": "/dev/sdb", "mount_type": "cacheWithJournal"},
                                                 {"path": "/dev/sdc", "mount_type": "dataStore"},
                                                 {"path": "/dev/sdd", "mount_type": "dataStore"}]}
                      for n in NODES[5:8]})
    host_vars.update({fqdn(n): {"iomesh_disks": [{"by_id": f"wwn-0x5000c500a1b2c3{n[-2:]}",
                                                  "mount_type": "dataStoreWithJournal"}]} for n in NODES[8:11]})
    return Inventory(
        groups={"core_nodes": hosts(NODES[:5]), "east_nodes": hosts(NODES[5:8]), "west_nodes": hosts(NODES[8:11], **west)},
        all_vars={
            "iomesh_edition": "enterprise",
            "iomesh_chart_version": "v1.2.0",
            "iomesh_chart_name": "IOMesh",
            "iomesh_k8s_cluster_id": "dc2-prod",
            "iomesh_clusters": [
                {"name": "core", "namespace": "core-storage", "management": True, "hosts_group": "core_nodes",
                 "data_cidr": f"{DATA_NET}.0/25", "meta_replicas": 5, "zookeeper_replicas": 5,
                 "storage_class": {"name": "core-ssd", "fstype": "xfs", "reclaim_policy": "Retain"}},
                {"name": "edge-east", "hosts_group": "east_nodes", "data_cidr": f"{DATA_NET}.0/24"},
                {"name": "edge-west", "namespace": "west-pool", "hosts_group": "west_nodes", "data_cidr": "10.77.0.0/24",
                 "disk_deployment_mode": "allFlash",
                 "storage_class": {"name": "west-flash", "thin_provision": "false",
                                   "volume_binding_mode": "WaitForFirstConsumer"}},
            ],
        },
        host_vars=host_vars, files={},
    )


BASES = {"community": community, "enterprise": enterprise}


# --- changes to a base inventory -------------------------------------------------------------------------------

DROP = object()   # a value that removes the key
Change = Callable[[Inventory], None]


def _apply(target: dict, values: dict) -> None:
    for name, value in values.items():
        if value is DROP:
            target.pop(name, None)
        else:
            target[name] = value


def key(cluster_name: str, **values) -> Change:
    """Set (or DROP) keys of one item of iomesh_clusters."""
    def change(inv: Inventory) -> None:
        _apply(inv.cluster(cluster_name), values)
    return change


def storage_class(cluster_name: str, **values) -> Change:
    def change(inv: Inventory) -> None:
        _apply(inv.cluster(cluster_name).setdefault("storage_class", {}), values)
    return change


def variables(**values) -> Change:
    """Set (or DROP) variables of group_vars/all."""
    def change(inv: Inventory) -> None:
        _apply(inv.all_vars, values)
    return change


def host(name: str, **values) -> Change:
    """Set (or DROP) a host's variables in hosts.yml."""
    def change(inv: Inventory) -> None:
        _apply(inv.host(name), values)
    return change


def host_file(name: str, **values) -> Change:
    """Set (or DROP) variables in host_vars/<name>.yml."""
    def change(inv: Inventory) -> None:
        _apply(inv.host_vars.setdefault(name, {}), values)
    return change


def disk(host_name: str, index: int, **values) -> Change:
    """Change one entry of a host's iomesh_disks, wherever the inventory declares them."""
    def change(inv: Inventory) -> None:
        declared = inv.host_vars.get(host_name, {}).get("iomesh_disks") or inv.host(host_name)["iomesh_disks"]
        _apply(declared[index], values)
    return change


def combine(*changes: Change) -> Change:
    def change(inv: Inventory) -> None:
        for one in changes:
            one(inv)
    return change


def add_host(group: str, name: str, **hostvars) -> Change:
    def change(inv: Inventory) -> None:
        inv.groups[group][name] = hostvars
    return change


def remove_host(name: str) -> Change:
    def change(inv: Inventory) -> None:
        for hosts in inv.groups.values():
            hosts.pop(name, None)
    return change


def raw_file(relative: str, text: str) -> Change:
    def change(inv: Inventory) -> None:
        inv.files[relative] = text
    return change


FAIL_ON_WARNINGS = variables(iomesh_preflight_fail_on_warnings=True)


def _clusters_keyed_by_name(inv: Inventory) -> None:
    inv.all_vars["iomesh_clusters"] = {c["name"]: {k: v for k, v in c.items() if k != "name"}
                                       for c in inv.all_vars["iomesh_clusters"]}


def _trailing_dash(inv: Inventory) -> None:
    inv.all_vars["iomesh_clusters"].append(None)   # `- ` on a line of its own after the last cluster


def _cluster_named_only(inv: Inventory) -> None:
    inv.all_vars["iomesh_clusters"][1] = "flashpool"


def _vars_in_a_group_file(inv: Inventory) -> None:
    # group_vars/storage.yml: variables of a group "storage" that does not exist, instead of group_vars/all.
    inv.files["group_vars/storage.yml"] = yaml.safe_dump(inv.all_vars, sort_keys=False)
    inv.all_vars.clear()


def _copy_pasted_cluster(inv: Inventory) -> None:
    # edge-west copied from edge-east with name and namespace changed, hosts_group forgotten.
    clusters = inv.all_vars["iomesh_clusters"]
    clusters[2] = {**clusters[1], "name": "edge-west", "namespace": "west-pool"}


def _nodes_instead_of_group(inv: Inventory) -> None:
    edge = inv.cluster("edge-east")
    edge.pop("hosts_group")
    edge["nodes"] = ["blade-06", "blade-07", "blade-08"]


def _hybrid_host_without_cache(inv: Inventory) -> None:
    only_data = [{"path": "/dev/sdc", "mount_type": "dataStore"}, {"path": "/dev/sdd", "mount_type": "dataStore"}]
    inv.host_vars[fqdn("blade-07")]["iomesh_disks"] = only_data


def _empty_flash_pool(inv: Inventory) -> None:
    inv.groups["flash_pool"] = {}   # `flash_pool: {hosts: {}}`: the group exists, with no host


def _same_by_id_in_two_clusters(inv: Inventory) -> None:
    # core's stor-02 declares, by its full link, the disk edge-west's stor-09 declares by its bare name.
    inv.host_vars[fqdn("blade-02")]["iomesh_disks"][1] = {"by_id": "/dev/disk/by-id/wwn-0x5000c500a1b2c309",
                                                          "mount_type": "dataStore"}


HOSTS_AS_A_LIST = """\
all:
  children:
    vault_ctl:
      hosts:
        - blade-01
        - blade-02
        - blade-03
    flash_pool:
      hosts:
        blade-04:
        blade-05:
        blade-06:
        blade-07:
        blade-08:
"""

TAB_INDENTED = """\
iomesh_clusters:
  - name: vault
    namespace: vault-storage
    management: true
    hosts_group: vault_ctl
\tdata_cidr: 172.20.8.0/24
"""


# --- what a refusal looks like ---------------------------------------------------------------------------------

INVENTORY_HEADER = "The IOMesh inventory has {n} problem(s); nothing was changed. Fix each of them:"
WARNINGS_HEADER = ("The IOMesh inventory has {n} problem(s) (warnings count as problems: iomesh_preflight_fail_on_warnings "
                   "is true); nothing was changed. Fix each of them:")
KUBERNETES_HEADER = "The target Kubernetes cluster has {n} problem(s); nothing was changed. Fix each of them:"
UNREACHABLE_HEADER = "The target Kubernetes API cannot be reached with kubeconfig "
ARG_SPEC_HEADER = "Validation of arguments failed:"
FIRST_HOST_PLAY = "PLAY [Select the hosts that need the iSCSI initiator]"


@dataclass(frozen=True)
class Refused:
    """How a case must be refused: a header only a refusal prints ({n}: the number of problems listed), the
    messages naming the culprit, Ansible's return code, text that must not appear, and whether the run ends with a
    PLAY RECAP (not when Ansible cannot even load the inventory's variables)."""

    header: str
    messages: tuple[str, ...]
    problems: int = 1
    rc: int = 2
    absent: tuple[str, ...] = ()
    recap: bool = True


def inventory(*messages: str, problems: int = 1, absent: tuple[str, ...] = ()) -> Refused:
    return Refused(INVENTORY_HEADER, messages, problems, absent=absent)


def warned(*messages: str, problems: int = 1, absent: tuple[str, ...] = ()) -> Refused:
    return Refused(WARNINGS_HEADER, messages, problems, absent=absent)


def kubernetes(*messages: str, problems: int = 1) -> Refused:
    return Refused(KUBERNETES_HEADER, messages, problems)


def arg_spec(*messages: str) -> Refused:
    return Refused(ARG_SPEC_HEADER, messages)


@dataclass(frozen=True)
class Case:
    """One inventory: a base with one fault, and how site.yml must refuse it."""

    base: str
    change: Change
    refused: Refused

    def write(self, workdir: Path, case_id: str, testbed: conftest.Testbed) -> Path:
        inv = BASES[self.base]()
        self.change(inv)
        return inv.write(workdir / "inventories" / case_id, testbed.kubeconfig)


def case(case_id: str, base: str, change: Change, refused: Refused, xfail: str = ""):
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(Case(base, change, refused), id=case_id, marks=marks)


def play(testbed: conftest.Testbed, inventory_dir: Path, playbook: str = "site.yml", *args: str) -> PlaybookRun:
    """ansible-playbook, as a user runs it from the checkout, with the testbed's own HOME, TMPDIR and no KUBECONFIG."""
    env = dict(testbed.env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), playbook, "-i", str(inventory_dir), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    return PlaybookRun(proc)


def assert_refused(run: PlaybookRun, refused: Refused) -> None:
    assert run.rc == refused.rc, run
    assert refused.header.format(n=refused.problems) in run.output, run
    for message in refused.messages:
        assert message in run.output, run
    for text in refused.absent:
        assert text not in run.output, run
    assert "Traceback" not in run.output, run
    assert FIRST_HOST_PLAY not in run.output, run   # the run ended in preflight: no later play, no host contacted
    if refused.recap:
        assert run.recap()["changed"] == 0 and run.recap()["failed"] == 1, run
    else:   # Ansible stopped before any play: nothing ran, so there is no recap to read
        assert "PLAY RECAP" not in run.output, run


def run_reading_case(workdir: Path, testbed: conftest.Testbed, case_id: str, one: Case, *args: str) -> None:
    """A case that reads the API: run alone, so the request log's new entries are its own; none may write."""
    since = len(testbed.requests())
    run = play(testbed, one.write(workdir, case_id, testbed), "site.yml", *args)
    writes = testbed.write_requests(since)
    assert_refused(run, one.refused)
    assert writes == [], writes


# --- the corpus ------------------------------------------------------------------------------------------------
# The messages are literals: what the collection (or Ansible, where it refuses first) must say.

# Types and unknown keys are refused by the roles' argument specs (plugins/plugin_utils/contract.py), before any task.
CLUSTER_KEYS_ALLOWED = ("Supported parameters include: chunk_replicas, data_cidr, disk_deployment_mode, hosts_group, "
                        "license_code, license_file, management, meta_replicas, name, namespace, storage_class, "
                        "zookeeper_replicas.")
WRONG_TYPES = [
    case("type-clusters-keyed-by-name", "community", _clusters_keyed_by_name,
         arg_spec("argument 'iomesh_clusters' is of type dict and we were unable to convert to list")),
    case("type-clusters-null-item", "community", _trailing_dash,
         arg_spec("Elements value for option 'iomesh_clusters' is of type NoneType and we were unable to convert to "
                  "dict")),
    case("type-clusters-item-a-name", "community", _cluster_named_only,
         arg_spec("Elements value for option 'iomesh_clusters' is of type str and we were unable to convert to dict")),
    case("type-name-a-number", "community", key("flashpool", name=2024),
         inventory("iomesh_clusters[1].name: must be a string, got a number 2024; quote it in YAML.")),
    case("type-hosts-group-a-list", "enterprise", key("edge-east", hosts_group=["east_nodes"]),
         inventory("iomesh_clusters[1] (edge-east).hosts_group: must be the name of one inventory group (a string), "
                   "got a list ['east_nodes'].")),
    case("type-storage-class-a-string", "community", key("flashpool", storage_class="flash-sc"),
         arg_spec("argument 'storage_class' is of type str found in 'iomesh_clusters'. and we were unable to convert "
                  "to dict")),
    case("type-management-not-a-boolean", "community", key("vault", management="primary"),
         arg_spec("argument 'management' is of type str found in 'iomesh_clusters'. and we were unable to convert to "
                  "bool: The value 'primary' is not a valid boolean.")),
    case("type-replicas-a-quoted-number", "enterprise", key("core", zookeeper_replicas="5"),
         inventory("iomesh_clusters[0] (core).zookeeper_replicas: '5' is not a whole number.")),
    case("type-disks-a-mapping", "community",
         host("blade-02", iomesh_disks={"serial": "VLT02SSD", "mount_type": "cacheWithJournal"}),
         inventory("host blade-02.iomesh_disks: must be a list of disks, got {'serial': 'VLT02SSD'")),
    case("type-flag-not-a-boolean", "community", variables(iomesh_allow_single_cluster_conversion="only-vault"),
         arg_spec("argument 'iomesh_allow_single_cluster_conversion' is of type str and we were unable to convert to "
                  "bool: The value 'only-vault' is not a valid boolean.")),
    # Ansible stops while loading group_vars (rc 4, before any task): its message names the TAB, but not the file.
    case("yaml-tab-indentation", "community", raw_file("group_vars/all/iomesh.yml", TAB_INDENTED),
         Refused("YAML parsing failed: Tabs are usually invalid in YAML.", (), rc=4, recap=False)),
    # The yaml inventory plugin gives up on hosts.yml (a warning) after creating the group vault_ctl only.
    case("yaml-hosts-as-a-list", "community", raw_file("hosts.yml", HOSTS_AS_A_LIST),
         inventory("Invalid \"hosts\" entry for \"vault_ctl\" group, requires a dictionary",
                   "iomesh_clusters[0] (vault).hosts_group: group 'vault_ctl' has no hosts",
                   "iomesh_clusters[1] (flashpool).hosts_group: group 'flash_pool' is not in the inventory",
                   problems=2)),
]

MISSING_KEYS = [
    case("missing-clusters-in-a-group-file", "community", _vars_in_a_group_file,
         arg_spec("missing required arguments: iomesh_clusters")),
    case("missing-name", "community", key("flashpool", name=DROP),
         inventory("iomesh_clusters[1]: name is missing; give every cluster a name")),
    case("missing-hosts-group-nodes-listed-instead", "enterprise", _nodes_instead_of_group,
         arg_spec(f"iomesh_clusters.nodes. {CLUSTER_KEYS_ALLOWED}")),
    case("missing-data-cidr", "community", key("vault", data_cidr=DROP),
         inventory("iomesh_clusters[0] (vault).data_cidr: is missing; set the IPv4 storage network in CIDR form")),
    case("missing-management", "enterprise", key("core", management=DROP),
         inventory("iomesh_clusters: exactly one cluster must have management: true (it is installed first, with "
                   "Helm, and carries the shared operator, CSI driver and disk manager); found 0: none.")),
    case("two-management-clusters", "community", key("flashpool", management=True),
         inventory("exactly one cluster must have management: true", "found 2: vault, flashpool.")),
]

DNS_RULE = "is not a valid IOMesh cluster name: it must be a DNS-1035 label"
NAMES = [
    case("name-uppercase-underscore", "community", key("flashpool", name="Flash_Pool"),
         inventory(f"iomesh_clusters[1] (Flash_Pool).name: 'Flash_Pool' {DNS_RULE}")),
    case("name-41-characters", "enterprise", key("edge-west", name="edge-west-rack-b-hall-4-building-2-dc2xyz"),
         inventory("(edge-west-rack-b-hall-4-building-2-dc2xyz).name: 'edge-west-rack-b-hall-4-building-2-dc2xyz' "
                   f"{DNS_RULE}", "of at most 40 characters")),
    case("name-management-24-characters", "community", key("vault", name="vault-management-cluster"),
         inventory("iomesh_clusters[0] (vault-management-cluster).name: 'vault-management-cluster' (24 characters) is "
                   "too long for the management cluster", "Use at most 23 characters (docs/pitfalls.md P23)")),
    case("namespace-kube-prefix", "enterprise", key("edge-east", namespace="kube-storage"),
         inventory("iomesh_clusters[1] (edge-east).namespace: 'kube-storage' is reserved for Kubernetes (kube-*)")),
    case("namespace-uppercase-dot", "community", key("flashpool", namespace="Flash.Pool"),
         inventory("iomesh_clusters[1] (flashpool).namespace: 'Flash.Pool' is not a valid namespace (DNS-1123 label")),
    case("node-name-with-a-space", "enterprise", host(fqdn("blade-07"), iomesh_node_name="blade 07"),
         inventory("host stor-07.dc2.example.iomesh_node_name: 'blade 07' is not a valid label value")),
]

DUPLICATES = [
    case("duplicate-cluster-name", "community", key("flashpool", name="vault"),
         inventory("iomesh_clusters: name 'vault' is used by more than one cluster (iomesh_clusters[0] (vault) and "
                   "iomesh_clusters[1] (vault))")),
    # Both namespaces are defaults: the management cluster's iomesh-system, and the other's, its own name.
    case("duplicate-namespace-by-default", "community",
         combine(key("vault", namespace=DROP), key("flashpool", namespace=DROP), key("flashpool", name="iomesh-system")),
         inventory("namespace 'iomesh-system' is used by more than one cluster (iomesh_clusters[0] (vault) and "
                   "iomesh_clusters[1] (iomesh-system))")),
    # vault's StorageClass defaults to its name.
    case("duplicate-storage-class-by-default", "community", storage_class("flashpool", name="vault"),
         inventory("iomesh_clusters[1] (flashpool).storage_class.name: 'vault' is already the StorageClass of "
                   "iomesh_clusters[0] (vault)")),
    case("duplicate-node-name", "enterprise", host(fqdn("blade-08"), iomesh_node_name="blade-07"),
         inventory("host stor-08.dc2.example: iomesh_node_name 'blade-07' is also the node name of host "
                   "stor-07.dc2.example (edge-east)")),
    case("duplicate-disk-serial", "community", disk("blade-02", 1, serial="VLT01HDD"),
         inventory("host blade-02: iomesh_disks serial 'VLT01HDD' is also declared by host blade-01")),
    case("duplicate-disk-by-id-across-clusters", "enterprise", _same_by_id_in_two_clusters,
         inventory("host stor-09.dc2.example: iomesh_disks by_id '/dev/disk/by-id/wwn-0x5000c500a1b2c309' is also "
                   "declared by host stor-02.dc2.example")),
]

HOSTS = [
    case("host-in-two-clusters", "community", add_host("vault_ctl", "blade-07"),
         inventory("host blade-07: in two IOMesh clusters, vault and flashpool; a node can serve only one IOMesh "
                   "cluster.")),
    case("hosts-group-copy-pasted", "enterprise", _copy_pasted_cluster,
         inventory("hosts stor-06.dc2.example, stor-07.dc2.example, stor-08.dc2.example: in two IOMesh clusters, "
                   "edge-east and edge-west")),
    case("hosts-group-misspelt", "community", key("flashpool", hosts_group="flash_pools"),
         inventory("iomesh_clusters[1] (flashpool).hosts_group: group 'flash_pools' is not in the inventory")),
    case("hosts-group-empty", "community", _empty_flash_pool,
         inventory("iomesh_clusters[1] (flashpool).hosts_group: group 'flash_pool' has no hosts")),
    case("hosts-group-two-nodes", "community", remove_host("blade-03"),
         inventory("iomesh_clusters[0] (vault).hosts_group: has 2 node(s); an IOMesh cluster needs at least 3")),
]

COMMUNITY_LIMIT = "the community edition is limited to 3 nodes per cluster"
REPLICAS = [
    case("meta-replicas-4", "community", key("flashpool", meta_replicas=4),
         inventory("iomesh_clusters[1] (flashpool).meta_replicas: is 4; IOMesh meta runs 3 or 5 replicas.")),
    case("meta-replicas-5-on-3-nodes", "enterprise", key("edge-east", meta_replicas=5),
         inventory("iomesh_clusters[1] (edge-east).meta_replicas: is 5 but the cluster has 3 nodes")),
    case("chunk-replicas-2", "community", key("vault", chunk_replicas=2),
         inventory("iomesh_clusters[0] (vault).chunk_replicas: is 2; IOMesh needs at least 3 chunk pods.")),
    case("zookeeper-replicas-even", "enterprise", key("core", zookeeper_replicas=4),
         inventory("iomesh_clusters[0] (core).zookeeper_replicas: is 4; ZooKeeper needs an odd ensemble of at least 3.")),
    case("community-chunk-replicas-5", "community", key("flashpool", chunk_replicas=5),
         inventory(f"iomesh_clusters[1] (flashpool).chunk_replicas: is 5; {COMMUNITY_LIMIT}")),
    case("community-disks-on-4-nodes", "community",
         host("blade-07", iomesh_disks=[{"by_id": "nvme-FLASH-07", "mount_type": "dataStoreWithJournal"}]),
         inventory("iomesh_clusters[1] (flashpool): iomesh_disks are declared on 4 nodes (blade-04, blade-05, blade-06, "
                   "blade-07) but the cluster runs 3 chunk pods", "the community edition runs at most 3 chunk pods")),
    case("enterprise-chunk-replicas-below-disk-nodes", "enterprise", key("core", chunk_replicas=3),
         inventory("iomesh_clusters[0] (core): iomesh_disks are declared on 5 nodes", "set chunk_replicas: 5 (the "
                   "enterprise edition allows up to 255, within the licence)")),
]

NETWORK = [
    case("cidr-prefix-33", "community", key("flashpool", data_cidr="172.20.8.0/33"),
         inventory("iomesh_clusters[1] (flashpool).data_cidr: '172.20.8.0/33' is not a valid IPv4 CIDR")),
    case("cidr-ipv6", "enterprise", key("edge-west", data_cidr="fd00:77::/64"),
         inventory("iomesh_clusters[2] (edge-west).data_cidr: 'fd00:77::/64' is IPv6; IOMesh's data network must be "
                   "IPv4.")),
    # Refused, and the fix it suggests is a network (not the one-address /32 it once suggested).
    case("cidr-without-prefix", "community", key("vault", data_cidr="172.20.8.0"),
         inventory("iomesh_clusters[0] (vault).data_cidr: '172.20.8.0' has no prefix length; write the storage "
                   "network with its prefix length, e.g. 172.20.8.0/24 for a 255.255.255.0 network.",
                   absent=("172.20.8.0/32",))),
    case("data-ip-outside-cidr", "enterprise", host(fqdn("blade-10"), iomesh_data_ip="10.78.0.10"),
         inventory("host stor-10.dc2.example.iomesh_data_ip: 10.78.0.10 is outside iomesh_clusters[2] (edge-west)."
                   "data_cidr 10.77.0.0/24")),
    case("data-ip-an-interface-name", "enterprise", host(fqdn("blade-11"), iomesh_data_ip="ens1f0"),
         inventory("host stor-11.dc2.example.iomesh_data_ip: 'ens1f0' is not an IPv4 address.")),
]

HYBRID_NEEDS = "hybridFlash needs at least one cacheWithJournal (SSD) and one dataStore (HDD) disk on every node"
DISKS = [
    case("disk-two-identifiers", "community", disk("blade-05", 0, path="/dev/nvme0n1"),
         inventory("host blade-05.iomesh_disks[0]: name the disk by exactly one of serial, by_id or path",
                   "got by_id, path.")),
    case("disk-mount-type-unknown", "community", disk("blade-01", 0, mount_type="cache"),
         inventory("host blade-01.iomesh_disks[0]: mount_type 'cache' is not an IOMesh mount type",
                   f"host blade-01.iomesh_disks: {HYBRID_NEEDS}", problems=2)),
    case("disk-journal-in-hybrid-flash", "enterprise", disk(fqdn("blade-03"), 1, mount_type="dataStoreWithJournal"),
         inventory("host stor-03.dc2.example.iomesh_disks[1]: mount_type dataStoreWithJournal is rejected in "
                   "hybridFlash mode (iomesh_clusters[0] (core))", problems=2)),
    case("disk-hybrid-node-without-cache", "enterprise", _hybrid_host_without_cache,
         inventory(f"host stor-07.dc2.example.iomesh_disks: {HYBRID_NEEDS} that declares disks; this host has "
                   "dataStore.")),
    case("disk-device-mapper-path", "enterprise", disk(fqdn("blade-08"), 2, path="/dev/dm-3"),
         inventory("host stor-08.dc2.example.iomesh_disks[2]: path '/dev/dm-3' is a device node-disk-manager never "
                   "reports")),
    case("disk-entry-a-device-name", "community", host("blade-05", iomesh_disks=["/dev/nvme0n1"]),
         inventory("host blade-05.iomesh_disks[0]: must be a dictionary with one of serial, by_id, path and a "
                   "mount_type; got '/dev/nvme0n1'.")),
    case("disk-deployment-mode-lowercase", "community", key("flashpool", disk_deployment_mode="allflash"),
         inventory("iomesh_clusters[1] (flashpool).disk_deployment_mode: 'allflash' is not a disk deployment mode")),
]

STORAGE_CLASSES = [
    case("storage-class-hostpath", "enterprise", storage_class("edge-east", name="hostpath"),
         inventory("iomesh_clusters[1] (edge-east).storage_class.name: 'hostpath' is a StorageClass the IOMesh chart "
                   "creates itself")),
    case("storage-class-reclaim-recycle", "community", storage_class("flashpool", reclaim_policy="Recycle"),
         inventory("iomesh_clusters[1] (flashpool).storage_class.reclaim_policy: 'Recycle' is not a reclaim policy; "
                   "use Delete or Retain.")),
    case("storage-class-camel-case-key", "enterprise", storage_class("core", reclaimPolicy="Retain"),
         arg_spec("iomesh_clusters.storage_class.reclaimPolicy. Supported parameters include: allow_volume_expansion, "
                  "fstype, name, reclaim_policy,")),
    case("storage-class-fstype-btrfs", "enterprise", storage_class("edge-west", fstype="btrfs"),
         inventory("iomesh_clusters[2] (edge-west).storage_class.fstype: 'btrfs' is not supported; use one of ext2, "
                   "ext3, ext4, xfs.")),
    case("storage-class-replica-factor-4", "community", storage_class("flashpool", replica_factor=4),
         inventory("iomesh_clusters[1] (flashpool).storage_class.replica_factor: '4' is not supported; use \"2\" or "
                   "\"3\"")),
    case("cluster-unknown-key", "community", key("vault", zookeeper_replica=3),
         arg_spec(f"iomesh_clusters.zookeeper_replica. {CLUSTER_KEYS_ALLOWED}")),
]

NO_SPACES = "must be a string without spaces, got"
COLLECTION_VARIABLES = [
    case("chart-version-without-v", "community", variables(iomesh_chart_version="1.0.1"),
         inventory("iomesh_chart_version: '1.0.1' is not a chart version; IOMesh chart versions carry a leading 'v'")),
    case("chart-version-unknown", "enterprise", variables(iomesh_chart_version="v1.3.0"),
         inventory("iomesh_chart_version: chart v1.3.0 is not in the built-in version table", "set iomesh_app_version")),
    case("app-version-with-a-space", "community", variables(iomesh_app_version="v5.3.0 rc13"),
         inventory(f"iomesh_app_version: 'v5.3.0 rc13' {NO_SPACES} a string.")),
    case("chart-repo-url-without-scheme", "enterprise", variables(iomesh_chart_repo_url="iomesh.com/charts"),
         inventory("iomesh_chart_repo_url: 'iomesh.com/charts' is not a Helm repository URL")),
    case("chart-ref-a-mapping", "community", variables(iomesh_chart_ref={"path": "/srv/charts/iomesh-v1.0.1.tgz"}),
         inventory(f"iomesh_chart_ref: {{'path': '/srv/charts/iomesh-v1.0.1.tgz'}} {NO_SPACES} a dictionary.")),
    case("zookeeper-image-tag-a-number", "community", variables(iomesh_zookeeper_image_tag=3.6),
         inventory(f"iomesh_zookeeper_image_tag: 3.6 {NO_SPACES} a number.")),
    case("image-registry-with-a-scheme", "enterprise", variables(iomesh_image_registry="https://harbor.dc2.lan/iomesh/"),
         inventory("iomesh_image_registry: 'https://harbor.dc2.lan/iomesh/' is not a registry host[:port][/path]: "
                   "no scheme (https://), no trailing slash, no tag; use 'harbor.dc2.lan/iomesh'.")),
    case("image-pull-secret-not-a-name", "community", variables(iomesh_image_pull_secrets=["Harbor_Pull"]),
         inventory("iomesh_image_pull_secrets: 'Harbor_Pull' is not a Secret name (a DNS-1123 subdomain")),
    case("edition-capitalised", "community", variables(iomesh_edition="Enterprise"),
         inventory("iomesh_edition: 'Enterprise' is not an IOMesh edition; use 'community' or 'enterprise'.")),
    case("node-label-key-with-a-space", "enterprise", variables(iomesh_node_label_key="kubernetes.io/host name"),
         inventory("iomesh_node_label_key: 'kubernetes.io/host name' is not a Kubernetes label key")),
    case("kubeconfig-a-list", "community", variables(iomesh_kubeconfig=["/etc/kubernetes/admin.conf"]),
         inventory("iomesh_kubeconfig: must be a string (a path or a name), got a list ['/etc/kubernetes/admin.conf'].")),
    case("k8s-cluster-id-with-a-space", "enterprise", variables(iomesh_k8s_cluster_id="dc2 prod"),
         inventory("iomesh_k8s_cluster_id: 'dc2 prod' must be a non-empty string without spaces")),
]

# A misspelt variable is a warning: the run goes on without it. iomesh_preflight_fail_on_warnings: true refuses.
NOT_OURS = "is not a variable of iomesh.multicluster and is ignored"
WARNINGS = [
    case("warning-misspelt-collection-variable", "community",
         combine(FAIL_ON_WARNINGS, variables(iomesh_editon="enterprise")),
         warned(f"iomesh_editon: {NOT_OURS}; did you mean iomesh_edition?")),
    case("warning-misspelt-role-variable", "enterprise",
         combine(FAIL_ON_WARNINGS, variables(iomesh_mgmt_wait_timout=1800)),
         warned(f"iomesh_mgmt_wait_timout: {NOT_OURS}; did you mean iomesh_mgmt_wait_timeout?")),
    case("warning-misspelt-host-variable", "community",
         combine(FAIL_ON_WARNINGS, host("blade-07", iomesh_disk=[{"by_id": "nvme-FLASH-07",
                                                                  "mount_type": "dataStoreWithJournal"}])),
         warned(f"host blade-07: iomesh_disk {NOT_OURS}; did you mean iomesh_disks?")),
    case("warning-misspelt-host-vars-file-variable", "enterprise",
         combine(FAIL_ON_WARNINGS, host_file(fqdn("blade-09"), iomesh_nodename="blade-09")),
         warned(f"host stor-09.dc2.example: iomesh_nodename {NOT_OURS}; did you mean iomesh_node_name?")),
    # A cluster key set as a group variable: ignored and reported once for the group's hosts, pointing at the key.
    case("warning-cluster-key-as-group-variable", "community",
         combine(FAIL_ON_WARNINGS, raw_file("group_vars/flash_pool.yml", "iomesh_disk_deployment_mode: allFlash\n")),
         warned(f"hosts blade-04, blade-05, blade-06, blade-07, blade-08: iomesh_disk_deployment_mode {NOT_OURS}; "
                "disk_deployment_mode is a key of an item of iomesh_clusters: set it there, in the cluster it belongs "
                "to.", problems=1, absent=("did you mean iomesh_disks_wait_delay?",))),
    case("warning-ssh-address-outside-cidr", "enterprise",
         combine(FAIL_ON_WARNINGS, host(fqdn("blade-10"), iomesh_data_ip=DROP)),
         warned("host stor-10.dc2.example: ansible_host 172.20.8.20 is outside iomesh_clusters[2] (edge-west).data_cidr "
                "10.77.0.0/24: taken for its SSH address; set iomesh_data_ip")),
]

# Refused by the inventory stage, before preflight reads the API: they send no request at all.
INVENTORY_CASES = (WRONG_TYPES + MISSING_KEYS + NAMES + DUPLICATES + HOSTS + REPLICAS + NETWORK + DISKS + STORAGE_CLASSES
                   + COLLECTION_VARIABLES + WARNINGS)

# Refused by the Kubernetes stage, which reads the API; they need no particular cluster state (the shared testbed).
KUBERNETES = [
    case("k8s-host-not-a-node", "enterprise", host(fqdn("blade-07"), iomesh_node_name="blade-7"),
         kubernetes("cluster edge-east: no Kubernetes node has label kubernetes.io/hostname equal to blade-7; check the "
                    "host names, iomesh_node_name or iomesh_node_label_key")),
    case("k8s-kubeconfig-missing", "community", variables(iomesh_kubeconfig="/etc/kubernetes/dc2-admin.conf"),
         Refused(UNREACHABLE_HEADER + "/etc/kubernetes/dc2-admin.conf; nothing was changed.",
                 ("`kubectl --kubeconfig /etc/kubernetes/dc2-admin.conf version` works",))),
    case("k8s-kube-context-unknown", "enterprise", variables(iomesh_kube_context="dc2-admin@dc2"),
         Refused(UNREACHABLE_HEADER, (", context dc2-admin@dc2; nothing was changed.",
                                      " --context dc2-admin@dc2 version` works"))),
    case("k8s-helm-binary-missing", "community", variables(iomesh_helm_binary="/opt/helm/bin/helm3"),
         kubernetes("could not read Helm release vault in namespace vault-storage with /opt/helm/bin/helm3 (set "
                    "iomesh_helm_binary to a Helm 3 or 4 executable)")),
    case("k8s-node-not-ready-and-node-cordoned", "community",
         combine(add_host("flash_pool", SPARE_NOT_READY, ansible_host=f"{DATA_NET}.31"),
                 add_host("vault_ctl", SPARE_CORDONED, ansible_host=f"{DATA_NET}.32")),
         kubernetes("cluster vault: node(s) spare-02 are cordoned (unschedulable); uncordon them first.",
                    "cluster flashpool: node(s) spare-01 are not Ready; IOMesh pods cannot start there.", problems=2)),
]


# --- the tests -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("base", sorted(BASES))
def test_base_inventory_passes_preflight(workdir, shared_testbed, base):
    """Each base is valid and has no warning, so each case is refused for its own fault. (The Kubernetes side of each
    base is clean too: the Kubernetes cases count exactly their own problems.)"""
    directory = BASES[base]().write(workdir / "inventories" / f"base-{base}", shared_testbed.kubeconfig)
    run = play(shared_testbed, directory, "playbooks/preflight.yml", "-e", "iomesh_preflight_kubernetes=false",
               "-e", "iomesh_preflight_fail_on_warnings=true")
    assert run.rc == 0, run
    assert run.recap()["changed"] == 0 and run.recap()["failed"] == 0, run
    assert "is not a variable" not in run.output and "problem(s)" not in run.output, run


@pytest.fixture(scope="module")
def inventory_runs(request, workdir, shared_testbed):
    """site.yml on every selected inventory case, two at a time: they send no API request, so the request log,
    empty over the whole batch, proves it of each. Returns ({case id: run}, the requests logged meanwhile)."""
    selected = {item.callspec.id for item in request.session.items
                if getattr(item, "module", None) is request.module
                and getattr(item, "originalname", "") == "test_inventory_fault_is_refused"}
    cases = [(param.id, param.values[0]) for param in INVENTORY_CASES if param.id in selected]
    since = len(shared_testbed.requests())

    def run_one(entry: tuple[str, Case]) -> tuple[str, PlaybookRun]:
        case_id, one = entry
        return case_id, play(shared_testbed, one.write(workdir, case_id, shared_testbed))

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(pool.map(run_one, cases))
    return runs, shared_testbed.requests()[since:]


@pytest.mark.parametrize("one", INVENTORY_CASES)
def test_inventory_fault_is_refused(inventory_runs, request, one):
    runs, requests = inventory_runs
    assert_refused(runs[request.node.callspec.id], one.refused)
    assert requests == [], requests


@pytest.mark.parametrize("one", KUBERNETES)
def test_kubernetes_fault_is_refused(workdir, shared_testbed, request, one):
    run_reading_case(workdir, shared_testbed, request.node.callspec.id, one)


def test_existing_single_cluster_release_is_refused(workdir, start_testbed):
    """IOMesh installed by hand as one cluster (`helm install legacy`, no node affinity), then an inventory that makes
    it the management cluster. On a testbed of its own, stopped when the test ends (the twin keeps working once a
    release is installed)."""
    testbed = start_testbed(nodes=SHARED_NODES[:8])
    install = testbed.helm("install", LEGACY_RELEASE, str(CHART), "-n", LEGACY_NAMESPACE, "--create-namespace",
                           "--set", f"iomesh.chunk.dataCIDR={DATA_NET}.0/24")
    assert install.returncode == 0, install.stdout + install.stderr
    converted = Case("community", key("vault", name=LEGACY_RELEASE, namespace=LEGACY_NAMESPACE),
                     kubernetes("Helm release legacy in namespace legacy-store is an IOMesh installation without node "
                                "affinity (a single-cluster install)", "set iomesh_allow_single_cluster_conversion: true"))
    run_reading_case(workdir, testbed, "k8s-existing-single-cluster-release", converted)


def test_missing_local_chart_is_refused(workdir, start_testbed):
    """A chart path that does not exist on the controller (iomesh_chart_ref), with the Kubernetes side only, as the
    README runs it when someone else prepares the hosts (with reachable hosts the same follows the prereq play). On
    a testbed of its own, since the management stage writes."""
    testbed = start_testbed(nodes=SHARED_NODES[:8])
    missing = Case("community", variables(iomesh_chart_ref="/srv/charts/iomesh-v1.0.1.tgz"),
                   Refused("iomesh_chart_ref", ("/srv/charts/iomesh-v1.0.1.tgz",)))
    run_reading_case(workdir, testbed, "chart-ref-missing", missing, "--skip-tags", "iomesh_prereq")
