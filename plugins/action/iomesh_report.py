# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's reads and judgement in one task on the controller: the management release (plugin_utils/helm.py), the
live objects over one API client (k8s_client.read_all), judged once (report_model.build). Only the judgement travels
back to Ansible (the problems, the diagram source, the view the Markdown is written from), never the objects read: a
no-change run is cheap only when the pods of every cluster are not handed from task to task (docs/architecture.md,
"The no-change path"). Read-only; a read that fails is a problem of the report, not a failed task."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import (
    action, connection, helm, k8s_client, plan, report_diagram, report_live, report_model)

ARGUMENT_SPEC = {
    "plan": {"type": "dict", "required": True},
    "verify_results": {"type": "raw"},
    **connection.spec(),
}


class ActionModule(action.Action):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars, result):
        result["changed"] = False
        topology = args["plan"]
        settings = topology.get("settings")
        if not plan.is_settings(settings) or not isinstance(topology.get("management"), Mapping) or \
                not all(plan.is_cluster(c) for c in topology.get("clusters") or [None]):
            result.update(failed=True, msg="iomesh_report: plan must be what iomesh.multicluster.iomesh_plan returns "
                                           "(clusters, management, settings, constants).")
            return result
        try:
            verify_results = report_model.verify_results(args["verify_results"])
        except ValueError as exc:
            result.update(failed=True, msg=f"iomesh_report: {exc}")
            return result
        timeout = settings["iomesh_request_timeout"]
        mgmt = topology["management"]
        try:
            with helm.connected(args, os.environ) as env:
                release, release_error = helm.release(settings.get("iomesh_helm_binary") or "helm", mgmt["name"],
                                                      mgmt["namespace"], env, timeout)
        except ValueError as exc:
            release, release_error = None, str(exc)
        read, _reason = k8s_client.read_all(connection.options(args), report_live.reads(topology), timeout,
                                            managed_fields=False)
        view = report_model.build(topology["clusters"],
                                  report_live.observed(topology, read, release, release_error), verify_results, settings)
        result.update(problems=view["problems"], dot=report_diagram.dot(view), view=view,
                      msg=f"{len(view['problems'])} problem(s)")
        return result
