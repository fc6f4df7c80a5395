"""What the driver knows about one board: its identity, header pins, GPIO lines and buses.

Built from the emulator's board profile (the one source of those facts) by
`backends.simulated.describe_board`, and used the same way by both backends,
so a test addresses ``board.pins["J8-11"]`` identically in simulation and on
the bench.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .enums import PinKind, Pull
from .errors import OptionError


@dataclass(frozen=True)
class PinInfo:
    """One header pin: ``J8-11`` is GPIO17; ``J8-01`` is 3V3 power."""

    name: str
    header: str
    number: int
    kind: PinKind
    gpio: int | None
    signal: str
    """What the pin carries: ``GPIO17``, ``3V3``, ``5V``, ``GND``..."""


@dataclass(frozen=True)
class I2cBusInfo:
    """An I2C bus of the board: its name (``i2c1``), Linux number and pins."""

    name: str
    number: int
    sda_gpio: int | None
    scl_gpio: int | None
    linux_device: str
    controller: str = ""
    """The SoC block behind it (``bsc1``)."""


@dataclass(frozen=True)
class SpiBusInfo:
    """An SPI bus and its chip selects (``ce0``, ``ce1``...)."""

    name: str
    number: int
    chip_selects: tuple[int, ...]
    linux_devices: Mapping[int, str]
    """Chip select number to ``/dev/spidevB.C``."""


@dataclass(frozen=True)
class UartInfo:
    """A UART: ``uart0`` (PL011) or ``uart1`` (mini UART), with its Linux tty."""

    name: str
    number: int
    kind: str
    """``"pl011"`` or ``"mini"``."""
    tx_gpio: int | None
    rx_gpio: int | None
    linux_device: str


@dataclass(frozen=True)
class BoardInfo:
    """The driver's description of a board (from its profile)."""

    name: str
    """Profile name (``mirkopc``, ``rpi-4b``...)."""
    manufacturer: str
    model: str
    soc: str
    """``BCM2835`` or ``BCM2711``."""
    gpio_count: int
    gpios: tuple[int, ...]
    """The GPIO lines the driver exposes (header and on-board lines of the profile)."""
    pins: tuple[PinInfo, ...]
    i2c_buses: tuple[I2cBusInfo, ...]
    spi_buses: tuple[SpiBusInfo, ...]
    uarts: tuple[UartInfo, ...]
    gpio_aliases: Mapping[str, int] = field(default_factory=dict)
    """Other names of GPIO lines (``I2C1_SDA``, ``ID_SD``, ``J8-03``...) to their line."""
    kernel_models: tuple[str, ...] = ()
    """Prefixes of ``/proc/device-tree/model`` that identify this board (the SoM for carriers)."""
    revision_code: str = ""
    """The board revision code (``/proc/cpuinfo`` ``Revision``, hex: "c03114")."""
    dt_model: str = ""
    """The full ``/proc/device-tree/model`` ("Raspberry Pi 4 Model B Rev 1.4")."""
    primary_header: str = ""
    """The header an integer pin index refers to (``J8`` or ``P1``)."""
    reset_pulls: Mapping[int, Pull] = field(default_factory=dict)
    """The SoC's pull per line at reset (soc-facts §3.7), restored by ``reset``."""
    resolve_gpio: Callable[[str], int | None] | None = field(default=None, compare=False)
    """Any other pin name the profile understands (``BOARD11``, ``J8-3``, ``GPIO2-ALT0``) to
    its GPIO line, or None if it names none."""

    def device_names(self) -> tuple[str, ...]:
        """Capabilities that have a Linux device node (the keys of the ``devices`` option)."""
        names = [b.name for b in self.i2c_buses] + [u.name for u in self.uarts]
        names += [f"{s.name}.ce{cs}" for s in self.spi_buses for cs in s.chip_selects]
        return tuple(names)

    def check_device_names(self, devices: Mapping[str, str]) -> None:
        """Refuse a ``devices`` option naming a capability the board does not have."""
        known = self.device_names()
        for name in devices:
            if name not in known:
                raise OptionError(
                    f"option 'devices' names {name!r}, which {self.name} does not have; "
                    f"valid names: {', '.join(known)}"
                )

    def pin(self, name: str) -> PinInfo:
        for p in self.pins:
            if p.name == name:
                return p
        raise KeyError(name)
