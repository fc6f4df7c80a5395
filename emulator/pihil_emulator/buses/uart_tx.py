"""A UART transmitter that publishes its characters as waveform bursts, not one event per bit.

Characters queued while the line is free go out back to back as one `Burst`
starting now (or when the previous burst ends). Anything that stops the
transmitter (a hold: CTS deasserted, the UART disabled, a break requested, a
baud-rate change) lets the character in progress finish and takes the rest
back: the published burst is truncated and every listener is told, so no
listener ever acts on characters that were not sent.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable

import simpy

from ..world.clock import World
from ..world.net import Net
from . import uart_vcd  # noqa: F401 - registers the VCD tap of the bursts published here
from .uart_line import EPS_NS, Burst, LineListener, LineSettings, UartLines


class UartTransmitter:
    """Serialises queued bytes onto the nets ``outputs()`` gives (or into ``loopback`` listeners)."""

    def __init__(
        self,
        world: World,
        settings: LineSettings,
        *,
        name: str,
        hub: UartLines,
        outputs: Callable[[], Iterable[Net]] | Iterable[Net] = (),
        drive_level: Callable[[bool], None] | None = None,
    ) -> None:
        self.world = world
        self.name = name
        self.hub = hub
        self._outputs = outputs
        self._drive_level = drive_level
        self.settings = settings
        self.pending = bytearray()
        self._in_flight: deque[Burst] = deque()
        self._busy_until = float(world.now_ns)
        self._holds: set[str] = set()
        self._drain_waiters: list[simpy.Event] = []
        self.loopback: list[LineListener] | None = None
        """When set, bursts go only to these listeners (the PL011's internal loopback, LBE)."""
        self.sent = 0
        """Characters that have started on the line (cumulative)."""
        self._break_low = False

    def __repr__(self) -> str:
        return f"UartTransmitter({self.name}, {self.settings.describe()})"

    # -- queueing -----------------------------------------------------------------------
    def send(self, data: bytes | bytearray) -> None:
        """Queue ``data``; it goes out as soon as the line is free and nothing holds it."""
        if not data:
            return
        self.pending += data
        self._start()

    def set_settings(self, settings: LineSettings) -> None:
        """Change baud rate or format; the character in progress finishes with the old one."""
        if settings == self.settings:
            return
        self._take_back()
        self.settings = settings
        self._start()

    def hold(self, reason: str) -> None:
        """Stop after the character in progress (``reason``: ``"cts"``, ``"disabled"``...)."""
        if reason in self._holds:
            return
        self._holds.add(reason)
        self._take_back()

    def release(self, reason: str) -> None:
        if reason not in self._holds:
            return
        self._holds.discard(reason)
        self._start()

    @property
    def holds(self) -> frozenset[str]:
        return frozenset(self._holds)

    def discard_pending(self) -> int:
        """Drop what has not started yet (a TX FIFO flush); returns how many bytes."""
        self._take_back()
        n = len(self.pending)
        self.pending.clear()
        self._start()
        return n

    # -- state --------------------------------------------------------------------------
    @property
    def busy_until_ns(self) -> float:
        """When the last character published so far ends (the past when idle)."""
        return self._busy_until

    def queued(self) -> int:
        """Characters not started yet: the TX FIFO's content as a driver sees it."""
        now = float(self.world.now_ns)
        n = len(self.pending)
        for b in self._in_flight:
            if b.end_ns <= now:
                continue
            started = self._started(b, now)
            n += b.count - started
        return n

    def busy(self) -> bool:
        """True while a character is on the line or waiting to go (PL011 FR.BUSY)."""
        return bool(self.pending) or self._busy_until > self.world.now_ns + EPS_NS

    def drain_time_ns(self) -> int | None:
        """When a drain that starts now ends, if nothing but time stands in its way: the
        instant the wake-up `drained` schedules (the last stop bit's end) when the
        transmitter is busy with published characters only (nothing pending, no hold,
        nobody else waiting); None otherwise."""
        if self.pending or self._holds or self._drain_waiters or not self.busy():
            return None
        return math.ceil(self._busy_until - EPS_NS)

    def drained(self) -> simpy.Event:
        """An event that fires once everything queued so far has left the line."""
        ev = self.world.event()
        if not self.busy():
            ev.succeed()
        else:
            self._drain_waiters.append(ev)
            if not self.pending:
                self._schedule_check(self._busy_until)
        return ev

    # -- break --------------------------------------------------------------------------
    def set_break(self, on: bool) -> None:
        """Hold the line low (after the character in progress) or release it."""
        if on:
            self.hold("break")
            end = self._busy_until
            self._break_low = True
            if end <= self.world.now_ns + EPS_NS:
                self._set_line(False)
            else:
                self.world.call_at(math.ceil(end), lambda: self._set_line(not self._break_low))
        else:
            self._break_low = False
            self._set_line(True)
            self.release("break")

    def _set_line(self, level: bool) -> None:
        if self._drive_level is not None:
            self._drive_level(level)

    # -- internals ----------------------------------------------------------------------
    @staticmethod
    def _started(b: Burst, now: float) -> int:
        """How many of ``b``'s characters have started by ``now``."""
        if now + EPS_NS < b.start_ns:
            return 0
        return min(b.count, int((now - b.start_ns + EPS_NS) // b.pitch_ns) + 1)

    def _start(self) -> None:
        if self._holds or not self.pending:
            if not self.pending:
                self._wake_drainers()
            return
        now = float(self.world.now_ns)
        start = max(now, self._busy_until)
        burst = Burst(start, self.settings, bytes(self.pending), source=self.name)
        self.pending.clear()
        self._in_flight.append(burst)
        while self._in_flight and self._in_flight[0].end_ns <= now:
            self._in_flight.popleft()
        self._busy_until = burst.end_ns
        self.sent += burst.count
        if self.loopback is not None:
            self.hub.deliver(burst, self.loopback)
        else:
            self.hub.publish(burst, list(self._outputs_now()))
        if self._drain_waiters:
            self._schedule_check(burst.end_ns)

    def _outputs_now(self) -> Iterable[Net]:
        src = self._outputs
        return src() if callable(src) else src

    def _take_back(self) -> None:
        """Truncate every burst after the character in progress; requeue what was cut."""
        now = float(self.world.now_ns)
        taken = bytearray()
        new_busy = now
        for b in self._in_flight:
            if b.end_ns <= now:
                continue
            keep = self._started(b, now)
            if keep < b.count:
                taken += b.chars[keep : b.count]
                cut_at = b.char_start(keep)
                self.sent -= b.count - keep
                b.count = keep
                self.hub.truncated(b, cut_at)
            if keep > 0:
                new_busy = max(new_busy, b.end_ns)
        self._in_flight = deque(b for b in self._in_flight if b.count > 0 and b.end_ns > now)
        self._busy_until = max(new_busy, min(self._busy_until, now))
        if taken:
            self.pending[0:0] = taken

    def _schedule_check(self, t: float) -> None:
        self.world.call_at(math.ceil(t - EPS_NS), self._wake_drainers)

    def _wake_drainers(self) -> None:
        if self.busy() or not self._drain_waiters:
            return
        waiters, self._drain_waiters = self._drain_waiters, []
        for ev in waiters:
            if not ev.triggered:
                ev.succeed()
