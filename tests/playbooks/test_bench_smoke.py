"""A smoke run of the benchmark (scripts/bench_deploy.py, `make bench-deploy`): one generated IOMesh cluster, no
hosts. It checks that the benchmark still runs end to end on the testbed and measures what it says it measures;
its figures are printed, never judged here (the targets are judged by `make bench-deploy` itself)."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT, VENV_BIN


def test_the_benchmark_runs_one_generated_cluster(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([str(VENV_BIN / "python"), str(ROOT / "scripts" / "bench_deploy.py"), "--no-seed",
                           "--clusters", "1", "--no-hosts", "--json", str(out), "--logs", str(tmp_path / "logs")],
                          cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    sys.stdout.write(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    figures = json.loads(out.read_text())
    assert figures["failures"] == []
    [row] = figures["kubernetes"]
    assert (row["label"], row["clusters"], row["nodes"]) == ("1 clusters", 1, 3)
    assert all(row[key] > 0 for key in ("first", "rerun", "rerun_noverify", "check", "floor"))
    # The floor covers what the first deploy made: the management cluster's CRs, CSI ConfigMap and StorageClass.
    assert row["floor_objects"] >= 4
    requests = row["requests"]
    assert requests["first"]["writes"] > 0
    # The re-runs change nothing (the benchmark itself fails a run that reports a change): no writes, reads counted.
    for key in ("rerun", "rerun_noverify", "check"):
        assert requests[key]["writes"] == 0 and requests[key]["reads"] > 0, (key, requests[key])
    assert requests["check"]["lock"] == 0
    # The table and the targets are printed.
    assert "re-run/floor" in proc.stdout and "Targets (issue 14):" in proc.stdout
