"""SPI faults, scheduled in simulated time like every `pihil_emulator.faults.Fault`.

- `SilentSpiDevice`: a device that stops answering: it still sees its chip
  select and clocks (a flash keeps executing commands) but its MISO output is
  released, so the master reads what the MISO line's pulls give there (0x00
  with the BCM's default pull-down on GPIO9, 0xFF with a pull-up).
- `StuckMiso`: the MISO line held at a level (a damaged output stage, a solder
  bridge): the master reads that level whatever the devices drive; the net
  shows it too (GPLEV, waveforms). Unlike the generic `StuckNet`, a device
  driving the other way is not an electrical fault: the stuck line wins.

(A device taken off the bus altogether is the generic `DroppedDevice`.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..faults import Fault
from ..world.net import VDD_IO, Drive, Net
from .spi_target import SpiTarget

if TYPE_CHECKING:
    from ..board import Board


def _spi_device(board: Board, device: Any, what: str) -> SpiTarget:
    dev = board.device(device) if isinstance(device, str) else device
    if not isinstance(dev, SpiTarget):
        raise ValueError(f"{what}: {device!r} is not an SPI device model")
    return dev


@dataclass(eq=False)
class SilentSpiDevice(Fault):
    """``device`` (profile name or model) keeps listening but no longer drives MISO."""

    device: Any = None

    def apply(self, board: Board) -> None:
        _spi_device(board, self.device, self.describe()).answering = False

    def clear(self, board: Board) -> None:
        _spi_device(board, self.device, self.describe()).answering = True

    def describe(self) -> str:
        name = self.device if isinstance(self.device, str) else getattr(self.device, "name", "?")
        return f"SPI device {name} stops answering"


@dataclass(eq=False)
class StuckMiso(Fault):
    """The MISO line of SPI block ``bus`` (the pin routed to it now) held ``level``."""

    bus: str = "spi0"
    level: bool = False
    _net: Net | None = field(default=None, init=False, repr=False)

    @property
    def owner(self) -> str:
        return f"fault: {self.bus} MISO stuck {'high' if self.level else 'low'}"

    def _engine(self, board: Board) -> Any:
        block = board.soc.block(self.bus)
        engine = getattr(block, "bus", None)
        if engine is None or not hasattr(engine, "dominant_owners"):
            raise ValueError(f"{self.describe()}: block {self.bus!r} is not an SPI controller")
        return block

    def apply(self, board: Board) -> None:
        block = self._engine(board)
        miso = block.miso_net()
        if miso is None:
            raise ValueError(f"{self.describe()}: no GPIO is routed to {self.bus}'s MISO")
        drive = Drive.source(VDD_IO) if self.level else Drive.source(0.0)
        miso.drive(self.owner, drive)  # a short against another hard driver raises here
        block.bus.dominant_owners.add(self.owner)
        self._net = miso

    def clear(self, board: Board) -> None:
        block = self._engine(board)
        if self._net is not None:
            self._net.release(self.owner)
            self._net = None
        block.bus.dominant_owners.discard(self.owner)

    def describe(self) -> str:
        return f"{self.bus} MISO stuck {'high' if self.level else 'low'}"
