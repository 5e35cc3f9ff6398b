"""The deployment lock's judgement (plugin_utils.lock): who may take the Lease, and what is written."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import datetime, timedelta, timezone

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import lock

NOW = datetime(2026, 12, 4, 20, 0, 0, tzinfo=timezone.utc)
ME = {"holder": "ops@ctl-a pid 4242 run r1", "host": "ctl-a", "pid": "4242"}


def held(holder="ci@ctl-b pid 77 run r0", host="ctl-b", pid="77", renewed="2026-12-04T19:30:00.000000Z",
         duration=3600):
    return {"metadata": {"name": "iomesh-multicluster-lock", "namespace": "blk-system", "resourceVersion": "812",
                         "annotations": {"iomesh.multicluster/holder-host": host,
                                         "iomesh.multicluster/holder-pid": pid}},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration,
                     "acquireTime": "2026-12-04T19:29:59.500000Z", "renewTime": renewed, "leaseTransitions": 2}}


def never_alive(pid):
    raise AssertionError(f"pid {pid} must not be probed")


def test_no_lease_is_created():
    assert lock.judge(None, ME, NOW, never_alive) == {"action": "create", "message": ""}


def test_a_live_holder_elsewhere_is_refused_naming_it_and_the_way_out():
    verdict = lock.judge(held(), ME, NOW, never_alive)
    assert verdict == {"action": "refuse", "message": (
        "Another run is deploying: Lease blk-system/iomesh-multicluster-lock is held by ci@ctl-b pid 77 run r0 since "
        "2026-12-04T19:29:59.500000Z, renewed 2026-12-04T19:30:00.000000Z, until 2026-12-04T20:30:00.000000Z. "
        "Nothing was changed. Two runs at once would overwrite each other's work; wait for it to finish and re-run. "
        "If that run is gone (its controller died), remove the lock: kubectl -n blk-system delete lease "
        "iomesh-multicluster-lock.")}


def test_an_expired_lease_is_taken_over():
    verdict = lock.judge(held(duration=1800), ME, NOW, never_alive)
    assert verdict["action"] == "takeover"
    assert verdict["message"] == ("The deployment lock (Lease blk-system/iomesh-multicluster-lock) held by ci@ctl-b pid "
                                  "77 run r0 expired at 2026-12-04T19:30:00.000000Z + 1800 s; taking it over.")
    # One second before the expiry it is still held.
    assert lock.judge(held(duration=1801), ME, NOW, never_alive)["action"] == "refuse"


def test_a_killed_run_on_this_controller_is_taken_over_a_live_one_is_not():
    probed = []

    def alive(pid):
        probed.append(pid)
        return pid == 4100

    dead = lock.judge(held("ops@ctl-a pid 4000 run r0", host="ctl-a", pid="4000"), ME, NOW, alive)
    assert dead["action"] == "takeover" and "a run on this controller that no longer runs" in dead["message"]
    live = lock.judge(held("ops@ctl-a pid 4100 run r9", host="ctl-a", pid="4100"), ME, NOW, alive)
    assert live["action"] == "refuse"
    assert probed == [4000, 4100]


def test_this_run_renews_and_a_released_lease_is_free():
    assert lock.judge(held(ME["holder"], "ctl-a", "4242"), ME, NOW, never_alive)["action"] == "renew"
    released = held(holder="")
    assert lock.judge(released, ME, NOW, never_alive)["action"] == "takeover"


def test_an_unreadable_renewal_falls_back_to_the_acquisition_and_no_time_at_all_counts_as_expired():
    lease = held(renewed="not a time")
    assert lock.judge(lease, ME, NOW, never_alive)["action"] == "refuse"
    lease["spec"]["acquireTime"] = "yesterday"
    assert lock.judge(lease, ME, NOW, never_alive)["action"] == "takeover"


def test_the_lease_written():
    created = lock.lease("blk-system", "iomesh-multicluster-lock", ME, NOW, 900)
    assert created == {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "iomesh-multicluster-lock", "namespace": "blk-system",
                     "labels": {"app.kubernetes.io/managed-by": "iomesh.multicluster"},
                     "annotations": {"iomesh.multicluster/holder-host": "ctl-a",
                                     "iomesh.multicluster/holder-pid": "4242"}},
        "spec": {"holderIdentity": "ops@ctl-a pid 4242 run r1", "leaseDurationSeconds": 900,
                 "acquireTime": "2026-12-04T20:00:00.000000Z", "renewTime": "2026-12-04T20:00:00.000000Z",
                 "leaseTransitions": 0}}
    taken = lock.lease("blk-system", "iomesh-multicluster-lock", ME, NOW, 900, held())
    # Conditional on what was read; one more transition; acquired now.
    assert taken["metadata"]["resourceVersion"] == "812"
    assert taken["spec"]["leaseTransitions"] == 3 and taken["spec"]["acquireTime"] == "2026-12-04T20:00:00.000000Z"
    renewed = lock.lease("blk-system", "iomesh-multicluster-lock", ME, NOW, 900, held(ME["holder"], "ctl-a", "4242"))
    assert renewed["spec"]["leaseTransitions"] == 2
    assert renewed["spec"]["acquireTime"] == "2026-12-04T19:29:59.500000Z"
    assert renewed["spec"]["renewTime"] == "2026-12-04T20:00:00.000000Z"


def test_identity_names_user_host_process_and_run():
    assert lock.identity("r1", "ops", "ctl-a", 4242) == ME


def test_a_process_of_this_machine_is_alive_until_it_is_gone():
    assert lock.process_alive(os.getpid())
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert not lock.process_alive(gone.pid)


def test_renewal_and_release_verdicts_whole():
    assert lock.judge(held(ME["holder"], "ctl-a", "4242"), ME, NOW, never_alive) == {"action": "renew", "message": ""}
    assert lock.judge(held(holder=""), ME, NOW, never_alive) == {
        "action": "takeover", "message": "The deployment lock was released; taking it."}


def test_a_lease_without_a_duration_expires_when_it_was_renewed():
    lease = held(renewed="2026-12-04T20:00:00.000000Z")
    del lease["spec"]["leaseDurationSeconds"]
    assert lock.judge(lease, ME, NOW, never_alive) == {"action": "takeover", "message": (
        "The deployment lock (Lease blk-system/iomesh-multicluster-lock) held by ci@ctl-b pid 77 run r0 expired at "
        "2026-12-04T20:00:00.000000Z + 0 s; taking it over.")}


def test_lease_times_are_utc_whatever_the_controllers_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "CST-8")  # a controller 8 hours ahead of UTC
    time.tzset()
    try:
        local = NOW.astimezone(timezone(timedelta(hours=8)))
        written = lock.lease("blk-system", "iomesh-multicluster-lock", ME, local, 600)
        assert (written["spec"]["acquireTime"], written["spec"]["renewTime"]) == (
            "2026-12-04T20:00:00.000000Z", "2026-12-04T20:00:00.000000Z")
        assert lock.micro_time(datetime(2026, 12, 5, 1, 30, 0, 250000, tzinfo=timezone(timedelta(hours=-5)))) == \
            "2026-12-05T06:30:00.250000Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_probing_a_holder_never_signals_it():
    holder = subprocess.Popen(["sleep", "30"])
    try:
        assert lock.process_alive(holder.pid)
        time.sleep(0.2)
        assert holder.poll() is None, "the probe must not disturb the process it asks about"
    finally:
        holder.kill()
        holder.wait()


def test_a_process_of_another_user_counts_as_alive(monkeypatch):
    def not_permitted(pid, sig):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(lock.os, "kill", not_permitted)
    assert lock.process_alive(1) is True
