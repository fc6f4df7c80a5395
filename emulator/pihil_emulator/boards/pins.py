"""Pin names: every form the seed uses resolves to one pin of the board.

Seed (RPi low-level peripherals, "Referring to pins on the Expansion header"): pins on a
header are ``P1-01``...; ``GPIO7`` is a SoC line and ``GPIO7-ALT0`` one cell of its
alternate-function row; signals are spelt ``I2C0_SDA``/``UART0_TXD`` (Broadcom's
``SDA0``/``TXD0`` are accepted too) and ``SPI0_*`` as Broadcom does.

Accepted forms (case and spaces do not matter; leading zeros do not matter):
``J8-03``, ``J8-3``, ``J8:3`` (gpiozero), ``BOARD3`` (main header), ``GPIO2``, ``GPIO02``,
``BCM2`` (gpiozero), ``GPIO2-ALT0``/``GPIO2_ALT0``, header labels such as ``ID_SD``,
signal names (``I2C1_SDA``, ``SDA1``, ``SPI0_MOSI``), and the supplies ``3V3``, ``5V``,
``GND``. A signal found on two pins of the board is ambiguous unless a bus of the profile
routes it; the error names both pins.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import ElectricalFault, PinError
from ..soc.alt_functions import AltRow, broadcom_signal_name, seed_signal_name

PIN_KINDS = ("gpio", "power", "ground", "nc")

RAIL_ALIASES: Mapping[str, str] = {
    "3V3": "3V3",
    "+3V3": "3V3",
    "3.3V": "3V3",
    "+3.3V": "3V3",
    "5V": "5V",
    "+5V": "5V",
    "5V0": "5V",
    "5.0V": "5V",
    "GND": "GND",
    "0V": "GND",
    "GROUND": "GND",
}
"""Supply names as the seed writes them (``+3V3``, ``3.3 V``, ``5V0``, ``GND``) → rail net."""

_HEADER_PIN = re.compile(r"^([A-Z]+\d*)[-:.](\d+)$")
_GPIO = re.compile(r"^(?:GPIO|BCM)(\d+)(?:[-_]?ALT(\d+))?$")
_BOARD = re.compile(r"^BOARD(\d+)$")


_SPACE = re.compile(r"\s+")


@functools.lru_cache(maxsize=4096)
def normalise(name: str) -> str:
    """The lookup key of a name: upper case, no spaces (memoised: every board built asks
    for the same few hundred names)."""
    return _SPACE.sub("", name).upper()


def gpio_line(name: str) -> int | None:
    """The SoC line a GPIO name names (``GPIO17``, ``gpio 17``, ``GPIO017``, ``BCM17``), None
    for any other name, an alternate-function cell (``GPIO17-ALT0``) included. The parse of
    GPIO names `PinMap` resolves with, for code that has only a name (no board)."""
    m = _GPIO.match(normalise(name))
    return int(m.group(1)) if m is not None and m.group(2) is None else None


@dataclass(frozen=True)
class HeaderPin:
    """One physical pin of a header, as a profile declares it."""

    header: str
    number: int
    kind: str
    """``"gpio"``, ``"power"``, ``"ground"`` or ``"nc"``."""
    gpio: int | None = None
    rail: str | None = None
    """The supply net of a power or ground pin (``3V3``, ``5V``, ``GND``)."""
    labels: tuple[str, ...] = ()
    """Board-specific names (``ID_SD``)."""
    note: str = ""

    @property
    def name(self) -> str:
        """Canonical name: ``J8-03``."""
        return f"{self.header}-{self.number:02d}"

    @property
    def net(self) -> str | None:
        if self.gpio is not None:
            return f"GPIO{self.gpio}"
        return self.rail

    @property
    def names(self) -> tuple[str, ...]:
        """Every name of the pin: canonical, GPIO (or supply) and labels."""
        out = [self.name]
        if self.gpio is not None:
            out.append(f"GPIO{self.gpio}")
        elif self.rail is not None:
            out.append(self.rail)
        out.extend(self.labels)
        return tuple(out)


@dataclass(frozen=True)
class PinInfo:
    """What a name resolved to."""

    name: str
    """Canonical: ``J8-03``; ``GPIO44`` for a SoC line on no header; ``GND``/``3V3``/``5V``."""
    kind: str
    gpio: int | None
    header: str | None = None
    number: int | None = None
    net: str | None = None
    """The net's name in the circuit (``GPIO2``, ``3V3``, ``GND``); None for ``nc``."""
    names: tuple[str, ...] = ()
    alt: str | None = None
    """``ALT0``.. when the name picked one cell (``GPIO2-ALT0``) or a signal."""
    signal: str | None = None
    """The Broadcom signal of that cell (``SDA1``)."""
    labels: tuple[str, ...] = field(default=())

    @property
    def is_gpio(self) -> bool:
        return self.kind == "gpio"


class PinNameConflict(PinError):
    """One name given to two different pins of a board (a profile error)."""

    def __init__(self, name: str, first: str, second: str) -> None:
        self.name = name
        self.first = first
        self.second = second
        super().__init__(name, first, second)  # rebuildable as type(e)(*e.args), as SimPy does

    def __str__(self) -> str:
        return f"{self.name!r} names both {self.first} and {self.second}"


class PinMap:
    """Name resolution for one board: its headers, its SoC's lines and alternates."""

    def __init__(
        self,
        pins: Iterable[HeaderPin],
        *,
        soc: str,
        gpio_count: int,
        alt_table: Mapping[int, AltRow],
        routed_signals: Mapping[str, int] | None = None,
        now_ns: Callable[[], int] = lambda: 0,
    ) -> None:
        self.soc = soc
        self.gpio_count = gpio_count
        self.alt_table = alt_table
        self._now_ns = now_ns
        self._pins: list[HeaderPin] = list(pins)
        self._headers: dict[str, dict[int, HeaderPin]] = {}
        self._by_gpio: dict[int, HeaderPin] = {}
        self._static: dict[str, PinInfo] = {}
        self._cache: dict[str, PinInfo] = {}
        for pin in self._pins:
            self._headers.setdefault(pin.header, {})[pin.number] = pin
            if pin.gpio is not None:
                other = self._by_gpio.get(pin.gpio)
                if other is not None:
                    raise PinNameConflict(f"GPIO{pin.gpio}", other.name, pin.name)
                self._by_gpio[pin.gpio] = pin
        self.main_header = self._pins[0].header if self._pins else None
        for rail in sorted(set(RAIL_ALIASES.values())):
            kind = "ground" if rail == "GND" else "power"
            self._static[rail] = PinInfo(rail, kind, None, net=rail, names=(rail,))
        for pin in self._pins:
            info = self._info(pin)
            self._add_static(pin.name, info)
            for label in pin.labels:
                self._add_static(label, info)
        # signals: a bus's routing first, then unique alternates of the header's GPIOs
        self._signals: dict[str, list[int]] = {}
        for line, row in alt_table.items():
            if line in self._by_gpio:
                for signal in row:
                    if signal is not None:
                        lines = self._signals.setdefault(normalise(signal), [])
                        if line not in lines:
                            lines.append(line)
        self._routed: dict[str, int] = {
            normalise(s): line for s, line in (routed_signals or {}).items()
        }

    def rebound(self, now_ns: Callable[[], int]) -> PinMap:
        """This map with another clock for its error stamps: the name tables (never changed
        after construction) are shared, the resolution cache is the copy's own."""
        copy = object.__new__(PinMap)
        copy.__dict__.update(self.__dict__)
        copy._now_ns = now_ns
        copy._cache = {}
        return copy

    # -- building ------------------------------------------------------------------------
    def _add_static(self, name: str, info: PinInfo) -> None:
        key = normalise(name)
        if key in RAIL_ALIASES and info.kind not in ("power", "ground"):
            raise PinNameConflict(name, RAIL_ALIASES[key], info.name)
        if _GPIO.match(key) and info.gpio is not None and key != f"GPIO{info.gpio}":
            raise PinNameConflict(name, key, info.name)
        old = self._static.get(key)
        if old is not None and old.name != info.name:
            raise PinNameConflict(name, old.name, info.name)
        self._static[key] = info

    def _info(self, pin: HeaderPin, alt: int | None = None, signal: str | None = None) -> PinInfo:
        return PinInfo(
            name=pin.name,
            kind=pin.kind,
            gpio=pin.gpio,
            header=pin.header,
            number=pin.number,
            net=pin.net,
            names=pin.names,
            alt=f"ALT{alt}" if alt is not None else None,
            signal=signal,
            labels=pin.labels,
        )

    def _line_info(self, line: int, alt: int | None = None) -> PinInfo:
        signal = self.alt_table[line][alt] if alt is not None else None
        pin = self._by_gpio.get(line)
        if pin is not None:
            return self._info(pin, alt, signal)
        name = f"GPIO{line}"
        return PinInfo(
            name,
            "gpio",
            line,
            net=name,
            names=(name,),
            alt=f"ALT{alt}" if alt is not None else None,
            signal=signal,
        )

    # -- queries ---------------------------------------------------------------------------
    @property
    def headers(self) -> dict[str, dict[int, HeaderPin]]:
        return {h: dict(pins) for h, pins in self._headers.items()}

    @property
    def header_pins(self) -> list[HeaderPin]:
        return list(self._pins)

    def pin_of_gpio(self, line: int) -> HeaderPin | None:
        """The header pin carrying a GPIO line, if any."""
        return self._by_gpio.get(line)

    def resolve(self, name: str) -> PinInfo:
        """The pin ``name`` refers to; `PinError` with close matches when there is none."""
        if not isinstance(name, str):
            raise PinError(f"a pin name must be a string, got {name!r}")
        key = normalise(name)
        info = self._cache.get(key)
        if info is None:
            info = self._lookup(name, key)
            self._cache[key] = info
        return info

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self.resolve(name)
        except PinError:
            return False
        return True

    def _lookup(self, name: str, key: str) -> PinInfo:
        info = self._static.get(key)
        if info is not None:
            return info
        rail = RAIL_ALIASES.get(key)
        if rail is not None:
            return self._static[rail]
        m = _GPIO.match(key)
        if m:
            line = int(m.group(1))
            if line >= self.gpio_count:
                raise PinError(
                    f"{name!r}: GPIO{line} does not exist on the {self.soc} "
                    f"(GPIO0-GPIO{self.gpio_count - 1})"
                )
            if m.group(2) is None:
                return self._line_info(line)
            alt = int(m.group(2))
            if alt > 5:
                raise PinError(f"{name!r}: alternate functions are ALT0..ALT5")
            return self._line_info(line, alt)
        m = _HEADER_PIN.match(key)
        if m and m.group(1) in self._headers:
            header, number = m.group(1), int(m.group(2))
            pins = self._headers[header]
            pin = pins.get(number)
            if pin is None:
                raise PinError(f"{name!r}: header {header} has pins {min(pins)}-{max(pins)}")
            return self._info(pin)
        m = _BOARD.match(key)
        if m and self.main_header is not None:
            return self.resolve(f"{self.main_header}-{int(m.group(1))}")
        signal_key = broadcom_signal_name(key)
        found: int | None = self._routed.get(signal_key)
        if found is None:
            lines = self._signals.get(signal_key, [])
            if len(lines) > 1:
                where = " and ".join(self._line_info(n).name + f" (GPIO{n})" for n in lines)
                raise PinError(
                    f"{name!r} is ambiguous on this board: it is on {where}; name the pin"
                )
            if lines:
                found = lines[0]
            else:
                anywhere = sorted(
                    {
                        n
                        for n, row in self.alt_table.items()
                        for s in row
                        if s and normalise(s) == signal_key
                    }
                )
                if len(anywhere) == 1:
                    found = anywhere[0]
                elif anywhere:
                    where = ", ".join(f"GPIO{n}" for n in anywhere)
                    raise PinError(
                        f"{name!r} is on no header pin of this board but on several lines "
                        f"({where}); name the GPIO"
                    )
        if found is not None:
            row = self.alt_table[found]
            alt = next(a for a, s in enumerate(row) if s and normalise(s) == signal_key)
            return self._line_info(found, alt)
        raise PinError(self._unknown_message(name))

    def _unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(normalise(name), self.display_names(), n=5, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        headers = ", ".join(
            f"{h}-01..{h}-{max(pins):02d}" for h, pins in self._headers.items() if pins
        )
        return (
            f"unknown pin {name!r}{hint} (pins: {headers or 'no header'}, GPIO0-GPIO"
            f"{self.gpio_count - 1}, 3V3, 5V, GND, signal names such as I2C1_SDA)"
        )

    def display_names(self) -> list[str]:
        """Names worth suggesting: pins, labels, GPIOs, supplies and header signals."""
        names = {normalise(k) for k in self._static}
        names |= {f"GPIO{n}" for n in range(self.gpio_count)}
        for line in self._by_gpio:
            for signal in self.alt_table[line]:
                if signal is not None:
                    names.add(normalise(seed_signal_name(signal)))
        return sorted(names)

    def gpio_line(self, name: str) -> int:
        """The GPIO line of a pin; `ElectricalFault` for a supply pin used as a GPIO."""
        info = self.resolve(name)
        if info.gpio is not None:
            return info.gpio
        if info.kind in ("power", "ground"):
            raise ElectricalFault(
                f"{name!r} is a {info.kind} pin ({info.net}), not a GPIO: it cannot be driven "
                "or read as one",
                net=info.net or info.name,
                drivers=[],
                time_ns=self._now_ns(),
            )
        raise PinError(f"{name!r} ({info.name}) is not connected to anything")
