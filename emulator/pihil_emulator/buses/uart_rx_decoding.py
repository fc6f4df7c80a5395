"""The decoding half of `uart_rx.UartReceiver`: from the line's timeline to characters.

`ReceiverDecoding` advances the receiver over its input line: each burst is accepted whole
when its samples provably align (`_fast_ok`), decoded in one pass when they do not (garbage,
uart_rx_garbage), or character by character (noise, a pin driven by hand); a line held low
on a mini UART is an open-ended run of zeros. What it decoded ahead is forgotten from an
instant on (`_invalidate`) when the line or the settings change. The receiver's state it
works on is set up by `UartReceiver.__init__` (see uart_rx's docstring for the whole).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Callable

from ..world.clock import World
from .uart_line import EPS_NS, Alarm, Burst, LineSettings, LineTimeline
from .uart_rx_chars import _MASKS, BE, ReceiverKind, Run, _samples_align
from .uart_rx_frame import sample_frame
from .uart_rx_garbage import GarbageRun, decode_burst
from .uart_rx_memo import Context, context


class ReceiverDecoding:
    """Decoding of a `UartReceiver` (a base class: the state is the receiver's)."""

    segment_decoding: bool
    world: World
    kind: ReceiverKind
    delay_bits: float
    _settings: list[tuple[float, LineSettings]]
    _timeline: LineTimeline
    _ready: float
    _await_high: bool
    _runs: deque[Run | GarbageRun]
    _enabled: bool
    _alarm: Alarm
    _subscribers: list[Callable[[], None]]
    _fast_cache: dict[tuple[LineSettings, LineSettings], bool]
    _contexts: dict[tuple[object, ...], Context]
    _advances: int
    _after: Burst | None

    def settings_at(self, t: float) -> LineSettings:
        for since, s in reversed(self._settings):
            if since <= t + EPS_NS:
                return s
        return self._settings[0][1]

    def _notify(self) -> None:
        for cb in tuple(self._subscribers):
            cb()

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
        return sample_frame(level, t0, bit, s, self.kind == "pl011")

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
