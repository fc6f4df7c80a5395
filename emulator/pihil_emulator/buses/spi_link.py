"""What an SPI run is made of: the master's pins, a device's place on the wires, the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..world.edges import Edge
from ..world.net import Net
from .spi_target import SpiTarget


@dataclass(frozen=True)
class SpiPins:
    """The master's side of the bus now: nets routed to SCLK, MOSI (outputs) and MISO (input)."""

    sclk: Sequence[Net]
    mosi: Sequence[Net]
    miso: Net | None


@dataclass
class SpiLink:
    """A device's place on the wires: its chip-select, clock, data-in and data-out nets."""

    target: SpiTarget
    cs: Net
    sclk: Net
    mosi: Net | None
    miso: Net | None


@dataclass
class SpiRun:
    """The outcome of a run: what the master read, when the last bit cell ended, the edges."""

    rx: bytes
    end_ns: int
    mosi_last: bool
    edges: list[Edge] = field(default_factory=list)
