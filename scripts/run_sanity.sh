#!/usr/bin/env bash
# Run `ansible-test sanity` on the collection content.
# ansible-test needs the collection under .../ansible_collections/iomesh/multicluster, so the files git knows
# (tracked, or untracked and not ignored) are copied there. testbed/ is left out: it is a separate
# test package, not collection content (galaxy.yml build_ignore excludes it from the artifact too).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${SANITY_WORKDIR:-$(mktemp -d)}
dest="$work/ansible_collections/iomesh/multicluster"
rm -rf "$dest" && mkdir -p "$dest"
cd "$root"
git ls-files --cached --others --exclude-standard -z | grep -zv '^testbed/' \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | rsync -a --from0 --files-from=- ./ "$dest/"
# The collections this one depends on (galaxy.yml), beside it as ansible-galaxy installs them: ansible-test finds
# them there (imports of kubernetes.core's module_utils, its documentation fragment), and tests only this one.
for dep in kubernetes/core ansible/posix community/general; do
  mkdir -p "$work/ansible_collections/$(dirname "$dep")"
  cp -r "$root/.venv/collections/ansible_collections/$dep" "$work/ansible_collections/$dep"
done
cd "$dest"
# ansible-test wants a git repository to know which files belong to the collection.
git init -q && git add -A && git -c user.email=ci@localhost -c user.name=ci commit -qm sanity
python_version=$(python -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
exec ansible-test sanity --venv --python "$python_version" --color no "$@"
