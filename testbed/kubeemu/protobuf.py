"""Decoding of the Kubernetes protobuf wire format for the messages clients send that way:
helm's release Secrets (POST/PUT), DeleteOptions, and `kubectl create configmap|namespace`. The body is `k8s\\0` + runtime.Unknown{typeMeta, raw},
raw being the message itself (field numbers from k8s.io/api/core/v1/generated.proto and
k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto). Responses are always JSON, which clients accept."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any, Callable

MAGIC = b"k8s\x00"


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def fields(buf: bytes) -> list[tuple[int, Any]]:
    """(field number, value) pairs; length-delimited values stay bytes, varints are ints."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            val, i = buf[i:i + n], i + n
        elif wt == 1:
            val, i = int.from_bytes(buf[i:i + 8], "little"), i + 8
        elif wt == 5:
            val, i = int.from_bytes(buf[i:i + 4], "little"), i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wt}")
        out.append((num, val))
    return out


def _s(b: bytes) -> str:
    return b.decode("utf-8")


def _map(entries: list[bytes], value: Callable[[bytes], Any] = _s) -> dict:
    out = {}
    for e in entries:
        kv = dict(fields(e))
        out[_s(kv.get(1, b""))] = value(kv.get(2, b""))
    return out


def _time(b: bytes) -> str:
    kv = dict(fields(b))
    return dt.datetime.fromtimestamp(kv.get(1, 0), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _owner_ref(b: bytes) -> dict:
    kv = dict(fields(b))
    out = {"apiVersion": _s(kv.get(5, b"")), "kind": _s(kv.get(1, b"")), "name": _s(kv.get(3, b"")),
           "uid": _s(kv.get(4, b""))}
    if 6 in kv:
        out["controller"] = bool(kv[6])
    if 7 in kv:
        out["blockOwnerDeletion"] = bool(kv[7])
    return out


def object_meta(buf: bytes) -> dict:
    meta: dict[str, Any] = {}
    labels, annotations, owners, finalizers = [], [], [], []
    strings = {1: "name", 2: "generateName", 3: "namespace", 5: "uid", 6: "resourceVersion"}
    for num, val in fields(buf):
        if num in strings and val:
            meta[strings[num]] = _s(val)
        elif num == 7:
            meta["generation"] = val
        elif num == 8:
            if val:
                meta["creationTimestamp"] = _time(val)
        elif num == 9:
            meta["deletionTimestamp"] = _time(val)
        elif num == 10:
            meta["deletionGracePeriodSeconds"] = _signed(val)
        elif num == 11:
            labels.append(val)
        elif num == 12:
            annotations.append(val)
        elif num == 13:
            owners.append(_owner_ref(val))
        elif num == 14:
            finalizers.append(_s(val))
    if labels:
        meta["labels"] = _map(labels)
    if annotations:
        meta["annotations"] = _map(annotations)
    if owners:
        meta["ownerReferences"] = owners
    if finalizers:
        meta["finalizers"] = finalizers
    return meta


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _keyed_object(buf: bytes, kind: str, maps: dict[int, tuple[str, Callable[[bytes], Any]]],
                  scalars: dict[int, tuple[str, Callable[[bytes], Any]]]) -> dict:
    """A v1 object made of metadata (field 1), string-keyed maps and scalars: Secret, ConfigMap."""
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind}
    entries: dict[int, list[bytes]] = {num: [] for num in maps}
    for num, val in fields(buf):
        if num == 1:
            obj["metadata"] = object_meta(val)
        elif num in maps:
            entries[num].append(val)
        elif num in scalars:
            key, convert = scalars[num]
            obj[key] = convert(val)
    for num, (key, convert) in maps.items():
        if entries[num]:
            obj[key] = _map(entries[num], convert)
    return obj


def _secret(buf: bytes) -> dict:
    return _keyed_object(buf, "Secret", maps={2: ("data", _b64), 4: ("stringData", _s)},
                         scalars={3: ("type", _s), 5: ("immutable", bool)})


def _configmap(buf: bytes) -> dict:
    return _keyed_object(buf, "ConfigMap", maps={2: ("data", _s), 3: ("binaryData", _b64)},
                         scalars={4: ("immutable", bool)})


def _namespace(buf: bytes) -> dict:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace"}
    for num, val in fields(buf):
        if num == 1:
            obj["metadata"] = object_meta(val)
        elif num == 2:
            fins = [_s(v) for n, v in fields(val) if n == 1]
            if fins:
                obj["spec"] = {"finalizers": fins}
    return obj


def _delete_options(buf: bytes) -> dict:
    obj: dict[str, Any] = {"apiVersion": "meta.k8s.io/v1", "kind": "DeleteOptions"}
    dry = []
    for num, val in fields(buf):
        if num == 1:
            obj["gracePeriodSeconds"] = _signed(val)
        elif num == 2:
            pre = dict(fields(val))
            obj["preconditions"] = {k: _s(pre[n]) for n, k in ((1, "uid"), (2, "resourceVersion")) if n in pre}
        elif num == 3:
            obj["orphanDependents"] = bool(val)
        elif num == 4:
            obj["propagationPolicy"] = _s(val)
        elif num == 5:
            dry.append(_s(val))
    if dry:
        obj["dryRun"] = dry
    return obj


DECODERS: dict[str, Callable[[bytes], dict]] = {"Secret": _secret, "ConfigMap": _configmap, "Namespace": _namespace,
                                                "DeleteOptions": _delete_options}


def decode(body: bytes) -> dict:
    if not body.startswith(MAGIC):
        raise ValueError("protobuf body lacks the k8s\\0 prefix")
    unknown = dict(fields(body[len(MAGIC):]))
    type_meta = dict(fields(unknown.get(1, b"")))
    kind = _s(type_meta.get(2, b""))
    decoder = DECODERS.get(kind)
    if decoder is None:
        raise ValueError(f"protobuf decoding of kind {kind!r} is not supported by the emulator")
    return decoder(unknown.get(2, b""))
