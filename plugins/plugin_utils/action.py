# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's action plugins share: they support check mode (each reports or reads the same under
--check), never run async, and take their arguments validated against their ARGUMENT_SPEC."""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class Action(ActionBase):
    """Subclasses set ARGUMENT_SPEC and implement act(args, task_vars, result) -> result."""

    _supports_check_mode = True
    _supports_async = False
    ARGUMENT_SPEC: dict = {}

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)[1]
        return self.act(args, task_vars or {}, result)

    def act(self, args: dict, task_vars: dict, result: dict) -> dict:
        raise NotImplementedError
