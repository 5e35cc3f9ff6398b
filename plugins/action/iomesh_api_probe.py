# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the Kubernetes API can be used, and the client's own error when it cannot, over the API client the
collection's reads share (plugin_utils.k8s_client): on the controller, without a module process or a second import
of the client (docs/architecture.md, "The no-change path"). It answers instead of failing: a failed kubernetes.core
task registered with failed_when loses the client's message (docs/architecture.md#reaching-the-kubernetes-api)."""

from __future__ import annotations

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import action, connection, k8s_client


class ActionModule(action.Action):
    ARGUMENT_SPEC = {"request_timeout": {"type": "int", "default": 60}, **connection.spec()}

    def act(self, args, task_vars, result):
        result["changed"] = False
        try:
            client = k8s_client.api_client(connection.options(args))
            version = k8s_client.server_version(client, max(args["request_timeout"], 1))
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Every error of the client is an answer here: the caller reports it.
            result.update(reachable=False, error=k8s_client.error_text(exc),
                          client_configured=k8s_client.from_a_request(exc))
            return result
        result.update(reachable=True, host=str(client.configuration.host), version=version)
        return result
