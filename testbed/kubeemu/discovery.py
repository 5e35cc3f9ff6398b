"""Legacy discovery documents, /version and the OpenAPI v3 index.

Clients ask for aggregated discovery first (Accept: ...;g=apidiscovery.k8s.io;v=v2) and fall back to
the legacy documents served here. The OpenAPI v3 documents carry paths only (no schema components):
kubectl reads them to decide whether PATCH accepts `fieldValidation` (server-side field validation),
helm reads them before building its resource clients. /openapi/v2 answers 404, so kubectl's client-side
apply falls back to its compiled-in patch metadata."""

from __future__ import annotations

import hashlib
import json
import threading

from .resources import Registry, ResourceType

NAMESPACE_PARAM = {"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"}}
NAME_PARAM = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}


def version_info(git_version: str) -> dict:
    major, minor = git_version.lstrip("v").split(".")[:2]
    return {"major": major, "minor": minor, "gitVersion": git_version,
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2023-11-14T22:31:31Z", "goVersion": "go1.20.10", "compiler": "gc",
            "platform": "linux/amd64"}


def _verbs(rt: ResourceType) -> list[str]:
    verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    if rt.plural == "namespaces" and not rt.group:
        verbs.remove("deletecollection")
    return verbs


def resource_list(registry: Registry, group: str, version: str) -> dict | None:
    types = registry.types_in(group, version)
    if not types:
        return None
    resources = []
    for rt in types:
        resources.append({"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                          "kind": rt.kind, "verbs": _verbs(rt),
                          **({"shortNames": rt.short_names} if rt.short_names else {}),
                          **({"categories": rt.categories} if rt.categories else {}),
                          "storageVersionHash": hashlib.sha256(
                              f"{rt.group}/{rt.version}/{rt.kind}".encode()).hexdigest()[:12]})
        for sub in rt.subresources:
            entry = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
                     "kind": rt.kind, "verbs": ["get", "patch", "update"]}
            if sub == "scale":
                entry.update(group="autoscaling", version="v1", kind="Scale")
            resources.append(entry)
        if rt.plural == "pods" and not rt.group:
            resources += [{"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod",
                           "verbs": ["get"]},
                          {"name": "pods/eviction", "singularName": "", "namespaced": True, "group": "policy",
                           "version": "v1", "kind": "Eviction", "verbs": ["create"]},
                          {"name": "pods/binding", "singularName": "", "namespaced": True, "kind": "Binding",
                           "verbs": ["create"]}]
        if rt.plural == "namespaces" and not rt.group:
            resources.append({"name": "namespaces/finalize", "singularName": "", "namespaced": False,
                              "kind": "Namespace", "verbs": ["update"]})
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def _group(name: str, versions: list[str]) -> dict:
    vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": vs, "preferredVersion": vs[0]}


def api_versions(server_address: str) -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group_list(registry: Registry) -> dict:
    groups = [_group(g, vs) for g, vs in registry.group_versions().items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, name: str) -> dict | None:
    versions = registry.group_versions().get(name)
    if not versions or not name:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


# --- OpenAPI v3 -------------------------------------------------------------------------------------

def _query(*names: str) -> list[dict]:
    return [{"name": n, "in": "query", "schema": {"type": "string"}} for n in names]


def _gv_document(registry: Registry, group: str, version: str, git_version: str) -> dict:
    prefix = f"/apis/{group}/{version}" if group else "/api/v1"
    paths: dict[str, dict] = {}
    for rt in registry.types_in(group, version):
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        base = f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
        common = [NAMESPACE_PARAM] if rt.namespaced else []

        def op(action: str, params: list[dict], kind: dict = gvk) -> dict:
            return {"operationId": f"{action}{rt.kind}", "parameters": params, "responses": {"200": {
                "description": "OK"}}, "x-kubernetes-action": action, "x-kubernetes-group-version-kind": kind}

        write = _query("dryRun", "fieldManager", "fieldValidation")
        paths[base] = {"get": op("list", _query("labelSelector", "fieldSelector", "limit", "continue",
                                                  "resourceVersion", "resourceVersionMatch", "timeoutSeconds",
                                                  "watch", "allowWatchBookmarks", "sendInitialEvents")),
                       "post": op("post", write), "delete": op("deletecollection", _query("labelSelector")),
                       "parameters": common}
        item = {"get": op("get", []), "put": op("put", write), "delete": op("delete", _query(
            "dryRun", "gracePeriodSeconds", "propagationPolicy")),
                "patch": op("patch", write + _query("force")), "parameters": common + [NAME_PARAM]}
        paths[base + "/{name}"] = item
        for sub in rt.subresources:
            kind = {"group": "autoscaling", "version": "v1", "kind": "Scale"} if sub == "scale" else gvk
            paths[f"{base}/{{name}}/{sub}"] = {"get": op("get", [], kind), "put": op("put", write, kind),
                                                "patch": op("patch", write + _query("force"), kind),
                                                "parameters": common + [NAME_PARAM]}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": git_version}, "paths": paths,
            "components": {"schemas": {}}}


class OpenAPI:
    """Documents cached per registry generation (CRDs add and remove group versions)."""

    def __init__(self, registry: Registry, git_version: str):
        self.registry, self.git_version = registry, git_version
        self._lock = threading.Lock()
        self._generation = -1
        self._docs: dict[str, bytes] = {}
        self._hashes: dict[str, str] = {}

    def _refresh(self) -> None:
        with self._lock:
            if self._generation == self.registry.generation:
                return
            docs, hashes = {}, {}
            for group, versions in self.registry.group_versions().items():
                for v in versions:
                    key = f"apis/{group}/{v}" if group else "api/v1"
                    body = json.dumps(_gv_document(self.registry, group, v, self.git_version)).encode()
                    docs[key] = body
                    hashes[key] = hashlib.sha512(body).hexdigest().upper()[:128]
            self._docs, self._hashes, self._generation = docs, hashes, self.registry.generation

    def index(self) -> dict:
        self._refresh()
        return {"paths": {k: {"serverRelativeURL": f"/openapi/v3/{k}?hash={h}"} for k, h in self._hashes.items()}}

    def document(self, key: str) -> bytes | None:
        self._refresh()
        return self._docs.get(key)
