"""Adafruit Blinka's ``digitalio`` on the emulated boards: Blinka 10 drives a Raspberry Pi's
pins through libgpiod 2 (``adafruit_blinka.microcontroller.generic_linux.raspberry_pi_pin``:
it globs ``/dev/gpiochip*``, picks the chip labelled ``pinctrl-bcm2711``/``pinctrl-bcm2835``
and requests lines with ``gpiod.request_lines``), so this is third-party gpiod 2 code running
unmodified on the emulated ``/dev/gpiochip0`` (`gpio_cdev`).

The MirkoPC test jig's loop wire J8-11/J8-13 (profile ``test_jig.jumpers``) joins GPIO17 to
GPIO27; an undriven input reads the pull it is given (soc-facts §3.6: pull-up/down).
"""

from __future__ import annotations

import errno
import time
from collections.abc import Iterator

import pytest

from rpiboard_pihil import RpiBoard


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board
    board.close()


def test_an_output_pin_drives_an_input_pin_over_the_jig_loop(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        import board
        import digitalio

        led = digitalio.DigitalInOut(board.D17)
        led.direction = digitalio.Direction.OUTPUT
        sense = digitalio.DigitalInOut(board.D27)
        sense.direction = digitalio.Direction.INPUT
        levels = []
        for value in (True, False, True):
            led.value = value
            time.sleep(0.001)
            levels.append(sense.value)
        assert levels == [True, False, True]
        assert mirkopc.simulation.emulator.soc.gpio.level(27) == 1  # the model agrees
        led.deinit()
        sense.deinit()


def test_a_pull_sets_the_level_of_an_undriven_input(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        import board
        import digitalio

        pin = digitalio.DigitalInOut(board.D23)  # J8-16: nothing on it on the MirkoPC
        pin.switch_to_input(pull=digitalio.Pull.DOWN)
        time.sleep(0.001)
        assert pin.value is False
        pin.pull = digitalio.Pull.UP
        time.sleep(0.001)
        assert pin.value is True
        pin.deinit()


def test_a_pin_in_use_is_refused_as_the_kernel_refuses_it(mirkopc: RpiBoard) -> None:
    """A second DigitalInOut on a line already requested: gpiod_request's EBUSY, the error a
    program on the board gets, not a traceback from inside pihil."""
    with mirkopc.simulation.userspace():
        import board
        import digitalio

        first = digitalio.DigitalInOut(board.D17)
        with pytest.raises(OSError, match="busy") as busy:
            digitalio.DigitalInOut(board.D17)
        assert busy.value.errno == errno.EBUSY
        first.deinit()
        digitalio.DigitalInOut(board.D17).deinit()  # released: free again
