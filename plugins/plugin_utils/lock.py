# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment lock: a coordination.k8s.io Lease in the management namespace (docs/architecture.md, "One run at a
time").

Pure functions: the iomesh_lock action reads the Lease and passes it here with who this run is and the time; the
judgement says whether to create it, renew it (this run holds it), take it over (its holder is gone) or stop.
A holder is gone when its lease expired (renewTime + leaseDurationSeconds) or when it ran on this controller and its
ansible-playbook process no longer exists (a run killed with SIGKILL never releases the lock).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import constants

# Annotations on the Lease that say where its holder runs, so a later run on the same controller can tell a live
# holder from one that was killed.
HOST_ANNOTATION = f"{constants.LABEL_PREFIX}/holder-host"
PID_ANNOTATION = f"{constants.LABEL_PREFIX}/holder-pid"
MICRO_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def process_alive(pid: int) -> bool:
    """Whether a process of this machine still exists (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def micro_time(when: datetime) -> str:
    """Kubernetes' MicroTime, as Lease.spec.acquireTime and renewTime carry it."""
    return when.astimezone(timezone.utc).strftime(MICRO_TIME)


def parse_time(text: object) -> datetime | None:
    value = str(text or "")
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def identity(run_id: str, user: str, host: str, pid: int) -> dict:
    """Who this run is: the Lease's holderIdentity and the annotations that locate its process."""
    return {"holder": f"{user}@{host} pid {pid} run {run_id}", "host": host, "pid": str(pid)}


def lease(namespace: str, name: str, me: Mapping, now: datetime, duration: int, previous: Mapping | None = None) -> dict:
    """The Lease this run writes: new, renewed (same acquireTime) or taken over (one more transition)."""
    spec = dict((previous or {}).get("spec") or {})
    mine = spec.get("holderIdentity") == me["holder"]
    meta: dict = {"name": name, "namespace": namespace,
                  "labels": {constants.MANAGED_BY_LABEL: constants.MANAGED_BY},
                  "annotations": {HOST_ANNOTATION: me["host"], PID_ANNOTATION: me["pid"]}}
    if previous:
        meta["resourceVersion"] = (previous.get("metadata") or {}).get("resourceVersion")
    transitions = int(spec.get("leaseTransitions") or 0) + (1 if previous and not mine else 0)
    return {
        "apiVersion": constants.COORDINATION_API_VERSION, "kind": "Lease", "metadata": meta,
        "spec": {"holderIdentity": me["holder"], "leaseDurationSeconds": int(duration),
                 "acquireTime": spec.get("acquireTime") if mine else micro_time(now),
                 "renewTime": micro_time(now), "leaseTransitions": transitions},
    }


def judge(existing: Mapping | None, me: Mapping, now: datetime, alive: Callable[[int], bool]) -> dict:
    """What to do with the Lease found: {"action": create|renew|takeover|refuse, "message": str}."""
    if not existing:
        return {"action": "create", "message": ""}
    spec = existing.get("spec") or {}
    meta = existing.get("metadata") or {}
    holder = str(spec.get("holderIdentity") or "")
    if holder == me["holder"]:
        return {"action": "renew", "message": ""}
    if not holder:
        return {"action": "takeover", "message": "The deployment lock was released; taking it."}
    renewed = parse_time(spec.get("renewTime")) or parse_time(spec.get("acquireTime"))
    duration = int(spec.get("leaseDurationSeconds") or 0)
    expires = renewed + timedelta(seconds=duration) if renewed else None
    where = f"Lease {meta.get('namespace')}/{meta.get('name')}"
    if expires is None or expires <= now:
        return {"action": "takeover",
                "message": f"The deployment lock ({where}) held by {holder} expired at {spec.get('renewTime')} + "
                           f"{duration} s; taking it over."}
    annotations = meta.get("annotations") or {}
    pid = str(annotations.get(PID_ANNOTATION) or "")
    if annotations.get(HOST_ANNOTATION) == me["host"] and pid.isdigit() and not alive(int(pid)):
        return {"action": "takeover",
                "message": f"The deployment lock ({where}) was left by {holder}, a run on this controller that no "
                           "longer runs (it was killed); taking it over."}
    return {"action": "refuse",
            "message": f"Another run is deploying: {where} is held by {holder} since {spec.get('acquireTime')}, "
                       f"renewed {spec.get('renewTime')}, until {micro_time(expires)}. Nothing was changed. Two runs at "
                       "once would overwrite each other's work; wait for it to finish and re-run. If that run is gone "
                       f"(its controller died), remove the lock: kubectl -n {meta.get('namespace')} delete lease "
                       f"{meta.get('name')}."}
