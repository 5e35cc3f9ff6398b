"""A small plugin used by test_simulation.py (loaded with --plugin tests.plugin_sample)."""

from __future__ import annotations

from kubeemu.plugin import AdmissionDenied, AdmissionHook, ClusterAPI, Controller


class DenyLabelled(AdmissionHook):
    name = "deny-labelled"
    admits = {("v1", "ConfigMap", "CREATE"), ("v1", "ConfigMap", "UPDATE")}

    def admit(self, api: ClusterAPI, operation: str, obj: dict, old: dict | None) -> None:
        if (obj["metadata"].get("labels") or {}).get("deny") == "true":
            raise AdmissionDenied(400, "BadRequest", 'admission webhook "deny.example.com" denied the request: '
                                  "label deny=true is not allowed")
        if old and (old["metadata"].get("annotations") or {}).get("frozen") == "true":
            raise AdmissionDenied(400, "BadRequest", 'admission webhook "deny.example.com" denied the request: '
                                  "the object is frozen")


class WidgetStatus(Controller):
    name = "widget-status"
    watches = {("example.com/v1", "Widget")}

    def reconcile(self, api: ClusterAPI) -> None:
        for w in api.list("example.com/v1", "Widget"):
            if (w.get("status") or {}).get("phase") != "Ready":
                w["status"] = {"phase": "Ready"}
                api.update_status(w)
                api.event(w, "Ready", "widget is ready")


class CrashingPods:
    name = "crashing-pods"
    watches: set = set()

    def pod_state(self, api: ClusterAPI, pod: dict, node: dict) -> dict | None:
        if (pod["metadata"].get("labels") or {}).get("crash") == "true":
            return {"phase": "Running", "ready": False, "restartCount": 3, "containerState": {
                "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}}}
        return None


def register(options: dict):
    return [WidgetStatus()], [DenyLabelled()], [CrashingPods()]
