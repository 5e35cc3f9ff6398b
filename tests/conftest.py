"""How pytest-xdist shares the suites out (make test: -n 2 --dist loadgroup --no-loadscope-reorder).

Every test module is one unit of work, so that a module-scoped testbed is deployed once, on one worker; the molecule
cases are units of their own, in the order of testpaths (the longest first), so the long scenarios start at once on
both workers instead of queueing behind each other at the end.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is None and not item.nodeid.startswith("tests/molecule/"):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
