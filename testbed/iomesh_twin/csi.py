"""The IOMesh CSI controller plugin (Deployment iomesh-csi-driver-controller-plugin: csi-provisioner sidecar
+ csi-driver --role=controller) as far as PVCs see it.

A PVC whose StorageClass has provisioner com.iomesh.csi-driver is provisioned only while a controller
plugin pod is ready (otherwise the PV controller's "waiting for a volume to be created, either by external
provisioner ..." event) and only when its target IOMesh cluster is usable:

* multi-cluster class: `parameters.clusterConnection` = "<ns>/<configmap>" names an existing ConfigMap whose
  `metaAddr` is "<svc>.<ns>.svc.<domain>:<port>" of an existing Service exposing that port, and
  `parameters.iomeshCluster` = "<ns>/<name>" names an existing IOMeshCluster whose meta has a leader;
* a class without them (the chart's single-cluster default `iomesh-csi-driver`) reaches the IOMesh
  cluster behind the driver's --meta_proxy (default iomesh-access.<driver namespace>.svc:10206), i.e. the
  management cluster — in a multi-cluster setup every such volume lands there (docs/pitfalls.md P5).

Otherwise the PVC stays Pending with a Warning ProvisioningFailed event saying why. The PV gets
spec.csi.driver com.iomesh.csi-driver and a required node affinity on TOPOLOGY_KEY listing the nodes of
the IOMesh cluster the volume lives in (where its iSCSI redirector runs). The driver's real topology key
is undocumented (docs/architecture.md#volume-topology-key); the twin uses kubernetes.io/hostname.
Deleting a PVC: reclaimPolicy Delete deletes the PV (and the volume), Retain leaves it Released.
"""

from __future__ import annotations

import re

from kubeemu.plugin import Controller

from .operator import cluster_nodes, meta_ready
from .util import CSI_DRIVER, IOMESH_AV, Events, active, pod_running_ready, pods_of, safe_get, workloads

CSI_IMAGE = "iomesh/csi-driver"
TOPOLOGY_KEY = "kubernetes.io/hostname"
META_ADDR = re.compile(r"^(?P<svc>[a-z0-9]([-a-z0-9]*[a-z0-9])?)\.(?P<ns>[a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc"
                       r"(\.(?P<domain>[a-z0-9.-]+))?:(?P<port>\d+)$")
PV_FINALIZERS = ["kubernetes.io/pv-protection", "external-provisioner.volume.kubernetes.io/finalizer"]


class ProvisionError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _arg(container: dict, flag: str) -> str | None:
    for a in container.get("args") or []:
        if a.startswith(f"--{flag}="):
            return a.split("=", 1)[1]
    return None


class CSIProvisioner(Controller):
    name = "iomesh-twin-csi-provisioner"
    watches = {("v1", "PersistentVolumeClaim"), ("v1", "PersistentVolume"), ("storage.k8s.io/v1", "StorageClass"),
               ("v1", "ConfigMap"), ("v1", "Service"), (IOMESH_AV, "IOMeshCluster"), ("v1", "Pod"),
               ("apps/v1", "Deployment")}

    def __init__(self, cluster_domain: str = "cluster.local"):
        self.events = Events()
        self.domain = cluster_domain

    def reconcile(self, api) -> None:
        classes = {sc["metadata"]["name"]: sc for sc in api.list("storage.k8s.io/v1", "StorageClass")
                   if sc.get("provisioner") == CSI_DRIVER}
        controller = self._controller(api)
        claims = {pvc["metadata"]["uid"]: pvc for pvc in api.list("v1", "PersistentVolumeClaim")}
        self._reclaim(api, claims)
        pods = None
        for pvc in claims.values():
            spec = pvc.get("spec") or {}
            sc = classes.get(spec.get("storageClassName") or "")
            if sc is None or spec.get("volumeName") or not active(pvc):
                continue
            node = None
            if sc.get("volumeBindingMode") == "WaitForFirstConsumer":
                pods = pods if pods is not None else api.list("v1", "Pod")
                node = next((p["spec"]["nodeName"] for p in pods if p["metadata"]["namespace"] ==
                             pvc["metadata"]["namespace"] and p["spec"].get("nodeName") and any(
                                 (v.get("persistentVolumeClaim") or {}).get("claimName") == pvc["metadata"]["name"]
                                 for v in p["spec"].get("volumes") or [])), None)
                if node is None:
                    continue
            if controller is None:
                self.events.emit(api, pvc, "ExternalProvisioning", "waiting for a volume to be created, either by "
                                 f'external provisioner "{CSI_DRIVER}" or manually created by system administrator')
                continue
            self._provision(api, pvc, sc, controller, node)

    @staticmethod
    def _controller(api) -> dict | None:
        """(deployment, csi-driver container) of a controller plugin with a ready pod, or None."""
        for d in workloads(api, "Deployment", CSI_IMAGE, "--role=controller"):
            if any(pod_running_ready(p) for p in pods_of(api, d)):
                container = next(c for c in d["spec"]["template"]["spec"]["containers"]
                                 if "--role=controller" in (c.get("args") or []))
                return {"namespace": d["metadata"]["namespace"], "container": container}
        return None

    def _target(self, api, sc: dict, controller: dict) -> dict:
        """The IOMeshCluster a volume of this class is created in; raises ProvisionError."""
        params = sc.get("parameters") or {}
        conn, ref = params.get("clusterConnection"), params.get("iomeshCluster")
        if not conn and not ref:
            proxy = _arg(controller["container"], "meta_proxy") or "iomesh-access.$(NAMESPACE).svc:10206"
            proxy = proxy.replace("$(NAMESPACE)", controller["namespace"])
            m = META_ADDR.match(proxy)
            if not m or api.get("v1", "Service", m["svc"], m["ns"]) is None:
                raise ProvisionError("Unavailable", f"meta proxy {proxy} is not reachable")
            crs = [c for c in api.list(IOMESH_AV, "IOMeshCluster", m["ns"]) if active(c)]
            if not crs:
                raise ProvisionError("Unavailable", f"no IOMesh cluster behind meta proxy {proxy}")
            cr = crs[0]
        else:
            if not conn or not ref:
                missing = "clusterConnection" if not conn else "iomeshCluster"
                raise ProvisionError("InvalidArgument", f"parameter {missing} is required when "
                                     f"{'iomeshCluster' if not conn else 'clusterConnection'} is set")
            cm = self._ref(api, "v1", "ConfigMap", conn, "clusterConnection")
            addr = (cm.get("data") or {}).get("metaAddr", "")
            m = META_ADDR.match(addr)
            if not m:
                raise ProvisionError("InvalidArgument", f"clusterConnection {conn}: metaAddr {addr!r} is not "
                                     "<service>.<namespace>.svc.<domain>:<port>")
            if m["domain"] and m["domain"] != self.domain:
                raise ProvisionError("Unavailable", f"clusterConnection {conn}: cannot resolve metaAddr {addr}: "
                                     f"cluster domain is {self.domain}")
            svc = api.get("v1", "Service", m["svc"], m["ns"])
            if svc is None or int(m["port"]) not in [p.get("port") for p in svc["spec"].get("ports") or []]:
                raise ProvisionError("Unavailable", f"clusterConnection {conn}: cannot connect to metaAddr {addr}: "
                                     + ("no such service" if svc is None else f"service has no port {m['port']}"))
            cr = self._ref(api, IOMESH_AV, "IOMeshCluster", ref, "iomeshCluster")
        if not meta_ready(cr):
            raise ProvisionError("Unavailable", f"IOMesh cluster {cr['metadata']['namespace']}/"
                                 f"{cr['metadata']['name']}: meta service is not ready")
        return cr

    @staticmethod
    def _ref(api, av: str, kind: str, ref: str, param: str) -> dict:
        ns, _, name = ref.partition("/")
        if not ns or not name:
            raise ProvisionError("InvalidArgument", f"parameter {param} {ref!r} must be <namespace>/<name>")
        obj = safe_get(api, av, kind, name, ns)
        if obj is None or not active(obj):
            raise ProvisionError("NotFound", f"{param}: {kind.lower()} {ns}/{name} not found")
        return obj

    def _provision(self, api, pvc: dict, sc: dict, controller: dict, node: str | None) -> None:
        meta = pvc["metadata"]
        sc_name = sc["metadata"]["name"]
        self.events.emit(api, pvc, "Provisioning",
                         f'External provisioner is provisioning volume for claim "{meta["namespace"]}/{meta["name"]}"')
        try:
            cr = self._target(api, sc, controller)
            nodes = cluster_nodes(api, cr)
            if not nodes:
                raise ProvisionError("Unavailable", f"IOMesh cluster {cr['metadata']['namespace']}/"
                                     f"{cr['metadata']['name']} has no iSCSI redirector running")
            if node is not None and node not in nodes:
                raise ProvisionError("ResourceExhausted", f"selected node {node} is not served by IOMesh cluster "
                                     f"{cr['metadata']['namespace']}/{cr['metadata']['name']}")
        except ProvisionError as e:
            self.events.emit(api, pvc, "ProvisioningFailed", f'failed to provision volume with StorageClass '
                             f'"{sc_name}": rpc error: code = {e.code} desc = {e}', "Warning")
            return
        spec = pvc["spec"]
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        pv_name = f"pvc-{meta['uid']}"
        params = dict(sc.get("parameters") or {})
        attrs = {k: v for k, v in params.items() if not k.startswith("csi.storage.k8s.io/")}
        attrs.update({"iomeshClusterName": f"{cr['metadata']['namespace']}/{cr['metadata']['name']}",
                      "storage.kubernetes.io/csiProvisionerIdentity": f"1700000000000-8081-{CSI_DRIVER}"})
        pv = {"apiVersion": "v1", "kind": "PersistentVolume",
              "metadata": {"name": pv_name, "finalizers": list(PV_FINALIZERS),
                           "annotations": {"pv.kubernetes.io/provisioned-by": CSI_DRIVER,
                                           "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                                           "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""}},
              "spec": {"capacity": {"storage": size}, "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                       "storageClassName": sc["metadata"]["name"], "volumeMode": spec.get("volumeMode", "Filesystem"),
                       "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                       "mountOptions": sc.get("mountOptions") or None,
                       "csi": {"driver": CSI_DRIVER, "volumeHandle": f"{cr['metadata']['uid']}/{pv_name}",
                               "fsType": params.get("csi.storage.k8s.io/fstype", "ext4"),
                               "volumeAttributes": attrs},
                       "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                           {"key": TOPOLOGY_KEY, "operator": "In", "values": nodes}]}]}},
                       "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": meta["name"],
                                    "namespace": meta["namespace"], "uid": meta["uid"],
                                    "resourceVersion": meta.get("resourceVersion")}}}
        if pv["spec"]["mountOptions"] is None:
            del pv["spec"]["mountOptions"]
        if api.get("v1", "PersistentVolume", pv_name) is None:
            pv = api.create(pv)
            pv["status"] = {"phase": "Bound"}
            api.update_status(pv)
        pvc["spec"]["volumeName"] = pv_name
        ann = pvc["metadata"].setdefault("annotations", {})
        ann.update({"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
                    "volume.beta.kubernetes.io/storage-provisioner": CSI_DRIVER,
                    "volume.kubernetes.io/storage-provisioner": CSI_DRIVER})
        if node:
            ann["volume.kubernetes.io/selected-node"] = node
        pvc = api.update(pvc)
        pvc["status"] = {"phase": "Bound", "accessModes": pv["spec"]["accessModes"], "capacity": {"storage": size}}
        api.update_status(pvc)
        self.events.emit(api, pvc, "ProvisioningSucceeded", f"Successfully provisioned volume {pv_name}")

    @staticmethod
    def _reclaim(api, claims: dict) -> None:
        for pv in api.list("v1", "PersistentVolume"):
            if (pv["metadata"].get("annotations") or {}).get("pv.kubernetes.io/provisioned-by") != CSI_DRIVER:
                continue
            ref = pv["spec"].get("claimRef") or {}
            if ref.get("uid") in claims and active(claims[ref["uid"]]):
                continue
            if pv["spec"].get("persistentVolumeReclaimPolicy", "Delete") == "Delete":
                if active(pv):
                    api.delete("v1", "PersistentVolume", pv["metadata"]["name"])
                pv = api.get("v1", "PersistentVolume", pv["metadata"]["name"])
                if pv is not None and pv["metadata"].get("finalizers"):
                    pv["metadata"]["finalizers"] = []
                    api.update(pv)
            elif (pv.get("status") or {}).get("phase") != "Released":
                pv["status"] = {**(pv.get("status") or {}), "phase": "Released"}
                api.update_status(pv)
