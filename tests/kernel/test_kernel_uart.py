"""The Linux backend's UART path on a real kernel tty: pyserial on the guest's /dev/ttyS1.

ttyS1 is QEMU's second 16550A (8250 driver); its host side is a UDP chardev that sends to its
own port, so every transmitted byte comes back as received (a TXD-RXD jumper; the kernel-sim
profile has the same jumper for the emulator). QEMU's 16550 takes any baud rate and format
(the host side carries bytes, not bit times) and a break is not looped.
"""

from __future__ import annotations

import pytest

from rpiboard_pihil import RpiBoard
from rpiboard_pihil.enums import Parity

from ..twin.board_io import loop

UART = "uart0"
READ_S = 2.0  # TCG and the UDP loop: generous, the read returns as soon as the bytes are in


def _loop(board: RpiBoard, payload: bytes) -> bytes:
    return loop(board, UART, payload, READ_S)


def test_profile_names_ttys1(board: RpiBoard) -> None:
    assert board.uarts[UART].kind == "pl011"
    assert _loop(board, b"x") == b"x"


@pytest.mark.parametrize("baud", [9600, 115200, 921600])
def test_loopback_at_baud_rates(board: RpiBoard, baud: int) -> None:
    board.uarts[UART].baud_rate = baud
    payload = bytes(range(256))
    assert _loop(board, payload) == payload


def test_format_change_on_the_open_tty(board: RpiBoard) -> None:
    u = board.uarts[UART]
    assert _loop(board, b"before") == b"before"
    u.data_bits = 7
    u.parity = Parity.EVEN
    u.stop_bits = 2
    assert (u.data_bits, u.parity, u.stop_bits) == (7, Parity.EVEN, 2)
    assert _loop(board, b"7E2 ascii") == b"7E2 ascii"


# in_waiting, discard and an empty read's timeout are twins: tests/twin/test_twin_uart.py


def test_break_then_data(board: RpiBoard) -> None:
    u = board.uarts[UART]
    u.send_break(0.05)
    assert _loop(board, b"after break") == b"after break"
