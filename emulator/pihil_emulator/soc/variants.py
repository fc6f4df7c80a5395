"""SoC variants: what differs between the BCM2835 and the BCM2711.

Where the sources disagree (the BCM2711 clock-stretching fix, whether CLKT
fires on BCM283x; soc-facts §1.3, §1.4) the variant only sets the default and
a board profile or a test can switch it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

PullControl = Literal["gppud", "pup_pdn"]


@dataclass(frozen=True)
class SocVariant:
    name: str
    gpio_count: int
    """54 on BCM2835, 58 on BCM2711 (soc-facts §3.1)."""
    core_clock_hz: int
    """The VPU/core clock feeding BSC, SPI and the mini UART: 250 MHz on the Pi (soc-facts §2 DIV)."""
    peripheral_base: int
    """ARM physical address of the peripheral window (soc-facts §2)."""
    pull_control: PullControl
    """BCM2835 GPPUD/GPPUDCLK sequence or BCM2711 GPIO_PUP_PDN_CNTRL registers (soc-facts §3.6)."""
    i2c_stretch_bug: bool
    """The BSC clock-stretching bug (soc-facts §1.2); claimed fixed on BCM2711 (§1.4)."""
    i2c_clkt_functional: bool
    """Whether a CLKT timeout fires (soc-facts §1.3: works on 2711, unreliable on 283x)."""
    i2c_controllers: tuple[str, ...]
    """User-accessible BSC masters (BSC2/7 are HDMI-only, soc-facts §2)."""
    pl011_uarts: tuple[str, ...]
    """PL011 UARTs: UART0 on both, UART2-5 on BCM2711 (soc-facts §4.2)."""
    pl011_clock_hz: int = 48_000_000
    """``init_uart_clock`` default (soc-facts §4.2)."""

    def with_overrides(self, **changes: object) -> SocVariant:
        """A copy with some parameters changed (e.g. ``core_clock_hz=400_000_000`` for a Pi 3)."""
        known = {f.name for f in dataclasses.fields(self)} - {"name"}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(
                f"unknown SoC parameter(s) {', '.join(map(str, unknown))}; known: "
                f"{', '.join(sorted(known))} (the name comes from the soc: key)"
            )
        checked = {key: _checked(key, value) for key, value in changes.items()}
        return dataclasses.replace(self, **checked)  # type: ignore[arg-type]


_INT_RANGES: dict[str, tuple[int, int, str]] = {
    "gpio_count": (1, 64, "GPIO lines (two 32-line banks at most)"),
    "core_clock_hz": (1_000_000, 2_000_000_000, "Hz"),
    "pl011_clock_hz": (1_000_000, 2_000_000_000, "Hz (init_uart_clock)"),
    "peripheral_base": (0, (1 << 36) - 1, "(an ARM physical address)"),
}


def _checked(key: str, value: object) -> object:
    """An override's value, if it is one the parameter can take (ValueError otherwise)."""
    if key in _INT_RANGES:
        lo, hi, unit = _INT_RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(
                f"SoC parameter {key} takes an integer {lo}..{hi} {unit}; got {value!r}"
            )
        return value
    if key == "pull_control":
        if value not in ("gppud", "pup_pdn"):
            raise ValueError(f"SoC parameter pull_control takes gppud or pup_pdn; got {value!r}")
        return value
    if key in ("i2c_stretch_bug", "i2c_clkt_functional"):
        if not isinstance(value, bool):
            raise ValueError(f"SoC parameter {key} takes true or false; got {value!r}")
        return value
    # i2c_controllers, pl011_uarts: block names
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise ValueError(f"SoC parameter {key} takes a list of block names; got {value!r}")
    return tuple(value)


BCM2835 = SocVariant(
    name="BCM2835",
    gpio_count=54,
    core_clock_hz=250_000_000,
    peripheral_base=0x2000_0000,
    pull_control="gppud",
    i2c_stretch_bug=True,
    i2c_clkt_functional=False,
    i2c_controllers=("bsc0", "bsc1"),
    pl011_uarts=("uart0",),
)

BCM2711 = SocVariant(
    name="BCM2711",
    gpio_count=58,
    core_clock_hz=250_000_000,
    peripheral_base=0xFE00_0000,
    pull_control="pup_pdn",
    i2c_stretch_bug=False,
    i2c_clkt_functional=True,
    i2c_controllers=("bsc0", "bsc1", "bsc3", "bsc4", "bsc5", "bsc6"),
    pl011_uarts=("uart0", "uart2", "uart3", "uart4", "uart5"),
)

VARIANTS: dict[str, SocVariant] = {v.name: v for v in (BCM2835, BCM2711)}


def soc_variant(name: str) -> SocVariant:
    """Look a variant up by name (case-insensitive), with a clear error listing the known ones."""
    v = VARIANTS.get(name.upper())
    if v is None:
        raise ValueError(f"unknown SoC {name!r}; known: {', '.join(VARIANTS)}")
    return v
