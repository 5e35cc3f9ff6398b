"""Object validation the API server does beyond the schema: names, labels, immutable fields."""

from __future__ import annotations

import base64
import binascii
import json
import re

from .errors import ApiError, invalid
from .resources import ResourceType

_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_QUALIFIED = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")

# kinds whose names are DNS-1123 labels rather than subdomains
LABEL_NAMED = {("v1", "Namespace"), ("v1", "Service")}
# kinds whose names are only path segments (no '/' or '%')
PATH_NAMED = {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "Event"}


def _cause(field: str, message: str, reason: str = "FieldValueInvalid") -> dict:
    return {"reason": reason, "message": message, "field": field}


def metadata_causes(rt: ResourceType, obj: dict) -> list[dict]:
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    causes = []
    if not name:
        causes.append(_cause("metadata.name", "Required value: name or generateName is required",
                             "FieldValueRequired"))
    elif rt.kind in PATH_NAMED:
        if "/" in name or "%" in name or name in (".", ".."):
            causes.append(_cause("metadata.name", f'Invalid value: "{name}": may not contain \'/\''))
    elif (rt.api_version, rt.kind) in LABEL_NAMED:
        if len(name) > 63 or not _LABEL.fullmatch(name):
            causes.append(_cause("metadata.name", f'Invalid value: "{name}": {LABEL_MSG}'))
    elif len(name) > 253 or not _SUBDOMAIN.fullmatch(name):
        causes.append(_cause("metadata.name", f'Invalid value: "{name}": {SUBDOMAIN_MSG}'))
    for key, value in (meta.get("labels") or {}).items():
        prefix, _, base = key.rpartition("/")
        if not base or len(base) > 63 or not _QUALIFIED.fullmatch(base) or (
                prefix and not _SUBDOMAIN.fullmatch(prefix)):
            causes.append(_cause("metadata.labels", f'Invalid value: "{key}": name part must consist of '
                                 "alphanumeric characters, '-', '_' or '.', and must start and end with an "
                                 "alphanumeric character"))
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
            causes.append(_cause("metadata.labels", f'Invalid value: {json.dumps(value)}: a valid label must be '
                                 "an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
                                 "must start and end with an alphanumeric character"))
    return causes


def check_secret_data(rt: ResourceType, obj: dict) -> None:
    if rt.kind != "Secret" or rt.group:
        return
    for k, v in (obj.get("data") or {}).items():
        try:
            base64.b64decode(v or "", validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "BadRequest", f'Secret in version "v1" cannot be handled as a Secret: illegal '
                           f"base64 data at input byte 0 (key {k!r})")


_STS_MUTABLE = {"replicas", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds", "ordinals"}


def immutable_causes(rt: ResourceType, old: dict, new: dict, internal: bool) -> list[dict]:
    """Update rules of the built-in strategies that matter to deployers."""
    causes = []
    os_, ns_ = old.get("spec") or {}, new.get("spec") or {}
    key = (rt.api_version, rt.kind)
    if key in {("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("apps/v1", "DaemonSet"),
               ("apps/v1", "StatefulSet"), ("batch/v1", "Job")}:
        if os_.get("selector") != ns_.get("selector"):
            causes.append(_cause("spec.selector", f"Invalid value: {json.dumps(ns_.get('selector'))}: field is "
                                 "immutable"))
    if key == ("apps/v1", "StatefulSet"):
        if {k: v for k, v in os_.items() if k not in _STS_MUTABLE} != {
                k: v for k, v in ns_.items() if k not in _STS_MUTABLE}:
            causes.append(_cause("spec", "Forbidden: updates to statefulset spec for fields other than "
                                 "'replicas', 'ordinals', 'template', 'updateStrategy', "
                                 "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                                 "FieldValueForbidden"))
    if key == ("batch/v1", "Job") and os_.get("template") != ns_.get("template"):
        causes.append(_cause("spec.template", "Invalid value: field is immutable"))
    if key == ("v1", "Service"):
        oip, nip = os_.get("clusterIP"), ns_.get("clusterIP")
        if oip and nip and oip != nip:
            causes.append(_cause("spec.clusterIPs[0]", f'Invalid value: []string{{"{nip}"}}: may not change '
                                 "once set"))
    if key == ("v1", "PersistentVolumeClaim"):
        def masked(spec: dict) -> dict:
            out = {k: v for k, v in spec.items() if k != "resources"}
            if internal or not os_.get("volumeName"):
                out.pop("volumeName", None)
            return out
        if masked(os_) != masked(ns_):
            causes.append(_cause("spec", "Forbidden: spec is immutable after creation except "
                                 "resources.requests for bound claims", "FieldValueForbidden"))
    if key in {("v1", "ConfigMap"), ("v1", "Secret")} and old.get("immutable"):
        for f in ("data", "binaryData"):
            if old.get(f) != new.get(f):
                causes.append(_cause(f, "Forbidden: field is immutable when `immutable` is set",
                                     "FieldValueForbidden"))
        if not new.get("immutable"):
            causes.append(_cause("immutable", "Forbidden: field is immutable when `immutable` is set",
                                 "FieldValueForbidden"))
    if key == ("v1", "Pod") and not internal:
        def pod_masked(spec: dict) -> dict:
            out = {k: v for k, v in spec.items() if k not in ("activeDeadlineSeconds", "tolerations")}
            for f in ("containers", "initContainers"):
                out[f] = [{k: v for k, v in c.items() if k != "image"} for c in spec.get(f) or []]
            if not os_.get("nodeName"):
                out.pop("nodeName", None)
            return out
        if pod_masked(os_) != pod_masked(ns_):
            causes.append(_cause("spec", "Forbidden: pod updates may not change fields other than "
                                 "`spec.containers[*].image`, `spec.initContainers[*].image`, "
                                 "`spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing "
                                 "tolerations) or `spec.terminationGracePeriodSeconds` (allow it to be set to 1 "
                                 "if it was previously negative)", "FieldValueForbidden"))
    if key == ("apiextensions.k8s.io/v1", "CustomResourceDefinition"):
        if os_.get("scope") != ns_.get("scope"):
            causes.append(_cause("spec.scope", f'Invalid value: "{ns_.get("scope")}": field is immutable'))
        if os_.get("group") != ns_.get("group"):
            causes.append(_cause("spec.group", f'Invalid value: "{ns_.get("group")}": field is immutable'))
    return causes


_TEMPLATED = {("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("apps/v1", "StatefulSet"),
              ("apps/v1", "DaemonSet"), ("batch/v1", "Job"), ("v1", "ReplicationController")}


def _pod_spec_causes(spec: dict, path: str) -> list[dict]:
    causes = []
    for field in ("initContainers", "containers"):
        seen = set()
        for i, c in enumerate(spec.get(field) or []):
            if not c.get("image"):
                causes.append(_cause(f"{path}.{field}[{i}].image", "Required value", "FieldValueRequired"))
            if c.get("name") in seen:
                causes.append(_cause(f"{path}.{field}[{i}].name", f'Duplicate value: "{c.get("name")}"',
                                     "FieldValueDuplicate"))
            seen.add(c.get("name"))
    return causes


def spec_causes(rt: ResourceType, obj: dict) -> list[dict]:
    """The semantic checks of the workload strategies that charts trip over most."""
    key = (rt.api_version, rt.kind)
    spec = obj.get("spec") or {}
    if key == ("v1", "Pod"):
        return _pod_spec_causes(spec, "spec")
    if key not in _TEMPLATED:
        return []
    tpl = spec.get("template") or {}
    causes = _pod_spec_causes(tpl.get("spec") or {}, "spec.template.spec")
    selector = spec.get("selector")
    labels = (tpl.get("metadata") or {}).get("labels") or {}
    if key != ("batch/v1", "Job") and isinstance(selector, dict):
        from .selectors import label_selector_object_matches
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            causes.append(_cause("spec.selector", "Invalid value: \"{}\": empty selector is invalid for "
                                 "deployment"))
        elif not label_selector_object_matches(selector, labels):
            causes.append(_cause("spec.template.metadata.labels", f"Invalid value: {json.dumps(labels)}: "
                                 "`selector` does not match template `labels`"))
    return causes


def raise_if(rt: ResourceType, name: str, causes: list[dict]) -> None:
    if causes:
        raise invalid(rt, name, causes)
