"""NXP PCF85063A real-time clock (CM4 IO board, 0x51 on i2c-10 / GPIO44-45; soc-facts §7.1).

Register map from the PCF85063A product data sheet (Rev. 7, Table 6 and §8):
00h..11h, the pointer auto-increments and wraps from 11h to 00h; time
registers 04h..0Ah in BCD count in simulated time (`bcd_calendar`); reset
time 2000-01-01 00:00:00, Saturday (weekday 6); OS flag in Seconds set at
power-on; STOP freezes; 0x58 to Control_1 is the software reset; 12/24 h
mode; a RAM byte at 03h.

The part has one supply pin: on the CM4 IO board a coin cell keeps it running
when the board is off, which is `lose_power(backup=True)`.

Not modelled (registers store what is written, flags stay 0): alarms, the
countdown timer, minute/half-minute interrupts, CLKOUT, offset correction.
"""

from __future__ import annotations

from typing import ClassVar

from ..soc.registers import Access, Field, Register, RegisterMap
from .bcd_calendar import RtcDevice

RO = Access.RO

PCF85063A_MAP = RegisterMap(
    [
        Register(
            "Control_1",
            0x00,
            (
                Field("CAP_SEL", 0, doc="0 = 7 pF, 1 = 12.5 pF"),
                Field("12_24", 1, doc="1 = 12 hour mode"),
                Field("CIE", 2),
                Field("SR", 4, access=RO, doc="software reset: write 0x58; reads 0"),
                Field("STOP", 5),
                Field("EXT_TEST", 7),
            ),
        ),
        Register(
            "Control_2",
            0x01,
            (
                Field("COF", 0, 3, doc="CLKOUT frequency; 000 = 32768 Hz"),
                Field("TF", 3, access=RO),
                Field("HMI", 4),
                Field("MI", 5),
                Field("AF", 6, access=RO),
                Field("AIE", 7),
            ),
        ),
        Register("Offset", 0x02, doc="MODE (bit 7), OFFSET[6:0]"),
        Register("RAM_byte", 0x03),
        Register("Seconds", 0x04, reset=0x80, doc="OS flag (bit 7) + BCD seconds"),
        Register("Minutes", 0x05),
        Register("Hours", 0x06),
        Register("Days", 0x07, reset=0x01),
        Register("Weekdays", 0x08, reset=0x06),
        Register("Months", 0x09, reset=0x01),
        Register("Years", 0x0A),
        Register("Second_alarm", 0x0B, reset=0x80, doc="AEN_S (bit 7) 1 = disabled"),
        Register("Minute_alarm", 0x0C, reset=0x80),
        Register("Hour_alarm", 0x0D, (Field("HOUR_ALARM", 0, 6), Field("AEN_H", 7, reset=1))),
        Register("Day_alarm", 0x0E, (Field("DAY_ALARM", 0, 6), Field("AEN_D", 7, reset=1))),
        Register("Weekday_alarm", 0x0F, (Field("WEEKDAY_ALARM", 0, 3), Field("AEN_W", 7, reset=1))),
        Register("Timer_value", 0x10),
        Register(
            "Timer_mode",
            0x11,
            (
                Field("TI_TP", 0),
                Field("TIE", 1),
                Field("TE", 2),
                Field("TCF", 3, 2, reset=0b11, doc="timer clock; 11 = 1/60 Hz"),
            ),
        ),
    ]
)


class Pcf85063a(RtcDevice):
    """PCF85063A RTC at 0x51.

    Simulation side: ``datetime`` / ``set_datetime(dt)``, ``os_flag``,
    ``lose_power(backup=True|False)``, ``stopped``, ``twelve_hour``; registers
    by name with ``read``/``write``/``peek``.
    """

    model = "pcf85063a"
    MAP: ClassVar[RegisterMap] = PCF85063A_MAP
    POINTER_SPAN: ClassVar[int] = 0x12
    TWELVE_HOUR_MASK: ClassVar[int] = 1 << 1

    def __init__(self, address: int = 0x51, name: str | None = None) -> None:
        super().__init__(address, name)
