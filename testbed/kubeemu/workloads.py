"""Built-in workload controllers, scheduler and kubelet simulation.

Deployment -> ReplicaSet -> Pods (rollouts are instantaneous: the new ReplicaSet is scaled up and old
ones down in one step), StatefulSet (pods <name>-0..n-1, PVCs from volumeClaimTemplates, OrderedReady
creation), DaemonSet (one pod per eligible node, pinned with a matchFields node affinity as the real
controller does), Job (pods until `completions` succeeded or more than `backoffLimit` failed; Complete/Failed
conditions; activeDeadlineSeconds; ttlSecondsAfterFinished). The scheduler honours nodeSelector, required
node affinity, taints/tolerations, unschedulable nodes, cpu/memory/pods allocatable, required pod
anti-affinity on kubernetes.io/hostname and PVC binding state. The kubelet marks scheduled pods Running and
Ready unless a plugin PodHook decides otherwise; the containers of run-to-completion pods (see
`runs_to_completion`) exit after `pods.completionSeconds` of the testbed config. Nothing runs: images,
probes and commands are never looked at."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
from typing import Any

from .apiserver import ApiServer, random_suffix
from .controllers import set_condition
from .plugin import ClusterAPI, Controller
from .selectors import label_selector_object_matches, node_selector_terms_match, tolerates

SAFE = "bcdfghjklmnpqrstvwxz2456789"


def safe_hash(data: Any) -> str:
    """Like pod-template-hash: FNV-32a of the template, its decimal digits mapped onto the alphabet
    rand.SafeEncodeString uses."""
    h = 0x811C9DC5
    for b in json.dumps(data, sort_keys=True).encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return "".join(SAFE[int(c) % len(SAFE)] for c in str(h))


def owner_ref(obj: dict) -> dict:
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def owned_by(obj: dict, owner: dict) -> bool:
    return any(r.get("uid") == owner["metadata"]["uid"] and r.get("controller")
               for r in obj["metadata"].get("ownerReferences") or [])


def pod_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def active(obj: dict) -> bool:
    return not obj["metadata"].get("deletionTimestamp")


def drop_zero(status: dict, keep: tuple[str, ...] = ()) -> dict:
    """Go's omitempty on int32 status fields."""
    return {k: v for k, v in status.items() if v != 0 or k in keep}


def resolve_int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%"):
        pct = int(value[:-1]) * total
        return -(-pct // 100) if round_up else pct // 100
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def pod_from_template(template: dict, namespace: str, name: str, owner: dict, extra_labels: dict) -> dict:
    tmeta = template.get("metadata") or {}
    meta = {"name": name, "namespace": namespace, "labels": {**(tmeta.get("labels") or {}), **extra_labels},
            "ownerReferences": [owner_ref(owner)]}
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": json.loads(json.dumps(template["spec"]))}


# --- Deployment / ReplicaSet ------------------------------------------------------------------------

class DeploymentController(Controller):
    name = "deployment"
    watches = {("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet")}

    def reconcile(self, api: ClusterAPI) -> None:
        all_rs = api.list("apps/v1", "ReplicaSet")
        for d in api.list("apps/v1", "Deployment"):
            if active(d):
                self._sync(api, d, [rs for rs in all_rs if owned_by(rs, d)])

    def _sync(self, api: ClusterAPI, d: dict, rss: list[dict]) -> None:
        spec, meta = d["spec"], d["metadata"]
        replicas = spec.get("replicas", 1)
        template = spec["template"]
        h = safe_hash(template)
        new_rs = next((rs for rs in rss if (rs["metadata"].get("labels") or {}).get("pod-template-hash") == h), None)
        revisions = [int((rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", 0))
                     for rs in rss]
        if new_rs is None:
            labels = {**(template.get("metadata", {}).get("labels") or {}), "pod-template-hash": h}
            tpl = json.loads(json.dumps(template))
            tpl.setdefault("metadata", {})["labels"] = labels
            selector = json.loads(json.dumps(spec["selector"]))
            selector.setdefault("matchLabels", {})["pod-template-hash"] = h
            new_rs = api.create({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": f"{meta['name']}-{h}", "namespace": meta["namespace"], "labels": labels,
                             "annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                             "deployment.kubernetes.io/max-replicas": str(replicas),
                                             "deployment.kubernetes.io/revision": str(max(revisions, default=0)
                                                                                      + 1)},
                             "ownerReferences": [owner_ref(d)]},
                "spec": {"replicas": replicas, "minReadySeconds": spec.get("minReadySeconds", 0),
                         "selector": selector, "template": tpl}})
            rss = rss + [new_rs]
        elif not spec.get("paused"):
            if new_rs["spec"].get("replicas") != replicas or (new_rs["metadata"].get("annotations") or {}).get(
                    "deployment.kubernetes.io/desired-replicas") != str(replicas):
                new_rs["spec"]["replicas"] = replicas
                new_rs["metadata"].setdefault("annotations", {}).update({
                    "deployment.kubernetes.io/desired-replicas": str(replicas),
                    "deployment.kubernetes.io/max-replicas": str(replicas)})
                new_rs = api.update(new_rs)
        old = [rs for rs in rss if rs["metadata"]["uid"] != new_rs["metadata"]["uid"]]
        if not spec.get("paused"):
            for rs in old:
                if rs["spec"].get("replicas", 1) != 0:
                    rs["spec"]["replicas"] = 0
                    api.update(rs)
        limit = spec.get("revisionHistoryLimit", 10)
        idle = sorted((rs for rs in old if not (rs.get("status") or {}).get("replicas")),
                      key=lambda r: int((r["metadata"].get("annotations") or {}).get(
                          "deployment.kubernetes.io/revision", 0)))
        for rs in idle[:max(0, len(idle) - limit)]:
            api.delete("apps/v1", "ReplicaSet", rs["metadata"]["name"], meta["namespace"])
        revision = (new_rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
        if (meta.get("annotations") or {}).get("deployment.kubernetes.io/revision") != revision:
            meta.setdefault("annotations", {})["deployment.kubernetes.io/revision"] = revision
            d = api.update(d)
        self._status(api, d, new_rs, [api.get("apps/v1", "ReplicaSet", r["metadata"]["name"], meta["namespace"])
                                      or r for r in rss])

    @staticmethod
    def _status(api: ClusterAPI, d: dict, new_rs: dict, rss: list[dict]) -> None:
        spec = d["spec"]
        desired = spec.get("replicas", 1)
        st = [rs.get("status") or {} for rs in rss]
        total = sum(s.get("replicas", 0) for s in st)
        ready = sum(s.get("readyReplicas", 0) for s in st)
        available = sum(s.get("availableReplicas", 0) for s in st)
        nst = next((rs.get("status") or {} for rs in rss if rs["metadata"]["uid"] == new_rs["metadata"]["uid"]), {})
        updated = nst.get("replicas", 0)
        ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        max_unavailable = resolve_int_or_percent(ru.get("maxUnavailable", 0), desired, False) \
            if (spec.get("strategy") or {}).get("type") == "RollingUpdate" else 0
        status = dict(d.get("status") or {})
        ts = api.now()
        conds = status.get("conditions") or []
        if available >= desired - max_unavailable:
            conds = set_condition(conds, "Available", "True", "MinimumReplicasAvailable",
                                  "Deployment has minimum availability.", ts, True)
        else:
            conds = set_condition(conds, "Available", "False", "MinimumReplicasUnavailable",
                                  "Deployment does not have minimum availability.", ts, True)
        rs_name = new_rs["metadata"]["name"]
        if updated == desired and total == desired and nst.get("availableReplicas", 0) == desired:
            conds = set_condition(conds, "Progressing", "True", "NewReplicaSetAvailable",
                                  f'ReplicaSet "{rs_name}" has successfully progressed.', ts, True)
        else:
            conds = set_condition(conds, "Progressing", "True", "ReplicaSetUpdated",
                                  f'ReplicaSet "{rs_name}" is progressing.', ts, True)
        conds.sort(key=lambda c: {"Available": 0, "Progressing": 1}.get(c["type"], 2))
        new = drop_zero({"observedGeneration": d["metadata"].get("generation", 1), "replicas": total,
                         "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
                         "unavailableReplicas": max(0, desired - available)})
        new["conditions"] = conds
        if new != status:
            d["status"] = new
            api.update_status(d)


class ReplicaSetController(Controller):
    name = "replicaset"
    watches = {("apps/v1", "ReplicaSet"), ("v1", "Pod")}

    def reconcile(self, api: ClusterAPI) -> None:
        pods = api.list("v1", "Pod")
        for rs in api.list("apps/v1", "ReplicaSet"):
            if not active(rs):
                continue
            mine = [p for p in pods if owned_by(p, rs) and active(p)]
            want = rs["spec"].get("replicas", 1)
            ns = rs["metadata"]["namespace"]
            for _ in range(want - len(mine)):
                name = f"{rs['metadata']['name']}-{random_suffix()}"
                mine.append(api.create(pod_from_template(rs["spec"]["template"], ns, name, rs, {})))
            if len(mine) > want:
                # delete unscheduled, then not ready, then newest first (controller.ActivePods ordering)
                mine.sort(key=lambda p: (bool(p["spec"].get("nodeName")), pod_ready(p),
                                         p["metadata"].get("creationTimestamp", "")), reverse=False)
                for p in mine[:len(mine) - want]:
                    api.delete("v1", "Pod", p["metadata"]["name"], ns)
                mine = mine[len(mine) - want:]
            ready = sum(1 for p in mine if pod_ready(p))
            status = drop_zero({"replicas": len(mine), "fullyLabeledReplicas": len(mine), "readyReplicas": ready,
                                "availableReplicas": ready,
                                "observedGeneration": rs["metadata"].get("generation", 1)}, ("replicas",))
            if status != (rs.get("status") or {}):
                rs["status"] = status
                api.update_status(rs)


# --- StatefulSet ------------------------------------------------------------------------------------

class StatefulSetController(Controller):
    name = "statefulset"
    watches = {("apps/v1", "StatefulSet"), ("v1", "Pod"), ("v1", "PersistentVolumeClaim")}

    def reconcile(self, api: ClusterAPI) -> None:
        pods = api.list("v1", "Pod")
        for sts in api.list("apps/v1", "StatefulSet"):
            if active(sts):
                self._sync(api, sts, {p["metadata"]["name"]: p for p in pods if owned_by(p, sts)})

    @staticmethod
    def _revision(api: ClusterAPI, sts: dict) -> str:
        name, ns = sts["metadata"]["name"], sts["metadata"]["namespace"]
        rev = f"{name}-{safe_hash(sts['spec']['template'])}"
        if api.get("apps/v1", "ControllerRevision", rev, ns) is None:
            existing = api.list("apps/v1", "ControllerRevision", ns)
            number = 1 + max((r.get("revision", 0) for r in existing if owned_by(r, sts)), default=0)
            api.create({"apiVersion": "apps/v1", "kind": "ControllerRevision",
                        "metadata": {"name": rev, "namespace": ns, "ownerReferences": [owner_ref(sts)],
                                     "labels": dict(sts["spec"]["selector"].get("matchLabels") or {})},
                        "data": {"spec": {"template": sts["spec"]["template"]}}, "revision": number})
        return rev

    def _sync(self, api: ClusterAPI, sts: dict, pods: dict[str, dict]) -> None:
        spec, meta = sts["spec"], sts["metadata"]
        ns, name = meta["namespace"], meta["name"]
        want = spec.get("replicas", 1)
        rev = self._revision(api, sts)
        ordered = spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
        for i in range(want):
            pname = f"{name}-{i}"
            pod = pods.get(pname)
            if pod is not None and active(pod) and (pod["metadata"].get("labels") or {}).get(
                    "controller-revision-hash") != rev and all(pod_ready(p) for p in pods.values()):
                api.delete("v1", "Pod", pname, ns)  # rolling update: one pod at a time
                break
            if pod is None:
                for tpl in spec.get("volumeClaimTemplates") or []:
                    claim = f"{tpl['metadata']['name']}-{pname}"
                    if api.get("v1", "PersistentVolumeClaim", claim, ns) is None:
                        api.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                    "metadata": {"name": claim, "namespace": ns,
                                                 "labels": dict(spec["selector"].get("matchLabels") or {})},
                                    "spec": json.loads(json.dumps(tpl.get("spec") or {}))})
                p = pod_from_template(spec["template"], ns, pname, sts, {
                    "controller-revision-hash": rev, "statefulset.kubernetes.io/pod-name": pname})
                p["spec"]["hostname"] = pname
                if spec.get("serviceName"):
                    p["spec"]["subdomain"] = spec["serviceName"]
                vols = p["spec"].setdefault("volumes", [])
                for tpl in spec.get("volumeClaimTemplates") or []:
                    vname = tpl["metadata"]["name"]
                    vols[:] = [v for v in vols if v.get("name") != vname]
                    vols.append({"name": vname, "persistentVolumeClaim": {"claimName": f"{vname}-{pname}"}})
                pods[pname] = api.create(p)
                if ordered:
                    break
            elif ordered and not pod_ready(pod):
                break
        for pname, pod in sorted(pods.items(), key=lambda kv: -int(kv[0].rsplit("-", 1)[-1])
                                 if kv[0].rsplit("-", 1)[-1].isdigit() else 0):
            idx = pname.rsplit("-", 1)[-1]
            if idx.isdigit() and int(idx) >= want and active(pod):
                api.delete("v1", "Pod", pname, ns)
                if ordered:
                    break
        current = [api.get("v1", "Pod", f"{name}-{i}", ns) for i in range(want)]
        current = [p for p in current if p is not None and active(p)]
        updated = [p for p in current if p["metadata"]["labels"].get("controller-revision-hash") == rev]
        ready = sum(1 for p in current if pod_ready(p))
        old_status = sts.get("status") or {}
        done = len(updated) == want and ready == want
        status = drop_zero({"observedGeneration": meta.get("generation", 1), "replicas": len(current),
                            "readyReplicas": ready, "currentReplicas": len(updated) if done else len(current) - len(
                                updated), "updatedReplicas": len(updated), "availableReplicas": ready},
                           ("replicas",))
        status.update(currentRevision=rev if done or not old_status.get("currentRevision")
                      else old_status["currentRevision"], updateRevision=rev, collisionCount=0)
        if status != old_status:
            sts["status"] = status
            api.update_status(sts)


# --- DaemonSet --------------------------------------------------------------------------------------

DS_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]


class DaemonSetController(Controller):
    name = "daemonset"
    watches = {("apps/v1", "DaemonSet"), ("v1", "Pod"), ("v1", "Node")}

    def reconcile(self, api: ClusterAPI) -> None:
        nodes = api.list("v1", "Node")
        pods = api.list("v1", "Pod")
        for ds in api.list("apps/v1", "DaemonSet"):
            if active(ds):
                self._sync(api, ds, nodes, [p for p in pods if owned_by(p, ds) and active(p)])

    def _sync(self, api: ClusterAPI, ds: dict, nodes: list[dict], pods: list[dict]) -> None:
        spec, meta = ds["spec"], ds["metadata"]
        ns = meta["namespace"]
        pod_spec = spec["template"]["spec"]
        tolerations = (pod_spec.get("tolerations") or []) + DS_TOLERATIONS
        eligible = {n["metadata"]["name"] for n in nodes
                    if not fit_failures({**pod_spec, "tolerations": tolerations}, n, check_ready=False)}
        h = safe_hash(spec["template"])
        by_node: dict[str, list[dict]] = {}
        for p in pods:
            by_node.setdefault(_ds_target(p) or "", []).append(p)
        for node, plist in by_node.items():
            for p in plist if node not in eligible else plist[1:]:
                api.delete("v1", "Pod", p["metadata"]["name"], ns)
        for node in sorted(eligible):
            plist = by_node.get(node) or []
            if plist and plist[0]["metadata"]["labels"].get("controller-revision-hash") != h:
                api.delete("v1", "Pod", plist[0]["metadata"]["name"], ns)
                plist = []
            if not plist:
                p = pod_from_template(spec["template"], ns, f"{meta['name']}-{random_suffix()}", ds, {
                    "controller-revision-hash": h, "pod-template-generation": str(meta.get("generation", 1))})
                ps = p["spec"]
                ps["tolerations"] = (ps.get("tolerations") or []) + [
                    t for t in DS_TOLERATIONS if not any(x.get("key") == t["key"] for x in ps.get("tolerations") or [])]
                aff = ps.setdefault("affinity", {}).setdefault("nodeAffinity", {})
                aff["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [{"matchFields": [
                    {"key": "metadata.name", "operator": "In", "values": [node]}]}]}
                api.create(p)
        pods = [p for p in api.list("v1", "Pod", ns) if owned_by(p, ds) and active(p)]
        on_eligible = [p for p in pods if _ds_target(p) in eligible]
        ready = sum(1 for p in on_eligible if pod_ready(p) and p["spec"].get("nodeName"))
        scheduled = sum(1 for p in on_eligible if p["spec"].get("nodeName"))
        updated = sum(1 for p in on_eligible if p["metadata"]["labels"].get("controller-revision-hash") == h)
        status = drop_zero({"currentNumberScheduled": scheduled, "desiredNumberScheduled": len(eligible),
                            "numberMisscheduled": len(pods) - len(on_eligible), "numberReady": ready,
                            "observedGeneration": meta.get("generation", 1), "updatedNumberScheduled": updated,
                            "numberAvailable": ready, "numberUnavailable": len(eligible) - ready},
                           ("currentNumberScheduled", "desiredNumberScheduled", "numberMisscheduled", "numberReady"))
        if status != (ds.get("status") or {}):
            ds["status"] = status
            api.update_status(ds)


def _ds_target(pod: dict) -> str | None:
    if pod["spec"].get("nodeName"):
        return pod["spec"]["nodeName"]
    terms = (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
    for t in terms:
        for f in t.get("matchFields") or []:
            if f.get("key") == "metadata.name" and f.get("values"):
                return f["values"][0]
    return None


# --- Job ---------------------------------------------------------------------------------------------

TERMINAL = ("Succeeded", "Failed")


def _ts(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(ts: str | None) -> float | None:
    try:
        return dt.datetime.strptime(ts or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        return None


def job_finished(job: dict) -> str | None:
    """"Complete" or "Failed" once the Job has that condition True."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return c["type"]
    return None


class JobController(Controller):
    """kube-controller-manager's job controller and TTL-after-finished controller.

    A Job runs `parallelism` pods at a time (at most the completions still missing) until `completions` pods
    succeeded (without `completions`: until one succeeded and none is active) -> condition Complete,
    status.succeeded, completionTime; or until more than `backoffLimit` pods failed (for restartPolicy
    OnFailure: container restarts count) -> Failed/BackoffLimitExceeded; or until activeDeadlineSeconds
    passed -> Failed/DeadlineExceeded. Active pods of a finished Job are deleted. Failed pods are replaced at
    once (the real controller backs off 10s, 20s, ...). Counts are the pods present (the legacy tracking
    without the job-tracking finalizer), never lower than what status already recorded. A suspended Job
    runs no pods. ttlSecondsAfterFinished deletes the finished Job (and, by garbage collection, its pods)."""
    name = "job"
    watches = {("batch/v1", "Job"), ("v1", "Pod")}

    def reconcile(self, api: ClusterAPI) -> float | None:
        pods = api.list("v1", "Pod")
        wake: float | None = None
        for job in api.list("batch/v1", "Job"):
            if not active(job):
                continue
            after = self._sync(api, job, [p for p in pods if owned_by(p, job)])
            if after is not None:
                wake = after if wake is None else min(wake, after)
        return wake

    def _sync(self, api: ClusterAPI, job: dict, pods: list[dict]) -> float | None:
        spec, meta = job["spec"], job["metadata"]
        ns = meta["namespace"]
        now = time.time()
        status = dict(job.get("status") or {})
        done = job_finished(job)
        if done:
            ttl = spec.get("ttlSecondsAfterFinished")
            if ttl is None:
                return None
            cond = next(c for c in status.get("conditions") or [] if c.get("type") == done)
            finished = _epoch(status.get("completionTime") or cond.get("lastTransitionTime")) or now
            if now < finished + ttl:
                return finished + ttl - now
            api.delete("batch/v1", "Job", meta["name"], ns)
            return None
        running = [p for p in pods if active(p) and (p.get("status") or {}).get("phase") not in TERMINAL]
        if spec.get("suspend"):
            for p in running:
                api.delete("v1", "Pod", p["metadata"]["name"], ns)
            return None
        start = status.get("startTime") or _ts(now)
        succeeded = max(status.get("succeeded", 0),
                        sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded"))
        failed = max(status.get("failed", 0),
                     sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Failed"))
        restarts = sum(c.get("restartCount", 0) for p in running
                       for c in (p.get("status") or {}).get("containerStatuses") or []) \
            if spec["template"]["spec"].get("restartPolicy") == "OnFailure" else 0
        completions = spec.get("completions")
        parallelism = spec.get("parallelism", 1)
        deadline = spec.get("activeDeadlineSeconds")
        wake = None
        finish: tuple[str, str, str] | None = None
        if (completions is not None and succeeded >= completions) or \
                (completions is None and succeeded and not running):
            finish = ("Complete", "", "")
        elif failed + restarts > spec.get("backoffLimit", 6):
            finish = ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
        elif deadline is not None and now >= (_epoch(start) or now) + deadline:
            finish = ("Failed", "DeadlineExceeded", "Job was active longer than specified deadline")
        elif deadline is not None:
            wake = (_epoch(start) or now) + deadline - now
        ts = _ts(now)
        if finish is not None:
            for p in running:
                api.delete("v1", "Pod", p["metadata"]["name"], ns)
            running = []
            cond = {"type": finish[0], "status": "True", "lastProbeTime": ts, "lastTransitionTime": ts}
            if finish[1]:
                cond.update(reason=finish[1], message=finish[2])
            status["conditions"] = [*(status.get("conditions") or []), cond]
            if finish[0] == "Complete":
                status["completionTime"] = ts
        else:
            want = parallelism if completions is None else min(parallelism, completions - succeeded)
            for _ in range(max(0, want - len(running))):
                pod = pod_from_template(spec["template"], ns, f"{meta['name']}-{random_suffix()}", job, {})
                pod["metadata"]["generateName"] = f"{meta['name']}-"
                running.append(api.create(pod))
        new = {**status, "startTime": start, "active": len(running), "succeeded": succeeded, "failed": failed,
               "ready": sum(1 for p in running if pod_ready(p))}
        new = drop_zero(new, ("ready",))
        if new != (job.get("status") or {}):
            job["status"] = new
            api.update_status(job)
        return wake


# --- scheduler --------------------------------------------------------------------------------------

_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60, "n": 1e-9, "u": 1e-6,
           "m": 1e-3, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}


def quantity(q: Any) -> float:
    if isinstance(q, (int, float)):
        return float(q)
    m = re.fullmatch(r"([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([A-Za-z]*)", str(q).strip())
    if not m:
        return 0.0
    return float(m.group(1)) * _SUFFIX.get(m.group(2), 1)


def pod_requests(spec: dict) -> dict[str, float]:
    out = {"cpu": 0.0, "memory": 0.0}
    for c in spec.get("containers") or []:
        req = (c.get("resources") or {}).get("requests") or (c.get("resources") or {}).get("limits") or {}
        for r in out:
            out[r] += quantity(req.get(r, 0))
    for c in spec.get("initContainers") or []:
        req = (c.get("resources") or {}).get("requests") or {}
        for r in out:
            out[r] = max(out[r], quantity(req.get(r, 0)))
    return out


def node_ready(node: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


def fit_failures(pod_spec: dict, node: dict, check_ready: bool = True) -> list[str]:
    """Reasons (in the scheduler's words) why this pod cannot go to this node; [] when it fits."""
    reasons = []
    labels = node["metadata"].get("labels") or {}
    tolerations = pod_spec.get("tolerations") or []
    taints = list((node.get("spec") or {}).get("taints") or [])
    if (node.get("spec") or {}).get("unschedulable"):
        taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
    if check_ready and not node_ready(node):
        taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
    for t in taints:
        if t.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(t, tolerations):
            reasons.append(f"node(s) had untolerated taint {{{t.get('key')}: {t.get('value', '')}}}"
                           if t.get("value") else f"node(s) had untolerated taint {{{t.get('key')}: }}")
            break
    selector = pod_spec.get("nodeSelector") or {}
    terms = ((((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms"))
    if any(labels.get(k) != v for k, v in selector.items()) or (terms is not None and not
                                                                 node_selector_terms_match(terms, node)):
        reasons.append("node(s) didn't match Pod's node affinity/selector")
    return reasons


class Scheduler(Controller):
    name = "default-scheduler"
    watches = {("v1", "Pod"), ("v1", "Node"), ("v1", "PersistentVolumeClaim")}

    def reconcile(self, api: ClusterAPI) -> None:
        pods = api.list("v1", "Pod")
        pending = [p for p in pods if not p["spec"].get("nodeName") and active(p)
                   and p["spec"].get("schedulerName", "default-scheduler") == "default-scheduler"]
        if not pending:
            return
        nodes = sorted(api.list("v1", "Node"), key=lambda n: n["metadata"]["name"])
        usage: dict[str, dict[str, float]] = {n["metadata"]["name"]: {"cpu": 0.0, "memory": 0.0, "pods": 0}
                                              for n in nodes}
        placed = [p for p in pods if p["spec"].get("nodeName") and (p.get("status") or {}).get("phase") not in (
            "Succeeded", "Failed")]
        for p in placed:
            u = usage.get(p["spec"]["nodeName"])
            if u is not None:
                req = pod_requests(p["spec"])
                u["cpu"] += req["cpu"]
                u["memory"] += req["memory"]
                u["pods"] += 1
        for pod in sorted(pending, key=lambda p: p["metadata"].get("creationTimestamp", "")):
            self._schedule(api, pod, nodes, usage, placed)

    def _schedule(self, api: ClusterAPI, pod: dict, nodes: list[dict], usage: dict, placed: list[dict]) -> None:
        spec, ns = pod["spec"], pod["metadata"]["namespace"]
        blocked = self._volume_problem(api, pod)
        volume_terms = self._volume_node_terms(api, pod)
        counts: dict[str, int] = {}
        feasible = []
        req = pod_requests(spec)
        for node in nodes if not blocked else []:
            name = node["metadata"]["name"]
            reasons = fit_failures(spec, node)
            alloc = (node.get("status") or {}).get("allocatable") or {}
            for r in ("cpu", "memory"):
                if r in alloc and req[r] and usage[name][r] + req[r] > quantity(alloc[r]):
                    reasons.append(f"Insufficient {r}")
            if "pods" in alloc and usage[name]["pods"] + 1 > quantity(alloc["pods"]):
                reasons.append("Too many pods")
            if self._anti_affinity_violated(spec, ns, name, placed):
                reasons.append("node(s) didn't match pod anti-affinity rules")
            # The VolumeBinding plugin: a bound volume's required node affinity limits where its pod may run.
            if any(not node_selector_terms_match(terms, node) for terms in volume_terms):
                reasons.append("node(s) had volume node affinity conflict")
            for r in reasons:
                counts[r] = counts.get(r, 0) + 1
            if not reasons:
                feasible.append(node)
        status = dict(pod.get("status") or {})
        ts = api.now()
        if not feasible:
            if blocked:
                msg = f"0/{len(nodes)} nodes are available: {blocked}."
            else:
                detail = ", ".join(f"{n} {r}" for r, n in sorted(counts.items(), key=lambda kv: kv[0]))
                msg = (f"0/{len(nodes)} nodes are available: {detail}. preemption: 0/{len(nodes)} nodes are "
                       f"available: {len(nodes)} Preemption is not helpful for scheduling.")
            conds = set_condition(status.get("conditions") or [], "PodScheduled", "False", "Unschedulable", msg, ts)
            for c in conds:
                if c["type"] == "PodScheduled":
                    c["lastProbeTime"] = None
            if conds != status.get("conditions"):
                status["conditions"] = conds
                pod["status"] = status
                api.update_status(pod)
            return
        node = min(feasible, key=lambda n: (usage[n["metadata"]["name"]]["pods"], n["metadata"]["name"]))
        name = node["metadata"]["name"]
        pod["spec"]["nodeName"] = name
        pod = api.update(pod)
        pod["status"] = {**(pod.get("status") or {}), "conditions": set_condition(
            [c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") != "PodScheduled"],
            "PodScheduled", "True", "", "", ts)}
        for c in pod["status"]["conditions"]:
            if c["type"] == "PodScheduled":
                c.pop("reason", None)
                c.pop("message", None)
                c["lastProbeTime"] = None
        api.update_status(pod)
        usage[name]["pods"] += 1
        usage[name]["cpu"] += req["cpu"]
        usage[name]["memory"] += req["memory"]
        placed.append(pod)

    @staticmethod
    def _anti_affinity_violated(spec: dict, ns: str, node: str, placed: list[dict]) -> bool:
        terms = ((spec.get("affinity") or {}).get("podAntiAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution") or []
        for term in terms:
            if term.get("topologyKey") != "kubernetes.io/hostname":
                continue
            namespaces = term.get("namespaces") or [ns]
            for p in placed:
                if p["spec"].get("nodeName") == node and p["metadata"].get("namespace") in namespaces and \
                        label_selector_object_matches(term.get("labelSelector"), p["metadata"].get("labels")):
                    return True
        return False

    @staticmethod
    def _volume_node_terms(api: ClusterAPI, pod: dict) -> list[list[dict]]:
        """The nodeSelectorTerms of the required node affinity of each bound PersistentVolume the pod uses."""
        ns = pod["metadata"]["namespace"]
        out = []
        for v in pod["spec"].get("volumes") or []:
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            pvc = api.get("v1", "PersistentVolumeClaim", claim, ns) if claim else None
            volume = (pvc or {}).get("spec", {}).get("volumeName")
            pv = api.get("v1", "PersistentVolume", volume) if volume else None
            terms = ((((pv or {}).get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get(
                "nodeSelectorTerms")
            if terms is not None:
                out.append(terms)
        return out

    @staticmethod
    def _volume_problem(api: ClusterAPI, pod: dict) -> str | None:
        ns = pod["metadata"]["namespace"]
        for v in pod["spec"].get("volumes") or []:
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            pvc = api.get("v1", "PersistentVolumeClaim", claim, ns)
            if pvc is None:
                return f'persistentvolumeclaim "{claim}" not found'
            if pvc["spec"].get("volumeName"):
                continue
            sc = api.get("storage.k8s.io/v1", "StorageClass", pvc["spec"].get("storageClassName") or "")
            if sc is None or sc.get("volumeBindingMode") != "WaitForFirstConsumer":
                return "pod has unbound immediate PersistentVolumeClaims"
        return None


# --- kubelet ----------------------------------------------------------------------------------------

HELM_HOOK = "helm.sh/hook"
RUN_SECONDS = "testbed.kubeemu/run-seconds"  # pod annotations: how long this pod's containers run,
EXIT_CODE = "testbed.kubeemu/exit-code"      # and the code they exit with (default 0)


def runs_to_completion(pod: dict) -> bool:
    """Whether the simulated containers of this pod exit by themselves.

    Nothing runs in kubeemu, so it cannot tell `echo done` from `sleep 3600`; it decides by what the pod is
    for. Pods of a Job (owner kind Job) exist to complete, and helm's contract for hook pods (annotation
    helm.sh/hook, owned by nobody) is that they run to completion: helm waits for phase Succeeded. Both need
    restartPolicy Never or OnFailure. Every other pod keeps running, also a bare restartPolicy Never pod (e.g.
    a probe pod that ends in `exec sleep 3600` and is expected to stay Ready)."""
    if pod["spec"].get("restartPolicy", "Always") == "Always":
        return False
    owner = next((r for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")), None)
    if owner is not None:
        return owner.get("kind") == "Job" and str(owner.get("apiVersion", "")).startswith("batch/")
    return HELM_HOOK in (pod["metadata"].get("annotations") or {})


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


class Kubelet(Controller):
    """Reports status for scheduled pods. PodHooks (plugins) may return a state such as
    {"phase": "Running", "ready": False, "containerState": {"waiting": {"reason": "CrashLoopBackOff"}},
    "restartCount": 4}; the default is Running and Ready with every container running. The containers of
    run-to-completion pods run `completion_seconds` (annotation testbed.kubeemu/run-seconds) and then exit with
    code 0 (annotation testbed.kubeemu/exit-code): Succeeded, or Failed (restartPolicy Never), or restarted in
    place with CrashLoopBackOff (OnFailure). A pod in phase Succeeded or Failed is never changed again."""
    name = "kubelet"

    def __init__(self, server: ApiServer, pod_hooks: list, completion_seconds: float = 3.0):
        self.server, self.pod_hooks = server, pod_hooks
        self.completion_seconds = completion_seconds
        self.watches = {("v1", "Pod"), ("v1", "Node")}
        for h in pod_hooks:
            self.watches |= set(getattr(h, "watches", set()) or set())
        self._ips: dict[str, int] = {}
        self._started: dict[str, float] = {}  # pod uid -> when its containers started (sub-second precision)

    def reconcile(self, api: ClusterAPI) -> float | None:
        nodes = {n["metadata"]["name"]: n for n in api.list("v1", "Node")}
        wake: float | None = None
        now = time.time()
        seen = set()
        for pod in api.list("v1", "Pod"):
            seen.add(pod["metadata"]["uid"])
            node = nodes.get(pod["spec"].get("nodeName") or "")
            if node is None or not active(pod) or (pod.get("status") or {}).get("phase") in TERMINAL:
                continue
            state = None
            for hook in self.pod_hooks:
                state = hook.pod_state(api, json.loads(json.dumps(pod)), node)
                if state is not None:
                    break
            if state is None and runs_to_completion(pod):
                state, after = self._run(pod, now)
                if after is not None:
                    wake = after if wake is None else min(wake, after)
            status = self._status(api, pod, node, state or {})
            if status != pod.get("status"):
                pod["status"] = status
                api.update_status(pod)
        self._started = {uid: t for uid, t in self._started.items() if uid in seen}
        return wake

    def _run(self, pod: dict, now: float) -> tuple[dict, float | None]:
        """(state, seconds until it changes) of a run-to-completion pod."""
        ann = pod["metadata"].get("annotations") or {}
        secs = max(0.0, _number(ann.get(RUN_SECONDS), self.completion_seconds))
        code = int(_number(ann.get(EXIT_CODE), 0))
        uid = pod["metadata"]["uid"]
        if uid not in self._started:
            running = [_epoch(((c.get("state") or {}).get("running") or {}).get("startedAt"))
                       for c in (pod.get("status") or {}).get("containerStatuses") or []]
            self._started[uid] = min([t for t in running if t is not None] or [now])
        started = self._started[uid]
        elapsed = now - started
        if elapsed < secs:
            return {}, secs - elapsed
        exited = {"exitCode": code, "reason": "Completed" if code == 0 else "Error", "startedAt": _ts(started),
                  "finishedAt": _ts(started + secs)}
        if code == 0:
            return {"phase": "Succeeded", "ready": False, "containerState": {"terminated": exited}}, None
        if pod["spec"].get("restartPolicy") == "Never":
            return {"phase": "Failed", "ready": False, "containerState": {"terminated": exited}}, None
        # OnFailure: restarted in place after a back-off of 10s, 20s, ... 5m, each run lasting `secs`
        restarts, backoff, next_exit = 1, 10.0, secs + 10.0 + secs
        while next_exit <= elapsed:
            restarts += 1
            backoff = min(backoff * 2, 300.0)
            next_exit += backoff + secs
        meta = pod["metadata"]
        return {"phase": "Running", "ready": False, "restartCount": restarts, "containerState": {"waiting": {
            "reason": "CrashLoopBackOff", "message": f"back-off {int(backoff)}s restarting failed container "
            f"pod={meta['name']}_{meta.get('namespace')}({uid})"}}}, next_exit - elapsed

    def _pod_ip(self, pod: dict, node: dict) -> str:
        cidr = (node.get("spec") or {}).get("podCIDR") or "10.244.0.0/24"
        base = cidr.split("/")[0].rsplit(".", 1)[0]
        n = self._ips.get(base, 1) + 1
        self._ips[base] = n if n < 254 else 1
        return f"{base}.{n}"

    def _status(self, api: ClusterAPI, pod: dict, node: dict, state: dict) -> dict:
        old = pod.get("status") or {}
        ts = api.now()
        phase = state.get("phase", "Running")
        ready = state.get("ready", phase == "Running")
        addresses = (node.get("status") or {}).get("addresses") or []
        host_ip = next((a["address"] for a in addresses if a.get("type") == "InternalIP"), "")
        pod_ip = host_ip if pod["spec"].get("hostNetwork") else (old.get("podIP") or self._pod_ip(pod, node))
        start = old.get("startTime") or ts
        per_container = state.get("containers") or {}
        statuses = []
        old_cs = {c["name"]: c for c in old.get("containerStatuses") or []}
        for c in pod["spec"].get("containers") or []:
            cstate = per_container.get(c["name"], {})
            default_state = {"running": {"startedAt": old_cs.get(c["name"], {}).get("state", {}).get(
                "running", {}).get("startedAt", start)}} if phase == "Running" else (
                {"terminated": {"exitCode": 0 if phase == "Succeeded" else 1, "reason": "Completed" if phase ==
                                "Succeeded" else "Error", "startedAt": start, "finishedAt": start}}
                if phase in ("Succeeded", "Failed") else {"waiting": {"reason": "ContainerCreating"}})
            cstate_obj = cstate.get("state") or state.get("containerState") or default_state
            digest = hashlib.sha256(c.get("image", "").encode()).hexdigest()
            cid = hashlib.sha256(f"{pod['metadata']['uid']}/{c['name']}".encode()).hexdigest()
            statuses.append({"name": c["name"], "image": c.get("image", ""),
                             "imageID": f"{c.get('image', '').split(':')[0]}@sha256:{digest}",
                             "containerID": f"containerd://{cid}", "ready": cstate.get("ready", ready),
                             "restartCount": cstate.get("restartCount", state.get("restartCount", 0)),
                             "started": "running" in cstate_obj, "state": cstate_obj})
        conds = [c for c in old.get("conditions") or [] if c.get("type") == "PodScheduled"] or [
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": ts}]
        flag = "True" if ready else "False"
        for ctype, value in (("Initialized", "True"), ("Ready", flag), ("ContainersReady", flag)):
            if phase in TERMINAL:
                reason, message = "PodCompleted", ""
            elif value == "True":
                reason, message = "", ""
            else:
                reason, message = "ContainersNotReady", "containers with unready status: [" + " ".join(
                    c["name"] for c in statuses if not c["ready"]) + "]"
            conds = set_condition(conds, ctype, value, reason, message, ts)
        for c in conds:
            c.setdefault("lastProbeTime", None)
            for k in ("reason", "message"):
                if not c.get(k):
                    c.pop(k, None)
        order = {"Initialized": 0, "Ready": 1, "ContainersReady": 2, "PodScheduled": 3}
        conds.sort(key=lambda c: order.get(c["type"], 9))
        status = {"phase": phase, "conditions": conds, "hostIP": host_ip, "podIP": pod_ip,
                  "podIPs": [{"ip": pod_ip}], "startTime": start, "containerStatuses": statuses,
                  "qosClass": old.get("qosClass", "BestEffort")}
        for k in ("reason", "message"):
            if state.get(k):
                status[k] = state[k]
        return status
