# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded waits on IOMesh objects: kubernetes.core.k8s_info polls judged by plugin_utils.readiness."""

from __future__ import annotations

import time

from ansible.plugins.action import ActionBase

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import readiness

WAIT_SPEC = {
    "label": {"type": "str", "required": True},
    "api_version": {"type": "str", "required": True},
    "kind": {"type": "str", "required": True},
    "namespace": {"type": "str"},
    "name": {"type": "str"},
    "label_selectors": {"type": "list", "elements": "str", "default": []},
    "check": {"type": "str", "required": True, "choices": sorted(readiness.CHECKS)},
    "args": {"type": "dict", "default": {}},
}
ARGUMENT_SPEC = {
    "waits": {"type": "list", "elements": "dict", "required": True, "options": WAIT_SPEC},
    "timeout": {"type": "int", "default": 900},
    "delay": {"type": "int", "default": 5},
    "kubeconfig": {"type": "raw"},
    "context": {"type": "str"},
}


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        connection = {k: args[k] for k in ("kubeconfig", "context") if args.get(k)}

        def fetch(spec):
            module_args = {"api_version": spec["api_version"], "kind": spec["kind"], **connection}
            for key in ("namespace", "name"):
                if spec.get(key):
                    module_args[key] = spec[key]
            if spec.get("label_selectors"):
                module_args["label_selectors"] = spec["label_selectors"]
            res = self._execute_module(module_name="kubernetes.core.k8s_info", module_args=module_args,
                                       task_vars=task_vars)
            if res.get("failed"):
                return [], res.get("msg") or "k8s_info failed"
            return res.get("resources") or [], None

        try:
            done = readiness.wait_all(args["waits"], fetch, timeout=max(args["timeout"], 0),
                                      delay=max(args["delay"], 1), clock=time.monotonic, sleep=time.sleep)
        except readiness.WaitFailed as exc:
            result.update(failed=True, changed=False, msg=str(exc))
            return result
        notes = [note for item in done for note in item["notes"]]
        result.update(changed=False, waits=done, notes=notes,
                      msg=f"{len(done)} wait(s) satisfied in {sum(w['seconds'] for w in done):.1f} s")
        return result
