"""With --delay the twin's reactions arrive late, as on a real cluster: a client that does not wait sees
the intermediate states (no status yet, no BlockDevices, webhook refusing while the operator starts)."""

from __future__ import annotations

import time

import pytest
from twin_helpers import CHART, MGMT_NODES, Api, cluster_ready, default_host_disks, dump_yaml, filters, topology, wait

pytestmark = pytest.mark.xdist_group("iomesh-twin-delay")


def test_waits_are_needed_with_delay(start_emulator, tmp_path):
    clusters, settings = topology(default_host_disks())
    mgmt, c1 = clusters
    emu = start_emulator("--plugin", "iomesh_twin", "--delay", "3", "--resync", "1")
    api = Api(emu.kubeconfig)
    values = dump_yaml(tmp_path / "values.yaml", filters.iomesh_mgmt_values(mgmt, settings))
    ns_body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": c1["namespace"]}}
    assert api.call("POST", "/api/v1/namespaces", ns_body)[0] == 201
    zk, cr = filters.iomesh_cluster_manifests(c1, settings)
    crs = f"/apis/iomesh.com/v1alpha1/namespaces/{c1['namespace']}/iomeshclusters"
    # --no-hooks: helm would otherwise wait for the chart's post-install hook Job, long enough for the operator to
    # come up, and the state before the delay elapsed could not be seen.
    emu.helm("helm3", "upgrade", "--install", "iomesh", str(CHART), "-n", "iomesh-system", "--create-namespace",
             "--no-hooks", "-f", str(values), check=True)
    start = time.monotonic()  # helm created the operator Deployment moments ago; reactions come 3s later
    code, early = api.call("POST", crs, cr)
    if time.monotonic() - start < 1.5:  # nothing can have reacted yet
        assert (code, early["reason"]) == (500, "InternalError"), early
        assert 'failed calling webhook "validate-iomeshcluster.iomesh.com"' in early["message"]
        assert early["message"].endswith("connect: connection refused")
        assert (api.cr("iomesh-system", "iomesh").get("status") or {}) == {}
        assert api.items("/apis/openebs.io/v1alpha1/namespaces/iomesh-system/blockdevices") == []
        zk_mgmt = api.get("/apis/zookeeper.pravega.io/v1beta1/namespaces/iomesh-system/zookeeperclusters/"
                          "iomesh-zookeeper")
        assert (zk_mgmt.get("status") or {}).get("readyReplicas", 0) == 0
    else:
        pytest.skip(f"too slow to see the state before the delay elapsed ({time.monotonic() - start:.1f}s)")
    # what a role must do: wait for the operator, then apply
    wait(lambda: (api.get("/apis/apps/v1/namespaces/iomesh-system/deployments/operator").get("status") or {})
         .get("availableReplicas") == 3, 180, what="operator available")
    code, body = api.call("POST", crs, cr)
    assert code == 201, body
    wait(lambda: cluster_ready(api, "iomesh-system", "iomesh"), 300, what="management cluster")
    bds = api.items("/apis/openebs.io/v1alpha1/namespaces/iomesh-system/blockdevices")
    assert len(bds) == 18
    assert {p["spec"]["nodeName"] for p in api.pods("iomesh-system", "app=iomesh-meta")} == set(MGMT_NODES)
