# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are used by the scripts that source this file
# Common helpers for the testbed host scripts. Sourced, never executed.
#
# Environment knobs (all optional):
#   IOMESH_TESTBED_CACHE   cache dir (rootfs tarballs, VM disk/kernel, ssh key); default ~/.cache/iomesh-testbed, so
#                          that every clone on one machine (CI runs on a fresh clone) reuses what is keyed by its recipe
#   IOMESH_TESTBED_STATE   state dir (inventories, VM overlays, pid files);      default <repo>/.testbed/state
#   IOMESH_TESTBED_MIRROR  Debian mirror URL; default: read from this machine's apt sources
#   IOMESH_TESTBED_SUITE   Debian suite; default bookworm
#   CONTAINERS_CONF        kept if already set, else set to containers.conf beside this file

TESTBED_HOSTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TESTBED_REPO_ROOT="$(cd "${TESTBED_HOSTS_DIR}/../.." && pwd)"
TESTBED_CACHE="${IOMESH_TESTBED_CACHE:-${XDG_CACHE_HOME:-${HOME:-${TESTBED_REPO_ROOT}/.testbed}/.cache}/iomesh-testbed}"
TESTBED_STATE="${IOMESH_TESTBED_STATE:-${TESTBED_REPO_ROOT}/.testbed/state}"
TESTBED_SUITE="${IOMESH_TESTBED_SUITE:-bookworm}"
TESTBED_IMAGE_DEFAULT="localhost/iomesh-testbed-debian12:latest"
TESTBED_LABEL="io.iomesh.testbed"
export CONTAINERS_CONF="${CONTAINERS_CONF:-${TESTBED_HOSTS_DIR}/containers.conf}"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need_cmd() {
  local c missing=()
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  if ((${#missing[@]})); then
    die "missing command(s): ${missing[*]} (see testbed/hosts/README.md: apt packages)"
  fi
}

need_root() {
  [[ ${EUID} -eq 0 ]] || die "must run as root (debootstrap, rootful podman)"
}

# Print the Debian mirror URL that this machine's apt uses for ${TESTBED_SUITE}.
# Reads deb822 *.sources files and one-line sources.list entries; nothing is hard-coded.
detect_mirror() {
  if [[ -n "${IOMESH_TESTBED_MIRROR:-}" ]]; then
    printf '%s\n' "${IOMESH_TESTBED_MIRROR}"
    return 0
  fi
  local f uri=""
  shopt -s nullglob
  for f in /etc/apt/sources.list.d/*.sources; do
    uri="$(awk -v suite="${TESTBED_SUITE}" '
      function flush() {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && (" " suites " ") ~ ("[ \t]" suite "[ \t]") && uris != "" && !done) {
          split(uris, u, /[ \t]+/); print u[1]; done = 1
        }
        types = ""; suites = ""; uris = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "types:"  { sub(/^[^:]*:[ \t]*/, ""); types = $0 }
      tolower($1) == "suites:" { sub(/^[^:]*:[ \t]*/, ""); suites = $0 }
      tolower($1) == "uris:"   { sub(/^[^:]*:[ \t]*/, ""); uris = $0 }
      END { flush() }' "$f")"
    [[ -n "$uri" ]] && break
  done
  if [[ -z "$uri" ]]; then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -r "$f" ]] || continue
      uri="$(awk -v suite="${TESTBED_SUITE}" '
        $1 == "deb" {
          i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
          if ($(i + 1) == suite) { print $i; exit }
        }' "$f")"
      [[ -n "$uri" ]] && break
    done
  fi
  shopt -u nullglob
  [[ -n "$uri" ]] || die "no '${TESTBED_SUITE}' deb source found in /etc/apt; set IOMESH_TESTBED_MIRROR"
  printf '%s\n' "$uri"
}

# Copy this machine's apt configuration into a target root: its deb822 *.sources (plus the
# keyrings they name) or, if it has deb lines, /etc/apt/sources.list; and every /etc/apt/apt.conf.d snippet that no package owns (they carry the settings
# apt needs on this machine, e.g. no Valid-Until check for snapshot mirrors).
copy_apt_config() {
  local root="$1" f
  rm -f "${root}/etc/apt/sources.list"
  shopt -s nullglob
  local kr
  for f in /etc/apt/sources.list.d/*.sources; do
    cp -p "$f" "${root}/etc/apt/sources.list.d/"
    # keyrings named by Signed-By: that the new root lacks (e.g. a non-Debian repository)
    while read -r kr; do
      if [[ -f "$kr" && ! -e "${root}${kr}" ]]; then
        mkdir -p "${root}$(dirname "$kr")"
        cp -p "$kr" "${root}${kr}"
      fi
    done < <(sed -n 's/^[[:space:]]*Signed-By:[[:space:]]*\(\/[^[:space:]]*\)[[:space:]]*$/\1/p' "$f")
  done
  if [[ -s /etc/apt/sources.list ]] && grep -qE '^[[:space:]]*deb' /etc/apt/sources.list; then
    cp -p /etc/apt/sources.list "${root}/etc/apt/sources.list"
  fi
  for f in /etc/apt/apt.conf.d/*; do
    [[ -f "$f" ]] || continue
    if ! dpkg -S "$f" >/dev/null 2>&1; then
      cp -p "$f" "${root}/etc/apt/apt.conf.d/"
    fi
  done
  shopt -u nullglob
}

# Short hash of the given strings, to key cached artefacts.
recipe_hash() {
  printf '%s\n' "$@" | sha256sum | cut -c1-12
}
