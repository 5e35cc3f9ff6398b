# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters about talking to the Kubernetes API, used by every stage that reads it.

The documentation of each filter is in the YAML file of the same name beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import api_errors, k8s


def iomesh_api_error_reason(message):
    """The reason of a failed Kubernetes client call, on one line, in the client's words."""
    if not isinstance(message, str) or not message.strip():
        raise AnsibleFilterError(
            "iomesh_api_error_reason: expects the error message of a failed Kubernetes client call (the error of "
            f"iomesh.multicluster.iomesh_api_probe, or the msg of a failed kubernetes.core task), got {message!r}")
    return api_errors.reason(message)


def iomesh_split_pending(items, would_change=None):
    """The items a dry run says would change, and the others: [pending, settled], each in order."""
    name = "iomesh_split_pending"
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        raise AnsibleFilterError(f"{name}: expects the list of items that were dry-run, got {items!r}")
    if would_change is not None and (isinstance(would_change, (str, bytes, Mapping))
                                     or not isinstance(would_change, Sequence)):
        raise AnsibleFilterError(
            f"{name}: would_change must be the would_change list of iomesh.multicluster.iomesh_dry_run (or none when "
            f"no dry run was made), got {would_change!r}")
    try:
        return list(k8s.split_pending(items, would_change))
    except ValueError as exc:
        raise AnsibleFilterError(f"{name}: {exc}") from exc


class FilterModule:
    """iomesh.multicluster filters about the Kubernetes API."""

    def filters(self):
        return {"iomesh_api_error_reason": iomesh_api_error_reason, "iomesh_split_pending": iomesh_split_pending}
