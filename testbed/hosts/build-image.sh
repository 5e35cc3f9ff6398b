#!/usr/bin/env bash
# Build the podman image localhost/iomesh-testbed-debian12:latest without any container registry:
# debootstrap a minbase Debian 12 root (systemd as init) from this machine's own apt mirror,
# then `podman import` it.
#
# Usage: build-image.sh [--force] [--no-cache] [--image NAME]
#   --force     rebuild the image even if it exists (reuses the cached rootfs tarball)
#   --no-cache  also re-run debootstrap (ignore the cached rootfs tarball)
#   --image     image name (default localhost/iomesh-testbed-debian12:latest)
# Cache: ${IOMESH_TESTBED_CACHE:-~/.cache/iomesh-testbed}/podman-rootfs-<hash>.tar
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Bump when the recipe below changes in a way that must invalidate cached tarballs.
RECIPE_VERSION=1
INCLUDE="systemd,systemd-sysv,dbus,python3,python3-apt,sudo,iproute2,ca-certificates,procps"
# Units that cannot work (or only produce noise) in a container.
MASK_UNITS=(
  getty.target console-getty.service getty@tty1.service
  systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
  systemd-udev-trigger.service systemd-udev-settle.service
  systemd-logind.service systemd-remount-fs.service
)

force=0
no_cache=0
image="${TESTBED_IMAGE_DEFAULT}"
while (($#)); do
  case "$1" in
    --force) force=1 ;;
    --no-cache) no_cache=1; force=1 ;;
    --image) image="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
  shift
done

need_root
need_cmd podman debootstrap tar sha256sum dpkg flock

mkdir -p "${TESTBED_CACHE}"
# One build at a time (molecule scenarios and the testbed may ask at once); a waiter then finds the image built.
exec 9>"${TESTBED_CACHE}/build-image.lock"
flock 9

if ((force == 0)) && podman image exists "$image"; then
  log "image ${image} exists (use --force to rebuild)"
  exit 0
fi

key="$(recipe_hash "v${RECIPE_VERSION}" "${TESTBED_SUITE}" "${INCLUDE}" "${MASK_UNITS[*]}")"
tarball="${TESTBED_CACHE}/podman-rootfs-${TESTBED_SUITE}-${key}.tar"

if ((no_cache == 1)) || [[ ! -s "$tarball" ]]; then
  mirror="$(detect_mirror)"
  root="$(mktemp -d "${TESTBED_CACHE}/podman-rootfs.XXXXXX")"
  # shellcheck disable=SC2064  # expand now: the path is fixed
  trap "rm -rf '${root}' '${tarball}.tmp'" EXIT
  log "debootstrap ${TESTBED_SUITE} (minbase + ${INCLUDE}) from the machine's apt mirror"
  start=${SECONDS}
  debootstrap --variant=minbase --include="${INCLUDE}" "${TESTBED_SUITE}" "$root" "$mirror" \
    >"${TESTBED_CACHE}/podman-debootstrap.log" 2>&1 ||
    { tail -n 30 "${TESTBED_CACHE}/podman-debootstrap.log" >&2; die "debootstrap failed"; }
  log "debootstrap done in $((SECONDS - start)) s"

  copy_apt_config "$root"
  # systemd creates a machine id at first boot when the file is empty; the hostname comes
  # from podman (--hostname).
  : >"${root}/etc/machine-id"
  rm -f "${root}/var/lib/dbus/machine-id" "${root}/etc/hostname"
  for unit in "${MASK_UNITS[@]}"; do
    ln -sf /dev/null "${root}/etc/systemd/system/${unit}"
  done
  # No package lists or .debs in the image (`apt-get update` is needed before installing).
  rm -rf "${root}"/var/lib/apt/lists/* "${root}"/var/cache/apt/*.bin \
    "${root}"/var/cache/apt/archives/*.deb "${root}"/var/log/*.log "${root}/debootstrap"
  mkdir -p "${root}/var/lib/apt/lists/partial"

  tar --numeric-owner --xattrs -C "$root" -cf "${tarball}.tmp" .
  mv "${tarball}.tmp" "$tarball"
  rm -rf "$root"
  trap - EXIT
  log "rootfs cached: ${tarball} ($(du -h "$tarball" | cut -f1))"
else
  log "using cached rootfs ${tarball}"
fi

start=${SECONDS}
podman import --quiet \
  --change 'CMD ["/sbin/init"]' \
  --change 'ENV container=podman' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  --change "LABEL ${TESTBED_LABEL}.recipe=${key}" \
  "$tarball" "$image" >/dev/null
log "imported ${image} in $((SECONDS - start)) s"
