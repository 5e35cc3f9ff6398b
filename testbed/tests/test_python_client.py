"""The kubernetes Python client (the library kubernetes.core uses) against the emulator: CRUD, errors,
patch and a watch stream."""

from __future__ import annotations

import threading

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, config, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402


@pytest.fixture(scope="module")
def core(emu):
    api_client = config.new_client_from_config(config_file=str(emu.kubeconfig))
    yield client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    api_client.close()


def test_crud_and_errors(core):
    v1, _ = core
    v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py")))
    cm = v1.create_namespaced_config_map("py", client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="c", labels={"app": "py"}), data={"a": "1"}))
    assert cm.metadata.uid and cm.data == {"a": "1"}
    with pytest.raises(ApiException) as exc:
        v1.create_namespaced_config_map("py", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c")))
    assert exc.value.status == 409
    got = v1.read_namespaced_config_map("c", "py")
    got.data["b"] = "2"
    replaced = v1.replace_namespaced_config_map("c", "py", got)
    assert replaced.data == {"a": "1", "b": "2"}
    patched = v1.patch_namespaced_config_map("c", "py", {"data": {"a": "x"}})
    assert patched.data["a"] == "x"
    listed = v1.list_namespaced_config_map("py", label_selector="app=py")
    assert [i.metadata.name for i in listed.items] == ["c"] and listed.metadata.resource_version
    v1.delete_namespaced_config_map("c", "py")
    with pytest.raises(ApiException) as exc:
        v1.read_namespaced_config_map("c", "py")
    assert exc.value.status == 404


def test_watch_stream(core):
    v1, apps = core
    rv = v1.list_namespaced_config_map("py").metadata.resource_version
    t = threading.Timer(0.3, lambda: v1.create_namespaced_config_map("py", client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="watched"))))
    t.start()
    seen = []
    w = watch.Watch()
    for ev in w.stream(v1.list_namespaced_config_map, "py", resource_version=rv, timeout_seconds=5):
        seen.append((ev["type"], ev["object"].metadata.name))
        if ev["object"].metadata.name == "watched":
            w.stop()
    t.join()
    assert ("ADDED", "watched") in seen


def test_deployment_via_client(core):
    _, apps = core
    dep = client.V1Deployment(metadata=client.V1ObjectMeta(name="d"), spec=client.V1DeploymentSpec(
        replicas=2, selector=client.V1LabelSelector(match_labels={"app": "d"}),
        template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={"app": "d"}),
                                          spec=client.V1PodSpec(containers=[client.V1Container(
                                              name="c", image="registry.invalid/d:1")]))))
    created = apps.create_namespaced_deployment("py", dep)
    assert created.spec.strategy.rolling_update.max_unavailable == "25%"  # defaulted by the server
    w = watch.Watch()
    for ev in w.stream(apps.list_namespaced_deployment, "py", field_selector="metadata.name=d", timeout_seconds=10):
        if ev["object"].status and (ev["object"].status.ready_replicas or 0) == 2:
            w.stop()
    assert apps.read_namespaced_deployment_status("d", "py").status.available_replicas == 2
