"""The fake API client of kubernetes.core (fake_k8s), for the tests of the plugins that read with it."""

from __future__ import annotations

from ..fake_k8s import fake_api  # noqa: F401  pylint: disable=unused-import
