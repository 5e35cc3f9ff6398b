#!/usr/bin/env bash
# Stop a VM started by vm-up.sh (clean poweroff, then kill if it hangs) and remove its overlay
# and state. Leaves no qemu process of that VM behind.
#
# Usage: vm-down.sh [NAME | --all]     (NAME default iomesh-vm)
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

names=()
while (($#)); do
  case "$1" in
    --all)
      shopt -s nullglob
      for d in "${TESTBED_STATE}"/vm/*/; do names+=("$(basename "$d")"); done
      shopt -u nullglob
      ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    -*) die "unknown option: $1" ;;
    *) names+=("$1") ;;
  esac
  shift
done
if ((${#names[@]} == 0)); then names=(iomesh-vm); fi

# True if PID is the QEMU of the VM whose state dir is $2 (never signal anything else).
is_our_qemu() {
  [[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "qemu-system.*$2/overlay.qcow2"
}

for name in "${names[@]}"; do
  dir="${TESTBED_STATE}/vm/${name}"
  [[ -d "$dir" ]] || { log "VM ${name}: nothing to do"; continue; }
  pid="$(cat "${dir}/qemu.pid" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && is_our_qemu "$pid" "$dir"; then
    timeout 20 ssh -F "${dir}/ssh_config" -o BatchMode=yes "$name" \
      'systemctl poweroff --no-block' >/dev/null 2>&1 || true
    for _ in $(seq 60); do is_our_qemu "$pid" "$dir" || break; sleep 1; done
    if is_our_qemu "$pid" "$dir"; then
      log "VM ${name}: no clean poweroff within 60 s; terminating QEMU"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 10); do is_our_qemu "$pid" "$dir" || break; sleep 1; done
      if is_our_qemu "$pid" "$dir"; then kill -9 "$pid" 2>/dev/null || true; sleep 1; fi
    fi
    ! is_our_qemu "$pid" "$dir" || die "VM ${name}: QEMU ${pid} still running"
  fi
  rm -rf "$dir"
  log "VM ${name}: stopped and removed"
done
