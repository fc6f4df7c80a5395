"""The tty's receive side is bounded as on the board (issue 11, "Bounded, as on the board").

Linux keeps unread characters in the tty flip buffer (drivers/tty/tty_buffer.c,
``TTYB_DEFAULT_MEM_LIMIT`` = 640 KiB) and in n_tty's read buffer (``N_TTY_BUF_SIZE`` 4096,
4095 used). A character that finds both full is lost and counted by the serial core
(``uart_insert_char``: ``icount.buf_overrun``); the driver reports it as ``UART_OVERRUN``.
"""

from __future__ import annotations

import termios
from collections.abc import Iterator

import pytest
import serial

from pihil_emulator.buses.uart_tty import N_TTY_HOLDS, TTY_FLIP_LIMIT
from rpiboard_pihil import RpiBoard
from rpiboard_pihil.enums import DeviceErrorCode

BAUD = 921_600
"""The loopback runs fast so that filling 640 KiB takes few simulated seconds."""


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    """MirkoPC with its test jig: UART0 TXD wired to RXD (J8-08 to J8-10)."""
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board
    board.close()


def test_unread_input_beyond_flip_and_n_tty_is_lost_and_reported(mirkopc: RpiBoard) -> None:
    uart = mirkopc.uarts[0]
    uart.baud_rate = BAUD
    capacity = TTY_FLIP_LIMIT + N_TTY_HOLDS
    extra = 1000
    payload = bytes(range(256)) * ((capacity + extra) // 256 + 1)
    uart.write(payload)
    assert uart.in_waiting == capacity
    lost = len(payload) - capacity
    errors = mirkopc.ivi_utility.error_query_all()
    overruns = [e for e in errors if e.code == int(DeviceErrorCode.UART_OVERRUN)]
    assert len(overruns) == 1
    assert f"{lost} character(s) lost" in overruns[0].message
    got = uart.read(capacity, 0.0)
    assert got == payload[:capacity]  # the oldest are kept, the newest lost
    uart.write(b"after")
    assert uart.read(5, 0.1) == b"after"  # nothing stuck once the buffer was read


def test_userspace_tty_holds_n_tty_plus_flip_buffer(mirkopc: RpiBoard) -> None:
    capacity = TTY_FLIP_LIMIT + N_TTY_HOLDS
    payload = bytes(range(256)) * ((capacity + 500) // 256 + 1)
    with (
        mirkopc.simulation.userspace(),
        serial.Serial("/dev/ttyAMA0", BAUD, timeout=0) as port,
    ):
        mirkopc.simulation.emulator.soc.blocks["uart0"].tx.send(payload)
        mirkopc.simulation.run_for(len(payload) * 10 / BAUD + 0.01)
        assert port.in_waiting == N_TTY_HOLDS  # TIOCINQ sees n_tty's share
        got = b""
        while chunk := port.read(len(payload)):
            assert len(chunk) <= N_TTY_HOLDS  # a read returns what n_tty holds
            got += chunk
        assert got == payload[:capacity]
        counts = mirkopc.simulation.emulator.soc.blocks["uart0"].error_counts()
        assert counts["buf_overrun"] == len(payload) - capacity


def test_canonical_line_longer_than_n_tty_buffer_still_ends_at_newline(mirkopc: RpiBoard) -> None:
    """n_tty_receive_buf_common "overflow": a full buffer with no complete line takes each new
    character in place of the last, so the newline is kept and the read returns."""
    with (
        mirkopc.simulation.userspace(),
        serial.Serial("/dev/ttyAMA0", BAUD, timeout=1) as port,
    ):
        attrs = termios.tcgetattr(port.fd)
        attrs[3] |= termios.ICANON
        termios.tcsetattr(port.fd, termios.TCSANOW, attrs)
        line = b"x" * 6000 + b"\n"
        port.write(line)
        got = port.readline()
        assert len(got) == N_TTY_HOLDS
        assert got.endswith(b"\n")
        assert set(got[:-1]) == {ord("x")}
