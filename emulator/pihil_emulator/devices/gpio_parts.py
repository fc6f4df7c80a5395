"""On-board parts on one GPIO: an LED, a buzzer behind a transistor, a TSOP-style IR receiver.

The MirkoPC (soc-facts §7.2, user manual GPIO table) has a green LED800 on GPIO16, a red
LED801 on GPIO26, a 3 kHz (2700 Hz) buzzer on GPIO22 switched through Q800, and an IR
receiver U803 (36/38 kHz) whose demodulated output goes to GPIO17.

- `Led` lights while its net is at the active level. The seed documents (the hackaday
  page) say nothing about the LED's polarity or series resistor: active-high is taken
  **[I]** (GPIO through a resistor to the LED's anode), ``params: {active: low}`` overrides.
- `Buzzer`: Q800 is an NPN switch **[I]** (the seed is silent), so it sounds while the GPIO is
  high. ``frequency_hz(window_ns)`` is the frequency of the GPIO's toggling over the last
  window (software or hardware PWM), None when the line was steady.
- `IrReceiver`: a TSOP-style module. Its output is active low and open collector with an
  internal pull-up (Vishay TSOP382.. block diagram: output transistor with a pull-up to
  VS); the output goes low while a burst is received. The pull-up here is weak
  (``pull_up_ohms``, default 1 MΩ **[I]**; a TSOP's own is tens of kΩ) so the jig's
  GPIO17-GPIO27 loop and the SoC driving GPIO17 keep working: a push-pull output always wins,
  and the SoC's 50 kΩ pad pulls still decide the level of an undriven loop.
  `fire_nec` and `fire_rc5` schedule a frame's demodulated waveform in simulated time:
  NEC (SB-Projects "NEC Protocol"; Altium "NEC Infrared Transmission Protocol"): a 9 ms
  burst, a 4.5 ms space, then address, ~address, command, ~command, 8 bits each LSB
  first, each bit a 562.5 µs burst and a 562.5 µs (0) or 1687.5 µs (1) space, and a final
  562.5 µs burst; a repeat code (9 ms burst, 2.25 ms space, 562.5 µs burst) every 108 ms
  from the start of the frame. RC-5 (SB-Projects "Philips RC-5 Protocol"): 14 bi-phase bits
  of 1.778 ms (two 889 µs halves), MSB first: S1=1, S2=1 (RC-5X: the inverted command
  bit 6), toggle, 5 address bits, 6 command bits; a 0 is a burst in the first half, a 1 a
  burst in the second half; frames repeat every 114 ms.

A part finds its net through the board's attachments (``board.attach(part, kind="gpio",
pin="GPIO16")``, which the profile's ``gpio:`` entries do), or `connect(net)` off a board.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any, Literal

import simpy

from ..buses.uart_line import UartLines
from ..errors import ConfigurationError
from ..world.clock import World
from ..world.net import Drive, Net
from .params import Params

NEC_UNIT_NS = 562_500
NEC_LEADER_MARK_NS = 16 * NEC_UNIT_NS  # 9 ms
NEC_LEADER_SPACE_NS = 8 * NEC_UNIT_NS  # 4.5 ms
NEC_REPEAT_SPACE_NS = 4 * NEC_UNIT_NS  # 2.25 ms
NEC_ONE_SPACE_NS = 3 * NEC_UNIT_NS  # 1.6875 ms
NEC_FRAME_PERIOD_NS = 108_000_000
RC5_HALF_BIT_NS = 889_000  # 32 cycles of 36 kHz (888.9 µs)
RC5_FRAME_PERIOD_NS = 114_000_000
IR_PULL_UP_OHMS = 1_000_000.0

Segment = tuple[bool, int]
"""(mark, duration_ns): a burst received (output low) or a space (output released)."""


class GpioPart:
    """A part on one net, found through the board's attachments (role ``pin``)."""

    model = "gpio-part"

    def __init__(self, name: str) -> None:
        self.name = name
        self._world: World | None = None
        self._net: Net | None = None
        self._unwatch: Callable[[], None] | None = None

    def __repr__(self) -> str:
        where = self._net.name if self._net is not None else "unwired"
        return f"{type(self).__name__}({self.name} on {where})"

    # -- wiring ---------------------------------------------------------------------------
    def bind(self, world: World) -> None:
        """Board.attach calls this once the attachment is recorded: find our net."""
        self._world = world
        hub = UartLines.for_world(world)
        attachments = hub.attachments if hub is not None else None
        if attachments is not None:
            for a in attachments.for_device(self):
                net = a.nets.get("pin") or next(iter(a.nets.values()), None)
                if net is not None:
                    self.connect(net)
                    return

    def connect(self, net: Net) -> None:
        """Wire the part to ``net`` (off a board, or to move it)."""
        if self._unwatch is not None:
            self._unwatch()
        if self._world is None:
            self._world = net.circuit.world
        self._net = net
        self._unwatch = net.watch(self._on_level)
        self.on_connected(net)

    def on_connected(self, net: Net) -> None:
        """Subclasses: the net is known (drive it, read its level)."""

    def _on_level(self, _net: Net, level: bool, time_ns: int) -> None:
        """Subclasses: the net's level changed."""

    @property
    def net(self) -> Net:
        if self._net is None:
            raise ConfigurationError(
                f"{self.name} is not wired to a GPIO: attach it with "
                f"board.attach({self.name}, bus='{self.name}', kind='gpio', pin='GPIO16')"
            )
        return self._net

    @property
    def world(self) -> World:
        if self._world is None:
            raise ConfigurationError(f"{self.name} is not attached to a board")
        return self._world

    @property
    def now_ns(self) -> int:
        return self.world.now_ns if self._world is not None else 0


class Led(GpioPart):
    """An LED lit while its GPIO is at the active level (``active: high`` by default, [I])."""

    model = "led"

    def __init__(
        self, name: str, *, active: Literal["high", "low"] = "high", color: str | None = None
    ) -> None:
        if active not in ("high", "low"):
            raise ConfigurationError(f"led {name}: active must be 'high' or 'low', got {active!r}")
        super().__init__(name)
        self.active_high = active == "high"
        self.color = color
        self.history: list[tuple[int, bool]] = []
        """(t_ns, on) at each change, starting with the state when wired."""

    def on_connected(self, net: Net) -> None:
        self._record(self.now_ns, net.level)

    def _on_level(self, _net: Net, level: bool, time_ns: int) -> None:
        self._record(time_ns, level)

    def _record(self, time_ns: int, level: bool) -> None:
        lit = level == self.active_high
        if not self.history or self.history[-1][1] != lit:
            self.history.append((time_ns, lit))

    @property
    def on(self) -> bool:
        """True while lit."""
        return self.net.level == self.active_high


class Buzzer(GpioPart):
    """A buzzer switched by a GPIO through a transistor (NPN, [I]): sounds while high."""

    model = "buzzer"

    def __init__(self, name: str, *, nominal_hz: float = 2700.0) -> None:
        super().__init__(name)
        self.nominal_hz = nominal_hz
        self.history: list[tuple[int, bool]] = []
        """(t_ns, level) of the GPIO at each change, starting with the level when wired."""

    def on_connected(self, net: Net) -> None:
        self.history.append((self.now_ns, net.level))

    def _on_level(self, _net: Net, level: bool, time_ns: int) -> None:
        if not self.history or self.history[-1][1] != level:
            self.history.append((time_ns, level))

    @property
    def sounding(self) -> bool:
        """True while the transistor conducts (GPIO high)."""
        return self.net.level

    def frequency_hz(self, window_ns: int) -> float | None:
        """The GPIO's toggling frequency over the last ``window_ns``: rising edges counted
        between the first and the last in the window; None with fewer than two (steady)."""
        if window_ns <= 0:
            raise ValueError(f"frequency_hz needs a positive window in ns, got {window_ns}")
        start = self.now_ns - window_ns
        rises = [
            t
            for i, (t, level) in enumerate(self.history)
            if level and i > 0 and not self.history[i - 1][1] and t >= start
        ]
        if len(rises) < 2 or rises[-1] == rises[0]:
            return None
        return (len(rises) - 1) * 1e9 / (rises[-1] - rises[0])


class IrReceiver(GpioPart):
    """A TSOP-style IR receiver: active-low open-collector output with a weak pull-up."""

    model = "ir-receiver"

    def __init__(
        self, name: str, *, pull_up_ohms: float = IR_PULL_UP_OHMS, carrier_hz: float = 38_000.0
    ) -> None:
        if pull_up_ohms <= 0:
            raise ConfigurationError(
                f"ir-receiver {name}: pull_up_ohms must be positive, got {pull_up_ohms}"
            )
        super().__init__(name)
        self.pull_up_ohms = pull_up_ohms
        self.carrier_hz = carrier_hz
        self._busy_until = 0
        self._marking = False
        self.frames: list[tuple[int, str, int, int]] = []
        """(start_ns, protocol, address, command) of each frame fired."""

    @property
    def _owner(self) -> str:
        return f"{self.name} (IR receiver output)"

    def on_connected(self, net: Net) -> None:
        net.drive(self._owner, Drive.pull_up(self.pull_up_ohms))

    @property
    def receiving(self) -> bool:
        """True while the output is pulled low (a burst is being received)."""
        return self._marking

    # -- frames ---------------------------------------------------------------------------
    def fire_nec(
        self,
        address: int,
        command: int,
        *,
        repeats: int = 0,
        at_ns: int | None = None,
        extended: bool = False,
    ) -> int:
        """Schedule an NEC frame (then ``repeats`` repeat codes, 108 ms apart); returns the
        simulated time at which the last burst ends. ``extended``: a 16-bit address (sent
        low byte, high byte) instead of address and ~address."""
        limit = 0xFFFF if extended else 0xFF
        if not 0 <= address <= limit or not 0 <= command <= 0xFF:
            raise ValueError(
                f"NEC takes an address 0..{limit:#x} and a command 0..0xff, "
                f"got address={address!r}, command={command!r}"
            )
        if repeats < 0:
            raise ValueError(f"repeats must be 0 or more, got {repeats}")
        frames = [nec_segments(address, command, extended=extended)]
        frames += [nec_repeat_segments()] * repeats
        return self._fire(frames, NEC_FRAME_PERIOD_NS, at_ns, "nec", address, command)

    def fire_nec_repeat(self, *, at_ns: int | None = None) -> int:
        """Schedule one NEC repeat code alone (a key held down)."""
        return self._fire([nec_repeat_segments()], NEC_FRAME_PERIOD_NS, at_ns, "nec-repeat", 0, 0)

    def fire_rc5(
        self,
        address: int,
        command: int,
        *,
        toggle: bool = False,
        repeats: int = 0,
        at_ns: int | None = None,
    ) -> int:
        """Schedule an RC-5 frame (command 64..127 as RC-5X) and ``repeats`` copies 114 ms
        apart; returns the simulated time at which the last frame ends."""
        if not 0 <= address <= 0x1F or not 0 <= command <= 0x7F:
            raise ValueError(
                "RC-5 takes an address 0..31 and a command 0..127 (64.. as RC-5X), "
                f"got address={address!r}, command={command!r}"
            )
        frame = rc5_segments(address, command, toggle=toggle)
        return self._fire(
            [frame] * (1 + repeats), RC5_FRAME_PERIOD_NS, at_ns, "rc5", address, command
        )

    def _fire(
        self,
        frames: Sequence[Sequence[Segment]],
        period_ns: int,
        at_ns: int | None,
        protocol: str,
        address: int,
        command: int,
    ) -> int:
        net = self.net
        start = self.now_ns if at_ns is None else at_ns
        if start < self.now_ns:
            raise ValueError(f"at_ns={start} is in the past (now {self.now_ns} ns)")
        if start < self._busy_until:
            raise ConfigurationError(
                f"{self.name}: a frame is still being received until {self._busy_until} ns; "
                f"fire the next one at_ns={self._busy_until} or later"
            )
        self.frames.append((start, protocol, address, command))
        end = start
        steps: list[tuple[int, bool]] = []
        for i, frame in enumerate(frames):
            t = start + i * period_ns
            for mark, duration in frame:
                steps.append((t, mark))
                t += duration
            steps.append((t, False))
            end = t
        self._busy_until = end
        self.world.process(self._play(net, steps))
        return end

    def _play(self, net: Net, steps: list[tuple[int, bool]]) -> Generator[simpy.Event, Any, None]:
        for t, mark in steps:
            if t > self.now_ns:
                yield self.world.timeout(t - self.now_ns)
            self._marking = mark
            net.drive(
                self._owner, Drive.open_drain_low() if mark else Drive.pull_up(self.pull_up_ohms)
            )


def nec_segments(address: int, command: int, *, extended: bool = False) -> list[Segment]:
    """The demodulated NEC frame as (mark, ns) segments, LSB first."""
    if extended:
        data = [address & 0xFF, address >> 8, command, command ^ 0xFF]
    else:
        data = [address, address ^ 0xFF, command, command ^ 0xFF]
    segs: list[Segment] = [(True, NEC_LEADER_MARK_NS), (False, NEC_LEADER_SPACE_NS)]
    for byte in data:
        for bit in range(8):
            segs.append((True, NEC_UNIT_NS))
            segs.append((False, NEC_ONE_SPACE_NS if byte >> bit & 1 else NEC_UNIT_NS))
    segs.append((True, NEC_UNIT_NS))
    return segs


def nec_repeat_segments() -> list[Segment]:
    return [(True, NEC_LEADER_MARK_NS), (False, NEC_REPEAT_SPACE_NS), (True, NEC_UNIT_NS)]


def rc5_bits(address: int, command: int, *, toggle: bool = False) -> list[int]:
    """The 14 RC-5 bits, MSB first: S1, S2 (= not command bit 6), toggle, A4..A0, C5..C0."""
    bits = [1, 0 if command & 0x40 else 1, int(toggle)]
    bits += [address >> i & 1 for i in range(4, -1, -1)]
    bits += [command >> i & 1 for i in range(5, -1, -1)]
    return bits


def rc5_segments(address: int, command: int, *, toggle: bool = False) -> list[Segment]:
    """Bi-phase: a 0 is burst-then-space, a 1 space-then-burst (889 µs halves), merged."""
    halves: list[bool] = []
    for bit in rc5_bits(address, command, toggle=toggle):
        halves += [False, True] if bit else [True, False]
    segs: list[Segment] = []
    for mark in halves:
        if segs and segs[-1][0] == mark:
            segs[-1] = (mark, segs[-1][1] + RC5_HALF_BIT_NS)
        else:
            segs.append((mark, RC5_HALF_BIT_NS))
    while segs and not segs[0][0]:
        segs.pop(0)  # S1's first half is idle: the receiver sees the frame start at a burst
    while segs and not segs[-1][0]:
        segs.pop()
    return segs


# -- factories (registry) -------------------------------------------------------------------


def led_factory(address: int | None, name: str, params: Mapping[str, object]) -> Led:
    p = Params("led", params)
    active = p.get_str("active", "high")
    color = p.get_str("color")
    p.done()
    if active not in ("high", "low"):
        raise ConfigurationError(f"device model 'led': active must be high or low, got {active!r}")
    return Led(name, active="high" if active == "high" else "low", color=color)


def buzzer_factory(address: int | None, name: str, params: Mapping[str, object]) -> Buzzer:
    p = Params("buzzer", params)
    dev = Buzzer(name, nominal_hz=p.get_float("nominal_hz", 2700.0))
    p.done()
    return dev


def ir_receiver_factory(address: int | None, name: str, params: Mapping[str, object]) -> IrReceiver:
    p = Params("ir-receiver", params)
    dev = IrReceiver(
        name,
        pull_up_ohms=p.get_float("pull_up_ohms", IR_PULL_UP_OHMS),
        carrier_hz=p.get_float("carrier_hz", 38_000.0),
    )
    p.done()
    return dev
