"""Cost of a UART receiver that sees only garbage: a 9600-baud GPS into a UART0 left at 115200.

Issue 11 item 3: a receiver that decodes nothing but framing errors and breaks must cost
no more than one that decodes cleanly; goal under 1 s of wall clock and under 20 MB per
simulated hour. The MirkoPC's jig loopback is taken off, an NMEA GPS (9600 8N1, RMC + GGA
every second) is attached to uart0, and the port is opened at 115200 (the tty buffer takes
what arrives, as in ``test_bench_uart.test_gps_idle_hour_wall_time``). Every low stretch of
the 9600-baud line is longer than a 115200 frame, so the PL011 reads each as a break.

Printed: wall time of the simulated hour, peak memory traced by tracemalloc over a second
hour (the run and the final read), characters received, and, for comparison, the
per-character decoder (``UartReceiver.segment_decoding = False``, what the receiver did
before) over one simulated minute. Nothing is asserted on wall-clock time or memory.
"""

from __future__ import annotations

import time
import tracemalloc

from pihil_emulator.board import Board
from pihil_emulator.devices.nmea_gps import NmeaGps
from pihil_emulator.soc.pl011 import Pl011Block

HOUR_NS = 3600 * 1_000_000_000


def _gps_board(baud: int, *, reference: bool = False) -> tuple[Board, Pl011Block, NmeaGps]:
    board = Board.from_profile("mirkopc")
    for wire in list(board.circuit.wires):
        if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
            board.circuit.disconnect(wire)  # the jig's TX->RX loopback off: the GPS talks
    gps = NmeaGps("gps")
    board.attach(gps, bus="uart0")
    uart = board.soc.blocks["uart0"]
    assert isinstance(uart, Pl011Block)
    if reference:
        uart.rx.segment_decoding = False
    uart.configure(baud)
    return board, uart, gps


def _hour(baud: int) -> tuple[float, int, dict[str, int]]:
    board, uart, gps = _gps_board(baud)
    t0 = time.perf_counter()
    board.run_for(HOUR_NS)
    wall = time.perf_counter() - t0
    tty = uart.tty
    assert tty is not None
    assert gps.sent_seconds == 3600
    tty.in_waiting()  # the interrupt handler drains what completed into the tty buffer
    return wall, tty.received, tty.error_counts()


def _minute(*, reference: bool) -> tuple[float, bytes, bytes, dict[str, int]]:
    board, uart, _ = _gps_board(115_200, reference=reference)
    t0 = time.perf_counter()
    board.run_for(60 * 1_000_000_000)
    wall = time.perf_counter() - t0
    tty = uart.tty
    assert tty is not None
    tty.in_waiting()
    return wall, bytes(tty.buffer), bytes(tty.flags), tty.error_counts()


def test_gps_wrong_baud_hour() -> None:
    wall, received, counts = _hour(115_200)
    wall_ok, received_ok, _ = _hour(9600)

    board, uart, _gps = _gps_board(115_200)
    tracemalloc.start()
    try:
        board.run_for(HOUR_NS)
        kept = len(uart.read(1 << 24, 0))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    ref_wall, ref_data, ref_flags, ref_counts = _minute(reference=True)
    _, new_data, new_flags, new_counts = _minute(reference=False)

    print(
        f"\nGPS 9600 8N1 into UART0 at 115200, one simulated hour: {wall:.3f} s wall "
        f"(goal < 1 s), peak traced {peak / 2**20:.1f} MiB (goal < 20 MB), "
        f"{received} characters received (breaks {counts['break']}, framing "
        f"{counts['framing']}, lost to the full tty buffer {counts['buf_overrun']}), "
        f"{kept} read back"
    )
    print(
        f"  same GPS into UART0 at the right baud (9600): {wall_ok:.3f} s wall, "
        f"{received_ok} characters"
    )
    print(
        f"  per-character decoder (before): {ref_wall:.3f} s wall per simulated minute "
        f"(~{ref_wall * 60:.0f} s per hour), {len(ref_data)} characters"
    )
    assert received == counts["break"] > 1_000_000  # it really was all garbage, and decoded
    # the first minute: the same characters and flags from both decoders
    assert (new_data, new_flags, new_counts) == (ref_data, ref_flags, ref_counts)
