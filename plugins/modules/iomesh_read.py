#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/iomesh_read.py); this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: iomesh_read
short_description: Read many kinds of Kubernetes objects in one task, and say which reads failed
version_added: 0.4.0
description:
  - Makes every read of O(reads) with one API client of kubernetes.core, in one task, and returns the objects of
    each under its O(reads[].key), as M(kubernetes.core.k8s_info) would return them in its C(resources). One task
    instead of one M(kubernetes.core.k8s_info) task per read saves a module process, an import of the Kubernetes
    client and a connection per read.
  - A kind the API does not serve (its CRD is not installed) and a named object that does not exist are read as no
    objects (an empty list), as M(kubernetes.core.k8s_info) reads them.
  - Does not fail when a read fails, unless O(fail_on_error). Its objects are V(null) and RV(errors) carries the client's reason in one line;
    RV(reachable) and RV(error) say, as M(iomesh.multicluster.iomesh_api_probe) does, whether the API could be used
    at all. The caller judges and reports what could not be read. The task fails only on invalid arguments.
  - Read-only; runs on the controller.
author: iomesh.multicluster contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Read-only; reads the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
  platform:
    support: full
    platforms: all
    description: Runs on the controller (action plugin).
extends_documentation_fragment:
  - iomesh.multicluster.connection
options:
  reads:
    description: The reads, made in order.
    type: list
    elements: dict
    required: true
    suboptions:
      key:
        description:
          - The name the read's objects are returned under in RV(objects) (and its reason in RV(errors)).
          - Each read needs a key of its own; a key given twice fails the task, naming it.
        type: str
        required: true
      api_version:
        description: API version of the objects to read.
        type: str
        default: v1
      kind:
        description: Kind of the objects to read.
        type: str
        required: true
      namespace:
        description: Namespace to read in; every namespace when omitted.
        type: str
      name:
        description: Name of the one object to read; all objects of the kind when omitted.
        type: str
      label_selectors:
        description: Label selectors of the read (joined with commas).
        type: list
        elements: str
        default: []
  fail_on_error:
    description:
      - Fail the task when the API cannot be used (its C(msg) says why) or when a read failed (its C(msg) names each
        read that failed, by key, with the client's reason), for a caller that cannot go on without every read.
      - The result still carries RV(objects), RV(errors), RV(reachable) and RV(error).
    type: bool
    default: false
    version_added: 0.4.0
  managed_fields:
    description:
      - Whether the objects keep C(metadata.managedFields), the API server's record of which field manager set which
        field (as M(kubernetes.core.k8s_info) returns them). V(false) drops it, for a caller that does not judge
        ownership; it is often half of an object, and every object read is handed back to Ansible.
    type: bool
    default: true
    version_added: 0.5.0
  request_timeout:
    description:
      - Seconds each request may take (at least 1); a read that does not answer in time has failed, with the client's
        timeout as its reason, and never hangs the task.
    type: int
    default: 60
requirements:
  - kubernetes.core and its Python requirements (the C(kubernetes) client)
"""

EXAMPLES = r"""
- name: Read the IOMeshClusters, and the pods of two namespaces
  iomesh.multicluster.iomesh_read:
    reads:
      - key: clusters
        api_version: iomesh.com/v1alpha1
        kind: IOMeshCluster
      - key: pods in blk-east
        kind: Pod
        namespace: blk-east
      - key: meta pods in blk-west
        kind: Pod
        namespace: blk-west
        label_selectors:
          - app.kubernetes.io/name=meta
  register: live

- name: Fail when a read failed, saying which and why
  ansible.builtin.assert:
    that: live.errors | length == 0
    fail_msg: >-
      {{ ('the API cannot be used: ' ~ live.error | iomesh.multicluster.iomesh_api_error_reason) if not live.reachable
         else live.errors | dict2items | map(attribute='key') | join(', ') ~ ' could not be read' }}
"""

RETURN = r"""
objects:
  description:
    - Per key of O(reads), the objects read (a list, empty when there are none), or V(null) when the read failed.
  returned: always
  type: dict
  sample: {"clusters": [], "pods in blk-east": [{"kind": "Pod", "metadata": {"name": "blk-east-meta-0"}}],
           "meta pods in blk-west": null}
errors:
  description: Per key of a read that failed, the client's reason in one line; empty when every read succeeded.
  returned: always
  type: dict
  sample: {"meta pods in blk-west": "403 Forbidden: pods is forbidden: User \"ci\" cannot list resource \"pods\""}
api_found:
  description:
    - Per key of O(reads), whether the API serves its kind (false when its CRD is not installed, as
      M(kubernetes.core.k8s_info) says in its C(api_found)), or V(null) when the read failed or no read was made.
  returned: always
  type: dict
  sample: {"clusters": false, "pods in blk-east": true, "meta pods in blk-west": null}
  version_added: 0.5.0
reachable:
  description:
    - Whether the API client could be created and the API server answered C(/version), as
      M(iomesh.multicluster.iomesh_api_probe) reports it. When false, no read was made and every object is V(null).
  returned: always
  type: bool
error:
  description:
    - When not RV(reachable), the client's error, whole, as M(iomesh.multicluster.iomesh_api_probe) returns it
      (shorten it with P(iomesh.multicluster.iomesh_api_error_reason#filter)); empty otherwise.
  returned: always
  type: str
  sample: "HTTPSConnectionPool(host='10.0.0.1', port=6443): Max retries exceeded with url: /version (Caused by ...)"
"""
