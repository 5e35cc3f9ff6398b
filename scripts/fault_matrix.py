"""Run the fault-injection matrix (tests/faults/scenarios.py) one scenario at a time and print the table
fault x stage -> outcome; also written to build/fault-table.md. `make faults`.

FAULTS=all runs every cell; FAULTS=id,id,... the named ones (e.g. kill-helm@iomesh_mgmt,api500@iomesh_cluster);
unset: the reduced matrix scenarios.DEFAULT_IDS (a full run of every cell takes well over an hour on 2 cores).
Exit status 1 when a cell did not recover (marked KNOWN FAILURE in the table).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / ".venv" / "collections")]

from faults import scenarios  # noqa: E402


def main() -> int:
    wanted = os.environ.get("FAULTS", "").strip()
    ids = None if wanted == "all" else (wanted.split(",") if wanted else scenarios.DEFAULT_IDS)
    chosen = scenarios.select(ids)
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    started = time.monotonic()
    print(f"{len(chosen)} scenario(s): {', '.join(s.id for s in chosen)}", flush=True)
    ref = scenarios.reference(tuple(scenarios.ALL_STAGES), build, log=lambda m: print(m, flush=True))
    outcomes = []
    for sc in chosen:
        print(f"== {sc.id}: {sc.how}", flush=True)
        outcome = scenarios.run_scenario(sc, ref, log=lambda m: print(m, flush=True))
        print(f"   -> {outcome.cell()} ({outcome.seconds:.0f} s)", flush=True)
        outcomes.append(outcome)
        # The table so far, so that an interrupted run leaves what it got.
        (build / "fault-table.md").write_text(scenarios.table(outcomes, time.monotonic() - started, _note(ids)))
    text = scenarios.table(outcomes, time.monotonic() - started, _note(ids))
    (build / "fault-table.md").write_text(text)
    print()
    print(text)
    return 0 if all(o.ok for o in outcomes) else 1


def _note(ids) -> str:
    if ids is None:
        return "Every cell of the matrix."
    if ids == scenarios.DEFAULT_IDS:
        return ("The reduced matrix (the stage boundaries that matter; `FAULTS=all make faults` runs every cell: "
                f"{len(scenarios.matrix())} scenarios).")
    return f"Chosen cells: {', '.join(ids)}."


if __name__ == "__main__":
    sys.exit(main())
