"""The twin's pure parts without an emulator: disk layout config, NDM filters, webhook rules and serving
certificates, CrashLoopBackOff."""

from __future__ import annotations

import base64
import datetime

import twin_helpers  # noqa: F401  (puts testbed on sys.path)
from iomesh_twin import disks, register
from iomesh_twin.pods import crash_loop
from iomesh_twin.webhook import ServingCerts, WebhookCertWatcher, spec_problems, trusts

CHART_FILTERS = """
filterconfigs:
  - key: os-disk-exclude-filter
    state: true
    exclude: "/,/etc/hosts,/boot"
  - key: vendor-filter
    state: true
    include: ""
    exclude: "ZBS"
  - key: path-filter
    state: true
    include: ""
    exclude: "/dev/fd0,/dev/sr0,/dev/ram,/dev/dm-,/dev/md,loop"
"""


def test_default_layout():
    cfg = {"nodes": [{"name": f"n{i}"} for i in range(3)]}
    lay = disks.layout(cfg)
    assert [d["path"] for d in lay["n0"]] == ["/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd"]
    assert [(d["driveType"], d["size"]) for d in lay["n0"][1:]] == [("SSD", 400 * 10**9), ("HDD", 2 * 10**12),
                                                                    ("HDD", 2 * 10**12)]
    assert [d["fsType"] for d in lay["n2"]] == ["ext4", "", "", "ext4"], "root disk + the formatted HDD"
    assert [d["fsType"] for d in lay["n0"]] == ["ext4", "", "", ""]
    assert len({d["serial"] for ds in lay.values() for d in ds}) == 12
    assert disks.layout(cfg) == lay, "serials and names are stable"


def test_configured_layout_and_filters():
    cfg = {"nodes": [{"name": "a", "disks": [
        {"path": "/dev/nvme0n1", "driveType": "SSD", "size": "960G", "serial": "NVME1"},
        {"path": "/dev/dm-0", "size": "1Ti"},
        {"path": "/dev/sdx", "vendor": "ZBS", "size": "10G"}]}, {"name": "b", "disks": []}],
        "iomeshTwin": {"formattedDisk": None}}
    lay = disks.layout(cfg)
    assert lay["b"] == []
    f = disks.ndm_filters(CHART_FILTERS)
    seen = [d for d in lay["a"] if disks.visible(d, f)]
    assert [d["path"] for d in seen] == ["/dev/nvme0n1"], "device-mapper and IOMesh (ZBS) LUNs are filtered"
    bd = disks.blockdevice(seen[0], "iomesh-system")
    assert bd["spec"]["capacity"]["storage"] == 960 * 10**9
    assert bd["metadata"]["labels"]["iomesh.com/bd-serial"] == "NVME1"
    assert bd["metadata"]["labels"]["iomesh.com/bd-devicePath"] == "dev.nvme0n1"
    assert bd["metadata"]["name"] == disks.blockdevice_name("a", seen[0])
    assert disks.visible(disks.layout({"nodes": [{"name": "z"}]})["z"][0], f) is False, "OS disk"


def test_webhook_mode_rules():
    def cr(mode, *types):
        return {"spec": {"diskDeploymentMode": mode, "chunk": {"deviceMap": {t: {} for t in types}}}}
    assert spec_problems(cr("hybridFlash", "cacheWithJournal", "dataStore")) == []
    assert spec_problems(cr("allFlash", "dataStoreWithJournal")) == []
    assert spec_problems(cr("hybridFlash", "dataStoreWithJournal"))
    assert len(spec_problems(cr("allFlash", "cacheWithJournal", "rawCache", "dataStoreWithJournal"))) == 2


CA_A = "-----BEGIN CERTIFICATE-----\nMIIBaaaa\nAAAA\n-----END CERTIFICATE-----\n"
CA_B = "-----BEGIN CERTIFICATE-----\nMIIBbbbb\nBBBB\n-----END CERTIFICATE-----\n"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_ca_bundle_trust_compares_pem_content():
    assert trusts(b64(CA_A), CA_A.encode())
    assert trusts(b64(CA_A.replace("\n", "\r\n")), CA_A.encode()), "line endings do not matter"
    assert trusts(b64(CA_B + CA_A), CA_A.encode()), "a bundle may hold several CAs"
    assert not trusts(b64(CA_B), CA_A.encode())
    assert not trusts(None, CA_A.encode()) and not trusts("", CA_A.encode()), "no caBundle: system roots"
    assert not trusts("not base64!", CA_A.encode())
    assert not trusts(b64(CA_A), b"")


def secret(ca: str, ns: str = "iomesh-system") -> dict:
    return {"metadata": {"name": "iomesh-webhook-cert", "namespace": ns}, "data": {"ca.crt": b64(ca)}}


def ready_pod(uid: str, ready: bool = True) -> dict:
    return {"metadata": {"uid": uid}, "status": {"conditions": [{"type": "Ready", "status": str(ready)}]}}


def test_serving_certificate_follows_the_secret_after_the_reload_delay():
    certs = ServingCerts(60)
    ns = "iomesh-system"
    assert certs.served(ns, "p1", 100) is None, "no Secret: the pod could not have started"
    certs.observe_secret(secret(CA_A), 100)
    certs.observe_pods(ns, [ready_pod("p1")], 110)
    certs.observe_secret(secret(CA_A), 115)  # unchanged content: no new version
    certs.observe_secret(secret(CA_B), 120)  # helm upgrade rotates it
    assert certs.served(ns, "p1", 121) == CA_A.encode(), "the running pod keeps what it loaded"
    assert certs.served(ns, "p1", 179) == CA_A.encode()
    assert certs.served(ns, "p1", 180) == CA_B.encode(), "reloaded 60 s after the change"
    certs.observe_pods(ns, [ready_pod("p1"), ready_pod("p2")], 125)
    assert certs.served(ns, "p2", 126) == CA_B.encode(), "a new pod loads the current Secret"
    certs.observe_pods(ns, [ready_pod("p1", False), ready_pod("p2")], 130)
    certs.observe_pods(ns, [ready_pod("p1"), ready_pod("p2")], 131)
    assert certs.served(ns, "p1", 132) == CA_B.encode(), "a restarted container loads it anew"
    assert certs.served("other", "p1", 132) is None


def test_cert_watcher_feeds_the_history():
    class FakeApi:
        def list(self, av, kind, ns=None):
            if kind == "Secret":
                return [secret(CA_A), {**secret(CA_B), "metadata": {"name": "other", "namespace": "x"}}]
            return [ready_pod("p1")] if ns == "iomesh-system" else []
    certs = ServingCerts(60)
    WebhookCertWatcher(certs).reconcile(FakeApi())
    assert certs.namespaces() == ["iomesh-system"]
    assert certs.served("iomesh-system", "p1", 10**10) == CA_A.encode()


def test_crash_loop_backoff_grows():
    pod = {"metadata": {"name": "p", "namespace": "n", "uid": "u", "creationTimestamp": "2026-01-01T00:00:00Z"},
           "spec": {"containers": [{"name": "a"}, {"name": "csi-driver"}]}}
    t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    counts = [crash_loop(pod, "csi-driver", "x", t0 + datetime.timedelta(seconds=s))["containers"]["csi-driver"]
              ["restartCount"] for s in (0, 15, 35, 75, 1000)]
    assert counts == sorted(counts) and counts[0] == 1 and counts[-1] > counts[2]
    state = crash_loop(pod, "csi-driver", "x", t0)
    assert state["ready"] is False and state["containers"]["a"] == {"ready": True}
    assert state["containers"]["csi-driver"]["state"]["waiting"]["reason"] == "CrashLoopBackOff"


def test_register_follows_the_contract():
    controllers, hooks, pod_hooks = register({"config": {"nodes": [{"name": "a"}]}})
    assert all(c.name and c.watches and callable(c.reconcile) for c in controllers)
    assert [h.name for h in hooks] == ["iomesh-twin-webhook"]
    assert all(callable(h.pod_state) for h in pod_hooks)
    assert hooks[0].certs.reload_seconds == 60, "default: kubelet sync + the operator's cert watcher"
    _, hooks, _ = register({"config": {"iomeshTwin": {"webhookCertReloadSeconds": 2}}})
    assert hooks[0].certs.reload_seconds == 2


def test_ndm_is_recognised_in_the_images_of_every_chart_version():
    """Chart v1.0.1 runs openebs/node-disk-manager, v1.1.0 and v1.2.0 iomesh/node-disk-manager (render facts)."""
    from iomesh_twin import ndm, util  # pylint: disable=import-outside-toplevel

    def daemonset(image):
        return {"spec": {"template": {"spec": {"containers": [{"name": "ndm", "image": image}]}}}}

    for image in ("openebs/node-disk-manager:1.8.0", "docker.io/iomesh/node-disk-manager:1.8.0-2"):
        assert util.runs_image(daemonset(image), ndm.NDM_IMAGE), image
    for image in ("docker.io/iomesh/node-disk-operator:1.8.0-1", "openebs/node-disk-operator:1.8.0"):
        assert util.runs_image(daemonset(image), ndm.NDM_OPERATOR_IMAGE), image
    assert not util.runs_image(daemonset("docker.io/iomesh/node-disk-exporter:1.8.0"), ndm.NDM_IMAGE)
