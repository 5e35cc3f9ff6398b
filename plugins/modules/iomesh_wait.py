#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/iomesh_wait.py); this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: iomesh_wait
short_description: Wait, bounded, until IOMesh objects are ready
version_added: 0.1.0
description:
  - Runs each wait in order. A wait reads objects with the API client of kubernetes.core (one per task, as
    M(kubernetes.core.k8s_info) would read them) every O(delay) seconds and judges them with one of the readiness
    checks of the collection until they are ready, for at most O(timeout) seconds.
  - A wait that gives up fails the task with what it expected and what it saw (pods by state and node, replica
    counts, the last API error).
  - Notes of the checks (such as the CSI node plugin crash loop expected on nodes of IOMesh clusters not yet
    deployed, docs/pitfalls.md P1) are returned in RV(notes).
  - Read-only; runs on the controller.
author: iomesh.multicluster contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Read-only; waits in check mode as well.
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
  waits:
    description: The waits, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      label:
        description: What is waited for, in words (used in messages).
        type: str
        required: true
      api_version:
        description: API version of the objects to read.
        type: str
        required: true
      kind:
        description: Kind of the objects to read.
        type: str
        required: true
      namespace:
        description: Namespace to read in.
        type: str
      name:
        description: Name of the one object to read; all objects of the kind when omitted.
        type: str
      label_selectors:
        description: Label selectors of the read (joined with commas).
        type: list
        elements: str
        default: []
      check:
        description: The readiness check (the C(check) argument of the P(iomesh.multicluster.iomesh_readiness#filter) filter).
        type: str
        required: true
        choices: [attached_devices, blockdevices_claimed, csi_node_plugin, daemonset, deployment, iomesh_cluster, pod_ready,
                  pods_on_nodes, pvc_bound, service, zookeeper]
      args:
        description: Keyword arguments of the check (see P(iomesh.multicluster.iomesh_readiness#filter)).
        type: dict
        default: {}
  timeout:
    description: Seconds each wait may take.
    type: int
    default: 900
  delay:
    description: Seconds between two polls (at least 1).
    type: int
    default: 5
  request_timeout:
    description:
      - Seconds each read may take; a read that does not answer in time counts as a failed poll (its error is
        reported if the wait gives up), never as a hang.
    type: int
    default: 60
  progress_interval:
    description:
      - Seconds between two lines of progress while a wait is not satisfied yet (what it waits for, for how long of
        O(timeout), and what it sees), printed while the task runs; V(0) prints none.
    type: int
    default: 30
requirements:
  - kubernetes.core and its Python requirements (the C(kubernetes) client)
"""

EXAMPLES = r"""
- name: Wait for the IOMesh operator and its ZooKeeper
  iomesh.multicluster.iomesh_wait:
    timeout: 600
    waits:
      - label: the IOMesh operator
        api_version: apps/v1
        kind: Deployment
        namespace: iomesh-system
        name: operator
        check: deployment
        args: {name: operator}
      - label: ZooKeeper iomesh-zookeeper
        api_version: zookeeper.pravega.io/v1beta1
        kind: ZookeeperCluster
        namespace: iomesh-system
        name: iomesh-zookeeper
        check: zookeeper
        args: {name: iomesh-zookeeper}
"""

RETURN = r"""
waits:
  description: Per wait, its label, the seconds it took, the number of polls and the notes of its check.
  returned: success
  type: list
  elements: dict
  sample: [{"label": "the IOMesh operator", "seconds": 12.1, "polls": 3, "notes": []}]
notes:
  description: The notes of all checks, such as pods that are expected not to be ready yet.
  returned: success
  type: list
  elements: str
"""
