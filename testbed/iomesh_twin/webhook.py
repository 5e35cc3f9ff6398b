"""The IOMesh operator's validating webhook, as the API server experiences it (docs/pitfalls.md P10).

The API server consults every ValidatingWebhookConfiguration whose rules cover CREATE/UPDATE of
iomesh.com iomeshclusters (the chart's `iomesh-validating-webhook-configuration`). For each webhook it
calls the referenced Service:

* Service missing                -> 500 InternalError "... service \"iomesh-webhook\" not found"
* no ready pod behind the Service (operator Deployment not available)
                                 -> 500 InternalError "... dial tcp <clusterIP>:443: connect: connection refused"
  (with failurePolicy Ignore the request passes instead);
* reachable (a ready operator pod) -> the operator validates the object; a rejection is
  403 Forbidden "admission webhook \"validate-iomeshcluster.iomesh.com\" denied the request: ...".

Without a webhook configuration nothing is checked, as on a real cluster.
"""

from __future__ import annotations

from kubeemu.plugin import AdmissionDenied, AdmissionHook

from .util import IOMESH_AV, pod_ready, selector_matches

# Mount types the devicemanager knows and the ones each diskDeploymentMode rejects (CRD description:
# all-flash rejects cache partitions, hybrid rejects dataStoreWithJournal).
MODE_FORBIDDEN = {"hybridFlash": ("dataStoreWithJournal",), "allFlash": ("cacheWithJournal", "rawCache")}


def _rule_matches(rule: dict, operation: str) -> bool:
    def has(field: str, value: str) -> bool:
        vals = rule.get(field) or []
        return "*" in vals or value in vals
    return has("apiGroups", "iomesh.com") and has("apiVersions", "v1alpha1") and \
        has("resources", "iomeshclusters") and has("operations", operation)


def spec_problems(obj: dict) -> list[str]:
    """What the operator's webhook rejects in an IOMeshCluster spec."""
    spec = obj.get("spec") or {}
    mode = spec.get("diskDeploymentMode") or "hybridFlash"
    problems = []
    for mount_type in sorted(((spec.get("chunk") or {}).get("deviceMap") or {})):
        if mount_type in MODE_FORBIDDEN.get(mode, ()):
            problems.append(f"mount type {mount_type} is not allowed when diskDeploymentMode is {mode}")
    return problems


class IOMeshClusterWebhook(AdmissionHook):
    name = "iomesh-twin-webhook"
    admits = {(IOMESH_AV, "IOMeshCluster", "CREATE"), (IOMESH_AV, "IOMeshCluster", "UPDATE")}

    def admit(self, api, operation: str, obj: dict, old: dict | None) -> None:
        for config in api.list("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"):
            for hook in config.get("webhooks") or []:
                if not any(_rule_matches(r, operation) for r in hook.get("rules") or []):
                    continue
                if not self._namespace_selected(api, hook, obj):
                    continue
                self._call(api, hook, obj)

    @staticmethod
    def _namespace_selected(api, hook: dict, obj: dict) -> bool:
        sel = hook.get("namespaceSelector")
        if not sel:
            return True
        ns = api.get("v1", "Namespace", obj["metadata"].get("namespace") or "default")
        return selector_matches(sel, (ns or {}).get("metadata", {}).get("labels"))

    @staticmethod
    def _call(api, hook: dict, obj: dict) -> None:
        name = hook.get("name", "")
        cc = hook.get("clientConfig") or {}
        svc_ref = cc.get("service")
        fail = (hook.get("failurePolicy") or "Fail") == "Fail"
        if not svc_ref:
            return  # a URL webhook: nothing in the testbed answers there; not modelled
        svc_ns, svc_name = svc_ref.get("namespace"), svc_ref.get("name")
        port = svc_ref.get("port", 443)
        path = svc_ref.get("path", "")
        timeout = hook.get("timeoutSeconds", 10)
        url = f"https://{svc_name}.{svc_ns}.svc:{port}{path}?timeout={timeout}s"
        prefix = f'Internal error occurred: failed calling webhook "{name}": failed to call webhook: Post "{url}": '
        svc = api.get("v1", "Service", svc_name, svc_ns)
        if svc is None:
            if fail:
                raise AdmissionDenied(500, "InternalError", prefix + f'service "{svc_name}" not found')
            return
        backends = [p for p in api.list("v1", "Pod", svc_ns)
                    if svc["spec"].get("selector") and selector_matches({"matchLabels": svc["spec"]["selector"]},
                                                                        p["metadata"].get("labels"))
                    and p["spec"].get("nodeName") and pod_ready(p) and not p["metadata"].get("deletionTimestamp")]
        if not backends:
            if fail:
                raise AdmissionDenied(500, "InternalError", prefix + f"dial tcp {svc['spec'].get('clusterIP')}:"
                                      f"{port}: connect: connection refused")
            return
        problems = spec_problems(obj)
        if problems:
            raise AdmissionDenied(403, "Forbidden", f'admission webhook "{name}" denied the request: '
                                  + "; ".join(problems))
