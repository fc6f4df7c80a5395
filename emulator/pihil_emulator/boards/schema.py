"""Board profiles: what a validated profile holds, and the checks its fields go through.

A profile names the SoC, the headers pin by pin, the board's pull resistors, the buses
(which controller on which pins, the Linux device), the devices and the test-jig wiring:
`BoardProfile` and its parts (`HeaderSpec`, `PullSpec`, `BusSpec`, `DeviceSpec`,
`JumperSpec`), frozen. The keys a profile file may have are data here (``TOP_KEYS``...),
with the parts it may name (`PARTS`).

Validation is by hand rather than with a JSON-schema library: most rules need the SoC's
own data (a GPIO the SoC lacks, a bus pin without the controller's signal in its
alternate-function row, a name that resolves to two pins), and every error must name the
file, the key path and what was expected (`ProfileError`); one layer of checks written
for that (`Checker`) gives better messages than translating a schema validator's. Reading
the files and ``extends:`` is `pihil_emulator.boards.loader`; resolving pins, buses and boot
state is `pihil_emulator.boards.resolve`; devices and the whole profile,
`pihil_emulator.boards.build`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from ..errors import ProfileError
from ..soc.alt_functions import alt_table
from ..soc.variants import SocVariant, soc_variant
from .pins import HeaderPin, PinMap


@dataclass(frozen=True)
class PartInfo:
    """A part a profile may name: how it connects and what it is."""

    kind: str
    """``i2c``, ``spi``, ``uart``, ``gpio`` (on one or more GPIO lines) or ``none``."""
    description: str


PARTS: Final[Mapping[str, PartInfo]] = MappingProxyType(
    {
        "pcm5100a": PartInfo("none", "TI PCM5100A I2S audio DAC (hardware-configured, no I2C)"),
        "attiny4": PartInfo("none", "Microchip ATtiny4 power-button controller (no I2C)"),
    }
)
"""The parts a profile may name that have no device model (a board's I2S DAC, its power
microcontroller); every modelled part comes from the device registry with its bus kind and
description (`build._known_models`), so a new device model is registered in one place.
A misspelt part is an error."""

BUS_KINDS: Final = ("i2c", "spi", "uart")
BUS_ROLES: Final[Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]] = MappingProxyType(
    {
        # kind: (required roles, optional roles)
        "i2c": (("sda", "scl"), ()),
        "spi": (("sclk", "mosi", "miso"), ("ce0", "ce1", "ce2")),
        "uart": (("tx", "rx"), ("cts", "rts")),
    }
)
I2C_GPIO: Final = "i2c-gpio"
"""The controller of a bit-banged I2C bus (``dtoverlay=i2c-gpio``) on any two GPIOs."""
I2C_GPIO_DELAY_US: Final = 2
"""``i2c_gpio_delay_us`` when the overlay is given none (its README: default "2")."""
MAX_OHMS: Final = 1e12
"""The largest pull resistance a profile may give (1 TΩ: beyond any board resistor)."""
MAX_HEADER_PINS: Final = 200
"""Pins a header may have: the 40-pin J8, and room for a CM4's 2×100-pin connectors."""

TOP_KEYS: Final = (
    "extends", "name", "model", "manufacturer", "description", "soc", "soc_overrides",
    "kernel_models", "revision", "primary_uart", "config", "headers", "pulls", "buses", "devices",
    "jumpers", "boot_functions", "boot_pulls", "test_jig",
)  # fmt: skip
PAD_PULLS: Final = ("up", "down", "none")
HEADER_KEYS: Final = ("pins", "description")
PIN_KEYS: Final = ("pin", "labels", "note")
PULL_KEYS: Final = ("pin", "pull", "ohms", "ref")
BUS_COMMON_KEYS: Final = ("kind", "controller", "enabled", "linux_device", "note")
I2C_GPIO_KEYS: Final = ("delay_us", "gpio_access_ns")
DEVICE_KEYS: Final = (
    "model", "part", "bus", "address", "chip_select", "gpio", "pins", "params", "note",
)  # fmt: skip
JUMPER_KEYS: Final = ("a", "b", "label")
JIG_KEYS: Final = ("description", "config", "pulls", "devices", "jumpers", "boot_functions")


# ----------------------------------------------------------------------------------------
# the loaded profile
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeaderSpec:
    """A header: its pins by physical number."""

    name: str
    pins: Mapping[int, HeaderPin]
    description: str = ""


@dataclass(frozen=True)
class PullSpec:
    """A resistor on the board from a pin to 3V3 (up) or GND (down)."""

    pin: str
    """Canonical pin name (``J8-03``)."""
    gpio: int | None
    net: str
    pull: str
    ohms: float
    ref: str = ""
    source: str = "board"


@dataclass(frozen=True)
class BusSpec:
    """A bus: its controller block, pins per role, and the Linux device it appears as."""

    name: str
    kind: str
    controller: str
    number: int
    """Linux bus number (``i2c10`` → 10)."""
    pins: Mapping[str, str]
    """Role → canonical pin name (``sda`` → ``J8-03``, or ``GPIO44`` off the headers)."""
    gpios: Mapping[str, int]
    """Role → GPIO line."""
    signals: Mapping[str, str]
    """Role → SoC signal (``sda`` → ``SDA1``)."""
    functions: Mapping[int, str]
    """GPIO line → the function that routes it (``ALT0``)."""
    enabled: bool = True
    linux_device: str | None = None
    note: str = ""
    delay_us: int | None = None
    """An ``i2c-gpio`` bus: i2c-algo-bit's half period in µs (``i2c_gpio_delay_us``)."""
    gpio_access_ns: int | None = None
    """An ``i2c-gpio`` bus: what one GPIO access costs (None: the Pi's figure,
    ``buses.i2c_gpio.BCM_GPIO_ACCESS_NS``); a bench can set what its scope shows."""

    @property
    def chip_selects(self) -> tuple[int, ...]:
        """SPI: the chip-select numbers the bus has (``ce0`` → 0)."""
        return tuple(sorted(int(r[2:]) for r in self.gpios if r.startswith("ce")))

    @property
    def uart_type(self) -> str | None:
        """UART: ``"mini"`` for the mini UART (uart1), ``"pl011"`` otherwise."""
        if self.kind != "uart":
            return None
        return "mini" if self.controller == "uart1" else "pl011"


@dataclass(frozen=True)
class DeviceSpec:
    """A device the board (or its test jig) carries."""

    name: str
    model: str
    """Model string (``pcf8523``, ``w25q``): what the device registry builds."""
    part: str
    """The exact part (``w25q32``); the model when the profile gives none."""
    kind: str
    bus: str | None = None
    address: int | None = None
    chip_select: int | None = None
    gpio: int | None = None
    pins: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    source: str = "board"
    """``board`` (on the board itself) or ``test_jig``."""


@dataclass(frozen=True)
class JumperSpec:
    """A wire between two pins, fitted when the board is built."""

    a: str
    b: str
    label: str = ""
    source: str = "board"


@dataclass(frozen=True)
class BoardProfile:
    """A validated board profile."""

    name: str
    file: str
    model: str
    manufacturer: str
    soc: str
    description: str = ""
    soc_overrides: Mapping[str, Any] = field(default_factory=dict)
    kernel_models: tuple[str, ...] = ()
    """What ``/proc/device-tree/model`` starts with on this board (the driver's ID query on
    hardware): "Raspberry Pi 4 Model B" matches "Raspberry Pi 4 Model B Rev 1.4"."""
    revision_code: str = ""
    """The firmware's board revision code (``/proc/cpuinfo`` ``Revision``), hex, as the
    Raspberry Pi documentation's revision-codes table gives it: "0002", "c03114"."""
    dt_model: str = ""
    """The full ``/proc/device-tree/model`` of the board the code is for."""
    primary_uart: str | None = None
    config: tuple[str, ...] = ()
    headers: Mapping[str, HeaderSpec] = field(default_factory=dict)
    pulls: tuple[PullSpec, ...] = ()
    buses: Mapping[str, BusSpec] = field(default_factory=dict)
    devices: Mapping[str, DeviceSpec] = field(default_factory=dict)
    jumpers: tuple[JumperSpec, ...] = ()
    boot_functions: Mapping[int, str] = field(default_factory=dict)
    """GPIO line → function after the firmware booted (buses' pins, the primary UART...)."""
    boot_pulls: Mapping[int, str] = field(default_factory=dict)
    """GPIO line → the pad pull (``up``/``down``/``none``) the firmware sets at boot where
    it differs from the SoC's reset pull (the UART's RX pulled up)."""
    test_jig: str = ""
    """What the test jig is (its description); its parts are in devices/jumpers/pulls."""
    _pin_map: list[PinMap] = field(default_factory=list, init=False, compare=False, repr=False)
    """The `PinMap` built once (by validation); `pin_map` hands out rebound copies."""

    @property
    def variant(self) -> SocVariant:
        return soc_variant(self.soc).with_overrides(**dict(self.soc_overrides))

    @property
    def header_pins(self) -> list[HeaderPin]:
        return [pin for header in self.headers.values() for pin in header.pins.values()]

    @property
    def routed_signals(self) -> dict[str, int]:
        """Signal → GPIO line for every enabled bus (what ``I2C1_SDA`` names on this board)."""
        return {
            bus.signals[role]: line
            for bus in self.buses.values()
            if bus.enabled
            for role, line in bus.gpios.items()
            if role in bus.signals  # an i2c-gpio bus routes no SoC signal
        }

    @property
    def gpio_lines(self) -> tuple[int, ...]:
        """The GPIO lines the board brings out: header pins, buses and GPIO devices."""
        lines = {p.gpio for p in self.header_pins if p.gpio is not None}
        for bus in self.buses.values():
            lines |= set(bus.gpios.values())
        lines |= {d.gpio for d in self.devices.values() if d.gpio is not None}
        return tuple(sorted(lines))

    def pin_map(self, now_ns: Callable[[], int] = lambda: 0) -> PinMap:
        """Name resolution for this board (`PinMap`): built on the first call (validation
        makes it), then shared tables with ``now_ns`` as the clock of its error stamps."""
        if not self._pin_map:
            self._pin_map.append(
                PinMap(
                    self.header_pins,
                    soc=self.soc,
                    gpio_count=self.variant.gpio_count,
                    alt_table=alt_table(self.soc),
                    routed_signals=self.routed_signals,
                )
            )
        return self._pin_map[0].rebound(now_ns)


# ----------------------------------------------------------------------------------------
# field checks
# ----------------------------------------------------------------------------------------
class Checker:
    """The field checks of one profile file: each raises `ProfileError` naming the file, the
    key path and what was expected, on the first fault."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, expected: str) -> ProfileError:
        return ProfileError(self.file, key, expected)

    def keys(self, data: Any, key: str, allowed: Iterable[str]) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key or "(top level)", f"a mapping with keys from: {', '.join(allowed)}")
        allowed = tuple(allowed)
        for k in data:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                where = f"{key}.{k}" if key else str(k)
                raise self.fail(where, f"a known key: {', '.join(allowed)}{hint}")
        return data

    def string(
        self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False
    ) -> str:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(path, "a string (required)")
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"a non-empty string, got {value!r}")
        return value.strip()

    def integer(self, value: Any, path: str, lo: int, hi: int) -> int:
        if isinstance(value, str):
            try:
                value = int(value, 0)
            except ValueError:
                raise self.fail(path, f"an integer {lo}..{hi}, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(path, f"an integer {lo}..{hi}, got {value!r}")
        return value

    def string_list(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(path, "a list of strings")
        return tuple(value)
