#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/iomesh_report.py); this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: iomesh_report
short_description: Read the live IOMesh deployment and judge it against the plan, for the topology report
version_added: 0.7.0
description:
  - Reads the management Helm release's last revision (as M(iomesh.multicluster.iomesh_helm) does) and, over one API
    client (as M(iomesh.multicluster.iomesh_read) does), the Namespaces, IOMeshClusters, ZookeeperClusters,
    StorageClasses, the BlockDevices of the management namespace and the pods and ConfigMaps of every cluster
    namespace; judges them once against the objects the stages render from the plan, and returns the judgement
    (RV(problems), the Graphviz source RV(dot) and the RV(view) the Markdown is written from with
    P(iomesh.multicluster.iomesh_report_view_markdown#filter)) - never the objects read.
  - "Read-only, and never fails because a read failed - what could not be read is a problem of the report
    (C(could not read: pods in <namespace>: <reason>)), so it works after any subset of stages and against an API
    that cannot be reached."
  - Runs on the controller.
author: iomesh.multicluster contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Reads and judges the same in check mode.
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
  plan:
    description:
      - What M(iomesh.multicluster.iomesh_plan) returns - the clusters, the management cluster, the settings (the helm
        executable C(iomesh_helm_binary) and the request timeout C(iomesh_request_timeout) are taken from them) and
        the constants (API versions).
    type: dict
    required: true
  verify_results:
    description:
      - The C(iomesh_verify_results) fact of the verification stage of the same run; C(null) when it did not run.
    type: raw
"""

EXAMPLES = r"""
- name: Plan the deployment from the inventory
  iomesh.multicluster.iomesh_plan: {}
  register: plan

- name: Read and judge the live state
  iomesh.multicluster.iomesh_report:
    plan: "{{ plan }}"
    verify_results: "{{ iomesh_verify_results | default(none) }}"
  register: live

- name: Fail on the problems
  ansible.builtin.assert:
    that: live.problems | length == 0
    fail_msg: "{{ live.problems | join('\n') }}"
"""

RETURN = r"""
problems:
  description: The problems the report lists, one message each (problems of the whole deployment first, then each
    cluster's prefixed with its name), as P(iomesh.multicluster.iomesh_report_problems#filter) returns them.
  returned: success
  type: list
  elements: str
  sample: ["iomesh-cluster-1: StorageClass iomesh-cluster-1 does not exist (stage iomesh_csi not run)."]
dot:
  description: The topology as Graphviz DOT source, as P(iomesh.multicluster.iomesh_report_diagram#filter) returns it.
  returned: success
  type: str
view:
  description: Everything the report says, judged once - the release, one view per cluster, the IOMeshClusters outside
    the inventory, the reads that failed and the problems - for P(iomesh.multicluster.iomesh_report_view_markdown#filter).
  returned: success
  type: dict
"""
