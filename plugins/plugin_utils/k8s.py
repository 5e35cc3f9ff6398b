# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading Kubernetes objects as kubernetes.core.k8s_info returns them, and checking the lists filters are given.

The accessors tolerate missing sections (and a missing object): they return an empty mapping or string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import api_errors
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.topology import plain

K8S_INFO_LIST = "the resources list of kubernetes.core.k8s_info"


def meta(obj: Mapping | None) -> Mapping:
    return (obj or {}).get("metadata") or {}


def spec(obj: Mapping | None) -> Mapping:
    return (obj or {}).get("spec") or {}


def status(obj: Mapping | None) -> Mapping:
    return (obj or {}).get("status") or {}


def labels(obj: Mapping | None) -> Mapping:
    return meta(obj).get("labels") or {}


def name(obj: Mapping | None) -> str:
    return str(meta(obj).get("name") or "")


def namespace(obj: Mapping | None) -> str:
    return str(meta(obj).get("namespace") or "")


def _is_list_of_mappings(value: object, item_ok=lambda item: True) -> bool:
    return (not isinstance(value, (str, bytes, Mapping)) and isinstance(value, Sequence)
            and all(isinstance(item, Mapping) and item_ok(item) for item in value))


def object_list(filter_name: str, what: str, value: object, fix: str = K8S_INFO_LIST,
                allow_none: bool = False) -> list:
    """A filter argument that must be a list of objects (None gives [] when allowed); fails naming `what` and `fix`."""
    if value is None and allow_none:
        return []
    if not _is_list_of_mappings(value):
        raise AnsibleFilterError(f"{filter_name}: {what} must be {fix}, got {value!r}")
    return plain(list(value))


def cluster_list(filter_name: str, value: object, keys: Sequence[str], detail: str = "") -> list:
    """A filter argument that must be the cluster list of iomesh_topology, each cluster carrying `keys`."""
    if not _is_list_of_mappings(value, lambda cluster: all(k in cluster for k in keys)):
        raise AnsibleFilterError(f"{filter_name}: expects the cluster list returned by "
                                 f"iomesh.multicluster.iomesh_topology{detail}, got {value!r}")
    return plain(list(value))


def client_error(exc: Exception) -> str:
    """What the Kubernetes client raised, as one line (api_errors.reason): the API's status and message when it
    answered (`403 Forbidden: ...`), else the innermost cause (a refused connection, a TLS error, a timeout)."""
    return api_errors.reason(str(exc)) or type(exc).__name__


def split_pending(items: Sequence, would_change: Sequence | None) -> tuple[list, list]:
    """(the items that would change, the items that would not), each in order, from iomesh_dry_run's would_change;
    None (no dry run was made) leaves every item to apply."""
    items = list(items)
    if would_change is None:
        return items, []
    flags = list(would_change)
    if len(flags) != len(items) or not all(isinstance(flag, bool) for flag in flags):
        raise ValueError(f"would_change must hold one true or false per item ({len(items)}), got {flags!r}")
    return ([item for item, flag in zip(items, flags) if flag], [item for item, flag in zip(items, flags) if not flag])
