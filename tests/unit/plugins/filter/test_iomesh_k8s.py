"""Filters of plugins/filter/iomesh_k8s.py: argument checks and registration."""

from __future__ import annotations

import re

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_k8s as k
from ansible_collections.iomesh.multicluster.plugins.filter.iomesh_k8s import FilterModule


def test_registered():
    assert set(FilterModule().filters()) == {"iomesh_api_error_reason", "iomesh_split_pending"}


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


# --- iomesh_split_pending -------------------------------------------------------------------------------------------

TANK = {"name": "tank", "namespace": "stor-west"}
VAULT = {"name": "vault", "namespace": "stor-east"}
POOL = {"name": "pool", "namespace": "stor-north"}


@pytest.mark.parametrize("flags, pending, settled", [
    ([True, False, True], [TANK, POOL], [VAULT]),
    ([False, False, False], [], [TANK, VAULT, POOL]),
    ([True, True, True], [TANK, VAULT, POOL], []),
    ((False, True, False), [VAULT], [TANK, POOL]),
])
def test_split_pending_keeps_the_order_of_the_items(flags, pending, settled):
    assert k.iomesh_split_pending([TANK, VAULT, POOL], flags) == [pending, settled]


def test_split_pending_without_a_dry_run_leaves_every_item_to_apply():
    assert k.iomesh_split_pending([TANK, VAULT], None) == [[TANK, VAULT], []]
    assert k.iomesh_split_pending([TANK, VAULT]) == [[TANK, VAULT], []]
    assert k.iomesh_split_pending([], []) == [[], []]


@pytest.mark.parametrize("items, flags, message", [
    ([TANK, VAULT], [True], "would_change must hold one true or false per item (2), got [True]"),
    ([TANK], [True, False], "would_change must hold one true or false per item (1), got [True, False]"),
    ([TANK, VAULT], ["yes", False], "would_change must hold one true or false per item (2), got ['yes', False]"),
    ([TANK], [1], "would_change must hold one true or false per item (1), got [1]"),
    ([TANK], "true", "would_change must be the would_change list of iomesh.multicluster.iomesh_dry_run"),
    ([TANK], {"tank": True}, "would_change must be the would_change list of iomesh.multicluster.iomesh_dry_run"),
    ("tank", [True], "expects the list of items that were dry-run, got 'tank'"),
    (TANK, [True], "expects the list of items that were dry-run"),
    (None, [True], "expects the list of items that were dry-run, got None"),
])
def test_split_pending_refuses_what_does_not_fit(items, flags, message):
    with pytest.raises(AnsibleFilterError, match="^iomesh_split_pending: " + re.escape(message)):
        k.iomesh_split_pending(items, flags)


def test_split_pending_is_registered():
    assert FilterModule().filters()["iomesh_split_pending"] is k.iomesh_split_pending
