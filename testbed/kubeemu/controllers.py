"""The controller loop and the cluster-level built-in controllers (CRD establishment, namespace
deletion, garbage collection, a minimal PVC binder).

One thread runs every controller. A write to a watched kind schedules a reconcile: writes by API
clients `delay` seconds later (so clients' wait loops see intermediate states), writes by controllers
immediately, so a whole chain (Deployment -> ReplicaSet -> Pods -> scheduling -> readiness -> status)
becomes visible `delay` seconds after the client's write. Every `resync` seconds all controllers run.
A controller whose state changes with time alone returns the seconds after which it wants to run again."""

from __future__ import annotations

import logging
import threading
import time

from .apiserver import ApiServer
from .errors import ApiError
from .plugin import ClusterAPI, Controller

log = logging.getLogger("kubeemu.controllers")


def _watched(watches: set[tuple[str, str]], api_version: str, kind: str) -> bool:
    return any((av in ("*", api_version)) and (k in ("*", kind)) for av, k in watches)


class Runner:
    def __init__(self, server: ApiServer, cluster: ClusterAPI, delay: float = 0.0, resync: float = 5.0):
        self.server, self.cluster, self.delay, self.resync = server, cluster, delay, resync
        self.controllers: list[Controller] = []
        self._due: dict[int, float] = {}
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="kubeemu-controllers", daemon=True)
        server.store.listeners.append(self._on_event)

    def add(self, controller: Controller) -> None:
        self.controllers.append(controller)

    def start(self) -> None:
        for i in range(len(self.controllers)):
            self._schedule(i, time.monotonic())
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cv:
            self._cv.notify_all()

    def kick(self) -> None:
        """Run every controller now (runtime settings changed: what they do may have changed with them)."""
        now = time.monotonic()
        for i in range(len(self.controllers)):
            self._schedule(i, now)

    def _on_event(self, ev) -> None:  # runs under the store lock; must not block on controller work
        internal = threading.current_thread() is self.thread
        at = time.monotonic() + (0.0 if internal else self.delay)
        av, kind = ev.obj.get("apiVersion", ""), ev.obj.get("kind", "")
        for i, c in enumerate(self.controllers):
            if _watched(c.watches, av, kind):
                self._schedule(i, at)

    def _schedule(self, index: int, at: float) -> None:
        with self._cv:
            if index not in self._due or self._due[index] > at:
                self._due[index] = at
                self._cv.notify()

    def _loop(self) -> None:
        next_resync = time.monotonic() + self.resync
        while not self._stop.is_set():
            with self._cv:
                now = time.monotonic()
                if now >= next_resync:
                    for i in range(len(self.controllers)):
                        self._due.setdefault(i, now)
                    next_resync = now + self.resync
                ready = sorted(i for i, t in self._due.items() if t <= now)
                if not ready:
                    wake = min([next_resync, *self._due.values()])
                    self._cv.wait(timeout=max(0.0, wake - now))
                    continue
                for i in ready:
                    del self._due[i]
            for i in ready:
                c = self.controllers[i]
                try:
                    again = c.reconcile(self.cluster)
                    if isinstance(again, (int, float)) and not isinstance(again, bool):
                        self._schedule(i, time.monotonic() + max(0.0, again))  # a timer (e.g. a container exits)
                except ApiError as e:
                    if e.code != 409:
                        log.exception("controller %s failed", getattr(c, "name", c))
                    self._schedule(i, time.monotonic() + 0.05)  # raced with a client: look again
                except Exception:
                    log.exception("controller %s failed", getattr(c, "name", c))

    def idle(self) -> bool:
        with self._cv:
            return not any(t <= time.monotonic() for t in self._due.values())


# --- built-in cluster controllers ------------------------------------------------------------------

CRD_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def set_condition(conditions: list[dict], ctype: str, status: str, reason: str, message: str, ts: str,
                  with_update_time: bool = False) -> list[dict]:
    """Keeps lastTransitionTime while the status stays, so repeated reconciles are no-op writes."""
    out = [dict(c) for c in conditions]
    cur = next((c for c in out if c.get("type") == ctype), None)
    new = {"type": ctype, "status": status, "reason": reason, "message": message}
    if cur is None:
        new["lastTransitionTime"] = ts
        if with_update_time:
            new["lastUpdateTime"] = ts
        out.append(new)
        return out
    transition = cur.get("status") != status
    if with_update_time and (transition or cur.get("reason") != reason or cur.get("message") != message):
        cur["lastUpdateTime"] = ts
    if transition:
        cur["lastTransitionTime"] = ts
    cur.update(new)
    return out


class CRDController(Controller):
    name = "crd"
    watches = {("apiextensions.k8s.io/v1", "CustomResourceDefinition")}

    def reconcile(self, api: ClusterAPI) -> None:
        for crd in api.list("apiextensions.k8s.io/v1", "CustomResourceDefinition"):
            spec = crd.get("spec") or {}
            if crd["metadata"].get("deletionTimestamp"):
                self._cleanup(api, crd)
                continue
            names = spec.get("names") or {}
            storage = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
            status = dict(crd.get("status") or {})
            ts = api.now()
            conds = set_condition(status.get("conditions") or [], "NamesAccepted", "True", "NoConflicts",
                                  "no conflicts found", ts)
            conds = set_condition(conds, "Established", "True", "InitialNamesAccepted",
                                  "the initial names have been accepted", ts)
            stored = list(status.get("storedVersions") or [])
            stored += [v for v in storage if v not in stored]
            status.update(conditions=conds, acceptedNames=names, storedVersions=stored)
            if status != crd.get("status"):
                crd["status"] = status
                api.update_status(crd)

    def _cleanup(self, api: ClusterAPI, crd: dict) -> None:
        spec = crd.get("spec") or {}
        group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
        versions = [v["name"] for v in spec.get("versions") or [] if v.get("served", True)]
        remaining = []
        if versions:
            av = f"{group}/{versions[0]}"
            for obj in api.list(av, kind):
                api.delete(av, kind, obj["metadata"]["name"], obj["metadata"].get("namespace"))
            remaining = api.list(av, kind)
        if not remaining and CRD_FINALIZER in (crd["metadata"].get("finalizers") or []):
            crd["metadata"]["finalizers"] = [f for f in crd["metadata"]["finalizers"] if f != CRD_FINALIZER]
            api.update(crd)


class NamespaceController(Controller):
    """Deletes a terminating namespace's contents, then finalizes it; gives new namespaces their
    `default` ServiceAccount and `kube-root-ca.crt` ConfigMap as the real controllers do."""
    name = "namespace"
    watches = {("*", "*")}

    def __init__(self, server: ApiServer):
        self.server = server

    def reconcile(self, api: ClusterAPI) -> None:
        for ns in api.list("v1", "Namespace"):
            name = ns["metadata"]["name"]
            if not ns["metadata"].get("deletionTimestamp"):
                self._populate(api, name)
                continue
            kinds = [rt for rt in (self.server.registry.storage_type(g, p) for g, p in self.server.store.kinds())
                     if rt is not None and rt.namespaced]
            for rt in kinds:
                for obj in self.server.store.list(rt.group, rt.plural, name):
                    if not obj["metadata"].get("deletionTimestamp"):
                        api.delete(rt.api_version, rt.kind, obj["metadata"]["name"], name)
            if any(self.server.store.list(rt.group, rt.plural, name) for rt in kinds):
                continue  # objects with finalizers hold the namespace until they are gone
            spec = ns.get("spec") or {}
            if "kubernetes" in (spec.get("finalizers") or []):
                ns["spec"]["finalizers"] = [f for f in spec["finalizers"] if f != "kubernetes"]
                self.server.update(self.server.registry.by_kind("v1", "Namespace"), None, name, ns,
                                   api._ctx(), "finalize")

    @staticmethod
    def _populate(api: ClusterAPI, ns: str) -> None:
        if api.get("v1", "ServiceAccount", "default", ns) is None:
            api.create({"apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {"name": "default", "namespace": ns}})
        if api.get("v1", "ConfigMap", "kube-root-ca.crt", ns) is None:
            api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                "name": "kube-root-ca.crt", "namespace": ns,
                "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify "
                                "the kube-apiserver when using internal endpoints such as the internal service "
                                "IP or kubernetes.default.svc. No other usage is guaranteed across distributions "
                                "of Kubernetes clusters."}},
                "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nkubeemu (no TLS)\n-----END CERTIFICATE-----\n"}})


class GarbageCollector(Controller):
    """ownerReference garbage collection: background deletion of dependents whose owners are gone,
    foreground deletion (foregroundDeletion finalizer) and orphaning (orphan finalizer)."""
    name = "garbage-collector"
    watches = {("*", "*")}

    def __init__(self, server: ApiServer):
        self.server = server

    def _obj(self, key):
        group, plural, ns, name = key
        return self.server.store.get(group, plural, ns or None, name)

    def _rt(self, key):
        return self.server.registry.storage_type(key[0], key[1])

    def reconcile(self, api: ClusterAPI) -> None:
        srv = self.server
        for owner_uid, deps in list(srv.dependents.items()):
            if not deps:
                srv.dependents.pop(owner_uid, None)
                continue
            owner_key = srv.uids.get(owner_uid)
            owner = self._obj(owner_key) if owner_key else None
            if owner is None:
                for key in list(deps):
                    obj, rt = self._obj(key), self._rt(key)
                    if obj is None or rt is None or obj["metadata"].get("deletionTimestamp"):
                        continue
                    alive = [r for r in obj["metadata"].get("ownerReferences") or []
                             if r.get("uid") != owner_uid and r.get("uid") in srv.uids]
                    if not alive:
                        api.delete(rt.api_version, rt.kind, key[3], key[2] or None)
                continue
            fins = owner["metadata"].get("finalizers") or []
            if not owner["metadata"].get("deletionTimestamp"):
                continue
            ort = self._rt(owner_key)
            if "orphan" in fins:
                srv.orphan_dependents(owner_uid)
                self._drop_finalizer(api, ort, owner, "orphan")
            elif "foregroundDeletion" in fins:
                live = [k for k in deps if self._obj(k) is not None]
                for key in live:
                    obj, rt = self._obj(key), self._rt(key)
                    if rt and not obj["metadata"].get("deletionTimestamp"):
                        api.delete(rt.api_version, rt.kind, key[3], key[2] or None)
                if not [k for k in deps if self._obj(k) is not None]:
                    self._drop_finalizer(api, ort, owner, "foregroundDeletion")
        # owners deleting in foreground with no dependents at all
        for group, plural in srv.store.kinds():
            for obj in srv.store.list(group, plural):
                meta = obj["metadata"]
                if meta.get("deletionTimestamp") and "foregroundDeletion" in (meta.get("finalizers") or []) \
                        and not srv.dependents.get(meta.get("uid")):
                    self._drop_finalizer(api, srv.registry.storage_type(group, plural), obj, "foregroundDeletion")

    @staticmethod
    def _drop_finalizer(api: ClusterAPI, rt, obj: dict, finalizer: str) -> None:
        new = {**obj, "apiVersion": rt.api_version, "kind": rt.kind,
               "metadata": {**obj["metadata"], "finalizers": [f for f in obj["metadata"].get("finalizers") or []
                                                              if f != finalizer]}}
        api.update(new)


class PVCBinder(Controller):
    """Minimal default volume binding: PVCs whose StorageClass provisioner is listed in the testbed
    config (`pvc.autoBindProvisioners`) get a PersistentVolume and become Bound; `WaitForFirstConsumer`
    classes bind once a pod using the claim is scheduled. Every other claim stays Pending for plugins."""
    name = "pvc-binder"
    watches = {("v1", "PersistentVolumeClaim"), ("storage.k8s.io/v1", "StorageClass"), ("v1", "Pod")}

    def __init__(self, provisioners: list[str]):
        self.provisioners = set(provisioners)

    def reconcile(self, api: ClusterAPI) -> None:
        classes = {sc["metadata"]["name"]: sc for sc in api.list("storage.k8s.io/v1", "StorageClass")}
        pods = None
        for pvc in api.list("v1", "PersistentVolumeClaim"):
            spec, meta = pvc.get("spec") or {}, pvc["metadata"]
            if spec.get("volumeName") or meta.get("deletionTimestamp"):
                continue
            sc = classes.get(spec.get("storageClassName") or "")
            if sc is None or sc.get("provisioner") not in self.provisioners:
                continue
            node = None
            if sc.get("volumeBindingMode") == "WaitForFirstConsumer":
                if pods is None:
                    pods = api.list("v1", "Pod")
                node = next((p["spec"].get("nodeName") for p in pods if p["metadata"].get("namespace") ==
                             meta.get("namespace") and p["spec"].get("nodeName") and any(
                                 (v.get("persistentVolumeClaim") or {}).get("claimName") == meta["name"]
                                 for v in p["spec"].get("volumes") or [])), None)
                if node is None:
                    continue
            self._bind(api, pvc, sc, node)

    @staticmethod
    def _bind(api: ClusterAPI, pvc: dict, sc: dict, node: str | None) -> None:
        meta, spec = pvc["metadata"], pvc["spec"]
        pv_name = f"pvc-{meta['uid']}"
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {
            "name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": sc["provisioner"]},
            "finalizers": ["kubernetes.io/pv-protection"]},
            "spec": {"capacity": {"storage": size}, "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                     "storageClassName": sc["metadata"]["name"], "volumeMode": spec.get("volumeMode", "Filesystem"),
                     "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                     "hostPath": {"path": f"/var/lib/kubeemu/{pv_name}", "type": ""},
                     "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": meta["name"],
                                  "namespace": meta["namespace"], "uid": meta["uid"]}},
            "status": {"phase": "Bound"}}
        if node:
            pv["spec"]["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}
        if api.get("v1", "PersistentVolume", pv_name) is None:
            api.create(pv)
        pvc["spec"]["volumeName"] = pv_name
        ann = meta.setdefault("annotations", {})
        ann.update({"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
                    "volume.beta.kubernetes.io/storage-provisioner": sc["provisioner"],
                    "volume.kubernetes.io/storage-provisioner": sc["provisioner"]})
        if node:
            ann["volume.kubernetes.io/selected-node"] = node
        pvc = api.update(pvc)
        pvc["status"] = {"phase": "Bound", "accessModes": pv["spec"]["accessModes"], "capacity": {"storage": size}}
        api.update_status(pvc)
