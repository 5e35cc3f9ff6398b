"""The fault-injection suite. The checkout is importable as ansible_collections.iomesh.multicluster (make setup links
it under .venv/collections), also when this package is collected alone."""

import sys
from pathlib import Path

_COLLECTIONS = str(Path(__file__).resolve().parents[2] / ".venv" / "collections")
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)
