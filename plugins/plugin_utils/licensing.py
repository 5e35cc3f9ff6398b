# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IOMesh licences (docs/day-2.md, "Licences"): what the iomesh_license stage writes for each cluster given a
licence code, and what it reports of every cluster's licence.

IOMesh reads a cluster's licence from the Secret `spec.licenseSecretName` names (key `authorizationCode`) when that
field is set; a Secret changed in place is not read again. Its documented update is: remove the field, delete the
Secret, create it with the new code, set the field again (domain notes §11). Every cluster has its own serial and
needs its own code; the trial licence a new cluster generates lasts 30 days, after which it rejects writes
(docs/pitfalls.md P12).
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Mapping, Sequence

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import constants

# What the stage does for one cluster, decided from its Secret and IOMeshCluster as they are.
KEEP, CREATE, SET_FIELD, REPLACE, NO_CLUSTER = "keep", "create", "set_field", "replace", "no_cluster"
TIME_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d")


def encoded(code: str) -> str:
    """The Secret's data value of a licence code (surrounding whitespace, e.g. a file's last newline, left out)."""
    return base64.b64encode(str(code).strip().encode()).decode()


def secret_manifest(cluster: Mapping, code: str, labels: Mapping) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": constants.LICENSE_SECRET, "namespace": cluster["namespace"], "labels": dict(labels)},
            "data": {constants.LICENSE_SECRET_KEY: encoded(code)}}


def cluster_field(cluster: Mapping, secret_name: str | None) -> dict:
    """The IOMeshCluster as the stage applies it: its name and, when given, spec.licenseSecretName; no other field
    (the clusters' stages own the rest, under another field manager)."""
    body = {"apiVersion": constants.IOMESH_API_VERSION, "kind": "IOMeshCluster",
            "metadata": {"name": cluster["name"], "namespace": cluster["namespace"]}}
    body["spec"] = {"licenseSecretName": secret_name}
    return body


def steps(clusters: Sequence[Mapping], codes: Mapping, secrets: Sequence[Mapping], iomesh_clusters: Sequence[Mapping],
          labels: Mapping) -> list[dict]:
    """One step per cluster of `clusters` that `codes` (cluster name -> licence code) gives a code, in order:
    {name, namespace, action, secret (the manifest), licensed (the IOMeshCluster with the field), unlicensed (with
    the field null), before (its status.license)}. The action is keep (the Secret holds the code and the field names
    it), create (no Secret yet), set_field (the Secret holds the code, the field is not set), replace (the Secret holds
    another code: IOMesh's update), or no_cluster (the IOMeshCluster does not exist yet)."""
    secret_by_ns = {(s.get("metadata") or {}).get("namespace"): s for s in secrets
                    if (s.get("metadata") or {}).get("name") == constants.LICENSE_SECRET}
    cr_by_ref = {((c.get("metadata") or {}).get("namespace"), (c.get("metadata") or {}).get("name")): c
                 for c in iomesh_clusters}
    out = []
    for cluster in clusters:
        code = codes.get(cluster["name"])
        if code in (None, ""):
            continue
        cr = cr_by_ref.get((cluster["namespace"], cluster["name"]))
        secret = secret_by_ns.get(cluster["namespace"])
        field = ((cr or {}).get("spec") or {}).get("licenseSecretName")
        if cr is None:
            action = NO_CLUSTER
        elif secret is None:
            action = CREATE
        elif ((secret.get("data") or {}).get(constants.LICENSE_SECRET_KEY) or "") != encoded(code):
            action = REPLACE
        elif field != constants.LICENSE_SECRET:
            action = SET_FIELD
        else:
            action = KEEP
        out.append({"name": cluster["name"], "namespace": cluster["namespace"], "action": action,
                    "field_set": field is not None,
                    "secret": secret_manifest(cluster, code, labels),
                    "licensed": cluster_field(cluster, constants.LICENSE_SECRET),
                    "unlicensed": cluster_field(cluster, None),
                    "before": dict(((cr or {}).get("status") or {}).get("license") or {})})
    return out


def activated(step: Mapping, cr: Mapping | None) -> bool:
    """Whether the operator has taken the step's licence: a licence other than the trial, changed by a replace."""
    found = ((cr or {}).get("status") or {}).get("license") or {}
    if not found or found.get("licenseType") in (None, "", constants.LICENSE_TRIAL):
        return False
    return step["action"] != REPLACE or found != step["before"]


def _when(text: object) -> datetime.datetime | None:
    for fmt in TIME_FORMATS:
        try:
            parsed = datetime.datetime.strptime(str(text), fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)
    return None


def report(clusters: Sequence[Mapping], iomesh_clusters: Sequence[Mapping], now: datetime.datetime,
           warn_days: int) -> dict:
    """{licences: one line per cluster of the inventory (its licence type, serial and expiry as the operator reports
    them), warnings: each trial or subscription ending within warn_days days, or ended}."""
    by_ref = {((c.get("metadata") or {}).get("namespace"), (c.get("metadata") or {}).get("name")): c
              for c in iomesh_clusters}
    lines, warnings = [], []
    for cluster in clusters:
        where = f"IOMeshCluster {cluster['namespace']}/{cluster['name']}"
        found = ((by_ref.get((cluster["namespace"], cluster["name"])) or {}).get("status") or {}).get("license") or {}
        if not found:
            lines.append(f"{where}: no licence reported yet.")
            continue
        kind = found.get("licenseType") or "unknown"
        ends = _when(found.get("expirationDate")) if found.get("expirationDate") else None
        lines.append(f"{where}: {kind} licence, serial {found.get('serial') or '?'}, "
                     + (f"expires {found['expirationDate']}." if ends else "no expiry."))
        if ends is None:
            continue
        left = (ends - now).total_seconds() / 86400
        if left < 0:
            warnings.append(f"{where}: its {kind} licence expired on {found['expirationDate']}: IOMesh rejects writes "
                            "(docs/pitfalls.md P12). Give the cluster a licence code (license_code or license_file).")
        elif left <= warn_days:
            warnings.append(f"{where}: its {kind} licence expires on {found['expirationDate']}, in {int(left)} day(s) "
                            f"(iomesh_license_warn_days: {warn_days}); then IOMesh rejects writes (docs/pitfalls.md "
                            "P12). Give the cluster a licence code (license_code or license_file) and run "
                            "playbooks/license.yml.")
    return {"licences": lines, "warnings": warnings}
