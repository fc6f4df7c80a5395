"""Board profiles: devices, identity, and the whole `BoardProfile` from merged data.

`build_profile` checks the merged YAML of a profile (top-level keys, the SoC and its
overrides), resolves its headers, buses, pulls and jumpers (`pihil_emulator.boards.resolve`),
checks each device against the parts the device registry models and the board's buses, and
the identity the kernel reports (``kernel_models``, ``revision``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from ..soc.alt_functions import alt_table
from ..soc.variants import VARIANTS, soc_variant
from .pins import PinMap, PinNameConflict, normalise
from .resolve import (
    parse_boot_pulls,
    parse_bus,
    parse_headers,
    parse_jumpers,
    parse_pulls,
    resolve_boot_functions,
    resolve_gpio,
    resolve_pin,
)
from .schema import (
    BUS_KINDS,
    DEVICE_KEYS,
    JIG_KEYS,
    PARTS,
    TOP_KEYS,
    BoardProfile,
    BusSpec,
    Checker,
    DeviceSpec,
    HeaderSpec,
    PartInfo,
)


def build_profile(data: dict[str, Any], file: str, name: str) -> BoardProfile:
    """Validate merged profile data and build the `BoardProfile`."""
    ck = Checker(file)
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

    headers = parse_headers(ck, data.get("headers"), variant)
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
    buses = {str(n): parse_bus(ck, n, body, base_pins, variant) for n, body in raw_buses.items()}
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

    pulls = parse_pulls(ck, data.get("pulls"), base_pins, "pulls", "board")
    pulls += parse_pulls(ck, jig.get("pulls"), base_pins, "test_jig.pulls", "test_jig")
    jumpers = parse_jumpers(ck, data.get("jumpers"), base_pins, "jumpers", "board")
    jumpers += parse_jumpers(ck, jig.get("jumpers"), base_pins, "test_jig.jumpers", "test_jig")

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

    boot = resolve_boot_functions(ck, buses, primary, data, jig, base_pins)
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
        boot_pulls=MappingProxyType(parse_boot_pulls(ck, data.get("boot_pulls"), base_pins)),
        test_jig=ck.string(jig, "description", "test_jig.description"),
    )
    try:
        profile.pin_map()
    except PinNameConflict as exc:
        raise ck.fail("buses", f"each name on one pin only: {exc}") from None
    return profile


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
    ck: Checker,
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
        gpio, _ = resolve_gpio(ck, pins, body["gpio"], f"{path}.gpio")
    elif kind == "gpio" and "pins" not in body:
        raise ck.fail(f"{path}.gpio", f"the GPIO the {model} is on")
    role_pins: dict[str, str] = {}
    raw_pins = body.get("pins", {})
    if not isinstance(raw_pins, dict):
        raise ck.fail(f"{path}.pins", "a mapping of role to pin name")
    for role, pin in raw_pins.items():
        info = resolve_pin(ck, pins, pin, f"{path}.pins.{role}")
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


def _parse_kernel_models(ck: Checker, raw: Any) -> tuple[str, ...]:
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


def _parse_revision(ck: Checker, raw: Any, kernel_models: Any) -> dict[str, str]:
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
