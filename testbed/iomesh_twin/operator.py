"""The IOMesh operator (Deployment `operator`, image iomesh/operator) and its devicemanager.

For every IOMeshCluster <C> in namespace <N> (the chart's management cluster and the additional ones
applied with kubectl / kubernetes.core.k8s alike), while an operator pod is available:

1. wait for ZookeeperCluster <N>/<C>-zookeeper to be ready (Warning event while it is missing);
2. StatefulSet <C>-meta (spec.meta.replicas) and Service <C>-meta-client (port 10100);
3. once a meta quorum is ready: a leader (pod label iomesh.com/meta-leader), StatefulSet <C>-chunk
   (spec.chunk.replicas) and DaemonSet <C>-iscsi-redirector.
   Every pod gets the CR's podPolicy (affinity, nodeSelector, tolerations) plus a required pod
   anti-affinity (one meta and one chunk pod per node); with too few admitted nodes pods stay Pending.
4. devicemanager (runs with each chunk pod): BlockDevices in spec.chunk.devicemanager.blockDeviceNamespace
   (default: <N>) selected by spec.chunk.deviceMap on nodes where this cluster's chunk pod runs get a
   BlockDeviceClaim (named like the BlockDevice); NDM's operator binds it. Devices carrying a filesystem,
   claimed by someone else, or of a mount type the diskDeploymentMode forbids are refused with a Warning event.
5. status: readyReplicas, summary (meta leader / alive hosts, chunks with their data IP and space),
   license (trial, serial unique per cluster; activated from the Secret spec.licenseSecretName names, key
   authorizationCode, when that field is set: licence.py), runningImages, attachedDevices, portOffset.

The management cluster (the IOMeshCluster in the operator's own namespace, i.e. the chart's release namespace;
the oldest one if there are several) also gets Service `iomesh-access` in that namespace (ClusterIP; ports
3260 iscsi, 10206 meta-proxy, 10201, 10207): the access point of the CSI driver's default --meta_proxy
(iomesh-access.<namespace>.svc:10206). The operator, not the chart, creates it as soon as it reconciles the
cluster, owned by the IOMeshCluster (garbage-collected with it), and restores its ports and owner if they are
changed (not its type: users make it a LoadBalancer for external storage). Its selector (which pods back it)
is not documented; the twin gives it none (no Endpoints anyway).

A slow operator (`iomeshTwin.operatorDelaySeconds`, runtime-switchable): each change of an IOMeshCluster is acted on
(workloads, iomesh-access, status) only that many seconds after the operator first saw it (util.ReactionDelay).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import time
import uuid

from kubeemu.plugin import Controller

from .util import (CLUSTER_LABEL, COMPONENT_LABEL, IOMESH_AV, META_LEADER_LABEL, NDM_AV, ZK_AV, BadSelector, Events,
                   ReactionDelay, active, available, ensure, ip_in_cidr, node_ips, operator_delay, owner_ref,
                   pod_ready, safe_get, safe_list, selector_matches, set_status, workloads)
from . import licence
from .webhook import MODE_FORBIDDEN
from .zookeeper import zk_ready

OPERATOR_IMAGE = "iomesh/operator"
NAMESPACE_LABEL = "iomesh.com/cluster-namespace"
MOUNT_TYPE_LABEL = "iomesh.com/mount-type"
MOUNT_TYPES = ("cacheWithJournal", "rawCache", "dataStore", "dataStoreWithJournal")
CACHE_TYPES = ("cacheWithJournal", "rawCache")
META_PORT, CHUNK_PORT = 10100, 10200
PORT_OFFSET_STEP = 1000  # twin's choice: the real allocation scheme is not documented
META_STATUS_OK = "Healthy"
CHUNK_STATUS_OK = "CHUNK_STATUS_CONNECTED_HEALTHY"
ACCESS_SERVICE = "iomesh-access"
ACCESS_PORTS = [{"name": "iscsi", "port": 3260, "targetPort": 3260, "protocol": "TCP"},
                {"name": "meta-proxy", "port": 10206, "targetPort": 10206, "protocol": "TCP"},
                {"name": "tcp-10201", "port": 10201, "targetPort": 10201, "protocol": "TCP"},
                {"name": "tcp-10207", "port": 10207, "targetPort": 10207, "protocol": "TCP"}]


def cluster_pods(api, cr: dict, component: str, pods: list[dict]) -> list[dict]:
    ns, name = cr["metadata"]["namespace"], cr["metadata"]["name"]
    return [p for p in pods if p["metadata"].get("namespace") == ns and active(p)
            and (p["metadata"].get("labels") or {}).get(CLUSTER_LABEL) == name
            and (p["metadata"].get("labels") or {}).get(COMPONENT_LABEL) == component]


def cluster_nodes(api, cr: dict, pods: list[dict] | None = None) -> list[str]:
    """Nodes this IOMesh cluster serves: where its iSCSI redirector DaemonSet runs pods."""
    pods = pods if pods is not None else api.list("v1", "Pod", cr["metadata"]["namespace"])
    return sorted({p["spec"]["nodeName"] for p in cluster_pods(api, cr, "iscsi-redirector", pods)
                   if p["spec"].get("nodeName")})


def meta_ready(cr: dict | None) -> bool:
    return bool(cr and ((cr.get("status") or {}).get("summary") or {}).get("metaSummary", {}).get("leader"))


def _image(part: dict | None) -> str:
    img = (part or {}).get("image") or {}
    return f"{img.get('repository', '')}:{img.get('tag') or 'latest'}"


def _affinity(pod_policy: dict, app: str) -> dict:
    affinity = dict(pod_policy.get("affinity") or {})
    anti = dict(affinity.get("podAntiAffinity") or {})
    anti["requiredDuringSchedulingIgnoredDuringExecution"] = [
        *(anti.get("requiredDuringSchedulingIgnoredDuringExecution") or []),
        {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": "kubernetes.io/hostname"}]
    affinity["podAntiAffinity"] = anti
    return affinity


class IOMeshOperator(Controller):
    name = "iomesh-twin-operator"
    watches = {(IOMESH_AV, "IOMeshCluster"), (ZK_AV, "ZookeeperCluster"), ("apps/v1", "StatefulSet"),
               ("apps/v1", "DaemonSet"), ("apps/v1", "Deployment"), ("v1", "Pod"), ("v1", "Service"),
               (NDM_AV, "BlockDevice"), (NDM_AV, "BlockDeviceClaim")}

    def __init__(self):
        self.events = Events()
        self.delay = ReactionDelay()  # iomeshTwin.operatorDelaySeconds
        self.licensed: dict[str, tuple] = {}  # IOMeshCluster uid -> (name, uid) of the Secret its licence was read from

    def reconcile(self, api) -> float | None:
        operators = [d for d in workloads(api, "Deployment", OPERATOR_IMAGE) if available(d)]
        if not operators:
            return None
        clusters = safe_list(api, IOMESH_AV, "IOMeshCluster")
        self._cleanup_claims(api, clusters)
        offsets = self._offsets(clusters)
        due, wait = self.delay.due(clusters, operator_delay(api), time.monotonic())
        due_uids = {c["metadata"]["uid"] for c in due}
        pods = api.list("v1", "Pod")
        nodes = {n["metadata"]["name"]: n for n in api.list("v1", "Node")}
        for ns in sorted({d["metadata"]["namespace"] for d in operators}):
            mgmt = sorted((c for c in clusters if c["metadata"]["namespace"] == ns and active(c)),
                          key=lambda c: (c["metadata"].get("creationTimestamp", ""), c["metadata"]["name"]))
            if mgmt and mgmt[0]["metadata"]["uid"] in due_uids:
                self._access_service(api, mgmt[0])
        for cr in due:
            if active(cr):
                self._sync(api, cr, offsets[cr["metadata"]["uid"]], pods, nodes)
        return wait  # a slow operator comes back when the next change is due

    @staticmethod
    def _access_service(api, cr: dict) -> None:
        """Service iomesh-access of the management cluster: created once, ports and owner kept."""
        ns = cr["metadata"]["namespace"]
        owner = owner_ref(cr)
        svc = api.get("v1", "Service", ACCESS_SERVICE, ns)
        if svc is None:
            api.create({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": ACCESS_SERVICE, "namespace": ns, "ownerReferences": [owner],
                                     "labels": {CLUSTER_LABEL: cr["metadata"]["name"]}},
                        "spec": {"type": "ClusterIP", "ports": ACCESS_PORTS}})
            return
        if not active(svc):
            return
        patch: dict = {}
        have = [{k: p.get(k) for k in ("name", "port", "targetPort", "protocol")}
                for p in svc["spec"].get("ports") or []]
        if have != ACCESS_PORTS:
            patch["spec"] = {"ports": ACCESS_PORTS}
        refs = svc["metadata"].get("ownerReferences") or []
        if not any(r.get("uid") == owner["uid"] for r in refs):
            patch["metadata"] = {"ownerReferences": [r for r in refs if not r.get("controller")] + [owner]}
        if patch:
            api.patch_merge("v1", "Service", ACCESS_SERVICE, ns, patch)

    # --- port offsets ---
    @staticmethod
    def _offsets(clusters: list[dict]) -> dict[str, int]:
        out: dict[str, int] = {}
        used: set[int] = set()
        for cr in clusters:
            spec_off = (cr.get("spec") or {}).get("portOffset", -1)
            st_off = (cr.get("status") or {}).get("portOffset")
            off = spec_off if isinstance(spec_off, int) and spec_off >= 0 else st_off
            if isinstance(off, int) and off >= 0:
                out[cr["metadata"]["uid"]] = off
                used.add(off)
        for cr in sorted(clusters, key=lambda c: (c["metadata"].get("creationTimestamp", ""), c["metadata"]["name"])):
            if cr["metadata"]["uid"] not in out:
                off = 0
                while off in used:
                    off += PORT_OFFSET_STEP
                out[cr["metadata"]["uid"]] = off
                used.add(off)
        return out

    # --- one cluster ---
    def _sync(self, api, cr: dict, offset: int, all_pods: list[dict], nodes: dict) -> None:
        ns, name = cr["metadata"]["namespace"], cr["metadata"]["name"]
        spec = cr.get("spec") or {}
        zk_name = f"{name}-zookeeper"
        zk = safe_get(api, ZK_AV, "ZookeeperCluster", zk_name, ns)
        status = dict(cr.get("status") or {})
        status["portOffset"] = offset
        if zk is None:
            self.events.emit(api, cr, "ZookeeperNotFound",
                             f"waiting for ZookeeperCluster {ns}/{zk_name}: not found", "Warning")
            set_status(api, cr, status)
            return
        if not zk_ready(zk):
            self.events.emit(api, cr, "WaitingForZookeeper", f"waiting for ZookeeperCluster {ns}/{zk_name} to be ready")
            set_status(api, cr, status)
            return
        owner = [owner_ref(cr)]
        ensure(api, {"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": f"{name}-meta-client", "namespace": ns, "ownerReferences": owner,
                                  "labels": {CLUSTER_LABEL: name, COMPONENT_LABEL: "meta"}},
                     "spec": {"selector": {"app": f"{name}-meta"},
                              "ports": [{"name": "meta", "port": META_PORT, "targetPort": META_PORT + offset,
                                         "protocol": "TCP"}]}}, update=False)
        ensure(api, self._statefulset(cr, "meta", spec.get("meta") or {}, offset, owner))
        pods = [p for p in all_pods if p["metadata"].get("namespace") == ns]
        metas = cluster_pods(api, cr, "meta", pods)
        ready_metas = sorted((p for p in metas if pod_ready(p)), key=lambda p: p["metadata"]["name"])
        want_meta = (spec.get("meta") or {}).get("replicas", 3)
        leader = self._leader(api, metas, ready_metas, want_meta)
        if leader is not None:
            ensure(api, self._statefulset(cr, "chunk", spec.get("chunk") or {}, offset, owner))
            ensure(api, self._redirector(cr, owner))
        chunks = cluster_pods(api, cr, "chunk", pods)
        redirectors = cluster_pods(api, cr, "iscsi-redirector", pods)
        attached = self._devicemanager(api, cr, chunks) if leader is not None else []
        self._status(api, cr, status, leader, metas, chunks, redirectors, attached, nodes, offset)

    def _leader(self, api, metas: list[dict], ready: list[dict], want: int) -> dict | None:
        current = next((p for p in ready if META_LEADER_LABEL in (p["metadata"].get("labels") or {})), None)
        leader = current if current is not None else (ready[0] if len(ready) >= want // 2 + 1 else None)
        for p in metas:
            labelled = META_LEADER_LABEL in (p["metadata"].get("labels") or {})
            if leader is not None and p["metadata"]["name"] == leader["metadata"]["name"]:
                if not labelled:
                    api.patch_merge("v1", "Pod", p["metadata"]["name"], p["metadata"]["namespace"],
                                    {"metadata": {"labels": {META_LEADER_LABEL: "true"}}})
            elif labelled:
                api.patch_merge("v1", "Pod", p["metadata"]["name"], p["metadata"]["namespace"],
                                {"metadata": {"labels": {META_LEADER_LABEL: None}}})
        return leader

    @staticmethod
    def _labels(cr: dict, component: str, app: str) -> dict:
        return {"app": app, "app.kubernetes.io/name": "iomesh", "app.kubernetes.io/instance": cr["metadata"]["name"],
                COMPONENT_LABEL: component, CLUSTER_LABEL: cr["metadata"]["name"]}

    def _pod_spec(self, part: dict, app: str, containers: list[dict]) -> dict:
        policy = part.get("podPolicy") or {}
        spec = {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet", "containers": containers,
                "affinity": _affinity(policy, app) if app.endswith(("-meta", "-chunk")) else
                dict(policy.get("affinity") or {})}
        if not spec["affinity"]:
            del spec["affinity"]
        if policy.get("nodeSelector"):
            spec["nodeSelector"] = policy["nodeSelector"]
        if policy.get("tolerations"):
            spec["tolerations"] = policy["tolerations"]
        return spec

    def _statefulset(self, cr: dict, component: str, part: dict, offset: int, owner: list) -> dict:
        ns, name = cr["metadata"]["namespace"], cr["metadata"]["name"]
        app = f"{name}-{component}"
        labels = self._labels(cr, component, app)
        main = {"name": f"iomesh-{component}", "image": _image(part),
                "imagePullPolicy": (part.get("image") or {}).get("pullPolicy") or "IfNotPresent",
                "securityContext": {"privileged": True}, "resources": part.get("resources") or {}}
        containers = [main]
        spec = cr.get("spec") or {}
        claim_templates = []
        if component == "meta":
            main["ports"] = [{"name": "meta", "containerPort": META_PORT + offset}]
            main["volumeMounts"] = [{"name": "meta-data", "mountPath": "/var/lib/zbs"}]
            claim_templates = [{"metadata": {"name": "meta-data"},
                                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": spec.get("storageClass"),
                                         "resources": {"requests": {"storage": "10Gi"}}}}]
        else:
            main["ports"] = [{"name": "chunk", "containerPort": CHUNK_PORT + offset},
                             {"name": "chunk-data", "containerPort": CHUNK_PORT + 1 + offset}]
            dm = part.get("devicemanager") or {}
            containers.append({"name": "iomesh-devicemanager", "image": _image(dm),
                               "imagePullPolicy": (dm.get("image") or {}).get("pullPolicy") or "IfNotPresent",
                               "securityContext": {"privileged": True}})
        sts = {"apiVersion": "apps/v1", "kind": "StatefulSet",
               "metadata": {"name": app, "namespace": ns, "labels": labels, "ownerReferences": owner},
               "spec": {"replicas": part.get("replicas", 3), "serviceName": f"{name}-meta-client" if component ==
                        "meta" else app, "podManagementPolicy": "Parallel",
                        "selector": {"matchLabels": {"app": app}},
                        "template": {"metadata": {"labels": labels},
                                     "spec": self._pod_spec(part, app, containers)}}}
        if claim_templates:
            sts["spec"]["volumeClaimTemplates"] = claim_templates
        return sts

    def _redirector(self, cr: dict, owner: list) -> dict:
        ns, name = cr["metadata"]["namespace"], cr["metadata"]["name"]
        part = (cr.get("spec") or {}).get("redirector") or {}
        app = f"{name}-iscsi-redirector"
        labels = self._labels(cr, "iscsi-redirector", app)
        containers = [{"name": "iomesh-iscsi-redirector", "image": _image(part),
                       "imagePullPolicy": (part.get("image") or {}).get("pullPolicy") or "IfNotPresent",
                       "ports": [{"name": "iscsi", "containerPort": 3260}], "resources": part.get("resources") or {}}]
        return {"apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": {"name": app, "namespace": ns, "labels": labels, "ownerReferences": owner},
                "spec": {"selector": {"matchLabels": {"app": app}},
                         "template": {"metadata": {"labels": labels}, "spec": self._pod_spec(part, app, containers)}}}

    # --- devicemanager ---
    def _devicemanager(self, api, cr: dict, chunks: list[dict]) -> list[dict]:
        ns, name = cr["metadata"]["namespace"], cr["metadata"]["name"]
        spec = cr.get("spec") or {}
        chunk = spec.get("chunk") or {}
        bd_ns = (chunk.get("devicemanager") or {}).get("blockDeviceNamespace") or ns
        mode = spec.get("diskDeploymentMode") or "hybridFlash"
        running = {p["spec"]["nodeName"] for p in chunks if p["spec"].get("nodeName") and pod_ready(p)}
        bds = {b["metadata"]["name"]: b for b in safe_list(api, NDM_AV, "BlockDevice", bd_ns)}
        all_claims = {c["metadata"]["name"]: c for c in safe_list(api, NDM_AV, "BlockDeviceClaim", bd_ns)}
        mine = {n: c for n, c in all_claims.items() if (c["metadata"].get("labels") or {}).get(CLUSTER_LABEL) == name
                and (c["metadata"].get("labels") or {}).get(NAMESPACE_LABEL) == ns}
        selected: dict[str, str] = {}   # bd name -> mount type, everything the deviceMap selects on our nodes
        for mount_type, entry in sorted((chunk.get("deviceMap") or {}).items()):
            if mount_type not in MOUNT_TYPES or mount_type in MODE_FORBIDDEN.get(mode, ()):
                self.events.emit(api, cr, "InvalidMountType", f"deviceMap mount type {mount_type} is not "
                                 f"supported in {mode} mode; its devices are not mounted", "Warning")
                continue
            exclude = set((entry or {}).get("exclude") or [])
            for bd_name, bd in sorted(bds.items()):
                try:
                    if bd_name in exclude or not selector_matches((entry or {}).get("selector"),
                                                                  bd["metadata"].get("labels")):
                        continue
                except BadSelector as e:
                    self.events.emit(api, cr, "InvalidSelector", f"deviceMap {mount_type}: {e}", "Warning")
                    break
                node = (bd["spec"].get("nodeAttributes") or {}).get("nodeName")
                if bd_name not in mine and node not in running:
                    continue  # no chunk of this cluster on that node (another cluster's disk, or not up yet)
                if bd_name in selected:
                    self.events.emit(api, cr, "DuplicateDevice", f"BlockDevice {bd_name} is selected by mount types "
                                     f"{selected[bd_name]} and {mount_type}; using {selected[bd_name]}", "Warning")
                    continue
                selected[bd_name] = mount_type
        for bd_name, mount_type in selected.items():
            bd = bds[bd_name]
            node = (bd["spec"].get("nodeAttributes") or {}).get("nodeName")
            if bd_name in mine:
                continue
            fs = (bd["spec"].get("filesystem") or {}).get("fsType")
            ref = bd["spec"].get("claimRef") or {}
            if fs:
                self.events.emit(api, cr, "DeviceHasFilesystem", f"BlockDevice {bd_name} ({bd['spec'].get('path')} "
                                 f"on {node}) carries a {fs} filesystem and is not mounted; wipe it and let NDM "
                                 "rescan (restart the openebs-ndm pod)", "Warning")
                continue
            if ref or (bd.get("status") or {}).get("claimState") != "Unclaimed" or bd_name in all_claims:
                holder = ref.get("name") or bd_name
                self.events.emit(api, cr, "DeviceAlreadyClaimed", f"BlockDevice {bd_name} on {node} is already "
                                 f"claimed ({bd_ns}/{holder}) and is not mounted", "Warning")
                continue
            if (bd.get("status") or {}).get("state") != "Active":
                continue
            api.create({"apiVersion": NDM_AV, "kind": "BlockDeviceClaim",
                        "metadata": {"name": bd_name, "namespace": bd_ns,
                                     "labels": {CLUSTER_LABEL: name, NAMESPACE_LABEL: ns, MOUNT_TYPE_LABEL: mount_type,
                                                "kubernetes.io/hostname": node}},
                        "spec": {"blockDeviceName": bd_name,
                                 "blockDeviceNodeAttributes": {"hostName": node, "nodeName": node},
                                 "deviceClaimDetails": {"allowPartition": mount_type.endswith("WithJournal")},
                                 "resources": {"requests": {"storage": str(bd["spec"]["capacity"]["storage"])}}},
                        "status": {"phase": "Pending"}})
            self.events.emit(api, cr, "DeviceClaimed", f"claimed BlockDevice {bd_name} on {node} as {mount_type}")
        for claim_name, claim in mine.items():   # unmount what the deviceMap no longer selects
            if claim_name not in selected and active(claim):
                api.delete(NDM_AV, "BlockDeviceClaim", claim_name, bd_ns)
                self.events.emit(api, cr, "DeviceReleased", f"released BlockDevice {claim_name}: no longer selected")
        attached = []
        for claim_name, claim in sorted(mine.items()):
            bd = bds.get(claim_name)
            if claim_name not in selected or bd is None or (claim.get("status") or {}).get("phase") != "Bound":
                continue
            attached.append({"device": claim_name, "mountType": selected[claim_name],
                             "nodeName": (bd["spec"].get("nodeAttributes") or {}).get("nodeName", ""),
                             "uuid": str(uuid.uuid5(uuid.NAMESPACE_OID, bd["metadata"]["uid"]))})
        return attached

    @staticmethod
    def _cleanup_claims(api, clusters: list[dict]) -> None:
        """Claims of deleted clusters (reclaimPolicy.blockdevice: the disks go back to NDM)."""
        alive = {(c["metadata"]["namespace"], c["metadata"]["name"]) for c in clusters if active(c)}
        for claim in safe_list(api, NDM_AV, "BlockDeviceClaim"):
            labels = claim["metadata"].get("labels") or {}
            if CLUSTER_LABEL in labels and (labels.get(NAMESPACE_LABEL), labels[CLUSTER_LABEL]) not in alive \
                    and active(claim):
                api.delete(NDM_AV, "BlockDeviceClaim", claim["metadata"]["name"], claim["metadata"]["namespace"])

    # --- status ---
    def _status(self, api, cr: dict, status: dict, leader: dict | None, metas: list[dict], chunks: list[dict],
                redirectors: list[dict], attached: list[dict], nodes: dict, offset: int) -> None:
        spec = cr.get("spec") or {}
        cidr = (spec.get("chunk") or {}).get("dataCIDR")
        ready_metas = [p for p in metas if pod_ready(p)]
        ready_chunks = sorted((p for p in chunks if pod_ready(p)), key=lambda p: p["metadata"]["name"])
        status["readyReplicas"] = {"meta": len(ready_metas), "chunk": len(ready_chunks),
                                   "iscsi-redirector": sum(1 for p in redirectors if pod_ready(p))}
        status["runningImages"] = {
            "meta": {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in ready_metas},
            "chunk": {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in ready_chunks}}
        status["attachedDevices"] = attached
        bd_sizes = {}
        if attached:
            bd_ns = ((spec.get("chunk") or {}).get("devicemanager") or {}).get("blockDeviceNamespace") or \
                cr["metadata"]["namespace"]
            for a in attached:
                bd = safe_get(api, NDM_AV, "BlockDevice", a["device"], bd_ns)
                bd_sizes[a["device"]] = int(((bd or {}).get("spec") or {}).get("capacity", {}).get("storage", 0))
        summary: dict = {}
        if leader is not None:
            ip = lambda p: ip_in_cidr(node_ips(nodes.get(p["spec"].get("nodeName"))), cidr) or \
                (p.get("status") or {}).get("hostIP", "")  # noqa: E731
            summary["metaSummary"] = {"leader": f"{ip(leader)}:{META_PORT + offset}",
                                      "aliveHost": sorted(ip(p) for p in ready_metas), "status": META_STATUS_OK}
            chunk_list, total_cache, total_data = [], 0, 0
            for p in ready_chunks:
                node = p["spec"].get("nodeName")
                cache = sum(bd_sizes.get(a["device"], 0) for a in attached
                            if a["nodeName"] == node and a["mountType"] in CACHE_TYPES)
                data = sum(bd_sizes.get(a["device"], 0) for a in attached
                           if a["nodeName"] == node and a["mountType"] not in CACHE_TYPES)
                total_cache += cache
                total_data += data
                chunk_list.append({"id": int(p["metadata"]["name"].rsplit("-", 1)[-1]) + 1, "ip": ip(p),
                                   "status": CHUNK_STATUS_OK, "spaceInfo": _space(cache, data)})
            summary["chunkSummary"] = {"chunks": chunk_list}
            summary["clusterSummary"] = {"spaceInfo": _space(total_cache, total_data)}
            status["license"] = self._license(api, cr, status.get("license") or _trial_license(api, cr))
        status["summary"] = summary
        set_status(api, cr, status)


    def _license(self, api, cr: dict, current: dict) -> dict:
        """The licence, activated from the Secret spec.licenseSecretName names (key authorizationCode) when that field
        is set and names a Secret not read yet (another name, or one deleted and created again). A Secret changed in
        place is not read again: IOMesh's update is to remove the field, delete and create the Secret, and set the
        field again (domain notes §11)."""
        uid, ns = cr["metadata"]["uid"], cr["metadata"]["namespace"]
        secret_name = (cr.get("spec") or {}).get("licenseSecretName")
        if not secret_name:
            self.licensed.pop(uid, None)
            return current
        secret = safe_get(api, "v1", "Secret", secret_name, ns)
        if secret is None:
            self.events.emit(api, cr, "LicenseSecretNotFound", f"license secret {ns}/{secret_name} not found", "Warning")
            return current
        seen = (secret_name, secret["metadata"].get("uid"))
        if self.licensed.get(uid) == seen:
            return current
        self.licensed[uid] = seen
        try:
            code = base64.b64decode((secret.get("data") or {}).get("authorizationCode") or "").decode()
            found = licence.verify(code, current["serial"])
        except (binascii.Error, UnicodeDecodeError, licence.InvalidLicense) as exc:
            reason = exc if isinstance(exc, licence.InvalidLicense) else "the authorization code is not an IOMesh licence"
            self.events.emit(api, cr, "InvalidLicense", f"license secret {ns}/{secret_name}: {reason}", "Warning")
            return current
        self.events.emit(api, cr, "LicenseUpdated", f"{found['licenseType']} license activated from secret "
                                                    f"{ns}/{secret_name}")
        kept = {k: v for k, v in current.items() if k in ("serial", "maxPhysicalDataCapacity",
                                                            "maxPhysicalDataCapacityPerNode")}
        return {**kept, **found}


def _space(cache: int, data: int) -> dict:
    return {"dirtyCacheSpace": "0", "failureCacheSpace": "0", "failureDataSpace": "0", "provisionedDataSpace": "0",
            "totalCacheCapacity": str(cache), "totalDataCapacity": str(data), "usedCacheSpace": "0",
            "usedDataSpace": "0"}


def _trial_license(api, cr: dict) -> dict:
    """The 30-day trial license a new IOMesh cluster generates; its serial is unique per cluster."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    tag = ((cr["spec"].get("meta") or {}).get("image") or {}).get("tag") or ""
    enterprise = "enterprise" in tag
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return {"serial": str(uuid.uuid5(uuid.NAMESPACE_URL, f"iomesh-license/{cr['metadata']['uid']}")),
            "licenseType": "Trial", "softwareEdition": "ENTERPRISE" if enterprise else "COMMUNITY",
            "signDate": now.strftime(fmt), "expirationDate": (now + datetime.timedelta(days=30)).strftime(fmt),
            "maxChunkNum": 255 if enterprise else 3, "maxPhysicalDataCapacity": "0 TB",
            "maxPhysicalDataCapacityPerNode": "128 TB"}
