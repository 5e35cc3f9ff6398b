"""connection: the collection's Kubernetes plugins take kubernetes.core's own connection options, and pass on only the
ones a task set, so that unset ones fall to the K8S_AUTH_* environment and the kubeconfig as in kubernetes.core."""

from __future__ import annotations

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import connection
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC


def test_the_options_are_kubernetes_cores_and_each_spec_is_its_own_copy():
    first = connection.spec()
    assert first == AUTH_ARG_SPEC
    assert {"kubeconfig", "context", "host", "api_key", "validate_certs", "proxy", "impersonate_user"} <= set(first)
    # Validation changes a spec in place (it fills in defaults, ...): one plugin's spec must not change
    # kubernetes.core's nor another plugin's.
    first["kubeconfig"]["default"] = "/tmp/changed"
    first["context"]["aliases"] = ["ctx"]
    assert "default" not in AUTH_ARG_SPEC["kubeconfig"] and "aliases" not in AUTH_ARG_SPEC["context"]
    assert connection.spec() == AUTH_ARG_SPEC


def test_only_the_options_a_task_set_are_passed_on():
    args = {"kubeconfig": "/etc/blk/kubeconfig", "context": "blk-admin@site-b", "host": None, "api_key": "",
            "validate_certs": False, "waits": [{"label": "x"}], "timeout": 900}
    assert connection.options(args) == {"kubeconfig": "/etc/blk/kubeconfig", "context": "blk-admin@site-b",
                                        "validate_certs": False}
    assert connection.options({"timeout": 60}) == {}
