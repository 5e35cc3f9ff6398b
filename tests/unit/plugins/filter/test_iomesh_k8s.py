"""Filters of plugins/filter/iomesh_k8s.py: argument checks and registration."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_k8s as k
from ansible_collections.iomesh.multicluster.plugins.filter.iomesh_k8s import FilterModule


def test_registered():
    assert set(FilterModule().filters()) == {"iomesh_api_error_reason"}


@pytest.mark.parametrize("message", [None, "", "  ", 401, {"msg": "x"}])
def test_api_error_reason_needs_a_message(message):
    with pytest.raises(AnsibleFilterError, match="iomesh_api_error_reason: expects the error message of a failed "
                                                 "Kubernetes client call"):
        k.iomesh_api_error_reason(message)


def test_api_error_reason():
    message = ("HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: /version (Caused by "
               "NewConnectionError(\"HTTPConnection(host='127.0.0.1', port=1): Failed to establish a new connection: "
               "[Errno 111] Connection refused\"))")
    assert k.iomesh_api_error_reason(message) == "Failed to establish a new connection: [Errno 111] Connection refused"
