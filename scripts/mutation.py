"""Mutation testing of the decision code (plugins/) against the unit tests, with mutmut 3.

Usage: scripts/mutation.py [FILE ...] [--tests PATH ...] [--threshold PCT] [--jobs N] [--keep]
       scripts/mutation.py --sample        (the test command's sample: SAMPLE_FILES, SAMPLE_TESTS, SAMPLE_THRESHOLD)

mutmut copies the sources into mutants/ and derives each module's name from its path. The plugins import
themselves as ansible_collections.iomesh.multicluster.plugins..., so the checkout is copied into a temporary
directory at ansible_collections/iomesh/multicluster/ and mutmut runs there: the module names match, and the
working tree is never modified, even when a run is interrupted. mutmut runs each mutant only against the tests
that called the mutated function in its first (stats) run; --tests narrows that first run (the sample uses it).

Prints per file: mutants, killed, survived, timeout, equivalent, score, then every surviving mutant
(file:line, function, the mutation). The score is (killed + timeout) / (mutants - equivalent); a mutant that no
test reaches counts as surviving. Mutants listed in tests/mutation/equivalent.txt (reviewed: changing them
cannot change behaviour) are left out of the score. Exits 1 when a file's score is below --threshold.
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTION = Path("ansible_collections/iomesh/multicluster")
EQUIVALENT_FILE = ROOT / "tests/mutation/equivalent.txt"
DEFAULT_TESTS = ["tests/unit"]
# The sample the test command runs (make mutation-sample, tests/mutation/test_mutation_sample.py): a small, stable
# file whose mutants its own unit tests decide in well under a minute. Raise the threshold as survivors are killed.
SAMPLE_FILES = ["plugins/plugin_utils/names.py"]
SAMPLE_TESTS = ["tests/unit/plugins/plugin_utils/test_names.py"]
SAMPLE_THRESHOLD = 95.0
# The other collections the unit tests import (kubernetes.core's API client, for the action plugins).
VENV_COLLECTIONS = ROOT / ".venv/collections/ansible_collections"
KILLED = {1, 3, 37}
TIMEOUT = {24, -24, 36, 152, 255}
MUTANT_KEY = re.compile(r"^(?P<module>.+)\.x(?:_|ǁ)(?P<function>.+?)__mutmut_(?P<number>\d+)$")


def default_files() -> list[str]:
    utils = sorted(p for p in (ROOT / "plugins/plugin_utils").glob("*.py") if p.name != "__init__.py")
    actions = ["plugins/action/iomesh_read.py", "plugins/action/iomesh_wait.py", "plugins/action/iomesh_helm.py"]
    return [str(p.relative_to(ROOT)) for p in utils] + actions


@dataclass
class Mutant:
    file: str
    function: str
    line: int
    removed: list[str]
    added: list[str]
    status: str

    def key(self) -> str:
        """How tests/mutation/equivalent.txt names a mutant: stable while the mutated code does not change."""
        return f"{self.file}::{self.function}::{' / '.join(self.added) or '(line removed)'}"


@dataclass
class FileResult:
    file: str
    mutants: list[Mutant] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for m in self.mutants if m.status == status)

    def score(self) -> float:
        relevant = len(self.mutants) - self.count("equivalent")
        if relevant == 0:
            return 100.0
        return 100.0 * (self.count("killed") + self.count("timeout")) / relevant


def load_equivalent(path: Path) -> dict[str, str]:
    """Lines `file::function::mutated line  ## why`; blank lines and lines starting with # are comments."""
    entries: dict[str, str] = {}
    if not path.is_file():
        return entries
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, why = line.partition("  ## ")
        if not sep or not why.strip():
            sys.exit(f"{path}:{number}: expected `file::function::mutated line  ## why`, got {raw!r}")
        entries[key.strip()] = why.strip()
    return entries


def copy_checkout(base: Path) -> None:
    """The checkout's files (tracked and untracked, as in the working tree) at base/ansible_collections/iomesh/multicluster."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    target = base / COLLECTION
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if name.startswith(("testbed/", "molecule/")) or not source.is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    # Tests that run ansible-playbook start Python processes in the collection's directory; under mutmut's stats run
    # their mutated plugins look for mutmut's configuration there (the hits they record are not collected).
    (target / "pyproject.toml").write_text('[tool.mutmut]\nsource_paths = ["plugins"]\n', encoding="utf-8")
    # Other collections (not this one: it must come from mutants/ only).
    others = base / "collections/ansible_collections"
    others.mkdir(parents=True)
    if VENV_COLLECTIONS.is_dir():
        for namespace in VENV_COLLECTIONS.iterdir():
            if namespace.name != "iomesh":
                (others / namespace.name).symlink_to(namespace.resolve())


def write_config(base: Path, files: list[str], tests: list[str]) -> None:
    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(json.dumps(str(i)) for i in items) + "]"

    (base / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        f"source_paths = {toml_list([COLLECTION / 'plugins'])}\n"
        f"only_mutate = {toml_list([COLLECTION / f for f in files])}\n"
        f"also_copy = {toml_list([COLLECTION])}\n"
        f"pytest_add_cli_args_test_selection = {toml_list([COLLECTION / t for t in tests])}\n"
        # Tests that start fresh interpreters (pytest.ini marker) would run for every mutant they cover: seconds each.
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-m", "not fresh_interpreters"]\n'
        "use_git_change_detection = false\n",
        encoding="utf-8",
    )


@functools.lru_cache(maxsize=None)
def function_span(source: str, function: str) -> tuple[int, int] | None:
    """First and last line of a function (`name` or `Class.name`) in a module."""
    path = function.split("ǁ") if "ǁ" in function else [function]
    nodes: list[ast.AST] = list(ast.parse(source).body)
    node = None
    for part in [p for p in path if p]:
        node = next(
            (n for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == part),
            None,
        )
        if node is None:
            return None
        nodes = list(node.body)
    return (node.lineno, node.end_lineno or node.lineno) if node else None


def locate(source_lines: list[str], span: tuple[int, int] | None, removed: list[str], hunk_start: int) -> int:
    if span is None:
        return 0
    first, last = span
    if removed:
        for number in range(first, last + 1):
            if source_lines[number - 1].strip() == removed[0]:
                return number
    return first + max(hunk_start - 1, 0)


def collect(base: Path, files: list[str], equivalent: dict[str, str]) -> tuple[list[FileResult], set[str]]:
    sys.path.insert(0, str(base))
    os.chdir(base)
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # pylint: disable=import-outside-toplevel

    used: set[str] = set()
    results = []
    for name in files:
        result = FileResult(name)
        results.append(result)
        meta = base / "mutants" / COLLECTION / f"{name}.meta"
        if not meta.is_file():
            continue
        source = (ROOT / name).read_text(encoding="utf-8")
        source_lines = source.splitlines()
        exit_codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        for key, code in sorted(exit_codes.items(), key=lambda kv: natural(kv[0])):
            match = MUTANT_KEY.match(key)
            function = match.group("function") if match else key
            diff = get_diff_for_mutant(key, path=COLLECTION / name).splitlines()[2:]
            removed = [d[1:].strip() for d in diff if d.startswith("-")]
            added = [d[1:].strip() for d in diff if d.startswith("+")]
            hunk = next((re.match(r"@@ -(\d+)", d) for d in diff if d.startswith("@@")), None)
            line = locate(source_lines, function_span(source, function), removed, int(hunk.group(1)) if hunk else 1)
            status = "killed" if code in KILLED else "timeout" if code in TIMEOUT else "survived"
            if code is None:
                status = "not checked"
            mutant = Mutant(name, function.replace("ǁ", ".").strip("."), line, removed, added, status)
            if status == "survived" and mutant.key() in equivalent:
                mutant.status = "equivalent"
                used.add(mutant.key())
            if code in (5, 33):
                mutant.status = "survived"  # no test reaches the function
            result.mutants.append(mutant)
    return results, used


def natural(key: str) -> tuple[str, int]:
    match = MUTANT_KEY.match(key)
    return (match.group("function"), int(match.group("number"))) if match else (key, 0)


def report(results: list[FileResult], threshold: float, equivalent: dict[str, str], used: set[str]) -> int:
    header = f"{'file':<44} {'mutants':>7} {'killed':>6} {'survived':>8} {'timeout':>7} {'equiv':>5} {'score':>7}"
    print(header)
    print("-" * len(header))
    below = []
    for r in results:
        score = r.score()
        flag = "" if score >= threshold else "  < threshold"
        if flag:
            below.append(r.file)
        print(
            f"{r.file:<44} {len(r.mutants):>7} {r.count('killed'):>6} {r.count('survived'):>8} "
            f"{r.count('timeout'):>7} {r.count('equivalent'):>5} {score:>6.1f}%{flag}"
        )
    survivors = [m for r in results for m in r.mutants if m.status in ("survived", "not checked")]
    if survivors:
        print(f"\nSurviving mutants ({len(survivors)}); an equivalent one goes into {EQUIVALENT_FILE.relative_to(ROOT)}")
        print("as the line after `key:` followed by `  ## why`:")
        for m in survivors:
            print(f"  {m.file}:{m.line} in {m.function}(): {' / '.join(m.removed)!s}  ->  {' / '.join(m.added)!s}")
            print(f"      key: {m.key()}")
    checked = {r.file for r in results}
    stale = [k for k in equivalent if k not in used and k.split("::", 1)[0] in checked]
    if stale:
        print("\nEntries of equivalent.txt that match no surviving mutant (remove or update them):")
        for key in stale:
            print(f"  {key}")
    if below:
        print(f"\nBelow the threshold of {threshold:g} %: {', '.join(below)}")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("files", nargs="*", help="files to mutate, relative to the repository root (default: plugin_utils and the read, wait and helm actions)")
    parser.add_argument("--tests", nargs="+", default=DEFAULT_TESTS, help="the tests mutmut's stats run starts from (default: tests/unit)")
    parser.add_argument("--threshold", type=float, default=0.0, help="fail when a file's score (%%) is below this")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--sample", action="store_true", help="the test command's sample, with its threshold")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (mutmut browse/show work there)")
    parser.add_argument("--equivalent", type=Path, default=EQUIVALENT_FILE, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.sample:
        if args.files:
            parser.error("--sample takes no files")
        args.files, args.tests, args.threshold = SAMPLE_FILES, SAMPLE_TESTS, max(args.threshold, SAMPLE_THRESHOLD)
    files = args.files or default_files()
    for name in files + args.tests:
        if not (ROOT / name).exists():
            parser.error(f"{name} does not exist under {ROOT}")
    equivalent = load_equivalent(args.equivalent)
    mutmut = shutil.which("mutmut", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if mutmut is None:
        parser.error("mutmut is not installed (it is in requirements/dev.in: make setup)")

    base = Path(tempfile.mkdtemp(prefix="iomesh-mutation-"))
    try:
        copy_checkout(base)
        write_config(base, files, args.tests)
        env = dict(os.environ)
        # The mutated collection first, then the other collections; never this checkout.
        paths = [str(base / "mutants"), str(base / "collections")]
        env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(paths)
        env["PYTHONPATH"] = os.pathsep.join([str(base / "collections")] + [p for p in [env.get("PYTHONPATH")] if p])
        env["PY_COLORS"] = "0"
        run = subprocess.run(
            [mutmut, "run", "--max-children", str(args.jobs)],
            cwd=base,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            print(run.stdout[-6000:])
            print(f"mutmut run failed (exit {run.returncode})", file=sys.stderr)
            return 2
        results, used = collect(base, files, equivalent)
        return report(results, args.threshold, equivalent, used)
    finally:
        os.chdir(ROOT)
        if args.keep:
            print(f"\nmutmut's directory: {base} (cd there; mutmut show/browse)")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
