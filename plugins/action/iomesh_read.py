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

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import action, connection, k8s, k8s_client

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


def without_managed_fields(objects: list[dict]) -> list[dict]:
    """The objects without metadata.managedFields (the API server's bookkeeping of who set which field, often half an
    object), for a caller that does not judge ownership: less to hand back to Ansible and to template."""
    return [{**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "managedFields"}}
            if isinstance(obj.get("metadata"), dict) and "managedFields" in obj["metadata"] else obj for obj in objects]


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
        request_timeout = max(args["request_timeout"], 1)
        result["changed"] = False
        try:
            client = k8s_client.api_client(connection.options(args))
            # Whether the API answers at all, as iomesh_api_probe asks it, so that callers word it the same.
            k8s_client.server_version(client, request_timeout)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            reason = k8s.client_error(exc)
            result.update(reachable=False, error=k8s_client.error_text(exc),
                          objects={read["key"]: None for read in reads},
                          api_found={read["key"]: None for read in reads},
                          errors={read["key"]: reason for read in reads},
                          msg=f"No read was made: the Kubernetes API cannot be used: {reason}")
            if args["fail_on_error"]:
                result["failed"] = True
            return result
        # No second lookup of a kind not found: the client's own lookup already looked past its discovery cache.
        unserved: set = set()
        fetch = k8s_client.fetcher(client, request_timeout, rediscover=False, unserved=unserved)
        objects, errors, api_found = {}, {}, {}
        for read in reads:
            found, error = fetch(read)
            if not args["managed_fields"]:
                found = without_managed_fields(found)
            objects[read["key"]] = None if error else found
            if error:
                errors[read["key"]] = error
            # A read that failed cannot tell.
            api_found[read["key"]] = None if error else (read["api_version"], read["kind"]) not in unserved
        result.update(reachable=True, error="", objects=objects, errors=errors, api_found=api_found,
                      msg=f"{len(reads)} read(s), {len(errors)} failed")
        if errors and args["fail_on_error"]:
            result.update(failed=True, msg="Could not read " + "; ".join(f"{key}: {why}" for key, why in errors.items()))
        return result
