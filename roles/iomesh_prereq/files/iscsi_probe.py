# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only probe of what this host's kernel offers for iSCSI, printed as one JSON object.

Run by the iomesh_prereq role through ansible.builtin.script. It decides by capability, never by the
virtualisation type: /proc/modules, CAP_SYS_MODULE, the module tree, and whether the kernel's NETLINK_ISCSI
socket is visible in this network namespace (/proc/net/netlink, read only: opening such a socket could make
the kernel load a module). Also reports the iscsiadm binary and the active iscsid.conf settings for the
role's verify step, the free space of the filesystem holding the /opt path (container root filesystems are
missing from ansible_facts.mounts), and the state of the iSCSI service and of SELinux, as `systemctl is-enabled`,
`systemctl is-active` and `getenforce` tell them (one probe instead of three tasks), and whether the initiator
package is installed, as dpkg or rpm record it. Compatible with Python 3.6 (RHEL 8 platform-python).
"""
import json
import os
import re
import shutil
import subprocess
import sys

NETLINK_ISCSI = 8
CAP_SYS_MODULE = 16


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def cap_sys_module():
    status = read("/proc/self/status") or ""
    match = re.search(r"^CapEff:\s*([0-9a-fA-F]+)", status, re.M)
    return bool(match) and bool(int(match.group(1), 16) >> CAP_SYS_MODULE & 1)


def module_available(kernel, name):
    if not (shutil.which("modprobe") or os.path.exists("/sbin/modprobe")):
        return False
    pattern = re.compile(r"(^|/)" + re.escape(name) + r"\.ko(\.[a-z0-9]+)?(:|$)", re.M)
    for index in ("modules.dep", "modules.builtin"):
        text = read(os.path.join("/lib/modules", kernel, index))
        if text and pattern.search(text):
            return True
    return False


def netlink_iscsi():
    # Columns: sk Eth Pid ...; the kernel's own socket of a protocol has Pid 0.
    for line in (read("/proc/net/netlink") or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) > 2 and fields[1] == str(NETLINK_ISCSI) and fields[2] == "0":
            return True
    return False


def free_space(path):
    # The filesystem that holds path, even before path exists: statvfs of its nearest existing ancestor.
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    stat = os.statvfs(path)
    return {"path": path, "size_available": stat.f_bavail * stat.f_frsize}


def run(argv):
    """(returncode, stdout) of a command, or None when it cannot be run."""
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True)
        out = proc.communicate(timeout=30)[0]
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.returncode, out


def package_installed(name):
    """Whether the package manager's database records `name` as installed (dpkg: "install ok installed"; rpm:
    `rpm -q` succeeds), or None when neither dpkg nor rpm is there to tell."""
    if shutil.which("dpkg-query"):
        answer = run(["dpkg-query", "-W", "-f=${Status}", name])
        return answer is not None and answer[0] == 0 and answer[1].strip() == "install ok installed"
    if shutil.which("rpm"):
        answer = run(["rpm", "-q", "--quiet", name])
        return answer is not None and answer[0] == 0
    return None


def unit_state(verb, unit):
    """systemctl's one-word answer to `systemctl <verb> <unit>` (is-enabled: enabled, static, disabled, masked, ...;
    is-active: active, inactive, failed, ...), or None without systemctl."""
    systemctl = shutil.which("systemctl")
    answer = run([systemctl, verb, unit]) if systemctl else None
    words = answer[1].split() if answer else []
    return words[0] if words else None


def selinux_mode(selinuxfs="/sys/fs/selinux"):
    """What getenforce prints: Disabled when selinuxfs is not mounted, else Enforcing or Permissive."""
    enforce = read(os.path.join(selinuxfs, "enforce"))
    if enforce is None:
        return "Disabled"
    return "Enforcing" if enforce.strip() == "1" else "Permissive"


def conf_values(path, keys):
    text = read(path)
    values = dict((key, []) for key in keys)
    if text is None:
        return None
    for key in keys:
        pattern = re.compile(r"^[ \t]*" + re.escape(key) + r"[ \t]*=[ \t]*(.*?)[ \t]*$", re.M)
        values[key] = pattern.findall(text)
    return values


def main(argv):
    iscsiadm = argv[1] if len(argv) > 1 else "/sbin/iscsiadm"
    conf = argv[2] if len(argv) > 2 else "/etc/iscsi/iscsid.conf"
    opt_path = argv[3] if len(argv) > 3 else "/opt"
    # The family's service and package (empty for a family the role does not prepare).
    service = argv[4] if len(argv) > 4 else ""
    package = argv[5] if len(argv) > 5 else ""
    module = "iscsi_tcp"
    kernel = os.uname()[2]
    keys = ["node.startup", "discovery.sendtargets.iscsi.MaxRecvDataSegmentLength",
            "node.conn[0].iscsi.MaxRecvDataSegmentLength"]
    initiator = read("/etc/iscsi/initiatorname.iscsi") or ""
    result = {
        "kernel": kernel,
        "proc_modules": os.path.exists("/proc/modules"),
        "module_loaded": os.path.isdir("/sys/module/" + module) or os.path.exists("/sys/class/iscsi_transport/tcp"),
        "module_available": module_available(kernel, module),
        "cap_sys_module": cap_sys_module(),
        "netlink_iscsi": netlink_iscsi(),
        "ostree_booted": os.path.exists("/run/ostree-booted"),
        "iscsiadm_path": iscsiadm,
        "iscsiadm_present": os.path.lexists(iscsiadm) or bool(shutil.which("iscsiadm")),
        "iscsiadm_is_file": os.path.isfile(iscsiadm),
        "initiator_name": bool(re.search(r"^InitiatorName=\S+", initiator, re.M)),
        "iscsid_conf": conf_values(conf, keys),
        "opt_space": free_space(opt_path),
        "selinux": selinux_mode(),
    }
    if service:
        result["service"] = {"name": service, "enabled": unit_state("is-enabled", service),
                             "active": unit_state("is-active", service)}
    if package:
        result["package"] = {"name": package, "installed": package_installed(package)}
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
