"""Userspace.pty(name): a real pseudo-terminal wired to a board UART, for programs outside
Python. The child processes here are bounded (a timeout) and their result does not depend
on how fast this machine is: a whole line arrives, a reply comes back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pynmea2  # type: ignore[import-untyped]
import pytest

from pihil_emulator.devices.nmea_gps import NmeaGps
from pihil_emulator.userspace.pty_bridge import bridges_of
from rpiboard_pihil import RpiBoard

ROUND_TRIP = """
import os, sys, tty
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
os.write(fd, b"ping\\n")
got = b""
while not got.endswith(b"\\n"):
    got += os.read(fd, 64)
sys.stdout.write(got.decode())
"""

READ_LINE = """
import sys
with open(sys.argv[1], "rb", buffering=0) as tty:
    line = b""
    while not line.startswith(b"$GPRMC"):
        line = tty.readline()
sys.stdout.write(line.decode())
"""

SET_BAUD = """
import os, sys, termios
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
attrs = termios.tcgetattr(fd)
attrs[4] = attrs[5] = termios.B19200
termios.tcsetattr(fd, termios.TCSANOW, attrs)
os.write(fd, b"x")
"""


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board
    board.close()


def _run(code: str, path: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, path], capture_output=True, timeout=60, check=True
    )
    return done.stdout.decode()


def test_program_on_the_pty_talks_through_the_uart_loopback(mirkopc: RpiBoard) -> None:
    """A program writes to the pty slave: the bytes go out on UART0's TX, come back over the
    MirkoPC jig's J8-08/J8-10 loopback wire into the PL011 and out of the slave again."""
    with mirkopc.simulation.userspace() as space:
        path = space.pty("uart0")
        assert os.path.exists(path)
        assert _run(ROUND_TRIP, path) == "ping\n"
        tty = mirkopc.simulation.emulator.soc.blocks["uart0"].tty
        assert tty.received >= 5  # the PL011 really received them
    assert not os.path.exists(path)  # closed on leaving


def test_program_reads_a_gps_sentence_from_the_pty(mirkopc: RpiBoard) -> None:
    """A program reading the pty like ``cat /dev/ttyAMA0`` (canonical mode, ICRNL: lines end
    in \\n) gets the GPS's RMC sentence, which pynmea2 accepts."""
    emulator = mirkopc.simulation.emulator
    for wire in list(emulator.circuit.wires):
        if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
            mirkopc.simulation.disconnect(wire)
    gps = NmeaGps("gps")
    mirkopc.simulation.attach(gps, bus="uart0")
    with mirkopc.simulation.userspace() as space:
        path = space.pty("serial0")
        line = _run(READ_LINE, path)
    message = pynmea2.parse(line.strip(), check=True)
    assert message.sentence_type == "RMC"
    assert message.latitude == pytest.approx(gps.fix.latitude, abs=1e-5)


def test_baud_rate_set_on_the_slave_reaches_the_uart(mirkopc: RpiBoard) -> None:
    """tcsetattr on the slave (as ``stty -F`` or ``minicom -b`` do) reprograms the PL011."""
    with mirkopc.simulation.userspace() as space:
        path = space.pty("/dev/ttyAMA0")
        _run(SET_BAUD, path)
        bridge = bridges_of(space)[0]
        bridge._pump()
        assert mirkopc.uarts[0].baud_rate == 19200


def test_unknown_uart_names_the_legal_ones(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace() as space:
        with pytest.raises(ValueError, match=r"'uart3' is not a UART.*uart0.*serial0.*ttyAMA0"):
            space.pty("uart3")
        assert bridges_of(space) == []
