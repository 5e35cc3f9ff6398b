#!/usr/bin/env bash
# Prove the kernel iSCSI path on a host with a real kernel (the testbed VM):
#   modprobe iscsi_tcp -> apt-get install open-iscsi targetcli-fb -> a 64 MiB fileio LUN
#   exported on 127.0.0.1:3260 -> iscsiadm discovery + login -> a /dev/sdX of transport iscsi
# then log out and remove the target again (unless --keep).
#
# Usage (on the machine, against a VM started by vm-up.sh):
#   vm-iscsi-selftest.sh --vm [NAME] [--keep] [--skip-install]
# Usage (inside the host under test, as root, e.g. copied there by a molecule verify step):
#   vm-iscsi-selftest.sh [--keep] [--skip-install]
#   --skip-install  do not apt-get install (open-iscsi/targetcli-fb already present)
# Prints one "STEP <name> <seconds>s" line per step and "ISCSI-SELFTEST OK" at the end.
set -euo pipefail

if [[ "${1:-}" == "--vm" ]]; then
  shift
  name="iomesh-vm"
  if [[ $# -gt 0 && "$1" != --* ]]; then name="$1"; shift; fi
  # shellcheck source=SCRIPTDIR/lib.sh
  source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
  cfg="${TESTBED_STATE}/vm/${name}/ssh_config"
  [[ -r "$cfg" ]] || die "VM ${name} is not up (no ${cfg}); run vm-up.sh ${name}"
  exec ssh -F "$cfg" -o BatchMode=yes "$name" bash -s -- "$@" <"${BASH_SOURCE[0]}"
fi

keep=0
install=1
for a in "$@"; do
  case "$a" in
    --keep) keep=1 ;;
    --skip-install) install=0 ;;
    *) echo "unknown argument: $a" >&2; exit 2 ;;
  esac
done
[[ ${EUID} -eq 0 ]] || { echo "must run as root" >&2; exit 1; }

TARGET_IQN="iqn.2003-01.org.linux-iscsi.iomesh-testbed:selftest"
BACKSTORE="iomesh_selftest"
LUN_FILE="/var/lib/iomesh-testbed/selftest.img"
PORTAL="127.0.0.1:3260"
export DEBIAN_FRONTEND=noninteractive

t0=${SECONDS}
step_start=${SECONDS}
step() { echo "STEP $1 $((SECONDS - step_start))s"; step_start=${SECONDS}; }
fail() { echo "ISCSI-SELFTEST FAILED: $*" >&2; exit 1; }

# 1. The kernel module (impossible in containers and on the CI machine itself).
modprobe iscsi_tcp || fail "modprobe iscsi_tcp"
lsmod | grep -q '^iscsi_tcp ' || fail "iscsi_tcp not in lsmod"
[[ -e /sys/class/iscsi_transport/tcp ]] || fail "no /sys/class/iscsi_transport/tcp"
step modprobe

# 2. Initiator and target software.
if ((install)); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends open-iscsi targetcli-fb >/dev/null 2>&1 ||
    fail "apt-get install open-iscsi targetcli-fb"
  step apt-install
fi
for c in iscsiadm targetcli; do command -v "$c" >/dev/null || fail "${c} missing"; done
systemctl start iscsid.service || fail "iscsid does not start"
systemctl is-active --quiet iscsid.service || fail "iscsid not active"
initiator="$(sed -n 's/^InitiatorName=//p' /etc/iscsi/initiatorname.iscsi)"
[[ -n "$initiator" ]] || fail "no InitiatorName in /etc/iscsi/initiatorname.iscsi"
step iscsid

cleanup() {
  iscsiadm -m node -T "$TARGET_IQN" -p "$PORTAL" --logout >/dev/null 2>&1 || true
  iscsiadm -m node -T "$TARGET_IQN" -p "$PORTAL" -o delete >/dev/null 2>&1 || true
  # One targetcli process per batch: under software emulation each start costs seconds.
  printf '%s\n' "/iscsi delete ${TARGET_IQN}" "/backstores/fileio delete ${BACKSTORE}" |
    targetcli >/dev/null 2>&1 || true
  rm -f "$LUN_FILE"
}
cleanup   # leftovers of an interrupted run

# 3. A LIO target with one fileio LUN on the loopback portal only.
mkdir -p "$(dirname "$LUN_FILE")"
printf '%s\n' \
  "/backstores/fileio create ${BACKSTORE} ${LUN_FILE} 64M" \
  "/iscsi create ${TARGET_IQN}" \
  "/iscsi/${TARGET_IQN}/tpg1/portals delete 0.0.0.0 3260" \
  "/iscsi/${TARGET_IQN}/tpg1/portals create 127.0.0.1 3260" \
  "/iscsi/${TARGET_IQN}/tpg1/luns create /backstores/fileio/${BACKSTORE}" \
  "/iscsi/${TARGET_IQN}/tpg1/acls create ${initiator}" |
  targetcli >/dev/null 2>&1 || fail "targetcli setup"
# targetcli's shell mode does not stop at a failed command: check the result.
tree="$(targetcli "/iscsi/${TARGET_IQN}/tpg1" ls 2>/dev/null)" || fail "target not created"
grep -q '127\.0\.0\.1:3260' <<<"$tree" || fail "portal 127.0.0.1:3260 not configured"
grep -q "fileio/${BACKSTORE}" <<<"$tree" || fail "LUN not configured"
grep -q "$initiator" <<<"$tree" || fail "ACL for ${initiator} not configured"
step target

# 4. Discovery and login.
iscsiadm -m discovery -t sendtargets -p "$PORTAL" | grep -q " ${TARGET_IQN}$" ||
  fail "discovery on ${PORTAL} did not list ${TARGET_IQN}"
iscsiadm -m node -T "$TARGET_IQN" -p "$PORTAL" --login >/dev/null || fail "login"
link="/dev/disk/by-path/ip-${PORTAL}-iscsi-${TARGET_IQN}-lun-0"
for _ in $(seq 60); do [[ -e "$link" ]] && break; sleep 0.5; done
[[ -e "$link" ]] || fail "no ${link} after login"
dev="$(basename "$(readlink -f "$link")")"
tran="$(lsblk -dno TRAN "/dev/${dev}" | tr -d ' ')"
[[ "$tran" == iscsi ]] || fail "/dev/${dev} has transport '${tran}', not iscsi"
size="$(lsblk -dbno SIZE "/dev/${dev}" | tr -d ' ')"
[[ "$size" == $((64 * 1024 * 1024)) ]] || fail "/dev/${dev} has size ${size}"
iscsiadm -m session | grep -q "$TARGET_IQN" || fail "no session listed"
echo "LUN /dev/${dev} transport=${tran} size=${size}"
step login

if ((keep == 0)); then
  cleanup
  [[ ! -e "$link" ]] || fail "${link} still present after logout"
  step cleanup
fi
echo "ISCSI-SELFTEST OK in $((SECONDS - t0))s"
