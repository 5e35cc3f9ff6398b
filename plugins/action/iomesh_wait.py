# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded waits on IOMesh objects: polls with kubernetes.core's API client, judged by plugin_utils.readiness.

One client per task (not a module process per poll), and every request bounded by request_timeout: a read that never
answers is an error of that poll, never a hang (docs/architecture.md, "Time bounds")."""

from __future__ import annotations

import time

from ansible.utils.display import Display

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import action, connection, k8s, readiness

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
            fetch = reader(connection.options(args), max(args["request_timeout"], 1))
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


def reader(options: dict, request_timeout: int):
    """fetch(spec) -> (resources, error) over one API client of kubernetes.core, each request bounded by
    request_timeout seconds; answers as kubernetes.core.k8s_info does: a kind the API does not serve (its CRD is not
    installed yet) or a name that does not exist is no objects."""
    # Imported here: a missing kubernetes client is reported as a task failure, not a plugin load error.
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    # pylint: disable-next=import-outside-toplevel
    from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

    client = get_api_client(**options)

    def resource(spec):
        try:
            return client.resource(spec["kind"], spec["api_version"])
        except ResourceNotFoundError:
            # Discovery is cached: a CRD installed since (by the release being waited for) needs a fresh look.
            client.resources.invalidate_cache()
            return client.resource(spec["kind"], spec["api_version"])

    def fetch(spec):
        params = {"_request_timeout": request_timeout}
        if spec.get("namespace"):
            params["namespace"] = spec["namespace"]
        if spec.get("label_selectors"):
            params["label_selector"] = ",".join(spec["label_selectors"])
        try:
            found = resource(spec)
            if spec.get("name"):
                return [client.get(found, name=spec["name"], **params).to_dict()], None
            return list(client.get(found, **params).to_dict().get("items") or []), None
        except (NotFoundError, ResourceNotFoundError):
            return [], None
        except Exception as exc:  # pylint: disable=broad-exception-caught
            return [], k8s.client_error(exc)

    return fetch
