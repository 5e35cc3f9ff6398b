#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/iomesh_plan.py); this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: iomesh_plan
short_description: Validate the IOMesh inventory once and return the plan every role reads
version_added: 0.2.0
description:
  - Reads C(iomesh_clusters), the inventory's C(groups) and C(hostvars) and every C(iomesh_*) variable in scope,
    applies the documented defaults and validates everything at once, each problem naming the cluster, host or
    variable, the bad value and the fix.
  - Returns the normalised clusters (management first) with everything derived from them, so that no role
    re-spells a name, a wait, an API version or a label, and no filter normalises raw variables again.
  - Deterministic and read-only; runs on the controller and changes nothing. Register its result.
author: iomesh.multicluster contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Read-only; computes the same plan in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
  platform:
    support: full
    platforms: all
    description: Runs on the controller (action plugin).
extends_documentation_fragment: []
options:
  fail_on_problems:
    description:
      - Fail listing every problem of the inventory.
      - With V(false) the problems are returned in RV(errors) for the caller to report (the preflight stage).
    type: bool
    default: true
notes:
  - The inputs are the variables in scope, not options, so every role of a playbook computes the same plan.
"""

EXAMPLES = r"""
- name: Plan the deployment from the inventory
  iomesh.multicluster.iomesh_plan:
  register: __iomesh_mgmt_plan

- name: Wait until the management cluster serves
  iomesh.multicluster.iomesh_wait:
    waits: "{{ __iomesh_mgmt_plan.management.waits.all }}"
"""

RETURN = r"""
clusters:
  description:
    - The normalised clusters, management first, others in inventory order.
    - Each carries its inventory values with defaults applied (C(name), C(namespace), C(nodes), C(host_nodes),
      C(disks), C(mount_types), C(storage_class), replica counts, C(data_cidr)), the names derived from it
      (C(zookeeper_name), C(meta_client_service), C(csi_configmap_name), C(meta_addr), C(cluster_connection),
      C(iomesh_cluster_ref), C(block_device_namespace), C(names)), C(pod_patterns) (component to regular
      expression of its pod names) and C(waits) (C(all), C(operator), C(zookeeper), C(serving), C(meta_client), each
      a list of M(iomesh.multicluster.iomesh_wait) waits).
    - With problems, only what could be normalised, without C(names), C(pod_patterns) and C(waits).
  returned: always
  type: list
  elements: dict
management:
  description: The management cluster (the same dictionary as in RV(clusters)); null with problems.
  returned: always
  type: dict
settings:
  description: Every collection-wide variable (C(iomesh_chart_version), C(iomesh_kubeconfig), ...) with defaults applied.
  returned: always
  type: dict
release:
  description: Names of the shared objects the chart makes for the management release (Helm's fullname rule).
  returned: always
  type: dict
  sample: {"operator_deployment": "operator", "zookeeper_operator_deployment": "iomesh-zookeeper-operator"}
constants:
  description: C(api_versions) (iomesh, zookeeper, ndm), C(labels) (managed, verify, verify_selector), C(csi_driver), C(meta_client_port).
  returned: always
  type: dict
errors:
  description: Every problem of the inventory; empty when it is valid.
  returned: always
  type: list
  elements: str
inventory_warnings:
  description: Every warning about the inventory (misspelt variables, host bits in a CIDR, hosts without disks).
  returned: always
  type: list
  elements: str
"""
