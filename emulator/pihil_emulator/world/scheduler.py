"""The board's SimPy environment, with its clock and its event queue kept in the open.

`Scheduler` is a `simpy.Environment` that overrides the environment's public scheduling
methods (``now``, ``schedule``, ``peek``, ``step``; SimPy's ``run`` and every event type
use nothing else) to keep the time and the queue in attributes of its own: `time_ns` and
`pending`. The emulator's fast paths need three things SimPy has no call for, and they
use those attributes instead of SimPy's private ``_now`` and ``_queue`` (so no SimPy
version is tied to its internals):

- read the clock without a property call on the per-edge paths (`time_ns`);
- move an idle clock forward in one step when nothing would happen on the way
  (`advance_if_idle`: the closed-form I2C, SPI and UART paths);
- see the events due (`pending`: the snapshot's processes in flight, the I2C fast path's
  check that only finished stop markers are due).

`step` is SimPy's own rule: take the earliest event (time, then priority, then the order
of scheduling), set the clock, run its callbacks; a callback that stops the simulation
leaves the remaining callbacks to run when it resumes; a failed event that nobody
defused crashes the run with a copy of its exception. tests/emulator/test_scheduler.py
runs SimPy's documented behaviours against it.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Generator
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import BoundClass, EmptySchedule, Infinity, StopSimulation
from simpy.events import NORMAL, URGENT, EventPriority

Pending = tuple[int, EventPriority, int, simpy.Event]
"""One scheduled event: (due time in ns, priority, scheduling order, the event)."""


class Scheduler(simpy.Environment):
    """A `simpy.Environment` in integer nanoseconds whose clock and queue are its own."""

    def __init__(self, initial_time_ns: int = 0) -> None:
        super().__init__(initial_time=initial_time_ns)
        # SimPy binds its event classes (timeout, event, any_of, ...) to the instance for
        # speed, but only those its own class lists: bind the base's too (not `process`,
        # which is overridden here)
        for name, obj in simpy.Environment.__dict__.items():
            if type(obj) is BoundClass and name != "process":
                setattr(self, name, getattr(self, name))
        self.time_ns: int = initial_time_ns
        """Simulated time in integer ns (what ``now`` returns)."""
        self.pending: list[Pending] = []
        """The scheduled events, a heap ordered as SimPy orders them."""
        self._order = itertools.count()
        self._generators: weakref.WeakKeyDictionary[simpy.Process, Generator[Any, Any, Any]]
        self._generators = weakref.WeakKeyDictionary()
        """Each live process's body, held no longer than the process itself (SimPy drops a
        process nothing can wake any more; so does this)."""

    @property
    def now(self) -> int:
        return self.time_ns

    def schedule(
        self, event: simpy.Event, priority: EventPriority = NORMAL, delay: Any = 0
    ) -> None:
        heappush(self.pending, (self.time_ns + delay, priority, next(self._order), event))

    def peek(self) -> Any:
        return self.pending[0][0] if self.pending else Infinity

    def step(self) -> None:
        try:
            self.time_ns, _, _, event = heappop(self.pending)
        except IndexError:
            raise EmptySchedule from None
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        done = 0
        try:
            for callback in callbacks:
                done += 1
                callback(event)
        except StopSimulation:
            # the rest of the callbacks run when the simulation resumes (as SimPy does)
            event.callbacks = callbacks[done:]
            self.schedule(event, EventPriority(-1))
            raise
        if not event.ok and not event.defused:
            failure: Any = event.value
            exc = type(failure)(*failure.args)
            exc.__cause__ = failure
            raise exc

    # -- what SimPy has no call for ------------------------------------------------------
    def advance_if_idle(self, end_ns: int) -> bool:
        """Set the clock to ``end_ns`` in one step if nothing would happen on the way; True
        if so.

        Nothing happens when every event due at or before ``end_ns`` does nothing when
        processed: no callbacks and not failed (the stop events a finished ``run`` leaves
        behind, the guard timeouts of finished waits). Those are taken off the queue as
        processed and the clock set, which is what stepping to ``end_ns`` would do.
        Anything else due by then (a fault, a device's timer, another board's process)
        leaves everything as it was and gives False: the caller runs the scheduler.
        """
        queue = self.pending
        if end_ns < self.time_ns:
            return False
        for t, _, _, event in queue:
            if t <= end_ns and (event.callbacks != [] or not event.ok):
                return False
        while queue and queue[0][0] <= end_ns:
            heappop(queue)[3].callbacks = None  # type: ignore[assignment]  # processed
        self.time_ns = end_ns
        return True

    def defuse_stop(self, at_ns: int) -> None:
        """Take SimPy's stop off the stop event that ``run(until=at_ns)`` left due (urgent, at
        ``at_ns``) when that run ended in an exception: it would otherwise stop a later run
        when it fires. Stops of other runs (due at other times) are left alone."""
        for t, priority, _, event in self.pending:
            callbacks = event.callbacks
            if (
                t == at_ns
                and priority == URGENT
                and callbacks is not None
                and StopSimulation.callback in callbacks
            ):
                callbacks.remove(StopSimulation.callback)
                return

    def process(self, generator: Generator[Any, Any, Any]) -> simpy.Process:
        """``env.process``, remembering each process's generator (`generator_of`)."""
        process = simpy.Process(self, generator)
        self._generators[process] = generator
        return process

    def generator_of(self, process: simpy.Process) -> Generator[Any, Any, Any] | None:
        """The generator ``process`` runs (None once it has ended or if not started here)."""
        return self._generators.get(process) if process.is_alive else None
