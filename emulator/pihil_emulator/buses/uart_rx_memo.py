"""Whole-burst decoding for a receiver whose samples do not line up with the sender's bits.

A receiver at the wrong baud rate or format (a 9600-baud GPS into a UART left at
115200) sees garbage: framing errors, breaks, wrong bytes. `uart_rx.UartReceiver`
decodes those one character at a time, waking the world at each character's
completion. Here the same decoder runs over a whole `Burst` at once, ahead of time,
because the line during a burst is known in advance: a known sequence of frames at
a known bit time.

What the receiver does while one transmitted character (a *slot*: its start edge to
the next character's start edge) goes by depends only on that character's frame
and the next few (an RX frame may reach into them), on the receiver state entering
the slot (searching from the slot's start, or a start/ready instant at a symbolic
offset), and on the two settings. That is memoised: ``(state, characters) ->
(received values and flags, their start instants, exit state)``, so a burst costs one
dictionary look-up per transmitted character (or less: uart_rx_garbage), and the world
is woken about once per burst instead of once per received character.

Exactly the characters the per-character decoder gives. Its decisions are float
comparisons of absolute instants with the sender's bit cells; here they are made on
offsets from the slot's start, and whenever a sample (or the receiver's ready
instant) lies within `MARGIN_NS` of a bit boundary, where float rounding of absolute
instants could decide either way, the burst is left to the per-character decoder
from there. Instants are not stored: a received character keeps *how* its start
instant arises (a sender's bit boundary ``char_start(i) + k * bit``, a character's
start edge ``max(previous frame's end, char_start(i))``, or the previous character's
completion, ``n`` times ``(m - 0.5 + delay) * bit`` later), and its completion is
recomputed with the same float operations in the same order as `uart_rx` does.

Sources: the sampling rules are uart_rx's (soc-facts §4.2); the waveform is
uart_line's `Burst` (``level_at``, ``next_boundary``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .uart_rx_frame import BE, sample_frame

if TYPE_CHECKING:
    from .uart_line import Burst, LineSettings


MARGIN_NS = 1.0
"""A sample this close to a sender's bit boundary is left to the per-character decoder."""
MAX_ABS_NS = 1e14
"""Beyond ~28 simulated hours float instants lose the precision `MARGIN_NS` relies on."""
MEMO_LIMIT = 8192
"""Entries kept per settings pair before the memo starts over (a few MB at most)."""
MEMO_WIDTH = 4
"""Slots are memoised only when a decision looks at no more than this many characters (a
receiver much slower than the sender sees a dozen per frame: they never repeat)."""
CONTEXT_LIMIT = 8

State = tuple[str, int, int, int, int, int]
START: State = ("T", 0, 0, 0, 0, 0)
"""A character starts at this slot's start edge (the search for a start bit crossed into it)."""
"""``("T", dk, k, n, 0, 0)``: a character starts at anchor ``(dk, k)`` plus ``n`` chained frames;
``("R", dk, k, n, h, await_high)``: ready at that anchor + ``n`` frames (+ the half-bit
validation offset when ``h``). ``dk`` is the anchor's slot relative to this one, ``k`` its
bit (0: the slot's start edge; -1: an absolute instant kept by the run)."""

Desc = tuple[int, int, int]
"""How a received character's start instant arises: ``(dk, k, n)`` as in `State`."""


@dataclass(frozen=True, slots=True)
class Entry:
    """What the receiver does over one transmitted character (one memo entry)."""

    data: bytes
    flags: bytes
    descs: tuple[Desc, ...]
    exit: State | None
    """State entering the next slot; None: stop here (ambiguous, or the burst's tail)."""
    tail: tuple[int, int, int, int, int] | None = None
    """The burst ends in this slot with no further start in it: the receiver's ready
    instant then, ``(1, 0, k, 0, 0)`` the slot's bit boundary ``k`` (the line went high
    after a break), or ``(0, dk, k, n, 0)`` a completion as in `State`."""


class _Stop(Exception):
    """A sample too close to a bit boundary, or past what the window knows."""


class Context:
    """The decoder for one (sender settings, pitch, receiver settings, kind, delay)."""

    def __init__(
        self, tx: LineSettings, pitch: float, rx: LineSettings, kind: str, delay: float
    ) -> None:
        self.words = [tx.frame_word(v) for v in range(256)]
        self.fb = tx.frame_bits
        self.txbit = tx.bit_ns
        self.pitch = pitch
        self.rx = rx
        self.pl011 = kind == "pl011"
        self.rxbit = rx.bit_ns
        self.m = rx.sampled_bits
        self.H = (0.5 + delay) * self.rxbit  # start-bit validation offset, as uart_rx computes
        self.C = (self.m - 0.5 + delay) * self.rxbit  # start to completion, as uart_rx computes
        self.W = int((self.C + 2 * self.rxbit) // pitch) + 2
        """Slots a decision in one slot may look at (this one and the next ``W - 1``)."""
        self.memo: dict[tuple[State, bytes, bool], int] = {}
        """(state, characters, burst ends in them) -> index into `table`."""
        self.table: list[Entry] = []
        # From `START`, characters whose slot alone decides and that end searching into the
        # next slot: a stretch of them is decoded with C-level loops (`decode_burst`).
        self.fast_mask = bytearray(256)
        self.fast_ids = [0] * 256
        self.fast_len = [0] * 256
        self.fast_data = [b""] * 256
        self.fast_flags = [b""] * 256
        self._fast_tried = bytearray(256)

    def lookup(self, state: State, chars: bytes, ends: bool, abs_rel: float) -> int:
        """The entry (its index in `table`) for this slot, memoised when it can repeat.

        May start the memo over (`reset`): callers compare `table` before using the index.
        """
        cache = state[2] != -1 and self.W <= MEMO_WIDTH
        if cache:
            key = (state, chars, ends)
            got = self.memo.get(key)
            if got is not None:
                return got
        if len(self.table) >= MEMO_LIMIT:
            self.reset()
        got = self.add(self.compute(state, chars, ends, abs_rel))
        if cache:
            self.memo[key] = got
        return got

    def add(self, entry: Entry) -> int:
        self.table.append(entry)
        return len(self.table) - 1

    def reset(self) -> None:
        """Start the memo over (runs keep the table they were decoded with)."""
        self.memo = {}
        self.table = []
        self.fast_mask = bytearray(256)
        self.fast_ids = [0] * 256  # new lists: runs keep the ones they were decoded with
        self.fast_len = [0] * 256
        self._fast_tried = bytearray(256)

    def learn_fast(self, c: int) -> None:
        """Whether character ``c`` from `START` is one of the stretch characters."""
        self._fast_tried[c] = 1
        e = self.compute(START, bytes((c,)), False, 0.0)
        if e.exit == START and e.data:
            self.fast_ids[c] = self.add(e)
            self.fast_len[c] = len(e.data)
            self.fast_data[c] = e.data
            self.fast_flags[c] = e.flags
            self.fast_mask[c] = 1

    # -- the line, relative to the current slot's start edge ------------------------------
    def _cell(self, v: float, words: list[int], ends: bool) -> tuple[int, int]:
        """(slot, bit) holding relative instant ``v``; bit >= frame bits: the idle gap."""
        pitch = self.pitch
        s = int(v // pitch)
        r = v - s * pitch
        if s < 0 or s >= len(words) or r < MARGIN_NS or pitch - r < MARGIN_NS:
            raise _Stop
        k = int(r // self.txbit)
        if k >= self.fb:
            if ends and s == len(words) - 1:
                raise _Stop  # past the burst's end: the DC level or another burst decides
            if r - self.fb * self.txbit < MARGIN_NS:
                raise _Stop
            return s, self.fb
        c = r - k * self.txbit
        if c < MARGIN_NS or self.txbit - c < MARGIN_NS:
            raise _Stop
        return s, k

    def _level(self, s: int, k: int, words: list[int]) -> int:
        return 1 if k >= self.fb else (words[s] >> k) & 1

    def _rel(self, dk: int, k: int, n: int, h: int, abs_rel: float) -> float:
        v = abs_rel if k < 0 else dk * self.pitch + k * self.txbit
        return v + n * self.C + h * self.H

    # -- one slot --------------------------------------------------------------------------
    def compute(self, state: State, chars: bytes, ends: bool, abs_rel: float) -> Entry:
        """Run the receiver over the slot of ``chars[0]`` (``chars[1:]`` follow it)."""
        words = [self.words[c] for c in chars]
        values: list[int] = []
        flags: list[int] = []
        descs: list[Desc] = []
        exit_state: State | None = None
        tail: tuple[int, int, int, int, int] | None = None
        fb = self.fb
        ts: Desc | None
        ready: tuple[int, int, int, int] = (0, 0, 0, 0)
        await_high = False
        kind, dk, k, n, h, aw = state
        if kind == "T":
            ts = (dk, k, n)
        else:
            ts = None
            ready = (dk, k, n, h)
            await_high = bool(aw)
        try:
            while True:
                if ts is None:
                    v = self._rel(*ready, abs_rel)
                    if v >= self.pitch - MARGIN_NS:
                        if v < self.pitch + MARGIN_NS:
                            raise _Stop
                        dk, k, n, h = ready
                        exit_state = ("R", dk - 1 if k >= 0 else dk, k, n, h, int(await_high))
                        break
                    s, kc = self._cell(v, words, ends)
                    high = self._level(s, kc, words)
                    walk_from = kc
                    th_bit = -1
                    if await_high:
                        await_high = False
                        if not high:  # th: the first high bit after the ready instant
                            walk_from = next(
                                (j for j in range(kc + 1, fb) if (words[0] >> j) & 1), -1
                            )
                            if walk_from < 0:
                                raise _Stop
                            high = 1
                            th_bit = walk_from
                    if not high:
                        if ready[3]:
                            raise _Stop  # a rejected start's centre is high by construction
                        ts = (ready[0], ready[1], ready[2])  # chained: starts where it got ready
                    else:
                        low = next(
                            (j for j in range(walk_from + 1, fb) if not (words[0] >> j) & 1), -1
                        )
                        if low < 0:  # the next start edge is the next slot's
                            if len(words) < 2 and ends:
                                if ready[3]:
                                    raise _Stop  # uart_rx takes that step only once it is past
                                tail = (1, 0, th_bit, 0, 0) if th_bit >= 0 else (0, *ready)
                                raise _Stop
                            exit_state = START
                            break
                        ts = (0, low, 0)
                dk, k, n = ts
                t = self._rel(dk, k, n, 0, abs_rel)
                t0 = t + self.H
                s, kc = self._cell(t0, words, ends)
                if self._level(s, kc, words):
                    ready = (dk, k, n, 1)  # a glitch, not a start bit
                    ts = None
                    continue
                value, fl = self._sample(t0, words, ends)
                values.append(value)
                flags.append(fl)
                descs.append(ts)
                ready = (dk, k, n + 1, 0)
                await_high = bool(fl & BE)
                ts = None
        except _Stop:
            exit_state = None
        return Entry(bytes(values), bytes(flags), tuple(descs), exit_state, tail)

    def _sample(self, t0: float, words: list[int], ends: bool) -> tuple[int, int]:
        """uart_rx ``_decode`` on relative instants: (value, flags)."""
        rx = self.rx
        bit = self.rxbit

        def level(t: float) -> int:
            s, k = self._cell(t, words, ends)
            return self._level(s, k, words)

        return sample_frame(level, t0, bit, rx, self.pl011)


def context(
    cache: dict[tuple[object, ...], Context],
    tx: LineSettings,
    pitch: float,
    rx: LineSettings,
    kind: str,
    delay: float,
) -> Context:
    """The decoder for these settings from ``cache`` (one per receiver: no sharing between
    threads), made on first use; at most `CONTEXT_LIMIT` are kept."""
    key = (tx, pitch, rx, kind, delay)
    ctx = cache.get(key)
    if ctx is None:
        if len(cache) >= CONTEXT_LIMIT:
            cache.clear()
        ctx = cache[key] = Context(tx, pitch, rx, kind, delay)
    return ctx


def entry_state(burst: Burst, ts: float) -> tuple[int, State]:
    """(slot, state) for a character the receiver starts at ``ts`` inside ``burst``."""
    i = burst.index_at(ts)
    c = burst.char_start(i)
    if ts == c and i == 0:
        return i, ("T", 0, 0, 0, 0, 0)
    if i > 0 and ts == max(burst.char_start(i - 1) + burst.settings.frame_bits * burst.bit_ns, c):
        return i, ("T", 0, 0, 0, 0, 0)
    k = int((ts - c) // burst.bit_ns)
    for j in (k - 1, k, k + 1):
        if 0 < j < burst.settings.frame_bits and c + j * burst.bit_ns == ts:
            return i, ("T", 0, j, 0, 0, 0)
    return i, ("T", 0, -1, 0, 0, 0)
