# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads over one API client of kubernetes.core, shared by the actions that read (iomesh_wait, iomesh_read).

One client per task instead of a module process per read, and every request bounded by its request timeout: a read
that never answers is an error of that read, never a hang (docs/architecture.md, "Time bounds").
"""

from __future__ import annotations

import json

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import k8s

# Imported when this file is: ansible-playbook loads each action plugin's class before it forks the task's worker
# (its strategy looks for BYPASS_HOST_LOOP), so the client is imported once per run in the parent process and every
# later worker inherits it, instead of each task importing it again (docs/architecture.md, "The no-change path").
# A missing client is kept and reported as the failure of the task that needs it, not as a plugin load error.
try:
    import kubernetes
    # ConflictError for iomesh_lock, which takes every client name from here.
    # pylint: disable-next=unused-import
    from kubernetes.dynamic.exceptions import ConflictError, NotFoundError, ResourceNotFoundError
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import diff_objects
except ImportError as _missing:  # pragma: no cover - exercised by the sanity import test, which has no client
    IMPORT_ERROR: ImportError | None = _missing
else:
    IMPORT_ERROR = None


def api_client(options: dict):
    """kubernetes.core's API client for the connection options a task set (connection.options); raises the
    ImportError of a missing kubernetes client."""
    if IMPORT_ERROR is not None:
        raise IMPORT_ERROR
    return get_api_client(**options)


def server_version(client, request_timeout: int) -> dict:
    """The API server's /version answer: whether it answers at all, read as iomesh_api_probe reads it (past
    kubernetes.core's discovery cache)."""
    return dict(client.client.request("get", "/version", serializer=lambda _response, data: data,
                                      _request_timeout=request_timeout))


# Packages whose exceptions mean a request reached the network: urllib3's, and the API errors of the client.
REQUEST_ERROR_PACKAGES = ("urllib3.", "kubernetes.client.", "kubernetes.dynamic.")


def from_a_request(exc: BaseException) -> bool:
    """Whether a client error came from talking to the server (refused, unresolvable, TLS, an error answer, a
    timeout), rather than from the kubeconfig or the client itself."""
    return any(cls.__module__.startswith(REQUEST_ERROR_PACKAGES) for cls in type(exc).__mro__)


def error_text(exc: BaseException) -> str:
    """A client error whole, as iomesh_api_probe returns it (the iomesh_api_error_reason filter shortens it)."""
    return str(exc) or repr(exc)


def without_managed_fields(objects: list[dict]) -> list[dict]:
    """The objects without metadata.managedFields (the API server's bookkeeping of who set which field, often half an
    object), for a caller that does not judge ownership: less to hand back to Ansible and to template."""
    return [{**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "managedFields"}}
            if isinstance(obj.get("metadata"), dict) and "managedFields" in obj["metadata"] else obj for obj in objects]


def read_all(options: dict, reads: list[dict], request_timeout: int, managed_fields: bool = True) -> tuple[dict, str]:
    """Many reads over one client (iomesh_read's reads: key, api_version, kind, namespace, name, label_selectors), each
    answered as kubernetes.core.k8s_info answers it. Returns ({reachable, error, objects, errors, api_found}, reason):
    a failed read is an answer (its objects None, its reason in errors); when the client cannot be created or the API
    server does not answer /version, no read is made, every read failed for that reason, and error is the client's
    error whole. reason: that reason in one line (k8s.client_error), or "" when the API answered."""
    request_timeout = max(request_timeout, 1)
    try:
        client = api_client(options)
        # Whether the API answers at all, as iomesh_api_probe asks it, so that callers word it the same.
        server_version(client, request_timeout)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        reason = k8s.client_error(exc)
        return ({"reachable": False, "error": error_text(exc), "objects": {read["key"]: None for read in reads},
                 "api_found": {read["key"]: None for read in reads}, "errors": {read["key"]: reason for read in reads}},
                reason)
    # No second lookup of a kind not found: the client's own lookup already looked past its discovery cache.
    unserved: set = set()
    fetch = fetcher(client, request_timeout, rediscover=False, unserved=unserved)
    objects, errors, api_found = {}, {}, {}
    for read in reads:
        found, error = fetch(read)
        if not managed_fields:
            found = without_managed_fields(found)
        objects[read["key"]] = None if error else found
        if error:
            errors[read["key"]] = error
        # A read that failed cannot tell.
        api_found[read["key"]] = None if error else (read["api_version"], read["kind"]) not in unserved
    return {"reachable": True, "error": "", "objects": objects, "errors": errors, "api_found": api_found}, ""


def fetcher(client, request_timeout: int, rediscover: bool = True, unserved: set | None = None):
    """fetch(spec) -> (resources, error) over client, each request bounded by request_timeout seconds; answers as
    kubernetes.core.k8s_info does: a kind the API does not serve (its CRD is not installed yet) or a name that does
    not exist is no objects. error is None, or the client's reason in one line (k8s.client_error).

    unserved: when given, each spec whose kind the API does not serve has its (api_version, kind) added to it, so a
    caller tells "not served" (k8s_info's api_found) from "no objects" without a second lookup.

    rediscover: a kind not found is looked up once more after dropping the discovery cache (polls, which wait for
    CRDs to arrive). Without it the lookup is the client's own, which already looks past its cache, once per name it
    tries, for a kind it does not find (enough for reads made once)."""
    def resource(spec):
        try:
            return client.resource(spec["kind"], spec["api_version"])
        except ResourceNotFoundError:
            if not rediscover:
                raise
            # Discovery is cached: a CRD installed since (by the release being waited for) needs a fresh look.
            client.resources.invalidate_cache()
            return client.resource(spec["kind"], spec["api_version"])

    def fetch(spec):
        params = {"_request_timeout": request_timeout}
        if spec.get("namespace"):
            params["namespace"] = spec["namespace"]
        if spec.get("label_selectors"):
            params["label_selector"] = ",".join(spec["label_selectors"])
        try:
            found = resource(spec)
            if spec.get("name"):
                return [client.get(found, name=spec["name"], **params).to_dict()], None
            return list(client.get(found, **params).to_dict().get("items") or []), None
        except ResourceNotFoundError:
            if unserved is not None:
                unserved.add((spec["api_version"], spec["kind"]))
            return [], None
        except NotFoundError:
            return [], None
        except Exception as exc:  # pylint: disable=broad-exception-caught
            return [], k8s.client_error(exc)

    return fetch


def reader(options: dict, request_timeout: int):
    """fetch(spec) -> (resources, error) over a new client for the connection options (see fetcher)."""
    return fetcher(api_client(options), request_timeout)


def _apply_body(definition: dict):
    """The body of a server-side apply, as kubernetes.core.k8s sends it: JSON bytes for a client before 25.0.0."""
    return definition if int(kubernetes.__version__.split(".")[0]) >= 25 else json.dumps(definition).encode()


def change_judge(client, request_timeout: int, field_manager: str, force_conflicts: bool = True):
    """would_change(definition) -> (changed, reason): whether a server-side apply of `definition` by `field_manager`
    would change the object, judged as kubernetes.core.k8s judges its own apply (the object read before against the
    API server's answer to the same apply, with its diff_objects and the fields it hides), from a server-side dry run (dryRun=All: admission
    and validation run, nothing is stored). An object that does not exist would be created. Whatever cannot be
    told (the kind is not served, a read or the dry run fails) counts as a change, with the client's reason: the
    caller then applies it for real, and that apply reports or retries the failure (docs/architecture.md,
    "The no-change path")."""
    def would_change(definition):
        metadata = definition.get("metadata") or {}
        namespace = metadata.get("namespace")
        try:
            resource = client.resource(definition["kind"], definition["apiVersion"])
            try:
                before = client.get(resource, name=metadata["name"], namespace=namespace,
                                    _request_timeout=request_timeout).to_dict()
            except NotFoundError:
                return True, None
            after = client.client.server_side_apply(
                resource, body=_apply_body(definition), name=metadata["name"], namespace=namespace,
                force_conflicts=force_conflicts, field_manager=field_manager, dry_run="All",
                _request_timeout=request_timeout).to_dict()
        except Exception as exc:  # pylint: disable=broad-exception-caught
            return True, k8s.client_error(exc)
        # The real apply hides metadata.managedFields (constants.APPLY_HIDDEN_FIELDS) and the server bumps the
        # resourceVersion of what it stores, so taking over fields whose values stay is no change there; a dry run
        # keeps the resourceVersion, so the same comparison with the fields hidden afterwards would call it one.
        # Judged as the real apply, the bookkeeping is left out of both sides first.
        before, after = without_managed_fields([before, after])
        return not diff_objects(before, after)[0], None

    return would_change
