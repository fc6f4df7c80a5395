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
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any, TypeVar

import simpy

from ..world.clock import World
from ..world.edges import Edge
from ..world.net import V_IH, V_IL, Drive, DriveKind, Net
from .i2c_slave import I2cSlave, SlaveState, hub_for
from .i2c_target import I2cTarget
from .i2c_timing import NS_PER_S, BscSequencer, BscTiming, ByteOutcome, WaitRise

_T = TypeVar("_T")
SimGen = Generator[simpy.Event, Any, Any]
Step = Generator[int | WaitRise, int | None, Any]


class BusHung(Exception):
    """The master waits for SCL forever (no timeout, nothing will release it)."""


def _return(value: Any) -> SimGen:
    """A SimPy-compatible generator that returns ``value`` without waiting."""
    return value
    yield  # pragma: no cover


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


# ------------------------------------------------------------------------------------
# line conditions seen from outside the bus
# ------------------------------------------------------------------------------------


_PULL = DriveKind.PULL


LineCondition = tuple[bool, bool | None]


def line_condition(net: Net, own: set[str]) -> LineCondition:
    """(held low by someone else, level when released) of a line, ignoring ``own`` drivers.

    The released level is None when nothing pulls the line (it floats at its last level).
    A function of the node's drivers and ``own`` only, so it is kept in the node's memo
    (`Node.version`): asked again (every transfer asks it for SDA and SCL) with the
    drivers unchanged and the same owners, the kept answer is exact.
    """
    node = net.node
    memo = node.memo
    if memo is not None and memo[0] == node.version and memo[1] == own:
        return memo[2]  # type: ignore[return-value]
    result = _line_condition(net, own)
    node.memo = (node.version, frozenset(own), result)
    return result


def _line_condition(net: Net, own: set[str]) -> LineCondition:
    conductance = current = 0.0
    ext_low = hard_high = False
    for owner, d in net.node.all_drivers():
        if owner in own:
            continue
        if d.kind is _PULL:
            conductance += 1.0 / d.ohms
            current += d.volts / d.ohms
        elif d.volts <= V_IL:
            ext_low = True
        else:
            hard_high = True
    if hard_high:
        return ext_low, True
    if conductance <= 0:
        return ext_low, None
    volts = current / conductance
    if volts >= V_IH:
        return ext_low, True
    if volts <= V_IL:
        return ext_low, False
    return ext_low, None


# ------------------------------------------------------------------------------------
# the virtual wire (transaction level, slow path)
# ------------------------------------------------------------------------------------


class VirtualBus:
    """SDA and SCL as wired-AND of the master, the slaves and outside holds; no SimPy.

    Slaves are fed every edge in time order; their timed releases are processed as
    the master's wake-ups pass them.
    """

    def __init__(
        self,
        slaves: Sequence[I2cSlave],
        t0: int,
        *,
        scl_ext_low: bool = False,
        sda_ext_low: bool = False,
        scl_released: bool | None = True,
        sda_released: bool | None = True,
        names: tuple[str, str] = ("SDA", "SCL"),
        log: list[Edge] | None = None,
    ) -> None:
        self.slaves = list(slaves)
        self.now = t0
        self.m_sda = False  # master pulls SDA low
        self.m_scl = False
        self._sda_ext = sda_ext_low
        self._scl_ext = scl_ext_low
        self._sda_rel = sda_released
        self._scl_rel = scl_released
        self._names = names
        self.log = log
        self.sda = all(s.sda_raw for s in self.slaves) if self.slaves else not sda_ext_low
        self.scl = all(s.scl_raw for s in self.slaves) if self.slaves else not scl_ext_low
        self.sda = self._level(
            self.sda, sda_ext_low or any(s.sda_low for s in self.slaves), sda_released
        )
        self.scl = self._level(
            self.scl, scl_ext_low or any(s.holds_scl for s in self.slaves), scl_released
        )
        self.scl_rose = -1
        self._sda_history: list[tuple[int, bool]] = []  # (time, level) since the last release
        self._sda_base = self.sda  # the level before the history starts
        self._queue: list[tuple[bool, bool]] = []  # (is_scl, level)
        self._busy = False
        for s in self.slaves:
            s.host = self

    @staticmethod
    def _level(previous: bool, low: bool, released: bool | None) -> bool:
        if low:
            return False
        return previous if released is None else released

    # -- slave host ---------------------------------------------------------------
    def outputs_changed(self, slave: I2cSlave) -> None:
        self._recompute()

    def _recompute(self) -> None:
        t = self.now
        scl = self._level(
            self.scl,
            self.m_scl or self._scl_ext or any(s.holds_scl for s in self.slaves),
            self._scl_rel,
        )
        if scl != self.scl:
            self.scl = scl
            if scl:
                self.scl_rose = t
            self._queue.append((True, scl))
            if self.log is not None:
                self.log.append(Edge(t, self._names[1], scl))
        sda = self._level(
            self.sda,
            self.m_sda or self._sda_ext or any(s.sda_low for s in self.slaves),
            self._sda_rel,
        )
        if sda != self.sda:
            self._sda_history.append((t, sda))
            self.sda = sda
            self._queue.append((False, sda))
            if self.log is not None:
                self.log.append(Edge(t, self._names[0], sda))
        if self._busy or not self._queue:
            return
        self._busy = True
        try:
            while self._queue:
                is_scl, level = self._queue.pop(0)
                for s in self.slaves:
                    if is_scl:
                        s.scl_edge(level, t)
                    else:
                        s.sda_edge(level, t)
        finally:
            self._busy = False

    # -- MasterWire ------------------------------------------------------------------
    def drive_scl(self, low: bool) -> None:
        if self.m_scl != low:
            self.m_scl = low
            history = self._sda_history
            if not low and history:
                if history[-1][0] < self.now:
                    self._sda_base = history[-1][1]
                    history.clear()
                else:
                    self._sda_base = _level_before(history, self._sda_base, self.now)
                    self._sda_history = [e for e in history if e[0] >= self.now]
            self._recompute()

    def drive_sda(self, low: bool) -> None:
        if self.m_sda != low:
            self.m_sda = low
            self._recompute()

    @property
    def master_sda_low(self) -> bool:
        return self.m_sda

    def scl_rose_at(self) -> int | None:
        return self.scl_rose if self.scl else None

    def sda_at(self, t: int) -> bool:
        return _level_before(self._sda_history, self._sda_base, t)

    # -- time ----------------------------------------------------------------------------
    def _next_release(self) -> tuple[int, I2cSlave] | None:
        best: tuple[int, I2cSlave] | None = None
        for s in self.slaves:
            r = s.release_at
            if r is not None and (best is None or r < best[0]):
                best = (r, s)
        return best

    def advance(self, t: int) -> None:
        """Run slave releases due up to ``t`` (inclusive), then stand at ``t``."""
        while True:
            nxt = self._next_release()
            if nxt is None or nxt[0] > t:
                break
            self.now = max(self.now, nxt[0])
            nxt[1].release(nxt[0])
        self.now = max(self.now, t)

    def wait_rise(self, deadline: int | None) -> int | None:
        while not self.scl:
            nxt = self._next_release()
            if nxt is None or (deadline is not None and nxt[0] > deadline):
                if deadline is None:
                    raise BusHung(f"SCL is held low for good at t={self.now} ns")
                self.advance(deadline)
                return None
            self.advance(nxt[0])
        return self.scl_rose

    def run(self, step: Step) -> Any:
        """Drive a sequencer generator to its end; returns its result."""
        send: int | None = None
        while True:
            try:
                req = step.send(send)
            except StopIteration as stop:
                return stop.value
            if isinstance(req, WaitRise):
                send = self.wait_rise(req.deadline)
            else:
                if req > self.now or self._next_release() is not None:
                    self.advance(req)
                send = None


# ------------------------------------------------------------------------------------
# pin level
# ------------------------------------------------------------------------------------


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
        self._quiet = _QUIET_SKIP and type(self.env) is simpy.Environment
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
                        env._now = req  # nothing else is due until then: see _QUIET_SKIP
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
as it would from a timer; anything a watcher schedules bounds the next skip. SimPy has no
public call for it, so it sets ``Environment._now`` (plain `simpy.Environment` only; a
real-time environment gets timers). About 0.7 µs saved per edge."""


def _level_before(history: list[tuple[int, bool]], base: bool, t: int) -> bool:
    """The level just before ``t`` from a (time, new level) history starting at ``base``."""
    for when, level in reversed(history):
        if when < t:
            return level
    return base


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
