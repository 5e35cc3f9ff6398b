"""Patch types: JSON merge patch (RFC 7386), JSON patch (jsonpatch library), strategic merge patch and
server-side apply.

Strategic merge patch follows k8s.io/apimachinery/pkg/util/strategicpatch for the parts clients use:
lists merged by `x-kubernetes-patch-merge-key` (containers by name, env by name, ports by containerPort,
volumes by name, ...), primitive lists with strategy `merge` unioned, `$patch: replace|delete|merge`,
`$deleteFromPrimitiveList/<f>`, `$setElementOrder/<f>` and `$retainKeys`. Patch metadata comes from the
OpenAPI extensions in the bundled built-in schemas.

Server-side apply follows structured-merge-diff (sigs.k8s.io/structured-merge-diff merge.Updater) and
kube-apiserver's fieldmanager: the applied configuration is merged into the live object using the schema's
list types (`x-kubernetes-list-type`/`-list-map-keys`, falling back to the patch merge key; atomic maps
such as label selectors are one field); fields the same manager applied before but omits now are removed
unless another manager owns them; managedFields hold one FieldsV1 set per (manager, operation,
subresource); an apply that changes a field another manager owns fails with 409 Conflict
(FieldManagerConflict causes) unless `force=true`, which takes the field over. Not modelled: managedFields
supplied by the client (they are ignored, never reset), per-version conversion of field sets, the
"struct versus pointer struct" distinction for map members of built-in kinds."""

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
#
# A field set is a set of paths in FieldsV1 element syntax: ("f:spec", "f:containers", 'k:{"name":"a"}',
# "f:image"). A trailing "." marks the node itself as a member: an associative-list item
# ('k:{...}', ".") or, for Update operations, a map that the write created ("f:data", "."), as
# structured-merge-diff's Compare records it (Apply sets, built from the configuration, hold no map members).

Path = tuple[str, ...]
_UNTRACKED_META = {"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink", "name",
                   "namespace",
                   "deletionTimestamp", "deletionGracePeriodSeconds"}


class _MapMember:
    def __repr__(self) -> str:
        return "<map>"


_MAP = _MapMember()


def _key_elem(item: dict, keys: list[str]) -> str:
    return "k:" + json.dumps({k: item.get(k) for k in keys if k in item}, separators=(",", ":"),
                             sort_keys=True)


def _atomic_map(schema: Schema | None, nav: SchemaNav) -> bool:
    node = schema or {}
    return (node.get("x-kubernetes-map-type") or nav.resolve(schema).get("x-kubernetes-map-type")) in (
        "atomic", "granular-atomic")


def _is_map(schema: Schema | None, nav: SchemaNav, custom: bool) -> bool:
    """A map (not a struct): its creation is recorded as a member. Built-in structs cannot be told from
    pointer structs in OpenAPI, so only map[string]X types (additionalProperties) count there; every
    object node of a custom resource does (kube-apiserver compares unstructured objects)."""
    if custom:
        return True
    res = nav.resolve(schema)
    return isinstance(res.get("additionalProperties"), dict) and not res.get("properties")


def field_leaves(obj: Any, schema: Schema | None, nav: SchemaNav, prefix: Path = (), maps: bool = False,
                 custom: bool = False) -> dict[Path, Any]:
    """Paths of an object in FieldsV1 element syntax, mapped to their values (leaves, associative-list item
    members and, with maps=True, map members)."""
    out: dict[Path, Any] = {}
    if isinstance(obj, dict) and obj and not (prefix and _atomic_map(schema, nav)):
        if maps and prefix and prefix != ("f:metadata",) and not prefix[-1].startswith("k:") \
                and _is_map(schema, nav, custom):
            out[prefix + (".",)] = _MAP
        for k, v in obj.items():
            if not prefix and k in ("apiVersion", "kind"):
                continue
            if prefix == ("f:metadata",) and k in _UNTRACKED_META:
                continue
            out.update(field_leaves(v, nav.child(schema, k), nav, prefix + (f"f:{k}",), maps, custom))
        return out
    if isinstance(obj, list) and obj:
        kind, keys = nav.list_info(schema)
        if kind == "map" and keys and all(isinstance(x, dict) for x in obj):
            items = nav.items(schema)
            for x in obj:
                p = prefix + (_key_elem(x, keys),)
                out[p + (".",)] = None
                out.update(field_leaves(x, items, nav, p, maps, custom))
            return out
        if kind == "set" and all(not isinstance(x, (dict, list)) for x in obj):
            for x in obj:
                out[prefix + ("v:" + json.dumps(x),)] = x
            return out
    out[prefix] = obj
    return out


def config_paths(config: Any, obj: Any, schema: Schema | None, nav: SchemaNav, prefix: Path = ()) -> set[Path]:
    """The field set of an apply configuration (structured-merge-diff ToFieldSet), with associative-list
    keys taken from the object it produced (a key field the configuration leaves to defaulting, such as a
    port's protocol, names the item as stored)."""
    out: set[Path] = set()
    if isinstance(config, dict) and config and not (prefix and _atomic_map(schema, nav)):
        live = obj if isinstance(obj, dict) else {}
        for k, v in config.items():
            if not prefix and k in ("apiVersion", "kind"):
                continue
            if prefix == ("f:metadata",) and k in _UNTRACKED_META:
                continue
            if v is None:
                continue
            out |= config_paths(v, live.get(k), nav.child(schema, k), nav, prefix + (f"f:{k}",))
        return out
    if isinstance(config, list) and config:
        kind, keys = nav.list_info(schema)
        if kind == "map" and keys and all(isinstance(x, dict) for x in config):
            items = nav.items(schema)
            live = [y for y in obj if isinstance(y, dict)] if isinstance(obj, list) else []
            for x in config:
                given = {k: x[k] for k in keys if k in x}
                y = next((y for y in live if all(y.get(k) == v for k, v in given.items())), None)
                p = prefix + (_key_elem(y if y is not None else x, keys),)
                out.add(p + (".",))
                out |= config_paths(x, y, items, nav, p)
            return out
        if kind == "set" and all(not isinstance(x, (dict, list)) for x in config):
            return {prefix + ("v:" + json.dumps(x),) for x in config}
    out.add(prefix)
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


def path_string(path: Path) -> str:
    """fieldpath.Path.String(): .spec.replicas, .spec.containers[name="a"].image, .metadata.finalizers[="x"]."""
    out = []
    for elem in path:
        if elem == ".":
            continue
        if elem.startswith("f:"):
            out.append("." + elem[2:])
        elif elem.startswith("k:"):
            key = json.loads(elem[2:])
            out.append("[" + ",".join(f"{k}={_go_string(v)}" for k, v in sorted(key.items())) + "]")
        elif elem.startswith("v:"):
            out.append(f"[={_go_string(json.loads(elem[2:]))}]")
        elif elem.startswith("i:"):
            out.append(f"[{elem[2:]}]")
    return "".join(out)


def _go_string(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


def _iteration_key(path: Path) -> list:
    """fieldpath.Set.Iterate order: at each node its members (sorted) before its children (sorted)."""
    elems = [e for e in path if e != "."]
    order = {"f": 0, "k": 1, "v": 2, "i": 3}
    return [(0 if i == len(elems) - 1 else 1, order.get(e[:1], 4), e) for i, e in enumerate(elems)]


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


def _is_entry(entry: dict, manager: str, operation: str, subresource: str | None) -> bool:
    return (entry.get("manager") == manager and entry.get("operation") == operation
            and (entry.get("subresource") or None) == (subresource or None))


def server_side_apply(live: dict | None, config: dict, manager: str, schema: Schema | None,
                      nav: SchemaNav, subresource: str | None = None) -> dict:
    """Merge an apply configuration into the live object and prune what the manager applied before and
    omits now, unless another manager (any other entry, its own Update entry included) owns it.
    Ownership and conflicts are recorded afterwards by record_managed_fields (config=...)."""
    if live is None:
        return copy.deepcopy(config)
    merged = apply_merge(live, config, schema, nav)
    applied = config_paths(config, merged, schema, nav)
    previous: set[Path] = set()
    others: set[Path] = set()
    for entry, fields in manager_sets(live):
        if _is_entry(entry, manager, "Apply", subresource):
            previous |= fields
        else:
            others |= fields
    owned = others | applied
    # Outermost first: an associative-list item nobody owns any more goes whole, before its key fields could be
    # taken from it one by one (which would leave an item no key names, e.g. a port whose containerPort changed).
    for path in sorted(previous - owned, key=len):
        target = path[:-1] if path[-1:] == (".",) else path
        if _is_key_field(target):
            continue  # a key field stays while its item does: it names the item
        if not any(o[:len(target)] == target for o in owned):  # an item holding fields others own stays
            remove_path(merged, target)
    return merged


def _is_key_field(path: Path) -> bool:
    """Whether the path ends at one of the key fields of the associative-list item before it."""
    if len(path) < 2 or not path[-1].startswith("f:") or not path[-2].startswith("k:"):
        return False
    return path[-1][2:] in json.loads(path[-2][2:])


def manager_identifier(entry: dict) -> str:
    """fieldmanager BuildManagerIdentifier: the entry without time and fields; appliers without apiVersion."""
    ident = {"manager": entry.get("manager") or "", "operation": entry.get("operation") or ""}
    if entry.get("operation") != "Apply":
        ident["apiVersion"] = entry.get("apiVersion") or ""
    ident["subresource"] = entry.get("subresource") or ""
    return json.dumps({k: v for k, v in ident.items() if v}, separators=(",", ":"))


def print_manager(entry: dict) -> str:
    """fieldmanager printManager: "kubectl-edit" using apps/v1, "m" with subresource "status", "helm"."""
    out = json.dumps(entry.get("manager") or "")
    if entry.get("subresource"):
        out += f" with subresource {json.dumps(entry['subresource'])}"
    if entry.get("operation") == "Update":
        out += f" using {entry.get('apiVersion') or ''}"
    return out


def conflict_error(conflicts: list[tuple[dict, set[Path]]]) -> ApiError:
    """409 Conflict as NewConflictError builds it (k8s.io/apimachinery managedfields/internal/conflict.go):
    causes of type FieldManagerConflict, the message grouped by manager in identifier order."""
    found: list[tuple[dict, str]] = []
    for entry, paths in sorted(conflicts, key=lambda c: manager_identifier(c[0])):
        seen: set[str] = set()
        for p in sorted(paths, key=_iteration_key):
            text = path_string(p)
            if text not in seen:
                seen.add(text)
                found.append((entry, text))
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {print_manager(e)}", "field": f}
              for e, f in found]
    if len(found) == 1:
        message = f"Apply failed with 1 conflict: conflict with {print_manager(found[0][0])}: {found[0][1]}"
    else:
        lines: list[str] = []
        for entry, _ in sorted(conflicts, key=lambda c: manager_identifier(c[0])):
            lines.append(f"conflicts with {print_manager(entry)}:")
            lines.extend(f"- {f}" for e, f in found if e is entry)
        message = f"Apply failed with {len(found)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})


def _entry_order(entry: dict) -> tuple:
    """fieldmanager sortEncodedManagedFields: operation, time, manager, apiVersion, subresource."""
    return (entry.get("operation") or "", entry.get("time") or "", entry.get("manager") or "",
            entry.get("apiVersion") or "", entry.get("subresource") or "")


def record_managed_fields(new: dict, old: dict | None, manager: str, operation: str, api_version: str,
                          now: str, schema: Schema | None, nav: SchemaNav, config: dict | None = None,
                          subresource: str | None = None, force: bool = False, custom: bool = False) -> None:
    """Update new.metadata.managedFields as structured-merge-diff's Updater does.

    Compare old and new: `changed` = added or modified fields, `removed` = fields gone. Apply: any other
    manager (every entry but this manager's Apply entry for this subresource) owning a changed field is a
    conflict (409) unless force, when the field is taken from it; the applier's set becomes exactly the
    configuration's fields; an unchanged value another manager owns stays shared. Update: the writer's set
    gains what it changed and every other manager loses it. Removed fields leave every set."""
    new_vals = field_leaves(new, schema, nav, maps=True, custom=custom)
    old_vals = field_leaves(old, schema, nav, maps=True, custom=custom) if old else {}
    changed = {p for p, v in new_vals.items() if p not in old_vals or old_vals[p] != v}
    entries: list[dict] = []
    mine: set[Path] = set()
    conflicts: list[tuple[dict, set[Path]]] = []
    for entry, fields in manager_sets(old or {}):
        if _is_entry(entry, manager, operation, subresource):
            mine = fields
            continue
        lost = fields & changed
        if lost and operation == "Apply":
            conflicts.append((entry, lost))
        kept = {p for p in fields - lost if p in new_vals}
        if kept:
            entries.append({**entry, "fieldsV1": to_fields_v1(kept)})
    if conflicts and not force:
        raise conflict_error(conflicts)
    if operation == "Apply":
        mine = config_paths(config or {}, new, schema, nav)
    mine = {p for p in mine | (changed if operation != "Apply" else set()) if p in new_vals}
    if mine:
        entry = {"manager": manager, "operation": operation, "apiVersion": api_version, "time": now,
                 "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(mine)}
        if subresource:
            entry["subresource"] = subresource
        entries.append(entry)
    entries.sort(key=_entry_order)
    if entries:
        new.setdefault("metadata", {})["managedFields"] = entries
    else:
        new.get("metadata", {}).pop("managedFields", None)
