"""api_errors.reason: the one-line reason of a failed Kubernetes client call.

Each message is what the Kubernetes Python client (kubernetes 37, urllib3 2.x, through kubernetes.core 6.6) really
raised against a closed port, an unknown host, a self-signed certificate, an HTTP server spoken to in TLS and a
server answering 401/403 (str() of the exception, as the collection's probe returns it), or is quoted from public
bug reports of the client with older urllib3 versions (the issue is named).
"""

from __future__ import annotations

import pytest
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import api_errors, k8s
from kubernetes.client.exceptions import ApiException

HEADERS_401 = ("HTTP response headers: HTTPHeaderDict({'Audit-Id': 'ffa6c4c6-4ba9-4de7-b3c7-23437edbe4ff', "
               "'Content-Type': 'application/json', 'Www-Authenticate': 'Basic realm=\"kubernetes-master\"', "
               "'Date': 'Sat, 31 Mar 2018 09:15:44 GMT', 'Content-Length': '129'})\n")
TRACEBACK = ("Original traceback: \n  File \"/usr/lib/python3.12/site-packages/kubernetes/dynamic/client.py\", line 54, "
             "in inner\n    resp = func(self, *args, **kwargs)\n           ^^^^^^^^^^^^^^^^^^^^^^^^^^^\n")


@pytest.mark.parametrize("message, expected", [
    pytest.param(
        "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: /version (Caused by "
        "NewConnectionError(\"HTTPConnection(host='127.0.0.1', port=1): Failed to establish a new connection: "
        "[Errno 111] Connection refused\"))",
        "Failed to establish a new connection: [Errno 111] Connection refused", id="refused-urllib3-2"),
    pytest.param(  # kubernetes-client/python#385
        "HTTPConnectionPool(host='localhost', port=8080): Max retries exceeded with url: /api/v1/pods?watch=False "
        "(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7faa0ec9df90>: Failed to "
        "establish a new connection: [Errno 111] Connection refused',))",
        "Failed to establish a new connection: [Errno 111] Connection refused", id="refused-urllib3-1"),
    pytest.param(
        "HTTPSConnectionPool(host='no-such-host.invalid', port=6443): Max retries exceeded with url: /version (Caused "
        "by NameResolutionError(\"HTTPSConnection(host='no-such-host.invalid', port=6443): Failed to resolve "
        "'no-such-host.invalid' ([Errno -2] Name or service not known)\"))",
        "Failed to resolve 'no-such-host.invalid' ([Errno -2] Name or service not known)", id="name-resolution"),
    pytest.param(
        "HTTPSConnectionPool(host='127.0.0.1', port=18443): Max retries exceeded with url: /version (Caused by "
        "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "self-signed certificate (_ssl.c:1000)')))",
        "TLS error: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate",
        id="tls-self-signed"),
    pytest.param(  # kubernetes-client/python#1017
        "HTTPSConnectionPool(host='172.18.56.103', port=6443): Max retries exceeded with url: /api/v1/namespaces "
        "(Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
        "failed: unable to get issuer certificate (_ssl.c:1056)')))",
        "TLS error: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get issuer certificate",
        id="tls-unknown-issuer"),
    pytest.param(  # kubernetes-client/python#945
        "HTTPSConnectionPool(host='localhost', port=443): Max retries exceeded with url: /api/v1/nodes/xxxx (Caused "
        "by SSLError(SSLError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed (_ssl.c:841)'),))",
        "TLS error: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", id="tls-urllib3-1"),
    pytest.param(
        "HTTPSConnectionPool(host='127.0.0.1', port=18401): Max retries exceeded with url: /version (Caused by "
        "SSLError(SSLError(1, '[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)')))",
        "TLS error: [SSL: WRONG_VERSION_NUMBER] wrong version number", id="tls-to-a-plain-http-server"),
    pytest.param(  # awslabs/data-on-eks#312 (the ConnectTimeoutError of its traceback, as MaxRetryError wraps it)
        "HTTPSConnectionPool(host='b80346ff3be18abadbf5fc89bd601cbc.gr7.us-west-2.eks.amazonaws.com', port=443): Max "
        "retries exceeded with url: /api/v1/namespaces/default/pods (Caused by ConnectTimeoutError(<urllib3."
        "connection.HTTPSConnection object at 0x7f17b7f0bd90>, 'Connection to b80346ff3be18abadbf5fc89bd601cbc.gr7."
        "us-west-2.eks.amazonaws.com timed out. (connect timeout=None)'))",
        "Connection to b80346ff3be18abadbf5fc89bd601cbc.gr7.us-west-2.eks.amazonaws.com timed out. (connect "
        "timeout=None)", id="connect-timeout"),
    pytest.param(  # caas-team/py-kube-downscaler#118
        "HTTPSConnectionPool(host='172.30.0.1', port=443): Read timed out. (read timeout=10)",
        "Read timed out. (read timeout=10)", id="read-timeout"),
    pytest.param(  # ansible-collections/kubernetes.core#407
        "HTTPSConnectionPool(host='api.xxxxxxxxxxxxxxxxxxxxxx', port=6443): Max retries exceeded with url: "
        "/apis/config.openshift.io/v1/clusterversions/version (Caused by ProtocolError('Connection aborted.', "
        "OSError(0, 'Error')))",
        "Connection aborted: Error", id="connection-aborted"),
    pytest.param(  # UKGovernmentBEIS/inspect_k8s_sandbox#41: no answer at all, the cause is in Reason
        "(0)\nReason: [Errno 110] Connection timed out\n",
        "[Errno 110] Connection timed out", id="status-0"),
    pytest.param(  # kubernetes/kubernetes#61978
        "(401)\nReason: Unauthorized\n" + HEADERS_401 + "HTTP response body: {\"kind\":\"Status\",\"apiVersion\":"
        "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\","
        "\"code\":401}\n",
        "401 Unauthorized", id="401-api-exception"),
    pytest.param(  # kubernetes.dynamic's UnauthorizedError, as k8s_cluster_info raises it
        "401\nReason: Unauthorized\nHTTP response headers: HTTPHeaderDict({'Content-Type': 'application/json', "
        "'Content-Length': '129'})\nHTTP response body: {\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
        "\"status\":\"Failure\",\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}\n" + TRACEBACK,
        "401 Unauthorized", id="401-dynamic-client"),
    pytest.param(  # robusta-dev/krr#360
        "(403)\nReason: Forbidden\nHTTP response headers: HTTPHeaderDict({'Content-Length': '298'})\nHTTP response "
        "body: {\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":"
        "\"deployments.apps is forbidden: User \\\"system:anonymous\\\" cannot list resource \\\"deployments\\\" in "
        "API group \\\"apps\\\" at the cluster scope\",\"reason\":\"Forbidden\",\"details\":{\"group\":\"apps\","
        "\"kind\":\"deployments\"},\"code\":403}",
        "403 Forbidden: deployments.apps is forbidden: User \"system:anonymous\" cannot list resource "
        "\"deployments\" in API group \"apps\" at the cluster scope", id="403"),
    pytest.param(  # kubernetes-client/python#448: a plain-text body
        "(401)\nReason: Unauthorized\nHTTP response headers: HTTPHeaderDict({})\nHTTP response body: Unauthorized\n",
        "401 Unauthorized", id="401-plain-body"),
    pytest.param(
        "Could not create API client: Invalid kube-config file. Expected object with name nope in "
        "/tmp/kubeconfig/contexts list",
        "Could not create API client: Invalid kube-config file. Expected object with name nope in "
        "/tmp/kubeconfig/contexts list", id="kubeconfig"),
    pytest.param(
        "Host value http://127.0.0.1:18443 should start with https:// when talking to HTTPS endpoint",
        "Host value http://127.0.0.1:18443 should start with https:// when talking to HTTPS endpoint",
        id="http-to-a-tls-server"),
    pytest.param(  # what ansible-core registers with ignore_errors: its prefix, then the cause again
        "Task failed: Module failed: HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: "
        "/version (Caused by NewConnectionError(\"HTTPConnection(host='127.0.0.1', port=1): Failed to establish a new "
        "connection: [Errno 111] Connection refused\")): HTTPConnection(host='127.0.0.1', port=1): Failed to "
        "establish a new connection: [Errno 111] Connection refused",
        "Failed to establish a new connection: [Errno 111] Connection refused", id="ansible-prefixed"),
])
def test_reason(message, expected):
    assert api_errors.reason(message) == expected


def test_reason_is_one_line_and_bounded():
    text = api_errors.reason("first line\n  second\tline " + "x" * 400)
    assert "\n" not in text and text.startswith("first line second line xxx")
    assert len(text) == api_errors.MAX_LENGTH and text.endswith("...")


def test_unknown_cause_keeps_the_error_name():
    message = "HTTPSConnectionPool(host='h', port=443): Max retries exceeded with url: /version (Caused by Odd(42))"
    assert api_errors.reason(message) == "Odd(42)"


def test_client_error_of_the_action_plugins_is_the_same_reason():
    """k8s.client_error (iomesh_wait, iomesh_lock) gives the reason of the exception the client raised."""
    forbidden = ApiException(status=403, reason="Forbidden")
    forbidden.body = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"leases.coordination.'
                      'k8s.io \\"iomesh-lock\\" is forbidden: User \\"jane\\" cannot get resource \\"leases\\" in API group '
                      '\\"coordination.k8s.io\\" in the namespace \\"iomesh-system\\"","reason":"Forbidden","code":403}')
    assert k8s.client_error(forbidden) == (
        '403 Forbidden: leases.coordination.k8s.io "iomesh-lock" is forbidden: User "jane" cannot get resource "leases" '
        'in API group "coordination.k8s.io" in the namespace "iomesh-system"')
    refused = OSError("HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: /version (Caused by "
                      "NewConnectionError(\"HTTPConnection(host='127.0.0.1', port=1): Failed to establish a new "
                      "connection: [Errno 111] Connection refused\"))")
    assert k8s.client_error(refused) == "Failed to establish a new connection: [Errno 111] Connection refused"
    assert k8s.client_error(TimeoutError()) == "TimeoutError"


@pytest.mark.parametrize("body, expected", [
    # A proxy's one-line plain-text answer is the message.
    ("upstream connect error or disconnect/reset before headers", "503 Service Unavailable: upstream connect error or "
                                                                  "disconnect/reset before headers"),
    # An HTML error page, or a body of several lines, is not: the status alone.
    ("<html><body><h1>503 Service Unavailable</h1></body></html>", "503 Service Unavailable"),
    ("upstream connect error\nor disconnect", "503 Service Unavailable"),
    # A Status without a message, and a JSON body that is not an object.
    ('{"kind":"Status","apiVersion":"v1","status":"Failure","code":503}', "503 Service Unavailable"),
    ('["not", "a", "status"]', "503 Service Unavailable"),
])
def test_the_body_of_an_error_answer(body, expected):
    message = f"(503)\nReason: Service Unavailable\nHTTP response headers: HTTPHeaderDict({{}})\nHTTP response body: {body}\n"
    assert api_errors.reason(message) == expected


def test_a_pool_error_without_a_cause_drops_object_representations_and_ssl_sources():
    message = ("HTTPSConnectionPool(host='10.0.0.1', port=6443): <urllib3.connection.HTTPSConnection object at "
               "0x7f17b7f0bd90>: [SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol (_ssl.c:1000)")
    assert api_errors.reason(message) == "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol"


def test_the_words_of_a_cause_are_taken_once_and_empty_ones_left_out():
    message = ("HTTPSConnectionPool(host='h', port=443): Max retries exceeded with url: /version (Caused by "
               "ProtocolError('Connection aborted.', '', RemoteDisconnected('Connection aborted.'), "
               "'Remote end closed connection without response'))")
    assert api_errors.reason(message) == "Connection aborted: Remote end closed connection without response"


def test_a_reason_of_exactly_the_bound_is_kept_whole_and_a_longer_one_cut_at_a_word():
    exact = "y" * api_errors.MAX_LENGTH
    assert api_errors.reason(exact) == exact
    cut = api_errors.reason("w" * (api_errors.MAX_LENGTH - 4) + "   " + "z" * 20)
    # Cut to MAX_LENGTH - 3 characters, the spaces before the cut dropped, then "...".
    assert cut == "w" * (api_errors.MAX_LENGTH - 4) + "..."


def test_a_python_traceback_after_a_message_is_left_out():
    message = ("Failed to load kubeconfig: no such context east-admin\nTraceback (most recent call last):\n  File "
               "\"/usr/lib/python3.12/site-packages/kubernetes/config/kube_config.py\", line 242, in set_active_context\n"
               "    raise ConfigException('no such context')\n")
    assert api_errors.reason(message) == "Failed to load kubeconfig: no such context east-admin"


def test_a_status_without_body_is_the_status_alone():
    assert api_errors.reason("(500)\nReason: Internal Server Error\nHTTP response headers: HTTPHeaderDict({})\n") == (
        "500 Internal Server Error")


def test_outer_words_lose_only_their_final_period():
    message = ("HTTPSConnectionPool(host='api.east.example', port=6443): Max retries exceeded with url: /version (Caused "
               "by ProxyError('Unable to connect to proxy at EDGE-X', OSError('Tunnel connection failed: 502 Bad Gateway')))")
    assert api_errors.reason(message) == "Unable to connect to proxy at EDGE-X: Tunnel connection failed: 502 Bad Gateway"
