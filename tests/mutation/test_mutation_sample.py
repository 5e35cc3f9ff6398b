"""The mutation sample of the test command: scripts/mutation.py --sample fails when the sampled file's score drops.

The full run over plugins/plugin_utils and the read, wait and helm actions is `make mutation`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mutation_score_of_the_sample_holds() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts/mutation.py"), "--sample"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout}\n{run.stderr}"
    assert "plugins/plugin_utils/names.py" in run.stdout
