"""SPI0's SCLK timing: the CDIV divisor as the chip reads it, and a run's cycle counts.

soc-facts §4.1: a bit cell is CDIV core-clock cycles (even, 0 means 65536); the FIFO-fed
master leaves one idle SCLK cycle after each byte, DMA none (buses/spi_bus.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigurationError
from ..world.clock import NS_PER_S

MAX_DIVISOR = 65536
"""soc-facts §4.1: "If CDIV is set to 0, the divisor is 65536"."""


def effective_divisor(cdiv: int) -> int:
    """The SCLK divisor a CLK.CDIV register value gives (soc-facts §4.1).

    "The divisor must be a multiple of 2. Odd numbers rounded down", and 0 means
    65536; read literally, CDIV = 1 rounds down to 0 and so divides by 65536 [I].
    """
    if not 0 <= cdiv <= 0xFFFF:
        raise ConfigurationError(f"CDIV is a 16-bit field (0..65535), got {cdiv}")
    even = cdiv & ~1
    return even if even else MAX_DIVISOR


@dataclass(frozen=True)
class SpiClock:
    """SCLK timing of a run: the core clock, the divisor and the idle SCLK cycles after each byte."""

    core_clock_hz: int
    divisor: int
    """Core-clock cycles per SCLK period: an even number 2..65536."""
    gap_sclk_cycles: int = 1
    """Idle SCLK periods after each byte: 1 when the CPU feeds the FIFO, 0 under DMA."""

    def __post_init__(self) -> None:
        if self.core_clock_hz <= 0:
            raise ConfigurationError(f"core clock must be positive, got {self.core_clock_hz} Hz")
        if not (2 <= self.divisor <= MAX_DIVISOR and self.divisor % 2 == 0):
            raise ConfigurationError(
                f"SCLK divisor must be even, 2..{MAX_DIVISOR}, got {self.divisor}"
            )
        if self.gap_sclk_cycles < 0:
            raise ConfigurationError(f"gap cannot be negative, got {self.gap_sclk_cycles}")

    @property
    def half_cycles(self) -> int:
        return self.divisor // 2

    @property
    def byte_cycles(self) -> int:
        """Core cycles from one byte's first bit cell to the next byte's."""
        return (8 + self.gap_sclk_cycles) * self.divisor

    @property
    def sclk_hz(self) -> float:
        return self.core_clock_hz / self.divisor

    def ns(self, cycles: int) -> int:
        """Core-clock cycles to whole nanoseconds (floor: the edge is in that nanosecond)."""
        return cycles * NS_PER_S // self.core_clock_hz

    def run_cycles(self, nbytes: int) -> int:
        """Cycles from the first bit cell's start to the end of the last byte's last cell."""
        if nbytes <= 0:
            return 0
        return (nbytes - 1) * self.byte_cycles + 8 * self.divisor
