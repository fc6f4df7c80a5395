"""The drives a component puts on a net, and the pad thresholds they are judged by.

A `Drive` is push-pull, open-drain low, a pull resistor or an ideal voltage source
(world/net.py resolves the drives of a node). Thresholds from the pads documentation
(soc-facts §3.8): VIL 0.8 V, VIH 1.3 V; between them the input keeps its previous level.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

VDD_IO = 3.3
"""The GPIO supply: the pins are 3.3 V and not 5 V tolerant (seed: RPi low-level peripherals)."""
GPIO_MAX_VOLTS = 3.3
"""Above this a GPIO is over-driven (seed: "GPIO voltage levels are 3.3 V and are not 5 V tolerant")."""
V_IL = 0.8
V_IH = 1.3
_SAME_VOLTS = 0.05  # two hard drivers closer than this agree


class DriveKind(enum.Enum):
    PUSH_PULL = "push-pull"
    OPEN_DRAIN = "open-drain"
    PULL = "pull"
    SOURCE = "source"


class NetKind(enum.Enum):
    GPIO = "gpio"  # a SoC pad: 3.3 V max
    SIGNAL = "signal"  # any other wire (a device pin, an instrument probe)
    SUPPLY = "supply"  # a power rail (3V3, 5V)
    GROUND = "ground"


@dataclass(frozen=True, slots=True)
class Drive:
    """One driver's contribution to a net.

    ``volts`` is what the driver tries to hold the net at; ``ohms`` is its
    series resistance (0 for hard drivers: push-pull, open-drain low, sources).
    """

    kind: DriveKind
    volts: float
    ohms: float = 0.0

    @staticmethod
    def push_pull(level: bool, vdd: float = VDD_IO) -> Drive:
        return (
            _PP_HIGH
            if level and vdd == VDD_IO
            else Drive(DriveKind.PUSH_PULL, vdd if level else 0.0)
        )

    @staticmethod
    def open_drain_low() -> Drive:
        return _OD_LOW

    @staticmethod
    def pull_up(ohms: float, vdd: float = VDD_IO) -> Drive:
        if ohms <= 0:
            raise ValueError(f"a pull resistor needs a positive resistance, got {ohms} Ω")
        return Drive(DriveKind.PULL, vdd, ohms)

    @staticmethod
    def pull_down(ohms: float) -> Drive:
        if ohms <= 0:
            raise ValueError(f"a pull resistor needs a positive resistance, got {ohms} Ω")
        return Drive(DriveKind.PULL, 0.0, ohms)

    @staticmethod
    def source(volts: float) -> Drive:
        return Drive(DriveKind.SOURCE, float(volts))

    @property
    def hard(self) -> bool:
        return self.kind is not DriveKind.PULL

    def describe(self) -> str:
        if self.kind is DriveKind.PUSH_PULL:
            return f"push-pull {'high' if self.volts > 0 else 'low'}"
        if self.kind is DriveKind.OPEN_DRAIN:
            return "open-drain low"
        if self.kind is DriveKind.PULL:
            direction = "up" if self.volts > 0 else "down"
            return f"pull-{direction} {self.ohms:g} Ω"
        return f"source {self.volts:g} V"


_PP_HIGH = Drive(DriveKind.PUSH_PULL, VDD_IO)
_PP_LOW = Drive(DriveKind.PUSH_PULL, 0.0)
_OD_LOW = Drive(DriveKind.OPEN_DRAIN, 0.0)
_PULL = DriveKind.PULL
_GPIO_LIMIT = GPIO_MAX_VOLTS + 1e-9
