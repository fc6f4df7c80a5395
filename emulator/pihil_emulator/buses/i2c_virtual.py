"""The virtual wire: SDA and SCL computed as a wired-AND without SimPy (transaction level, slow path).

`VirtualBus` runs the BSC sequencer against the slave machines edge by edge in plain
Python, for a transfer the closed form (`i2c_closed_form.FastBus`) cannot take: a slave
that can stretch, a fault, a line held or not pulled up. `line_condition` is how such a
transfer sees the lines from outside the bus (other drivers, pull-ups). All names are
re-exported by `i2c_wire`.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from ..world.edges import Edge
from ..world.net import V_IH, V_IL, DriveKind, Net
from .i2c_slave import I2cSlave
from .i2c_timing import WaitRise

Step = Generator[int | WaitRise, int | None, Any]


class BusHung(Exception):
    """The master waits for SCL forever (no timeout, nothing will release it)."""


# ------------------------------------------------------------------------------------
# line conditions seen from outside the bus
# ------------------------------------------------------------------------------------


_PULL = DriveKind.PULL


LineCondition = tuple[bool, bool | None]


def line_condition(net: Net, own: set[str]) -> LineCondition:
    """(held low by someone else, level when released) of a line, ignoring ``own`` drivers.

    The released level is None when nothing pulls the line (it floats at its last level).
    A function of the node's drivers and ``own`` only, so it is kept in the node's memo
    (`Node.version`): asked again (every transfer asks it for SDA and SCL) with the
    drivers unchanged and the same owners, the kept answer is exact.
    """
    node = net.node
    memo = node.memo
    if memo is not None and memo[0] == node.version and memo[1] == own:
        return memo[2]  # type: ignore[return-value]
    result = _line_condition(net, own)
    node.memo = (node.version, frozenset(own), result)
    return result


def _line_condition(net: Net, own: set[str]) -> LineCondition:
    conductance = current = 0.0
    ext_low = hard_high = False
    for owner, d in net.node.all_drivers():
        if owner in own:
            continue
        if d.kind is _PULL:
            conductance += 1.0 / d.ohms
            current += d.volts / d.ohms
        elif d.volts <= V_IL:
            ext_low = True
        else:
            hard_high = True
    if hard_high:
        return ext_low, True
    if conductance <= 0:
        return ext_low, None
    volts = current / conductance
    if volts >= V_IH:
        return ext_low, True
    if volts <= V_IL:
        return ext_low, False
    return ext_low, None


# ------------------------------------------------------------------------------------
# the virtual wire
# ------------------------------------------------------------------------------------


class VirtualBus:
    """SDA and SCL as wired-AND of the master, the slaves and outside holds; no SimPy.

    Slaves are fed every edge in time order; their timed releases are processed as
    the master's wake-ups pass them.
    """

    def __init__(
        self,
        slaves: Sequence[I2cSlave],
        t0: int,
        *,
        scl_ext_low: bool = False,
        sda_ext_low: bool = False,
        scl_released: bool | None = True,
        sda_released: bool | None = True,
        names: tuple[str, str] = ("SDA", "SCL"),
        log: list[Edge] | None = None,
    ) -> None:
        self.slaves = list(slaves)
        self.now = t0
        self.m_sda = False  # master pulls SDA low
        self.m_scl = False
        self._sda_ext = sda_ext_low
        self._scl_ext = scl_ext_low
        self._sda_rel = sda_released
        self._scl_rel = scl_released
        self._names = names
        self.log = log
        self.reactions_first = False
        """Log the SDA changes the slaves make in answer to an SCL edge before that edge, as
        a recorder that watches SCL after the slave hub sees them on real nets (the hub
        drives SDA from inside its SCL watcher); False: the edge first."""
        self.sda = all(s.sda_raw for s in self.slaves) if self.slaves else not sda_ext_low
        self.scl = all(s.scl_raw for s in self.slaves) if self.slaves else not scl_ext_low
        self.sda = self._level(
            self.sda, sda_ext_low or any(s.sda_low for s in self.slaves), sda_released
        )
        self.scl = self._level(
            self.scl, scl_ext_low or any(s.holds_scl for s in self.slaves), scl_released
        )
        self.scl_rose = -1
        self._sda_history: list[tuple[int, bool]] = []  # (time, level) since the last release
        self._sda_base = self.sda  # the level before the history starts
        self._queue: list[tuple[bool, bool]] = []  # (is_scl, level)
        self._busy = False
        for s in self.slaves:
            s.host = self

    @staticmethod
    def _level(previous: bool, low: bool, released: bool | None) -> bool:
        if low:
            return False
        return previous if released is None else released

    # -- slave host ---------------------------------------------------------------
    def outputs_changed(self, slave: I2cSlave) -> None:
        self._recompute()

    def _recompute(self) -> None:
        t = self.now
        scl = self._level(
            self.scl,
            self.m_scl or self._scl_ext or any(s.holds_scl for s in self.slaves),
            self._scl_rel,
        )
        held: Edge | None = None  # an SCL edge logged after the slaves' answers to it
        if scl != self.scl:
            self.scl = scl
            if scl:
                self.scl_rose = t
            self._queue.append((True, scl))
            if self.log is not None:
                if self.reactions_first and not self._busy:
                    held = Edge(t, self._names[1], scl)
                else:
                    self.log.append(Edge(t, self._names[1], scl))
        sda = self._level(
            self.sda,
            self.m_sda or self._sda_ext or any(s.sda_low for s in self.slaves),
            self._sda_rel,
        )
        if sda != self.sda:
            self._sda_history.append((t, sda))
            self.sda = sda
            self._queue.append((False, sda))
            if self.log is not None:
                self.log.append(Edge(t, self._names[0], sda))
        if self._busy or not self._queue:
            return
        self._busy = True
        try:
            while self._queue:
                is_scl, level = self._queue.pop(0)
                for s in self.slaves:
                    if is_scl:
                        s.scl_edge(level, t)
                    else:
                        s.sda_edge(level, t)
        finally:
            self._busy = False
            if held is not None and self.log is not None:
                self.log.append(held)

    # -- MasterWire ------------------------------------------------------------------
    def drive_scl(self, low: bool) -> None:
        if self.m_scl != low:
            self.m_scl = low
            history = self._sda_history
            if not low and history:
                if history[-1][0] < self.now:
                    self._sda_base = history[-1][1]
                    history.clear()
                else:
                    self._sda_base = _level_before(history, self._sda_base, self.now)
                    self._sda_history = [e for e in history if e[0] >= self.now]
            self._recompute()

    def drive_sda(self, low: bool) -> None:
        if self.m_sda != low:
            self.m_sda = low
            self._recompute()

    @property
    def master_sda_low(self) -> bool:
        return self.m_sda

    def scl_rose_at(self) -> int | None:
        return self.scl_rose if self.scl else None

    def sda_at(self, t: int) -> bool:
        return _level_before(self._sda_history, self._sda_base, t)

    # -- time ----------------------------------------------------------------------------
    def _next_release(self) -> tuple[int, I2cSlave] | None:
        best: tuple[int, I2cSlave] | None = None
        for s in self.slaves:
            r = s.release_at
            if r is not None and (best is None or r < best[0]):
                best = (r, s)
        return best

    def advance(self, t: int) -> None:
        """Run slave releases due up to ``t`` (inclusive), then stand at ``t``."""
        while True:
            nxt = self._next_release()
            if nxt is None or nxt[0] > t:
                break
            self.now = max(self.now, nxt[0])
            nxt[1].release(nxt[0])
        self.now = max(self.now, t)

    def wait_rise(self, deadline: int | None) -> int | None:
        while not self.scl:
            nxt = self._next_release()
            if nxt is None or (deadline is not None and nxt[0] > deadline):
                if deadline is None:
                    raise BusHung(f"SCL is held low for good at t={self.now} ns")
                self.advance(deadline)
                return None
            self.advance(nxt[0])
        return self.scl_rose

    def run(self, step: Step) -> Any:
        """Drive a sequencer generator to its end; returns its result."""
        send: int | None = None
        while True:
            try:
                req = step.send(send)
            except StopIteration as stop:
                return stop.value
            if isinstance(req, WaitRise):
                send = self.wait_rise(req.deadline)
            else:
                if req > self.now or self._next_release() is not None:
                    self.advance(req)
                send = None


def _level_before(history: list[tuple[int, bool]], base: bool, t: int) -> bool:
    """The level just before ``t`` from a (time, new level) history starting at ``base``."""
    for when, level in reversed(history):
        if when < t:
            return level
    return base
