"""Closed-form BSC transfers as compact waveform data for a VCD recorder (issue 13).

`I2cWave` is what the BSC closed form (soc/bsc_wave.py over buses/i2c_closed_form.py's
`FastBus`) hands a `VcdRecorder` (vcd.py, the one VCD writer) when VCD recorders are the
only observers of SDA/SCL: the transfer's bytes as nine-bit cells, the master's timing
(core clock, CDIV/2, FEDL) and its start time, instead of an `Edge` per level change.
The twin of vcd_spi.py's `SpiWave`. `I2cWave.edges` is the reference: exactly the level
changes the pin-level engine (buses/i2c_wire.py `PinWire` driving `BscSequencer`, the
`I2cSlave` machines through the hub) puts on the nets for the same transfer, in the
order a recorder sees them; `I2cWave.render` writes the same text in bulk.

The pin-level rules it follows (buses/i2c_timing.py `BscSequencer`, buses/i2c_slave.py):

- START: SDA falls at ``t0``, SCL half a period later (``BscSequencer.start``);
- each of the nine bits of a byte: SCL falls at tick ``k`` (the master's grid
  ``t0 + k·10⁹ // f_core``), the master changes SDA ``FEDL`` ticks later if its drive
  changes, releases SCL at ``k + CDIV/2`` and pulls it down at ``k + CDIV`` (no slave
  stretches: the closed form runs only then); soc-facts §2 DEL;
- a slave changes SDA at the SCL fall that opens a bit (its ACK, its read bits, its
  release): `I2cSlave._fall`; at the fall that ends its ACK it lets go first and then
  drives its first read bit (`_after_our_ack`: a 0→1→0 glitch within the instant when
  that bit is 0, which a recorder on the real nets records). At that instant the recorder sees the slave's SDA change
  before the SCL fall when the slave hub watches SCL before the recorder
  (``sda_first``: watchers run in the order they were added, and the hub drives SDA
  from inside its SCL watcher), after it otherwise;
- repeated START: SDA up at ``k + FEDL``, SCL up at ``k + H``, SDA down at ``k + 2H``,
  SCL down at ``k + 3H``; STOP: SDA down at ``k + FEDL``, SCL up at ``k + H``, SDA up
  at ``k + 2H`` (``BscSequencer.repeated_start``/``stop``, H = CDIV/2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .world.clock import NS_PER_S
from .world.edges import Edge

REPEATED_START = -1
"""The cell code of a repeated START between two messages."""

OPEN, FALL, STOP = 0, 1, 2
"""How an `I2cWave` ends: after the last bit's SCL rise (the next piece begins with the
fall), with that fall (the virtual bus takes over from there), or with the STOP."""


def write_code(value: int, ack: bool) -> int:
    """The code of a byte the master sends (an address or data byte): its bits out, SDA
    released for the ACK clock, where the slave pulls SDA low when it ACKs."""
    return (value << 1 | 1) << 9 | int(ack)


def read_code(value: int, ack: bool) -> int:
    """The code of a byte the master reads: SDA released for the eight data bits, which the
    slave pulls low where ``value`` has a 0, then the master's own ACK (low) or NACK."""
    return (0x1FE | (not ack)) << 9 | (value ^ 0xFF) << 1


@dataclass(frozen=True)
class I2cWave:
    """One closed-form BSC transfer, or a piece of one, as data.

    ``codes``: per byte, ``master_out << 9 | slave_low`` over its nine bit cells (the
    first bit in bit 8 of each: master_out 1 releases SDA, slave_low 1 pulls it low),
    or `REPEATED_START`. ``end``: `OPEN`, `FALL` or `STOP`. A wave with ``start`` begins
    with the START at ``t0_ns``; one without begins with the SCL fall at tick ``k0`` of the
    master's grid from ``t0_ns`` (the piece before it ended `OPEN`), the master (``m_low``)
    and the slave (``s_low``) holding SDA as that piece left it (soc/bsc_wave.py hands the
    register path's transfers over piece by piece, each as the controller makes it).
    """

    sda: str
    scl: str
    t0_ns: int
    core_clock_hz: int
    half: int
    fedl: int
    codes: tuple[int, ...]
    end: int
    sda_first: bool
    start: bool = True
    k0: int = 0
    m_low: bool = False
    s_low: bool = False
    s_end: bool = False
    """At a `FALL` end: the slave drives SDA low after that fall (the first bit of the byte
    it has loaded, when the virtual bus takes over in the middle of a read)."""
    _count: tuple[dict[str, str], int] | None = field(
        default=None, init=False, compare=False, repr=False
    )

    def _ticks(self) -> int:
        """Ticks from ``t0`` to the SCL fall after the last byte."""
        h = self.half
        n_sr = self.codes.count(REPEATED_START)
        return (h if self.start else self.k0) + 18 * h * (len(self.codes) - n_sr) + 3 * h * n_sr

    @property
    def last_ns(self) -> int:
        k = self._ticks() + (-self.half, 0, 2 * self.half)[self.end]
        return self.t0_ns + k * NS_PER_S // self.core_clock_hz

    @property
    def held(self) -> int:
        """What the wave counts for in a recorder's held changes (its bytes)."""
        return len(self.codes)

    def recordable(self, recorded: dict[str, str]) -> bool:
        """Whether a recorder of ``recorded`` keeps it as data (it records SDA or SCL)."""
        return self.sda in recorded or self.scl in recorded

    def first_ns(self, recorded: dict[str, str]) -> int:
        """The earliest instant any of its edges can have (the START, or the first fall)."""
        if self.start:
            return self.t0_ns
        return self.t0_ns + self.k0 * NS_PER_S // self.core_clock_hz

    def edges(self) -> list[Edge]:
        """The level changes on SDA and SCL one by one, in the order a recorder sees them
        (the reference of `render`; see the module docstring)."""
        out: list[Edge] = []
        append = out.append
        sda_name, scl_name = self.sda, self.scl
        t0, f, h, fedl = self.t0_ns, self.core_clock_hz, self.half, self.fedl
        sda_first = self.sda_first
        m_low, s_low = self.m_low, self.s_low
        sda = not (m_low or s_low)

        def at(k: int) -> int:
            return t0 + k * NS_PER_S // f

        def put_sda(t: int) -> None:
            nonlocal sda
            level = not (m_low or s_low)
            if level != sda:
                sda = level
                append(Edge(t, sda_name, level))

        def fall(t: int, slave_low: bool, boundary: bool) -> None:
            nonlocal s_low
            if not sda_first:
                append(Edge(t, scl_name, False))
            if boundary and s_low:
                s_low = False  # the slave lets go of its ACK before it drives anything
                put_sda(t)
            s_low = slave_low
            put_sda(t)
            if sda_first:
                append(Edge(t, scl_name, False))

        if self.start:
            m_low = True  # START
            put_sda(t0)
            k = h
        else:
            k = self.k0
        for code in self.codes:
            if code == REPEATED_START:
                fall(at(k), False, True)
                m_low = False
                put_sda(at(k + fedl))
                append(Edge(at(k + h), scl_name, True))
                m_low = True
                put_sda(at(k + 2 * h))
                k += 3 * h
                continue
            outs, mask = code >> 9, code & 0x1FF
            for i in range(8, -1, -1):
                fall(at(k), bool(mask >> i & 1), i == 8)
                low = not outs >> i & 1
                if low != m_low:
                    m_low = low
                    put_sda(at(k + fedl))
                append(Edge(at(k + h), scl_name, True))
                k += 2 * h
        if self.end == OPEN:
            return out
        fall(at(k), self.s_end and self.end == FALL, True)
        if self.end == STOP:
            if not m_low:
                m_low = True
                put_sda(at(k + fedl))
            append(Edge(at(k + h), scl_name, True))
            m_low = False
            put_sda(at(k + 2 * h))
        return out

    def edge_count(self, recorded: dict[str, str]) -> int:
        """How many of `edges` are on nets of ``recorded`` (kept by `render` for its ids)."""
        kept = self._count
        if kept is not None and kept[0] is recorded:
            return kept[1]
        return sum(e.net in recorded for e in self.edges())

    def render(
        self, ids: dict[str, str], last: dict[str, bool], t_prev: int, shift: int
    ) -> tuple[str, int] | None:
        """The VCD text `VcdRecorder` writes for `edges` (``#t`` before the first change of
        each instant), from the recorder's state (``last`` levels, updated here; the last
        ``#t`` written; its time shift), and the new last ``#t``. None when the state is not
        the one the bulk rendering assumes (both lines high on the recording, the first
        instant after the last ``#t``, FEDL and the rest of the half period each at least
        1 ns so that no two of a bit's instants meet): the recorder then writes `edges`.

        Each bit cell is three instants (SCL fall with the slave's SDA change, FEDL with
        the master's, SCL rise); a byte's text comes from a table kept per line codes and
        state, the instants' times by ``range`` arithmetic where a tick count is a whole
        number of ns, and one ``%`` format puts them in."""
        f, h, fedl = self.core_clock_hz, self.half, self.fedl
        t0 = self.t0_ns + shift
        sda_id, scl_id = ids.get(self.sda), ids.get(self.scl)
        m, s = self.m_low, self.s_low
        if (
            t_prev >= self.first_ns(ids) + shift
            or (sda_id is None and scl_id is None)
            or fedl * NS_PER_S < f
            or (h - fedl) * NS_PER_S < f
            or (sda_id is not None and last[self.sda] is (m or s))
            or (scl_id is not None and not last[self.scl])
        ):
            return None
        lines = _Lines(sda_id, scl_id, self.sda_first)
        pieces: list[str] = []
        times: list[int] = []
        if self.start:
            pieces.append(lines.slot(lines.sda[0]))  # START: SDA falls
            times.append(t0)
            m = True  # the master holds SDA low
        k = h if self.start else self.k0  # ticks from t0 of the next SCL fall
        exact = h * NS_PER_S % f == 0 and fedl * NS_PER_S % f == 0
        big_h, big_f = h * NS_PER_S // f, fedl * NS_PER_S // f
        codes = self.codes
        n, i = len(codes), 0
        while i < n:
            code = codes[i]
            if code == REPEATED_START:
                piece, m, s = lines.condition(m, s, False)
                pieces.append(piece)
                times.extend(t0 + x * NS_PER_S // f for x in (k, k + fedl, k + h, k + 2 * h))
                k += 3 * h
                i += 1
                continue
            j = i
            while j < n and codes[j] != REPEATED_START:
                piece, m, s = lines.byte(m, s, codes[j])
                pieces.append(piece)
                j += 1
            cells = 9 * (j - i)
            if exact:
                first = t0 + k * NS_PER_S // f
                step = 2 * big_h
                seg = [0] * (3 * cells)
                seg[0::3] = range(first, first + cells * step, step)
                seg[1::3] = range(first + big_f, first + big_f + cells * step, step)
                seg[2::3] = range(first + big_h, first + big_h + cells * step, step)
                times.extend(seg)
            else:
                times.extend(
                    t0 + (k + 2 * h * c + off) * NS_PER_S // f
                    for c in range(cells)
                    for off in (0, fedl, h)
                )
            k += 2 * h * cells
            i = j
        if self.end == STOP:
            piece, m, s = lines.condition(m, s, True)
            pieces.append(piece)
            times.extend(t0 + x * NS_PER_S // f for x in (k, k + fedl, k + h, k + 2 * h))
        elif self.end == FALL:
            piece, m, s = lines.end(m, s, self.s_end)
            pieces.append(piece)
            times.append(t0 + k * NS_PER_S // f)
        text_format = "".join(pieces)
        if "#" not in text_format:
            return None  # nothing changes on the recorded lines (an OPEN piece of SDA alone)
        # the last instant with a change: the slots after the last stamp print nothing
        unstamped = text_format.count(_NO_STAMP, text_format.rfind(_STAMP))
        t_last = times[-1 - unstamped]
        text = text_format % tuple(times)
        if sda_id is not None:
            last[self.sda] = not (m or s)
        if scl_id is not None:
            last[self.scl] = self.end != FALL
        changes = text.count("\n") - text.count("\n#") - 1  # the text starts with a stamp
        object.__setattr__(self, "_count", (ids, changes))
        return text, t_last


_STAMP = "#%d\n"
_NO_STAMP = "%.0s"  # takes an instant's time and prints nothing: no change then
_CACHE_LIMIT = 4096


class _Lines:
    """The VCD lines of one recorder's SDA/SCL codes, and the text of bit cells, bytes,
    conditions by the line state before them (``m``: the master holds SDA low, ``s``: the
    slave does), with the state after; bytes kept in `_BYTES` across waves."""

    def __init__(self, sda_id: str | None, scl_id: str | None, sda_first: bool) -> None:
        def line(level: int, code: str | None) -> str:
            return "" if code is None else f"{level}{code.replace('%', '%%')}\n"

        self.sda = (line(0, sda_id), line(1, sda_id))
        self.scl = (line(0, scl_id), line(1, scl_id))
        self.sda_first = sda_first
        self.key = (self.sda[0], self.scl[0], sda_first)

    @staticmethod
    def slot(lines: str) -> str:
        return _STAMP + lines if lines else _NO_STAMP

    def _fall(self, m: bool, s: bool, s_new: bool, boundary: bool) -> tuple[str, bool]:
        """The lines at an SCL fall: the slave's SDA change (letting go of its ACK first at
        a byte boundary) and the fall, in the recorder's order; and the slave's new state."""
        out = "" if self.sda_first else self.scl[0]
        level = not (m or s)
        if boundary and s:
            s = False
            if not m:
                level = True
                out += self.sda[1]
        s = s_new
        if (not (m or s)) != level:
            out += self.sda[int(not (m or s))]
        if self.sda_first:
            out += self.scl[0]
        return out, s

    def _master(self, m: bool, s: bool, m_new: bool) -> str:
        """The master's SDA change, if the line moves."""
        if m_new == m or s:
            return ""
        return self.sda[int(not m_new)]

    def byte(self, m: bool, s: bool, code: int) -> tuple[str, bool, bool]:
        key = (self.key, m, s, code)
        kept = _BYTES.get(key)
        if kept is not None:
            return kept
        outs, mask = code >> 9, code & 0x1FF
        text = []
        for i in range(8, -1, -1):
            fall, s = self._fall(m, s, bool(mask >> i & 1), i == 8)
            m_new = not outs >> i & 1
            text.append(self.slot(fall) + self.slot(self._master(m, s, m_new)))
            text.append(self.slot(self.scl[1]))
            m = m_new
        if len(_BYTES) >= _CACHE_LIMIT:
            _BYTES.clear()
        kept = _BYTES[key] = ("".join(text), m, s)
        return kept

    def condition(self, m: bool, s: bool, stop: bool) -> tuple[str, bool, bool]:
        """A repeated START (SDA up, SCL up, SDA down) or a STOP (SDA down, SCL up, SDA up)
        from an SCL fall, over four instants."""
        fall, s = self._fall(m, s, False, True)
        first = self._master(m, s, stop)
        return (
            self.slot(fall)
            + self.slot(first)
            + self.slot(self.scl[1])
            + self.slot(self._master(stop, s, not stop)),
            not stop,
            s,
        )

    def end(self, m: bool, s: bool, s_end: bool) -> tuple[str, bool, bool]:
        """The last SCL fall of a wave that stops short of the STOP (the slave driving
        ``s_end`` after it)."""
        fall, s = self._fall(m, s, s_end, True)
        return self.slot(fall), m, s


_BYTES: dict[tuple[object, ...], tuple[str, bool, bool]] = {}
