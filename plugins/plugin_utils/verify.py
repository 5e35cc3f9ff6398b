# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the verification claims of each IOMesh cluster from what the API returned.

A verification claim passes when its StorageClass points at its own cluster, the claim is Bound to a volume of
the IOMesh CSI driver, the volume's required node affinity admits only nodes of that cluster (the topology key is
not documented: docs/architecture.md#volume-topology-key; the terms are evaluated against the Node objects) and, when
asked for, a test pod that wrote and read back a file on the volume became ready on one of those nodes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from ansible_collections.iomesh.multicluster.plugins.plugin_utils.k8s import meta as _meta
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.readiness import pod_is_ready, pod_state
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.constants import (
    CLUSTER_LABEL, COMPONENT_LABEL, CSI_DRIVER, HOSTNAME_LABEL, LABEL_PREFIX, MANAGED_BY, MANAGED_BY_LABEL,
)

CLAIM_PREFIX = "iomesh-verify-"
# The run whose verification made an object (the deployment lock's run id).
RUN_LABEL = f"{LABEL_PREFIX}/run"
LABELS = {MANAGED_BY_LABEL: MANAGED_BY, COMPONENT_LABEL: "verify"}
PROBE_FILE = "/data/iomesh-verify"
PROBE_TEXT = "iomesh-verify-ok"
RESULT_KEYS = ("cluster", "namespace", "storage_class", "pvc", "phase", "pv", "driver", "pv_nodes",
               "within_cluster_nodes", "pod", "pod_node", "result", "message", "problems")


def claim_name(cluster_name: str, run: str = "") -> str:
    """Name of the verification claim (and its test pod) of a cluster in a run: unique per run, so that two runs never
    take each other's objects for their own (docs/architecture.md, "One run at a time")."""
    return f"{CLAIM_PREFIX}{cluster_name}" + (f"-{run}" if run else "")


def manifests(clusters: Sequence[Mapping], namespace: str, size: str, pod_image: str, run: str) -> dict:
    """{"claims": [...], "pods": [...]}: per cluster a ReadWriteOnce claim on its StorageClass and a test pod.

    The pod has no node affinity of its own: the scheduler must place it where the volume's node affinity allows.
    It writes a file on the volume, syncs and reads it back before it sleeps; its readiness probe reads the file
    again, so Ready means the volume was attached, mounted, written and read on that node.
    """
    claims, pods = [], []
    for cluster in clusters:
        name = claim_name(cluster["name"], run)
        labels = {**LABELS, CLUSTER_LABEL: cluster["name"], **({RUN_LABEL: run} if run else {})}
        meta = {"labels": labels, "name": name, "namespace": namespace}
        claims.append({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": meta,
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
                     "storageClassName": cluster["storage_class"]["name"]},
        })
        script = (f"echo {PROBE_TEXT} > {PROBE_FILE} && sync && grep -qx {PROBE_TEXT} {PROBE_FILE} "
                  "&& exec sleep 3600")
        pods.append({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {**meta, "labels": dict(meta["labels"])},
            "spec": {
                "containers": [{
                    "command": ["sh", "-c", script],
                    "image": pod_image,
                    "name": "probe",
                    "readinessProbe": {"exec": {"command": ["grep", "-qx", PROBE_TEXT, PROBE_FILE]}, "periodSeconds": 2},
                    "securityContext": {"allowPrivilegeEscalation": False},
                    "volumeMounts": [{"mountPath": PROBE_FILE.rsplit("/", 1)[0], "name": "data"}],
                }],
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 1,
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": name}}],
            },
        })
    return {"claims": claims, "pods": pods}


def _requirement_matches(req: Mapping, value: str | None) -> bool:
    operator = req.get("operator")
    values = [str(v) for v in req.get("values") or []]
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt"):
        try:
            have, bound = int(value), int(values[0])
        except (TypeError, ValueError, IndexError):
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


def term_matches(term: Mapping, node: Mapping) -> bool:
    """One NodeSelectorTerm: all its expressions (labels) and fields (metadata.name); an empty term matches nothing."""
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    labels = _meta(node).get("labels") or {}
    for req in expressions:
        value = labels.get(req.get("key"))
        if not _requirement_matches(req, None if value is None else str(value)):
            return False
    for req in fields:
        if req.get("key") != "metadata.name" or not _requirement_matches(req, _meta(node).get("name")):
            return False
    return True


def node_id(node: Mapping, node_label_key: str) -> str:
    """How the inventory names a node: its node_label_key label, or its object name when it lacks the label."""
    return str((_meta(node).get("labels") or {}).get(node_label_key) or _meta(node).get("name") or "")


def pv_nodes(pv: Mapping, nodes: Sequence[Mapping], node_label_key: str = HOSTNAME_LABEL) -> list[str] | None:
    """Nodes on which the volume may be used, as the inventory names them; None when it has no required affinity."""
    terms = ((((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get("nodeSelectorTerms"))
    if terms is None:
        return None
    return sorted({node_id(n, node_label_key) for n in nodes if any(term_matches(t, n) for t in terms)})


def _warning_events(events: Sequence[Mapping], kind: str, name: str) -> list[str]:
    """Distinct messages of the object's Warning events, most recent first."""
    mine = [e for e in events if (e.get("involvedObject") or {}).get("kind") == kind
            and (e.get("involvedObject") or {}).get("name") == name and e.get("type") == "Warning"]
    mine.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or _meta(e).get("creationTimestamp") or ""),
              reverse=True)
    return list(dict.fromkeys(f"{e.get('reason')}: {e.get('message')}" for e in mine))


def _result(cluster: Mapping, namespace: str, run: str, **values: object) -> dict:
    out: dict = {key: None for key in RESULT_KEYS}
    out.update(cluster=cluster["name"], namespace=namespace, storage_class=cluster["storage_class"]["name"],
               pvc=claim_name(cluster["name"], run), pv_nodes=[], within_cluster_nodes=False, problems=[])
    out.update(values)
    return out


def skipped(clusters: Sequence[Mapping], namespace: str, reason: str, run: str) -> list[dict]:
    return [_result(c, namespace, run, result="skipped", message=reason) for c in clusters]


def judge(cluster: Mapping, namespace: str, storage_classes: Sequence[Mapping], claims: Sequence[Mapping],
          volumes: Sequence[Mapping], pods: Sequence[Mapping], nodes: Sequence[Mapping], events: Sequence[Mapping],
          node_label_key: str, check_pod: bool, wait_timeout: int | None, run: str) -> dict:
    """The verification result of one cluster (RESULT_KEYS); every failed check adds a problem."""
    name = claim_name(cluster["name"], run)
    sc_name = cluster["storage_class"]["name"]
    cluster_nodes = sorted(cluster["nodes"])
    waited = f" within {wait_timeout} s" if wait_timeout else ""
    problems: list[str] = []
    res = _result(cluster, namespace, run)

    sc = next((s for s in storage_classes if _meta(s).get("name") == sc_name), None)
    if sc is None:
        res.update(result="failed", problems=[
            f"StorageClass {sc_name} does not exist, so no claim was created; run the iomesh_csi role "
            "(playbooks/csi.yml) first."])
        res["message"] = res["problems"][0]
        return res
    params = sc.get("parameters") or {}
    if sc.get("provisioner") != CSI_DRIVER:
        problems.append(f"StorageClass {sc_name} has provisioner {sc.get('provisioner')!r}, expected {CSI_DRIVER!r}.")
    for key, want in (("clusterConnection", cluster["cluster_connection"]), ("iomeshCluster", cluster["iomesh_cluster_ref"])):
        if params.get(key) != want:
            problems.append(f"StorageClass {sc_name} has parameters.{key} {params.get(key)!r}, expected {want!r} "
                            f"(the CSI connection of cluster {cluster['name']}).")

    pvc = next((c for c in claims if _meta(c).get("name") == name), None)
    if pvc is None:
        problems.append(f"PersistentVolumeClaim {namespace}/{name} does not exist.")
        return _finish(res, problems)
    phase = (pvc.get("status") or {}).get("phase") or "Pending"
    res["phase"] = phase
    if phase != "Bound":
        why = _warning_events(events, "PersistentVolumeClaim", name)
        problems.append(f"PersistentVolumeClaim {namespace}/{name} is {phase}, not Bound{waited}"
                        + (f"; events: {' | '.join(why)}" if why else "; no warning events") + ".")
        return _finish(res, problems)

    pv_name = (pvc.get("spec") or {}).get("volumeName")
    res["pv"] = pv_name
    pv = next((v for v in volumes if _meta(v).get("name") == pv_name), None)
    if pv is None:
        problems.append(f"PersistentVolume {pv_name} of claim {namespace}/{name} could not be read.")
        return _finish(res, problems)
    spec = pv.get("spec") or {}
    driver = (spec.get("csi") or {}).get("driver")
    res["driver"] = driver
    if driver != CSI_DRIVER:
        problems.append(f"PersistentVolume {pv_name} has CSI driver {driver!r}, expected {CSI_DRIVER!r}.")
    if spec.get("storageClassName") != sc_name:
        problems.append(f"PersistentVolume {pv_name} has storageClassName {spec.get('storageClassName')!r}, "
                        f"expected {sc_name!r}.")
    allowed = pv_nodes(pv, nodes, node_label_key)
    if allowed is None:
        problems.append(f"PersistentVolume {pv_name} has no required node affinity: pods using it may run on any "
                        f"node, not only on the nodes of cluster {cluster['name']} ({', '.join(cluster_nodes)}).")
    elif not allowed:
        problems.append(f"The node affinity of PersistentVolume {pv_name} matches no node.")
    else:
        res["pv_nodes"] = allowed
        outside = [n for n in allowed if n not in cluster_nodes]
        if outside:
            problems.append(f"PersistentVolume {pv_name} may be used on {', '.join(outside)}, outside cluster "
                            f"{cluster['name']} (nodes {', '.join(cluster_nodes)}).")
        else:
            res["within_cluster_nodes"] = True

    if check_pod:
        res["pod"] = name
        pod = next((p for p in pods if _meta(p).get("name") == name), None)
        if pod is None:
            problems.append(f"Test pod {namespace}/{name} does not exist.")
        else:
            node_name = (pod.get("spec") or {}).get("nodeName")
            node = next((n for n in nodes if _meta(n).get("name") == node_name), None)
            res["pod_node"] = node_id(node, node_label_key) if node else node_name
            if not node_name:
                problems.append(f"Test pod {namespace}/{name} was not scheduled{waited}: {pod_state(pod)}.")
            else:
                if res["pod_node"] not in cluster_nodes:
                    problems.append(f"Test pod {namespace}/{name} was scheduled on {res['pod_node']}, outside cluster "
                                    f"{cluster['name']} (nodes {', '.join(cluster_nodes)}).")
                if not (pod_is_ready(pod) or (pod.get("status") or {}).get("phase") == "Succeeded"):
                    problems.append(f"Test pod {namespace}/{name} on {res['pod_node']} did not write and read back a "
                                    f"file on the volume{waited}: {pod_state(pod)}.")
    return _finish(res, problems)


def _finish(res: dict, problems: list[str]) -> dict:
    """The verdict from the problems; a passing message names the test pod's node when a pod was checked (res["pod"])."""
    res["problems"] = problems
    if problems:
        res["result"] = "failed"
        res["message"] = " ".join(problems)
        return res
    res["result"] = "passed"
    res["message"] = (
        f"PersistentVolumeClaim {res['namespace']}/{res['pvc']} is Bound to {res['pv']} ({res['driver']}), usable only "
        f"on {', '.join(res['pv_nodes'])}, all nodes of cluster {res['cluster']}"
        + (f"; test pod wrote and read back a file on {res['pod_node']}" if res["pod"] else "") + "."
    )
    return res


def judge_all(clusters: Sequence[Mapping], namespace: str, storage_classes: Sequence[Mapping],
              claims: Sequence[Mapping], volumes: Sequence[Mapping], pods: Sequence[Mapping],
              nodes: Sequence[Mapping], events: Sequence[Mapping], node_label_key: str, check_pod: bool,
              wait_timeout: int | None, run: str) -> list[dict]:
    return [judge(c, namespace, storage_classes, claims, volumes, pods, nodes, events, node_label_key, check_pod,
                  wait_timeout, run) for c in clusters]


# --- when verification runs (iomesh_verify_when, docs/architecture.md "When verification runs") ------------------

RECORD_COMPONENT = "verify-record"
RECORD_LABELS = {MANAGED_BY_LABEL: MANAGED_BY, COMPONENT_LABEL: RECORD_COMPONENT}
WHEN_CHOICES = ("on_change", "always")
# What a verification depends on, per kind: the fields whose change makes it run again. Status is not among them
# (it changes all the time); generation counts changes of a custom resource's or a workload's spec, resourceVersion
# every change of an object without one (StorageClass, ConfigMap).
_IDENTITY_FIELDS = {
    "iomesh_clusters": ("uid", "generation"),
    "zookeeper_clusters": ("uid", "generation"),
    "storage_classes": ("uid", "resourceVersion"),
    "configmaps": ("uid", "resourceVersion"),
    "workloads": ("uid", "generation"),
    "nodes": ("uid",),
}
DEPENDS_ON = tuple(_IDENTITY_FIELDS)
UNCHANGED = ("Not verified again: nothing this verification depends on has changed since an earlier run passed it "
             "(iomesh_verify_when: on_change; always verifies every run). That run: ")


def _identity(obj: Mapping | None, fields: Sequence[str]) -> list | None:
    if obj is None:
        return None
    meta = _meta(obj)
    return [str(meta.get(f) if meta.get(f) is not None else "") for f in fields]


def _find(objects: Sequence[Mapping], name: str, namespace: str | None = None) -> Mapping | None:
    return next((o for o in objects if _meta(o).get("name") == name
                 and (namespace is None or _meta(o).get("namespace") == namespace)), None)


def fingerprint(cluster: Mapping, management_namespace: str, options: Mapping, objects: Mapping) -> str:
    """A digest of everything one cluster's verification depends on: what the inventory asks of it (nodes,
    StorageClass), how it is verified (`options`), and the identity of its IOMeshCluster, ZookeeperCluster,
    StorageClass, CSI ConfigMap, its Nodes and the management namespace's Deployments and DaemonSets (the operator and
    the CSI driver: a chart upgrade changes them). Equal digests: a verification would check the same things."""
    name, namespace = cluster["name"], cluster["namespace"]
    nodes = set(cluster["nodes"])
    label_key = str(options.get("node_label_key") or HOSTNAME_LABEL)
    workloads = sorted(
        [str(o.get("kind") or ""), str(_meta(o).get("name") or "")] + _identity(o, _IDENTITY_FIELDS["workloads"])
        for o in objects["workloads"] if _meta(o).get("namespace") == management_namespace)
    state = {
        "cluster": {"name": name, "namespace": namespace, "nodes": sorted(nodes),
                    "storage_class": cluster["storage_class"]},
        "options": dict(options),
        "iomesh_cluster": _identity(_find(objects["iomesh_clusters"], name, namespace),
                                    _IDENTITY_FIELDS["iomesh_clusters"]),
        "zookeeper_cluster": _identity(_find(objects["zookeeper_clusters"], cluster["zookeeper_name"], namespace),
                                       _IDENTITY_FIELDS["zookeeper_clusters"]),
        "storage_class": _identity(_find(objects["storage_classes"], cluster["storage_class"]["name"]),
                                   _IDENTITY_FIELDS["storage_classes"]),
        "configmap": _identity(_find(objects["configmaps"], cluster["csi_configmap_name"], namespace),
                               _IDENTITY_FIELDS["configmaps"]),
        "nodes": sorted([node_id(n, label_key)] + _identity(n, _IDENTITY_FIELDS["nodes"])
                        for n in objects["nodes"] if node_id(n, label_key) in nodes),
        "workloads": workloads,
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _recorded(data: Mapping, name: str) -> dict | None:
    """The record of one cluster: {fingerprint, result}, or None when missing or not one the collection wrote."""
    try:
        entry = json.loads(data.get(name) or "")
    except (TypeError, ValueError):
        return None
    if (not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str)
            or not isinstance(entry.get("result"), dict) or entry["result"].get("result") != "passed"):
        return None
    return entry


def verification_plan(clusters: Sequence[Mapping], management_namespace: str, options: Mapping, objects: Mapping,
                      record: Mapping | None, when: str) -> dict:
    """Which clusters to verify in this run, and the recorded results of the others.

    `record`: the data of the record ConfigMap (None: none yet). `when`: on_change verifies a cluster unless the
    record holds a passed result of it with today's fingerprint; always verifies every cluster.
    Returns {verify: [clusters], reasons: {name: why}, kept: [results], fingerprints: {name: digest},
    kept_records: {name: the record's text}}.
    """
    data = record or {}
    out: dict = {"verify": [], "reasons": {}, "kept": [], "fingerprints": {}, "kept_records": {}}
    for cluster in clusters:
        name = cluster["name"]
        digest = fingerprint(cluster, management_namespace, options, objects)
        out["fingerprints"][name] = digest
        entry = _recorded(data, name)
        if when == "always":
            why = "iomesh_verify_when is always"
        elif entry is None:
            why = "no earlier run passed its verification"
        elif entry["fingerprint"] != digest:
            why = "something its verification depends on changed since an earlier run passed it"
        else:
            result = {key: entry["result"].get(key) for key in RESULT_KEYS}
            result.update(cluster=name, result="passed",
                          message=UNCHANGED + str(entry["result"].get("message") or ""))
            out["kept"].append(result)
            out["kept_records"][name] = data[name]
            continue
        out["verify"].append(cluster)
        out["reasons"][name] = why
    return out


def record_manifest(name: str, namespace: str, plan: Mapping, results: Sequence[Mapping]) -> dict:
    """The record ConfigMap after this run: each cluster that passed in this run with its fingerprint, and the kept
    records of the clusters not verified again. A failed cluster has no record, so the next run verifies it."""
    data = dict(plan["kept_records"])
    for res in results:
        cluster = res.get("cluster")
        if res.get("result") == "passed" and cluster in plan["fingerprints"]:
            data[cluster] = json.dumps({"fingerprint": plan["fingerprints"][cluster], "result": dict(res)},
                                       sort_keys=True, separators=(",", ":"))
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(RECORD_LABELS)},
            "data": {key: data[key] for key in sorted(data)}}
