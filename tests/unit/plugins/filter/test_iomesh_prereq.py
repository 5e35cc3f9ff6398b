"""Filters of plugins/filter/iomesh_prereq.py: argument checks, registration and doc files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_prereq as f


ROOT = Path(__file__).resolve().parents[4]


ROLE_VARS = yaml.safe_load((ROOT / "roles/iomesh_prereq/vars/main.yml").read_text())


OS_TABLE = ROLE_VARS["__iomesh_prereq_os_table"]


GB = 1000 ** 3


def facts(**over):
    base = {
        "os_family": "Debian", "distribution": "Debian", "distribution_version": "12.8", "pkg_mgr": "apt",
        "selinux": {"status": "disabled"},
        "processor_vcpus": 16, "memtotal_mb": 64000,
        "mounts": [
            {"mount": "/", "size_available": 20 * GB},
            {"mount": "/opt", "size_available": 500 * GB},
            {"mount": "/optical", "size_available": 1 * GB},
        ],
        "all_ipv4_addresses": ["192.168.0.5", "10.234.1.12"],
    }
    base.update(over)
    return base


def test_plan_input_errors():
    with pytest.raises(AnsibleFilterError, match="iomesh_prereq_platform: facts must be a dictionary"):
        f.iomesh_prereq_platform("Debian", OS_TABLE, "h")
    with pytest.raises(AnsibleFilterError, match="os_table must be the role's OS table"):
        f.iomesh_prereq_platform(facts(), {"Debian": {}}, "h")


# --- host checks ----------------------------------------------------------------------------------------------------

CIDR = [{"cluster": "iomesh", "data_cidr": "10.234.1.0/24"}]


def test_thresholds_must_be_a_dictionary():
    with pytest.raises(AnsibleFilterError, match="thresholds must be a dictionary"):
        f.iomesh_prereq_host_report(facts(), "h", [8], CIDR)


def test_filter_module_lists_every_filter_with_a_doc_file():
    names = set(f.FilterModule().filters())
    docs = {p.stem for p in (ROOT / "plugins/filter").glob("iomesh_prereq_*.yml")}
    assert names == docs
