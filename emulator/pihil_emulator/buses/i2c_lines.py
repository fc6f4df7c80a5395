"""The pin-level master's lines: `NetLines`, the BSC sequencer clocked on real SDA/SCL nets.

`PinWire` (in `i2c_wire`, which re-exports everything here) runs its byte operations on a
`NetLines`; `_QUIET_SKIP` is the switch it reads at construction.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from ..world.clock import World
from ..world.net import Drive, Net
from ..world.scheduler import Scheduler
from .i2c_timing import WaitRise
from .i2c_virtual import Step, _level_before

__all__ = ["NetLines", "SimGen"]

SimGen = Generator[simpy.Event, Any, Any]


class NetLines:
    """The master's view of real SDA/SCL nets and the engine that clocks it in simulated time.

    `run` drives a sequencer generator on the nets without a SimPy process of its own: each
    wake-up time it yields becomes one SimPy timer whose callback resumes the generator (or,
    when no other event is due before it, the clock is moved straight there: `_QUIET_SKIP`),
    and a `WaitRise` resumes it from the SCL watcher. So a byte run costs the caller one
    process wake-up (its end), and every edge is still made on the nets at its own instant.
    """

    def __init__(
        self,
        world: World,
        sda: Net,
        scl: Net,
        drive_sda: Callable[[Drive | None], None],
        drive_scl: Callable[[Drive | None], None],
    ) -> None:
        self.world = world
        self.env = world.env
        self.sda_net = sda
        self.scl_net = scl
        self._drive_sda = drive_sda
        self._drive_scl = drive_scl
        self._m_sda = False
        self._m_scl = False
        self._rose = -1
        self._sda_history: list[tuple[int, bool]] = []
        self._sda_base = sda.level
        # the engine: the generator being run, the event its caller waits on, the one
        # pending timer (a stale timer finds it is no longer this one and does nothing)
        self._step: Step | None = None
        self._done: simpy.Event | None = None
        self._timer: simpy.Event | None = None
        self._rise_wanted = False
        self._outcome: tuple[Any, Exception | None] | None = None
        self._quiet = _QUIET_SKIP and type(self.env) is Scheduler
        self._unwatch = [scl.watch(self._scl_changed), sda.watch(self._sda_changed)]

    def close(self) -> None:
        """Stop watching the nets and drop whatever the engine was running."""
        for u in self._unwatch:
            u()
        self._unwatch = []
        self._timer = None
        self._rise_wanted = False
        step, self._step = self._step, None
        self._done = None
        if step is not None:
            step.close()

    def _scl_changed(self, net: Net, level: bool, t: int) -> None:
        if level:
            self._rose = t
            if self._rise_wanted:
                # resume after the edge has reached every watcher, as a waiter event would
                self._rise_wanted = False
                timer = self._timer = self.env.timeout(0, t)
                timer.callbacks.append(self._on_timer)

    def _sda_changed(self, net: Net, level: bool, t: int) -> None:
        self._sda_history.append((t, level))

    # MasterWire
    def drive_scl(self, low: bool) -> None:
        if self._m_scl != low:
            self._m_scl = low
            history = self._sda_history
            if not low and history:
                now = int(self.env.now)
                if history[-1][0] < now:
                    self._sda_base = history[-1][1]
                    history.clear()
                else:
                    self._sda_base = _level_before(history, self._sda_base, now)
                    self._sda_history = [e for e in history if e[0] >= now]
            self._drive_scl(_OD_LOW if low else None)

    def drive_sda(self, low: bool) -> None:
        if self._m_sda != low:
            self._m_sda = low
            self._drive_sda(_OD_LOW if low else None)

    @property
    def master_sda_low(self) -> bool:
        return self._m_sda

    def scl_rose_at(self) -> int | None:
        return self._rose if self.scl_net.level else None

    def sda_at(self, t: int) -> bool:
        return _level_before(self._sda_history, self._sda_base, t)

    @property
    def waiting(self) -> bool:
        """True while the master waits for SCL to rise."""
        return self._rise_wanted

    def release_all(self) -> None:
        self.drive_sda(False)
        self.drive_scl(False)

    # -- the engine ---------------------------------------------------------------------
    def run(self, step: Step) -> SimGen:
        """Drive a sequencer generator in simulated time (``yield from`` it in a SimPy process);
        returns the generator's result."""
        if self._step is not None:
            raise RuntimeError("the pin-level master runs one sequence at a time")
        self._step = step
        self._done = None
        self._outcome = None
        self._resume(None)
        if self._step is None:  # over without waiting
            value, exc = self._outcome or (None, None)
            self._outcome = None
            if exc is not None:
                raise exc
            return value
        done = self._done = self.env.event()
        return (yield done)

    def _on_timer(self, event: simpy.Event) -> None:
        if event is self._timer:
            self._timer = None
            self._resume(event.value)

    def _resume(self, send: int | None) -> None:
        step = self._step
        if step is None:
            return
        env = self.env
        quiet = self._quiet
        while True:
            try:
                req = step.send(send)
            except StopIteration as stop:
                self._end(stop.value, None)
                return
            except Exception as exc:  # handed to the waiting process, which raises it
                self._end(None, exc)
                return
            if req.__class__ is int:
                send = None
                if req > env.now:
                    if quiet and env.peek() > req:
                        env.time_ns = req  # nothing else is due until then: see _QUIET_SKIP
                        continue
                    timer = self._timer = env.timeout(req - env.now)
                    timer.callbacks.append(self._on_timer)
                    return
                continue
            assert isinstance(req, WaitRise)
            send = self.scl_rose_at()
            if send is not None:
                continue
            self._rise_wanted = True
            if req.deadline is not None:
                # the deadline timer resumes with None unless SCL rises first
                timer = self._timer = env.timeout(max(0, req.deadline - env.now))
                timer.callbacks.append(self._on_timer)
            return

    def _end(self, value: Any, exc: Exception | None) -> None:
        done = self._done
        self._step = self._done = self._timer = None
        self._rise_wanted = False
        if done is None:
            self._outcome = (value, exc)
        elif exc is None:
            done.succeed(value)
        else:
            done.fail(exc)


_OD_LOW = Drive.open_drain_low()

_QUIET_SKIP = True
"""Let the pin-level master move the clock straight to its next edge when no SimPy event is
due before it (``env.peek()`` later than the edge), instead of scheduling a timer and
stepping to it. The two are the same run: nothing else can act, or look at a net, between
now and then, the edge is made on the nets at its own instant, and every watcher sees it
as it would from a timer; anything a watcher schedules bounds the next skip. It sets the
board's `Scheduler` clock (world/scheduler.py: the clock is its own attribute, not SimPy's
private one; another environment, a real-time one, gets timers). About 0.7 µs saved per
edge."""
