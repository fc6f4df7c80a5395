"""The closed form of a whole ``BscBlock.transfer``: the driver call without the SimPy steps.

`BscBlock.transfer` is the Linux i2c-bcm2835 driver programming the BSC register by
register, its ISR answering each interrupt, and the controller process clocking the bytes
(`pihil_emulator.soc.bsc`). When nothing can see or disturb the transfer before it ends,
the same result follows from the byte outcomes alone, and `fast_transfer` computes it
that way: it runs the transaction-level wire's operations in the order the controller
makes them (the same target calls, stamped with the same bus times), leaves the registers
as the driver's ``bcm2835_i2c_complete`` leaves them (C cleared, S write-1-cleared, the FIFO
empty, DLEN and A as the last message latched them), and moves the clock once, to the STOP,
where the slow path's DONE interrupt completes the call.

It is taken only when every one of these holds (else `fast_transfer` returns None having
changed nothing, and the slow path runs as before):

- the messages are one write (1..16 bytes: it fits the FIFO, so the ISR fills it once), one
  read (any length: the ISR drains at RXR and DONE, the FIFO never stalls the clock), or
  such a write then a read (a register read): the shapes whose outcomes are modelled here;
- the controller is idle (no transfer active or queued, FIFO and timeline empty, no ERR or
  CLKT pending) and no driver call is in progress;
- the bus runs at transaction level (no VCD recorder or edge queue on SDA/SCL, ``level``
  not ``"pin"``), nothing outside drives the lines, and every slave is idle and fault-free;
  or VCD recorders are all that watches SDA/SCL (`bsc_wave.wave_recorders`): then the
  same run hands them its waveform as data (`bsc_wave.WaveWire`, ``last_level`` "pin",
  counted in ``wave_path_count``, not ``fast_path_count``);
- no SimPy event is due before the latest STOP the transfer can make, so no other process
  can act, or look at the registers or a device, in between; and it ends inside the
  adapter timeout. Events already finished (the stop marker a previous run left at
  ``now``) are stepped first, as the slow run would step them.

Two engines, the controller's own wire in both:

- no slave can stretch (`TransactionWire.clean`): `FastBus`, the closed form, every byte
  nine SCL periods; the latest STOP is the unstretched one (`BscTiming.ideal_ticks`; a
  NACK only brings it earlier);
- slaves that stretch only as their declared profiles say (`TransactionWire.declared`:
  ``I2cTarget.stretches`` on a class that keeps the base ``stretch``): the virtual bus,
  with the stretch bug of the variant and CLKT (soc-facts §1.2, §1.3, §8.3); the latest
  STOP allows every declared stretch on every byte it may apply to (`_stretch_bound`).

Outcomes modelled: every byte ACKed; the address of the only message, or of the read after
a write, NACKed (EREMOTEIO); a written byte NACKed in a write-only transfer. The others are
handed to the slow path: a NACK in the write of a write+read (its bytes stay in the FIFO
ahead of the read, no stop-on-error, raspberrypi/linux#5429, and the ISR may abort the read
at RXR while the controller goes on alone), a CLKT timeout (EIO), a bus that hangs. The
wire operations already made go with it in a `ReplayWire`, which gives the controller
their recorded results instead of repeating them: the targets see each call once, and the
run is the slow path's own from there.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any

from ..buses.i2c_master import I2cMessage
from ..buses.i2c_slave import I2cSlave
from ..buses.i2c_timing import BscTiming, ByteOutcome
from ..buses.i2c_wire import BscWire, BusHung, ByteRun, FastBus, SimGen, TransactionWire
from ..errors import ConfigurationError
from ..world.net import Net
from ..world.scheduler import Scheduler
from .bsc_map import FIFO_DEPTH, ErrorInfo, Xfer
from .bsc_wave import WaveWire, one_sender, wave_recorders, wave_timing

if TYPE_CHECKING:
    from .bsc import BscBlock

_Op = tuple[str, tuple[Any, ...], Any, int]
"""A wire operation made ahead: (name, arguments, result, the wire's cursor after it)."""


def _sync(gen: Generator[Any, Any, Any]) -> Any:
    """The result of a transaction-level wire operation (it returns without waiting)."""
    try:
        gen.send(None)
    except StopIteration as stop:
        return stop.value
    gen.close()
    raise RuntimeError("a transaction-level wire operation waited")  # pragma: no cover


def _value(result: Any) -> SimGen:
    return result
    yield  # pragma: no cover


class ReplayWire(BscWire):
    """A `TransactionWire` whose first operations were already made: their results, in order.

    The controller asks for the operations `fast_transfer` made ahead (the same arguments: it
    checks) and gets their results, or their exception; a read made ahead in one piece is
    handed out in the pieces the controller asks for (the FIFO's room). Then the wire itself
    answers.
    """

    level = "transaction"

    def __init__(self, wire: TransactionWire, ops: Sequence[_Op]) -> None:
        super().__init__(wire.timing)
        self.wire = wire
        self.ops: deque[_Op] = deque(ops)
        self._cursor: int | None = None

    @property
    def cursor(self) -> int:
        return self.wire.cursor if self._cursor is None or not self.ops else self._cursor

    def _take(self, name: str, args: tuple[Any, ...]) -> SimGen | None:
        if not self.ops:
            self._cursor = None
            return None
        op, recorded, result, cursor = self.ops.popleft()
        if op != name or recorded != args:
            raise AssertionError(f"replayed {op}{recorded}, asked for {name}{args}")
        self._cursor = cursor
        if isinstance(result, BaseException):
            raise result
        return _value(result)

    def start(self, t0: int, address_byte: int) -> SimGen:
        return self._take("start", (t0, address_byte)) or self.wire.start(t0, address_byte)

    def repeated_start(self, address_byte: int) -> SimGen:
        taken = self._take("repeated_start", (address_byte,))
        return taken or self.wire.repeated_start(address_byte)

    def write(self, value: int) -> SimGen:
        return self.wire.write(value)

    def read(self, ack: bool) -> SimGen:
        return self.wire.read(ack)

    def writes(self, values: Sequence[int]) -> SimGen:
        return self._take("writes", (tuple(values),)) or self.wire.writes(values)

    def reads(self, n: int, nack_last: bool) -> SimGen:
        if self.ops and self.ops[0][0] == "reads":
            _, (total, nack), run, cursor = self.ops[0]
            if n < len(run) or (n < total and not run.stopped):
                # the first n bytes of a read made ahead: the rest stays for the next ask
                if nack_last and n < total:
                    raise AssertionError(f"a read of {total} asked for in a piece of {n}")
                head, rest = _split(run, n)
                self.ops[0] = ("reads", (total - n, nack), rest, cursor)
                self._cursor = head.ends[-1]
                return _value(head)
            self.ops[0] = ("reads", (n, nack_last), run, cursor)
        return self._take("reads", (n, nack_last)) or self.wire.reads(n, nack_last)

    def stop(self) -> SimGen:
        return self._take("stop", ()) or self.wire.stop()

    def resume_at(self, t: int) -> None:
        self.wire.resume_at(t)

    def finish(self) -> None:
        self.wire.finish()


def _split(run: ByteRun, n: int) -> tuple[ByteRun, ByteRun]:
    """The first ``n`` bytes of a run (which go on: no CLKT among them) and the rest."""
    head, rest = ByteRun(), ByteRun()
    head.values, rest.values = run.values[:n], run.values[n:]
    head.acks, rest.acks = run.acks[:n], run.acks[n:]
    head.starts, rest.starts = run.starts[:n], run.starts[n:]
    head.ends, rest.ends = run.ends[:n], run.ends[n:]
    rest.clkt_bit = run.clkt_bit
    return head, rest


def _shape(msgs: Sequence[I2cMessage]) -> bool:
    """One write (1..16 bytes), one read (1.. bytes), or such a write then a read."""
    if len(msgs) == 2:
        w, r = msgs
        return not w.read and 1 <= w.length <= FIFO_DEPTH and r.read and r.length >= 1
    if len(msgs) == 1:
        m = msgs[0]
        return m.length >= 1 and (m.read or m.length <= FIFO_DEPTH)
    return False


def _idle(block: BscBlock) -> bool:
    proc = block._proc
    return not (
        block._ta
        or block._pending_st
        or block._timeline
        or block._fifo
        or block._planned_pop
        or block._planned_push
        or block._err
        or block._clkt
        or block._in_irq
        or block._irq_handler is not None
        or block._wire is not None
        or block._next_wire is not None
        or (proc is not None and proc.is_alive)
    )


def _step_finished(env: Scheduler) -> None:
    """Step the events at the head of the queue that are due now and have nothing left to run
    (``run(until=event)`` puts its stop event back with no callbacks): the slow run would
    step them first (priority -1), with no effect but their removal."""
    queue = env.pending
    now = env.time_ns
    while queue:
        t, _, _, event = queue[0]
        if t > now or event.callbacks or not event.ok:
            return
        env.step()


def fast_transfer(
    block: BscBlock, msgs: list[I2cMessage], sda: list[Net], scl: list[Net]
) -> list[bytes] | None:
    """`BscBlock.transfer` in closed form, or None (nothing done) when it may not be used.

    ``sda``/``scl`` are the nets the block's pins are routed to (both non-empty). Raises
    `BusError` as the slow path does for a NACK (see the module docstring)."""
    if not _shape(msgs) or not _idle(block):
        return None
    world = block.world
    env = world.env
    if type(env) is not Scheduler:
        return None  # another environment (a real-time one paces its steps) gets them
    try:
        timing = block.timing()
    except ConfigurationError:
        return None  # the slow path raises it, from the same place
    if env.pending:
        _step_finished(env)
    now = world.now_ns
    t0 = max(now, block._bus_free_at)
    lengths = (msgs[0].length,) if len(msgs) == 1 else (msgs[0].length, msgs[1].length)
    t_end = t0 + timing.ns(timing.ideal_ticks(lengths))
    if t_end - now >= block.adapter_timeout_ns or env.peek() <= t_end:
        return None
    pin, slaves = block._bus_view(sda, scl)
    wire: TransactionWire
    if pin:
        # only VCD recorders watch: the same run, its waveform handed to them (bsc_wave)
        seen = wave_recorders(block.level, world, block.soc.gpio, sda, scl)
        if seen is None or not wave_timing(timing) or not one_sender(slaves, msgs):
            return None
        block._wire_slaves = slaves
        block.last_level = "pin"  # what the recorders get: the pin level's edges
        wire = WaveWire(timing, world, slaves, sda[0], scl[0], block.owner, *seen)
    else:
        # what the controller's _make_wire does at transaction level
        block._wire_slaves = slaves
        block.last_level = "transaction"
        wire = TransactionWire(timing, world, slaves, sda[0], scl[0], block.owner)
    fast = wire.closed_form(t0)
    if fast is not None:
        return _run(block, msgs, wire, fast, t0)
    if not wire.declared():
        return None
    # slaves that stretch as their profiles say: the virtual bus, in the window those allow
    t_end += _stretch_bound(slaves, msgs, timing)
    if t_end - now >= block.adapter_timeout_ns or env.peek() <= t_end:
        return None
    return _run_wire(block, msgs, wire, t0)


def _stretch_bound(
    slaves: Sequence[I2cSlave], msgs: Sequence[I2cMessage], timing: BscTiming
) -> int:
    """At most how much the declared stretches can lengthen the transfer (ns): each entry on
    every byte it may apply to, plus two SCL periods for the master to take up the clock
    again (a half period or a runt on the buggy BSC, a full high time on the fixed one)."""
    slack = 2 * timing.ns(2 * timing.half) + 2
    every = sum(m.length + 1 for m in msgs)
    bound = 0
    for s in slaves:
        for st in s.target.stretches:
            bound += (every if st.byte_index is None else len(msgs)) * (st.duration_ns + slack)
    return bound


def _run(
    block: BscBlock, msgs: list[I2cMessage], wire: TransactionWire, fast: FastBus, t0: int
) -> list[bytes] | None:
    """The messages on the closed-form bus ``fast``, as the controller and the ISR run them."""
    last = msgs[-1]
    first = msgs[0]
    transferred = 0
    nack: ErrorInfo | None = None
    started = 0  # bytes of the last message begun
    results: list[bytes] = []
    byte = first.address << 1 | int(first.read)
    ack, t_start, t_end = fast.address_times(byte)
    if not first.read:
        two = last is not first
        if ack:
            data = first.data
            run = fast.writes(data)
            acks = run.acks
            transferred = len(acks) if acks[-1] else len(acks) - 1
            if not two:
                started = len(acks)
            if not acks[-1]:
                if two:  # the write's bytes stay in the FIFO ahead of the read
                    return _fall_back(block, wire, t0, byte, (ack, t_start, t_end), run, data)
                nack = ErrorInfo("nack", first.address, f"data byte {len(acks)}", run.ends[-1])
        elif two:  # the write's bytes stay in the FIFO ahead of the read
            return _fall_back(block, wire, t0, byte, (ack, t_start, t_end), None)
        else:
            nack = ErrorInfo("nack", first.address, "address", t_end)
        if two:
            fast.repeated_start()
            ack, t_start, t_end = fast.address_times(last.address << 1 | 1)
    if last.read:
        if ack:
            rrun = fast.reads(last.length, True)
            transferred += last.length
            started = last.length
            results.append(bytes(rrun.values))
        else:
            nack = ErrorInfo("nack", last.address, "address", t_end)
    if not fast.can_stop():  # pragma: no cover - a read NACKs its last byte
        raise RuntimeError("the closed form cannot make the STOP")
    t_stop, _ = fast.stop()
    return _done(block, msgs, wire, t_stop, transferred, started, nack, results)


def _done(
    block: BscBlock,
    msgs: list[I2cMessage],
    wire: TransactionWire,
    t_stop: int,
    transferred: int,
    started: int,
    nack: ErrorInfo | None,
    results: list[bytes],
) -> list[bytes]:
    """The STOP made at ``t_stop``: the clock there, and the state the driver's DONE interrupt
    and ``bcm2835_i2c_complete`` leave; the NACK raised as the driver fails the call."""
    last = msgs[-1]
    if isinstance(wire, WaveWire):
        wire.deliver()  # before the clock moves: a recorder keeps it as data from now on
        block.wave_path_count += 1
    else:
        block.fast_path_count += 1
    block.world.env.time_ns = t_stop  # nothing is due before the STOP (checked above)
    wire.finish()
    # what bcm2835_i2c_complete leaves: C cleared (CLEAR, I2CEN off), S write-1-cleared
    values = block._values
    values["A"] = last.address
    values["DLEN"] = last.length
    values["C"] = 0
    block._dlen_written = last.length
    block._xfer = Xfer(last.address, last.read, last.length, started, started)
    block._done = False
    block._abort = False
    block._st_while_aborting = False
    block._bus_free_at = t_stop + wire.timing.ns(wire.timing.half)
    block._transferred = transferred
    block.last_error = nack
    if nack is not None:
        block._raise_nack(msgs)
    return results


class _Unmodelled(Exception):
    """An outcome `_run_wire` leaves to the slow path (with the operations made so far)."""


def _run_wire(
    block: BscBlock, msgs: list[I2cMessage], wire: TransactionWire, t0: int
) -> list[bytes] | None:
    """`_run` on the virtual bus (slaves that stretch): the wire's own operations, recorded so
    that the slow path can take over at any outcome not modelled here (CLKT, a NACK in the
    write of a write+read, a bus that hangs)."""
    ops: list[_Op] = []

    def op(name: str, args: tuple[Any, ...], gen: Generator[Any, Any, Any]) -> Any:
        try:
            result = _sync(gen)
        except BusHung as exc:
            ops.append((name, args, exc, wire.cursor))
            raise _Unmodelled from None
        ops.append((name, args, result, wire.cursor))
        return result

    try:
        return _run_ops(block, msgs, wire, t0, op)
    except _Unmodelled:
        block._next_wire = ReplayWire(wire, ops)
        return None


def _run_ops(
    block: BscBlock,
    msgs: list[I2cMessage],
    wire: TransactionWire,
    t0: int,
    op: Callable[[str, tuple[Any, ...], Generator[Any, Any, Any]], Any],
) -> list[bytes]:
    last, first = msgs[-1], msgs[0]
    two = last is not first
    transferred = started = 0
    nack: ErrorInfo | None = None
    results: list[bytes] = []
    byte = first.address << 1 | int(first.read)
    out: ByteOutcome = op("start", (t0, byte), wire.start(t0, byte))
    if out.clkt_bit is not None:
        raise _Unmodelled
    if not first.read:
        if out.ack:
            data = tuple(first.data)
            run: ByteRun = op("writes", (data,), wire.writes(data))
            if run.clkt_bit is not None or (two and not run.acks[-1]):
                raise _Unmodelled
            transferred = sum(run.acks)
            if not two:
                started = len(run)
            if not run.acks[-1]:
                nack = ErrorInfo("nack", first.address, f"data byte {len(run)}", run.ends[-1])
        elif two:
            raise _Unmodelled
        else:
            nack = ErrorInfo("nack", first.address, "address", out.t_end)
        if two:
            byte = last.address << 1 | 1
            out = op("repeated_start", (byte,), wire.repeated_start(byte))
            if out.clkt_bit is not None:
                raise _Unmodelled
    if last.read:
        if out.ack:
            rrun: ByteRun = op("reads", (last.length, True), wire.reads(last.length, True))
            if rrun.clkt_bit is not None:
                raise _Unmodelled
            transferred += len(rrun)
            started = len(rrun)
            results.append(bytes(rrun.values))
        else:
            nack = ErrorInfo("nack", last.address, "address", out.t_end)
    t_stop, stopped = op("stop", (), wire.stop())
    if not stopped:
        raise _Unmodelled
    return _done(block, msgs, wire, t_stop, transferred, started, nack, results)


def _fall_back(
    block: BscBlock,
    wire: TransactionWire,
    t0: int,
    byte: int,
    address: tuple[bool, int, int],
    run: ByteRun | None,
    data: bytes = b"",
) -> list[bytes] | None:
    """An outcome not modelled here, after the first message: the slow path runs, and the
    controller's first wire operations (START and address, the write's bytes) are replayed."""
    ack, t_start, t_end = address
    out = ByteOutcome(byte, ack, t_start, t_end)
    if run is None:
        ops: list[_Op] = [("start", (t0, byte), out, t_end)]
    else:
        ops = [
            ("start", (t0, byte), out, t_end),
            ("writes", (tuple(data),), run, run.ends[-1]),
        ]
    if isinstance(wire, WaveWire):
        wire._slow()  # the rest on the virtual bus, its edges to the recorders
    block._next_wire = ReplayWire(wire, ops)
    return None
