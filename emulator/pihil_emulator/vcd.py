"""Waveform recording to VCD (pyvcd), for GTKWave, PulseView and sigrok-cli.

A recorder watches nets for edges as they happen, and also accepts edges a
transaction-level model computes in closed form (`add_edges`), which may be
stamped ahead of the simulation clock; everything is sorted by time when the
file is written.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from vcd import VCDWriter

from .world.clock import World
from .world.edges import Edge
from .world.net import Net


class VcdRecorder:
    """Record the levels of ``nets`` from now until `close` (or the end of a ``with``)."""

    def __init__(
        self, world: World, path: str | Path, nets: Iterable[Net], *, timescale: str = "1 ns"
    ) -> None:
        self.world = world
        self.path = Path(path)
        self._nets = list(nets)
        if not self._nets:
            raise ValueError("a VCD recording needs at least one net")
        self._start_ns = world.now_ns
        self._initial = {n.name: n.level for n in self._nets}
        self._changes: list[tuple[int, int, str, bool]] = []
        self._seq = 0
        self._unwatch = [n.watch(self._on_change) for n in self._nets]
        self._timescale = timescale
        self._closed = False

    def _on_change(self, net: Net, level: bool, time_ns: int) -> None:
        self._push(time_ns, net.name, level)

    def _push(self, time_ns: int, net: str, level: bool) -> None:
        self._seq += 1
        heapq.heappush(self._changes, (time_ns, self._seq, net, level))

    def add_edges(self, edges: Iterable[Edge]) -> None:
        """Add edges computed by a transaction-level model (any order, any future time)."""
        names = set(self._initial)
        for e in edges:
            if e.net in names:
                self._push(e.time_ns, e.net, e.level)

    @property
    def nets(self) -> list[str]:
        return list(self._initial)

    def close(self) -> Path:
        """Stop recording and write the file; returns its path."""
        if self._closed:
            return self.path
        self._closed = True
        for unwatch in self._unwatch:
            unwatch()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with (
            self.path.open("w") as fh,
            VCDWriter(fh, timescale=self._timescale, date="simulated", version="pihil") as writer,
        ):
            variables = {
                name: writer.register_var("pihil", name, "wire", size=1, init=int(level))
                for name, level in self._initial.items()
            }
            last: dict[str, bool] = dict(self._initial)
            t_prev = self._start_ns
            while self._changes:
                t, _, name, level = heapq.heappop(self._changes)
                t = max(t, t_prev)
                if last[name] != level:
                    writer.change(variables[name], t, int(level))
                    last[name] = level
                t_prev = t
            end = max(t_prev, self.world.now_ns)
            if end > t_prev:
                writer.flush(end)
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
