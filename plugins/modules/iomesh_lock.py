#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/iomesh_lock.py); this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: iomesh_lock
short_description: Take or release the deployment lock, a Kubernetes Lease
version_added: 0.2.0
description:
  - Every stage that writes holds the lock while it writes, so that two runs at once never overwrite each other's
    work or delete each other's verification objects (docs/architecture.md, "One run at a time").
  - The lock is a C(coordination.k8s.io/v1) Lease in the management namespace, whose C(holderIdentity) names the user,
    the controller, the C(ansible-playbook) process and the run. Taking it creates it (and, with O(create_namespace),
    the namespace on a first install), renews it when this run already holds it, or takes it over when its holder is gone, with a warning
    saying so; it is gone when the lease expired (C(renewTime) + C(leaseDurationSeconds)) or when it ran on this
    controller and its process no longer exists (a killed run). Held by another live run, the task fails naming
    the holder and the command to remove a lock whose run is gone.
  - Creates and updates are conditional (create only when absent, update only at the C(resourceVersion) read), so
    two runs taking the lock at the same moment cannot both get it.
  - The run's identity is kept in a fact, so the stages (and plays) of one run share the lock.
author: iomesh.multicluster contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Reads the Lease and warns when another run holds it; takes nothing.
  diff_mode:
    support: none
    description: The lock is not part of the deployment.
  platform:
    support: full
    platforms: all
    description: Runs on the controller (action plugin).
options:
  state:
    description: C(present) takes (or renews) the lock; C(absent) releases it when this run holds it.
    type: str
    choices: [present, absent]
    default: present
  plan:
    description:
      - What M(iomesh.multicluster.iomesh_plan) returns; gives O(namespace) (the management cluster's), O(kubeconfig),
        O(context) and O(request_timeout) (C(iomesh_kubeconfig), C(iomesh_kube_context), C(iomesh_request_timeout))
        when they are not given.
    type: dict
  namespace:
    description: Namespace of the Lease, the management cluster's; required without O(plan).
    type: str
  name:
    description: Name of the Lease.
    type: str
    default: iomesh-multicluster-lock
  duration:
    description: Seconds after its last renewal that the lock of a run that neither renews nor releases it expires.
    type: int
    default: 3600
  create_namespace:
    description:
      - Create the namespace when it does not exist (the management stage, on a first install; a change).
      - Without, a namespace that does not exist means nothing of the deployment exists yet, and no lock is taken.
    type: bool
    default: false
  request_timeout:
    description:
      - Seconds each request to the API may take; omitted, C(iomesh_request_timeout) of O(plan), else 60.
    type: int
extends_documentation_fragment:
  - iomesh.multicluster.connection
requirements:
  - kubernetes.core and its Python requirements (the C(kubernetes) client)
"""

EXAMPLES = r"""
- name: Write, holding the deployment lock
  block:
    - name: Plan the deployment from the inventory
      iomesh.multicluster.iomesh_plan: {}
      register: plan

    - name: Take the deployment lock
      iomesh.multicluster.iomesh_lock:
        plan: "{{ plan }}"

    - name: Write something
      ansible.builtin.debug:
        msg: one run at a time
  always:
    - name: Release the deployment lock
      iomesh.multicluster.iomesh_lock:
        plan: "{{ plan }}"
        state: absent
"""

RETURN = r"""
run_id:
  description: The identity of this run, shared by its stages; also a suffix for objects that must be unique per run.
  returned: always
  type: str
  sample: 3f9a1c0b2e
namespace_created:
  description: True when taking the lock created the namespace (a first install); the task then reports a change.
  returned: when it did
  type: bool
action:
  description: What was done with the Lease found (create, renew, takeover or refuse); absent when releasing.
  returned: when taking the lock
  type: str
"""
