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
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from ..world.clock import World
from ..world.net import Net
from .uart_line import EPS_NS, Alarm, Burst, Glitch, LineSettings, LineTimeline, UartLines
from .uart_rx_garbage import GarbageRun, decode_burst
from .uart_rx_memo import Context, context

FE = 0x1
"""Framing error: the stop bit was low (PL011 DR bit 8 when shifted by 8)."""
PE = 0x2
"""Parity error (DR bit 9)."""
BE = 0x4
"""Break: the whole frame was low (DR bit 10)."""
OE = 0x8
"""Overrun: the FIFO was full when a character arrived (DR bit 11); set by the FIFO, not here."""

ReceiverKind = Literal["pl011", "mini"]

SAMPLE_DELAY_BITS: dict[str, float] = {"pl011": 1 / 32, "mini": 1 / 16}
"""Mean start-detection latency in bits: half a tick of the 16x (PL011) or 8x (mini UART,
soc-facts §4.2 "8-times oversampling") sampling clock."""


@dataclass(frozen=True, slots=True)
class RxChar:
    """One received character: value, error flags (`FE`/`PE`/`BE`/`OE`), completion time."""

    value: int
    flags: int
    time_ns: float


@dataclass(slots=True)
class Chunk:
    """Consecutive received characters handed to a consumer.

    Character ``i`` completed at ``first_ns + i * pitch_ns``; ``flags`` is
    None when every character is clean.
    """

    data: bytes
    flags: bytes | None
    first_ns: float
    pitch_ns: float
    timer: Callable[[int], float] | None = None
    """Character ``i``'s completion when they are not evenly spaced (garbage decoded ahead)."""

    def time_of(self, i: int) -> float:
        if self.timer is not None:
            return self.timer(i)
        return self.first_ns + i * self.pitch_ns

    def chars(self) -> list[RxChar]:
        fl = self.flags
        return [
            RxChar(v, fl[i] if fl is not None else 0, self.time_of(i))
            for i, v in enumerate(self.data)
        ]


class Run:
    """Characters the receiver decoded, not all handed out yet.

    ``count`` None with ``data`` None: an open-ended stream of 0x00 (a mini
    UART whose RX is held low), cut when the line moves.
    """

    __slots__ = (
        "await_before",
        "count",
        "data",
        "first_ns",
        "flags",
        "pitch_ns",
        "ready_before",
        "start0_ns",
        "taken",
    )

    def __init__(
        self,
        *,
        start0_ns: float,
        first_ns: float,
        pitch_ns: float,
        data: bytes | None,
        flags: bytes | None,
        count: int | None,
        ready_before: float,
        await_before: bool,
    ) -> None:
        self.start0_ns = start0_ns
        self.first_ns = first_ns
        self.pitch_ns = pitch_ns
        self.data = data
        self.flags = flags
        self.count = count
        self.ready_before = ready_before
        self.await_before = await_before
        self.taken = 0

    def completion(self, i: int) -> float:
        return self.first_ns + i * self.pitch_ns

    def start(self, i: int) -> float:
        return self.start0_ns + i * self.pitch_ns

    def count_until(self, t: float) -> int:
        """How many characters completed by ``t``."""
        if t + EPS_NS < self.first_ns:
            return 0
        n = int((t - self.first_ns + EPS_NS) // self.pitch_ns) + 1
        return n if self.count is None else min(n, self.count)

    def cut(self, keep: int) -> None:
        """Keep the first ``keep`` characters only."""
        self.count = keep
        if self.data is not None:
            self.data = self.data[:keep]
        if self.flags is not None:
            self.flags = self.flags[:keep]

    def chunk(self, a: int, b: int) -> Chunk:
        """Characters ``a`` to ``b - 1`` as a `Chunk`."""
        data = bytes(b - a) if self.data is None else self.data[a:b]
        flags = None if self.flags is None else self.flags[a:b]
        return Chunk(data, flags, self.completion(a), self.pitch_ns)


def _chunk(run: Run | GarbageRun, a: int, b: int) -> Chunk:
    """Characters ``a`` to ``b - 1`` of ``run`` as a `Chunk`."""
    if isinstance(run, Run):
        return run.chunk(a, b)
    data = b"" if run.data is None else run.data[a:b]
    flags = None if run.flags is None else run.flags[a:b]
    completion = run.completion
    return Chunk(data, flags, completion(a), 0.0, lambda i: completion(a + i))


_MASKS: dict[int, bytes] = {
    bits: bytes(b & ((1 << bits) - 1) for b in range(256)) for bits in (5, 6, 7)
}


class UartReceiver:
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

    def settings_at(self, t: float) -> LineSettings:
        for since, s in reversed(self._settings):
            if since <= t + EPS_NS:
                return s
        return self._settings[0][1]

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
    def _notify(self) -> None:
        for cb in tuple(self._subscribers):
            cb()

    def _on_wake(self) -> None:
        self._sync_input()
        self._advance()

    def _invalidate(self, t: float, *, by_start: bool) -> None:
        """Forget decoded characters from ``t`` on (by start time, or by completion time)."""
        self._after = None
        now = float(self.world.now_ns)
        while self._runs:
            run = self._runs[-1]
            if isinstance(run, GarbageRun):
                if self._invalidate_garbage(run, t, by_start, now):
                    continue
                break
            first_bad = self._first_index_from(run, t, by_start)
            if first_bad is None:
                break
            keep = max(first_bad, run.taken)
            if keep == 0:
                self._runs.pop()
                self._ready = run.ready_before
                self._await_high = run.await_before
                continue
            if run.count is None or keep < run.count:
                run.cut(keep)
                self._ready = run.completion(keep - 1)
                self._await_high = False
            break

    def _invalidate_garbage(self, run: GarbageRun, t: float, by_start: bool, now: float) -> bool:
        """`_invalidate` for characters decoded ahead: besides those from ``t``, every one the
        per-character decoder would not have decoded yet is forgotten (decoded again with
        what is known now). True when the whole run went."""
        cands = [
            i
            for i in (run.first_index_from(t, by_start), run.first_completing_after(now + EPS_NS))
            if i is not None
        ]
        if not cands:
            return False
        keep = max(min(cands), run.taken)
        if keep == 0:
            self._runs.pop()
            self._ready = run.ready_before
            self._await_high = run.await_before
            return True
        if run.count is not None and keep < run.count:
            self._ready, self._await_high = run.reference_state(keep, now)
            run.cut(keep)
        return False

    @staticmethod
    def _first_index_from(run: Run, t: float, by_start: bool) -> int | None:
        """Index of the first character of ``run`` starting (or completing) at/after ``t``."""
        base = run.start0_ns if by_start else run.first_ns
        i = max(0, math.ceil((t - base) / run.pitch_ns - 1e-9)) if t > base else 0
        if run.count is not None and i >= run.count:
            return None
        return i

    def _fast_ok(self, burst: Burst, s: LineSettings, first: int) -> bool:
        key = (burst.settings, s)
        ok = self._fast_cache.get(key)
        if ok is None:
            ok = _samples_align(burst.settings, s, self.delay_bits)
            self._fast_cache[key] = ok
        return ok and not self._timeline.glitch_overlaps(burst.char_start(first), burst.end_ns)

    def _advance(self) -> None:
        """Decode everything that can be decoded now; schedule a wake for the rest."""
        if not self._enabled:
            self._advances += 1
            if self._advances % 64 == 0:
                self._timeline.prune(float(self.world.now_ns) - 1.0)
            return
        now = float(self.world.now_ns)
        tl = self._timeline
        added = False
        while True:
            if self._await_high:
                th = tl.first_level(self._ready, True)
                if th is None:
                    break
                self._ready = th
                self._await_high = False
            ts: float | None = None
            if self._after is not None:
                ts = self._next_burst_start()
                if ts is None and self._after is not None:
                    break  # idle high after the last burst until something new arrives
            if ts is None:
                ts = tl.first_level(self._ready, False)
            if ts is None:
                break
            s = self.settings_at(ts)
            burst = tl.burst_at(ts)
            if burst is not None:
                first = round((ts - burst.start_ns) / burst.pitch_ns)
                if (
                    first < burst.count
                    and abs(burst.char_start(first) - ts) <= EPS_NS
                    and self._fast_ok(burst, s, first)
                ):
                    self._append_burst(burst, s, first)
                    added = True
                    continue
                if self._decode_ahead(burst, s, ts):
                    added = True
                    continue
            bit = s.bit_ns
            m = s.sampled_bits
            d = self.delay_bits
            if burst is None and self.kind == "mini" and self._held_low_from(ts, m * bit):
                self._append_zero_stream(ts, s)
                added = True
                break
            mid = ts + (0.5 + d) * bit
            if mid > now + EPS_NS:
                self._alarm.at(mid)
                break
            if tl.level_at(mid):
                self._ready = mid  # a glitch, not a start bit
                continue
            done = ts + (m - 0.5 + d) * bit
            if done > now + EPS_NS:
                self._alarm.at(done)
                break
            value, flags = self._decode(ts, s)
            self._runs.append(
                Run(
                    start0_ns=ts,
                    first_ns=done,
                    pitch_ns=m * bit,
                    data=bytes((value,)),
                    flags=bytes((flags,)) if flags else None,
                    count=1,
                    ready_before=self._ready,
                    await_before=self._await_high,
                )
            )
            added = True
            self._ready = done
            if flags & BE:
                self._await_high = True
        self._advances += 1
        if self._advances % 64 == 0:
            self._prune()
        if added:
            self._notify()

    def _decode_ahead(self, burst: Burst, s: LineSettings, ts: float) -> bool:
        """Garbage (samples not aligned with the sender): decode the burst in one pass."""
        tl = self._timeline
        if not self.segment_decoding or tl.glitches or self._settings[-1][0] > ts + EPS_NS:
            return False
        key = (burst.settings, s)
        ok = self._fast_cache.get(key)
        if ok is None:
            ok = _samples_align(burst.settings, s, self.delay_bits)
            self._fast_cache[key] = ok
        if ok:
            return False  # the whole-burst fast path decides (from the next start edge on)
        j = bisect.bisect_right(tl.burst_starts, burst.start_ns)
        if j < len(tl.bursts) and tl.bursts[j].start_ns < burst.end_ns:
            return False  # another burst overlaps this one
        ctx = context(self._contexts, burst.settings, burst.pitch_ns, s, self.kind, self.delay_bits)
        run = decode_burst(ctx, burst, ts, ready_before=self._ready, await_before=self._await_high)
        if run is None:
            return False
        self._runs.append(run)
        tail = run.tail_ready()
        if tail is not None:  # idle high to the burst's end: `_next_burst_start` applies
            self._ready, self._await_high, self._after = tail, False, burst
            return True
        last = len(run.data or b"") - 1
        self._ready = run.completion(last)
        self._await_high = bool(run.flag(last) & BE)
        self._after = None
        return True

    def _decode(self, ts: float, s: LineSettings) -> tuple[int, int]:
        """Sample one frame started at ``ts``: (value, flags)."""
        level = self._timeline.level_at
        bit = s.bit_ns
        t0 = ts + (0.5 + self.delay_bits) * bit  # centre of the start bit, as sampled
        value = 0
        for k in range(s.data_bits):
            if level(t0 + (k + 1) * bit):
                value |= 1 << k
        pos = 1 + s.data_bits
        flags = 0
        par_low = True
        if s.parity != "none":
            p = level(t0 + pos * bit)
            par_low = not p
            if self.kind == "pl011" and int(p) != s.parity_bit(value):
                flags |= PE
            pos += 1
        stop = level(t0 + pos * bit)
        if self.kind == "pl011" and not stop:
            flags |= FE
            if value == 0 and par_low:
                flags = BE | FE
        return value, flags

    def _held_low_from(self, ts: float, span: float) -> bool:
        """True when the line is DC-low from ``ts`` with no burst or glitch in the next ``span``."""
        tl = self._timeline
        if tl.dc_at(ts) or tl.glitch_overlaps(ts, ts + span):
            return False
        nxt = tl.next_change(ts)
        return nxt is None or nxt >= ts + span

    def _append_zero_stream(self, ts: float, s: LineSettings) -> None:
        """A mini UART on a line held low: 0x00 every sampled-frame time until the line moves."""
        bit = s.bit_ns
        pitch = (s.sampled_bits - 0.5 + self.delay_bits) * bit
        nxt = self._timeline.next_change(ts)
        count: int | None = None
        if nxt is not None:
            # characters whose last sample lies before the line moves
            count = max(1, math.floor((nxt - ts - EPS_NS) / pitch))
        run = Run(
            start0_ns=ts,
            first_ns=ts + pitch,
            pitch_ns=pitch,
            data=None,
            flags=None,
            count=count,
            ready_before=self._ready,
            await_before=self._await_high,
        )
        self._runs.append(run)
        if count is None:
            self._ready = math.inf  # until the line moves (`_invalidate` brings it back)
        else:
            self._ready = run.completion(count - 1)
            self._alarm.at(self._ready)

    def _append_burst(self, burst: Burst, s: LineSettings, first: int) -> None:
        """Accept characters ``first``.. of ``burst`` whole (every sample provably aligned)."""
        data = burst.chars[first : burst.count]
        if s.data_bits < 8:
            data = data.translate(_MASKS[s.data_bits])
        start0 = burst.char_start(first)
        run = Run(
            start0_ns=start0,
            first_ns=start0 + (s.sampled_bits - 0.5 + self.delay_bits) * s.bit_ns,
            pitch_ns=burst.pitch_ns,
            data=data,
            flags=None,
            count=len(data),
            ready_before=self._ready,
            await_before=self._await_high,
        )
        self._runs.append(run)
        self._ready = run.completion(len(data) - 1)
        self._after = burst

    def _next_burst_start(self) -> float | None:
        """Shortcut after a whole burst: the next one's start, when provably the next low.

        True when the line between is plain idle: the next burst starts after this one
        ends, no DC change and no glitch in between, and the DC level is high. Returns
        None and keeps the shortcut when no later burst is known yet (the line idles);
        returns None and drops it when the generic search must decide.
        """
        prev = self._after
        tl = self._timeline
        if prev is None or self._await_high or tl.glitches or not tl.dc_now():
            self._after = None
            return None
        if tl.dc_times and tl.dc_times[-1] > self._ready:
            self._after = None
            return None
        j = bisect.bisect_right(tl.burst_starts, prev.start_ns)
        if j == 0 or tl.bursts[j - 1] is not prev:
            self._after = None
            return None
        if j >= len(tl.bursts):
            return None  # nothing after it yet: idle
        nxt = tl.bursts[j]
        self._after = None
        if nxt.count == 0 or nxt.start_ns < prev.end_ns - EPS_NS or nxt.start_ns < self._ready:
            return None
        return nxt.start_ns

    def _prune(self) -> None:
        horizon = self._ready
        if self._runs:
            horizon = min(horizon, self._runs[0].ready_before)
        horizon = min(horizon, float(self.world.now_ns))
        if math.isfinite(horizon):
            self._timeline.prune(horizon - 1.0)


def _samples_align(tx: LineSettings, rx: LineSettings, delay_bits: float) -> bool:
    """True when a receiver ``rx`` decodes every frame of ``tx`` exactly (closed-form check).

    Same data bits and parity, and each of the receiver's sample instants
    ``(k + 0.5 + delay) * Trx`` after the start edge lands inside the sender's bit
    ``k``; the stop sample must land in the sender's stop bits, so the
    receiver is ready before the next start edge.
    """
    if tx.data_bits != rx.data_bits or tx.parity != rx.parity:
        return False
    ttx, trx = tx.bit_ns, rx.bit_ns
    m = rx.sampled_bits
    margin = 1e-3
    for k in range(m - 1):
        t = (k + 0.5 + delay_bits) * trx
        if not (k * ttx + margin < t < (k + 1) * ttx - margin):
            return False
    t_stop = (m - 0.5 + delay_bits) * trx
    return (m - 1) * ttx + margin < t_stop < tx.frame_ns - margin
