# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The management release as Helm records it, with two helm commands on the controller (plugin_utils/helm.py);
after an interrupted revision was removed, the rollback to the last deployed one (docs/pitfalls.md P24)."""

from __future__ import annotations

import os

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import action, connection, helm

ARGUMENT_SPEC = {
    "release_name": {"type": "str", "required": True},
    "release_namespace": {"type": "str", "required": True},
    "binary_path": {"type": "path"},
    "rollback_deployed": {"type": "bool", "default": False},
    "timeout": {"type": "int", "default": 300},
    "request_timeout": {"type": "int", "default": 60},
    **connection.spec(),
}


class ActionModule(action.Action):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars, result):
        result["changed"] = False
        try:
            with helm.connected(args, os.environ) as env:
                return self._act(args, env, result)
        except ValueError as exc:
            result.update(failed=True, msg=f"iomesh_helm: {exc}")
            return result

    def _act(self, args, env, result):
        binary = args["binary_path"] or "helm"
        name, namespace = args["release_name"], args["release_namespace"]
        found = self._status(binary, name, namespace, env, args["request_timeout"], result)
        if found is None or not args["rollback_deployed"] or found["status"].lower() != "deployed":
            return result
        result["rolled_back_to"] = found["revision"]
        if self._task.check_mode:
            return result
        done = helm.run(helm.rollback_argv(binary, name, namespace, found["revision"], args["timeout"]), env,
                        args["timeout"] + args["request_timeout"])
        if isinstance(done, str) or done.returncode != 0:
            result.update(failed=True, msg=f"helm rollback of release {namespace}/{name} to revision "
                                           f"{found['revision']} failed: {helm.reason(done)}")
            return result
        result["changed"] = True
        self._status(binary, name, namespace, env, args["request_timeout"], result)
        return result

    @staticmethod
    def _status(binary, name, namespace, env, timeout, result) -> dict | None:
        """Sets result's status (absent when the release has none), or failed and msg; returns the status."""
        result.pop("status", None)
        found, error = helm.release(binary, name, namespace, env, timeout)
        if error:
            result.update(failed=True, msg=error)
        elif found is not None:
            result["status"] = found
        return found
