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
