"""Helpers shared by the IOMesh twin's controllers. Everything goes through the plugin contract's
ClusterAPI (plain dicts); nothing here reaches into the emulator."""

from __future__ import annotations

import copy
import ipaddress
import re
import threading
from typing import Any, Iterable

from kubeemu.plugin import ApiError

IOMESH_AV = "iomesh.com/v1alpha1"
ZK_AV = "zookeeper.pravega.io/v1beta1"
NDM_AV = "openebs.io/v1alpha1"
CSI_DRIVER = "com.iomesh.csi-driver"

# Labels the twin's operator puts on the pods it creates (IOMesh's own label set is not documented,
# except iomesh.com/meta-leader on the meta leader).
CLUSTER_LABEL = "iomesh.com/cluster-name"
COMPONENT_LABEL = "app.kubernetes.io/component"
META_LEADER_LABEL = "iomesh.com/meta-leader"


def safe_list(api, api_version: str, kind: str, namespace: str | None = None) -> list[dict]:
    """List, or [] while the kind's CRD is not installed (the emulator answers 404)."""
    try:
        return api.list(api_version, kind, namespace)
    except ApiError as e:
        if e.code == 404:
            return []
        raise


def safe_get(api, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
    try:
        return api.get(api_version, kind, name, namespace)
    except ApiError as e:
        if e.code == 404:
            return None
        raise


TWIN_SETTINGS = "iomeshTwin"


def twin_settings(api) -> dict:
    """The twin's settings (testbed config `iomeshTwin`) as they are now: runtime changes a test made through the
    emulator's /_testbed/settings/iomeshTwin merged over the start config (ClusterAPI.settings)."""
    settings = getattr(api, "settings", None)
    if callable(settings):
        return settings(TWIN_SETTINGS)
    return dict(((getattr(api, "config", None) or {}).get(TWIN_SETTINGS)) or {})


def operator_delay(api) -> float:
    """iomeshTwin.operatorDelaySeconds (default 0): how late a slow operator starts on a change."""
    try:
        return max(0.0, float(twin_settings(api).get("operatorDelaySeconds") or 0))
    except (TypeError, ValueError):
        return 0.0


class ReactionDelay:
    """A slow operator (iomeshTwin.operatorDelaySeconds): it starts reconciling a change of an object (its
    creation, a new metadata.generation, its deletion) only `seconds` after it first saw that change; until then
    it does nothing for the object (no workloads, no status). A change it has started on is carried through
    without further delay. Times are taken when the controller runs (after --delay for a client's write)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[tuple, float, bool]] = {}  # uid -> (change, first seen at, started)

    def remaining(self, obj: dict, seconds: float, now: float) -> float:
        """Seconds until the operator starts on the object's current change; 0: go ahead."""
        meta = obj["metadata"]
        change = (meta.get("generation"), bool(meta.get("deletionTimestamp")))
        seen = self._seen.get(meta["uid"])
        if seen is None or seen[0] != change:
            seen = (change, now, False)
        left = 0.0 if seen[2] else max(0.0, seen[1] + seconds - now)
        self._seen[meta["uid"]] = (change, seen[1], left == 0.0)
        return left

    def due(self, objects: list[dict], seconds: float, now: float) -> tuple[list[dict], float | None]:
        """(the objects to reconcile now, seconds until the next one is due or None); forgets objects gone."""
        present = {o["metadata"]["uid"] for o in objects}
        self._seen = {uid: v for uid, v in self._seen.items() if uid in present}
        ready, waits = [], []
        for obj in objects:
            left = self.remaining(obj, seconds, now)
            if left > 0:
                waits.append(left)
            else:
                ready.append(obj)
        return ready, (min(waits) if waits else None)


def active(obj: dict) -> bool:
    return not obj["metadata"].get("deletionTimestamp")


def pod_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def pod_running_ready(pod: dict) -> bool:
    return bool(pod["spec"].get("nodeName")) and (pod.get("status") or {}).get("phase") == "Running" \
        and pod_ready(pod) and active(pod)


def owner_ref(obj: dict, controller: bool = True) -> dict:
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": controller, "blockOwnerDeletion": True}


def owned_by(obj: dict, owner: dict) -> bool:
    return any(r.get("uid") == owner["metadata"]["uid"] for r in obj["metadata"].get("ownerReferences") or [])


# --- recognising the shared IOMesh processes by what their pods run ---------------------------------

def image_repo(image: str) -> str:
    """docker.io/iomesh/csi-driver:v2.6.0 -> iomesh/csi-driver"""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: name.rfind(":")]
    parts = name.split("/")
    return "/".join(parts[-2:])


def containers_of(workload: dict) -> list[dict]:
    return ((workload.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []


def _repos(repo: str | tuple[str, ...]) -> tuple[str, ...]:
    return (repo,) if isinstance(repo, str) else repo


def runs_image(workload: dict, repo: str | tuple[str, ...], arg: str | None = None) -> bool:
    """Whether a container runs an image of `repo` (one repository, or the ones chart versions use for it)."""
    for c in containers_of(workload):
        if image_repo(c.get("image", "")) in _repos(repo) and (arg is None or arg in (c.get("args") or [])):
            return True
    return False


def env_value(workload: dict, repo: str | tuple[str, ...], name: str) -> str | None:
    for c in containers_of(workload):
        if image_repo(c.get("image", "")) in _repos(repo):
            for e in c.get("env") or []:
                if e.get("name") == name:
                    return e.get("value", "")
    return None


def workloads(api, kind: str, repo: str | tuple[str, ...], arg: str | None = None) -> list[dict]:
    return [w for w in api.list("apps/v1", kind) if active(w) and runs_image(w, repo, arg)]


def available(deployment: dict) -> bool:
    return (deployment.get("status") or {}).get("availableReplicas", 0) > 0


def pods_of(api, workload: dict, pods: list[dict] | None = None) -> list[dict]:
    ns = workload["metadata"]["namespace"]
    sel = (workload.get("spec") or {}).get("selector") or {}
    if pods is None:
        match = ",".join(f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items()))
        pods = api.list("v1", "Pod", ns, match or None)
    return [p for p in pods if p["metadata"].get("namespace") == ns and active(p)
            and selector_matches(sel, p["metadata"].get("labels"))]


# --- label selectors (metav1.LabelSelector) ----------------------------------------------------------

class BadSelector(ValueError):
    pass


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """metav1.LabelSelector semantics; an empty selector matches everything. Raises BadSelector
    for what LabelSelectorAsSelector rejects."""
    labels = labels or {}
    selector = selector or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op in ("In", "NotIn") and not values:
            raise BadSelector(f"for 'in', 'notin' operators, values set can't be empty (key {key})")
        if op in ("Exists", "DoesNotExist") and values:
            raise BadSelector(f"values set must be empty for exists and does not exist (key {key})")
        if op == "In":
            ok = key in labels and labels[key] in values
        elif op == "NotIn":
            ok = key not in labels or labels[key] not in values
        elif op == "Exists":
            ok = key in labels
        elif op == "DoesNotExist":
            ok = key not in labels
        else:
            raise BadSelector(f"{op!r} is not a valid label selector operator")
        if not ok:
            return False
    return True


# --- nodes -------------------------------------------------------------------------------------------

def node_ip(node: dict | None) -> str:
    for a in ((node or {}).get("status") or {}).get("addresses") or []:
        if a.get("type") == "InternalIP":
            return a.get("address", "")
    return ""


def node_ips(node: dict | None) -> list[str]:
    return [a["address"] for a in ((node or {}).get("status") or {}).get("addresses") or []
            if a.get("type") in ("InternalIP", "ExternalIP") and a.get("address")]


def ip_in_cidr(ips: Iterable[str], cidr: str | None) -> str | None:
    """First address inside the CIDR, or None (also for an unparsable CIDR)."""
    try:
        net = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return None
    for ip in ips:
        try:
            if ipaddress.ip_address(ip) in net:
                return ip
        except ValueError:
            continue
    return None


# --- quantities --------------------------------------------------------------------------------------

_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "k": 10**3, "K": 10**3,
           "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "": 1}


def bytes_of(q: Any) -> int:
    if isinstance(q, (int, float)):
        return int(q)
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGTP]i?|k)?B?\s*", str(q))
    if not m:
        raise ValueError(f"not a size: {q!r}")
    return int(float(m.group(1)) * _SUFFIX[m.group(2) or ""])


# --- writes ------------------------------------------------------------------------------------------

def ensure(api, desired: dict, update: bool = True) -> dict:
    """Create `desired`, or replace the existing object's spec/labels/annotations/ownerReferences with it.
    Updating with unchanged content is a no-op on the emulator (resourceVersion kept, no event)."""
    meta = desired["metadata"]
    cur = api.get(desired["apiVersion"], desired["kind"], meta["name"], meta.get("namespace"))
    if cur is None:
        return api.create(desired)
    if not update or not active(cur):
        return cur
    body = copy.deepcopy(cur)
    for k, v in desired.items():
        if k not in ("metadata", "status", "apiVersion", "kind"):
            body[k] = copy.deepcopy(v)
    bm = body["metadata"]
    for k in ("labels", "annotations"):
        if meta.get(k):
            bm[k] = {**(bm.get(k) or {}), **meta[k]}
    if meta.get("ownerReferences"):
        bm["ownerReferences"] = meta["ownerReferences"]
    if body == cur:
        return cur
    return api.update(body)


def set_status(api, obj: dict, status: dict, subresource: bool = True) -> dict:
    if (obj.get("status") or {}) == status:
        return obj
    obj = copy.deepcopy(obj)
    obj["status"] = status
    return api.update_status(obj) if subresource else api.update(obj)


def condition(conds: list[dict], ctype: str, status: str, reason: str, message: str, ts: str) -> list[dict]:
    out = [dict(c) for c in conds or []]
    cur = next((c for c in out if c.get("type") == ctype), None)
    if cur is None:
        out.append({"type": ctype, "status": status, "reason": reason, "message": message,
                    "lastTransitionTime": ts, "lastUpdateTime": ts})
        return out
    if cur.get("status") != status:
        cur["lastTransitionTime"] = ts
    if (cur.get("status"), cur.get("reason"), cur.get("message")) != (status, reason, message):
        cur["lastUpdateTime"] = ts
    cur.update(status=status, reason=reason, message=message)
    return out


class Events:
    """Event recorder that, like client-go's, does not repeat an identical event for the same object."""

    def __init__(self):
        self._seen: set[tuple] = set()
        self._lock = threading.Lock()

    def emit(self, api, involved: dict, reason: str, message: str, type: str = "Normal") -> None:
        key = (involved["metadata"].get("uid"), reason, message)
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
        api.event(involved, reason, message, type)

    def forget(self, involved: dict, reason: str | None = None) -> None:
        uid = involved["metadata"].get("uid")
        with self._lock:
            self._seen = {k for k in self._seen if not (k[0] == uid and (reason is None or k[1] == reason))}
