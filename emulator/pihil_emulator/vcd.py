"""Waveform recording to VCD (IEEE 1364 value change dump) for GTKWave, PulseView and sigrok-cli.

A recorder watches nets for edges as they happen, and also accepts edges a
transaction-level model computes in closed form (`add_edges`), which may be
stamped ahead of the simulation clock; the changes are sorted by time (stable,
so same-instant changes keep their order) when the file is written.

Why not pyvcd's writer: it validates every change, about 1.2 µs an edge, the
largest share of the pin-level I2C budget (about 3 µs an edge at 100 kHz in
real time). One-bit wires need two short lines a change, so the file is
written directly here; the tests read it back with pyvcd's tokenizer.

Lazy waveforms (issue 13 item 3): a closed-form SPI run reaches a recorder as one
`SpiWave` (vcd_spi.py: the bytes both ways, the bit period, the start time), and a
closed-form BSC transfer as one `I2cWave` (vcd_i2c.py: its bytes as bit cells, the
master's timing), not as an `Edge` per change (`add_wave`, any `Wave`); its text is
rendered in bulk when the recording is flushed (`Wave.render`), into this writer's stream. The file is the one the per-edge path writes, byte for byte
(``lazy=False`` is that path; tests/emulator/test_vcd_lazy_spi.py compares them). A
wave is kept apart only while nothing else is recorded inside its time span; a change
that lands inside it turns the wave back into edges first, so ties sort as before.

Edges at the ends of a recording: a change at its first instant (a START as the
recording begins) is kept apart from the initial values, which are dumped 1 ns before
(at t=0, where nothing is earlier, the whole file is 1 ns late instead); the file
ends 1 ns after a change at its last instant (a STOP as it ends). Without that a
decoder sees neither.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Protocol, TextIO

from .errors import ConfigurationError
from .world.clock import World
from .world.edges import Edge
from .world.net import Net

_FIRST_ID = 33  # VCD identifier codes are printable ASCII 33..126
_ID_BASE = 94


def _identifier(index: int) -> str:
    code = ""
    index += 1
    while index:
        index, digit = divmod(index - 1, _ID_BASE)
        code = chr(_FIRST_ID + digit) + code
    return code


def _vcd_name(name: str) -> str:
    """VCD references cannot hold white space."""
    return "".join("_" if ch.isspace() else ch for ch in name)


def _checked_path(path: object) -> Path:
    """Where a VCD can be written: a file path (str or path-like) whose folder is, or can be
    made, a folder; refused at once rather than when the first flush finds out."""
    if isinstance(path, bytes) or not isinstance(path, str | os.PathLike):
        raise ConfigurationError(f"a VCD is written to a file path (a str); got {path!r}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
        raise ConfigurationError(f"a VCD is written to a file path; got {path!r}")
    if "\x00" in text:
        raise ConfigurationError(f"a VCD file path cannot hold a NUL character: {text!r}")
    out = Path(text)
    if out.is_dir():
        raise ConfigurationError(f"{text!r} is a folder; give the VCD a file name in it")
    folder = out.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigurationError(
            f"cannot write a VCD at {text!r}: {str(folder)!r} is a file, not a folder"
        )
    return out


class Wave(Protocol):
    """A closed-form run as compact data (`vcd_spi.SpiWave`, `vcd_i2c.I2cWave`): what
    `VcdRecorder.add_wave` keeps until it writes the run."""

    @property
    def last_ns(self) -> int:
        """The time of its last edge."""
        ...

    @property
    def held(self) -> int:
        """What it counts for in the recorder's held changes (its bytes)."""
        ...

    def recordable(self, recorded: dict[str, str]) -> bool:
        """Whether a recorder of these nets keeps it as data (else its edges go in)."""
        ...

    def first_ns(self, recorded: dict[str, str]) -> int:
        """No edge on a net of ``recorded`` is earlier."""
        ...

    def edges(self) -> list[Edge]:
        """Its edges one by one, in the order a recorder watching the nets sees them."""
        ...

    def edge_count(self, recorded: dict[str, str]) -> int: ...

    def render(
        self, ids: dict[str, str], last: dict[str, bool], t_prev: int, shift: int
    ) -> tuple[str, int] | None:
        """The text the recorder writes for `edges` (and the last ``#t``), or None."""
        ...


FLUSH_CHANGES = 1 << 16
"""Changes held in memory before the settled ones (older than the world's clock) are written."""


class VcdRecorder:
    """Record the levels of ``nets`` from now until `close` (or the end of a ``with``).

    The file is written as the recording goes: once `FLUSH_CHANGES` changes are held, the
    ones older than the world's clock (no model stamps an edge in the past) are sorted
    and appended, so memory stays flat on long recordings and a process that dies leaves
    a valid VCD up to its last flush.
    """

    open_count: ClassVar[int] = 0
    """Recorders open now, in this process: with none, no net has one watching it (the SPI
    engine and the closed-form paths skip looking)."""

    def __init__(
        self,
        world: World,
        path: str | Path,
        nets: Iterable[Net],
        *,
        scope: str = "pihil",
        flush_changes: int = FLUSH_CHANGES,
        names: Iterable[str] | None = None,
    ) -> None:
        self.world = world
        self.path = _checked_path(path)
        nets = list(nets)
        if not nets:
            raise ConfigurationError("a VCD recording needs at least one net")
        # ``names``: what the file calls each net (a world of several boards: ``a.GPIO14``)
        names = [n.name for n in nets] if names is None else list(names)
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ConfigurationError(
                f"a net is named twice in the VCD recording: {names} ({', '.join(twice)} "
                "more than once, maybe by two names of one pin); name each net once"
            )
        self._scope = scope
        self._start_ns = world.now_ns
        self._initial = {name: n.level for name, n in zip(names, nets, strict=True)}
        self._ids = {name: _identifier(i) for i, name in enumerate(self._initial)}
        self._changes: list[tuple[int, str, bool]] = []
        self._flush_at = max(1, int(flush_changes))
        self._next_flush = self._flush_at
        self._file: TextIO | None = None
        self._last = dict(self._initial)
        self._t_prev = self._start_ns
        self._shift = 0
        self.written_changes = 0
        self.lazy = True
        """Keep closed-form runs as `Wave` data until written (False: their edges at
        once, the reference path)."""
        self._waves: list[tuple[int, int, Wave]] = []  # (first, last edge, wave), in time order
        self._wave_last = -1  # the last edge of the pending waves (-1: none)
        self._wave_held = 0  # bytes of the pending waves
        self._latest = self._start_ns  # the latest time a computed edge was added at
        self._unwatch = [n.watch(self._on_change) for n in nets]
        self._closed = False
        VcdRecorder.open_count += 1

    def _on_change(self, net: Net, level: bool, time_ns: int) -> None:
        if time_ns <= self._wave_last:
            self._expand_waves()
        self._changes.append((time_ns, net.name, level))
        if len(self._changes) >= self._next_flush:
            self.flush()

    def add_edges(self, edges: Iterable[Edge]) -> None:
        """Add edges computed by a transaction-level model (any order, any future time)."""
        ids = self._ids
        new = [(e.time_ns, e.net, e.level) for e in edges if e.net in ids]
        if new:
            earliest = min(new, key=itemgetter(0))[0]
            if earliest <= self._wave_last:
                self._expand_waves()
            self._latest = max(self._latest, max(new, key=itemgetter(0))[0])
            self._changes.extend(new)
        if len(self._changes) + self._wave_held >= self._next_flush:
            self.flush()

    def add_wave(self, wave: Wave) -> None:
        """Add a closed-form SPI run or I2C transfer; it stays compact data until written
        (see the module docstring), unless ``lazy`` is off, the wave does not keep on these
        nets (`Wave.recordable`: no SCLK of an SPI run recorded), or something is already
        recorded at or after its first edge: then its edges go in one by one."""
        ids = self._ids
        if not self.lazy or not wave.recordable(ids):
            self.add_edges(wave.edges())
            return
        first = wave.first_ns(ids)
        # every change held so far must be at or before its first edge (those at that
        # instant were added before it, so they go first): computed ones up to `_latest`,
        # watched ones up to now
        if first < max(self._latest, self._wave_last, self.world.now_ns):
            self.add_edges(wave.edges())
            return
        last = wave.last_ns
        self._waves.append((first, last, wave))
        self._wave_last = last
        self._wave_held += wave.held
        self._latest = last
        if len(self._changes) + self._wave_held >= self._next_flush:
            self.flush()

    def _expand_waves(self) -> None:
        """The pending waves as edges, appended where they were added: a change inside a
        wave's span came after it, and same-instant changes keep their order."""
        ids = self._ids
        for _, _, wave in self._waves:
            self._changes.extend((e.time_ns, e.net, e.level) for e in wave.edges() if e.net in ids)
        self._waves.clear()
        self._wave_last = -1
        self._wave_held = 0

    @property
    def nets(self) -> list[str]:
        return list(self._initial)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def held_changes(self) -> int:
        """Changes in memory, not yet in the file (a pending wave counts its bytes)."""
        return len(self._changes) + self._wave_held

    def _open(self) -> TextIO:
        """Write the header and the initial values (on the first flush, when the first
        change is known)."""
        if self._file is not None:
            return self._file
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ids = self._ids
        out: list[str] = [
            "$date simulated $end\n",
            "$version pihil $end\n",
            "$timescale 1 ns $end\n",
            f"$scope module {self._scope} $end\n",
        ]
        out.extend(f"$var wire 1 {ids[name]} {_vcd_name(name)} $end\n" for name in self._initial)
        out.append("$upscope $end\n$enddefinitions $end\n")
        # a change at the first instant (a START as the recording begins) must come after
        # the initial values, or a decoder takes it for the initial state: the initial
        # values are dumped 1 ns earlier (the levels before that instant); a recording that
        # starts at t=0 cannot go earlier, so its times are all 1 ns late instead
        first = self._start_ns
        times = [t for t, _, _ in self._changes] + [t for t, _, _ in self._waves[:1]]
        if times and min(times) <= first:
            if first > 0:
                first -= 1
            else:
                self._shift = 1
        self._t_prev = first
        out.append(f"#{first}\n$dumpvars\n")
        out.extend(f"{int(level)}{ids[name]}\n" for name, level in self._initial.items())
        out.append("$end\n")
        self._file = file = self.path.open("w", encoding="ascii")
        file.write("".join(out))
        return file

    def _write(self, changes: list[tuple[int, str, bool]]) -> None:
        file = self._open()
        ids, last, shift = self._ids, self._last, self._shift
        t_prev = self._t_prev
        out: list[str] = []
        for t, name, level in changes:
            if last[name] == level:
                continue
            last[name] = level
            t += shift
            if t > t_prev:
                out.append(f"#{t}\n")
                t_prev = t
            out.append(f"{'1' if level else '0'}{ids[name]}\n")
        self._t_prev = t_prev
        self.written_changes += len(changes)
        file.write("".join(out))

    def _write_wave(self, wave: Wave) -> None:
        file = self._open()
        rendered = wave.render(self._ids, self._last, self._t_prev, self._shift)
        if rendered is None:
            ids = self._ids
            edges = [(e.time_ns, e.net, e.level) for e in wave.edges() if e.net in ids]
            edges.sort(key=itemgetter(0))
            self._write(edges)
            return
        text, self._t_prev = rendered
        self.written_changes += wave.edge_count(self._ids)
        file.write(text)

    def _write_until(self, limit: float) -> bool:
        """Sort the held changes and write those, and the pending waves, before ``limit``
        (a wave only when all of it is); True when something was written."""
        changes = self._changes
        changes.sort(key=itemgetter(0))  # stable: same-instant changes keep their order
        if self._waves and any(
            bisect.bisect_right(changes, first, key=itemgetter(0))
            < bisect.bisect_right(changes, last, key=itemgetter(0))
            for first, last, _ in self._waves
        ):  # a change inside a wave that did not come through `_on_change` (a subclass)
            self._expand_waves()
            changes.sort(key=itemgetter(0))
        waves = self._waves
        done = 0
        for first, last, _ in waves:
            if last >= limit:
                limit = min(limit, first)
                break
            done += 1
        cut = bisect.bisect_left(changes, limit, key=itemgetter(0))
        if not cut and not done:
            return False
        self._open()
        pos = 0
        for first, _, wave in waves[:done]:
            at = bisect.bisect_right(changes, first, lo=pos, hi=cut, key=itemgetter(0))
            if at > pos:
                self._write(changes[pos:at])
            self._write_wave(wave)
            self._wave_held -= wave.held
            pos = at
        if cut > pos:
            self._write(changes[pos:cut])
        self._changes = changes[cut:]
        del waves[:done]
        if not waves:
            self._wave_last = -1
        return True

    def flush(self) -> None:
        """Write the changes older than the world's clock (they can no longer move)."""
        if self._closed:
            return
        if self._write_until(self.world.now_ns):
            assert self._file is not None
            self._file.flush()
        self._next_flush = len(self._changes) + self._wave_held + self._flush_at

    def close(self) -> Path:
        """Stop recording and write the rest of the file; returns its path."""
        if self._closed:
            return self.path
        self._closed = True
        VcdRecorder.open_count -= 1
        for unwatch in self._unwatch:
            unwatch()
        self._open()
        self._write_until(float("inf"))
        # the file ends 1 ns after its last change at the latest instant, so that a decoder
        # sees the levels after it (a STOP as the recording ends)
        end = max(self._t_prev + 1, self.world.now_ns + self._shift)
        assert self._file is not None
        self._file.write(f"#{end}\n")
        self._file.close()
        return self.path

    def __enter__(self) -> VcdRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
