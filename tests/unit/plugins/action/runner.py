"""An action plugin run as Ansible runs it, for the tests of the collection's actions."""

from __future__ import annotations

from unittest import mock

from ansible.playbook.task import Task


def run_action(action_class, name: str, args: dict, check_mode: bool = False) -> dict:
    """The action as Ansible runs it: task args validated by its argument spec, the play's check mode."""
    task = Task()
    task.name = name
    task.args = args
    task.check_mode = check_mode
    return action_class(task, mock.MagicMock(), mock.MagicMock(check_mode=check_mode), None, None, None).run(task_vars={})
