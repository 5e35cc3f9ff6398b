"""node-disk-manager (openebs NDM 1.8, as shipped in the IOMesh chart).

* The NDM DaemonSet's pod on a node (image openebs/node-disk-manager) discovers that node's disks and
  creates one BlockDevice per disk that passes the filters of its ConfigMap, in the DaemonSet's namespace
  (all BlockDevices of every node live in the management namespace). Nothing appears before that pod runs.
* The NDM operator (Deployment, image openebs/node-disk-operator, WATCH_NAMESPACE = its namespace) binds
  BlockDeviceClaims to BlockDevices (BD spec.claimRef + status.claimState Claimed, BDC status.phase Bound)
  and releases a BlockDevice whose claim is gone.
"""

from __future__ import annotations

from kubeemu.plugin import Controller

from . import disks as diskmod
from .util import NDM_AV, Events, active, available, pod_running_ready, pods_of, safe_get, safe_list, workloads

# Chart v1.0.1 runs openebs' images; v1.1.0 and v1.2.0 IOMesh's builds of them (the chart render facts).
NDM_IMAGE = ("openebs/node-disk-manager", "iomesh/node-disk-manager")
NDM_OPERATOR_IMAGE = ("openebs/node-disk-operator", "iomesh/node-disk-operator")


def ndm_namespaces(api) -> set[str]:
    return {ds["metadata"]["namespace"] for ds in workloads(api, "DaemonSet", NDM_IMAGE)}


class NodeDiskManager(Controller):
    name = "iomesh-twin-ndm"
    watches = {("apps/v1", "DaemonSet"), ("v1", "Pod"), ("v1", "ConfigMap"),
               ("apiextensions.k8s.io/v1", "CustomResourceDefinition"), (NDM_AV, "BlockDevice")}

    def __init__(self, config: dict):
        self.layout = diskmod.layout(config)

    def reconcile(self, api) -> None:
        daemonsets = workloads(api, "DaemonSet", NDM_IMAGE)
        if not daemonsets or api.get("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                                     "blockdevices.openebs.io") is None:
            return
        for ds in daemonsets:
            ns = ds["metadata"]["namespace"]
            cm_name = next((v["configMap"]["name"] for v in ds["spec"]["template"]["spec"].get("volumes") or []
                            if v.get("name") == "config" and v.get("configMap")), None)
            cm = api.get("v1", "ConfigMap", cm_name, ns) if cm_name else None
            filters = diskmod.ndm_filters(((cm or {}).get("data") or {}).get("node-disk-manager.config"))
            existing = {bd["metadata"]["name"] for bd in safe_list(api, NDM_AV, "BlockDevice", ns)}
            for pod in pods_of(api, ds):
                if not pod_running_ready(pod):
                    continue
                for disk in self.layout.get(pod["spec"]["nodeName"], []):
                    if not diskmod.visible(disk, filters):
                        continue
                    bd = diskmod.blockdevice(disk, ns)
                    if bd["metadata"]["name"] not in existing:
                        api.create(bd)
                        existing.add(bd["metadata"]["name"])


class NDMOperator(Controller):
    name = "iomesh-twin-ndm-operator"
    watches = {("apps/v1", "Deployment"), (NDM_AV, "BlockDevice"), (NDM_AV, "BlockDeviceClaim")}

    def __init__(self):
        self.events = Events()

    def reconcile(self, api) -> None:
        for op in workloads(api, "Deployment", NDM_OPERATOR_IMAGE):
            if available(op):
                self._sync(api, op["metadata"]["namespace"])

    def _sync(self, api, ns: str) -> None:
        claims = {c["metadata"]["name"]: c for c in safe_list(api, NDM_AV, "BlockDeviceClaim", ns)}
        bds = {b["metadata"]["name"]: b for b in safe_list(api, NDM_AV, "BlockDevice", ns)}
        for bd in bds.values():  # release devices whose claim is gone
            ref = bd["spec"].get("claimRef") or {}
            claim = claims.get(ref.get("name", ""))
            if ref and (claim is None or claim["metadata"].get("uid") != ref.get("uid") or not active(claim)):
                bd["spec"].pop("claimRef", None)
                bd["status"] = {**(bd.get("status") or {}), "claimState": "Unclaimed"}
                api.update(bd)
                self.events.emit(api, bd, "BlockDeviceReleased",
                                 f"BlockDevice {bd['metadata']['name']} released: its claim {ref.get('name')} "
                                 "was deleted")
        for claim in claims.values():
            if not active(claim) or (claim.get("status") or {}).get("phase") == "Bound":
                continue
            bd = safe_get(api, NDM_AV, "BlockDevice", claim["spec"].get("blockDeviceName", ""), ns)
            if bd is None:
                self.events.emit(api, claim, "BlockDeviceNotFound",
                                 f"blockdevice {claim['spec'].get('blockDeviceName')} not found", "Warning")
                continue
            ref = bd["spec"].get("claimRef") or {}
            if ref and ref.get("uid") != claim["metadata"]["uid"]:
                self.events.emit(api, claim, "BlockDeviceClaimed",
                                 f"blockdevice {bd['metadata']['name']} is already claimed by {ref.get('name')}",
                                 "Warning")
                continue
            if (bd.get("status") or {}).get("state") != "Active":
                continue
            bd["spec"]["claimRef"] = {"apiVersion": NDM_AV, "kind": "BlockDeviceClaim",
                                      "name": claim["metadata"]["name"], "namespace": ns,
                                      "resourceVersion": claim["metadata"].get("resourceVersion"),
                                      "uid": claim["metadata"]["uid"]}
            bd["status"] = {**(bd.get("status") or {}), "claimState": "Claimed"}
            api.update(bd)
            claim["status"] = {"phase": "Bound"}
            api.update(claim)
