"""Twin selection, GPIO: direction, levels, pulls and edges through the driver's public API.

On the emulator these reach the BCM2711's GPIO block (soc-facts §3: GPFSEL, GPSET/GPCLR,
GPLEV, the pull registers, GPEDS with GPREN/GPFEN); in the guest the Linux backend's gpiod 2
requests on gpio-sim (drivers/gpio/gpio-sim.c; edges through gpiolib-cdev, timestamps from
CLOCK_MONOTONIC). Differences between the two are listed in docs/kernel-tier.md.
"""

from __future__ import annotations

import pytest

from rpiboard_pihil import RpiBoard
from rpiboard_pihil.backends.base import EdgeEvent
from rpiboard_pihil.enums import Direction, Edge, EdgeKind, Pull

from .board_io import set_input as _input
from .conftest import Drive

LINE = 17
OTHER = 27
SETTLE_S = 0.01
EDGE_WAIT_S = 1.0


def _edges(board: RpiBoard, line: int, want: int) -> list[EdgeEvent]:
    events: list[EdgeEvent] = []
    for _ in range(5):
        events += board.gpios[line].wait_edges(EDGE_WAIT_S)
        if len(events) >= want:
            break
    return events


@pytest.mark.parametrize("level", [True, False])
def test_output_level_reads_back(board: RpiBoard, level: bool) -> None:
    g = board.gpios[LINE]
    g.set_output(level)
    assert g.direction is Direction.OUTPUT
    assert g.value is level
    g.value = not level
    assert g.value is (not level)


def test_direction_round_trip(board: RpiBoard) -> None:
    g = board.gpios[LINE]
    g.set_output(False)
    assert g.direction is Direction.OUTPUT
    g.direction = Direction.INPUT
    assert g.direction is Direction.INPUT


@pytest.mark.parametrize(("pull", "level"), [(Pull.UP, True), (Pull.DOWN, False)])
def test_pull_sets_the_undriven_input(board: RpiBoard, pull: Pull, level: bool) -> None:
    _input(board, LINE)
    board.gpios[LINE].pull = pull
    board.delay(SETTLE_S)
    assert board.gpios[LINE].pull is pull
    assert board.gpios[LINE].value is level


@pytest.mark.parametrize("levels", [(True, False), (False, True)])
def test_outside_level_is_read(board: RpiBoard, outside: Drive, levels: tuple[bool, bool]) -> None:
    _input(board, OTHER)
    for level in levels:
        outside(OTHER, level)
        board.delay(SETTLE_S)
        assert board.gpios[OTHER].value is level


def test_both_edges_in_order(board: RpiBoard, outside: Drive) -> None:
    _input(board, LINE)
    outside(LINE, False)
    board.delay(SETTLE_S)
    board.gpios[LINE].edge_detection = Edge.BOTH
    board.gpios[LINE].read_edges()
    outside(LINE, True)
    board.delay(SETTLE_S)
    outside(LINE, False)
    events = _edges(board, LINE, 2)
    assert [e.kind for e in events] == [EdgeKind.RISING, EdgeKind.FALLING]
    assert all(e.gpio == LINE for e in events)
    assert events[0].timestamp_ns < events[1].timestamp_ns
    assert events[1].seqno == events[0].seqno + 1


@pytest.mark.parametrize(
    ("edge", "kind"), [(Edge.RISING, EdgeKind.RISING), (Edge.FALLING, EdgeKind.FALLING)]
)
def test_one_edge_kind_only(board: RpiBoard, outside: Drive, edge: Edge, kind: EdgeKind) -> None:
    _input(board, LINE)
    outside(LINE, False)
    board.delay(SETTLE_S)
    board.gpios[LINE].edge_detection = edge
    board.gpios[LINE].read_edges()
    for level in (True, False, True, False):
        outside(LINE, level)
        board.delay(SETTLE_S)
    assert [e.kind for e in _edges(board, LINE, 2)] == [kind, kind]


def test_no_edges_without_detection(board: RpiBoard, outside: Drive) -> None:
    _input(board, LINE)
    outside(LINE, False)
    board.delay(SETTLE_S)
    outside(LINE, True)
    board.delay(SETTLE_S)
    board.gpios[LINE].edge_detection = Edge.BOTH
    assert board.gpios[LINE].read_edges() == []
