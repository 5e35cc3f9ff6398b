# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many reads of the Kubernetes API in one task, over one API client (plugin_utils.k8s_client).

A k8s_info task per kind costs a module process, an import of the Kubernetes client and a connection each; a
no-change run is cheap only when a stage's reads are made together. A failed read is an answer (its objects null,
its reason in errors), not a failed task: the caller judges, and says what could not be read; a caller that cannot
go on without every read sets fail_on_error, and the task fails naming each read that failed and why.
"""

from __future__ import annotations

from collections import Counter

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import action, connection, k8s_client

READ_SPEC = {
    # Not a secret: the name under which the read's objects are returned.
    "key": {"type": "str", "required": True, "no_log": False},
    "api_version": {"type": "str", "default": "v1"},
    "kind": {"type": "str", "required": True},
    "namespace": {"type": "str"},
    "name": {"type": "str"},
    "label_selectors": {"type": "list", "elements": "str", "default": []},
}
ARGUMENT_SPEC = {
    "reads": {"type": "list", "elements": "dict", "required": True, "options": READ_SPEC},
    "request_timeout": {"type": "int", "default": 60},
    "fail_on_error": {"type": "bool", "default": False},
    "managed_fields": {"type": "bool", "default": True},
    **connection.spec(),
}


def duplicate_keys(reads: list[dict]) -> list[str]:
    """The keys given to more than one read, sorted."""
    return sorted(key for key, count in Counter(read["key"] for read in reads).items() if count > 1)


class ActionModule(action.Action):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars, result):
        reads = args["reads"]
        duplicates = duplicate_keys(reads)
        if duplicates:
            result.update(failed=True, changed=False, msg=(
                f"iomesh_read: each read needs a key of its own; {', '.join(repr(k) for k in duplicates)} "
                f"{'is' if len(duplicates) == 1 else 'are'} given to more than one read."))
            return result
        result["changed"] = False
        read, reason = k8s_client.read_all(connection.options(args), reads, args["request_timeout"], args["managed_fields"])
        result.update(read)
        if not read["reachable"]:
            result["msg"] = f"No read was made: the Kubernetes API cannot be used: {reason}"
            if args["fail_on_error"]:
                result["failed"] = True
            return result
        errors = read["errors"]
        result["msg"] = f"{len(reads)} read(s), {len(errors)} failed"
        if errors and args["fail_on_error"]:
            result.update(failed=True, msg="Could not read " + "; ".join(f"{key}: {why}" for key, why in errors.items()))
        return result
