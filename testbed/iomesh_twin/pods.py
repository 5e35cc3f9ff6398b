"""What the (simulated) kubelet reports for IOMesh pods: a PodHook.

* CSI node plugin (image iomesh/csi-driver, --role=node): its csi-driver container talks to the local iSCSI
  redirector at 127.0.0.1:3260. On a node without a running, ready IOMesh redirector pod it crashes:
  CrashLoopBackOff, pod not Ready (2/3 containers), restartCount growing with the kubelet's back-off
  (pitfalls P1/P4). Re-evaluated whenever pods change, so it recovers once a redirector runs on the node.
* chunk and iSCSI redirector pods bind the node's address inside spec.chunk.dataCIDR /
  spec.redirector.dataCIDR; on a node without such an address they crash the same way.
"""

from __future__ import annotations

import datetime

from .util import CLUSTER_LABEL, COMPONENT_LABEL, CSI_DRIVER, IOMESH_AV, image_repo, ip_in_cidr, node_ips, \
    pod_ready, safe_get

CSI_IMAGE = "iomesh/csi-driver"
BACKOFF_START, BACKOFF_MAX = 10, 300


def crash_loop(pod: dict, container: str, message: str, now: datetime.datetime | None = None) -> dict:
    """Kubelet state of a pod whose `container` keeps exiting: restarts at 10s, 20s, 40s ... capped at 5m."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        created = datetime.datetime.strptime(pod["metadata"].get("creationTimestamp", ""), "%Y-%m-%dT%H:%M:%SZ") \
            .replace(tzinfo=datetime.timezone.utc)
        elapsed = (now - created).total_seconds()
    except ValueError:
        elapsed = 0
    restarts, backoff, at = 1, BACKOFF_START, BACKOFF_START
    while at <= elapsed:
        restarts += 1
        backoff = min(backoff * 2, BACKOFF_MAX)
        at += backoff
    meta = pod["metadata"]
    containers = {c["name"]: {"ready": True} for c in pod["spec"].get("containers") or []}
    containers[container] = {
        "ready": False, "restartCount": restarts,
        "state": {"waiting": {"reason": "CrashLoopBackOff",
                              "message": f"back-off {_dur(backoff)} restarting failed container={container} "
                                         f"pod={meta['name']}_{meta.get('namespace')}({meta.get('uid')}): {message}"}}}
    return {"phase": "Running", "ready": False, "containers": containers}


def _dur(seconds: int) -> str:
    return f"{seconds // 60}m{seconds % 60}s" if seconds >= 60 else f"{seconds}s"


def is_csi_node_plugin(pod: dict) -> str | None:
    for c in pod["spec"].get("containers") or []:
        if image_repo(c.get("image", "")) == CSI_IMAGE and "--role=node" in (c.get("args") or []):
            return c["name"]
    return None


class IOMeshPodStates:
    name = "iomesh-twin-pods"
    watches = {(IOMESH_AV, "IOMeshCluster")}

    def pod_state(self, api, pod: dict, node: dict) -> dict | None:
        container = is_csi_node_plugin(pod)
        if container:
            node_name = node["metadata"]["name"]
            redirectors = [p for p in api.list("v1", "Pod", None, f"{COMPONENT_LABEL}=iscsi-redirector,{CLUSTER_LABEL}")
                           if p["spec"].get("nodeName") == node_name
                           and (p.get("status") or {}).get("phase") == "Running" and pod_ready(p)
                           and not p["metadata"].get("deletionTimestamp")]
            if not redirectors:
                return crash_loop(pod, container, f"{CSI_DRIVER}: failed to connect to the iSCSI redirector at "
                                  "127.0.0.1:3260: connection refused (no IOMesh cluster serves this node)")
            return None
        labels = pod["metadata"].get("labels") or {}
        component, cluster = labels.get(COMPONENT_LABEL), labels.get(CLUSTER_LABEL)
        if component in ("chunk", "iscsi-redirector") and cluster:
            cr = safe_get(api, IOMESH_AV, "IOMeshCluster", cluster, pod["metadata"]["namespace"])
            if cr is None:
                return None
            part = "chunk" if component == "chunk" else "redirector"
            cidr = ((cr.get("spec") or {}).get(part) or {}).get("dataCIDR")
            if not ip_in_cidr(node_ips(node), cidr):
                main = pod["spec"]["containers"][0]["name"]
                return crash_loop(pod, main, f"no address of node {node['metadata']['name']} "
                                  f"({', '.join(node_ips(node))}) is in dataCIDR {cidr}")
        return None
