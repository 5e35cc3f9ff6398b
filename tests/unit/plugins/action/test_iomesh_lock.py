"""iomesh_lock: the run's identity is carried from one lock task to the next in the host's facts."""

from __future__ import annotations

from ansible_collections.iomesh.multicluster.plugins.action import iomesh_lock


class TaggedStr(str):
    """Stands for the str subclass Ansible hands a plugin for a tagged value."""


def test_the_run_id_comes_from_the_facts_as_a_plain_string():
    run_id = iomesh_lock.run_id_of({"ansible_facts": {iomesh_lock.RUN_FACT: TaggedStr("3f9a0c11d2")},
                                    iomesh_lock.RUN_FACT: TaggedStr("3f9a0c11d2")})
    assert run_id == "3f9a0c11d2" and not isinstance(run_id, TaggedStr)


def test_the_injected_top_level_fact_is_not_read():
    """Only ansible_facts counts: the top-level copy is the deprecated injection (INJECT_FACTS_AS_VARS)."""
    run_id = iomesh_lock.run_id_of({iomesh_lock.RUN_FACT: "stale-copy", "ansible_facts": {}})
    assert run_id != "stale-copy" and len(run_id) == 10 and int(run_id, 16) >= 0


def test_each_run_without_a_fact_gets_a_new_id():
    assert iomesh_lock.run_id_of({}) != iomesh_lock.run_id_of({})
