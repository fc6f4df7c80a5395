"""GPIO set-and-read round trips through `RpiBoard` in simulation vs gpiozero's MockFactory.

DESIGN "Performance goals": GPIO set+read round trips through the driver in simulation at
least as fast as gpiozero's ``MockFactory`` doing the same. Both loops run in the same
process, one after the other, best of three; the ratio is printed (no timed assertion).
Ours goes through the whole stack: the IVI API, the session lock, the simulated backend,
the GPIO block's GPSET/GPCLR/GPLEV registers and the net's electrical resolution; the
emulator-only figure (the registers written directly) is printed beside it, as the floor
the driver adds to. Run with ``tox -e bench``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

from pihil_emulator.board import Board
from rpiboard_pihil import Direction, RpiBoard

ROUND_TRIPS = 20_000
LINE = 23  # on the MirkoPC header and wired to nothing


def _best_of(runs: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(runs))


def _ours() -> float:
    with RpiBoard("local", options={"simulate": True, "board": "mirkopc"}) as board:
        g = board.gpios[LINE]
        g.direction = Direction.OUTPUT
        mismatches = 0
        t0 = time.perf_counter()
        for i in range(ROUND_TRIPS):
            v = bool(i & 1)
            g.value = v
            if g.value is not v:
                mismatches += 1
        wall = time.perf_counter() - t0
    assert mismatches == 0
    return wall / ROUND_TRIPS


def _emulator_registers_only() -> float:
    board = Board.from_profile("mirkopc")
    gpio = board.gpio
    gpio.set_function(LINE, "output")
    write, read = gpio.write, gpio.read
    bit = 1 << LINE
    mismatches = 0
    t0 = time.perf_counter()
    for i in range(ROUND_TRIPS):
        write("GPSET0" if i & 1 else "GPCLR0", bit)
        if bool(read("GPLEV0") & bit) is not bool(i & 1):
            mismatches += 1
    wall = time.perf_counter() - t0
    assert mismatches == 0
    return wall / ROUND_TRIPS


def _gpiozero_mock() -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MockFactory warns about fallback pin factories
        from gpiozero.pins.mock import MockFactory

        factory = MockFactory()
        pin = factory.pin(LINE)
        pin.function = "output"
        mismatches = 0
        t0 = time.perf_counter()
        for i in range(ROUND_TRIPS):
            v = i & 1
            pin.state = v
            if pin.state != v:
                mismatches += 1
        wall = time.perf_counter() - t0
        factory.close()
    assert mismatches == 0
    return wall / ROUND_TRIPS


def test_gpio_round_trip_vs_gpiozero_mock_factory() -> None:
    """Figures printed: µs per set+read round trip and the ratio (goal: ratio <= 1)."""
    ours = _best_of(3, _ours)
    floor = _best_of(3, _emulator_registers_only)
    mock = _best_of(3, _gpiozero_mock)
    print(
        f"\nGPIO set+read round trip: RpiBoard (simulated) {ours * 1e6:.2f} us, "
        f"gpiozero MockFactory {mock * 1e6:.2f} us, ratio ours/gpiozero {ours / mock:.2f} "
        f"(goal <= 1); emulator registers alone {floor * 1e6:.2f} us "
        f"(driver adds {(ours - floor) * 1e6:.2f} us)"
    )
