"""``time``, ``threading`` and ``queue`` on the userspace's simulated clock.

Each replacement asks the active clock whether the calling thread is one it runs;
other threads (pytest's, a watchdog started before the userspace) get the original.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from ..world.clock import NS_PER_S
from .clock import (
    ORIGINAL_CONDITION_WAIT,
    ORIGINAL_MONOTONIC,
    ORIGINAL_PERF_COUNTER,
    ORIGINAL_SLEEP,
    ORIGINAL_THREAD_JOIN,
    ORIGINAL_THREAD_START,
    ORIGINAL_TIME,
    SimClock,
)
from .patches import Patches

ORIGINAL_MONOTONIC_NS = time.monotonic_ns
ORIGINAL_PERF_COUNTER_NS = time.perf_counter_ns
ORIGINAL_TIME_NS = time.time_ns

_clock: SimClock | None = None


def active_clock() -> SimClock | None:
    """The clock of the calling thread, when it runs on simulated time."""
    clock = _clock
    if clock is not None and clock.registered():
        return clock
    return None


def _seconds_to_ns(seconds: Any, what: str) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        try:
            seconds = float(seconds)
        except (TypeError, ValueError):
            raise TypeError(
                f"'{type(seconds).__name__}' object cannot be interpreted as an integer or float"
            ) from None
    if seconds != seconds:
        raise ValueError("Invalid value NaN (not a number)")
    if seconds < 0:
        raise ValueError(f"{what} length must be non-negative")
    value: float = seconds
    return round(value * NS_PER_S)


def sleep(seconds: float) -> None:
    clock = active_clock()
    if clock is None:
        return ORIGINAL_SLEEP(seconds)
    clock.sleep_ns(_seconds_to_ns(seconds, "sleep"))
    return None


def monotonic() -> float:
    clock = active_clock()
    if clock is None:
        return ORIGINAL_MONOTONIC()
    return clock.monotonic_base_s + clock.elapsed_ns() / NS_PER_S


def monotonic_ns() -> int:
    clock = active_clock()
    if clock is None:
        return int(ORIGINAL_MONOTONIC_NS())
    return int(clock.monotonic_base_s) * NS_PER_S + clock.elapsed_ns()


def perf_counter() -> float:
    clock = active_clock()
    if clock is None:
        return ORIGINAL_PERF_COUNTER()
    return clock.monotonic_base_s + clock.elapsed_ns() / NS_PER_S


def perf_counter_ns() -> int:
    clock = active_clock()
    if clock is None:
        return ORIGINAL_PERF_COUNTER_NS()
    return int(clock.monotonic_base_s) * NS_PER_S + clock.elapsed_ns()


def time_() -> float:
    clock = active_clock()
    if clock is None:
        return ORIGINAL_TIME()
    return clock.epoch_s + clock.elapsed_ns() / NS_PER_S


def time_ns() -> int:
    clock = active_clock()
    if clock is None:
        return ORIGINAL_TIME_NS()
    return int(clock.epoch_s) * NS_PER_S + clock.elapsed_ns()


def condition_wait(self: threading.Condition, timeout: float | None = None) -> bool:
    """``Condition.wait`` (and so Event, Queue, Semaphore, Barrier) with a simulated timeout."""
    clock = active_clock()
    if clock is None:
        return ORIGINAL_CONDITION_WAIT(self, timeout)
    if not self._is_owned():  # type: ignore[attr-defined]
        raise RuntimeError("cannot wait on un-acquired lock")
    waiter = threading._allocate_lock()  # type: ignore[attr-defined]
    waiter.acquire()
    self._waiters.append(waiter)  # type: ignore[attr-defined]
    saved = self._release_save()  # type: ignore[attr-defined]
    got = [False]

    def notified() -> bool:
        if not got[0]:
            got[0] = waiter.acquire(False)
        return got[0]

    deadline = None
    if timeout is not None:
        deadline = clock.now_ns + round(max(0.0, float(timeout)) * NS_PER_S)
    try:
        clock.block(deadline, notified)
        return got[0]
    finally:
        self._acquire_restore(saved)  # type: ignore[attr-defined]
        if not got[0]:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)  # type: ignore[attr-defined]


def thread_start(self: threading.Thread) -> None:
    """A thread started by a registered thread is registered too, and waits for its turn."""
    clock = active_clock()
    if clock is not None:
        clock.adopt(self)
    ORIGINAL_THREAD_START(self)  # its Event.wait runs on the original: the new thread sets it


def thread_join(self: threading.Thread, timeout: float | None = None) -> None:
    clock = active_clock()
    if clock is None or not hasattr(self, "_pihil_turn"):
        return ORIGINAL_THREAD_JOIN(self, timeout)
    turn = self._pihil_turn
    deadline = None
    if timeout is not None:
        deadline = clock.now_ns + round(max(0.0, float(timeout)) * NS_PER_S)
    if clock.block(deadline, lambda: bool(turn.finished)):
        ORIGINAL_THREAD_JOIN(self)  # its last instructions, in wall time
    return None


def time_patches() -> Patches:
    """Every replacement of this module, ready to apply."""
    patches = Patches()
    patches.add_many(
        time,
        [
            ("sleep", sleep),
            ("monotonic", monotonic),
            ("monotonic_ns", monotonic_ns),
            ("perf_counter", perf_counter),
            ("perf_counter_ns", perf_counter_ns),
            ("time", time_),
            ("time_ns", time_ns),
        ],
    )
    patches.add(threading.Condition, "wait", condition_wait)
    patches.add(threading.Thread, "start", thread_start)
    patches.add(threading.Thread, "join", thread_join)
    # threading and queue bound time.monotonic at import (``from time import monotonic as
    # _time``): the module scan of `Patches.apply` rebinds those
    return patches


def set_clock(clock: SimClock | None) -> None:
    global _clock
    _clock = clock
