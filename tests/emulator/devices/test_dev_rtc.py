"""PCF8523 (MirkoPC, soc-facts §7.2) and PCF85063A (CM4 IO board, soc-facts §7.1) against the NXP data sheets."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pihil_emulator.devices.bcd_calendar import (
    BcdCalendar,
    CalendarTime,
    RtcDevice,
    bcd_decode,
    bcd_encode,
    hours_decode,
    hours_encode,
)
from pihil_emulator.devices.pcf8523 import Pcf8523
from pihil_emulator.devices.pcf85063a import Pcf85063a
from pihil_emulator.errors import ConfigurationError, RegisterError
from pihil_emulator.world.clock import NS_PER_MS, NS_PER_S, World

from .dev_protocol_helpers import Master

HOUR_NS = 3600 * NS_PER_S
RtcClass = type[Pcf8523] | type[Pcf85063a]

# (class, address, offset of Seconds, pointer span)
PARTS = [
    pytest.param(Pcf8523, 0x68, 0x03, 0x14, id="pcf8523"),
    pytest.param(Pcf85063a, 0x51, 0x04, 0x12, id="pcf85063a"),
]


def make(cls: RtcClass, world: World) -> RtcDevice:
    dev = cls()
    dev.bind(world)
    return dev


def time_bytes(when: dt.datetime, weekday: int, os_flag: bool = False) -> bytes:
    """Seconds..Years as the data sheets order them (weekday before month)."""
    return bytes(
        [
            (0x80 if os_flag else 0) | bcd_encode(when.second),
            bcd_encode(when.minute),
            bcd_encode(when.hour),
            bcd_encode(when.day),
            weekday,
            bcd_encode(when.month),
            bcd_encode(when.year - 2000),
        ]
    )


def decode_time(raw: bytes) -> tuple[dt.datetime, int, bool]:
    when = dt.datetime(
        2000 + bcd_decode(raw[6]),
        bcd_decode(raw[5] & 0x1F),
        bcd_decode(raw[3] & 0x3F),
        bcd_decode(raw[2] & 0x3F),
        bcd_decode(raw[1] & 0x7F),
        bcd_decode(raw[0] & 0x7F),
    )
    return when, raw[4] & 7, bool(raw[0] & 0x80)


def set_time(m: Master, dev: RtcDevice, sec: int, when: dt.datetime, weekday: int) -> None:
    m.write(dev, bytes([sec]) + time_bytes(when, weekday))


def read_time(m: Master, dev: RtcDevice, sec: int) -> tuple[dt.datetime, int, bool]:
    return decode_time(m.write_read(dev, bytes([sec]), 7))


def test_bcd_helpers() -> None:
    assert bcd_encode(59) == 0x59
    assert bcd_decode(0x59) == 59
    assert bcd_decode(0x5A) == 60  # nibbles as they are
    assert hours_encode(0, True) == 0x12  # 12 AM
    assert hours_encode(12, True) == 0x32  # 12 PM
    assert hours_encode(23, True) == 0x31
    assert hours_decode(0x31, True) == 23
    assert hours_decode(0x12, True) == 0
    assert hours_decode(0x23, False) == 23
    with pytest.raises(ValueError, match=r"0\.\.99"):
        bcd_encode(100)


@pytest.mark.parametrize(("cls", "addr", "sec", "span"), PARTS)
def test_power_on_state(cls: RtcClass, addr: int, sec: int, span: int) -> None:
    """Data sheets: OS set at power-on; PCF85063A resets to 2000-01-01 00:00:00 Saturday (6)."""
    world = World()
    dev = make(cls, world)
    assert dev.address == addr
    when, weekday, os_flag = read_time(Master(world), dev, sec)
    assert os_flag
    assert when == dt.datetime(2000, 1, 1)
    assert weekday == 6


def test_pcf8523_control_reset_values() -> None:
    """PCF8523: Control_3 PM = 111 (switch-over and battery-low detection off) → 0xE0; timers 07/77."""
    world = World()
    dev = make(Pcf8523, world)
    regs = Master(world).write_read(dev, b"\x00", 3)
    assert regs == b"\x00\x00\xe0"
    assert dev.read("Tmr_A_freq_ctrl") == 0x07
    assert dev.read("Tmr_B_freq_ctrl") == 0x77
    assert dev.read("Minute_alarm") == 0x80


def test_pcf85063a_reset_values_and_ram_byte() -> None:
    """PCF85063A: Timer_mode resets to 0x18 (TCF = 1/60 Hz); alarms disabled (0x80); RAM byte R/W."""
    world = World()
    dev = make(Pcf85063a, world)
    assert dev.read("Timer_mode") == 0x18
    assert dev.read("Second_alarm") == 0x80
    m = Master(world)
    m.write(dev, b"\x03\xa5")
    assert m.write_read(dev, b"\x03", 1) == b"\xa5"


@pytest.mark.parametrize(("cls", "addr", "sec", "span"), PARTS)
def test_set_and_count_an_hour_without_events(
    cls: RtcClass, addr: int, sec: int, span: int
) -> None:
    """Time registers count in simulated time; an idle hour schedules no event (DESIGN "Time")."""
    world = World()
    dev = make(cls, world)
    m = Master(world)
    start = dt.datetime(2024, 12, 31, 23, 30, 0)
    set_time(m, dev, sec, start, weekday=2)
    assert world.env.peek() == float("inf")  # nothing scheduled: no per-second process
    world.run_for(HOUR_NS + 5 * NS_PER_S)
    when, weekday, os_flag = read_time(m, dev, sec)
    assert when == dt.datetime(2025, 1, 1, 0, 30, 5)
    assert weekday == 3  # incremented at midnight
    assert not os_flag  # we wrote OS = 0


@pytest.mark.parametrize(("cls", "addr", "sec", "span"), PARTS)
@pytest.mark.parametrize(
    ("start", "after"),
    [
        (dt.datetime(2024, 2, 28, 23, 59, 59), dt.datetime(2024, 2, 29, 0, 0, 0)),
        (dt.datetime(2023, 2, 28, 23, 59, 59), dt.datetime(2023, 3, 1, 0, 0, 0)),
        (dt.datetime(2000, 2, 28, 23, 59, 59), dt.datetime(2000, 2, 29, 0, 0, 0)),
        (dt.datetime(2024, 4, 30, 23, 59, 59), dt.datetime(2024, 5, 1, 0, 0, 0)),
        (dt.datetime(2099, 12, 31, 23, 59, 59), dt.datetime(2000, 1, 1, 0, 0, 0)),
    ],
)
def test_calendar_carries(
    cls: RtcClass, addr: int, sec: int, span: int, start: dt.datetime, after: dt.datetime
) -> None:
    """Data sheets: leap year when the year register is divisible by 4 (incl. 00); 99 → 00."""
    world = World()
    dev = make(cls, world)
    m = Master(world)
    set_time(m, dev, sec, start, weekday=0)
    world.run_for(NS_PER_S)
    assert read_time(m, dev, sec)[0] == after


@pytest.mark.parametrize(("cls", "addr", "sec", "span"), PARTS)
def test_os_flag_cleared_by_writing_and_set_by_power_loss(
    cls: RtcClass, addr: int, sec: int, span: int
) -> None:
    """OS flag: set at power-on, cleared by writing 0 to it, set again when power (and time) is lost."""
    world = World()
    dev = make(cls, world)
    m = Master(world)
    m.write(dev, bytes([sec, 0x07]))  # seconds = 7, OS = 0
    assert m.write_read(dev, bytes([sec]), 1) == b"\x07"
    set_time(m, dev, sec, dt.datetime(2030, 6, 1, 12), weekday=6)
    world.run_for(10 * NS_PER_S)
    dev.lose_power()
    when, _, os_flag = read_time(m, dev, sec)
    assert os_flag
    assert when == dt.datetime(2000, 1, 1)


def test_pcf85063a_keeps_time_on_its_backup_cell() -> None:
    """CM4 IO board: the coin cell keeps the PCF85063A running; OS stays clear."""
    world = World()
    dev = make(Pcf85063a, world)
    m = Master(world)
    set_time(m, dev, 0x04, dt.datetime(2030, 6, 1, 12), weekday=6)
    dev.lose_power(backup=True)
    world.run_for(3 * NS_PER_S)
    when, _, os_flag = read_time(m, dev, 0x04)
    assert (when, os_flag) == (dt.datetime(2030, 6, 1, 12, 0, 3), False)


def test_pcf8523_backup_needs_switch_over_enabled() -> None:
    """PCF8523 §8.5: PM = 111 (reset) disables battery switch-over; PM = 000 enables it and sets BSF."""
    world = World()
    dev = make(Pcf8523, world)
    m = Master(world)
    set_time(m, dev, 0x03, dt.datetime(2030, 6, 1, 12), weekday=6)
    dev.lose_power(backup=True)  # PM = 111: the battery is not used
    assert read_time(m, dev, 0x03)[2]  # OS set, time lost
    set_time(m, dev, 0x03, dt.datetime(2030, 6, 1, 12), weekday=6)
    m.write(dev, b"\x02\x00")  # PM = 000: switch-over standard mode
    dev.lose_power(backup=True)
    assert m.write_read(dev, b"\x02", 1) == b"\x08"  # BSF set
    when, _, os_flag = read_time(m, dev, 0x03)
    assert (when, os_flag) == (dt.datetime(2030, 6, 1, 12), False)
    m.write(dev, b"\x02\x08")  # writing 1 leaves BSF
    assert dev.get_field("Control_3", "BSF") == 1
    m.write(dev, b"\x02\x00")  # writing 0 clears it
    assert dev.get_field("Control_3", "BSF") == 0


@pytest.mark.parametrize(("cls", "addr", "sec", "span"), PARTS)
def test_pointer_auto_increments_and_wraps(cls: RtcClass, addr: int, sec: int, span: int) -> None:
    """Data sheets: the register address increments after each byte and wraps to 00h after the last."""
    world = World()
    dev = make(cls, world)
    m = Master(world)
    m.write(dev, bytes([span - 1, 0x15]))  # last register (a timer register on both parts)
    got = m.write_read(dev, bytes([span - 1]), 2)
    assert got[0] == 0x15
    assert got[1] == dev.read(0)  # wrapped to Control_1
    m.write(dev, bytes([span - 1, 0x11, 0x00]))  # write wraps too: Control_1 = 0
    assert dev.read(span - 1) == 0x11


@pytest.mark.parametrize(("cls", "addr", "sec", "span"), PARTS)
def test_time_frozen_during_a_read_access(cls: RtcClass, addr: int, sec: int, span: int) -> None:
    """Data sheets: the time counters are blocked during an access, so a read never tears."""
    world = World()
    dev = make(cls, world)
    m = Master(world)
    set_time(m, dev, sec, dt.datetime(2024, 1, 1, 10, 59, 59), weekday=1)
    world.run_for(NS_PER_S - 200_000)  # 0.2 ms before the increment to 11:00:00
    slow = Master(world, byte_ns=90_000)  # the increment falls inside the access
    when, _, _ = decode_time(slow.write_read(dev, bytes([sec]), 7))
    assert when == dt.datetime(2024, 1, 1, 10, 59, 59)
    assert read_time(m, dev, sec)[0] == dt.datetime(2024, 1, 1, 11, 0, 0)  # then serviced


@pytest.mark.parametrize(("cls", "addr", "sec", "span"), PARTS)
def test_increment_during_a_write_access_is_applied_after(
    cls: RtcClass, addr: int, sec: int, span: int
) -> None:
    """Data sheets: a pending increment that fell due during the access is serviced after it."""
    world = World()
    dev = make(cls, world)
    world.run_for(NS_PER_S - 100_000)  # next increment 0.1 ms away
    slow = Master(world, byte_ns=90_000)
    set_time(slow, dev, sec, dt.datetime(2024, 1, 1, 8, 0, 0), weekday=1)
    assert read_time(Master(world), dev, sec)[0] == dt.datetime(2024, 1, 1, 8, 0, 1)


@pytest.mark.parametrize(("cls", "addr", "sec", "span"), PARTS)
def test_stop_freezes_and_restart_has_half_second_first_tick(
    cls: RtcClass, addr: int, sec: int, span: int
) -> None:
    """Data sheets: STOP freezes the time; after release the first increment is 0.507813 s later."""
    world = World()
    dev = make(cls, world)
    m = Master(world)
    set_time(m, dev, sec, dt.datetime(2024, 1, 1, 0, 0, 0), weekday=1)
    m.write(dev, b"\x00\x20")  # STOP
    assert dev.stopped
    world.run_for(10 * NS_PER_S)
    assert read_time(m, dev, sec)[0] == dt.datetime(2024, 1, 1)
    m.write(dev, b"\x00\x00")
    world.run_for(507 * NS_PER_MS)
    assert read_time(m, dev, sec)[0] == dt.datetime(2024, 1, 1)
    world.run_for(1 * NS_PER_MS)
    assert read_time(m, dev, sec)[0] == dt.datetime(2024, 1, 1, 0, 0, 1)
    world.run_for(NS_PER_S)
    assert read_time(m, dev, sec)[0] == dt.datetime(2024, 1, 1, 0, 0, 2)


@pytest.mark.parametrize(("cls", "addr", "sec", "span"), PARTS)
def test_twelve_hour_mode(cls: RtcClass, addr: int, sec: int, span: int) -> None:
    """Data sheets: 12_24 = 1 selects 12 h mode: AMPM in bit 5 (1 = PM), hours 1..12 in BCD."""
    world = World()
    dev = make(cls, world)
    m = Master(world)
    mode = dev.TWELVE_HOUR_MASK
    set_time(m, dev, sec, dt.datetime(2024, 1, 1, 14, 0, 0), weekday=1)
    m.write(dev, bytes([0, mode]))
    assert dev.twelve_hour
    assert m.write_read(dev, bytes([sec + 2]), 1) == b"\x22"  # 2 PM
    m.write(dev, bytes([sec + 2, 0x12]))  # 12 AM = midnight
    assert dev.datetime.hour == 0
    m.write(dev, bytes([sec + 2, 0x31]))  # 11 PM
    assert dev.datetime.hour == 23


@pytest.mark.parametrize(("cls", "addr", "sec", "span"), PARTS)
def test_software_reset_command(cls: RtcClass, addr: int, sec: int, span: int) -> None:
    """Data sheets: writing 0x58 to Control_1 is the software reset; SR reads back 0."""
    world = World()
    dev = make(cls, world)
    m = Master(world)
    set_time(m, dev, sec, dt.datetime(2024, 5, 5, 5, 5, 5), weekday=0)
    m.write(dev, bytes([0, dev.TWELVE_HOUR_MASK | 0x01]))
    m.write(dev, b"\x00\x58")
    assert dev.read("Control_1") == 0x00
    world.run_for(NS_PER_S)
    assert dev.datetime == dt.datetime(2024, 5, 5, 5, 5, 6)


def test_read_only_bits_ignore_writes() -> None:
    """PCF8523: Control_1 bit T must be 0 and SR reads 0; Control_2 flags are not writable."""
    world = World()
    dev = make(Pcf8523, world)
    m = Master(world)
    m.write(dev, b"\x00\x50\xf8")  # T + SR, and every flag of Control_2
    assert m.write_read(dev, b"\x00", 2) == b"\x00\x00"


def test_simulation_side_time_and_register_errors() -> None:
    world = World()
    dev = make(Pcf8523, world)
    dev.set_datetime(dt.datetime(2031, 7, 4, 9, 15, 0))
    world.run_for(61 * NS_PER_S)
    assert dev.datetime == dt.datetime(2031, 7, 4, 9, 16, 1)
    assert dev.peek("Minutes") == 0x16
    assert dev.now().weekday == 5  # 2031-07-04 is a Friday
    with pytest.raises(ConfigurationError, match=r"2000\.\.2099"):
        dev.set_datetime(dt.datetime(2100, 1, 1))
    with pytest.raises(RegisterError, match="8 bits"):
        dev.write("Offset", 0x100)
    with pytest.raises(RegisterError, match="its registers are"):
        dev.read("Control_9")


@settings(deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    elapsed_s=st.integers(0, 5 * 366 * 86400),
    phase_ns=st.integers(0, NS_PER_S - 1),
)
@example(start=dt.datetime(2099, 10, 12, 13, 50), elapsed_s=12_046_200, phase_ns=0)  # 00 is leap
def test_calendar_matches_datetime_arithmetic(
    start: dt.datetime, elapsed_s: int, phase_ns: int
) -> None:
    """Up to 5 years of counting agree with the Gregorian calendar of 2000..2099, wrapped at 100 years.

    Data sheets: year 00 counts as a leap year, so 2099 rolls over into the 2000 calendar (not 2100).
    """
    start = start.replace(microsecond=0)
    epoch = dt.datetime(2000, 1, 1)
    cycle = 36525 * 86400  # days of 2000..2099
    cal = BcdCalendar(CalendarTime.from_datetime(start), now_ns=0)
    now = cal.read(elapsed_s * NS_PER_S + phase_ns)
    offset = int((start - epoch).total_seconds()) + elapsed_s
    assert now.to_datetime() == epoch + dt.timedelta(seconds=offset % cycle)
    days = (start.hour * 3600 + start.minute * 60 + start.second + elapsed_s) // 86400
    assert now.weekday == (start.isoweekday() % 7 + days) % 7
