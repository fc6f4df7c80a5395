"""The fuzz tier's referee: run one bad input, classify what came back, count it.

Every case a fuzzer feeds is nonsense by construction (a wrong type, a value out of
range, a malformed file), so there are exactly four outcomes (issue 11 item 4):

- ``ok``: the entry raised one of its documented error types (`PihilError` for the
  driver, `ProfileError` for profiles, `BenchFileError`/`BenchError` for bench files, a
  usage message and a non-zero exit for the CLI) with a message that says something;
- ``traceback``: any other exception (``TypeError``, ``KeyError``... from inside pihil);
- ``silent``: the entry returned normally, accepting the nonsense;
- ``hang``: the case ran past its wall-clock guard (``CASE_TIMEOUT_S``, generous: a normal
  case takes milliseconds, so the guard cannot make a run flaky).

The guard is ``SIGALRM`` (pure-Python loops are interrupted) plus an address-space limit
during fuzzing (a C loop that allocates without end, ``set(range(10**12))``, becomes a
``MemoryError``, counted as a traceback, instead of taking the machine down).

The budget: ``PIHIL_FUZZ=full`` (``tox -e fuzz``) runs the full number of cases per
fuzzer; otherwise a tenth, so the tier also runs inside the normal ``tox`` in seconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Any

from hypothesis import HealthCheck, settings

CASE_TIMEOUT_S = 20.0
"""A case running longer than this is a hang (normal cases take milliseconds)."""
FULL = os.environ.get("PIHIL_FUZZ", "").strip().lower() == "full"
MEMORY_HEADROOM = 2 << 30
"""Address space a fuzz case may add before an allocation fails (a runaway becomes MemoryError)."""
PIHIL_PACKAGES = ("rpiboard_pihil", "pihil_emulator", "pytest_pihil")
SHOW = os.environ.get("PIHIL_FUZZ_SHOW", "").strip() not in ("", "0")
SAMPLES = 6 if SHOW else 0


def budget(full: int) -> int:
    """How many cases a fuzzer tries: ``full`` under ``PIHIL_FUZZ=full``, else a tenth."""
    return full if FULL else max(20, full // 10)


def fuzz_settings(full: int) -> settings:
    """The settings of every fuzzer: `budget` cases, the same ones each run (derandomised,
    no example database), no deadline, no health check (the inputs are meant to be bad)."""
    return settings(
        max_examples=budget(full),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


class CaseTimeout(BaseException):
    """Raised into a case that ran past its guard (a BaseException: nothing swallows it)."""


@dataclass
class Finding:
    """One failing outcome, with what is needed to reproduce and fix it."""

    area: str
    kind: str
    entry: str
    case: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.area}] {self.kind}: {self.entry} <- {self.case}\n      {self.detail}"


@dataclass
class AreaTally:
    tried: int = 0
    ok: int = 0
    traceback: int = 0
    silent: int = 0
    hang: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    samples: dict[str, list[str]] = field(default_factory=dict)
    """A few clean refusals per entry (case and message), shown with ``PIHIL_FUZZ_SHOW=1``."""

    @property
    def failures(self) -> int:
        return self.traceback + self.silent + self.hang


@dataclass
class Tally:
    """Counts per area (driver, simulation, profiles, bench, cli), printed at the end."""

    areas: dict[str, AreaTally] = field(default_factory=dict)

    def area(self, name: str) -> AreaTally:
        return self.areas.setdefault(name, AreaTally())

    def lines(self) -> list[str]:
        head = f"{'area':<12} {'tried':>6} {'ok':>6} {'traceback':>9} {'silent':>6} {'hang':>5}"
        out = [head, "-" * len(head)]
        total = AreaTally()
        for name, a in self.areas.items():
            out.append(
                f"{name:<12} {a.tried:>6} {a.ok:>6} {a.traceback:>9} {a.silent:>6} {a.hang:>5}"
                f"   ({a.seconds:.1f} s)"
            )
            for attr in ("tried", "ok", "traceback", "silent", "hang", "seconds"):
                setattr(total, attr, getattr(total, attr) + getattr(a, attr))
        if SHOW:
            for name, a in self.areas.items():
                for entry, shown in a.samples.items():
                    out.append(f"[{name}] {entry}")
                    out.extend(f"    {line}" for line in shown)
        out.append(
            f"{'total':<12} {total.tried:>6} {total.ok:>6} {total.traceback:>9} "
            f"{total.silent:>6} {total.hang:>5}   ({total.seconds:.1f} s)"
        )
        return out


TALLY = Tally()
"""The run's figures (the fuzz conftest prints them in the terminal summary)."""


def _where(tb: TracebackType | None) -> str:
    """The innermost frame inside pihil's packages (where the traceback came from)."""
    frames = traceback.extract_tb(tb)
    inside = [f for f in frames if any(f"/{p}/" in f.filename for p in PIHIL_PACKAGES)]
    frame = (inside or frames or [None])[-1]
    if frame is None:
        return "?"
    path = frame.filename
    for p in PIHIL_PACKAGES:
        if f"/{p}/" in path:
            path = p + path.split(f"/{p}", 1)[1]
    return f"{path}:{frame.lineno} in {frame.name}"


def short(value: object, limit: int = 120) -> str:
    """A repr of a case that fits on a line."""
    try:
        text = repr(value)
    except Exception as exc:  # a value whose repr fails is still a case
        text = f"<unreprable {type(value).__name__}: {exc}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextlib.contextmanager
def wall_guard(seconds: float = CASE_TIMEOUT_S) -> Iterator[None]:
    """Raise `CaseTimeout` into the block if it runs longer than ``seconds`` (main thread)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise CaseTimeout(f"ran longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def memory_guard(headroom: int = MEMORY_HEADROOM) -> Iterator[None]:
    """Cap the address space at what the process uses now plus ``headroom`` (Linux)."""
    try:
        import resource

        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = used + headroom
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def says_something(message: str) -> bool:
    """A message that can name what was wrong: more than a bare value or a word."""
    text = message.strip()
    return len(text) >= 15 and " " in text


def referee(
    area: str,
    entry: str,
    case: object,
    run: Callable[[], Any],
    accepted: tuple[type[BaseException], ...],
    *,
    message_of: Callable[[BaseException], str] = str,
    returned: Callable[[Any], str | None] | None = None,
) -> str:
    """Run one case and count its outcome; returns ``ok``, ``traceback``, ``silent`` or ``hang``.

    ``returned``, when given, judges a normal return: None means it was a clean refusal
    (a CLI's non-zero exit with a message), a string is why it is a silent acceptance.
    """
    tally = TALLY.area(area)
    tally.tried += 1
    start = time.perf_counter()
    kind, detail = "ok", ""
    try:
        with wall_guard():
            result = run()
    except CaseTimeout as exc:
        kind, detail = "hang", str(exc)
    except accepted as exc:
        message = message_of(exc)
        shown = tally.samples.setdefault(entry, [])
        if len(shown) < SAMPLES:
            shown.append(
                f"{short(case, 100)}\n        -> {type(exc).__name__}: {short(message, 300)}"
            )
        if not says_something(message):
            kind = "traceback"
            detail = f"{type(exc).__name__} with an empty or bare message: {message!r}"
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # the point: anything else is a finding
        kind = "traceback"
        detail = f"{type(exc).__name__}: {short(str(exc), 200)} at {_where(exc.__traceback__)}"
    else:
        why = "returned normally" if returned is None else returned(result)
        if why is not None:
            kind, detail = "silent", f"{why}: {short(result)}"
        else:
            shown = tally.samples.setdefault(entry, [])
            if len(shown) < SAMPLES:
                shown.append(f"{short(case, 100)}\n        -> {short(result, 300)}")
    finally:
        tally.seconds += time.perf_counter() - start
    if kind == "ok":
        tally.ok += 1
    else:
        setattr(tally, kind, getattr(tally, kind) + 1)
        tally.findings.append(Finding(area, kind, entry, short(case), detail))
    return kind


def report(area: str, limit: int = 25) -> str:
    """The findings of one area, distinct by entry and detail, for an assertion message."""
    seen: dict[tuple[str, str, str], Finding] = {}
    for f in TALLY.area(area).findings:
        seen.setdefault((f.kind, f.entry, f.detail.split(":")[0]), f)
    shown = list(seen.values())[:limit]
    a = TALLY.area(area)
    head = (
        f"{area}: {a.tried} cases, {a.traceback} tracebacks, {a.silent} silent, {a.hang} hangs "
        f"({len(seen)} distinct)"
    )
    return "\n".join([head, *(f"  {f}" for f in shown)])


def check(area: str) -> None:
    """Fail the test when the area has any traceback, silent acceptance or hang, listing them."""
    if TALLY.area(area).failures:
        import pytest

        pytest.fail(report(area), pytrace=False)
