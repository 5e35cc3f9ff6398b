# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which objects a server-side apply would change: one dry run per object, all over one API client, in one task.

A stage dry-runs everything it owns here and applies (with kubernetes.core.k8s, its diffs and retries) only what
would change, so a no-change run costs one task rather than a module process per object (docs/architecture.md,
"The no-change path"). Writes nothing: every request is a read or a dry run.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import action, connection, k8s, k8s_client

ARGUMENT_SPEC = {
    "definitions": {"type": "list", "elements": "raw", "required": True},
    "field_manager": {"type": "str", "required": True},
    "force_conflicts": {"type": "bool", "default": True},
    "request_timeout": {"type": "int", "default": 60},
    **connection.spec(),
}


def _is_definition(value: object) -> bool:
    return (isinstance(value, Mapping) and all(isinstance(value.get(key), str) and value[key]
                                               for key in ("apiVersion", "kind"))
            and isinstance(value.get("metadata"), Mapping) and bool(value["metadata"].get("name")))


def items(definitions: list) -> list[list[dict]] | None:
    """Each item's definitions (an item is one definition or a list of them), or None when one is not a manifest."""
    out = []
    for item in definitions:
        group = list(item) if isinstance(item, (list, tuple)) else [item]
        if not all(_is_definition(d) for d in group):
            return None
        out.append(group)
    return out


class ActionModule(action.Action):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars, result):
        groups = items(args["definitions"])
        if groups is None:
            result.update(failed=True, changed=False, msg=(
                "iomesh_dry_run: every item of definitions must be a Kubernetes manifest (apiVersion, kind and "
                "metadata.name) or a list of them."))
            return result
        result["changed"] = False
        if not groups:
            result.update(would_change=[], reasons=[], pending=0, msg="0 of 0 item(s) would change")
            return result
        try:
            client = k8s_client.api_client(connection.options(args))
        except Exception as exc:  # pylint: disable=broad-exception-caught
            reason = k8s.client_error(exc)
            result.update(would_change=[True] * len(groups), reasons=[reason] * len(groups), pending=len(groups),
                          msg=f"Nothing was dry-run: the Kubernetes API cannot be used: {reason}")
            return result
        judge = k8s_client.change_judge(client, max(args["request_timeout"], 1), args["field_manager"],
                                        args["force_conflicts"])
        would_change, reasons = [], []
        for group in groups:
            changed, reason = False, None
            for definition in group:
                # An item's first definition that would change decides: the item is applied whole.
                changed, reason = judge(definition)
                if changed:
                    break
            would_change.append(changed)
            reasons.append(reason)
        result.update(would_change=would_change, reasons=reasons, pending=sum(would_change),
                      msg=f"{sum(would_change)} of {len(groups)} item(s) would change")
        return result
