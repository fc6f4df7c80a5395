"""Twin selection, UART: write and read back through the board's TXD-RXD loopback.

On the emulator uart0 is the BCM2711's PL011 on GPIO14/15 with the profile's jumper; in the
guest it is QEMU's second 16550 (/dev/ttyS1, 8250 driver) whose host side sends every byte
back (ci/kernel/run.py). Both are driven through the Linux backend's pyserial in the guest
and the emulated PL011 on the emulator.
"""

from __future__ import annotations

import pytest

from rpiboard_pihil import RpiBoard

from .board_io import loop

UART = "uart0"
READ_S = 2.0


@pytest.mark.parametrize("baud", [9600, 115200])
def test_loopback_round_trip(board: RpiBoard, baud: int) -> None:
    board.uarts[UART].baud_rate = baud
    payload = bytes(range(256))
    assert loop(board, UART, payload, READ_S) == payload


def test_in_waiting_then_discard(board: RpiBoard) -> None:
    u = board.uarts[UART]
    u.discard_input()
    u.write(b"12345")
    u.flush()
    assert u.read(1, timeout_s=READ_S) == b"1"
    for _ in range(50):
        if u.in_waiting >= 4:
            break
        board.delay(0.02)
    assert u.in_waiting == 4
    u.discard_input()
    assert u.in_waiting == 0


def test_read_times_out_empty(board: RpiBoard) -> None:
    board.uarts[UART].discard_input()
    assert board.uarts[UART].read(8, timeout_s=0.2) == b""
