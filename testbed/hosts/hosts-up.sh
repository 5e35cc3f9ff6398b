#!/usr/bin/env bash
# Start Debian 12 test hosts as podman containers with systemd as PID 1, on one podman bridge
# network (names resolve between them through podman's DNS), and write an Ansible inventory.
#
# Usage: hosts-up.sh [options] [N | NAME...]
#   N         start N hosts named k8s-woker-0..N-1 (the seed's names); default 6
#   NAME...   start hosts with exactly these names
# Options:
#   --network NAME    podman network (default iomesh-testbed; env IOMESH_TESTBED_NETWORK)
#   --subnet CIDR     its subnet = the data CIDR (default 10.234.1.0/24; env IOMESH_TESTBED_SUBNET)
#   --image IMAGE     default localhost/iomesh-testbed-debian12:latest (built if missing)
#   --inventory PATH  default <state>/hosts/<network>.yml; "-" writes it to stdout
#   --group NAME      inventory group (default testbed_hosts)
# Idempotent: running hosts of the same network are kept. Remove everything with hosts-down.sh.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

network="${IOMESH_TESTBED_NETWORK:-iomesh-testbed}"
subnet="${IOMESH_TESTBED_SUBNET:-10.234.1.0/24}"
image="${TESTBED_IMAGE_DEFAULT}"
inventory=""
group="testbed_hosts"
names=()
while (($#)); do
  case "$1" in
    --network) network="$2"; shift ;;
    --subnet) subnet="$2"; shift ;;
    --image) image="$2"; shift ;;
    --inventory) inventory="$2"; shift ;;
    --group) group="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) die "unknown option: $1" ;;
    *) names+=("$1") ;;
  esac
  shift
done
if ((${#names[@]} == 0)); then names=(6); fi
if ((${#names[@]} == 1)) && [[ "${names[0]}" =~ ^[0-9]+$ ]]; then
  n="${names[0]}"
  names=()
  for ((i = 0; i < n; i++)); do names+=("k8s-woker-${i}"); done
fi
for name in "${names[@]}"; do
  [[ "$name" =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ ]] || die "not a valid host name: ${name}"
done
inventory="${inventory:-${TESTBED_STATE}/hosts/${network}.yml}"

need_root
need_cmd podman
podman image exists "$image" || "${TESTBED_HOSTS_DIR}/build-image.sh" --image "$image"

# One bridge network; netavark + aardvark-dns give name resolution between the containers.
if podman network exists "$network"; then
  have="$(podman network inspect "$network" --format '{{range .Subnets}}{{.Subnet}} {{end}}')"
  [[ " ${have} " == *" ${subnet} "* ]] ||
    die "network ${network} exists with subnet(s) ${have}, not ${subnet}"
else
  podman network create --subnet "$subnet" \
    --label "${TESTBED_LABEL}=hosts" "$network" >/dev/null
  log "created network ${network} (${subnet})"
fi

start=${SECONDS}
for name in "${names[@]}"; do
  if podman container exists "$name"; then
    owner="$(podman inspect "$name" --format "{{index .Config.Labels \"${TESTBED_LABEL}.network\"}}")"
    [[ "$owner" == "$network" ]] || die "a container named ${name} exists and is not ours"
    [[ "$(podman inspect "$name" --format '{{.State.Running}}')" == true ]] || podman start "$name" >/dev/null
    continue
  fi
  podman run -d --name "$name" --hostname "$name" \
    --network "$network" \
    --systemd=always --stop-timeout 10 \
    --label "${TESTBED_LABEL}=hosts" --label "${TESTBED_LABEL}.network=${network}" \
    "$image" /sbin/init >/dev/null
done

# Wait for each systemd to finish booting ("running", or "degraded" if a unit failed).
for name in "${names[@]}"; do
  state="$(timeout 90 podman exec "$name" systemctl is-system-running --wait 2>/dev/null || true)"
  case "$state" in
    running|degraded) ;;
    *) die "${name}: systemd did not finish booting (state '${state}')" ;;
  esac
done
# The image ships without package lists; an installed system has them (check mode cannot resolve a package
# without them). Fetched from the same apt mirror the image was built from.
for name in "${names[@]}"; do
  if ! podman exec "$name" sh -c 'ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1'; then
    podman exec "$name" apt-get update -qq >/dev/null || die "${name}: apt-get update failed"
  fi
done
log "${#names[@]} host(s) up in $((SECONDS - start)) s on ${network} (${subnet})"

# Inventory fragment. The containers.podman.podman connection runs `podman exec`; export
# CONTAINERS_CONF (see containers.conf) for ansible as for these scripts.
# All hosts of this network (also those started by an earlier call), in name order.
mapfile -t all < <(podman ps -a --filter "label=${TESTBED_LABEL}.network=${network}" \
  --format '{{.Names}}' | sort)
inv="$(
  printf '# Written by testbed/hosts/hosts-up.sh; removed by hosts-down.sh.\n'
  printf 'all:\n  children:\n    %s:\n      vars:\n' "$group"
  printf '        ansible_connection: containers.podman.podman\n'
  printf '        ansible_python_interpreter: /usr/bin/python3\n'
  printf '        testbed_network: %s\n' "$network"
  printf '        testbed_data_cidr: %s\n' "$subnet"
  printf '      hosts:\n'
  for name in "${all[@]}"; do
    ip="$(podman inspect "$name" --format "{{(index .NetworkSettings.Networks \"${network}\").IPAddress}}")"
    printf '        %s:\n          testbed_data_ip: %s\n' "$name" "$ip"
  done
)"
if [[ "$inventory" == "-" ]]; then
  printf '%s\n' "$inv"
else
  mkdir -p "$(dirname "$inventory")"
  printf '%s\n' "$inv" >"${inventory}.tmp.$$"
  mv "${inventory}.tmp.$$" "$inventory"
  log "inventory: ${inventory}"
fi
