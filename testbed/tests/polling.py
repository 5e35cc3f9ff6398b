"""The one poll loop of the testbed tests (conftest's Emulator.wait_for and twin_helpers.wait)."""

from __future__ import annotations

import time
from typing import Any, Callable


def poll(predicate: Callable[[], Any], timeout: float, interval: float, what: str = "") -> Any:
    """Call `predicate` every `interval` seconds until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate} (last: {last!r})")
