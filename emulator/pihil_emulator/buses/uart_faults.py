"""UART faults (DESIGN "Faults and observation"): noise on a line, a wrong baud rate at the far end.

- `UartNoise`: from ``at_ns`` for ``duration_ns``, random glitches invert the
  line's level (a Poisson process of glitch starts, widths uniform in a
  range, a seeded RNG so a failing run replays). Every receiver on the
  line's electrical node samples the damaged waveform, and a `UartVcdTap`
  records it.
- `UartWrongBaud`: a UART device's baud rate changes (both directions), as
  when the far end is configured for another speed; cleared, it goes back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..faults import Fault
from . import uart_vcd  # noqa: F401 - registers the VCD tap of the noise published here
from .uart_line import Glitch, UartLines
from .uart_target import UartTarget

if TYPE_CHECKING:
    from ..board import Board


def noise_glitches(
    rng: random.Random,
    start_ns: float,
    end_ns: float,
    glitches_per_ms: float,
    min_width_ns: float,
    max_width_ns: float,
) -> list[Glitch]:
    """Random, merged, non-overlapping glitch spans in ``[start_ns, end_ns)``."""
    spans: list[Glitch] = []
    if glitches_per_ms <= 0:
        return spans
    mean_gap = 1e6 / glitches_per_ms
    t = start_ns + rng.expovariate(1.0 / mean_gap)
    while t < end_ns:
        width = rng.uniform(min_width_ns, max_width_ns)
        g = Glitch(t, min(t + width, end_ns))
        if spans and g.start_ns <= spans[-1].end_ns:
            spans[-1] = Glitch(spans[-1].start_ns, max(spans[-1].end_ns, g.end_ns))
        else:
            spans.append(g)
        t += rng.expovariate(1.0 / mean_gap)
    return spans


@dataclass(eq=False)
class UartNoise(Fault):
    """Noise on UART ``line`` (a pin or net name: ``GPIO15``, ``J8-10``, ``UART0_RXD``).

    Needs ``duration_ns`` (the noise window). ``seed`` None draws from the board's
    seeded random source.
    """

    line: str = "GPIO15"
    glitches_per_ms: float = 5.0
    min_width_ns: int = 500
    max_width_ns: int = 5_000
    seed: int | None = None
    glitches: list[Glitch] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.duration_ns is None:
            raise ValueError("UartNoise needs duration_ns: the window the noise lasts")
        if self.glitches_per_ms < 0:
            raise ValueError(f"glitches_per_ms cannot be negative, got {self.glitches_per_ms}")
        if not 0 < self.min_width_ns <= self.max_width_ns:
            raise ValueError(
                "glitch widths need 0 < min_width_ns <= max_width_ns, got "
                f"{self.min_width_ns}..{self.max_width_ns} ns"
            )

    def apply(self, board: Board) -> None:
        net = board.net(self.line)
        rng = random.Random(self.seed) if self.seed is not None else board.world.random
        start = float(board.now_ns)
        assert self.duration_ns is not None
        self.glitches = noise_glitches(
            rng,
            start,
            start + self.duration_ns,
            self.glitches_per_ms,
            self.min_width_ns,
            self.max_width_ns,
        )
        UartLines.of(board.circuit).add_glitches(net, self.glitches)

    def clear(self, board: Board) -> None:
        """The window is over (the glitches were all inside it)."""

    def describe(self) -> str:
        return f"noise on {self.line} ({self.glitches_per_ms:g} glitches/ms)"


@dataclass(eq=False)
class UartWrongBaud(Fault):
    """UART device ``device`` (its profile name, or the model) runs at ``baud`` instead."""

    device: Any = None
    baud: float = 9600.0
    _old: Any = field(default=None, init=False, repr=False)

    def _target(self, board: Board) -> UartTarget:
        dev = board.device(self.device) if isinstance(self.device, str) else self.device
        if not isinstance(dev, UartTarget):
            raise ValueError(f"{self.describe()}: {dev!r} is not a UART device model")
        return dev

    def apply(self, board: Board) -> None:
        dev = self._target(board)
        self._old = dev.settings
        dev.set_settings(dev.settings.with_baud(self.baud))

    def clear(self, board: Board) -> None:
        if self._old is not None:
            self._target(board).set_settings(self._old)
            self._old = None

    def describe(self) -> str:
        name = self.device if isinstance(self.device, str) else getattr(self.device, "name", "?")
        return f"{name} at {self.baud:g} baud"
