"""Plugin contract (see ../PLUGIN_CONTRACT.md): controllers, admission hooks and pod hooks, and the
ClusterAPI handed to them. All objects crossing this boundary are plain dicts, copied both ways."""

from __future__ import annotations

import copy
import importlib
import uuid
from typing import Any, Protocol

from .apiserver import ApiServer, Ctx, now
from .errors import ApiError
from .settings import RuntimeSettings

__all__ = ["AdmissionDenied", "AdmissionHook", "ApiError", "ClusterAPI", "Controller", "PodHook", "load_plugins"]


class AdmissionDenied(Exception):
    """Raised by an admission hook. The emulator answers with a Status of this code/reason/message
    (a real API server answers 500 InternalError 'failed calling webhook ...' when the webhook's service
    has no ready endpoints, and 400/403 '... denied the request: ...' when the webhook says no)."""

    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


class Controller:
    name: str = "controller"
    watches: set[tuple[str, str]] = set()  # (apiVersion, kind); "*" matches any

    def reconcile(self, api: ClusterAPI) -> float | None:
        """Level-triggered: look at the whole state, converge it. May return the seconds after which it wants to
        run again although nothing is written (a timer: a container exits, a deadline passes)."""
        raise NotImplementedError


class AdmissionHook:
    name: str = "admission"
    admits: set[tuple[str, str, str]] = set()  # (apiVersion, kind, CREATE|UPDATE|DELETE)

    def admit(self, api: ClusterAPI, operation: str, obj: dict, old: dict | None) -> None:
        raise NotImplementedError


class PodHook(Protocol):
    """Decides what the simulated kubelet reports for a scheduled pod. Return None for no opinion;
    the first hook with an opinion wins, the default being Running and Ready."""
    name: str
    watches: set[tuple[str, str]]  # writes to these kinds re-evaluate pods (may be empty)

    def pod_state(self, api: ClusterAPI, pod: dict, node: dict) -> dict | None: ...


class ClusterAPI:
    """Implemented by the emulator and handed to plugins. Writes skip admission hooks. `update` and
    `update_status` are optimistic like a real client: a stale metadata.resourceVersion raises ApiError
    409 Conflict (the runner re-runs the controller); drop resourceVersion for an unconditional write.
    `delete` of a missing object is a no-op. Errors surface as kubeemu.errors.ApiError."""

    def __init__(self, server: ApiServer, config: dict, manager: str = "kubeemu",
                 settings: RuntimeSettings | None = None):
        self._server, self.config, self._manager = server, config, manager
        self._settings = settings or RuntimeSettings(config)

    def settings(self, section: str) -> dict:
        """A section of the testbed config as it is now: the start config's with the runtime overrides a test set
        through /_testbed/settings/<section> merged over it (a copy; read it each time, it may change)."""
        return self._settings.get(section)

    def _ctx(self) -> Ctx:
        return Ctx(manager=self._manager, default_manager=self._manager, client=False)

    def _rt(self, api_version: str, kind: str):
        rt = self._server.registry.by_kind(api_version, kind)
        if rt is None:
            raise ApiError(404, "NotFound", f"no resource for {api_version}, Kind={kind}")
        return rt

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        rt = self._rt(api_version, kind)
        obj = self._server.store.get(rt.group, rt.plural, namespace if rt.namespaced else None, name)
        return copy.deepcopy(self._server.present(rt, obj)) if obj else None

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: str | None = None) -> list[dict]:
        rt = self._rt(api_version, kind)
        out = self._server.list(rt, namespace, label_selector)["items"]
        return [copy.deepcopy({"apiVersion": rt.api_version, "kind": rt.kind, **o}) for o in out]

    def create(self, obj: dict) -> dict:
        rt = self._rt(obj["apiVersion"], obj["kind"])
        ns = obj.get("metadata", {}).get("namespace")
        return copy.deepcopy(self._server.create(rt, ns, obj, self._ctx()))

    def update(self, obj: dict) -> dict:
        rt = self._rt(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        return copy.deepcopy(self._server.update(rt, meta.get("namespace"), meta["name"], obj, self._ctx()))

    def update_status(self, obj: dict) -> dict:
        rt = self._rt(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        sub = "status" if "status" in rt.subresources else None
        return copy.deepcopy(self._server.update(rt, meta.get("namespace"), meta["name"], obj, self._ctx(), sub))

    def patch_merge(self, api_version: str, kind: str, name: str, namespace: str | None, patch: dict) -> dict:
        import json
        rt = self._rt(api_version, kind)
        obj, _ = self._server.patch(rt, namespace, name, "application/merge-patch+json",
                                    json.dumps(patch).encode(), self._ctx())
        return copy.deepcopy(obj)

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> None:
        rt = self._rt(api_version, kind)
        try:
            self._server.delete(rt, namespace, name, {}, self._ctx())
        except ApiError as e:
            if e.code != 404:
                raise

    def event(self, involved: dict, reason: str, message: str, type: str = "Normal") -> None:
        meta = involved.get("metadata", {})
        ts = now()
        ns = meta.get("namespace") or "default"
        self.create({"apiVersion": "v1", "kind": "Event", "metadata": {
            "name": f"{meta.get('name', 'object')}.{uuid.uuid4().hex[:16]}", "namespace": ns},
            "involvedObject": {"apiVersion": involved.get("apiVersion"), "kind": involved.get("kind"),
                               "name": meta.get("name"), "namespace": meta.get("namespace"),
                               "uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion")},
            "reason": reason, "message": message, "type": type, "count": 1, "firstTimestamp": ts,
            "lastTimestamp": ts, "source": {"component": self._manager}, "reportingComponent": self._manager})

    def now(self) -> str:
        return now()


def load_plugins(modules: list[str], options: dict[str, Any]) -> tuple[list, list, list]:
    """Import each module and call register(options) -> (controllers, admission_hooks[, pod_hooks])."""
    controllers, hooks, pod_hooks = [], [], []
    for name in modules:
        result = importlib.import_module(name).register(options)
        controllers += list(result[0])
        hooks += list(result[1])
        if len(result) > 2:
            pod_hooks += list(result[2])
    return controllers, hooks, pod_hooks
