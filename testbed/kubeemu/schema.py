"""Schemas: built-in kinds from kubernetes-validate's bundled JSON schemas, custom resources from their
CRD's openAPIV3Schema.

kubernetes_validate.validate() re-reads a 1 MB definitions file per call, so the emulator loads the
definitions once and keeps one compiled validator per kind. The same definitions carry the
`x-kubernetes-patch-*` and list-type extensions that strategic merge patch and apply need.

Unknown fields are handled as the API server's decoder does: dropped (fieldValidation Ignore/Warn, the
latter with a warning) or refused with 400 (Strict). Type errors are 400 for built-in kinds (the JSON
decoder fails) and 422 for custom resources (schema validation)."""

from __future__ import annotations

import copy
import functools
import json
import threading
from typing import Any

import jsonschema
from kubernetes_validate import utils as kv

Schema = dict[str, Any]


class BuiltinSchemas:
    def __init__(self, server_version: str):
        versions = kv.all_versions()
        mm = kv.major_minor(server_version.lstrip("v"))
        fits = [v for v in versions if kv.major_minor(v) <= mm] if tuple(
            map(int, mm.split("."))) >= (1, 25) else versions[:1]
        self.version = (fits or versions)[-1]
        self._lock = threading.Lock()
        self._defs: dict[str, Schema] | None = None
        self._by_gvk: dict[tuple[str, str], str] = {}
        self._validators: dict[str, jsonschema.protocols.Validator] = {}

    @property
    def defs(self) -> dict[str, Schema]:
        if self._defs is None:
            with self._lock:
                if self._defs is None:
                    doc = kv.schema_contents(f"kubernetes-json-schema/v{self.version}-local-strict/"
                                             "_definitions.json", self.version)
                    defs = doc["$defs"]
                    for name, d in defs.items():
                        for gvk in d.get("x-kubernetes-group-version-kind") or []:
                            av = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
                            self._by_gvk[(av, gvk["kind"])] = name
                    self._defs = defs
        return self._defs

    def def_name(self, api_version: str, kind: str) -> str | None:
        _ = self.defs
        return self._by_gvk.get((api_version, kind))

    def kind_schema(self, api_version: str, kind: str) -> Schema | None:
        name = self.def_name(api_version, kind)
        return self.defs[name] if name else None

    def resolve(self, node: Schema | None) -> Schema:
        while node and "$ref" in node:
            node = self.defs[node["$ref"].rsplit("/", 1)[-1]]
        return node or {}

    def validator(self, api_version: str, kind: str):
        name = self.def_name(api_version, kind)
        if name is None:
            return None
        v = self._validators.get(name)
        if v is None:
            v = jsonschema.Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": self.defs})
            self._validators[name] = v
        return v


# --- walking a schema over an object ---------------------------------------------------------------

class Walker:
    """Prunes unknown fields (collecting their paths) and, for CRD schemas, null values and defaults.
    `resolve` follows $ref for built-in definitions; CRD schemas are already inline."""

    def __init__(self, resolve=lambda s: s or {}, structural: bool = False):
        self.resolve = resolve
        self.structural = structural  # CRD semantics: drop non-nullable nulls, apply defaults
        self.unknown: list[str] = []

    def walk(self, value: Any, schema: Schema | None, path: str) -> Any:
        s = self.resolve(schema)
        if isinstance(value, dict):
            if s.get("x-kubernetes-preserve-unknown-fields") and not s.get("properties"):
                return value
            props = s.get("properties")
            addl = s.get("additionalProperties")
            if s.get("x-kubernetes-embedded-resource"):
                props = {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                         "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                         **(props or {})}
            if props is None and not isinstance(addl, dict):
                return value  # free-form object (RawExtension, FieldsV1, JSON)
            for key in list(value):
                sub = (props or {}).get(key)
                child = f"{path}.{key}" if path else key
                if sub is None:
                    if isinstance(addl, dict):
                        sub = addl
                    elif addl is True or s.get("x-kubernetes-preserve-unknown-fields"):
                        continue
                    else:
                        self.unknown.append(child)
                        del value[key]
                        continue
                # the decoder drops nulls; CRD schemas keep them only where `nullable: true`
                if value[key] is None and not (self.structural and self.resolve(sub).get("nullable")):
                    del value[key]
                    continue
                value[key] = self.walk(value[key], sub, child)
            if self.structural and props:
                for key, sub in props.items():
                    if key not in value and "default" in sub:
                        value[key] = self.walk(copy.deepcopy(sub["default"]), sub, f"{path}.{key}")
        elif isinstance(value, list):
            items = s.get("items")
            if items is not None:
                for i, item in enumerate(value):
                    value[i] = self.walk(item, items, f"{path}[{i}]")
        return value


# --- CRD schemas -> JSON Schema ---------------------------------------------------------------------

def _to_jsonschema(node: Any) -> Any:
    """OpenAPI v3 (structural) -> JSON Schema draft 4: nullable, int-or-string; drop x- extensions."""
    if isinstance(node, list):
        return [_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k.startswith("x-kubernetes") or k in ("nullable", "default", "example", "externalDocs", "format"):
            continue
        if k in ("properties", "patternProperties", "definitions"):
            out[k] = {pk: _to_jsonschema(pv) for pk, pv in v.items()}
        else:
            out[k] = _to_jsonschema(v)
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = out.get("anyOf") or [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = list(out["enum"]) + [None]
    return out


@functools.lru_cache(maxsize=256)
def _crd_validator(schema_json: str):
    schema = _to_jsonschema(json.loads(schema_json))
    # metadata is validated by the server itself (ObjectMeta), never by the CRD schema
    if isinstance(schema.get("properties"), dict):
        schema["properties"].pop("metadata", None)
    return jsonschema.Draft4Validator(schema)


def crd_validator(schema: Schema):
    return _crd_validator(json.dumps(schema, sort_keys=True))


def go_value(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), sort_keys=True) if not isinstance(v, str) else json.dumps(v)


def field_path(err: jsonschema.ValidationError) -> str:
    out = ""
    for p in err.absolute_path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def crd_causes(validator, obj: dict) -> list[dict]:
    """Errors in the API server's wording: `spec.size: Invalid value: "x": spec.size in body must be
    of type integer: "x"`."""
    causes = []
    for err in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        fp = field_path(err)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else ""
            causes.append({"reason": "FieldValueRequired", "message": "Required value",
                           "field": f"{fp}.{missing}" if fp else missing})
        elif err.validator == "enum":
            allowed = ", ".join(go_value(v) for v in err.validator_value)
            causes.append({"reason": "FieldValueNotSupported", "field": fp,
                           "message": f"Unsupported value: {go_value(err.instance)}: supported values: {allowed}"})
        elif err.validator == "type":
            t = err.validator_value if isinstance(err.validator_value, str) else err.validator_value[0]
            causes.append({"reason": "FieldValueTypeInvalid", "field": fp,
                           "message": f"Invalid value: {go_value(err.instance)}: {fp} in body must be of "
                                      f"type {t}: {go_value(err.instance)}"})
        else:
            causes.append({"reason": "FieldValueInvalid", "field": fp,
                           "message": f"Invalid value: {go_value(err.instance)}: {fp} in body {err.message}"})
    return causes
