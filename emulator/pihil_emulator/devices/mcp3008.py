"""MCP3008: 8-channel 10-bit SAR ADC on SPI (Microchip DS21295D).

Bit-serial as the datasheet describes it (section 5.0, Figure 5-1), so the
usual 3-byte framing from an 8-bit SPI port (``0x01, 0x80 | ch << 4, 0x00``)
works because of how the bits fall, not because it is hard-coded:

- with CS low, "the first clock received with CS low and DIN high will
  constitute a start bit"; leading zeros are fine;
- then SGL/DIFF and D2 D1 D0 select the input (Tables 5-1/5-2);
- the input is sampled from the fourth rising edge after the start bit; one
  more clock completes the sample, then DOUT gives a low null bit and the 10
  result bits MSB first; further clocks give the result again LSB first
  (B1..B9), then zeros "indefinitely";
- DOUT is high impedance until the null bit (and whenever CS is high), so the
  master reads the MISO line's pull there;
- a new conversion needs CS brought high and low again.

Transfer function (section 4.1): code = 1024 × VIN / VREF, clipped to 0..1023;
in pseudo-differential mode VIN = IN+ − IN−, and IN− above IN+ gives 000h.
Modes 0,0 and 1,1 are supported ("The MCP3004/3008 can be used with SPI modes
0,0 and 1,1": data clocked in on the rising edge, out on the falling edge).
"""

from __future__ import annotations

import math
from typing import Final

from ..buses.spi_target import MisoBits, MisoByte, SpiTarget
from ..errors import ConfigurationError

CHANNELS: Final = 8
RESOLUTION_BITS: Final = 10
FULL_SCALE: Final = 1 << RESOLUTION_BITS
VDD_RANGE: Final = (2.7, 5.5)
"""Operating supply (DS21295D electrical characteristics)."""
VREF_MIN: Final = 0.25
"""Reference input range 0.25 V .. VDD (DS21295D)."""

#: Table 5-2: D2 D1 D0 in differential mode -> (IN+ channel, IN- channel)
DIFFERENTIAL_PAIRS: Final = {
    0b000: (0, 1),
    0b001: (1, 0),
    0b010: (2, 3),
    0b011: (3, 2),
    0b100: (4, 5),
    0b101: (5, 4),
    0b110: (6, 7),
    0b111: (7, 6),
}

# clocks after the start bit (c = 1 is SGL/DIFF) where DOUT changes meaning
_C_SAMPLE = 4  # D0 is clocked in: the sample starts (4th rising edge after the start bit)
_C_NULL = 6  # the null bit
_C_MSB = 7  # B9 .. B0 on c = 7 .. 16
_C_LSB_FIRST = 17  # B1 .. B9 on c = 17 .. 25, then zeros


class Mcp3008(SpiTarget):
    """An MCP3008 whose analog inputs are set from the simulation in volts."""

    model = "mcp3008"
    modes = frozenset({0, 3})
    mode = 0

    def __init__(self, name: str | None = None, *, vref: float = 3.3, vdd: float = 3.3) -> None:
        super().__init__(name)
        if not VDD_RANGE[0] <= vdd <= VDD_RANGE[1]:
            raise ConfigurationError(
                f"MCP3008 VDD must be {VDD_RANGE[0]}..{VDD_RANGE[1]} V, got {vdd} V"
            )
        if not VREF_MIN <= vref <= vdd:
            raise ConfigurationError(
                f"MCP3008 VREF must be {VREF_MIN} V..VDD ({vdd} V), got {vref} V"
            )
        self.vref = float(vref)
        self.vdd = float(vdd)
        #: datasheet fCLK maximum: 3.6 MHz at VDD = 5 V, 1.35 MHz at 2.7 V
        self.max_speed_hz = 3_600_000 if vdd >= 5.0 else 1_350_000
        self._volts = [0.0] * CHANNELS
        self.conversions = 0
        self._reset_frame()

    # -- the analog side ------------------------------------------------------------
    def set_voltage(self, channel: int, volts: float) -> None:
        """Apply ``volts`` to input CH<channel> (VSS..VDD; above VREF the code saturates)."""
        ch = self._check_channel(channel)
        if not isinstance(volts, int | float) or math.isnan(volts):
            raise ConfigurationError(f"{self.name}: CH{ch} needs a voltage in volts, got {volts!r}")
        if not 0.0 <= volts <= self.vdd:
            raise ConfigurationError(
                f"{self.name}: CH{ch} takes 0..{self.vdd} V (VSS..VDD), got {volts} V"
            )
        self._volts[ch] = float(volts)

    def voltage(self, channel: int) -> float:
        return self._volts[self._check_channel(channel)]

    def code(self, channel: int, *, single_ended: bool = True) -> int:
        """The 10-bit result a conversion of this input (or pair, by its D2..D0) gives now."""
        ch = self._check_channel(channel)
        if single_ended:
            vin = self._volts[ch]
        else:
            plus, minus = DIFFERENTIAL_PAIRS[ch]
            vin = self._volts[plus] - self._volts[minus]
        if vin <= 0.0:
            return 0
        return min(FULL_SCALE - 1, math.floor(FULL_SCALE * vin / self.vref))

    def _check_channel(self, channel: int) -> int:
        if not isinstance(channel, int) or not 0 <= channel < CHANNELS:
            raise ConfigurationError(
                f"{self.name}: channel must be 0..{CHANNELS - 1}, got {channel!r}"
            )
        return channel

    # -- the serial side --------------------------------------------------------------
    def _reset_frame(self) -> None:
        self._c: int | None = None  # clocks since the start bit (None: waiting for it)
        self._single = True
        self._select = 0
        self._result = 0
        self._done = False  # the frame ran to the trailing zeros; needs CS high to restart

    def select(self) -> None:
        self._reset_frame()

    def deselect(self) -> None:
        self._reset_frame()

    def _dout(self) -> int | None:
        """DOUT for the next clock (None: high impedance)."""
        c = self._c
        if c is None:
            return 0 if self._done else None
        c += 1  # the clock about to happen
        if c < _C_NULL:
            return None
        if c == _C_NULL:
            return 0
        if c < _C_LSB_FIRST:
            return (self._result >> (RESOLUTION_BITS - 1 - (c - _C_MSB))) & 1
        if c < _C_LSB_FIRST + RESOLUTION_BITS - 1:
            return (self._result >> (c - _C_LSB_FIRST + 1)) & 1
        return 0

    def exchange(self, mosi: int) -> MisoByte:
        value = driven = 0
        for i in range(8):
            out = self._dout()
            value <<= 1
            driven <<= 1
            if out is not None:
                value |= out
                driven |= 1
            self._clock((mosi >> (7 - i)) & 1)
        return value if driven == 0xFF else MisoBits(value, driven)

    def _clock(self, din: int) -> None:
        c = self._c
        if c is None:
            if din and not self._done:
                self._c = 0
            return
        c += 1
        self._c = c
        if c == 1:
            self._single = bool(din)
        elif c <= _C_SAMPLE:
            self._select = (self._select << 1 | din) & 0b111
            if c == _C_SAMPLE:
                self._result = self.code(self._select, single_ended=self._single)
                self.conversions += 1
        elif c >= _C_LSB_FIRST + RESOLUTION_BITS - 1:
            self._c = None
            self._done = True
