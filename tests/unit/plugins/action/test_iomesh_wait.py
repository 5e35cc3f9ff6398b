"""The iomesh_wait action (plugins/action/iomesh_wait.py) on a fake API client: progress, shared reads, waits that
give up saying what they expected and saw, bounded times (its reads: test_k8s_client.py)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.iomesh.multicluster.plugins.action import iomesh_wait
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import k8s_client

from ..fake_k8s import api_error
from . import runner


POD = {"kind": "Pod", "metadata": {"name": "chunk-0", "namespace": "blk-core"}}


class FakeTime:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_the_action_prints_progress_while_a_wait_runs_and_returns_what_it_waited_for(fake_api, monkeypatch):
    """The action run as Ansible runs it (task args validated by its argument spec), the API answering 'not ready'
    for 70 s: one progress line per progress_interval, named by the task, then the result."""
    from unittest import mock  # pylint: disable=import-outside-toplevel

    from ansible.playbook.task import Task  # pylint: disable=import-outside-toplevel

    client = fake_api(objects=[])
    clock = FakeTime()
    monkeypatch.setattr(iomesh_wait, "time", clock)
    pod = {"kind": "Pod", "metadata": {"name": "op-0", "namespace": "blk-core"}, "spec": {"nodeName": "w1"},
           "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    original_get = client.get

    def get(kind, **params):
        client.objects = [pod] if clock.now >= 70 else []
        return original_get(kind, **params)

    monkeypatch.setattr(client, "get", get)
    lines = []
    colors = set()

    def display(text, **kw):
        lines.append(text)
        colors.add(kw.get("color"))

    monkeypatch.setattr(iomesh_wait.display, "display", display)
    task = Task()
    task.name = "Wait for the operator"
    task.args = {"waits": [{"label": "the operator pod", "api_version": "v1", "kind": "Pod", "namespace": "blk-core",
                            "check": "pods_on_nodes", "args": {"what": "operator", "nodes": ["w1"], "count": 1}}],
                 "timeout": 300, "delay": 10, "progress_interval": 30}
    action = iomesh_wait.ActionModule(task, mock.MagicMock(), mock.MagicMock(check_mode=False), None, None, None)
    result = action.run(task_vars={})
    assert not result.get("failed"), result
    assert result["waits"][0]["seconds"] == 70.0
    assert lines == [f"Wait for the operator: Still waiting for the operator pod in namespace blk-core ({t} s of 300 s). "
                     "Seen: no pods." for t in (30, 60)], lines
    # In the colour Ansible uses for its own progress and skip lines, set apart from task results.
    assert colors == {"cyan"}


def ready_pod(name, node, namespace="blk-core"):
    return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": {"nodeName": node},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}


def crashing_pod(name, node, namespace="blk-core"):
    return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": {"nodeName": node},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                       "containerStatuses": [{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}


def run_action(args, check_mode=False, name="Wait for blk-core"):
    return runner.run_action(iomesh_wait.ActionModule, name, args, check_mode)


CSI_WAIT = {"label": "the CSI node plugin of blk-core", "api_version": "v1", "kind": "Pod", "namespace": "blk-core",
            "check": "csi_node_plugin",
            "args": {"nodes": ["w1", "w2"], "pending_nodes": ["w7"], "name_pattern": "^com.iomesh.csi-driver-node-plugin-"}}
OPERATOR_WAIT = {"label": "the operator", "api_version": "v1", "kind": "Pod", "namespace": "blk-core",
                 "check": "pods_on_nodes", "args": {"what": "operator", "nodes": ["w1"], "count": 1, "name_pattern": "^operator-"}}


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_waits_that_find_everything_ready_cost_one_shared_read_and_report_their_notes(fake_api, monkeypatch, check_mode):
    """Two waits on the same pods: one list request (reads are shared until the next sleep), no sleep, the P1 note
    of the CSI wait in `notes`, changed=false; the same under --check (a wait only reads)."""
    plugin = "com.iomesh.csi-driver-node-plugin"
    client = fake_api(objects=[ready_pod(f"{plugin}-a", "w1"), ready_pod(f"{plugin}-b", "w2"),
                               crashing_pod(f"{plugin}-c", "w7"), ready_pod("operator-0", "w1")])
    clock = FakeTime()
    monkeypatch.setattr(iomesh_wait, "time", clock)
    result = run_action({"waits": [CSI_WAIT, OPERATOR_WAIT], "request_timeout": 9}, check_mode=check_mode)
    assert not result.get("failed") and result["changed"] is False, result
    assert [c for c in client.calls if c[0] == "get"] == [("get", "Pod", {"_request_timeout": 9, "namespace": "blk-core"})]
    assert clock.now == 0.0
    assert result["notes"] == ["expected until their cluster is deployed (docs/pitfalls.md P1): the CSI node plugin is not "
                               "ready on w7 (CrashLoopBackOff)"]
    assert [(w["label"], w["polls"], w["seconds"]) for w in result["waits"]] == [
        ("the CSI node plugin of blk-core", 1, 0.0), ("the operator", 1, 0.0)]
    assert result["msg"] == "2 wait(s) satisfied in 0.0 s"


def test_a_wait_that_never_becomes_ready_fails_with_what_it_expected_and_saw(fake_api, monkeypatch):
    client = fake_api(objects=[crashing_pod("operator-0", "w1")])
    clock = FakeTime()
    monkeypatch.setattr(iomesh_wait, "time", clock)
    lines = []
    monkeypatch.setattr(iomesh_wait.display, "display", lambda text, **kw: lines.append(text))
    result = run_action({"waits": [OPERATOR_WAIT], "timeout": 60, "delay": 20, "progress_interval": 0})
    assert lines == []   # progress_interval 0: no progress lines
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == ("Gave up after 60 s (4 polls) waiting for the operator in namespace blk-core. Expected: 1 operator "
                             "pod(s) ready, only on w1. Seen: CrashLoopBackOff: operator-0@w1."), result["msg"]
    # Polled every `delay` seconds (0, 20, 40, 60 s), and gave up where one more delay would pass the timeout.
    assert len([c for c in client.calls if c[0] == "get"]) == 4 and clock.now == 60.0


def test_the_last_api_error_is_what_a_failed_wait_saw(fake_api, monkeypatch):
    fake_api(objects=[], fail=api_error(403, "Forbidden", 'pods is forbidden: User "ci" cannot list resource "pods"'))
    monkeypatch.setattr(iomesh_wait, "time", FakeTime())
    result = run_action({"waits": [OPERATOR_WAIT], "timeout": 10, "delay": 5})
    assert result["failed"] is True
    assert "Seen: the API read failed: " in result["msg"] and 'User "ci" cannot list resource "pods"' in result["msg"]


def test_a_client_that_cannot_be_created_fails_the_task_with_the_reason(monkeypatch):
    def get_api_client(**_connection):
        raise RuntimeError("Invalid kube-config file. No configuration found.")

    monkeypatch.setattr(k8s_client, "get_api_client", get_api_client)
    result = run_action({"waits": [OPERATOR_WAIT], "kubeconfig": "/nowhere"})
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == "Could not create the Kubernetes API client: Invalid kube-config file. No configuration found."


def test_zero_or_negative_times_are_bounded_not_a_busy_loop_or_an_unbounded_request(fake_api, monkeypatch):
    """delay 0 polls once a second, request_timeout 0 still bounds each request, a negative timeout gives up at once."""
    client = fake_api(objects=[])
    clock = FakeTime()
    monkeypatch.setattr(iomesh_wait, "time", clock)
    result = run_action({"waits": [OPERATOR_WAIT], "timeout": 3, "delay": 0, "request_timeout": 0, "progress_interval": 0})
    assert result["failed"] is True and result["msg"].startswith("Gave up after 3 s (4 polls) ")
    assert clock.now == 3.0
    assert {c[2]["_request_timeout"] for c in client.calls if c[0] == "get"} == {1}
    result = run_action({"waits": [OPERATOR_WAIT], "timeout": -5, "delay": 5})
    assert result["failed"] is True and result["msg"].startswith("Gave up after 0 s (1 polls) ")


def test_arguments_are_validated_before_any_read(fake_api):
    client = fake_api(objects=[])
    with pytest.raises(AnsibleActionFail, match="value of check must be one of: .*got: pods_everywhere found in waits"):
        run_action({"waits": [{**OPERATOR_WAIT, "check": "pods_everywhere"}]})
    assert client.calls == []
