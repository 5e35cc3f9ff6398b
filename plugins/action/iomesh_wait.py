# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded waits on IOMesh objects: polls with kubernetes.core's API client (plugin_utils.k8s_client), judged by
plugin_utils.readiness.

One client per task (not a module process per poll), and every request bounded by request_timeout: a read that never
answers is an error of that poll, never a hang (docs/architecture.md, "Time bounds")."""

from __future__ import annotations

import time

from ansible.utils.display import Display

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import action, connection, k8s_client, readiness

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
    "request_timeout": {"type": "int", "default": 60},
    "progress_interval": {"type": "int", "default": 30},
    **connection.spec(),
}


display = Display()


class ActionModule(action.Action):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars, result):
        try:
            fetch = k8s_client.reader(connection.options(args), max(args["request_timeout"], 1))
        except Exception as exc:  # pylint: disable=broad-exception-caught
            result.update(failed=True, changed=False, msg=f"Could not create the Kubernetes API client: {exc}")
            return result
        try:
            done = readiness.wait_all(args["waits"], fetch, timeout=max(args["timeout"], 0),
                                      delay=max(args["delay"], 1), clock=time.monotonic, sleep=time.sleep,
                                      progress=self._progress, progress_interval=max(args["progress_interval"], 0))
        except readiness.WaitFailed as exc:
            result.update(failed=True, changed=False, msg=str(exc))
            return result
        notes = [note for item in done for note in item["notes"]]
        result.update(changed=False, waits=done, notes=notes,
                      msg=f"{len(done)} wait(s) satisfied in {sum(w['seconds'] for w in done):.1f} s")
        return result

    def _progress(self, text: str) -> None:
        """A line while the task still runs (Ansible forwards a worker's display to the controller's output)."""
        display.display(f"{self._task.get_name()}: {text}", color="cyan")
