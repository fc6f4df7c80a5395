"""The Linux backend's GPIO path on a real kernel: gpiod 2 on gpio-sim (docs/kernel-tier.md).

Runs in the guest only (conftest). gpio-sim (drivers/gpio/gpio-sim.c) keeps an output's level
in ``value``, turns a consumer's bias into the input level (``gpio_sim_set_config`` ->
``gpio_sim_apply_pull``) and an outside ``pull`` write into an edge interrupt (irq_sim), which
gpiolib-cdev timestamps with CLOCK_MONOTONIC and debounces in software (gpio-sim has no
hardware debounce: ``debounce_setup`` in drivers/gpio/gpiolib-cdev.c).
"""

from __future__ import annotations

import time

import gpiod
import pytest

from rpiboard_pihil import RpiBoard
from rpiboard_pihil.backends.base import EdgeEvent
from rpiboard_pihil.enums import Direction, Edge, EdgeKind, Pull

from ..twin.board_io import set_input
from .kernel_sim import drive, sim_pull, sim_value

LINE = 17
OTHER = 27
EDGE_WAIT_S = 1.0  # TCG is slow; the kernel delivers within ~10 ms


def _input(board: RpiBoard, line: int = LINE, edge: Edge = Edge.NONE) -> None:
    set_input(board, line, edge)


def test_the_chip_found_is_gpio_sim_labelled_as_the_bcm2711(board: RpiBoard) -> None:
    with gpiod.Chip("/dev/gpiochip0") as chip:
        ci = chip.get_info()
        assert (ci.label, ci.num_lines) == ("pinctrl-bcm2711", 58)
        assert chip.get_line_info(LINE).name == f"GPIO{LINE}"


@pytest.mark.parametrize("level", [True, False])
def test_output_level_reaches_the_chip(board: RpiBoard, level: bool) -> None:
    g = board.gpios[LINE]
    g.set_output(level)
    assert sim_value(LINE) == int(level)
    g.value = not level
    assert sim_value(LINE) == int(not level)
    assert g.value is (not level)


def test_direction_is_what_the_kernel_reports(board: RpiBoard) -> None:
    g = board.gpios[LINE]
    g.set_output(False)
    assert g.direction is Direction.OUTPUT
    with gpiod.Chip("/dev/gpiochip0") as chip:
        info = chip.get_line_info(LINE)
        assert info.direction == gpiod.line.Direction.OUTPUT
        assert info.used
    g.direction = Direction.INPUT
    assert g.direction is Direction.INPUT
    with gpiod.Chip("/dev/gpiochip0") as chip:
        assert chip.get_line_info(LINE).direction == gpiod.line.Direction.INPUT


@pytest.mark.parametrize(
    ("pull", "level", "sysfs"), [(Pull.UP, True, "pull-up"), (Pull.DOWN, False, "pull-down")]
)
def test_bias_sets_the_undriven_input(board: RpiBoard, pull: Pull, level: bool, sysfs: str) -> None:
    _input(board)
    board.gpios[LINE].pull = pull
    assert board.gpios[LINE].pull is pull
    assert board.gpios[LINE].value is level
    assert sim_pull(LINE) == sysfs


@pytest.mark.parametrize("levels", [(True, False), (False, True)])
def test_outside_level_is_read(board: RpiBoard, levels: tuple[bool, bool]) -> None:
    _input(board, OTHER)
    for level in levels:
        drive(OTHER, level)
        assert board.gpios[OTHER].value is level


def test_both_edges_in_order_with_monotonic_timestamps(board: RpiBoard) -> None:
    _input(board)
    drive(LINE, False)
    board.gpios[LINE].edge_detection = Edge.BOTH
    board.gpios[LINE].read_edges()
    t0 = time.monotonic_ns()
    drive(LINE, True)
    drive(LINE, False)
    events = board.gpios[LINE].wait_edges(EDGE_WAIT_S)
    for _ in range(5):
        if len(events) >= 2:
            break
        events += board.gpios[LINE].wait_edges(EDGE_WAIT_S)
    t1 = time.monotonic_ns()
    assert [e.kind for e in events] == [EdgeKind.RISING, EdgeKind.FALLING]
    assert all(e.gpio == LINE for e in events)
    assert t0 <= events[0].timestamp_ns <= events[1].timestamp_ns <= t1
    assert events[1].seqno == events[0].seqno + 1


@pytest.mark.parametrize(
    ("edge", "kind"), [(Edge.RISING, EdgeKind.RISING), (Edge.FALLING, EdgeKind.FALLING)]
)
def test_one_edge_kind_only(board: RpiBoard, edge: Edge, kind: EdgeKind) -> None:
    _input(board)
    drive(LINE, False)
    board.gpios[LINE].edge_detection = edge
    assert board.gpios[LINE].edge_detection is edge
    board.gpios[LINE].read_edges()
    for level in (True, False, True, False):
        drive(LINE, level)
    events: list[EdgeEvent] = []
    for _ in range(5):
        events += board.gpios[LINE].wait_edges(EDGE_WAIT_S)
        if len(events) >= 2:
            break
    assert [e.kind for e in events] == [kind, kind]


def test_no_edges_reported_without_detection(board: RpiBoard) -> None:
    _input(board)
    drive(LINE, False)
    drive(LINE, True)
    board.gpios[LINE].edge_detection = Edge.BOTH
    assert board.gpios[LINE].read_edges() == []


def test_debounce_swallows_a_short_glitch(board: RpiBoard) -> None:
    """gpiolib-cdev's software debounce: a pulse shorter than the period is not reported."""
    _input(board)
    drive(LINE, False)
    g = board.gpios[LINE]
    g.edge_detection = Edge.BOTH
    g.debounce_s = 0.5
    assert g.debounce_s == pytest.approx(0.5)
    g.read_edges()
    drive(LINE, True)
    drive(LINE, False)  # back within microseconds: a glitch
    assert g.wait_edges(1.0) == []
    drive(LINE, True)  # held: reported once the line has been stable for 0.5 s
    events = g.wait_edges(2.0)
    assert [e.kind for e in events] == [EdgeKind.RISING]
