"""GPIO pads control: drive strength, slew rate and hysteresis per bank (soc-facts §3.8).

Three registers in the power-management block (0x7e100000): PADS0 at 0x2c (GPIO0-27),
PADS1 at 0x30 (GPIO28-45), PADS2 at 0x34 (GPIO46-53, 46-57 on the BCM2711). A write
lands only with the password 0x5A in bits 31:24 ("Must be 5A when writing"); without it
the register keeps its value, as the silicon ignores it. The BCM2711 pad registers are
not in BCM2711-DS; the model uses the documented BCM2835 layout for both chips (the HAT
EEPROM GPIO-map atom still encodes drive, slew and hysteresis per bank, §6).

The settings are register state here: the pads' drive current is "not a current limit"
(§3.8), and the input thresholds are the nets' (VIL 0.8 V, VIH 1.3 V, with hysteresis).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from ..errors import PinError
from .registers import Access, Field, Register, RegisterBlock, RegisterMap

if TYPE_CHECKING:
    from .soc import Soc

PADS_PASSWORD: Final = 0x5A
PADS_FIELDS: Final = (
    Field("PASSWRD", 24, 8, Access.WO, doc="must be 0x5A when writing"),
    Field("SLEW", 4, 1, Access.RW, reset=1, doc="0 = slew rate limited, 1 = not limited"),
    Field("HYST", 3, 1, Access.RW, reset=1, doc="0 = hysteresis disabled, 1 = enabled"),
    Field("DRIVE", 0, 3, Access.RW, reset=3, doc="0..7 = 2, 4, ... 16 mA; reset 3 = 8 mA"),
)
PADS_MAP: Final = RegisterMap(
    [
        Register("PADS0", 0x2C, PADS_FIELDS, doc="GPIO0-27"),
        Register("PADS1", 0x30, PADS_FIELDS, doc="GPIO28-45"),
        Register("PADS2", 0x34, PADS_FIELDS, doc="GPIO46-53 (46-57 on the BCM2711)"),
    ]
)
BANK_FIRST_LINES: Final = (0, 28, 46)
"""First GPIO of each pads bank (soc-facts §3.1: pads groups 0-27, 28-45, 46-53)."""


class PadsBlock(RegisterBlock):
    """PADS0-2 of one SoC."""

    MAP = PADS_MAP

    def __init__(self, soc: Soc, name: str = "pads") -> None:
        self.gpio_count = soc.variant.gpio_count
        super().__init__(name)
        for reg in self.MAP:
            self._write_hooks[reg.name] = self._writer(reg.name)

    def _writer(self, reg_name: str) -> Callable[[int], None]:
        keep = sum(f.mask for f in PADS_FIELDS if f.access is Access.RW)

        def write(value: int) -> None:
            if value >> 24 != PADS_PASSWORD:
                return  # §3.8: without the password the write is ignored
            self._values[reg_name] = value & keep

        return write

    def bank(self, line: int) -> int:
        """The pads bank (0, 1, 2) of a GPIO line."""
        if not 0 <= line < self.gpio_count:
            raise PinError(f"GPIO{line} does not exist (GPIO0-GPIO{self.gpio_count - 1})")
        return sum(1 for first in BANK_FIRST_LINES[1:] if line >= first)

    def _field(self, line: int, name: str) -> int:
        return self.get_field(f"PADS{self.bank(line)}", name)

    def drive_ma(self, line: int) -> int:
        """The bank's drive strength setting in mA (2..16)."""
        return 2 * (self._field(line, "DRIVE") + 1)

    def slew_limited(self, line: int) -> bool:
        return self._field(line, "SLEW") == 0

    def hysteresis(self, line: int) -> bool:
        return self._field(line, "HYST") == 1
