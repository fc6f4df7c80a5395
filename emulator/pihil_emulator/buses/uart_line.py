"""UART frames as waveforms: line settings, bursts of characters, the level of a line over time.

A transmitter does not toggle its net once per bit. It publishes a `Burst`
(start time, bit period, format, characters, character pitch): the levels of
the line over that span, as data. Every listener on the same electrical node
(receivers, VCD taps) gets the burst and computes what it needs in closed
form: a receiver samples the sender's waveform at its own bit centres, so a
receiver set to another baud rate or format sees exactly the framing errors,
parity errors and wrong bytes real hardware would see.

The level of a line over time, composed from DC history, bursts and noise
glitches, is `LineTimeline` in `uart_timeline` (with `Glitch`), re-exported here.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from ..attachments import Attachments
from ..errors import ConfigurationError
from ..world.clock import NS_PER_S, World
from ..world.edges import Edge
from ..world.net import Circuit, Net
from .uart_timeline import Glitch, LineTimeline

__all__ = [
    "EPS_NS",
    "PARITIES",
    "Alarm",
    "Burst",
    "Glitch",
    "LineListener",
    "LineSettings",
    "LineTimeline",
    "Parity",
    "UartLines",
    "parity_name",
]

Parity = Literal["none", "even", "odd", "mark", "space"]
PARITIES: tuple[Parity, ...] = ("none", "even", "odd", "mark", "space")
_PARITY_LETTERS: dict[str, Parity] = {
    "n": "none",
    "e": "even",
    "o": "odd",
    "m": "mark",
    "s": "space",
}

EPS_NS = 1e-6
"""Tolerance when comparing computed (float) instants: far below any bit period."""


class Alarm:
    """One pending wake-up at a computed (float) waveform instant, rounded up to the clock.

    For a model that must act when a character completes although nobody calls in (a
    receiver decoding, a device getting its characters, a FIFO reaching its RTS level).
    Asking for an instant at or after the pending one adds nothing (the callback asks
    again for what is left); an earlier one adds a wake-up.
    """

    __slots__ = ("_at", "_callback", "_world")

    def __init__(self, world: World, callback: Callable[[], None]) -> None:
        self._world = world
        self._callback = callback
        self._at: int | None = None

    def at(self, t: float) -> None:
        """Call back at ``t`` (now if ``t`` has passed)."""
        now = self._world.now_ns
        due = max(now, math.ceil(t - EPS_NS))
        if self._at is not None and now <= self._at <= due:
            return
        self._at = due
        self._world.timeout(due - now).callbacks.append(self._ring)

    def _ring(self, _event: object) -> None:
        if self._at is not None and self._at <= self._world.now_ns:
            self._at = None
        self._callback()


def parity_name(value: str) -> Parity:
    """Normalise ``"none"``/``"N"``/``"even"``/``"E"``... to a `Parity` name, or raise."""
    if not isinstance(value, str):
        raise ConfigurationError(f"parity must be one of {', '.join(PARITIES)}; got {value!r}")
    low = value.strip().lower()
    if low in PARITIES:
        return low
    if low in _PARITY_LETTERS:
        return _PARITY_LETTERS[low]
    raise ConfigurationError(
        f"parity must be one of {', '.join(PARITIES)} (or N/E/O/M/S); got {value!r}"
    )


@dataclass(frozen=True)
class LineSettings:
    """What one end of a UART line transmits and expects: baud rate and frame format.

    5 to 8 data bits (LSB first), optional parity (``mark``/``space`` are the
    PL011's stick parity), 1 or 2 stop bits.
    """

    baud: float
    data_bits: int = 8
    parity: Parity = "none"
    stop_bits: int = 1

    def __post_init__(self) -> None:
        if not (isinstance(self.baud, int | float) and math.isfinite(self.baud) and self.baud > 0):
            raise ConfigurationError(f"baud rate must be a positive number; got {self.baud!r}")
        if self.data_bits not in (5, 6, 7, 8):
            raise ConfigurationError(
                f"a UART frame has 5, 6, 7 or 8 data bits; got {self.data_bits!r}"
            )
        object.__setattr__(self, "parity", parity_name(self.parity))
        if self.stop_bits not in (1, 2):
            raise ConfigurationError(f"stop bits must be 1 or 2; got {self.stop_bits!r}")

    @property
    def bit_ns(self) -> float:
        return NS_PER_S / self.baud

    @property
    def parity_bits(self) -> int:
        return 0 if self.parity == "none" else 1

    @property
    def frame_bits(self) -> int:
        """Start + data + parity + stop bits, as sent."""
        return 1 + self.data_bits + self.parity_bits + self.stop_bits

    @property
    def frame_ns(self) -> float:
        return self.frame_bits * self.bit_ns

    @property
    def sampled_bits(self) -> int:
        """Bits a receiver samples: start, data, parity and one stop bit (a second is not checked)."""
        return 2 + self.data_bits + self.parity_bits

    @property
    def data_mask(self) -> int:
        return (1 << self.data_bits) - 1

    def parity_bit(self, value: int) -> int:
        """The parity bit sent with ``value`` (meaningless when parity is none)."""
        if self.parity == "mark":
            return 1
        if self.parity == "space":
            return 0
        ones = (value & self.data_mask).bit_count() & 1
        return ones if self.parity == "even" else ones ^ 1

    def frame_word(self, value: int) -> int:
        """The frame's bits, LSB = start bit, as sent: start 0, data LSB first, parity, stop 1s."""
        word = (value & self.data_mask) << 1
        pos = 1 + self.data_bits
        if self.parity != "none":
            word |= self.parity_bit(value) << pos
            pos += 1
        word |= ((1 << self.stop_bits) - 1) << pos
        return word

    def describe(self) -> str:
        """E.g. ``115200 8N1``."""
        baud = f"{self.baud:g}" if self.baud != int(self.baud) else str(int(self.baud))
        return f"{baud} {self.data_bits}{self.parity[0].upper()}{self.stop_bits}"

    def with_baud(self, baud: float) -> LineSettings:
        return LineSettings(baud, self.data_bits, self.parity, self.stop_bits)


class Burst:
    """Characters sent back to back (or at a fixed pitch) with one format: a waveform segment.

    Character ``i`` starts (falling edge of its start bit) at ``start_ns + i *
    pitch_ns``; between the end of one frame and the next start the line idles
    high. ``count`` may shrink after publication (the transmitter stopped
    after the character in progress: CTS, disable, a baud change); listeners
    are told through `UartLines.truncated`.
    """

    __slots__ = (
        "__weakref__",
        "bit_ns",
        "chars",
        "count",
        "frame_ns",
        "pitch_ns",
        "settings",
        "source",
        "start_ns",
    )

    def __init__(
        self,
        start_ns: float,
        settings: LineSettings,
        chars: bytes,
        *,
        pitch_ns: float | None = None,
        source: str = "",
    ) -> None:
        if not chars:
            raise ValueError("a burst needs at least one character")
        self.start_ns = float(start_ns)
        self.settings = settings
        self.chars = bytes(chars)
        self.bit_ns = settings.bit_ns
        self.frame_ns = settings.frame_ns
        pitch = self.frame_ns if pitch_ns is None else float(pitch_ns)
        if pitch < self.frame_ns - EPS_NS:
            raise ValueError(
                f"character pitch {pitch} ns is shorter than one frame ({self.frame_ns} ns)"
            )
        self.pitch_ns = pitch
        self.count = len(self.chars)
        self.source = source

    def __repr__(self) -> str:
        return (
            f"Burst({self.source or '?'} {self.settings.describe()} x{self.count} "
            f"@{self.start_ns:.0f}..{self.end_ns:.0f} ns)"
        )

    @property
    def end_ns(self) -> float:
        """End of the last frame's last stop bit (the line idles high from here)."""
        return self.start_ns + (self.count - 1) * self.pitch_ns + self.frame_ns

    def char_start(self, index: int) -> float:
        return self.start_ns + index * self.pitch_ns

    def covers(self, t: float) -> bool:
        return self.start_ns <= t < self.end_ns

    def index_at(self, t: float) -> int:
        """The character whose slot (its start .. the next start) contains ``t`` (clamped)."""
        i = int((t - self.start_ns) // self.pitch_ns)
        # boundaries are ``char_start(i)`` exactly: correct float rounding of the division
        if i + 1 < self.count and self.char_start(i + 1) <= t:
            i += 1
        elif i > 0 and self.char_start(i) > t:
            i -= 1
        return min(max(i, 0), self.count - 1)

    def _bit_at(self, base: float, t: float) -> int:
        """Index of the bit cell ``[base + k*bit, base + (k+1)*bit)`` holding ``t``."""
        k = int((t - base) // self.bit_ns)
        if base + (k + 1) * self.bit_ns <= t:
            k += 1
        elif k > 0 and base + k * self.bit_ns > t:
            k -= 1
        return k

    def level_at(self, t: float) -> bool:
        """Line level at ``t`` (high outside the frames)."""
        if not self.start_ns <= t < self.end_ns:
            return True
        i = self.index_at(t)
        k = self._bit_at(self.char_start(i), t)
        if k >= self.settings.frame_bits:
            return True
        return bool((self.settings.frame_word(self.chars[i]) >> k) & 1)

    def next_boundary(self, t: float) -> float | None:
        """The first bit or character boundary strictly after ``t`` (``None`` past the end)."""
        if t < self.start_ns:
            return self.start_ns
        if t >= self.end_ns:
            return None
        i = self.index_at(t)
        base = self.char_start(i)
        k = self._bit_at(base, t) + 1
        if k <= self.settings.frame_bits:
            return base + k * self.bit_ns
        return self.char_start(i + 1) if i + 1 < self.count else None

    def edges(self, net: str, t0: float = -math.inf, t1: float = math.inf) -> Iterator[Edge]:
        """Level changes inside this burst between ``t0`` and ``t1`` (the line is high before)."""
        level = True
        for i in range(self.count):
            base = self.char_start(i)
            if base + self.frame_ns <= t0:
                continue
            if base > t1:
                break
            word = self.settings.frame_word(self.chars[i])
            for k in range(self.settings.frame_bits):
                bit = bool((word >> k) & 1)
                if bit != level:
                    level = bit
                    t = base + k * self.bit_ns
                    if t0 <= t <= t1:
                        yield Edge(round(t), net, bit)


class LineListener(Protocol):
    """Anything that follows a UART line: a receiver, a VCD tap."""

    def input_nets(self) -> list[Net]:
        """The nets this listener hears now (matched by electrical node)."""

    def add_burst(self, burst: Burst) -> None: ...

    def burst_truncated(self, burst: Burst, cut_ns: float) -> None: ...

    def add_glitches(self, glitches: list[Glitch]) -> None: ...


class UartLines:
    """Per circuit: who listens on which UART line, so a burst reaches every listener on its node.

    Listeners are matched by electrical node at publish time, so a jumper
    from TX to RX makes a loopback and a routing change (GPIO FSEL) takes
    effect for the next burst.
    """

    def __init__(self, circuit: Circuit) -> None:
        self.circuit = circuit
        self._listeners: list[LineListener] = []
        self._delivered: weakref.WeakKeyDictionary[Burst, list[LineListener]] = (
            weakref.WeakKeyDictionary()
        )
        self.attachments: Attachments | None = None
        """The board's attachments (set by the SoC's UART blocks): how a UART device bound
        with only the world finds the nets it is wired to."""

    # The hub hangs off its circuit (and the world's first hub off the world), so it lives
    # exactly as long as they do: a module-level registry would keep every board alive
    # (a weak-keyed one too, since the hub refers to its own key).
    @classmethod
    def of(cls, circuit: Circuit) -> UartLines:
        """The hub of ``circuit`` (created on first use)."""
        hub: UartLines | None = getattr(circuit, "_uart_lines", None)
        if hub is None:
            hub = cls(circuit)
            circuit._uart_lines = hub  # type: ignore[attr-defined]
            if getattr(circuit.world, "_uart_lines", None) is None:
                circuit.world._uart_lines = hub  # type: ignore[attr-defined]
        return hub

    @classmethod
    def for_world(cls, world: World) -> UartLines | None:
        """The hub of the (first) circuit built in ``world``, if any."""
        hub: UartLines | None = getattr(world, "_uart_lines", None)
        return hub

    def add_listener(self, listener: LineListener) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def remove_listener(self, listener: LineListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def listeners_on(self, nets: Iterable[Net]) -> list[LineListener]:
        """Listeners whose input shares an electrical node with any of ``nets``."""
        nodes = {id(n.node) for n in nets}
        if not nodes:
            return []
        found: list[LineListener] = []
        for listener in self._listeners:
            for inp in listener.input_nets():
                if id(inp.node) in nodes:
                    found.append(listener)
                    break
        return found

    def publish(self, burst: Burst, nets: Iterable[Net], *, exclude: object = None) -> None:
        """Hand ``burst`` to every listener on the nodes of ``nets`` (and open VCD recorders)."""
        nets = list(nets)
        self._tap_recorders(nets)
        targets = [x for x in self.listeners_on(nets) if x is not exclude]
        self._delivered[burst] = targets
        for listener in targets:
            listener.add_burst(burst)

    def deliver(self, burst: Burst, listeners: Iterable[LineListener]) -> None:
        """Hand ``burst`` to chosen listeners (internal loopback)."""
        targets = list(listeners)
        self._delivered.setdefault(burst, []).extend(targets)
        for listener in targets:
            listener.add_burst(burst)

    def _tap_recorders(self, nets: list[Net]) -> None:
        """Open VCD recorders on these nodes get a tap (`uart_vcd.tap_recorders`)."""
        _tap_recorders_impl(self, nets)

    def truncated(self, burst: Burst, cut_ns: float) -> None:
        """``burst`` lost its characters from ``cut_ns`` on; tell whoever got it."""
        for listener in self._delivered.get(burst, []):
            listener.burst_truncated(burst, cut_ns)

    def add_glitches(self, net: Net, glitches: list[Glitch]) -> None:
        """Noise on ``net``'s node: every listener there sees the inverted spans."""
        self._tap_recorders([net])
        for listener in self.listeners_on([net]):
            listener.add_glitches(glitches)


RecorderTapper = Callable[[UartLines, list[Net]], None]
"""Gives open VCD recorders on a published node a tap (`uart_vcd.tap_recorders`)."""

_TAPPERS: list[RecorderTapper] = []


def add_recorder_tapper(tapper: RecorderTapper) -> None:
    """Register ``tapper`` (uart_vcd does at import; it builds on this module)."""
    if tapper not in _TAPPERS:
        _TAPPERS.append(tapper)


def _tap_recorders_impl(hub: UartLines, nets: list[Net]) -> None:
    for tapper in _TAPPERS:
        tapper(hub, nets)
