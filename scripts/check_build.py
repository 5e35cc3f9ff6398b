"""Check the built collection artifact: the collection's content is in it and nothing else."""

import sys
import tarfile

REQUIRED = {
    "MANIFEST.json", "FILES.json", "README.md", "LICENSE", "meta/runtime.yml", "site.yml",
    "playbooks/site.yml", "playbooks/preflight.yml", "plugins/filter/iomesh.py",
    "plugins/plugin_utils/topology.py", "plugins/plugin_utils/render.py",
    "roles/iomesh_preflight/tasks/main.yml", "roles/iomesh_preflight/meta/argument_specs.yml",
    "playbooks/mgmt.yml", "playbooks/cluster.yml", "plugins/action/iomesh_wait.py", "plugins/modules/iomesh_wait.py",
    "roles/iomesh_mgmt/tasks/main.yml", "roles/iomesh_cluster/tasks/main.yml",
    "playbooks/disks.yml", "playbooks/csi.yml", "playbooks/verify.yml", "playbooks/report.yml",
    "roles/iomesh_disks/tasks/main.yml", "roles/iomesh_csi/tasks/main.yml", "roles/iomesh_verify/tasks/main.yml",
    "roles/iomesh_report/tasks/main.yml",
}
FORBIDDEN_PREFIXES = (".venv/", ".testbed/", ".git/", "testbed/", "tests/output/", "build/", "scripts/",
                      "molecule/", ".demo/")

(path,) = sys.argv[1:]
with tarfile.open(path) as tar:
    names = {m.name.removeprefix("./") for m in tar.getmembers()}
missing = sorted(REQUIRED - names)
extra = sorted(n for n in names if n.startswith(FORBIDDEN_PREFIXES) or "__pycache__" in n)
if missing or extra:
    sys.exit(f"check_build: {path}: missing {missing}, unexpected {extra[:20]}")
print(f"check_build: {path} holds {len(names)} entries, all expected")
