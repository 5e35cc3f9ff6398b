"""Runtime settings: sections of the testbed config a plugin reads while the emulator runs (e.g. the twin's
`iomeshTwin`), changed by tests through the control surface (`/_testbed/settings/<section>`, control.py).

A section's value is the start config's section with the runtime overrides merged over it key by key; an
override of None removes it (the start config's value is back). The keys kubeemu itself reads at start (nodes,
pods, ...) cannot change at runtime: they are refused rather than silently ignored."""

from __future__ import annotations

import copy
import re
import threading
from typing import Any, Callable

START_ONLY = ("serverVersion", "nodes", "pvc", "pods", "objects", "faults")
SECTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class SettingsError(ValueError):
    """A section that cannot change at runtime, or a value that is not a mapping."""


class RuntimeSettings:
    """Thread-safe; `listeners` are called with the section's name after every change (outside the lock)."""

    def __init__(self, config: dict):
        self._config = config
        self._overrides: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.listeners: list[Callable[[str], None]] = []

    @staticmethod
    def check(section: str) -> None:
        if not SECTION_NAME.match(section or ""):
            raise SettingsError(f"not a settings section: {section!r}")
        if section in START_ONLY:
            raise SettingsError(f"{section} is read when the emulator starts; it cannot change at runtime")

    def get(self, section: str) -> dict[str, Any]:
        """The section as plugins see it now (a copy)."""
        with self._lock:
            base = self._config.get(section)
            merged = dict(base) if isinstance(base, dict) else {}
            merged.update(self._overrides.get(section) or {})
            return copy.deepcopy(merged)

    def overrides(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy({k: v for k, v in self._overrides.items() if v})

    def patch(self, section: str, values: Any) -> dict[str, Any]:
        """Merge `values` into the section's overrides (None removes one); returns the section."""
        self.check(section)
        if not isinstance(values, dict):
            raise SettingsError(f"settings of {section} are a mapping, got {values!r}")
        with self._lock:
            current = self._overrides.setdefault(section, {})
            for key, value in values.items():
                if value is None:
                    current.pop(key, None)
                else:
                    current[key] = copy.deepcopy(value)
        self._changed(section)
        return self.get(section)

    def reset(self, section: str) -> dict[str, Any]:
        """Drop every runtime override of the section; returns it as the start config has it."""
        self.check(section)
        with self._lock:
            self._overrides.pop(section, None)
        self._changed(section)
        return self.get(section)

    def _changed(self, section: str) -> None:
        for listener in list(self.listeners):
            listener(section)
