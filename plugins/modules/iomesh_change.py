#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/iomesh_change.py); this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: iomesh_change
short_description: Report a change the collection computed, with its diff
version_added: 0.2.0
description:
  - Returns O(change.changed), O(change.msg) and, when changed, O(change.diff) as the task's result, so that Ansible
    counts the change and C(--diff) prints the difference.
  - The iomesh_mgmt role reports the management release's install or upgrade with it (the filter
    C(iomesh.multicluster.iomesh_release_change) computes it, secrets hidden), because M(kubernetes.core.helm) shows
    no difference without Helm's diff plugin; the same in check mode and in a real run.
  - Changes nothing itself; runs on the controller.
author: iomesh.multicluster contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Reports the same change in check mode.
  diff_mode:
    support: full
    description: Returns O(change.diff) when changed.
  platform:
    support: full
    platforms: all
    description: Runs on the controller (action plugin).
options:
  change:
    description: The change, as the filter C(iomesh.multicluster.iomesh_release_change) returns it.
    type: dict
    required: true
    suboptions:
      changed:
        description: Whether something would change.
        type: bool
        required: true
      msg:
        description: One line saying what and why.
        type: str
        default: ""
      reasons:
        description: Why, one item each.
        type: list
        elements: str
        default: []
      diff:
        description: What Ansible prints with C(--diff).
        type: dict
        suboptions:
          before:
            description: The text before.
            type: str
            default: ""
          after:
            description: The text after.
            type: str
            default: ""
          before_header:
            description: The name of the text before.
            type: str
          after_header:
            description: The name of the text after.
            type: str
"""

EXAMPLES = r"""
- name: Compare the release with the inventory
  iomesh.multicluster.iomesh_change:
    change: >-
      {{ release.status | default(none) | iomesh.multicluster.iomesh_release_change(plan.management, plan.settings,
         {'values': values}) }}
  register: release_change
"""

RETURN = r"""
msg:
  description: What would be done and why.
  returned: always
  type: str
reasons:
  description: Why, one item each.
  returned: always
  type: list
  elements: str
"""
