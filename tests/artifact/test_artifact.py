"""The collection as users get it: the built tarball, checked as Galaxy checks an upload, and installed offline
into an empty collections path next to its dependencies, then used from a playbook of the user's own, outside the
checkout (no ansible.cfg, no .venv/collections link)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from playbooks import play_recap  # tests/playbooks/play_recap.py: the one reader of a PLAY RECAP

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# galaxy-importer and ansible-builder (make setup; requirements/importer.txt).
IMPORTER_BIN = ROOT / ".venv-importer" / "bin"
DEVELOPMENT_COLLECTIONS = ROOT / ".venv" / "collections" / "ansible_collections"


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without Ansible settings (the Makefile exports a collections path with the checkout)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PYTHONPATH"))}
    return dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", **extra)


def run(cmd: list, cwd: Path, env: dict[str, str] | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env or clean_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("artifact")
    proc = run([VENV_BIN / "ansible-galaxy", "collection", "build", "--output-path", out, ROOT], cwd=out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tarball,) = out.glob("iomesh-multicluster-*.tar.gz")
    return tarball


@pytest.fixture(scope="module")
def manifest(artifact) -> dict:
    with tarfile.open(artifact) as tar:
        return json.load(tar.extractfile("MANIFEST.json"))


@pytest.fixture(scope="module")
def installed(artifact, manifest, tmp_path_factory) -> Path:
    """An empty collections path holding the dependencies the manifest declares (and theirs), then the tarball
    installed into it with `ansible-galaxy collection install --offline`, as an air-gapped user would."""
    path = tmp_path_factory.mktemp("collections")
    for dep in manifest["collection_info"]["dependencies"]:
        namespace, name = dep.split(".")
        (path / "ansible_collections" / namespace).mkdir(parents=True, exist_ok=True)
        (path / "ansible_collections" / namespace / name).symlink_to(DEVELOPMENT_COLLECTIONS / namespace / name)
    # community.general's own dependency.
    (path / "ansible_collections" / "community" / "library_inventory_filtering_v1").symlink_to(
        DEVELOPMENT_COLLECTIONS / "community" / "library_inventory_filtering_v1")
    proc = run([VENV_BIN / "ansible-galaxy", "collection", "install", "--offline", artifact, "-p", path],
               cwd=path, env=clean_env(ANSIBLE_COLLECTIONS_PATH=str(path)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (path / "ansible_collections" / "iomesh" / "multicluster" / "MANIFEST.json").is_file()
    assert not (path / "ansible_collections" / "iomesh" / "multicluster").is_symlink()
    return path


def test_check_build_refuses_a_development_file_and_a_role_without_readme(tmp_path):
    """scripts/check_build.py (make build) lets only the collection's content through, and wants a README per role
    (Galaxy refuses a role without one)."""
    member = tmp_path / "member"
    member.write_text("x")

    def judge(*names: str) -> str:
        bad = tmp_path / "bad.tar.gz"
        with tarfile.open(bad, "w:gz") as tar:
            for name in names:
                tar.add(member, arcname=name)
        proc = run([sys.executable, ROOT / "scripts" / "check_build.py", bad], cwd=tmp_path)
        assert proc.returncode != 0     # REQUIRED files are missing from every one of these
        return proc.stderr

    for name in ("tests/unit/test_x.py", "pytest.ini", ".hypothesis/constants/1", "roles/iomesh_mgmt/molecule/x.yml",
                 "changelogs/fragments/x.yml", "site.yml"):
        assert f"unexpected ['{name}']" in judge(name, "README.md"), name
    assert "unexpected []" in judge("roles/iomesh_mgmt/tasks/main.yml", "docs/x.md", "inventories/a/hosts.yml")
    assert "'roles/iomesh_x/README.md'" in judge("roles/iomesh_x/tasks/main.yml")
    assert "'roles/iomesh_x/README.md'" not in judge("roles/iomesh_x/tasks/main.yml", "roles/iomesh_x/README.md")


def test_the_artifact_carries_the_released_changelog_of_its_version(artifact, manifest):
    """antsibull-changelog release wrote CHANGELOG.rst and changelogs/changelog.yaml for the version galaxy.yml
    ships, and every changelog fragment of that version was consumed."""
    version = manifest["collection_info"]["version"]
    with tarfile.open(artifact) as tar:
        changelog = tar.extractfile("CHANGELOG.rst").read().decode()
        releases = yaml.safe_load(tar.extractfile("changelogs/changelog.yaml"))["releases"]
    assert f"\nv{version}\n" in changelog
    assert version in releases and releases[version]["changes"]["release_summary"]
    assert sorted((ROOT / "changelogs" / "fragments").glob("*.yml")) == [] or version not in releases, (
        "fragments are left beside a released version: run antsibull-changelog release for the next one")


def test_galaxy_importer_accepts_the_artifact(artifact, tmp_path):
    """galaxy-importer, the checker Galaxy runs on every upload (ansible-doc of every plugin and role, ansible-lint
    production, the changelog, the EE metadata). Galaxy's importer has no other collection installed, so the lint
    cannot resolve a module of a dependency (community.general.modprobe in an imported task file): the only findings
    allowed are those, each naming a declared dependency."""
    config = tmp_path / "galaxy-importer.cfg"
    config.write_text("[galaxy-importer]\nRUN_ANSIBLE_LINT = True\nCHECK_CHANGELOG = True\nLOG_LEVEL_MAIN = INFO\n"
                      f"ANSIBLE_LOCAL_TMP = {tmp_path / 'ansible-tmp'}\n")
    proc = run([IMPORTER_BIN / "python", "-m", "galaxy_importer.main", artifact], cwd=tmp_path,
               env=clean_env(GALAXY_IMPORTER_CONFIG=str(config), PATH=f"{IMPORTER_BIN}:{os.environ['PATH']}"))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Importer processing completed successfully" in output, output[-3000:]
    findings = [ln for ln in output.splitlines() if ln.startswith(("WARNING", "ERROR"))]
    unexpected = [ln for ln in findings if not (
        "couldn't resolve module/action 'community.general." in ln
        or "Failed to load prereq.yml playbook due to failing syntax check" in ln)]
    assert unexpected == [], "\n".join(findings)
    result = json.loads((tmp_path / "importer_result.json").read_text())
    roles = sorted(c["name"] for c in result["contents"] if c["content_type"] == "role")
    assert roles == ["iomesh_cluster", "iomesh_csi", "iomesh_disks", "iomesh_license", "iomesh_mgmt",
                     "iomesh_preflight", "iomesh_prereq", "iomesh_report", "iomesh_teardown", "iomesh_verify"]


def test_ansible_lint_production_passes_on_the_installed_artifact(installed):
    """The unpacked collection, with its dependencies beside it, is clean under the production profile."""
    collection = installed / "ansible_collections" / "iomesh" / "multicluster"
    proc = run([VENV_BIN / "ansible-lint", "--profile", "production", "--offline", "--nocolor"], cwd=collection,
               env=clean_env(ANSIBLE_COLLECTIONS_PATH=str(installed)))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Profile 'production' was required, and it passed" in output, output[-3000:]


INVENTORY = {
    "all": {
        "children": {
            "store_core": {"hosts": {"w-a1": {}, "w-a2": {}, "w-a3": {}}},
            "store_edge": {"hosts": {"w-b1": {}, "w-b2": {}, "w-b3": {}}},
        },
        "vars": {
            "iomesh_chart_version": "v1.1.0",
            "iomesh_clusters": [
                {"name": "blk-core", "namespace": "store-sys", "management": True, "hosts_group": "store_core",
                 "data_cidr": "172.20.8.0/24"},
                {"name": "blk-edge", "namespace": "edge-ns", "hosts_group": "store_edge", "data_cidr": "172.20.9.0/24"},
            ],
        },
    },
}

USER_PLAYBOOK = """\
---
- name: The collection's chain (this run selects its preflight by tag)
  ansible.builtin.import_playbook: iomesh.multicluster.site

- name: A role and a filter of the collection, by their fully qualified names
  hosts: localhost
  connection: local
  gather_facts: false
  tags: [user_checks]
  roles:
    - role: iomesh.multicluster.iomesh_preflight
  tasks:
    - name: Print each cluster's nodes as the collection computes them
      ansible.builtin.debug:
        msg: >-
          {% for cluster in iomesh_clusters | iomesh.multicluster.iomesh_topology(groups, hostvars) -%}
          {{ cluster.name }}={{ cluster.nodes | join(',') }};
          {%- endfor %}
"""


def test_a_users_playbook_runs_the_installed_collection(installed, tmp_path):
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(INVENTORY))
    (tmp_path / "deploy.yml").write_text(USER_PLAYBOOK)
    proc = run([VENV_BIN / "ansible-playbook", "deploy.yml", "-i", "hosts.yml", "--tags", "iomesh_preflight,user_checks",
                "-e", "iomesh_preflight_kubernetes=false"], cwd=tmp_path,
               env=clean_env(ANSIBLE_COLLECTIONS_PATH=str(installed), HOME=str(tmp_path)))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    # Preflight ran twice (the site playbook's play, then the role by name), from the installed copy.
    assert output.count("TASK [iomesh.multicluster.iomesh_preflight : ") >= 2, output[-4000:]
    assert '"msg": "blk-core=w-a1,w-a2,w-a3;blk-edge=w-b1,w-b2,w-b3;"' in output, output[-4000:]
    assert str(ROOT) not in output, "the checkout was used instead of the installed collection"
    # The storage hosts' play selected by tag away: no warning about its host pattern.
    assert "[WARNING]" not in output, output[-4000:]
    recap = play_recap.counts(output)
    assert recap["changed"] == 0 and recap["failed"] == 0, output[-4000:]


def test_the_execution_environment_definition_builds_a_context(tmp_path):
    """ansible-builder turns docs/execution-environment.yml into a build context (the image itself needs a registry
    and the Internet): the collection from Galaxy requirements, helm checked against its published checksum."""
    proc = run([IMPORTER_BIN / "ansible-builder", "create", "-f", ROOT / "docs" / "execution-environment.yml",
                "-c", tmp_path / "context"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (tmp_path / "context" / "Containerfile").read_text()
    requirements = yaml.safe_load((tmp_path / "context" / "_build" / "requirements.yml").read_text())
    assert requirements == {"collections": [{"name": "iomesh.multicluster"}]}
    assert "sha256sum -c helm-${HELM_VERSION}-linux-amd64.tar.gz.sha256sum" in containerfile
    assert containerfile.index("install -m 0755 linux-amd64/helm") < containerfile.index("USER 1000")
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    assert "kubernetes>=24.2.0" in (ROOT / "requirements.txt").read_text().splitlines()
