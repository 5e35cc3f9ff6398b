"""Write the inventory contract (plugins/plugin_utils/contract.py) into every role's meta/argument_specs.yml and the
README's contract tables; with --check, only report what is out of date (exit 1), as tests/unit/test_contract.py does.

A role's own options (iomesh_<role>_*) stay as written in its argument_specs.yml; the contract's options that the role
reads are replaced by the contract's declaration, so each is written once.

Usage: .venv/bin/python scripts/argument_specs.py [--check]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".venv" / "collections"))

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import contract  # noqa: E402

HEADER = ("# The options declared in plugins/plugin_utils/contract.py (iomesh_clusters and the collection-wide\n"
          "# variables) are written here by scripts/argument_specs.py: change them there, then run it.\n")
KEY_ORDER = ("description", "type", "elements", "required", "default", "choices", "options")
README_TABLES = {
    "settings": "<!-- contract: collection-wide variables (scripts/argument_specs.py) -->",
    "clusters": "<!-- contract: iomesh_clusters keys (scripts/argument_specs.py) -->",
}
README_END = "<!-- end of contract table -->"


class _Dumper(yaml.SafeDumper):
    """Block style with indented sequences, as the rest of the repository's YAML."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _ordered(spec: dict) -> dict:
    out = {key: spec[key] for key in KEY_ORDER if key in spec}
    out.update({key: value for key, value in spec.items() if key not in out})
    if "options" in out:
        out["options"] = {name: _ordered(sub) for name, sub in out["options"].items()}
    return out


def role_spec(role: str, current: dict) -> dict:
    """The role's argument specs with the contract's options it reads: the list first, the role's own, the rest."""
    specs = {}
    shared = contract.role_options(role)
    for entry_point, spec in current["argument_specs"].items():
        own = {name: value for name, value in (spec.get("options") or {}).items() if name not in contract.NAMES}
        options = {name: shared[name] for name in contract.CLUSTERS if name in shared}
        options.update(own)
        options.update({name: value for name, value in shared.items() if name not in options})
        specs[entry_point] = dict(spec, options={name: _ordered(value) for name, value in options.items()})
    return {"argument_specs": specs}


def render_spec(spec: dict) -> str:
    body = yaml.dump(spec, Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True, default_flow_style=False)
    return "---\n" + HEADER + body


def _markdown(text: str) -> str:
    """Ansible doc markup (C(), I(), V(), O()) as Markdown."""
    return re.sub(r"\b[CIVO]\(([^()]*(?:\([^()]*\))?[^()]*)\)", r"`\1`", text)


def _default(spec: dict) -> str:
    if "default" not in spec:
        return "—"
    value = spec["default"]
    if isinstance(value, bool):
        value = str(value).lower()
    return f'`{value}`' if value != "" else '`""`'


def readme_tables() -> dict[str, str]:
    settings = ["| Variable | Type | Default | Meaning |", "|---|---|---|---|"]
    for name, spec in {**contract.SETTINGS, **contract.GUARDS}.items():
        settings.append(f"| `{name}` | {spec['type']} | {_default(spec)} | {_markdown(spec['description'])} |")
    clusters = ["| Key | Type | Default | Rule |", "|---|---|---|---|"]
    for name, spec in contract.CLUSTER_OPTIONS.items():
        clusters.append(f"| `{name}` | {spec['type']} | {_default(spec)} | {_markdown(spec['description'])} |")
    for name, spec in contract.STORAGE_CLASS_OPTIONS.items():
        clusters.append(f"| `storage_class.{name}` | {spec['type']} | {_default(spec)} | "
                        f"{_markdown(spec['description'])} |")
    return {"settings": "\n".join(settings), "clusters": "\n".join(clusters)}


def render_readme(text: str) -> str:
    for key, table in readme_tables().items():
        marker = README_TABLES[key]
        start = text.index(marker) + len(marker)
        end = text.index(README_END, start)
        text = text[:start] + "\n" + table + "\n" + text[end:]
    return text


def wanted_files() -> dict[Path, str]:
    """Every file this script writes, with the content it must have."""
    out = {}
    for path in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        role = path.parents[1].name
        out[path] = render_spec(role_spec(role, yaml.safe_load(path.read_text(encoding="utf-8"))))
    readme = ROOT / "README.md"
    out[readme] = render_readme(readme.read_text(encoding="utf-8"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report out-of-date files instead of writing them")
    args = parser.parse_args()
    wanted = wanted_files()
    stale = [path for path, text in wanted.items() if path.read_text(encoding="utf-8") != text]
    for path in stale:
        if args.check:
            print(f"{path.relative_to(ROOT)} is out of date: run scripts/argument_specs.py")
        else:
            path.write_text(wanted[path], encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
