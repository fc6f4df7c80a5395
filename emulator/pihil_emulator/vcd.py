"""Waveform recording to VCD (IEEE 1364 value change dump) for GTKWave, PulseView and sigrok-cli.

A recorder watches nets for edges as they happen, and also accepts edges a
transaction-level model computes in closed form (`add_edges`), which may be
stamped ahead of the simulation clock; the changes are sorted by time (stable,
so same-instant changes keep their order) when the file is written.

Why not pyvcd's writer: it validates every change, about 1.2 µs an edge, the
largest share of the pin-level I2C budget (about 3 µs an edge at 100 kHz in
real time). One-bit wires need two short lines a change, so the file is
written directly here; the tests read it back with pyvcd's tokenizer.
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
        out.append(f"#{self._start_ns}\n$dumpvars\n")
        out.extend(f"{int(level)}{ids[name]}\n" for name, level in self._initial.items())
        out.append("$end\n")
        last = dict(self._initial)
        t_prev = self._start_ns
        for t, name, level in self._changes:
            if last[name] == level:
                continue
            last[name] = level
            if t > t_prev:
                out.append(f"#{t}\n")
                t_prev = t
            out.append(f"{'1' if level else '0'}{ids[name]}\n")
        end = max(t_prev, self.world.now_ns)
        if end > t_prev:
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
