"""When a read on the board's PL011 tty gets received bytes, and termios VMIN/VTIME.

The bytes reach the tty when amba-pl011's interrupt handler drains the RX FIFO
(``pl011_int`` → ``pl011_fifo_to_tty``): at the RX interrupt, when the FIFO reaches its
IFLS level (``vendor_arm.ifls`` RX4_8: 16 of 32), or at the receive timeout, 32 bit periods
after the last character with the FIFO not empty (PL011 TRM UARTRTINTR). termios(3) for the
non-canonical read: VMIN > 0, VTIME = 0 blocks until VMIN bytes are available and returns
what is there up to the count asked; VMIN = 0, VTIME > 0 waits up to VTIME tenths of a
second for a byte; both > 0: VTIME is an inter-byte timer started after the first byte;
both 0 returns at once with what is available. The MirkoPC's jig wires UART0 TXD to RXD.
"""

from __future__ import annotations

import os
import termios
import time
from collections.abc import Iterator

import pytest
import serial

from rpiboard_pihil import RpiBoard

BAUD = 9600
BIT_S = 1 / BAUD
CHAR_S = 10 * BIT_S  # 8N1
RT_S = 32 * BIT_S  # the PL011's receive timeout


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board
    board.close()


def raw_fd(vmin: int, vtime: int) -> int:
    fd = os.open("/dev/ttyAMA0", os.O_RDWR | os.O_NOCTTY)
    attrs = termios.tcgetattr(fd)
    attrs[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG)
    attrs[1] &= ~termios.OPOST
    attrs[4] = attrs[5] = termios.B9600
    attrs[6][termios.VMIN], attrs[6][termios.VTIME] = vmin, vtime
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    return fd


def test_pyserial_gets_a_short_reply_at_the_receive_timeout(mirkopc: RpiBoard) -> None:
    """Six bytes stay below the RX trigger: pyserial's read(6) returns when the receive
    timeout hands them over, 32 bit periods after the last stop bit (sampled mid-bit)."""
    with mirkopc.simulation.userspace(), serial.Serial("/dev/ttyAMA0", BAUD, timeout=1) as port:
        t0 = time.monotonic()
        assert port.write(b"hello\n") == 6
        assert port.read(6) == b"hello\n"
        took = time.monotonic() - t0
    assert took == pytest.approx(6 * CHAR_S - BIT_S / 2 + RT_S, abs=BIT_S / 4)


def test_vmin_without_vtime_returns_everything_the_interrupt_delivered(
    mirkopc: RpiBoard,
) -> None:
    """VMIN=4 VTIME=0: the read blocks until 4 bytes are available; the receive timeout
    delivers all 6 at once, and n_tty copies all that is there (up to the 10 asked)."""
    with mirkopc.simulation.userspace():
        fd = raw_fd(4, 0)
        try:
            t0 = time.monotonic()
            os.write(fd, b"abcdef")
            assert os.read(fd, 10) == b"abcdef"
            took = time.monotonic() - t0
        finally:
            os.close(fd)
    assert took == pytest.approx(6 * CHAR_S - BIT_S / 2 + RT_S, abs=BIT_S / 4)


def test_vmin_0_vtime_0_sees_nothing_until_the_driver_has_it(mirkopc: RpiBoard) -> None:
    """VMIN=0 VTIME=0 returns at once: after the third stop bit the bytes are still in the
    PL011's FIFO (below the trigger, timeout not run out): empty; after the timeout: all."""
    with mirkopc.simulation.userspace():
        fd = raw_fd(0, 0)
        try:
            os.write(fd, b"xyz")  # into the transmit buffer: returns at once
            assert os.read(fd, 10) == b""
            time.sleep(3 * CHAR_S)  # all three stop bits sampled
            assert os.read(fd, 10) == b""
            time.sleep(RT_S - BIT_S)  # just before the receive timeout
            assert os.read(fd, 10) == b""
            time.sleep(BIT_S)
            assert os.read(fd, 10) == b"xyz"
        finally:
            os.close(fd)


def test_vmin_0_vtime_waits_up_to_vtime_for_the_first_delivery(mirkopc: RpiBoard) -> None:
    """VMIN=0 VTIME=1: a read waits up to 0.1 s and returns as soon as the driver has a
    byte: here at the receive timeout after the two bytes; with nothing sent, after 0.1 s."""
    with mirkopc.simulation.userspace():
        fd = raw_fd(0, 1)
        try:
            t0 = time.monotonic()
            os.write(fd, b"ok")
            assert os.read(fd, 10) == b"ok"
            assert time.monotonic() - t0 == pytest.approx(
                2 * CHAR_S - BIT_S / 2 + RT_S, abs=BIT_S / 4
            )
            t1 = time.monotonic()
            assert os.read(fd, 10) == b""
            assert time.monotonic() - t1 == pytest.approx(0.1, abs=1e-6)
        finally:
            os.close(fd)


def test_vmin_and_vtime_an_inter_byte_timer_across_interrupts(mirkopc: RpiBoard) -> None:
    """VMIN=20 VTIME=1 (inter-byte timer 0.1 s, started by the first byte): 20 bytes arrive as
    16 at the RX trigger, then 4 at the receive timeout 4 characters + 32 bits later, well
    inside the timer, so one read returns all 20 at that moment."""
    data = bytes(range(65, 85))
    with mirkopc.simulation.userspace():
        fd = raw_fd(20, 1)
        try:
            t0 = time.monotonic()
            os.write(fd, data)
            assert os.read(fd, 100) == data
            took = time.monotonic() - t0
        finally:
            os.close(fd)
    assert took == pytest.approx(20 * CHAR_S - BIT_S / 2 + RT_S, abs=BIT_S / 4)


def test_vmin_and_vtime_return_what_came_when_the_timer_runs_out(mirkopc: RpiBoard) -> None:
    """VMIN=30 VTIME=1: after the 16 of the RX trigger and the 4 of the receive timeout no
    byte comes within 0.1 s of the last delivery: the read returns the 20 it has then."""
    data = bytes(range(97, 117))
    with mirkopc.simulation.userspace():
        fd = raw_fd(30, 1)
        try:
            t0 = time.monotonic()
            os.write(fd, data)
            assert os.read(fd, 100) == data
            took = time.monotonic() - t0
        finally:
            os.close(fd)
    assert took == pytest.approx(20 * CHAR_S - BIT_S / 2 + RT_S + 0.1, abs=BIT_S / 4)
