"""The generic I2C target adapter: wire edges in, `I2cTarget` byte-level calls out.

One `I2cSlave` per attached target follows SDA and SCL edge by edge as an I2C
slave's front end does: it filters SCL (a high pulse shorter than the target's
``spike_filter_ns`` is not seen: soc-facts §1.2 "min-high filter"), detects START
and STOP, counts bits, drives its ACK and read bits on SDA (open drain) and holds
SCL low where the target asks to stretch. The same machine serves both levels of
detail: on real nets (pin level, through `I2cSlaveHub`) and on the transaction
level's virtual wire, so a device behaves identically at both.

When a stretching target drives SDA (soc-facts §1.2, §8.3). A target that
stretches because it is not ready puts its next bit on SDA when it lets go of SCL:
its ACK after a write-preACK stretch, the first byte after the address of a read
(a sensor converting, as the SHT3x does), a bit after a mid-byte stretch of a read.
At read-postACK it has already shifted out the next byte's first bit at the falling
edge (the byte was loaded before the master's ACK; the stretch is its ACK handling).
That is why a read-postACK stretch longer than half a period is harmless on the
buggy BCM2835 while the others read a wrong bit or a false NACK (Advamation, piquan).

Calls to the target are stamped with the time of the edge that caused them
(``target.now_ns``). Faults (`SlaveFaults`) can NACK the address or corrupt bits.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from ..attachments import Attachment
from ..world.clock import World
from ..world.net import Drive, Net
from .i2c_target import I2cTarget, StretchPhase

_T = TypeVar("_T")


class SlaveState(enum.Enum):
    IDLE = "idle"  # waiting for START
    ADDRESS = "address"  # receiving the address byte
    WRITE = "write"  # receiving data bits
    ACK_OUT = "ack-out"  # our ACK clock after a received byte
    READ = "read"  # sending data bits, then the master's ACK clock
    IGNORE = "ignore"  # not addressed, or finished: wait for START/STOP


_IDLE, _ADDRESS, _WRITE, _ACK_OUT, _READ, _IGNORE = (
    SlaveState.IDLE,
    SlaveState.ADDRESS,
    SlaveState.WRITE,
    SlaveState.ACK_OUT,
    SlaveState.READ,
    SlaveState.IGNORE,
)


class SlaveFaults(Protocol):
    """What a fault can do to a slave (see `pihil_emulator.buses.i2c_faults`)."""

    def nacks_address(self, slave: I2cSlave, time_ns: int) -> bool: ...

    def corrupt(self, slave: I2cSlave, byte_index: int, value: int, time_ns: int) -> int:
        """The byte as this slave receives it (``byte_index`` 0 is the address byte)."""
        ...


class SlaveHost(Protocol):
    """Whoever applies a slave's outputs to a wire (real nets, or the virtual wire)."""

    def outputs_changed(self, slave: I2cSlave) -> None: ...


def stretch_free(target: I2cTarget) -> bool:
    """True when the target can never stretch: base-class stretch methods and no profile."""
    cls = type(target)
    return (
        not target.stretches
        and cls.stretch is I2cTarget.stretch
        and cls.mid_byte_stretch is I2cTarget.mid_byte_stretch
    )


class I2cSlave:
    """The bit-level front end of one target on one pair of nets."""

    def __init__(self, target: I2cTarget, sda: Net, scl: Net) -> None:
        self.target = target
        self.sda_net = sda
        self.scl_net = scl
        self.owner = f"i2c:{target.name}"
        cls = type(target)
        # the class can never stretch (a profile in ``target.stretches`` still can)
        self._class_free = (
            cls.stretch is I2cTarget.stretch and cls.mid_byte_stretch is I2cTarget.mid_byte_stretch
        )
        self._base_responds = cls.responds_to is I2cTarget.responds_to
        """The class answers `I2cTarget.responds_to` (present, and its address): a bus may
        ask that itself."""
        self.host: SlaveHost | None = None
        self.faults: list[SlaveFaults] = []
        # outputs, and what of them a hub has put on the nets
        self.sda_applied = False
        self.scl_applied = False
        self.sda_low = False
        self.release_at: int | None = None  # holding SCL low until then
        self._on_release: Callable[[int], None] | None = None
        # what the slave sees
        self.scl_raw = scl.level
        self.sda_raw = sda.level
        self._scl = scl.level  # SCL after the spike filter
        self._rise_at: int | None = None  # a raw rise not yet confirmed by the filter
        # protocol state
        self.state = SlaveState.IDLE
        self.bits = 0
        self.shift = 0
        self.byte_index = 0
        self.read_mode = False
        self.ack_out = False
        self.master_acked = False
        self.tx = 0
        self.addressed = False  # start() was called since the last STOP

    def __repr__(self) -> str:
        return f"I2cSlave({self.target.name}, {self.state.value}, bit {self.bits})"

    @property
    def idle(self) -> bool:
        """Nothing in progress and nothing driven: a clean bus as far as this slave goes."""
        return (
            self.state is SlaveState.IDLE
            and not self.sda_low
            and self.release_at is None
            and not self.addressed
            and self._scl
            and self.sda_raw
        )

    @property
    def holds_scl(self) -> bool:
        return self.release_at is not None

    # -- calls into the target -------------------------------------------------------
    def _call(self, t: int, fn: Callable[[], _T]) -> _T:
        target = self.target
        previous = target._bus_time_ns
        target._bus_time_ns = t
        try:
            return fn()
        finally:
            target._bus_time_ns = previous

    def _changed(self) -> None:
        if self.host is not None:
            self.host.outputs_changed(self)

    def _drive_sda(self, low: bool) -> None:
        if self.sda_low != low:
            self.sda_low = low
            host = self.host
            if host is not None:
                host.outputs_changed(self)

    def _hold(self, t: int, duration: int, then: Callable[[int], None] | None) -> None:
        """Hold SCL low from ``t`` for ``duration`` ns; ``then(t_release)`` runs before letting go."""
        if duration <= 0:
            if then is not None:
                then(t)
            return
        self.release_at = t + duration
        self._on_release = then
        self._changed()

    def release(self, t: int) -> None:
        """The end of a stretch: put the pending bit on SDA, then let SCL go."""
        if self.release_at is None or t < self.release_at:
            return
        action, self._on_release = self._on_release, None
        if action is not None:
            action(t)
        self.release_at = None
        self._changed()

    # -- edges in (time order) ---------------------------------------------------------
    def scl_edge(self, level: bool, t: int) -> None:
        self.scl_raw = level
        if level:
            self._rise_at = t
            return
        rise = self._rise_at
        if rise is not None:
            self._rise_at = None
            if t - rise < self.target.spike_filter_ns:
                return  # a runt: the filter never passed it, so no clock at all
            self._confirm_rise()
        elif not self._scl:
            return
        self._scl = False
        self._fall(t)

    def sda_edge(self, level: bool, t: int) -> None:
        rise = self._rise_at
        if rise is not None and t - rise >= self.target.spike_filter_ns:
            self._rise_at = None
            self._confirm_rise()
        before = self.sda_raw
        self.sda_raw = level
        if self._scl and before != level:
            if level:
                self._stop(t)
            else:
                self._start(t)

    def _confirm_rise(self) -> None:
        self._scl = True
        state = self.state
        if state is _IDLE or state is _IGNORE:
            return
        bits = self.bits = self.bits + 1
        if bits <= 8 and (state is _WRITE or state is _ADDRESS):
            self.shift = (self.shift << 1 | self.sda_raw) & 0xFF
        elif bits == 9 and state is _READ:
            self.master_acked = not self.sda_raw

    # -- conditions ----------------------------------------------------------------------
    def _start(self, t: int) -> None:
        self.state = SlaveState.ADDRESS
        self.bits = 0
        self.shift = 0
        self.byte_index = 0
        self._drive_sda(False)

    def _stop(self, t: int) -> None:
        self.state = SlaveState.IDLE
        self.bits = 0
        self._drive_sda(False)
        if self.addressed:
            self.addressed = False
            self._call(t, self.target.stop)

    # -- what to do on a (filtered) falling edge -----------------------------------------
    def _fall(self, t: int) -> None:
        state = self.state
        bits = self.bits
        if bits == 0:
            return
        # the common states first: a byte read from us, a byte written to us
        if state is _READ:
            if bits < 8:
                if self._class_free and not self.target.stretches:
                    self._drive_sda(not self.tx >> (7 - bits) & 1)  # the next bit out
                else:
                    self._mid_byte(t, bits, bool(self.tx >> (7 - bits) & 1))
            elif bits == 8:
                self._drive_sda(False)  # the master's ACK clock
                self._hold(t, self._stretch(StretchPhase.READ_PRE_ACK, t), None)
            else:
                self._after_master_ack(t)
        elif state is _WRITE:
            if bits == 8:
                self._byte_received(t)
            elif not self._class_free or self.target.stretches:
                self._mid_byte(t, bits, None)
        elif state is _ADDRESS:
            if bits == 8:
                self._address_received(t)
        elif state is _ACK_OUT and bits >= 9:
            self._after_our_ack(t)
        # IDLE, IGNORE: nothing to do

    def _stretch(self, phase: StretchPhase, t: int) -> int:
        if self._class_free and not self.target.stretches:
            return 0  # (the base class would answer 0: skip the stamped call)
        return int(self._call(t, lambda: self.target.stretch(phase, self.byte_index)))

    def _received(self, value: int, t: int) -> int:
        for fault in self.faults:
            value = fault.corrupt(self, self.byte_index, value, t)
        return value

    def _address_received(self, t: int) -> None:
        byte = self._received(self.shift, t)
        address, read = byte >> 1, bool(byte & 1)
        target = self.target
        if not target.responds_to(address) or any(f.nacks_address(self, t) for f in self.faults):
            self.state = SlaveState.IGNORE
            return
        self.addressed = True
        ack = bool(self._call(t, lambda: target.start(read)))
        self.read_mode = read
        self._ack_phase(t, ack)

    def _byte_received(self, t: int) -> None:
        value = self._received(self.shift, t)
        ack = bool(self._call(t, lambda: self.target.write_byte(value)))
        self._ack_phase(t, ack)

    def _ack_phase(self, t: int, ack: bool) -> None:
        self.state = SlaveState.ACK_OUT
        self.ack_out = ack
        d = self._stretch(StretchPhase.WRITE_PRE_ACK, t)
        if d > 0:
            self._hold(t, d, lambda _t: self._drive_sda(ack))
        else:
            self._drive_sda(ack)

    def _after_our_ack(self, t: int) -> None:
        self._drive_sda(False)
        if not self.ack_out:
            self.state = SlaveState.IGNORE
            return
        d = self._stretch(StretchPhase.WRITE_POST_ACK, t)
        self.byte_index += 1
        self.bits = 0
        self.shift = 0
        if self.read_mode:
            self.state = SlaveState.READ
            if d > 0:
                self._hold(t, d, self._load_and_drive)  # not ready: the byte comes at release
            else:
                self._load_and_drive(t)
        else:
            self.state = SlaveState.WRITE
            self._hold(t, d, None)

    def _load_and_drive(self, t: int) -> None:
        self.tx = int(self._call(t, self.target.read_byte)) & 0xFF
        self._drive_sda(not self.tx & 0x80)

    def _after_master_ack(self, t: int) -> None:
        ack = self.master_acked
        self._call(t, lambda: self.target.master_ack(ack))
        if not ack:
            self._drive_sda(False)
            self.state = SlaveState.IGNORE
            return
        d = self._stretch(StretchPhase.READ_POST_ACK, t)
        self.byte_index += 1
        self.bits = 0
        self._load_and_drive(t)  # shifted out at the falling edge, before the stretch
        self._hold(t, d, None)

    def _mid_byte(self, t: int, bits: int, out: bool | None) -> None:
        """Between bits of a byte: a read puts its next bit out (late if it stretches)."""
        if self._class_free and not self.target.stretches:
            if out is not None:
                self._drive_sda(not out)
            return
        mid = self._call(t, lambda: self.target.mid_byte_stretch(self.byte_index))
        d = 0
        if mid is not None:
            bit, duration = mid
            if bit == bits:
                d = int(duration)
        if out is None:
            self._hold(t, d, None)
        elif d > 0:
            self._hold(t, d, lambda _t: self._drive_sda(not out))
        else:
            self._drive_sda(not out)

    # -- faults -------------------------------------------------------------------------
    def force_stuck_read(self, value: int = 0x00) -> None:
        """Fault: as if a master stopped in the middle of reading ``value`` from us.

        The slave is in a read with the first bit of ``value`` on SDA; nine clocks and a
        STOP (the usual bus recovery) free it.
        """
        self.state = SlaveState.READ
        self._scl = self.scl_raw
        self._rise_at = None
        self.bits = 1 if self._scl else 0  # SCL is up: the master let go mid-bit
        self.byte_index = 1
        self.tx = value & 0xFF
        self.addressed = True
        self.read_mode = True
        self.sda_raw = bool(self.tx & 0x80)  # it knows what it drives: no START from itself
        self._drive_sda(not self.tx & 0x80)


class I2cSlaveHub:
    """The slaves of one world on real nets (pin level).

    Every level change of a slave's SDA or SCL reaches every slave on that electrical
    node, in the order the changes happen; a slave's reaction (an ACK, a stretch) is
    applied only after all of them have seen the edge that caused it, so no slave
    sees the effect before the cause. Releases after a stretch are SimPy timers.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self.slaves: list[I2cSlave] = []
        self._by_key: dict[tuple[int, int, int], I2cSlave] = {}
        # per net, the slaves whose SDA (SCL) it is: one watcher per net, whatever their number
        self._on_sda: dict[Net, list[I2cSlave]] = {}
        self._on_scl: dict[Net, list[I2cSlave]] = {}
        self._unwatch: dict[tuple[Net, bool], Callable[[], None]] = {}
        self._queue: deque[tuple[Net, bool, int, bool]] = deque()
        self._busy = False
        self._tokens: dict[int, int] = {}
        self._suppressed: set[int] = set()

    def slave_for(self, target: I2cTarget, sda: Net, scl: Net) -> I2cSlave:
        """The front end of ``target`` on these nets, created (and put on the wire) once."""
        key = (id(target), id(sda), id(scl))
        slave = self._by_key.get(key)
        if slave is None:
            if target._world is None:
                target.bind(self.world)
            slave = I2cSlave(target, sda, scl)
            self._by_key[key] = slave
            self.slaves.append(slave)
            slave.host = self
            self._listen(sda, False, slave)
            self._listen(scl, True, slave)
        return slave

    def _listen(self, net: Net, is_scl: bool, slave: I2cSlave) -> None:
        table = self._on_scl if is_scl else self._on_sda
        on_net = table.get(net)
        if on_net is None:
            on_net = table[net] = []
            self._unwatch[net, is_scl] = net.watch(
                self._scl_changed if is_scl else self._sda_changed
            )
        on_net.append(slave)

    def _unlisten(self, net: Net, is_scl: bool, slave: I2cSlave) -> None:
        table = self._on_scl if is_scl else self._on_sda
        on_net = table.get(net)
        if on_net is not None and slave in on_net:
            on_net.remove(slave)
            if not on_net:
                del table[net]
                self._unwatch.pop((net, is_scl))()

    def forget(self, target: object) -> None:
        """Take every front end of ``target`` off its nets (the device was detached)."""
        for key, s in list(self._by_key.items()):
            if s.target is target:
                del self._by_key[key]
                self.slaves.remove(s)
                self._unlisten(s.sda_net, False, s)
                self._unlisten(s.scl_net, True, s)
                self._tokens.pop(id(s), None)
                if s.host is self:
                    s.sda_net.release(s.owner)
                    s.scl_net.release(s.owner)
                    s.sda_applied = s.scl_applied = False
                s.host = None

    def _sda_changed(self, net: Net, level: bool, t: int) -> None:
        """An SDA edge for the slaves on its node, then the edges their reactions made."""
        if self._busy:
            self._queue.append((net, level, t, False))
            return
        self._busy = True
        try:
            self._dispatch(net, level, t, False)
            queue = self._queue
            while queue:
                self._dispatch(*queue.popleft())
        finally:
            self._busy = False

    def _scl_changed(self, net: Net, level: bool, t: int) -> None:
        """An SCL edge for the slaves on its node, then the edges their reactions made.

        (The per-edge path of every pin-level I2C bit: the usual case, one net and no slave
        suppressed, is `_dispatch` written out.)"""
        if self._busy:
            self._queue.append((net, level, t, True))
            return
        self._busy = True
        try:
            if len(net.node.nets) == 1 and not self._suppressed:
                for s in self._on_scl.get(net, _NONE):
                    if s.scl_raw != level and s.host is self:
                        s.scl_edge(level, t)
            else:
                self._dispatch(net, level, t, True)
            queue = self._queue
            while queue:
                self._dispatch(*queue.popleft())
        finally:
            self._busy = False

    def outputs_changed(self, slave: I2cSlave) -> None:
        """Put a slave's drives on its nets now; the edges this makes wait their turn."""
        self._apply(slave)

    def _dispatch(self, net: Net, level: bool, t: int, is_scl: bool) -> None:
        node = net.node
        if len(node.nets) == 1:
            slaves: list[I2cSlave] = (self._on_scl if is_scl else self._on_sda).get(net, _NONE)
        else:  # nets joined by wires: every slave on the node, in the hub's order
            slaves = [s for s in self.slaves if (s.scl_net if is_scl else s.sda_net).node is node]
        suppressed = self._suppressed
        for s in slaves:
            if s.host is not self or (suppressed and id(s) in suppressed):
                continue
            if is_scl:
                if s.scl_raw != level:
                    s.scl_edge(level, t)
            elif s.sda_raw != level:
                s.sda_edge(level, t)

    def _apply(self, s: I2cSlave) -> None:
        if s.host is not self:
            return
        # drive only what changed (each drive re-resolves the net)
        low = s.sda_low
        if low != s.sda_applied:
            s.sda_net.drive(s.owner, _OD_LOW if low else None)
            s.sda_applied = low
        due = s.release_at
        if (due is not None) != s.scl_applied:
            s.scl_net.drive(s.owner, _OD_LOW if due is not None else None)
            s.scl_applied = due is not None
        if due is None:
            return
        token = self._tokens.get(id(s), 0) + 1
        self._tokens[id(s)] = token

        def fire(_event: object) -> None:
            if self._tokens.get(id(s)) == token and s.host is self:
                s.release(self.world.now_ns)

        self.world.env.timeout(max(0, due - self.world.now_ns)).callbacks.append(fire)

    def adopt(self, slaves: list[I2cSlave]) -> None:
        """Take slaves back from a virtual wire: put their outputs on the nets without
        replaying the resulting edges to them (they already saw that wire)."""
        ids = {id(s) for s in slaves}
        self._suppressed |= ids
        try:
            for s in slaves:
                s.host = self
                self._apply(s)
        finally:
            self._suppressed -= ids
        for s in slaves:
            s.sda_raw = s.sda_net.level
            s.scl_raw = s.scl_net.level


_OD_LOW = Drive.open_drain_low()
_NONE: list[I2cSlave] = []
_HUB_ATTRIBUTE = "_pihil_i2c_slave_hub"


def hub_for(world: World) -> I2cSlaveHub:
    """The world's slave hub (created on first use, kept on the world so it goes with it)."""
    hub = getattr(world, _HUB_ATTRIBUTE, None)
    if not isinstance(hub, I2cSlaveHub):
        hub = I2cSlaveHub(world)
        setattr(world, _HUB_ATTRIBUTE, hub)
    return hub


def i2c_slaves(world: World, attachments: Iterable[Attachment]) -> list[I2cSlave]:
    """The slave front ends of the I2C attachments among ``attachments`` (created once each).

    Call it when a device is attached so that its pins answer edges made from anywhere
    (a bus, or test code toggling GPIOs) before any controller has looked for it.
    """
    hub = hub_for(world)
    out = []
    for att in attachments:
        if att.kind == "i2c" and isinstance(att.device, I2cTarget):
            out.append(hub.slave_for(att.device, att.nets["sda"], att.nets["scl"]))
    return out
