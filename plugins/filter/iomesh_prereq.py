# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the host-prerequisites stage (role iomesh_prereq).

The documentation of each filter is in the YAML file of the same name beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import hostcheck
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.topology import plain


def _call(name, func, *args, **kwargs):
    try:
        return func(*(plain(a) for a in args), **{k: plain(v) for k, v in kwargs.items()})
    except hostcheck.HostCheckError as exc:
        raise AnsibleFilterError(f"{name}: {exc}") from None


def _mapping(name: str, what: str, value: object) -> Mapping:
    if not isinstance(value, Mapping):
        raise AnsibleFilterError(f"{name}: {what} must be a dictionary, got {value!r}")
    return value


def iomesh_prereq_hosts(clusters, groups, extra_group=""):
    """Sorted hosts of every cluster's hosts_group plus the optional extra group."""
    return _call("iomesh_prereq_hosts", hostcheck.prereq_hosts, clusters, groups, extra_group)


def iomesh_prereq_data_cidrs(clusters, groups, host):
    """[{cluster, data_cidr}] of the clusters whose hosts_group contains host."""
    return _call("iomesh_prereq_data_cidrs", hostcheck.data_cidrs, clusters, groups, host)


def iomesh_prereq_platform(facts, os_table, host, ostree_booted=False, manage_selinux=True):
    """Package, service, SELinux action or refusal message for one host."""
    name = "iomesh_prereq_platform"
    _mapping(name, "facts", facts)
    return _call(name, hostcheck.platform_plan, facts, os_table, host, bool(ostree_booted), bool(manage_selinux))


def iomesh_prereq_host_report(facts, host, thresholds, cidrs=None, lab_mode=False, opt_space=None):
    """Hardware and data-network checks of one host: errors, warnings, notes."""
    name = "iomesh_prereq_host_report"
    _mapping(name, "thresholds", thresholds)
    return _call(name, hostcheck.host_report, host, facts, thresholds, cidrs, bool(lab_mode), opt_space)


def iomesh_prereq_iscsi_capabilities(probe, host):
    """Whether iscsi_tcp can be loaded and iscsid can run, from the role's capability probe."""
    return _call("iomesh_prereq_iscsi_capabilities", hostcheck.iscsi_capabilities, probe, host)


class FilterModule:
    """iomesh.multicluster filters of the iomesh_prereq role."""

    def filters(self):
        return {
            "iomesh_prereq_hosts": iomesh_prereq_hosts,
            "iomesh_prereq_data_cidrs": iomesh_prereq_data_cidrs,
            "iomesh_prereq_platform": iomesh_prereq_platform,
            "iomesh_prereq_host_report": iomesh_prereq_host_report,
            "iomesh_prereq_iscsi_capabilities": iomesh_prereq_iscsi_capabilities,
        }
