"""`make bench-deploy`: how long a deployment takes on the testbed and how many API requests it sends, beside a floor
measured in the same run (issue 14's benchmark; BENCH_ARGS="--quick" for a smoke run).

Kubernetes side, for the seed inventory and generated inventories of N IOMesh clusters of 3 nodes (--clusters, default
2 4 8), each on a fresh testbed (tests/playbooks/conftest.Testbed: the API emulator with the IOMesh twin, and the
launcher's chart repository): `site.yml --skip-tags iomesh_prereq` first deploy, no-change re-run, re-run without the
verify and report stages, and `--check` on the converged deployment; the API requests of each run from the emulator's
request log (reads, writes, and the deployment lock's Lease writes apart). The floor: one `kubectl apply --server-side
--dry-run=server` of the objects the collection wrote in the first deploy, read back, plus `helm status` of the
management release; best of 3. Host side: playbooks/prereq.yml first run and re-run on 6 podman hosts.

Prints the table, the per-cluster slopes and each target of the issue with PASS or MISS. A MISS is a finding, not a
failure: the exit status is 1 only when a run itself failed (rc != 0, or changes on a run that must change nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# This checkout's testbed package first (.venv may hold another checkout's editable install).
sys.path[:0] = [str(ROOT / "testbed"), str(ROOT / "tests"), str(ROOT / ".venv" / "collections")]

from iomesh_testbed import cli as testbed_cli  # noqa: E402
from iomesh_testbed import launcher  # noqa: E402
from kubeemu import config as kubeemu_config  # noqa: E402  the testbed's full config (disk layout), as `up` reads it
from playbooks import conftest, play_recap  # noqa: E402  tests/playbooks: Testbed, client_env, the recap parser

NODES_PER_CLUSTER = 3
DEFAULT_CLUSTERS = (2, 4, 8)
SEED = ROOT / "inventories" / "seed-example"
SEED_LABEL = "seed"
SKIP_HOST_SIDE = "iomesh_prereq"
SKIP_VERIFY = "iomesh_prereq,iomesh_verify,iomesh_report"
READ_METHODS = ("GET", "HEAD", "OPTIONS")
# Short polls, as the multicluster molecule scenario: a first deploy's waits poll every second. A no-change run finds
# everything ready at its first poll, so they do not change its figures.
RUN_VARS = {"iomesh_mgmt_wait_delay": 1, "iomesh_cluster_wait_delay": 1, "iomesh_disks_wait_delay": 1,
            "iomesh_csi_wait_delay": 1, "iomesh_verify_wait_delay": 1,
            "iomesh_mgmt_wait_timeout": 300, "iomesh_cluster_wait_timeout": 300}
# Metadata the API server owns: what a read-back object loses before it is applied again.
SERVER_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink")
FLOOR_REPEATS = 3
# The host side: a network and subnet of its own, so it never meets the molecule scenarios' hosts or `make demo`'s.
HOST_CLUSTERS = 2
HOST_NETWORK = "iomesh-bench"
HOST_SUBNET = "10.234.199.0/24"
HOST_IMAGE = "localhost/iomesh-testbed-debian12:latest"
RUN_TIMEOUT = 1800
# --profile: every task's time in each run's log (ansible.posix's callback, installed by `make setup`).
PROFILE_ENV = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks", "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all",
               "PROFILE_TASKS_SORT_ORDER": "descending"}

# Issue 14's targets.
SEED_RERUN_MAX = 15.0
SEED_FLOOR_RATIO_MAX = 25.0
SLOPE_MAX = 1.5
LARGEST_CLUSTERS = 8
LARGEST_RERUN_MAX = 25.0
HOST_RERUN_MAX = 20.0
# Requests grow linearly when every inventory's count lies within this fraction of the least-squares line.
LINEAR_TOLERANCE = 0.10


# --- inventories ---------------------------------------------------------------------------------------------------

def generated_clusters(count: int, data_cidr: str = launcher.DATA_CIDR,
                       prefix: str = "bench") -> tuple[list[dict], dict[str, list[str]]]:
    """`count` IOMesh clusters of NODES_PER_CLUSTER nodes: the `iomesh_clusters` list (a management cluster `blk-mgmt`
    in `storage-mgmt`, then `blk-<i>`, every other one in a namespace of its own name by default, the others in
    `tier-<i>`) and inventory group -> node names."""
    if count < 1:
        raise ValueError(f"an inventory needs at least one IOMesh cluster, not {count}")
    clusters, groups = [], {}
    for index in range(count):
        group = f"{prefix.replace('-', '_')}_c{index}_nodes"   # a group name is a Python identifier
        groups[group] = [f"{prefix}-c{index}-node-{n}" for n in range(NODES_PER_CLUSTER)]
        cluster: dict = {"name": "blk-mgmt" if index == 0 else f"blk-{index}"}
        if index == 0:
            cluster.update(namespace="storage-mgmt", management=True)
        elif index % 2 == 0:
            cluster["namespace"] = f"tier-{index}"
        cluster.update(hosts_group=group, data_cidr=data_cidr, disk_deployment_mode="hybridFlash",
                       storage_class={"name": f"{cluster['name']}-sc"})
        clusters.append(cluster)
    return clusters, groups


def cluster_namespaces(clusters: Iterable[Mapping]) -> list[str]:
    """Each cluster's namespace with the contract's defaults (iomesh-system for the management cluster, else its
    name)."""
    return [c.get("namespace") or ("iomesh-system" if c.get("management") else c["name"]) for c in clusters]


def inventory(clusters: Sequence[Mapping], groups: Mapping[str, Sequence[str]],
              hostvars: Mapping[str, Mapping]) -> dict:
    """An inventory with `iomesh_clusters` and a group per cluster; each host gets hostvars[host] (if any)."""
    return {"all": {
        "vars": {"iomesh_clusters": [dict(c) for c in clusters]},
        "children": {group: {"hosts": {host: dict(hostvars.get(host, {})) for host in hosts}}
                     for group, hosts in groups.items()},
    }}


def node_hostvars(testbed_hosts: Mapping[str, Mapping]) -> dict[str, dict]:
    """The Kubernetes side's hostvars from the testbed inventory's hosts (launcher.inventory): address and disks."""
    keep = ("ansible_host", "iomesh_disks")
    return {host: {k: v for k, v in hv.items() if k in keep} for host, hv in testbed_hosts.items()}


# --- figures ---------------------------------------------------------------------------------------------------------

def count_requests(entries: Iterable[Mapping]) -> dict[str, int]:
    """reads, writes, dry runs (a write request with dryRun: iomesh_dry_run's, which store nothing) and lock (the
    deployment lock's Lease writes, which every writing stage makes) of request log entries."""
    counts = {"reads": 0, "writes": 0, "dry_runs": 0, "lock": 0}
    for entry in entries:
        if entry["method"] in READ_METHODS:
            counts["reads"] += 1
        elif conftest.LOCK_PATH.search(entry["path"]):
            counts["lock"] += 1
        elif "dryRun=" in (entry.get("query") or ""):
            counts["dry_runs"] += 1
        else:
            counts["writes"] += 1
    return counts


def least_squares(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float] | None:
    """(slope, intercept) of the least-squares line through the points; None with fewer than two distinct xs."""
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} x values but {len(ys)} y values")
    if len(set(xs)) < 2:
        return None
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    slope = sxy / sxx
    return slope, mean_y - slope * mean_x


def linear(xs: Sequence[float], ys: Sequence[float], tolerance: float = LINEAR_TOLERANCE) -> bool | None:
    """Whether every y lies within `tolerance` of itself from the least-squares line; None with fewer than three
    distinct xs (two points are always on a line)."""
    fit = least_squares(xs, ys)
    if fit is None or len(set(xs)) < 3:
        return None
    slope, intercept = fit
    return all(abs(y - (slope * x + intercept)) <= tolerance * abs(y) for x, y in zip(xs, ys))


@dataclass
class Target:
    what: str
    figure: str
    passed: bool | None   # None: not measured in this run

    def line(self) -> str:
        verdict = "n/a " if self.passed is None else ("PASS" if self.passed else "MISS")
        return f"{verdict}  {self.what}: {self.figure}"


def _requests_total(row: Mapping) -> int:
    rerun = row["requests"]["rerun"]
    return rerun["reads"] + rerun["writes"] + rerun.get("dry_runs", 0)


def slopes(rows: Sequence[Mapping]) -> dict[str, float | None]:
    """Per added IOMesh cluster: re-run seconds, re-run seconds without verify and report, re-run requests (reads,
    writes and dry runs, the lock apart); None when the rows have fewer than two cluster counts."""
    xs = [row["clusters"] for row in rows]
    out: dict[str, float | None] = {}
    for key, ys in (("rerun_s", [row["rerun"] for row in rows]),
                    ("rerun_noverify_s", [row["rerun_noverify"] for row in rows]),
                    ("requests", [_requests_total(row) for row in rows])):
        fit = least_squares(xs, ys)
        out[key] = None if fit is None else fit[0]
    return out


def judge(rows: Sequence[Mapping], hosts: Mapping | None) -> list[Target]:
    """Issue 14's targets from the completed inventories' rows and the host side (None or {'skipped': reason} when it
    did not run)."""
    targets = []
    seed = next((row for row in rows if row["label"] == SEED_LABEL), None)
    if seed is None:
        targets.append(Target(f"seed no-change re-run <= {SEED_RERUN_MAX:g} s", "not measured", None))
        targets.append(Target(f"seed re-run <= {SEED_FLOOR_RATIO_MAX:g}x the floor", "not measured", None))
    else:
        ratio = seed["rerun"] / seed["floor"]
        targets.append(Target(f"seed no-change re-run <= {SEED_RERUN_MAX:g} s", f"{seed['rerun']:.1f} s",
                              seed["rerun"] <= SEED_RERUN_MAX))
        targets.append(Target(f"seed re-run <= {SEED_FLOOR_RATIO_MAX:g}x the floor",
                              f"{ratio:.1f}x (floor {seed['floor']:.2f} s)", ratio <= SEED_FLOOR_RATIO_MAX))
    slope = slopes(rows)
    targets.append(Target(f"each added IOMesh cluster adds <= {SLOPE_MAX:g} s to the re-run",
                          "not measured (needs two cluster counts)" if slope["rerun_s"] is None
                          else f"{slope['rerun_s']:+.2f} s per cluster",
                          None if slope["rerun_s"] is None else slope["rerun_s"] <= SLOPE_MAX))
    largest = next((row for row in rows if row["clusters"] == LARGEST_CLUSTERS and row["label"] != SEED_LABEL), None)
    targets.append(Target(f"{LARGEST_CLUSTERS} clusters: re-run <= {LARGEST_RERUN_MAX:g} s",
                          "not measured" if largest is None else f"{largest['rerun']:.1f} s",
                          None if largest is None else largest["rerun"] <= LARGEST_RERUN_MAX))
    xs = [row["clusters"] for row in rows]
    per_cluster = ", ".join(f"{row['label']} {_requests_total(row) / row['clusters']:.0f}" for row in rows)
    grows = linear(xs, [_requests_total(row) for row in rows])
    targets.append(Target("re-run requests grow linearly with the clusters",
                          "not measured" if not rows else
                          (f"{slope['requests']:+.0f} per added cluster; " if slope["requests"] is not None else "")
                          + f"per cluster: {per_cluster}"
                          + ("" if grows is not None else " (linearity needs three cluster counts)"), grows))
    slower = [row["label"] for row in rows if row["check"] > row["rerun"]]
    targets.append(Target("--check on a converged deployment no slower than the re-run",
                          "not measured" if not rows else ", ".join(
                              f"{row['label']} {row['check']:.1f} s vs {row['rerun']:.1f} s" for row in rows),
                          None if not rows else not slower))
    if hosts is None or "rerun" not in hosts:
        reason = "not run" if hosts is None else hosts.get("skipped") or hosts.get("failed") or "not run"
        targets.append(Target(f"iomesh_prereq re-run on 6 hosts <= {HOST_RERUN_MAX:g} s", reason, None))
    else:
        targets.append(Target(f"iomesh_prereq re-run on 6 hosts <= {HOST_RERUN_MAX:g} s", f"{hosts['rerun']:.1f} s",
                              hosts["rerun"] <= HOST_RERUN_MAX))
    return targets


def table(rows: Sequence[Mapping]) -> str:
    """The Kubernetes side's figures, one row per inventory."""
    head = ("inventory", "clusters", "first s", "re-run s", "w/o verify s", "--check s",
            "re-run requests r/w/dry (+lock)", "floor s", "re-run/floor")
    lines = [head]
    for row in rows:
        req = row["requests"]["rerun"]
        lines.append((row["label"], str(row["clusters"]), f"{row['first']:.1f}", f"{row['rerun']:.1f}",
                      f"{row['rerun_noverify']:.1f}", f"{row['check']:.1f}",
                      f"{req['reads']}/{req['writes']}/{req.get('dry_runs', 0)} (+{req['lock']})", f"{row['floor']:.2f}",
                      f"{row['rerun'] / row['floor']:.1f}x"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line))
           for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


# --- running ---------------------------------------------------------------------------------------------------------

class RunFailed(Exception):
    """A run that must pass did not (rc != 0, or changes where nothing may change)."""


@dataclass
class Run:
    rc: int
    seconds: float
    output: str
    log: Path
    requests: dict[str, int] = field(default_factory=dict)

    def changed(self, hosts: Sequence[str] = ("localhost",)) -> int | None:
        """The summed `changed` of `hosts` in the PLAY RECAP; None when a host has no line."""
        total = 0
        for host in hosts:
            counts = play_recap.find(self.output, host)
            if counts is None:
                return None
            total += counts["changed"]
        return total


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ansible_playbook(args: Sequence[str], env: Mapping[str, str], log: Path, profile: bool = False) -> Run:
    """ansible-playbook ARGS from the repository root, timed; its output also goes to `log` (with every task's
    time when `profile`)."""
    cmd = [str(conftest.VENV_BIN / "ansible-playbook"), *args]
    env = dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", **(PROFILE_ENV if profile else {}))
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    seconds = time.monotonic() - start
    output = proc.stdout + proc.stderr
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"$ {' '.join(cmd)}\n{output}")
    return Run(proc.returncode, seconds, output, log)


def require(run: Run, what: str, no_change: bool, hosts: Sequence[str] = ("localhost",)) -> None:
    if run.rc != 0:
        raise RunFailed(f"{what} failed (rc={run.rc}); its output: {run.log}")
    changed = run.changed(hosts)
    if changed is None:
        raise RunFailed(f"{what} printed no PLAY RECAP line for {', '.join(hosts)}; its output: {run.log}")
    if no_change and changed:
        raise RunFailed(f"{what} changed={changed} where nothing may change; its output: {run.log}")


def item_path(entry: Mapping) -> str | None:
    """The object path of a write by name (apply, update, patch), None for creates and deletes."""
    if entry["method"] not in ("PATCH", "PUT"):
        return None
    return re.sub(r"/(status|scale)$", "", entry["path"])


def owned_objects(testbed: conftest.Testbed, entries: Iterable[Mapping], namespaces: Sequence[str]) -> list[dict]:
    """The objects the collection wrote (by name, not through Helm, not the lock) and its clusters' namespaces, as the
    API has them now, without server-owned metadata and status: what the floor applies again."""
    paths = [f"/api/v1/namespaces/{ns}" for ns in namespaces]
    for entry in entries:
        path = item_path(entry)
        if (path and not (entry.get("userAgent") or "").lower().startswith("helm")
                and not conftest.LOCK_PATH.search(path) and path not in paths):
            paths.append(path)
    objects = []
    for path in paths:
        try:
            obj = testbed.get(path)
        except urllib.error.HTTPError as e:
            if e.code == 404:   # made and removed in the run (the verification's claims and pods)
                continue
            raise
        obj.pop("status", None)
        for key in SERVER_METADATA:
            obj["metadata"].pop(key, None)
        objects.append(obj)
    return objects


def measure_floor(testbed: conftest.Testbed, objects: Sequence[dict], release: str, namespace: str,
                  workdir: Path) -> float:
    """Best of FLOOR_REPEATS: `kubectl apply --server-side --dry-run=server` of `objects`, then `helm status`."""
    manifest = workdir / "owned-objects.yaml"
    manifest.write_text(yaml.safe_dump_all(list(objects), sort_keys=False))
    kubectl = [str(conftest.VENV_BIN / "kubectl"), "--kubeconfig", str(testbed.kubeconfig), "apply", "--server-side",
               "--force-conflicts", "--dry-run=server", "-f", str(manifest)]
    helm = [str(conftest.VENV_BIN / "helm"), "--kubeconfig", str(testbed.kubeconfig), "status", release,
            "-n", namespace]
    best = None
    for _attempt in range(FLOOR_REPEATS):
        start = time.monotonic()
        for cmd in (kubectl, helm):
            proc = subprocess.run(cmd, env=testbed.env, capture_output=True, text=True, timeout=300, check=False)
            if proc.returncode != 0:
                raise RunFailed(f"the floor's `{' '.join(cmd[:1] + cmd[3:])}` failed: {proc.stdout}{proc.stderr}")
        seconds = time.monotonic() - start
        best = seconds if best is None else min(best, seconds)
    return best


def kubernetes_side(label: str, clusters: list[dict], groups: dict[str, list[str]] | None, logs: Path,
                    log=print, profile: bool = False) -> dict:
    """First deploy, re-run, re-run without verify and report, --check, and the floor of one inventory on a fresh
    testbed. groups None: the seed inventory (inventories/seed-example), its hosts' disks from the testbed."""
    nodes = sorted(h for hosts in groups.values() for h in hosts) if groups else list(launcher.SEED_NODES)
    base = Path(tempfile.mkdtemp(prefix="iomesh-bd-"))   # short: ansible's socket path under TMPDIR
    tmpdir = base / "t"
    tmpdir.mkdir()
    testbed = conftest.Testbed(base / "testbed", tmpdir, {"nodes": launcher.seed_node_config(nodes)})
    chart = None
    try:
        chart = launcher.ChartRepo(base / "charts", _free_port(), str(conftest.VENV_BIN / "helm3"), env=testbed.env,
                                   versions=(launcher.DEFAULT_CHART_VERSION,))
        full = kubeemu_config.load(str(testbed.workdir / "config.yaml"))
        testbed_hosts = launcher.inventory(full, {}, testbed.kubeconfig, chart.url,
                                           False)["all"]["children"]["testbed_nodes"]["hosts"]
        target = base / "target.yml"
        target.write_text(yaml.safe_dump({"iomesh_kubeconfig": str(testbed.kubeconfig),
                                          "iomesh_chart_repo_url": chart.url, **RUN_VARS,
                                          "iomesh_report_dir": str(base / "report")}))
        if groups is None:
            extra = base / "hosts.yml"
            extra.write_text(yaml.safe_dump({"all": {"hosts": {
                h: {"iomesh_disks": hv["iomesh_disks"]} for h, hv in testbed_hosts.items() if "iomesh_disks" in hv}}}))
            inventory_args = ["-i", str(SEED), "-i", str(extra)]
        else:
            generated = base / "inventory.yml"
            generated.write_text(yaml.safe_dump(inventory(clusters, groups, node_hostvars(testbed_hosts))))
            inventory_args = ["-i", str(generated)]
        args = ["site.yml", *inventory_args, "-e", f"@{target}"]
        runs: dict[str, Run] = {}
        row: dict = {"label": label, "clusters": len(clusters), "nodes": len(nodes), "requests": {}}

        def timed(key: str, *more: str, no_change: bool) -> Run:
            since = len(testbed.requests())
            run = ansible_playbook([*args, *more], testbed.env, logs / f"{label}-{key}.log", profile)
            entries = testbed.requests()[since:]
            run.requests = count_requests(entries)
            require(run, f"{label}: {key.replace('_', ' ')}", no_change)
            runs[key] = run
            row[key] = round(run.seconds, 2)
            row["requests"][key] = run.requests
            log(f"  {label}: {key.replace('_', ' ')} {run.seconds:.1f} s, requests {run.requests}")
            return run

        since = len(testbed.requests())
        timed("first", "--skip-tags", SKIP_HOST_SIDE, no_change=False)
        mgmt = next(c for c in clusters if c.get("management"))
        mgmt_ns = cluster_namespaces([mgmt])[0]
        objects = owned_objects(testbed, testbed.requests()[since:], cluster_namespaces(clusters))
        timed("rerun", "--skip-tags", SKIP_HOST_SIDE, no_change=True)
        timed("rerun_noverify", "--skip-tags", SKIP_VERIFY, no_change=True)
        timed("check", "--skip-tags", SKIP_HOST_SIDE, "--check", no_change=True)
        # After the runs, on a testbed as settled as for the re-runs: measured right after the first deploy, the floor
        # of the same 28 objects came out at 0.26 s for one inventory and 0.83 s for another.
        row["floor"] = round(measure_floor(testbed, objects, mgmt["name"], mgmt_ns, base), 3)
        row["floor_objects"] = len(objects)
        log(f"  {label}: floor {row['floor']:.2f} s ({len(objects)} objects + helm status, best of {FLOOR_REPEATS})")
        return row
    finally:
        if chart is not None:
            chart.stop()
        testbed.stop()
        shutil.rmtree(base, ignore_errors=True)


def host_side_unavailable() -> str | None:
    """Why the podman hosts cannot start here, or None."""
    if os.geteuid() != 0:
        return "the podman hosts need root"
    if shutil.which("podman") is None:
        return "no podman"
    image = subprocess.run(["podman", "image", "exists", HOST_IMAGE], capture_output=True, check=False)
    if image.returncode != 0 and shutil.which("debootstrap") is None:
        return f"no image {HOST_IMAGE} and no debootstrap to build it"
    return None


def host_side(logs: Path, log=print, profile: bool = False) -> dict:
    """playbooks/prereq.yml first run and re-run on 2 x 3 podman hosts."""
    reason = host_side_unavailable()
    if reason:
        return {"skipped": reason}
    clusters, groups = generated_clusters(HOST_CLUSTERS, data_cidr=HOST_SUBNET, prefix="bench-host")
    names = [h for hosts in groups.values() for h in hosts]
    base = Path(tempfile.mkdtemp(prefix="iomesh-bh-"))
    state = base / "hosts"
    state.mkdir()
    try:
        testbed_cli.hosts_up(state, names, network=HOST_NETWORK, subnet=HOST_SUBNET)
        hostvars = {h: {"ansible_connection": "containers.podman.podman", "ansible_host": h,
                        "ansible_python_interpreter": "/usr/bin/python3", "iomesh_prereq_lab_mode": True}
                    for h in names}
        generated = base / "inventory.yml"
        generated.write_text(yaml.safe_dump(inventory(clusters, groups, hostvars)))
        tmpdir = base / "t"
        tmpdir.mkdir()
        env = {**conftest.client_env(base / "client", tmpdir),
               "CONTAINERS_CONF": testbed_cli.hosts_env(state)["CONTAINERS_CONF"]}
        out: dict = {"hosts": len(names)}
        for key, no_change in (("first", False), ("rerun", True)):
            run = ansible_playbook(["playbooks/prereq.yml", "-i", str(generated)], env, logs / f"hosts-{key}.log",
                                   profile)
            require(run, f"hosts: prereq {key}", no_change, hosts=names)
            out[key] = round(run.seconds, 2)
            log(f"  hosts: prereq {key} {run.seconds:.1f} s")
        return out
    finally:
        testbed_cli.hosts_down(state, network=HOST_NETWORK, always=True)
        shutil.rmtree(base, ignore_errors=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", type=int, nargs="*", default=list(DEFAULT_CLUSTERS), metavar="N",
                        help="generated inventories of N IOMesh clusters of 3 nodes (default: 2 4 8)")
    parser.add_argument("--no-seed", action="store_true", help="leave out the seed inventory")
    parser.add_argument("--no-hosts", action="store_true", help="leave out the host side (podman hosts)")
    parser.add_argument("--quick", action="store_true", help="the seed inventory only, no hosts (a smoke run)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures to PATH")
    parser.add_argument("--profile", action="store_true",
                        help="every task's time in the runs' logs (ansible.posix.profile_tasks); slows the runs a little")
    parser.add_argument("--logs", type=Path, default=ROOT / "build" / "bench-deploy", metavar="DIR",
                        help="each run's output (default: build/bench-deploy)")
    args = parser.parse_args(argv)
    if args.quick:
        args.clusters, args.no_seed, args.no_hosts = [], False, True
    bad = [n for n in args.clusters if n < 1]
    if bad:
        parser.error(f"--clusters takes counts of at least 1, not {bad}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan: list[tuple[str, list[dict], dict | None]] = []
    if not args.no_seed:
        plan.append((SEED_LABEL, conftest.seed_clusters(), None))
    for count in args.clusters:
        plan.append((f"{count} clusters", *generated_clusters(count)))
    args.logs.mkdir(parents=True, exist_ok=True)
    rows, failures = [], []
    started = time.monotonic()
    for label, clusters, groups in plan:
        print(f"== {label}: {len(clusters)} IOMesh clusters", flush=True)
        try:
            rows.append(kubernetes_side(label, clusters, groups, args.logs, log=lambda m: print(m, flush=True),
                                        profile=args.profile))
        except (RunFailed, RuntimeError, subprocess.SubprocessError, OSError) as e:
            failures.append(f"{label}: {e}")
            print(f"  FAILED {e}", flush=True)
    hosts = {"skipped": "--no-hosts"} if args.no_hosts else None
    if not args.no_hosts:
        print("== hosts: iomesh_prereq on 6 podman hosts", flush=True)
        try:
            hosts = host_side(args.logs, log=lambda m: print(m, flush=True), profile=args.profile)
        except (RunFailed, RuntimeError, subprocess.SubprocessError, OSError) as e:
            failures.append(f"hosts: {e}")
            hosts = {"failed": f"failed: {e}"}
    print()
    print(f"{time.monotonic() - started:.0f} s in all")
    slope = slopes(rows)
    if plan:
        print("Kubernetes side (site.yml --skip-tags iomesh_prereq; w/o verify: also iomesh_verify,iomesh_report):")
        print(table(rows) if rows else "(no inventory completed)")
        print()
        names = {"rerun_s": "re-run s", "rerun_noverify_s": "re-run w/o verify s", "requests": "re-run requests"}
        print("Per added IOMesh cluster (least squares over the inventories): "
              + ", ".join(f"{names[key]} {'n/a' if value is None else f'{value:+.2f}'}" for key, value in slope.items()))
    if hosts is not None:
        if "rerun" in hosts:
            print(f"Host side (playbooks/prereq.yml, {hosts['hosts']} podman hosts): first run {hosts['first']:.1f} s, "
                  f"re-run {hosts['rerun']:.1f} s")
        else:
            print(f"Host side: {hosts.get('skipped') and 'skipped: ' + hosts['skipped'] or hosts.get('failed')}")
    targets = judge(rows, hosts)
    print()
    print("Targets (issue 14):")
    for target in targets:
        print(f"  {target.line()}")
    if failures:
        print()
        print("RUNS FAILED (the figures above leave them out):")
        for failure in failures:
            print(f"  {failure}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"kubernetes": rows, "slopes": slope, "hosts": hosts, "failures": failures,
                                         "targets": [t.__dict__ for t in targets]}, indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
