# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness of IOMesh objects, judged from what kubernetes.core.k8s_info returned.

Each check returns {"ready": bool, "expected": str, "seen": str, "notes": [str]} so that a bounded wait
can end with a message that says what it expected and what it saw (house style), and so that the
crash loop of the CSI node plugin on other clusters' nodes (docs/pitfalls.md P1) is reported as expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ansible_collections.iomesh.multicluster.plugins.plugin_utils.names import CSI_DRIVER_FULLNAME


def _result(ready: bool, expected: str, seen: str, notes: Sequence[str] = ()) -> dict:
    return {"ready": bool(ready), "expected": expected, "seen": seen, "notes": list(notes)}


def _name(obj: Mapping) -> str:
    return (obj.get("metadata") or {}).get("name", "?")


def pod_is_ready(pod: Mapping) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def pod_state(pod: Mapping) -> str:
    """Phase, or the reason a container waits (CrashLoopBackOff, ImagePullBackOff, ...), or Unschedulable."""
    status = pod.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return f"Pending ({cond.get('reason') or 'unscheduled'}: {cond.get('message') or 'no node fits'})"
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return waiting["reason"] + (f" ({waiting['message']})" if waiting.get("message") else "")
    phase = status.get("phase") or "Unknown"
    return "Ready" if pod_is_ready(pod) else (phase if phase != "Running" else "Running, not ready")


def _pick(resources: Sequence[Mapping], name: str) -> Mapping | None:
    """The object called `name` in a k8s_info list (read by name or as a whole namespace)."""
    return next((obj for obj in resources if _name(obj) == name), None)


def _core_ready(check: str, obj: Mapping) -> bool:
    """kubernetes.core's own readiness rule (module_utils/k8s/waiter.py, what k8s with wait: true applies): for a
    Deployment, replicas as wanted, all available, the current generation observed; for a DaemonSet, every desired pod
    updated and ready, the current generation observed."""
    # Imported here: the filters that judge readiness load without the kubernetes client.
    from kubernetes.dynamic.resource import ResourceInstance  # pylint: disable=import-outside-toplevel
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s import waiter  # pylint: disable=import-outside-toplevel

    return bool(getattr(waiter, check)(ResourceInstance(None, {"kind": "", "apiVersion": "", **obj})))


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
    # kubernetes.core's rule, and every replica of the current template (its rule does not look at updatedReplicas).
    ready = _core_ready("deployment_ready", dep) and updated >= want
    return _result(ready, expected, f"{available}/{want} available, {updated} updated" + ("" if current else ", rollout not observed yet"))


def daemonset(resources: Sequence[Mapping], name: str) -> dict:
    """A DaemonSet whose pods are updated and ready on every node it is scheduled to (counts from status,
    docs/pitfalls.md P22); one scheduled to no node is not ready: its pods run nowhere."""
    expected = f"DaemonSet {name} ready on every node it runs on"
    ds = _pick(resources, name)
    if ds is None:
        return _result(False, expected, f"DaemonSet {name} does not exist")
    status = ds.get("status") or {}
    desired = status.get("desiredNumberScheduled") or 0
    ready_count = status.get("numberReady") or 0
    updated = status.get("updatedNumberScheduled") or 0
    current = (status.get("observedGeneration") or 0) >= ((ds.get("metadata") or {}).get("generation") or 0)
    seen = f"{ready_count}/{desired} ready, {updated} updated" + ("" if current else ", rollout not observed yet")
    return _result(desired > 0 and _core_ready("daemonset_ready", ds), expected, seen)


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
        state = pod_state(pod)
        by_state.setdefault(state, []).append(_name(pod) + (f"@{node}" if node else ""))
        if state == "Ready" and node in allowed:
            ready_nodes.add(node)
    if every_node:
        expected = f"{what} ready on each of {', '.join(sorted(allowed))} and nowhere else"
        ready = ready_nodes == allowed and not stray
    else:
        expected = f"{count} {what} pod(s) ready, only on {', '.join(sorted(allowed))}"
        ready = len(by_state.get("Ready", [])) >= (count or 0) and not stray
    seen = "; ".join(f"{state}: {', '.join(sorted(names))}" for state, names in sorted(by_state.items())) or "no pods"
    if stray:
        seen += f"; OUTSIDE the cluster's nodes: {', '.join(sorted(stray))}"
    return _result(ready, expected, seen)


def csi_node_plugin(pods: Sequence[Mapping], nodes: Sequence[str], pending_nodes: Sequence[str] = (),
                    name_pattern: str | None = None) -> dict:
    """CSI node plugin ready on `nodes`; not ready on `pending_nodes` is noted as expected (docs/pitfalls.md P1)."""
    pods = _named(pods, name_pattern)
    mine = [p for p in pods if (p.get("spec") or {}).get("nodeName") in set(nodes)]
    result = pods_on_nodes(mine, f"{CSI_DRIVER_FULLNAME}-node-plugin", nodes, every_node=True)
    expected_down = sorted(
        f"{(p.get('spec') or {}).get('nodeName')} ({pod_state(p)})"
        for p in pods
        if (p.get("spec") or {}).get("nodeName") in set(pending_nodes) and pod_state(p) != "Ready"
    )
    if expected_down:
        result["notes"].append(
            "expected until their cluster is deployed (docs/pitfalls.md P1): the CSI node plugin is not ready on "
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


def wait_all(waits: Sequence[Mapping], fetch, timeout: float, delay: float, clock, sleep,
             progress=None, progress_interval: float = 0) -> list[dict]:
    """Run each wait in order until its check is ready, polling with `fetch(spec) -> (resources, error)`.

    Each wait gets its own `timeout` seconds. Reads are shared between waits until the next sleep: waits
    that ask for the same objects (e.g. all pods of a namespace) cost one API read per round. Returns, per
    wait, its label, the seconds it took, the polls and the notes of the last judgement. Raises WaitFailed
    naming the wait, what it expected and saw (and the last API error, if the read itself failed).

    With `progress` and a `progress_interval` > 0, a wait not ready yet calls progress(text) once that many seconds
    have passed since it started or since its last report: what it waits for, for how long of its timeout, and what
    it sees, so a long wait is not silent.
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
        reported = started
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
            if progress is not None and progress_interval > 0 and clock() - reported >= progress_interval:
                reported = clock()
                seen = f"the API read failed: {error}" if error else state["seen"]
                progress(f"Still waiting for {spec['label']}"
                         + (f" in namespace {spec['namespace']}" if spec.get("namespace") else "")
                         + f" ({reported - started:.0f} s of {timeout:g} s). Seen: {seen}.")
            sleep(delay)
            cache.clear()
    return done


def _device_text(device: Mapping) -> str:
    where = " on ".join(str(device[k]) for k in ("path", "node") if device.get(k))
    return f"{device.get('device', '?')}" + (f" ({where})" if where else "")


def blockdevices_claimed(resources: Sequence[Mapping], devices: Sequence[Mapping]) -> dict:
    """Each of `devices` ({device, node, path}) is a BlockDevice with status.claimState Claimed."""
    expected = f"{len(devices)} BlockDevice(s) Claimed: {', '.join(_device_text(d) for d in devices)}"
    found = {_name(obj): obj for obj in resources}
    by_state: dict = {}
    for device in devices:
        bd = found.get(device.get("device"))
        state = "missing" if bd is None else ((bd.get("status") or {}).get("claimState") or "no claimState")
        by_state.setdefault(state, []).append(_device_text(device))
    seen = "; ".join(f"{state}: {', '.join(names)}" for state, names in sorted(by_state.items())) or "no devices"
    return _result(set(by_state) <= {"Claimed"}, expected, seen)


CHECKS["blockdevices_claimed"] = blockdevices_claimed


def attached_devices(resources: Sequence[Mapping], name: str, devices: Sequence[Mapping]) -> dict:
    """IOMeshCluster `name` lists each of `devices` ({device, node, path, mount_type}) in status.attachedDevices
    with that node and mount type."""
    expected = (f"IOMeshCluster {name} listing {len(devices)} device(s) in status.attachedDevices with their node and "
                f"mount type: {', '.join(_device_text(d) + ' as ' + str(d.get('mount_type')) for d in devices)}")
    cluster = _pick(resources, name)
    if cluster is None:
        return _result(False, expected, f"IOMeshCluster {name} does not exist")
    attached = {a.get("device"): a for a in (cluster.get("status") or {}).get("attachedDevices") or []
                if isinstance(a, Mapping)}
    missing, wrong = [], []
    for device in devices:
        entry = attached.get(device.get("device"))
        if entry is None:
            missing.append(_device_text(device))
        elif entry.get("mountType") != device.get("mount_type") or entry.get("nodeName") != device.get("node"):
            wrong.append(f"{_device_text(device)} as {entry.get('mountType')} on {entry.get('nodeName')}")
    seen = f"{len(devices) - len(missing) - len(wrong)}/{len(devices)} attached as declared"
    if missing:
        seen += f"; not attached: {', '.join(missing)}"
    if wrong:
        seen += f"; attached with another mount type or node: {', '.join(wrong)}"
    return _result(not missing and not wrong, expected, seen)


CHECKS["attached_devices"] = attached_devices


def _by_state(resources: Sequence[Mapping], names: Sequence[str], state) -> dict:
    """{state: [name ...]} of the objects called `names`; `state(obj)` says in which state one is."""
    found = {_name(obj): obj for obj in resources}
    grouped: dict = {}
    for name in names:
        grouped.setdefault("missing" if name not in found else state(found[name]), []).append(name)
    return grouped


def _states_text(grouped: Mapping) -> str:
    return "; ".join(f"{state}: {', '.join(sorted(names))}" for state, names in sorted(grouped.items())) or "nothing"


def pvc_bound(resources: Sequence[Mapping], names: Sequence[str]) -> dict:
    """Every PersistentVolumeClaim of `names` is Bound."""
    grouped = _by_state(resources, names, lambda pvc: (pvc.get("status") or {}).get("phase") or "Pending")
    return _result(set(grouped) <= {"Bound"}, f"PersistentVolumeClaim(s) {', '.join(names)} Bound", _states_text(grouped))


CHECKS["pvc_bound"] = pvc_bound


def pod_ready(resources: Sequence[Mapping], names: Sequence[str]) -> dict:
    """Every pod of `names` is ready or has completed successfully, on whichever node it was scheduled."""
    def state(pod: Mapping) -> str:
        # A pod that completed is in phase Succeeded, which pod_state names (its containers terminated: none waits).
        node = (pod.get("spec") or {}).get("nodeName")
        return pod_state(pod) + (f" on {node}" if node else "")

    found = {_name(pod): pod for pod in resources}
    ready = all(name in found and (pod_is_ready(found[name]) or (found[name].get("status") or {}).get("phase") ==
                                   "Succeeded") for name in names)
    return _result(ready, f"Pod(s) {', '.join(names)} ready or completed", _states_text(_by_state(resources, names, state)))


CHECKS["pod_ready"] = pod_ready
