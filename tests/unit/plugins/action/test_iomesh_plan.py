"""The iomesh_plan action, run by ansible-playbook on localhost: what it reads from the variables in scope."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[4]


def ansible_playbook() -> str:
    found = Path(sys.executable).with_name("ansible-playbook")
    return str(found) if found.exists() else (shutil.which("ansible-playbook") or pytest.skip("no ansible-playbook"))


def run(tmp_path, extra_vars=None, task_args=None, check=False, host_vars=None, gather=None, env=None):
    """Run the plan on an inventory of two clusters of three hosts; return (rc, result of the plan, output)."""
    hosts = {f"w{i}": {"ansible_host": f"10.234.1.{10 + i}", **(host_vars or {}).get(f"w{i}", {})} for i in range(6)}
    inventory = {"all": {
        "vars": {"iomesh_clusters": [
            {"name": "iomesh", "management": True, "hosts_group": "g0", "data_cidr": "10.234.1.0/24"},
            {"name": "blue", "hosts_group": "g1", "data_cidr": "{{ blue_cidr }}"},
        ], "blue_cidr": "10.234.1.0/24"},
        "children": {"g0": {"hosts": {h: hosts[h] for h in ("w0", "w1", "w2")}},
                     "g1": {"hosts": {h: hosts[h] for h in ("w3", "w4", "w5")}}}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    # Facts gathered first on the hosts of group `gather` (the controller's own network, by a local connection).
    gathering = [{"name": "Gather", "hosts": gather, "gather_facts": False, "tasks": [
        {"name": "Gather the network facts", "ansible.builtin.setup": {"gather_subset": ["!all", "network"]},
         "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}]}] if gather else []
    (tmp_path / "plan.yml").write_text(yaml.safe_dump(gathering + [{
        "name": "Plan", "hosts": "localhost", "gather_facts": False,
        "tasks": [
            {"name": "Plan the deployment", "iomesh.multicluster.iomesh_plan": task_args or {}, "register": "planned"},
            {"name": "Show the plan", "ansible.builtin.copy": {
                "content": "{{ planned | to_json }}", "dest": str(tmp_path / "plan.json"), "mode": "0644"},
             "check_mode": False},
        ]}]))
    (tmp_path / "extra.json").write_text(json.dumps(extra_vars or {}))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_DEPRECATION_WARNINGS="1", **(env or {}))
    args = [ansible_playbook(), "-i", str(tmp_path / "hosts.yml"), str(tmp_path / "plan.yml"),
            "-e", f"@{tmp_path / 'extra.json'}"] + (["--check"] if check else [])
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    result = json.loads((tmp_path / "plan.json").read_text()) if (tmp_path / "plan.json").exists() else None
    return proc.returncode, result, proc.stdout + proc.stderr


def test_plan_from_the_variables_in_scope(tmp_path):
    rc, result, output = run(tmp_path, extra_vars={"iomesh_chart_version": "v1.2.0", "iomesh_edtion": "x"},
                             check=True)
    assert rc == 0, output
    assert result["changed"] is False
    assert [c["name"] for c in result["clusters"]] == ["iomesh", "blue"]
    # Templated values (data_cidr of blue) and host variables are read.
    assert result["clusters"][1]["data_cidr"] == "10.234.1.0/24"
    assert result["clusters"][1]["nodes"] == ["w3", "w4", "w5"]
    assert result["settings"]["iomesh_chart_version"] == "v1.2.0"
    assert result["settings"]["iomesh_app_version"] == "v5.6.0-rc112"
    assert result["management"]["waits"]["operator"][0]["args"] == {"name": "operator"}
    assert result["release"]["ndm_daemonset"] == "iomesh-openebs-ndm"
    assert any(w.startswith("iomesh_edtion: is not a variable") for w in result["inventory_warnings"])
    assert "DEPRECATION" not in output


def test_every_problem_fails_the_task_at_once(tmp_path):
    rc, _result, output = run(tmp_path, extra_vars={"blue_cidr": "10.9.0.0/33", "iomesh_edition": "gold"},
                              host_vars={"w0": {"ansible_host": "192.168.0.1", "iomesh_data_ip": "192.168.0.1"}})
    assert rc == 2, output
    assert "iomesh_plan found 3 problem(s) in the IOMesh inventory" in output
    assert "iomesh_edition: 'gold' is not an IOMesh edition" in output
    assert "iomesh_clusters[1] (blue).data_cidr: '10.9.0.0/33' is not a valid IPv4 CIDR" in output
    assert "host w0.iomesh_data_ip: 192.168.0.1 is outside iomesh_clusters[0] (iomesh).data_cidr" in output
    assert "inventory_warnings" not in output and "pod_patterns" not in output


def test_problems_are_returned_when_asked(tmp_path):
    rc, result, output = run(tmp_path, extra_vars={"iomesh_edition": "gold"}, task_args={"fail_on_problems": False})
    assert rc == 0, output
    assert result["errors"] == ["iomesh_edition: 'gold' is not an IOMesh edition; use 'community' or 'enterprise'."]
    assert result["management"] is None


@pytest.mark.parametrize("inject", ["True", "False"])
def test_gathered_addresses_are_read_from_ansible_facts(tmp_path, inject):
    """The controller's own addresses, gathered for the hosts of blue, are judged against blue's data_cidr. They are
    read from ansible_facts, so they are found without the top-level copies ansible-core 2.24 stops injecting
    (INJECT_FACTS_AS_VARS false), and 2.20+ prints no deprecation for them."""
    rc, result, output = run(tmp_path, task_args={"fail_on_problems": False}, gather="g1",
                             env={"ANSIBLE_INJECT_FACT_VARS": inject})
    assert rc == 0, output
    assert "INJECT_FACTS_AS_VARS" not in output, output
    gathered = [e for e in result["errors"] if "is inside iomesh_clusters[1] (blue).data_cidr 10.234.1.0/24" in e]
    # The hosts of blue only (iomesh's were not gathered: their ansible_host lies in the CIDR).
    assert [e.split(":")[0] for e in gathered] == ["host w3", "host w4", "host w5"], result["errors"]
    assert all("none of its addresses (" in e for e in gathered)
