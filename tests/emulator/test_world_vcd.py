"""VCD recording of nets, including edges computed ahead of the clock (DESIGN "Faults and observation")."""

from __future__ import annotations

from pathlib import Path

import pytest
from vcd.reader import TokenKind, tokenize

from pihil_emulator.vcd import VcdRecorder, _identifier
from pihil_emulator.world.clock import World
from pihil_emulator.world.edges import Edge
from pihil_emulator.world.net import Circuit, Drive, NetKind


def _changes(path: Path) -> list[tuple[int, str, int]]:
    """(time, net name, value) per change, read back with pyvcd's tokenizer."""
    names: dict[str, str] = {}
    t = 0
    out: list[tuple[int, str, int]] = []
    with path.open("rb") as fh:
        for tok in tokenize(fh):
            if tok.kind is TokenKind.VAR:
                names[tok.var.id_code] = tok.var.reference
            elif tok.kind is TokenKind.CHANGE_TIME:
                t = tok.time_change
            elif tok.kind is TokenKind.CHANGE_SCALAR:
                out.append((t, names[tok.scalar_change.id_code], int(tok.scalar_change.value)))
    return out


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
    assert _changes(path) == [
        (0, "SCL", 1),
        (0, "SDA", 1),
        (1_000, "SCL", 0),
        (2_000, "SDA", 0),
        (5_000, "SCL", 1),
        (7_000, "SDA", 1),
    ]


def test_same_instant_changes_keep_their_order_and_repeats_are_dropped(tmp_path: Path) -> None:
    world = World()
    c = Circuit(world)
    n = c.add_net("GPIO4", NetKind.GPIO)
    path = tmp_path / "g.vcd"
    with VcdRecorder(world, path, [n]) as rec:
        rec.add_edges([Edge(10, "GPIO4", True), Edge(10, "GPIO4", False), Edge(10, "GPIO4", True)])
        rec.add_edges([Edge(20, "GPIO4", True), Edge(30, "OTHER", False)])
    assert _changes(path) == [(0, "GPIO4", 0), (10, "GPIO4", 1), (10, "GPIO4", 0), (10, "GPIO4", 1)]


def test_identifiers_are_unique_printable_codes() -> None:
    codes = [_identifier(i) for i in range(10_000)]
    assert len(set(codes)) == len(codes)
    assert all(33 <= ord(ch) <= 126 for code in codes for ch in code)


def test_a_recording_needs_nets_with_distinct_names(tmp_path: Path) -> None:
    world = World()
    c = Circuit(world)
    n = c.add_net("A")
    with pytest.raises(ValueError, match="at least one net"):
        VcdRecorder(world, tmp_path / "x.vcd", [])
    with pytest.raises(ValueError, match="named twice"):
        VcdRecorder(world, tmp_path / "x.vcd", [n, n])


def test_a_long_recording_streams_to_disk(tmp_path: Path) -> None:
    """Issue 11 "VCD streams": past a bounded buffer the settled changes go to the file, so
    memory stays flat, and the file is a valid VCD after each flush, before the end (what a
    killed process leaves)."""
    world = World()
    n = Circuit(world).add_net("GPIO4", NetKind.GPIO)
    path = tmp_path / "long.vcd"
    world.run_for(5)
    recorder = VcdRecorder(world, path, [n], flush_changes=100)
    for i in range(1_000):
        n.drive("m", Drive.push_pull(bool(i % 2 == 0)))
        world.run_for(10)
        assert recorder.held_changes <= 100
    assert recorder.written_changes >= 900
    before_close = _changes(path)  # valid up to the last flush
    assert len(before_close) >= 900
    recorder.close()
    after = _changes(path)
    assert after[: len(before_close)] == before_close
    assert [v for _, _, v in after[1:]] == [1, 0] * 500
    assert [t for t, _, _ in after[1:]] == [5 + 10 * i for i in range(1_000)]
    assert after[0] == (4, "GPIO4", 0)  # the initial value, 1 ns before the first change
