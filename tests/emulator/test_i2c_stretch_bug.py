"""The BCM2835 clock-stretching bug and the BCM2711 "fixed" switch (soc-facts §1.2, §1.4, §8.3).

All at 100 kHz as Linux sets it (CDIV 2500: T/2 = 5 µs, REDL = 625 clocks = 2.5 µs). A
stretch of ``D`` ns is how long the target holds SCL from the falling edge; the master
lets go of SCL T/2 after that edge, so the slave's release is ``d = D − 5 µs`` after the
master's.
"""

from __future__ import annotations

import pytest

from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.buses.i2c_target import Stretch, StretchPhase
from pihil_emulator.errors import BusError

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .i2c_rig import PointerTarget, Rig, make_rig
except ImportError:  # pragma: no cover
    from i2c_rig import PointerTarget, Rig, make_rig  # type: ignore[no-redef]

HALF = 5_000  # T/2 at 100 kHz
LEVELS = ["transaction", "pin"]
P = StretchPhase


def rig_with(
    variant: str, level: str, *stretches: Stretch, **overrides: object
) -> tuple[Rig, PointerTarget]:
    r = make_rig(variant, **overrides)
    t = r.attach(PointerTarget(0x48))
    assert isinstance(t, PointerTarget)
    t.stretches = list(stretches)
    r.bsc.level = level  # type: ignore[assignment]
    r.bsc.set_bus_speed(100_000)
    return r, t


def scl_highs(r: Rig) -> list[tuple[int, int]]:
    """(rise time, high time) of every SCL pulse from now on (filled as the wire moves)."""
    pulses: list[tuple[int, int]] = []
    rise: list[int] = []

    def watch(_net: object, level: bool, t: int) -> None:
        if level:
            rise.append(t)
        elif rise:
            pulses.append((rise[-1], t - rise[-1]))

    r.scl.watch(watch)
    return pulses


def timed(r: Rig, msgs: list[I2cMessage]) -> tuple[list[bytes] | BusError, int]:
    t0 = r.world.now_ns
    try:
        result: list[bytes] | BusError = r.bsc.transfer(msgs)
    except BusError as e:
        result = e
    return result, r.world.now_ns - t0


WRITE_ONE = [I2cMessage(0x48, False, b"\x00\x55")]
IDEAL_WRITE_ONE = HALF * (1 + 18 * 3 + 2)


@pytest.mark.parametrize(("d", "k"), [(1_000, 1), (4_000, 1), (6_000, 2), (12_000, 3)])
def test_high_time_after_a_stretch_is_k_half_periods_minus_d(d: int, k: int) -> None:
    """soc-facts §8.3: released at t0 + d, the high time is k·T/2 − d with k the smallest integer
    such that k·T/2 > d; the master's timebase runs on, so the transfer is (k−1)·T/2 longer."""
    r, _t = rig_with("BCM2835", "pin", Stretch(P.WRITE_POST_ACK, HALF + d, byte_index=0))
    pulses = scl_highs(r)
    result, took = timed(r, WRITE_ONE)
    assert result == []
    after = [
        hi for rise, hi in pulses if rise == r.world.now_ns - took + HALF + 18 * HALF + HALF + d
    ]
    assert after == [k * HALF - d]
    assert took == IDEAL_WRITE_ONE + (k - 1) * HALF
    r2, _ = rig_with("BCM2835", "transaction", Stretch(P.WRITE_POST_ACK, HALF + d, byte_index=0))
    assert timed(r2, WRITE_ONE) == ([], took)


@pytest.mark.parametrize("d", [1_000, 4_990, 6_000, 12_000])
def test_fixed_master_gives_a_full_high_time_after_the_release(d: int) -> None:
    """soc-facts §1.4/§8.3: the "fixed" BCM2711 gives a full high time (T/2) after the release
    and so takes exactly the stretch longer."""
    r, _ = rig_with("BCM2711", "pin", Stretch(P.WRITE_POST_ACK, HALF + d, byte_index=0))
    pulses = scl_highs(r)
    result, took = timed(r, WRITE_ONE)
    assert result == []
    assert min(hi for _, hi in pulses) >= HALF
    assert took == IDEAL_WRITE_ONE + d


@pytest.mark.parametrize("level", LEVELS)
def test_runt_pulse_slips_a_bit_false_nack_and_sda_stays_low(level: str) -> None:
    """soc-facts §1.1/§1.2 (rewolff): a release just before a check point gives a 40 ns SCL pulse
    the slave does not see; the byte count slips, the master reads a NACK (ERR → EREMOTEIO),
    the slave ACKs a clock later and still holds SDA, so the next START cannot be made."""
    r, t = rig_with("BCM2835", level, Stretch(P.WRITE_POST_ACK, 2 * HALF - 40, byte_index=0))
    pulses = scl_highs(r)
    result, _ = timed(r, WRITE_ONE)
    assert isinstance(result, BusError)
    assert (result.kind, result.errno_name, result.phase) == ("nack", "EREMOTEIO", "data byte 1")
    if level == "pin":
        assert 40 in [hi for _, hi in pulses]
    assert not r.sda.level  # the slave's late ACK
    t_next = r.world.now_ns + 10_000
    r.world.run_for(10_000)
    t.stretches = []
    timed(r, WRITE_ONE)
    later = [call for call, _, when in t.log if when >= t_next]
    assert later
    assert later[0] != "start"  # the START was not seen: SDA was held low


@pytest.mark.parametrize("level", LEVELS)
def test_sda_sampled_before_the_slave_is_ready_reads_a_wrong_bit(level: str) -> None:
    """soc-facts §1.2/§8.3 (Advamation): the master samples SDA REDL after its own rising edge,
    whatever SCL does, so a bit the slave puts out late (a mid-byte stretch of a read) is read
    wrong; released before the sample point it is read right."""
    ok, _ = rig_with("BCM2835", level, Stretch(P.MID_BYTE, 7_000, byte_index=1, bit=4))
    bad, _ = rig_with("BCM2835", level, Stretch(P.MID_BYTE, 9_000, byte_index=1, bit=4))
    for r in (ok, bad):
        target = r.targets[0]
        assert isinstance(target, PointerTarget)
        target.mem[0] = 0x08  # bit 4 = 0, bit 3 (put out after the stretch) = 1
    read = [I2cMessage(0x48, False, b"\x00"), I2cMessage(0x48, True, 1)]
    assert timed(ok, read)[0] == [b"\x08"]
    assert timed(bad, read)[0] == [b"\x00"]
    fixed, _ = rig_with("BCM2711", level, Stretch(P.MID_BYTE, 9_000, byte_index=1, bit=4))
    target = fixed.targets[0]
    assert isinstance(target, PointerTarget)
    target.mem[0] = 0x08
    assert timed(fixed, read)[0] == [b"\x08"]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("stretch_ns", [8_000, 23_000, 61_000])
def test_read_postack_stretch_passes_and_a_long_stretch_passes_everywhere(
    level: str, stretch_ns: int
) -> None:
    """A stretch after the read ACK passes (Advamation: clock stretching works "directly after
    an I2C-read-ACK-phase"). Elsewhere a stretch whose release comes after the REDL sample
    point but before the first check point (8 µs: 3 µs after the master's release) reads a
    false NACK at write-preACK and a wrong bit mid-byte (Advamation: "even very very short
    stretches make the Raspberry Pi read wrong data"); one that outlasts half a period (a check
    point finds SCL low: 23 µs, 61 µs) is absorbed there too (piquan, raspberrypi/linux#254,
    RPi 3 B+: "things seem to work if I stretch at read-preACK, write-preACK, or
    write-postACK"; Advamation: "by more than 0.5 clock periods"). buses/i2c_timing.py."""
    long = stretch_ns - HALF > HALF
    read = [I2cMessage(0x48, False, b"\x10"), I2cMessage(0x48, True, 4)]
    r, _ = rig_with("BCM2835", level, Stretch(P.READ_POST_ACK, stretch_ns))
    assert timed(r, read)[0] == [bytes([0x10, 0x11, 0x12, 0x13])]
    r, _ = rig_with("BCM2835", level, Stretch(P.WRITE_PRE_ACK, stretch_ns))
    result, _ = timed(r, read)
    if long:
        assert result == [bytes([0x10, 0x11, 0x12, 0x13])]
    else:
        assert isinstance(result, BusError)
        assert result.errno_name == "EREMOTEIO"
    r, t = rig_with("BCM2835", level, Stretch(P.MID_BYTE, stretch_ns, byte_index=1, bit=1))
    t.mem[0x10] = 0xBF  # bit 6 = 0 (on SDA during the stretch), bit 5.. = 1
    assert (timed(r, read)[0] == [bytes([0xBF, 0x11, 0x12, 0x13])]) is long


@pytest.mark.parametrize("level", LEVELS)
def test_lowering_the_clock_makes_a_bounded_stretch_pass(level: str) -> None:
    """soc-facts §1.2, §1.5 (popcornmix, dtparam=i2c_baudrate=10000): a stretch bounded at 8 µs
    (released 3 µs after the master's release, past the 2.5 µs sample point) fails at 100 kHz
    and passes once half a period (50 µs at 10 kHz) exceeds it."""
    stretches = (
        Stretch(P.WRITE_PRE_ACK, 8_000, byte_index=1),
        Stretch(P.WRITE_POST_ACK, 8_000, byte_index=0),
    )
    read = [I2cMessage(0x48, False, b"\x20"), I2cMessage(0x48, True, 2)]
    r, _ = rig_with("BCM2835", level, *stretches)
    assert isinstance(timed(r, read)[0], BusError)
    r, _ = rig_with("BCM2835", level, *stretches)
    r.bsc.set_bus_speed(10_000)
    assert timed(r, read)[0] == [b"\x20\x21"]


PROFILES = [
    # (stretch, fails on the buggy master)
    (Stretch(P.WRITE_PRE_ACK, 8_000), True),  # ACK put out after the sample point
    (Stretch(P.WRITE_POST_ACK, 2 * HALF - 40, byte_index=0), True),  # 40 ns runt
    (Stretch(P.READ_PRE_ACK, 12_345), False),  # 2.655 µs high: seen; the master drives ACK
    (Stretch(P.READ_POST_ACK, 2 * HALF - 10), True),  # 10 ns runt
    (Stretch(P.MID_BYTE, 9_000, bit=4), True),  # read bit put out after the sample point
    (Stretch(P.WRITE_POST_ACK, 300_000, byte_index=2), False),  # a long conversion, master's bit
]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    ("stretch", "buggy_fails"),
    PROFILES,
    ids=lambda p: getattr(p, "phase", None) and f"{p.phase.value}-{p.duration_ns}",
)
def test_fixed_variant_honours_every_stretch_and_the_switch_brings_the_bug_back(
    level: str, stretch: Stretch, buggy_fails: bool
) -> None:
    """soc-facts §1.4: BCM2711 defaults to the datasheet's "fixed" (every stretch honoured); the
    variant switch (users report the bug on the Pi 4) makes it behave like the BCM2835."""
    msgs = [
        I2cMessage(0x48, False, b"\x30\xaa"),
        I2cMessage(0x48, False, b"\x30"),
        I2cMessage(0x48, True, 3),
    ]
    want = [bytes([0xAA, 0x31, 0x32])]
    r, _ = rig_with("BCM2711", level, stretch)
    assert timed(r, msgs)[0] == want
    buggy, _ = rig_with("BCM2711", level, stretch, i2c_stretch_bug=True)
    same, _ = rig_with("BCM2835", level, stretch)
    result = timed(buggy, msgs)
    assert repr(result) == repr(timed(same, msgs))
    assert (result[0] != want) is buggy_fails
