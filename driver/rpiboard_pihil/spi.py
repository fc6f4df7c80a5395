"""SPI buses and their chip selects: ``spi_buses`` (`SpiBusCollection` of `SpiBus`),
each with ``devices`` (`SpiDeviceCollection` of `SpiDevice`, one per chip select).

A transfer is full duplex, as the BCM SPI master always is ("It always both
sends and receives bytes for every byte of the transaction", soc-facts §4.1):
as many bytes come back as go out. Mode and speed are per chip select, like
Linux spidev; the controller is programmed for each transfer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .board_info import SpiBusInfo
from .capability import NumberedInterface
from .collection import NumberedCollection, RepeatedCapabilityCollection, Specifier
from .enums import ChipSelect, SpiBusId
from .validate import ByteData, data_bytes, integer

if TYPE_CHECKING:
    from .session import Session

MAX_TRANSFER = 65536
MAX_SPEED_HZ = 125_000_000
"""core clock / 2 at the Pi's 250 MHz core clock, the fastest CDIV allows (soc-facts §4.1)."""


class SpiDevice:
    """One chip select of an SPI bus (``ce0``)."""

    __slots__ = ("_backend", "_bus", "_cs", "_session")

    def __init__(self, session: Session, bus: SpiBusInfo, cs: int) -> None:
        self._session = session
        self._backend = session.backend
        self._bus = bus
        self._cs = cs

    @property
    def name(self) -> str:
        """The physical name, ``ce<n>``."""
        return f"ce{self._cs}"

    @property
    def chip_select(self) -> int:
        return self._cs

    @property
    def mode(self) -> int:
        """SPI mode 0..3 = CPOL << 1 | CPHA (soc-facts §4.1); 0 after open and reset."""
        return self._session.call(self._backend.spi_get_mode, self._bus.number, self._cs)

    @mode.setter
    def mode(self, mode: int) -> None:
        m = integer(mode, f"{self._bus.name}.{self.name}.mode", 0, 3)
        self._session.call(self._backend.spi_set_mode, self._bus.number, self._cs, m)

    @property
    def speed_hz(self) -> int:
        """Requested SCLK in Hz (500 kHz after open and reset); the divider rounds it down."""
        return self._session.call(self._backend.spi_get_speed, self._bus.number, self._cs)

    @speed_hz.setter
    def speed_hz(self, hz: int) -> None:
        v = integer(hz, f"{self._bus.name}.{self.name}.speed_hz", 1, MAX_SPEED_HZ)
        self._session.call(self._backend.spi_set_speed, self._bus.number, self._cs, v)

    def transfer(self, data: ByteData) -> bytes:
        """Send ``data`` with this chip select asserted; return the bytes clocked in meanwhile."""
        tx = data_bytes(data, f"{self._bus.name}.{self.name}.transfer data", MAX_TRANSFER)
        return self._session.call(self._backend.spi_transfer, self._bus.number, self._cs, tx)

    def __repr__(self) -> str:
        return f"SpiDevice({self._bus.name}.{self.name})"


class SpiDeviceCollection(RepeatedCapabilityCollection[SpiDevice]):
    """``spi_bus.devices``: chip selects by name (``ce0``), number or `ChipSelect`."""

    _kind = "chip select"
    _enums = (ChipSelect,)

    def __init__(self, session: Session, bus: SpiBusInfo, owner: str) -> None:
        super().__init__(
            {f"ce{cs}": SpiDevice(session, bus, cs) for cs in bus.chip_selects},
            numbers={cs: f"ce{cs}" for cs in bus.chip_selects},
            aliases={f"{bus.name.upper()}_CE{cs}_N": f"ce{cs}" for cs in bus.chip_selects}
            | {path: f"ce{cs}" for cs, path in bus.linux_devices.items()},
            owner=owner,
        )


class SpiBus(NumberedInterface[SpiBusInfo]):
    """One SPI controller (``spi0``) and its chip selects."""

    __slots__ = ("_devices",)

    def __init__(self, session: Session, info: SpiBusInfo, owner: str) -> None:
        super().__init__(info)
        self._devices = SpiDeviceCollection(session, info, f"{info.name} of {owner}")

    @property
    def devices(self) -> SpiDeviceCollection:
        """The chip selects of this bus."""
        return self._devices

    def devices_item(self, specifier: Specifier) -> SpiDevice:
        """Method-style accessor of `devices` (IVI-Python ``<rc>_item``)."""
        return self._devices[specifier]

    def __repr__(self) -> str:
        return f"SpiBus({self.name})"


class SpiBusCollection(NumberedCollection[SpiBus]):
    """``board.spi_buses``: by name (``spi0``), number or `SpiBusId`."""

    _kind = "SPI bus"
    _enums = (SpiBusId,)
    _prefix = "SPI"

    def __init__(self, session: Session, buses: tuple[SpiBusInfo, ...], owner: str) -> None:
        super().__init__(buses, lambda b: SpiBus(session, b, owner), owner=owner)
