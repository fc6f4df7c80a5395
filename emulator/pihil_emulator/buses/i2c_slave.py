"""The slaves of one world on real nets (`I2cSlaveHub`, `hub_for`, `i2c_slaves`).

The slave machine itself (`I2cSlave`, its states, `SlaveFaults`, `SlaveHost`,
`stretch_free`) lives in `i2c_slave_machine`; it is re-exported here, so
``from .i2c_slave import I2cSlave`` keeps working.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from ..attachments import Attachment
from ..world.clock import World
from ..world.net import Drive, Net
from .i2c_slave_machine import I2cSlave, SlaveFaults, SlaveHost, SlaveState, stretch_free
from .i2c_target import I2cTarget

__all__ = [
    "I2cSlave",
    "I2cSlaveHub",
    "SlaveFaults",
    "SlaveHost",
    "SlaveState",
    "hub_for",
    "i2c_slaves",
    "stretch_free",
]


class I2cSlaveHub:
    """The slaves of one world on real nets (pin level).

    Every level change of a slave's SDA or SCL reaches every slave on that electrical
    node, in the order the changes happen; a slave's reaction (an ACK, a stretch) is
    applied only after all of them have seen the edge that caused it, so no slave
    sees the effect before the cause. Releases after a stretch are SimPy timers.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self.slaves: list[I2cSlave] = []
        self._by_key: dict[tuple[int, int, int], I2cSlave] = {}
        # per net, the slaves whose SDA (SCL) it is: one watcher per net, whatever their number
        self._on_sda: dict[Net, list[I2cSlave]] = {}
        self._on_scl: dict[Net, list[I2cSlave]] = {}
        self._unwatch: dict[tuple[Net, bool], Callable[[], None]] = {}
        self._queue: deque[tuple[Net, bool, int, bool]] = deque()
        self._busy = False
        self._tokens: dict[int, int] = {}
        self._suppressed: set[int] = set()

    def slave_for(self, target: I2cTarget, sda: Net, scl: Net) -> I2cSlave:
        """The front end of ``target`` on these nets, created (and put on the wire) once."""
        key = (id(target), id(sda), id(scl))
        slave = self._by_key.get(key)
        if slave is None:
            if target._world is None:
                target.bind(self.world)
            slave = I2cSlave(target, sda, scl)
            self._by_key[key] = slave
            self.slaves.append(slave)
            slave.host = self
            self._listen(sda, False, slave)
            self._listen(scl, True, slave)
        return slave

    def _listen(self, net: Net, is_scl: bool, slave: I2cSlave) -> None:
        table = self._on_scl if is_scl else self._on_sda
        on_net = table.get(net)
        if on_net is None:
            on_net = table[net] = []
            self._unwatch[net, is_scl] = net.watch(
                self._scl_changed if is_scl else self._sda_changed
            )
        on_net.append(slave)

    def _unlisten(self, net: Net, is_scl: bool, slave: I2cSlave) -> None:
        table = self._on_scl if is_scl else self._on_sda
        on_net = table.get(net)
        if on_net is not None and slave in on_net:
            on_net.remove(slave)
            if not on_net:
                del table[net]
                self._unwatch.pop((net, is_scl))()

    def forget(self, target: object) -> None:
        """Take every front end of ``target`` off its nets (the device was detached)."""
        for key, s in list(self._by_key.items()):
            if s.target is target:
                del self._by_key[key]
                self.slaves.remove(s)
                self._unlisten(s.sda_net, False, s)
                self._unlisten(s.scl_net, True, s)
                self._tokens.pop(id(s), None)
                if s.host is self:
                    s.sda_net.release(s.owner)
                    s.scl_net.release(s.owner)
                    s.sda_applied = s.scl_applied = False
                s.host = None

    def _sda_changed(self, net: Net, level: bool, t: int) -> None:
        """An SDA edge for the slaves on its node, then the edges their reactions made."""
        if self._busy:
            self._queue.append((net, level, t, False))
            return
        self._busy = True
        try:
            self._dispatch(net, level, t, False)
            queue = self._queue
            while queue:
                self._dispatch(*queue.popleft())
        finally:
            self._busy = False

    def _scl_changed(self, net: Net, level: bool, t: int) -> None:
        """An SCL edge for the slaves on its node, then the edges their reactions made.

        (The per-edge path of every pin-level I2C bit: the usual case, one net and no slave
        suppressed, is `_dispatch` written out.)"""
        if self._busy:
            self._queue.append((net, level, t, True))
            return
        self._busy = True
        try:
            if len(net.node.nets) == 1 and not self._suppressed:
                for s in self._on_scl.get(net, _NONE):
                    if s.scl_raw != level and s.host is self:
                        s.scl_edge(level, t)
            else:
                self._dispatch(net, level, t, True)
            queue = self._queue
            while queue:
                self._dispatch(*queue.popleft())
        finally:
            self._busy = False

    def outputs_changed(self, slave: I2cSlave) -> None:
        """Put a slave's drives on its nets now; the edges this makes wait their turn."""
        self._apply(slave)

    def _dispatch(self, net: Net, level: bool, t: int, is_scl: bool) -> None:
        node = net.node
        if len(node.nets) == 1:
            slaves: list[I2cSlave] = (self._on_scl if is_scl else self._on_sda).get(net, _NONE)
        else:  # nets joined by wires: every slave on the node, in the hub's order
            slaves = [s for s in self.slaves if (s.scl_net if is_scl else s.sda_net).node is node]
        suppressed = self._suppressed
        for s in slaves:
            if s.host is not self or (suppressed and id(s) in suppressed):
                continue
            if is_scl:
                if s.scl_raw != level:
                    s.scl_edge(level, t)
            elif s.sda_raw != level:
                s.sda_edge(level, t)

    def _apply(self, s: I2cSlave) -> None:
        if s.host is not self:
            return
        # drive only what changed (each drive re-resolves the net)
        low = s.sda_low
        if low != s.sda_applied:
            s.sda_net.drive(s.owner, _OD_LOW if low else None)
            s.sda_applied = low
        due = s.release_at
        if (due is not None) != s.scl_applied:
            s.scl_net.drive(s.owner, _OD_LOW if due is not None else None)
            s.scl_applied = due is not None
        if due is None:
            return
        token = self._tokens.get(id(s), 0) + 1
        self._tokens[id(s)] = token

        def fire(_event: object) -> None:
            if self._tokens.get(id(s)) == token and s.host is self:
                s.release(self.world.now_ns)

        self.world.env.timeout(max(0, due - self.world.now_ns)).callbacks.append(fire)

    def adopt(self, slaves: list[I2cSlave]) -> None:
        """Take slaves back from a virtual wire: put their outputs on the nets without
        replaying the resulting edges to them (they already saw that wire)."""
        ids = {id(s) for s in slaves}
        self._suppressed |= ids
        try:
            for s in slaves:
                s.host = self
                self._apply(s)
        finally:
            self._suppressed -= ids
        for s in slaves:
            s.sda_raw = s.sda_net.level
            s.scl_raw = s.scl_net.level


_OD_LOW = Drive.open_drain_low()
_NONE: list[I2cSlave] = []
_HUB_ATTRIBUTE = "_pihil_i2c_slave_hub"


def hub_for(world: World) -> I2cSlaveHub:
    """The world's slave hub (created on first use, kept on the world so it goes with it)."""
    hub = getattr(world, _HUB_ATTRIBUTE, None)
    if not isinstance(hub, I2cSlaveHub):
        hub = I2cSlaveHub(world)
        setattr(world, _HUB_ATTRIBUTE, hub)
    return hub


def i2c_slaves(world: World, attachments: Iterable[Attachment]) -> list[I2cSlave]:
    """The slave front ends of the I2C attachments among ``attachments`` (created once each).

    Call it when a device is attached so that its pins answer edges made from anywhere
    (a bus, or test code toggling GPIOs) before any controller has looked for it.
    """
    hub = hub_for(world)
    out = []
    for att in attachments:
        if att.kind == "i2c" and isinstance(att.device, I2cTarget):
            out.append(hub.slave_for(att.device, att.nets["sda"], att.nets["scl"]))
    return out
