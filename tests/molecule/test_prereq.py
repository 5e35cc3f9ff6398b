"""The `prereq` molecule scenario: iomesh_prereq on six Debian 12 podman containers with systemd."""

from __future__ import annotations

import pytest

from .scenario import _podman_unavailable, molecule_test


@pytest.mark.hosts
def test_prereq_scenario(tmp_path):
    reason = _podman_unavailable()
    if reason:
        pytest.skip(reason)
    molecule_test("prereq", tmp_path)
