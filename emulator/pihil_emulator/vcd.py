"""Waveform recording to VCD (IEEE 1364 value change dump) for GTKWave, PulseView and sigrok-cli.

A recorder watches nets for edges as they happen, and also accepts edges a
transaction-level model computes in closed form (`add_edges`), which may be
stamped ahead of the simulation clock; the changes are sorted by time (stable,
so same-instant changes keep their order) when the file is written.

Why not pyvcd's writer: it validates every change, about 1.2 µs an edge, the
largest share of the pin-level I2C budget (about 3 µs an edge at 100 kHz in
real time). One-bit wires need two short lines a change, so the file is
written directly here; the tests read it back with pyvcd's tokenizer.

Edges at the ends of a recording: a change at its first instant (a START as the
recording begins) is kept apart from the initial values, which are dumped 1 ns before
(at t=0, where nothing is earlier, the whole file is 1 ns late instead); the file
ends 1 ns after a change at its last instant (a STOP as it ends). Without that a
decoder sees neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from pathlib import Path
from types import TracebackType

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


class VcdRecorder:
    """Record the levels of ``nets`` from now until `close` (or the end of a ``with``)."""

    def __init__(
        self,
        world: World,
        path: str | Path,
        nets: Iterable[Net],
        *,
        scope: str = "pihil",
    ) -> None:
        self.world = world
        self.path = Path(path)
        nets = list(nets)
        if not nets:
            raise ValueError("a VCD recording needs at least one net")
        names = [n.name for n in nets]
        if len(set(names)) != len(names):
            raise ValueError(f"a net is named twice in the VCD recording: {names}")
        self._scope = scope
        self._start_ns = world.now_ns
        self._initial = {n.name: n.level for n in nets}
        self._ids = {name: _identifier(i) for i, name in enumerate(self._initial)}
        self._changes: list[tuple[int, str, bool]] = []
        self._unwatch = [n.watch(self._on_change) for n in nets]
        self._closed = False

    def _on_change(self, net: Net, level: bool, time_ns: int) -> None:
        self._changes.append((time_ns, net.name, level))

    def add_edges(self, edges: Iterable[Edge]) -> None:
        """Add edges computed by a transaction-level model (any order, any future time)."""
        ids = self._ids
        append = self._changes.append
        for e in edges:
            if e.net in ids:
                append((e.time_ns, e.net, e.level))

    @property
    def nets(self) -> list[str]:
        return list(self._initial)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> Path:
        """Stop recording and write the file; returns its path."""
        if self._closed:
            return self.path
        self._closed = True
        for unwatch in self._unwatch:
            unwatch()
        self._changes.sort(key=itemgetter(0))  # stable: same-instant changes keep their order
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
        # values are then dumped 1 ns earlier (the levels before that instant)
        # values are dumped 1 ns earlier (the levels before that instant); a recording that
        # starts at t=0 cannot go earlier, so its times are all 1 ns late instead
        first, shift = self._start_ns, 0
        if self._changes and self._changes[0][0] <= first:
            if first > 0:
                first -= 1
            else:
                shift = 1
        out.append(f"#{first}\n$dumpvars\n")
        out.extend(f"{int(level)}{ids[name]}\n" for name, level in self._initial.items())
        out.append("$end\n")
        last = dict(self._initial)
        t_prev = first
        for t, name, level in self._changes:
            if last[name] == level:
                continue
            last[name] = level
            t += shift
            if t > t_prev:
                out.append(f"#{t}\n")
                t_prev = t
            out.append(f"{'1' if level else '0'}{ids[name]}\n")
        # the file ends 1 ns after its last change at the latest instant, so that a decoder
        # sees the levels after it (a STOP as the recording ends)
        end = max(t_prev + 1, self.world.now_ns + shift)
        out.append(f"#{end}\n")
        self.path.write_text("".join(out))
        self._changes.clear()
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
