"""API semantics: create/get/list/update/patch/delete with the API server's rules for metadata,
status subresources, defaulting, validation, generation, no-op writes, finalizers, namespaces and
custom resources. HTTP framing lives in http.py; controllers use the same entry points (ctx.client=False
skips admission hooks)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import random
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import yaml

from . import defaults, errors, patch as patches, validation
from .errors import ApiError
from .faults import internal_details
from .resources import Registry, ResourceType
from .schema import BuiltinSchemas, Walker, crd_causes, crd_validator, field_path
from .selectors import match_fields, match_labels, parse_field_selector, parse_label_selector
from .store import Store

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
SMP = "application/strategic-merge-patch+json"
APPLY_YAML = "application/apply-patch+yaml"
APPLY_CBOR = "application/apply-patch+cbor"
PATCH_TYPES = (JSON_PATCH, MERGE, SMP, APPLY_YAML)
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")
RETURNS_DELETED_OBJECT = {("v1", "pods"), ("v1", "services"), ("v1", "namespaces")}


JOB_DELETE_WARNING = ("child pods are preserved by default when jobs are deleted; set propagationPolicy=Background "
                      "to remove them or set propagationPolicy=Orphan to suppress this warning")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def clone(obj: Any) -> Any:
    return copy.deepcopy(obj)


def random_suffix(n: int = 5) -> str:
    return "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=n))


@dataclass
class Ctx:
    manager: str = ""  # fieldManager query parameter
    default_manager: str = "unknown"  # derived from the User-Agent
    dry_run: bool = False
    field_validation: str = "Warn"
    client: bool = True  # False for controllers: no admission hooks, internal-only fields may change
    force: bool = False  # server-side apply: take over fields other managers own instead of a 409 Conflict
    warnings: list[str] = field(default_factory=list)

    @property
    def field_manager(self) -> str:
        return self.manager or self.default_manager


class ApiServer:
    def __init__(self, server_version: str = "v1.25.16"):
        self.version = server_version
        self.registry = Registry()
        self.store = Store()
        self.lock = self.store.lock
        self.schemas = BuiltinSchemas(server_version)
        self.nav_builtin = patches.SchemaNav(self.schemas.resolve)
        self.service_ips = defaults.ServiceIPs()
        self.admission: list = []
        self.cluster_api = None  # set by the plugin layer; handed to admission hooks
        # uid -> (group, plural, namespace, name); owner uid -> dependents keys (for GC)
        self.uids: dict[str, tuple[str, str, str, str]] = {}
        self.dependents: dict[str, set[tuple[str, str, str, str]]] = {}
        self.store.listeners.append(self._index)
        self._local = threading.local()

    # --- indexes ---
    def _index(self, ev) -> None:
        meta = ev.obj["metadata"]
        key = (ev.group, ev.plural, meta.get("namespace") or "", meta["name"])
        old_owners = {r.get("uid") for r in (ev.old or {}).get("metadata", {}).get("ownerReferences") or []}
        new_owners = set() if ev.type == "DELETED" else {r.get("uid") for r in meta.get("ownerReferences") or []}
        for uid in old_owners - new_owners:
            self.dependents.get(uid, set()).discard(key)
        for uid in new_owners - old_owners:
            self.dependents.setdefault(uid, set()).add(key)
        if ev.type == "DELETED":
            self.uids.pop(meta.get("uid"), None)
        else:
            self.uids[meta.get("uid")] = key

    # --- helpers ---
    def nav(self, rt: ResourceType) -> patches.SchemaNav:
        return patches.SchemaNav() if rt.is_custom else self.nav_builtin

    def schema_of(self, rt: ResourceType) -> dict | None:
        if rt.is_custom:
            return (rt.crd.get("schema") or {}).get("openAPIV3Schema")
        return self.schemas.kind_schema(rt.api_version, rt.kind)

    def present(self, rt: ResourceType, obj: dict) -> dict:
        """Objects of a custom resource are stored once and served in every version (conversion None)."""
        if obj.get("apiVersion") != rt.api_version:
            return {**obj, "apiVersion": rt.api_version}
        return obj

    def _raw(self, rt: ResourceType, namespace: str | None, name: str) -> dict | None:
        return self.store.get(rt.group, rt.plural, namespace if rt.namespaced else None, name)

    # --- reads ---
    def get(self, rt: ResourceType, namespace: str | None, name: str) -> dict:
        obj = self._raw(rt, namespace, name)
        if obj is None:
            raise errors.not_found(rt, name)
        return self.present(rt, obj)

    def list(self, rt: ResourceType, namespace: str | None, label_selector: str | None = None,
             field_selector: str | None = None, limit: int = 0, cont: str | None = None) -> dict:
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, rt.field_labels)
        with self.lock:
            rv = self.store.rv
            items = self.store.list(rt.group, rt.plural, namespace if rt.namespaced else None)
        items = [o for o in items if match_labels(labels, o["metadata"].get("labels"))
                 and match_fields(fields, o)]
        start = 0
        if cont:
            try:
                token = json.loads(base64.b64decode(cont))
                rv, start = token["rv"], token["start"]
            except (ValueError, KeyError, TypeError):
                raise ApiError(400, "BadRequest", "continue key is not valid")
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        page = items[start:]
        if limit and len(page) > limit:
            page = page[:limit]
            meta["continue"] = base64.b64encode(json.dumps({"rv": rv, "start": start + limit}).encode()).decode()
            meta["remainingItemCount"] = len(items) - start - limit
        if rt.is_custom:
            page = [self.present(rt, o) for o in page]
        else:  # items of built-in lists carry no kind/apiVersion on a real server
            page = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in page]
        return {"kind": rt.kind + "List", "apiVersion": rt.api_version, "metadata": meta, "items": page}

    # --- create ---
    def create(self, rt: ResourceType, namespace: str | None, body: dict, ctx: Ctx, _applied=None) -> dict:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be an object")
        obj = clone(body)
        self._check_type(rt, obj)
        meta = obj.setdefault("metadata", {}) or {}
        obj["metadata"] = meta
        if rt.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                         "sent on the request")
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + random_suffix()
        with self.lock:
            name = meta.get("name") or ""
            if rt.namespaced:
                self._check_namespace(rt, name, meta["namespace"])
            if name and self._raw(rt, meta.get("namespace"), name) is not None:
                raise errors.already_exists(rt, name)
            for k in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation",
                      "deletionGracePeriodSeconds", "selfLink"):
                meta.pop(k, None)
            if "status" in rt.subresources and ctx.client:  # status is written through /status only
                obj.pop("status", None)
            obj = self._prepare(rt, obj, None, ctx)
            meta = obj["metadata"]
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now()
            if rt.has_generation:
                meta["generation"] = 1
            if (rt.api_version, rt.kind) == ("batch/v1", "Job"):
                defaults.job_selector(obj, self.version)  # the job strategy's Validate, once the uid exists
            self._managed(rt, obj, None, ctx, "Apply" if _applied is not None else "Update", _applied)
            self._admit(rt, "CREATE", obj, None, ctx)
            if ctx.dry_run:
                return self.present(rt, obj)
            self._on_create(rt, obj)
            return self.present(rt, self.store.put(rt.group, rt.plural, obj))

    def _check_type(self, rt: ResourceType, obj: dict) -> None:
        av, kind = obj.get("apiVersion"), obj.get("kind")
        if av is None and kind is None:
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            return
        if kind != rt.kind:
            raise errors.bad_request(f"the server could not find the requested resource "
                                     f"(kind {kind!r} does not match the endpoint's kind {rt.kind!r})")
        if av != rt.api_version:
            raise errors.bad_request(f"the API version in the data ({av}) does not match the expected API "
                                     f"version ({rt.api_version})")

    def _check_namespace(self, rt: ResourceType, name: str, namespace: str) -> None:
        ns = self.store.get("", "namespaces", None, namespace)
        if ns is None:
            raise errors.namespace_not_found(namespace)
        if ns["metadata"].get("deletionTimestamp"):
            msg = f"unable to create new content in namespace {namespace} because it is being terminated"
            err = errors.forbidden(rt, name, msg)
            err.details["causes"] = [{"reason": "NamespaceTerminating", "message": msg,
                                      "field": "metadata.namespace"}]
            raise err

    # --- the write pipeline shared by create/update/patch ---
    def _prepare(self, rt: ResourceType, obj: dict, old: dict | None, ctx: Ctx) -> dict:
        name = obj["metadata"].get("name") or ""
        if rt.is_custom:
            self._prune_custom(rt, obj, ctx)
        else:
            self._prune_builtin(rt, obj, ctx)
            defaulter = defaults.DEFAULTERS.get((rt.api_version, rt.kind))
            if defaulter:
                defaulter(obj, old is None)
            if (rt.api_version, rt.kind) == ("v1", "Service"):
                self.service_ips.service(obj, old is None, old)
            if (rt.api_version, rt.kind) == ("v1", "PersistentVolumeClaim") and old is None:
                self._default_storage_class(obj)
            validation.check_secret_data(rt, obj)
        causes = validation.metadata_causes(rt, obj) + validation.spec_causes(rt, obj)
        if old is not None:
            causes += validation.immutable_causes(rt, old, obj, not ctx.client)
        validation.raise_if(rt, name, causes)
        return obj

    def _unknown_fields(self, rt: ResourceType, unknown: list[str], ctx: Ctx) -> None:
        if not unknown or ctx.field_validation == "Ignore":
            return
        if ctx.field_validation == "Strict":
            listed = ", ".join(f'unknown field "{u}"' for u in unknown)
            raise errors.bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                                     f"strict decoding error: {listed}")
        ctx.warnings.extend(f'unknown field "{u}"' for u in unknown)

    def _prune_builtin(self, rt: ResourceType, obj: dict, ctx: Ctx) -> None:
        schema = self.schemas.kind_schema(rt.api_version, rt.kind)
        if schema is None:
            return
        walker = Walker(self.schemas.resolve)
        walker.walk(obj, schema, "")
        self._unknown_fields(rt, walker.unknown, ctx)
        validator = self.schemas.validator(rt.api_version, rt.kind)
        errs = sorted(validator.iter_errors(obj), key=lambda e: len(list(e.absolute_path)))
        if not errs:
            return
        err = errs[0]
        fp = field_path(err)
        if err.validator == "required":
            missing = err.message.split("'")[1]
            raise errors.invalid(rt, obj["metadata"].get("name") or "", [
                {"reason": "FieldValueRequired", "message": "Required value",
                 "field": f"{fp}.{missing}" if fp else missing}])
        want = err.validator_value if err.validator == "type" else "value"
        if isinstance(want, list):
            want = want[0]
        got = type(err.instance).__name__.replace("str", "string").replace("dict", "object").replace(
            "list", "array").replace("int", "number").replace("float", "number")
        raise errors.bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: json: '
                                 f"cannot unmarshal {got} into Go struct field {rt.kind}.{fp} of type {want}")

    def _prune_custom(self, rt: ResourceType, obj: dict, ctx: Ctx) -> None:
        schema = (rt.crd.get("schema") or {}).get("openAPIV3Schema") or {}
        meta = obj.get("metadata")
        walker = Walker(structural=True)
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
        walker.walk(body, {**schema, "properties": {k: v for k, v in (schema.get("properties") or {}).items()
                                                    if k not in ("apiVersion", "kind", "metadata")}}, "")
        meta_walker = Walker(self.schemas.resolve)
        meta_walker.walk(meta, self.schemas.defs["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"], "metadata")
        self._unknown_fields(rt, meta_walker.unknown + walker.unknown, ctx)
        for k in [k for k in obj if k not in ("apiVersion", "kind", "metadata")]:
            del obj[k]
        obj.update(body)
        if schema:
            causes = crd_causes(crd_validator(schema), obj)
            if causes:
                raise errors.invalid(rt, (meta or {}).get("name") or "", causes)

    def _default_storage_class(self, obj: dict) -> None:
        spec = obj.setdefault("spec", {})
        if "storageClassName" in spec:
            return
        for sc in self.store.list("storage.k8s.io", "storageclasses"):
            ann = sc["metadata"].get("annotations") or {}
            if ann.get("storageclass.kubernetes.io/is-default-class") == "true":
                spec["storageClassName"] = sc["metadata"]["name"]
                return

    def _managed(self, rt: ResourceType, obj: dict, old: dict | None, ctx: Ctx, operation: str,
                 applied: dict | None = None, subresource: str | None = None) -> None:
        """managedFields of the write; applied is the apply configuration (operation Apply)."""
        patches.record_managed_fields(obj, old, ctx.field_manager, operation, rt.api_version, now(),
                                      self.schema_of(rt), self.nav(rt), applied, subresource, ctx.force,
                                      rt.is_custom)

    def _admit(self, rt: ResourceType, operation: str, obj: dict, old: dict | None, ctx: Ctx) -> None:
        if not ctx.client:
            return
        from .plugin import AdmissionDenied  # local: plugin imports this module
        for hook in self.admission:
            if (rt.api_version, rt.kind, operation) in hook.admits:
                try:
                    hook.admit(self.cluster_api, operation, clone(obj), clone(old) if old else None)
                except AdmissionDenied as e:
                    # a webhook that cannot be called: apierrors.NewInternalError (details.causes); a denial: none
                    raise ApiError(e.code, e.reason, e.message, internal_details(e.reason, e.message))

    def _on_create(self, rt: ResourceType, obj: dict) -> None:
        if (rt.group, rt.plural) == ("apiextensions.k8s.io", "customresourcedefinitions"):
            fin = obj["metadata"].setdefault("finalizers", [])
            if "customresourcecleanup.apiextensions.k8s.io" not in fin:
                fin.append("customresourcecleanup.apiextensions.k8s.io")
            self.register_crd(obj)

    # --- update (PUT) ---
    def update(self, rt: ResourceType, namespace: str | None, name: str, body: dict, ctx: Ctx,
               subresource: str | None = None) -> dict:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be an object")
        new = clone(body)
        self._check_type(rt, new)
        meta = new.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(f'the name of the object ({meta["name"]}) does not match the name on the '
                                     f"URL ({name})")
        with self.lock:
            old = self._raw(rt, namespace, name)
            if old is None:
                raise errors.not_found(rt, name)
            rv = meta.get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt, name)
            if not rv and rt.is_custom and ctx.client:
                raise errors.invalid(rt, name, [{"reason": "FieldValueInvalid", "field": "metadata.resourceVersion",
                                                 "message": "Invalid value: 0x0: must be specified for an update"}])
            return self._update(rt, old, new, ctx, subresource, "Update")

    def _update(self, rt: ResourceType, old: dict, new: dict, ctx: Ctx, subresource: str | None, operation: str,
                applied=None) -> dict:
        new = self._merge_subresource(rt, old, new, subresource)
        meta, ometa = new.setdefault("metadata", {}), old["metadata"]
        for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
                  "name", "namespace"):
            if k in ometa:
                meta[k] = ometa[k]
            else:
                meta.pop(k, None)
        meta.pop("resourceVersion", None)
        if meta.get("deletionTimestamp"):
            added = set(meta.get("finalizers") or []) - set(ometa.get("finalizers") or [])
            if added:
                raise errors.invalid(rt, ometa["name"], [{"reason": "FieldValueForbidden", "field":
                                     "metadata.finalizers", "message": "Forbidden: no new finalizers can be added "
                                     "if the object is being deleted, found new finalizers " + json.dumps(
                                         sorted(added))}])
        new = self._prepare(rt, new, old, ctx)
        if rt.has_generation and self._spec_changed(rt, old, new):
            new["metadata"]["generation"] = (ometa.get("generation") or 1) + 1
        self._managed(rt, new, old, ctx, operation, applied, subresource)
        # Validating admission runs inside the storage update, before the no-op check (the apiserver's
        # registry Store.Update calls updateValidation in GuaranteedUpdate's tryUpdate): a webhook that is
        # down fails even an unchanged update.
        if subresource is None:
            self._admit(rt, "UPDATE", new, old, ctx)
        if _same(old, new):
            return self.present(rt, old)
        if ctx.dry_run:
            new["metadata"]["resourceVersion"] = ometa["resourceVersion"]
            return self.present(rt, new)
        if meta.get("deletionTimestamp") and self._finalized(rt, new):
            gone = self.store.remove(rt.group, rt.plural, new)
            self._on_removed(rt, new)
            return self.present(rt, gone or new)
        if (rt.group, rt.plural) == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self.register_crd(new)
        return self.present(rt, self.store.put(rt.group, rt.plural, new))

    def _merge_subresource(self, rt: ResourceType, old: dict, new: dict, subresource: str | None) -> dict:
        if subresource == "status":
            out = clone(old)
            if "status" in new:
                out["status"] = new["status"]
            else:
                out.pop("status", None)
            return out
        if subresource == "finalize":  # namespaces/finalize: only spec.finalizers changes
            out = clone(old)
            out.setdefault("spec", {})["finalizers"] = (new.get("spec") or {}).get("finalizers") or []
            return out
        if "status" in rt.subresources:
            if "status" in old:
                new["status"] = clone(old["status"])
            else:
                new.pop("status", None)
        return new

    @staticmethod
    def _spec_changed(rt: ResourceType, old: dict, new: dict) -> bool:
        skip = {"metadata", "apiVersion", "kind"}
        if "status" in rt.subresources or not rt.is_custom:
            skip.add("status")
        return {k: v for k, v in old.items() if k not in skip} != {k: v for k, v in new.items() if k not in skip}

    @staticmethod
    def _finalized(rt: ResourceType, obj: dict) -> bool:
        if obj["metadata"].get("finalizers"):
            return False
        if (rt.group, rt.plural) == ("", "namespaces"):
            return not (obj.get("spec") or {}).get("finalizers")
        return True

    # --- patch ---
    def patch(self, rt: ResourceType, namespace: str | None, name: str, content_type: str, body: bytes,
              ctx: Ctx, subresource: str | None = None) -> tuple[dict, bool]:
        ctype = content_type.split(";")[0].strip()
        if ctype not in PATCH_TYPES:
            raise errors.unsupported_media_type(ctype, list(PATCH_TYPES))
        if ctype == SMP and rt.is_custom:
            raise errors.unsupported_media_type(ctype, [JSON_PATCH, MERGE, APPLY_YAML, APPLY_CBOR])
        try:
            data = yaml.safe_load(body) if ctype == APPLY_YAML else json.loads(body or b"null")
        except (ValueError, yaml.YAMLError) as e:
            raise errors.bad_request(f"error decoding patch: {e}")
        with self.lock:
            old = self._raw(rt, namespace, name)
            if ctype == APPLY_YAML:
                return self._apply(rt, namespace, name, old, data, ctx, subresource)
            if old is None:
                raise errors.not_found(rt, name)
            current = self.present(rt, old)
            if ctype == MERGE:
                if not isinstance(data, dict):
                    raise errors.bad_request("merge patch must be a JSON object")
                new = patches.merge_patch(current, data)
            elif ctype == JSON_PATCH:
                new = patches.json_patch(clone(current), data)
            else:
                if not isinstance(data, dict):
                    raise errors.bad_request("strategic merge patch must be a JSON object")
                new = patches.strategic_merge(current, data, self.schema_of(rt), self.nav(rt))
            new = clone(new)
            if not isinstance(new, dict):
                raise errors.bad_request("patch produced a non-object")
            rv = (new.get("metadata") or {}).get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt, name)
            self._check_type(rt, new)
            return self._update(rt, old, new, ctx, subresource, "Update"), False

    def _apply(self, rt: ResourceType, namespace: str | None, name: str, old: dict | None, config: Any,
               ctx: Ctx, subresource: str | None) -> tuple[dict, bool]:
        if not ctx.manager:
            raise errors.bad_request("PATCH " + rt.plural + ": fieldManager is required for apply requests")
        if not isinstance(config, dict):
            raise errors.bad_request("apply configuration must be an object")
        self._check_type(rt, config)
        cmeta = config.get("metadata") or {}
        if cmeta.get("name") and cmeta["name"] != name:
            raise errors.bad_request(f'the name of the object ({cmeta["name"]}) does not match the name on the '
                                     f"URL ({name})")
        config.setdefault("metadata", {})["name"] = name
        if rt.namespaced and namespace:
            if cmeta.get("namespace") and cmeta["namespace"] != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                         "sent on the request")
            config["metadata"]["namespace"] = namespace
        for k in ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"):
            config["metadata"].pop(k, None)
        schema, nav = self.schema_of(rt), self.nav(rt)
        if old is None:
            return self.create(rt, namespace, clone(config), ctx, _applied=config), True
        live = self.present(rt, old)
        if subresource == "status":
            config = {"apiVersion": config["apiVersion"], "kind": config["kind"], "metadata": config["metadata"],
                      "status": config.get("status")}
        merged = patches.server_side_apply(live, config, ctx.manager, schema, nav, subresource)
        return self._update(rt, old, clone(merged), ctx, subresource, "Apply", config), False

    # --- delete ---
    def delete(self, rt: ResourceType, namespace: str | None, name: str, options: dict, ctx: Ctx
               ) -> tuple[int, dict]:
        with self.lock:
            old = self._raw(rt, namespace, name)
            if old is None:
                raise errors.not_found(rt, name)
            pre = options.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != old["metadata"].get("uid"):
                raise errors.conflict(rt, name, f"Precondition failed: UID in precondition: {pre['uid']}, UID in "
                                      f"object meta: {old['metadata'].get('uid')}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt, name, "the object has been modified; please apply your changes to the "
                                      "latest version and try again")
            if (rt.group, rt.plural) == ("", "namespaces") and name in IMMORTAL_NAMESPACES:
                raise errors.forbidden(rt, name, "this namespace may not be deleted")
            self._admit(rt, "DELETE", old, old, ctx)
            if old["metadata"].get("deletionTimestamp"):
                return 200, self.present(rt, old)
            policy = options.get("propagationPolicy")
            if policy is None and options.get("orphanDependents") is not None:
                policy = "Orphan" if options["orphanDependents"] else "Background"
            if policy is None and ctx.client and (rt.api_version, rt.kind) == ("batch/v1", "Job"):
                # batch/v1 Jobs keep the pre-GC default (DefaultGarbageCollectionPolicy: OrphanDependents),
                # and the job REST storage warns about it. Controllers always send a policy.
                policy = "Orphan"
                if JOB_DELETE_WARNING not in ctx.warnings:
                    ctx.warnings.append(JOB_DELETE_WARNING)
            finalizers = list(old["metadata"].get("finalizers") or [])
            if policy == "Foreground" and "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
            if policy == "Orphan" and not ctx.dry_run:
                self.orphan_dependents(old["metadata"]["uid"])
            graceful = (rt.group, rt.plural) == ("", "namespaces")
            if finalizers or graceful:
                new = clone(old)
                new["metadata"]["deletionTimestamp"] = now()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                if finalizers:
                    new["metadata"]["finalizers"] = finalizers
                if graceful:
                    new["status"] = {**(new.get("status") or {}), "phase": "Terminating"}
                if ctx.dry_run:
                    return 200, self.present(rt, new)
                return 200, self.present(rt, self.store.put(rt.group, rt.plural, new))
            if ctx.dry_run:
                return 200, self.present(rt, old)
            gone = self.store.remove(rt.group, rt.plural, old)
            self._on_removed(rt, old)
            if rt.is_custom or (rt.api_version, rt.plural) in RETURNS_DELETED_OBJECT:
                return 200, self.present(rt, gone or old)
            details = {"name": name, "kind": rt.plural, "uid": old["metadata"].get("uid")}
            if rt.group:
                details["group"] = rt.group
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                         "details": details}

    def delete_collection(self, rt: ResourceType, namespace: str | None, label_selector: str | None,
                          field_selector: str | None, options: dict, ctx: Ctx) -> dict:
        listed = self.list(rt, namespace, label_selector, field_selector)
        for item in listed["items"]:
            try:
                self.delete(rt, item["metadata"].get("namespace"), item["metadata"]["name"], options, ctx)
            except ApiError as e:
                if e.code != 404:
                    raise
        return listed

    def orphan_dependents(self, owner_uid: str) -> None:
        for group, plural, ns, name in list(self.dependents.get(owner_uid, ())):
            obj = self.store.get(group, plural, ns or None, name)
            if obj is None:
                continue
            new = clone(obj)
            new["metadata"]["ownerReferences"] = [r for r in obj["metadata"].get("ownerReferences") or []
                                                  if r.get("uid") != owner_uid]
            if not new["metadata"]["ownerReferences"]:
                del new["metadata"]["ownerReferences"]
            self.store.put(group, plural, new)

    def _on_removed(self, rt: ResourceType, obj: dict) -> None:
        if (rt.group, rt.plural) == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self.registry.set_crd_types(obj["metadata"]["name"], [])

    # --- CRDs ---
    def register_crd(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
        versions.sort(key=lambda v: _version_priority(v.get("name", "")))
        names_list = [v["name"] for v in versions]
        types = []
        for v in versions:
            sub = v.get("subresources") or {}
            types.append(ResourceType(
                group=spec.get("group", ""), version=v["name"], kind=names.get("kind", ""),
                plural=names.get("plural", ""), namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=list(names.get("shortNames") or []), categories=list(names.get("categories") or []),
                subresources=tuple(k for k in ("status", "scale") if k in sub), has_generation=True, crd=v,
                crd_name=crd["metadata"]["name"], served_versions=tuple(names_list)))
        self.registry.set_crd_types(crd["metadata"]["name"], types)


def _strip_volatile(obj: dict) -> dict:
    meta = dict(obj.get("metadata") or {})
    meta.pop("resourceVersion", None)
    meta["managedFields"] = sorted(json.dumps({k: v for k, v in e.items() if k != "time"}, sort_keys=True)
                                   for e in meta.get("managedFields") or [])
    return {**obj, "metadata": meta}


def _same(old: dict, new: dict) -> bool:
    """A write that changes nothing but managedFields timestamps (or their order, which follows the
    timestamps) is a no-op (resourceVersion kept)."""
    return _strip_volatile(old) == _strip_volatile(new)


def _version_priority(v: str) -> tuple:
    """Kubernetes version ordering: GA > beta > alpha, higher numbers first, then non-conforming names."""
    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", v)
    if not m:
        return (3, v)
    major, stage, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    return ({None: 0, "beta": 1, "alpha": 2}[stage], -major, -minor)

