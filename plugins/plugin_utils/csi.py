# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What applying the per-cluster StorageClasses would do to the ones that already exist.

Kubernetes rejects any update of a StorageClass's provisioner, parameters, reclaimPolicy, volumeBindingMode,
mountOptions or allowedTopologies, so a class that exists with other values can only be deleted and created
again. That is decided here, before anything is written: refused by default, done only when the caller asks
for it and no PersistentVolume carries the class's name, and never for a class the collection does not manage.
A class someone else made with the wanted immutable fields is adopted (labelled as ours, which makes it deletable
by a later recreate) only when the caller asks for that too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import names
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.k8s import labels as _labels, name as _name
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.constants import (
    CLUSTER_LABEL, MANAGED_BY, MANAGED_BY_LABEL,
)
# The chart's single-cluster class: never used in a multi-cluster setup (docs/pitfalls.md P5).
CHART_STORAGE_CLASS = names.CHART_STORAGE_CLASS
DEFAULT_CLASS_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class")
# Immutable fields in the order they are reported; values the API server fills in when a manifest omits them.
IMMUTABLE_FIELDS = ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode", "mountOptions", "allowedTopologies")
API_DEFAULTS = {"reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}
FIX_RECREATE = "iomesh_csi_recreate_storage_classes"
FIX_ADOPT = "iomesh_csi_adopt_storage_classes"
HELM_RELEASE_ANNOTATIONS = ("meta.helm.sh/release-namespace", "meta.helm.sh/release-name")


def _value(sc: Mapping, field: str) -> object:
    value = sc.get(field)
    if value in (None, [], {}):
        return API_DEFAULTS.get(field)
    return value


def _show(value: object) -> str:
    return "(unset)" if value is None else repr(value)


def differences(existing: Mapping, desired: Mapping) -> list[dict]:
    """Immutable fields of `existing` that differ from `desired`: [{field, old, new}], parameters one by one."""
    found = []
    for field in IMMUTABLE_FIELDS:
        if field == "parameters":
            old = {str(k): str(v) for k, v in (existing.get("parameters") or {}).items()}
            new = {str(k): str(v) for k, v in (desired.get("parameters") or {}).items()}
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    found.append({"field": f"parameters.{key}", "old": old.get(key), "new": new.get(key)})
            continue
        old, new = _value(existing, field), _value(desired, field)
        if old != new:
            found.append({"field": field, "old": old, "new": new})
    return found


def describe(diffs: Sequence[Mapping]) -> str:
    return "; ".join(f"{d['field']} {_show(d['old'])} -> {_show(d['new'])}" for d in diffs)


def made_by(sc: Mapping) -> str:
    """Who made a StorageClass, as far as it records it: its field managers, the managed-by label, a Helm release."""
    meta = sc.get("metadata") or {}
    found = []
    managers = [str(e.get("manager")) for e in meta.get("managedFields") or [] if isinstance(e, Mapping) and e.get("manager")]
    if managers:
        found.append(f"field manager(s) {', '.join(dict.fromkeys(managers))}")
    owner = _labels(sc).get(MANAGED_BY_LABEL)
    if owner:
        found.append(f"label {MANAGED_BY_LABEL}={owner}")
    annotations = meta.get("annotations") or {}
    release_ns, release = (annotations.get(a) for a in HELM_RELEASE_ANNOTATIONS)
    if release:
        found.append(f"Helm release {release}" + (f" in namespace {release_ns}" if release_ns else ""))
    return "; ".join(found) if found else f"unknown, no managedFields and no {MANAGED_BY_LABEL} label"


def _users(name: str, persistent_volumes: Sequence[Mapping]) -> list[str]:
    return sorted({_name(pv) for pv in persistent_volumes if (pv.get("spec") or {}).get("storageClassName") == name})


def storage_class_plan(desired: Sequence[Mapping], existing: Sequence[Mapping],
                       persistent_volumes: Sequence[Mapping] | None, recreate: bool, adopt: bool) -> dict:
    """Decide, per desired StorageClass, whether it can be applied, must be recreated, is adopted or is refused.

    Returns {"conflicts": [{name, cluster, managed, differences, persistent_volumes, action}], "recreate": [names],
    "adopt": [names], "errors": [str], "warnings": [str]}; `action` is recreate, refuse or adopt. An error names
    the class, every differing field (old -> new) and the fix. `persistent_volumes` is only consulted for classes
    that would be recreated; pass None when it was not read (then such a class is refused, saying so). A class
    without the collection's label whose immutable fields are equal is adopted only with `adopt`, refused otherwise.
    """
    by_name = {_name(sc): sc for sc in existing}
    plan: dict = {"conflicts": [], "recreate": [], "adopt": [], "errors": [], "warnings": []}
    for want in desired:
        name = _name(want)
        cluster = _labels(want).get(CLUSTER_LABEL) or name
        have = by_name.get(name)
        if have is None:
            continue
        managed = _labels(have).get(MANAGED_BY_LABEL) == MANAGED_BY
        diffs = differences(have, want)
        entry = {"name": name, "cluster": cluster, "managed": managed, "differences": diffs,
                 "persistent_volumes": [], "action": "refuse"}
        if not diffs:
            if managed:
                continue
            if adopt:
                entry["action"] = "adopt"
                plan["adopt"].append(name)
                plan["warnings"].append(
                    f"StorageClass {name} exists without the label {MANAGED_BY_LABEL}={MANAGED_BY} (made by: "
                    f"{made_by(have)}), but its immutable fields are those of cluster {cluster}'s storage_class, so "
                    f"it is adopted ({FIX_ADOPT}: true): the collection's labels are added and allowVolumeExpansion "
                    f"is set from the inventory; from now on {FIX_RECREATE} may delete it."
                )
            else:
                plan["errors"].append(
                    f"StorageClass {name} (cluster {cluster}) exists without the label {MANAGED_BY_LABEL}={MANAGED_BY}: "
                    f"someone else made it (made by: {made_by(have)}). Its immutable fields equal those of cluster "
                    f"{cluster}'s storage_class, but it is not adopted without {FIX_ADOPT}: true, because adopting "
                    f"labels it as the collection's and {FIX_RECREATE} may then delete it. Fix: set {FIX_ADOPT}: true "
                    f"to adopt it; or give cluster {cluster} another storage_class.name in iomesh_clusters; or delete "
                    "the class yourself if nothing uses it."
                )
            plan["conflicts"].append(entry)
            continue
        what = (
            f"StorageClass {name} (cluster {cluster}) already exists with different immutable fields: "
            f"{describe(diffs)}. Kubernetes forbids changing {', '.join(IMMUTABLE_FIELDS)} of a StorageClass, "
            "so it cannot be updated in place."
        )
        if not managed:
            owner = _labels(have).get(MANAGED_BY_LABEL)
            plan["errors"].append(
                f"{what} Made by: {made_by(have)}. It is not managed by iomesh.multicluster (label {MANAGED_BY_LABEL} is "
                f"{repr(owner) if owner else 'missing'}), so it is neither changed nor deleted, whatever "
                f"{FIX_RECREATE} says. Fix: give cluster {cluster} another storage_class.name in iomesh_clusters; "
                "or delete the class yourself if nothing uses it; or hand it over with `kubectl label "
                f"storageclass {name} {MANAGED_BY_LABEL}={MANAGED_BY}` and rerun with {FIX_RECREATE}: true."
            )
        elif not recreate:
            plan["errors"].append(
                f"{what} Fix: make storage_class of cluster {cluster} in iomesh_clusters match the existing class, "
                f"or set {FIX_RECREATE}: true to delete and create it again (refused while a PersistentVolume uses "
                "it; volumes keep the parameters they were provisioned with)."
            )
        elif persistent_volumes is None:
            plan["errors"].append(
                f"{what} {FIX_RECREATE} is true, but the PersistentVolumes were not read, so it is not known "
                "whether a volume uses the class; it is not recreated."
            )
        else:
            users = _users(name, persistent_volumes)
            entry["persistent_volumes"] = users
            if users:
                plan["errors"].append(
                    f"{what} {FIX_RECREATE} is true, but PersistentVolume(s) {', '.join(users)} use it, so it is "
                    "not recreated. Fix: delete those volumes (or migrate their data) first, or make storage_class "
                    f"of cluster {cluster} in iomesh_clusters match the existing class."
                )
            else:
                entry["action"] = "recreate"
                plan["recreate"].append(name)
                plan["warnings"].append(
                    f"StorageClass {name} is deleted and created again ({FIX_RECREATE}: true, no PersistentVolume "
                    f"uses it): {describe(diffs)}."
                )
        plan["conflicts"].append(entry)
    for sc in existing:
        annotations = (sc.get("metadata") or {}).get("annotations") or {}
        is_default = any(str(annotations.get(a)).lower() == "true" for a in DEFAULT_CLASS_ANNOTATIONS)
        if _name(sc) == CHART_STORAGE_CLASS and is_default:
            plan["warnings"].append(
                f"StorageClass {CHART_STORAGE_CLASS} (the chart's single-cluster class) is the cluster's default "
                "class: any claim without storageClassName lands on the management cluster (docs/pitfalls.md P5). Set "
                "csi-driver.storageClass.default: false through iomesh_mgmt_extra_values."
            )
    return plan
