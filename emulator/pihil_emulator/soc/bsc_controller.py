"""The BSC (I2C master) controller at register level (`BscController`); the Linux driver on it
is `pihil_emulator.soc.bsc.BscBlock`.

Registers (soc-facts §2, BCM2711-DS ch.3; same layout on the BCM2835): C, S, DLEN,
A, FIFO (16 bytes, one FIFO for both directions), DIV, DEL, CLKT, with their reset
values. The controller:

- starts a transfer on C.ST (with I2CEN) and latches A, DLEN and READ; C.ST while
  a transfer is active queues a repeated START after its last byte (§1.6);
- takes each byte to send from the FIFO as the byte begins and waits with SCL low
  when the FIFO is empty; puts each byte read into the FIFO and, when the FIFO is
  full (S.RXF), generates no more clocks until it is read (§2 S);
- S.TXW: a write is underway, the FIFO is under ¼ full and more data is needed;
  S.RXR: a read is underway and the FIFO is ¾ full or more; interrupts on
  DONE/TXW/RXR as C.INTD/INTT/INTR enable them;
- DLEN reads the bytes still to go while TA, 0 once DONE, else what was written;
- C.CLEAR empties the FIFO and, during a transfer, aborts it at the next byte
  boundary (a read NACKs one more byte first, as the Linux comment describes);
- makes a START no sooner than half an SCL period after the last STOP (a bus-free
  time, so back-to-back transfers stay apart on the wire);
- S.ERR on a NACK of the address or of a written byte, S.CLKT on a clock-stretch
  timeout (CLKT.TOUT SCL periods, 0 = off; only where the variant's CLKT works,
  §1.3), S.DONE at the end: all write-1-to-clear. There is no stop-on-error: a
  START queued before the NACK follows it as a repeated START and the next message
  runs anyway (raspberrypi/linux#5429, PR #5434); a START written while an aborted
  transfer finishes is made after its STOP; C.I2CEN = 0 drops a queued START;
- reserved bits and too-wide values (C bit 1, A above 0x7F...) are dropped by the
  register layer with a warning (`registers.RegisterPolicy`), as the chip ignores them.

Wire timing and the clock-stretching bug are `pihil_emulator.buses.i2c_timing`; the
bytes run at transaction level (computed ahead, the FIFO and status settled
lazily from the byte times) unless something watches the pins edge by edge (an edge
queue, a VCD recorder along with anything else: VCD recorders alone get the pin level's
waveform as data, `bsc_wave`) or ``level = "pin"`` is set, then at pin level.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import simpy

from ..buses.i2c_slave import I2cSlave, hub_for
from ..buses.i2c_target import I2cTarget, StretchPhase
from ..buses.i2c_timing import BscTiming, ByteOutcome, effective_cdiv
from ..buses.i2c_wire import BscWire, BusHung, ByteRun, PinWire, TransactionWire
from ..errors import ConfigurationError
from ..vcd import VcdRecorder
from ..world.clock import NS_PER_S, World
from ..world.edges import EdgeQueue
from ..world.net import Net
from .bsc_map import (
    BSC_MAP,
    C_CLEAR,
    C_I2CEN,
    C_INTD,
    C_INTR,
    C_INTT,
    C_READ,
    C_ST,
    FIFO_DEPTH,
    RXR_FROM,
    S_CLKT,
    S_DONE,
    S_ERR,
    S_RXD,
    S_RXF,
    S_RXR,
    S_TA,
    S_TXD,
    S_TXE,
    S_TXW,
    TXW_BELOW,
)
from .bsc_map import ErrorInfo as _ErrorInfo
from .bsc_map import Xfer as _Xfer
from .bsc_wave import watched_wire
from .registers import RegisterBlock, RegisterMap

if TYPE_CHECKING:
    from .soc import Soc


LINUX_ADAPTER_TIMEOUT_NS = NS_PER_S
"""``i2c_add_adapter`` gives an adapter a timeout of HZ (one second) when the driver sets none."""
LINUX_DEFAULT_BUS_HZ = 100_000
"""I2C_MAX_STANDARD_MODE_FREQ: the speed when the device tree has no clock-frequency."""

Level = Literal["auto", "transaction", "pin"]


def _signals(name: str) -> tuple[str, str]:
    n = name.lower().removeprefix("bsc")
    if not n.isdigit():
        raise ConfigurationError(f"a BSC block is named bsc<n>, got {name!r}")
    return f"SDA{n}", f"SCL{n}"


@dataclass(slots=True)
class _Event:
    t: int
    fn: Callable[[], None]


@dataclass(slots=True)
class _RunEntry:
    """A `ByteRun` on the timeline: how far its bytes have started and ended by now."""

    x: _Xfer
    run: ByteRun
    read: bool
    started: int = 0
    done: int = 0


class BscController(RegisterBlock):
    """The controller of one BSC master: registers, FIFO, interrupt line, the transfer on the
    wire (see the module docstring); `BscBlock` adds the Linux driver."""

    MAP: ClassVar[RegisterMap] = BSC_MAP

    def __init__(self, soc: Soc, name: str) -> None:
        self.soc = soc
        self.world: World = soc.world
        self.sda_signal, self.scl_signal = _signals(name)
        self.owner = name
        self.level: Level = "auto"
        """``"auto"``: pin level while an edge queue or a VCD recorder watches the pins (only
        recorders: their waveform from the transaction level, `bsc_wave`); or force one."""
        self.adapter_timeout_ns = LINUX_ADAPTER_TIMEOUT_NS
        self._fifo: deque[int] = deque()
        self._timeline: deque[_Event | _RunEntry] = deque()
        self._wire_slaves: list[I2cSlave] = []
        self._xfer: _Xfer | None = None
        self._wire: BscWire | None = None
        self._proc: simpy.Process | None = None
        self._kick: simpy.Event | None = None
        self._irq_handler: Callable[[], None] | None = None
        self._in_irq = False
        self._irq_again = False
        self._probed = False
        self._bus_free_at = 0
        self.last_error: _ErrorInfo | None = None
        self.last_level = "transaction"
        self.fast_path = True
        """Run a whole `transfer` in closed form when nothing can see it happen
        (`pihil_emulator.soc.bsc_fast`); False: always the register-by-register path, the
        reference the closed form is tested against."""
        self.fast_path_count = 0
        """Transfers the closed form has run."""
        self._next_wire: BscWire | None = None  # a wire the fast path began (see ReplayWire)
        super().__init__(name)

    # ----------------------------------------------------------------------------------
    # reset and plain state
    # ----------------------------------------------------------------------------------
    def reset_registers(self) -> None:
        super().reset_registers()
        self._fifo = deque()
        self._timeline = deque()
        self._xfer = None
        self._pending_st = False
        self._st_while_aborting = False
        self._abort = False
        self._ta = False
        self._done = False
        self._err = False
        self._clkt = False
        self._dlen_written = 0
        self._planned_pop = 0  # FIFO head bytes taken by planned (not yet started) writes
        self._planned_push = 0  # read bytes planned whose end has not come
        if getattr(self, "_proc", None) is not None and self._proc is not None:
            if self._proc.is_alive:
                self._proc.interrupt("reset")
            self._proc = None
        if getattr(self, "_wire", None) is not None and self._wire is not None:
            self._wire.finish()
            self._wire = None
        self._probed = False
        self._next_wire = None

    def _c(self) -> int:
        return self._values["C"]

    # ----------------------------------------------------------------------------------
    # registers
    # ----------------------------------------------------------------------------------
    def _write_C(self, value: int) -> None:  # noqa: N802 - datasheet name
        self._settle()
        kept = value & (C_I2CEN | C_INTR | C_INTT | C_INTD | C_READ)
        self._values["C"] = kept
        if value & C_CLEAR:
            self._clear_fifo()
            if self._ta:
                self._abort = True
        if self._ta and not kept & C_I2CEN:
            self._abort = True
        if (
            self._abort
            and isinstance(self._wire, PinWire)
            and self._wire.lines.waiting
            and not any(sl.holds_scl for sl in self._wire_slaves)
        ):
            # the master waits for an SCL that nothing will release (as the transaction
            # level's BusHung): nothing to finish on the wire
            proc = self._proc
            if proc is not None and proc.is_alive:
                proc.interrupt("abort")
        if not kept & C_I2CEN:
            self._pending_st = False  # "If this bit is 0 then transfers will not be performed"
        if value & C_ST and kept & C_I2CEN:
            if self._ta:
                self._pending_st = True
                self._st_while_aborting = self._abort
            else:
                self._begin()
        self._kick_controller()
        self._update_irq()

    def _read_S(self) -> int:  # noqa: N802 - datasheet name
        self._settle()
        return self._status()

    def _write_S(self, value: int) -> None:  # noqa: N802 - datasheet name
        self._settle()
        if value & S_CLKT:
            self._clkt = False
        if value & S_ERR:
            self._err = False
        if value & S_DONE:
            self._done = False
        self._update_irq()

    def _read_DLEN(self) -> int:  # noqa: N802 - datasheet name
        self._settle()
        x = self._xfer
        if self._ta and x is not None:
            return x.dlen - x.done
        if self._done:
            return 0
        return self._dlen_written

    def _write_DLEN(self, value: int) -> None:  # noqa: N802 - datasheet name
        self._dlen_written = value
        self._values["DLEN"] = value

    def _write_A(self, value: int) -> None:  # noqa: N802 - datasheet name
        # bits above ADDR (6:0) never get here: RegisterBlock.write drops them with a warning
        self._values["A"] = value

    def _read_FIFO(self) -> int:  # noqa: N802 - datasheet name
        self._settle()
        if len(self._fifo) <= self._planned_pop:
            return 0  # "reading an empty FIFO will return invalid data": the model returns 0
        # a read pops the oldest byte (reads only happen on RX data; TX bytes are never read)
        value = self._fifo.popleft()
        self._kick_controller()
        self._update_irq()
        return value

    def _write_FIFO(self, value: int) -> None:  # noqa: N802 - datasheet name
        self._settle()
        if len(self._fifo) >= FIFO_DEPTH:
            return  # "Any writes to a full TX FIFO will be ignored"
        self._fifo.append(value)
        self._kick_controller()
        self._update_irq()

    def _write_DIV(self, value: int) -> None:  # noqa: N802 - datasheet name
        self._values["DIV"] = value

    def _write_DEL(self, value: int) -> None:  # noqa: N802 - datasheet name
        self._values["DEL"] = value

    def _write_CLKT(self, value: int) -> None:  # noqa: N802 - datasheet name
        self._values["CLKT"] = value

    # ----------------------------------------------------------------------------------
    # status and interrupt
    # ----------------------------------------------------------------------------------
    def _status(self) -> int:
        n = len(self._fifo)
        s = 0
        if self._ta:
            s |= S_TA
            x = self._xfer
            if x is not None:
                if x.read:
                    if n >= RXR_FROM:
                        s |= S_RXR
                elif n < TXW_BELOW and self._tx_needed(x) > n:
                    s |= S_TXW
        if self._done:
            s |= S_DONE
        if n < FIFO_DEPTH:
            s |= S_TXD
        else:
            s |= S_RXF
        if n == 0:
            s |= S_TXE
        else:
            s |= S_RXD
        if self._err:
            s |= S_ERR
        if self._clkt:
            s |= S_CLKT
        return s

    def _tx_needed(self, x: _Xfer) -> int:
        """Bytes of this write still to leave the FIFO. A queued transfer (ST while TA) does not
        count: it asks for its data once it has started, which the Linux ISR relies on to queue
        a third message only then."""
        return x.dlen - (x.started - self._planned_pop)

    def _needed_after(self, x: _Xfer) -> int:
        """`_tx_needed` as it will be once every planned byte has left the FIFO."""
        return x.dlen - x.started

    def irq_line(self) -> bool:
        c = self._c()
        s = self._status()
        return bool(
            (c & C_INTD and s & S_DONE) or (c & C_INTT and s & S_TXW) or (c & C_INTR and s & S_RXR)
        )

    def _update_irq(self) -> None:
        """Run the interrupt handler while the (level) interrupt line is asserted."""
        if self._irq_handler is None:
            return
        if self._in_irq:
            self._irq_again = True
            return
        self._in_irq = True
        try:
            for _ in range(64):
                self._irq_again = False
                if not self.irq_line():
                    break
                handler = self._irq_handler
                if handler is None:
                    break
                handler()
        finally:
            self._in_irq = False

    # ----------------------------------------------------------------------------------
    # the timeline: bytes computed ahead, applied as time passes
    # ----------------------------------------------------------------------------------
    def _at(self, t: int, fn: Callable[[], None]) -> None:
        """Do ``fn`` at ``t`` (now, if that has passed and nothing is queued before it)."""
        tl = self._timeline
        if not tl and t <= self.world.now_ns:
            fn()
        else:
            tl.append(_Event(t, fn))

    def _settle(self) -> None:
        """Apply every byte start/end and status change whose time has come."""
        tl = self._timeline
        if not tl:
            return
        now = self.world.now_ns
        while tl:
            item = tl[0]
            if isinstance(item, _Event):
                if item.t > now:
                    return
                tl.popleft()
                item.fn()
            else:
                if not self._settle_run(item, now):
                    return
                tl.popleft()

    def _settle_run(self, r: _RunEntry, now: int) -> bool:
        """Advance a run to ``now``; True when all of it is in the past."""
        run = r.run
        n = len(run.values)
        starts, ends = run.starts, run.ends
        x = r.x
        while r.done < n:
            i = r.done
            if r.started == i:
                if starts[i] > now:
                    return False
                r.started += 1
                if not r.read:
                    self._planned_pop -= 1
                    if self._fifo:
                        self._fifo.popleft()
            if ends[i] > now:
                return False
            r.done += 1
            x.done += 1
            if r.read:
                self._planned_push -= 1
                if not self._abort and len(self._fifo) < FIFO_DEPTH:
                    # (an aborted read is drained on the wire and thrown away)
                    self._fifo.append(run.values[i])
                self._transferred += 1
            elif run.acks[i]:
                self._transferred += 1
        return True

    def _clear_fifo(self) -> None:
        self._fifo.clear()
        self._planned_pop = 0

    def _kick_controller(self) -> None:
        kick = self._kick
        if kick is not None and not kick.triggered:
            kick.succeed()

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

    def _make_wire(self, timing: BscTiming) -> BscWire:
        sda, scl = self.nets()
        slaves = self.slaves()
        self._wire_slaves = slaves
        if sda and scl and self._pin_level(sda + scl):
            self.last_level = "pin"  # edges on the nets, or to the recorders: bsc_wave
            return watched_wire(self, timing, sda, scl, slaves)
        self.last_level = "transaction"
        return TransactionWire(
            timing, self.world, slaves, sda[0] if sda else None, scl[0] if scl else None, self.owner
        )

    def _latch(self) -> _Xfer:
        c = self._c()
        return _Xfer(self._values["A"] & 0x7F, bool(c & C_READ), self._dlen_written)

    def _begin(self) -> None:
        """C.ST with no transfer active: TA now, the controller process at once."""
        timing = self.timing()  # raises on a DEL the model refuses, before anything starts
        self._ta = True
        self._done = False
        self._abort = False
        self._pending_st = False
        self._st_while_aborting = False
        x = self._latch()
        self._xfer = x
        self._proc = self.world.process(self._controller(x, timing))

    def _controller(self, x: _Xfer, timing: BscTiming) -> Any:
        wire = self._next_wire or self._make_wire(timing)
        self._next_wire = None
        self._wire = wire
        try:
            yield from self._run_transfer(wire, x)
        except simpy.Interrupt:
            self._abandon()
        except BusHung:
            # SCL is held low for good and CLKT is off: TA stays until CLEAR or I2CEN=0
            yield from self._hang()
        finally:
            if self._wire is wire:
                wire.finish()
                self._wire = None

    def _hang(self) -> Any:
        while not self._abort:
            self._kick = self.world.event()
            yield self._kick
        self._abandon()

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

    def _run_transfer(self, wire: BscWire, x: _Xfer) -> Any:
        if self.world.now_ns < self._bus_free_at:
            # a new START no sooner than half a period after the last STOP (bus free time)
            yield self.world.timeout(self._bus_free_at - self.world.now_ns)
        t0 = self.world.now_ns
        out: ByteOutcome = yield from wire.start(t0, x.address << 1 | int(x.read))
        ok = out.ack and out.clkt_bit is None
        clkt_bit = out.clkt_bit
        t_last = out.t_end
        last_ack = out.ack
        nacked = False  # ERR recorded in this run (the first NACK is what ERR reports)
        while True:
            while ok:
                if x.started == x.dlen:
                    # this message is complete: repeated START if one is queued by then
                    yield from self._wait_until(wire.cursor)
                    if self._pending_st and not self._abort:
                        x = yield from self._queued_start(wire)
                        out = self._last_out
                        ok = out.ack and out.clkt_bit is None
                        clkt_bit, t_last, last_ack = out.clkt_bit, out.t_end, out.ack
                        continue
                    break
                if self._abort:
                    if x.read and last_ack:
                        # the slave is sending: NACK one more byte, then STOP
                        run = yield from wire.reads(1, True)
                        self._plan(x, run, True)
                    break
                run = yield from self._next_run(wire, x)
                if run is None:
                    continue  # stalled, then aborted
                if run.values:
                    t_last = run.ends[-1]
                    last_ack = run.acks[-1]
                clkt_bit = run.clkt_bit
                if clkt_bit is not None or (not x.read and not last_ack):
                    ok = False
            if clkt_bit is not None or last_ack or (x.read and x.started) or self._abort:
                break
            # the address, or a byte written, was not acknowledged: ERR
            if not nacked:
                nacked = True
                phase = "address" if x.started == 0 else f"data byte {x.started}"
                self.last_error = _ErrorInfo("nack", x.address, phase, t_last)
                self._at(t_last, self._set_err)
            # The BSC has no stop-on-error: a START queued (C.ST while TA) by the end of the
            # NACKed byte follows it as a repeated START and the next message runs anyway
            # (raspberrypi/linux#5429: "it proceeds to do a repeated start and try the read
            # anyway"; PR #5434: the controllers "do not have an interrupt-on-error
            # capability, and this makes it easy to proceed past a write NAK condition to the
            # remainder of a multi-part transfer").
            yield from self._wait_until(max(t_last, wire.cursor))
            if not (self._pending_st and not self._abort):
                break
            x = yield from self._queued_start(wire)
            out = self._last_out
            ok = out.ack and out.clkt_bit is None
            clkt_bit, t_last, last_ack = out.clkt_bit, out.t_end, out.ack
        if clkt_bit is not None:
            self._end_clkt(x, clkt_bit, t_last)
            yield from self._wait_until(t_last)
            return
        t_stop, stopped = yield from wire.stop()
        if not stopped:
            self._end_clkt(x, -1, t_stop)
            yield from self._wait_until(t_stop)
            return
        self._at(t_stop, self._finish)
        self._bus_free_at = t_stop + wire.timing.ns(wire.timing.half)
        yield from self._wait_until(t_stop)

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

    def _end_clkt(self, x: _Xfer, bit: int, t: int) -> None:
        reading = x.read and x.started > 0  # the byte being clocked is a read byte
        if bit < 0:
            phase = "repeated START or STOP"
        elif bit == 8:
            phase = (StretchPhase.READ_PRE_ACK if reading else StretchPhase.WRITE_PRE_ACK).value
        elif bit == 0 and x.started == 0:
            phase = "address"
        elif bit == 0:
            after_read = reading and x.started > 1
            phase = (
                StretchPhase.READ_POST_ACK if after_read else StretchPhase.WRITE_POST_ACK
            ).value
        else:
            phase = f"{StretchPhase.MID_BYTE.value} (bit {bit})"
        self.last_error = _ErrorInfo("clkt", x.address, phase, t)

        def fire() -> None:
            self._clkt = True
            self._finish()

        self._at(t, fire)

    def _finish(self) -> None:
        self._ta = False
        self._done = True
        if self._pending_st and self._st_while_aborting and self._c() & C_I2CEN:
            # a START written while an aborted transfer finishes (CLEAR, then the next
            # transfer's ST before the STOP) is not lost: the controller starts it after the
            # STOP [I: the datasheet says only that ST while a transfer is active queues the
            # next one]
            self._begin()

    _transferred = 0
    """Bytes of the current call that the wire moved (ACKed writes, reads), as Linux counts."""
