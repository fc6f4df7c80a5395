"""VCD recording of nets, including edges computed ahead of the clock (DESIGN "Faults and observation")."""

from __future__ import annotations

from pathlib import Path

from pihil_emulator.vcd import VcdRecorder
from pihil_emulator.world.clock import World
from pihil_emulator.world.edges import Edge
from pihil_emulator.world.net import Circuit, Drive, NetKind


def test_vcd_holds_watched_and_computed_edges_in_time_order(tmp_path: Path) -> None:
    world = World()
    c = Circuit(world)
    scl = c.add_net("SCL", NetKind.GPIO)
    sda = c.add_net("SDA", NetKind.GPIO)
    scl.drive("pull", Drive.pull_up(1800))
    sda.drive("pull", Drive.pull_up(1800))
    path = tmp_path / "bus.vcd"
    with VcdRecorder(world, path, [scl, sda]) as rec:
        rec.add_edges([Edge(7_000, "SDA", True), Edge(2_000, "SDA", False)])
        world.run_for(1_000)
        scl.drive("m", Drive.open_drain_low())
        world.run_for(4_000)
        scl.release("m")
        world.run_for(5_000)
    text = path.read_text()
    body = text.split("$enddefinitions $end", 1)[1]
    stamps = [int(line[1:]) for line in body.split() if line.startswith("#")]
    assert stamps == sorted(stamps)
    assert stamps[:4] == [0, 1000, 2000, 5000]
    assert "$var wire 1" in text
