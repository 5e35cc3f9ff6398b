"""The iomesh_api_probe action (plugins/action/iomesh_api_probe.py) on a fake API client: the API server's /version
and address when it answers, the client's own error otherwise (never a failed task), whether that error came from
talking to the server, the connection options and the request timeout passed on, and the same under --check."""

from __future__ import annotations

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from ansible_collections.iomesh.multicluster.plugins.action import iomesh_api_probe
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import k8s_client

from ..fake_k8s import VERSION
from . import runner


def run_action(args, check_mode=False):
    return runner.run_action(iomesh_api_probe.ActionModule, "Probe the Kubernetes API", args, check_mode)


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_an_answering_server_gives_its_version_and_address(fake_api, check_mode):
    client = fake_api(objects=[])
    result = run_action({"kubeconfig": "/etc/stor/kubeconfig", "context": "stor-admin@west", "request_timeout": 7},
                        check_mode=check_mode)
    assert result == {**result, "changed": False, "reachable": True, "host": "https://10.20.30.40:6443",
                      "version": VERSION}
    assert "failed" not in result and "error" not in result
    assert fake_api.holder["connection"] == {"kubeconfig": "/etc/stor/kubeconfig", "context": "stor-admin@west"}
    # One request, bounded by the request timeout.
    assert client.calls == [("request", "get", "/version", {"_request_timeout": 7})]


def test_the_request_timeout_is_at_least_a_second(fake_api):
    client = fake_api(objects=[])
    run_action({"request_timeout": 0})
    assert client.calls == [("request", "get", "/version", {"_request_timeout": 1})]
    run_action({})
    assert client.calls[-1] == ("request", "get", "/version", {"_request_timeout": 60})


REFUSED = urllib3.exceptions.MaxRetryError(
    None, "/version", reason=urllib3.exceptions.NewConnectionError(
        None, "Failed to establish a new connection: [Errno 111] Connection refused"))


@pytest.mark.parametrize("error, from_a_request", [
    (REFUSED, True),
    (ApiException(status=401, reason="Unauthorized"), True),
    (ConnectionError("the socket closed"), False),
], ids=["refused", "unauthorized", "other"])
def test_a_server_that_cannot_be_used_is_an_answer_with_the_clients_error(fake_api, error, from_a_request):
    fake_api(objects=[], version_error=error)
    result = run_action({"host": "https://10.9.8.7:6443"})
    assert "failed" not in result and result["changed"] is False and result["reachable"] is False
    assert result["error"] == (str(error) or repr(error))
    assert result["client_configured"] is from_a_request
    assert "version" not in result and "host" not in result


def test_a_client_that_cannot_be_created_is_about_the_kubeconfig(monkeypatch):
    def get_api_client(**_connection):
        raise RuntimeError("Could not create API client: Invalid kube-config file. No configuration found.")

    monkeypatch.setattr(k8s_client, "get_api_client", get_api_client)
    result = run_action({"kubeconfig": "/nowhere"})
    assert result["reachable"] is False and result["client_configured"] is False
    assert result["error"] == "Could not create API client: Invalid kube-config file. No configuration found."


def test_a_missing_kubernetes_client_is_an_answer(monkeypatch):
    monkeypatch.setattr(k8s_client, "IMPORT_ERROR", ImportError("No module named 'kubernetes'"))
    result = run_action({})
    assert result["reachable"] is False and result["error"] == "No module named 'kubernetes'"
    assert result["client_configured"] is False
