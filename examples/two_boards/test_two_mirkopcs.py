"""Two MirkoPCs in one simulated world: NMEA over a null-modem UART and a GPIO handshake.

Board ``a`` sends $GPGGA/$GPRMC sentences on UART0 to board ``b``, which parses them with
pynmea2; then ``a`` raises REQ (GPIO23, wired to b's GPIO23) and ``b`` answers on ACK
(GPIO24, wired back to a's GPIO24); the edge times are checked in simulated time. The
handshake lines of both boards go to one VCD (``PIHIL_TWO_BOARDS_VCD`` names the file).
Run: ``pytest examples/two_boards --hil-target=sim``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pynmea2
import pytest

from pytest_pihil.boards_fixture import Boards
from rpiboard_pihil.enums import Direction, Edge

SENTENCES = (
    "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
    "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
)
BAUD = 9600


def _null_modem(boards: Boards) -> None:
    world = boards.world
    for role in boards:  # the test jig's TX-RX loopback wire goes; the other board's comes
        for wire in list(world[role].circuit.wires):
            if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
                boards[role].simulation.disconnect(wire)
    world.cross_uart("a", "b")


@pytest.mark.boards(a="mirkopc", b="mirkopc")
def test_nmea_from_a_parsed_on_b(boards: Boards) -> None:
    _null_modem(boards)
    tx, rx = boards["a"].uarts["uart0"], boards["b"].uarts["uart0"]
    tx.baud_rate = rx.baud_rate = BAUD
    tx.write("".join(s + "\r\n" for s in SENTENCES).encode())
    got = b""
    while got.count(b"\n") < len(SENTENCES):
        chunk = rx.read(256, 1.0)
        assert chunk, f"b got only {got!r}"
        got += chunk
    gga, rmc = (pynmea2.parse(line) for line in got.decode().splitlines())
    assert gga.sentence_type == "GGA"
    assert gga.num_sats == "08"
    assert rmc.sentence_type == "RMC"
    assert rmc.status == "A"
    assert abs(rmc.latitude - 48.1173) < 1e-4
    # both boards share the clock: 2 sentences x ~70 chars x 10 bits at 9600 baud passed on each
    assert boards["a"].now_ns == boards["b"].now_ns >= 140 * 10 * 1_000_000_000 // BAUD


@pytest.mark.boards(a="mirkopc", b="mirkopc")
def test_gpio_handshake_edge_timing(boards: Boards) -> None:
    world = boards.world
    world.connect("a.GPIO23", "b.GPIO23", "REQ")
    world.connect("b.GPIO24", "a.GPIO24", "ACK")
    vcd = Path(os.environ.get("PIHIL_TWO_BOARDS_VCD", "two_boards.vcd"))
    recorder = world.record_vcd(vcd, ["a.GPIO23", "b.GPIO23", "b.GPIO24", "a.GPIO24"])
    a, b = boards["a"], boards["b"]
    req_b, ack_a = b.gpios["GPIO23"], a.gpios["GPIO24"]
    req_b.direction = Direction.INPUT
    req_b.edge_detection = Edge.RISING
    ack_a.direction = Direction.INPUT
    ack_a.edge_detection = Edge.RISING
    a.gpios["GPIO23"].set_output(False)
    b.gpios["GPIO24"].set_output(False)
    a.delay(0.001)
    raised = a.now_ns
    a.gpios["GPIO23"].value = True  # REQ (the GPSET write reaches the pad a few ns later)
    events = req_b.wait_edges(0.01)
    assert len(events) == 1
    assert 0 <= events[0].timestamp_ns - raised < 1_000
    b.delay(0.0005)  # b takes 500 µs to answer
    b.gpios["GPIO24"].value = True  # ACK
    acks = ack_a.wait_edges(0.01)
    assert len(acks) == 1
    gap = acks[0].timestamp_ns - events[0].timestamp_ns
    assert 500_000 <= gap < 501_000, f"ACK came {gap} ns after REQ"
    a.delay(0.0001)
    recorder.close()
