#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/iomesh_helm.py); this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: iomesh_helm
short_description: Read a Helm release's last revision, and roll it back to it after an interrupted revision
version_added: 0.6.0
description:
  - Reads the release's last revision, whatever its state (pending ones included), with C(helm history --max 1) and
    C(helm get values --revision) of that revision, and returns it in the shape M(kubernetes.core.helm_info) returns
    its C(status) - two helm commands on the controller instead of five in a module process. (C(helm status) leaves
    the chart out.)
  - With O(rollback_deployed), and when that revision is deployed, runs C(helm rollback) to it, then reads the release
    again. The iomesh_mgmt role does so after it removed the record of a revision an interrupted Helm command left
    pending - that command may have applied part of its objects (with the real chart, a webhook certificate without
    the webhook configuration that trusts it), and an upgrade with the same values would not run
    (docs/pitfalls.md P24).
  - The connection options reach helm as M(kubernetes.core.helm) passes them - as Helm's environment variables
    (C(KUBECONFIG), C(HELM_KUBECONTEXT), C(HELM_KUBEAPISERVER), C(HELM_KUBETOKEN), C(HELM_KUBECAFILE),
    C(HELM_KUBEINSECURE_SKIP_TLS_VERIFY)), with the same C(K8S_AUTH_*) fallbacks. Options helm has no variable for
    (client certificates, a proxy, impersonation) fail the task; put them in the kubeconfig.
  - Runs on the controller.
author: iomesh.multicluster contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Reads the same in check mode; the rollback is reported in RV(rolled_back_to), not run.
  diff_mode:
    support: none
    description: Shows no difference.
  platform:
    support: full
    platforms: all
    description: Runs on the controller (action plugin).
extends_documentation_fragment:
  - iomesh.multicluster.connection
options:
  release_name:
    description: The release.
    type: str
    required: true
  release_namespace:
    description: The release's namespace.
    type: str
    required: true
  binary_path:
    description: The helm executable (Helm 3 or 4); C(helm) on the controller's PATH when omitted.
    type: path
  rollback_deployed:
    description:
      - When the release's last revision is deployed, roll the release back to it (C(helm rollback <release>
        <revision>)), which patches every object of the release back as that revision made it, then read it again.
      - Changes nothing when the last revision is not deployed, or there is none.
    type: bool
    default: false
  timeout:
    description: Helm's C(--timeout) of the rollback, in seconds.
    type: int
    default: 300
  request_timeout:
    description: Seconds each helm command of the read may take; one that does not answer in time fails the task, saying so.
    type: int
    default: 60
requirements:
  - Helm 3.10 or later, or Helm 4, on the controller
"""

EXAMPLES = r"""
- name: Read the management release
  iomesh.multicluster.iomesh_helm:
    release_name: blk-mgmt
    release_namespace: storage-a
  register: release

- name: Say which revision runs
  ansible.builtin.debug:
    msg: "{{ release.status.chart ~ ', revision ' ~ release.status.revision ~ ', ' ~ release.status.status
             if release.status is defined else 'not installed' }}"
"""

RETURN = r"""
status:
  description:
    - The release's last revision, as M(kubernetes.core.helm_info) returns its C(status) (the fields below); absent
      when the release has no revision at all.
  returned: when the release exists
  type: dict
  contains:
    name:
      description: The release.
      type: str
    namespace:
      description: Its namespace.
      type: str
    revision:
      description: The revision's number, as a string (as C(helm list) prints it).
      type: str
      sample: "4"
    status:
      description: The revision's state (deployed, failed, pending-install, pending-upgrade, pending-rollback, ...).
      type: str
    chart:
      description: The chart, C(<name>-<version>).
      type: str
      sample: iomesh-v1.1.0
    app_version:
      description: The chart's appVersion.
      type: str
    updated:
      description: When the revision was made (RFC 3339).
      type: str
      sample: "2026-12-05T20:59:45.695053134Z"
    release_values:
      description: The user-supplied values of the revision (C(helm get values)).
      type: dict
rolled_back_to:
  description: The revision rolled back to (or, in check mode, that would be), with O(rollback_deployed).
  returned: when a rollback was run or would be
  type: str
  sample: "3"
msg:
  description: Why helm could not read the release or roll it back.
  returned: on failure
  type: str
"""
