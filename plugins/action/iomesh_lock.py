# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment lock: take, renew or release a coordination.k8s.io Lease (judged by plugin_utils.lock).

The Kubernetes client of kubernetes.core is used directly, not its k8s module: a lock needs a create that fails when
the object exists and an update that fails when someone else changed it since it was read (resourceVersion), which
the module cannot express (it patches what it finds).
"""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from datetime import datetime, timezone

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import action, connection, constants, k8s, k8s_client, lock

ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "plan": {"type": "dict"},
    "namespace": {"type": "str"},
    "name": {"type": "str", "default": constants.LOCK_LEASE},
    "duration": {"type": "int", "default": constants.LOCK_DURATION_SECONDS},
    "request_timeout": {"type": "int"},
    "create_namespace": {"type": "bool", "default": False},
    **connection.spec(),
}
# The fact that carries this run's identity from one role (and play) to the next.
RUN_FACT = "__iomesh_lock_run_id"


def _with_plan(args: dict) -> dict:
    """Namespace, connection and request timeout taken from the plan (the management cluster's and the run's)
    unless given."""
    plan = args.get("plan") or {}
    settings = plan.get("settings") or {}
    defaults = {"namespace": (plan.get("management") or {}).get("namespace"),
                "kubeconfig": settings.get("iomesh_kubeconfig"), "context": settings.get("iomesh_kube_context")}
    defaults["request_timeout"] = settings.get("iomesh_request_timeout") or 60
    return {**args, **{k: v for k, v in defaults.items() if v and not args.get(k)}}


def run_id_of(task_vars: dict) -> str:
    """This run's identity: the one an earlier lock task of the run left in the host's facts, else a new one.

    Read from ansible_facts, never as the top-level variable Ansible also injects: ansible-core 2.20 marks injected
    facts deprecated (INJECT_FACTS_AS_VARS), and a value read that way carries the mark into every template that
    uses it (README, "Warnings"). A plain str, so nothing of Ansible's tags travels on.
    """
    known = (task_vars.get("ansible_facts") or {}).get(RUN_FACT)
    return str(known) if known else uuid.uuid4().hex[:10]


class ActionModule(action.Action):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars, result):
        args = _with_plan(args)
        if not args.get("namespace"):
            result.update(failed=True, msg="iomesh_lock needs namespace, or plan (what iomesh_plan returns) to take "
                                           "the management cluster's namespace from.")
            return result
        run_id = run_id_of(task_vars)
        # Workers are forked from ansible-playbook: the parent is the run's own process.
        me = lock.identity(run_id, getpass.getuser(), socket.gethostname(), os.getppid())
        result.update(changed=False, run_id=run_id, ansible_facts={RUN_FACT: run_id})
        try:
            client = k8s_client.api_client(connection.options(args))
            leases = client.resource("Lease", constants.COORDINATION_API_VERSION)
            found = self._read(client, leases, args)
            if args["state"] == "absent":
                return self._release(client, leases, args, found, me, result)
            return self._take(client, leases, args, found, me, result)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            if type(exc).__name__ == "ConflictError":
                result.update(failed=True, msg=f"Another run took the deployment lock (Lease {args['namespace']}/"
                                               f"{args['name']}) at the same moment. Nothing was changed; re-run.")
                return result
            result.update(failed=True, msg=f"The deployment lock (Lease {args['namespace']}/{args['name']}) could "
                                           f"not be read or written: {k8s.client_error(exc)}")
            return result

    @staticmethod
    def _read(client, leases, args) -> dict | None:
        try:
            return client.get(leases, name=args["name"], namespace=args["namespace"],
                              _request_timeout=args["request_timeout"]).to_dict()
        except k8s_client.NotFoundError:
            return None

    def _take(self, client, leases, args, found, me, result) -> dict:
        now = datetime.now(timezone.utc)
        verdict = lock.judge(found, me, now, lock.process_alive)
        result.update(action=verdict["action"])
        if verdict["action"] == "refuse":
            if self._task.check_mode:
                result.update(msg=verdict["message"], warnings=[verdict["message"]])
                return result
            result.update(failed=True, msg=verdict["message"])
            return result
        if verdict["message"]:
            result["warnings"] = [verdict["message"]]
        if self._task.check_mode:
            result.update(msg="Check mode: the lock is free; not taken.")
            return result
        body = lock.lease(args["namespace"], args["name"], me, now, args["duration"], found)
        if found:
            client.replace(leases, body, name=args["name"], namespace=args["namespace"],
                           _request_timeout=args["request_timeout"])
        else:
            made = self._create(client, leases, body, args["namespace"], args["request_timeout"],
                                args["create_namespace"])
            if made is None:
                # Nothing of the deployment exists yet (the management stage creates the namespace, under the lock).
                result.update(action="none", msg=f"Namespace {args['namespace']} does not exist yet: no lock needed.")
                return result
            if made:
                # A first install: the namespace is part of the deployment, so its creation is a change.
                result.update(changed=True, namespace_created=True)
        result.update(msg=f"Lease {args['namespace']}/{args['name']} held by {me['holder']}.")
        return result

    @staticmethod
    def _create(client, leases, body, namespace, request_timeout, create_namespace) -> bool | None:
        """Create the Lease; its namespace first when it does not exist yet and create_namespace (a first install):
        True then; None when the namespace does not exist and may not be created."""
        try:
            client.create(leases, body, namespace=namespace, _request_timeout=request_timeout)
            return False
        except k8s_client.NotFoundError:
            if not create_namespace:
                return None
            namespaces = client.resource("Namespace", "v1")
            try:
                client.create(namespaces, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
                              _request_timeout=request_timeout)
            except k8s_client.ConflictError:
                pass
            client.create(leases, body, namespace=namespace, _request_timeout=request_timeout)
            return True

    @staticmethod
    def _release(client, leases, args, found, me, result) -> dict:
        holder = ((found or {}).get("spec") or {}).get("holderIdentity")
        if not found or holder != me["holder"]:
            result.update(msg="This run does not hold the deployment lock; nothing to release.")
            return result
        client.delete(leases, name=args["name"], namespace=args["namespace"],
                      body={"preconditions": {"resourceVersion": found["metadata"]["resourceVersion"]}},
                      _request_timeout=args["request_timeout"])
        result.update(msg=f"Lease {args['namespace']}/{args['name']} released.")
        return result
