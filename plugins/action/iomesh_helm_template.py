# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`helm template` of a chart on the controller, as kubernetes.core.helm_template runs it, without a module process
(docs/architecture.md, "The no-change path"). Read-only: it renders locally and runs the same under --check."""

from __future__ import annotations

import os

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import action, helm

ARGUMENT_SPEC = {
    "chart_ref": {"type": "str", "required": True},
    "chart_repo_url": {"type": "str"},
    "chart_version": {"type": "str"},
    "release_name": {"type": "str", "required": True},
    "release_namespace": {"type": "str", "required": True},
    "release_values": {"type": "dict", "default": {}},
    "binary_path": {"type": "path"},
    "timeout": {"type": "int", "default": 300},
    "crds_only": {"type": "bool", "default": False},
}


class ActionModule(action.Action):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def act(self, args, task_vars, result):
        result["changed"] = False
        # The values may hold credentials: a file only its owner reads, removed when helm is done.
        binary = args["binary_path"] or "helm"
        if args["crds_only"]:
            argv = helm.show_crds_argv(binary, args["chart_ref"], args["chart_repo_url"], args["chart_version"])
            done = helm.run(argv, os.environ, args["timeout"])
        else:
            with helm.private_json(args["release_values"], "iomesh-values-", ".json") as values_path:
                argv = helm.template_argv(binary, args["release_name"], args["release_namespace"], args["chart_ref"],
                                          values_path, args["chart_repo_url"], args["chart_version"])
                done = helm.run(argv, os.environ, args["timeout"])
        result["command"] = " ".join(argv)
        if isinstance(done, str) or done.returncode != 0:
            result.update(failed=True, rc=1 if isinstance(done, str) else done.returncode, stdout="",
                          stderr=helm.reason(done), msg=f"helm {argv[1]} of chart {args['chart_ref']} failed: "
                                                        f"{helm.reason(done)}")
            return result
        result.update(rc=0, stdout=done.stdout, stderr=done.stderr)
        return result
