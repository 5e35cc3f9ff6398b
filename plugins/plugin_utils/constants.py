# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts of IOMesh, Kubernetes and this collection that are written once and imported everywhere.

Python modules import these names; YAML never re-spells them: it reads them through the plugins (the plan
that `iomesh.multicluster.iomesh_plan` hands to every role carries the ones tasks need).
"""

from __future__ import annotations

import re

# API versions of the objects the collection reads and writes.
IOMESH_API_VERSION = "iomesh.com/v1alpha1"
ZOOKEEPER_API_VERSION = "zookeeper.pravega.io/v1beta1"
NDM_API_VERSION = "openebs.io/v1alpha1"
# The Prometheus Operator's objects the chart's optional monitoring makes (docs/day-2.md, "Monitoring").
MONITORING_API_VERSION = "monitoring.coreos.com/v1"
COORDINATION_API_VERSION = "coordination.k8s.io/v1"

# The node label every Kubernetes node and every NDM BlockDevice carries (docs/pitfalls.md).
HOSTNAME_LABEL = "kubernetes.io/hostname"
# The label in which IOMesh's node-disk-manager repeats a BlockDevice's serial number.
BD_SERIAL_LABEL = "iomesh.com/bd-serial"
# Labels in which it repeats the device type and the drive type (SSD/HDD) when spec.details lacks them.
BD_DEVICE_TYPE_LABEL = "iomesh.com/bd-deviceType"
BD_DRIVE_TYPE_LABEL = "iomesh.com/bd-driverType"

# What the collection stamps on the objects it owns.
MANAGED_BY = "iomesh.multicluster"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
COMPONENT_LABEL = "app.kubernetes.io/component"
LABEL_PREFIX = "iomesh.multicluster"
CLUSTER_LABEL = f"{LABEL_PREFIX}/cluster"
MOUNT_TYPE_LABEL = f"{LABEL_PREFIX}/mount-type"

# IOMesh's CSI driver and its connection.
CSI_DRIVER = "com.iomesh.csi-driver"
ISCSI_PORTAL = "127.0.0.1:3260"
META_CLIENT_PORT = 10100
META_LEADER_LABEL = "iomesh.com/meta-leader"

# The IOMesh operator's validating webhook (chart: ValidatingWebhookConfiguration iomesh-validating-webhook-configuration).
IOMESH_WEBHOOK = "validate-iomeshcluster.iomesh.com"
# What kube-apiserver says when it cannot call that webhook (failurePolicy Fail): the operator is not serving yet, or
# still serves the certificate of an earlier chart render while the caBundle is the new one (x509). Writes of
# IOMeshClusters are retried, for a bounded time, on this and on nothing else; a webhook that answers and denies
# ("admission webhook ... denied the request") fails at once (docs/pitfalls.md P10). A regular expression: the
# kubernetes.core modules report the API's Status as JSON text, where the quotes around the name are escaped.
WEBHOOK_UNAVAILABLE = r'failed calling webhook \\*"' + re.escape(IOMESH_WEBHOOK) + r'\\*"'

# The deployment lock (docs/architecture.md, "One run at a time"): a Lease in the management namespace, held by the run
# while a stage writes. A holder that neither renews nor releases it is taken over after this many seconds (or at once
# by a run on the same controller, when the holder's process is gone).
LOCK_LEASE = "iomesh-multicluster-lock"
LOCK_DURATION_SECONDS = 3600

# Helm: the annotation naming the release that made an object, and the one that stops Helm deleting it.
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
HELM_KEEP = {"helm.sh/resource-policy": "keep"}

# Fields hidden from the results and --diff of the collection's kubernetes.core.k8s writes: the server's field-ownership
# bookkeeping changes on every apply and buries the change itself (docs/architecture.md, "Check mode and diffs").
APPLY_HIDDEN_FIELDS = ("metadata.managedFields",)

# IOMesh licences (domain notes §11, "License activation/update"): the Secret the docs name, its key, and the
# IOMeshCluster field naming it. The trial licence a new cluster generates is of this type.
LICENSE_SECRET = "iomesh-authorization-code"
LICENSE_SECRET_KEY = "authorizationCode"
LICENSE_TRIAL = "Trial"
