"""Nets, the drivers on them, and the electrical rules.

Every wire of the board is a `Net`. Components drive a net through a named
`Drive` (push-pull, open-drain low, a pull resistor, an ideal voltage source);
nets joined by jumper wires form one electrical node, and the node resolves
to a voltage and a logic level. Rules are enforced, never ignored: two hard
drivers at different voltages, or more than 3.3 V on a GPIO, raise
`ElectricalFault` and leave the circuit as it was before the offending change.

Thresholds from the pads documentation (soc-facts §3.8): VIL 0.8 V, VIH 1.3 V;
between them the input keeps its previous level (Schmitt trigger, hysteresis).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ..errors import ConfigurationError, ElectricalFault
from .clock import World
from .drive import (  # re-exported: their home was this module (world/drive.py now)
    _GPIO_LIMIT,
    _PULL,
    _SAME_VOLTS,
)
from .drive import (
    GPIO_MAX_VOLTS as GPIO_MAX_VOLTS,
)
from .drive import (
    V_IH as V_IH,
)
from .drive import (
    V_IL as V_IL,
)
from .drive import (
    VDD_IO as VDD_IO,
)
from .drive import (
    Drive as Drive,
)
from .drive import (
    DriveKind as DriveKind,
)
from .drive import (
    NetKind as NetKind,
)

Watcher = Callable[["Net", bool, int], None]
"""Called as ``watcher(net, level, time_ns)`` after the net's level changed."""


class Net:
    """One wire. Drivers are keyed by owner so each component holds one drive per net."""

    __slots__ = ("_drivers", "_watchers", "circuit", "kind", "name", "node")

    def __init__(self, name: str, kind: NetKind, circuit: Circuit) -> None:
        self.name = name
        self.kind = kind
        self.circuit = circuit
        self._drivers: dict[str, Drive] = {}
        self._watchers: tuple[Watcher, ...] = ()
        """Replaced, never mutated: a notification loops over it without a copy."""
        self.node = Node(circuit, (self,))

    def __repr__(self) -> str:
        return f"Net({self.name!r}, level={int(self.level)}, volts={self.volts:.2f})"

    # -- state -----------------------------------------------------------
    @property
    def level(self) -> bool:
        return self.node.level

    @property
    def volts(self) -> float:
        return self.node.volts

    @property
    def floating(self) -> bool:
        """True when nothing drives or pulls the node: the level is what it last was."""
        return self.node.floating

    @property
    def drivers(self) -> dict[str, Drive]:
        """The drives this net carries itself (not those of nets jumpered to it)."""
        return dict(self._drivers)

    def drive(self, owner: str, drive: Drive | None) -> None:
        """Set (or with None release) ``owner``'s drive and re-resolve the node.

        Raises `ElectricalFault` and leaves the previous drive in place when
        the new one breaks an electrical rule. This is the hot path of every
        pin-level edge (a GPSET/GPCLR, a bit-banged bus): no allocation, and
        when the node's only hard driver changes to another hard drive, the
        new voltage is the node's whatever the pulls (what `Node._solve`
        finds), so no solve.
        """
        drivers = self._drivers
        old = drivers.get(owner)
        if old is drive:
            return
        node = self.node
        if (
            node.hard == 1
            and old is not None
            and drive is not None
            and old.kind is not _PULL
            and drive.kind is not _PULL
        ):
            volts = drive.volts
            if volts == old.volts and drive.kind is old.kind and drive.ohms == old.ohms:
                return  # an equal drive changes nothing
            if volts <= _GPIO_LIMIT or not node.gpio:
                drivers[owner] = drive
                node.version += 1
                # Node.settle inlined (the GPSET/GPCLR path): the same rules
                node.volts = volts
                node.floating = False
                if volts >= V_IH:
                    if node.level:
                        return
                    level = True
                elif volts <= V_IL:
                    if not node.level:
                        return
                    level = False
                else:
                    return
                node.level = level
                now = node.env.time_ns  # Environment.now without its property call
                if now.__class__ is not int:  # as World.now_ns: whole nanoseconds
                    now = int(now)
                for net in node.nets:
                    for watcher in net._watchers:
                        watcher(net, level, now)
                return
        elif old == drive:
            return  # an equal drive changes nothing
        hard = node.hard
        if old is not None and old.kind is not _PULL:
            hard -= 1
        if drive is None:
            del drivers[owner]
        else:
            drivers[owner] = drive
            if drive.kind is not _PULL:
                hard += 1
        node.version += 1
        try:
            volts, floating = node._solve()
        except ElectricalFault:
            if old is None:
                del drivers[owner]
            else:
                drivers[owner] = old
            raise
        node.hard = hard
        node.settle(volts, floating)

    def release(self, owner: str) -> None:
        self.drive(owner, None)

    # -- observation -----------------------------------------------------
    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Call ``watcher`` on every level change; returns a function that stops it."""
        self._watchers = (*self._watchers, watcher)

        def _unwatch() -> None:
            watchers = list(self._watchers)
            if watcher in watchers:
                watchers.remove(watcher)
                self._watchers = tuple(watchers)

        return _unwatch

    def _notify(self, level: bool, time_ns: int) -> None:
        for watcher in self._watchers:
            watcher(self, level, time_ns)


class Node:
    """Nets joined by wires; resolves all their drivers together.

    ``hard`` counts the hard drivers on all the nets and ``gpio`` says whether
    one of them is a SoC pad: `Net.drive` keeps the first up to date and
    decides from both whether a change needs a full solve.

    ``version`` counts the changes of the drivers on the node's nets (`Net.drive`
    bumps it, also for a change it rolls back): a view derived from the drivers
    alone (`buses.i2c_wire.line_condition`, the GPIO block's sole-driver check)
    stays exact while the version is the one it was computed at. ``memo`` is
    where such a view is kept, as ``(version, key, value)``; it belongs to the
    node, so a snapshot restores it together with the drivers and the version.
    """

    __slots__ = (
        "circuit",
        "env",
        "floating",
        "gpio",
        "hard",
        "level",
        "memo",
        "nets",
        "version",
        "volts",
    )

    def __init__(self, circuit: Circuit, nets: Iterable[Net], level: bool = False) -> None:
        self.circuit = circuit
        self.env = circuit.world.env
        self.nets = tuple(nets)
        """Never changed: a new wire or a removed one makes new nodes."""
        self.level = level
        self.volts = 0.0
        self.floating = True
        self.gpio = any(n.kind is NetKind.GPIO for n in nets)
        self.hard = sum(1 for n in nets for d in n._drivers.values() if d.kind is not _PULL)
        self.version = 0
        self.memo: tuple[int, object, object] | None = None

    def names(self) -> str:
        return "+".join(n.name for n in self.nets)

    def all_drivers(self) -> Iterator[tuple[str, Drive]]:
        for net in self.nets:
            yield from net._drivers.items()

    def resolve(self) -> None:
        """Recompute voltage and level; raise `ElectricalFault` on a broken rule.

        Nothing is committed when a rule is broken, so the caller can roll back.
        """
        volts, floating = self._solve()
        self.settle(volts, floating)

    def settle(self, volts: float, floating: bool) -> None:
        """Commit a solved voltage: the level by the input thresholds, watchers told of a change.

        Between VIL and VIH, and while floating, the Schmitt trigger keeps the last level.
        """
        self.volts = volts
        self.floating = floating
        if floating:
            return
        if volts >= V_IH:
            if self.level:
                return
            level = True
        elif volts <= V_IL:
            if not self.level:
                return
            level = False
        else:
            return
        self.level = level
        now = self.env.time_ns  # World.now_ns without its calls (the per-edge path)
        if now.__class__ is not int:
            now = int(now)
        for net in self.nets:  # a tuple: a watcher that rewires the node makes a new one
            for watcher in net._watchers:
                watcher(net, level, now)

    def _solve(self) -> tuple[float, bool]:
        lo: tuple[str, Drive] | None = None
        hi: tuple[str, Drive] | None = None
        conductance = 0.0
        current = 0.0
        for net in self.nets:
            for owner, d in net._drivers.items():
                if d.kind is _PULL:
                    g = 1.0 / d.ohms
                    conductance += g
                    current += d.volts * g
                else:
                    if lo is None or d.volts < lo[1].volts:
                        lo = (owner, d)
                    if hi is None or d.volts > hi[1].volts:
                        hi = (owner, d)
        if hi is not None and lo is not None:
            if hi[1].volts - lo[1].volts > _SAME_VOLTS:
                raise self._fault(self._contention_message(lo, hi), [lo, hi])
            volts = hi[1].volts
            floating = False
        elif conductance > 0:
            volts = current / conductance
            floating = False
        else:
            volts = self.volts if not self.floating else (VDD_IO if self.level else 0.0)
            floating = True
        if volts > _GPIO_LIMIT and self.gpio:
            gpios = ", ".join(n.name for n in self.nets if n.kind is NetKind.GPIO)
            culprits = [(o, d) for o, d in self.all_drivers() if d.volts > GPIO_MAX_VOLTS]
            raise self._fault(
                f"{volts:.2f} V on GPIO {gpios}: the GPIO pins are 3.3 V and not 5 V tolerant",
                culprits,
            )
        return volts, floating

    def has_gpio(self) -> bool:
        return self.gpio

    def _contention_message(self, lo: tuple[str, Drive], hi: tuple[str, Drive]) -> str:
        rails = [n for n in self.nets if n.kind in (NetKind.SUPPLY, NetKind.GROUND)]
        if rails and any(n.kind is NetKind.GPIO for n in self.nets):
            return f"GPIO shorted to supply pin {rails[0].name}: {lo[0]} and {hi[0]} fight"
        return (
            f"contention: {hi[0]} drives {hi[1].volts:g} V while {lo[0]} drives {lo[1].volts:g} V"
        )

    def _fault(self, message: str, drivers: Iterable[tuple[str, Drive]]) -> ElectricalFault:
        return ElectricalFault(
            message,
            net=self.names(),
            drivers=[f"{owner}: {d.describe()}" for owner, d in drivers],
            time_ns=self.circuit.world.now_ns,
        )


@dataclass(frozen=True)
class Wire:
    """A jumper wire between two nets."""

    a: Net
    b: Net
    label: str


class Circuit:
    """All the nets of a board and the wires between them."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._nets: dict[str, Net] = {}
        self._wires: list[Wire] = []

    def add_net(self, name: str, kind: NetKind = NetKind.SIGNAL) -> Net:
        if name in self._nets:
            raise ValueError(f"net {name!r} exists already")
        net = Net(name, kind, self)
        self._nets[name] = net
        return net

    def add_rail(self, name: str, volts: float) -> Net:
        """A supply (or, at 0 V, ground) net held by an ideal source."""
        net = self.add_net(name, NetKind.GROUND if volts == 0 else NetKind.SUPPLY)
        net.drive(f"rail {name}", Drive.source(volts))
        return net

    def __getitem__(self, name: str) -> Net:
        try:
            return self._nets[name]
        except KeyError:
            raise KeyError(f"no net named {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._nets

    @property
    def nets(self) -> dict[str, Net]:
        return dict(self._nets)

    @property
    def wires(self) -> tuple[Wire, ...]:
        return tuple(self._wires)

    def connect(self, a: Net, b: Net, label: str | None = None) -> Wire:
        """Join two nets with a wire; raises `ElectricalFault` (and adds no wire) if that is illegal."""
        wire = Wire(a, b, label or f"{a.name}—{b.name}")
        if a.node is b.node:
            self._wires.append(wire)
            return wire
        merged = Node(self, a.node.nets + b.node.nets, a.node.level)
        merged.volts, merged.floating = a.node.volts, a.node.floating
        if a.node.floating and not b.node.floating:
            merged.level, merged.volts, merged.floating = b.node.level, b.node.volts, False
        before = {n: n.level for n in merged.nets}
        volts, floating = merged._solve()  # raises before anything changes
        self._wires.append(wire)
        for n in merged.nets:
            n.node = merged
        merged.floating = floating
        merged.volts = volts
        merged.level = self._level_for(volts, floating, merged.level)
        self._notify_changes(before, merged)
        return wire

    def disconnect(self, wire: Wire) -> None:
        """Remove a wire; the nets it joined split back into their own nodes."""
        try:
            self._wires.remove(wire)
        except ValueError:
            raise ConfigurationError(
                f"wire {wire.label} is not connected (it was disconnected already, or is "
                "another board's)"
            ) from None
        affected = list(wire.a.node.nets)
        before = {n: n.level for n in affected}
        self._rebuild(affected)
        for node in {id(n.node): n.node for n in affected}.values():
            volts, floating = node._solve()
            node.volts, node.floating = volts, floating
            node.level = self._level_for(volts, floating, node.level)
        self._notify_changes(before, None)  # each net whose level changed, once

    def _rebuild(self, nets: list[Net]) -> None:
        parent: dict[str, str] = {n.name: n.name for n in nets}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for w in self._wires:
            if w.a.name in parent and w.b.name in parent:
                parent[find(w.a.name)] = find(w.b.name)
        groups: dict[str, list[Net]] = {}
        for n in nets:
            groups.setdefault(find(n.name), []).append(n)
        for members in groups.values():
            old = members[0].node
            node = Node(self, members, old.level)
            node.volts, node.floating = old.volts, old.floating
            for n in members:
                n.node = node

    @staticmethod
    def _level_for(volts: float, floating: bool, previous: bool) -> bool:
        if floating:
            return previous
        if volts >= V_IH:
            return True
        if volts <= V_IL:
            return False
        return previous

    def _notify_changes(self, before: dict[Net, bool], _node: Node | None) -> None:
        now = self.world.now_ns
        for net, level in before.items():
            if net.level != level:
                net._notify(net.level, now)
