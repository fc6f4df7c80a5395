"""The electrical model: drivers, resolution, rules, wires (DESIGN "Nets and electrical rules")."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pihil_emulator.errors import ElectricalFault
from pihil_emulator.world.clock import World
from pihil_emulator.world.edges import EdgeQueue
from pihil_emulator.world.net import Circuit, Drive, Net, NetKind, Node


@pytest.fixture
def circuit() -> Circuit:
    return Circuit(World(seed=1))


def test_push_pull_drives_level_and_voltage(circuit: Circuit) -> None:
    n = circuit.add_net("GPIO4", NetKind.GPIO)
    n.drive("gpio", Drive.push_pull(True))
    assert n.level is True
    assert n.volts == pytest.approx(3.3)
    n.drive("gpio", Drive.push_pull(False))
    assert n.level is False
    assert n.volts == pytest.approx(0.0)


def test_two_push_pull_outputs_fighting_raise_and_roll_back(circuit: Circuit) -> None:
    """DESIGN: two push-pull drivers fighting is an ElectricalFault with the net, drivers and time."""
    a = circuit.add_net("GPIO17", NetKind.GPIO)
    b = circuit.add_net("GPIO27", NetKind.GPIO)
    circuit.connect(a, b)
    a.drive("gpio.GPIO17", Drive.push_pull(True))
    circuit.world.run_for(1234)
    with pytest.raises(ElectricalFault) as info:
        b.drive("gpio.GPIO27", Drive.push_pull(False))
    fault = info.value
    assert "GPIO17" in fault.net
    assert "GPIO27" in fault.net
    assert any("gpio.GPIO17: push-pull high" in d for d in fault.drivers)
    assert any("gpio.GPIO27: push-pull low" in d for d in fault.drivers)
    assert fault.time_ns == 1234
    # the offending drive was not applied: the net still reads high, and GPIO27 can still drive high
    assert a.level is True
    assert "gpio.GPIO27" not in b.drivers
    b.drive("gpio.GPIO27", Drive.push_pull(True))


def test_open_drain_wins_over_pull_up_and_fights_push_pull(circuit: Circuit) -> None:
    sda = circuit.add_net("GPIO2", NetKind.GPIO)
    sda.drive("board 1K8", Drive.pull_up(1800))
    assert sda.level is True
    sda.drive("device", Drive.open_drain_low())
    assert sda.level is False
    with pytest.raises(ElectricalFault, match="contention"):
        sda.drive("gpio", Drive.push_pull(True))


def test_pull_divider_resolves_by_resistance(circuit: Circuit) -> None:
    """soc-facts §3.7: the 1K8 board pull-up beats the ~50K internal pull-down."""
    n = circuit.add_net("GPIO2", NetKind.GPIO)
    n.drive("board", Drive.pull_up(1800))
    n.drive("pad pull-down", Drive.pull_down(50_000))
    assert n.volts == pytest.approx(3.3 * 50_000 / 51_800)
    assert n.level is True


def test_undefined_region_keeps_previous_level(circuit: Circuit) -> None:
    """soc-facts §3.8: VIL 0.8 V, VIH 1.3 V; in between the Schmitt input keeps its level."""
    n = circuit.add_net("GPIO5", NetKind.GPIO)
    n.drive("src", Drive.source(3.0))
    assert n.level is True
    n.drive("src", Drive.source(1.0))
    assert n.level is True
    n.drive("src", Drive.source(0.5))
    assert n.level is False
    n.drive("src", Drive.source(1.0))
    assert n.level is False


def test_floating_net_keeps_last_level(circuit: Circuit) -> None:
    n = circuit.add_net("GPIO6", NetKind.GPIO)
    n.drive("x", Drive.push_pull(True))
    n.release("x")
    assert n.floating
    assert n.level is True


def test_voltage_above_3v3_on_a_gpio_is_a_fault(circuit: Circuit) -> None:
    """Seed (RPi low-level peripherals): GPIO levels are 3.3 V and not 5 V tolerant."""
    n = circuit.add_net("GPIO18", NetKind.GPIO)
    n.drive("bench", Drive.source(3.3))
    with pytest.raises(ElectricalFault, match="not 5 V tolerant"):
        n.drive("bench", Drive.source(5.0))
    assert n.volts == pytest.approx(3.3)


def test_5v_on_a_signal_net_is_allowed(circuit: Circuit) -> None:
    n = circuit.add_net("USB_VBUS", NetKind.SIGNAL)
    n.drive("bench", Drive.source(5.0))
    assert n.level is True


def test_jumper_from_gpio_to_5v_pin_is_refused(circuit: Circuit) -> None:
    """Seed: shorting 5 V to a GPIO pin damages the Pi; the wire is not added."""
    five = circuit.add_rail("5V", 5.0)
    g = circuit.add_net("GPIO23", NetKind.GPIO)
    with pytest.raises(ElectricalFault, match="not 5 V tolerant"):
        circuit.connect(g, five)
    assert circuit.wires == ()
    assert g.node is not five.node


def test_gpio_output_low_shorted_to_3v3_pin(circuit: Circuit) -> None:
    three = circuit.add_rail("3V3", 3.3)
    g = circuit.add_net("GPIO24", NetKind.GPIO)
    g.drive("gpio.GPIO24", Drive.push_pull(False))
    with pytest.raises(ElectricalFault, match="shorted to supply pin 3V3"):
        circuit.connect(g, three)


def test_input_tied_to_ground_is_legal_and_reads_low(circuit: Circuit) -> None:
    gnd = circuit.add_rail("GND", 0.0)
    g = circuit.add_net("GPIO25", NetKind.GPIO)
    g.drive("pad pull-up", Drive.pull_up(50_000))
    assert g.level is True
    circuit.connect(g, gnd)
    assert g.level is False


def test_disconnect_splits_nodes_and_restores_levels(circuit: Circuit) -> None:
    a = circuit.add_net("GPIO17", NetKind.GPIO)
    b = circuit.add_net("GPIO27", NetKind.GPIO)
    b.drive("pull", Drive.pull_down(50_000))
    wire = circuit.connect(a, b)
    a.drive("out", Drive.push_pull(True))
    assert b.level is True
    circuit.disconnect(wire)
    assert a.level is True
    assert b.level is False
    assert a.node is not b.node


def test_a_split_tells_each_watcher_of_its_edge_once(circuit: Circuit) -> None:
    """DESIGN edge delivery: every level change of a watched net is queued, once: removing a
    wire that held a net high gives its watchers one falling edge."""
    a = circuit.add_net("GPIO17", NetKind.GPIO)
    b = circuit.add_net("GPIO27", NetKind.GPIO)
    b.drive("pull", Drive.pull_down(50_000))
    wire = circuit.connect(a, b)
    a.drive("out", Drive.push_pull(True))
    q = EdgeQueue(circuit.world, [a, b])
    circuit.disconnect(wire)
    assert [(e.net, e.level) for e in q.drain()] == [("GPIO27", False)]


def test_every_edge_is_queued_even_in_one_instant(circuit: Circuit) -> None:
    """DESIGN: every level change of a watched net is queued, so no edge is lost."""
    n = circuit.add_net("GPIO22", NetKind.GPIO)
    q = EdgeQueue(circuit.world, [n])
    for i in range(1000):
        n.drive("out", Drive.push_pull(i % 2 == 0))
    edges = q.drain()
    assert len(edges) == 1000
    assert [e.level for e in edges[:4]] == [True, False, True, False]
    assert {e.time_ns for e in edges} == {0}


def test_edge_queue_wait_advances_simulated_time_only(circuit: Circuit) -> None:
    n = circuit.add_net("GPIO22", NetKind.GPIO)
    q = EdgeQueue(circuit.world, [n])
    circuit.world.call_at(5_000, lambda: n.drive("out", Drive.push_pull(True)))
    edges = q.wait(timeout_ns=1_000_000)
    assert [(e.time_ns, e.level) for e in edges] == [(5_000, True)]
    assert circuit.world.now_ns == 5_000
    assert q.wait(timeout_ns=2_000) == []
    assert circuit.world.now_ns == 7_000


def test_run_for_zero_is_a_no_op() -> None:
    world = World()
    world.run_for(0)
    assert world.now_ns == 0
    with pytest.raises(ValueError, match="negative"):
        world.run_for(-1)


# -- the fast path of Net.drive against the general solve --------------------------------------

DRIVES = st.one_of(
    st.none(),
    st.builds(Drive.push_pull, st.booleans()),
    st.just(Drive.open_drain_low()),
    st.builds(Drive.pull_up, st.sampled_from([1_800.0, 10_000.0, 50_000.0])),
    st.builds(Drive.pull_down, st.sampled_from([1_000.0, 50_000.0])),
    st.builds(Drive.source, st.sampled_from([0.0, 0.5, 1.0, 1.31, 3.3, 3.34, 5.0])),
)
STEPS = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(["a", "b", "c"]), DRIVES),
    min_size=1,
    max_size=40,
)


def general_drive(net: Net, owner: str, drive: Drive | None) -> None:
    """What `Net.drive` means, always through the full solve: the reference for its fast path."""
    drivers = net._drivers
    old = drivers.get(owner)
    if old == drive:
        return
    if drive is None:
        del drivers[owner]
    else:
        drivers[owner] = drive
    try:
        volts, floating = net.node._solve()
    except ElectricalFault:
        if old is None:
            drivers.pop(owner, None)
        else:
            drivers[owner] = old
        raise
    net.node.settle(volts, floating)


def build(kinds: list[NetKind], wired: bool) -> tuple[Circuit, list[Net], list[tuple[str, bool]]]:
    circuit = Circuit(World(seed=1))
    nets = [circuit.add_net(f"N{i}", kind) for i, kind in enumerate(kinds)]
    log: list[tuple[str, bool]] = []
    for net in nets:
        net.watch(lambda n, level, _t: log.append((n.name, level)))
    if wired:
        circuit.connect(nets[0], nets[1])
    return circuit, nets, log


def state(nets: list[Net]) -> list[tuple[float, bool, bool, dict[str, Drive]]]:
    return [(n.volts, n.floating, n.level, n.drivers) for n in nets]


def hard_drivers(node: Node) -> int:
    return sum(1 for _, d in node.all_drivers() if d.hard)


@given(
    kinds=st.lists(st.sampled_from([NetKind.GPIO, NetKind.SIGNAL]), min_size=3, max_size=3),
    wired=st.booleans(),
    steps=STEPS,
)
def test_drive_fast_path_equals_the_full_solve(
    kinds: list[NetKind], wired: bool, steps: list[tuple[int, str, Drive | None]]
) -> None:
    """DESIGN "Nets and electrical rules": the node a change leaves (voltage, level with the
    Schmitt hysteresis of soc-facts §3.8, the watchers told, the faults raised) is the same
    whether `Net.drive` takes its single-hard-driver shortcut or solves every driver."""
    _, fast_nets, fast_log = build(kinds, wired)
    _, ref_nets, ref_log = build(kinds, wired)
    for i, owner, drive in steps:
        outcomes: list[str | None] = []
        for nets, apply in ((fast_nets, Net.drive), (ref_nets, general_drive)):
            try:
                apply(nets[i], owner, drive)
                outcomes.append(None)
            except ElectricalFault as fault:
                outcomes.append(f"{fault} {fault.net} {fault.drivers}")
        assert outcomes[0] == outcomes[1]
        assert state(fast_nets) == state(ref_nets)
        assert fast_log == ref_log
        for net in fast_nets:
            assert net.node.hard == hard_drivers(net.node)


def test_hard_driver_count_follows_wires(circuit: Circuit) -> None:
    """The shortcut's count of hard drivers is the node's: joining two driven nets makes a
    contention the next drive must see, and splitting them gives each its own again."""
    a = circuit.add_net("GPIO17", NetKind.GPIO)
    b = circuit.add_net("GPIO27", NetKind.GPIO)
    a.drive("out17", Drive.push_pull(True))
    b.drive("out27", Drive.push_pull(True))
    wire = circuit.connect(a, b)
    assert a.node.hard == 2
    with pytest.raises(ElectricalFault, match="contention"):
        a.drive("out17", Drive.push_pull(False))
    assert a.level is True
    circuit.disconnect(wire)
    assert (a.node.hard, b.node.hard) == (1, 1)
    a.drive("out17", Drive.push_pull(False))  # alone again: no fight
    assert (a.level, b.level) == (False, True)


def test_a_fault_in_a_watchers_reaction_keeps_the_change_that_woke_it(circuit: Circuit) -> None:
    """DESIGN: a broken rule leaves the circuit as it was before the offending change. When a
    watcher reacting to an edge breaks a rule, its own drive is the offending one: the edge
    that woke it stays (drivers, voltage and level agree) and the fault reaches the caller."""
    trigger = circuit.add_net("GPIO5", NetKind.GPIO)
    other = circuit.add_net("GPIO6", NetKind.GPIO)
    other.drive("board", Drive.push_pull(False))

    def react(_net: Net, level: bool, _t: int) -> None:
        if level:
            other.drive("device", Drive.push_pull(True))  # fights the board's low

    trigger.watch(react)
    with pytest.raises(ElectricalFault, match="contention"):
        trigger.drive("out", Drive.push_pull(True))
    assert trigger.drivers == {"out": Drive.push_pull(True)}
    assert trigger.level is True
    assert trigger.volts == pytest.approx(3.3)
    assert "device" not in other.drivers
    assert other.level is False


def test_watchers_added_or_removed_while_notified_take_effect_next_edge(circuit: Circuit) -> None:
    """Watchers are told in the order they were added; one that unwatches itself or adds
    another during a notification changes who hears the next edge, not this one."""
    n = circuit.add_net("GPIO22", NetKind.GPIO)
    heard: list[str] = []
    stops: dict[str, Callable[[], None]] = {}

    def first(_net: Net, _level: bool, _t: int) -> None:
        heard.append("first")
        stops["first"]()
        stops["late"] = n.watch(lambda *_: heard.append("late"))

    stops["first"] = n.watch(first)
    n.watch(lambda *_: heard.append("second"))
    n.drive("out", Drive.push_pull(True))
    assert heard == ["first", "second"]
    n.drive("out", Drive.push_pull(False))
    assert heard == ["first", "second", "second", "late"]
