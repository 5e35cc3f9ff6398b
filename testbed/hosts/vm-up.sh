#!/usr/bin/env bash
# Boot one Debian 12 QEMU VM (real Debian kernel, software emulation) from the image of
# build-vm.sh, with a throw-away qcow2 overlay, ssh forwarded on 127.0.0.1 only, and write:
#   <state>/vm/NAME/ssh_config     ssh -F <that> NAME
#   <state>/vm/NAME/inventory.yml  Ansible inventory (ssh connection)
#   <state>/vm/NAME/serial.log     console output
#
# Usage: vm-up.sh [options] [NAME]      (NAME default iomesh-vm; it is also the VM's hostname)
#   --port N      host port for ssh (default: first free from 2222)
#   --mem MiB     default 2048
#   --cpus N      default 2
#   --timeout S   seconds to wait for ssh (default 300)
#   --group NAME  inventory group (default testbed_vms)
# The VM is built first if needed. Stop it with vm-down.sh NAME. Rebooting inside the VM ends
# QEMU (-no-reboot), so a kernel panic shows as a stopped VM instead of a boot loop.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

name="iomesh-vm"
port=""
mem=2048
cpus=2
timeout=300
group="testbed_vms"
while (($#)); do
  case "$1" in
    --port) port="$2"; shift ;;
    --mem) mem="$2"; shift ;;
    --cpus) cpus="$2"; shift ;;
    --timeout) timeout="$2"; shift ;;
    --group) group="$2"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) die "unknown option: $1" ;;
    *) name="$1" ;;
  esac
  shift
done
[[ "$name" =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ ]] || die "not a valid host name: ${name}"

need_root
need_cmd qemu-system-x86_64 qemu-img ssh
img="${TESTBED_CACHE}/vm/debian12"
key="${TESTBED_CACHE}/vm/id_ed25519"
"${TESTBED_HOSTS_DIR}/build-vm.sh"

dir="${TESTBED_STATE}/vm/${name}"
if [[ -s "${dir}/qemu.pid" ]] && kill -0 "$(cat "${dir}/qemu.pid")" 2>/dev/null; then
  log "VM ${name} is already running (ssh -F ${dir}/ssh_config ${name})"
  exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
qemu-img create -q -f qcow2 -b "${img}/base.qcow2" -F qcow2 "${dir}/overlay.qcow2"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start=${SECONDS}
candidates=()
if [[ -n "$port" ]]; then candidates=("$port"); else
  for p in $(seq 2222 2299); do port_free "$p" && candidates+=("$p"); done
fi
started=0
for p in "${candidates[@]}"; do
  # -daemonize returns once QEMU has set up its devices; a taken port makes it fail here.
  if qemu-system-x86_64 \
      -name "iomesh-testbed-${name}" \
      -machine q35 -accel tcg,tb-size=256 -smp "$cpus" -m "$mem" \
      -nodefaults -display none -monitor none -no-reboot \
      -serial "file:${dir}/serial.log" \
      -kernel "${img}/vmlinuz" -initrd "${img}/initrd.img" \
      -append "root=/dev/vda rw console=ttyS0 panic=1 systemd.hostname=${name}" \
      -drive "file=${dir}/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap" \
      -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:${p}-:22" -device virtio-net-pci,netdev=n0 \
      -device virtio-rng-pci \
      -pidfile "${dir}/qemu.pid" -daemonize 2>"${dir}/qemu.err"; then
    port="$p"; started=1; break
  fi
  grep -qi 'host forwarding\|address already in use' "${dir}/qemu.err" || {
    cat "${dir}/qemu.err" >&2; die "QEMU failed to start"; }
done
((started)) || die "no free port for ssh forwarding"
printf '%s\n' "$port" >"${dir}/port"

cat >"${dir}/ssh_config" <<EOF
Host ${name}
  HostName 127.0.0.1
  Port ${port}
  User root
  IdentityFile ${key}
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  ConnectTimeout 10
  ServerAliveInterval 15
EOF

log "QEMU started (pid $(cat "${dir}/qemu.pid"), ssh on 127.0.0.1:${port}); waiting for ssh"
until ssh -F "${dir}/ssh_config" -o BatchMode=yes "$name" true 2>/dev/null; do
  kill -0 "$(cat "${dir}/qemu.pid")" 2>/dev/null ||
    { tail -n 30 "${dir}/serial.log" >&2; die "QEMU exited during boot"; }
  ((SECONDS - start < timeout)) ||
    { tail -n 30 "${dir}/serial.log" >&2; die "no ssh after ${timeout} s (see ${dir}/serial.log)"; }
  sleep 2
done
log "VM ${name} reachable by ssh after $((SECONDS - start)) s: ssh -F ${dir}/ssh_config ${name}"

cat >"${dir}/inventory.yml" <<EOF
# Written by testbed/hosts/vm-up.sh; removed by vm-down.sh.
all:
  children:
    ${group}:
      hosts:
        ${name}:
          ansible_host: 127.0.0.1
          ansible_port: ${port}
          ansible_user: root
          ansible_ssh_private_key_file: ${key}
          ansible_ssh_common_args: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
          ansible_python_interpreter: /usr/bin/python3
EOF
log "inventory: ${dir}/inventory.yml"
