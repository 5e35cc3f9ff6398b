# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a Kubernetes API call failed, in one line, taken from the Kubernetes Python client's own error text.

The client's messages are long: urllib3 wraps a refused connection in `HTTPConnectionPool(host=..., port=...): Max
retries exceeded with url: ... (Caused by NewConnectionError(...))`, and an error answer of the API server repeats
the response headers, the body and a traceback. What a person needs is the innermost cause (`Failed to establish a
new connection: [Errno 111] Connection refused`, the TLS verification error, the timeout) or the API server's
status (`401 Unauthorized`), so that is what is kept, in the client's words; anything else is kept whole, on one
line and shortened only when very long.
"""

from __future__ import annotations

import json
import re

# What ansible-core puts before a module's message when it reports the failure itself.
_ANSIBLE_PREFIX = re.compile(r"^(?:Task failed: )?(?:(?:Module|Action) failed: )?")
# kubernetes.client.ApiException ("(401)") and kubernetes.dynamic's errors ("401"): code, reason, headers, body.
_API_STATUS = re.compile(r"^\(?(?P<code>\d{1,3})\)?[ \t]*\nReason: (?P<reason>[^\n]*)(?P<rest>.*)$", re.S)
_BODY = re.compile(r"\nHTTP response body: (?P<body>.*?)(?:\nOriginal traceback:|\Z)", re.S)
# urllib3's MaxRetryError, ReadTimeoutError, ...: "HTTPSConnectionPool(host='h', port=6443): <what happened>".
_POOL = re.compile(r"^HTTPS?ConnectionPool\(host=[^,]*, port=\d+\): (?P<rest>.*)$", re.S)
_CAUSED_BY = re.compile(r"\(Caused by (?P<error>\w+)\((?P<args>.*)\)\)", re.S)
# The connection objects urllib3 1.x and 2.x name in their messages: noise once the server is known.
_CONNECTION = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>(?::[ \t]*)?|\bHTTPS?Connection\(host=[^)]*\)(?::[ \t]*)?")
_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")
_SSL_SOURCE = re.compile(r"\s*\(_ssl\.c:\d+\)")
_TRACEBACK = re.compile(r"\n(?:Original traceback:|Traceback \(most recent call last\):).*", re.S)
MAX_LENGTH = 300


def _one_line(text: str) -> str:
    text = " ".join(_TRACEBACK.sub("", text).split())
    return text if len(text) <= MAX_LENGTH else text[:MAX_LENGTH - 3].rstrip() + "..."


def _status(code: str, reason: str, rest: str) -> str:
    """An error answer of the API server: `401 Unauthorized`, `403 Forbidden: <the server's message>`."""
    reason = reason.strip()
    if code == "0":  # no answer at all: the client puts the connection error in Reason
        return _one_line(reason)
    body = _BODY.search(rest)
    message = ""
    if body:
        text = body.group("body").strip()
        try:
            status = json.loads(text)
            message = str(status.get("message") or "") if isinstance(status, dict) else ""
        except ValueError:
            message = text if "\n" not in text and "<" not in text else ""
    found = f"{code} {reason}".strip()
    return _one_line(f"{found}: {message}" if message and message != reason else found)


def _connection(rest: str) -> str:
    """urllib3's account of a failed request: its innermost cause, in its words, without object representations."""
    caused = _CAUSED_BY.search(rest)
    if not caused:  # e.g. "Read timed out. (read timeout=5)"
        return _one_line(_SSL_SOURCE.sub("", _CONNECTION.sub("", rest)))
    error, args = caused.group("error"), _CONNECTION.sub("", caused.group("args"))
    parts = []
    for literal in _LITERAL.finditer(args):
        part = _SSL_SOURCE.sub("", literal.group(1) if literal.group(1) is not None else literal.group(2)).strip()
        if part and part not in parts:
            parts.append(part)
    # ProtocolError('Connection aborted.', RemoteDisconnected('Remote end closed ...')): outer words, then inner.
    detail = ": ".join([p.rstrip(".") for p in parts[:-1]] + parts[-1:]) if parts else f"{error}({args.strip()})"
    return _one_line(f"TLS error: {detail}" if error == "SSLError" else detail)


def reason(message: str) -> str:
    """The reason in `message` (the text of a failed Kubernetes client call), on one line."""
    text = _ANSIBLE_PREFIX.sub("", str(message).strip(), count=1)
    status = _API_STATUS.match(text)
    if status:
        return _status(status.group("code"), status.group("reason"), status.group("rest"))
    pool = _POOL.match(text)
    if pool:
        return _connection(pool.group("rest"))
    return _one_line(text)
