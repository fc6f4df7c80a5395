"""The board's clock as user code sees it: sleeps, clocks and waits in simulated time.

Inside a userspace, threads that run user code (the one that entered it, and every
thread started from a registered thread) take turns: one runs at a time (it holds
the *baton*), and it gives the baton up only where it blocks in a call the clock
knows: ``time.sleep``, ``Condition.wait`` (and so ``Event.wait``, ``Queue.get``,
``Semaphore.acquire``), ``Thread.join``, ``select`` on emulated files. When every
registered thread is blocked, the clock advances the board's world to the earliest
deadline, or until something on the board wakes a waiter (a byte on a UART, an edge),
and hands the baton to whoever is due first (ties: the order they blocked in). So
``time.sleep(0.015)`` advances the board by 15 ms at once, callbacks run in simulated
order, and the same seed gives the same run.

Prior art: trio's ``MockClock(autojump_threshold=0)`` jumps when every task is
blocked; here the tasks are real threads, so the clock keeps the turn-taking itself.

Threads that were not started inside the userspace keep the wall clock.

*Paced* mode (``pace=N``) is for code that busy-waits (``while time.monotonic() < t:
pass``) or talks to something outside in real time (a program on a pty): simulated time
then never runs ahead of the wall clock × N. Reading a clock lets the board catch up with
the wall, and a jump to the next deadline waits for the wall to get there.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time as _time_module
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..world.clock import NS_PER_S, World

# the originals, taken once at import (the patches replace the module attributes)
ORIGINAL_SLEEP = _time_module.sleep
ORIGINAL_MONOTONIC = _time_module.monotonic
ORIGINAL_PERF_COUNTER = _time_module.perf_counter
ORIGINAL_TIME = _time_module.time
ORIGINAL_CONDITION_WAIT = threading.Condition.wait
ORIGINAL_THREAD_START = threading.Thread.start
ORIGINAL_THREAD_JOIN = threading.Thread.join

PACE_WAIT_S = 0.01
"""Longest wall-clock wait of a paced jump before it looks again for news from outside."""

IDLE_LIMIT_NS = 3600 * NS_PER_S
"""How far the clock runs the board looking for a wake-up when no waiter has a deadline."""

Subscribe = Callable[[Callable[[], None]], Callable[[], None]]
"""``subscribe(wake) -> unsubscribe``: ``wake`` is called when the board may have news."""


class UserspaceDeadlock(RuntimeError):
    """Every thread of the userspace waits with no deadline and nothing on the board wakes one."""


@dataclass(eq=False)
class _Turn:
    """One registered thread's claim on the baton."""

    name: str
    seq: int
    ident: int | None = None
    finished: bool = False
    # while blocked:
    deadline_ns: int | None = None
    ready: Callable[[], bool] | None = None
    signalled_ns: int | None = None
    requested_ns: int | None = None
    """Set when the turn wants the baton without waiting for anything (a new thread)."""
    blocked: bool = False
    unsubscribes: list[Callable[[], None]] = field(default_factory=list)


class SimClock:
    """Turn-taking of user threads over one world; time in integer nanoseconds."""

    def __init__(
        self, world: World, lock: Any, *, epoch_s: float | None = None, pace: float | None = None
    ) -> None:
        if pace is not None and (isinstance(pace, bool) or not pace > 0):
            raise ValueError(
                f"pace is simulated seconds per wall-clock second, a number > 0; got {pace!r}"
            )
        self.pace = None if pace is None else float(pace)
        self.world = world
        self.lock = lock
        self._cv = threading.Condition(lock)
        self._turns: dict[int, _Turn] = {}
        self._owner: _Turn | None = None
        self._seq = itertools.count()
        self._stop: Any = None
        self._failure: BaseException | None = None
        self.closed = False
        self.start_ns = world.now_ns
        self.epoch_s = float(int(ORIGINAL_TIME())) if epoch_s is None else float(epoch_s)
        """What ``time.time()`` reads when the userspace begins."""
        self.monotonic_base_s = float(int(ORIGINAL_MONOTONIC()))
        self.wall_start_s = ORIGINAL_PERF_COUNTER()
        self.idle_limit_ns = IDLE_LIMIT_NS
        self._catching_up = False

    # -- time ------------------------------------------------------------------------------
    @property
    def now_ns(self) -> int:
        return self.world.env.time_ns  # the scheduler's clock, read without a call (net.py)

    def elapsed_ns(self) -> int:
        """Simulated time since the userspace began (paced: after catching up with the wall)."""
        if self.pace is not None:
            self.catch_up()
        return self.now_ns - self.start_ns

    def _paced_target_ns(self) -> int:
        assert self.pace is not None
        return self.start_ns + int(self.wall_elapsed_s() * self.pace * NS_PER_S)

    def catch_up(self) -> None:
        """Paced mode: run the board to where the wall clock says it should be (called by
        the thread that holds the baton, when it reads a clock)."""
        with self.lock:
            turn = self._turns.get(threading.get_ident())
            if self.closed or turn is None or self._owner is not turn or self._catching_up:
                # (a clock read by code the run itself calls, such as a log record's time
                # inside a device's process, sees the time of that step: running the world
                # again from inside its own step would take the outer run's stop event)
                return
            lag = self._paced_target_ns() - self.now_ns
            if lag > 0:
                self._catching_up = True
                try:
                    with contextlib.suppress(TimeoutError):
                        self.world.run_until(self.world.event(), limit_ns=lag)
                finally:
                    self._catching_up = False

    def wall_elapsed_s(self) -> float:
        """Wall-clock time since the userspace began."""
        return ORIGINAL_PERF_COUNTER() - self.wall_start_s

    def registered(self) -> bool:
        """Whether the calling thread runs on simulated time."""
        return not self.closed and threading.get_ident() in self._turns

    # -- registration ------------------------------------------------------------------------
    def enter(self) -> None:
        """Register the calling thread, holding the baton (the thread entering the userspace)."""
        with self.lock:
            turn = _Turn(threading.current_thread().name, next(self._seq), threading.get_ident())
            self._turns[turn.ident] = turn  # type: ignore[index]
            self._owner = turn

    def adopt(self, thread: threading.Thread) -> None:
        """Make ``thread`` (about to start) a registered thread that waits for its turn."""
        turn = _Turn(thread.name, next(self._seq))
        turn.requested_ns = self.now_ns
        run = thread.run

        def run_in_turn() -> None:
            self._begin(turn)
            try:
                run()
            finally:
                self._end(turn)

        thread.run = run_in_turn  # type: ignore[method-assign]
        thread._pihil_turn = turn  # type: ignore[attr-defined]
        with self.lock:
            self._pending_turns.append(turn)

    @property
    def _pending_turns(self) -> list[_Turn]:
        pending: list[_Turn] | None = getattr(self, "_pending", None)
        if pending is None:
            pending = []
            self._pending = pending
        return pending

    def _begin(self, turn: _Turn) -> None:
        with self.lock:
            turn.ident = threading.get_ident()
            self._turns[turn.ident] = turn
            while self._owner is not turn and not self.closed:
                ORIGINAL_CONDITION_WAIT(self._cv, None)
            self._raise_failure()

    def _end(self, turn: _Turn) -> None:
        with self.lock:
            turn.finished = True
            if turn.ident is not None:
                self._turns.pop(turn.ident, None)
            if turn in self._pending_turns:
                self._pending_turns.remove(turn)
            if self._owner is turn:
                self._pass_baton()

    def leave(self) -> None:
        """Unregister the calling thread (the userspace ends)."""
        with self.lock:
            turn = self._turns.pop(threading.get_ident(), None)
            if turn is not None and self._owner is turn:
                self._owner = None

    def close(self) -> None:
        """End turn-taking: every thread still blocked returns (a sleep ends, a wait times out)."""
        with self.lock:
            self.closed = True
            self._owner = None
            self._cv.notify_all()

    # -- blocking ----------------------------------------------------------------------------
    def sleep_ns(self, duration_ns: int) -> None:
        """Block the calling registered thread for ``duration_ns`` of simulated time."""
        self.block(self.now_ns + max(0, int(duration_ns)), None)

    def block(
        self,
        deadline_ns: int | None,
        ready: Callable[[], bool] | None,
        subscribe: Subscribe | None = None,
    ) -> bool:
        """Give up the baton until ``ready()`` holds or simulated time reaches ``deadline_ns``.

        Returns True when ``ready()`` held, False at the deadline (or when the userspace
        closed). ``subscribe`` lets the board wake the waiter at the simulated instant
        something happens (else ``ready`` is looked at only when the turn passes).
        """
        with self.lock:
            if ready is not None and ready():
                return True
            if self.closed:
                return False
            turn = self._turns.get(threading.get_ident())
            if turn is None:
                raise RuntimeError("SimClock.block called from a thread the userspace does not run")
            if deadline_ns is not None and deadline_ns <= self.now_ns and self._owner is turn:
                return False
            turn.deadline_ns, turn.ready, turn.signalled_ns = deadline_ns, ready, None
            turn.blocked = True
            if subscribe is not None:
                turn.unsubscribes.append(subscribe(lambda: self._signal(turn)))
            try:
                if self._owner is turn or self._owner is None:
                    self._pass_baton()
                while self._owner is not turn and not self.closed:
                    ORIGINAL_CONDITION_WAIT(self._cv, None)
            finally:
                turn.blocked = False
                for unsubscribe in turn.unsubscribes:
                    unsubscribe()
                turn.unsubscribes.clear()
            self._raise_failure()
            return ready is not None and ready()

    def _raise_failure(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def _signal(self, turn: _Turn) -> None:
        """A board event for a waiter: note when, and stop the world's run at this instant."""
        if turn.signalled_ns is None:
            turn.signalled_ns = self.now_ns
        stop = self._stop
        if stop is not None and not stop.triggered:
            stop.succeed()

    def _due(self) -> _Turn | None:
        """The turn that runs next: the earliest due (deadline, signal, new thread), FIFO on ties."""
        now = self.now_ns
        best: tuple[int, int] | None = None
        chosen: _Turn | None = None
        for turn in (*self._turns.values(), *self._pending_turns):
            if turn.finished:
                continue
            if turn.requested_ns is not None:
                when = turn.requested_ns
            elif not turn.blocked:
                continue
            elif turn.signalled_ns is not None:
                when = turn.signalled_ns
            elif turn.deadline_ns is not None and turn.deadline_ns <= now:
                when = turn.deadline_ns
            elif turn.ready is not None and turn.ready():
                when = now
            else:
                continue
            key = (when, turn.seq)
            if best is None or key < best:
                best, chosen = key, turn
        return chosen

    def _pass_baton(self) -> None:
        """The owner gave up the baton: find who is due, advancing the world if nobody is."""
        self._owner = None
        while not self.closed:
            turn = self._due()
            if turn is not None:
                if turn.requested_ns is not None:
                    turn.requested_ns = None
                    if turn in self._pending_turns:
                        self._pending_turns.remove(turn)
                self._owner = turn
                self._cv.notify_all()
                return
            if not any(t.blocked for t in self._turns.values()):
                return  # a thread runs outside the clock's view (not started yet): it takes over
            deadlines = [
                t.deadline_ns
                for t in self._turns.values()
                if t.blocked and t.deadline_ns is not None
            ]
            now = self.now_ns
            limit = (min(deadlines) - now) if deadlines else self.idle_limit_ns
            self._stop = stop = self.world.event()
            try:
                self._advance(stop, max(1, limit))
            except TimeoutError:
                if not deadlines:
                    self._fail(
                        UserspaceDeadlock(
                            "every thread of the userspace waits with no timeout, and nothing "
                            f"on the board woke one within {self.idle_limit_ns / NS_PER_S:g} "
                            "simulated seconds (a wait_for_edge, get() or join() with no "
                            "timeout that nothing can end); give the wait a timeout"
                        )
                    )
                    return
            except BaseException as exc:  # a fault while time ran: the waiter that is due sees it
                self._fail(exc)
                return
            finally:
                self._stop = None

    def _advance(self, stop: Any, limit_ns: int) -> None:
        """Run the world until ``stop`` or for ``limit_ns`` (then TimeoutError); paced, no
        faster than the wall clock × pace, letting other threads in while it waits."""
        if self.pace is None:
            self.world.run_until(stop, limit_ns=limit_ns)
            return
        end = self.now_ns + limit_ns
        while True:
            now = self.now_ns
            if stop.triggered:
                return
            if now >= end:
                raise TimeoutError(f"event not reached by t={end} ns")
            allowed = min(self._paced_target_ns(), end) - now
            if allowed <= 0:
                ahead_s = (end - self._paced_target_ns()) / NS_PER_S / self.pace
                ORIGINAL_CONDITION_WAIT(self._cv, min(PACE_WAIT_S, max(ahead_s, 1e-4)))
                continue
            with contextlib.suppress(TimeoutError):
                self.world.run_until(stop, limit_ns=allowed)
                return

    def _fail(self, exc: BaseException) -> None:
        """Hand ``exc`` to the thread that entered first (the test), with the baton."""
        self._failure = exc
        first = min(
            (t for t in self._turns.values() if t.blocked), key=lambda t: t.seq, default=None
        )
        self._owner = first
        self._cv.notify_all()
