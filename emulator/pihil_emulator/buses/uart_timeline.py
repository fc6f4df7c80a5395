"""The level of one UART line over time: DC history, bursts and noise glitches composed.

`LineTimeline.level_at` is the XOR of injected noise glitches (`Glitch`) with
either the burst covering ``t`` or, outside bursts, the net's own (DC) level
history: idle high, a break, a pin held low by a test. Receivers and VCD taps
keep one per line they follow (see `uart_line` for bursts and settings).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..world.edges import Edge

if TYPE_CHECKING:
    from .uart_line import Burst


@dataclass(frozen=True, slots=True)
class Glitch:
    """Noise: the line's level is inverted from ``start_ns`` to ``end_ns``."""

    start_ns: float
    end_ns: float


@dataclass
class LineTimeline:
    """The level of one line over time, composed from DC history, bursts and glitches.

    DC history is known up to now and assumed to hold after; bursts and
    glitches may lie in the future.
    """

    initial: bool = True
    dc_times: list[float] = field(default_factory=list)
    dc_levels: list[bool] = field(default_factory=list)
    bursts: list[Burst] = field(default_factory=list)
    burst_starts: list[float] = field(default_factory=list)
    glitches: list[Glitch] = field(default_factory=list)
    glitch_starts: list[float] = field(default_factory=list)

    # -- feeding -------------------------------------------------------------------
    def record_dc(self, t: float, level: bool) -> None:
        if self.dc_levels and self.dc_levels[-1] == level:
            return
        if not self.dc_levels and level == self.initial:
            return
        self.dc_times.append(t)
        self.dc_levels.append(level)

    def dc_now(self) -> bool:
        return self.dc_levels[-1] if self.dc_levels else self.initial

    def add_burst(self, burst: Burst) -> None:
        i = bisect.bisect_right(self.burst_starts, burst.start_ns)
        self.bursts.insert(i, burst)
        self.burst_starts.insert(i, burst.start_ns)

    def add_glitches(self, glitches: Iterable[Glitch]) -> None:
        """Add noise spans; overlapping spans merge (the line is inverted while any is active)."""
        merged: list[Glitch] = []
        for g in sorted([*self.glitches, *glitches], key=lambda g: g.start_ns):
            if g.end_ns <= g.start_ns:
                continue
            if merged and g.start_ns <= merged[-1].end_ns:
                last = merged[-1]
                merged[-1] = Glitch(last.start_ns, max(last.end_ns, g.end_ns))
            else:
                merged.append(g)
        self.glitches = merged
        self.glitch_starts = [g.start_ns for g in merged]

    def prune(self, before: float) -> None:
        """Forget what ended before ``before`` (nobody will look there again)."""
        k = bisect.bisect_right(self.dc_times, before) - 1
        if k > 0:
            self.initial = self.dc_levels[k - 1]
            del self.dc_times[:k]
            del self.dc_levels[:k]
        n = 0
        while n < len(self.bursts) and self.bursts[n].end_ns < before:
            n += 1
        if n:
            del self.bursts[:n]
            del self.burst_starts[:n]
        n = 0
        while n < len(self.glitches) and self.glitches[n].end_ns < before:
            n += 1
        if n:
            del self.glitches[:n]
            del self.glitch_starts[:n]

    # -- queries ---------------------------------------------------------------------
    def dc_at(self, t: float) -> bool:
        k = bisect.bisect_right(self.dc_times, t) - 1
        return self.dc_levels[k] if k >= 0 else self.initial

    def burst_at(self, t: float) -> Burst | None:
        k = bisect.bisect_right(self.burst_starts, t) - 1
        # bursts on one line do not overlap; look one back for a truncated neighbour
        for j in range(k, max(k - 2, -1), -1):
            b = self.bursts[j]
            if b.covers(t):
                return b
        return None

    def glitched(self, t: float) -> bool:
        k = bisect.bisect_right(self.glitch_starts, t) - 1
        return k >= 0 and t < self.glitches[k].end_ns  # glitches never overlap

    def level_at(self, t: float) -> bool:
        b = self.burst_at(t) if self.bursts else None
        level = b.level_at(t) if b is not None else self.dc_at(t)
        if self.glitches and self.glitched(t):
            level = not level
        return level

    def next_change(self, t: float) -> float | None:
        """The first instant after ``t`` where the level may change (None: not before new input)."""
        cands: list[float] = []
        k = bisect.bisect_right(self.dc_times, t)
        if k < len(self.dc_times):
            cands.append(self.dc_times[k])
        if self.bursts:
            b = self.burst_at(t)
            if b is not None:
                nb = b.next_boundary(t)
                cands.append(nb if nb is not None else b.end_ns)
            j = bisect.bisect_right(self.burst_starts, t)
            if j < len(self.bursts):
                cands.append(self.bursts[j].start_ns)
        if self.glitches:
            j = bisect.bisect_right(self.glitch_starts, t)
            if j < len(self.glitches):
                cands.append(self.glitches[j].start_ns)
            if j > 0 and self.glitches[j - 1].end_ns > t:
                cands.append(self.glitches[j - 1].end_ns)
        return min(cands) if cands else None

    def first_level(self, t: float, level: bool) -> float | None:
        """The first instant at or after ``t`` where the line is at ``level`` (None if not known)."""
        while True:
            if self.level_at(t) == level:
                return t
            nxt = self.next_change(t)
            if nxt is None:
                return None
            t = nxt if nxt > t else math.nextafter(t, math.inf)

    def edges(self, net: str, t0: float, t1: float, level: bool) -> tuple[list[Edge], bool]:
        """Changes of the composed level in ``[t0, t1]``, from ``level`` just before ``t0``."""
        fast = self._burst_edges(net, t0, t1, level)
        if fast is not None:
            return fast
        return self._walk_edges(net, t0, t1, level)

    def _burst_edges(
        self, net: str, t0: float, t1: float, level: bool
    ) -> tuple[list[Edge], bool] | None:
        """`_walk_edges` in one pass over the bit cells, for the common window: only
        bursts one after the other on an idle-high line (no DC change, no glitch); None
        otherwise. The instants are the ones the walk visits: ``char_start(i) + k * bit_ns``
        for bit ``k``, a start bit at the later of its character's start and the end of
        the previous frame (the walk reaches the previous frame's end first)."""
        if self.glitches and (
            self.glitch_overlaps(t0, t1) or self.glitched(t0) or self.glitched(t1)
        ):
            return None
        k = bisect.bisect_right(self.dc_times, t0)
        if (k < len(self.dc_times) and self.dc_times[k] <= t1) or not self.dc_at(t0):
            return None
        bursts = self.bursts
        first = max(0, bisect.bisect_right(self.burst_starts, t0) - 2)
        window: list[Burst] = []
        prev_end = -math.inf
        for b in bursts[first:]:
            if b.start_ns > t1:
                break
            if b.end_ns + 1.0 < t0 and not window:
                prev_end = b.end_ns
                continue
            if b.start_ns < prev_end - 1.0 or b.count < 1:
                return None  # overlapping bursts (two senders): the walk's business
            window.append(b)
            prev_end = b.end_ns
        out: list[Edge] = []
        now = self.level_at(t0)
        if now != level:
            out.append(Edge(round(t0), net, now))
        for b in window:
            settings = b.settings
            fb = settings.frame_bits
            bit = b.bit_ns
            cell = True  # the line is high before a burst
            frame_end = -math.inf
            for i in range(b.count):
                base = b.char_start(i)
                if base + b.frame_ns < t0 and i + 1 < b.count:
                    frame_end = base + fb * bit
                    continue  # wholly before the window, and it ends high
                if base > t1:
                    break
                word = settings.frame_word(b.chars[i])
                for k in range(fb):
                    value = bool((word >> k) & 1)
                    if value == cell:
                        continue
                    cell = value
                    t = max(base, frame_end) if k == 0 else base + k * bit
                    if t0 < t <= t1:
                        out.append(Edge(round(t), net, value))
                frame_end = base + fb * bit
        return out, out[-1].level if out else now

    def _walk_edges(self, net: str, t0: float, t1: float, level: bool) -> tuple[list[Edge], bool]:
        """The reference: candidate instant by candidate instant (`next_change`)."""
        out: list[Edge] = []
        t = t0
        if self.level_at(t0) != level:
            level = not level
            out.append(Edge(round(t0), net, level))
        while True:
            nxt = self.next_change(t)
            if nxt is None or nxt > t1:
                return out, level
            t = nxt if nxt > t else math.nextafter(t, math.inf)
            now = self.level_at(t)
            if now != level:
                level = now
                out.append(Edge(round(t), net, now))

    def glitch_overlaps(self, t0: float, t1: float) -> bool:
        """True when any glitch touches ``[t0, t1]``."""
        j = bisect.bisect_right(self.glitch_starts, t1)
        return j > 0 and self.glitches[j - 1].end_ns > t0  # sorted and disjoint
