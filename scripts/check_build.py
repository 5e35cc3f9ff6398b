"""Check the built collection artifact: the collection's content is in it and nothing else.

Everything outside ALLOWED is a development file that galaxy.yml's build_ignore missed (tests, caches, tool state):
it would reach every user, and Galaxy's checks would lint it.
"""

import re
import sys
import tarfile

REQUIRED = {
    "MANIFEST.json", "FILES.json", "README.md", "LICENSE", "meta/runtime.yml", "meta/execution-environment.yml",
    "requirements.txt", "bindep.txt", "docs/execution-environment.yml", "changelogs/changelog.yaml",
    "playbooks/site.yml", "playbooks/preflight.yml", "plugins/filter/iomesh.py",
    "plugins/plugin_utils/topology.py", "plugins/plugin_utils/render.py",
    "roles/iomesh_preflight/tasks/main.yml", "roles/iomesh_preflight/meta/argument_specs.yml",
    "playbooks/mgmt.yml", "playbooks/cluster.yml", "plugins/action/iomesh_wait.py", "plugins/modules/iomesh_wait.py",
    "roles/iomesh_mgmt/tasks/main.yml", "roles/iomesh_cluster/tasks/main.yml",
    "playbooks/disks.yml", "playbooks/csi.yml", "playbooks/verify.yml", "playbooks/report.yml",
    "roles/iomesh_disks/tasks/main.yml", "roles/iomesh_csi/tasks/main.yml", "roles/iomesh_verify/tasks/main.yml",
    "roles/iomesh_report/tasks/main.yml",
}
# What an installed collection uses: its metadata and documents, plugins, roles, playbooks, sample inventories and the
# released changelog.
ALLOWED = re.compile(
    r"^(MANIFEST\.json|FILES\.json|README\.md|LICENSE|CHANGELOG\.rst|requirements\.txt|bindep\.txt"
    r"|changelogs/?|changelogs/changelog\.yaml"
    r"|(meta|docs|plugins|playbooks|inventories)(/.*)?"
    r"|roles(/iomesh_[a-z]+(/(README\.md|(defaults|files|meta|tasks|templates|vars)(/.*)?))?)?/?)$"
)

(path,) = sys.argv[1:]
with tarfile.open(path) as tar:
    names = {m.name.removeprefix("./") for m in tar.getmembers()}
missing = sorted(REQUIRED - names)
# Galaxy refuses a role without a README.
roles = {n.split("/")[1] for n in names if n.startswith("roles/") and n.count("/") > 1}
missing += sorted(f"roles/{r}/README.md" for r in roles if f"roles/{r}/README.md" not in names)
extra = sorted(n for n in names if not ALLOWED.match(n) or "__pycache__" in n or n.endswith(".pyc"))
if missing or extra:
    sys.exit(f"check_build: {path}: missing {missing}, unexpected {extra[:20]}")
print(f"check_build: {path} holds {len(names)} entries, all expected")
