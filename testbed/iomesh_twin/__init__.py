"""The IOMesh twin: fake IOMesh controllers and admission for the kubeemu Kubernetes emulator.

    python -m kubeemu serve --kubeconfig kc --plugin iomesh_twin [--config testbed.yaml]

What it models (details in each module; the collection's view of IOMesh is in docs/architecture.md and docs/pitfalls.md):

* webhook.py    the operator's validating webhook on IOMeshCluster CREATE/UPDATE (P10), the serving certificate
                it loaded vs the caBundle a helm upgrade rotates (iomeshTwin.webhookCertReloadSeconds); the
                iomeshTwin.webhookDown fault
* zookeeper.py  the zookeeper-operator: ZookeeperCluster -> StatefulSet, Services, status
* operator.py   the IOMesh operator: IOMeshCluster -> meta/chunk StatefulSets, redirector DaemonSet,
                meta-client Service, status; and its devicemanager (deviceMap -> BlockDeviceClaims)
* ndm.py        node-disk-manager: disks of the testbed config -> BlockDevices; NDM operator binds claims
* pods.py       kubelet verdicts: CSI node plugin CrashLoopBackOff without a local redirector (P1/P4),
                chunk/redirector crash when the node has no address in the dataCIDR
* csi.py        the CSI controller plugin: provisions PVCs of com.iomesh.csi-driver classes

Each controller acts only while the pods of the component it stands for (recognised by image) are
available, as the real processes would. The hostpath provisioner is the emulator's own PVC binder
(kubevirt.io/hostpath-provisioner, WaitForFirstConsumer).
"""

from __future__ import annotations

from .csi import CSIProvisioner
from .ndm import NDMOperator, NodeDiskManager
from .operator import IOMeshOperator
from .pods import IOMeshPodStates
from .webhook import DEFAULT_CERT_RELOAD_SECONDS, IOMeshClusterWebhook, ServingCerts, WebhookCertWatcher
from .zookeeper import ZookeeperOperator

__all__ = ["register"]


def register(options: dict):
    config = options.get("config") or {}
    twin = config.get("iomeshTwin") or {}
    certs = ServingCerts(float(twin.get("webhookCertReloadSeconds", DEFAULT_CERT_RELOAD_SECONDS)))
    controllers = [ZookeeperOperator(), IOMeshOperator(), NodeDiskManager(config), NDMOperator(),
                   CSIProvisioner(twin.get("clusterDomain", "cluster.local")), WebhookCertWatcher(certs)]
    return controllers, [IOMeshClusterWebhook(certs)], [IOMeshPodStates()]
