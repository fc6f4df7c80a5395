"""Real-time factor of UART traffic at 115200 baud (DESIGN "Performance goals": goal ≥ 50).

Continuous traffic on the MirkoPC's UART0 through its test-jig TX→RX loopback wire: the
application writes 256-byte blocks and reads them back, so the line never idles; every
byte goes through the PL011's transmitter, the waveform on GPIO14, the jumper to GPIO15,
the receiver sampling it, and the tty buffer. A second figure has a console device on the
line echoing at the same rate (its characters are delivered one event each). A third
adds the far end at a mismatched baud rate, the per-character decoding path. Run with
``tox -e bench``; figures are printed, nothing is asserted on wall-clock time.
"""

from __future__ import annotations

import time

from pihil_emulator.board import Board
from pihil_emulator.buses.uart_line import LineSettings
from pihil_emulator.devices.console import Console
from pihil_emulator.devices.nmea_gps import NmeaGps
from pihil_emulator.soc.pl011 import Pl011Block

BAUD = 115_200
BLOCK = 256
SIM_SECONDS = 20


def _uart(board: Board) -> Pl011Block:
    uart = board.soc.blocks["uart0"]
    assert isinstance(uart, Pl011Block)
    return uart


def _loopback_rtf() -> tuple[float, int]:
    board = Board.from_profile("mirkopc")  # the jig wires J8-08 (TXD0) to J8-10 (RXD0)
    uart = _uart(board)
    uart.configure(BAUD)
    payload = bytes(range(256)) * (BLOCK // 256)
    end = SIM_SECONDS * 1_000_000_000
    moved = 0
    t0 = time.perf_counter()
    while board.now_ns < end:
        uart.write(payload)
        got = uart.read(BLOCK, 100_000_000)
        assert got == payload
        moved += len(got)
    wall = time.perf_counter() - t0
    return board.now_ns / 1e9 / wall, moved


def _console_rtf(device_baud: int) -> tuple[float, int]:
    board = Board.from_profile("mirkopc")
    for wire in list(board.circuit.wires):
        if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
            board.circuit.disconnect(wire)  # the jig's loopback off: the console talks back
    console = Console(LineSettings(device_baud), name="console")
    board.attach(console, bus="uart0")
    uart = _uart(board)
    uart.configure(BAUD)
    payload = b"0123456789abcdef" * (BLOCK // 16)
    end = SIM_SECONDS * 1_000_000_000 // 4
    moved = 0
    t0 = time.perf_counter()
    while board.now_ns < end:
        uart.write(payload)
        got = uart.read(BLOCK, 100_000_000)
        moved += len(got)
    wall = time.perf_counter() - t0
    return board.now_ns / 1e9 / wall, moved


def test_uart_115200_continuous_real_time_factor() -> None:
    rtf, moved = _loopback_rtf()
    print(
        f"\nUART0 115200 8N1 loopback, continuous: real-time factor {rtf:.0f} "
        f"(goal >= 50), {moved} bytes in {SIM_SECONDS} simulated s"
    )
    rtf_echo, echoed = _console_rtf(BAUD)
    print(f"UART0 115200 with an echoing console: real-time factor {rtf_echo:.1f}, {echoed} bytes")
    rtf_bad, garbage = _console_rtf(57_600)
    print(
        f"UART0 115200 with a console at 57600 (garbage, per-character decoding): "
        f"real-time factor {rtf_bad:.1f}, {garbage} bytes"
    )
    assert moved >= SIM_SECONDS * BAUD // 10 * 0.95  # the line really was kept busy


def test_gps_idle_hour_wall_time() -> None:
    """DESIGN: an hour of simulated idle time on a board with a GPS costs under a second
    (here with UART0 open at 9600, taking the sentences into its tty buffer)."""
    board = Board.from_profile("mirkopc")
    for wire in list(board.circuit.wires):
        if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
            board.circuit.disconnect(wire)
    gps = NmeaGps("gps")
    board.attach(gps, bus="uart0")
    uart = _uart(board)
    uart.configure(9600)
    t0 = time.perf_counter()
    board.run_for(3600 * 1_000_000_000)
    wall = time.perf_counter() - t0
    received = len(uart.read(1 << 24, 0))
    print(f"\nGPS at 9600 on UART0, one simulated hour: {wall:.3f} s wall, {received} bytes read")
    assert gps.sent_seconds == 3600
