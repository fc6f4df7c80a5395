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
from collections.abc import Callable
from typing import Protocol, TypeVar

from ..world.net import Net
from .i2c_target import I2cTarget, StretchPhase

__all__ = ["I2cSlave", "SlaveFaults", "SlaveHost", "SlaveState", "stretch_free"]

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
