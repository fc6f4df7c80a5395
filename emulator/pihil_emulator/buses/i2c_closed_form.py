"""The closed form of a clean I2C bus: every byte is nine SCL periods (transaction level, fast path).

`FastBus` calls the targets at the instants the slave machines would call them, without
running them edge by edge, and can hand the bus to a `VirtualBus` (`i2c_virtual`) at any
byte boundary. `ByteRun` is what a run of data bytes produced, at either level. Both are
re-exported by `i2c_wire`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .i2c_slave import I2cSlave, SlaveState
from .i2c_target import I2cTarget
from .i2c_timing import NS_PER_S, BscSequencer, ByteOutcome
from .i2c_virtual import VirtualBus

_T = TypeVar("_T")


class ByteRun:
    """Consecutive data bytes of one message as the master clocked them.

    ``values`` went out (write) or were sampled (read); ``acks`` are the ACK bits
    (the slave's for a write, the master's own for a read); ``starts``/``ends`` the
    falling edges that open and close each byte's nine clocks. A run stops early
    after a NACKed write or a clock-stretch timeout (``clkt_bit``: the bit, 0-8,
    whose SCL never came back in time; its ``ends`` entry is when CLKT fired).
    """

    __slots__ = ("acks", "clkt_bit", "ends", "starts", "values")

    def __init__(self) -> None:
        self.values: list[int] = []
        self.acks: list[bool] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.clkt_bit: int | None = None

    def __len__(self) -> int:
        return len(self.values)

    def add(self, out: ByteOutcome) -> None:
        self.values.append(out.value)
        self.acks.append(out.ack)
        self.starts.append(out.t_start)
        self.ends.append(out.t_end)
        self.clkt_bit = out.clkt_bit

    @property
    def stopped(self) -> bool:
        """The run ended the message early: a CLKT, or a write the slave did not ACK."""
        return self.clkt_bit is not None


class FastBus:
    """The closed form: a clean bus where every byte takes nine SCL periods.

    It makes exactly the target calls the slave machines would make, at the same
    instants, and keeps what it needs to hand the bus to a `VirtualBus` at a byte
    boundary (`hand_over`).
    """

    def __init__(self, seq: BscSequencer, slaves: Sequence[I2cSlave], t0: int) -> None:
        self.seq = seq
        self.slaves = list(slaves)
        h = seq.timing.half
        seq.anchor = t0
        seq.k = h  # START: SDA falls at t0, SCL half a period later
        self.byte_ticks = 18 * h
        self.addressed: list[I2cSlave] = []  # start() called since the STOP
        self.active: list[I2cSlave] = []  # ACKed and still talking
        self.tx: list[int] = []  # per active slave: the byte it has shifted out (read)
        self.read_mode = False
        self.master_sda_low = False  # the master's ACK of the last read byte
        self.byte_index = 0

    @staticmethod
    def _call(slave: I2cSlave, t: int, fn: Callable[..., _T], *args: Any) -> _T:
        target = slave.target
        target._bus_time_ns = t
        try:
            return fn(*args)
        finally:
            target._bus_time_ns = None

    def _times(self, n: int) -> tuple[list[int], list[int]]:
        """Start and end times of the next ``n`` bytes; the master moves past them."""
        seq = self.seq
        k0, step = seq.k, self.byte_ticks
        anchor, f = seq.anchor, seq.timing.core_clock_hz
        seq.k = k0 + n * step
        byte_ns, rem = divmod(step * NS_PER_S, f) if n > 3 else (0, 0)
        if byte_ns and not rem:  # a whole number of ns a byte: the same instants, by `range`
            # (from 4 bytes on; for fewer the comprehension below costs less than two ranges)
            first = anchor + k0 * NS_PER_S // f
            return (
                list(range(first, first + n * byte_ns, byte_ns)),
                list(range(first + byte_ns, first + (n + 1) * byte_ns, byte_ns)),
            )
        edges = [anchor + (k0 + i * step) * NS_PER_S // f for i in range(n + 1)]
        return edges[:-1], edges[1:]

    def address(self, byte: int) -> ByteOutcome:
        ack, t_start, t_end = self.address_times(byte)
        return ByteOutcome(byte, ack, t_start, t_end)

    def address_times(self, byte: int) -> tuple[bool, int, int]:
        """`address` as (ACK, start, end) of the address byte."""
        seq = self.seq
        anchor, k, f = seq.anchor, seq.k, seq.timing.core_clock_hz
        t_call = anchor + (k + 16 * seq.timing.half) * NS_PER_S // f
        address, read = byte >> 1, bool(byte & 1)
        acked: list[I2cSlave] = []
        addressed = self.addressed
        for s in self.slaves:
            target = s.target
            # (the base class's responds_to, inlined: present and the address matches)
            if (
                (target.present and target.address == address)
                if s._base_responds
                else target.responds_to(address)
            ):
                if s not in addressed:
                    addressed.append(s)
                target._bus_time_ns = t_call
                try:
                    ack = target.start(read)
                finally:
                    target._bus_time_ns = None
                if ack:
                    acked.append(s)
        self.active = acked
        self.read_mode = read
        self.master_sda_low = False
        self.byte_index = 1 if acked else 0
        t_start = anchor + k * NS_PER_S // f
        k += self.byte_ticks
        seq.k = k
        t_end = anchor + k * NS_PER_S // f
        if read and acked:
            self._load(t_end)
        return bool(acked), t_start, t_end

    def _load(self, t: int) -> None:
        active = self.active
        if len(active) == 1:
            target = active[0].target
            target._bus_time_ns = t
            try:
                self.tx = [int(target.read_byte()) & 0xFF]
            finally:
                target._bus_time_ns = None
            return
        self.tx = [int(self._call(s, t, s.target.read_byte)) & 0xFF for s in active]

    def writes(self, values: Sequence[int]) -> ByteRun:
        seq = self.seq
        step = self.byte_ticks
        call_offset = 16 * seq.timing.half
        run = ByteRun()
        if len(self.active) == 1:
            self._writes_one(run, values)
            return run
        for value in values:
            t_call = seq.time(seq.k + call_offset)
            self.active = [
                s for s in self.active if self._call(s, t_call, s.target.write_byte, value)
            ]
            t_start = seq.time(seq.k)
            seq.k += step
            run.values.append(value)
            run.acks.append(bool(self.active))
            run.starts.append(t_start)
            run.ends.append(seq.time(seq.k))
            self.byte_index += 1
            if not self.active:
                break
        return run

    def _writes_one(self, run: ByteRun, values: Sequence[int]) -> None:
        """`writes` to the one slave listening: each byte offered at its ACK clock's fall."""
        seq = self.seq
        anchor, k, f, step = seq.anchor, seq.k, seq.timing.core_clock_hz, self.byte_ticks
        call_offset = 16 * seq.timing.half
        target = self.active[0].target
        write_byte = target.write_byte
        acks, starts, ends = run.acks, run.starts, run.ends
        acked = True
        try:
            for value in values:
                target._bus_time_ns = anchor + (k + call_offset) * NS_PER_S // f
                acked = bool(write_byte(value))
                starts.append(anchor + k * NS_PER_S // f)
                k += step
                ends.append(anchor + k * NS_PER_S // f)
                acks.append(acked)
                if not acked:
                    break
        finally:
            target._bus_time_ns = None
            seq.k = k
        run.values = list(values[: len(acks)])
        self.byte_index += len(acks)
        if not acked:
            self.active = []

    def reads(self, n: int, nack_last: bool) -> ByteRun:
        starts, ends = self._times(n)
        run = ByteRun()
        run.starts = starts
        run.ends = ends
        if len(self.active) == 1 and n:
            self._reads_one(run, n, nack_last)
            return run
        values = run.values
        acks = run.acks
        last = n - 1
        for i in range(n):
            ack = not (nack_last and i == last)
            active = self.active
            t = ends[i]
            value = 0xFF
            for b in self.tx:
                value &= b
            values.append(value)
            for s in active:
                self._call(s, t, s.target.master_ack, ack)
            if ack:
                self._load(t)
            acks.append(ack)
            if ack:
                self.byte_index += 1
            else:
                self.active = []
                self.tx = []
        self.master_sda_low = bool(acks) and acks[-1]
        return run

    def _reads_one(self, run: ByteRun, n: int, nack_last: bool) -> None:
        """`reads` from the one slave that is sending: its byte, then the master's ACK (and
        the next byte loaded) at each byte's last falling edge; NACK of the last with
        ``nack_last``."""
        target = self.active[0].target
        read_byte = target.read_byte
        # the base class's master_ack does nothing: not calling it is the same
        master_ack = None if type(target).master_ack is I2cTarget.master_ack else target.master_ack
        ends = run.ends
        values = run.values
        acked = n - 1 if nack_last else n
        tx = self.tx[0]
        if master_ack is None and acked:
            # a memory's sequential read in one call (`At24Eeprom.read_many`): the same bytes
            # and counter as `acked` read_byte calls; its reads take no note of the time
            bulk = getattr(target, "read_many", None)
            got = bulk(acked) if bulk is not None else None
            if got is not None:
                stream = bytes((tx,)) + got
                values.extend(stream[:n])
                tx = stream[-1]
                self._reads_done(run, n, acked, tx, nack_last)
                return
        try:
            if master_ack is None:
                for t in ends[:acked]:
                    values.append(tx)
                    target._bus_time_ns = t
                    tx = int(read_byte()) & 0xFF
            else:
                for t in ends[:acked]:
                    values.append(tx)
                    target._bus_time_ns = t
                    master_ack(True)
                    tx = int(read_byte()) & 0xFF
            if acked < n:
                values.append(tx)
                if master_ack is not None:
                    target._bus_time_ns = ends[acked]
                    master_ack(False)
        finally:
            target._bus_time_ns = None
        self._reads_done(run, n, acked, tx, nack_last)

    def _reads_done(self, run: ByteRun, n: int, acked: int, tx: int, nack_last: bool) -> None:
        """`_reads_one`'s end: the ACKs, and the byte loaded next (or the slave let go)."""
        run.acks = [True] * acked
        self.byte_index += acked
        if acked < n:
            run.acks.append(False)
            self.active = []
            self.tx = []
        else:
            self.tx[0] = tx
        self.master_sda_low = not nack_last

    def repeated_start(self) -> None:
        self.seq.k += 3 * self.seq.timing.half
        self.active = []
        self.tx = []
        self.master_sda_low = False

    def can_stop(self) -> bool:
        """A STOP is clean unless a slave is driving the first bit of a read byte."""
        return not (self.read_mode and self.active)

    def stop(self) -> tuple[int, bool]:
        seq = self.seq
        seq.k += 2 * seq.timing.half
        t = seq.position_ns
        for s in self.addressed:
            target = s.target
            target._bus_time_ns = t
            try:
                target.stop()
            finally:
                target._bus_time_ns = None
        self.addressed = []
        self.active = []
        return t, True

    def hand_over(self, vbus: VirtualBus) -> None:
        """Give the slave machines the state the closed form kept (at a byte boundary).

        The master holds SCL low (and SDA, after ACKing a read byte); a slave that is
        sending drives the first bit of its byte.
        """
        tx = dict(zip((id(s) for s in self.active), self.tx, strict=False))
        for s in self.slaves:
            s.scl_raw = False
            s._scl = False
            s._rise_at = None
            s.bits = 0
            s.shift = 0
            s.byte_index = self.byte_index
            s.addressed = s in self.addressed
            s.read_mode = self.read_mode
            if s in self.active:
                if self.read_mode:
                    s.state = SlaveState.READ
                    s.tx = tx[id(s)]
                    s.sda_low = not s.tx & 0x80
                else:
                    s.state = SlaveState.WRITE
            else:
                s.state = SlaveState.IGNORE
        vbus.m_scl = True
        vbus.m_sda = self.master_sda_low
        vbus.scl = False
        vbus.now = self.seq.position_ns
        vbus.sda = not (self.master_sda_low or any(s.sda_low for s in self.slaves))
        vbus._sda_history = []
        vbus._sda_base = vbus.sda
        for s in self.slaves:
            s.sda_raw = vbus.sda
