"""Make this checkout importable as ansible_collections.iomesh.multicluster, with or without `make setup`."""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _ensure_collection_importable() -> None:
    try:
        spec = importlib.util.find_spec("ansible_collections.iomesh.multicluster")
    except ModuleNotFoundError:
        spec = None
    if spec is not None:
        return
    base = Path(tempfile.mkdtemp(prefix="iomesh-coll-"))
    (base / "ansible_collections" / "iomesh").mkdir(parents=True)
    os.symlink(ROOT, base / "ansible_collections" / "iomesh" / "multicluster")
    sys.path.insert(0, str(base))


_ensure_collection_importable()
