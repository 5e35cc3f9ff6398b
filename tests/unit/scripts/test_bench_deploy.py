"""The pure parts of scripts/bench_deploy.py (make bench-deploy): generated inventories, request counts, the slope and
the judgement of issue 14's targets. No testbed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f

ROOT = Path(__file__).resolve().parents[3]


def _load():
    spec = importlib.util.spec_from_file_location("bench_deploy", ROOT / "scripts" / "bench_deploy.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_deploy"] = module
    spec.loader.exec_module(module)
    return module


bench = _load()


def test_three_generated_clusters_vary_names_and_namespaces():
    clusters, groups = bench.generated_clusters(3)
    assert clusters == [
        {"name": "blk-mgmt", "namespace": "storage-mgmt", "management": True, "hosts_group": "bench_c0_nodes",
         "data_cidr": "10.234.1.0/24", "disk_deployment_mode": "hybridFlash", "storage_class": {"name": "blk-mgmt-sc"}},
        {"name": "blk-1", "hosts_group": "bench_c1_nodes", "data_cidr": "10.234.1.0/24",
         "disk_deployment_mode": "hybridFlash", "storage_class": {"name": "blk-1-sc"}},
        {"name": "blk-2", "namespace": "tier-2", "hosts_group": "bench_c2_nodes", "data_cidr": "10.234.1.0/24",
         "disk_deployment_mode": "hybridFlash", "storage_class": {"name": "blk-2-sc"}},
    ]
    assert groups == {
        "bench_c0_nodes": ["bench-c0-node-0", "bench-c0-node-1", "bench-c0-node-2"],
        "bench_c1_nodes": ["bench-c1-node-0", "bench-c1-node-1", "bench-c1-node-2"],
        "bench_c2_nodes": ["bench-c2-node-0", "bench-c2-node-1", "bench-c2-node-2"],
    }
    assert bench.cluster_namespaces(clusters) == ["storage-mgmt", "blk-1", "tier-2"]


def test_host_side_clusters_take_their_prefix_and_subnet():
    clusters, groups = bench.generated_clusters(2, data_cidr="10.234.199.0/24", prefix="bench-host")
    assert [c["data_cidr"] for c in clusters] == ["10.234.199.0/24", "10.234.199.0/24"]
    assert list(groups) == ["bench_host_c0_nodes", "bench_host_c1_nodes"]
    assert [h for hosts in groups.values() for h in hosts] == [
        "bench-host-c0-node-0", "bench-host-c0-node-1", "bench-host-c0-node-2",
        "bench-host-c1-node-0", "bench-host-c1-node-1", "bench-host-c1-node-2"]


def test_no_clusters_is_refused():
    with pytest.raises(ValueError, match="at least one IOMesh cluster, not 0"):
        bench.generated_clusters(0)


def test_default_namespaces_follow_the_contract():
    assert bench.cluster_namespaces([{"name": "a", "management": True}, {"name": "b"}, {"name": "c", "namespace": "x"}]) \
        == ["iomesh-system", "b", "x"]


@pytest.mark.parametrize("count", [1, 2, 8])
def test_generated_inventory_passes_the_collections_own_checks(count):
    clusters, groups = bench.generated_clusters(count)
    hostvars = {h: {"ansible_host": f"10.234.1.{10 + i}"}
                for i, h in enumerate(h for hosts in groups.values() for h in hosts)}
    data = bench.inventory(clusters, groups, hostvars)
    all_groups = {g: list(v["hosts"]) for g, v in data["all"]["children"].items()}
    all_hostvars = {h: hv for v in data["all"]["children"].values() for h, hv in v["hosts"].items()}
    topology = f.iomesh_topology(data["all"]["vars"]["iomesh_clusters"], all_groups, all_hostvars, {})
    assert len(topology) == count
    assert sum(len(c["nodes"]) for c in topology) == 3 * count
    assert topology[0]["name"] == "blk-mgmt"


def test_inventory_gives_each_host_its_own_variables():
    data = bench.inventory([{"name": "a"}], {"g1": ["h1", "h2"]}, {"h1": {"ansible_host": "10.0.0.1"}})
    assert data == {"all": {"vars": {"iomesh_clusters": [{"name": "a"}]},
                            "children": {"g1": {"hosts": {"h1": {"ansible_host": "10.0.0.1"}, "h2": {}}}}}}


def test_node_hostvars_keep_address_and_disks_only():
    testbed_hosts = {"n1": {"iomesh_node_name": "n1", "ansible_host": "10.234.1.10",
                            "iomesh_disks": [{"serial": "S1", "mount_type": "dataStore"}]}}
    assert bench.node_hostvars(testbed_hosts) == {
        "n1": {"ansible_host": "10.234.1.10", "iomesh_disks": [{"serial": "S1", "mount_type": "dataStore"}]}}


def test_requests_are_counted_as_reads_writes_dry_runs_and_lock():
    entries = [
        {"method": "GET", "path": "/api/v1/namespaces/blk/configmaps/x"},
        {"method": "GET", "path": "/apis/coordination.k8s.io/v1/namespaces/blk/leases/iomesh-multicluster-lock"},
        {"method": "POST", "path": "/apis/coordination.k8s.io/v1/namespaces/blk/leases"},
        {"method": "PUT", "path": "/apis/coordination.k8s.io/v1/namespaces/blk/leases/iomesh-multicluster-lock"},
        {"method": "DELETE", "path": "/apis/coordination.k8s.io/v1/namespaces/blk/leases/iomesh-multicluster-lock"},
        {"method": "PATCH", "path": "/apis/iomesh.com/v1alpha1/namespaces/blk/iomeshclusters/blk"},
        {"method": "PUT", "path": "/apis/coordination.k8s.io/v1/namespaces/blk/leases/someone-else"},
        # iomesh_dry_run's server-side applies store nothing.
        {"method": "PATCH", "path": "/apis/iomesh.com/v1alpha1/namespaces/blk/iomeshclusters/blk",
         "query": "fieldManager=iomesh-multicluster&force=True&dryRun=All"},
        {"method": "PATCH", "path": "/api/v1/namespaces/blk/configmaps/blk-csi", "query": "dryRun=All"},
        {"method": "PATCH", "path": "/api/v1/namespaces/blk/configmaps/blk-csi", "query": "fieldManager=x"},
    ]
    assert bench.count_requests(entries) == {"reads": 2, "writes": 3, "dry_runs": 2, "lock": 3}


def test_item_paths_of_writes_by_name():
    assert bench.item_path({"method": "PATCH", "path": "/api/v1/namespaces/a/configmaps/b"}) == \
        "/api/v1/namespaces/a/configmaps/b"
    assert bench.item_path({"method": "PUT", "path": "/apis/iomesh.com/v1alpha1/namespaces/a/iomeshclusters/c/status"}) \
        == "/apis/iomesh.com/v1alpha1/namespaces/a/iomeshclusters/c"
    assert bench.item_path({"method": "POST", "path": "/api/v1/namespaces"}) is None
    assert bench.item_path({"method": "DELETE", "path": "/api/v1/namespaces/a"}) is None


def test_least_squares():
    assert bench.least_squares([2, 4, 8], [10, 13, 19]) == pytest.approx((1.5, 7.0))
    assert bench.least_squares([1, 2, 3], [2, 4, 6]) == pytest.approx((2.0, 0.0))
    assert bench.least_squares([2, 2], [10, 30]) is None
    with pytest.raises(ValueError):
        bench.least_squares([1, 2], [1])


def test_linearity():
    assert bench.linear([2, 4, 8], [200, 400, 800]) is True
    assert bench.linear([2, 4, 8], [210, 400, 790]) is True
    # Quadratic growth: 23 % off the line at 2 clusters.
    assert bench.linear([2, 4, 8], [300, 700, 1900]) is False
    assert bench.linear([2, 4], [300, 700]) is None


def _row(label, clusters, rerun, check, floor=0.5, reads=100, writes=0, noverify=None, dry_runs=None):
    counts = {"reads": reads, "writes": writes, "lock": 4, **({} if dry_runs is None else {"dry_runs": dry_runs})}
    return {"label": label, "clusters": clusters, "first": 100.0, "rerun": rerun,
            "rerun_noverify": rerun / 2 if noverify is None else noverify, "check": check, "floor": floor,
            "requests": {"rerun": counts}}


def test_targets_all_met():
    rows = [_row("seed", 2, 12.0, 11.0, floor=0.5, reads=200), _row("2 clusters", 2, 12.0, 10.0, reads=200),
            _row("4 clusters", 4, 14.0, 10.0, reads=400), _row("8 clusters", 8, 20.0, 15.0, reads=800)]
    lines = [t.line() for t in bench.judge(rows, {"hosts": 6, "first": 90.0, "rerun": 18.0})]
    assert lines == [
        "PASS  seed no-change re-run <= 15 s: 12.0 s",
        "PASS  seed re-run <= 25x the floor: 24.0x (floor 0.50 s)",
        "PASS  each added IOMesh cluster adds <= 1.5 s to the re-run: +1.33 s per cluster",
        "PASS  8 clusters: re-run <= 25 s: 20.0 s",
        "PASS  re-run requests grow linearly with the clusters: +100 per added cluster; "
        "per cluster: seed 100, 2 clusters 100, 4 clusters 100, 8 clusters 100",
        "PASS  --check on a converged deployment no slower than the re-run: "
        "seed 11.0 s vs 12.0 s, 2 clusters 10.0 s vs 12.0 s, 4 clusters 10.0 s vs 14.0 s, 8 clusters 15.0 s vs 20.0 s",
        "PASS  iomesh_prereq re-run on 6 hosts <= 20 s: 18.0 s",
    ]


def test_todays_figures_miss():
    rows = [_row("seed", 2, 68.0, 70.0, floor=0.4, reads=600), _row("4 clusters", 4, 140.0, 100.0, reads=1400),
            _row("8 clusters", 8, 290.0, 200.0, reads=3800)]
    verdicts = [(t.what, t.passed) for t in bench.judge(rows, {"hosts": 6, "first": 90.0, "rerun": 20.5})]
    assert verdicts == [
        ("seed no-change re-run <= 15 s", False),
        ("seed re-run <= 25x the floor", False),
        ("each added IOMesh cluster adds <= 1.5 s to the re-run", False),
        ("8 clusters: re-run <= 25 s", False),
        ("re-run requests grow linearly with the clusters", False),
        ("--check on a converged deployment no slower than the re-run", False),
        ("iomesh_prereq re-run on 6 hosts <= 20 s", False),
    ]


def test_a_seed_only_run_judges_what_it_measured():
    targets = bench.judge([_row("seed", 2, 14.0, 15.0, floor=0.4, reads=300)], {"skipped": "no podman"})
    assert [t.line() for t in targets] == [
        "PASS  seed no-change re-run <= 15 s: 14.0 s",
        "MISS  seed re-run <= 25x the floor: 35.0x (floor 0.40 s)",
        "n/a   each added IOMesh cluster adds <= 1.5 s to the re-run: not measured (needs two cluster counts)",
        "n/a   8 clusters: re-run <= 25 s: not measured",
        "n/a   re-run requests grow linearly with the clusters: per cluster: seed 150 "
        "(linearity needs three cluster counts)",
        "MISS  --check on a converged deployment no slower than the re-run: seed 15.0 s vs 14.0 s",
        "n/a   iomesh_prereq re-run on 6 hosts <= 20 s: no podman",
    ]


def test_slopes_per_added_cluster():
    rows = [_row("2 clusters", 2, 10.0, 5.0, reads=300, writes=10, noverify=6.0),
            _row("4 clusters", 4, 13.0, 5.0, reads=500, writes=20, noverify=7.0),
            _row("8 clusters", 8, 19.0, 5.0, reads=900, writes=40, noverify=9.0)]
    assert bench.slopes(rows) == pytest.approx({"rerun_s": 1.5, "rerun_noverify_s": 0.5, "requests": 105.0})
    assert bench.slopes(rows[:1]) == {"rerun_s": None, "rerun_noverify_s": None, "requests": None}


def test_table():
    text = bench.table([_row("seed", 2, 68.0, 30.0, floor=0.4, reads=612, writes=3)])
    assert text.splitlines() == [
        "inventory  clusters  first s  re-run s  w/o verify s  --check s  re-run requests r/w/dry (+lock)  floor s  re-run/floor",
        "---------  --------  -------  --------  ------------  ---------  -------------------------------  -------  ------------",
        "seed              2    100.0      68.0          34.0       30.0                     612/3/0 (+4)     0.40        170.0x",
    ]


def test_dry_runs_count_as_requests_and_show_in_the_table():
    rows = [_row("2 clusters", 2, 20.0, 15.0, reads=90, writes=0, dry_runs=10),
            _row("4 clusters", 4, 22.0, 16.0, reads=150, writes=0, dry_runs=20)]
    assert bench.slopes(rows)["requests"] == pytest.approx(35.0)
    assert bench.table(rows).splitlines()[2].split()[-4:-2] == ["90/0/10", "(+4)"]


def test_quick_is_the_seed_without_hosts():
    args = bench.parse_args(["--quick"])
    assert (args.clusters, args.no_seed, args.no_hosts) == ([], False, True)
    args = bench.parse_args([])
    assert (args.clusters, args.no_seed, args.no_hosts) == ([2, 4, 8], False, False)
    with pytest.raises(SystemExit):
        bench.parse_args(["--clusters", "0"])


def test_a_hosts_only_run_judges_the_hosts_alone():
    targets = bench.judge([], {"hosts": 6, "first": 500.0, "rerun": 19.5})
    assert [t.line() for t in targets] == [
        "n/a   seed no-change re-run <= 15 s: not measured",
        "n/a   seed re-run <= 25x the floor: not measured",
        "n/a   each added IOMesh cluster adds <= 1.5 s to the re-run: not measured (needs two cluster counts)",
        "n/a   8 clusters: re-run <= 25 s: not measured",
        "n/a   re-run requests grow linearly with the clusters: not measured",
        "n/a   --check on a converged deployment no slower than the re-run: not measured",
        "PASS  iomesh_prereq re-run on 6 hosts <= 20 s: 19.5 s",
    ]
