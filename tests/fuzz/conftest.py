"""The fuzz tier (issue 11 item 4): bad input across the public API, profiles, bench files
and the CLI, each case judged by `harness.referee`; the figures are printed at the end.

``tox -e fuzz`` sets ``PIHIL_FUZZ=full`` (at least 5,000 cases); without it each fuzzer
runs a tenth of its cases, so the tier fits in the normal test run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import FULL, TALLY, memory_guard


@pytest.fixture(autouse=True)
def _bounded_memory() -> Iterator[None]:
    """A runaway allocation in a case becomes a MemoryError (a finding), not a dead machine."""
    with memory_guard():
        yield


@pytest.fixture(autouse=True)
def _clean_pihil_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cases must not inherit the caller's PIHIL_* choices (the CLI fuzzer sets its own)."""
    for name in (
        "PIHIL_TARGET",
        "PIHIL_BOARD",
        "PIHIL_BENCH",
        "PIHIL_VCD",
        "PIHIL_SEED",
        "PIHIL_REPORT_DIR",
    ):
        monkeypatch.delenv(name, raising=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures: cases tried, clean refusals, tracebacks, silent acceptances, hangs."""
    if not TALLY.areas:
        return
    budget = "full budget (PIHIL_FUZZ=full)" if FULL else "quick budget (PIHIL_FUZZ=full for all)"
    terminalreporter.section(f"pihil fuzz figures, {budget}")
    for line in TALLY.lines():
        terminalreporter.write_line(line)
