"""A world holding several boards and the wires between them (issue 16, item 3).

A `BoardWorld` builds every board into one `World`: one SimPy environment, one clock, one
random source (from one seed), so when any board's session waits, every board's
devices, UARTs and timers run. Boards are named by role (``a``, ``b``, ``gateway``)
and kept in the order given, which is the order they are built and listed in a VCD.
A pin of a board is named ``role.PIN`` (``a.GPIO14``, ``b.J8-10``).

Wires between boards join two nets into one electrical node with the same
`Circuit.connect` a jumper on one board uses (pihil_emulator/world/net.py): pulls,
drives and contention resolve across both boards as on one. A UART TX wired to
another board's RX reaches it because the boards' UART line hubs are linked: a burst
published on one board's hub is handed to the listeners on the same node in every
other hub (the hub matches listeners by electrical node, buses/uart_line.py).
An I2C device can be put on a bus shared by both boards (`BoardWorld.share_i2c`): its
SDA/SCL are wired across and the device is attached to each board's controller.

One VCD for the world: `BoardWorld.record_vcd` reuses `VcdRecorder` (one writer) with the
nets named ``role.NET``. Limits today: UART bursts are computed waveforms that the VCD
gets through taps that look nets up by their local names, so a board world VCD records
GPIO-level lines (handshakes, I2C at pin level) and not UART TX/RX; cross-board wires
cannot be removed again (the circuit rebuilds nodes from one board's wires).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from .board import Board
from .boards.loader import load_profile
from .buses.uart_line import Burst, Glitch, UartLines
from .buses.uart_vcd import _TAPS, UartVcdTap, _NetTap
from .errors import ConfigurationError, PinError
from .vcd import VcdRecorder
from .world.clock import World
from .world.edges import Edge
from .world.net import Net, Wire


class _Renamed:
    """What a UART tap of one net writes to: its edges under the net's ``role.NET`` name."""

    def __init__(self, recorder: VcdRecorder, name: str) -> None:
        self.recorder = recorder
        self.name = name

    def add_edges(self, edges: Iterable[Edge]) -> None:
        self.recorder.add_edges(Edge(e.time_ns, self.name, e.level) for e in edges)


class BenchVcd(VcdRecorder):
    """A `VcdRecorder` over nets of several boards, each named ``role.NET``.

    UART bursts on its nets are computed waveforms, not net edges: each net gets a tap
    (buses/uart_vcd.py) from the start, on its own board's line hub, writing under the
    qualified name (the taps the hub would add by itself look nets up by local name).
    """

    taps_itself = True
    """Its UART taps are made here, under qualified names: `uart_vcd.tap_recorders` must not
    add its own (it would look the ``role.NET`` names up in one board's circuit)."""

    def __init__(self, world: World, path: str | Path, nets: Mapping[str, Net]) -> None:
        self._names = {id(net): name for name, net in nets.items()}
        super().__init__(world, path, list(nets.values()), names=list(nets))
        tap = UartVcdTap.__new__(UartVcdTap)
        tap._taps = [
            _NetTap(cast(VcdRecorder, _Renamed(self, name)), net, UartLines.of(net.circuit))
            for name, net in nets.items()
        ]
        _TAPS[self] = tap
        self._tap = tap

    def close(self) -> Path:
        if not self.closed:
            self._tap.close()  # its last edges first
        return super().close()

    def _on_change(self, net: Net, level: bool, time_ns: int) -> None:
        self._changes.append((time_ns, self._names[id(net)], level))
        if len(self._changes) >= self._next_flush:
            self.flush()


class BoardWorld:
    """Several boards in one simulated world, and the wires between them.

    ``BoardWorld({"a": "mirkopc", "b": "mirkopc"}, seed=1)``; ``world["a"]`` is board ``a``.
    """

    def __init__(self, boards: Mapping[str, str | Path], *, seed: int = 0) -> None:
        if not isinstance(boards, Mapping) or not boards:
            raise ConfigurationError(
                f"a board world takes its boards by role, e.g. {{'a': 'mirkopc', 'b': 'mirkopc'}}; "
                f"got {boards!r}"
            )
        self.world = World(seed)
        self.boards: dict[str, Board] = {}
        self.wires: list[Wire] = []
        for role, profile in boards.items():
            if not isinstance(role, str) or not role.isidentifier():
                raise ConfigurationError(
                    f"a board role is a name like 'a' or 'gateway' (letters, digits, _), "
                    f"got {role!r}"
                )
            self.boards[role] = Board(load_profile(profile), seed=seed, world=self.world)
        self._link_uart_hubs()

    def __getitem__(self, role: str) -> Board:
        try:
            return self.boards[role]
        except KeyError:
            raise ConfigurationError(
                f"the board world has no board {role!r}; roles: {', '.join(self.boards)}"
            ) from None

    def __repr__(self) -> str:
        roles = ", ".join(f"{r}={b.profile.name}" for r, b in self.boards.items())
        return f"BoardWorld({roles}, t={self.now_ns} ns)"

    @property
    def now_ns(self) -> int:
        return self.world.now_ns

    def run_for(self, duration_ns: int) -> None:
        """Advance the one clock; every board runs."""
        self.world.run_for(duration_ns)

    # -- naming ------------------------------------------------------------------------------
    def _split(self, qualified: str) -> tuple[str, Board, str]:
        if not isinstance(qualified, str) or "." not in qualified:
            raise PinError(
                f"name a pin of a board world by its board's role and the pin: 'a.GPIO14', "
                f"'b.J8-10'; got {qualified!r}"
            )
        role, pin = qualified.split(".", 1)
        return role, self[role], pin

    def net(self, qualified: str) -> Net:
        """The net of ``role.PIN``."""
        _, board, pin = self._split(qualified)
        return board.net(pin)

    def name_of(self, net: Net) -> str:
        """``role.NET`` for a net of one of the boards."""
        for role, board in self.boards.items():
            if net.circuit is board.circuit:
                return f"{role}.{net.name}"
        raise PinError(f"{net!r} is not a net of a board in this board world")

    # -- wiring ------------------------------------------------------------------------------
    def connect(self, a: str, b: str, label: str | None = None) -> Wire:
        """A wire from ``role.PIN`` to ``role.PIN`` (`ElectricalFault`, and no wire, if two
        outputs would fight)."""
        na, nb = self.net(a), self.net(b)
        if na is nb:
            raise PinError(f"{a!r} and {b!r} are the same net: a wire needs two")
        wire = na.circuit.connect(na, nb, label or f"{a}—{b}")
        self.wires.append(wire)
        return wire

    def cross_uart(
        self, a: str = "a", b: str = "b", uart_a: str = "uart0", uart_b: str = "uart0"
    ) -> None:
        """Null-modem wiring: TX of ``a`` to RX of ``b`` and back (the profile's UART pins)."""
        ta, ra = self._uart_pins(a, uart_a)
        tb, rb = self._uart_pins(b, uart_b)
        self.connect(f"{a}.{ta}", f"{b}.{rb}", f"{a}.{uart_a} TX → {b}.{uart_b} RX")
        self.connect(f"{b}.{tb}", f"{a}.{ra}", f"{b}.{uart_b} TX → {a}.{uart_a} RX")

    def _uart_pins(self, role: str, uart: str) -> tuple[str, str]:
        spec = self[role].profile.buses.get(uart)
        if spec is None or spec.kind != "uart":
            raise ConfigurationError(f"board {role!r} has no UART {uart!r}")
        return f"GPIO{spec.gpios['tx']}", f"GPIO{spec.gpios['rx']}"

    def share_i2c(self, device: object, buses: Mapping[str, str]) -> None:
        """Put ``device`` on an I2C bus shared by boards: ``{"a": "i2c1", "b": "i2c1"}``
        wires SDA and SCL of each further board to the first's and attaches the device to
        every board's controller (it answers whichever master addresses it)."""
        items = list(buses.items())
        if len(items) < 2:
            raise ConfigurationError(
                "a shared I2C bus needs two boards or more: {'a': ..., 'b': ...}"
            )
        pins = []
        for role, bus in items:
            spec = self[role].profile.buses.get(bus)
            if spec is None or spec.kind != "i2c":
                raise ConfigurationError(f"board {role!r} has no I2C bus {bus!r}")
            pins.append((role, spec.gpios["sda"], spec.gpios["scl"]))
        first = pins[0]
        for role, sda, scl in pins[1:]:
            self.connect(f"{first[0]}.GPIO{first[1]}", f"{role}.GPIO{sda}")
            self.connect(f"{first[0]}.GPIO{first[2]}", f"{role}.GPIO{scl}")
        for role, bus in items:
            self[role].attach(device, bus=bus)

    # -- UART line hubs across boards ----------------------------------------------------------
    def _link_uart_hubs(self) -> None:
        hubs = [UartLines.of(board.circuit) for board in self.boards.values()]
        for hub in hubs:
            others = [h for h in hubs if h is not hub]
            _link(hub, others)

    # -- one VCD -------------------------------------------------------------------------------
    def record_vcd(self, path: str | Path, lines: Iterable[str]) -> VcdRecorder:
        """One VCD with the lines of every board (``['a.GPIO17', 'b.GPIO27']``) on one time
        axis; the signals are named ``role.NET``."""
        if isinstance(lines, str) or not isinstance(lines, Iterable):
            raise ConfigurationError(f"record_vcd takes a list of 'role.PIN' names, got {lines!r}")
        nets: dict[str, Net] = {}
        for qualified in lines:
            net = self.net(qualified)
            name = self.name_of(net)
            if name in nets:
                raise ConfigurationError(f"{qualified!r} names {name}, which is listed already")
            nets[name] = net
        return BenchVcd(self.world, path, nets)


def _link(hub: UartLines, others: list[UartLines]) -> None:
    """Make ``hub`` hand its bursts, cuts and glitches to listeners of ``others`` too."""
    publish, truncated, add_glitches = hub.publish, hub.truncated, hub.add_glitches

    def linked_publish(burst: Burst, nets: Iterable[Net], *, exclude: object = None) -> None:
        nets = list(nets)
        publish(burst, nets, exclude=exclude)
        for other in others:
            targets = [x for x in other.listeners_on(nets) if x is not exclude]
            if targets:
                other.deliver(burst, targets)

    def linked_truncated(burst: Burst, cut_ns: float) -> None:
        truncated(burst, cut_ns)
        for other in others:
            for listener in other._delivered.get(burst, []):
                listener.burst_truncated(burst, cut_ns)

    def linked_glitches(net: Net, glitches: list[Glitch]) -> None:
        add_glitches(net, glitches)
        for other in others:
            for listener in other.listeners_on([net]):
                listener.add_glitches(glitches)

    patched: dict[str, Any] = {
        "publish": linked_publish,
        "truncated": linked_truncated,
        "add_glitches": linked_glitches,
    }
    for name, function in patched.items():
        setattr(hub, name, function)
