"""A SoC reset under the session (a brown-out with reset_soc): the session follows the board
as Linux does when it boots again, and says so with a BOARD_RESET device error (issue 11,
"Recovery"; driver/HELP.md, DeviceErrorCode)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sim_helpers import exercises, open_sim

from pihil_emulator.faults import BrownOut
from rpiboard_pihil import DeviceErrorCode, Direction, RpiBoard

MS = 1_000_000


@pytest.fixture
def board() -> Iterator[RpiBoard]:
    b = open_sim("mirkopc")
    yield b
    b.close()


@exercises("Simulation.inject", "RpiBoardUtility.error_query_all")
def test_brown_out_reset_is_reported_and_the_session_follows_the_board(board: RpiBoard) -> None:
    i2c = board.i2c_buses[1]
    i2c.frequency_hz = 400_000
    uart = board.uarts[0]
    uart.baud_rate = 9600
    line = board.gpios[17]
    line.set_output(True)
    assert board.ivi_utility.error_query_all() == []
    start = board.simulation.now_ns
    board.simulation.inject(BrownOut(rail="3V3", volts=2.0, at_ns=start + MS, duration_ns=MS))
    board.delay(0.005)
    assert board.simulation.now_ns - start == 5 * MS  # the delay ran its whole length

    errors = board.ivi_utility.error_query_all()
    assert [e.code for e in errors] == [int(DeviceErrorCode.BOARD_RESET)]
    assert "brown-out of 3V3 to 2 V" in errors[0].message
    assert "0.002000000 s" in errors[0].message

    # what the SoC no longer has, the session no longer claims (i2c-bcm2835 probe: 100 kHz)
    assert i2c.frequency_hz == 100_000
    bsc = board.simulation.emulator.soc.blocks["bsc1"]
    core_hz = board.simulation.emulator.soc.variant.core_clock_hz
    assert bsc.read("DIV") == core_hz // 100_000  # SCL = core_clock / CDIV (soc-facts §2, DIV)
    assert uart.baud_rate == 115_200
    assert line.direction is Direction.INPUT
    # and everything works again: the RTC answers, the UART loopback carries data
    assert len(i2c.write_read(0x68, b"\x03", 7)) == 7
    uart.write(b"after the reset")
    assert uart.read(15, 0.1) == b"after the reset"
    line.set_output(False)
    assert board.gpios[27].value is False  # the jig's GPIO17-GPIO27 loop


def test_a_reset_by_hand_is_reported_too(board: RpiBoard) -> None:
    board.simulation.emulator.reset("RUN pin pulled low")
    errors = board.ivi_utility.error_query_all()
    assert len(errors) == 1
    assert "RUN pin pulled low" in errors[0].message


def test_no_reset_no_report(board: RpiBoard) -> None:
    board.simulation.inject(BrownOut(rail="3V3", volts=3.0, duration_ns=MS, reset_soc=False))
    board.delay(0.002)
    assert board.ivi_utility.error_query_all() == []
