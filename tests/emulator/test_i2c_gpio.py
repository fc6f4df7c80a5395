"""The bit-banged i2c-gpio bus: Linux i2c-algo-bit at pin level, honouring clock stretching
(soc-facts §1.5 workaround 2, §1.4 "The Pi 4 appears to support clock stretching on the
software I2C bus")."""

from __future__ import annotations

import itertools

import pytest

from pihil_emulator.board import Board
from pihil_emulator.buses.i2c_faults import HoldSdaLow
from pihil_emulator.buses.i2c_gpio import (
    BCM_GPIO_ACCESS_NS,
    I2cGpioBus,
    attach_i2c_gpio,
    check_access_ns,
)
from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.buses.i2c_slave import i2c_slaves
from pihil_emulator.buses.i2c_target import Stretch, StretchPhase
from pihil_emulator.errors import BusError, ConfigurationError
from pihil_emulator.soc.bsc import BscBlock
from pihil_emulator.world.clock import NS_PER_MS, NS_PER_US
from pihil_emulator.world.net import Drive

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .i2c_rig import PointerTarget
except ImportError:  # pragma: no cover
    from i2c_rig import PointerTarget  # type: ignore[no-redef]

P = StretchPhase
FAILING_ON_THE_BUGGY_BSC = [
    Stretch(P.WRITE_PRE_ACK, 8_000),
    Stretch(P.WRITE_POST_ACK, 9_960, byte_index=0),
    Stretch(P.MID_BYTE, 9_000, bit=4),
    # a 2 ms conversion released 30 ns before one of the master's check points (rewolff's runt,
    # raspberrypi/linux#254): the stretch is long, but the short SCL pulse after it is lost
    Stretch(P.WRITE_POST_ACK, 5_000 + 400 * 5_000 - 30, byte_index=0),
]


def board_with(
    stretch: Stretch | None = None, name: str = "rpi-b-rev2"
) -> tuple[Board, PointerTarget]:
    board = Board.from_profile(name)
    target = PointerTarget(0x48, fill=0x60)
    if stretch is not None:
        target.stretches = [stretch]
    board.attach(target, bus="i2c1")
    return board, target


def bsc1(board: Board) -> BscBlock:
    block = board.soc.blocks["bsc1"]
    assert isinstance(block, BscBlock)
    return block


MSGS = [I2cMessage(0x48, False, b"\x08"), I2cMessage(0x48, True, 3)]
WANT = [bytes([0x68, 0x69, 0x6A])]


@pytest.mark.parametrize(
    "stretch", FAILING_ON_THE_BUGGY_BSC, ids=lambda s: f"{s.phase.value}-{s.duration_ns}"
)
def test_the_device_that_fails_on_the_buggy_bsc_works_on_i2c_gpio(stretch: Stretch) -> None:
    """soc-facts §1.5: the same stretching device fails on the BCM2835's BSC and works on the
    bit-banged bus, which reads SCL back and waits for it."""
    board, _ = board_with(stretch)
    try:
        result: object = bsc1(board).transfer(MSGS)
    except BusError as e:
        result = e
    assert result != WANT
    fresh, _ = board_with(stretch)  # (a slipped slave may still hold SDA on the first board)
    bus = attach_i2c_gpio(fresh, "i2c-3", "GPIO2", "GPIO3")
    assert bus.transfer(MSGS) == WANT


def test_a_stretch_delays_the_clock_by_exactly_its_length() -> None:
    """i2c-algo-bit sclhi: after SCL reads high the master waits a full udelay, so the high time
    after a stretch is the normal one and the transfer is longer by the stretch's excess."""
    plain, _ = board_with()
    bus = attach_i2c_gpio(plain, "i2c-3", "P1-03", "P1-05", gpio_access_ns=0)
    t0 = plain.now_ns
    bus.transfer(MSGS)
    base = plain.now_ns - t0
    stretched, _ = board_with(Stretch(P.READ_POST_ACK, 40_000, byte_index=1))
    bus2 = attach_i2c_gpio(stretched, "i2c-3", "GPIO2", "GPIO3", gpio_access_ns=0)
    highs: list[int] = []
    rises: list[int] = []
    stretched.net("GPIO3").watch(
        lambda _n, lv, t: rises.append(t) if lv else (rises and highs.append(t - rises[-1]))
    )
    t0 = stretched.now_ns
    assert bus2.transfer(MSGS) == WANT
    # the slave holds SCL 40 µs from the fall; the master raises it 5 µs after the fall
    # (scllo's udelay/2, then sdahi's (udelay+1)/2 before the next byte's first clock)
    assert stretched.now_ns - t0 == base + 40_000 - 5_000
    assert min(highs) == 5_000  # udelay 5 µs at 100 kHz, every pulse


def test_bit_period_is_twice_udelay() -> None:
    """i2c-algo-bit on an ideal bus (GPIO accesses free): udelay 5 µs → 100 kHz: a written bit
    is (u+1)/2 + u + u/2 = 10 µs."""
    board, _ = board_with()
    bus = attach_i2c_gpio(board, "i2c-3", "GPIO2", "GPIO3", gpio_access_ns=0)
    assert bus.udelay_us == 5
    assert bus.speed_hz == 100_000
    rises: list[int] = []
    board.net("GPIO3").watch(lambda _n, lv, t: rises.append(t) if lv else None)
    bus.transfer([I2cMessage(0x48, False, b"\x00")])
    gaps = {b - a for a, b in itertools.pairwise(rises)}
    assert gaps == {10_000}


def scl_rise_gaps(board: Board, bus: I2cGpioBus) -> set[int]:
    """The SCL periods (rise to rise) of a one-byte write: address and data bits."""
    rises: list[int] = []
    board.net(bus.scl.name).watch(lambda _n, lv, t: rises.append(t) if lv else None)
    bus.transfer([I2cMessage(0x48, False, b"\x00")])
    return {b - a for a, b in itertools.pairwise(rises)}


def test_the_overlay_default_delay_runs_at_about_100_khz_on_a_pi() -> None:
    """Raspberry Pi's i2c-gpio-overlay.dts: ``i2c-gpio,delay-us = <2>; /* ~100 kHz */`` (and
    raspberrypi/firmware#1835: the maintainer keeps "2" = ~100 kHz against i2c-algo-bit's
    arithmetic, which says 250 kHz). The GPIO access cost makes up the difference: every
    data bit's SCL period is 10 µs, 4 µs of delays and four 1.5 µs accesses."""
    board, _ = board_with()
    bus = attach_i2c_gpio(board, "i2c-3", "GPIO2", "GPIO3")
    bus.udelay_us = 2  # the overlay's default
    assert bus.speed_hz == 250_000  # what the delay alone says
    assert bus.gpio_access_ns == BCM_GPIO_ACCESS_NS == 1_500
    assert bus.bit_period_ns == 10_000
    assert bus.scl_hz == pytest.approx(100_000)
    gaps = scl_rise_gaps(board, bus)
    # the data bits at 10 µs; the ACK clocks include the getsda read (one access more)
    assert min(gaps) == 10_000
    assert max(gaps) == 10_000 + BCM_GPIO_ACCESS_NS


def test_the_access_cost_slows_any_delay_and_high_time_includes_the_read_back() -> None:
    """i2c-algo-bit sclhi: setscl(1), getscl until it reads high, then udelay; scllo: setscl(0),
    udelay/2. With a cost c per access (a level changes as its access starts), SCL is high for
    the rest of the setscl(1) that raised it, the getscl that reads it back and udelay: 2c +
    udelay; and a bit is 4c longer than the delays say."""
    for udelay, cost in ((5, 1_500), (1, 1_500), (2, 0), (10, 700)):
        board, _ = board_with()
        bus = attach_i2c_gpio(board, "i2c-3", "GPIO2", "GPIO3", gpio_access_ns=cost)
        bus.udelay_us = udelay
        highs: list[int] = []
        rises: list[int] = []

        def high_time(
            _n: object, lv: bool, t: int, rises: list[int] = rises, highs: list[int] = highs
        ) -> None:
            if lv:
                rises.append(t)
            elif rises:
                highs.append(t - rises[-1])

        board.net("GPIO3").watch(high_time)
        gaps = scl_rise_gaps(board, bus)
        delays = ((udelay + 1) // 2 + udelay + udelay // 2) * NS_PER_US
        assert min(gaps) == delays + 4 * cost == bus.bit_period_ns
        assert min(highs) == 2 * cost + udelay * NS_PER_US


def test_a_profile_sets_the_access_cost_and_bad_costs_are_refused() -> None:
    """A bench that measured its own SCL can give ``gpio_access_ns`` in the profile; a cost
    that is no whole ns in 0..1 ms is a clear configuration error."""
    for bad in (-1, 1.5, True, "1500", 1_000_001):
        with pytest.raises(ConfigurationError, match="gpio_access_ns"):
            check_access_ns(bad)
    board, _ = board_with()
    with pytest.raises(ConfigurationError, match="gpio_access_ns"):
        attach_i2c_gpio(board, "i2c-3", "GPIO2", "GPIO3", gpio_access_ns=-5)


def test_errors_are_those_of_i2c_algo_bit() -> None:
    """i2c-algo-bit: no ACK to the address → ENXIO, to a data byte → EIO, SCL never rising within
    the adapter timeout (100 ms for i2c-gpio) → ETIMEDOUT."""
    board, target = board_with()
    bus = attach_i2c_gpio(board, "i2c-3", "GPIO2", "GPIO3")
    with pytest.raises(BusError) as err:
        bus.transfer([I2cMessage(0x49, True, 1)])
    assert (err.value.kind, err.value.errno_name, err.value.phase) == ("nack", "ENXIO", "address")
    target.nack_data_after = 2
    with pytest.raises(BusError) as err:
        bus.transfer([I2cMessage(0x48, False, b"\x00\x01\x02\x03")])
    assert (err.value.errno_name, err.value.phase, err.value.transferred) == (
        "EIO",
        "data byte 3",
        2,
    )
    target.nack_data_after = None
    target.stretches = [Stretch(P.WRITE_PRE_ACK, 150 * NS_PER_MS, byte_index=1)]
    t0 = board.now_ns
    with pytest.raises(BusError) as err:
        bus.transfer([I2cMessage(0x48, False, b"\x00")])
    assert (err.value.kind, err.value.errno_name) == ("timeout", "ETIMEDOUT")
    assert board.now_ns - t0 >= 100 * NS_PER_MS


def test_recovery_by_nine_clocks_frees_a_hung_bus() -> None:
    """soc-facts §1.5 / i2c-core bus recovery: a slave stuck holding SDA low is clocked out of
    its byte (up to nine SCL pulses) and a STOP frees the bus."""
    board, target = board_with()
    board.inject(HoldSdaLow(device=target))
    assert not board.net("GPIO2").level
    bus = attach_i2c_gpio(board, "i2c-3", "GPIO2", "GPIO3")
    falls: list[int] = []
    board.net("GPIO3").watch(lambda _n, lv, t: falls.append(t) if not lv else None)
    assert bus.recover()
    assert board.net("GPIO2").level
    assert 1 <= len(falls) <= 10
    assert bus.transfer(MSGS) == WANT


def test_bad_configuration_is_refused() -> None:
    """Bad input gets a clear error: a speed i2c-gpio's whole-µs delay cannot make, one pin twice."""
    board, _ = board_with()
    with pytest.raises(ConfigurationError, match="500000"):
        attach_i2c_gpio(board, "i2c-3", "GPIO2", "GPIO3", speed_hz=1_000_000)
    with pytest.raises(ConfigurationError, match="two separate"):
        I2cGpioBus(board.world, board.net("GPIO2"), board.net("GPIO2"))
    with pytest.raises(ConfigurationError, match="positive"):
        attach_i2c_gpio(board, "i2c-3", "GPIO2", "GPIO3", speed_hz=0)


def test_i2c_gpio_on_any_two_pins_with_a_jumper() -> None:
    """DESIGN: i2c-gpio on any two GPIOs; a device wired there through jumpers is found by node."""
    board, _ = board_with()
    dev = PointerTarget(0x50, fill=0x10)
    board.attach(dev, bus="probe", kind="i2c", sda="GPIO23", scl="GPIO24")
    for pin in ("GPIO23", "GPIO24"):
        board.net(pin).drive(f"jig pull-up {pin}", Drive.pull_up(4_700))
    board.run_for(1_000)  # the device saw SCL rise: a START at that same ns is no START
    bus = attach_i2c_gpio(board, "i2c-4", "GPIO23", "GPIO24")
    assert bus.transfer([I2cMessage(0x50, False, b"\x01"), I2cMessage(0x50, True, 2)]) == [
        b"\x11\x12"
    ]
    with pytest.raises(BusError):
        bus.transfer([I2cMessage(0x48, True, 1)])  # the other device is on GPIO2/3


def test_a_device_answers_pins_toggled_from_test_code() -> None:
    """DESIGN "Two levels": pin level is used where pins really interact, e.g. a device driven
    from test code through pins: the target's front end follows any edges on its nets."""
    board, target = board_with()
    i2c_slaves(board.world, board.attachments)
    board.gpio.set_function(2, "input")
    board.gpio.set_function(3, "input")
    sda, scl = board.net("GPIO2"), board.net("GPIO3")
    low = Drive.open_drain_low()

    def line(net_: object, level: bool) -> None:
        assert net_ in (sda, scl)
        net_.drive("test", None if level else low)  # type: ignore[attr-defined]
        board.run_for(5_000)

    line(sda, False)  # START
    line(scl, False)
    acked = []
    for bit in [*[bool(0x91 >> (7 - i) & 1) for i in range(8)], True]:  # 0x48 read, then ACK slot
        line(sda, bit)
        line(scl, True)
        acked.append(not sda.level)
        line(scl, False)
    assert acked[-1]  # the device ACKed its address
    assert target.log[0][:2] == ("start", 1)


def _crc8(data: bytes) -> int:
    """Sensirion CRC-8 (poly 0x31, init 0xFF; CRC(0xBEEF) = 0x92)."""
    crc = 0xFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc << 1 ^ 0x31) & 0xFF if crc & 0x80 else crc << 1 & 0xFF
    return crc


def _sht3x_reading(profile: str, gpio: bool) -> bytes:
    from pihil_emulator.devices.sht3x import Sht3x

    board = Board.from_profile(profile)
    sensor = Sht3x(0x44)
    board.attach(sensor, bus="i2c1")
    if gpio:
        bus: I2cGpioBus | BscBlock = attach_i2c_gpio(board, "i2c-3", "GPIO2", "GPIO3")
    else:
        bus = bsc1(board)
    bus.transfer([I2cMessage(0x44, False, b"\x2c\x06")])  # single shot, clock stretching
    return bus.transfer([I2cMessage(0x44, True, 6)])[0]


def test_a_sensor_stretching_through_its_conversion() -> None:
    """DESIGN "Devices": the SHT3x holds SCL from the read header's ACK until its measurement is
    done, milliseconds: a read-postACK stretch far longer than half a period. piquan
    (raspberrypi/linux#254, RPi 3 B+: read-postACK must be "long or not-at-all") and issue 12
    (a single shot through Sensirion's driver on a BCM2835 read right): the buggy BCM2835 reads
    it right as the fixed BCM2711 and the bit-banged bus do, the CRC of each word checks (the
    runt window where it does fail: tests/emulator/test_stretch_bug_rate.py)."""
    assert _crc8(b"\xbe\xef") == 0x92
    for profile, gpio in (("rpi-4b", False), ("rpi-b-rev2", True), ("rpi-b-rev2", False)):
        data = _sht3x_reading(profile, gpio)
        assert _crc8(data[0:2]) == data[2]
        assert _crc8(data[3:5]) == data[5]
