"""hostcheck: decisions of the iomesh_prereq role: host selection, data CIDRs, OS plan, host checks, iSCSI capabilities.

The OS tests use the role's own table (roles/iomesh_prereq/vars/main.yml), so they cover the data the role runs
with - including the RedHat branch, which cannot be run on this machine (no RPM repository is reachable).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_prereq as f
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import hostcheck

from ..conftest import GB, facts

ROOT = Path(__file__).resolve().parents[4]


ROLE_VARS = yaml.safe_load((ROOT / "roles/iomesh_prereq/vars/main.yml").read_text())


OS_TABLE = ROLE_VARS["__iomesh_prereq_os_table"]


THRESHOLDS = {"min_cpus": 8, "min_memory_mb": 16384, "min_opt_free_gb": 100, "opt_path": "/opt"}


CLUSTERS = [
    {"name": "iomesh", "management": True, "hosts_group": "iomesh_nodes", "data_cidr": "10.234.1.0/24"},
    {"name": "iomesh-cluster-1", "hosts_group": "iomesh_cluster_1_nodes", "data_cidr": "10.234.2.7/24"},
]


GROUPS = {
    "all": [f"k8s-woker-{i}" for i in range(7)],
    "ungrouped": [],
    "iomesh_nodes": ["k8s-woker-2", "k8s-woker-0", "k8s-woker-1"],
    "iomesh_cluster_1_nodes": ["k8s-woker-3", "k8s-woker-4", "k8s-woker-5"],
    "consumers": ["k8s-woker-6", "k8s-woker-0"],
}


# --- host selection -------------------------------------------------------------------------------------------------

def test_hosts_union_sorted_and_deduplicated():
    assert f.iomesh_prereq_hosts(CLUSTERS, GROUPS) == [f"k8s-woker-{i}" for i in range(6)]
    assert f.iomesh_prereq_hosts(CLUSTERS, GROUPS, "consumers") == [f"k8s-woker-{i}" for i in range(7)]


def test_hosts_without_clusters_is_only_the_extra_group():
    assert f.iomesh_prereq_hosts(None, GROUPS, "consumers") == ["k8s-woker-0", "k8s-woker-6"]
    assert f.iomesh_prereq_hosts([], GROUPS) == []


@pytest.mark.parametrize("clusters, extra, message", [
    ([{"name": "x", "hosts_group": "nope", "data_cidr": "10.0.0.0/8"}], "", "iomesh_clusters[0].hosts_group: group 'nope' is not in the inventory"),
    ([{"name": "x"}], "", "iomesh_clusters[0] (x) has no hosts_group"),
    ("iomesh", "", "iomesh_clusters must be a list of clusters"),
    ([["not", "a", "dict"]], "", "iomesh_clusters[0] must be a dictionary"),
    (CLUSTERS, "cosumers", "iomesh_prereq_extra_group: group 'cosumers' is not in the inventory"),
])
def test_hosts_errors_name_the_variable(clusters, extra, message):
    with pytest.raises(AnsibleFilterError, match="^iomesh_prereq_hosts: ") as err:
        f.iomesh_prereq_hosts(clusters, GROUPS, extra)
    assert message in str(err.value)


# --- data CIDRs -----------------------------------------------------------------------------------------------------

def test_data_cidr_of_a_node_normalises_host_bits():
    assert f.iomesh_prereq_data_cidrs(CLUSTERS, GROUPS, "k8s-woker-4") == [
        {"cluster": "iomesh-cluster-1", "data_cidr": "10.234.2.0/24"}]
    assert f.iomesh_prereq_data_cidrs(CLUSTERS, GROUPS, "k8s-woker-1") == [
        {"cluster": "iomesh", "data_cidr": "10.234.1.0/24"}]


def test_consumer_only_host_has_no_data_cidr():
    assert f.iomesh_prereq_data_cidrs(CLUSTERS, GROUPS, "k8s-woker-6") == []


def test_host_in_two_clusters_must_be_in_both_cidrs():
    groups = dict(GROUPS, iomesh_cluster_1_nodes=["k8s-woker-0", "k8s-woker-4", "k8s-woker-5"])
    assert [c["cluster"] for c in f.iomesh_prereq_data_cidrs(CLUSTERS, groups, "k8s-woker-0")] == [
        "iomesh", "iomesh-cluster-1"]


# The inventory's reader judges data_cidr on the host side too: the words are preflight's.
@pytest.mark.parametrize(("cidr", "problem"), [
    ("10.234.1.0/33", "'10.234.1.0/33' is not a valid IPv4 CIDR"),
    ("storage-net", "'storage-net' is not a valid IPv4 CIDR"),
    ("fd00::/64", "'fd00::/64' is IPv6; IOMesh's data network must be IPv4."),
    (None, "is missing; set the IPv4 storage network in CIDR form"),
    ("10.234.1.7", "'10.234.1.7' has no prefix length; write the storage network with its prefix length, e.g. 10.234.1.0/24 for a 255.255.255.0 network."),
])
def test_data_cidr_must_be_ipv4(cidr, problem):
    clusters = [dict(CLUSTERS[0], data_cidr=cidr)]
    with pytest.raises(AnsibleFilterError) as raised:
        f.iomesh_prereq_data_cidrs(clusters, GROUPS, "k8s-woker-0")
    assert str(raised.value).startswith(f"iomesh_prereq_data_cidrs: iomesh_clusters[0].data_cidr: {problem}")


def test_data_cidr_with_host_bits_is_the_network_as_in_the_inventory_check():
    clusters = [dict(CLUSTERS[0], data_cidr="10.234.1.77/24")]
    assert f.iomesh_prereq_data_cidrs(clusters, GROUPS, "k8s-woker-0")[0]["data_cidr"] == "10.234.1.0/24"


# --- OS plan (Debian runs here; RedHat, immutable and unsupported systems are decided here only) ---------------------

def plan(host="node-1", ostree=False, manage=True, **over):
    return f.iomesh_prereq_platform(facts(**over), OS_TABLE, host, ostree, manage)


def test_debian_and_ubuntu_install_open_iscsi():
    for distribution in ("Debian", "Ubuntu"):
        result = plan(distribution=distribution)
        assert result["supported"] and not result["immutable"]
        assert (result["package"], result["service"], result["selinux_action"]) == ("open-iscsi", "iscsid", "none")
        assert result["iscsiadm"] == "/sbin/iscsiadm"
        assert result["message"] == ""


@pytest.mark.parametrize("distribution", ["RedHat", "CentOS", "Rocky", "AlmaLinux", "openEuler"])
def test_redhat_family_installs_iscsi_initiator_utils(distribution):
    result = plan(os_family="RedHat", distribution=distribution, distribution_version="9.4", pkg_mgr="dnf",
                  selinux={"status": "enabled", "mode": "permissive", "config_mode": "permissive", "type": "targeted"})
    assert result["supported"]
    assert (result["package"], result["service"]) == ("iscsi-initiator-utils", "iscsid")
    assert result["selinux_action"] == "none"


@pytest.mark.parametrize("mode, config_mode", [("enforcing", "enforcing"), ("permissive", "enforcing"),
                                               ("enforcing", "permissive")])
def test_redhat_enforcing_selinux_becomes_permissive(mode, config_mode):
    selinux = {"status": "enabled", "mode": mode, "config_mode": config_mode, "type": "mls"}
    result = plan(os_family="RedHat", distribution="RedHat", selinux=selinux)
    assert (result["selinux_action"], result["selinux_policy"]) == ("permissive", "mls")
    result = plan(os_family="RedHat", distribution="RedHat", selinux=selinux, manage=False)
    assert result["selinux_action"] == "warn"


@pytest.mark.parametrize("selinux", [{"status": "disabled"}, {"status": "Missing selinux Python library"}, False, None])
def test_selinux_without_enforcing_needs_nothing(selinux):
    assert plan(os_family="RedHat", distribution="Rocky", selinux=selinux)["selinux_action"] == "none"


def test_selinux_on_debian_is_left_alone():
    selinux = {"status": "enabled", "mode": "enforcing", "config_mode": "enforcing", "type": "default"}
    assert plan(selinux=selinux)["selinux_action"] == "none"


@pytest.mark.parametrize("over, ostree, why", [
    ({"os_family": "Flatcar", "distribution": "Flatcar"}, False, "its distribution is immutable"),
    ({"os_family": "Coreos", "distribution": "Coreos"}, False, "its distribution is immutable"),
    ({"os_family": "RedHat", "distribution": "Fedora"}, True, "/run/ostree-booted exists"),
    ({"os_family": "RedHat", "distribution": "RedHat", "pkg_mgr": "atomic_container"}, False, "/run/ostree-booted"),
])
def test_immutable_os_is_refused_with_the_prepare_csi_path(over, ostree, why):
    result = plan(host="rhcos-7", ostree=ostree, **over)
    assert not result["supported"] and result["immutable"]
    assert result["package"] == ""
    message = result["message"]
    assert message.startswith("rhcos-7: ")
    assert "is an immutable OS" in message and why in message
    assert "prepareCSI.enabled: true" in message and "iomesh.com/iscsi-installed" in message


@pytest.mark.parametrize("family, distribution", [("Suse", "SLES"), ("Archlinux", "Archlinux"), ("Alpine", "Alpine")])
def test_unsupported_family_is_refused_naming_the_host(family, distribution):
    result = plan(host="odd-1", os_family=family, distribution=distribution, distribution_version="15.5")
    assert not result["supported"] and not result["immutable"]
    assert result["message"].startswith(f"odd-1: {distribution} 15.5 (OS family {family}) is not supported")
    assert "supported OS families: Debian, RedHat" in result["message"]


# --- host checks ----------------------------------------------------------------------------------------------------

CIDR = [{"cluster": "iomesh", "data_cidr": "10.234.1.0/24"}]


def report(host="k8s-woker-0", lab=False, cidrs=None, **over):
    return f.iomesh_prereq_host_report(facts(**over), host, THRESHOLDS, CIDR if cidrs is None else cidrs, lab)


def test_good_host_passes_with_notes():
    result = report()
    assert result["errors"] == [] and result["warnings"] == []
    assert "16 CPU cores >= 8" in result["notes"]
    assert "500.0 GB free for /opt >= 100 GB" in result["notes"]
    assert "10.234.1.12 in data_cidr 10.234.1.0/24 (iomesh)" in result["notes"]


def test_each_hardware_shortfall_names_host_numbers_and_variable():
    result = report(processor_vcpus=2, memtotal_mb=1987,
                    mounts=[{"mount": "/", "size_available": 42 * GB}])
    assert result["errors"] == [
        "k8s-woker-0: 2 CPU cores, 8 required (iomesh_prereq_min_cpus)",
        "k8s-woker-0: 1987 MiB of memory, 16384 MiB required (iomesh_prereq_min_memory_mb; MemTotal may be up to 5% "
        "lower for kernel reservations, so at least 15564 MiB)",
        "k8s-woker-0: 42.0 GB free on / (holds /opt), 100 GB required (iomesh_prereq_min_opt_free_gb; IOMesh keeps "
        "its metadata and hostpath volumes in /opt/iomesh)",
    ]


@pytest.mark.parametrize("memtotal, ok", [(15564, True), (15563, False), (15890, True), (16384, True)])
def test_memory_allowance_for_kernel_reservations(memtotal, ok):
    assert (report(memtotal_mb=memtotal)["errors"] == []) is ok


def test_free_space_boundary_and_longest_mount_prefix():
    assert report(mounts=[{"mount": "/", "size_available": 100 * GB}])["errors"] == []
    assert report(mounts=[{"mount": "/", "size_available": 100 * GB - 1}])["errors"]
    # /optical is not /opt; /opt/iomesh is deeper than the path and does not hold /opt
    mounts = [{"mount": "/", "size_available": 1 * GB}, {"mount": "/optical", "size_available": 900 * GB},
              {"mount": "/opt/iomesh", "size_available": 900 * GB}]
    assert "1.0 GB free on / (holds /opt)" in report(mounts=mounts)["errors"][0]


def test_missing_facts_are_reported_not_crashed():
    result = report(processor_vcpus=None, memtotal_mb="lots", mounts=None)
    assert [e.split(":")[1].strip() for e in result["errors"]] == [
        "the number of CPUs is unknown (fact processor_vcpus missing); 8 required (iomesh_prereq_min_cpus)",
        "memory is unknown (fact memtotal_mb missing); 16384 MiB required (iomesh_prereq_min_memory_mb)",
        "free space for /opt is unknown (no mount in the facts holds it); 100 GB required (iomesh_prereq_min_opt_free_gb)",
    ]


def test_lab_mode_turns_hardware_into_warnings_but_not_the_data_cidr():
    result = report(lab=True, processor_vcpus=2, all_ipv4_addresses=["192.168.0.5", "10.234.2.12"])
    assert result["warnings"] == [
        "k8s-woker-0: 2 CPU cores, 8 required (iomesh_prereq_min_cpus) - only a warning because iomesh_prereq_lab_mode is true"]
    assert result["errors"] == [
        "k8s-woker-0: no IPv4 address inside data_cidr 10.234.1.0/24 of IOMesh cluster iomesh (addresses: "
        "192.168.0.5, 10.234.2.12); give the host an address on the storage network or fix data_cidr"]


def test_host_without_any_address():
    assert "(addresses: none)" in report(all_ipv4_addresses=[])["errors"][0]


def test_consumer_only_host_gets_no_cidr_check():
    result = report(cidrs=[], all_ipv4_addresses=["172.16.0.1"])
    assert result["errors"] == []
    assert any("not a node of any IOMesh cluster" in n for n in result["notes"])


@pytest.mark.parametrize("thresholds, message", [
    (dict(THRESHOLDS, min_cpus="8"), "threshold min_cpus must be a whole number >= 0, got '8'"),
    (dict(THRESHOLDS, min_memory_mb=-1), "threshold min_memory_mb must be a whole number >= 0"),
    (dict(THRESHOLDS, min_opt_free_gb=True), "threshold min_opt_free_gb must be a whole number"),
    (dict(THRESHOLDS, opt_path="opt"), "iomesh_prereq_opt_path must be an absolute path, got 'opt'"),
])
def test_threshold_errors(thresholds, message):
    with pytest.raises(AnsibleFilterError, match="^iomesh_prereq_host_report: ") as err:
        f.iomesh_prereq_host_report(facts(), "h", thresholds, CIDR)
    assert message in str(err.value)


# --- iSCSI capabilities ---------------------------------------------------------------------------------------------

VM = {"kernel": "6.1.0-28-amd64", "proc_modules": True, "module_loaded": False, "module_available": True,
      "cap_sys_module": True, "netlink_iscsi": False}


def caps(**over):
    return f.iomesh_prereq_iscsi_capabilities(dict(VM, **over), "h1")


def test_vm_before_modprobe_can_load_and_will_run_iscsid():
    result = caps()
    assert result["can_load_module"] and result["can_run_iscsid"] and not result["module_loaded"]
    assert result["iscsid_note"] == "h1: NETLINK_ISCSI appears once iscsi_tcp is loaded"


def test_vm_after_modprobe():
    result = caps(module_loaded=True, netlink_iscsi=True)
    assert result["can_load_module"] and result["can_run_iscsid"]
    assert result["module_note"] == "h1: iscsi_tcp is loaded"


def test_kernel_without_modules_like_this_machine():
    result = caps(proc_modules=False, module_available=False, kernel="6.18.44-fc")
    assert not result["can_load_module"] and not result["can_run_iscsid"]
    assert result["module_note"] == ("h1: kernel 6.18.44-fc has no loadable-module support (/proc/modules is absent), "
                                     "as in a container on such a kernel or a minimal VM")
    assert result["iscsid_note"].startswith("h1: no NETLINK_ISCSI without iscsi_tcp (kernel 6.18.44-fc")


def test_unprivileged_container_on_a_normal_kernel():
    result = caps(cap_sys_module=False, module_available=False)
    assert not result["can_load_module"] and not result["can_run_iscsid"]
    assert "no CAP_SYS_MODULE" in result["module_note"]


def test_privileged_container_without_module_tree():
    result = caps(module_available=False)
    assert not result["can_load_module"]
    assert "iscsi_tcp is not in /lib/modules/6.1.0-28-amd64" in result["module_note"]


def test_container_with_own_netns_and_host_loaded_module():
    result = caps(module_loaded=True, cap_sys_module=False, netlink_iscsi=False)
    assert result["can_load_module"] and not result["can_run_iscsid"]
    assert "initial network namespace" in result["iscsid_note"]


def test_builtin_module_without_module_support():
    result = caps(proc_modules=False, module_loaded=True, netlink_iscsi=True)
    assert result["can_load_module"] and result["can_run_iscsid"]


def test_capabilities_input_error():
    with pytest.raises(AnsibleFilterError, match="iomesh_prereq_iscsi_capabilities: probe must be"):
        f.iomesh_prereq_iscsi_capabilities("docker", "h1")


def test_mount_for_path_ignores_garbage():
    assert hostcheck.mount_for_path("nope", "/opt") is None
    assert hostcheck.mount_for_path([None, {"mount": 3}], "/opt") is None
    assert hostcheck.mount_for_path([{"mount": "/opt/"}], "/opt/iomesh") == {"mount": "/opt/"}


def test_measured_free_space_wins_over_the_mounts_fact():
    # A container's facts list no mount for / at all; the probe measures the filesystem itself.
    thresholds = THRESHOLDS
    result = f.iomesh_prereq_host_report(facts(mounts=[]), "c1", thresholds, CIDR, False,
                                         {"path": "/", "size_available": 80 * GB})
    assert result["errors"] == ["c1: 80.0 GB free on / (holds /opt), 100 GB required (iomesh_prereq_min_opt_free_gb; "
                                "IOMesh keeps its metadata and hostpath volumes in /opt/iomesh)"]
    result = f.iomesh_prereq_host_report(facts(mounts=[]), "c1", thresholds, CIDR, False,
                                         {"path": "/opt", "size_available": 120 * GB})
    assert result["errors"] == [] and "120.0 GB free for /opt >= 100 GB" in result["notes"]
    # a malformed measurement falls back to the mounts fact
    result = f.iomesh_prereq_host_report(facts(), "c1", thresholds, CIDR, False, {"path": "/", "size_available": "?"})
    assert result["errors"] == []


# --- refusals a user reads, word for word ---------------------------------------------------------------------------

@pytest.mark.parametrize("clusters, groups, extra, message", [
    ([{"hosts_group": ""}], GROUPS, "",
     "iomesh_clusters[0] (unnamed) has no hosts_group; name the inventory group of its nodes (playbooks/preflight.yml "
     "checks the whole inventory)"),
    ([CLUSTERS[0], {"name": "ssd-west", "hosts_group": ""}], GROUPS, "",
     "iomesh_clusters[1] (ssd-west) has no hosts_group; name the inventory group of its nodes (playbooks/preflight.yml "
     "checks the whole inventory)"),
    (CLUSTERS, ["iomesh_nodes"], "", "pass the inventory's groups (the magic variable groups)"),
    (CLUSTERS, dict(GROUPS, iomesh_cluster_1_nodes="k8s-woker-3"), "",
     "iomesh_clusters[1].hosts_group: group 'iomesh_cluster_1_nodes' must be a list of host names, got 'k8s-woker-3'"),
    (CLUSTERS, dict(GROUPS, consumers={"k8s-woker-6": {}}), "consumers",
     "iomesh_prereq_extra_group: group 'consumers' must be a list of host names, got {'k8s-woker-6': {}}"),
    (CLUSTERS, GROUPS, ["consumers"], "iomesh_prereq_extra_group must be a group name, got ['consumers']"),
])
def test_hosts_refusals_word_for_word(clusters, groups, extra, message):
    with pytest.raises(AnsibleFilterError) as err:
        f.iomesh_prereq_hosts(clusters, groups, extra)
    assert str(err.value) == f"iomesh_prereq_hosts: {message}"


@pytest.mark.parametrize("clusters, host, message", [
    (CLUSTERS, "", "host must be an inventory host name, got ''"),
    (CLUSTERS, None, "host must be an inventory host name, got None"),
    ([CLUSTERS[0], dict(CLUSTERS[1], hosts_group="storage_west")], "k8s-woker-4",
     "iomesh_clusters[1].hosts_group: group 'storage_west' is not in the inventory; add it or fix the name"),
])
def test_data_cidrs_refusals_word_for_word(clusters, host, message):
    with pytest.raises(AnsibleFilterError) as err:
        f.iomesh_prereq_data_cidrs(clusters, GROUPS, host)
    assert str(err.value) == f"iomesh_prereq_data_cidrs: {message}"


def test_data_cidr_of_an_unnamed_cluster_names_its_place():
    clusters = [CLUSTERS[0], {"hosts_group": "iomesh_cluster_1_nodes", "data_cidr": "192.168.40.0/22"}]
    assert f.iomesh_prereq_data_cidrs(clusters, GROUPS, "k8s-woker-5") == [
        {"cluster": "iomesh_clusters[1]", "data_cidr": "192.168.40.0/22"}]


# --- the whole OS plan ------------------------------------------------------------------------------------------------

def test_debian_plan_whole():
    assert plan(host="store-3", distribution="Ubuntu", distribution_version="24.04") == {
        "host": "store-3", "distribution": "Ubuntu 24.04", "family": "Debian", "supported": True, "immutable": False,
        "package": "open-iscsi", "service": "iscsid", "iscsiadm": "/sbin/iscsiadm", "selinux_action": "none",
        "selinux_policy": "", "message": ""}


def test_redhat_enforcing_plan_whole_with_default_policy():
    """An enforcing SELinux without a reported policy type is the targeted policy."""
    selinux = {"status": "enabled", "mode": "enforcing", "config_mode": "enforcing"}
    assert plan(host="rocky-2", os_family="RedHat", distribution="Rocky", distribution_version="9.4", pkg_mgr="dnf",
                selinux=selinux) == {
        "host": "rocky-2", "distribution": "Rocky 9.4", "family": "RedHat", "supported": True, "immutable": False,
        "package": "iscsi-initiator-utils", "service": "iscsid", "iscsiadm": "/sbin/iscsiadm",
        "selinux_action": "permissive", "selinux_policy": "targeted", "message": ""}


def test_iscsiadm_path_from_the_table_or_the_default():
    table = dict(OS_TABLE, iscsiadm="/usr/sbin/iscsiadm")
    assert f.iomesh_prereq_platform(facts(), table, "h")["iscsiadm"] == "/usr/sbin/iscsiadm"
    table = {k: v for k, v in OS_TABLE.items() if k != "iscsiadm"}
    assert f.iomesh_prereq_platform(facts(), table, "h")["iscsiadm"] == "/sbin/iscsiadm"


def test_table_without_immutable_list_decides_by_family():
    table = {"families": OS_TABLE["families"]}
    result = f.iomesh_prereq_platform(facts(os_family="Flatcar", distribution="Flatcar"), table, "fc-1")
    assert not result["supported"] and not result["immutable"]
    assert f.iomesh_prereq_platform(facts(), table, "deb-1")["supported"]


def test_unsupported_plan_whole_without_version():
    facts_ = {k: v for k, v in facts(os_family="Suse", distribution="SLES").items() if k != "distribution_version"}
    assert f.iomesh_prereq_platform(facts_, OS_TABLE, "sles-1", False, True) == {
        "host": "sles-1", "distribution": "SLES", "family": "Suse", "supported": False, "immutable": False,
        "package": "", "service": "", "iscsiadm": "/sbin/iscsiadm", "selinux_action": "none", "selinux_policy": "",
        "message": "sles-1: SLES (OS family Suse) is not supported by iomesh_prereq; supported OS families: Debian, "
                   "RedHat. Prepare the host by hand (install the iSCSI initiator, node.startup = manual, load "
                   "iscsi_tcp, enable iscsid) or use the chart's prepare-csi path, and remove it from the "
                   "iomesh_prereq targets (docs/architecture.md#host-prerequisites)."}


def test_host_without_os_facts_is_unknown_and_refused():
    facts_ = {k: v for k, v in facts().items() if k not in ("os_family", "distribution", "distribution_version")}
    result = f.iomesh_prereq_platform(facts_, OS_TABLE, "bare-1")
    assert (result["distribution"], result["family"], result["supported"]) == ("unknown", "unknown", False)
    assert result["message"].startswith("bare-1: unknown (OS family unknown) is not supported by iomesh_prereq;")


IMMUTABLE_HINT = (
    "Let the IOMesh chart prepare this node instead: keep prepareCSI.enabled: true in the Helm values (chart v1.0.1; "
    "csi-driver.prepareCSI.enabled from v1.1.0), whose privileged prepare-csi DaemonSet installs and configures "
    "open-iscsi on every node without the label iomesh.com/iscsi-installed, or build open-iscsi into the OS image "
    "(Ignition / MachineConfig); then remove the host from the iomesh_prereq targets.")


@pytest.mark.parametrize("over, ostree, head", [
    # an immutable distribution of a family the role otherwise supports
    ({"os_family": "RedHat", "distribution": "RHCOS", "distribution_version": "4.16"}, False,
     "ocp-w1: RHCOS 4.16 is an immutable OS (its distribution is immutable)"),
    ({"os_family": "Flatcar", "distribution": "Flatcar", "distribution_version": "3975.2.2"}, False,
     "ocp-w1: Flatcar 3975.2.2 is an immutable OS (its distribution is immutable)"),
    ({"os_family": "Talos", "distribution": "Sidero", "distribution_version": "1.8"}, False,
     "ocp-w1: Sidero 1.8 is an immutable OS (its distribution is immutable)"),
    ({"os_family": "RedHat", "distribution": "Fedora", "distribution_version": "41"}, True,
     "ocp-w1: Fedora 41 is an immutable OS (/run/ostree-booted exists)"),
])
def test_immutable_plan_message_whole(over, ostree, head):
    result = plan(host="ocp-w1", ostree=ostree, **over)
    assert (result["supported"], result["immutable"], result["package"], result["service"]) == (False, True, "", "")
    assert result["message"] == f"{head}; iomesh_prereq installs no packages there. {IMMUTABLE_HINT}"


def test_platform_plan_input_refusals():
    with pytest.raises(hostcheck.HostCheckError) as err:
        hostcheck.platform_plan(["Debian"], OS_TABLE, "h", False, True)
    assert str(err.value) == "facts must be the host's ansible_facts, got ['Debian']"
    with pytest.raises(AnsibleFilterError) as err:
        f.iomesh_prereq_platform(facts(), {"families": ["Debian"]}, "h")
    assert str(err.value) == "iomesh_prereq_platform: os_table must be the role's OS table with a families dictionary"


# --- host checks: edges ---------------------------------------------------------------------------------------------

def test_host_report_refuses_facts_that_are_not_a_dictionary():
    with pytest.raises(AnsibleFilterError) as err:
        f.iomesh_prereq_host_report("k8s-woker-0", "k8s-woker-0", THRESHOLDS, CIDR)
    assert str(err.value) == "iomesh_prereq_host_report: facts must be the host's ansible_facts, got 'k8s-woker-0'"


def test_exact_minimums_and_zero_thresholds_pass():
    thresholds = {"min_cpus": 4, "min_memory_mb": 0, "min_opt_free_gb": 0}  # opt_path defaults to /opt
    result = f.iomesh_prereq_host_report(facts(processor_vcpus=4, memtotal_mb=512, mounts=[
        {"mount": "/", "size_available": 0}]), "edge-1", thresholds, CIDR)
    assert result == {"errors": [], "warnings": [], "notes": [
        "4 CPU cores >= 4", "512 MiB memory >= 0 MiB", "0.0 GB free for /opt >= 0 GB",
        "10.234.1.12 in data_cidr 10.234.1.0/24 (iomesh)"]}


def test_notes_of_a_consumer_with_two_storage_addresses_and_unparsable_entries():
    result = report(host="edge-2", cidrs=[{"cluster": "hdd-west", "data_cidr": "10.40.0.9/16"}],
                    all_ipv4_addresses=["unknown", "10.40.3.1", "10.41.0.1", "10.40.200.7"])
    assert result == {"errors": [], "warnings": [], "notes": [
        "16 CPU cores >= 8", "64000 MiB memory >= 16384 MiB", "500.0 GB free for /opt >= 100 GB",
        "10.40.3.1, 10.40.200.7 in data_cidr 10.40.0.0/16 (hdd-west)"]}
    assert report(cidrs=[])["notes"][-1] == (
        "no data_cidr check: the host is not a node of any IOMesh cluster (it only consumes volumes)")


def test_mount_for_path_skips_garbage_before_the_right_mount():
    mounts = [{"mount": None}, "tmpfs", {"mount": "/var/lib/data", "size_available": 1}, {"mount": "/var"}]
    assert hostcheck.mount_for_path(mounts, "/var/lib/data/iomesh") == {"mount": "/var/lib/data", "size_available": 1}


# --- iSCSI capabilities: the whole answer ---------------------------------------------------------------------------

@pytest.mark.parametrize("over, module_note, iscsid_note, can_load, can_run", [
    ({}, "iscsi_tcp can be loaded", "NETLINK_ISCSI appears once iscsi_tcp is loaded", True, True),
    ({"netlink_iscsi": True}, "iscsi_tcp can be loaded", "the kernel's NETLINK_ISCSI socket is present", True, True),
    ({"cap_sys_module": False}, "no CAP_SYS_MODULE (an unprivileged container cannot load kernel modules)",
     "no NETLINK_ISCSI without iscsi_tcp (no CAP_SYS_MODULE (an unprivileged container cannot load kernel modules))",
     False, False),
    ({"module_available": False, "kernel": "5.14.0-427.el9.x86_64"},
     "iscsi_tcp is not in /lib/modules/5.14.0-427.el9.x86_64 or modprobe is missing (a container without the host's "
     "module tree, or a kernel built without iSCSI)",
     "no NETLINK_ISCSI without iscsi_tcp (iscsi_tcp is not in /lib/modules/5.14.0-427.el9.x86_64 or modprobe is "
     "missing (a container without the host's module tree, or a kernel built without iSCSI))", False, False),
    ({"module_loaded": True},
     "iscsi_tcp is loaded",
     "iscsi_tcp is loaded but the NETLINK_ISCSI kernel socket is not visible: it exists only in the initial network "
     "namespace, so this is a container with its own network namespace", True, False),
    ({"proc_modules": False, "kernel": None},
     "kernel ? has no loadable-module support (/proc/modules is absent), as in a container on such a kernel or a "
     "minimal VM",
     "no NETLINK_ISCSI without iscsi_tcp (kernel ? has no loadable-module support (/proc/modules is absent), as in a "
     "container on such a kernel or a minimal VM)", False, False),
])
def test_capabilities_whole(over, module_note, iscsid_note, can_load, can_run):
    assert f.iomesh_prereq_iscsi_capabilities(dict(VM, **over), "stor-9") == {
        "can_load_module": can_load, "module_loaded": bool(over.get("module_loaded")), "can_run_iscsid": can_run,
        "module_note": f"stor-9: {module_note}", "iscsid_note": f"stor-9: {iscsid_note}"}
