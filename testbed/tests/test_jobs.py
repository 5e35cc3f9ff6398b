"""Jobs and run-to-completion pods (kube-controller-manager's job controller + the kubelet): a Job's pods run
`pods.completionSeconds` and succeed, the Job becomes Complete (or Failed past its backoffLimit); bare helm hook
pods reach Succeeded; deleting a batch/v1 Job without a propagation policy orphans its pods. Real helm 3 and 4
install a chart with hook Jobs and a hook Pod, wait for them and apply their delete policies."""

from __future__ import annotations

import json
import time

import pytest
import yaml

NS = "default"
RUN = 1.5  # pods.completionSeconds of this module's emulator

HOOK_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: hooked\nversion: 0.1.0\n",
    "templates/cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-cfg
data:
  revision: "{{ .Release.Revision }}"
""",
    # kept after success; before-hook-creation replaces it on the next upgrade
    "templates/kept-job.yaml": """apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-kept
  annotations:
    helm.sh/hook: post-install,post-upgrade
    helm.sh/hook-weight: "1"
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: run
          image: registry.invalid/kubectl:1.0
          command: ["sh", "-c", "echo done"]
""",
    # deleted (with its pods) once it succeeded
    "templates/cleanup-job.yaml": """apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-cleanup
  annotations:
    helm.sh/hook: post-install,post-upgrade
    helm.sh/hook-weight: "2"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  template:
    spec:
      restartPolicy: OnFailure
      containers:
        - name: run
          image: registry.invalid/kubectl:1.0
""",
    "templates/hook-pod.yaml": """apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-pod
  annotations:
    helm.sh/hook: post-install
    helm.sh/hook-weight: "3"
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  restartPolicy: Never
  containers:
    - name: run
      image: registry.invalid/busybox:1.0
""",
}


@pytest.fixture(scope="module")
def emu(start_emulator, tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "testbed.yaml"
    path.write_text(yaml.safe_dump({"pods": {"completionSeconds": RUN}}))
    return start_emulator("--config", str(path))


def job(name: str, template_annotations: dict | None = None, **spec) -> dict:
    tpl = {"spec": {"restartPolicy": spec.pop("restartPolicy", "Never"),
                    "containers": [{"name": "run", "image": "registry.invalid/x:1"}]}}
    if template_annotations:
        tpl["metadata"] = {"annotations": template_annotations}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": {"template": tpl, **spec}}


def bare_pod(name: str, annotations: dict | None = None, restart: str = "Never") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"restartPolicy": restart, "containers": [{"name": "c", "image": "registry.invalid/x:1"}]}}


def create(emu, path: str, body: dict) -> dict:
    code, out, _ = emu.request("POST", path, body)
    assert code == 201, out
    return out


def job_pods(emu, name: str) -> list[dict]:
    return emu.get(f"/api/v1/namespaces/{NS}/pods?labelSelector=job-name%3D{name}")["items"]


def conditions(obj: dict) -> dict:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


def get_job(emu, name: str) -> dict:
    return emu.get(f"/apis/batch/v1/namespaces/{NS}/jobs/{name}")


def test_job_runs_to_completion(emu):
    created = create(emu, f"/apis/batch/v1/namespaces/{NS}/jobs", job("once"))
    uid = created["metadata"]["uid"]
    # the API server generates the selector and the pod labels (server v1.25: no batch.kubernetes.io/ keys)
    assert created["spec"]["selector"] == {"matchLabels": {"controller-uid": uid}}
    assert created["spec"]["template"]["metadata"]["labels"] == {"controller-uid": uid, "job-name": "once"}
    # while it runs: one pod with the job-name label, the Job counts it active
    running = emu.wait_for(lambda: [p for p in job_pods(emu, "once")
                                    if (p.get("status") or {}).get("phase") == "Running"], 10)
    assert running[0]["metadata"]["name"].startswith("once-")
    assert running[0]["metadata"]["ownerReferences"][0]["uid"] == uid
    assert (get_job(emu, "once").get("status") or {}).get("active") == 1
    assert "Complete" not in conditions(get_job(emu, "once"))
    done = emu.wait_for(lambda: get_job(emu, "once") if "Complete" in conditions(get_job(emu, "once")) else None, 15)
    st = done["status"]
    assert conditions(done)["Complete"]["status"] == "True"
    assert st["succeeded"] == 1 and "active" not in st and "failed" not in st
    assert st["startTime"] <= st["completionTime"]
    (p,) = job_pods(emu, "once")
    assert p["status"]["phase"] == "Succeeded"
    term = p["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (0, "Completed")
    assert term["finishedAt"] > term["startedAt"], "the container ran for completionSeconds"
    ready = conditions(p)["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")
    time.sleep(RUN + 0.5)
    assert job_pods(emu, "once")[0]["metadata"]["resourceVersion"] == p["metadata"]["resourceVersion"], \
        "a finished pod is never changed again"


def test_job_fails_past_its_backoff_limit(emu):
    create(emu, f"/apis/batch/v1/namespaces/{NS}/jobs",
           job("fails", {"testbed.kubeemu/exit-code": "2", "testbed.kubeemu/run-seconds": "0.2"}, backoffLimit=1))
    failed = emu.wait_for(lambda: get_job(emu, "fails") if "Failed" in conditions(get_job(emu, "fails")) else None,
                          15)
    cond = conditions(failed)["Failed"]
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    assert failed["status"]["failed"] == 2 and "succeeded" not in failed["status"]
    pods = job_pods(emu, "fails")
    assert [p["status"]["phase"] for p in pods] == ["Failed", "Failed"]
    term = pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (2, "Error")


def test_job_parallel_completions_and_deadline(emu):
    create(emu, f"/apis/batch/v1/namespaces/{NS}/jobs", job("three", completions=3, parallelism=2))
    emu.wait_for(lambda: len(job_pods(emu, "three")) == 2, 10)
    done = emu.wait_for(lambda: get_job(emu, "three") if "Complete" in conditions(get_job(emu, "three")) else None,
                        20)
    assert done["status"]["succeeded"] == 3 and len(job_pods(emu, "three")) == 3
    create(emu, f"/apis/batch/v1/namespaces/{NS}/jobs",
           job("slow", {"testbed.kubeemu/run-seconds": "600"}, activeDeadlineSeconds=1))
    failed = emu.wait_for(lambda: get_job(emu, "slow") if "Failed" in conditions(get_job(emu, "slow")) else None, 15)
    assert conditions(failed)["Failed"]["reason"] == "DeadlineExceeded"
    emu.wait_for(lambda: not job_pods(emu, "slow"), 10)  # the active pod is deleted


def test_only_hook_pods_and_job_pods_complete(emu):
    for body in (bare_pod("hook", {"helm.sh/hook": "test"}), bare_pod("probe"),
                 bare_pod("hook-always", {"helm.sh/hook": "test"}, "Always")):
        create(emu, f"/api/v1/namespaces/{NS}/pods", body)

    def phase(name):
        return (emu.get(f"/api/v1/namespaces/{NS}/pods/{name}").get("status") or {}).get("phase")
    emu.wait_for(lambda: phase("hook") == "Succeeded", 10)
    assert phase("probe") == "Running", "a bare restartPolicy Never pod that is no hook keeps running"
    assert phase("hook-always") == "Running"


def test_delete_job_orphans_pods_unless_propagated(emu):
    for name in ("orphaned", "propagated"):
        create(emu, f"/apis/batch/v1/namespaces/{NS}/jobs", job(name, {"testbed.kubeemu/run-seconds": "600"}))
        emu.wait_for(lambda: job_pods(emu, name), 10)
    code, _, headers = emu.request("DELETE", f"/apis/batch/v1/namespaces/{NS}/jobs/orphaned")
    assert code == 200
    assert "child pods are preserved by default when jobs are deleted" in headers.get("Warning", "")
    time.sleep(0.5)
    (left,) = job_pods(emu, "orphaned")
    assert not left["metadata"].get("ownerReferences") and not left["metadata"].get("deletionTimestamp")
    code, _, headers = emu.request("DELETE", f"/apis/batch/v1/namespaces/{NS}/jobs/propagated",
                                   {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"})
    assert code == 200 and "Warning" not in headers
    emu.wait_for(lambda: not job_pods(emu, "propagated"), 10)


@pytest.fixture(scope="module")
def hook_chart(tmp_path_factory):
    root = tmp_path_factory.mktemp("hooked")
    for rel, text in HOOK_CHART.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.parametrize("helm_bin", ["helm3", "helm4"])
def test_helm_waits_for_hooks_and_applies_delete_policies(emu, hook_chart, helm_bin):
    ns, rel = f"hooks-{helm_bin}", "h"
    start = time.monotonic()
    emu.helm(helm_bin, "install", rel, str(hook_chart), "-n", ns, "--create-namespace", "--timeout", "60s",
             check=True)
    assert time.monotonic() - start >= 3 * RUN - 1, "helm waited for three hooks in turn"
    kept = emu.get(f"/apis/batch/v1/namespaces/{ns}/jobs/{rel}-kept")
    assert conditions(kept)["Complete"]["status"] == "True"
    code, _, _ = emu.request("GET", f"/apis/batch/v1/namespaces/{ns}/jobs/{rel}-cleanup")
    assert code == 404, "hook-succeeded deleted the Job"
    emu.wait_for(lambda: not emu.get(f"/api/v1/namespaces/{ns}/pods?labelSelector=job-name%3D{rel}-cleanup")
                 ["items"], 10)  # and garbage collection its pods (helm deletes with propagation Background)
    pod = emu.get(f"/api/v1/namespaces/{ns}/pods/{rel}-pod")
    assert pod["status"]["phase"] == "Succeeded"
    status = json.loads(emu.helm(helm_bin, "status", rel, "-n", ns, "-o", "json", check=True).stdout)
    assert status["info"]["status"] == "deployed"
    # upgrade: before-hook-creation replaces the kept Job; its old pod goes with it
    emu.helm(helm_bin, "upgrade", rel, str(hook_chart), "-n", ns, "--timeout", "60s", check=True)
    again = emu.get(f"/apis/batch/v1/namespaces/{ns}/jobs/{rel}-kept")
    assert again["metadata"]["uid"] != kept["metadata"]["uid"]
    assert conditions(again)["Complete"]["status"] == "True"
    emu.wait_for(lambda: {p["metadata"]["labels"]["controller-uid"] for p in emu.get(
        f"/api/v1/namespaces/{ns}/pods?labelSelector=job-name%3D{rel}-kept")["items"]} == {again["metadata"]["uid"]},
        10)


@pytest.mark.parametrize("helm_bin", ["helm3", "helm4"])
def test_helm_fails_on_a_failed_hook_job(emu, tmp_path, helm_bin):
    chart = tmp_path / "failing"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: failing\nversion: 0.1.0\n")
    (chart / "templates" / "job.yaml").write_text(HOOK_CHART["templates/kept-job.yaml"].replace(
        "spec:\n      restartPolicy", "metadata:\n      annotations:\n        testbed.kubeemu/exit-code: \"1\"\n"
        "    spec:\n      restartPolicy"))
    ns = f"failing-{helm_bin}"
    res = emu.helm(helm_bin, "install", "f", str(chart), "-n", ns, "--create-namespace", "--timeout", "60s")
    assert res.returncode != 0
    # helm 3 reports the condition's reason, helm 4 (kstatus) the Job's status
    assert ("BackoffLimitExceeded" if helm_bin == "helm3" else "status: Failed, message: Job Failed") in res.stderr, \
        res.stderr
    failed = emu.get(f"/apis/batch/v1/namespaces/{ns}/jobs/f-kept")
    assert conditions(failed)["Failed"]["reason"] == "BackoffLimitExceeded"


def test_job_labels_of_newer_servers(start_emulator):
    other = start_emulator("--server-version", "v1.30.4")
    created = create(other, f"/apis/batch/v1/namespaces/{NS}/jobs", job("newer"))
    uid = created["metadata"]["uid"]
    assert created["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert created["spec"]["template"]["metadata"]["labels"] == {
        "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "newer",
        "controller-uid": uid, "job-name": "newer"}
