"""Label selectors (query syntax and LabelSelector objects), field selectors and node selector terms."""

from __future__ import annotations

import re
from typing import Any, Callable

from .errors import bad_request

# (key, op, values); op in =, !=, in, notin, exists, !exists, gt, lt
Requirement = tuple[str, str, list[str]]

_TOKEN = re.compile(r"\s*(!=|==|=|!|\(|\)|,|>|<|[^\s!=(),<>]+)")


def parse_label_selector(text: str | None) -> list[Requirement]:
    """Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h` as labels.Parse does."""
    if not text:
        return []
    tokens = _TOKEN.findall(text)
    reqs: list[Requirement] = []
    i = 0

    def need(cond: bool) -> None:
        if not cond:
            raise bad_request(f"unable to parse requirement: invalid label selector: {text!r}")

    while i < len(tokens):
        tok = tokens[i]
        if tok == "!":
            need(i + 1 < len(tokens))
            reqs.append((tokens[i + 1], "!exists", []))
            i += 2
        else:
            key = tok
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ","
            if nxt == ",":
                reqs.append((key, "exists", []))
                i += 1
            elif nxt in ("=", "==", "!="):
                empty = i + 2 >= len(tokens) or tokens[i + 2] == ","  # `a=` selects an empty value
                need(empty or tokens[i + 2] not in ("(", ")"))
                reqs.append((key, "!=" if nxt == "!=" else "=", ["" if empty else tokens[i + 2]]))
                i += 2 if empty else 3
            elif nxt in (">", "<"):
                need(i + 2 < len(tokens) and tokens[i + 2].lstrip("-").isdigit())
                reqs.append((key, "gt" if nxt == ">" else "lt", [tokens[i + 2]]))
                i += 3
            elif nxt in ("in", "notin"):
                need(i + 2 < len(tokens) and tokens[i + 2] == "(")
                j, values = i + 3, []
                while j < len(tokens) and tokens[j] != ")":
                    if tokens[j] != ",":
                        values.append(tokens[j])
                    j += 1
                need(j < len(tokens))
                reqs.append((key, nxt, values))
                i = j + 1
            else:
                need(False)
        if i < len(tokens):
            need(tokens[i] == ",")
            i += 1
    return reqs


def _match_req(labels: dict[str, str], key: str, op: str, values: list[str]) -> bool:
    present = key in labels
    val = labels.get(key)
    if op == "=":
        return present and val == values[0]
    if op == "!=":
        return not present or val != values[0]
    if op == "in":
        return present and val in values
    if op == "notin":
        return not present or val not in values
    if op == "exists":
        return present
    if op == "!exists":
        return not present
    if op in ("gt", "lt"):
        try:
            n = int(val or "")
        except ValueError:
            return False
        return n > int(values[0]) if op == "gt" else n < int(values[0])
    return False


def match_labels(reqs: list[Requirement], labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    return all(_match_req(labels, k, op, v) for k, op, v in reqs)


def label_selector_object_matches(selector: dict | None, labels: dict[str, str] | None) -> bool:
    """metav1.LabelSelector: an empty selector matches everything, None matches nothing."""
    if selector is None:
        return False
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
    for expr in selector.get("matchExpressions") or []:
        if not _match_req(labels, expr["key"], ops.get(expr["operator"], "?"), expr.get("values") or []):
            return False
    return True


def selector_to_string(selector: dict) -> str:
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        op = e["operator"]
        if op in ("In", "NotIn"):
            parts.append(f"{e['key']} {op.lower()} ({','.join(e.get('values') or [])})")
        elif op == "Exists":
            parts.append(e["key"])
        else:
            parts.append("!" + e["key"])
    return ",".join(parts)


# --- field selectors -------------------------------------------------------------------------------

FieldRequirement = tuple[str, bool, str]  # (field, equal?, value)


def parse_field_selector(text: str | None, allowed: tuple[str, ...]) -> list[FieldRequirement]:
    if not text:
        return []
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"([^=!]+?)\s*(==|=|!=)\s*(.*)", part)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        name, op, value = m.groups()
        if name not in ("metadata.name", "metadata.namespace") and name not in allowed:
            raise bad_request(f'field label not supported: {name}')
        out.append((name, op != "!=", value))
    return out


def _field_value(obj: dict, path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def match_fields(reqs: list[FieldRequirement], obj: dict) -> bool:
    return all((_field_value(obj, f) == v) == eq for f, eq, v in reqs)


# --- node selection (scheduler, DaemonSet) ---------------------------------------------------------

def _node_expr_matches(expr: dict, values_of: Callable[[str], str | None]) -> bool:
    val = values_of(expr["key"])
    op, values = expr["operator"], expr.get("values") or []
    if op == "In":
        return val is not None and val in values
    if op == "NotIn":
        return val is None or val not in values
    if op == "Exists":
        return val is not None
    if op == "DoesNotExist":
        return val is None
    if op in ("Gt", "Lt"):
        try:
            n, ref = int(val or ""), int(values[0])
        except (ValueError, IndexError):
            return False
        return n > ref if op == "Gt" else n < ref
    return False


def node_selector_terms_match(terms: list[dict], node: dict) -> bool:
    """Terms are ORed; expressions inside a term are ANDed; an empty term matches nothing."""
    labels = node.get("metadata", {}).get("labels") or {}
    fields = {"metadata.name": node.get("metadata", {}).get("name")}
    for term in terms:
        exprs = term.get("matchExpressions") or []
        fexprs = term.get("matchFields") or []
        if not exprs and not fexprs:
            continue
        if all(_node_expr_matches(e, labels.get) for e in exprs) and all(
                _node_expr_matches(e, fields.get) for e in fexprs):
            return True
    return False


def tolerates(taint: dict, tolerations: list[dict]) -> bool:
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        op = t.get("operator") or "Equal"
        if not t.get("key"):
            if op == "Exists":
                return True
            continue
        if t["key"] != taint.get("key"):
            continue
        if op == "Exists" or (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False
