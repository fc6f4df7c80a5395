"""GPIO set-and-read round trips through `RpiBoard` in simulation vs gpiozero's MockFactory.

DESIGN "Performance goals": GPIO set+read round trips through the driver in simulation at
least as fast as gpiozero's ``MockFactory`` doing the same. Per round trip each side sets an
output and reads the pin back through a library's public API:

- ours: ``gpio.value = v`` then ``gpio.value``: the IVI API, the session lock, the simulated
  backend, a GPSET/GPCLR write and a GPLEV read of the GPIO block, the net's electrical
  resolution and the block's edge bookkeeping;
- gpiozero's user API: ``DigitalOutputDevice.value = v`` then ``.value`` on MockFactory pins
  (what a gpiozero test does; ``LED.on()``/``off()`` with ``is_lit`` costs about the same);
- gpiozero's pin layer, under its devices: ``MockPin.state = v`` then ``.state`` (a
  variable and a timestamped history, no registers, no electrical model, no lock).

Both ratios are printed: ours against gpiozero's user API (like for like) and against its
bare pin (our whole stack against the thinnest thing gpiozero has). The emulator alone (the
registers written directly) is printed as the floor the driver adds to. The sides run in
turns, five rounds, best of each, timed by this thread's CPU clock so that time the
scheduler gives to other processes on a shared machine is not counted (the same clock for
every side). No timed assertion. Run with ``tox -e bench``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

from pihil_emulator.board import Board
from rpiboard_pihil import Direction, RpiBoard

ROUND_TRIPS = 20_000
ROUNDS = 5
LINE = 23  # on the MirkoPC header and wired to nothing
clock = time.thread_time


def _ours() -> float:
    with RpiBoard("local", options={"simulate": True, "board": "mirkopc"}) as board:
        g = board.gpios[LINE]
        g.direction = Direction.OUTPUT
        mismatches = 0
        t0 = clock()
        for i in range(ROUND_TRIPS):
            v = bool(i & 1)
            g.value = v
            if g.value is not v:
                mismatches += 1
        cpu = clock() - t0
    assert mismatches == 0
    return cpu / ROUND_TRIPS


def _emulator_registers_only() -> float:
    board = Board.from_profile("mirkopc")
    gpio = board.gpio
    gpio.set_function(LINE, "output")
    write, read = gpio.write, gpio.read
    bit = 1 << LINE
    mismatches = 0
    t0 = clock()
    for i in range(ROUND_TRIPS):
        write("GPSET0" if i & 1 else "GPCLR0", bit)
        if bool(read("GPLEV0") & bit) is not bool(i & 1):
            mismatches += 1
    cpu = clock() - t0
    assert mismatches == 0
    return cpu / ROUND_TRIPS


def _gpiozero_device() -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MockFactory warns about fallback pin factories
        from gpiozero import DigitalOutputDevice
        from gpiozero.pins.mock import MockFactory

        factory = MockFactory()
        line = DigitalOutputDevice(LINE, pin_factory=factory)
        mismatches = 0
        t0 = clock()
        for i in range(ROUND_TRIPS):
            v = i & 1
            line.value = v
            if line.value != v:
                mismatches += 1
        cpu = clock() - t0
        line.close()
        factory.close()
    assert mismatches == 0
    return cpu / ROUND_TRIPS


def _gpiozero_pin() -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from gpiozero.pins.mock import MockFactory

        factory = MockFactory()
        pin = factory.pin(LINE)
        pin.function = "output"
        mismatches = 0
        t0 = clock()
        for i in range(ROUND_TRIPS):
            v = i & 1
            pin.state = v
            if pin.state != v:
                mismatches += 1
        cpu = clock() - t0
        factory.close()
    assert mismatches == 0
    return cpu / ROUND_TRIPS


def test_gpio_round_trip_vs_gpiozero_mock_factory() -> None:
    """Figures printed: µs per set+read round trip and the ratios (goal: ratio <= 1)."""
    sides: dict[str, Callable[[], float]] = {
        "ours": _ours,
        "floor": _emulator_registers_only,
        "device": _gpiozero_device,
        "pin": _gpiozero_pin,
    }
    best = dict.fromkeys(sides, float("inf"))
    for _ in range(ROUNDS):
        for name, run in sides.items():
            best[name] = min(best[name], run())
    ours, floor, device, pin = (best[k] * 1e6 for k in ("ours", "floor", "device", "pin"))
    print(
        f"\nGPIO set+read round trip (µs, CPU time, best of {ROUNDS}): "
        f"RpiBoard (simulated) {ours:.2f}; gpiozero MockFactory: DigitalOutputDevice.value "
        f"{device:.2f}, MockPin.state {pin:.2f}. "
        f"Ratio ours/gpiozero (goal <= 1): {ours / device:.2f} against its user API, "
        f"{ours / pin:.2f} against its bare pin. "
        f"Emulator registers alone {floor:.2f} (driver adds {ours - floor:.2f})"
    )
