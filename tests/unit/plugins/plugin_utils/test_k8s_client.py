"""k8s_client (plugins/plugin_utils/k8s_client.py), the reads of the iomesh_wait and iomesh_read actions, on a fake
API client: what they ask for, how they answer as kubernetes.core.k8s_info would, that every request carries the
request timeout, and the API server's version read as iomesh_api_probe reads it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import kubernetes
import pytest

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import k8s_client

from ..fake_k8s import VERSION, api_error

POD = {"kind": "Pod", "metadata": {"name": "chunk-0", "namespace": "blk-core"}}


def test_a_list_read_passes_namespace_selectors_and_the_request_timeout(fake_api):
    client = fake_api(objects=[POD, {**POD, "metadata": {"name": "x", "namespace": "other"}}])
    fetch = k8s_client.reader({"kubeconfig": "/k"}, 17)
    resources, error = fetch({"api_version": "v1", "kind": "Pod", "namespace": "blk-core",
                              "label_selectors": ["app=chunk", "tier=data"]})
    assert (resources, error) == ([POD], None)
    assert client.calls[-1] == ("get", "Pod", {"_request_timeout": 17, "namespace": "blk-core",
                                               "label_selector": "app=chunk,tier=data"})
    # One client per task, with the task's connection.
    assert fake_api.holder["connection"] == {"kubeconfig": "/k"}


def test_a_named_read_and_a_missing_name(fake_api):
    client = fake_api(objects=[POD])
    fetch = k8s_client.reader({}, 60)
    assert fetch({"api_version": "v1", "kind": "Pod", "namespace": "blk-core", "name": "chunk-0"}) == ([POD], None)
    # The kind looked up with its API version; the named read bounded and in its namespace too.
    assert client.calls == [("resource", "Pod", "v1"),
                            ("get", "Pod", {"_request_timeout": 60, "namespace": "blk-core", "name": "chunk-0"})]
    # As k8s_info: a name that does not exist is no objects, not an error.
    assert fetch({"api_version": "v1", "kind": "Pod", "namespace": "blk-core", "name": "chunk-9"}) == ([], None)


def test_a_kind_not_served_yet_is_looked_up_again_then_read_as_nothing(fake_api):
    client = fake_api(objects=[], served=(), installed_later=("IOMeshCluster",))
    fetch = k8s_client.reader({}, 60)
    spec = {"api_version": "iomesh.com/v1alpha1", "kind": "IOMeshCluster", "namespace": "blk-core"}
    # The CRD arrived since discovery was cached: the reader invalidates the cache and finds it.
    assert fetch(spec) == ([], None)
    assert client.calls == [("resource", "IOMeshCluster", "iomesh.com/v1alpha1"), ("invalidate",),
                            ("resource", "IOMeshCluster", "iomesh.com/v1alpha1"),
                            ("get", "IOMeshCluster", {"_request_timeout": 60, "namespace": "blk-core"})]
    never = fake_api(objects=[], served=())
    assert k8s_client.reader({}, 60)(spec) == ([], None)
    assert [c[0] for c in never.calls] == ["resource", "invalidate", "resource"]


def test_an_api_error_is_the_servers_message_and_a_timeout_the_clients(fake_api):
    fake_api(objects=[], fail=api_error(500, "Internal Server Error", "etcdserver: request timed out"))
    resources, error = k8s_client.reader({}, 60)({"api_version": "v1", "kind": "Pod"})
    assert resources == [] and "etcdserver: request timed out" in error and "500" in error
    fake_api(objects=[], fail=TimeoutError("HTTPSConnectionPool(host='api', port=6443): Read timed out. (read timeout=5)"))
    resources, error = k8s_client.reader({}, 5)({"api_version": "v1", "kind": "Pod"})
    assert resources == [] and error.endswith("Read timed out. (read timeout=5)")


def test_without_rediscover_a_missing_kind_is_looked_up_once(fake_api):
    """Reads made once leave the second look to the client (its discovery looks past its cache on a miss); polls
    (the default) drop the cache and look again each time a kind is missing."""
    client = fake_api(objects=[], served=("Pod",))
    fetch = k8s_client.fetcher(k8s_client.api_client({}), 30, rediscover=False)
    for kind in ("IOMeshCluster", "ZookeeperCluster"):
        assert fetch({"api_version": "example.io/v1", "kind": kind}) == ([], None)
    assert [c[0] for c in client.calls] == ["resource", "resource"]
    client.calls.clear()
    polls = k8s_client.fetcher(client, 30)
    for kind in ("IOMeshCluster", "ZookeeperCluster"):
        assert polls({"api_version": "example.io/v1", "kind": kind}) == ([], None)
    assert [c[0] for c in client.calls] == ["resource", "invalidate", "resource"] * 2


def test_the_server_version_is_one_bounded_request_of_the_same_client(fake_api):
    client = fake_api(objects=[])
    assert k8s_client.server_version(k8s_client.api_client({"context": "blk-admin@west"}), 7) == VERSION
    assert client.calls == [("request", "get", "/version", {"_request_timeout": 7})]
    assert fake_api.holder["connection"] == {"context": "blk-admin@west"}


def test_an_error_is_kept_whole_as_the_probe_keeps_it():
    assert k8s_client.error_text(RuntimeError("Invalid kube-config file. No configuration found.")) == (
        "Invalid kube-config file. No configuration found.")
    assert k8s_client.error_text(TimeoutError()) == "TimeoutError()"


def test_an_apply_body_is_json_bytes_for_a_client_before_25_as_kubernetes_core_sends_it(monkeypatch):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tank-csi", "namespace": "stor"},
          "data": {"a": "b"}}
    monkeypatch.setattr(kubernetes, "__version__", "24.2.0")
    assert k8s_client._apply_body(cm) == json.dumps(cm).encode()
    monkeypatch.setattr(kubernetes, "__version__", "25.3.0")
    assert k8s_client._apply_body(cm) is cm
    monkeypatch.setattr(kubernetes, "__version__", "37.0.2")
    assert k8s_client._apply_body(cm) is cm


def test_a_kind_not_served_is_recorded_once_looked_up_and_a_missing_name_is_not(fake_api):
    client = fake_api(objects=[POD], served=("Pod",))
    unserved = set()
    fetch = k8s_client.fetcher(client, 30, rediscover=False, unserved=unserved)
    assert fetch({"api_version": "v1", "kind": "Pod", "namespace": "blk-core", "name": "chunk-9"}) == ([], None)
    assert fetch({"api_version": "v1", "kind": "Pod", "namespace": "empty"}) == ([], None)
    assert fetch({"api_version": "openebs.io/v1alpha1", "kind": "BlockDevice"}) == ([], None)
    assert unserved == {("openebs.io/v1alpha1", "BlockDevice")}
    # Told from the one lookup the read made.
    assert [c[1:] for c in client.calls if c[0] == "resource"] == [
        ("Pod", "v1"), ("Pod", "v1"), ("BlockDevice", "openebs.io/v1alpha1")]


@pytest.mark.fresh_interpreters
@pytest.mark.parametrize("action", ["iomesh_read", "iomesh_wait", "iomesh_dry_run", "iomesh_lock"])
def test_loading_an_action_plugin_imports_the_client(action):
    # ansible-playbook loads each task's action plugin class in its own process before it forks the task's worker:
    # importing the client there is what spares every later worker the import (docs/architecture.md, "The no-change
    # path"). A fresh interpreter, so that nothing else imported it first.
    probe = (f"import sys; import ansible_collections.iomesh.multicluster.plugins.action.{action}; "
             "print(sorted(m for m in ('kubernetes.dynamic', "
             "'ansible_collections.kubernetes.core.plugins.module_utils.k8s.client', "
             "'ansible_collections.kubernetes.core.plugins.module_utils.k8s.service') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["['ansible_collections.kubernetes.core.plugins.module_utils.k8s.client',",
                                  "'ansible_collections.kubernetes.core.plugins.module_utils.k8s.service',",
                                  "'kubernetes.dynamic']"]


def test_a_missing_client_fails_when_a_client_is_needed(monkeypatch):
    missing = ImportError("No module named 'kubernetes'")
    monkeypatch.setattr(k8s_client, "IMPORT_ERROR", missing)
    with pytest.raises(ImportError) as raised:
        k8s_client.api_client({"kubeconfig": "/k"})
    assert raised.value is missing


MANAGED = {"kind": "Pod", "metadata": {"name": "meta-0", "namespace": "blk-core",
                                       "managedFields": [{"manager": "iomesh-operator"}]}}


def test_read_all_keeps_managed_fields_unless_told_and_says_no_reason_when_the_api_answers(fake_api):
    fake_api(objects=[MANAGED])
    reads = [{"key": "pods", "api_version": "v1", "kind": "Pod", "namespace": "blk-core"}]
    read, reason = k8s_client.read_all({}, reads, 5)
    assert read["objects"] == {"pods": [MANAGED]} and read["reachable"] is True and reason == ""
    read, reason = k8s_client.read_all({}, reads, 5, managed_fields=False)
    assert read["objects"] == {"pods": [{"kind": "Pod", "metadata": {"name": "meta-0", "namespace": "blk-core"}}]}


def test_without_managed_fields_leaves_other_objects_as_they_are():
    bare = {"kind": "Pod"}
    unmanaged = {"kind": "Pod", "metadata": {"name": "a"}}
    odd = {"kind": "Pod", "metadata": None}
    out = k8s_client.without_managed_fields([bare, unmanaged, odd, MANAGED])
    assert out[0] is bare and out[1] is unmanaged and out[2] is odd
    assert out[3] == {"kind": "Pod", "metadata": {"name": "meta-0", "namespace": "blk-core"}}
    assert "managedFields" in MANAGED["metadata"]


def test_a_change_is_judged_from_a_dry_run_that_takes_over_conflicting_fields_by_default(fake_api):
    stored = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "csi", "namespace": "blk-core"},
              "data": {"a": "1"}}
    client = fake_api(objects=[stored], served=("ConfigMap",))
    would_change = k8s_client.change_judge(k8s_client.api_client({}), 7, "iomesh-multicluster")
    assert would_change(stored) == (False, None)
    (apply,) = [c for c in client.calls if c[0] == "apply"]
    assert apply[4] is True and apply[5] == {"field_manager": "iomesh-multicluster", "dry_run": "All",
                                             "_request_timeout": 7}
