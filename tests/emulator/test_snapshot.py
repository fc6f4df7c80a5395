"""Board snapshots (pihil_emulator.snapshot, issue 13 item 4): ``board.snapshot()`` and
``board.restore(snap)`` give back the same state (registers, devices, nets, time, random
source, scheduled events) and the same behaviour afterwards (transcripts, timings, VCDs)
as a fresh board brought to the same point; busy boards and other boards are refused."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from pihil_emulator.board import Board
from pihil_emulator.devices.registry import create_device
from pihil_emulator.faults import StuckNet
from pihil_emulator.multiboard import BoardWorld
from pihil_emulator.snapshot import BoardSnapshot, SnapshotError, WorldState

from .test_snapshot_rig import TRAFFIC, Op, fingerprint, open_board, ops, run_ops


def _same_values(a: WorldState, b: WorldState) -> None:
    """Every container ``a`` recorded holds, in ``b``, the same objects / values."""

    def table(s: WorldState) -> dict[int, Any]:
        out: dict[int, Any] = {}
        for kind in ("dicts", "slots", "cells", "lists", "sets", "deques", "buffers", "randoms"):
            for holder, value in getattr(s, kind):
                out[id(holder)] = (kind, value)
        return out

    ta, tb = table(a), table(b)
    assert ta.keys() == tb.keys()
    for key, (kind, va) in ta.items():
        kind_b, vb = tb[key]
        assert kind == kind_b
        if kind in ("buffers", "randoms", "sets", "cells"):
            assert va is vb or va == vb, (kind, va, vb)
        else:
            assert len(va) == len(vb), (kind, va, vb)
            for x, y in zip(va, vb, strict=True):
                if not (isinstance(x, tuple) and isinstance(x[1], itertools.count)):
                    assert x is y or x == y, (kind, x, y)  # SimPy's event ids: in .counts
    assert [(k, n, s) for _, k, n, s in a.counts] == [(k, n, s) for _, k, n, s in b.counts]


def test_restore_gives_back_every_register_device_net_and_the_time() -> None:
    board = open_board()
    emu: Board = board.simulation.emulator
    run_ops(board, TRAFFIC[:3])
    snap = emu.snapshot()
    before = fingerprint(emu)
    run_ops(board, TRAFFIC)
    emu.connect("J8-38", "J8-40")  # a wire made after the snapshot
    emu.apply_voltage("J8-33", 3.3)
    emu.devices["rtc"].poke("Seconds", 0x42)  # type: ignore[attr-defined]
    emu.write_register("gpio", "GPFSEL0", 0x0000_0249)
    after = fingerprint(emu)
    for part in ("time", "random", "blocks", "nets", "wires", "devices"):
        assert after[part] != before[part], part
    emu.restore(snap)
    assert fingerprint(emu) == before
    _same_values(snap.state, emu.snapshot().state)  # the very same objects, the same values
    assert snap.time_ns == emu.now_ns
    assert snap.profile == "mirkopc"


def test_the_same_traffic_after_restore_as_on_a_fresh_board_with_the_same_vcd(
    tmp_path: Path,
) -> None:
    """Transcripts, timings to the nanosecond and VCD text: restored board (twice) and a
    fresh board brought to the same point."""

    def recorded(board: Any, name: str) -> tuple[list[tuple[Any, int]], str]:
        path = tmp_path / f"{name}.vcd"
        with board.simulation.record_vcd(str(path), ["GPIO17", "GPIO27", "GPIO2", "GPIO3"]):
            transcript = run_ops(board, TRAFFIC)
        return transcript, path.read_text()

    board = open_board()
    run_ops(board, TRAFFIC[:4])
    snap = board.simulation.emulator.snapshot()
    first = recorded(board, "first")
    board.simulation.emulator.restore(snap)
    second = recorded(board, "second")
    board.simulation.emulator.restore(snap)
    third = recorded(board, "third")
    fresh = open_board()
    run_ops(fresh, TRAFFIC[:4])
    expected = recorded(fresh, "fresh")
    assert first == second == third == expected
    assert "$var" in expected[1]
    assert len(expected[0]) == len(TRAFFIC)


@settings(max_examples=25, deadline=None)
@given(before=ops(), after=ops())
def test_random_traffic_before_the_snapshot_and_after_the_restore(
    before: list[Op], after: list[Op]
) -> None:
    board = open_board()
    emu: Board = board.simulation.emulator
    run_ops(board, before)
    snap = emu.snapshot()
    state = fingerprint(emu)
    first = run_ops(board, after)
    emu.restore(snap)
    assert fingerprint(emu) == state
    assert run_ops(board, after) == first
    fresh = open_board()
    run_ops(fresh, before)
    assert fingerprint(fresh.simulation.emulator) == state
    assert run_ops(fresh, after) == first


def test_a_scheduled_fault_is_in_the_snapshot_and_fires_again_after_restore() -> None:
    """Scheduled events are state: a fault due later fires at the same time after a restore
    (timer events with plain callbacks, board._at)."""
    board = Board.from_profile("mirkopc")
    fault = board.inject(StuckNet(at_ns=5_000, duration_ns=2_000, pin="J8-11", level=True))
    snap = board.snapshot()
    levels: list[list[tuple[int, bool, bool]]] = []
    for _ in range(2):
        board.restore(snap)
        seen: list[tuple[int, bool, bool]] = []
        for _ in range(10):
            board.run_for(1_000)
            seen.append((board.now_ns, board.net("J8-11").level, fault.active))
        levels.append(seen)
    assert levels[0] == levels[1]
    assert [t for t, level, _ in levels[0] if level] == [6_000, 7_000]


def test_the_random_source_and_the_seed_are_restored() -> None:
    board = Board.from_profile("mirkopc", seed=7)
    board.world.random.random()
    snap = board.snapshot()
    drawn = [board.world.random.random() for _ in range(5)]
    board.restore(snap)
    assert [board.world.random.random() for _ in range(5)] == drawn
    assert snap.seed == 7


def test_what_was_made_after_the_snapshot_leaves_the_board() -> None:
    board = Board.from_profile("mirkopc")
    snap = board.snapshot()
    sensor = create_device("lm75b", name="extra", address=0x49)
    board.attach(sensor, bus="i2c1")
    wire = board.connect("J8-38", "J8-40")
    board.restore(snap)
    assert all(a.device is not sensor for a in board.attachments)
    assert wire not in board.wires
    assert wire not in board.circuit.wires
    assert board.net("J8-38").node is not board.net("J8-40").node
    board.attach(sensor, bus="i2c1")  # and it can be attached again
    assert any(a.device is sensor for a in board.attachments)


def test_a_busy_board_is_refused_clearly() -> None:
    """An IR frame being played (a SimPy process) cannot be copied: refused, naming it."""
    board = Board.from_profile("mirkopc")
    end = board.devices["ir_receiver"].fire_nec(0x00, 0x45)  # type: ignore[attr-defined]
    board.run_for(1_000_000)
    with pytest.raises(SnapshotError, match=r"_play is still running .*quiescent"):
        board.snapshot()
    board.run_for(end - board.now_ns + 1)
    assert isinstance(board.snapshot(), BoardSnapshot)  # once the frame has ended


def test_restore_drops_a_process_in_flight() -> None:
    board = Board.from_profile("mirkopc")
    snap = board.snapshot()
    before = fingerprint(board)
    board.devices["ir_receiver"].fire_nec(0x00, 0x45)  # type: ignore[attr-defined]
    board.run_for(1_000_000)
    board.restore(snap)
    assert fingerprint(board) == before
    board.run_for(100_000_000)  # nothing of the dropped frame plays any more
    assert board.net("GPIO23").level == fingerprint(board)["nets"]["GPIO23"][0]
    board.restore(snap)
    assert fingerprint(board) == before


def test_restore_ends_a_dropped_process_now() -> None:
    """A process in flight at restore is ended then (its ``finally`` runs before the state is
    written back), not at some later garbage collection."""
    board = Board.from_profile("mirkopc")
    snap = board.snapshot()
    ended: list[int] = []

    def device_timer() -> Any:
        try:
            yield board.world.timeout(10_000_000)
        finally:
            ended.append(board.now_ns)

    board.world.process(device_timer())
    board.run_for(1_000)
    board.restore(snap)
    assert ended == [1_000]


def test_a_snapshot_of_another_board_is_refused() -> None:
    mirkopc = Board.from_profile("mirkopc")
    other = Board.from_profile("rpi-4b")
    twin = Board.from_profile("mirkopc")
    snap = mirkopc.snapshot()
    with pytest.raises(SnapshotError, match=r"another board \(mirkopc board.*rpi-4b"):
        other.restore(snap)
    with pytest.raises(SnapshotError, match="only into the board it was taken of"):
        twin.restore(snap)
    with pytest.raises(SnapshotError, match="takes what snapshot"):
        mirkopc.restore("snap")  # type: ignore[arg-type]


def test_open_vcd_recorders_are_refused_at_snapshot_and_at_restore(tmp_path: Path) -> None:
    board = Board.from_profile("mirkopc")
    snap = board.snapshot()
    with board.record_vcd(tmp_path / "a.vcd", ["GPIO17"]):
        with pytest.raises(SnapshotError, match="close the VCD recorder first"):
            board.snapshot()
        with pytest.raises(SnapshotError, match="VCD recorder"):
            board.restore(snap)
    board.restore(snap)  # closed: fine


def test_a_board_sharing_its_world_is_refused() -> None:
    bench = BoardWorld({"a": "mirkopc", "b": "mirkopc"})
    with pytest.raises(SnapshotError, match="shares its world"):
        bench["a"].snapshot()


def test_a_running_gps_is_snapshotted_between_sentences_and_keeps_its_second() -> None:
    """The GPS's once-a-second sentences are a timer chain whose state is the next due
    second: a snapshot taken between sentences gives back the same NMEA stream at the same
    times (NMEA 0183 RMC/GGA at the top of each second, devices/nmea_gps.py)."""
    from pihil_emulator.devices.nmea_gps import NmeaGps
    from pihil_emulator.world.clock import NS_PER_S

    from .devices.test_dev_gps import board_with_gps

    gps = NmeaGps("gps")
    board, uart = board_with_gps(gps)
    uart.configure(9600)
    board.run_for(NS_PER_S + 500_000_000)  # sentences of t = 0 and 1 s sent, 2 s due
    snap = board.snapshot()
    streams = []
    for _ in range(2):
        board.restore(snap)
        got = []
        for _ in range(6):
            board.run_for(NS_PER_S // 2)
            got.append((board.now_ns, gps.sent_seconds, uart.read(4096, 0)))
        streams.append(got)
    assert streams[0] == streams[1]
    assert [sent for _, sent, _ in streams[0]] == [2, 3, 3, 4, 4, 5]  # due at t runs after t
    assert b"$GPRMC" in streams[0][0][2]


def test_two_boards_snapshots_write_back_nothing_they_share() -> None:
    """A restore writes only the board's own objects: the cached profile, register layouts
    and pin tables that boards share are left alone (besides closure cells that hold the
    same shared object in both, written back as the same reference)."""
    a, b = open_board(), open_board()
    run_ops(a, TRAFFIC)
    run_ops(b, TRAFFIC)
    from pytest_pihil.fresh import take_snapshot

    def holders(snap: BoardSnapshot) -> dict[int, tuple[str, Any]]:
        s = snap.state
        kinds = ("dicts", "slots", "cells", "lists", "sets", "deques", "buffers", "randoms")
        return {id(h): (kind, v) for kind in kinds for h, v in getattr(s, kind)}

    sa, sb = take_snapshot(a), take_snapshot(b)
    ha, hb = holders(sa), holders(sb)
    for key in ha.keys() & hb.keys():
        (kind_a, value_a), (kind_b, value_b) = ha[key], hb[key]
        assert kind_a == kind_b == "cells", (kind_a, value_a)
        assert value_a is value_b
    assert sa.objects > 900  # the board's own: registers, nets, devices, driver state


def test_world_state_restores_closure_cells_slots_and_containers() -> None:
    """The mechanism on its own: a closure's nonlocal counter, a slotted object (a slot
    deleted since), a deque, a set, a bytearray and a random source."""
    import collections
    import random

    class Slotted:
        __slots__ = ("a", "b")
        a: list[int]
        b: int

    def counter() -> Any:
        n = 0

        def bump() -> int:
            nonlocal n
            n += 1
            return n

        return bump

    bump = counter()
    bump()
    obj = Slotted()
    obj.a = [1, 2]
    q: collections.deque[int] = collections.deque([1])
    members = {1, 2}
    memory = bytearray(b"\xff" * 8)
    rng = random.Random(3)
    roots = [bump, obj, q, members, memory, rng]
    state = WorldState(roots)
    drawn = rng.random()
    bump()
    obj.a.append(3)
    obj.b = 5
    q.append(2)
    members.discard(1)
    memory[0] = 0
    state.apply()
    assert bump() == 2
    assert obj.a == [1, 2]
    assert not hasattr(obj, "b")
    assert list(q) == [1]
    assert members == {1, 2}
    assert memory == b"\xff" * 8
    assert rng.random() == drawn


def test_a_snapshot_from_inside_a_process_is_refused() -> None:
    board = Board.from_profile("mirkopc")
    board.world.call_at(100, board.snapshot)
    with pytest.raises(SnapshotError, match="inside the SimPy process"):
        board.run_for(200)
