"""NXP PCF8523 real-time clock (MirkoPC U800 at 0x68 on I2C1; soc-facts §7.2).

Register map from the PCF8523 product data sheet (Rev. 6/7, Table 7 and §8):
pointer auto-increments after each byte and wraps from 13h to 00h; time
registers in BCD count in simulated time (`bcd_calendar`); OS flag in Seconds
set at power-on, cleared by writing 0; STOP freezes the clock; 0x58 written to
Control_1 is the software reset; 12/24 h mode; battery switch-over by PM[2:0]
(enabled for 000, 001, 100, 101) sets BSF when main power fails.

Not modelled (the registers store what is written, flags stay 0): alarms,
timers A/B, watchdog, second interrupt, CLKOUT, offset correction, battery-low
detection.
"""

from __future__ import annotations

from typing import ClassVar

from ..soc.registers import Access, Field, Register, RegisterMap
from .bcd_calendar import RtcDevice

RO = Access.RO

PCF8523_MAP = RegisterMap(
    [
        Register(
            "Control_1",
            0x00,
            (
                Field("CIE", 0),
                Field("AIE", 1),
                Field("SIE", 2),
                Field("12_24", 3, doc="1 = 12 hour mode"),
                Field("SR", 4, access=RO, doc="software reset: write 0x58; reads 0"),
                Field("STOP", 5),
                Field("T", 6, access=RO, doc="unused, must be 0"),
                Field("CAP_SEL", 7, doc="0 = 7 pF, 1 = 12.5 pF"),
            ),
        ),
        Register(
            "Control_2",
            0x01,
            (
                Field("CTBIE", 0),
                Field("CTAIE", 1),
                Field("WTAIE", 2),
                Field("AF", 3, access=RO),
                Field("SF", 4, access=RO),
                Field("CTBF", 5, access=RO),
                Field("CTAF", 6, access=RO),
                Field("WTAF", 7, access=RO),
            ),
        ),
        Register(
            "Control_3",
            0x02,
            (
                Field("BLIE", 0),
                Field("BSIE", 1),
                Field("BLF", 2, access=RO),
                Field("BSF", 3, access=RO, doc="battery switch-over flag; write 0 clears"),
                Field("PM", 5, 3, reset=0b111, doc="power management; 111 = switch-over off"),
            ),
        ),
        Register("Seconds", 0x03, reset=0x80, doc="OS flag (bit 7) + BCD seconds"),
        Register("Minutes", 0x04),
        Register("Hours", 0x05),
        Register("Days", 0x06, reset=0x01),
        Register("Weekdays", 0x07, reset=0x06),
        Register("Months", 0x08, reset=0x01),
        Register("Years", 0x09),
        Register("Minute_alarm", 0x0A, reset=0x80, doc="AEN_M (bit 7) 1 = disabled"),
        Register("Hour_alarm", 0x0B, (Field("HOUR_ALARM", 0, 6), Field("AEN_H", 7, reset=1))),
        Register("Day_alarm", 0x0C, (Field("DAY_ALARM", 0, 6), Field("AEN_D", 7, reset=1))),
        Register("Weekday_alarm", 0x0D, (Field("WEEKDAY_ALARM", 0, 3), Field("AEN_W", 7, reset=1))),
        Register("Offset", 0x0E, doc="MODE (bit 7), OFFSET[6:0]"),
        Register(
            "Tmr_CLKOUT_ctrl",
            0x0F,
            (
                Field("TBC", 0),
                Field("TAC", 1, 2),
                Field("COF", 3, 3),
                Field("TBM", 6),
                Field("TAM", 7),
            ),
        ),
        Register("Tmr_A_freq_ctrl", 0x10, (Field("TAQ", 0, 3, reset=0b111),)),
        Register("Tmr_A_reg", 0x11),
        Register(
            "Tmr_B_freq_ctrl",
            0x12,
            (Field("TBQ", 0, 3, reset=0b111), Field("TBW", 4, 3, reset=0b111)),
        ),
        Register("Tmr_B_reg", 0x13),
    ]
)

_BSF = 1 << 3
#: PM[2:0] values with the battery switch-over function enabled (data sheet Table 11)
SWITCH_OVER_ENABLED = frozenset({0b000, 0b001, 0b100, 0b101})


class Pcf8523(RtcDevice):
    """PCF8523 RTC at 0x68.

    Simulation side: ``datetime`` / ``set_datetime(dt)``, ``os_flag``,
    ``lose_power(backup=True|False)`` (with backup the time survives only when
    PM[2:0] enables the battery switch-over, and BSF is set), ``stopped``,
    ``twelve_hour``; registers by name with ``read``/``write``/``peek``.
    """

    model = "pcf8523"
    MAP: ClassVar[RegisterMap] = PCF8523_MAP
    POINTER_SPAN: ClassVar[int] = 0x14
    TWELVE_HOUR_MASK: ClassVar[int] = 1 << 3

    def __init__(self, address: int = 0x68, name: str | None = None) -> None:
        super().__init__(address, name)
        self._hook("Control_3", write=self._write_control_3)

    def _write_control_3(self, value: int) -> None:
        old = self.peek("Control_3")
        new = self.apply_write(self.MAP.get("Control_3"), old, value)
        if not value & _BSF:
            new &= ~_BSF  # BSF is cleared by writing 0; writing 1 leaves it
        self.poke("Control_3", new)

    def _keeps_time_on_backup(self) -> bool:
        pm = self.get_field("Control_3", "PM")
        if pm not in SWITCH_OVER_ENABLED:
            return False
        self.set_field("Control_3", "BSF", 1)
        return True
