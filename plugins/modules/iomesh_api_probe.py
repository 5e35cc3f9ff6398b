#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# A module that answers instead of failing: a failed kubernetes.core task registered with failed_when loses the
# client's message (docs/architecture.md#reaching-the-kubernetes-api).

from __future__ import annotations

DOCUMENTATION = r"""
module: iomesh_api_probe
short_description: Whether the Kubernetes API can be used, and the client's own error when it cannot
version_added: 0.2.0
description:
  - Builds the Kubernetes client as the kubernetes.core modules do (O(kubeconfig), O(context), the C(K8S_AUTH_*)
    environment variables, C(KUBECONFIG), C(~/.kube/config)) and reads C(/version) from the API server, past
    kubernetes.core's discovery cache.
  - Does not fail when the API cannot be used. RV(reachable) says whether it answered; RV(error) carries the
    client's own error (connection refused, name resolution, TLS, C(401 Unauthorized), C(403 Forbidden), timeout, a
    kubeconfig error) for the caller to report, shortened by the
    P(iomesh.multicluster.iomesh_api_error_reason#filter) filter.
  - Read-only. Like the kubernetes.core modules it sets no request timeout; the task's C(timeout) bounds a server
    that never answers (the collection's roles set it to C(iomesh_request_timeout)).
author: iomesh.multicluster contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Read-only; probes in check mode as well.
  diff_mode:
    support: none
    description: Changes nothing.
  platform:
    support: full
    platforms: all
    description: Runs where the task runs (the controller in this collection's plays).
extends_documentation_fragment:
  - iomesh.multicluster.connection
options: {}
requirements:
  - kubernetes.core (its Kubernetes client and the Python library C(kubernetes))
"""

EXAMPLES = r"""
- name: Probe the Kubernetes API
  iomesh.multicluster.iomesh_api_probe:
    kubeconfig: "{{ iomesh_kubeconfig | default(omit, true) }}"
    context: "{{ iomesh_kube_context | default(omit, true) }}"
  register: api

- name: Fail when it cannot be used, with the client's reason
  ansible.builtin.assert:
    that: api.reachable
    fail_msg: "The Kubernetes API cannot be used: {{ api.error | iomesh.multicluster.iomesh_api_error_reason }}"
"""

RETURN = r"""
reachable:
  description: Whether the API server answered C(/version).
  returned: always
  type: bool
host:
  description: The API server the client used.
  returned: when reachable
  type: str
  sample: https://10.0.0.1:6443
version:
  description: The API server's C(/version) answer.
  returned: when reachable
  type: dict
  sample: {"major": "1", "minor": "25", "gitVersion": "v1.25.16"}
error:
  description: The client's error, whole (see P(iomesh.multicluster.iomesh_api_error_reason#filter)).
  returned: when not reachable
  type: str
  sample: "HTTPSConnectionPool(host='10.0.0.1', port=6443): Max retries exceeded with url: /version (Caused by ...)"
client_configured:
  description:
    - Whether the client was set up from the kubeconfig and the error came from talking to the server (refused,
      unresolvable, TLS, an error answer, a timeout). False when it is about the kubeconfig or the client itself.
  returned: when not reachable
  type: bool
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

# Packages whose exceptions mean a request reached the network: urllib3's, and the API errors of the client.
REQUEST_ERROR_PACKAGES = ("urllib3.", "kubernetes.client.", "kubernetes.dynamic.")


def _from_a_request(exc: BaseException) -> bool:
    return any(cls.__module__.startswith(REQUEST_ERROR_PACKAGES) for cls in type(exc).__mro__)


def main():
    # kubernetes.core's connection options, as its modules take them (module_defaults, K8S_AUTH_*).
    module = AnsibleModule(argument_spec=copy.deepcopy(AUTH_ARG_SPEC), supports_check_mode=True)
    try:
        # Imported here: without kubernetes.core or the kubernetes library the module fails saying so.
        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    except ImportError as exc:
        module.fail_json(msg=f"iomesh_api_probe needs the kubernetes.core collection and its Python requirements: {exc}")
    try:
        # As keywords, not module=: get_api_client then needs nothing of AnsibleK8SModule. Without a discovery cache
        # it already reads /version; with one, only the request below reaches the server.
        client = get_api_client(**{key: value for key, value in module.params.items() if value not in (None, "")})
        version = client.client.request("get", "/version", serializer=lambda _response, data: data)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # Every error of the client is an answer here: the caller reports it.
        module.exit_json(changed=False, reachable=False, error=str(exc) or repr(exc),
                         client_configured=_from_a_request(exc))
    module.exit_json(changed=False, reachable=True, host=str(client.configuration.host), version=dict(version))


if __name__ == "__main__":
    main()
