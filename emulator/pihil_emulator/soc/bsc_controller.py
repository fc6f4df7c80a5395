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

`BscController` is built in three layers, one file each: `bsc_state.BscState` (the
registers' plain state, status and interrupt, the timeline), `bsc_transfer.BscTransfer`
(the bus view and a transfer's steps), and here the register handlers and the controller
process (START, the byte runs, the end of a transfer); the names of the first two are
re-exported here.
"""

from __future__ import annotations

from typing import Any

import simpy

from ..buses.i2c_target import StretchPhase
from ..buses.i2c_timing import BscTiming, ByteOutcome
from ..buses.i2c_wire import BscWire, BusHung, PinWire, TransactionWire
from .bsc_map import (
    C_CLEAR,
    C_I2CEN,
    C_INTD,
    C_INTR,
    C_INTT,
    C_READ,
    C_ST,
    FIFO_DEPTH,
    S_CLKT,
    S_DONE,
    S_ERR,
)
from .bsc_map import ErrorInfo as _ErrorInfo
from .bsc_map import Xfer as _Xfer
from .bsc_state import (
    LINUX_ADAPTER_TIMEOUT_NS,
    LINUX_DEFAULT_BUS_HZ,
    BscState,
    Level,
    _Event,
    _RunEntry,
    _signals,
)
from .bsc_transfer import BscTransfer
from .bsc_wave import watched_wire

__all__ = [
    "LINUX_ADAPTER_TIMEOUT_NS",
    "LINUX_DEFAULT_BUS_HZ",
    "BscController",
    "BscState",
    "BscTransfer",
    "Level",
    "_Event",
    "_RunEntry",
    "_signals",
]


class BscController(BscTransfer):
    """The controller of one BSC master: registers, FIFO, interrupt line, the transfer on the
    wire (see the module docstring); `BscBlock` adds the Linux driver."""

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
