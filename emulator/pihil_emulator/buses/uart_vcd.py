"""UART waveforms into a VCD recording.

A transmitter does not toggle its net bit by bit, so a `VcdRecorder`
watching the net sees only the DC level (idle, break). `UartVcdTap` listens
on the recorded nets like a receiver and, once each burst (or noise span)
is over, adds the composed line's edges to the recorder in closed form
(`VcdRecorder.add_edges`). Use it around the recording::

    with board.record_vcd(path, ["GPIO14", "GPIO15"]) as rec, UartVcdTap(rec, board.circuit):
        ...

Closing the tap (or leaving its ``with``) flushes what is known up to now.

It also happens by itself: when a burst or noise is published on a node that
an open recorder watches (``board.record_vcd``), `tap_recorders` gives that
recorder a tap, the way the SPI and I2C models notice recorders on their nets.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterable
from types import TracebackType

from ..vcd import VcdRecorder
from ..world.net import Circuit, Net
from .uart_line import Burst, Glitch, LineTimeline, UartLines, add_recorder_tapper


class _NetTap:
    """Follows one recorded net as a `LineListener` and writes its edges when they are final."""

    def __init__(self, recorder: VcdRecorder, net: Net, hub: UartLines) -> None:
        self.recorder = recorder
        self.net = net
        self.hub = hub
        self.world = net.circuit.world
        self.timeline = LineTimeline(initial=net.level)
        self._level = net.level
        self._flushed = float(self.world.now_ns)
        self._unwatch: Callable[[], None] = net.watch(self._on_dc)
        self.closed = False
        hub.add_listener(self)

    def input_nets(self) -> list[Net]:
        return [] if self.closed else [self.net]

    def _on_dc(self, _net: Net, level: bool, time_ns: int) -> None:
        self.timeline.record_dc(float(time_ns), level)

    def add_burst(self, burst: Burst) -> None:
        self.timeline.add_burst(burst)
        # flush as each frame's stop bits begin (its last edge): a recording closed mid-burst
        # has every character that was on the wire
        stop_at = (burst.settings.frame_bits - burst.settings.stop_bits) * burst.bit_ns
        for i in range(burst.count):
            self._flush_at(burst.char_start(i) + stop_at)

    def burst_truncated(self, burst: Burst, cut_ns: float) -> None:
        self._flush_at(max(cut_ns, burst.end_ns))

    def add_glitches(self, glitches: list[Glitch]) -> None:
        self.timeline.add_glitches(glitches)
        for g in glitches:
            self._flush_at(g.end_ns)

    def _flush_at(self, t: float) -> None:
        ev = self.world.timeout(max(0, math.ceil(t) - self.world.now_ns))
        ev.callbacks.append(lambda _e: self.flush())

    def flush(self) -> None:
        """Hand the recorder every edge up to now."""
        if self.closed:
            return
        now = float(self.world.now_ns)
        if now <= self._flushed:
            return
        edges, self._level = self.timeline.edges(self.net.name, self._flushed, now, self._level)
        self.recorder.add_edges(edges)
        self._flushed = now
        self.timeline.prune(now - 1.0)

    def close(self) -> None:
        if self.closed:
            return
        self.flush()
        self.closed = True
        self._unwatch()
        self.hub.remove_listener(self)


_TAPS: weakref.WeakKeyDictionary[VcdRecorder, UartVcdTap] = weakref.WeakKeyDictionary()


class UartVcdTap:
    """Adds the UART waveforms on ``recorder``'s nets to it (see the module docstring)."""

    def __init__(self, recorder: VcdRecorder, circuit: Circuit) -> None:
        hub = UartLines.of(circuit)
        old = _TAPS.get(recorder)
        if old is not None:
            old.close()
        self._taps = [_NetTap(recorder, circuit[name], hub) for name in recorder.nets]
        _TAPS[recorder] = self

    def flush(self) -> None:
        for tap in self._taps:
            tap.flush()

    def close(self) -> None:
        for tap in self._taps:
            tap.close()

    def __enter__(self) -> UartVcdTap:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def tap_recorders(hub: UartLines, nets: Iterable[Net]) -> None:
    """Give every open `VcdRecorder` watching a net of these nets' nodes a tap (once)."""
    if not VcdRecorder.open_count:
        return  # no recorder open anywhere: none to tap (the common case, per burst)
    seen: set[int] = set()
    for net in nets:
        if id(net.node) in seen:
            continue
        seen.add(id(net.node))
        for member in net.node.nets:
            for watcher in tuple(member._watchers):  # a recorder watches through a bound method
                owner = getattr(watcher, "__self__", None)
                if (
                    isinstance(owner, VcdRecorder)
                    and not getattr(owner, "taps_itself", False)  # a BenchVcd: its own taps
                    and owner not in _TAPS
                    and not getattr(owner, "_closed", False)
                ):
                    UartVcdTap(owner, hub.circuit)


add_recorder_tapper(tap_recorders)
