"""action.Action, the base of the collection's action plugins: the task's arguments validated against the plugin's
ARGUMENT_SPEC before act() runs, the task's variables passed on ({} when Ansible gives none), check mode supported,
async refused, and nothing warned about on an ordinary run."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.playbook.task import Task

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import action


class Probe(action.Action):
    """An action that returns what the base class gave it."""

    ARGUMENT_SPEC = {"cluster": {"type": "str", "required": True}, "replicas": {"type": "int", "default": 3}}

    def act(self, args, task_vars, result):
        result.update(args=args, task_vars=task_vars)
        return result


def probe(args, check_mode=False, async_val=0):
    task = Task()
    task.name = "probe"
    task.args = args
    task.check_mode = check_mode
    task.async_val = async_val
    return Probe(task, mock.MagicMock(), mock.MagicMock(check_mode=check_mode), None, None, None)


def test_act_gets_the_validated_arguments_and_the_task_variables(monkeypatch):
    warnings = []
    monkeypatch.setattr("ansible.plugins.action.display.warning", lambda msg, *a, **kw: warnings.append(msg))
    result = probe({"cluster": "blk-east", "replicas": "5"}).run(task_vars={"inventory_hostname": "localhost"})
    assert result["args"] == {"cluster": "blk-east", "replicas": 5}
    assert result["task_vars"] == {"inventory_hostname": "localhost"}
    assert probe({"cluster": "blk-west"}).run(task_vars={})["args"] == {"cluster": "blk-west", "replicas": 3}
    assert warnings == []


def test_no_task_variables_are_an_empty_mapping():
    assert probe({"cluster": "blk-east"}).run()["task_vars"] == {}
    assert probe({"cluster": "blk-east"}).run(task_vars=None)["task_vars"] == {}


def test_the_tmp_parameter_is_warned_about_as_ansible_does_for_every_action(monkeypatch):
    warnings = []
    monkeypatch.setattr("ansible.plugins.action.display.warning", lambda msg, *a, **kw: warnings.append(msg))
    probe({"cluster": "blk-east"}).run(tmp="/tmp/remote", task_vars={})
    assert len(warnings) == 1 and "no longer honors the tmp parameter" in warnings[0]


def test_bad_arguments_fail_before_act():
    with pytest.raises(AnsibleActionFail, match="missing required arguments: cluster"):
        probe({"replicas": 3}).run(task_vars={})


def test_check_mode_runs_and_async_is_refused():
    assert probe({"cluster": "blk-east"}, check_mode=True).run(task_vars={})["args"]["cluster"] == "blk-east"
    with pytest.raises(AnsibleActionFail, match="does not support async"):
        probe({"cluster": "blk-east"}, async_val=30).run(task_vars={})


def test_act_is_for_subclasses():
    with pytest.raises(NotImplementedError):
        action.Action.act(None, {}, {}, {})
