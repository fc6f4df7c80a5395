"""Faults injected into a board, scheduled in simulated time (DESIGN "Faults and observation").

A `Fault` starts at ``at_ns`` (absolute simulated time; at once if that is now or past)
and, with ``duration_ns``, ends by itself; ``board.inject(fault)`` schedules it and
``board.clear_fault(fault)`` ends it early. Bus modules define their own faults (NACK an
address, stretch, noise) on this base; the generic ones live here:

- `BrownOut`: a supply rail sags to a lower voltage; when it comes back the SoC goes
  through its power-on reset (registers to reset values, the firmware's pin set-up again).
- `StuckNet`: a net shorted to a level (a solder bridge, a damaged part). It is a hard
  short: a push-pull output driving the other way is an `ElectricalFault`, as on a board
  it would be a fight.
- `DroppedDevice`: a device stops answering (unplugged, dead): its attachments are removed,
  so controllers no longer find it, and it comes back when the fault ends.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .attachments import Attachment
from .errors import ConfigurationError
from .world.net import VDD_IO, Drive

if TYPE_CHECKING:
    from .board import Board


MAX_NS = (1 << 63) - 1
"""The latest simulated time a fault can name: an int64 of ns (292 years), as ktime_t."""


@dataclass(eq=False)
class Fault(abc.ABC):
    """A fault: applied at ``at_ns``, cleared after ``duration_ns`` (never when None)."""

    at_ns: int = field(default=0, kw_only=True)
    duration_ns: int | None = field(default=None, kw_only=True)
    active: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if (
            isinstance(self.at_ns, bool)
            or not isinstance(self.at_ns, int)
            or not 0 <= self.at_ns <= MAX_NS
        ):
            raise ConfigurationError(
                f"at_ns must be a non-negative integer (ns) up to {MAX_NS} (an int64, as the "
                f"kernel's ktime_t), got {self.at_ns!r}"
            )
        if self.duration_ns is not None and (
            isinstance(self.duration_ns, bool)
            or not isinstance(self.duration_ns, int)
            or not 0 < self.duration_ns <= MAX_NS
        ):
            raise ConfigurationError(
                f"duration_ns must be a positive integer (ns) up to {MAX_NS}, or None, got "
                f"{self.duration_ns!r}"
            )

    @abc.abstractmethod
    def apply(self, board: Board) -> None:
        """Make the fault happen on ``board``."""

    @abc.abstractmethod
    def clear(self, board: Board) -> None:
        """Undo it."""

    def describe(self) -> str:
        return type(self).__name__


@dataclass(eq=False)
class BrownOut(Fault):
    """Supply ``rail`` (``3V3`` or ``5V``) sags to ``volts``; on recovery the SoC resets
    when ``reset_soc`` (the board's power-on reset)."""

    rail: str = "3V3"
    volts: float = 2.5
    reset_soc: bool = True
    _nominal: float | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.rail, str) or not self.rail.strip():
            raise ConfigurationError(
                f"a brown-out's rail is a supply: '3V3' or '5V' (or a pin of one, J8-01); "
                f"got {self.rail!r}"
            )
        if isinstance(self.volts, bool) or not isinstance(self.volts, int | float):
            raise ConfigurationError(
                f"a brown-out voltage is a number of volts, got {self.volts!r}"
            )
        if not math.isfinite(self.volts):
            raise ConfigurationError(f"a brown-out voltage must be finite, got {self.volts} V")
        if self.volts < 0:
            raise ConfigurationError(f"a brown-out voltage cannot be negative, got {self.volts} V")
        if not isinstance(self.reset_soc, bool):
            raise ConfigurationError(f"reset_soc takes True or False, got {self.reset_soc!r}")

    def apply(self, board: Board) -> None:
        net = board.rail(self.rail)
        owner = f"rail {net.name}"
        nominal = net.drivers[owner].volts
        if nominal <= 0:
            raise ConfigurationError(
                f"a brown-out is of a supply rail (3V3, 5V); {self.rail!r} is {net.name}"
            )
        if self.volts >= nominal:
            raise ConfigurationError(
                f"a brown-out of {net.name} must be below its {nominal:g} V, got {self.volts:g} V"
            )
        self._nominal = nominal
        net.drive(owner, Drive.source(self.volts))

    def clear(self, board: Board) -> None:
        net = board.rail(self.rail)
        if self._nominal is not None:
            net.drive(f"rail {net.name}", Drive.source(self._nominal))
        if self.reset_soc:
            board.reset(f"power-on reset after a {self.describe()}")

    def describe(self) -> str:
        return f"brown-out of {self.rail} to {self.volts:g} V"


@dataclass(eq=False)
class StuckNet(Fault):
    """The net of ``pin`` is shorted high (3V3) or low (GND)."""

    pin: str = ""
    level: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.pin, str) or not self.pin.strip():
            raise ConfigurationError(
                f"a stuck net is given by a pin name (J8-11, GPIO17), got {self.pin!r}"
            )
        if not isinstance(self.level, bool):
            raise ConfigurationError(
                f"a stuck net's level is True (high) or False (low), got {self.level!r}"
            )

    def _owner(self) -> str:
        return f"fault: stuck {'high' if self.level else 'low'}"

    def apply(self, board: Board) -> None:
        drive = Drive.source(VDD_IO) if self.level else Drive.open_drain_low()
        board.net(self.pin).drive(self._owner(), drive)

    def clear(self, board: Board) -> None:
        board.net(self.pin).release(self._owner())

    def describe(self) -> str:
        return f"{self.pin} stuck {'high' if self.level else 'low'}"


@dataclass(eq=False)
class DroppedDevice(Fault):
    """Device ``device`` (its profile name, or the model object) drops off its buses."""

    device: Any = None
    _removed: list[Attachment] = field(default_factory=list, init=False, repr=False)
    _had_present: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.device is None or isinstance(self.device, bool | int | float | bytes):
            raise ConfigurationError(
                f"a dropped device is its profile name (rtc) or the model object, "
                f"got {self.device!r}"
            )

    def apply(self, board: Board) -> None:
        dev = board.device(self.device) if isinstance(self.device, str) else self.device
        self._removed = board.attachments.detach(dev)
        if not self._removed:
            raise ConfigurationError(f"{self.describe()}: the device is not attached to anything")
        self._had_present = hasattr(dev, "present")
        if self._had_present:
            setattr(dev, "present", False)  # noqa: B010 - any model with a `present` flag

    def clear(self, board: Board) -> None:
        for attachment in self._removed:
            board.attachments.add(attachment)
        if self._had_present:
            dev = self._removed[0].device if self._removed else None
            if dev is not None:
                setattr(dev, "present", True)  # noqa: B010
        self._removed = []

    def describe(self) -> str:
        name = self.device if isinstance(self.device, str) else getattr(self.device, "name", "?")
        return f"device {name} dropped"
