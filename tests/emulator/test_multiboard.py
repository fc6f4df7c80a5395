"""Several boards in one simulated world (pihil_emulator.multiboard): one clock,
wires between boards resolving as one node, a shared I2C bus, one VCD, determinism."""

from __future__ import annotations

from pathlib import Path

import pytest
from vcd.reader import TokenKind, tokenize

from pihil_emulator.devices.registry import create_device
from pihil_emulator.errors import ConfigurationError, ElectricalFault, PinError
from pihil_emulator.multiboard import BoardWorld
from pihil_emulator.world.net import Drive


def _two(seed: int = 0) -> BoardWorld:
    return BoardWorld({"a": "mirkopc", "b": "mirkopc"}, seed=seed)


def test_one_world_one_clock_for_every_board() -> None:
    world = _two()
    assert world["a"].world is world["b"].world is world.world
    world.run_for(1_000)
    assert world["a"].now_ns == world["b"].now_ns == 1_000
    assert list(world.boards) == ["a", "b"]  # the order asked for


def test_a_timer_on_b_runs_while_a_waits() -> None:
    world = _two()
    fired: list[int] = []
    world["b"].world.call_at(500, lambda: fired.append(world.now_ns))
    world["a"].run_for(1_000)  # a wait on board a
    assert fired == [500]


def test_wire_between_boards_is_one_node_pull_and_contention() -> None:
    world = _two()
    a23, b23 = world.net("a.GPIO23"), world.net("b.GPIO23")
    world.connect("a.GPIO23", "b.GPIO23")
    a23.drive("test pull", Drive.pull_up(10_000))
    assert b23.level
    assert a23.node is b23.node
    b23.drive("b push", Drive.push_pull(False))
    assert not a23.level
    with pytest.raises(ElectricalFault):
        a23.drive("a push", Drive.push_pull(True))


def test_pins_are_named_by_role() -> None:
    world = _two()
    with pytest.raises(PinError, match="role"):
        world.net("GPIO23")
    with pytest.raises(ConfigurationError, match="roles: a, b"):
        world.net("c.GPIO23")
    with pytest.raises(ConfigurationError, match="role"):
        BoardWorld({"a.b": "mirkopc"})
    assert world.name_of(world.net("b.J8-16")) == "b.GPIO23"


def test_shared_i2c_device_answers_both_controllers() -> None:
    world = _two()
    sensor = create_device("lm75b", name="shared", address=0x4C, params={})
    world.share_i2c(sensor, {"a": "i2c1", "b": "i2c1"})
    assert world.net("a.GPIO2").node is world.net("b.GPIO2").node
    assert world.net("a.GPIO3").node is world.net("b.GPIO3").node
    for role in ("a", "b"):  # on each board's bus (the driver reads it in test_boards_fixture)
        assert any(att.device is sensor for att in world[role].attachments)


def _vcd(path: Path, seed: int) -> str:
    world = _two(seed)
    world.connect("a.GPIO23", "b.GPIO23", "REQ")
    rec = world.record_vcd(path, ["a.GPIO23", "b.GPIO23", "b.GPIO24"])
    net = world.net("a.GPIO23")
    for i in range(4):
        world.run_for(1_000 + world.world.random.randrange(1000))
        net.drive("toggler", Drive.push_pull(i % 2 == 0))
    world.run_for(10)
    rec.close()
    return path.read_text()


def test_one_vcd_has_both_boards_on_one_time_axis(tmp_path: Path) -> None:
    text = _vcd(tmp_path / "w.vcd", 1)
    names = []
    changes: dict[str, list[int]] = {}
    ids: dict[str, str] = {}
    with (tmp_path / "w.vcd").open("rb") as f:
        t = 0
        for tok in tokenize(f):
            if tok.kind is TokenKind.VAR:
                names.append(tok.data.reference)
                ids[tok.data.id_code] = tok.data.reference
            elif tok.kind is TokenKind.CHANGE_TIME:
                t = tok.data
            elif tok.kind is TokenKind.CHANGE_SCALAR:
                changes.setdefault(ids[tok.data.id_code], []).append(t)
    assert names == ["a.GPIO23", "b.GPIO23", "b.GPIO24"]
    assert changes["a.GPIO23"] == changes["b.GPIO23"]  # one node, one time axis
    assert len(changes["a.GPIO23"]) >= 4
    assert "$timescale 1 ns $end" in text


def test_same_seed_same_vcd(tmp_path: Path) -> None:
    assert _vcd(tmp_path / "1.vcd", 7) == _vcd(tmp_path / "2.vcd", 7)
    assert _vcd(tmp_path / "3.vcd", 7) != _vcd(tmp_path / "4.vcd", 8)


def test_cross_uart_joins_tx_of_each_to_rx_of_the_other() -> None:
    world = _two()
    for role in ("a", "b"):  # the jig's loopback wires go
        for wire in list(world[role].wires):
            if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
                world[role].disconnect(wire)
    world.cross_uart("a", "b")
    assert world.net("a.GPIO14").node is world.net("b.GPIO15").node
    assert world.net("b.GPIO14").node is world.net("a.GPIO15").node
