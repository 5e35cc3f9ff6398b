"""The inventory contract is declared once (contract.py) and reaches every role's argument spec and the README.

- scripts/argument_specs.py --check: no argument spec or README table differs from what the contract gives;
- every iomesh_* variable a role's tasks, templates and defaults read is an option of its argument spec (so
  `ansible-doc -t role` lists it and Ansible checks its type);
- Ansible's own argument-spec validator, the one a role runs before its first task, refuses a value of the wrong
  type for every typed option of every role, naming the option.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import jinja2
import jinja2.meta
import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import contract, topology

ROOT = Path(__file__).resolve().parents[4]
ROLES = sorted(path.name for path in (ROOT / "roles").iterdir() if (path / "meta" / "argument_specs.yml").is_file())
# Keywords whose value is a bare Jinja expression (no braces).
EXPRESSION_KEYS = ("when", "changed_when", "failed_when", "until", "that")


def _script():
    spec = importlib.util.spec_from_file_location("argument_specs", ROOT / "scripts" / "argument_specs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _options(role: str) -> dict:
    data = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return data["argument_specs"]["main"]["options"]


def test_argument_specs_and_readme_are_written_from_the_contract():
    script = _script()
    stale = [str(path.relative_to(ROOT)) for path, text in script.wanted_files().items()
             if path.read_text(encoding="utf-8") != text]
    assert stale == [], "run scripts/argument_specs.py"


def test_a_hand_edit_of_a_contract_option_is_found(tmp_path):
    """The check compares content: a role spec whose contract option was edited by hand is rewritten."""
    script = _script()
    current = yaml.safe_load((ROOT / "roles/iomesh_csi/meta/argument_specs.yml").read_text(encoding="utf-8"))
    current["argument_specs"]["main"]["options"]["iomesh_request_timeout"]["default"] = 30
    rewritten = yaml.safe_load(script.render_spec(script.role_spec("iomesh_csi", current)))
    assert rewritten["argument_specs"]["main"]["options"]["iomesh_request_timeout"]["default"] == 60
    assert "iomesh_csi_wait_timeout" in rewritten["argument_specs"]["main"]["options"]


def test_the_topology_applies_the_contracts_defaults():
    assert topology.SETTINGS_DEFAULTS["iomesh_request_timeout"] == 60
    assert topology.SETTINGS_DEFAULTS["iomesh_chart_version"] == "v1.0.1"
    assert topology.CLUSTER_KEYS == ("name", "namespace", "hosts_group", "management", "data_cidr",
                                     "disk_deployment_mode", "meta_replicas", "chunk_replicas", "zookeeper_replicas",
                                     "storage_class", "license_code", "license_file")
    assert topology.STORAGE_CLASS_DEFAULTS == {"fstype": "ext4", "replica_factor": "2", "thin_provision": "true",
                                               "reclaim_policy": "Delete", "volume_binding_mode": "Immediate",
                                               "allow_volume_expansion": True}


def test_the_defaults_of_a_group_of_options_are_those_it_declares_and_only_those():
    """What the topology and the argument specs take as defaults: options without one (a cluster's name, its
    chunk_replicas, which follow the node count) are left out, not given None."""
    assert contract.defaults(contract.CLUSTER_OPTIONS) == {"management": False, "disk_deployment_mode": "hybridFlash",
                                                           "meta_replicas": 3, "zookeeper_replicas": 3}
    assert contract.defaults(contract.STORAGE_CLASS_OPTIONS) == {
        "fstype": "ext4", "replica_factor": "2", "thin_provision": "true", "reclaim_policy": "Delete",
        "volume_binding_mode": "Immediate", "allow_volume_expansion": True,
    }
    assert contract.defaults({}) == {}


def _expressions(node: object, key: str = ""):
    """Every Jinja expression of a task file: templated strings, and the bare expressions of when/until/that."""
    if isinstance(node, dict):
        for k, value in node.items():
            yield from _expressions(value, str(k))
    elif isinstance(node, list):
        for value in node:
            yield from _expressions(value, key)
    elif isinstance(node, str):
        if "{{" in node or "{%" in node:
            yield node
        elif key in EXPRESSION_KEYS:
            yield "{{ " + node + " }}"


def _defined(node: object):
    """Names a role defines itself: registered results, set_fact keys, vars: keys, loop variables."""
    if isinstance(node, dict):
        for k, value in node.items():
            if k == "register" and isinstance(value, str):
                yield value
            if k in ("vars", "ansible.builtin.set_fact", "set_fact") and isinstance(value, dict):
                yield from value
            if k == "loop_var" and isinstance(value, str):
                yield value
            yield from _defined(value)
    elif isinstance(node, list):
        for value in node:
            yield from _defined(value)


class _AnyName(dict):
    """Every filter and test name exists (Ansible's, and FQCN ones): only the variables matter here."""

    def __contains__(self, name):
        return True

    def get(self, name, default=None):
        return super().get(name) or (lambda *args, **kwargs: None)


def role_reads(role: str) -> set[str]:
    """The iomesh_* variables a role's files read (Jinja's undeclared variables), minus what the role defines."""
    env = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
    env.filters, env.tests = _AnyName(env.filters), _AnyName(env.tests)
    base = ROOT / "roles" / role
    read, defined = set(), set()
    for path in sorted(base.glob("tasks/*.yml")) + sorted(base.glob("handlers/*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        defined.update(_defined(data))
        for text in _expressions(data):
            read |= jinja2.meta.find_undeclared_variables(env.parse(text))
    for path in sorted(base.glob("templates/*.j2")):
        read |= jinja2.meta.find_undeclared_variables(env.parse(path.read_text(encoding="utf-8")))
    for path in sorted(base.glob("defaults/*.yml")):
        for value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).values():
            for text in _expressions(value):
                read |= jinja2.meta.find_undeclared_variables(env.parse(text))
    return {name for name in read - defined if name.startswith("iomesh_")}


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_a_role_reads_is_in_its_argument_spec(role):
    options = _options(role)
    # The hosts' own variables are read through the plan from hostvars (README, "Per host"), not as role variables.
    missing = sorted(role_reads(role) - set(options) - set(topology.HOST_KEYS))
    assert missing == []


def test_the_scan_finds_what_a_role_reads():
    """The scan above is not vacuous: it finds variables the management stage is known to read (the settings it
    reads through its plan, which every Kubernetes role declares whole)."""
    assert {"iomesh_mgmt_wait_timeout", "iomesh_mgmt_extra_values", "iomesh_allow_downgrade",
            "iomesh_allow_single_cluster_conversion"} <= role_reads("iomesh_mgmt")
    assert "iomesh_report_dir" in role_reads("iomesh_report")


@pytest.mark.parametrize("role", ROLES)
def test_every_kubernetes_role_declares_the_contract(role):
    options = _options(role)
    assert options["iomesh_clusters"]["options"]["storage_class"]["options"]["reclaim_policy"]["type"] == "str"
    if role in contract.KUBERNETES_ROLES:
        assert options["iomesh_clusters"]["required"] is True
        assert set(contract.SETTINGS) <= set(options)
    else:
        assert not options["iomesh_clusters"].get("required")


WRONG = {"int": "five", "bool": "maybe", "dict": "flash-sc", "list": {"a": 1}}


def _spec(options: dict) -> dict:
    """An argument spec as Ansible's validator takes it (descriptions dropped, recursively)."""
    out = {}
    for name, spec in options.items():
        out[name] = {key: value for key, value in spec.items() if key not in ("description", "options")}
        if "options" in spec:
            out[name]["options"] = _spec(spec["options"])
    return out


def _wrong_values(options: dict, valid: dict):
    """(path, parameters) with one wrong-typed value for each typed option, the rest valid."""
    for name, spec in options.items():
        if spec.get("type") in WRONG:
            yield name, dict(valid, **{name: WRONG[spec["type"]]})
    cluster = valid["iomesh_clusters"][0]
    for name, spec in options["iomesh_clusters"]["options"].items():
        if spec.get("type") in WRONG:
            yield f"iomesh_clusters.{name}", dict(valid, iomesh_clusters=[dict(cluster, **{name: WRONG[spec["type"]]})])
    for name, spec in options["iomesh_clusters"]["options"]["storage_class"]["options"].items():
        if spec.get("type") in WRONG:
            item = dict(cluster, storage_class={name: WRONG[spec["type"]]})
            yield f"iomesh_clusters.storage_class.{name}", dict(valid, iomesh_clusters=[item])


VALID = {"iomesh_clusters": [{"name": "pool-b", "hosts_group": "pool_b", "data_cidr": "10.9.0.0/24",
                              "management": True, "meta_replicas": 5, "storage_class": {"fstype": "xfs"}}]}


@pytest.mark.parametrize("role", ROLES)
def test_a_wrong_type_in_any_option_is_refused_by_the_argument_spec(role):
    options = _options(role)
    validator = ArgumentSpecValidator(_spec(options))
    assert validator.validate(VALID).errors.errors == []
    cases = list(_wrong_values(options, VALID))
    assert len(cases) >= 8   # the cluster keys alone: management, 3 replicas, storage_class and its 1 bool, the list
    for path, parameters in cases:
        errors = [str(error) for error in validator.validate(parameters).errors.errors]
        name = path.rsplit(".", 1)[-1]
        assert errors and any(re.search(rf"\b{name}\b", error) for error in errors), (path, errors)
