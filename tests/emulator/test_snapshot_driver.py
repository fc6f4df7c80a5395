"""Snapshots through the driver (rpiboard_pihil.backends.sim_snapshot) and the Hypothesis
helper (pytest_pihil.fresh): the driver's session state goes back with the board, the
emulator's refusals arrive as driver errors, and each example of a property starts from
the same board (issue 13 item 4)."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_pihil import fresh
from pytest_pihil.fresh import (
    baseline,
    fresh_board,
    mark_baseline,
    start_test,
    take_snapshot,
    with_fresh_board,
)
from rpiboard_pihil import RpiBoard
from rpiboard_pihil.backends import sim_snapshot
from rpiboard_pihil.backends.base import UartFormat
from rpiboard_pihil.enums import Direction, Parity, Pull
from rpiboard_pihil.errors import ConfigurationError, PihilError

from .test_snapshot_rig import TRAFFIC, Op, fingerprint, open_board, ops, run_ops


def _driver_state(board: RpiBoard) -> tuple[Any, ...]:
    g17, g27 = board.gpios[17], board.gpios[27]
    return (g17.direction, g27.pull, board.uarts[0].format, board.i2c_buses["i2c1"].frequency_hz)


def test_the_driver_session_goes_back_with_the_board() -> None:
    board = open_board()
    run_ops(board, TRAFFIC[:2])
    snap = sim_snapshot.snapshot(board.simulation)
    state, emulator = _driver_state(board), fingerprint(board.simulation.emulator)
    board.gpios[17].set_output(True)
    board.gpios[27].pull = Pull.UP
    board.uarts[0].format = UartFormat(9600, 7, Parity.EVEN, 2)
    board.i2c_buses["i2c1"].frequency_hz = 400_000
    assert _driver_state(board) != state
    sim_snapshot.restore(board.simulation, snap)
    assert _driver_state(board) == state
    assert board.gpios[17].direction is Direction.OUTPUT  # as it was at the snapshot (TRAFFIC)
    assert fingerprint(board.simulation.emulator) == emulator
    assert run_ops(board, TRAFFIC) == run_ops(open_board_at(TRAFFIC[:2]), TRAFFIC)


def open_board_at(done: list[Op]) -> RpiBoard:
    fresh = open_board()
    run_ops(fresh, done)
    return fresh


def test_refusals_are_driver_errors_and_a_closed_board_refuses() -> None:
    board = open_board()
    other = open_board()
    snap = sim_snapshot.snapshot(board.simulation)
    with pytest.raises(ConfigurationError, match="only into the board it was taken of"):
        sim_snapshot.restore(other.simulation, snap)
    board.simulation.emulator.devices["ir_receiver"].fire_nec(0x00, 0x45)
    board.delay(0.001)
    with pytest.raises(ConfigurationError, match="still running"):
        sim_snapshot.snapshot(board.simulation)
    simulation = board.simulation
    board.close()
    with pytest.raises(PihilError, match="closed"):
        sim_snapshot.restore(simulation, snap)


def test_fresh_board_starts_every_use_from_the_baseline() -> None:
    board = open_board()
    run_ops(board, TRAFFIC[:1])
    snap = mark_baseline(board)
    assert baseline(board) is snap
    start = fingerprint(board.simulation.emulator)
    transcripts = []
    for _ in range(3):
        with fresh_board(board) as same:
            assert same is board
            assert fingerprint(board.simulation.emulator) == start
            transcripts.append(run_ops(board, TRAFFIC))
    assert transcripts[0] == transcripts[1] == transcripts[2]
    with fresh_board(board, take_snapshot(board)):  # an explicit snapshot
        assert fingerprint(board.simulation.emulator) != start


_EXPECTED: dict[tuple[Op, ...], list[tuple[Any, int]]] = {}


@functools.cache
def _property_board() -> RpiBoard:
    """One board for every example (as the plugin's ``board`` fixture gives one per test;
    given here by a strategy, so that this module leaves the plugin idle)."""
    return open_board()


@settings(max_examples=15, deadline=None)
@given(board=st.builds(_property_board), traffic=ops())
@with_fresh_board
def test_with_fresh_board_each_example_sees_the_same_board(
    board: RpiBoard, traffic: list[Op]
) -> None:
    """The same traffic gives the same transcript as on a newly opened board, whatever
    the earlier examples did to the board."""
    got = run_ops(board, traffic)
    key = tuple(traffic)
    if key not in _EXPECTED:
        _EXPECTED[key] = run_ops(open_board(), traffic)
    assert got == _EXPECTED[key]


def test_with_fresh_board_needs_a_board_argument() -> None:
    with pytest.raises(TypeError, match="no 'board' argument"):
        with_fresh_board(lambda x: x)
    with (
        pytest.raises(ConfigurationError, match="takes the RpiBoard"),
        fresh_board("board"),  # type: ignore[arg-type]
    ):
        pass


def test_start_test_gives_each_test_the_session_start_and_a_new_baseline() -> None:
    """The board fixture's reset by snapshot (pytest_pihil.fresh.start_test): the first
    call resets and snapshots, later ones restore that, whatever the test before did."""
    board = open_board()
    start_test(board)
    start = fingerprint(board.simulation.emulator)
    run_ops(board, TRAFFIC)
    with fresh_board(board):  # this "test"'s baseline: the board after TRAFFIC
        after = fingerprint(board.simulation.emulator)
    start_test(board)  # the next test
    assert fingerprint(board.simulation.emulator) == start
    with fresh_board(board):  # a new baseline, taken now
        assert fingerprint(board.simulation.emulator) == start != after


def test_an_open_userspace_is_refused_and_a_closed_one_is_fine() -> None:
    """Open device files, tty buffers and threads live outside the board: refused."""
    board = open_board()
    snap = sim_snapshot.snapshot(board.simulation)
    with board.simulation.userspace(epoch_s=0.0):
        with pytest.raises(ConfigurationError, match="userspace is open"):
            sim_snapshot.snapshot(board.simulation)
        with pytest.raises(ConfigurationError, match="userspace is open"):
            sim_snapshot.restore(board.simulation, snap)
    sim_snapshot.restore(board.simulation, snap)
    assert isinstance(sim_snapshot.snapshot(board.simulation).time_ns, int)


def test_start_test_resets_what_it_cannot_snapshot() -> None:
    """A conftest's stand-in board, and a board busy at the first test: reset every time."""

    class Utility:
        resets = 0

        def reset(self) -> None:
            Utility.resets += 1

    class StandIn:
        ivi_utility = Utility()

    stand_in = StandIn()
    start_test(stand_in)
    start_test(stand_in)
    assert Utility.resets == 2
    board = open_board()
    board.simulation.emulator.devices["ir_receiver"].fire_nec(0x00, 0x45)
    board.delay(0.001)  # a frame being played when the session starts: no snapshot
    start_test(board)
    refused = fresh._SESSION_STARTS[board]
    assert isinstance(refused, fresh._NoSnapshot)
    assert "still running" in refused.why
    board.gpios[5].set_output(True)
    start_test(board)  # reset, not restored
    assert board.gpios[5].direction is Direction.INPUT
