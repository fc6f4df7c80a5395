"""The byte-level interface every SPI device model implements.

A device is written once, at byte level; the SPI bus engine
(`pihil_emulator.buses.spi_bus`) drives it through exactly these calls,
whatever the controller (SPI0 at register level, a bit-banged master later).

Call order, as on the wire: ``select()`` when the device's chip-select line
goes to its active level, one ``exchange(mosi) -> miso`` per byte clocked
while selected (MSB first, full duplex: the returned byte is what the device
shifts out *while* it shifts ``mosi`` in), ``deselect()`` when the line goes
inactive again. A device that does not drive MISO for a byte (its output is
high impedance, as a flash during the command phase) returns ``None``; one
that drives only some bits returns `MisoBits`.

``modes`` are the SPI modes the datasheet promises to work in (e.g. 0 and 3
for parts that sample on the rising edge whatever the idle level of the
clock); ``mode`` is how the part behaves physically, used by the engine when
a master clocks it in a mode outside ``modes``: the part then sees (and
answers with) shifted bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, TypeAlias

from ..errors import ConfigurationError
from .bus_target import BusTarget

SPI_MODES = (0, 1, 2, 3)
"""mode = CPOL << 1 | CPHA (soc-facts §4.1: Linux maps SPI_CPOL→CS.CPOL, SPI_CPHA→CS.CPHA)."""


def check_mode(mode: int) -> int:
    """Return ``mode`` if it is an SPI mode (0..3); otherwise raise a `ConfigurationError`."""
    if not isinstance(mode, int) or mode not in SPI_MODES:
        raise ConfigurationError(f"SPI mode must be 0, 1, 2 or 3 (CPOL << 1 | CPHA), got {mode!r}")
    return mode


class MisoBits(NamedTuple):
    """A byte shifted out on MISO where only the bits set in ``driven`` are driven.

    The other bits are high impedance: the master reads whatever the MISO
    line's pulls (or other drivers) give there.
    """

    value: int
    driven: int


MisoByte: TypeAlias = int | MisoBits | None
"""What `SpiTarget.exchange` returns: a driven byte, a partly driven byte, or None (released)."""


class SpiTarget(BusTarget):
    """Base class of SPI device models.

    Subclasses override the protocol methods; the defaults describe a device
    that never drives MISO.
    """

    #: model name used in board profiles (e.g. ``"w25q"``)
    model: str = "spi-target"
    #: modes the part is specified for
    modes: frozenset[int] = frozenset({0, 3})
    #: the part's physical behaviour (CPOL << 1 | CPHA) outside ``modes``
    mode: int = 0
    #: whether the chip-select input is active high (almost all parts: active low)
    cs_active_high: bool = False
    #: fastest SCLK the part is specified for, in Hz (None: no limit modelled)
    max_speed_hz: int | None = None

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name or self.model)  # a dropped device (fault) is off the bus altogether
        #: False: the device still listens but its MISO output is released (a fault)
        self.answering = True
        self.selected = False
        #: the bus engine the device is on (one at a time; it watches the device's CS)
        self.bus_owner: str | None = None
        #: simulated time of the byte being exchanged (set by the engine; the
        #: closed-form engine calls `exchange` ahead of the clock)
        self.bus_time_ns: int | None = None

    @property
    def now_ns(self) -> int:
        """Simulated time as the device sees it: the time of the byte on the wire during a transfer."""
        t = self.bus_time_ns
        return super().now_ns if t is None else t

    # -- the byte-level protocol -----------------------------------------
    def select(self) -> None:
        """Chip select went active."""

    def exchange(self, mosi: int) -> MisoByte:
        """One byte clocked while selected: ``mosi`` came in; return what went out."""
        return None

    def exchange_many(self, data: bytes, times: Sequence[int]) -> Sequence[MisoByte]:
        """Bytes clocked back to back while selected: ``data[i]`` comes in at ``times[i]``
        (`bus_time_ns` during each); what went out, one `MisoByte` each (a ``bytes`` result:
        every byte driven in full).

        This default is `exchange` byte after byte. A part overrides it with a bulk version
        that gives the same result and leaves the same state (a memory read as one slice:
        `W25q`); the closed-form engine calls the override, and the base loop only through
        `exchange` per byte (`SpiBus._exchange_aligned`).
        """
        out: list[MisoByte] = []
        exchange = self.exchange
        try:
            for t, b in zip(times, data, strict=True):
                self.bus_time_ns = t
                out.append(exchange(b))
        finally:
            self.bus_time_ns = None
        return out

    def deselect(self) -> None:
        """Chip select went inactive: the end of a command for most parts."""


def normalize_miso(out: MisoByte, device: str) -> tuple[int, int]:
    """(value, driven mask) of what a device returned from `SpiTarget.exchange`, checked."""
    if out is None:
        return 0, 0
    if isinstance(out, MisoBits):
        value, driven = out
    else:
        value, driven = out, 0xFF
    if not (0 <= value <= 0xFF and 0 <= driven <= 0xFF):
        raise ValueError(
            f"{device}: exchange() must return a byte (0..0xff) or MisoBits of bytes, got {out!r}"
        )
    return value & driven, driven
