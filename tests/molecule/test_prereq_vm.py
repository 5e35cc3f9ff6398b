"""The `prereq_vm` molecule scenario: iomesh_prereq on a QEMU VM with the real Debian kernel, then iSCSI."""

from __future__ import annotations

import pytest

from .scenario import _qemu_unavailable, molecule_test


@pytest.mark.vm
def test_prereq_vm_scenario(tmp_path):
    reason = _qemu_unavailable()
    if reason:
        pytest.skip(reason)
    molecule_test("prereq_vm", tmp_path)
