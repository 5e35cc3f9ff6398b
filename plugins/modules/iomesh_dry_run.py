#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/iomesh_dry_run.py); this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: iomesh_dry_run
short_description: Tell which Kubernetes objects a server-side apply would change, in one task
version_added: 0.5.0
description:
  - >-
    For each item of O(definitions) (a manifest, or a list of manifests applied together), reads the object and
    dry-runs a server-side apply of the manifest by O(field_manager) (C(dryRun=All): admission webhooks and
    validation run, nothing is stored), and says whether the apply would change the object, judged as
    M(kubernetes.core.k8s) judges its own apply (the object before against the API server's answer).
  - One API client and one task for every item, instead of a module process per object. A stage dry-runs all it
    owns, then applies with M(kubernetes.core.k8s) (its diffs, check mode and retries) only the items that would
    change; a no-change run costs this task alone.
  - An object that does not exist would be created. Whatever cannot be told (the API cannot be used, the kind is
    not served, a read or the dry run fails, e.g. a webhook that cannot be called) counts as a change, with the
    client's reason in RV(reasons); the task does not fail for it. The caller applies the item for real, and that
    apply reports or retries the failure.
  - Writes nothing; runs on the controller.
author: iomesh.multicluster contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Writes nothing; answers the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing; the apply that follows shows the diff.
  platform:
    support: full
    platforms: all
    description: Runs on the controller (action plugin).
extends_documentation_fragment:
  - iomesh.multicluster.connection
options:
  definitions:
    description:
      - The items, in order. Each is a manifest (C(apiVersion), C(kind), C(metadata.name), and C(metadata.namespace)
        when namespaced) or a list of manifests; an item would change when any of its manifests would (the later
        ones are not dry-run once one would change).
      - An item that is not a manifest or a list of manifests fails the task.
    type: list
    elements: raw
    required: true
  field_manager:
    description: The field manager of the apply, the one the real apply uses.
    type: str
    required: true
  force_conflicts:
    description: Whether the apply takes over fields another manager owns, as the real apply does.
    type: bool
    default: true
  request_timeout:
    description: Seconds each request may take (at least 1); one that does not answer in time counts as a change.
    type: int
    default: 60
requirements:
  - kubernetes.core and its Python requirements (the C(kubernetes) client)
"""

EXAMPLES = r"""
- name: Tell which ConfigMaps would change
  iomesh.multicluster.iomesh_dry_run:
    definitions: "{{ configmaps }}"
    field_manager: blk-deployer
  register: dry_run

- name: Apply only those
  kubernetes.core.k8s:
    state: present
    apply: true
    server_side_apply:
      field_manager: blk-deployer
      force_conflicts: true
    definition: "{{ item }}"
  loop: "{{ configmaps | zip(dry_run.would_change) | selectattr(1) | map(attribute=0) }}"
"""

RETURN = r"""
would_change:
  description: Per item of O(definitions), in order, whether applying it would change the cluster.
  returned: always
  type: list
  elements: bool
  sample: [false, true]
reasons:
  description:
    - Per item, why it counts as a change without a dry-run answer (the client's reason in one line), or V(null).
  returned: always
  type: list
  elements: str
  sample: [null, "Internal error occurred: failed calling webhook \"vcluster.iomesh.com\": ... connection refused"]
pending:
  description: How many items would change.
  returned: always
  type: int
  sample: 1
"""
