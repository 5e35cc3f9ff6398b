# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Helm command lines of the management release, and what they print, for the action plugins iomesh_helm,
iomesh_helm_template and iomesh_report, which run helm on the controller (no module process).

Two helm commands answer what kubernetes.core.helm_info answers with five (list, get values, manifest, notes, hooks) in
a module process: `helm history --max 1` (the last revision in every state, pending ones included, docs/pitfalls.md
P24: its number, state, time, chart and app version) and `helm get values --revision` of that revision (its
user-supplied values). `helm status -o json` cannot stand in for them: it leaves the chart out. The connection
options reach helm as kubernetes.core's helm modules pass them: as Helm's environment variables (KUBECONFIG,
HELM_KUBECONTEXT, ...).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping

from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.helm_args_common import HELM_AUTH_ARG_SPEC

# How kubernetes.core's helm modules hand each connection option to helm (module_utils/helm.py,
# _prepare_helm_environment); a kubeconfig given as a mapping is written to a file by the caller.
HELM_ENVIRONMENT = (("context", "HELM_KUBECONTEXT"), ("api_key", "HELM_KUBETOKEN"), ("host", "HELM_KUBEAPISERVER"),
                    ("ca_cert", "HELM_KUBECAFILE"))
# The environment kubernetes.core's helm modules fall back to for an option not given (their argument spec).
FALLBACKS = tuple((key, spec["fallback"][1][0]) for key, spec in HELM_AUTH_ARG_SPEC.items() if "fallback" in spec)
# Connection options of kubernetes.core's other modules that its helm modules do not take: helm has no flag or
# variable for them.
NOT_FOR_HELM = tuple(sorted(set(AUTH_ARG_SPEC) - set(HELM_AUTH_ARG_SPEC)))
# What helm prints when the release has no revision at all (helm 3 and 4).
NOT_FOUND = "release: not found"


def with_fallbacks(options: Mapping, environ: Mapping) -> dict:
    """The connection options, those not given taken from K8S_AUTH_* as kubernetes.core's helm modules take them;
    ValueError when K8S_AUTH_VERIFY_SSL is no boolean."""
    found = dict(options)
    for key, var in FALLBACKS:
        if found.get(key) in (None, "") and environ.get(var):
            found[key] = environ[var]
    if isinstance(found.get("validate_certs"), str):
        # As Ansible's argument spec converts K8S_AUTH_VERIFY_SSL for kubernetes.core's helm modules (type bool).
        try:
            found["validate_certs"] = boolean(found["validate_certs"])
        except TypeError as exc:
            raise ValueError(f"K8S_AUTH_VERIFY_SSL is {found['validate_certs']!r}, not a boolean (yes or no)") from exc
    return found


def environment(options: Mapping, kubeconfig_path: str | None = None) -> dict:
    """Helm's environment for the connection options a task was given (unset ones are left to helm's defaults).
    `kubeconfig_path`: where a kubeconfig given as a mapping was written."""
    env = {var: str(options[key]) for key, var in HELM_ENVIRONMENT if options.get(key) not in (None, "")}
    kubeconfig = kubeconfig_path or options.get("kubeconfig")
    if kubeconfig not in (None, "") and not isinstance(kubeconfig, Mapping):
        env["KUBECONFIG"] = str(kubeconfig)
    if options.get("validate_certs") is False:
        env["HELM_KUBEINSECURE_SKIP_TLS_VERIFY"] = "true"
    return env


def unsupported(options: Mapping) -> list[str]:
    """The connection options set that helm cannot use, sorted."""
    return sorted(key for key in NOT_FOR_HELM if options.get(key) not in (None, "", False, [], {}))


def history_argv(binary: str, name: str, namespace: str) -> list[str]:
    return [binary, "history", name, "--namespace", namespace, "--max", "1", "--output", "json"]


def values_argv(binary: str, name: str, namespace: str, revision: object) -> list[str]:
    return [binary, "get", "values", name, "--namespace", namespace, "--revision", str(revision), "--output", "json"]


def rollback_argv(binary: str, name: str, namespace: str, revision: object, timeout: int) -> list[str]:
    return [binary, "rollback", name, str(revision), "--namespace", namespace, "--timeout", f"{int(timeout)}s"]


def template_argv(binary: str, name: str, namespace: str, chart_ref: str, values_path: str,
                  repo_url: str | None = None, version: str | None = None) -> list[str]:
    """`helm template` as kubernetes.core.helm_template runs it for these options (no hooks left out, no CRDs)."""
    return [binary, "template", name, chart_ref, *(["--repo", repo_url] if repo_url else []),
            *(["--version", version] if version else []), "--namespace", namespace, "--values", values_path]


def show_crds_argv(binary: str, chart_ref: str, repo_url: str | None = None, version: str | None = None) -> list[str]:
    """`helm show crds`: the CustomResourceDefinitions of the chart's crds/ directory, which Helm installs on the first
    install only and never upgrades (docs/day-2.md, "Upgrade")."""
    return [binary, "show", "crds", chart_ref, *(["--repo", repo_url] if repo_url else []),
            *(["--version", version] if version else [])]


def run(argv: list[str], env: Mapping, timeout: int) -> subprocess.CompletedProcess | str:
    """The finished command, or why it could not run: not found, not runnable, or no end within timeout seconds
    (at least one)."""
    limit = max(int(timeout), 1)
    try:
        return subprocess.run(argv, env=dict(env), capture_output=True, text=True, timeout=limit, check=False)
    except FileNotFoundError:
        return f"{argv[0]} was not found"
    except PermissionError:
        return f"{argv[0]} cannot be run"
    except subprocess.TimeoutExpired:
        return f"{' '.join(argv[:2])} did not answer within {limit} s"


def reason(done: subprocess.CompletedProcess | str) -> str:
    """Why a command failed, on one line: what run() said, or what helm printed, or its exit code."""
    if isinstance(done, str):
        return done
    return (done.stderr.strip() or done.stdout.strip() or f"exit code {done.returncode}").replace("\n", " ")


def release(binary: str, name: str, namespace: str, env: Mapping, timeout: int) -> tuple[dict | None, str | None]:
    """(status, None): the release's last revision in helm_info's status shape (status None: it has none);
    (None, message): why it could not be read, naming the release and the helm command."""
    where = f"release {namespace}/{name}"
    history = run(history_argv(binary, name, namespace), env, timeout)
    if isinstance(history, str) or history.returncode != 0:
        if isinstance(history, str) or not not_found(history.stderr):
            return None, f"helm history of {where} failed: {reason(history)}"
        return None, None
    try:
        last = last_revision(history.stdout)
    except ValueError as exc:
        return None, f"helm history of {where}: {exc}"
    values = run(values_argv(binary, name, namespace, last.get("revision")), env, timeout)
    if isinstance(values, str) or values.returncode != 0:
        return None, f"helm get values of {where} failed: {reason(values)}"
    try:
        return status(name, namespace, last, values.stdout), None
    except ValueError as exc:
        return None, f"helm get values of {where}: {exc}"


@contextlib.contextmanager
def connected(options: Mapping, environ: Mapping):
    """Helm's whole environment for the connection options a task was given (with kubernetes.core's K8S_AUTH_*
    fallbacks), a kubeconfig given as a mapping written to a file only its owner reads for the while; ValueError
    naming what helm cannot use."""
    options = with_fallbacks(options, environ)
    refused = unsupported(options)
    if refused:
        raise ValueError(f"helm cannot use the connection options {', '.join(refused)}; give helm a kubeconfig "
                         "(iomesh_kubeconfig) that holds them.")
    kubeconfig = options.get("kubeconfig")
    if not isinstance(kubeconfig, Mapping):
        yield {**environ, **environment(options)}
        return
    with private_json(kubeconfig, "iomesh-kubeconfig-") as written:
        yield {**environ, **environment(options, written)}


@contextlib.contextmanager
def private_json(data: object, prefix: str, suffix: str = ""):
    """The path of a file holding `data` as JSON that only its owner reads (a kubeconfig, values with credentials),
    removed when the block ends."""
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=suffix)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out)
        yield path
    finally:
        os.unlink(path)


def _json(printed: str) -> object:
    """What helm printed with --output json; a list (not JSON's null) when it printed no JSON, which no caller takes."""
    try:
        return json.loads(printed)
    except ValueError:
        return []


def last_revision(printed: str) -> dict:
    """The last revision `helm history --max 1 -o json` printed (a list of one entry)."""
    history = _json(printed)
    if not isinstance(history, list) or not history or not isinstance(history[-1], Mapping):
        raise ValueError(f"helm history printed {printed.strip()[:200]!r}, not a revision")
    return dict(history[-1])


def status(name: str, namespace: str, revision: Mapping, values_printed: str) -> dict:
    """The release in the shape of kubernetes.core.helm_info's `status` (the fields the collection reads): name,
    namespace, revision (a string, as helm list prints it), status, chart (<name>-<version>), app_version, updated
    (the revision's time, RFC 3339), release_values (the user-supplied values; `null` when there are none)."""
    values = _json(values_printed)
    if values is not None and not isinstance(values, Mapping):
        raise ValueError(f"helm get values printed {values_printed.strip()[:200]!r}, not values")
    return {"name": name, "namespace": namespace, "revision": str(revision.get("revision") or ""),
            "status": str(revision.get("status") or ""), "chart": str(revision.get("chart") or ""),
            "app_version": str(revision.get("app_version") or ""), "updated": str(revision.get("updated") or ""),
            "release_values": dict(values or {})}


def not_found(stderr: str) -> bool:
    return NOT_FOUND in stderr
