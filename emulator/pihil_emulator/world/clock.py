"""Simulated time: one SimPy environment per board, in integer nanoseconds.

Time advances only while somebody waits (a driver call running a
transaction, ``run_for``), so background processes such as an RTC tick cost
nothing while nobody looks. The same seed gives the same run.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Generator
from typing import Any

import simpy
from simpy.core import StopSimulation

from .scheduler import Scheduler

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
NS_PER_US = 1_000

ProcessGenerator = Generator[simpy.Event, Any, Any]


def seconds_to_ns(seconds: float) -> int:
    """Round a duration in seconds to whole nanoseconds (negative is refused)."""
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {seconds} s")
    return round(seconds * NS_PER_S)


class World:
    """The simulated world of one board: its SimPy environment, clock and random source."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.env = Scheduler()
        """The SimPy environment (world/scheduler.py: its clock and queue in the open)."""
        self.random = random.Random(seed)

    @property
    def now_ns(self) -> int:
        """Simulated time in integer nanoseconds."""
        return self.env.time_ns

    def advance_if_idle(self, end_ns: int) -> bool:
        """`Scheduler.advance_if_idle`: the clock to ``end_ns`` in one step if nothing would
        happen on the way (True), else nothing changes (False: run the scheduler)."""
        return self.env.advance_if_idle(end_ns)

    def advance_idle(self, duration_ns: int) -> None:
        """``run_for(duration_ns)``, in one step when nothing is due (`advance_if_idle`)."""
        if duration_ns <= 0 or not self.env.advance_if_idle(self.env.time_ns + duration_ns):
            self.run_for(duration_ns)

    def timeout(self, delay_ns: int, value: Any = None) -> simpy.Timeout:
        """An event that fires ``delay_ns`` nanoseconds from now."""
        if delay_ns < 0:
            raise ValueError(f"a delay cannot be negative, got {delay_ns} ns")
        return self.env.timeout(int(delay_ns), value)

    def event(self) -> simpy.Event:
        return self.env.event()

    def process(self, generator: ProcessGenerator) -> simpy.Process:
        """Start a SimPy process in this world."""
        return self.env.process(generator)

    def call_at(self, time_ns: int, callback: Callable[[], None]) -> simpy.Process:
        """Run ``callback`` at absolute simulated time ``time_ns`` (not before now)."""
        delay = max(0, int(time_ns) - self.now_ns)

        def _later() -> ProcessGenerator:
            yield self.env.timeout(delay)
            callback()

        return self.env.process(_later())

    def run_for(self, duration_ns: int) -> None:
        """Advance simulated time by ``duration_ns``, running everything due before the end.

        Events due exactly at the end time run on the next advance (SimPy's
        ``run(until=t)`` rule); ``run_for(0)`` does nothing.
        """
        if duration_ns < 0:
            raise ValueError(f"cannot run for a negative time, got {duration_ns} ns")
        if duration_ns == 0:
            return
        # SimPy's ``run(until=t)`` (its stop event is urgent: it stops before other events
        # due at ``t``); when the run ends in an exception the stop is taken off that event,
        # or a later run would stop when it fires and advance the wrong amount
        end_ns = self.env.time_ns + int(duration_ns)
        try:
            self.env.run(until=end_ns)
        except BaseException:
            self.env.defuse_stop(end_ns)
            raise

    def _run(self, until: simpy.Event) -> Any:
        """``env.run(until=...)``; when an exception (a fault raised by a process, Ctrl-C)
        ends the run early, the stop is taken off ``until``, or a later run would stop
        when it fires and advance the wrong amount."""
        try:
            return self.env.run(until=until)
        except BaseException:
            callbacks = until.callbacks
            if callbacks is not None:
                with contextlib.suppress(ValueError):
                    callbacks.remove(StopSimulation.callback)
            raise

    def run_until(self, event: simpy.Event, limit_ns: int | None = None) -> Any:
        """Run until ``event`` is processed and return its value.

        With ``limit_ns``, stop after that much simulated time and raise
        ``TimeoutError`` if the event has not happened; without it, a process
        that never ends is detected when the event queue runs dry.
        """
        if event.processed:
            return event.value
        if limit_ns is None:
            try:
                return self._run(event)
            except (
                RuntimeError
            ) as exc:  # simpy: "No scheduled events left but until event was not triggered"
                raise TimeoutError(
                    f"simulation ran out of events at t={self.now_ns} ns before the awaited event"
                ) from exc
        deadline = self.now_ns + int(limit_ns)
        guard = self.env.timeout(int(limit_ns))
        self._run(simpy.AnyOf(self.env, [event, guard]))
        if not event.processed:
            if event.triggered:
                # triggered in the same instant as the deadline: let it be processed
                self.env.step()
            else:
                raise TimeoutError(f"event not reached by t={deadline} ns")
        if not event.ok:
            failure = event.value
            if isinstance(failure, BaseException):
                raise failure
            raise RuntimeError(f"awaited event failed with {failure!r}")
        return event.value
