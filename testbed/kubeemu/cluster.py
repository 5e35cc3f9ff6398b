"""Wires the emulator together: config, API server, bootstrap objects, controllers, plugins, HTTP."""

from __future__ import annotations

import threading

from . import config as cfgmod
from .apiserver import ApiServer, Ctx
from .controllers import CRDController, GarbageCollector, NamespaceController, PVCBinder, Runner
from .faults import FaultError, FaultInjector
from .http import RequestLog, Server
from .plugin import ClusterAPI, load_plugins
from .settings import RuntimeSettings
from .workloads import (DaemonSetController, DeploymentController, JobController, Kubelet, ReplicaSetController,
                        Scheduler, StatefulSetController)


class Emulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, config_path: str | None = None, delay: float = 0.0,
                 resync: float = 5.0, plugins: list[str] | None = None, log_requests: str | None = None,
                 server_version: str | None = None):
        self.config = cfgmod.load(config_path)
        self.version = server_version or self.config.get("serverVersion") or "v1.25.16"
        self.api = ApiServer(self.version)
        self.settings = RuntimeSettings(self.config)
        self.cluster = ClusterAPI(self.api, self.config, settings=self.settings)
        self.api.cluster_api = self.cluster
        self.runner = Runner(self.api, self.cluster, delay=delay, resync=resync)
        self.settings.listeners.append(lambda _section: self.runner.kick())  # plugins look at the new settings
        try:
            self.faults = FaultInjector(self.config.get("faults") or [])
        except FaultError as e:
            raise ValueError(f"testbed config faults: {e}") from None
        options = {"config": self.config, "delay": delay, "server_version": self.version}
        controllers, hooks, pod_hooks = load_plugins(plugins or [], options)
        self.api.admission = hooks
        for c in (CRDController(), NamespaceController(self.api), GarbageCollector(self.api),
                  PVCBinder(self.config["pvc"]["autoBindProvisioners"]), DeploymentController(),
                  ReplicaSetController(), StatefulSetController(), DaemonSetController(), JobController(),
                  Scheduler(), Kubelet(self.api, pod_hooks, float(self.config["pods"]["completionSeconds"])),
                  *controllers):
            self.runner.add(c)
        self.http = Server((host, port), self.api, self.version, RequestLog(log_requests), self.faults,
                           self.settings)

    def _bootstrap(self) -> None:
        ctx = Ctx(manager="kubeemu", client=False)
        reg = self.api.registry
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.api.create(reg.by_kind("v1", "Namespace"), None,
                            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, ctx)
        for i, spec in enumerate(self.config["nodes"]):
            self.api.create(reg.by_kind("v1", "Node"), None, cfgmod.node_object(spec, i, self.version), ctx)
        self.api.create(reg.by_kind("v1", "Service"), "default", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "targetPort": 6443}]}}, ctx)
        for obj in self.config["objects"]:
            self.cluster.create(obj)

    def start(self) -> str:
        self._bootstrap()
        self.runner.start()
        threading.Thread(target=self.http.serve_forever, name="kubeemu-http", daemon=True).start()
        # compile the built-in schemas off the request path (first validation would pay for it)
        threading.Thread(target=lambda: self.api.schemas.defs, name="kubeemu-warmup", daemon=True).start()
        host, port = self.http.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.http.stopping.set()
        self.runner.stop()
        self.http.shutdown()
        self.http.server_close()
