"""The BSC master's wire timing, and the clock-stretching bug: the physics, in one place.

The BSC runs SCL from the core clock: a half period is ``CDIV/2`` core clocks
(soc-facts §2 DIV). Per bit the master drives SCL low on a tick, changes SDA
``FEDL`` clocks later, releases SCL half a period after the fall and samples SDA
``REDL`` clocks after that release; START, repeated START and STOP move SDA one
half period apart while SCL is high.

What happens when a slave holds SCL low (soc-facts §1.2, §8.3):

- ``buggy`` (BCM2835): the timebase runs on. At each scheduled toggle after the
  release the master checks SCL and, if it is still low, waits another half period;
  it does not restart a full high time. So after a release at ``d`` past the
  master's own release the high pulse lasts ``k·T/2 − d`` (``k`` the smallest
  integer with ``k·T/2 > d``), a runt when ``d`` is just under a multiple of T/2.
  SDA is sampled ``REDL`` after the master's *own* rising edge, whatever SCL does,
  when the first check point (half a period after the release) finds SCL high: a
  short stretch released after that sample point reads the bit wrong (Advamation:
  "even very very short stretches make the Raspberry Pi read wrong data"). When a
  check point finds SCL still low, the master delays its internal clock by half
  periods (piquan) and takes the bit at the check point that finds SCL high, just
  before its fall [I]: a stretch longer than half a period reads right at every
  release phase except rewolff's runt window, where the slave misses the short
  pulse and the byte slips one bit (piquan, RPi 3 B+: read-preACK, write-preACK and
  write-postACK stretches work, read-postACK must be "long or not-at-all";
  Advamation: it works "by more than 0.5 clock periods"; docs/fidelity.md).
- ``fixed`` (what the BCM2711 datasheet claims): the master waits for SCL to rise
  and then gives a full high time, sampling ``REDL`` after the real rise.

CLKT (soc-facts §1.3): when SCL is still low ``TOUT`` SCL periods after the master
released it, the master gives up (``S.CLKT``); ``TOUT = 0`` disables it.

`BscSequencer` is the master at bit level, written once as generators over a
`MasterWire`. The transaction-level engine runs it on a virtual wire (pure
Python, no SimPy event per edge) and the pin-level engine runs it on real nets;
`BscSequencer.closed_form` is the same timing for a bus where no slave stretches.
All times are integer nanoseconds; the master's own edges sit on its core-clock
grid (``anchor + ticks·10⁹ // f_core``).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import ConfigurationError

NS_PER_S = 1_000_000_000

CDIV_MIN = 2
CDIV_MAX = 0xFFFE
"""Linux ``BCM2835_I2C_CDIV_MIN/MAX``: the range ``set_bus_speed`` accepts."""
CDIV_ZERO_MEANS = 32768
"""soc-facts §2 DIV: "If CDIV is set to 0, the divisor is 32768"."""


def effective_cdiv(div_field: int) -> int:
    """The divisor the BSC uses for a DIV.CDIV value: rounded down to even, 0 means 32768.

    (A written 1 rounds down to 0, which the model also reads as 32768.)
    """
    if not 0 <= div_field <= 0xFFFF:
        raise ConfigurationError(f"DIV.CDIV is 16 bits (0..0xffff), got {div_field:#x}")
    even = div_field & 0xFFFE
    return even if even else CDIV_ZERO_MEANS


@dataclass(frozen=True)
class LinuxDivider:
    """What Linux's ``clk_bcm2835_i2c_set_rate`` writes for a bus speed (soc-facts §2)."""

    cdiv: int
    fedl: int
    redl: int

    @property
    def del_value(self) -> int:
        return (self.fedl << 16) | self.redl


def linux_divider(core_clock_hz: int, bus_hz: int) -> LinuxDivider:
    """CDIV = DIV_ROUND_UP(core, bus) made even; FEDL = max(CDIV/16, 1), REDL = max(CDIV/4, 1).

    Out of range (the kernel returns -EINVAL) is a `ConfigurationError` saying which
    speeds are possible with this core clock.
    """
    if isinstance(bus_hz, bool) or not isinstance(bus_hz, int) or bus_hz <= 0:
        raise ConfigurationError(f"an I2C bus speed is a positive int in Hz, got {bus_hz!r}")
    divider = -(-core_clock_hz // bus_hz)
    if divider & 1:
        divider += 1
    if not CDIV_MIN <= divider <= CDIV_MAX:
        fastest = core_clock_hz // CDIV_MIN
        slowest = -(-core_clock_hz // CDIV_MAX)
        raise ConfigurationError(
            f"{bus_hz} Hz needs CDIV {divider}, outside {CDIV_MIN}..{CDIV_MAX}: with a "
            f"{core_clock_hz} Hz core clock the BSC runs at {slowest}..{fastest} Hz"
        )
    return LinuxDivider(divider, max(divider // 16, 1), max(divider // 4, 1))


@dataclass(frozen=True)
class BscTiming:
    """Everything that sets the BSC's wire timing, in core clocks (``cdiv`` already effective)."""

    core_clock_hz: int
    cdiv: int
    fedl: int
    redl: int
    stretch_bug: bool
    clkt_tout: int = 0
    """SCL periods before a clock-stretch timeout; 0 when off (or not functional)."""
    half: int = field(init=False, repr=False, compare=False)
    """Half an SCL period, in core clocks (``cdiv // 2``; kept, as every edge asks for it)."""

    def __post_init__(self) -> None:
        if self.core_clock_hz <= 0:
            raise ConfigurationError(f"core clock must be positive, got {self.core_clock_hz}")
        if self.cdiv < 2 or self.cdiv & 1:
            raise ConfigurationError(f"CDIV must be even and at least 2, got {self.cdiv}")
        half = self.cdiv // 2
        for name, value in (("FEDL", self.fedl), ("REDL", self.redl)):
            if not 0 <= value < half:
                raise ConfigurationError(
                    f"DEL.{name}={value} is not below CDIV/2={half}: the datasheet says the "
                    "BSC malfunctions with a delay of CDIV/2 or more (soc-facts §2 DEL); "
                    "the emulator does not guess how"
                )
        if self.clkt_tout < 0:
            raise ConfigurationError(f"CLKT.TOUT cannot be negative, got {self.clkt_tout}")
        object.__setattr__(self, "half", half)

    @property
    def scl_hz(self) -> float:
        return self.core_clock_hz / self.cdiv

    def ns(self, ticks: int) -> int:
        """Core-clock ticks from an anchor, as nanoseconds (floored: monotonic)."""
        return ticks * NS_PER_S // self.core_clock_hz

    @property
    def half_ns(self) -> float:
        return self.half * NS_PER_S / self.core_clock_hz

    def ideal_ticks(self, lengths: Sequence[int]) -> int:
        """Core clocks of a transfer with no stretching (soc-facts §8.2), from ST to STOP.

        START is half a period, each byte (the address too) nine SCL periods, a
        repeated START three half periods, the STOP two: for one message of N bytes
        that is (18·(N+1) + 3)·CDIV/2.
        """
        if not lengths:
            raise ValueError("a transfer has at least one message")
        count = len(lengths)
        return self.half * (1 + 18 * (count + sum(lengths)) + 3 * (count - 1) + 2)


@dataclass(frozen=True, slots=True)
class WaitRise:
    """Yielded by the sequencer: resume when SCL is high (now or later); ``deadline`` (ns) gives up.

    The runner sends back the time SCL rose, or None when ``deadline`` came first
    (a rise exactly at the deadline also counts as too late).
    """

    deadline: int | None


class MasterWire(Protocol):
    """The two lines as the master sees them. Drives are the master's own (open drain)."""

    def drive_scl(self, low: bool) -> None: ...

    def drive_sda(self, low: bool) -> None: ...

    def scl_rose_at(self) -> int | None:
        """When SCL last went high, if it is high now; None while it is low."""
        ...

    def sda_at(self, t: int) -> bool:
        """The SDA level just before ``t`` (``t`` not after now, and not before the master's
        last SCL release; a change at exactly ``t`` is not seen)."""
        ...

    @property
    def master_sda_low(self) -> bool:
        """Whether the master itself pulls SDA low now."""
        ...


MasterStep = Generator[int | WaitRise, int | None, object]
"""A sequencer generator: yields a wake-up time (ns) or `WaitRise`."""


@dataclass(frozen=True, slots=True)
class ByteOutcome:
    """One byte on the wire, as the master saw it.

    ``value`` is what went out (write) or what the master sampled (read); ``ack``
    the ACK bit (the slave's for a write, the master's own for a read);
    ``t_start``/``t_end`` the falling edges that open and close its nine clocks.
    ``clkt_bit`` is the bit (0-8, 8 = the ACK clock) whose SCL never came back
    high in time, when CLKT fired; ``t_end`` is then the time it fired.
    """

    value: int
    ack: bool
    t_start: int
    t_end: int
    clkt_bit: int | None = None


class BscSequencer:
    """The BSC master's SCL/SDA sequencing at bit level (see the module docstring).

    State between calls: ``anchor`` (ns) and ``k`` (ticks from it) of the last SCL
    fall the master made; it holds SCL low from there until the next call.
    """

    def __init__(self, timing: BscTiming) -> None:
        self.timing = timing
        self.anchor = 0
        self.k = 0
        self.clkt_ticks = 2 * timing.clkt_tout * timing.half if timing.clkt_tout else 0

    # -- clock grid ----------------------------------------------------------------
    def time(self, k: int) -> int:
        return self.anchor + k * NS_PER_S // self.timing.core_clock_hz

    @property
    def position_ns(self) -> int:
        """Time of the last SCL fall (the byte boundary the master waits at)."""
        return self.time(self.k)

    def _first_tick_after(self, kr: int, t: int) -> int:
        """The smallest ``kr + j·H`` (j ≥ 1) whose time is strictly after ``t``."""
        h = self.timing.half
        f = self.timing.core_clock_hz
        # time(x) > t  <=>  x·10⁹ // f > t − anchor  <=>  x > ((t − anchor + 1)·f − 1) / 10⁹ − …
        x_min = ((t - self.anchor + 1) * f + NS_PER_S - 1) // NS_PER_S  # time(x_min) ≥ t + 1
        j = max(1, -(-(x_min - kr) // h))
        return kr + j * h

    def resume_at(self, t: int) -> None:
        """After a stall (FIFO empty/full) the low phase ends on the first grid tick ≥ ``t``."""
        if t <= self.position_ns:
            return
        h = self.timing.half
        f = self.timing.core_clock_hz
        x_min = ((t - self.anchor) * f + NS_PER_S - 1) // NS_PER_S  # time(x_min) ≥ t
        n = -(-(x_min - self.k) // h)
        self.k += max(n, 0) * h

    # -- the rise after a release: where the bug lives ---------------------------------
    def _after_release(self, kr: int) -> Generator[int | WaitRise, int | None, int | None]:
        """Wait for SCL after releasing it at tick ``kr``: the tick at which the master may
        make its next toggle, or None on a clock-stretch timeout (see `_after_rise`)."""
        deadline = self.time(kr + self.clkt_ticks) if self.clkt_ticks else None
        rose = yield WaitRise(deadline)
        return self._after_rise(kr, rose, deadline)

    def _after_rise(self, kr: int, rose: int | None, deadline: int | None) -> int | None:
        """The next toggle tick once SCL rose at ``rose`` after the release at tick ``kr``.

        buggy: the first half-period check point after the rise (a runt if the rise
        came just before one); fixed: a full half period after the rise (re-anchoring
        the grid there). None (and ``k`` where CLKT fired) when the rise came too late.
        """
        if rose is None or (deadline is not None and rose >= deadline):
            self.k = kr + self.clkt_ticks  # CLKT fires here
            return None
        if self.timing.stretch_bug or rose <= self.time(kr):
            return self._first_tick_after(kr, rose)
        self.anchor = rose
        return self.timing.half

    # -- nine bits -------------------------------------------------------------------
    def clock(
        self, wire: MasterWire, outs: int
    ) -> Generator[int | WaitRise, int | None, tuple[int, int | None]]:
        """Clock the nine bits of a byte and its ACK from the current fall.

        Bit ``i`` (0 first) puts ``outs >> (8 - i) & 1`` on SDA (1 releases it): FEDL
        after the fall if the drive changes; SCL is released half a period after the
        fall, SDA is sampled REDL after the rise (the master's own rise on the buggy
        BSC, or the check point that found SCL high after one that found it low; the real
        rise on the fixed), and SCL falls at the next toggle. The sample is
        read back at the fall from the wire's SDA history (the level just before the
        sample instant), which is the same as waking up for it.

        Returns the bits sampled (first bit most significant) and, on a clock-stretch
        timeout, the bit whose SCL never came back (its bits sampled so far are returned).
        An SCL that is already up when the master lets go (nobody stretches) is taken at
        once, without a `WaitRise` round trip: this loop is the per-bit cost of both levels.
        """
        tm = self.timing
        half, fedl, redl, bug = tm.half, tm.fedl, tm.redl, tm.stretch_bug
        clkt = self.clkt_ticks
        f = tm.core_clock_hz
        sampled = 0
        for i in range(9):
            out = outs >> (8 - i) & 1
            k = self.k
            anchor = self.anchor
            if wire.master_sda_low == bool(out):  # the drive changes: FEDL after the fall
                yield anchor + (k + fedl) * NS_PER_S // f
                wire.drive_sda(not out)
            kr = k + half
            t_release = anchor + kr * NS_PER_S // f
            yield t_release
            wire.drive_scl(False)
            rose = wire.scl_rose_at()
            if rose is None:
                kc = yield from self._after_release(kr)
            elif rose == t_release and not clkt:
                # the usual case: SCL followed the master; the next toggle is H ticks on
                # unless the grid has not yet moved past the rise (sub-ns ticks)
                kc = kr + half
                if anchor + kc * NS_PER_S // f <= rose:
                    kc = self._first_tick_after(kr, rose)
            else:
                kc = self._after_rise(kr, rose, self.time(kr + clkt) if clkt else None)
            if kc is None:
                return sampled, i
            # buggy: REDL after the master's own rising edge, unless a check point found SCL
            # still low (the stretch outlasted the half period): then the bit is taken at the
            # check point that found SCL high, just before the fall; fixed: REDL after the
            # real rise (the fixed master re-anchors at a late rise)
            anchor = self.anchor
            if not bug:
                ts = anchor + (kc - half + redl) * NS_PER_S // f
            elif kc == kr + half:
                ts = anchor + (kr + redl) * NS_PER_S // f
            else:
                ts = anchor + kc * NS_PER_S // f
            yield anchor + kc * NS_PER_S // f
            sampled = sampled << 1 | wire.sda_at(ts)
            wire.drive_scl(True)
            self.k = kc
        return sampled, None

    # -- bytes and conditions -------------------------------------------------------
    def start(self, wire: MasterWire, t0: int) -> Generator[int | WaitRise, int | None, None]:
        """START from an idle bus at ``t0`` (the runner is at ``t0``): SDA falls, then SCL."""
        self.anchor = t0
        self.k = 0
        wire.drive_sda(True)
        yield self.time(self.timing.half)
        wire.drive_scl(True)
        self.k = self.timing.half

    def write_byte(
        self, wire: MasterWire, value: int
    ) -> Generator[int | WaitRise, int | None, ByteOutcome]:
        t_start = self.position_ns
        sampled, clkt_bit = yield from self.clock(wire, value << 1 | 1)
        if clkt_bit is not None:
            return ByteOutcome(value, False, t_start, self._give_up(wire), clkt_bit=clkt_bit)
        return ByteOutcome(value, not sampled & 1, t_start, self.position_ns)

    def read_byte(
        self, wire: MasterWire, ack: bool
    ) -> Generator[int | WaitRise, int | None, ByteOutcome]:
        t_start = self.position_ns
        sampled, clkt_bit = yield from self.clock(wire, 0x1FE | (not ack))
        if clkt_bit is not None:
            # the bits sampled before the timeout; the ACK stands only once the byte is in
            acked = ack if clkt_bit == 8 else False
            return ByteOutcome(sampled, acked, t_start, self._give_up(wire), clkt_bit=clkt_bit)
        return ByteOutcome(sampled >> 1, ack, t_start, self.position_ns)

    def repeated_start(self, wire: MasterWire) -> Generator[int | WaitRise, int | None, bool]:
        """Sr from the current fall: SDA up, SCL up, SDA down, SCL down. False on CLKT."""
        tm = self.timing
        k = self.k
        yield self.time(k + tm.fedl)
        wire.drive_sda(False)
        kr = k + tm.half
        yield self.time(kr)
        wire.drive_scl(False)
        kc = yield from self._after_release(kr)
        if kc is None:
            self._give_up(wire)
            return False
        yield self.time(kc)
        wire.drive_sda(True)
        yield self.time(kc + tm.half)
        wire.drive_scl(True)
        self.k = kc + tm.half
        return True

    def stop(self, wire: MasterWire) -> Generator[int | WaitRise, int | None, tuple[int, bool]]:
        """STOP from the current fall: SDA down, SCL up, SDA up. Returns (time, ok)."""
        tm = self.timing
        k = self.k
        yield self.time(k + tm.fedl)
        wire.drive_sda(True)
        kr = k + tm.half
        yield self.time(kr)
        wire.drive_scl(False)
        kc = yield from self._after_release(kr)
        if kc is None:
            return self._give_up(wire), False
        t = self.time(kc)
        yield t
        wire.drive_sda(False)
        self.k = kc
        return t, True

    def _give_up(self, wire: MasterWire) -> int:
        """CLKT: the master lets go of both lines and ends the transfer; returns when."""
        wire.drive_sda(False)
        wire.drive_scl(False)
        return self.position_ns
