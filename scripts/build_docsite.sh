#!/usr/bin/env bash
# Build the docs site (make docsite) into build/docsite/ (open build/docsite/index.html): the collection's roles,
# filters and modules as antsibull-docs documents them, and the extra pages of docs/docsite/ (thin RST pages that
# include the Markdown documents). Sphinx warnings are errors. Needs antsibull-docs, Sphinx, sphinx-ansible-theme,
# myst-parser (requirements/dev.txt), Graphviz's dot and the collection on ANSIBLE_COLLECTIONS_PATH (make setup).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=${DOCSITE_SRC:-$root/build/docsite-src}
out=${DOCSITE_OUT:-$root/build/docsite}
conf=$root/docs/docsite/sphinx
cd "$root"

antsibull-docs lint-collection-docs --plugin-docs .

rm -rf "$src" "$out"
mkdir -p "$src"
chmod og-w "$src"  # antsibull-docs wants its output directory writable by itself only
antsibull-docs --config-file "$conf/antsibull-docs.cfg" collection --use-current --cleanup everything \
  --dest-dir "$src" iomesh.multicluster
cp "$conf/index.rst" "$src/index.rst"
mkdir -p "$src/_generated"
ansible-playbook "$conf/topology.yml" -i inventories/seed-example -e docsite_topology_dir="$src/_generated" >/dev/null

sphinx-build -b html -c "$conf" -d "$src/.doctrees" -W --keep-going -q "$src" "$out"
echo "docs site: $out/index.html"
