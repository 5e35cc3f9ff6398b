"""The validate step of iomesh_prereq, run for real against localhost with fake facts.

A generated playbook applies the role with --tags iomesh_prereq_validate (argument specs, facts, the read-only probe
and the checks; nothing is installed) on an inventory where localhost is an IOMesh node. The facts are injected as
cached facts, so the role's own fact gathering is skipped and the checks see exactly the numbers given here.
Also: playbooks/prereq.yml selects the clusters' hosts plus the extra group, and site.yml runs it after preflight.
"""

from __future__ import annotations

import copy

import re

import pytest
import yaml

from .conftest import ROOT

GOOD_FACTS = {
    "os_family": "Debian", "distribution": "Debian", "distribution_version": "12.8", "pkg_mgr": "apt",
    "selinux": {"status": "disabled"},
    "processor_vcpus": 16, "memtotal_mb": 65536,
    "mounts": [{"mount": "/", "size_available": 500 * 1000 ** 3}],
    "all_ipv4_addresses": ["10.99.0.5"],
}
CLUSTERS = [{"name": "iomesh", "management": True, "hosts_group": "storage", "data_cidr": "10.99.0.0/24"}]


@pytest.fixture
def validate(tmp_path, run_playbook):
    """Run the role's validate step on localhost with the given fake facts and variables."""

    def run(facts_change=None, check=False, **variables):
        facts = copy.deepcopy(GOOD_FACTS)
        facts.update(facts_change or {})
        facts["python"] = {"executable": "{{ ansible_playbook_python }}"}
        playbook = tmp_path / "validate.yml"
        playbook.write_text(yaml.safe_dump([{
            "name": "Validate localhost as an IOMesh host",
            "hosts": "storage",
            "gather_facts": False,
            "pre_tasks": [{
                "name": "Inject fake facts",
                "ansible.builtin.set_fact": dict(facts, cacheable=True),
                "tags": ["always"],
            }],
            "roles": [{"role": "iomesh.multicluster.iomesh_prereq"}],
        }], sort_keys=False))
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(yaml.safe_dump({"all": {"children": {"storage": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}}}))
        extra = {"iomesh_clusters": CLUSTERS, **variables}
        args = ["--tags", "iomesh_prereq_validate"] + (["--check", "--diff"] if check else [])
        return run_playbook(str(playbook), inventory, extra, *args)

    return run


# Free space is measured on the host by the role's probe (statvfs), not taken from the fake mounts fact, so the
# tests that are not about it set iomesh_prereq_min_opt_free_gb: 0 to stay independent of this machine's disk.


def test_good_host_passes_and_changes_nothing(validate):
    run = validate(iomesh_prereq_min_opt_free_gb=0)
    assert run.rc == 0, run
    assert "localhost (Debian 12.8): 16 CPU cores >= 8; 65536 MiB memory >= 16384 MiB" in run.output
    assert "10.99.0.5 in data_cidr 10.99.0.0/24 (iomesh)" in run.output
    assert run.recap()["changed"] == 0 and run.recap()["failed"] == 0, run


def test_check_mode_passes(validate):
    run = validate(check=True, iomesh_prereq_min_opt_free_gb=0)
    assert run.rc == 0, run


def test_hardware_shortfall_stops_the_run_with_host_and_numbers(validate):
    run = validate({"processor_vcpus": 2, "memtotal_mb": 2048}, iomesh_prereq_min_opt_free_gb=0)
    assert run.rc == 2, run
    assert "Fail on host check problems" in run.output
    assert "localhost does not meet the IOMesh host requirements; nothing was changed on it." in run.output
    assert "localhost: 2 CPU cores, 8 required (iomesh_prereq_min_cpus)" in run.output
    assert "localhost: 2048 MiB of memory, 16384 MiB required (iomesh_prereq_min_memory_mb" in run.output
    assert "iomesh_prereq_lab_mode: true" in run.output


def test_free_space_is_measured_on_the_host(validate):
    # The probe measures the filesystem holding the path on this machine; no machine has 10^9 GB free.
    run = validate(iomesh_prereq_min_opt_free_gb=1000 ** 3, iomesh_prereq_opt_path="/opt/iomesh")
    assert run.rc == 2, run
    assert "GB free on /" in run.output and "(holds /opt/iomesh), 1000000000 GB required" in run.output


def test_lab_mode_warns_about_hardware(validate):
    run = validate({"processor_vcpus": 2}, iomesh_prereq_lab_mode=True, iomesh_prereq_min_opt_free_gb=0)
    assert run.rc == 0, run
    assert ("WARNING localhost: 2 CPU cores, 8 required (iomesh_prereq_min_cpus) - only a warning because "
            "iomesh_prereq_lab_mode is true") in run.output


def test_data_cidr_stays_an_error_in_lab_mode(validate):
    run = validate({"all_ipv4_addresses": ["192.168.7.7"]}, iomesh_prereq_lab_mode=True, iomesh_prereq_min_opt_free_gb=0)
    assert run.rc == 2, run
    assert ("localhost: no IPv4 address inside data_cidr 10.99.0.0/24 of IOMesh cluster iomesh (addresses: "
            "192.168.7.7)") in run.output


def test_unsupported_os_family_is_refused(validate):
    run = validate({"os_family": "Suse", "distribution": "SLES", "distribution_version": "15.5"},
                   iomesh_prereq_min_opt_free_gb=0)
    assert run.rc == 2, run
    assert "Refuse hosts this role must not prepare" in run.output
    assert "localhost: SLES 15.5 (OS family Suse) is not supported by iomesh_prereq" in run.output


def test_immutable_os_is_refused_with_the_prepare_csi_path(validate):
    run = validate({"os_family": "Flatcar", "distribution": "Flatcar"}, iomesh_prereq_min_opt_free_gb=0)
    assert run.rc == 2, run
    assert "localhost: Flatcar 12.8 is an immutable OS" in run.output
    assert "prepareCSI.enabled: true" in run.output


def test_bad_max_recv_data_segment_length(validate):
    run = validate(iomesh_prereq_iscsi_max_recv_data_segment_length=100, iomesh_prereq_min_opt_free_gb=0)
    assert run.rc == 2, run
    assert "iomesh_prereq_iscsi_max_recv_data_segment_length is 100; it must be a whole number from 512 to 16777215" \
        in run.output


def test_argument_specs_reject_a_wrong_type(validate):
    run = validate(iomesh_prereq_lab_mode="maybe")
    assert run.rc == 2, run
    assert "iomesh_prereq_lab_mode" in run.output and "bool" in run.output


def test_prereq_playbook_selects_clusters_and_extra_group(tmp_path, run_playbook):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        "storage_a": {"hosts": {"a1": {}, "a2": {}}},
        "storage_b": {"hosts": {"b1": {}}},
        "consumers": {"hosts": {"c1": {}, "a1": {}}},
        "others": {"hosts": {"x1": {}}},
    }}}))
    clusters = [{"name": "a", "hosts_group": "storage_a", "data_cidr": "10.0.0.0/24"},
                {"name": "b", "hosts_group": "storage_b", "data_cidr": "10.0.1.0/24"}]
    # The selection play, then the second play with the role replaced by a task that runs on the controller (the
    # hosts are fake): the hosts the second play runs on are the selection.
    playbook = tmp_path / "select.yml"
    plays = yaml.safe_load((ROOT / "playbooks/prereq.yml").read_text())
    plays[0]["tasks"].append({"name": "Show the selection", "ansible.builtin.debug": {
        "msg": "selected {{ groups['iomesh_prereq_targets'] | default([]) | sort | join(',') }}"}, "run_once": True})
    del plays[1]["roles"]
    plays[1]["become"] = False
    plays[1]["tasks"] = [{"name": "Name the host", "ansible.builtin.debug": {"msg": "prepared {{ inventory_hostname }}"},
                          "delegate_to": "localhost"}]
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    run = run_playbook(str(playbook), inventory, {"iomesh_clusters": clusters, "iomesh_prereq_extra_group": "consumers"})
    assert run.rc == 0, run
    assert "selected a1,a2,b1,c1" in run.output
    assert sorted(re.findall(r'"msg": "prepared (\w+)"', run.output)) == ["a1", "a2", "b1", "c1"], run
    # Tags that skip the selection leave the second play without hosts, and without a warning about its pattern.
    run = run_playbook(str(playbook), inventory, {"iomesh_clusters": clusters}, "--skip-tags", "iomesh_prereq")
    assert run.rc == 0 and "skipping: no hosts matched" in run.output, run
    assert "WARNING" not in run.output, run
    plays = yaml.safe_load(playbook.read_text())
    playbook.write_text(yaml.safe_dump(plays[:1], sort_keys=False))
    run = run_playbook(str(playbook), inventory, {"iomesh_clusters": clusters})
    assert "selected a1,a2,b1" in run.output
    run = run_playbook(str(playbook), inventory, {"iomesh_clusters": clusters, "iomesh_prereq_extra_group": "nope"})
    assert run.rc == 2, run
    assert "iomesh_prereq_extra_group: group 'nope' is not in the inventory" in run.output


def test_site_runs_prereq_after_preflight(run_playbook):
    run = run_playbook("site.yml", ROOT / "inventories" / "seed-example", None, "--list-tasks")
    assert run.rc == 0, run
    plays = [line.strip() for line in run.output.splitlines() if line.strip().startswith("play #")]
    assert plays[0].startswith("play #1 (localhost): Validate the IOMesh multi-cluster inventory")
    assert plays[1].startswith("play #2 (all): Select the hosts that need the iSCSI initiator")
    assert plays[2].startswith("play #3 (): Prepare the IOMesh hosts")
    assert "TAGS: [iomesh_prereq]" in run.output
