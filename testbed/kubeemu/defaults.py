"""Defaulting the API server applies to built-in kinds (pkg/apis/*/v1/defaults.go and admission plugins
such as ServiceAccount, DefaultTolerationSeconds and DefaultStorageClass). Clients depend on some of it:
helm 3's waiter dereferences Deployment spec.replicas and strategy.rollingUpdate.maxUnavailable, kstatus
(helm 4) wants spec.progressDeadlineSeconds. Defaulting is idempotent, so re-applying a manifest yields
the same object and no-op writes stay no-ops."""

from __future__ import annotations

import base64
import ipaddress
import itertools
from typing import Any, Callable


def _sd(d: dict, key: str, value: Any) -> Any:
    if d.get(key) is None:
        d[key] = value
    return d[key]


def _container(c: dict) -> None:
    image = c.get("image") or ""
    tag = image.rsplit("/", 1)[-1]
    latest = "@" not in image and (":" not in tag or tag.endswith(":latest"))
    _sd(c, "imagePullPolicy", "Always" if latest else "IfNotPresent")
    _sd(c, "terminationMessagePath", "/dev/termination-log")
    _sd(c, "terminationMessagePolicy", "File")
    _sd(c, "resources", {})
    for p in c.get("ports") or []:
        _sd(p, "protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        pr = c.get(probe)
        if isinstance(pr, dict):
            for k, v in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1),
                         ("failureThreshold", 3)):
                _sd(pr, k, v)
            if isinstance(pr.get("httpGet"), dict):
                _sd(pr["httpGet"], "scheme", "HTTP")
                _sd(pr["httpGet"], "path", "/")
    for env in c.get("env") or []:
        ref = (env.get("valueFrom") or {}).get("fieldRef")
        if isinstance(ref, dict):
            _sd(ref, "apiVersion", "v1")


def pod_spec(spec: dict) -> None:
    _sd(spec, "restartPolicy", "Always")
    _sd(spec, "terminationGracePeriodSeconds", 30)
    _sd(spec, "dnsPolicy", "ClusterFirst")
    _sd(spec, "securityContext", {})
    _sd(spec, "schedulerName", "default-scheduler")
    for c in itertools.chain(spec.get("containers") or [], spec.get("initContainers") or []):
        _container(c)
    for v in spec.get("volumes") or []:
        for src, mode in (("configMap", 420), ("secret", 420), ("projected", 420), ("downwardAPI", 420)):
            if isinstance(v.get(src), dict):
                _sd(v[src], "defaultMode", mode)
        if isinstance(v.get("hostPath"), dict):
            _sd(v["hostPath"], "type", "")


def _template(spec: dict) -> None:
    tpl = spec.get("template")
    if isinstance(tpl, dict) and isinstance(tpl.get("spec"), dict):
        pod_spec(tpl["spec"])
        _sd(tpl, "metadata", {})


def pod(obj: dict, create: bool) -> None:
    spec = obj.setdefault("spec", {})
    pod_spec(spec)
    _sd(spec, "enableServiceLinks", True)
    _sd(spec, "priority", 0)
    _sd(spec, "preemptionPolicy", "PreemptLowerPriority")
    if create:
        sa = _sd(spec, "serviceAccountName", "default")
        _sd(spec, "serviceAccount", sa)
        tols = spec.setdefault("tolerations", [])
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if not any(t.get("key") == key for t in tols):
                tols.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}


def qos_class(spec: dict) -> str:
    requests = limits = False
    guaranteed = True
    for c in spec.get("containers") or []:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        requests |= bool(req)
        limits |= bool(lim)
        for r in ("cpu", "memory"):
            if r not in lim or (r in req and req[r] != lim[r]):
                guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def deployment(obj: dict, create: bool) -> None:
    spec = obj.setdefault("spec", {})
    _sd(spec, "replicas", 1)
    _sd(spec, "revisionHistoryLimit", 10)
    _sd(spec, "progressDeadlineSeconds", 600)
    strategy = _sd(spec, "strategy", {})
    _sd(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = _sd(strategy, "rollingUpdate", {})
        _sd(ru, "maxUnavailable", "25%")
        _sd(ru, "maxSurge", "25%")
    _template(spec)


def replicaset(obj: dict, create: bool) -> None:
    spec = obj.setdefault("spec", {})
    _sd(spec, "replicas", 1)
    _template(spec)


def statefulset(obj: dict, create: bool) -> None:
    spec = obj.setdefault("spec", {})
    _sd(spec, "replicas", 1)
    _sd(spec, "podManagementPolicy", "OrderedReady")
    _sd(spec, "revisionHistoryLimit", 10)
    us = _sd(spec, "updateStrategy", {})
    _sd(us, "type", "RollingUpdate")
    if us["type"] == "RollingUpdate":
        _sd(_sd(us, "rollingUpdate", {}), "partition", 0)
    for pvc in spec.get("volumeClaimTemplates") or []:
        _sd(pvc, "apiVersion", "v1")
        _sd(pvc, "kind", "PersistentVolumeClaim")
        _sd(_sd(pvc, "spec", {}), "volumeMode", "Filesystem")
        _sd(pvc, "status", {"phase": "Pending"})
    _template(spec)


def daemonset(obj: dict, create: bool) -> None:
    spec = obj.setdefault("spec", {})
    _sd(spec, "revisionHistoryLimit", 10)
    us = _sd(spec, "updateStrategy", {})
    _sd(us, "type", "RollingUpdate")
    if us["type"] == "RollingUpdate":
        ru = _sd(us, "rollingUpdate", {})
        _sd(ru, "maxUnavailable", 1)
        _sd(ru, "maxSurge", 0)
    _template(spec)


def job(obj: dict, create: bool) -> None:
    spec = obj.setdefault("spec", {})
    for k, v in (("backoffLimit", 6), ("completions", 1), ("parallelism", 1), ("completionMode", "NonIndexed"),
                 ("suspend", False)):
        _sd(spec, k, v)
    _template(spec)


def job_selector(obj: dict, version: str) -> None:
    """generateSelector of the job strategy (unless spec.manualSelector): pod template labels controller-uid and
    job-name, selector on the uid; from 1.27 also the batch.kubernetes.io/ labels, and the selector uses that one."""
    spec = obj.setdefault("spec", {})
    if spec.get("manualSelector"):
        return
    uid, name = obj["metadata"]["uid"], obj["metadata"]["name"]
    try:
        minor = int(version.lstrip("v").split(".")[1])
    except (IndexError, ValueError):
        minor = 25
    labels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
    if labels is None:
        labels = spec["template"]["metadata"]["labels"] = {}
    prefixed = minor >= 27
    if prefixed:
        labels.setdefault("batch.kubernetes.io/controller-uid", uid)
        labels.setdefault("batch.kubernetes.io/job-name", name)
    labels.setdefault("controller-uid", uid)
    labels.setdefault("job-name", name)
    selector = spec.get("selector") or {}
    spec["selector"] = selector
    match = selector.get("matchLabels") or {}
    selector["matchLabels"] = match
    match.setdefault("batch.kubernetes.io/controller-uid" if prefixed else "controller-uid", uid)


def namespace(obj: dict, create: bool) -> None:
    name = obj["metadata"]["name"]
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    spec = obj.setdefault("spec", {})
    if create:
        spec.setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}


def secret(obj: dict, create: bool) -> None:
    _sd(obj, "type", "Opaque")
    string_data = obj.pop("stringData", None)
    if string_data:
        data = obj.setdefault("data", {})
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()


def pvc(obj: dict, create: bool) -> None:
    spec = obj.setdefault("spec", {})
    _sd(spec, "volumeMode", "Filesystem")
    if create:
        obj["status"] = {"phase": "Pending"}


def pv(obj: dict, create: bool) -> None:
    spec = obj.setdefault("spec", {})
    _sd(spec, "persistentVolumeReclaimPolicy", "Retain")
    _sd(spec, "volumeMode", "Filesystem")
    if create:
        obj.setdefault("status", {"phase": "Pending"})


def storageclass(obj: dict, create: bool) -> None:
    _sd(obj, "reclaimPolicy", "Delete")
    _sd(obj, "volumeBindingMode", "Immediate")


def webhook_config(obj: dict, create: bool) -> None:
    for wh in obj.get("webhooks") or []:
        for k, v in (("failurePolicy", "Fail"), ("matchPolicy", "Equivalent"), ("namespaceSelector", {}),
                     ("objectSelector", {}), ("timeoutSeconds", 10)):
            _sd(wh, k, v)
        if obj.get("kind") == "MutatingWebhookConfiguration":
            _sd(wh, "reinvocationPolicy", "Never")
        for rule in wh.get("rules") or []:
            _sd(rule, "scope", "*")
        svc = (wh.get("clientConfig") or {}).get("service")
        if isinstance(svc, dict):
            _sd(svc, "port", 443)


def crd(obj: dict, create: bool) -> None:
    spec = obj.setdefault("spec", {})
    _sd(spec, "conversion", {"strategy": "None"})
    names = _sd(spec, "names", {})
    if names.get("kind"):
        _sd(names, "listKind", names["kind"] + "List")
    if names.get("plural"):
        _sd(names, "singular", names["kind"].lower() if names.get("kind") else names["plural"])


class ServiceIPs:
    """ClusterIP and NodePort allocation (10.96.0.0/12, 30000-32767) like the service registry."""

    def __init__(self) -> None:
        self._ips = ipaddress.ip_network("10.96.0.0/12").hosts()
        next(self._ips)  # 10.96.0.1 belongs to the `kubernetes` service
        self._node_ports = iter(range(30000, 32768))

    def service(self, obj: dict, create: bool, old: dict | None = None) -> None:
        spec = obj.setdefault("spec", {})
        _sd(spec, "type", "ClusterIP")
        _sd(spec, "sessionAffinity", "None")
        old_spec = (old or {}).get("spec") or {}
        if spec["type"] != "ExternalName":
            if not spec.get("clusterIP"):
                spec["clusterIP"] = old_spec.get("clusterIP") or str(next(self._ips))
            if spec["clusterIP"] != "None" or not spec.get("clusterIPs"):
                spec["clusterIPs"] = [spec["clusterIP"]]
            _sd(spec, "ipFamilies", ["IPv4"])
            _sd(spec, "ipFamilyPolicy", "SingleStack")
            _sd(spec, "internalTrafficPolicy", "Cluster")
        old_ports = {p.get("port"): p for p in old_spec.get("ports") or []}
        for p in spec.get("ports") or []:
            _sd(p, "protocol", "TCP")
            if spec["type"] != "ExternalName":
                _sd(p, "targetPort", p.get("port"))
            if spec["type"] in ("NodePort", "LoadBalancer") and not p.get("nodePort"):
                p["nodePort"] = old_ports.get(p.get("port"), {}).get("nodePort") or next(self._node_ports)
        if spec["type"] in ("NodePort", "LoadBalancer"):
            _sd(spec, "externalTrafficPolicy", "Cluster")
        if create:
            obj["status"] = {"loadBalancer": {}}


DEFAULTERS: dict[tuple[str, str], Callable[[dict, bool], None]] = {
    ("v1", "Pod"): pod,
    ("v1", "Namespace"): namespace,
    ("v1", "Secret"): secret,
    ("v1", "PersistentVolumeClaim"): pvc,
    ("v1", "PersistentVolume"): pv,
    ("v1", "ReplicationController"): replicaset,
    ("v1", "PodTemplate"): lambda obj, create: _template(obj),
    ("batch/v1", "CronJob"): lambda obj, create: job(obj.get("spec", {}).get("jobTemplate") or {}, create),
    ("apps/v1", "Deployment"): deployment,
    ("apps/v1", "ReplicaSet"): replicaset,
    ("apps/v1", "StatefulSet"): statefulset,
    ("apps/v1", "DaemonSet"): daemonset,
    ("batch/v1", "Job"): job,
    ("storage.k8s.io/v1", "StorageClass"): storageclass,
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"): webhook_config,
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"): webhook_config,
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): crd,
}
