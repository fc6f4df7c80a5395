"""The per-line accessors of ``Gpio.value`` (docs/performance.md "GPIO round trip") against the
reference path, `SimulatedBackend.gpio_write`/`gpio_read` under `Session.call`.

Two identical bare SoCs (GPIO17 and GPIO27 jumpered, GPIO4 claimed by a kernel driver, GPIO40 in
bank 1) run the same random sequence of direction, function, drive, pull and edge-detection
changes, writes, reads, register writes behind the driver's back, faults (an outside driver on a
line), wires made and cut, watchers added, session resets and simulated time. One board reads and
writes through ``Gpio.value``, the other through the reference calls; after every step both
must agree on the result or the error (type and message), the registers, the output latches,
every net's level and voltage, the edge events and what each watcher saw.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import pi4_like_info
from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.soc.gpio import FSEL_ALT, FSEL_INPUT, FSEL_OUTPUT
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.variants import BCM2711, BCM2835, SocVariant
from pihil_emulator.world.clock import World
from pihil_emulator.world.drive import Drive as EmuDrive
from pihil_emulator.world.net import Circuit, Net, Wire
from rpiboard_pihil.backends.simulated import SimulatedBackend
from rpiboard_pihil.enums import Direction, Drive, Edge, Function, Pull
from rpiboard_pihil.gpio import Gpio
from rpiboard_pihil.session import Session

LINES = (4, 17, 27, 40)
CLAIMED = 4
FAULT_OWNER = "test.fault"


class Side:
    """One board: a bare SoC, its simulated backend, a session and the `Gpio` objects."""

    def __init__(self, variant: SocVariant, fast: bool) -> None:
        self.fast = fast
        self.world = World(0)
        self.circuit = Circuit(self.world)
        self.soc = Soc(self.world, self.circuit, variant)
        self.gpio = self.soc.gpio
        profile = SimpleNamespace(boot_functions=(CLAIMED,), buses={})
        self.backend = SimulatedBackend.on(
            SimpleNamespace(world=self.world, soc=self.soc, profile=profile), pi4_like_info()
        )
        self.session = Session(self.backend, query_instrument_status=False)
        self.lines = {n: Gpio(self.session, n) for n in LINES}
        self.wire: Wire | None = None
        self.seen: list[tuple[str, bool, int]] = []
        self.jumper(True)

    def jumper(self, on: bool) -> None:
        if on and self.wire is None:
            self.wire = self.circuit.connect(self.gpio.net(17), self.gpio.net(27))
        elif not on and self.wire is not None:
            self.circuit.disconnect(self.wire)
            self.wire = None

    def write(self, line: int, value: bool) -> None:
        if self.fast:
            self.lines[line].value = value
        else:
            self.session.call(self.backend.gpio_write, line, value)

    def read(self, line: int) -> bool:
        if self.fast:
            return self.lines[line].value
        return self.session.call(self.backend.gpio_read, line)

    def watch(self, line: int) -> None:
        def seen(net: Net, level: bool, time_ns: int) -> None:
            self.seen.append((net.name, level, time_ns))

        self.gpio.net(line).watch(seen)

    def state(self) -> Any:
        registers = {name: self.gpio.peek(name) for name in self.gpio.MAP.names()}
        nets = [(n.level, n.volts, n.floating) for n in self.gpio.nets]
        latches = [self.gpio.output_latch(n) for n in range(self.gpio.count)]
        warnings = [str(w) for w in self.soc.register_policy.warnings]
        return registers, nets, latches, warnings, self.seen, self.world.now_ns


def _do(side: Side, op: tuple[Any, ...]) -> Any:
    kind, line, arg = op
    g = side.lines[line]
    if kind == "write":
        return side.write(line, arg)
    if kind == "read":
        return side.read(line)
    if kind == "set_output":
        return g.set_output(arg)
    if kind == "direction":
        g.direction = arg
    elif kind == "function":
        g.function = arg
    elif kind == "drive":
        g.drive = arg
    elif kind == "pull":
        g.pull = arg
    elif kind == "edge":
        g.edge_detection = arg
    elif kind == "events":
        return list(g.read_edges())  # EdgeEvent: kind, timestamp_ns, gpio, seqno
    elif kind == "fault":
        net = side.gpio.net(line)
        net.drive(FAULT_OWNER, None if arg is None else EmuDrive.push_pull(arg))
    elif kind == "fsel":  # a test's register write behind the driver's back
        reg = f"GPFSEL{line // 10}"
        shift = 3 * (line % 10)
        old = side.gpio.read(reg)
        side.gpio.write(reg, (old & ~(0b111 << shift)) | (arg << shift))
    elif kind == "latch":
        side.gpio.write(f"{'GPSET' if arg else 'GPCLR'}{line // 32}", 1 << (line % 32))
    elif kind == "jumper":
        side.jumper(arg)
    elif kind == "watch":
        side.watch(line)
    elif kind == "reset":
        side.session.call(side.backend.reset)
    elif kind == "run":
        side.world.run_for(arg)
    return None


def _outcome(fn: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(*args)
    except Exception as exc:  # the comparison is the point: any error, by type and message
        cause = exc.__cause__
        return "error", (type(exc).__name__, str(exc), type(cause).__name__)


ARGS: dict[str, st.SearchStrategy[Any]] = {
    "write": st.booleans(),
    "read": st.none(),
    "set_output": st.booleans(),
    "direction": st.sampled_from(Direction),
    "function": st.sampled_from((Function.INPUT, Function.OUTPUT, Function.ALT0, Function.ALT5)),
    "drive": st.sampled_from(Drive),
    "pull": st.sampled_from(Pull),
    "edge": st.sampled_from(Edge),
    "events": st.none(),
    "fault": st.sampled_from((None, True, False)),
    "fsel": st.sampled_from((FSEL_INPUT, FSEL_OUTPUT, FSEL_ALT[0])),
    "latch": st.booleans(),
    "jumper": st.booleans(),
    "watch": st.none(),
    "reset": st.none(),
    "run": st.integers(0, 5_000),
}
KINDS = (
    *("write",) * 8,
    *("read",) * 4,
    *("set_output", "direction") * 3,
    *("function", "drive", "fault", "fsel") * 2,
    *(k for k in ARGS if k not in ("write", "read", "set_output", "direction")),
)
"""Writes and reads most often, direction changes next, so that a line's accessors are
fetched, used and dropped many times in one sequence; the rest (reset, wires) more rarely."""
lines = st.sampled_from((40, 40, 40, 17, 17, 27, CLAIMED))
OPS = st.sampled_from(KINDS).flatmap(lambda k: st.tuples(st.just(k), lines, ARGS[k]))


@pytest.mark.parametrize("variant", [BCM2835, BCM2711], ids=["bcm2835", "bcm2711"])
@settings(max_examples=200, deadline=None)
@given(ops=st.lists(OPS, min_size=10, max_size=80))
def test_fast_accessors_match_the_reference_path(
    variant: SocVariant, ops: list[tuple[Any, ...]]
) -> None:
    fast, reference = Side(variant, fast=True), Side(variant, fast=False)
    for step, op in enumerate(ops):
        got = _outcome(_do, fast, op)
        want = _outcome(_do, reference, op)
        assert got == want, (step, op)
        assert fast.state() == reference.state(), (step, op)


def test_the_direct_path_is_taken_and_dropped() -> None:
    """The accessors are the GPIO block's own one-line GPSET/GPCLR and GPLEV bit once the
    line is a push-pull output the kernel knows, and the reference path again after a
    direction change, a session reset and for a claimed line (so the test above compares
    both paths, not the reference with itself)."""
    side = Side(BCM2711, fast=True)
    g = side.lines[40]
    access = side.backend.gpio_access(40)
    reference_write = access.write
    g.set_output(True)
    assert g.value is True
    assert access.write is side.gpio.line_writer(40)
    g.value = False
    assert side.gpio.peek("GPLEV1") >> 8 & 1 == 0
    g.direction = Direction.INPUT
    assert access.write is not side.gpio.line_writer(40)
    g.set_output(True)
    g.value = True
    assert access.write is side.gpio.line_writer(40)
    side.session.call(side.backend.reset)
    assert access.write is not side.gpio.line_writer(40)
    assert access.write is not reference_write  # a fresh reference closure after the reset
    assert g.value is True  # GPIO40 is none of the profile's lines: reset leaves its GPFSEL
    assert access.read is side.gpio.line_reader(40)
    claimed = side.backend.gpio_access(CLAIMED)
    for _ in range(2):
        assert _outcome(lambda: side.lines[CLAIMED].value)[0] == "error"
    assert claimed.read is not side.gpio.line_reader(CLAIMED)
