#!/usr/bin/env bash
# `make demo`: the whole site.yml on inventories/seed-example against the testbed, which it (re)starts with the
# seed's six nodes, their BlockDevices and - as root with podman - a Debian 12 host per node for the prereq stage.
# Leaves the testbed running (export KUBECONFIG=$PWD/.testbed/kubeconfig; make testbed-down stops it) and prints
# where the report is. DEMO_INVENTORY=inventories/three-clusters runs the nine-node sample instead.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
inventory=${DEMO_INVENTORY:-inventories/seed-example}
testbed_dir=${TESTBED_DIR:-$root/.testbed}
demo_dir=$root/.demo
export TESTBED_DIR=$testbed_dir
export CONTAINERS_CONF=$root/testbed/hosts/containers.conf

hosts=0
skip=()
if [[ $(id -u) == 0 ]] && command -v podman >/dev/null && { podman image exists localhost/iomesh-testbed-debian12:latest \
    || command -v debootstrap >/dev/null; }; then
  hosts=1
else
  skip=(--skip-tags iomesh_prereq)
  echo "demo: no root or podman here, so no test hosts: the prereq stage is skipped (--skip-tags iomesh_prereq)"
fi

nodes=$(ansible-inventory -i "$inventory" --list | python3 -c '
import json, sys
inv = json.load(sys.stdin)
print(" ".join(sorted(inv["_meta"]["hostvars"])))')

python -m iomesh_testbed down >/dev/null 2>&1 || true
TESTBED_NODES=$nodes TESTBED_HOSTS=$hosts python -m iomesh_testbed up

mkdir -p "$demo_dir"
ansible-playbook testbed/overlay.yml -i "$inventory" \
  -e "testbed_dir=$testbed_dir overlay_dir=$demo_dir overlay_hosts=$hosts" \
  -e "{\"overlay_vars\": {\"iomesh_report_dir\": \"$demo_dir\"}}"

start=$SECONDS
ansible-playbook site.yml -i "$inventory" -i "$demo_dir/hosts.yml" -e "@$demo_dir/target.yml" "${skip[@]}"
echo
echo "demo: site.yml passed in $((SECONDS - start)) s on $inventory"
echo "demo: report  $demo_dir/iomesh-report.md"
[[ -f $demo_dir/iomesh-topology.svg ]] && echo "demo: picture $demo_dir/iomesh-topology.svg"
echo "demo: the testbed is still up: export KUBECONFIG=$testbed_dir/kubeconfig; make testbed-down stops it"
