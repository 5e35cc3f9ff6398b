# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the collection's plugins that talk to the Kubernetes API connect: with kubernetes.core's own options.

kubeconfig, context, host, api_key, certificates, proxy, impersonation, ... as kubernetes.core's modules take them,
so module_defaults of the action group iomesh.multicluster.kubernetes (meta/runtime.yml) and the K8S_AUTH_*
environment reach the collection's plugins as they reach kubernetes.core's modules.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC


def spec() -> dict:
    """The connection options, for an argument spec (a copy: specs are changed by validation)."""
    return copy.deepcopy(AUTH_ARG_SPEC)


def options(args: Mapping) -> dict:
    """The connection options a task was given, for kubernetes.core's get_api_client; unset ones are left to its
    K8S_AUTH_* environment and the kubeconfig."""
    return {key: args[key] for key in AUTH_ARG_SPEC if args.get(key) not in (None, "")}
