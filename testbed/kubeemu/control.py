"""The testbed's control surface on the emulator's own port, outside the Kubernetes API (a real API server
answers 404 there). Tests switch faults and plugin settings with it while the emulator runs:

    GET    /_testbed/faults                  {"rules": [rule + matched/applied counters, ...]}
    POST   /_testbed/faults                  a rule or a list of rules, appended -> 201 {"rules": [added]}
    PUT    /_testbed/faults                  a list of rules, replacing all -> {"rules": [...]}
    DELETE /_testbed/faults                  remove all -> {"rules": [removed]}
    GET    /_testbed/faults/<id>             one rule; DELETE removes it (404 without such a rule)
    GET    /_testbed/settings                {"<section>": {runtime overrides}, ...}
    GET    /_testbed/settings/<section>      the section now (start config + runtime overrides)
    PATCH  /_testbed/settings/<section>      merge overrides (null: back to the start config) -> the section
    DELETE /_testbed/settings/<section>      drop the runtime overrides -> the section

Bodies are JSON; errors are Status objects like the API's. Control requests are never faulted and never logged.
"""

from __future__ import annotations

import json
from typing import Any

from . import errors
from .errors import ApiError
from .faults import FaultError, FaultInjector
from .settings import RuntimeSettings, SettingsError

PREFIX = "/_testbed/"


def is_control(path: str) -> bool:
    return path.startswith(PREFIX) or path == PREFIX.rstrip("/")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError as e:
        raise errors.bad_request(f"error decoding request body: {e}") from None


def _not_found(what: str) -> ApiError:
    return ApiError(404, "NotFound", f"{what} not found", {})


def handle(method: str, path: str, body: bytes, faults: FaultInjector,
           settings: RuntimeSettings) -> tuple[int, Any]:
    """(status code, JSON body) of a control request."""
    segs = [s for s in path[len(PREFIX):].split("/") if s] if path.startswith(PREFIX) else []
    try:
        if segs[:1] == ["faults"] and len(segs) <= 2:
            return _faults(method, segs[1] if len(segs) == 2 else None, body, faults)
        if segs[:1] == ["settings"] and len(segs) <= 2:
            return _settings(method, segs[1] if len(segs) == 2 else None, body, settings)
    except (FaultError, SettingsError) as e:
        raise errors.bad_request(str(e)) from None
    raise errors.path_not_found()


def _faults(method: str, rule_id: str | None, body: bytes, faults: FaultInjector) -> tuple[int, Any]:
    if rule_id is not None:
        if method == "GET":
            rule = faults.get(rule_id)
        elif method == "DELETE":
            rule = next(iter(faults.remove(rule_id)), None)
        else:
            raise errors.method_not_allowed()
        if rule is None:
            raise _not_found(f'fault rule "{rule_id}"')
        return 200, rule
    if method == "GET":
        return 200, {"rules": faults.list()}
    if method == "POST":
        return 201, {"rules": faults.add(_json(body))}
    if method == "PUT":
        return 200, {"rules": faults.replace(_json(body) or [])}
    if method == "DELETE":
        return 200, {"rules": faults.remove()}
    raise errors.method_not_allowed()


def _settings(method: str, section: str | None, body: bytes, settings: RuntimeSettings) -> tuple[int, Any]:
    if section is None:
        if method != "GET":
            raise errors.method_not_allowed()
        return 200, settings.overrides()
    if method == "GET":
        return 200, settings.get(section)
    if method == "PATCH":
        return 200, settings.patch(section, _json(body))
    if method == "DELETE":
        return 200, settings.reset(section)
    raise errors.method_not_allowed()
