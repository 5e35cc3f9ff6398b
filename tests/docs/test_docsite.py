"""The docs site (make docsite, scripts/build_docsite.sh): it builds with Sphinx warnings as errors, and a browser
shows its roles, each role's variables and the topology picture."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DEVELOPMENT_COLLECTIONS = ROOT / ".venv" / "collections" / "ansible_collections"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())


def build(repository: Path, collections: Path, out: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               DOCSITE_SRC=str(out / "src"), DOCSITE_OUT=str(out / "html"))
    return subprocess.run([repository / "scripts" / "build_docsite.sh"], cwd=repository, env=env, capture_output=True,
                          text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docsite")
    proc = build(ROOT, DEVELOPMENT_COLLECTIONS.parent, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stdout + proc.stderr
    return out / "html"


@pytest.fixture(scope="module")
def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"no headless browser ({', '.join(BROWSERS)}): .ci/run installs Debian's chromium")
    pytest.skip(f"no headless browser ({', '.join(BROWSERS)}); apt-get install chromium")


def rendered(browser: str, page: Path, tmp_path: Path) -> str:
    """The page's DOM after the browser loaded it."""
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'browser-profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and "</html>" in proc.stdout, proc.stderr
    return proc.stdout


class Elements(HTMLParser):
    """The attributes of every element of one tag."""

    def __init__(self, tag: str):
        super().__init__()
        self.tag, self.found = tag, []

    def handle_starttag(self, tag, attrs):
        if tag == self.tag:
            self.found.append(dict(attrs))


def elements(dom: str, tag: str) -> list[dict]:
    parser = Elements(tag)
    parser.feed(dom)
    return parser.found


def repository_copy(tmp_path: Path) -> Path:
    """The files git knows, copied (testbed/ and tests/ left out: the site does not read them)."""
    names = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    copy = tmp_path / "ansible_collections" / "iomesh" / "multicluster"
    for name in names:
        if name and not name.startswith(("testbed/", "tests/")) and (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    return copy


def test_every_role_is_listed_on_the_front_page(site, browser, tmp_path):
    assert ROLES
    links = {a.get("href") for a in elements(rendered(browser, site / "index.html", tmp_path), "a")}
    for role in ROLES:
        assert f"collections/iomesh/multicluster/{role}_role.html" in links, role
        assert (site / "collections" / "iomesh" / "multicluster" / f"{role}_role.html").is_file(), role


@pytest.mark.parametrize("role", ROLES)
def test_a_role_page_lists_the_variables_of_its_argument_spec(site, browser, tmp_path, role):
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    options = spec["argument_specs"]["main"].get("options") or {}
    assert options, role
    dom = rendered(browser, site / "collections" / "iomesh" / "multicluster" / f"{role}_role.html", tmp_path)
    ids = {e.get("id") for tag in ("div", "span", "a") for e in elements(dom, tag)}
    for option in options:
        assert f"parameter-main--{option}" in ids, (role, option)


def test_the_topology_page_shows_the_picture(site, browser, tmp_path):
    page = site / "collections" / "iomesh" / "multicluster" / "docsite" / "topology.html"
    images = [i["src"] for i in elements(rendered(browser, page, tmp_path), "img") if i.get("src", "").endswith(".svg")]
    assert images, "no SVG picture on the topology page"
    picture = (page.parent / images[0]).resolve()
    svg = html.unescape(picture.read_text(encoding="utf-8"))  # Graphviz writes "-" as &#45;
    assert "<svg" in svg
    # Drawn from the seed inventory: both of its clusters.
    assert "iomesh-cluster-1" in svg and "namespace iomesh-system" in svg


def test_a_broken_link_fails_the_build(tmp_path):
    """Sphinx warnings are errors: a Markdown link to a document that does not exist stops the build."""
    copy = repository_copy(tmp_path / "collections")
    for dep in DEVELOPMENT_COLLECTIONS.iterdir():
        if dep.name != "iomesh":
            (tmp_path / "collections" / "ansible_collections" / dep.name).symlink_to(dep)
    faults = copy / "docs" / "faults.md"
    faults.write_text(faults.read_text(encoding="utf-8") + "\nSee [the lost page](no-such-page.md).\n",
                      encoding="utf-8")
    proc = build(copy, tmp_path / "collections", tmp_path / "out")
    assert proc.returncode != 0
    assert "no-such-page.md" in proc.stdout + proc.stderr
