#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# The documentation of the action plugin plugins/action/iomesh_api_probe.py, which does the work on the controller.

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
  - Read-only. Runs on the controller, over the API client the collection's reads share (an action plugin, not a
    module process); the request is bounded by O(request_timeout).
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
    description: Runs on the Ansible controller.
extends_documentation_fragment:
  - iomesh.multicluster.connection
options:
  request_timeout:
    description: Seconds the request to C(/version) may take; an API server that does not answer by then is not reachable.
    type: int
    default: 60
    version_added: 0.7.0
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
