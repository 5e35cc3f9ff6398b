# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The management release as Helm records it, with two helm commands on the controller (plugin_utils/helm.py);
after an interrupted revision was removed, the rollback to the last deployed one (docs/pitfalls.md P24)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping

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
            args = helm.with_fallbacks(args, os.environ)
        except ValueError as exc:
            result.update(failed=True, msg=f"iomesh_helm: {exc}")
            return result
        unsupported = helm.unsupported(args)
        if unsupported:
            result.update(failed=True, msg=f"iomesh_helm: helm cannot use the connection options {', '.join(unsupported)}; "
                                           "give helm a kubeconfig (iomesh_kubeconfig) that holds them.")
            return result
        binary = args["binary_path"] or "helm"
        name, namespace = args["release_name"], args["release_namespace"]
        kubeconfig = args.get("kubeconfig")
        written = None
        try:
            if isinstance(kubeconfig, Mapping):
                fd, written = tempfile.mkstemp(prefix="iomesh-kubeconfig-")
                with os.fdopen(fd, "w") as out:
                    json.dump(kubeconfig, out)
            env = {**os.environ, **helm.environment(args, written)}
            found = self._status(binary, name, namespace, env, args["request_timeout"], result)
            if found is None or not args["rollback_deployed"] or found["status"].lower() != "deployed":
                return result
            result["rolled_back_to"] = found["revision"]
            if self._task.check_mode:
                return result
            done = self._helm(helm.rollback_argv(binary, name, namespace, found["revision"], args["timeout"]), env,
                              args["timeout"] + args["request_timeout"])
            if isinstance(done, str) or done.returncode != 0:
                result.update(failed=True, msg=f"helm rollback of release {namespace}/{name} to revision "
                                               f"{found['revision']} failed: {self._reason(done)}")
                return result
            result["changed"] = True
            self._status(binary, name, namespace, env, args["request_timeout"], result)
            return result
        finally:
            if written:
                os.unlink(written)

    def _status(self, binary, name, namespace, env, timeout, result) -> dict | None:
        """Sets result's status (absent when the release has none), or failed and msg; returns the status."""
        result.pop("status", None)
        where = f"release {namespace}/{name}"
        history = self._helm(helm.history_argv(binary, name, namespace), env, timeout)
        if isinstance(history, str) or history.returncode != 0:
            if isinstance(history, str) or not helm.not_found(history.stderr):
                result.update(failed=True, msg=f"helm history of {where} failed: {self._reason(history)}")
            return None
        try:
            last = helm.last_revision(history.stdout)
        except ValueError as exc:
            result.update(failed=True, msg=f"helm history of {where}: {exc}")
            return None
        values = self._helm(helm.values_argv(binary, name, namespace, last.get("revision")), env, timeout)
        if isinstance(values, str) or values.returncode != 0:
            result.update(failed=True, msg=f"helm get values of {where} failed: {self._reason(values)}")
            return None
        try:
            result["status"] = helm.status(name, namespace, last, values.stdout)
        except ValueError as exc:
            result.update(failed=True, msg=f"helm get values of {where}: {exc}")
            return None
        return result["status"]

    @staticmethod
    def _helm(argv, env, timeout) -> subprocess.CompletedProcess | str:
        """The finished command, or why it could not run."""
        limit = max(int(timeout), 1)
        try:
            return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=limit, check=False)
        except FileNotFoundError:
            return f"{argv[0]} was not found"
        except PermissionError:
            return f"{argv[0]} cannot be run"
        except subprocess.TimeoutExpired:
            return f"{' '.join(argv[:2])} did not answer within {limit} s"

    @staticmethod
    def _reason(done) -> str:
        if isinstance(done, str):
            return done
        return (done.stderr.strip() or done.stdout.strip() or f"exit code {done.returncode}").replace("\n", " ")
