"""Header pins: the ``pins`` repeated capability (`PinCollection` of `Pin`).

Pins are named as the RPi low-level peripherals page recommends (``P1-03``,
``P5-04``, ``J8-11``); an integer selects a pin of the board's main header by
its physical number. A pin that carries a GPIO hands out that `Gpio`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .board_info import PinInfo
from .collection import RepeatedCapabilityCollection
from .enums import HeaderPin, PinKind
from .errors import ConfigurationError

if TYPE_CHECKING:
    from .gpio import Gpio, GpioCollection


class Pin:
    """One physical header pin."""

    __slots__ = ("_gpio_pins", "_gpios", "_info")

    def __init__(self, info: PinInfo, gpios: GpioCollection, gpio_pins: tuple[str, ...]) -> None:
        self._info = info
        self._gpios = gpios
        self._gpio_pins = gpio_pins

    @property
    def name(self) -> str:
        """The physical name, ``<header>-<nn>`` (``J8-11``)."""
        return self._info.name

    @property
    def header(self) -> str:
        return self._info.header

    @property
    def number(self) -> int:
        """Physical pin number on its header."""
        return self._info.number

    @property
    def kind(self) -> PinKind:
        """GPIO, POWER, GROUND or OTHER."""
        return self._info.kind

    @property
    def signal(self) -> str:
        """What the pin carries: ``GPIO17``, ``3V3``, ``5V``, ``GND``..."""
        return self._info.signal

    @property
    def is_gpio(self) -> bool:
        return self._info.gpio is not None

    @property
    def gpio(self) -> Gpio:
        """The GPIO line on this pin; a power, ground or other pin raises `ConfigurationError`."""
        if self._info.gpio is None:
            raise ConfigurationError(
                f"{self.name} is {self._info.signal} ({self._info.kind.value}), not a GPIO; "
                f"GPIO pins of {self._info.header}: " + ", ".join(self._gpio_pins)
            )
        return self._gpios[self._info.gpio]

    def __repr__(self) -> str:
        return f"Pin({self.name}: {self.signal})"


class PinCollection(RepeatedCapabilityCollection[Pin]):
    """``board.pins``: header pins by name (``J8-11``), main-header number or `HeaderPin`."""

    _kind = "header pin"
    _enums = (HeaderPin,)

    def __init__(
        self, pins: tuple[PinInfo, ...], gpios: GpioCollection, primary: str, owner: str
    ) -> None:
        by_header: dict[str, tuple[str, ...]] = {}
        for h in {p.header for p in pins}:
            by_header[h] = tuple(p.name for p in pins if p.header == h and p.gpio is not None)
        super().__init__(
            {p.name: Pin(p, gpios, by_header[p.header]) for p in pins},
            numbers={p.number: p.name for p in pins if p.header == primary},
            owner=owner,
        )
