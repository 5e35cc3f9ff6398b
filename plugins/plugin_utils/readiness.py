# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness of IOMesh objects, judged from what kubernetes.core.k8s_info returned.

Each check returns {"ready": bool, "expected": str, "seen": str, "notes": [str]} so that a bounded wait
can end with a message that says what it expected and what it saw (house style), and so that the
pitfall-P1 crash loop of the CSI node plugin on other clusters' nodes is reported as expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence


def _result(ready: bool, expected: str, seen: str, notes: Sequence[str] = ()) -> dict:
    return {"ready": bool(ready), "expected": expected, "seen": seen, "notes": list(notes)}


def _name(obj: Mapping) -> str:
    return (obj.get("metadata") or {}).get("name", "?")


def _pod_ready(pod: Mapping) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def _pod_state(pod: Mapping) -> str:
    """Phase, or the reason a container waits (CrashLoopBackOff, ImagePullBackOff, ...), or Unschedulable."""
    status = pod.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return f"Pending ({cond.get('reason') or 'unscheduled'}: {cond.get('message') or 'no node fits'})"
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return waiting["reason"]
    phase = status.get("phase") or "Unknown"
    return "Ready" if _pod_ready(pod) else (phase if phase != "Running" else "Running, not ready")


def _pick(resources: Sequence[Mapping], name: str) -> Mapping | None:
    """The object called `name` in a k8s_info list (read by name or as a whole namespace)."""
    return next((obj for obj in resources if _name(obj) == name), None)


def deployment(resources: Sequence[Mapping], name: str) -> dict:
    expected = f"Deployment {name} with all replicas available"
    dep = _pick(resources, name)
    if dep is None:
        return _result(False, expected, f"Deployment {name} does not exist")
    want = (dep.get("spec") or {}).get("replicas", 1)
    status = dep.get("status") or {}
    available = status.get("availableReplicas") or 0
    updated = status.get("updatedReplicas") or 0
    current = (status.get("observedGeneration") or 0) >= ((dep.get("metadata") or {}).get("generation") or 0)
    ready = current and available >= want and updated >= want
    return _result(ready, expected, f"{available}/{want} available, {updated} updated" + ("" if current else ", rollout not observed yet"))


def daemonset(resources: Sequence[Mapping], name: str) -> dict:
    """A DaemonSet whose pods are ready on every node it is scheduled to (counts from status, P22)."""
    expected = f"DaemonSet {name} ready on every node it runs on"
    ds = _pick(resources, name)
    if ds is None:
        return _result(False, expected, f"DaemonSet {name} does not exist")
    status = ds.get("status") or {}
    desired = status.get("desiredNumberScheduled") or 0
    ready_count = status.get("numberReady") or 0
    return _result(desired > 0 and ready_count >= desired, expected, f"{ready_count}/{desired} ready")


def zookeeper(resources: Sequence[Mapping], name: str) -> dict:
    expected = f"ZookeeperCluster {name} with all replicas ready"
    zk = _pick(resources, name)
    if zk is None:
        return _result(False, expected, f"ZookeeperCluster {name} does not exist")
    want = (zk.get("spec") or {}).get("replicas", 3)
    have = (zk.get("status") or {}).get("readyReplicas") or 0
    return _result(have >= want, expected, f"{have}/{want} ready replicas")


def _named(pods: Sequence[Mapping], name_pattern: str | None) -> list:
    return [p for p in pods if not name_pattern or re.search(name_pattern, _name(p))]


def pods_on_nodes(pods: Sequence[Mapping], what: str, nodes: Sequence[str], count: int | None = None,
                  every_node: bool = False, name_pattern: str | None = None) -> dict:
    """Pods (of one StatefulSet or DaemonSet) ready, all on `nodes`; `every_node`: one ready pod per node.

    `name_pattern` (a regular expression) picks the pods out of a whole namespace's list.
    """
    pods = _named(pods, name_pattern)
    allowed = set(nodes)
    by_state = {}
    stray, ready_nodes = [], set()
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and node not in allowed:
            stray.append(f"{_name(pod)} on {node}")
        state = _pod_state(pod)
        by_state.setdefault(state, []).append(_name(pod) + (f"@{node}" if node else ""))
        if state == "Ready" and node in allowed:
            ready_nodes.add(node)
    if every_node:
        expected = f"{what} ready on each of {', '.join(sorted(allowed))} and nowhere else"
        ready = ready_nodes == allowed and not stray
    else:
        expected = f"{count} {what} pod(s) ready, only on {', '.join(sorted(allowed))}"
        ready = len(by_state.get("Ready", [])) >= (count or 0) and not stray and len(pods) >= (count or 0)
    seen = "; ".join(f"{state}: {', '.join(sorted(names))}" for state, names in sorted(by_state.items())) or "no pods"
    if stray:
        seen += f"; OUTSIDE the cluster's nodes: {', '.join(sorted(stray))}"
    return _result(ready, expected, seen)


def csi_node_plugin(pods: Sequence[Mapping], nodes: Sequence[str], pending_nodes: Sequence[str] = (),
                    name_pattern: str | None = None) -> dict:
    """CSI node plugin ready on `nodes`; not ready on `pending_nodes` is expected (P1), anywhere else a note."""
    pods = _named(pods, name_pattern)
    mine = [p for p in pods if (p.get("spec") or {}).get("nodeName") in set(nodes)]
    result = pods_on_nodes(mine, "iomesh-csi-driver-node-plugin", nodes, every_node=True)
    expected_down = sorted(
        f"{(p.get('spec') or {}).get('nodeName')} ({_pod_state(p)})"
        for p in pods
        if (p.get("spec") or {}).get("nodeName") in set(pending_nodes) and _pod_state(p) != "Ready"
    )
    if expected_down:
        result["notes"].append(
            "expected until their IOMesh cluster is deployed (pitfall P1): the CSI node plugin is not ready on "
            + ", ".join(expected_down)
        )
    return result


def iomesh_cluster(resources: Sequence[Mapping], name: str) -> dict:
    """An IOMeshCluster whose operator reports a meta leader and a licence."""
    expected = f"IOMeshCluster {name} with a meta leader and a licence in its status"
    cluster = _pick(resources, name)
    if cluster is None:
        return _result(False, expected, f"IOMeshCluster {name} does not exist")
    status = cluster.get("status") or {}
    leader = ((status.get("summary") or {}).get("metaSummary") or {}).get("leader")
    serial = (status.get("license") or {}).get("serial")
    seen = f"meta leader {leader or 'none'}, licence serial {serial or 'none'}"
    return _result(bool(leader and serial), expected, seen)


CHECKS = {
    "deployment": deployment,
    "daemonset": daemonset,
    "zookeeper": zookeeper,
    "pods_on_nodes": pods_on_nodes,
    "csi_node_plugin": csi_node_plugin,
    "iomesh_cluster": iomesh_cluster,
}


def service(resources: Sequence[Mapping], name: str, port: int | None = None) -> dict:
    """A Service exists (with `port` among its ports)."""
    expected = f"Service {name}" + (f" with port {port}" if port else "")
    svc = _pick(resources, name)
    if svc is None:
        return _result(False, expected, f"Service {name} does not exist")
    ports = sorted(p.get("port") for p in (svc.get("spec") or {}).get("ports") or [] if p.get("port"))
    ready = port is None or int(port) in ports
    return _result(ready, expected, f"ports {', '.join(map(str, ports)) or 'none'}")


CHECKS["service"] = service


class WaitFailed(Exception):
    """A bounded wait gave up; the message says what was expected and what was seen."""


def wait_all(waits: Sequence[Mapping], fetch, timeout: float, delay: float, clock, sleep) -> list[dict]:
    """Run each wait in order until its check is ready, polling with `fetch(spec) -> (resources, error)`.

    Each wait gets its own `timeout` seconds. Reads are shared between waits until the next sleep: waits
    that ask for the same objects (e.g. all pods of a namespace) cost one API read per round. Returns, per
    wait, its label, the seconds it took, the polls and the notes of the last judgement. Raises WaitFailed
    naming the wait, what it expected and saw (and the last API error, if the read itself failed).
    """
    done = []
    cache: dict = {}

    def read(spec):
        key = tuple(str(spec.get(k) or "") for k in ("api_version", "kind", "namespace", "name"))
        key += tuple(spec.get("label_selectors") or ())
        if key not in cache:
            cache[key] = fetch(spec)
        return cache[key]

    for spec in waits:
        check = CHECKS[spec["check"]]
        started = clock()
        polls = 0
        while True:
            polls += 1
            resources, error = read(spec)
            state = check(resources or [], **dict(spec.get("args") or {}))
            if state["ready"] and not error:
                done.append({"label": spec["label"], "seconds": round(clock() - started, 1), "polls": polls,
                             "notes": state["notes"]})
                break
            if clock() - started + delay > timeout:
                seen = f"the API read failed: {error}" if error else state["seen"]
                raise WaitFailed(
                    f"Gave up after {timeout:g} s ({polls} polls) waiting for {spec['label']}"
                    + (f" in namespace {spec['namespace']}" if spec.get("namespace") else "")
                    + f". Expected: {state['expected']}. Seen: {seen}."
                    + (f" Also noted: {' '.join(state['notes'])}" if state["notes"] else "")
                )
            sleep(delay)
            cache.clear()
    return done
