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

UART = "uart0"
READ_S = 2.0  # TCG and the UDP loop: generous, the read returns as soon as the bytes are in


def _loop(board: RpiBoard, payload: bytes) -> bytes:
    u = board.uarts[UART]
    u.discard_input()
    u.write(payload)
    u.flush()
    return u.read(len(payload), timeout_s=READ_S)


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


def test_in_waiting_and_discard(board: RpiBoard) -> None:
    u = board.uarts[UART]
    u.discard_input()
    u.write(b"12345")
    u.flush()
    got = u.read(1, timeout_s=READ_S)
    assert got == b"1"
    for _ in range(50):
        if u.in_waiting >= 4:
            break
        board.delay(0.02)
    assert u.in_waiting == 4
    u.discard_input()
    assert u.in_waiting == 0
    assert u.read(4, timeout_s=0.1) == b""


def test_read_times_out_empty(board: RpiBoard) -> None:
    board.uarts[UART].discard_input()
    assert board.uarts[UART].read(8, timeout_s=0.2) == b""


def test_break_then_data(board: RpiBoard) -> None:
    u = board.uarts[UART]
    u.send_break(0.05)
    assert _loop(board, b"after break") == b"after break"
