"""Testbed configuration (YAML). Unknown keys are kept and handed to plugins untouched (ClusterAPI.config),
so a plugin may read e.g. per-node `disks` or a data CIDR from the same file.

    serverVersion: v1.25.16           # /version and kubelet versions (a --server-version flag wins)
    nodes:                            # default: k8s-woker-0..5 (the seed's six workers)
      - name: k8s-woker-0
        internalIP: 10.234.1.10
        labels: {extra: label}        # kubernetes.io/hostname/os/arch are always set
        taints: []                    # [{key, value, effect}]
        unschedulable: false
        ready: true
        allocatable: {cpu: "8", memory: 16Gi, pods: "110"}
    pvc:
      autoBindProvisioners: [...]     # StorageClass provisioners the default binder serves
    pods:
      completionSeconds: 3            # how long the containers of a run-to-completion pod (a Job's pods, bare
                                      # helm hook pods) run before they exit (workloads.Kubelet)
    objects: []                       # extra objects created at start-up (e.g. StorageClasses)
    faults:                           # fault rules in force from the start (faults.py; also switchable at
      - {path: "^/version$", action: status, code: 503, times: 1}   # runtime: /_testbed/faults, control.py)

Plugin sections (e.g. `iomeshTwin`) may also change at runtime: plugins read them with ClusterAPI.settings(),
which merges what a test set through /_testbed/settings/<section> over the start config (settings.py).
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

DEFAULT_PROVISIONERS = ["kubevirt.io/hostpath-provisioner", "rancher.io/local-path", "k8s.io/minikube-hostpath",
                        "microk8s.io/hostpath", "docker.io/hostpath"]

DEFAULT_COMPLETION_SECONDS = 3.0


def default_nodes() -> list[dict]:
    return [{"name": f"k8s-woker-{i}", "internalIP": f"10.234.1.{10 + i}"} for i in range(6)]


def load(path: str | None) -> dict[str, Any]:
    cfg: dict[str, Any] = {}
    if path:
        with open(path) as f:
            cfg = yaml.safe_load(f) or {}
    cfg = copy.deepcopy(cfg)
    cfg.setdefault("nodes", default_nodes())
    cfg.setdefault("pvc", {}).setdefault("autoBindProvisioners", list(DEFAULT_PROVISIONERS))
    cfg.setdefault("pods", {}).setdefault("completionSeconds", DEFAULT_COMPLETION_SECONDS)
    cfg.setdefault("objects", [])
    return cfg


def node_object(spec: dict, index: int, kubelet_version: str) -> dict:
    name = spec["name"]
    labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", **(spec.get("labels") or {})}
    alloc = {"cpu": "8", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi", "hugepages-2Mi": "0",
             **{k: str(v) for k, v in (spec.get("allocatable") or {}).items()}}
    ready = spec.get("ready", True)
    ts = "2024-01-01T00:00:00Z"

    def cond(ctype: str, status: str, reason: str, message: str) -> dict:
        return {"type": ctype, "status": status, "reason": reason, "message": message,
                "lastHeartbeatTime": ts, "lastTransitionTime": ts}

    node_spec: dict[str, Any] = {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]}
    taints = list(spec.get("taints") or [])
    if not ready:
        taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
    if taints:
        node_spec["taints"] = taints
    if spec.get("unschedulable"):
        node_spec["unschedulable"] = True
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels,
                     "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                     "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
        "spec": node_spec,
        "status": {
            "capacity": dict(alloc), "allocatable": alloc,
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory",
                     "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status") if ready else
                cond("Ready", "False", "KubeletNotReady", "container runtime network not ready")],
            "addresses": [{"type": "InternalIP", "address": spec.get("internalIP", f"10.234.1.{10 + index}")},
                          {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"architecture": "amd64", "bootID": f"00000000-0000-0000-0000-{index:012d}",
                         "containerRuntimeVersion": "containerd://1.6.24", "kernelVersion": "5.15.0-91-generic",
                         "kubeProxyVersion": kubelet_version, "kubeletVersion": kubelet_version,
                         "machineID": f"{index:032x}", "operatingSystem": "linux",
                         "osImage": "Ubuntu 22.04.3 LTS", "systemUUID": f"00000000-0000-0000-0000-{index:012d}"}},
    }
