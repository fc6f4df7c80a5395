"""A BCD clock/calendar that counts in simulated time, shared by the NXP RTC models.

Nothing ticks: the calendar stores a value and the simulated instant of its
next one-second increment, and computes the time for any instant on demand,
so an hour of idle simulated time costs nothing (DESIGN "Time").

Calendar rules of the PCF8523/PCF85063A: two-digit year 00..99, a leap year
when the year is divisible by 4 (including 00), weekday 0..6 counted
independently of the date (incremented at midnight), 12/24-hour mode.
`RtcDevice` is the part both RTCs share: the seven time registers (Seconds
with the OS flag .. Years), their freezing during an I2C access, STOP, and
power loss.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import partial
from typing import ClassVar

from ..errors import ConfigurationError
from ..world.clock import NS_PER_S
from .register_device import I2cRegisterDevice

SECONDS_PER_DAY = 86_400
#: 2000-01-01 .. 2099-12-31 under the "divisible by 4" leap rule: 25 leap years
CYCLE_DAYS = 36_525
CYCLE_SECONDS = CYCLE_DAYS * SECONDS_PER_DAY
_EPOCH = dt.date(2000, 1, 1)

#: first increment after STOP is released: 0.507813 s (datasheets: 0.507813..0.507935 s)
STOP_RELEASE_FIRST_TICK_NS = 507_812_500


# -- BCD -------------------------------------------------------------------------------


def bcd_encode(value: int) -> int:
    """0..99 → packed BCD (tens in the high nibble)."""
    if not 0 <= value <= 99:
        raise ValueError(f"BCD encodes 0..99 in one byte, got {value}")
    return ((value // 10) << 4) | (value % 10)


def bcd_decode(raw: int) -> int:
    """Packed BCD → tens*10 + units, nibbles taken as they are (0x5A → 60, as a counter would)."""
    return ((raw >> 4) & 0x0F) * 10 + (raw & 0x0F)


def hours_encode(hour: int, twelve_hour: bool) -> int:
    """Hours register: 24 h BCD 00..23, or 12 h with AMPM in bit 5 (1 = PM) and BCD 1..12."""
    if not 0 <= hour <= 23:
        raise ValueError(f"hour must be 0..23, got {hour}")
    if not twelve_hour:
        return bcd_encode(hour)
    pm = hour >= 12
    h12 = hour % 12 or 12
    return (0x20 if pm else 0) | bcd_encode(h12)


def hours_decode(raw: int, twelve_hour: bool) -> int:
    """Hours register → 0..23 (an out-of-range value carries when normalised)."""
    if not twelve_hour:
        return bcd_decode(raw & 0x3F)
    h12 = bcd_decode(raw & 0x1F)
    pm = bool(raw & 0x20)
    return (h12 % 12) + (12 if pm else 0)


# -- calendar values ---------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarTime:
    """The calendar as the registers hold it: two-digit year, weekday 0..6 (0 = Sunday)."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    weekday: int

    @classmethod
    def from_datetime(cls, when: dt.datetime, weekday: int | None = None) -> CalendarTime:
        """From a datetime in 2000..2099; the weekday defaults to the real one (Sunday = 0)."""
        if not 2000 <= when.year <= 2099:
            raise ConfigurationError(
                f"the RTC year register holds 00..99, taken as 2000..2099; got {when.year}"
            )
        wd = when.isoweekday() % 7 if weekday is None else weekday
        if not 0 <= wd <= 6:
            raise ConfigurationError(f"weekday is 0..6, got {wd}")
        return cls(when.year - 2000, when.month, when.day, when.hour, when.minute, when.second, wd)

    def to_datetime(self) -> dt.datetime:
        """As a naive datetime in 2000..2099 (the weekday register is not part of it)."""
        return dt.datetime(
            2000 + self.year, self.month, self.day, self.hour, self.minute, self.second
        )

    def to_seconds(self) -> int:
        """Seconds since 2000-01-01 00:00:00 in the 100-year cycle; out-of-range fields carry."""
        year = self.year + (self.month - 1) // 12
        month = (self.month - 1) % 12 + 1
        first = dt.date(2000 + year % 100, month, 1)
        days = (first - _EPOCH).days + (self.day - 1)
        return (
            days * SECONDS_PER_DAY + self.hour * 3600 + self.minute * 60 + self.second
        ) % CYCLE_SECONDS

    @classmethod
    def from_seconds(cls, seconds: int, weekday: int) -> CalendarTime:
        s = seconds % CYCLE_SECONDS
        day = _EPOCH + dt.timedelta(days=s // SECONDS_PER_DAY)
        rest = s % SECONDS_PER_DAY
        return cls(
            day.year - 2000, day.month, day.day, rest // 3600, rest // 60 % 60, rest % 60, weekday
        )


RESET_TIME = CalendarTime(year=0, month=1, day=1, hour=0, minute=0, second=0, weekday=6)


class BcdCalendar:
    """Counts seconds in simulated time: a value, the instant of its next increment, a run flag."""

    def __init__(self, start: CalendarTime = RESET_TIME, now_ns: int = 0) -> None:
        self._base = start.to_seconds()
        self._base_weekday = start.weekday
        self._running = True
        self._next_tick_ns = now_ns + NS_PER_S
        self._memo_key = (-1, -1)
        """(seconds, weekday) of `_memo`, the last value `read` gave (a frozen CalendarTime)."""
        self._memo = start

    @property
    def running(self) -> bool:
        return self._running

    def _elapsed(self, t_ns: int) -> int:
        """Increments between the stored value and instant ``t_ns``."""
        if not self._running or t_ns < self._next_tick_ns:
            return 0
        return 1 + (t_ns - self._next_tick_ns) // NS_PER_S

    def read(self, t_ns: int) -> CalendarTime:
        """The calendar at simulated instant ``t_ns`` (not before the last write)."""
        unwrapped = self._base + self._elapsed(t_ns)
        days = unwrapped // SECONDS_PER_DAY - self._base // SECONDS_PER_DAY
        key = (unwrapped, (self._base_weekday + days) % 7)
        if key != self._memo_key:  # the calendar changes once a second: built once per second
            self._memo_key = key
            self._memo = CalendarTime.from_seconds(*key)
        return self._memo

    def write(self, t_ns: int, value: CalendarTime) -> None:
        """The calendar holds ``value`` from ``t_ns``; the next increment keeps its phase."""
        if self._running and t_ns >= self._next_tick_ns:
            missed = (t_ns - self._next_tick_ns) // NS_PER_S + 1
            self._next_tick_ns += missed * NS_PER_S
        self._base = value.to_seconds()
        self._base_weekday = value.weekday % 7

    def stop(self, t_ns: int) -> None:
        """Freeze at the value of ``t_ns`` (STOP bit set)."""
        if self._running:
            self.write(t_ns, self.read(t_ns))
            self._running = False

    def start(self, t_ns: int, first_tick_after_ns: int = STOP_RELEASE_FIRST_TICK_NS) -> None:
        """Run again; the first increment comes ``first_tick_after_ns`` after ``t_ns``."""
        if not self._running:
            self._running = True
            self._next_tick_ns = t_ns + first_tick_after_ns

    def reset(self, t_ns: int, value: CalendarTime = RESET_TIME) -> None:
        """Power-on: ``value`` from ``t_ns``, running, next increment one second later."""
        self._running = True
        self._next_tick_ns = t_ns + NS_PER_S
        self._base = value.to_seconds()
        self._base_weekday = value.weekday


# -- the registers both RTCs share --------------------------------------------------------

TIME_REGISTERS = ("Seconds", "Minutes", "Hours", "Days", "Weekdays", "Months", "Years")
_TIME_FIELD = {
    "Seconds": "second",
    "Minutes": "minute",
    "Hours": "hour",
    "Days": "day",
    "Weekdays": "weekday",
    "Months": "month",
    "Years": "year",
}
OS_BIT = 0x80
SOFTWARE_RESET_COMMAND = 0x58  # Control_1 = 0101 1000 on both parts


class RtcDevice(I2cRegisterDevice):
    """An NXP RTC: time registers backed by a `BcdCalendar`, OS flag, STOP, freeze during access.

    The datasheets (PCF8523 §8.6, PCF85063A §8.4) say the time counters are
    blocked during an I2C access and an increment that falls due meanwhile is
    applied after it. So reads in one access see one frozen time, and time
    written in an access holds from the access's START, later increments
    included.

    Subclasses set ``MAP`` (with registers named as `TIME_REGISTERS`) and the
    Control_1 bit masks.
    """

    STOP_MASK: ClassVar[int] = 0x20
    TWELVE_HOUR_MASK: ClassVar[int]
    CONTROL_1: ClassVar[str] = "Control_1"

    def __init__(self, address: int, name: str | None = None) -> None:
        super().__init__(address, name)
        self.calendar = BcdCalendar(RESET_TIME, 0)
        self.os_flag = True  # set at power-on (clock integrity not guaranteed)
        self._frozen: CalendarTime | None = None
        self._access_start_ns = 0
        for reg in TIME_REGISTERS:
            self._hook(
                reg, read=partial(self._read_time, reg), write=partial(self._write_time, reg)
            )
        self._hook(self.CONTROL_1, write=self._write_control_1)

    # -- simulation side --------------------------------------------------------------
    @property
    def twelve_hour(self) -> bool:
        return bool(self.peek(self.CONTROL_1) & self.TWELVE_HOUR_MASK)

    @property
    def stopped(self) -> bool:
        return bool(self.peek(self.CONTROL_1) & self.STOP_MASK)

    def now(self) -> CalendarTime:
        """The calendar now (the frozen value while an I2C access is open)."""
        if self._frozen is not None:
            return self._frozen
        return self.calendar.read(self.now_ns)

    @property
    def datetime(self) -> dt.datetime:
        """The RTC's time now, as a naive datetime in 2000..2099."""
        return self.now().to_datetime()

    def set_datetime(self, when: dt.datetime, weekday: int | None = None) -> None:
        """Set the time from the simulation side (as if the battery kept it since)."""
        self.calendar.write(self.now_ns, CalendarTime.from_datetime(when, weekday))

    def lose_power(self, *, backup: bool = False) -> None:
        """Main power goes away and comes back.

        With ``backup`` (a working backup supply the part can use) the time
        keeps counting; without, the part sees a power-on reset: registers to
        their reset values, time restarts from 2000-01-01 00:00:00 and the OS
        flag is set.
        """
        if backup and self._keeps_time_on_backup():
            return
        self.power_on_reset()

    def power_on_reset(self) -> None:
        """Power-on: every register to its reset value, OS set, time from the reset value."""
        self.reset_registers()
        self.os_flag = True
        self.calendar.reset(self.now_ns)
        self._frozen = None
        self._expect_pointer = False
        self._in_access = False
        self.pointer = 0

    def _keeps_time_on_backup(self) -> bool:
        return True

    # -- access freezing ------------------------------------------------------------------
    def begin_access(self) -> None:
        self._access_start_ns = self.now_ns
        self._frozen = self.calendar.read(self._access_start_ns)

    def end_access(self) -> None:
        self._frozen = None

    # -- the time registers ---------------------------------------------------------------
    def _read_time(self, reg: str) -> int:
        t = self.now()
        if reg == "Seconds":
            return (OS_BIT if self.os_flag else 0) | bcd_encode(t.second)
        if reg == "Hours":
            return hours_encode(t.hour, self.twelve_hour)
        if reg == "Weekdays":
            return t.weekday
        return bcd_encode(getattr(t, _TIME_FIELD[reg]))

    def _write_time(self, reg: str, value: int) -> None:
        if reg == "Seconds":
            self.os_flag = bool(value & OS_BIT)
            field_value = bcd_decode(value & 0x7F)
        elif reg == "Minutes":
            field_value = bcd_decode(value & 0x7F)
        elif reg == "Hours":
            field_value = hours_decode(value, self.twelve_hour)
        elif reg == "Days":
            field_value = bcd_decode(value & 0x3F)
        elif reg == "Weekdays":
            field_value = value & 0x07
        elif reg == "Months":
            field_value = bcd_decode(value & 0x1F)
        else:
            field_value = bcd_decode(value)
        at = self._access_start_ns if self._frozen is not None else self.now_ns
        new = replace(self.now(), **{_TIME_FIELD[reg]: field_value})
        self.calendar.write(at, new)
        if self._frozen is not None:
            self._frozen = self.calendar.read(at)

    def peek(self, name: str) -> int:
        """The register's value without side effects (time registers computed from the calendar)."""
        if name in _TIME_FIELD:
            return self._read_time(name)
        return super().peek(name)

    # -- Control_1 behaviour shared by both parts ---------------------------------------------
    def _write_control_1(self, value: int) -> None:
        old = super().peek(self.CONTROL_1)
        if value == SOFTWARE_RESET_COMMAND:
            self.software_reset()
            return
        new = self.apply_write(self.MAP.get(self.CONTROL_1, self.name), old, value)
        self.poke(self.CONTROL_1, new)
        self._apply_control_1(old, new)

    def software_reset(self) -> None:
        """Control_1 = 0x58: registers other than the time to their reset values.

        [I] The data sheets list the reset state of the control functions; the
        time registers and the OS flag are taken to be untouched (the
        oscillator keeps running through a software reset).
        """
        old = super().peek(self.CONTROL_1)
        self.reset_registers()
        self._apply_control_1(old, super().peek(self.CONTROL_1))

    def _apply_control_1(self, old: int, new: int) -> None:
        """React to STOP changes: freeze the time; on release restart with the prescaler reset."""
        if new & self.STOP_MASK and not old & self.STOP_MASK:
            self.calendar.stop(self.now_ns)
        elif old & self.STOP_MASK and not new & self.STOP_MASK:
            self.calendar.start(self.now_ns)
