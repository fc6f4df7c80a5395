"""What an SPI run is made of: the master's pins, a device's place on the wires, the outcome,
and a device's MISO bytes of a run in bulk (`BulkMiso`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

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


class BulkMiso(NamedTuple):
    """A device's MISO bytes of a run as two byte strings instead of (value, driven) pairs:
    ``values[k]`` is the pair's value (undriven bits 0), ``driven[k]`` its mask (None: every
    bit of every byte driven). What a part's bulk exchange gives (a flash read), carried as
    `bytes` to the master without one Python object per byte."""

    values: bytes
    driven: bytes | None

    def pairs(self) -> list[tuple[int, int]]:
        """The same bytes as the engine's (value, driven) pairs."""
        if self.driven is None:
            return [(v, 0xFF) for v in self.values]
        return list(zip(self.values, self.driven, strict=True))


Outs = list[tuple[int, int]] | BulkMiso
"""What one device sends back over a run: a (value, driven) pair per byte, or `BulkMiso`."""


def bulk_miso(got: Sequence[object]) -> BulkMiso | None:
    """``got`` (a bulk exchange's answer: a few undriven bytes, None, then whole bytes, the
    shape of a flash read) as `BulkMiso`; None for any other shape (the per-byte checks)."""
    if type(got) is bytes:
        return BulkMiso(got, None)
    if type(got) is not list:
        return None
    k = 0
    n = len(got)
    while k < n and got[k] is None:
        k += 1
    try:
        tail = bytes(got[k:])  # ints 0..255 only (bool included, as the look-up takes them)
    except (TypeError, ValueError):
        return None
    if not k:
        return BulkMiso(tail, None)
    return BulkMiso(bytes(k) + tail, bytes(k) + b"\xff" * (n - k))
