"""pravega zookeeper-operator 0.2.15: ZookeeperCluster -> StatefulSet, Services, ConfigMap, status.

Runs only while its Deployment (image iomesh/zookeeper-operator) has an available replica, and only for
ZookeeperClusters in WATCH_NAMESPACE ("" = all namespaces). Pods are placed by the emulator's scheduler
from `spec.pod` (affinity, nodeSelector, tolerations); their `data` PVCs use `spec.persistence.spec`
(hostpath, WaitForFirstConsumer: bound when the pod is scheduled). Like the real operator, a change of
`spec.pod` after creation is not applied to the StatefulSet (docs/pitfalls.md P21); `spec.replicas` is.
With `persistence.reclaimPolicy: Delete` its finalizer removes the PVCs when the cluster is deleted.
With `iomeshTwin.operatorDelaySeconds` (runtime-switchable) it starts on each change that much later
(util.ReactionDelay).
"""

from __future__ import annotations

import time

from kubeemu.plugin import Controller

from .util import (ZK_AV, ReactionDelay, active, available, condition, ensure, operator_delay, owner_ref, pod_ready,
                   safe_list, set_status, workloads)

ZK_OPERATOR_IMAGE = "iomesh/zookeeper-operator"
PVC_FINALIZER = "cleanUpZookeeperPVC"


def zk_ready(zk: dict | None) -> bool:
    if zk is None:
        return False
    st = zk.get("status") or {}
    return st.get("readyReplicas", 0) >= (zk["spec"].get("replicas") or 3) and st.get("readyReplicas", 0) > 0


class ZookeeperOperator(Controller):
    name = "iomesh-twin-zookeeper-operator"
    watches = {(ZK_AV, "ZookeeperCluster"), ("apps/v1", "StatefulSet"), ("apps/v1", "Deployment"), ("v1", "Pod")}

    def __init__(self) -> None:
        self.delay = ReactionDelay()  # iomeshTwin.operatorDelaySeconds

    def reconcile(self, api) -> float | None:
        watched: set[str] | None = set()
        for op in workloads(api, "Deployment", ZK_OPERATOR_IMAGE):
            if not available(op):
                continue
            env = next((e for c in op["spec"]["template"]["spec"].get("containers") or []
                        for e in c.get("env") or [] if e.get("name") == "WATCH_NAMESPACE"), None)
            value = (env or {}).get("value", "")
            if (env or {}).get("valueFrom"):
                value = op["metadata"]["namespace"]
            if not value:
                watched = None
                break
            watched |= {v.strip() for v in value.split(",") if v.strip()}
        if watched is not None and not watched:
            return None
        clusters = [zk for zk in safe_list(api, ZK_AV, "ZookeeperCluster")
                    if watched is None or zk["metadata"]["namespace"] in watched]
        due, wait = self.delay.due(clusters, operator_delay(api), time.monotonic())
        for zk in due:
            self._sync(api, zk)
        return wait  # a slow operator comes back when the next change is due

    def _sync(self, api, zk: dict) -> None:
        meta = zk["metadata"]
        name, ns = meta["name"], meta["namespace"]
        spec = zk.get("spec") or {}
        if not active(zk):
            self._finalize(api, zk)
            return
        if PVC_FINALIZER not in (meta.get("finalizers") or []) and \
                (spec.get("persistence") or {}).get("reclaimPolicy", "Retain") == "Delete":
            zk["metadata"]["finalizers"] = [*(meta.get("finalizers") or []), PVC_FINALIZER]
            zk = api.update(zk)
        replicas = spec.get("replicas") or 3
        labels = {"app": name, "release": name}
        owner = [owner_ref(zk)]
        ensure(api, {"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": f"{name}-configmap", "namespace": ns, "labels": labels,
                                  "ownerReferences": owner},
                     "data": {"zoo.cfg": "4lw.commands.whitelist=cons, envi, conf, crst, srvr, stat, mntr, ruok\n"
                                         "dataDir=/data\nstandaloneEnabled=false\nreconfigEnabled=true\n"
                                         "skipACL=yes\nmetricsProvider.className=org.apache.zookeeper.metrics."
                                         "prometheus.PrometheusMetricsProvider\nmetricsProvider.httpPort=7000\n"
                                         "initLimit=10\nsyncLimit=2\ntickTime=2000\nglobalOutstandingLimit=1000\n"
                                         "preAllocSize=65536\nsnapCount=10000\ncommitLogCount=500\n"
                                         "snapSizeLimitInKb=4194304\nmaxCnxns=0\nmaxClientCnxns=60\n"
                                         "minSessionTimeout=4000\nmaxSessionTimeout=40000\n"
                                         "autopurge.snapRetainCount=3\n"
                                         "autopurge.purgeInterval=1\nquorumListenOnAllIPs=false\n"
                                         "admin.serverPort=8080\ndynamicConfigFile=/data/zoo.cfg.dynamic\n",
                              "env.sh": f"#!/usr/bin/env bash\n\nDOMAIN={name}-headless.{ns}.svc.cluster.local\n"
                                        f"QUORUM_PORT=2888\nLEADER_PORT=3888\nCLIENT_HOST={name}-client\n"
                                        "CLIENT_PORT=2181\nADMIN_SERVER_HOST=" f"{name}-admin-server\n"
                                        "ADMIN_SERVER_PORT=8080\nCLUSTER_NAME=" f"{name}\nCLUSTER_SIZE={replicas}\n"}},
               update=False)
        ports = {"tcp-client": 2181, "tcp-quorum": 2888, "tcp-leader-election": 3888, "tcp-metrics": 7000,
                 "tcp-admin-server": 8080}
        for suffix, names, headless in (("client", ["tcp-client"], False), ("headless", list(ports), True),
                                        ("admin-server", ["tcp-admin-server"], False)):
            svc = {"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": f"{name}-{suffix}", "namespace": ns, "labels": labels,
                                "ownerReferences": owner},
                   "spec": {"selector": {"app": name},
                            "ports": [{"name": n, "port": ports[n], "protocol": "TCP"} for n in names]}}
            if headless:
                svc["spec"].update(clusterIP="None", publishNotReadyAddresses=True)
            ensure(api, svc, update=False)
        sts = api.get("apps/v1", "StatefulSet", name, ns)
        if sts is None:
            sts = api.create(self._statefulset(zk, labels, owner, replicas))
        elif sts["spec"].get("replicas") != replicas:
            sts["spec"]["replicas"] = replicas
            sts = api.update(sts)
        self._status(api, zk, sts, replicas)

    @staticmethod
    def _statefulset(zk: dict, labels: dict, owner: list, replicas: int) -> dict:
        name, ns = zk["metadata"]["name"], zk["metadata"]["namespace"]
        spec = zk.get("spec") or {}
        pod = spec.get("pod") or {}
        image = spec.get("image") or {}
        affinity = pod.get("affinity") or {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 20, "podAffinityTerm": {"labelSelector": {"matchExpressions": [
                {"key": "app", "operator": "In", "values": [name]}]}, "topologyKey": "kubernetes.io/hostname"}}]}}
        pod_spec = {
            "affinity": affinity,
            "containers": [{
                "name": "zookeeper",
                "image": f"{image.get('repository', 'pravega/zookeeper')}:{image.get('tag', '0.2.15')}",
                "imagePullPolicy": image.get("pullPolicy", "IfNotPresent"),
                "command": ["/usr/local/bin/zookeeperStart.sh"],
                "ports": [{"name": n, "containerPort": p} for n, p in (("client", 2181), ("quorum", 2888),
                                                                        ("leader-election", 3888),
                                                                        ("metrics", 7000), ("admin-server", 8080))],
                "readinessProbe": {"exec": {"command": ["zookeeperReady.sh"]}, "initialDelaySeconds": 10,
                                   "periodSeconds": 10, "timeoutSeconds": 10},
                "livenessProbe": {"exec": {"command": ["zookeeperLive.sh"]}, "initialDelaySeconds": 10,
                                  "periodSeconds": 10, "timeoutSeconds": 10},
                "resources": pod.get("resources") or {},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "conf", "mountPath": "/conf"}],
            }],
            "volumes": [{"name": "conf", "configMap": {"name": f"{name}-configmap"}}],
            "terminationGracePeriodSeconds": pod.get("terminationGracePeriodSeconds", 30),
        }
        for key in ("nodeSelector", "tolerations", "securityContext", "serviceAccountName"):
            if pod.get(key):
                pod_spec[key] = pod[key]
        persistence = spec.get("persistence") or {}
        pvc_spec = {"accessModes": ["ReadWriteOnce"], **(persistence.get("spec") or {})}
        pvc_spec.setdefault("resources", {"requests": {"storage": "20Gi"}})
        return {"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": {"name": name, "namespace": ns, "labels": labels, "ownerReferences": owner},
                "spec": {"replicas": replicas, "serviceName": f"{name}-headless",
                         "selector": {"matchLabels": {"app": name}},
                         "podManagementPolicy": "OrderedReady",
                         "updateStrategy": {"type": "RollingUpdate"},
                         "template": {"metadata": {"labels": {**labels, "kind": "ZookeeperMember"}},
                                      "spec": pod_spec},
                         "volumeClaimTemplates": [{"metadata": {"name": "data", "labels": labels},
                                                   "spec": pvc_spec}]}}

    @staticmethod
    def _status(api, zk: dict, sts: dict, replicas: int) -> None:
        name, ns = zk["metadata"]["name"], zk["metadata"]["namespace"]
        pods = [api.get("v1", "Pod", f"{name}-{i}", ns) for i in range(replicas)]
        ready = sorted(p["metadata"]["name"] for p in pods if p and pod_ready(p))
        unready = sorted(p["metadata"]["name"] for p in pods if p and not pod_ready(p))
        client = api.get("v1", "Service", f"{name}-client", ns)
        old = zk.get("status") or {}
        ts = api.now()
        all_ready = len(ready) == replicas
        conds = condition(old.get("conditions") or [], "PodsReady", "True" if all_ready else "False",
                          "" if all_ready else "PodsNotReady",
                          "" if all_ready else f"{len(ready)}/{replicas} zookeeper pods ready", ts)
        conds = condition(conds, "Upgrading", "False", "", "", ts)
        conds = condition(conds, "Error", "False", "", "", ts)
        tag = ((zk["spec"].get("image") or {}).get("tag")) or "0.2.15"
        status = {**old, "replicas": (sts.get("status") or {}).get("replicas", 0), "readyReplicas": len(ready),
                  "members": {"ready": ready or None, "unready": unready or None},
                  "internalClientEndpoint": f"{client['spec'].get('clusterIP')}:2181" if client else "",
                  "conditions": conds}
        if all_ready:
            status["currentVersion"] = tag
            status["metaRootCreated"] = True
        status["targetVersion"] = old.get("targetVersion", "")
        set_status(api, zk, status)

    @staticmethod
    def _finalize(api, zk: dict) -> None:
        meta = zk["metadata"]
        if PVC_FINALIZER not in (meta.get("finalizers") or []):
            return
        for pvc in api.list("v1", "PersistentVolumeClaim", meta["namespace"]):
            labels = pvc["metadata"].get("labels") or {}
            if labels.get("app") == meta["name"] and pvc["metadata"]["name"].startswith(f"data-{meta['name']}-"):
                api.delete("v1", "PersistentVolumeClaim", pvc["metadata"]["name"], meta["namespace"])
        zk["metadata"]["finalizers"] = [f for f in meta["finalizers"] if f != PVC_FINALIZER]
        api.update(zk)
