# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report a change the collection computed (changed, a message, a diff) as a task result, so that Ansible counts
it and --diff shows it: e.g. the management release's upgrade, judged by the filter iomesh_release_change, which
Helm's module cannot show without Helm's diff plugin."""

from __future__ import annotations

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import action

DIFF_SPEC = {
    "before": {"type": "str", "default": ""},
    "after": {"type": "str", "default": ""},
    "before_header": {"type": "str"},
    "after_header": {"type": "str"},
}
ARGUMENT_SPEC = {
    "change": {"type": "dict", "required": True, "options": {
        "changed": {"type": "bool", "required": True},
        "msg": {"type": "str", "default": ""},
        "reasons": {"type": "list", "elements": "str", "default": []},
        "diff": {"type": "dict", "options": DIFF_SPEC},
    }},
}


class ActionModule(action.Action):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars, result):
        change = args["change"]
        result.update(changed=change["changed"], msg=change["msg"], reasons=change["reasons"])
        if change["changed"] and change.get("diff"):
            result["diff"] = {k: v for k, v in change["diff"].items() if v is not None}
        return result
