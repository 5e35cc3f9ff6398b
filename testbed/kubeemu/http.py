"""HTTP front end: routing of /api, /apis, discovery, OpenAPI and watch streams (chunked JSON lines)."""

from __future__ import annotations

import json
import queue
import select
import socket
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from . import control, discovery, errors, protobuf
from .apiserver import JSON_PATCH, MERGE, ApiServer, Ctx
from .errors import ApiError
from .faults import FaultInjector, FaultRule
from .patch import json_patch, merge_patch, strategic_merge
from .resources import ResourceType
from .selectors import match_fields, match_labels, parse_field_selector, parse_label_selector, selector_to_string
from .settings import RuntimeSettings
from .store import Watcher

JSON = "application/json"
PROTOBUF = "application/vnd.kubernetes.protobuf"


class RequestLog:
    def __init__(self, path: str | None):
        self._f = open(path, "a", buffering=1) if path else None
        self._lock = threading.Lock()

    def write(self, **entry: Any) -> None:
        if self._f:
            with self._lock:
                self._f.write(json.dumps(entry) + "\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: ApiServer, git_version: str, log: RequestLog,
                 faults: FaultInjector | None = None, settings: RuntimeSettings | None = None):
        super().__init__(address, Handler)
        self.api, self.git_version, self.log = api, git_version, log
        self.faults = faults or FaultInjector()
        self.settings = settings or RuntimeSettings({})
        self.openapi = discovery.OpenAPI(api.registry, git_version)
        self.stopping = threading.Event()


def _q(query: dict[str, list[str]], key: str, default: str | None = None) -> str | None:
    vals = query.get(key)
    return vals[0] if vals else default


def _truthy(v: str | None) -> bool:
    return v in ("true", "1", "True")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else ~40 ms per request (Nagle + delayed ACK)
    server: Server
    _fault: str | None = None  # id of the fault rule applied to this request (request log field `fault`)

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr access log
        pass

    # --- plumbing ---
    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, code: int, body: Any, ctype: str = JSON, warnings: list[str] | None = None,
              headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        # Logged before the client can see the response: a test that reads the request log right after its own
        # request finds it there.
        self._status = code
        if not self._logged:
            self._log(self._start)
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        for w in warnings or []:
            self.send_header("Warning", '299 - ' + json.dumps(w))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, err: ApiError) -> None:
        self._send(err.code, err.status())

    def _handle(self) -> None:
        self._status, self._logged, self._fault = 0, False, None
        start = self._start = time.monotonic()
        url = urlsplit(self.path)
        if control.is_control(url.path):
            return self._control(url.path)
        try:
            rule = self.server.faults.pick(self.command, url.path, url.query)
            if rule is None or not self._inject(rule):
                self._route(url.path, parse_qs(url.query, keep_blank_values=True))
        except ApiError as e:
            self._error(e)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # surface as the API server would, keep serving
            traceback.print_exc(file=sys.stderr)
            self._error(errors.internal(f"{type(e).__name__}: {e}"))
        if not self._logged:
            self._log(start)

    def _log(self, start: float) -> None:
        url = urlsplit(self.path)
        self._logged = True
        fault = {"fault": self._fault} if self._fault else {}
        self.server.log.write(method=self.command, path=url.path, query=url.query,
                              contentType=self.headers.get("Content-Type"), accept=self.headers.get("Accept"),
                              userAgent=self.headers.get("User-Agent"), status=self._status,
                              ms=round((time.monotonic() - start) * 1000, 1), **fault)

    # --- testbed control surface and faults (control.py, faults.py) ---
    def _control(self, path: str) -> None:
        """/_testbed/...: not client traffic, so never faulted and never in the request log."""
        self._logged = True
        try:
            code, out = control.handle(self.command, path, self._body(), self.server.faults, self.server.settings)
        except ApiError as e:
            code, out = e.code, e.status()
        self._send(code, out)

    def _inject(self, rule: FaultRule) -> bool:
        """Apply a fault rule; True when it answered (or cut) the request, False to serve it normally."""
        self._fault = rule.id
        if rule.action == "delay":
            self.server.stopping.wait(rule.seconds or 0.0)
            return False
        self._body()  # the whole request is read first, as a server does before its handler fails
        if rule.action == "status":
            answer = rule.answer()
            self._send(answer.code, answer.body, answer.ctype, headers=answer.headers)
            return True
        self._log(self._start)  # status 0: no response
        if rule.action == "hang":
            self._hang(rule.seconds)
            self.close_connection = True
        else:
            self._reset()
        return True

    def _hang(self, seconds: float | None) -> None:
        """Answer nothing until the client closes the connection, `seconds` pass or the server stops."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while not self.server.stopping.is_set() and not self._peer_closed():
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0:
                break
            self.server.stopping.wait(left)

    def _reset(self) -> None:
        """Close the connection with a TCP RST (SO_LINGER 0): the client reads 'connection reset by peer'."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    # --- routing ---
    def _route(self, path: str, query: dict[str, list[str]]) -> None:
        api = self.server.api
        segs = [s for s in path.split("/") if s]
        if self.command == "GET":
            if path in ("/healthz", "/livez", "/readyz"):
                return self._send(200, b"ok", "text/plain")
            if path == "/version":
                return self._send(200, discovery.version_info(self.server.git_version))
            if path == "/api":
                return self._send(200, discovery.api_versions("%s:%d" % self.server.server_address[:2]))
            if path == "/apis":
                return self._send(200, discovery.api_group_list(api.registry))
            if path == "/openapi/v3":
                return self._send(200, self.server.openapi.index())
            if segs[:2] == ["openapi", "v3"]:
                doc = self.server.openapi.document("/".join(segs[2:]))
                if doc is None:
                    raise errors.path_not_found()
                return self._send(200, doc)
            if segs == ["api", "v1"] or (len(segs) == 3 and segs[0] == "apis"):
                group, version = ("", "v1") if segs[0] == "api" else (segs[1], segs[2])
                doc = discovery.resource_list(api.registry, group, version)
                if doc is None:
                    raise errors.path_not_found()
                return self._send(200, doc)
            if len(segs) == 2 and segs[0] == "apis":
                doc = discovery.api_group(api.registry, segs[1])
                if doc is None:
                    raise errors.path_not_found()
                return self._send(200, doc)
        if segs[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", segs[2:]
        elif len(segs) >= 4 and segs[0] == "apis":
            group, version, rest = segs[1], segs[2], segs[3:]
        else:
            raise errors.path_not_found()
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            nrt = api.registry.by_path(group, version, rest[2])
            if nrt is not None and nrt.namespaced:
                namespace, rest = rest[1], rest[2:]
        rt = api.registry.by_path(group, version, rest[0]) if rest else None
        if rt is None or len(rest) > 3 or (rt.namespaced and namespace is None and len(rest) > 1):
            raise errors.path_not_found()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub and sub not in rt.subresources and not self._special_sub(rt, sub):
            raise errors.path_not_found()
        self._resource(rt, namespace, name, sub, query)

    @staticmethod
    def _special_sub(rt: ResourceType, sub: str) -> bool:
        if rt.group:
            return False
        return (rt.plural, sub) in {("pods", "log"), ("pods", "eviction"), ("pods", "binding"),
                                    ("namespaces", "finalize")}

    def _ctx(self, query: dict[str, list[str]]) -> Ctx:
        fv = _q(query, "fieldValidation") or "Warn"
        if fv not in ("Strict", "Warn", "Ignore"):
            raise errors.bad_request(f'fieldValidation parameter value {fv!r} is not valid, allowed values: '
                                     'Ignore, Warn, Strict')
        dry = query.get("dryRun") or []
        if any(d != "All" for d in dry):
            raise errors.bad_request(f"Invalid dry run value: {dry}")
        ua = (self.headers.get("User-Agent") or "unknown").split("/")[0][:128]
        return Ctx(manager=_q(query, "fieldManager") or "", default_manager=ua, dry_run=bool(dry),
                   field_validation=fv)

    def _decode(self, body: bytes) -> Any:
        ctype = (self.headers.get("Content-Type") or JSON).split(";")[0].strip()
        try:
            if ctype == PROTOBUF:
                return protobuf.decode(body)
            if ctype in ("application/yaml", "application/x-yaml"):
                return yaml.safe_load(body)
            if ctype == JSON or ctype == "":
                return json.loads(body) if body else None
        except (ValueError, yaml.YAMLError, IndexError) as e:
            raise errors.bad_request(f"error decoding request body: {e}")
        raise errors.unsupported_media_type(ctype, [JSON, "application/yaml", PROTOBUF])

    def _resource(self, rt: ResourceType, namespace: str | None, name: str | None, sub: str | None,
                  query: dict[str, list[str]]) -> None:
        api = self.server.api
        method = self.command
        if method == "GET":
            if name is None:
                if _truthy(_q(query, "watch")):
                    return self._watch(rt, namespace, query)
                limit = int(_q(query, "limit") or 0)
                return self._send(200, api.list(rt, namespace, _q(query, "labelSelector"),
                                                 _q(query, "fieldSelector"), limit, _q(query, "continue")))
            if sub == "log":
                api.get(rt, namespace, name)
                return self._send(200, b"", "text/plain")
            obj = api.get(rt, namespace, name)
            return self._send(200, scale_of(rt, obj) if sub == "scale" else obj)
        ctx = self._ctx(query)
        body = self._body()
        if method == "POST":
            if name is not None:
                return self._pod_action(rt, namespace, name, sub, self._decode(body), ctx)
            obj = api.create(rt, namespace, self._decode(body), ctx)
            return self._send(201, obj, warnings=ctx.warnings)
        if name is None and method != "DELETE":
            raise errors.method_not_allowed()
        if method == "PUT":
            data = self._decode(body)
            if sub == "scale":
                return self._send(200, self._scale(rt, namespace, name, data, ctx))
            obj = api.update(rt, namespace, name, data, ctx, sub)
            return self._send(200, obj, warnings=ctx.warnings)
        if method == "PATCH":
            ctype = self.headers.get("Content-Type") or ""
            if sub == "scale":
                current = scale_of(rt, api.get(rt, namespace, name))
                data = json.loads(body or b"{}")
                ct = ctype.split(";")[0].strip()
                if ct == JSON_PATCH:
                    new = json_patch(current, data)
                elif ct == MERGE:
                    new = merge_patch(current, data)
                else:
                    new = strategic_merge(current, data, None, api.nav_builtin)
                return self._send(200, self._scale(rt, namespace, name, new, ctx))
            ctx.force = _truthy(_q(query, "force"))  # server-side apply: take over conflicting fields
            obj, created = api.patch(rt, namespace, name, ctype, body, ctx, sub)
            return self._send(201 if created else 200, obj, warnings=ctx.warnings)
        if method == "DELETE":
            options = self._decode(body) if body else {}
            options = dict(options or {})
            for key in ("propagationPolicy", "gracePeriodSeconds", "orphanDependents"):
                if _q(query, key) is not None:
                    options[key] = _q(query, key)
            if isinstance(options.get("orphanDependents"), str):
                options["orphanDependents"] = _truthy(options["orphanDependents"])
            if options.get("dryRun"):
                ctx.dry_run = True
            if name is None:
                return self._send(200, api.delete_collection(rt, namespace, _q(query, "labelSelector"),
                                                             _q(query, "fieldSelector"), options, ctx),
                                  warnings=ctx.warnings)
            code, out = api.delete(rt, namespace, name, options, ctx)
            return self._send(code, out, warnings=ctx.warnings)
        raise errors.method_not_allowed()

    def _scale(self, rt: ResourceType, namespace: str | None, name: str, scale: dict, ctx: Ctx) -> dict:
        api = self.server.api
        with api.lock:
            obj = api.get(rt, namespace, name)
            path = ((rt.crd or {}).get("subresources", {}).get("scale", {}).get("specReplicasPath")
                    or ".spec.replicas").strip(".").split(".")
            new = json.loads(json.dumps(obj))
            cur = new
            for p in path[:-1]:
                cur = cur.setdefault(p, {})
            cur[path[-1]] = int((scale.get("spec") or {}).get("replicas") or 0)
            return scale_of(rt, api.update(rt, namespace, name, new, ctx))

    def _pod_action(self, rt: ResourceType, namespace: str | None, name: str, sub: str | None, body: Any,
                    ctx: Ctx) -> None:
        api = self.server.api
        if (rt.plural, sub) == ("pods", "eviction"):
            api.delete(rt, namespace, name, (body or {}).get("deleteOptions") or {}, ctx)
            return self._send(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                    "code": 201})
        if (rt.plural, sub) == ("pods", "binding"):
            with api.lock:
                pod = api.get(rt, namespace, name)
                if (pod.get("spec") or {}).get("nodeName"):
                    raise errors.conflict(rt, name, f"pod {name} is already assigned to node "
                                          f"\"{pod['spec']['nodeName']}\"")
                new = json.loads(json.dumps(pod))
                new["spec"]["nodeName"] = ((body or {}).get("target") or {}).get("name")
                api.update(rt, namespace, name, new, Ctx(client=False, manager=ctx.manager,
                                                         default_manager=ctx.default_manager))
            return self._send(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                    "code": 201})
        raise errors.method_not_allowed()

    # --- watch ---
    def _watch(self, rt: ResourceType, namespace: str | None, query: dict[str, list[str]]) -> None:
        api = self.server.api
        labels = parse_label_selector(_q(query, "labelSelector"))
        fields = parse_field_selector(_q(query, "fieldSelector"), rt.field_labels)
        timeout = float(_q(query, "timeoutSeconds") or 1800)
        send_initial = _truthy(_q(query, "sendInitialEvents"))
        bookmarks = _truthy(_q(query, "allowWatchBookmarks"))
        rv = _q(query, "resourceVersion") or ""
        if send_initial and _q(query, "resourceVersionMatch") != "NotOlderThan":
            raise errors.invalid(rt, "", [{"reason": "FieldValueInvalid", "field": "resourceVersionMatch",
                                           "message": "Invalid value: sendInitialEvents requires setting "
                                                      "resourceVersionMatch to NotOlderThan"}])

        def match(o: dict) -> bool:
            return match_labels(labels, o["metadata"].get("labels")) and match_fields(fields, o)

        w = Watcher(rt.group, rt.plural, namespace if rt.namespaced else None, match)
        with api.lock:
            if rv and rv != "0" and not send_initial:
                try:
                    since = int(rv)
                except ValueError:
                    raise errors.bad_request(f"invalid resource version: {rv}")
                events = api.store.watch(w, since)
                initial = []
            else:
                events = api.store.watch(w, None)
                initial = [("ADDED", o) for o in api.store.list(rt.group, rt.plural, w.namespace) if match(o)]
            start_rv = api.store.rv
        try:
            self.send_response(200)
            self.send_header("Content-Type", JSON)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            self._status = 200
            self._log(self._start)  # a watch is logged when its stream starts
            if events is None:
                err = errors.gone(f"too old resource version: {rv} ({start_rv})")
                self._chunk({"type": "ERROR", "object": err.status()})
                return self._end_chunks()
            for typ, obj in initial + events:
                self._chunk({"type": typ, "object": api.present(rt, obj)})
            if send_initial and bookmarks:
                self._chunk({"type": "BOOKMARK", "object": {
                    "kind": rt.kind, "apiVersion": rt.api_version, "metadata": {
                        "resourceVersion": str(start_rv), "annotations": {"k8s.io/initial-events-end": "true"}}}})
            deadline = time.monotonic() + timeout
            while not self.server.stopping.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    typ, obj = w.q.get(timeout=min(remaining, 0.5))
                except queue.Empty:
                    if self._peer_closed():
                        break
                    continue
                self._chunk({"type": typ, "object": api.present(rt, obj)})
            self._end_chunks()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            api.store.unwatch(w)

    def _peer_closed(self) -> bool:
        """A client that stops watching just closes the connection; notice it without writing."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _chunk(self, event: dict) -> None:
        data = json.dumps(event, separators=(",", ":")).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def scale_of(rt: ResourceType, obj: dict) -> dict:
    meta = obj["metadata"]
    spec_path = ((rt.crd or {}).get("subresources", {}).get("scale", {}).get("specReplicasPath")
                 or ".spec.replicas").strip(".").split(".")
    cur: Any = obj
    for p in spec_path:
        cur = (cur or {}).get(p) if isinstance(cur, dict) else None
    selector = (obj.get("spec") or {}).get("selector")
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": cur or 0},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       **({"selector": selector_to_string(selector)} if isinstance(selector, dict) else {})}}
