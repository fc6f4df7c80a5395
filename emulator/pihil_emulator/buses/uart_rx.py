"""A UART receiver that decodes a line's waveform in closed form, at its own baud rate and format.

Start-bit detection on the line going low, validation at the middle of the
start bit, then one sample at the centre of each of its own bit periods
(each a little late: the oversampling clock notices the start edge on its
next tick, half a tick late on average, `SAMPLE_DELAY_BITS`):
data bits LSB first, parity, one stop bit (a second stop bit is not checked,
soc-facts §4.2 "The receive logic does not check for two stop bits"). The
character is complete at the stop bit's centre, and the receiver looks for
the next start from there.

Two flavours (soc-facts §4.2):
- ``"pl011"``: FE when the stop bit is low, PE on a parity mismatch, and a
  break (start, data, parity and stop all low) loads exactly one 0x00 with
  BE; the next character needs the line to go high first.
- ``"mini"``: no framing, parity or break detection; a line held low gives
  a stream of 0x00.

Cost: a burst whose every sample provably lands in the right bit (same
format, compatible baud, no noise) is accepted whole, as one `Run` of
characters with arithmetic completion times, when it is published. A burst
whose samples do not align (mismatched baud or format: garbage) is decoded in
one pass when it is published, memoised per transmitted character
(uart_rx_memo, uart_rx_garbage), into a `GarbageRun` whose completion times are
recomputed on demand exactly as the per-character decoder computes them; what
it decoded ahead is forgotten and decoded again when the line changes (noise,
a truncated burst, new settings). The rest (noise on the line, a pin driven by
hand, a sample within a nanosecond of a bit boundary) is decoded character by
character at the characters' completion times; ``segment_decoding = False``
keeps garbage there too (the reference the tests compare with). A line held
low on a mini UART is one open-ended run of zeros.

The parts: what a receiver hands on (characters, chunks, runs) is `uart_rx_chars`, the
error flags and the sampling of one frame `uart_rx_frame`, the decoding itself the base
class `uart_rx_decoding.ReceiverDecoding`; this module is the receiver as its users see it
(settings, enable, the line it listens on, taking what it received).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable

from ..world.clock import World
from ..world.net import Net
from .uart_line import EPS_NS, Alarm, Burst, Glitch, LineSettings, LineTimeline, UartLines
from .uart_rx_chars import BE as BE
from .uart_rx_chars import FE as FE
from .uart_rx_chars import OE as OE
from .uart_rx_chars import PE as PE
from .uart_rx_chars import SAMPLE_DELAY_BITS as SAMPLE_DELAY_BITS
from .uart_rx_chars import Chunk as Chunk
from .uart_rx_chars import ReceiverKind as ReceiverKind
from .uart_rx_chars import Run as Run
from .uart_rx_chars import RxChar as RxChar
from .uart_rx_chars import _chunk
from .uart_rx_decoding import ReceiverDecoding
from .uart_rx_garbage import GarbageRun
from .uart_rx_memo import Context


class UartReceiver(ReceiverDecoding):
    """Decodes what arrives on its input net(s) into characters with error flags.

    ``segment_decoding`` False keeps garbage on the character-by-character decoder
    (the reference the whole-burst one is tested against).

    ``inputs`` gives the nets routed to this receiver now (for a SoC block,
    the GPIO lines whose function is its RX signal); ``watch`` are the nets
    whose DC level changes it must notice (every line that can be routed to
    it). With nothing routed, the input reads ``unrouted_level``.
    """

    segment_decoding: bool = True

    def __init__(
        self,
        world: World,
        settings: LineSettings,
        *,
        name: str,
        kind: ReceiverKind = "pl011",
        inputs: Callable[[], Iterable[Net]] | Iterable[Net] = (),
        watch: Iterable[Net] | None = None,
        hub: UartLines | None = None,
        enabled: bool = True,
        unrouted_level: bool | Callable[[], bool] = False,
    ) -> None:
        self.world = world
        self.name = name
        self.kind: ReceiverKind = kind
        self.delay_bits = SAMPLE_DELAY_BITS[kind]
        self._inputs = inputs
        self.unrouted_level = unrouted_level
        self._settings: list[tuple[float, LineSettings]] = [(-math.inf, settings)]
        self._timeline = LineTimeline(initial=self._input_level())
        self._ready = float(world.now_ns)
        self._await_high = False
        self._runs: deque[Run | GarbageRun] = deque()
        self._enabled = enabled
        self._alarm = Alarm(world, self._on_wake)
        self._subscribers: list[Callable[[], None]] = []
        self._fast_cache: dict[tuple[LineSettings, LineSettings], bool] = {}
        self._contexts: dict[tuple[object, ...], Context] = {}  # uart_rx_memo decoders
        self._advances = 0
        self._after: Burst | None = None  # the burst just accepted whole (see _next_burst_start)
        self.hub = hub
        self._unwatch: list[Callable[[], None]] = []
        for net in list(watch) if watch is not None else self._routed():
            self._unwatch.append(net.watch(self._on_dc))
        if hub is not None:
            hub.add_listener(self)

    def __repr__(self) -> str:
        return f"UartReceiver({self.name}, {self.settings.describe()}, {self.kind})"

    # -- configuration ------------------------------------------------------------------
    @property
    def settings(self) -> LineSettings:
        return self._settings[-1][1]

    def set_settings(self, settings: LineSettings) -> None:
        """New baud rate or format from now on; a character already started finishes with the old."""
        if settings == self.settings:
            return
        now = float(self.world.now_ns)
        self._settings.append((now, settings))
        if len(self._settings) > 8:
            del self._settings[1:-4]
        self._invalidate(now + 1e-3, by_start=True)  # characters started by now keep the old
        self._advance()

    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        """Stop or start receiving (a disabled receiver ignores the line)."""
        if enabled == self._enabled:
            return
        now = float(self.world.now_ns)
        if not enabled:
            self._invalidate(now + 1e-3, by_start=True)
            self._enabled = False
            return
        self._enabled = True
        self._ready = now
        self._await_high = False
        self._advance()

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` whenever new characters become known (maybe for the future)."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def close(self) -> None:
        for unwatch in self._unwatch:
            unwatch()
        self._unwatch.clear()
        if self.hub is not None:
            self.hub.remove_listener(self)

    # -- input side (LineListener) ------------------------------------------------------
    def _routed(self) -> list[Net]:
        src = self._inputs
        if callable(src):
            # the blocks' source functions give a new list each call (nobody here changes
            # it): no copy
            nets = src()
            return nets if isinstance(nets, list) else list(nets)
        return list(src)

    def _input_level(self) -> bool:
        nets = self._routed()
        if nets:
            return nets[0].level
        idle = self.unrouted_level
        return idle() if callable(idle) else idle

    def input_nets(self) -> list[Net]:
        return self._routed()

    def listens_on(self, net: Net) -> bool:
        return any(n is net for n in self._routed())

    def add_burst(self, burst: Burst) -> None:
        self._timeline.add_burst(burst)
        last = self._runs[-1] if self._runs else None
        if (
            isinstance(last, GarbageRun)
            and last.count
            and last.completion(last.count - 1) + EPS_NS >= burst.start_ns
        ):
            # decoded ahead over where this burst now shows (another sender on the node)
            self._invalidate(burst.start_ns, by_start=False)
        self._advance()

    def burst_truncated(self, burst: Burst, cut_ns: float) -> None:
        self._invalidate(cut_ns, by_start=True)
        self._advance()

    def add_glitches(self, glitches: list[Glitch]) -> None:
        if not glitches:
            return
        self._timeline.add_glitches(glitches)
        self._invalidate(min(g.start_ns for g in glitches), by_start=False)
        self._advance()

    def _on_dc(self, net: Net, level: bool, time_ns: int) -> None:
        if not self.listens_on(net):
            return
        self._sync_input()

    def resync(self) -> None:
        """Re-read the input now (after a routing or loopback change nobody's net reported)."""
        self._sync_input()

    def _sync_input(self) -> None:
        level = self._input_level()
        if level != self._timeline.dc_now():
            now = float(self.world.now_ns)
            self._timeline.record_dc(now, level)
            self._invalidate(now, by_start=False)
            self._advance()

    # -- consumer side ------------------------------------------------------------------
    def take(self, until_ns: float | None = None) -> list[Chunk]:
        """Hand out the characters completed by ``until_ns`` (default now), oldest first."""
        self._sync_input()
        t = float(self.world.now_ns) if until_ns is None else until_ns
        out: list[Chunk] = []
        while self._runs:
            run = self._runs[0]
            n = run.count_until(t)
            if n > run.taken:
                out.append(_chunk(run, run.taken, n))
                run.taken = n
            if run.count is not None and run.taken >= run.count:
                self._runs.popleft()
                continue
            break
        return out

    def waiting(self, until_ns: float | None = None) -> int:
        """Characters completed by ``until_ns`` (default now) and not taken yet."""
        t = float(self.world.now_ns) if until_ns is None else until_ns
        total = 0
        for run in self._runs:
            n = run.count_until(t) - run.taken
            if n <= 0:
                break
            total += n
        return total

    def time_of(self, k: int) -> float | None:
        """When the ``k``-th (0-based) untaken character completes, if already known."""
        for run in self._runs:
            avail = None if run.count is None else run.count - run.taken
            if avail is None or k < avail:
                return run.completion(run.taken + k)
            k -= avail
        return None

    def discard(self) -> None:
        """Drop everything completed so far (a FIFO flush)."""
        self.take()

    # -- decoding -----------------------------------------------------------------------

    def _on_wake(self) -> None:
        self._sync_input()
        self._advance()
