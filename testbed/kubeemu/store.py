"""In-memory object store: one global resourceVersion counter, watch fan-out and a bounded event
history for watches that resume from a resourceVersion.

Stored dicts are never mutated after being put: writers build a new dict, so readers may share them
and only serialise."""

from __future__ import annotations

import collections
import queue
import threading
from dataclasses import dataclass, field
from typing import Callable

Key = tuple[str, str]  # (group, plural)
ObjKey = tuple[str, str]  # (namespace or "", name)

HISTORY = 20000


@dataclass
class Event:
    type: str  # ADDED, MODIFIED, DELETED
    group: str
    plural: str
    obj: dict
    old: dict | None
    rv: int


@dataclass
class Watcher:
    group: str
    plural: str
    namespace: str | None
    match: Callable[[dict], bool]
    q: queue.Queue = field(default_factory=queue.Queue)
    closed: bool = False


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._objects: dict[Key, dict[ObjKey, dict]] = collections.defaultdict(dict)
        self.rv = 1
        self._history: collections.deque[Event] = collections.deque(maxlen=HISTORY)
        self._watchers: list[Watcher] = []
        self.listeners: list[Callable[[Event], None]] = []

    # --- reads ---
    def get(self, group: str, plural: str, namespace: str | None, name: str) -> dict | None:
        return self._objects[(group, plural)].get((namespace or "", name))

    def list(self, group: str, plural: str, namespace: str | None = None) -> list[dict]:
        with self.lock:
            items = self._objects[(group, plural)]
            if namespace:
                return [o for (ns, _), o in sorted(items.items()) if ns == namespace]
            return [o for _, o in sorted(items.items())]

    def kinds(self) -> list[Key]:
        return [k for k, v in self._objects.items() if v]

    # --- writes (caller holds no invariant other than: obj is a fresh dict owned by the store) ---
    def put(self, group: str, plural: str, obj: dict) -> dict:
        with self.lock:
            meta = obj["metadata"]
            key = (meta.get("namespace") or "", meta["name"])
            old = self._objects[(group, plural)].get(key)
            self.rv += 1
            meta["resourceVersion"] = str(self.rv)
            self._objects[(group, plural)][key] = obj
            self._emit(Event("MODIFIED" if old else "ADDED", group, plural, obj, old, self.rv))
            return obj

    def remove(self, group: str, plural: str, obj: dict) -> dict | None:
        with self.lock:
            meta = obj["metadata"]
            old = self._objects[(group, plural)].pop((meta.get("namespace") or "", meta["name"]), None)
            if old is None:
                return None
            self.rv += 1
            gone = {**old, "metadata": {**old["metadata"], "resourceVersion": str(self.rv)}}
            self._emit(Event("DELETED", group, plural, gone, old, self.rv))
            return gone

    def _emit(self, ev: Event) -> None:
        self._history.append(ev)
        ns = ev.obj["metadata"].get("namespace")
        for w in self._watchers:
            if w.closed or w.group != ev.group or w.plural != ev.plural or (w.namespace and w.namespace != ns):
                continue
            out = _filtered(w, ev)
            if out:
                w.q.put(out)
        for listener in self.listeners:
            listener(ev)

    # --- watches ---
    def watch(self, w: Watcher, since_rv: int | None) -> list[tuple[str, dict]] | None:
        """Register a watcher; returns the events after since_rv to replay first, or None when that
        resourceVersion is older than the retained history (the client must relist: 410 Gone)."""
        with self.lock:
            replay: list[tuple[str, dict]] = []
            if since_rv is not None and since_rv < self.rv:
                if self._history and self._history[0].rv > since_rv + 1 and len(self._history) == HISTORY:
                    return None
                for ev in self._history:
                    if ev.rv > since_rv and ev.group == w.group and ev.plural == w.plural and (
                            not w.namespace or w.namespace == ev.obj["metadata"].get("namespace")):
                        out = _filtered(w, ev)
                        if out:
                            replay.append(out)
            self._watchers.append(w)
            return replay

    def unwatch(self, w: Watcher) -> None:
        with self.lock:
            w.closed = True
            if w in self._watchers:
                self._watchers.remove(w)


def _filtered(w: Watcher, ev: Event) -> tuple[str, dict] | None:
    """A watch with a selector sees an object leave (DELETED) or enter (ADDED) its selection."""
    now = w.match(ev.obj)
    if ev.type == "DELETED":
        return ("DELETED", ev.obj) if now else None
    before = ev.old is not None and w.match(ev.old)
    if now and before:
        return ("MODIFIED", ev.obj)
    if now:
        return ("ADDED", ev.obj)
    if before:
        return ("DELETED", ev.obj)
    return None
