"""The fault-injection matrix (issue 13): each scenario is (stage, fault, how it is injected, what the failed run must
say, what the re-run must change), run on a fresh testbed (harness.Bed):

1. the faulted run: `site.yml --skip-tags iomesh_prereq`, with the fault armed when the stage's first task shows in
   the output (API faults, twin switches) or the run SIGKILLed (at a stage boundary, inside the Helm install);
2. the failure: rc != 0, the failing task's role is the stage, the output names the cause; nothing lost (the objects
   that exist after the failure keep their UIDs through the recovery), no BlockDevice with half of the collection's
   labels, no deployment Lease held by a live process;
3. the fault cleared, a plain re-run: rc 0, changed>0, the same final state as a reference deployment of the inventory
   (IOMeshClusters, ZookeeperClusters, StorageClasses, ConfigMaps, labelled BlockDevices, Helm revision/status);
   SIGKILL inside the Helm install: the first re-run must stop with the recovery command (docs/pitfalls.md P24), then
   the pending record is backdated and the re-run must converge;
4. one more run: changed=0.

run_scenario() returns an Outcome (the table cell and the problems found); table() renders `fault x stage`.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import lock

from . import harness
from .harness import EDGE, EDGE_NS, IOMESH, MGMT, MGMT_NS, STAGES, VERIFY_NS, ZOOKEEPER, Bed, Run

FAULTS = {
    "api500": "API 500 on the stage's first write",
    "drop": "connection dropped on a read",
    "webhook": "webhook down",
    "slow": "operator slow",
    "kill-boundary": "SIGKILL at the stage boundary",
    "kill-helm": "SIGKILL inside the Helm install",
}
ALL_STAGES = STAGES

# What a failed API request is reported as, by fault.
CAUSE_500 = r"etcdserver: request timed out|Internal error occurred|InternalError|500"
CAUSE_DROP = r"[Cc]onnection reset|Connection aborted|RemoteDisconnected|connection reset by peer|EOF|ProtocolError"
CAUSE_WEBHOOK = r'failed calling webhook "validate-iomeshcluster\.iomesh\.com"|connection refused'
CAUSE_SLOW = r"(?i)timed? ?out|within|not (ready|serving|serve)|did not"


@dataclass
class Scenario:
    stage: str                      # the stage the fault hits (for kill-boundary: the stage whose start kills the run)
    fault: str                      # a key of FAULTS
    how: str                        # how it is injected, for the table's legend
    arm: Callable[[Bed], str] | None = None     # at the stage's first task: arm the fault, say what was armed
    disarm: Callable[[Bed], None] | None = None
    kill_at_stage: bool = False     # SIGKILL when the stage's first task shows
    watch: Callable[[Bed], str | None] | None = None   # polled during the run; a text -> SIGKILL
    cause: str | None = None        # regex the failed run's output must match (None: killed, no message)
    extra_vars: dict = field(default_factory=dict)     # for the faulted run only
    rerun_must_stop: str | None = None   # regex: the first re-run must stop with this (kill-helm, P24)
    scope: tuple[str, ...] = tuple(ALL_STAGES)         # the stages every run of the scenario runs

    @property
    def id(self) -> str:
        return f"{self.fault}@{self.stage}"


def _rule(**rule) -> Callable[[Bed], str]:
    def arm(bed: Bed) -> str:
        added = bed.testbed.add_faults(rule)
        return f"armed {added[0]['id']}: {rule}"
    return arm


def _clear(bed: Bed) -> None:
    bed.testbed.clear_faults()
    bed.testbed.reset_settings()


def _settings(**values) -> Callable[[Bed], str]:
    def arm(bed: Bed) -> str:
        bed.testbed.set_settings(**values)
        return f"iomeshTwin {values}"
    return arm


def _helm_pending_install(bed: Bed) -> str | None:
    return "pending-install" if bed.helm_records("pending-install") else None


# The first write of each stage that writes to the API (preflight and report only read).
FIRST_WRITE = {
    "iomesh_mgmt": dict(methods="POST", path=f"^/api/v1/namespaces/{MGMT_NS}/secrets$"),      # helm's release record
    "iomesh_cluster": dict(methods="PATCH", path=f"/iomeshclusters/{EDGE}$"),                 # the apply
    "iomesh_disks": dict(methods="PATCH", path="/blockdevices/"),                              # the first label patch
    "iomesh_csi": dict(methods="PATCH", path=f"/configmaps/{MGMT}-csi-configmap$"),           # the ConfigMap apply
    "iomesh_verify": dict(methods="POST", path=f"^/api/v1/namespaces/{VERIFY_NS}/persistentvolumeclaims$"),
}
# A read of each stage (not in a retry loop of the role), dropped more often than any client retries it.
A_READ = {
    "iomesh_preflight": "^/api/v1/nodes$",
    "iomesh_mgmt": f"/namespaces/{MGMT_NS}/leases/iomesh-multicluster-lock$",
    "iomesh_cluster": f"{IOMESH}/namespaces/{MGMT_NS}/iomeshclusters/{MGMT}$",
    "iomesh_disks": f"/namespaces/{MGMT_NS}/blockdevices$",
    "iomesh_csi": "^/apis/storage.k8s.io/v1/storageclasses$",
    "iomesh_verify": "^/apis/storage.k8s.io/v1/storageclasses$",
    "iomesh_report": f"^{IOMESH}/iomeshclusters$",
}


def matrix(scope: tuple[str, ...] = tuple(ALL_STAGES)) -> list[Scenario]:
    """Every cell of the matrix whose stage is in `scope`."""
    out: list[Scenario] = []
    for stage in scope:
        if stage in FIRST_WRITE:
            out.append(Scenario(stage, "api500", f"500 on {FIRST_WRITE[stage]['methods']} "
                                f"{FIRST_WRITE[stage]['path']} (times 1)",
                                arm=_rule(action="status", code=500, times=1, **FIRST_WRITE[stage]),
                                disarm=_clear, cause=CAUSE_500, scope=scope))
        out.append(Scenario(stage, "drop", f"drop GET {A_READ[stage]} (times 12)",
                            arm=_rule(methods="GET", path=A_READ[stage], action="drop", times=12),
                            disarm=_clear, cause=CAUSE_DROP, scope=scope))
    if "iomesh_cluster" in scope:
        out.append(Scenario("iomesh_cluster", "webhook", "iomeshTwin.webhookDown at the stage's start; "
                            "iomesh_cluster_webhook_timeout=10", arm=_settings(webhookDown=True), disarm=_clear,
                            cause=CAUSE_WEBHOOK, extra_vars={"iomesh_cluster_webhook_timeout": 10}, scope=scope))
        out.append(Scenario("iomesh_cluster", "slow", "operatorDelaySeconds=120 at the stage's start; "
                            "iomesh_cluster_wait_timeout=20", arm=_settings(operatorDelaySeconds=120), disarm=_clear,
                            cause=CAUSE_SLOW, extra_vars={"iomesh_cluster_wait_timeout": 20}, scope=scope))
    for before, stage in zip(scope, scope[1:]):
        out.append(Scenario(stage, "kill-boundary", f"SIGKILL (the whole process tree) when {stage}'s first TASK line shows",
                            kill_at_stage=True, scope=scope))
    if "iomesh_mgmt" in scope:
        out.append(Scenario("iomesh_mgmt", "kill-helm", f"SIGKILL (the whole process tree) once Secret "
                            f"sh.helm.release.v1.{MGMT}.v1 is pending-install", watch=_helm_pending_install,
                            rerun_must_stop=(rf"Helm release {MGMT_NS}/{MGMT} is pending-install \(revision 1, since .*"
                                             rf"|kubectl -n {MGMT_NS} delete secret sh\.helm\.release\.v1\.{MGMT}\.v1"),
                            scope=scope))
    return out


# The reduced matrix `make faults` runs by default (FAULTS=all: every cell): the stage boundaries that matter.
DEFAULT_IDS = ["kill-helm@iomesh_mgmt", "api500@iomesh_cluster", "webhook@iomesh_cluster", "api500@iomesh_disks",
               "kill-boundary@iomesh_disks", "drop@iomesh_csi"]
# In the test command (CI): the run killed inside the Helm install (a pending-install revision, and the lock of a
# dead run); the other cells run with `make faults`.
SAMPLE_IDS = ["kill-helm@iomesh_mgmt"]
SAMPLE_SCOPE = ("iomesh_preflight", "iomesh_mgmt", "iomesh_cluster")


# --- state ---
def _meta_free(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def converged_state(bed: Bed) -> dict:
    """What a deployment of the inventory makes, without what differs between two testbeds (UIDs, times)."""
    def by_name(items):
        return {f"{i['metadata'].get('namespace', '')}/{i['metadata']['name']}": i for i in items}

    state: dict = {}
    state["iomeshclusters"] = {k: v.get("spec") for k, v in by_name(bed.items(f"{IOMESH}/iomeshclusters")).items()}
    state["zookeeperclusters"] = {k: v.get("spec") for k, v in
                                  by_name(bed.items(f"{ZOOKEEPER}/zookeeperclusters")).items()}
    state["storageclasses"] = {k: _meta_free(v) for k, v in
                               by_name(bed.items("/apis/storage.k8s.io/v1/storageclasses")).items()}
    cms = {}
    for ns in (MGMT_NS, EDGE_NS):
        for k, v in by_name(bed.items(f"/api/v1/namespaces/{ns}/configmaps")).items():
            if k.endswith("/kube-root-ca.crt"):
                continue
            cms[k] = hashlib.sha256(json.dumps(v.get("data"), sort_keys=True).encode()).hexdigest()[:12]
    state["configmaps"] = cms
    bds = {}
    for bd in bed.items(harness.BD_PATH):
        labels = bd["metadata"].get("labels") or {}
        if harness.CLUSTER_LABEL in labels or harness.MOUNT_LABEL in labels:
            bds[bd["metadata"]["name"]] = [labels.get(harness.CLUSTER_LABEL), labels.get(harness.MOUNT_LABEL)]
    state["labelled_blockdevices"] = bds
    state["helm"] = bed.helm_status()
    state["namespaces"] = sorted(n["metadata"]["name"] for n in bed.items("/api/v1/namespaces"))
    return state


def diff(a: dict, b: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(a) | set(b), key=str):
        if key not in a:
            out.append(f"{prefix}{key}: only in the reference")
        elif key not in b:
            out.append(f"{prefix}{key}: not in the reference")
        elif isinstance(a[key], dict) and isinstance(b[key], dict):
            out += diff(a[key], b[key], f"{prefix}{key}.")
        elif a[key] != b[key]:
            out.append(f"{prefix}{key}: {json.dumps(a[key])[:150]} != reference {json.dumps(b[key])[:150]}")
    return out


UID_KINDS = {
    "namespace": "/api/v1/namespaces",
    "crd": "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    "iomeshcluster": f"{IOMESH}/iomeshclusters",
    "zookeepercluster": f"{ZOOKEEPER}/zookeeperclusters",
    "storageclass": "/apis/storage.k8s.io/v1/storageclasses",
    "blockdevice": harness.BD_PATH,
    "configmap-core": f"/api/v1/namespaces/{MGMT_NS}/configmaps",
    "configmap-edge": f"/api/v1/namespaces/{EDGE_NS}/configmaps",
    "deployment": "/apis/apps/v1/deployments",
    "statefulset": "/apis/apps/v1/statefulsets",
    "helm-record": f"/api/v1/namespaces/{MGMT_NS}/secrets",
}


def uids(bed: Bed) -> dict[str, str]:
    """kind/namespace/name -> uid of what a recovery must keep. Not: the verification namespace and its objects (the
    verify stage deletes what it made), pending Helm records (the recovery removes them, P24), the Lease."""
    out = {}
    for kind, path in UID_KINDS.items():
        query = {"labelSelector": "owner=helm"} if kind == "helm-record" else {}
        for obj in bed.items(path, **query):
            meta = obj["metadata"]
            if kind == "namespace" and meta["name"] == VERIFY_NS:
                continue
            if kind == "helm-record" and meta.get("labels", {}).get("status", "").startswith("pending-"):
                continue
            out[f"{kind}/{meta.get('namespace', '')}/{meta['name']}"] = meta["uid"]
    return out


def half_labelled(bed: Bed) -> list[str]:
    out = []
    for bd in bed.items(harness.BD_PATH):
        labels = bd["metadata"].get("labels") or {}
        if (harness.CLUSTER_LABEL in labels) != (harness.MOUNT_LABEL in labels):
            out.append(f"{bd['metadata']['name']} {labels}")
    return out


def held_lock(bed: Bed) -> str | None:
    """The deployment Lease, when a live process holds it."""
    lease = bed.get(f"/apis/coordination.k8s.io/v1/namespaces/{MGMT_NS}/leases/{harness.LOCK}")
    if lease is None:
        return None
    pid = (lease["metadata"].get("annotations") or {}).get("iomesh.multicluster/holder-pid")
    if pid and pid.isdigit() and lock.process_alive(int(pid)):
        return f"held by live pid {pid}: {lease['spec'].get('holderIdentity')}"
    return None


def lease_left(bed: Bed) -> str:
    lease = bed.get(f"/apis/coordination.k8s.io/v1/namespaces/{MGMT_NS}/leases/{harness.LOCK}")
    return "released" if lease is None else "left by a dead run"


# --- the reference deployment (cached by the content of everything it depends on) ---
def _sources_digest() -> str:
    h = hashlib.sha256()
    for top in ("roles", "plugins", "playbooks", "testbed/iomesh_twin", "testbed/kubeemu", "testbed/charts"):
        for path in sorted((harness.ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(harness.ROOT)).encode())
                h.update(path.read_bytes())
    h.update(Path(harness.__file__).read_bytes())
    h.update(" ".join(harness.EXTRA_ARGS).encode())
    return h.hexdigest()[:16]


def reference(scope: tuple[str, ...], cache_dir: Path, log: Callable[[str], None] = print) -> dict:
    key = f"{_sources_digest()}-{hashlib.sha256(','.join(scope).encode()).hexdigest()[:8]}"
    cache = cache_dir / f"fault-reference-{key}.json"
    if cache.exists():
        log(f"reference deployment: cached ({cache.name})")
        return json.loads(cache.read_text())
    started = time.monotonic()
    with Bed() as bed:
        run = bed.site(*_scope_args(scope))
        if run.rc != 0:
            raise RuntimeError(f"the reference deployment failed: {run!r}")
        state = converged_state(bed)
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(state, indent=1, sort_keys=True))
    log(f"reference deployment: {time.monotonic() - started:.0f} s, changed={run.changed()}")
    return state


def _scope_args(scope: tuple[str, ...]) -> list[str]:
    if tuple(scope) == tuple(ALL_STAGES):
        return []
    return ["--tags", ",".join(scope)]


def _extra_args(extra: dict) -> list[str]:
    return ["-e", json.dumps(extra)] if extra else []


# --- one scenario ---
@dataclass
class Outcome:
    scenario: Scenario
    ok: bool = True
    failure: str = ""               # the short cause the failed run gave
    recovery: str = ""
    problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)   # the relevant output lines of a cell that did not recover
    seconds: float = 0.0

    def problem(self, text: str, run: Run | None = None) -> None:
        self.ok = False
        self.problems.append(text)
        if run is not None:
            self.lines += relevant_lines(run)

    def cell(self) -> str:
        text = f"failed: {self.failure}; {self.recovery}"
        if not self.ok:
            return "KNOWN FAILURE: " + "; ".join(self.problems) + f" ({text})"
        return text


def relevant_lines(run: Run, n: int = 12) -> list[str]:
    lines = run.output.splitlines()
    picked = [ln for ln in lines if ln.startswith(("fatal:", "failed:", "[ERROR]", "localhost ")) or '"msg"' in ln]
    return [ln[:600] for ln in (picked or lines)[-n:]]


def short_cause(run: Run) -> str:
    """The gist of the first failure message of the run that says something: a result hidden by no_log (the Helm
    task's, whose arguments hold the release values) is followed by the rescue's own message."""
    for _role, line in run.failed_tasks():
        if "'no_log: true' was specified" in line:
            continue
        m = re.search(r'"msg": "((?:[^"\\]|\\.)*)"', line)
        text = m.group(1) if m else line
        text = text.encode().decode("unicode_escape", errors="replace") if "\\" in text else text
        return re.sub(r"\s+", " ", text)[:160]
    return (run.tail(1) or "no message")[:160]


def run_scenario(sc: Scenario, ref: dict, log: Callable[[str], None] = print) -> Outcome:
    out = Outcome(sc)
    started = time.monotonic()
    scope_args = _scope_args(sc.scope)
    with Bed() as bed:
        # 1. The faulted run.
        def on_stage(stage: str) -> str | None:
            if stage != sc.stage:
                return None
            if sc.kill_at_stage:
                return "KILL"
            return sc.arm(bed) if sc.arm else None

        run = bed.site(*scope_args, *_extra_args(sc.extra_vars), on_stage=on_stage, watch=sc.watch)
        log(f"  faulted run: rc={run.rc} {run.seconds:.0f} s killed={run.killed} armed={run.armed}")
        if sc.arm is None and not sc.kill_at_stage and sc.watch is None:
            raise AssertionError(sc)
        # 2. The failure.
        if sc.kill_at_stage or sc.watch:
            if not run.killed:
                out.problem(f"the run was never killed (rc {run.rc})", run)
            out.failure = f"SIGKILL ({run.killed}); lease {lease_left(bed)}"
        else:
            if run.rc == 0:
                out.failure = "none: the run absorbed the fault"
                applied = sum(r.get("applied", 0) for r in bed.testbed.faults())
                out.failure += f" (fault applied {applied}x)"
            else:
                roles = [role for role, _line in run.failed_tasks()]
                out.failure = f"{roles[0] if roles else '?'}: {short_cause(run)}"
                if not roles or roles[0] != sc.stage:
                    out.problem(f"the failing task is not in {sc.stage} ({roles[:3]})", run)
                if sc.cause and not re.search(sc.cause, run.output):
                    out.problem(f"the output does not name the cause /{sc.cause}/", run)
        # The fault is over (the connection, the webhook, the operator are back) before anything is judged: a rule
        # the faulted run did not use up would otherwise hit this harness's own reads.
        if sc.disarm:
            sc.disarm(bed)
        if held := held_lock(bed):
            out.problem(f"lock {held}", run)
        if half := half_labelled(bed):
            out.problem(f"half-labelled BlockDevices after the fault: {half}", run)
        before = uids(bed)
        # 3. The re-run.
        rerun = bed.site(*scope_args)
        log(f"  re-run: rc={rerun.rc} {rerun.seconds:.0f} s recap={rerun.recap()}")
        notes = []
        if sc.rerun_must_stop:
            if rerun.rc == 0 or not re.search(sc.rerun_must_stop, rerun.output):
                out.problem(f"the first re-run did not stop with the recovery command (rc {rerun.rc})", rerun)
            else:
                notes.append("first re-run: stopped with the recovery command (P24)")
            moved = bed.backdate_pending()
            notes.append(f"record backdated ({len(moved)})")
            rerun = bed.site(*scope_args)
            log(f"  re-run after backdating: rc={rerun.rc} {rerun.seconds:.0f} s recap={rerun.recap()}")
        if rerun.rc != 0:
            out.problem(f"the re-run failed (rc {rerun.rc}): {short_cause(rerun)}", rerun)
        changed = rerun.changed()
        # A faulted run that absorbed the fault (a client retry, a wait's next poll) may have left nothing to repair
        # (changed=0), or a report that says what it could not read (rewritten by the re-run): no count is required,
        # convergence and the third run below are. A run the fault stopped left something undone: the re-run does it.
        if run.rc != 0 and rerun.rc == 0 and not changed:
            out.problem(f"the re-run changed nothing (changed={changed})", rerun)
        state = converged_state(bed)
        if differences := diff(state, ref):
            out.problem("not converged: " + "; ".join(differences[:6]))
        after = uids(bed)
        lost = [k for k, uid in before.items() if after.get(k) != uid]
        if lost:
            out.problem(f"lost or re-created: {lost[:6]}")
        if half := half_labelled(bed):
            out.problem(f"half-labelled BlockDevices after the re-run: {half}")
        # 4. One more run.
        third = bed.site(*scope_args)
        log(f"  third run: rc={third.rc} {third.seconds:.0f} s recap={third.recap()}")
        if third.rc != 0 or third.changed() != 0:
            out.problem(f"third run: rc {third.rc}, changed={third.changed()}", third)
        state_ok = "converged" if not differences else "NOT converged"
        out.recovery = "; ".join(notes + [f"re-run: rc {rerun.rc}, {state_ok}, changed={changed}",
                                          f"third run: changed={third.changed()}"])
    out.seconds = time.monotonic() - started
    return out


def select(ids: list[str] | None, scope: tuple[str, ...] = tuple(ALL_STAGES)) -> list[Scenario]:
    every = matrix(scope)
    if not ids:
        return every
    by_id = {s.id: s for s in every}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise SystemExit(f"unknown scenarios {missing}; known: {sorted(by_id)}")
    return [by_id[i] for i in ids]


def table(outcomes: list[Outcome], seconds: float | None = None, note: str = "") -> str:
    stages = [s for s in ALL_STAGES if any(o.scenario.stage == s for o in outcomes)]
    faults = [f for f in FAULTS if any(o.scenario.fault == f for o in outcomes)]
    cells = {(o.scenario.fault, o.scenario.stage): o for o in outcomes}
    lines = ["# Fault × stage → outcome", "",
             "Produced by `make faults` (tests/faults, scripts/fault_matrix.py) from the runs below; "
             "`site.yml --skip-tags iomesh_prereq` on the API emulator with the IOMesh twin, a fresh testbed per "
             "cell." + (f" {note}" if note else ""), ""]
    lines.append("| fault | " + " | ".join(stages) + " |")
    lines.append("|---|" + "---|" * len(stages))
    for fault in faults:
        row = [FAULTS[fault]]
        for stage in stages:
            o = cells.get((fault, stage))
            row.append("—" if o is None else o.cell().replace("|", "\\|"))
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "How each fault was injected:", ""]
    for o in outcomes:
        lines.append(f"* `{o.scenario.id}`: {o.scenario.how} — {o.seconds:.0f} s")
    bad = [o for o in outcomes if not o.ok]
    if bad:
        lines += ["", "Cells that did not recover, with the relevant output lines:", ""]
        for o in bad:
            lines.append(f"### {o.scenario.id}")
            lines += [f"* {p}" for p in o.problems]
            if o.lines:
                lines += ["", "```"] + o.lines[-20:] + ["```", ""]
    if seconds is not None:
        lines += ["", f"Wall time: {seconds:.0f} s for {len(outcomes)} scenario(s)."]
    return "\n".join(lines) + "\n"
