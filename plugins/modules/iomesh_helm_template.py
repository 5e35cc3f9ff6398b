#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/iomesh_helm_template.py); this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: iomesh_helm_template
short_description: Render a Helm chart with C(helm template) on the controller
version_added: 0.7.0
description:
  - Runs C(helm template) as M(kubernetes.core.helm_template) runs it for the same options (the values in a file,
    C(--repo) and C(--version) when given, no CRDs), on the controller, without a module process.
  - Read-only; runs the same in check mode. Helm renders locally; it reaches the network only to fetch the chart from
    O(chart_repo_url).
  - The values are written to a file only the controller's user can read, removed when helm is done.
author: iomesh.multicluster contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Renders in check mode as well.
  diff_mode:
    support: none
    description: Shows no difference.
  platform:
    support: full
    platforms: all
    description: Runs on the controller (action plugin).
options:
  chart_ref:
    description: The chart - its name in O(chart_repo_url), or a path to a chart directory or C(.tgz).
    type: str
    required: true
  chart_repo_url:
    description: The chart repository the chart is fetched from (C(helm template --repo)); the Helm repository list
      of the user is left alone.
    type: str
  chart_version:
    description: The chart version (C(--version)); the latest when omitted.
    type: str
  release_name:
    description: The release name the chart is rendered for.
    type: str
    required: true
  release_namespace:
    description: The namespace the chart is rendered for.
    type: str
    required: true
  release_values:
    description: The values.
    type: dict
    default: {}
  binary_path:
    description: The helm executable (Helm 3 or 4); C(helm) on the controller's PATH when omitted.
    type: path
  timeout:
    description: Seconds helm may take, fetching the chart included; then the task fails.
    type: int
    default: 300
  crds_only:
    description:
      - Print the chart's CustomResourceDefinitions (C(helm show crds), its C(crds/) directory) instead of rendering
        its templates; O(release_name), O(release_namespace) and O(release_values) are then not used.
      - Helm installs those CRDs on the first install only and never upgrades them; a caller applies them itself
        before an upgrade.
    type: bool
    default: false
    version_added: 0.8.0
"""

EXAMPLES = r"""
- name: Render the chart
  iomesh.multicluster.iomesh_helm_template:
    chart_ref: iomesh
    chart_repo_url: https://charts.example.com/iomesh
    chart_version: v1.1.0
    release_name: blk-core
    release_namespace: store-east
    release_values: {iomesh: {create: true}}
  register: rendered
  # The rendering of a chart may hold secrets (webhook certificates).
  no_log: true
"""

RETURN = r"""
stdout:
  description: The rendered manifests (the CRDs with O(crds_only)), as helm printed them; empty when helm failed.
  returned: always
  type: str
stderr:
  description: What helm printed on its standard error (its warnings), or why it failed.
  returned: always
  type: str
rc:
  description: Helm's exit status (1 when it could not be run or did not end in time).
  returned: always
  type: int
command:
  description: The helm command line (the values file named by its path).
  returned: always
  type: str
"""
