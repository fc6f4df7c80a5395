"""Where the BSC sequencer meets the wire: transaction level and pin level.

Both levels run the same `BscSequencer` (the master's timing and the stretch bug)
and the same `I2cSlave` machines (the targets' front ends):

- `TransactionWire` (the default) computes each byte ahead of the clock in plain
  Python. On a clean bus (no slave can stretch, no fault, lines idle and pulled
  up) it uses the closed form: every byte is nine SCL periods and the targets are
  called at the instants the slave machines would call them. Otherwise it runs the
  sequencer against the slave machines on a `VirtualBus`, edge by edge but without
  a SimPy event per edge. It can switch from closed form to the virtual bus at any
  byte boundary.
- `PinWire` runs the sequencer on the real nets (open-drain drives) from SimPy
  timer callbacks, one timer per master edge, so the controller's process wakes
  once per byte run, not per edge; the slaves follow through `I2cSlaveHub`.

Each byte operation is a generator for ``yield from`` in a SimPy process: the
transaction level returns at once with the byte's times (possibly in the future),
the pin level returns when the byte is over.

The closed form (`FastBus`, `ByteRun`) lives in `i2c_closed_form`, the virtual bus
(`VirtualBus`, `line_condition`, `BusHung`) in `i2c_virtual`, the pin-level lines
(`NetLines`, `SimGen`, the `_QUIET_SKIP` switch) in `i2c_lines`; all are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..world.clock import World
from ..world.edges import Edge
from ..world.net import Net
from .i2c_closed_form import ByteRun, FastBus
from .i2c_lines import NetLines, SimGen
from .i2c_slave import I2cSlave, hub_for
from .i2c_timing import BscSequencer, BscTiming, ByteOutcome
from .i2c_virtual import (
    BusHung,
    LineCondition,
    Step,
    VirtualBus,
    _line_condition,
    line_condition,
)

__all__ = [
    "BscWire",
    "BusHung",
    "ByteRun",
    "FastBus",
    "LineCondition",
    "NetLines",
    "PinWire",
    "SimGen",
    "Step",
    "TransactionWire",
    "VirtualBus",
    "_line_condition",
    "line_condition",
]


def _return(value: Any) -> SimGen:
    """A SimPy-compatible generator that returns ``value`` without waiting."""
    return value
    yield  # pragma: no cover


# ------------------------------------------------------------------------------------
# the BSC's wire, at either level
# ------------------------------------------------------------------------------------


class BscWire:
    """One transfer (START to STOP) of the BSC master on its bus; see the module docstring."""

    level = "abstract"

    def __init__(self, timing: BscTiming) -> None:
        self.seq = BscSequencer(timing)
        self.timing = timing

    @property
    def cursor(self) -> int:
        """The time the master has reached (the last byte boundary it made)."""
        return self.seq.position_ns

    def start(self, t0: int, address_byte: int) -> SimGen:
        raise NotImplementedError

    def repeated_start(self, address_byte: int) -> SimGen:
        raise NotImplementedError

    def write(self, value: int) -> SimGen:
        raise NotImplementedError

    def read(self, ack: bool) -> SimGen:
        raise NotImplementedError

    def stop(self) -> SimGen:
        raise NotImplementedError

    def writes(self, values: Sequence[int]) -> SimGen:
        """Write ``values``; stops after a NACK or a CLKT. Returns a `ByteRun`."""
        run = ByteRun()
        for v in values:
            out: ByteOutcome = yield from self.write(v)
            run.add(out)
            if out.clkt_bit is not None or not out.ack:
                break
        return run

    def reads(self, n: int, nack_last: bool) -> SimGen:
        """Read ``n`` bytes, ACKing each but (with ``nack_last``) the last. Returns a `ByteRun`."""
        run = ByteRun()
        for i in range(n):
            out: ByteOutcome = yield from self.read(not (nack_last and i == n - 1))
            run.add(out)
            if out.clkt_bit is not None:
                break
        return run

    def resume_at(self, t: int) -> None:
        self.seq.resume_at(t)

    def finish(self) -> None:
        """The transfer is over on the wire (called at or after its end time)."""


class PinWire(BscWire):
    """The BSC master at pin level: edges on the real nets, one SimPy timer per edge."""

    level = "pin"

    def __init__(self, timing: BscTiming, lines: NetLines) -> None:
        super().__init__(timing)
        self.lines = lines

    def start(self, t0: int, address_byte: int) -> SimGen:
        out: ByteOutcome = yield from self.lines.run(self._start(t0, address_byte))
        return out

    def _start(self, t0: int, address_byte: int) -> Step:
        yield from self.seq.start(self.lines, t0)
        out: ByteOutcome = yield from self.seq.write_byte(self.lines, address_byte)
        return out

    def repeated_start(self, address_byte: int) -> SimGen:
        out: ByteOutcome = yield from self.lines.run(self._repeated_start(address_byte))
        return out

    def _repeated_start(self, address_byte: int) -> Step:
        ok = yield from self.seq.repeated_start(self.lines)
        if not ok:
            t = self.seq.position_ns
            return ByteOutcome(address_byte, False, t, t, clkt_bit=-1)
        out: ByteOutcome = yield from self.seq.write_byte(self.lines, address_byte)
        return out

    def write(self, value: int) -> SimGen:
        out: ByteOutcome = yield from self.lines.run(self.seq.write_byte(self.lines, value))
        return out

    def read(self, ack: bool) -> SimGen:
        out: ByteOutcome = yield from self.lines.run(self.seq.read_byte(self.lines, ack))
        return out

    def writes(self, values: Sequence[int]) -> SimGen:
        run: ByteRun = yield from self.lines.run(self._writes(values))
        return run

    def reads(self, n: int, nack_last: bool) -> SimGen:
        run: ByteRun = yield from self.lines.run(self._reads(n, nack_last))
        return run

    def _writes(self, values: Sequence[int]) -> Step:
        """`writes` as one sequence on the nets (the caller wakes once, at its end)."""
        seq, lines = self.seq, self.lines
        run = ByteRun()
        for v in values:
            out = yield from seq.write_byte(lines, v)
            run.add(out)
            if out.clkt_bit is not None or not out.ack:
                break
        return run

    def _reads(self, n: int, nack_last: bool) -> Step:
        """`reads` as one sequence on the nets."""
        seq, lines = self.seq, self.lines
        run = ByteRun()
        for i in range(n):
            out = yield from seq.read_byte(lines, not (nack_last and i == n - 1))
            run.add(out)
            if out.clkt_bit is not None:
                break
        return run

    def stop(self) -> SimGen:
        result: tuple[int, bool] = yield from self.lines.run(self.seq.stop(self.lines))
        return result

    def finish(self) -> None:
        self.lines.release_all()
        self.lines.close()


class TransactionWire(BscWire):
    """The BSC master at transaction level: closed form on a clean bus, else the virtual bus."""

    level = "transaction"

    def __init__(
        self,
        timing: BscTiming,
        world: World,
        slaves: Sequence[I2cSlave],
        sda: Net | None,
        scl: Net | None,
        owner: str,
        *,
        log: list[Edge] | None = None,
    ) -> None:
        super().__init__(timing)
        self.world = world
        self.slaves = slaves = list(slaves)
        self.log = log
        own = {s.owner for s in slaves}
        own.add(owner)
        if sda is None or scl is None:
            # not routed: the controller's pins are loose; SDA floats high through the pad
            self._cond: tuple[tuple[bool, bool | None], tuple[bool, bool | None]] = (
                (False, True),
                (False, True),
            )
        else:
            self._cond = (line_condition(sda, own), line_condition(scl, own))
        self._names = (sda.name if sda else "SDA", scl.name if scl else "SCL")
        self.vbus: VirtualBus | None = None
        self.fast: FastBus | None = None
        self.hung = False

    def _lines_clean(self) -> bool:
        """Both lines idle and pulled up by nothing of ours, and nothing recording the edges."""
        (sda_ext, sda_rel), (scl_ext, scl_rel) = self._cond
        return not (
            sda_ext or scl_ext or sda_rel is not True or scl_rel is not True or self.log is not None
        )

    def declared(self) -> bool:
        """What the wire will do is set by data known now: the lines clean, every slave idle and
        fault-free, and any stretching from a target's declared profile (``stretches`` on a class
        that keeps `I2cTarget.stretch` and ``mid_byte_stretch``); the virtual bus computes it."""
        if not self._lines_clean():
            return False
        return all(s._class_free and not s.faults and s.idle for s in self.slaves)

    def clean(self) -> bool:
        """The closed form applies from here: lines idle and pulled up, nothing recording, every
        slave idle, fault-free, unable to stretch and fast enough for the SCL high time."""
        if not self._lines_clean():
            return False
        high_ns = self.timing.ns(self.timing.half) - 1
        for s in self.slaves:
            target = s.target
            # (s._class_free and no stretch profile: `stretch_free`, its class half kept)
            if s.faults or target.stretches or not s._class_free or not s.idle:
                return False
            if target.spike_filter_ns > high_ns:
                return False
        return True

    def _slow(self) -> VirtualBus:
        if self.vbus is None:
            (sda_ext, sda_rel), (scl_ext, scl_rel) = self._cond
            self.vbus = VirtualBus(
                self.slaves,
                self.seq.position_ns if self.fast is not None else self.world.now_ns,
                sda_ext_low=sda_ext,
                scl_ext_low=scl_ext,
                sda_released=sda_rel,
                scl_released=scl_rel,
                names=self._names,
                log=self.log,
            )
            if self.fast is not None:
                self.fast.hand_over(self.vbus)
                self.fast = None
        return self.vbus

    def _run(self, step: Step) -> Any:
        vbus = self._slow()
        try:
            return vbus.run(step)
        except BusHung:
            self.hung = True
            raise

    def closed_form(self, t0: int) -> FastBus | None:
        """Begin the transfer at ``t0`` in closed form when the bus is `clean` (what `start`
        does then, before its address byte: ``FastBus.address``), else None."""
        if not self.clean():
            return None
        self.fast = FastBus(self.seq, self.slaves, t0)
        return self.fast

    def start(self, t0: int, address_byte: int) -> SimGen:
        fast = self.closed_form(t0)
        if fast is not None:
            return fast.address(address_byte)
        vbus = self._slow()
        vbus.now = t0
        self._run(self.seq.start(vbus, t0))
        return self._run(self.seq.write_byte(vbus, address_byte))
        yield  # pragma: no cover

    def repeated_start(self, address_byte: int) -> SimGen:
        if self.fast is not None:
            self.fast.repeated_start()
            return self.fast.address(address_byte)
        if not self._run(self.seq.repeated_start(self._slow())):
            t = self.seq.position_ns
            return ByteOutcome(address_byte, False, t, t, clkt_bit=-1)
        return self._run(self.seq.write_byte(self._slow(), address_byte))
        yield  # pragma: no cover

    def write(self, value: int) -> SimGen:
        if self.fast is not None:
            run = self.fast.writes((value,))
            return ByteOutcome(value, run.acks[0], run.starts[0], run.ends[0])
        return self._run(self.seq.write_byte(self._slow(), value))
        yield  # pragma: no cover

    def read(self, ack: bool) -> SimGen:
        if self.fast is not None:
            run = self.fast.reads(1, not ack)
            return ByteOutcome(run.values[0], ack, run.starts[0], run.ends[0])
        return self._run(self.seq.read_byte(self._slow(), ack))
        yield  # pragma: no cover

    def reads(self, n: int, nack_last: bool) -> SimGen:
        if self.fast is not None:
            return self.fast.reads(n, nack_last)
        run: ByteRun = yield from super().reads(n, nack_last)
        return run

    def writes(self, values: Sequence[int]) -> SimGen:
        if self.fast is not None:
            return self.fast.writes(values)
        run: ByteRun = yield from super().writes(values)
        return run

    def stop(self) -> SimGen:
        if self.fast is not None and self.fast.can_stop():
            return self.fast.stop()
        return self._run(self.seq.stop(self._slow()))
        yield  # pragma: no cover

    def resume_at(self, t: int) -> None:
        super().resume_at(t)
        if self.vbus is not None:
            self.vbus.advance(self.seq.position_ns)

    def finish(self) -> None:
        if self.vbus is not None:
            if not self.hung:
                self.vbus.advance(self.world.now_ns)
            hub_for(self.world).adopt(self.slaves)
            self.vbus = None
