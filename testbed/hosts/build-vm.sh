#!/usr/bin/env bash
# Build the Debian 12 QEMU VM image (real Debian kernel, so kernel modules and iSCSI work)
# without any registry: debootstrap from this machine's own apt mirror, then `mkfs.ext4 -d`
# (no loop mount needed). Artefacts go to <cache>/vm/debian12/:
#   base.qcow2  vmlinuz  initrd.img  recipe
# and the ssh key used to reach the VM to <cache>/vm/id_ed25519 (generated once).
#
# Usage: build-vm.sh [--force]
#   --force   rebuild even if the artefacts match the current recipe
# Start VMs from it with vm-up.sh (each VM gets its own qcow2 overlay).
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RECIPE_VERSION=1
INCLUDE="systemd,systemd-sysv,dbus,udev,kmod,linux-image-amd64,initramfs-tools,openssh-server,\
libnss-myhostname,python3,python3-apt,sudo,iproute2,ca-certificates,procps"
DISK_SIZE=3G
# Timers that would run apt or disk jobs in the background and hold locks during tests.
MASK_UNITS=(apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer)

force=0
while (($#)); do
  case "$1" in
    --force) force=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
  shift
done

need_root
need_cmd debootstrap mkfs.ext4 qemu-img ssh-keygen dpkg chroot

vmcache="${TESTBED_CACHE}/vm"
out="${vmcache}/debian12"
key="${vmcache}/id_ed25519"
mkdir -p "$vmcache"
[[ -s "$key" ]] || ssh-keygen -q -t ed25519 -N '' -C iomesh-testbed -f "$key"

recipe="$(recipe_hash "v${RECIPE_VERSION}" "${TESTBED_SUITE}" "${INCLUDE}" "${DISK_SIZE}" \
  "${MASK_UNITS[*]}" "$(cat "${key}.pub")")"
if ((force == 0)) && [[ -s "${out}/base.qcow2" && "$(cat "${out}/recipe" 2>/dev/null)" == "$recipe" ]]; then
  log "VM image ${out} is up to date (use --force to rebuild)"
  exit 0
fi

mirror="$(detect_mirror)"
work="$(mktemp -d "${vmcache}/build.XXXXXX")"
# shellcheck disable=SC2064  # expand now: the path is fixed
trap "rm -rf '${work}'" EXIT
root="${work}/root"

log "debootstrap ${TESTBED_SUITE} (minbase + kernel, udev, sshd, ...) from the machine's apt mirror"
start=${SECONDS}
debootstrap --variant=minbase --include="${INCLUDE}" "${TESTBED_SUITE}" "$root" "$mirror" \
  >"${vmcache}/debootstrap.log" 2>&1 ||
  { tail -n 30 "${vmcache}/debootstrap.log" >&2; die "debootstrap failed"; }
log "debootstrap done in $((SECONDS - start)) s"
ls "${root}"/boot/vmlinuz-* "${root}"/boot/initrd.img-* >/dev/null 2>&1 ||
  die "debootstrap produced no kernel/initramfs in /boot"

copy_apt_config "$root"
# The initramfs was generated once by debootstrap. Under software emulation every package
# that triggers update-initramfs would spend ~9 min rebuilding it; the VM boots with the
# kernel/initrd given to QEMU anyway.
sed -i 's/^update_initramfs=.*/update_initramfs=no/' "${root}/etc/initramfs-tools/update-initramfs.conf"

: >"${root}/etc/machine-id"                  # generated at first boot
rm -f "${root}/var/lib/dbus/machine-id" "${root}/etc/hostname"  # hostname: systemd.hostname=
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"${root}/etc/hosts"
printf '/dev/vda\t/\text4\trw,errors=remount-ro\t0\t1\n' >"${root}/etc/fstab"
# QEMU user networking: DHCP on the NIC, DNS through QEMU's forwarder.
cat >"${root}/etc/systemd/network/20-dhcp.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
rm -f "${root}/etc/resolv.conf"
printf 'nameserver 10.0.2.3\n' >"${root}/etc/resolv.conf"
chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1
for unit in "${MASK_UNITS[@]}"; do
  ln -sf /dev/null "${root}/etc/systemd/system/${unit}"
done
install -d -m 0700 "${root}/root/.ssh"
install -m 0600 "${key}.pub" "${root}/root/.ssh/authorized_keys"
rm -rf "${root}"/var/lib/apt/lists/* "${root}"/var/cache/apt/*.bin \
  "${root}"/var/cache/apt/archives/*.deb "${root}/debootstrap"
mkdir -p "${root}/var/lib/apt/lists/partial"

mkdir -p "${work}/out"
cp "$(printf '%s\n' "${root}"/boot/vmlinuz-* | sort -V | tail -n1)" "${work}/out/vmlinuz"
cp "$(printf '%s\n' "${root}"/boot/initrd.img-* | sort -V | tail -n1)" "${work}/out/initrd.img"
start=${SECONDS}
mkfs.ext4 -q -F -L iomesh-root -d "$root" "${work}/disk.raw" "$DISK_SIZE" >/dev/null
qemu-img convert -O qcow2 "${work}/disk.raw" "${work}/out/base.qcow2"
rm -f "${work}/disk.raw"
printf '%s\n' "$recipe" >"${work}/out/recipe"
log "disk image made in $((SECONDS - start)) s"

rm -rf "${out}.old"
[[ -e "$out" ]] && mv "$out" "${out}.old"
mv "${work}/out" "$out"
rm -rf "${out}.old"
log "VM image ready: ${out} ($(du -sh "$out" | cut -f1))"
