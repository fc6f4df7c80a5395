"""Edge queues: every level change of a watched net is kept, like the kernel's edge-event buffer.

A queue never drops an edge, however many happen in one simulated instant;
a reader waits on it in simulated time.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import simpy

from .clock import World
from .net import Net


@dataclass(frozen=True, slots=True)
class Edge:
    """One level change: when, on which net, to which level."""

    time_ns: int
    net: str
    level: bool

    @property
    def rising(self) -> bool:
        return self.level


class EdgeQueue:
    """An unbounded FIFO of `Edge` fed by one or more nets' watchers."""

    def __init__(
        self,
        world: World,
        nets: Iterable[Net] = (),
        *,
        edge_filter: Callable[[Edge], bool] | None = None,
    ) -> None:
        self.world = world
        self._edges: deque[Edge] = deque()
        self._waiters: list[simpy.Event] = []
        self._unwatch: list[Callable[[], None]] = []
        self._filter = edge_filter
        for net in nets:
            self.add_net(net)

    def add_net(self, net: Net) -> None:
        self._unwatch.append(net.watch(self._on_change))

    def _on_change(self, net: Net, level: bool, time_ns: int) -> None:
        self.put(Edge(time_ns, net.name, level))

    def put(self, edge: Edge) -> None:
        if self._filter is not None and not self._filter(edge):
            return
        self._edges.append(edge)
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            if not w.triggered:
                w.succeed()

    def __len__(self) -> int:
        return len(self._edges)

    def get_nowait(self) -> Edge | None:
        return self._edges.popleft() if self._edges else None

    def drain(self) -> list[Edge]:
        edges = list(self._edges)
        self._edges.clear()
        return edges

    def when_any(self) -> simpy.Event:
        """An event that fires when the queue holds at least one edge (at once if it does now)."""
        ev = self.world.event()
        if self._edges:
            ev.succeed()
        else:
            self._waiters.append(ev)
        return ev

    def wait(self, timeout_ns: int) -> list[Edge]:
        """Run simulated time until an edge is queued or ``timeout_ns`` passes; return and clear the queue."""
        if not self._edges and timeout_ns > 0:
            ev = self.when_any()
            with contextlib.suppress(TimeoutError):
                self.world.run_until(ev, limit_ns=timeout_ns)
        return self.drain()

    def close(self) -> None:
        for unwatch in self._unwatch:
            unwatch()
        self._unwatch.clear()
