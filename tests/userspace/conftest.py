"""The docs examples of the userspace run in pytest inside pytest with ``pytester``.

``pytest_plugins`` may not be set in a conftest below the rootdir (pytest refuses it), so
the pytester plugin is registered here when this folder is collected.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Enable the ``pytester`` fixture for these tests."""
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


@pytest.fixture(autouse=True)
def _clean_pihil_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs must not inherit the caller's PIHIL_* or Hypothesis choices."""
    for name in (
        "PIHIL_TARGET",
        "PIHIL_BOARD",
        "PIHIL_BENCH",
        "PIHIL_VCD",
        "PIHIL_SEED",
        "PIHIL_REPORT_DIR",
        "HYPOTHESIS_PROFILE",
        "CI",
    ):
        monkeypatch.delenv(name, raising=False)
