"""The IOMesh operator's validating webhook, as the API server experiences it (docs/pitfalls.md P10).

The API server consults every ValidatingWebhookConfiguration whose rules cover CREATE/UPDATE of
iomesh.com iomeshclusters (the chart's `iomesh-validating-webhook-configuration`). For each webhook it
calls the referenced Service:

* Service missing                -> 500 InternalError "... service \"iomesh-webhook\" not found"
* no ready pod behind the Service (operator Deployment not available), or the webhook switched off with
  `iomeshTwin.webhookDown: true` (a testbed fault: the operator's webhook server cannot be reached although its
  pods look ready; switchable at runtime, /_testbed/settings/iomeshTwin)
                                 -> 500 InternalError "... dial tcp <clusterIP>:443: connect: connection refused"
  (with failurePolicy Ignore the request passes instead);
* a ready pod serves a certificate the API server does not trust (the webhook's caBundle does not hold the CA
  that pod serves, or there is no caBundle: the API server then uses the system roots)
                                 -> 500 InternalError "... tls: failed to verify certificate: x509: certificate
                                    signed by unknown authority" (failurePolicy Ignore: the request passes);
* reachable (a ready operator pod) -> the operator validates the object; a rejection is
  403 Forbidden "admission webhook \"validate-iomeshcluster.iomesh.com\" denied the request: ...".

Without a webhook configuration nothing is checked, as on a real cluster.

Serving certificate (ServingCerts). The real chart generates a new CA and serving certificate on every render,
so every `helm upgrade` rewrites Secret `iomesh-webhook-cert` (ca.crt, tls.crt, tls.key; in the webhook Service's
namespace) and the caBundle of the webhook configuration. An operator pod serves the Secret content it loaded
when it started (became ready); a change reaches it only after the kubelet synced the mounted Secret and the
operator's certificate watcher reloaded it, `iomeshTwin.webhookCertReloadSeconds` (default 60) after the
change, or when the pod is replaced. So right after an upgrade the API server trusts the new CA while the
operator still serves the old certificate. Certificates are compared by content (PEM blocks), not verified.
With several ready operator pods the call fails if any of them serves an untrusted certificate (on a cluster
the Service picks one at random, so such calls fail some of the time).
"""

from __future__ import annotations

import base64
import re
import threading
import time

from kubeemu.plugin import AdmissionDenied, AdmissionHook, Controller

from .util import IOMESH_AV, pod_ready, selector_matches, twin_settings

WEBHOOK_CERT_SECRET = "iomesh-webhook-cert"
DEFAULT_CERT_RELOAD_SECONDS = 60.0
UNKNOWN_AUTHORITY = "tls: failed to verify certificate: x509: certificate signed by unknown authority"
_PEM = re.compile(rb"-----BEGIN [A-Z0-9 ]+-----.*?-----END [A-Z0-9 ]+-----", re.S)

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


def pem_blocks(data: bytes) -> set[bytes]:
    """The PEM blocks in `data` without whitespace; data that holds no PEM block counts as one opaque block."""
    blocks = _PEM.findall(data) or ([data] if data.strip() else [])
    return {re.sub(rb"\s+", b"", b) for b in blocks}


def trusts(ca_bundle: str | None, served_ca: bytes) -> bool:
    """Whether a webhook's clientConfig.caBundle (base64 of PEM, as the API returns it) holds the CA that signed
    what the server serves (its ca.crt). Without a caBundle the API server uses the system roots, which never
    hold a CA the chart generated."""
    if not ca_bundle:
        return False
    try:
        bundle = base64.b64decode(ca_bundle, validate=True)
    except ValueError:
        return False
    return bool(pem_blocks(served_ca) & pem_blocks(bundle))


class ServingCerts:
    """The content of each webhook certificate Secret over time, when each operator pod became ready, and so
    what each pod serves. Times are taken when the twin sees a change (the Secret watcher runs right after a
    write, or after `--delay` for a client's write, like a kubelet's sync): object timestamps have whole seconds,
    too coarse to order a rotation and a pod start within the same second."""

    def __init__(self, reload_seconds: float = DEFAULT_CERT_RELOAD_SECONDS):
        self.reload_seconds = reload_seconds
        self._versions: dict[str, list[tuple[float, bytes]]] = {}  # namespace -> [(seen at, ca.crt)]
        self._ready: dict[str, dict[str, float]] = {}  # namespace -> pod uid -> ready since
        self._lock = threading.Lock()

    def namespaces(self) -> list[str]:
        with self._lock:
            return list(self._versions)

    def observe_secret(self, secret: dict, now: float) -> None:
        """Record the Secret's content if it differs from the last one seen (a deleted Secret records nothing:
        the kubelet keeps the files it last wrote)."""
        try:
            ca = base64.b64decode((secret.get("data") or {}).get("ca.crt") or "")
        except ValueError:
            ca = b""
        with self._lock:
            versions = self._versions.setdefault(secret["metadata"]["namespace"], [])
            if not versions or versions[-1][1] != ca:
                versions.append((now, ca))
                del versions[:-16]

    def observe_pods(self, namespace: str, pods: list[dict], now: float, complete: bool = True) -> None:
        """Note when each pod became ready; a pod that is not ready (any more) forgets it, so a restarted
        process loads the certificate anew. `complete`: `pods` are all pods of the namespace."""
        with self._lock:
            seen = self._ready.setdefault(namespace, {})
            ready = {p["metadata"]["uid"] for p in pods if pod_ready(p) and not p["metadata"].get("deletionTimestamp")}
            for uid in ready:
                seen.setdefault(uid, now)
            if complete:
                for uid in [u for u in seen if u not in ready]:
                    del seen[uid]

    def served(self, namespace: str, pod_uid: str, now: float) -> bytes | None:
        """The ca.crt of the certificate a ready pod serves at `now`: the content it loaded when it became
        ready, or a later one once the reload delay has passed since that change. None when the Secret never
        existed (the pod could not have mounted it)."""
        with self._lock:
            versions = list(self._versions.get(namespace) or [])
            since = (self._ready.get(namespace) or {}).get(pod_uid, now)
        if not versions:
            return None
        load = max(since, now - self.reload_seconds)
        chosen = versions[0][1]  # a pod that started before the Secret existed waited for it
        for at, ca in versions:
            if at <= load:
                chosen = ca
        return chosen


class WebhookCertWatcher(Controller):
    """Feeds ServingCerts: each content of every `iomesh-webhook-cert` Secret as it is written, and when the
    pods of those namespaces become ready."""
    name = "iomesh-twin-webhook-certs"
    watches = {("v1", "Secret"), ("v1", "Pod")}

    def __init__(self, certs: ServingCerts):
        self.certs = certs

    def reconcile(self, api) -> None:
        now = time.time()
        for secret in api.list("v1", "Secret"):
            if secret["metadata"]["name"] == WEBHOOK_CERT_SECRET:
                self.certs.observe_secret(secret, now)
        for ns in self.certs.namespaces():
            self.certs.observe_pods(ns, api.list("v1", "Pod", ns), now)


class IOMeshClusterWebhook(AdmissionHook):
    name = "iomesh-twin-webhook"
    admits = {(IOMESH_AV, "IOMeshCluster", "CREATE"), (IOMESH_AV, "IOMeshCluster", "UPDATE")}

    def __init__(self, certs: ServingCerts | None = None):
        self.certs = certs or ServingCerts()

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

    def _call(self, api, hook: dict, obj: dict) -> None:
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
        now = time.time()
        secret = api.get("v1", "Secret", WEBHOOK_CERT_SECRET, svc_ns)
        if secret is not None:
            self.certs.observe_secret(secret, now)  # writes the watcher has not seen yet
        self.certs.observe_pods(svc_ns, backends, now, complete=False)
        served = [self.certs.served(svc_ns, p["metadata"]["uid"], now) for p in backends]
        # no pod, or it cannot start without its Secret, or the testbed switched the webhook off
        if not backends or any(ca is None for ca in served) or twin_settings(api).get("webhookDown"):
            if fail:
                raise AdmissionDenied(500, "InternalError", prefix + f"dial tcp {svc['spec'].get('clusterIP')}:"
                                      f"{port}: connect: connection refused")
            return
        if not all(trusts(cc.get("caBundle"), ca) for ca in served):
            if fail:
                raise AdmissionDenied(500, "InternalError", prefix + UNKNOWN_AUTHORITY)
            return
        problems = spec_problems(obj)
        if problems:
            raise AdmissionDenied(403, "Forbidden", f'admission webhook "{name}" denied the request: '
                                  + "; ".join(problems))
