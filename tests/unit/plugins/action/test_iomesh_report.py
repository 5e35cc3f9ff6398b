"""The iomesh_report action (plugins/action/iomesh_report.py) on a fake API client and a fake helm: the same judgement
the report filters make of the same objects, one read per kind and namespace over one client, only the judgement
handed back (never the objects), every read that failed a problem naming it rather than a failed task, the plan's
settings used (a CSI ConfigMap's clusterId judged), and the same under --check."""

from __future__ import annotations

import pytest

from ansible_collections.iomesh.multicluster.plugins.action import iomesh_report
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_report as report_filters
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import plan as plan_utils, render

from ..conftest import Inventory
from ..fake_k8s import api_error
from . import runner
from .test_iomesh_helm import FakeHelm, release

CLUSTER_ID = "lab-9"


@pytest.fixture(autouse=True)
def no_inherited_connection(monkeypatch):
    for var in ("K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT", "KUBECONFIG", "HELM_KUBECONTEXT"):
        monkeypatch.delenv(var, raising=False)


def make_plan(helm_path, **settings) -> dict:
    """Management `ledger` in `ledger-sys` and two additional clusters, `tank-a` and `tank-b`, of three hosts each."""
    inv = Inventory(sizes=(3, 3, 3))
    inv.clusters[0].update(name="ledger", namespace="ledger-sys")
    inv.clusters[1].update(name="tank-a", namespace="tanks-a")
    inv.clusters[2].update(name="tank-b", namespace="tanks-b")
    inv.settings = {"iomesh_k8s_cluster_id": CLUSTER_ID, "iomesh_helm_binary": str(helm_path),
                    "iomesh_request_timeout": 9, **settings}
    built = plan_utils.build(inv.clusters, inv.groups, inv.hostvars, inv.settings)
    assert not built["errors"], built["errors"]
    return built


def obj(kind, name, namespace=None, **more):
    return {"kind": kind, "metadata": {"name": name, **({"namespace": namespace} if namespace else {})}, **more}


def live_objects(plan, cluster_id=CLUSTER_ID):
    """Namespaces, the CRs of two of the three clusters, a pod each, and the CSI objects as the stages render them."""
    objects = [obj("Namespace", c["namespace"]) for c in plan["clusters"]]
    for cluster in plan["clusters"][:2]:
        ns = cluster["namespace"]
        objects += [obj("IOMeshCluster", cluster["name"], ns, status={"summary": {"metaSummary": {"leader": "a:1"}}}),
                    obj("ZookeeperCluster", f"{cluster['name']}-zookeeper", ns, spec={"replicas": 3},
                        status={"readyReplicas": 3}),
                    obj("Pod", f"{cluster['name']}-meta-0", ns, spec={"nodeName": cluster["nodes"][0]},
                        status={"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]})]
        configmap, storage_class = render.csi_manifests(cluster, plan["settings"])
        configmap = {**configmap, "data": {**configmap["data"], "clusterId": cluster_id}}
        objects += [configmap, storage_class]
    # Another namespace's pod and ConfigMap, which the report does not read.
    objects += [obj("Pod", "web-0", "shop"), obj("ConfigMap", "web", "shop")]
    return objects


SERVED = ("Namespace", "IOMeshCluster", "ZookeeperCluster", "BlockDevice", "StorageClass", "Pod", "ConfigMap")


def observed_as_the_role_read_it(plan, objects, release_status):
    """What the report role handed the report filters before this action: each read's objects under its key."""
    in_ns = {c["namespace"] for c in plan["clusters"]}
    return {
        "release": {k: release_status[k] for k in ("chart", "revision", "status", "app_version")},
        "namespaces": [o for o in objects if o["kind"] == "Namespace"],
        "iomesh_clusters": [o for o in objects if o["kind"] == "IOMeshCluster"],
        "zookeeper_clusters": [o for o in objects if o["kind"] == "ZookeeperCluster"],
        "pods": [o for o in objects if o["kind"] == "Pod" and o["metadata"]["namespace"] in in_ns],
        "block_devices": [],
        "storage_classes": [o for o in objects if o["kind"] == "StorageClass"],
        "configmaps": [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["namespace"] in in_ns],
        "errors": [],
    }


def run_action(args, check_mode=False):
    return runner.run_action(iomesh_report.ActionModule, "Read and judge", args, check_mode)


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_judges_as_the_report_filters_do_and_hands_back_only_the_judgement(fake_api, tmp_path, check_mode):
    helm = FakeHelm(tmp_path, [release(1, "superseded"), release(2, "deployed", {"iomesh": {"create": False}})])
    plan = make_plan(helm.path)
    objects = live_objects(plan)
    client = fake_api(objects=objects, served=SERVED)
    result = run_action({"plan": plan, "kubeconfig": "/etc/kube/lab.conf", "context": "ops@lab"}, check_mode=check_mode)
    assert not result.get("failed") and result["changed"] is False, result
    assert set(result) >= {"problems", "dot", "view"} and "objects" not in result

    observed = observed_as_the_role_read_it(plan, objects, helm_status(helm))
    clusters, settings = plan["clusters"], plan["settings"]
    assert result["problems"] == report_filters.iomesh_report_problems(clusters, observed, None, settings)
    assert result["dot"] == report_filters.iomesh_report_diagram(clusters, observed, None, settings)
    meta = {"diagram_image": "t.svg"}
    assert report_filters.iomesh_report_view_markdown(result["view"], meta) == \
        report_filters.iomesh_report_markdown(clusters, observed, None, meta, settings)
    # One meta pod of three in each deployed cluster; the third cluster is not deployed.
    assert "ledger: 1 of 3 meta pods ready." in result["problems"]
    assert "tank-a: 1 of 3 meta pods ready." in result["problems"]
    assert any(p.startswith("tank-b: not deployed: IOMeshCluster tanks-b/tank-b does not exist")
               for p in result["problems"])
    assert result["msg"] == f"{len(result['problems'])} problem(s)"

    # One read per kind, and per namespace for pods and ConfigMaps, over one client; the connection as given.
    assert fake_api.holder["created"] == 1
    assert fake_api.holder["connection"] == {"kubeconfig": "/etc/kube/lab.conf", "context": "ops@lab"}
    gets = [(c[1], c[2].get("namespace")) for c in client.calls if c[0] == "get"]
    assert gets == [("Namespace", None), ("IOMeshCluster", None), ("ZookeeperCluster", None),
                    ("BlockDevice", "ledger-sys"), ("StorageClass", None),
                    ("Pod", "ledger-sys"), ("Pod", "tanks-a"), ("Pod", "tanks-b"),
                    ("ConfigMap", "ledger-sys"), ("ConfigMap", "tanks-a"), ("ConfigMap", "tanks-b")]
    # helm read the release with the same connection.
    assert [c["argv"][:2] for c in helm.calls()] == [["history", "ledger"], ["get", "values"]]
    assert helm.calls()[0]["env"] == {"KUBECONFIG": "/etc/kube/lab.conf", "HELM_KUBECONTEXT": "ops@lab"}


def helm_status(helm):
    last = helm.revisions()[-1]
    return {"chart": last["chart"], "revision": str(last["revision"]), "status": last["status"],
            "app_version": last["app_version"]}


def test_the_plans_settings_judge_the_cluster_id(fake_api, tmp_path):
    helm = FakeHelm(tmp_path, [release(1, "deployed")])
    plan = make_plan(helm.path)
    fake_api(objects=live_objects(plan, cluster_id="someone-elses"), served=SERVED)
    problems = run_action({"plan": plan})["problems"]
    assert (f"ledger: CSI ConfigMap ledger-sys/ledger-csi-configmap: clusterId is someone-elses, expected {CLUSTER_ID}."
            in problems)
    assert (f"tank-a: CSI ConfigMap tanks-a/tank-a-csi-configmap: clusterId is someone-elses, expected {CLUSTER_ID}."
            in problems)


def test_a_read_that_fails_is_a_problem_naming_it(fake_api, tmp_path):
    helm = FakeHelm(tmp_path, [release(1, "deployed")])
    plan = make_plan(helm.path)
    fake_api(objects=live_objects(plan), served=SERVED,
             fail_for={"Pod": api_error(403, "Forbidden", 'pods is forbidden: User "report" cannot list pods')})
    result = run_action({"plan": plan})
    assert not result.get("failed")
    reason = '403 Forbidden: pods is forbidden: User "report" cannot list pods'
    assert [p for p in result["problems"] if p.startswith("could not read")] == [
        f"could not read: pods in {ns}: {reason}" for ns in ("ledger-sys", "tanks-a", "tanks-b")]


def test_an_api_that_cannot_be_used_is_a_problem_of_every_read(fake_api, tmp_path):
    helm = FakeHelm(tmp_path, [release(3, "deployed")])
    plan = make_plan(helm.path)
    refused = ("HTTPSConnectionPool(host='10.9.8.7', port=6443): Max retries exceeded with url: /version (Caused by "
               "NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new "
               "connection: [Errno 111] Connection refused'))")
    client = fake_api(objects=[], served=SERVED, version_error=ConnectionError(refused))
    result = run_action({"plan": plan})
    assert not result.get("failed")
    why = "the API cannot be reached: Failed to establish a new connection: [Errno 111] Connection refused"
    unread = [p for p in result["problems"] if p.startswith("could not read")]
    keys = ["namespaces", "IOMeshClusters", "ZookeeperClusters", "BlockDevices in ledger-sys", "StorageClasses",
            *(f"{kind} in {ns}" for kind in ("pods", "ConfigMaps") for ns in ("ledger-sys", "tanks-a", "tanks-b"))]
    # In the report's order (sorted).
    assert unread == sorted(f"could not read: {key}: {why}" for key in keys)
    assert [c[0] for c in client.calls] == ["request"]


@pytest.mark.parametrize("revisions, state, problem", [
    ([], {}, "Helm release ledger is not installed in namespace ledger-sys (stage iomesh_mgmt not run)."),
    ([release(4, "deployed")], {"fail": {"history": "Error: Kubernetes cluster unreachable"}},
     "could not read: Helm release ledger in ledger-sys with {helm}: helm history of release ledger-sys/ledger "
     "failed: Error: Kubernetes cluster unreachable"),
    ([release(4, "deployed"), release(5, "pending-upgrade")], {}, "Helm release ledger is pending-upgrade, not deployed."),
], ids=["not-installed", "helm-fails", "pending"])
def test_the_release_as_helm_tells_it(fake_api, tmp_path, revisions, state, problem):
    helm = FakeHelm(tmp_path, revisions, **state)
    plan = make_plan(helm.path)
    fake_api(objects=live_objects(plan), served=SERVED)
    assert problem.format(helm=helm.path) in run_action({"plan": plan})["problems"]


def test_options_helm_cannot_use_are_a_problem_of_the_release_read(fake_api, tmp_path):
    helm = FakeHelm(tmp_path, [release(1, "deployed")])
    plan = make_plan(helm.path)
    fake_api(objects=live_objects(plan), served=SERVED)
    problems = run_action({"plan": plan, "proxy": "http://proxy.lab:3128"})["problems"]
    assert (f"could not read: Helm release ledger in ledger-sys with {helm.path}: helm cannot use the connection "
            "options proxy; give helm a kubeconfig (iomesh_kubeconfig) that holds them.") in problems
    assert helm.calls() == []


def test_verification_results_of_the_run_are_judged(fake_api, tmp_path):
    helm = FakeHelm(tmp_path, [release(1, "deployed")])
    plan = make_plan(helm.path)
    fake_api(objects=live_objects(plan), served=SERVED)
    results = [{"cluster": "tank-a", "namespace": "v", "storage_class": "tank-a", "pvc": "p", "phase": "Pending",
                "pv": "", "driver": "", "pv_nodes": [], "within_cluster_nodes": None, "result": "failed",
                "message": "not bound"}]
    result = run_action({"plan": plan, "verify_results": results})
    assert "tank-a: verification failed: not bound" in result["problems"]
    assert result["view"]["verify_ran"] is True


@pytest.mark.parametrize("args, message", [
    ({"plan": {"clusters": []}}, "iomesh_report: plan must be what iomesh.multicluster.iomesh_plan returns"),
    ({"verify_results": "passed"}, "iomesh_report: verify_results must be null (verification not run) or a list"),
    ({"verify_results": [{"result": "passed"}]}, "each with a cluster key"),
], ids=["plan", "verify-text", "verify-no-cluster"])
def test_bad_arguments_fail_before_any_read(fake_api, tmp_path, args, message):
    helm = FakeHelm(tmp_path, [release(1, "deployed")])
    client = fake_api(objects=[], served=SERVED)
    result = run_action({"plan": make_plan(helm.path), **args})
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert client.calls == [] and helm.calls() == []
