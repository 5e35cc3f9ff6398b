# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of the host-prerequisites stage (role iomesh_prereq), as pure functions.

Callers pass plain data (the cluster list, inventory groups, a host's facts, the role's OS table and a capability
probe); nothing is looked up. Every message names the host, the value seen and what is required, so a failed run
says what to fix (docs/architecture.md#host-prerequisites).
"""

from __future__ import annotations

import ipaddress
import posixpath
from collections.abc import Mapping, Sequence

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import topology

# MemTotal excludes what firmware and the kernel reserve (crashkernel, DMA zones): a host with 16 GiB installed
# reports about 15.6 GiB. The memory check accepts MemTotal up to this fraction below the minimum.
MEMORY_ALLOWANCE = 0.05
GB = 1000 ** 3

# Chart key that makes IOMesh prepare the nodes itself (v1.0.1 top level; v1.1.0+ under csi-driver).
PREPARE_CSI_HINT = (
    "let the IOMesh chart prepare this node instead: keep prepareCSI.enabled: true in the Helm values "
    "(chart v1.0.1; csi-driver.prepareCSI.enabled from v1.1.0), whose privileged prepare-csi DaemonSet installs "
    "and configures open-iscsi on every node without the label iomesh.com/iscsi-installed, or build open-iscsi into "
    "the OS image (Ignition / MachineConfig); then remove the host from the iomesh_prereq targets"
)


class HostCheckError(ValueError):
    """Bad input to a hostcheck function; the filter layer turns it into AnsibleFilterError."""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _clusters(clusters: object) -> list[Mapping]:
    if clusters is None:
        return []
    if isinstance(clusters, (str, bytes, Mapping)) or not isinstance(clusters, Sequence):
        raise HostCheckError(f"iomesh_clusters must be a list of clusters, got {clusters!r}")
    for index, item in enumerate(clusters):
        if not isinstance(item, Mapping):
            raise HostCheckError(f"iomesh_clusters[{index}] must be a dictionary, got {item!r}")
        group = item.get("hosts_group")
        if not isinstance(group, str) or not group:
            raise HostCheckError(
                f"iomesh_clusters[{index}] ({item.get('name', 'unnamed')}) has no hosts_group; name the inventory "
                "group of its nodes (playbooks/preflight.yml checks the whole inventory)"
            )
    return list(clusters)


def _group(groups: Mapping, name: str, what: str) -> list[str]:
    if not isinstance(groups, Mapping):
        raise HostCheckError("pass the inventory's groups (the magic variable groups)")
    hosts = groups.get(name)
    if hosts is not None and (isinstance(hosts, (str, bytes)) or not isinstance(hosts, Sequence)):
        raise HostCheckError(f"{what}: group {name!r} must be a list of host names, got {hosts!r}")
    found = topology.group_hosts(groups, name)
    if found is None:
        raise HostCheckError(f"{what}: group {name!r} is not in the inventory; add it or fix the name")
    return [str(h) for h in found]


def prereq_hosts(clusters: object, groups: Mapping, extra_group: str | None = None) -> list[str]:
    """Hosts that need the iSCSI initiator: every cluster's hosts_group plus an optional consumer-only group."""
    hosts: set[str] = set()
    for index, item in enumerate(_clusters(clusters)):
        hosts.update(_group(groups, item["hosts_group"], f"iomesh_clusters[{index}].hosts_group"))
    if extra_group:
        if not isinstance(extra_group, str):
            raise HostCheckError(f"iomesh_prereq_extra_group must be a group name, got {extra_group!r}")
        hosts.update(_group(groups, extra_group, "iomesh_prereq_extra_group"))
    return sorted(hosts)


def data_cidrs(clusters: object, groups: Mapping, host: str) -> list[dict]:
    """The clusters a host is a node of, each with the data CIDR the host must have an address in.

    data_cidr is read by the inventory's own reader (topology.parse_data_cidr), so a value the preflight stage
    refuses is refused here with the same words.
    """
    if not isinstance(host, str) or not host:
        raise HostCheckError(f"host must be an inventory host name, got {host!r}")
    found = []
    for index, item in enumerate(_clusters(clusters)):
        where = f"iomesh_clusters[{index}]"
        if host not in _group(groups, item["hosts_group"], f"{where}.hosts_group"):
            continue
        network, problem, _warning = topology.parse_data_cidr(item.get("data_cidr"))
        if problem:
            raise HostCheckError(f"{where}.data_cidr: {problem}")
        found.append({"cluster": str(item.get("name", where)), "data_cidr": network})
    return found


def _lower(value: object) -> str:
    return str(value or "").strip().lower()


def platform_plan(facts: Mapping, os_table: Mapping, host: str, ostree_booted: bool, manage_selinux: bool) -> dict:
    """What the role does on this host, from its facts and the role's OS table (vars/main.yml).

    os_table: {"families": {family: {package, service, selinux}}, "immutable_distributions": [...]}.
    Returns package, service, iscsiadm path, the SELinux action (permissive / none / warn) and, for hosts the role
    must not touch, supported false with the refusal message.
    """
    if not isinstance(facts, Mapping):
        raise HostCheckError(f"facts must be the host's ansible_facts, got {facts!r}")
    if not isinstance(os_table, Mapping) or not isinstance(os_table.get("families"), Mapping):
        raise HostCheckError("os_table must be the role's OS table with a families dictionary")
    distribution = str(facts.get("distribution") or "unknown")
    family = str(facts.get("os_family") or "unknown")
    version = str(facts.get("distribution_version") or "")
    described = f"{distribution} {version}".strip()
    plan = {
        "host": host,
        "distribution": described,
        "family": family,
        "supported": False,
        "immutable": False,
        "package": "",
        "service": "",
        "iscsiadm": str(os_table.get("iscsiadm", "/sbin/iscsiadm")),
        "selinux_action": "none",
        "selinux_policy": "",
        "message": "",
    }
    immutable_names = {_lower(n) for n in os_table.get("immutable_distributions", [])}
    if (_lower(distribution) in immutable_names or _lower(family) in immutable_names or ostree_booted
            or facts.get("pkg_mgr") == "atomic_container"):
        why = "/run/ostree-booted exists" if ostree_booted or facts.get("pkg_mgr") == "atomic_container" else \
            "its distribution is immutable"
        plan.update(immutable=True, message=(
            f"{host}: {described} is an immutable OS ({why}); iomesh_prereq installs no packages there. "
            f"{PREPARE_CSI_HINT[0].upper()}{PREPARE_CSI_HINT[1:]}."
        ))
        return plan
    families = os_table["families"]
    if family not in families:
        plan["message"] = (
            f"{host}: {described} (OS family {family}) is not supported by iomesh_prereq; supported OS families: "
            f"{', '.join(sorted(families))}. Prepare the host by hand (install the iSCSI initiator, "
            "node.startup = manual, load iscsi_tcp, enable iscsid) or use the chart's prepare-csi path, and remove it "
            "from the iomesh_prereq targets (docs/architecture.md#host-prerequisites)."
        )
        return plan
    entry = families[family]
    plan.update(supported=True, package=str(entry["package"]), service=str(entry["service"]))
    selinux = facts.get("selinux")
    if entry.get("selinux") and isinstance(selinux, Mapping) and _lower(selinux.get("status")) == "enabled":
        enforcing = "enforcing" in (_lower(selinux.get("mode")), _lower(selinux.get("config_mode")))
        if enforcing:
            plan["selinux_action"] = "permissive" if manage_selinux else "warn"
            plan["selinux_policy"] = str(selinux.get("type") or "targeted")
    return plan


def mount_for_path(mounts: object, path: str) -> Mapping | None:
    """The mount whose mount point is the longest prefix of path (the filesystem that holds it)."""
    if isinstance(mounts, (str, bytes)) or not isinstance(mounts, Sequence):
        return None
    path = posixpath.normpath(path)
    best = None
    for mount in mounts:
        if not isinstance(mount, Mapping) or not isinstance(mount.get("mount"), str):
            continue
        point = posixpath.normpath(mount["mount"])
        inside = point == "/" or path == point or path.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > len(posixpath.normpath(best["mount"]))):
            best = mount
    return best


def _ipv4_addresses(facts: Mapping) -> list[ipaddress.IPv4Address]:
    found = []
    for raw in facts.get("all_ipv4_addresses") or []:
        try:
            found.append(ipaddress.IPv4Address(str(raw)))
        except ValueError:
            continue
    return found


def host_report(host: str, facts: Mapping, thresholds: Mapping, cidrs: Sequence[Mapping] | None, lab_mode: bool,
                opt_space: Mapping | None) -> dict:
    """Hardware and network checks of one host.

    thresholds: min_cpus, min_memory_mb, min_opt_free_gb, opt_path. Hardware shortfalls are errors, or warnings
    in lab mode; a host without an address in its cluster's data CIDR is always an error.
    opt_space: {path, size_available} measured on the host (statvfs); preferred over the mounts fact, which leaves
    out a container's root filesystem.
    Returns {"errors": [...], "warnings": [...], "notes": [...]} (notes: what passed, for the run's output).
    """
    if not isinstance(facts, Mapping):
        raise HostCheckError(f"facts must be the host's ansible_facts, got {facts!r}")
    for key in ("min_cpus", "min_memory_mb", "min_opt_free_gb"):
        if not _is_int(thresholds.get(key)) or thresholds[key] < 0:
            raise HostCheckError(f"threshold {key} must be a whole number >= 0, got {thresholds.get(key)!r}")
    opt_path = thresholds.get("opt_path", "/opt")
    if not isinstance(opt_path, str) or not opt_path.startswith("/"):
        raise HostCheckError(f"iomesh_prereq_opt_path must be an absolute path, got {opt_path!r}")
    hardware: list[str] = []
    errors: list[str] = []
    notes: list[str] = []

    cpus = facts.get("processor_vcpus")
    if not _is_int(cpus):
        hardware.append(f"{host}: the number of CPUs is unknown (fact processor_vcpus missing); "
                        f"{thresholds['min_cpus']} required (iomesh_prereq_min_cpus)")
    elif cpus < thresholds["min_cpus"]:
        hardware.append(f"{host}: {cpus} CPU cores, {thresholds['min_cpus']} required (iomesh_prereq_min_cpus)")
    else:
        notes.append(f"{cpus} CPU cores >= {thresholds['min_cpus']}")

    memory = facts.get("memtotal_mb")
    needed = thresholds["min_memory_mb"]
    floor = int(needed * (1 - MEMORY_ALLOWANCE))
    if not _is_int(memory):
        hardware.append(f"{host}: memory is unknown (fact memtotal_mb missing); {needed} MiB required "
                        "(iomesh_prereq_min_memory_mb)")
    elif memory < floor:
        hardware.append(
            f"{host}: {memory} MiB of memory, {needed} MiB required (iomesh_prereq_min_memory_mb; MemTotal may be "
            f"up to {int(MEMORY_ALLOWANCE * 100)}% lower for kernel reservations, so at least {floor} MiB)"
        )
    else:
        notes.append(f"{memory} MiB memory >= {needed} MiB")

    if isinstance(opt_space, Mapping) and _is_int(opt_space.get("size_available")):
        mount = {"mount": str(opt_space.get("path") or opt_path), "size_available": opt_space["size_available"]}
    else:
        mount = mount_for_path(facts.get("mounts"), opt_path)
    wanted_gb = thresholds["min_opt_free_gb"]
    if mount is None or not _is_int(mount.get("size_available")):
        hardware.append(f"{host}: free space for {opt_path} is unknown (no mount in the facts holds it); "
                        f"{wanted_gb} GB required (iomesh_prereq_min_opt_free_gb)")
    else:
        free_gb = mount["size_available"] / GB
        if mount["size_available"] < wanted_gb * GB:
            hardware.append(
                f"{host}: {free_gb:.1f} GB free on {mount['mount']} (holds {opt_path}), {wanted_gb} GB required "
                "(iomesh_prereq_min_opt_free_gb; IOMesh keeps its metadata and hostpath volumes in /opt/iomesh)"
            )
        else:
            notes.append(f"{free_gb:.1f} GB free for {opt_path} >= {wanted_gb} GB")

    addresses = _ipv4_addresses(facts)
    for item in cidrs or []:
        network = ipaddress.ip_network(str(item["data_cidr"]), strict=False)
        inside = [str(a) for a in addresses if a in network]
        if not inside:
            seen = ", ".join(str(a) for a in addresses) or "none"
            errors.append(
                f"{host}: no IPv4 address inside data_cidr {network} of IOMesh cluster {item['cluster']} "
                f"(addresses: {seen}); give the host an address on the storage network or fix data_cidr"
            )
        else:
            notes.append(f"{', '.join(inside)} in data_cidr {network} ({item['cluster']})")
    if not cidrs:
        notes.append("no data_cidr check: the host is not a node of any IOMesh cluster (it only consumes volumes)")

    warnings: list[str] = []
    if lab_mode:
        warnings = [f"{m} - only a warning because iomesh_prereq_lab_mode is true" for m in hardware]
    else:
        errors = hardware + errors
    return {"errors": errors, "warnings": warnings, "notes": notes}


def iscsi_capabilities(probe: Mapping, host: str) -> dict:
    """Whether iscsi_tcp can be loaded and iscsid can run here, decided by what the kernel offers.

    probe (from the role's read-only probe script): proc_modules, module_loaded, module_available, cap_sys_module,
    netlink_iscsi, kernel. Never decided by the virtualisation type: a VM reports "docker" as easily as a container.
    """
    if not isinstance(probe, Mapping):
        raise HostCheckError(f"probe must be the result of the role's capability probe, got {probe!r}")
    kernel = probe.get("kernel") or "?"
    loaded = bool(probe.get("module_loaded"))
    if loaded:
        can_load, module_note = True, "iscsi_tcp is loaded"
    elif not probe.get("proc_modules"):
        can_load, module_note = False, (
            f"kernel {kernel} has no loadable-module support (/proc/modules is absent), as in a container on such a "
            "kernel or a minimal VM")
    elif not probe.get("cap_sys_module"):
        can_load, module_note = False, "no CAP_SYS_MODULE (an unprivileged container cannot load kernel modules)"
    elif not probe.get("module_available"):
        can_load, module_note = False, (
            f"iscsi_tcp is not in /lib/modules/{kernel} or modprobe is missing (a container without the host's "
            "module tree, or a kernel built without iSCSI)")
    else:
        can_load, module_note = True, "iscsi_tcp can be loaded"
    if probe.get("netlink_iscsi"):
        can_run, iscsid_note = True, "the kernel's NETLINK_ISCSI socket is present"
    elif can_load and not loaded:
        can_run, iscsid_note = True, "NETLINK_ISCSI appears once iscsi_tcp is loaded"
    elif loaded:
        can_run, iscsid_note = False, (
            "iscsi_tcp is loaded but the NETLINK_ISCSI kernel socket is not visible: it exists only in the initial "
            "network namespace, so this is a container with its own network namespace")
    else:
        can_run, iscsid_note = False, f"no NETLINK_ISCSI without iscsi_tcp ({module_note})"
    return {
        "can_load_module": can_load,
        "module_loaded": loaded,
        "can_run_iscsid": can_run,
        "module_note": f"{host}: {module_note}",
        "iscsid_note": f"{host}: {iscsid_note}",
    }
