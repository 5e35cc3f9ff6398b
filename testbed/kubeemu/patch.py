"""Patch types: JSON merge patch (RFC 7386), JSON patch (jsonpatch library), strategic merge patch and
server-side apply.

Strategic merge patch follows k8s.io/apimachinery/pkg/util/strategicpatch for the parts clients use:
lists merged by `x-kubernetes-patch-merge-key` (containers by name, env by name, ports by containerPort,
volumes by name, ...), primitive lists with strategy `merge` unioned, `$patch: replace|delete|merge`,
`$deleteFromPrimitiveList/<f>`, `$setElementOrder/<f>` and `$retainKeys`. Patch metadata comes from the
OpenAPI extensions in the bundled built-in schemas.

Server-side apply is simplified: the applied configuration is merged into the live object using the
schema's list types (`x-kubernetes-list-type`/`-list-map-keys`, falling back to the patch merge key),
and fields the same manager applied before but omits now are removed unless another manager's
managedFields entry still holds them. managedFields are kept per manager and operation as FieldsV1
sets, but ownership conflicts are never reported (`force` is accepted and ignored)."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

import jsonpatch

from .errors import ApiError, bad_request

Schema = dict[str, Any]
_DELETE = object()


class SchemaNav:
    """Navigates a schema tree; `resolve` follows $ref (built-in definitions) or is the identity."""

    def __init__(self, resolve: Callable[[Schema | None], Schema] | None = None):
        self.resolve = resolve or (lambda s: s or {})

    def child(self, schema: Schema | None, key: str) -> Schema | None:
        s = self.resolve(schema)
        props = s.get("properties") or {}
        if key in props:
            return props[key]
        addl = s.get("additionalProperties")
        return addl if isinstance(addl, dict) else None

    def items(self, schema: Schema | None) -> Schema | None:
        return self.resolve(schema).get("items")

    def list_info(self, schema: Schema | None) -> tuple[str, list[str]]:
        """('map', keys) | ('set', []) | ('atomic', []) for apply and field sets."""
        node = schema or {}
        res = self.resolve(schema)
        lt = node.get("x-kubernetes-list-type") or res.get("x-kubernetes-list-type")
        if lt == "map":
            return "map", list(node.get("x-kubernetes-list-map-keys") or res.get("x-kubernetes-list-map-keys")
                               or [])
        if lt in ("set", "atomic"):
            return lt, []
        strategy, key = self.smp_meta(schema)
        if "merge" in strategy:
            return ("map", [key]) if key else ("set", [])
        return "atomic", []

    def smp_meta(self, schema: Schema | None) -> tuple[str, str | None]:
        node = schema or {}
        res = self.resolve(schema)
        strategy = node.get("x-kubernetes-patch-strategy") or res.get("x-kubernetes-patch-strategy") or ""
        key = node.get("x-kubernetes-patch-merge-key") or res.get("x-kubernetes-patch-merge-key")
        return strategy, key


# --- JSON merge patch ------------------------------------------------------------------------------

def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# --- JSON patch ------------------------------------------------------------------------------------

def json_patch(target: dict, ops: Any) -> dict:
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    try:
        return jsonpatch.apply_patch(target, ops)
    except jsonpatch.JsonPatchTestFailed as e:
        raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: {e}")
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, KeyError, IndexError, TypeError) as e:
        raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: {e}")


# --- strategic merge patch -------------------------------------------------------------------------

def strategic_merge(original: Any, patch: Any, schema: Schema | None, nav: SchemaNav) -> Any:
    if not isinstance(patch, dict) or not isinstance(original, dict):
        return _strip_directives(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    if directive == "delete":
        return _DELETE
    if directive not in (None, "merge"):
        raise bad_request(f"Unknown patch type: {directive}")
    out = dict(original)
    retain = patch.get("$retainKeys")
    orders: dict[str, list] = {}
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys"):
            continue
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(out.get(field), list):
                out[field] = [x for x in out[field] if x not in (v or [])]
            continue
        if v is None:
            out.pop(k, None)
            continue
        sub = nav.child(schema, k)
        cur = out.get(k)
        if isinstance(v, dict) and isinstance(cur, dict):
            merged = strategic_merge(cur, v, sub, nav)
            if merged is _DELETE:
                out.pop(k, None)
            else:
                out[k] = merged
        elif isinstance(v, list):
            out[k] = _merge_list(cur if isinstance(cur, list) else [], v, sub, nav)
        elif isinstance(v, dict):
            merged = strategic_merge({}, v, sub, nav)
            if merged is not _DELETE:
                out[k] = merged
        else:
            out[k] = v
    for field, order in orders.items():
        if isinstance(out.get(field), list):
            out[field] = _apply_order(out[field], order, nav.smp_meta(nav.child(schema, field))[1])
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _merge_list(cur: list, patch: list, schema: Schema | None, nav: SchemaNav) -> list:
    strategy, key = nav.smp_meta(schema)
    if "merge" not in strategy:
        if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
            return [_strip_directives(x) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
        return _strip_directives(patch)
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [_strip_directives(x) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
    if not key:  # primitive list with merge strategy: union keeping order
        out = list(cur)
        out.extend(x for x in patch if x not in out)
        return out
    out = list(cur)
    items_schema = nav.items(schema)
    for item in patch:
        if not isinstance(item, dict):
            raise bad_request("unable to find api field in struct for the merge key")
        idx = next((i for i, x in enumerate(out) if isinstance(x, dict) and x.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(_strip_directives(item))
        else:
            merged = strategic_merge(out[idx], item, items_schema, nav)
            if merged is _DELETE:
                out.pop(idx)
            else:
                out[idx] = merged
    return out


def _apply_order(items: list, order: list, key: str | None) -> list:
    def ident(x: Any) -> Any:
        return x.get(key) if key and isinstance(x, dict) else x
    wanted = [ident(o) for o in order]
    ordered = [x for w in wanted for x in items if ident(x) == w]
    return ordered + [x for x in items if ident(x) not in wanted]


def _strip_directives(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _strip_directives(x) for k, x in v.items() if not k.startswith("$")}
    if isinstance(v, list):
        return [_strip_directives(x) for x in v]
    return v


# --- field sets (managedFields) --------------------------------------------------------------------

Path = tuple[str, ...]
_UNTRACKED_META = {"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink", "name",
                   "namespace",
                   "deletionTimestamp", "deletionGracePeriodSeconds"}


def _key_elem(item: dict, keys: list[str]) -> str:
    return "k:" + json.dumps({k: item.get(k) for k in keys if k in item}, separators=(",", ":"),
                             sort_keys=True)


def field_leaves(obj: Any, schema: Schema | None, nav: SchemaNav, prefix: Path = ()) -> dict[Path, Any]:
    """Leaf paths of an object in FieldsV1 element syntax, mapped to their values."""
    out: dict[Path, Any] = {}
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            if not prefix and k in ("apiVersion", "kind"):
                continue
            if prefix == ("f:metadata",) and k in _UNTRACKED_META:
                continue
            out.update(field_leaves(v, nav.child(schema, k), nav, prefix + (f"f:{k}",)))
        return out
    if isinstance(obj, list) and obj:
        kind, keys = nav.list_info(schema)
        if kind == "map" and keys and all(isinstance(x, dict) for x in obj):
            items = nav.items(schema)
            for x in obj:
                p = prefix + (_key_elem(x, keys),)
                out[p + (".",)] = None
                out.update(field_leaves(x, items, nav, p))
            return out
        if kind == "set" and all(not isinstance(x, (dict, list)) for x in obj):
            for x in obj:
                out[prefix + ("v:" + json.dumps(x),)] = x
            return out
    out[prefix] = obj
    return out


def to_fields_v1(paths: set[Path] | list[Path]) -> dict:
    root: dict = {}
    for p in sorted(paths):
        node = root
        for elem in p:
            node = node.setdefault(elem, {})
    return root


def from_fields_v1(fields: dict, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for k, v in (fields or {}).items():
        if v:
            out |= from_fields_v1(v, prefix + (k,))
        else:
            out.add(prefix + (k,))
    return out


def remove_path(obj: Any, path: Path) -> None:
    """Remove the field a FieldsV1 path names (used when an applier stops specifying a field)."""
    if not path or not isinstance(obj, (dict, list)):
        return
    head, rest = path[0], path[1:]
    if head == ".":
        return
    if isinstance(obj, dict) and head.startswith("f:"):
        name = head[2:]
        if name not in obj:
            return
        if rest and rest != (".",):
            remove_path(obj[name], rest)
            if obj[name] in ({}, []):
                del obj[name]
        else:
            del obj[name]
    elif isinstance(obj, list):
        if head.startswith("k:"):
            want = json.loads(head[2:])
            idx = next((i for i, x in enumerate(obj) if isinstance(x, dict)
                        and all(x.get(k) == v for k, v in want.items())), None)
        elif head.startswith("v:"):
            val = json.loads(head[2:])
            idx = obj.index(val) if val in obj else None
        else:
            idx = None
        if idx is None:
            return
        if rest and rest != (".",):
            remove_path(obj[idx], rest)
        else:
            obj.pop(idx)


# --- server-side apply -----------------------------------------------------------------------------

def apply_merge(live: Any, config: Any, schema: Schema | None, nav: SchemaNav) -> Any:
    if isinstance(config, dict) and isinstance(live, dict):
        out = dict(live)
        for k, v in config.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = apply_merge(live.get(k), v, nav.child(schema, k), nav)
        return out
    if isinstance(config, list) and isinstance(live, list):
        kind, keys = nav.list_info(schema)
        if kind == "map" and keys and all(isinstance(x, dict) for x in config + live):
            items = nav.items(schema)
            out, used = [], set()
            for x in config:
                # key fields the config leaves out (e.g. a port's defaulted protocol) do not split items
                given = {k: x[k] for k in keys if k in x}
                idx = next((i for i, y in enumerate(live) if i not in used
                            and all(y.get(k) == v for k, v in given.items())), None)
                if idx is None:
                    out.append(copy.deepcopy(x))
                else:
                    used.add(idx)
                    out.append(apply_merge(live[idx], x, items, nav))
            out.extend(y for i, y in enumerate(live) if i not in used)
            return out
        if kind == "set":
            return list(config) + [x for x in live if x not in config]
    return copy.deepcopy(config)


def manager_sets(obj: dict) -> list[tuple[dict, set[Path]]]:
    return [(e, from_fields_v1(e.get("fieldsV1") or {})) for e in obj.get("metadata", {}).get("managedFields")
            or []]


def server_side_apply(live: dict | None, config: dict, manager: str, schema: Schema | None,
                      nav: SchemaNav) -> tuple[dict, set[Path]]:
    """Returns (merged object without managedFields bookkeeping, the applier's new field set)."""
    applied = set(field_leaves(config, schema, nav))
    if live is None:
        return copy.deepcopy(config), applied
    merged = apply_merge(live, config, schema, nav)
    previous: set[Path] = set()
    others: set[Path] = set()
    for entry, fields in manager_sets(live):
        if entry.get("manager") == manager and entry.get("operation") == "Apply":
            previous |= fields
        else:
            others |= fields
    for path in sorted(previous - applied, key=len, reverse=True):
        if path not in others and not any(o[:len(path)] == path for o in others):
            remove_path(merged, path)
    return merged, applied


def record_managed_fields(new: dict, old: dict | None, manager: str, operation: str, api_version: str,
                          now: str, schema: Schema | None, nav: SchemaNav, applied: set[Path] | None = None,
                          subresource: str | None = None) -> None:
    """Update new.metadata.managedFields: the writer takes the fields it set (Apply: its applied set;
    Update: the fields whose values changed) and other managers lose them."""
    new_leaves = field_leaves(new, schema, nav)
    if applied is not None:
        taken = applied & set(new_leaves) if new_leaves else set(applied)
    else:
        old_leaves = field_leaves(old, schema, nav) if old else {}
        taken = {p for p, v in new_leaves.items() if p not in old_leaves or old_leaves[p] != v}
    entries: list[dict | None] = []
    mine: set[Path] = set()
    slot = None  # keep the entries' order stable so that unchanged objects compare equal
    for entry, fields in manager_sets(old or {}):
        same = (entry.get("manager") == manager and entry.get("operation") == operation
                and entry.get("subresource") == subresource)
        if same:
            mine = fields if applied is None else set()
            slot = len(entries)
            entries.append(None)
            continue
        fields = {p for p in fields if p not in taken and p in new_leaves}
        if fields:
            entries.append({**entry, "fieldsV1": to_fields_v1(fields)})
    mine = {p for p in mine | taken if p in new_leaves}
    if mine:
        entry = {"manager": manager, "operation": operation, "apiVersion": api_version, "time": now,
                 "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(mine)}
        if subresource:
            entry["subresource"] = subresource
        if slot is None:
            entries.append(entry)
        else:
            entries[slot] = entry
    entries = [e for e in entries if e is not None]
    if entries:
        new.setdefault("metadata", {})["managedFields"] = entries
    else:
        new.get("metadata", {}).pop("managedFields", None)
