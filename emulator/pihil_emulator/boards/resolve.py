"""Board profiles: pin, bus and boot-state resolution against the SoC's own data.

Header pins (``GPIO<n>``, rails, NC) checked against the SoC's GPIO count; every pin a
bus, pull, jumper or boot setting names resolved through the board's `PinMap`; a bus pin
checked against the controller's signal in the SoC's alternate-function table; the pin
functions and pad pulls the firmware leaves at boot. Each check raises `ProfileError`
through the file's `Checker` (`pihil_emulator.boards.schema`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from ..errors import PinError, clip
from ..soc.gpio import FSEL_OF_FUNCTION
from ..soc.variants import SocVariant
from .pins import RAIL_ALIASES, HeaderPin, PinMap, normalise
from .schema import (
    BUS_COMMON_KEYS,
    BUS_KINDS,
    BUS_ROLES,
    HEADER_KEYS,
    I2C_GPIO,
    I2C_GPIO_DELAY_US,
    I2C_GPIO_KEYS,
    JUMPER_KEYS,
    MAX_HEADER_PINS,
    MAX_OHMS,
    PAD_PULLS,
    PIN_KEYS,
    PULL_KEYS,
    BusSpec,
    Checker,
    HeaderSpec,
    JumperSpec,
    PullSpec,
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
_HEADER_NAME: Final = re.compile(r"^[A-Z]+\d+$")


def _parse_pin_entry(
    ck: Checker, header: str, number: int, entry: Any, path: str, variant: SocVariant
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


def parse_headers(ck: Checker, raw: Any, variant: SocVariant) -> dict[str, HeaderSpec]:
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


def resolve_pin(ck: Checker, pins: PinMap, name: Any, path: str) -> Any:
    if not isinstance(name, str) or not name.strip():
        raise ck.fail(path, f"a pin name (J8-03, GPIO2, ...), got {name!r}")
    try:
        return pins.resolve(name)
    except PinError as exc:
        raise ck.fail(path, f"a pin of this board: {exc}") from None


def resolve_gpio(ck: Checker, pins: PinMap, name: Any, path: str) -> tuple[int, str]:
    info = resolve_pin(ck, pins, name, path)
    if info.gpio is None:
        raise ck.fail(path, f"a GPIO pin; {name!r} is {info.name}, a {info.kind} pin")
    return info.gpio, info.name


def parse_bus(ck: Checker, name: Any, body: Any, pins: PinMap, variant: SocVariant) -> BusSpec:
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
    extra: tuple[str, ...] = ("linux_devices",) if kind == "spi" else ()
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
        line, canonical = resolve_gpio(ck, pins, body[role], rpath)
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
        gpio_access_ns=(
            ck.integer(body["gpio_access_ns"], f"{path}.gpio_access_ns", 0, 1_000_000)
            if controller == I2C_GPIO and "gpio_access_ns" in body
            else None
        ),
    )


def _controllers(variant: SocVariant, kind: str) -> tuple[str, ...]:
    if kind == "i2c":
        return (*variant.i2c_controllers, I2C_GPIO)
    if kind == "spi":
        return ("spi0",)
    return (*variant.pl011_uarts, "uart1")


def parse_pulls(ck: Checker, raw: Any, pins: PinMap, prefix: str, source: str) -> list[PullSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ck.fail(prefix, "a list of {pin:, pull: up|down, ohms:, ref:}")
    out = []
    for i, entry in enumerate(raw):
        path = f"{prefix}[{i}]"
        ck.keys(entry, path, PULL_KEYS)
        info = resolve_pin(ck, pins, entry.get("pin"), f"{path}.pin")
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
                f"a positive, finite resistance in ohms (up to {MAX_OHMS:g}), got {clip(ohms)}",
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


def parse_jumpers(
    ck: Checker, raw: Any, pins: PinMap, prefix: str, source: str
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
        pa = resolve_pin(ck, pins, a, f"{path}.a")
        pb = resolve_pin(ck, pins, b, f"{path}.b")
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


def _parse_boot_functions(ck: Checker, raw: Any, pins: PinMap, prefix: str) -> dict[int, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ck.fail(prefix, "a mapping of pin to function (input, output, ALT0..ALT5)")
    out: dict[int, str] = {}
    for pin, function in raw.items():
        path = f"{prefix}.{pin}"
        line, _ = resolve_gpio(ck, pins, pin, path)
        if not isinstance(function, str) or (
            function not in FSEL_OF_FUNCTION and function.upper() not in FSEL_OF_FUNCTION
        ):
            raise ck.fail(path, f"one of: {', '.join(FSEL_OF_FUNCTION)}, got {function!r}")
        out[line] = function if function in FSEL_OF_FUNCTION else function.upper()
    return out


def parse_boot_pulls(ck: Checker, raw: Any, pins: PinMap) -> dict[int, str]:
    """``boot_pulls: {J8-10: up}``: pad pulls the firmware sets at boot (dt-blob
    ``termination``, a device tree ``brcm,pull``)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ck.fail("boot_pulls", "a mapping of pin to pull (up, down or none)")
    out: dict[int, str] = {}
    for pin, pull in raw.items():
        path = f"boot_pulls.{pin}"
        line, _ = resolve_gpio(ck, pins, pin, path)
        if pull not in PAD_PULLS:
            raise ck.fail(path, f"one of: {', '.join(PAD_PULLS)}, got {pull!r}")
        if line in out:
            raise ck.fail(path, f"each GPIO once; GPIO{line} is already given a pull")
        out[line] = pull
    return out


def resolve_boot_functions(
    ck: Checker,
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
