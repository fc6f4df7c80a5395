"""The BSC controller's bus view and transfer steps (`BscTransfer`): the wire timing, the
nets and slave front ends it finds on its pins, the level it runs at, and the steps of a
transfer (waits, a repeated START, the next byte run, faults and errors) that
`bsc_controller.BscController`'s process runs; on `bsc_state.BscState`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..buses.i2c_slave import I2cSlave, hub_for
from ..buses.i2c_target import I2cTarget
from ..buses.i2c_timing import BscTiming, ByteOutcome, effective_cdiv
from ..buses.i2c_wire import BscWire, ByteRun
from ..errors import ConfigurationError
from ..vcd import VcdRecorder
from ..world.edges import EdgeQueue
from ..world.net import Net
from .bsc_map import (
    C_INTR,
    C_INTT,
    C_READ,
    FIFO_DEPTH,
    RXR_FROM,
    TXW_BELOW,
)
from .bsc_map import Xfer as _Xfer
from .bsc_state import BscState, _RunEntry


class BscTransfer(BscState):
    """A BSC master's view of its bus and the steps of a transfer on it."""

    # ----------------------------------------------------------------------------------
    # the controller
    # ----------------------------------------------------------------------------------
    def timing(self) -> BscTiming:
        """The wire timing the registers and the variant give now."""
        variant = self.soc.variant
        values = self._values
        del_value = values["DEL"]
        cached = self._timing_cache
        if (
            cached is not None
            and cached[0] is variant
            and cached[1] == values["DIV"]
            and cached[2] == del_value
            and cached[3] == values["CLKT"]
        ):
            return cached[4]
        tout = values["CLKT"] & 0xFFFF
        timing = BscTiming(
            core_clock_hz=variant.core_clock_hz,
            cdiv=effective_cdiv(self._values["DIV"] & 0xFFFF),
            fedl=del_value >> 16 & 0xFFFF,
            redl=del_value & 0xFFFF,
            stretch_bug=variant.i2c_stretch_bug,
            clkt_tout=tout if variant.i2c_clkt_functional else 0,
        )
        self._timing_cache = (variant, values["DIV"], del_value, values["CLKT"], timing)
        return timing

    _timing_cache: tuple[object, int, int, int, BscTiming] | None = None
    """The last `timing` answer and what it came from (the variant, DIV, DEL, CLKT)."""

    def nets(self) -> tuple[list[Net], list[Net]]:
        gpio = self.soc.gpio
        return gpio.signal_nets(self.sda_signal), gpio.signal_nets(self.scl_signal)

    def slaves(self) -> list[I2cSlave]:
        """The slave front ends of the targets attached to this controller's pins."""
        sda, scl = self.nets()
        return self._slaves_on(sda, scl)

    def _slaves_on(self, sda: list[Net], scl: list[Net]) -> list[I2cSlave]:
        """`slaves` for the nets `nets` gives now."""
        if not sda or not scl:
            return []
        attachments = self.soc.attachments
        key: tuple[object, ...] | None = None
        if attachments.caching:
            # what attachments.find's own cache is keyed by: the same key, the same answer
            key = (attachments.generation, *(n.node for n in sda), None, *(n.node for n in scl))
            quick = self._slaves_quick
            if quick is not None and quick[0] == key:
                return list(quick[1])
        found = attachments.find("i2c", sda=sda, scl=scl)
        cached = self._slaves_cache if key is not None else None
        if (
            cached is not None
            and cached[2] == attachments.generation
            and len(cached[0]) == len(found)
            and all(a is b for a, b in zip(cached[0], found, strict=True))
        ):
            if key is not None:
                self._slaves_quick = (key, cached[1])
            return list(cached[1])  # the same attachments: the same front ends
        hub = hub_for(self.world)
        out: list[I2cSlave] = []
        for att in found:
            device = att.device
            if not isinstance(device, I2cTarget):
                raise ConfigurationError(
                    f"{att!r} is attached as I2C but {type(device).__name__} is not an I2cTarget"
                )
            out.append(hub.slave_for(device, att.nets["sda"], att.nets["scl"]))
        self._slaves_cache = (tuple(found), tuple(out), attachments.generation)
        if key is not None:
            self._slaves_quick = (key, tuple(out))
        return out

    _slaves_quick: tuple[tuple[object, ...], tuple[I2cSlave, ...]] | None = None
    """The last `_slaves_on` answer by (attachments generation, the nets' nodes)."""

    _slaves_cache: tuple[tuple[object, ...], tuple[I2cSlave, ...], int] | None = None
    """The last `slaves` answer: (attachments found, their front ends, attachments generation)."""

    def _bus_view(self, sda: list[Net], scl: list[Net]) -> tuple[bool, list[I2cSlave]]:
        """(`_pin_level` of the pins, `_slaves_on` them), kept while what they depend on is
        the same object: the nets' nodes (connect/disconnect make new ones), each node's nets'
        watcher tuples (replaced, never mutated, by ``watch``), ``level`` and the attachments'
        generation (with their cache on)."""
        attachments = self.soc.attachments
        key: list[object] = [self.level, attachments.generation]
        for nets in (sda, scl):
            for net in nets:
                node = net.node
                key.append(node)
                key.extend([other._watchers for other in node.nets])
            key.append(None)
        memo = self._view_memo
        if memo is not None and memo[0] == key and attachments.caching:
            return memo[1], list(memo[2])
        pin = self._pin_level(sda + scl)
        slaves = self._slaves_on(sda, scl)
        if attachments.caching:
            self._view_memo = (key, pin, tuple(slaves))
        return pin, slaves

    _view_memo: tuple[list[object], bool, tuple[I2cSlave, ...]] | None = None

    def _pin_level(self, nets: list[Net]) -> bool:
        if self.level != "auto":
            return self.level == "pin"
        watching = (VcdRecorder, EdgeQueue)
        for net in nets:
            for other in net.node.nets:
                for w in other._watchers:
                    if isinstance(getattr(w, "__self__", None), watching):
                        return True
        return False

    def _latch(self) -> _Xfer:
        c = self._c()
        return _Xfer(self._values["A"] & 0x7F, bool(c & C_READ), self._dlen_written)

    def _abandon(self) -> None:
        """An aborted transfer that could not finish on the wire: the controller goes idle."""
        self._settle()
        self._timeline.clear()
        self._planned_push = 0
        self._planned_pop = 0
        self._ta = False
        self._xfer = None
        self._update_irq()

    def _wait_until(self, t: int) -> Any:
        now = self.world.now_ns
        if t > now:
            yield self.world.timeout(t - now)
        self._settle()
        self._update_irq()

    def _wait_kick(self, until: Callable[[], bool]) -> Any:
        while not until():
            self._kick = self.world.event()
            yield self._kick
            self._kick = None
            self._settle()

    _last_out: ByteOutcome

    def _queued_start(self, wire: BscWire) -> Any:
        """The queued START: latch A/DLEN/READ, repeated START and the address byte."""
        self._pending_st = False
        nx = self._latch()
        self._at(self.world.now_ns, functools.partial(self._switch, nx))
        self._last_out = yield from wire.repeated_start(nx.address << 1 | int(nx.read))
        return nx

    def _switch(self, nx: _Xfer) -> None:
        self._xfer = nx
        self._update_irq()

    def _next_run(self, wire: BscWire, x: _Xfer) -> Any:
        """Clock the next bytes of ``x``: as many as the FIFO allows without waiting."""
        driver = self._irq_handler is not None
        left = x.dlen - x.started
        if x.read:
            # room in the FIFO for the bytes once they arrive, counting those in flight
            if len(self._fifo) + self._planned_push >= FIFO_DEPTH:
                yield from self._wait_until(wire.cursor)
                yield from self._wait_kick(
                    lambda: len(self._fifo) + self._planned_push < FIFO_DEPTH or self._abort
                )
                if self._abort:
                    return None
                wire.resume_at(self.world.now_ns)
            count = len(self._fifo) + self._planned_push
            n = min(left, FIFO_DEPTH - count) if driver else 1
            run: ByteRun = yield from wire.reads(n, x.started + n == x.dlen)
            self._plan(x, run, True)
            if self._c() & C_INTR and run.values:
                i = min(max(RXR_FROM - count - 1, 0), len(run.values) - 1)
                if count + i + 1 >= RXR_FROM:
                    yield from self._wait_until(run.ends[i])  # RXR rises with that byte
        else:
            if len(self._fifo) <= self._planned_pop:
                yield from self._wait_until(wire.cursor)
                yield from self._wait_kick(
                    lambda: len(self._fifo) > self._planned_pop or self._abort
                )
                if self._abort:
                    return None
                wire.resume_at(self.world.now_ns)
            avail = len(self._fifo) - self._planned_pop
            n = min(left, avail) if driver else 1
            first = self._planned_pop
            fifo = self._fifo
            values = [fifo[first + j] for j in range(n)]
            run = yield from wire.writes(values)
            need = self._needed_after(x)
            self._plan(x, run, False)
            if self._c() & C_INTT and run.values:
                # TXW rises when a byte leaves the FIFO under 1/4 full with data still needed
                for i in range(len(run.values)):
                    remaining = avail - i - 1
                    if remaining < TXW_BELOW and need - i - 1 > remaining:
                        yield from self._wait_until(run.starts[i])
                        break
        if not driver and self.world.now_ns < wire.cursor:
            # no driver in the loop: keep one byte ahead of the clock at most, so a
            # register access or CLEAR between bytes acts on the byte it should
            yield from self._wait_until(wire.cursor)
        return run

    def _plan(self, x: _Xfer, run: ByteRun, read: bool) -> None:
        n = len(run.values)
        if not n:
            return
        x.started += n
        if read:
            self._planned_push += n
            faulty = [s for s in self._wire_slaves if s.faults]
            if faulty:
                first = x.started - n + 1
                for i in range(n):
                    run.values[i] = self._read_fault(faulty, x.address, first + i, run.values[i])
        else:
            self._planned_pop += n
        self._timeline.append(_RunEntry(x, run, read))
        self._settle()

    def _read_fault(self, slaves: list[I2cSlave], address: int, index: int, value: int) -> int:
        now = self.world.now_ns
        for s in slaves:
            for fault in s.faults:
                corrupt_read = getattr(fault, "corrupt_read", None)
                if corrupt_read is not None:
                    value = corrupt_read(s, address, index, value, now)
        return value

    def _set_err(self) -> None:
        self._err = True
