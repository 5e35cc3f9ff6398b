"""A fake of kubernetes.core's API client for the tests of the plugins that read with it (plugin_utils.k8s_client,
the iomesh_wait and iomesh_read actions): it records what it is asked and answers as the dynamic client does."""

from __future__ import annotations

import json
import types

import pytest
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import ResourceNotFoundError, api_exception
from kubernetes.dynamic.resource import ResourceInstance

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import k8s_client

VERSION = {"major": "1", "minor": "31", "gitVersion": "v1.31.4"}


class Answer:
    def __init__(self, data):
        self.data = data

    def to_dict(self):
        return self.data


def api_error(code, reason, message):
    """What the kubernetes dynamic client raises for an error Status (an ApiException mapped by status)."""
    exc = ApiException(status=code, reason=reason)
    exc.body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
                           "reason": reason.replace(" ", ""), "code": code})
    exc.headers = {"Content-Type": "application/json"}
    return api_exception(exc)


class Resources:
    def __init__(self, fake):
        self.fake = fake

    def invalidate_cache(self):
        self.fake.calls.append(("invalidate",))
        self.fake.served |= self.fake.installed_later


class Dynamic:
    """The dynamic client under kubernetes.core's wrapper: what a raw request (GET /version) goes to."""

    def __init__(self, fake):
        self.fake = fake

    def request(self, method, path, **params):
        # As the dynamic client: the answer goes through the serializer given, by default into a ResourceInstance.
        serializer = params.pop("serializer", ResourceInstance)
        self.fake.calls.append(("request", method, path, params))
        if self.fake.version_error:
            raise self.fake.version_error
        return serializer(self, dict(VERSION))

    def server_side_apply(self, resource, body=None, name=None, namespace=None, force_conflicts=None, **params):
        """A server-side apply: the API server's answer is the object as `applied` makes it of the stored one and the
        body (by default the stored object itself: a no-op), or what `apply_errors` holds for that name."""
        self.fake.calls.append(("apply", resource, name, namespace, force_conflicts, params, body))
        if name in self.fake.apply_errors:
            raise self.fake.apply_errors[name]
        stored = next(o for o in self.fake.objects if o["kind"] == resource and o["metadata"]["name"] == name
                      and o["metadata"].get("namespace") == namespace)
        return Answer(self.fake.applied(stored, body))


class FakeClient:
    """fail: raised by every list or get; fail_for: {kind: exception} raised by reads of that kind only;
    version_error: raised by GET /version (the server does not answer); applied(stored, body): the answer of a
    server-side apply; apply_errors: {name: exception} raised by an apply of that name."""

    def __init__(self, objects, served=("Pod",), installed_later=(), fail=None, fail_for=None, version_error=None,
                 applied=lambda stored, body: stored, apply_errors=None):
        self.objects = objects
        self.served = set(served)
        self.installed_later = set(installed_later)
        self.fail = fail
        self.fail_for = dict(fail_for or {})
        self.version_error = version_error
        self.applied = applied
        self.apply_errors = dict(apply_errors or {})
        self.calls = []
        self.resources = Resources(self)
        self.client = Dynamic(self)
        # The API server the client was set up for, as kubernetes.core's client holds it.
        self.configuration = types.SimpleNamespace(host="https://10.20.30.40:6443")

    def resource(self, kind, api_version):
        self.calls.append(("resource", kind, api_version))
        if kind not in self.served:
            raise ResourceNotFoundError(f"No matches found for {{'kind': '{kind}'}}")
        return kind

    def get(self, kind, **params):
        self.calls.append(("get", kind, params))
        if self.fail:
            raise self.fail
        if kind in self.fail_for:
            raise self.fail_for[kind]
        items = [o for o in self.objects if o["kind"] == kind
                 and params.get("namespace") in (None, o["metadata"].get("namespace"))]
        if "name" in params:
            found = [o for o in items if o["metadata"]["name"] == params["name"]]
            if not found:
                raise api_error(404, "Not Found", f'{kind.lower()}s "{params["name"]}" not found')
            return Answer(found[0])
        return Answer({"kind": f"{kind}List", "items": items})


@pytest.fixture
def fake_api(monkeypatch):
    """make(**FakeClient arguments) -> the client kubernetes.core's get_api_client returns from then on;
    make.holder["connection"] is the connection it was last given, make.holder["created"] how often it was called."""
    holder = {"created": 0}

    def make(**kwargs):
        holder["client"] = FakeClient(**kwargs)

        def get_api_client(**connection):
            holder["connection"] = connection
            holder["created"] += 1
            return holder["client"]

        monkeypatch.setattr(k8s_client, "get_api_client", get_api_client)
        return holder["client"]
    make.holder = holder
    return make
