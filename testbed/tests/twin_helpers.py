"""Helpers of the IOMesh twin tests: the seed inventory through the collection's own filters, an API
reader on the kubernetes Python client, and waits."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import yaml

TESTBED = Path(__file__).resolve().parents[1]
REPO = TESTBED.parent
CHART = TESTBED / "charts" / "iomesh"
SEED = REPO / "inventories" / "seed-example"
for p in (str(REPO / ".venv" / "collections"), str(TESTBED)):
    if p not in sys.path:
        sys.path.insert(0, p)

from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as filters  # noqa: E402

from iomesh_twin import disks as twin_disks  # noqa: E402

from polling import poll  # noqa: E402

MGMT_NODES = ["k8s-woker-0", "k8s-woker-1", "k8s-woker-2"]
C1_NODES = ["k8s-woker-3", "k8s-woker-4", "k8s-woker-5"]
NODE_IPS = {f"k8s-woker-{i}": f"10.234.1.{10 + i}" for i in range(6)}
IOMESH = "iomesh.com/v1alpha1"


def seed_inventory(host_disks: dict[str, list[dict]] | None = None) -> tuple[dict, dict, list, dict]:
    """(groups, hostvars, iomesh_clusters, settings) of the seed example, hosts optionally declaring disks."""
    inv = yaml.safe_load((SEED / "hosts.yml").read_text())
    gv = yaml.safe_load((SEED / "group_vars" / "all" / "iomesh.yml").read_text())
    groups = {g: list(v["hosts"]) for g, v in inv["all"]["children"].items()}
    hostvars = {h: dict(hv or {}) for g in inv["all"]["children"].values() for h, hv in g["hosts"].items()}
    for host, entries in (host_disks or {}).items():
        hostvars[host]["iomesh_disks"] = entries
    settings = {k: v for k, v in gv.items() if k.startswith("iomesh_") and k != "iomesh_clusters"}
    return groups, hostvars, gv["iomesh_clusters"], settings


def topology(host_disks: dict | None = None) -> tuple[list[dict], dict]:
    groups, hostvars, clusters, settings = seed_inventory(host_disks)
    return filters.iomesh_topology(clusters, groups, hostvars, settings), filters.iomesh_settings(settings)


def default_host_disks(config: dict | None = None) -> dict[str, list[dict]]:
    """What an inventory would declare for the twin's default layout: the SSD as cacheWithJournal, both
    HDDs as dataStore (on the last node one HDD carries ext4 - the disk stage must refuse it)."""
    out = {}
    for node, node_disks in twin_disks.layout(config or {"nodes": [{"name": n} for n in NODE_IPS]}).items():
        out[node] = [{"serial": d["serial"], "mount_type": "cacheWithJournal" if d["driveType"] == "SSD"
                      else "dataStore"} for d in node_disks if not d["mountPoint"]]
    return out


class Api:
    """Reads and writes through the kubernetes Python client (JSON in, plain dicts out)."""

    def __init__(self, kubeconfig: Path):
        from kubernetes import config as kconfig
        self.client = kconfig.new_client_from_config(config_file=str(kubeconfig))

    def call(self, method: str, path: str, body: Any = None, ctype: str = "application/json") -> tuple[int, Any]:
        path, _, query = path.partition("?")
        params = [tuple(kv.split("=", 1)) for kv in query.split("&") if kv]
        req = self.client.param_serialize(method, path, query_params=params, body=body,
                                          header_params={"Content-Type": ctype, "Accept": "application/json"},
                                          auth_settings=["BearerToken"])
        resp = self.client.call_api(*req)
        data = resp.read()
        return resp.status, json.loads(data) if data else None

    def get(self, path: str) -> Any:
        code, body = self.call("GET", path)
        return body if code == 200 else None

    def items(self, path: str) -> list[dict]:
        return (self.get(path) or {}).get("items") or []

    def pods(self, ns: str, selector: str | None = None) -> list[dict]:
        q = f"?labelSelector={selector}" if selector else ""
        return self.items(f"/api/v1/namespaces/{ns}/pods{q}")

    def cr(self, ns: str, name: str) -> dict | None:
        return self.get(f"/apis/{IOMESH}/namespaces/{ns}/iomeshclusters/{name}")

    def events(self, ns: str, name: str | None = None) -> list[dict]:
        return [e for e in self.items(f"/api/v1/namespaces/{ns}/events")
                if name is None or e["involvedObject"].get("name") == name]

    def merge_patch(self, path: str, patch: dict) -> tuple[int, Any]:
        return self.call("PATCH", path, patch, "application/merge-patch+json")


def wait(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2, what: str = "") -> Any:
    return poll(predicate, timeout, interval, what)


def ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def crash_looping(pod: dict) -> bool:
    return any(((c.get("state") or {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff"
               and c.get("restartCount", 0) > 0 for c in (pod.get("status") or {}).get("containerStatuses") or [])


def csi_node_pods(api: Api, ns: str = "iomesh-system") -> dict[str, dict]:
    return {p["spec"]["nodeName"]: p for p in api.pods(ns, "app=iomesh-csi-driver-node-plugin")
            if p["spec"].get("nodeName")}


def cluster_ready(api: Api, ns: str, name: str, meta: int = 3, chunk: int = 3) -> bool:
    """The IOMeshCluster reports a leader and ready pods, and its workloads' own status agrees."""
    cr = api.cr(ns, name)
    st = (cr or {}).get("status") or {}
    counts = st.get("readyReplicas") or {}
    if not st.get("summary", {}).get("metaSummary", {}).get("leader") or \
            counts.get("chunk") != chunk or counts.get("meta") != meta:
        return False
    for sts, want in ((f"{name}-meta", meta), (f"{name}-chunk", chunk)):
        if ((api.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/{sts}") or {}).get("status") or {}).get(
                "readyReplicas") != want:
            return False
    ds = (api.get(f"/apis/apps/v1/namespaces/{ns}/daemonsets/{name}-iscsi-redirector") or {}).get("status") or {}
    return bool(ds.get("desiredNumberScheduled")) and ds.get("numberReady") == ds["desiredNumberScheduled"]


def dump_yaml(path: Path, docs: list[dict] | dict) -> Path:
    path.write_text(yaml.safe_dump_all(docs if isinstance(docs, list) else [docs], sort_keys=False))
    return path
