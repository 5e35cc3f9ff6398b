"""Fault injection: rules that make the emulator answer some requests the way a failing API server or the
network in front of it does (testbed only: a real API server has no such switch). Rules come from the testbed
config (`faults:`) and from the control surface (`/_testbed/faults`, control.py); see ../PLUGIN_CONTRACT.md,
"Fault injection".

A rule matches a request by method, a regular expression on the path and one on the raw query string (as in
the request log). Every rule counts each request it matches; the first rule in list order that is due (more than
`after` matches seen, fewer than `times` applied) applies its action:

* status  answer with `code` and the body kube-apiserver sends for it (STATUS_DEFAULTS; reason, message and
          Retry-After can be overridden; `plainText` answers as the Go http.Error of a server filter does);
* delay   wait `seconds`, then serve the request normally (a slow server: client timeouts fire, the write
          may still land, as on a real API server whose handler outlives the client);
* hang    read the request and answer nothing until the client gives up (or `seconds` pass), then close;
* drop    read the request and reset the connection (RST) without answering.
"""

from __future__ import annotations

import copy
import re
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

ACTIONS = ("status", "delay", "hang", "drop")
RULE_KEYS = {"id", "methods", "path", "query", "after", "times", "action", "code", "reason", "message",
             "retryAfterSeconds", "plainText", "seconds"}

# (reason, message, details, Retry-After) of what kube-apiserver answers with a code, each a real answer:
# 429 apierrors.NewTooManyRequests("storage is (re)initializing", 1) while a resource's watch cache starts (a new
#     CRD, a restarted server), Retry-After from details.retryAfterSeconds (responsewriters.ErrorNegotiated);
# 500 apierrors.NewInternalError(err) (details.causes: the error once more, internal_details);
# 503 apierrors.NewServiceUnavailable("apiserver is shutting down") with Retry-After: 1 (filters.WithWaitGroup);
# 504 apierrors.NewTimeoutError(..., 0) of a request that outlived its deadline (handlers/finisher).
STATUS_DEFAULTS: dict[int, tuple[str, str, dict | None, int | None]] = {
    429: ("TooManyRequests", "storage is (re)initializing", {"retryAfterSeconds": 1}, 1),
    500: ("InternalError", "Internal error occurred: etcdserver: request timed out", None, None),
    503: ("ServiceUnavailable", "apiserver is shutting down", None, 1),
    504: ("Timeout", "Timeout: request did not complete within requested timeout - context deadline exceeded", {},
          None),
}
# metav1.StatusReason of the other codes (apimachinery's reasonForCode).
REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
           406: "NotAcceptable", 409: "Conflict", 410: "Expired", 413: "RequestEntityTooLarge",
           415: "UnsupportedMediaType", 422: "Invalid"}
# The plain-text answer of the max-in-flight / priority-and-fairness filters (http.Error, Retry-After: 1).
PLAIN_DEFAULTS = {429: "Too many requests, please try again later."}


INTERNAL_PREFIX = "Internal error occurred: "


def internal_details(reason: str, message: str) -> dict | None:
    """details of apierrors.NewInternalError(err): err once more as the cause; nothing for other 500s (an error
    that is no StatusError reaches the client as a 500 without reason and details)."""
    if reason == "InternalError" and message.startswith(INTERNAL_PREFIX):
        return {"causes": [{"message": message[len(INTERNAL_PREFIX):]}]}
    return None


class FaultError(ValueError):
    """A rule that cannot be used (the control surface answers 400, a start config stops the emulator)."""


@dataclass
class Answer:
    """What a `status` rule sends: code, Content-Type, body and extra headers."""
    code: int
    ctype: str
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FaultRule:
    id: str
    action: str
    spec: dict  # the rule as given, with its id (what listing shows)
    methods: frozenset[str] = frozenset()  # empty: any method
    path: re.Pattern | None = None
    query: re.Pattern | None = None
    after: int = 0
    times: int | None = None  # None: every match after `after`
    seconds: float | None = None
    matched: int = 0
    applied: int = 0

    def matches(self, method: str, path: str, query: str) -> bool:
        return (not self.methods or method in self.methods) and \
            (self.path is None or self.path.search(path) is not None) and \
            (self.query is None or self.query.search(query) is not None)

    def due(self) -> bool:
        return self.matched > self.after and (self.times is None or self.applied < self.times)

    def answer(self) -> Answer:
        """The response of a `status` rule."""
        code = int(self.spec["code"])
        reason, message, details, retry_after = STATUS_DEFAULTS.get(
            code, (REASONS.get(code, ""), HTTPStatus(code).phrase, None, None))
        if "retryAfterSeconds" in self.spec:
            retry_after = int(self.spec["retryAfterSeconds"]) or None
            if details is not None and "retryAfterSeconds" in details:
                details = {"retryAfterSeconds": retry_after} if retry_after else {}
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        if self.spec.get("plainText"):
            text = self.spec.get("message") or PLAIN_DEFAULTS.get(code) or message
            return Answer(code, "text/plain; charset=utf-8", (text + "\n").encode(),
                          {**headers, "X-Content-Type-Options": "nosniff"})
        reason = self.spec.get("reason", reason)
        message = self.spec.get("message", message)
        if code == 500:
            details = internal_details(reason, message)
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": message}
        if reason:
            body["reason"] = reason  # StatusReasonUnknown ("") is omitted
        if details is not None:
            body["details"] = copy.deepcopy(details)
        body["code"] = code  # metav1.Status field order: details before code
        return Answer(code, "application/json", body, headers)

    def to_dict(self) -> dict:
        return {**copy.deepcopy(self.spec), "matched": self.matched, "applied": self.applied}


def _int(spec: dict, key: str, minimum: int = 0) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FaultError(f"{key}: want an integer >= {minimum}, got {value!r}")
    return value


def _seconds(spec: dict) -> float | None:
    value = spec.get("seconds")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise FaultError(f"seconds: want a number >= 0, got {value!r}")
    return float(value)


def _regex(spec: dict, key: str) -> re.Pattern | None:
    value = spec.get(key)
    if value is None:
        return None
    try:
        return re.compile(str(value))
    except re.error as e:
        raise FaultError(f"{key}: invalid regular expression {value!r}: {e}") from None


def _methods(spec: dict) -> frozenset[str]:
    value = spec.get("methods")
    if value is None:
        return frozenset()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(m, str) and m for m in values):
        raise FaultError(f"methods: want a method or a list of methods, got {value!r}")
    return frozenset(m.upper() for m in values)


def _check_action(spec: dict) -> str:
    action = spec.get("action")
    if action not in ACTIONS:
        raise FaultError(f"action: want one of {', '.join(ACTIONS)}, got {action!r}")
    if action == "status":
        code = _int(spec, "code", 100)
        if code is None or code not in {s.value for s in HTTPStatus}:
            raise FaultError(f"code: a status rule needs an HTTP status code, got {spec.get('code')!r}")
        _int(spec, "retryAfterSeconds")
        for key in ("reason", "message"):
            if key in spec and not isinstance(spec[key], str):
                raise FaultError(f"{key}: want a string, got {spec[key]!r}")
    elif action == "delay" and spec.get("seconds") is None:
        raise FaultError("seconds: a delay rule needs the seconds to wait")
    status_only = {"code", "reason", "message", "retryAfterSeconds", "plainText"} & set(spec)
    if action != "status" and status_only:
        raise FaultError(f"{', '.join(sorted(status_only))}: only for action status")
    if action in ("status", "drop") and "seconds" in spec:
        raise FaultError(f"seconds: not for action {action}")
    return action


def parse_rule(spec: Any, rule_id: str) -> FaultRule:
    """A FaultRule of a rule as given (JSON/YAML), or FaultError."""
    if not isinstance(spec, dict):
        raise FaultError(f"a rule is a mapping, got {spec!r}")
    unknown = set(spec) - RULE_KEYS
    if unknown:
        raise FaultError(f"unknown rule keys: {', '.join(sorted(unknown))} (known: {', '.join(sorted(RULE_KEYS))})")
    action = _check_action(spec)
    given = {k: copy.deepcopy(v) for k, v in spec.items() if k != "id"}
    return FaultRule(id=rule_id, action=action, spec={"id": rule_id, **given}, methods=_methods(spec),
                     path=_regex(spec, "path"), query=_regex(spec, "query"), after=_int(spec, "after") or 0,
                     times=_int(spec, "times"), seconds=_seconds(spec))


class FaultInjector:
    """The rules in force; thread-safe (every request thread calls pick)."""

    def __init__(self, specs: list | None = None):
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._serial = 0
        if specs:
            self.add(specs)

    def _parse(self, specs: Any, taken: set[str]) -> list[FaultRule]:
        if isinstance(specs, dict):
            specs = [specs]
        if not isinstance(specs, list):
            raise FaultError(f"want a rule or a list of rules, got {specs!r}")
        rules = []
        for spec in specs:
            rule_id = spec.get("id") if isinstance(spec, dict) else None
            if rule_id is None:
                self._serial += 1
                rule_id = f"fault-{self._serial}"
                while rule_id in taken:
                    self._serial += 1
                    rule_id = f"fault-{self._serial}"
            if not isinstance(rule_id, str) or not rule_id or "/" in rule_id:
                raise FaultError(f"id: want a non-empty string without '/', got {rule_id!r}")
            if rule_id in taken:
                raise FaultError(f"id: a rule {rule_id!r} exists already")
            taken.add(rule_id)
            rules.append(parse_rule(spec, rule_id))
        return rules

    def add(self, specs: Any) -> list[dict]:
        """Append rules (all or none); returns them as listed."""
        with self._lock:
            rules = self._parse(specs, {r.id for r in self._rules})
            self._rules += rules
            return [r.to_dict() for r in rules]

    def replace(self, specs: Any) -> list[dict]:
        """Make `specs` the only rules (all or none)."""
        with self._lock:
            rules = self._parse(specs, set())
            self._rules = rules
            return [r.to_dict() for r in rules]

    def list(self) -> list[dict]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def get(self, rule_id: str) -> dict | None:
        with self._lock:
            return next((r.to_dict() for r in self._rules if r.id == rule_id), None)

    def remove(self, rule_id: str | None = None) -> list[dict]:
        """Remove one rule (None: all); returns what was removed ([] when no rule has that id)."""
        with self._lock:
            gone = [r for r in self._rules if rule_id is None or r.id == rule_id]
            self._rules = [r for r in self._rules if r not in gone]
            return [r.to_dict() for r in gone]

    def pick(self, method: str, path: str, query: str) -> FaultRule | None:
        """Count the request for every rule it matches; the first due one applies (and counts as applied)."""
        if not self._rules:  # no lock on the hot path of a run without faults
            return None
        chosen = None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path, query):
                    continue
                rule.matched += 1
                if chosen is None and rule.due():
                    rule.applied += 1
                    chosen = rule
        return chosen
