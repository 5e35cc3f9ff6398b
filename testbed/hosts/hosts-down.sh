#!/usr/bin/env bash
# Remove the test hosts started by hosts-up.sh: their containers, their podman network and
# the inventory fragment. Leaves no container, network or conmon process of that network.
#
# Usage: hosts-down.sh [--network NAME] [--inventory PATH] [--all]
#   --network NAME    default iomesh-testbed (env IOMESH_TESTBED_NETWORK)
#   --inventory PATH  default <state>/hosts/<network>.yml
#   --all             every network/container that hosts-up.sh labelled, whatever its network
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

network="${IOMESH_TESTBED_NETWORK:-iomesh-testbed}"
inventory=""
all=0
while (($#)); do
  case "$1" in
    --network) network="$2"; shift ;;
    --inventory) inventory="$2"; shift ;;
    --all) all=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
  shift
done

need_root
need_cmd podman

if ((all)); then
  filter="label=${TESTBED_LABEL}=hosts"
  mapfile -t networks < <(podman network ls --filter "$filter" --format '{{.Name}}')
else
  filter="label=${TESTBED_LABEL}.network=${network}"
  networks=("$network")
fi

mapfile -t ids < <(podman ps -a -q --filter "$filter")
if ((${#ids[@]})); then
  # systemd stops on SIGRTMIN+3 (the image's STOPSIGNAL); after 10 s podman kills.
  podman rm -f -t 10 "${ids[@]}" >/dev/null
  log "removed ${#ids[@]} container(s)"
fi

for net in "${networks[@]}"; do
  [[ -n "$net" ]] || continue
  if podman network exists "$net"; then
    # Never remove a network that some other container still uses.
    if [[ -n "$(podman ps -a -q --filter "network=${net}")" ]]; then
      log "network ${net} still has containers not started by hosts-up.sh; kept"
    else
      podman network rm "$net" >/dev/null
      log "removed network ${net}"
    fi
  fi
  rm -f "${inventory:-${TESTBED_STATE}/hosts/${net}.yml}"
done

# conmon of the removed containers exits with them; wait until none is left.
for id in "${ids[@]}"; do
  for _ in $(seq 50); do
    pgrep -f "conmon .*${id}" >/dev/null || break
    sleep 0.2
  done
  ! pgrep -f "conmon .*${id}" >/dev/null || die "conmon of ${id} still running"
done
