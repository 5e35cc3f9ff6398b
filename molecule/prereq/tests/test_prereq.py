"""State of the six converged testbed containers (podman:// backend, ~10x faster than ansible://).

What a container cannot do is skipped by capability with the reason, never asserted away: this machine's kernel
has no loadable modules and no SCSI, so iscsi_tcp cannot load and iscsid cannot run here (molecule/prereq_vm
proves both on a real kernel).
"""

from __future__ import annotations

import os
import re

import pytest
import testinfra.utils.ansible_runner

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
HOSTS = sorted(h for h in RUNNER.get_hosts("all") if h != "localhost")
testinfra_hosts = [f"podman://{name}" for name in HOSTS]

CONF = "/etc/iscsi/iscsid.conf"
MAX_RECV_KEYS = ("discovery.sendtargets.iscsi.MaxRecvDataSegmentLength", "node.conn[0].iscsi.MaxRecvDataSegmentLength")
CAP_SYS_MODULE = 16


def active_values(host, key):
    text = host.file(CONF).content_string
    return re.findall(r"^[ \t]*" + re.escape(key) + r"[ \t]*=[ \t]*(.*?)[ \t]*$", text, re.M)


def test_package_installed(host):
    assert host.package("open-iscsi").is_installed


def test_node_startup_is_manual_on_every_active_line(host):
    assert active_values(host, "node.startup") == ["manual"]


def test_max_recv_data_segment_length(host):
    wanted = RUNNER.get_variables(host.backend.name).get("iomesh_prereq_iscsi_max_recv_data_segment_length")
    for key in MAX_RECV_KEYS:
        values = active_values(host, key)
        if wanted is None:
            assert values in ([], ["32768"], ["262144"]), (key, values)
        else:
            assert values == [str(wanted)], (key, values)


def test_modules_load_file(host):
    conf = host.file("/etc/modules-load.d/iscsi_tcp.conf")
    assert conf.is_file and conf.mode == 0o644
    assert conf.content_string == "iscsi_tcp\n"


def test_iscsid_enabled(host):
    assert host.service("iscsid").is_enabled


def test_iscsiadm_is_a_file(host):
    # The CSI node plugin mounts /sbin/iscsiadm with hostPath type File.
    assert host.file("/sbin/iscsiadm").is_file


def test_initiator_name(host):
    assert re.search(r"^InitiatorName=iqn\.\S+$", host.file("/etc/iscsi/initiatorname.iscsi").content_string, re.M)


def _module_capability(host):
    if not host.file("/proc/modules").exists:
        return "the kernel has no loadable-module support (/proc/modules absent)"
    status = host.file("/proc/self/status").content_string
    cap = int(re.search(r"^CapEff:\s*([0-9a-f]+)", status, re.M).group(1), 16)
    if not cap >> CAP_SYS_MODULE & 1:
        return "no CAP_SYS_MODULE in this container"
    if not host.file(f"/lib/modules/{host.check_output('uname -r')}").is_directory:
        return "no module tree for the running kernel in this container"
    return None


def test_iscsi_tcp_loaded(host):
    reason = _module_capability(host)
    if reason:
        pytest.skip(f"iscsi_tcp cannot be loaded here: {reason} (proven in molecule/prereq_vm)")
    assert host.file("/sys/module/iscsi_tcp").is_directory


def test_iscsid_running(host):
    netlink = host.file("/proc/net/netlink").content_string.splitlines()[1:]
    if not any(line.split()[1:3] == ["8", "0"] for line in netlink):
        pytest.skip("no NETLINK_ISCSI kernel socket in this network namespace: iscsid cannot run here "
                    "(proven in molecule/prereq_vm)")
    assert host.service("iscsid").is_running
