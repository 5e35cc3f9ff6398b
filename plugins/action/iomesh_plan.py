# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a run: iomesh_clusters, the inventory and every iomesh_* variable, normalised and validated once."""

from __future__ import annotations

from pathlib import Path

from ansible.plugins.action import ActionBase

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import plan, topology

# Host variables of the topology that are gathered facts (setup): read from the host's ansible_facts.
FACT_KEYS = ("ansible_all_ipv4_addresses", "ansible_default_ipv4")

ARGUMENT_SPEC = {
    "fail_on_problems": {"type": "bool", "default": True},
}


def _controller_paths(settings: dict) -> list[str]:
    """Files the run reads on the controller that must exist before anything is changed."""
    ref = settings.get("iomesh_chart_ref")
    if isinstance(ref, str) and ref and not Path(ref).expanduser().exists():
        return [f"iomesh_chart_ref: {ref!r} does not exist on the controller; set it to the IOMesh chart's directory "
                "or .tgz (docs/air-gap.md), or leave it empty to install from iomesh_chart_repo_url."]
    return []


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def _value(self, value):
        return topology.plain(self._templar.template(value))

    def _hostvars(self, task_vars, clusters, groups):
        """The values the topology reads, of only the hosts of the clusters' groups (hostvars are lazy)."""
        wanted = set()
        for item in clusters if isinstance(clusters, list) else []:
            group = item.get("hosts_group") if isinstance(item, dict) else None
            if isinstance(group, str):
                wanted.update(groups.get(group) or [])
        hostvars = task_vars.get("hostvars") or {}
        out = {}
        for host in sorted(wanted):
            if host not in hostvars:
                continue
            source = hostvars[host]
            # Names of the host's other iomesh_* variables, so that a misspelt one is reported (values not read).
            out[host] = {str(key): None for key in source
                         if str(key).startswith("iomesh_") and str(key) not in topology.HOST_KEYS}
            # Gathered facts from ansible_facts, not as the top-level variables Ansible injects (deprecated by
            # ansible-core 2.20, INJECT_FACTS_AS_VARS: reading one warns); the topology keeps their usual names.
            facts = source["ansible_facts"] if "ansible_facts" in source else {}
            for key in topology.HOST_KEYS:
                if key in FACT_KEYS:
                    fact = key.removeprefix("ansible_")
                    if fact in facts:
                        out[host][key] = self._value(facts[fact])
                elif key in source:
                    out[host][key] = self._value(source[key])
        return out

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        clusters = self._value(task_vars.get("iomesh_clusters"))
        groups = {str(k): [str(h) for h in v] for k, v in (task_vars.get("groups") or {}).items()}
        # Names of every iomesh_* variable (a misspelt one is reported); values of the settings only.
        settings = {key: (self._value(task_vars[key]) if key in topology.SETTINGS_DEFAULTS else None)
                    for key in task_vars if key.startswith("iomesh_")}
        built = plan.build(clusters, groups, self._hostvars(task_vars, clusters, groups), settings)
        built["errors"] += _controller_paths(settings)
        # "warnings" of a task result are Ansible's own: the inventory's are returned as inventory_warnings.
        built["inventory_warnings"] = built.pop("warnings")
        if built["errors"] and args["fail_on_problems"]:
            # Only the problems: the partial plan would bury the message under pages of data.
            result.update(changed=False, failed=True, errors=built["errors"],
                          msg=plan.problems_text("iomesh_plan", built["errors"]))
            return result
        result.update(changed=False, **built)
        return result
