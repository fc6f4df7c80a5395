"""Garbage decoded ahead: a `GarbageRun` of characters over one burst, and `decode_burst`.

`decode_burst` walks a burst a transmitted character (slot) at a time through the memo
of `uart_rx_memo.Context`; a stretch of slots that each start and end on a start-bit
search (most of a burst of text) costs C-level loops only (``bytes.translate``,
``map``, ``b"".join``). The run keeps, per slot, which memo entry decided it, not one
instant per character: `GarbageRun.start` / ``completion`` recompute a character's
instants with the float operations uart_rx uses (see uart_rx_memo's module doc), and an
index from character to slot is built only when a character in the middle is asked for.

Forgetting characters decoded ahead (noise, a truncated burst, new settings) puts the
receiver back where the per-character decoder would be: `GarbageRun.reference_state`
replays that decoder's steps on the line as it was when the run was decoded.
"""

from __future__ import annotations

import bisect
from array import array
from itertools import accumulate, islice

from .uart_line import EPS_NS, Burst, LineTimeline
from .uart_rx_frame import BE, CharRun
from .uart_rx_memo import MAX_ABS_NS, START, Context, Desc, Entry, entry_state


class GarbageRun(CharRun):
    """Characters decoded ahead over one burst; instants recomputed on demand (see module doc).

    What the receiver uses of `uart_rx.Run` (``count``, ``taken``, ``data``, ``flags``,
    ``ready_before``, ``await_before``, ``completion``, ``count_until``, ``cut``), plus
    what forgetting characters decoded ahead needs.
    """

    __slots__ = (
        "_index",
        "abs_ts",
        "await_before",
        "burst",
        "ctx",
        "decoded",
        "decoded_count",
        "fast_ids",
        "fast_len",
        "pieces",
        "ready_before",
        "table",
        "taken",
    )

    def __init__(
        self,
        ctx: Context,
        burst: Burst,
        abs_ts: float,
        pieces: list[tuple[int, int, int]],
        tables: tuple[list[Entry], list[int], list[int]],
        data: bytes,
        flags: bytes | None,
        *,
        ready_before: float,
        await_before: bool,
    ) -> None:
        self.ctx = ctx
        self.burst = burst
        self.decoded_count = burst.count
        """The burst's length when decoded (a truncation may shorten it later)."""
        self.abs_ts = abs_ts
        self.pieces = pieces
        """``(i, j, id)``: slot ``i``'s memo entry ``id``, or (``id`` -1) the stretch of
        slots ``i``..``j - 1``, each its character's stretch entry."""
        self.table, self.fast_ids, self.fast_len = tables
        self.decoded = len(data)
        self._index: tuple[array[int], array[int], array[int]] | None = None
        self.data: bytes | None = data
        self.flags = flags
        self.count: int | None = len(data)
        self.taken = 0
        self.ready_before = ready_before
        self.await_before = await_before

    def _n(self) -> int:
        return self.count if self.count is not None else 0

    def index(self) -> tuple[array[int], array[int], array[int]]:
        """(slot, cumulative character count, entry id) per slot with characters; built on
        first use (most runs are taken whole and never asked for one character's time)."""
        if self._index is None:
            slots: array[int] = array("I")
            ends: array[int] = array("I")
            ids: array[int] = array("I")
            chars = self.burst.chars
            total = 0
            for i, j, eid in self.pieces:
                if eid >= 0:
                    slots.append(i)
                    total += len(self.table[eid].descs)
                    ends.append(total)
                    ids.append(eid)
                    continue
                seg = chars[i:j]
                slots.extend(range(i, j))
                ids.extend(map(self.fast_ids.__getitem__, seg))
                ends.extend(
                    islice(accumulate(map(self.fast_len.__getitem__, seg), initial=total), 1, None)
                )
                total = ends[-1]
            self._index = (slots, ends, ids)
        return self._index

    def _desc(self, j: int) -> tuple[int, Desc]:
        """(slot, how character ``j``'s start arises)."""
        pieces = self.pieces
        if j == 0:
            i, _, eid = pieces[0]
            return i, self.table[eid if eid >= 0 else self.fast_ids[self.burst.chars[i]]].descs[0]
        if j == self.decoded - 1 and self._index is None:
            _, z, eid = pieces[-1]
            slot = z - 1
            e = self.table[eid if eid >= 0 else self.fast_ids[self.burst.chars[slot]]]
            return slot, e.descs[-1]
        slots, ends, ids = self.index()
        p = bisect.bisect_right(ends, j)
        local = j - (ends[p - 1] if p else 0)
        return slots[p], self.table[ids[p]].descs[local]

    def start(self, j: int) -> float:
        """The instant character ``j``'s start bit was seen (uart_rx's ``ts``)."""
        slot, (dk, k, n) = self._desc(j)
        b = self.burst
        ci = slot + dk
        if k < 0:
            t = self.abs_ts
        elif k == 0:
            t = self._start_edge(ci)
        else:
            t = b.char_start(ci) + k * b.bit_ns
        c = self.ctx.C
        for _ in range(n):
            t = t + c
        return t

    def tail_ready(self) -> float | None:
        """Where the receiver is ready once the burst is over, when this run reaches its end
        (uart_rx's ``_ready`` after the search for the next start left the burst)."""
        i, _, eid = self.pieces[-1]
        if eid < 0:
            return None
        e = self.table[eid]
        if e.tail is None:
            return None
        boundary, dk, k, n, _ = e.tail
        if boundary:
            return self.burst.char_start(i) + k * self.burst.bit_ns
        if k < 0:
            t = self.abs_ts
        elif k == 0:
            t = self._start_edge(i + dk)
        else:
            t = self.burst.char_start(i + dk) + k * self.burst.bit_ns
        c = self.ctx.C
        for _ in range(n):
            t = t + c
        return t

    def _start_edge(self, ci: int) -> float:
        """Where uart_rx's search finds slot ``ci``'s start bit (see `entry_state`)."""
        b = self.burst
        t = b.char_start(ci)
        if ci > 0:
            t = max(b.char_start(ci - 1) + b.settings.frame_bits * b.bit_ns, t)
        return t

    def completion(self, j: int) -> float:
        return self.start(j) + self.ctx.C

    def flag(self, j: int) -> int:
        return self.flags[j] if self.flags is not None else 0

    def _first(self, pred_t: float, by_start: bool) -> int:
        """First index whose start (or completion) is at/after ``pred_t``; count if none."""
        lo, hi = 0, self._n()
        f = self.start if by_start else self.completion
        while lo < hi:
            mid = (lo + hi) // 2
            if f(mid) >= pred_t:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def first_index_from(self, t: float, by_start: bool) -> int | None:
        """As `uart_rx.UartReceiver._first_index_from` for one-character runs."""
        tol = 1e-9 * self.ctx.m * self.ctx.rxbit
        i = self._first(t - tol, by_start)
        return None if i >= self._n() else i

    def first_completing_after(self, t: float) -> int | None:
        """First character completing after ``t`` (decoded ahead of the per-character one)."""
        lo, hi = 0, self._n()
        while lo < hi:
            mid = (lo + hi) // 2
            if self.completion(mid) > t:
                hi = mid
            else:
                lo = mid + 1
        return None if lo >= self._n() else lo

    def count_until(self, t: float) -> int:
        """How many characters completed by ``t``."""
        lo, hi = 0, self._n()
        lim = t + EPS_NS
        if not hi or self.completion(hi - 1) <= lim:
            return hi
        if self.completion(0) > lim:
            return 0
        while lo < hi:
            mid = (lo + hi) // 2
            if self.completion(mid) <= lim:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def reference_state(self, keep: int, now: float) -> tuple[float, bool]:
        """(ready, awaiting high) of the per-character decoder at ``now`` with characters
        ``keep``.. forgotten: after character ``keep - 1``, the steps it had taken by now
        towards character ``keep`` (the wait for the line to go high after a break, a
        rejected start whose centre was high), replayed on the line as it was when this
        run was decoded, as that decoder took them then."""
        b = self.burst
        line = LineTimeline(initial=True)
        line.add_burst(_ClonedBurst(b, self.decoded_count) if b.count != self.decoded_count else b)
        ready = self.completion(keep - 1)
        await_high = bool(self.flag(keep - 1) & BE)
        target = self.start(keep) if keep < self._n() else None
        while True:
            if await_high:
                th = line.first_level(ready, True)
                if th is None:
                    break
                ready, await_high = th, False
            ts = line.first_level(ready, False)
            if ts is None or (target is not None and ts >= target):
                break
            mid = ts + self.ctx.H
            if mid > now + EPS_NS or not line.level_at(mid):
                break
            ready = mid
        return ready, await_high


def _ClonedBurst(b: Burst, count: int) -> Burst:  # noqa: N802 - reads as a constructor
    """``b`` as it was with ``count`` characters (before a truncation)."""
    return Burst(b.start_ns, b.settings, b.chars[:count], pitch_ns=b.pitch_ns, source=b.source)


def decode_burst(
    ctx: Context,
    burst: Burst,
    ts: float,
    *,
    ready_before: float,
    await_before: bool,
) -> GarbageRun | None:
    """Decode ``burst`` from a character started at ``ts`` as far as provably exact."""
    if not 0 <= ts < MAX_ABS_NS or burst.end_ns >= MAX_ABS_NS:
        return None
    i, state = entry_state(burst, ts)
    chars = burst.chars
    count = burst.count
    width = ctx.W
    pieces: list[tuple[int, int, int]] = []
    parts: list[bytes] = []
    fparts: list[bytes] = []
    base = i
    fast = chars[i : count - 1].translate(ctx.fast_mask)  # 1: a stretch character
    table, fast_ids, fast_len = ctx.table, ctx.fast_ids, ctx.fast_len
    while i < count:
        if state == START:
            j = fast.find(0, i - base)
            j = count - 1 if j < 0 else j + base
            if j > i:  # a stretch: the slots i..j-1 in C-level loops
                seg = chars[i:j]
                pieces.append((i, j, -1))
                parts.append(b"".join(map(ctx.fast_data.__getitem__, seg)))
                fparts.append(b"".join(map(ctx.fast_flags.__getitem__, seg)))
                i = j
                continue
            if i < count - 1 and not ctx._fast_tried[chars[i]]:
                ctx.learn_fast(chars[i])
        j = i + width
        end = j >= count
        sl = chars[i : count if end else j]
        eid = ctx.lookup(state, sl, end, ts - burst.char_start(i) if state[2] == -1 else 0.0)
        if ctx.table is not table:
            break  # the memo started over: this run keeps the table it began with
        e = table[eid]
        if e.data:
            pieces.append((i, i + 1, eid))
            parts.append(e.data)
            fparts.append(e.flags)
        if e.exit is None:
            break
        state = e.exit
        i += 1
    data = b"".join(parts)
    if not data:
        return None
    flags = b"".join(fparts)
    return GarbageRun(
        ctx,
        burst,
        ts,
        pieces,
        (table, fast_ids, fast_len),
        data,
        None if flags.count(0) == len(flags) else flags,
        ready_before=ready_before,
        await_before=await_before,
    )
