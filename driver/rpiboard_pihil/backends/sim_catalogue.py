"""The board catalogue of the simulated backend: every shipped emulator profile described
as the driver's `BoardInfo` (`describe_board`, `board_infos`)."""

from __future__ import annotations

import functools
from types import MappingProxyType
from typing import Any

from pihil_emulator import errors as emu

from ..board_info import BoardInfo, I2cBusInfo, PinInfo, SpiBusInfo, UartInfo
from ..enums import PinKind, Pull
from .sim_core import translate


@functools.cache
def board_infos() -> dict[str, BoardInfo]:
    """Every shipped board profile as the driver sees it, by profile name."""
    from pihil_emulator import boards

    try:
        return {name: describe_board(boards.load_profile(name)) for name in boards.profile_names()}
    except emu.EmulatorError as exc:
        raise translate(exc) from exc


_PIN_KINDS = {"gpio": PinKind.GPIO, "power": PinKind.POWER, "ground": PinKind.GROUND}


def _default_tty(number: int, kind: str | None) -> str:
    # soc-facts §4.2: /dev/ttyAMA0 = PL011 (UART0), /dev/ttyS0 = mini UART; the BCM2711's
    # extra PL011s appear as further ttyAMA devices when their overlays are enabled
    if kind == "mini":
        return "/dev/ttyS0"
    return "/dev/ttyAMA0" if number == 0 else f"/dev/ttyAMA{number}"


def describe_board(profile: Any) -> BoardInfo:
    """The driver's `BoardInfo` from an emulator `BoardProfile` (enabled buses only)."""
    from pihil_emulator.soc.gpio import _reset_pulls

    pin_map = profile.pin_map()
    pins = tuple(
        PinInfo(
            name=p.name,
            header=p.header,
            number=p.number,
            kind=_PIN_KINDS.get(p.kind, PinKind.OTHER),
            gpio=p.gpio,
            signal=f"GPIO{p.gpio}" if p.gpio is not None else (p.rail or "NC"),
        )
        for header in profile.headers.values()
        for _, p in sorted(header.pins.items())
    )
    lines = tuple(profile.gpio_lines)
    aliases: dict[str, int] = {}
    for p in profile.header_pins:
        if p.gpio is not None:
            for name in (p.name, *p.labels):
                aliases[name] = p.gpio
    for name in pin_map.display_names():
        try:
            info = pin_map.resolve(name)
        except emu.EmulatorError:
            continue  # ambiguous or not a pin of this board
        if info.gpio is not None and info.gpio in lines and name != f"GPIO{info.gpio}":
            aliases.setdefault(name, info.gpio)
    buses = [b for b in profile.buses.values() if b.enabled]
    i2c = tuple(
        I2cBusInfo(
            b.name, b.number, b.gpios.get("sda"), b.gpios.get("scl"),
            b.linux_device or f"/dev/i2c-{b.number}", b.controller,
        )
        for b in buses
        if b.kind == "i2c"
    )  # fmt: skip
    spi = tuple(
        SpiBusInfo(
            b.name,
            b.number,
            b.chip_selects,
            MappingProxyType({cs: f"/dev/spidev{b.number}.{cs}" for cs in b.chip_selects}),
        )
        for b in buses
        if b.kind == "spi"
    )
    uarts = tuple(
        UartInfo(
            b.name, b.number, b.uart_type or "pl011", b.gpios.get("tx"), b.gpios.get("rx"),
            b.linux_device or _default_tty(b.number, b.uart_type),
        )
        for b in buses
        if b.kind == "uart"
    )  # fmt: skip
    reset = _reset_pulls(profile.variant.gpio_count)
    pull_names = {0: Pull.NONE, 1: Pull.UP, 2: Pull.DOWN}

    def resolve(name: str) -> int | None:
        try:
            return pin_map.resolve(name).gpio  # type: ignore[no-any-return]
        except emu.EmulatorError:
            return None

    return BoardInfo(
        name=profile.name,
        manufacturer=profile.manufacturer,
        model=profile.model,
        soc=profile.variant.name,
        gpio_count=profile.variant.gpio_count,
        gpios=lines,
        pins=pins,
        i2c_buses=i2c,
        spi_buses=spi,
        uarts=uarts,
        gpio_aliases=MappingProxyType(aliases),
        kernel_models=tuple(profile.kernel_models),  # /proc/device-tree/model prefixes
        revision_code=profile.revision_code,
        dt_model=profile.dt_model,
        primary_header=pin_map.main_header or "",
        reset_pulls=MappingProxyType({n: pull_names[reset[n]] for n in lines}),
        resolve_gpio=resolve,
    )
