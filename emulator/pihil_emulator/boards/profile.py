"""Board profiles: YAML files describing a board, loaded and validated.

A profile names the SoC, the headers pin by pin, the board's pull resistors, the buses
(which controller on which pins, the Linux device), the devices and the test-jig wiring.
``extends: <base>`` merges a base file of the same folder first (mappings merge key by
key, a ``null`` removes a key, lists add to the base's, anything else replaces), so the 40-pin J8 header is
written once (``_j8-40.yaml``). Files whose name starts with ``_`` are bases, not boards.

Validation is by hand rather than with a JSON-schema library: most rules need the SoC's
own data (a GPIO the SoC lacks, a bus pin without the controller's signal in its
alternate-function row, a name that resolves to two pins), and every error must name the
file, the key path and what was expected (`ProfileError`); one layer of checks written
for that gives better messages than translating a schema validator's.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import yaml

from ..errors import PinError, ProfileError
from ..soc.alt_functions import alt_table
from ..soc.gpio import FSEL_OF_FUNCTION
from ..soc.variants import VARIANTS, SocVariant, soc_variant
from .pins import RAIL_ALIASES, HeaderPin, PinMap, PinNameConflict, normalise

PROFILES_DIR: Final = Path(__file__).parent / "profiles"


@dataclass(frozen=True)
class PartInfo:
    """A part a profile may name: how it connects and what it is."""

    kind: str
    """``i2c``, ``spi``, ``uart``, ``gpio`` (on one or more GPIO lines) or ``none``."""
    description: str


PARTS: Final[Mapping[str, PartInfo]] = MappingProxyType(
    {
        "pcf8523": PartInfo("i2c", "NXP PCF8523 RTC"),
        "pcf85063a": PartInfo("i2c", "NXP PCF85063A RTC"),
        "lm75b": PartInfo("i2c", "NXP LM75B temperature sensor"),
        "tpa6130a2": PartInfo("i2c", "TI TPA6130A2 headphone amplifier"),
        "emc2301": PartInfo("i2c", "Microchip EMC2301 fan controller"),
        "hat-eeprom": PartInfo("i2c", "HAT ID EEPROM (24C32 holding an R-Pi image)"),
        "24c32": PartInfo("i2c", "24C32 I2C EEPROM"),
        "sht3x": PartInfo("i2c", "Sensirion SHT3x humidity/temperature sensor"),
        "w25q": PartInfo("spi", "Winbond W25Q SPI NOR flash"),
        "mcp3008": PartInfo("spi", "Microchip MCP3008 8-channel 10-bit ADC"),
        "nmea-gps": PartInfo("uart", "GPS receiver sending NMEA sentences"),
        "console": PartInfo("uart", "serial terminal on the far end of a UART"),
        "led": PartInfo("gpio", "LED driven by a GPIO"),
        "buzzer": PartInfo("gpio", "buzzer switched by a GPIO (through a transistor)"),
        "ir-receiver": PartInfo("gpio", "IR receiver module (demodulated output to a GPIO)"),
        "pcm5100a": PartInfo("none", "TI PCM5100A I2S audio DAC (hardware-configured, no I2C)"),
        "attiny4": PartInfo("none", "Microchip ATtiny4 power-button controller (no I2C)"),
    }
)
"""The parts a profile may name (model strings); a misspelt one is an error."""

BUS_KINDS: Final = ("i2c", "spi", "uart")
BUS_ROLES: Final[Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]] = MappingProxyType(
    {
        # kind: (required roles, optional roles)
        "i2c": (("sda", "scl"), ()),
        "spi": (("sclk", "mosi", "miso"), ("ce0", "ce1", "ce2")),
        "uart": (("tx", "rx"), ("cts", "rts")),
    }
)
_ROLE_SIGNAL: Final[Mapping[str, str]] = MappingProxyType(
    {
        "sda": "SDA{n}",
        "scl": "SCL{n}",
        "sclk": "SPI{n}_SCLK",
        "mosi": "SPI{n}_MOSI",
        "miso": "SPI{n}_MISO",
        "ce0": "SPI{n}_CE0_N",
        "ce1": "SPI{n}_CE1_N",
        "ce2": "SPI{n}_CE2_N",
        "tx": "TXD{n}",
        "rx": "RXD{n}",
        "cts": "CTS{n}",
        "rts": "RTS{n}",
    }
)
_BUS_NAME: Final = re.compile(r"^(i2c|spi|uart)(\d+)$")
I2C_GPIO: Final = "i2c-gpio"
"""The controller of a bit-banged I2C bus (``dtoverlay=i2c-gpio``) on any two GPIOs."""
I2C_GPIO_DELAY_US: Final = 2
"""``i2c_gpio_delay_us`` when the overlay is given none (its README: default "2")."""
_HEADER_NAME: Final = re.compile(r"^[A-Z]+\d+$")
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
I2C_GPIO_KEYS: Final = ("delay_us",)
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
# YAML reading: duplicate keys are errors (PyYAML keeps the last one silently)
# ----------------------------------------------------------------------------------------
class _DuplicateKey(Exception):
    def __init__(self, key: object, line: int, first_line: int) -> None:
        self.key = key
        self.line = line
        self.first_line = first_line
        super().__init__(f"{key!r} on line {line} (first on line {first_line})")


class _BadKey(Exception):
    """A mapping key YAML allows and a profile cannot have (a list or a mapping as a key)."""

    def __init__(self, key: object, line: int) -> None:
        self.key = key
        self.line = line
        super().__init__(f"{type(key).__name__} key on line {line}")


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it (ten times faster); the constructor is Python's."""


class _StrictLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that refuses a key given twice in one mapping (merge keys excepted), and
    complex keys (``[a, b]: 1``, ``{a: 1}: 1``), which no profile key can be."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, Hashable):
            raise _BadKey(key, line)
        if key in seen:
            raise _DuplicateKey(key, line, seen[key])
        seen[key] = line
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def profile_names() -> list[str]:
    """The shipped profiles (``rpi-b-rev1``, ..., ``mirkopc``)."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml") if not p.stem.startswith("_"))


def is_profile_path(name_or_path: str | Path) -> bool:
    """True when ``name_or_path`` names a profile file (a path, or a ``.yaml``/``.yml``
    name) rather than a shipped profile's name."""
    return (
        isinstance(name_or_path, Path)
        or "/" in str(name_or_path)
        or str(name_or_path).endswith((".yaml", ".yml"))
    )


def _locate(name_or_path: str | Path) -> Path:
    if is_profile_path(name_or_path):
        path = Path(name_or_path)
        if not path.is_file():
            raise ProfileError(str(path), "(file)", "an existing YAML file")
        return path
    name = str(name_or_path)
    path = PROFILES_DIR / f"{name}.yaml"
    if name.startswith("_") or not path.is_file():
        names = profile_names()
        close = difflib.get_close_matches(name, names, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ProfileError(
            name, "(profile)", f"one of the shipped profiles: {', '.join(names)}{hint}"
        )
    return path


def _read_yaml(path: Path, texts: list[tuple[Path, str]] | None = None) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProfileError(
            str(path), "(file)", f"UTF-8 text; byte {exc.start} is not ({exc.reason})"
        ) from None
    except OSError as exc:
        raise ProfileError(str(path), "(file)", f"a readable file ({exc.strerror})") from None
    if texts is not None:
        texts.append((path.resolve(), text))
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except _DuplicateKey as dup:
        raise ProfileError(
            str(path), str(dup.key), f"each key once; line {dup.line} repeats line {dup.first_line}"
        ) from None
    except _BadKey as bad:
        raise ProfileError(
            str(path),
            f"(line {bad.line})",
            f"a key that is a name or a number; got a {type(bad.key).__name__} as a key "
            f"({_clip(bad.key)})",
        ) from None
    except yaml.YAMLError as exc:
        raise ProfileError(str(path), "(yaml)", f"valid YAML ({exc})") from None
    except RecursionError:
        raise ProfileError(
            str(path), "(yaml)", "YAML nested no deeper than a profile needs (it nests too deep)"
        ) from None
    except ValueError as exc:  # int() of a number of more than 4300 digits
        raise ProfileError(str(path), "(yaml)", f"values a profile can hold ({exc})") from None
    if not isinstance(data, dict):
        raise ProfileError(str(path), "(top level)", "a mapping of profile keys")
    return data


def _clip(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _merge(base: Any, child: Any) -> Any:
    """Deep merge: mappings key by key (``null`` deletes), lists add the child's items after
    the base's (config lines, pulls, jumpers), anything else replaces."""
    if isinstance(base, list) and isinstance(child, list):
        return [*base, *child]
    if isinstance(base, dict) and isinstance(child, dict):
        out = dict(base)
        for key, value in child.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = _merge(out[key], value)
            else:
                out[key] = value
        return out
    return child


def _base_of(path: Path, base: str) -> Path | None:
    """The file that ``extends: base`` in ``path`` names (issue 14 item 3), or None.

    A path (``./base.yaml``, ``../boards/x.yml``, ``~/b.yaml``) is taken relative to the file's
    own folder; a bare name is looked up first beside the file, then among the shipped profiles,
    so a custom profile anywhere can say ``extends: mirkopc``.
    """
    if "/" in base or base.endswith((".yaml", ".yml")):
        candidate = (path.parent / Path(base).expanduser()).resolve()
        return candidate if candidate.is_file() else None
    for folder in (path.parent, PROFILES_DIR):
        candidate = (folder / f"{base}.yaml").resolve()
        if candidate.is_file() and candidate != path.resolve():
            return candidate
    return None


def _load_merged(
    path: Path, chain: tuple[Path, ...] = (), texts: list[tuple[Path, str]] | None = None
) -> tuple[dict[str, Any], list[Path]]:
    """The merged data of ``path`` and its bases, and the files read; ``texts`` (when given)
    receives each file's resolved path and the text that was parsed."""
    path = path.resolve()
    if path in chain:
        cycle = " → ".join(p.name for p in (*chain, path))
        raise ProfileError(str(path), "extends", f"no cycle ({cycle})")
    data = _read_yaml(path, texts)
    base_name = data.pop("extends", None)
    if base_name is None:
        return data, [path]
    expected = (
        "a profile in the file's folder or a shipped one (by name), or a YAML file's path "
        "relative to this file"
    )
    if not isinstance(base_name, str) or not base_name.strip():
        raise ProfileError(str(path), "extends", expected)
    base_path = _base_of(path, base_name.strip())
    if base_path is None:
        bases = sorted(
            {p.stem for p in path.parent.glob("*.yaml") if p != path} | set(profile_names())
        )
        raise ProfileError(
            str(path), "extends", f"{expected}; {base_name!r} is none of: {', '.join(bases)}"
        )
    base, files = _load_merged(base_path, (*chain, path), texts)
    return _merge(base, data), [path, *files]


# ----------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------
class _Checker:
    """Builds a `BoardProfile` from merged YAML data, raising `ProfileError` on the first fault."""

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


def _parse_pin_entry(
    ck: _Checker, header: str, number: int, entry: Any, path: str, variant: SocVariant
) -> HeaderPin:
    labels: tuple[str, ...] = ()
    note = ""
    if isinstance(entry, dict):
        ck.keys(entry, path, PIN_KEYS)
        labels = ck.string_list(entry.get("labels"), f"{path}.labels")
        note = ck.string(entry, "note", f"{path}.note")
        entry = entry.get("pin")
    if not isinstance(entry, str) or not entry.strip():
        raise ck.fail(path, "GPIO<n>, 3V3, 5V, GND or NC (or a mapping with pin: and labels:)")
    key = normalise(entry)
    if key in RAIL_ALIASES:
        rail = RAIL_ALIASES[key]
        kind = "ground" if rail == "GND" else "power"
        return HeaderPin(header, number, kind, rail=rail, labels=labels, note=note)
    if key in ("NC", "DNC"):
        return HeaderPin(header, number, "nc", labels=labels, note=note)
    m = re.fullmatch(r"GPIO(\d+)", key)
    if m is None:
        raise ck.fail(path, f"GPIO<n>, 3V3, 5V, GND or NC, got {entry!r}")
    line = int(m.group(1))
    if line >= variant.gpio_count:
        raise ck.fail(
            path,
            f"a GPIO of the {variant.name} (GPIO0-GPIO{variant.gpio_count - 1}), got {entry!r}",
        )
    return HeaderPin(header, number, "gpio", gpio=line, labels=labels, note=note)


def _parse_headers(ck: _Checker, raw: Any, variant: SocVariant) -> dict[str, HeaderSpec]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ck.fail("headers", "a mapping of header name (P1, J8) to its pins")
    headers: dict[str, HeaderSpec] = {}
    for name, body in raw.items():
        path = f"headers.{name}"
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise ck.fail(path, "a header name of capitals and digits (P1, P5, J8)")
        body = ck.keys(body, path, HEADER_KEYS)
        pins_raw = body.get("pins")
        if not isinstance(pins_raw, dict) or not pins_raw:
            raise ck.fail(f"{path}.pins", "a mapping of pin number to GPIO<n>/3V3/5V/GND/NC")
        pins: dict[int, HeaderPin] = {}
        for number in sorted(pins_raw, key=lambda k: (not isinstance(k, int), str(k))):
            ppath = f"{path}.pins.{number}"
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise ck.fail(ppath, f"a physical pin number (an integer from 1), got {number!r}")
            if number > MAX_HEADER_PINS:
                raise ck.fail(
                    ppath,
                    f"a physical pin number up to {MAX_HEADER_PINS} (the largest connector a "
                    f"board profile describes), got {number}",
                )
            pins[number] = _parse_pin_entry(ck, name, number, pins_raw[number], ppath, variant)
        missing = sorted(set(range(1, max(pins) + 1)) - set(pins))
        if missing:
            raise ck.fail(
                f"{path}.pins", f"every pin from 1 to {max(pins)} (missing: {missing}; use NC)"
            )
        headers[name] = HeaderSpec(
            name, MappingProxyType(pins), ck.string(body, "description", f"{path}.description")
        )
    return headers


def _resolve(ck: _Checker, pins: PinMap, name: Any, path: str) -> Any:
    if not isinstance(name, str) or not name.strip():
        raise ck.fail(path, f"a pin name (J8-03, GPIO2, ...), got {name!r}")
    try:
        return pins.resolve(name)
    except PinError as exc:
        raise ck.fail(path, f"a pin of this board: {exc}") from None


def _resolve_gpio(ck: _Checker, pins: PinMap, name: Any, path: str) -> tuple[int, str]:
    info = _resolve(ck, pins, name, path)
    if info.gpio is None:
        raise ck.fail(path, f"a GPIO pin; {name!r} is {info.name}, a {info.kind} pin")
    return info.gpio, info.name


def _parse_bus(ck: _Checker, name: Any, body: Any, pins: PinMap, variant: SocVariant) -> BusSpec:
    path = f"buses.{name}"
    m = _BUS_NAME.match(str(name))
    if not isinstance(name, str) or m is None:
        raise ck.fail(path, "a bus name: i2c<N>, spi<N> or uart<N> (N = the Linux bus number)")
    if not isinstance(body, dict):
        raise ck.fail(path, "a mapping with kind:, controller: and the pins of each role")
    kind = body.get("kind")
    if kind not in BUS_KINDS:
        raise ck.fail(f"{path}.kind", f"one of: {', '.join(BUS_KINDS)}, got {kind!r}")
    if m.group(1) != kind:
        raise ck.fail(path, f"a name starting with {kind} for a bus of kind {kind}")
    required, optional = BUS_ROLES[kind]
    extra = ("linux_devices",) if kind == "spi" else ()
    if kind == "i2c" and body.get("controller") == I2C_GPIO:
        extra = I2C_GPIO_KEYS
    ck.keys(body, path, (*BUS_COMMON_KEYS, *required, *optional, *extra))
    controllers = _controllers(variant, kind)
    controller = body.get("controller")
    if controller not in controllers:
        raise ck.fail(
            f"{path}.controller",
            f"one of the {variant.name}'s {kind} controllers: {', '.join(controllers)}; "
            f"got {controller!r}",
        )
    unit = re.sub(r"^\D+", "", controller)
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ck.fail(f"{path}.enabled", f"true or false, got {enabled!r}")
    role_pins: dict[str, str] = {}
    gpios: dict[str, int] = {}
    signals: dict[str, str] = {}
    functions: dict[int, str] = {}
    table = pins.alt_table
    for role in (*required, *optional):
        if role not in body:
            if role in required:
                raise ck.fail(
                    f"{path}.{role}", f"the pin of the bus's {role} (required for {kind})"
                )
            continue
        rpath = f"{path}.{role}"
        line, canonical = _resolve_gpio(ck, pins, body[role], rpath)
        if controller == I2C_GPIO:  # any GPIO: the kernel bit-bangs it as an input/open drain
            if line in functions:
                raise ck.fail(rpath, f"a pin not used twice in the bus; GPIO{line} is already used")
            role_pins[role], gpios[role], functions[line] = canonical, line, "input"
            continue
        signal = _ROLE_SIGNAL[role].format(n=unit)
        row = table.get(line, (None,) * 6)
        if signal not in row:
            where = ", ".join(
                f"GPIO{n} ALT{row2.index(signal)}" for n, row2 in table.items() if signal in row2
            )
            raise ck.fail(
                rpath,
                f"a pin with the {signal} function of {controller} ({where or 'none'}); "
                f"GPIO{line} has none",
            )
        if line in functions:
            raise ck.fail(rpath, f"a pin not used twice in the bus; GPIO{line} is already used")
        role_pins[role] = canonical
        gpios[role] = line
        signals[role] = signal
        functions[line] = f"ALT{row.index(signal)}"
    if kind == "spi" and not any(r.startswith("ce") for r in gpios):
        raise ck.fail(path, "at least one chip select (ce0, ce1 or ce2)")
    linux_device = ck.string(body, "linux_device", f"{path}.linux_device") or None
    if kind == "spi" and "linux_devices" in body:
        raise ck.fail(
            f"{path}.linux_devices", "nothing: /dev/spidev<bus>.<cs> follows from the bus name"
        )
    return BusSpec(
        name=name,
        kind=kind,
        controller=controller,
        number=int(m.group(2)),
        pins=MappingProxyType(role_pins),
        gpios=MappingProxyType(gpios),
        signals=MappingProxyType(signals),
        functions=MappingProxyType(functions),
        enabled=enabled,
        linux_device=linux_device,
        note=ck.string(body, "note", f"{path}.note"),
        delay_us=(
            ck.integer(body.get("delay_us", I2C_GPIO_DELAY_US), f"{path}.delay_us", 1, 1000)
            if controller == I2C_GPIO
            else None
        ),
    )


def _controllers(variant: SocVariant, kind: str) -> tuple[str, ...]:
    if kind == "i2c":
        return (*variant.i2c_controllers, I2C_GPIO)
    if kind == "spi":
        return ("spi0",)
    return (*variant.pl011_uarts, "uart1")


def _known_models() -> dict[str, PartInfo]:
    """PARTS plus whatever the device registry knows."""
    known = dict(PARTS)
    registry = device_registry()
    for model in registry.known_models():
        if model not in known:
            entry = registry.device_entry(model)
            known[model] = PartInfo(entry.bus_kind, entry.description or model)
    return known


def device_registry() -> Any:
    """``pihil_emulator.devices.registry``, imported when first needed (it imports the device
    modules, which profiles need only when a board is built or its models are checked).

    No fallback: a device module that fails to import must fail loudly, not turn every
    profile device into an unmodelled one."""
    from ..devices import registry

    return registry


def _parse_device(
    ck: _Checker,
    name: Any,
    body: Any,
    pins: PinMap,
    buses: Mapping[str, BusSpec],
    source: str,
    prefix: str,
) -> DeviceSpec:
    path = f"{prefix}.{name}"
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name):
        raise ck.fail(path, "a device name of letters, digits, '_' and '-'")
    ck.keys(body, path, DEVICE_KEYS)
    model = body.get("model")
    known = _known_models()
    if not isinstance(model, str) or model not in known:
        close = difflib.get_close_matches(str(model), list(known), n=2)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ck.fail(
            f"{path}.model", f"a known part: {', '.join(sorted(known))}{hint}; got {model!r}"
        )
    kind = known[model].kind
    part = body.get("part", model)
    if not isinstance(part, str) or not part:
        raise ck.fail(f"{path}.part", "the exact part as a string (w25q32)")
    bus_name = body.get("bus")
    address = chip_select = gpio = None
    if kind in BUS_KINDS:
        if not isinstance(bus_name, str) or bus_name not in buses:
            have = [b for b, spec in buses.items() if spec.kind == kind]
            raise ck.fail(
                f"{path}.bus",
                f"a {kind} bus of this profile ({', '.join(have) or 'none'}); got {bus_name!r}",
            )
        bus = buses[bus_name]
        if bus.kind != kind:
            raise ck.fail(f"{path}.bus", f"a {kind} bus; {bus_name} is {bus.kind}")
        if kind == "i2c":
            if "address" not in body:
                raise ck.fail(f"{path}.address", "the device's 7-bit I2C address (0x03..0x77)")
            address = ck.integer(body["address"], f"{path}.address", 0x03, 0x77)
        elif kind == "spi":
            cs_raw = body.get("chip_select")
            if isinstance(cs_raw, str) and re.fullmatch(r"(?i)ce\d", cs_raw):
                cs_raw = int(cs_raw[2:])
            chip_select = ck.integer(cs_raw, f"{path}.chip_select", 0, 2)
            if chip_select not in bus.chip_selects:
                raise ck.fail(
                    f"{path}.chip_select", f"a chip select of {bus_name}: {list(bus.chip_selects)}"
                )
        for key in ("address", "chip_select"):
            if key in body and ((key == "address") != (kind == "i2c")):
                raise ck.fail(f"{path}.{key}", f"nothing: a {kind} device has no {key}")
    elif bus_name is not None or "address" in body or "chip_select" in body:
        raise ck.fail(path, f"no bus/address/chip_select: {model} is a {kind} part")
    if "gpio" in body:
        gpio, _ = _resolve_gpio(ck, pins, body["gpio"], f"{path}.gpio")
    elif kind == "gpio" and "pins" not in body:
        raise ck.fail(f"{path}.gpio", f"the GPIO the {model} is on")
    role_pins: dict[str, str] = {}
    raw_pins = body.get("pins", {})
    if not isinstance(raw_pins, dict):
        raise ck.fail(f"{path}.pins", "a mapping of role to pin name")
    for role, pin in raw_pins.items():
        info = _resolve(ck, pins, pin, f"{path}.pins.{role}")
        role_pins[str(role)] = info.name
    params = body.get("params", {})
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise ck.fail(f"{path}.params", "a mapping of parameter name to value")
    if part == model and isinstance(params.get("part"), str):
        part = params["part"]
    return DeviceSpec(
        name=name,
        model=model,
        part=part,
        kind=kind,
        bus=bus_name if kind in BUS_KINDS else None,
        address=address,
        chip_select=chip_select,
        gpio=gpio,
        pins=MappingProxyType(role_pins),
        params=MappingProxyType(dict(params)),
        note=ck.string(body, "note", f"{path}.note"),
        source=source,
    )


def _parse_pulls(ck: _Checker, raw: Any, pins: PinMap, prefix: str, source: str) -> list[PullSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ck.fail(prefix, "a list of {pin:, pull: up|down, ohms:, ref:}")
    out = []
    for i, entry in enumerate(raw):
        path = f"{prefix}[{i}]"
        ck.keys(entry, path, PULL_KEYS)
        info = _resolve(ck, pins, entry.get("pin"), f"{path}.pin")
        if info.kind != "gpio":
            raise ck.fail(f"{path}.pin", f"a GPIO pin; {info.name} is {info.kind}")
        pull = entry.get("pull")
        if pull not in ("up", "down"):
            raise ck.fail(f"{path}.pull", f"up or down, got {pull!r}")
        ohms = entry.get("ohms")
        if (
            isinstance(ohms, bool)
            or not isinstance(ohms, int | float)
            or not 0 < ohms <= MAX_OHMS  # NaN and infinity fail it too
        ):
            raise ck.fail(
                f"{path}.ohms",
                f"a positive, finite resistance in ohms (up to {MAX_OHMS:g}), got {_clip(ohms)}",
            )
        out.append(
            PullSpec(
                info.name,
                info.gpio,
                str(info.net),
                pull,
                float(ohms),
                ck.string(entry, "ref", f"{path}.ref"),
                source,
            )
        )
    return out


def _parse_jumpers(
    ck: _Checker, raw: Any, pins: PinMap, prefix: str, source: str
) -> list[JumperSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ck.fail(prefix, "a list of [pin, pin] or {a:, b:, label:}")
    out = []
    for i, entry in enumerate(raw):
        path = f"{prefix}[{i}]"
        label = ""
        if isinstance(entry, dict):
            ck.keys(entry, path, JUMPER_KEYS)
            a, b = entry.get("a"), entry.get("b")
            label = ck.string(entry, "label", f"{path}.label")
        elif isinstance(entry, list) and len(entry) == 2:
            a, b = entry
        else:
            raise ck.fail(path, f"[pin, pin] or {{a:, b:, label:}}, got {entry!r}")
        pa = _resolve(ck, pins, a, f"{path}.a")
        pb = _resolve(ck, pins, b, f"{path}.b")
        if pa.net == pb.net:
            raise ck.fail(path, f"two different pins; both ends are {pa.net}")
        if pa.kind == "nc" or pb.kind == "nc":
            raise ck.fail(path, "pins that are connected (not NC)")
        rails = [p.net for p in (pa, pb) if p.kind in ("power", "ground")]
        if len(rails) == 2:
            raise ck.fail(path, f"not a short between {rails[0]} and {rails[1]}")
        if "5V" in rails:
            raise ck.fail(path, "not 5V onto a GPIO: the GPIO pins are 3.3 V and not 5 V tolerant")
        out.append(JumperSpec(pa.name, pb.name, label, source))
    return out


def _parse_boot_functions(ck: _Checker, raw: Any, pins: PinMap, prefix: str) -> dict[int, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ck.fail(prefix, "a mapping of pin to function (input, output, ALT0..ALT5)")
    out: dict[int, str] = {}
    for pin, function in raw.items():
        path = f"{prefix}.{pin}"
        line, _ = _resolve_gpio(ck, pins, pin, path)
        if not isinstance(function, str) or (
            function not in FSEL_OF_FUNCTION and function.upper() not in FSEL_OF_FUNCTION
        ):
            raise ck.fail(path, f"one of: {', '.join(FSEL_OF_FUNCTION)}, got {function!r}")
        out[line] = function if function in FSEL_OF_FUNCTION else function.upper()
    return out


def build_profile(data: dict[str, Any], file: str, name: str) -> BoardProfile:
    """Validate merged profile data and build the `BoardProfile`."""
    ck = _Checker(file)
    ck.keys(data, "", TOP_KEYS)
    declared = data.get("name")
    if declared is not None and declared != name:
        raise ck.fail("name", f"the file's name {name!r} (or no name:), got {declared!r}")
    soc_name = data.get("soc")
    if not isinstance(soc_name, str) or soc_name.upper() not in VARIANTS:
        raise ck.fail("soc", f"one of: {', '.join(VARIANTS)}, got {soc_name!r}")
    overrides = data.get("soc_overrides", {}) or {}
    if not isinstance(overrides, dict):
        raise ck.fail("soc_overrides", "a mapping of SoC parameter to value")
    try:
        variant = soc_variant(soc_name).with_overrides(**overrides)
    except (ValueError, TypeError) as exc:
        raise ck.fail("soc_overrides", str(exc)) from None
    jig = data.get("test_jig") or {}
    ck.keys(jig, "test_jig", JIG_KEYS)

    headers = _parse_headers(ck, data.get("headers"), variant)
    try:
        base_pins = PinMap(
            [p for h in headers.values() for p in h.pins.values()],
            soc=variant.name,
            gpio_count=variant.gpio_count,
            alt_table=alt_table(variant.name),
        )
    except PinNameConflict as exc:
        raise ck.fail(_conflict_key(headers, exc), f"each name on one pin only: {exc}") from None

    raw_buses = data.get("buses") or {}
    if not isinstance(raw_buses, dict):
        raise ck.fail("buses", "a mapping of bus name to its controller and pins")
    buses = {str(n): _parse_bus(ck, n, body, base_pins, variant) for n, body in raw_buses.items()}
    uart_buses = [b for b in buses.values() if b.kind == "uart"]
    primary = data.get("primary_uart")
    if uart_buses or primary is not None:
        names = [b.name for b in uart_buses]
        if primary not in names:
            raise ck.fail(
                "primary_uart",
                f"one of this profile's UART buses ({', '.join(names) or 'none'}), got {primary!r}",
            )
        if not buses[primary].enabled:
            raise ck.fail("primary_uart", f"an enabled UART bus; buses.{primary}.enabled is false")

    pulls = _parse_pulls(ck, data.get("pulls"), base_pins, "pulls", "board")
    pulls += _parse_pulls(ck, jig.get("pulls"), base_pins, "test_jig.pulls", "test_jig")
    jumpers = _parse_jumpers(ck, data.get("jumpers"), base_pins, "jumpers", "board")
    jumpers += _parse_jumpers(ck, jig.get("jumpers"), base_pins, "test_jig.jumpers", "test_jig")

    devices: dict[str, DeviceSpec] = {}
    for prefix, raw, source in (
        ("devices", data.get("devices"), "board"),
        ("test_jig.devices", jig.get("devices"), "test_jig"),
    ):
        if raw is None:
            continue
        if not isinstance(raw, dict):
            raise ck.fail(prefix, "a mapping of device name to {model:, bus:, address:...}")
        for dname, body in raw.items():
            if dname in devices:
                raise ck.fail(
                    f"{prefix}.{dname}", "a device name used once (it is in devices already)"
                )
            devices[str(dname)] = _parse_device(ck, dname, body, base_pins, buses, source, prefix)
    taken: dict[tuple[str, int], str] = {}
    for dev in devices.values():
        slot = dev.address if dev.address is not None else dev.chip_select
        if dev.bus is None or slot is None:
            continue
        what = "address" if dev.address is not None else "chip_select"
        other = taken.get((dev.bus, slot))
        if other is not None:
            shown = f"0x{slot:02x}" if what == "address" else f"ce{slot}"
            raise ck.fail(
                f"{'test_jig.' if dev.source == 'test_jig' else ''}devices.{dev.name}.{what}",
                f"a free {what} on {dev.bus}: {shown} is {other}'s",
            )
        taken[(dev.bus, slot)] = dev.name

    boot = _boot_functions(ck, buses, primary, data, jig, base_pins)
    config = ck.string_list(data.get("config"), "config") + ck.string_list(
        jig.get("config"), "test_jig.config"
    )
    profile = BoardProfile(
        name=name,
        file=file,
        model=ck.string(data, "model", "model", required=True),
        manufacturer=ck.string(data, "manufacturer", "manufacturer", required=True),
        soc=variant.name,
        description=ck.string(data, "description", "description"),
        soc_overrides=MappingProxyType(dict(overrides)),
        kernel_models=_parse_kernel_models(ck, data.get("kernel_models")),
        **_parse_revision(ck, data.get("revision"), data.get("kernel_models")),
        primary_uart=primary,
        config=config,
        headers=MappingProxyType(headers),
        pulls=tuple(pulls),
        buses=MappingProxyType(buses),
        devices=MappingProxyType(devices),
        jumpers=tuple(jumpers),
        boot_functions=MappingProxyType(boot),
        boot_pulls=MappingProxyType(_parse_boot_pulls(ck, data.get("boot_pulls"), base_pins)),
        test_jig=ck.string(jig, "description", "test_jig.description"),
    )
    try:
        profile.pin_map()
    except PinNameConflict as exc:
        raise ck.fail("buses", f"each name on one pin only: {exc}") from None
    return profile


def _parse_boot_pulls(ck: _Checker, raw: Any, pins: PinMap) -> dict[int, str]:
    """``boot_pulls: {J8-10: up}``: pad pulls the firmware sets at boot (dt-blob
    ``termination``, a device tree ``brcm,pull``)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ck.fail("boot_pulls", "a mapping of pin to pull (up, down or none)")
    out: dict[int, str] = {}
    for pin, pull in raw.items():
        path = f"boot_pulls.{pin}"
        line, _ = _resolve_gpio(ck, pins, pin, path)
        if pull not in PAD_PULLS:
            raise ck.fail(path, f"one of: {', '.join(PAD_PULLS)}, got {pull!r}")
        if line in out:
            raise ck.fail(path, f"each GPIO once; GPIO{line} is already given a pull")
        out[line] = pull
    return out


def _parse_kernel_models(ck: _Checker, raw: Any) -> tuple[str, ...]:
    expected = (
        "a list of what /proc/device-tree/model starts with on this board "
        '(["Raspberry Pi 4 Model B"])'
    )
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise ck.fail("kernel_models", f"{expected}, got {raw!r}")
    for i, model in enumerate(raw):
        if not isinstance(model, str) or not model.strip() or model != model.strip():
            raise ck.fail(f"kernel_models[{i}]", f"{expected}: a non-empty string, got {model!r}")
    return tuple(raw)


REVISION_CODE: Final = re.compile(r"^(?:[0-9a-f]{4}|[0-9a-f]{6})$")


def _parse_revision(ck: _Checker, raw: Any, kernel_models: Any) -> dict[str, str]:
    """``revision: {code: c03114, model: "Raspberry Pi 4 Model B Rev 1.4"}``."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) != {"code", "model"}:
        raise ck.fail("revision", f"a mapping with code and model, got {raw!r}")
    code, model = str(raw["code"]), raw["model"]
    if not REVISION_CODE.match(code):
        raise ck.fail(
            "revision.code", f"4 (old-style) or 6 (new-style) lower-case hex digits, got {code!r}"
        )
    if not isinstance(model, str) or not model.strip():
        raise ck.fail("revision.model", f"the full /proc/device-tree/model, got {model!r}")
    if isinstance(kernel_models, list) and not any(model.startswith(m) for m in kernel_models):
        raise ck.fail("revision.model", f"to start with one of kernel_models {kernel_models}")
    return {"revision_code": code, "dt_model": model}


def _conflict_key(headers: Mapping[str, HeaderSpec], exc: PinNameConflict) -> str:
    """The key path of the pin (and its labels) that repeated a name."""
    for header in headers.values():
        for number, pin in header.pins.items():
            if pin.name == exc.second:
                in_labels = normalise(exc.name) in {normalise(label) for label in pin.labels}
                return f"headers.{header.name}.pins.{number}" + (".labels" if in_labels else "")
    return "headers"


def _boot_functions(
    ck: _Checker,
    buses: Mapping[str, BusSpec],
    primary: Any,
    data: Mapping[str, Any],
    jig: Mapping[str, Any],
    pins: PinMap,
) -> dict[int, str]:
    """Pin functions after boot: enabled buses' pins, then the explicit boot_functions."""
    out: dict[int, str] = {}
    owner: dict[int, str] = {}
    for bus in buses.values():
        if not bus.enabled:
            continue
        for role, line in bus.gpios.items():
            function = bus.functions[line]
            if line in out and out[line] != function:
                raise ck.fail(
                    f"buses.{bus.name}.{role}",
                    f"a pin no other enabled bus uses: GPIO{line} is {out[line]} for {owner[line]}"
                    + (f" (primary_uart is {primary})" if bus.kind == "uart" else ""),
                )
            out[line] = function
            owner[line] = f"buses.{bus.name}"
    for prefix, raw in (
        ("boot_functions", data.get("boot_functions")),
        ("test_jig.boot_functions", jig.get("boot_functions")),
    ):
        for line, function in _parse_boot_functions(ck, raw, pins, prefix).items():
            if line in owner and out[line] != function:
                raise ck.fail(
                    f"{prefix}.GPIO{line}",
                    f"the function {owner[line]} needs ({out[line]}), or disable that bus",
                )
            out[line] = function
            owner[line] = prefix
    return out


# ----------------------------------------------------------------------------------------
# the cache of validated profiles (issue 13 item 4: a fresh board without re-parsing YAML)
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Cached:
    """A validated profile and what it was built from: the text of every file of its
    ``extends`` chain, and the device models known then (validation checks each device's
    model against the registry)."""

    texts: tuple[tuple[Path, str], ...]
    models: tuple[tuple[str, Any], ...] | None
    """``None`` when the profile has no devices (validation never consulted the registry)."""
    profile: BoardProfile


PROFILE_CACHE_SIZE: Final = 64
"""Profiles kept (most recently used); the fuzz tests load thousands of one-off files."""
_cache: dict[Path, _Cached] = {}


def _models_key() -> tuple[tuple[str, Any], ...]:
    return tuple(device_registry().DEVICE_MODELS.items())


def _cached(path: Path) -> BoardProfile | None:
    """The cached profile of ``path`` when every file it was built from still reads the same
    text (compared in full: a file rewritten within one mtime tick is still seen) and the
    device registry is unchanged; ``None`` otherwise."""
    entry = _cache.get(path)
    if entry is None:
        return None
    for file, text in entry.texts:
        try:
            if file.read_text(encoding="utf-8") != text:
                return None
        except (OSError, UnicodeDecodeError):
            return None
    if entry.models is not None and entry.models != _models_key():
        return None
    _cache[path] = _cache.pop(path)  # most recently used last
    return entry.profile


def clear_profile_cache() -> None:
    """Forget every cached profile (the next `load_profile` parses and validates again)."""
    _cache.clear()


def load_profile(name_or_path: str | Path) -> BoardProfile:
    """Load and validate a profile by name (``mirkopc``) or path; `ProfileError` when it is bad.

    A profile that validated is cached by its resolved path: loading it again costs reading
    its files and comparing their text with what was parsed (about 2 % of parsing and
    validating them). A changed file, or a device model registered or removed since, parses
    and validates again; errors are never cached. The `BoardProfile` is frozen, so every
    board built from the cache shares it.
    """
    path = _locate(name_or_path)
    key = path.resolve()
    hit = _cached(key)
    if hit is not None:
        return hit
    texts: list[tuple[Path, str]] = []
    data, files = _load_merged(path, texts=texts)
    file = str(path) if len(files) == 1 else f"{path} (with {', '.join(f.name for f in files[1:])})"
    profile = build_profile(data, file, path.stem)
    models = _models_key() if profile.devices else None
    _cache[key] = _Cached(tuple(texts), models, profile)
    while len(_cache) > PROFILE_CACHE_SIZE:
        del _cache[next(iter(_cache))]
    return profile
