"""Make this checkout importable as ansible_collections.iomesh.multicluster, with or without `make setup`."""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _ensure_collection_importable() -> None:
    # After `make setup`: this checkout and kubernetes.core (whose API client the actions use), as Ansible finds them.
    venv_collections = ROOT / ".venv" / "collections"
    if (venv_collections / "ansible_collections" / "kubernetes").is_dir() and str(venv_collections) not in sys.path:
        sys.path.insert(0, str(venv_collections))
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
