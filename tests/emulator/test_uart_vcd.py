"""VCD recording of UART TX/RX (issue 4): sigrok-cli decodes the recording back to the same bytes.

The VCD has a 1 ns timescale; sigrok's VCD input downsamples it (``downsample=100``: 10 MHz,
a hundred samples per bit at 115200) so the decoder runs in milliseconds.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pihil_emulator.buses.uart_faults import UartNoise
from pihil_emulator.buses.uart_vcd import UartVcdTap

from .uart_rig import console_board

SIGROK = shutil.which("sigrok-cli")
needs_sigrok = pytest.mark.skipif(
    SIGROK is None, reason="sigrok-cli is not installed (.ci/run installs it)"
)


def sigrok_bytes(path: Path, channel: str, baud: float, fmt: str = "8N1") -> bytes:
    """Decode one channel of a VCD with sigrok's UART decoder; the data bytes, in order."""
    assert SIGROK is not None
    parity = {"N": "none", "E": "even", "O": "odd"}[fmt[1]]
    out = subprocess.run(
        [
            SIGROK,
            "-i",
            str(path),
            "-I",
            "vcd:downsample=100",
            "-P",
            f"uart:rx={channel}:baudrate={round(baud)}:data_bits={fmt[0]}:parity={parity}:"
            f"stop_bits={float(fmt[2])}",
            "-A",
            "uart=rx-data",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return bytes(int(line.split(":")[1], 16) for line in out.splitlines() if line.strip())


def test_vcd_holds_every_edge_of_the_bursts(tmp_path: Path) -> None:
    """The tap writes the waveform's edges in closed form: a falling edge at the start bit."""
    board, uart, _console = console_board()
    uart.configure(115_200)
    path = tmp_path / "uart.vcd"
    with board.record_vcd(path, ["GPIO14"]) as rec, UartVcdTap(rec, board.circuit):
        board.run_for(10_000)
        uart.write(b"\x00")
    body = path.read_text().split("$enddefinitions $end", 1)[1]
    stamps = [int(x[1:]) for x in body.split() if x.startswith("#")]
    bit = 1e9 / uart.baud_rate()  # type: ignore[operator]
    # 0x00: low for start + 8 data bits, then the stop bit rises
    assert stamps[1:3] == [10_000, round(10_000 + 9 * bit)]


@needs_sigrok
def test_sigrok_decodes_tx_and_rx_back_to_the_same_bytes(tmp_path: Path) -> None:
    """Issue 4: VCD recording of TX/RX; sigrok-cli decodes them back to the same bytes."""
    board, uart, _console = console_board()
    uart.configure(115_200)
    path = tmp_path / "uart.vcd"
    message = b"pihil: frames are waveforms \x00\xff\x55"
    with board.record_vcd(path, ["GPIO14", "GPIO15"]) as rec, UartVcdTap(rec, board.circuit):
        board.run_for(50_000)
        uart.write(message)
        assert uart.read(len(message), 10_000_000) == message
        board.run_for(50_000)
    baud = uart.baud_rate()
    assert baud is not None
    assert sigrok_bytes(path, "GPIO14", baud) == message  # what the PL011 sent
    assert sigrok_bytes(path, "GPIO15", 115_200) == message  # the console's echo


@needs_sigrok
def test_sigrok_decodes_7e2_from_the_pl011(tmp_path: Path) -> None:
    board, uart, _console = console_board()
    uart.configure(38_400, 7, "even", 2)
    path = tmp_path / "uart7e2.vcd"
    with board.record_vcd(path, ["GPIO14"]) as rec, UartVcdTap(rec, board.circuit):
        board.run_for(50_000)
        uart.write(b"7E2 ok")
        board.run_for(50_000)
    assert sigrok_bytes(path, "GPIO14", uart.baud_rate() or 0, "7E2") == b"7E2 ok"


@needs_sigrok
def test_noise_is_in_the_recording_too(tmp_path: Path) -> None:
    """Injected noise shows in the VCD as what the line carries: sigrok sees the damage the
    console saw."""
    board, uart, console = console_board()
    uart.configure(115_200)
    path = tmp_path / "noisy.vcd"
    message = b"U" * 40
    with board.record_vcd(path, ["GPIO14"]) as rec, UartVcdTap(rec, board.circuit):
        board.run_for(50_000)
        board.inject(
            UartNoise(
                line="GPIO14",
                at_ns=board.now_ns + 500_000,
                duration_ns=1_000_000,
                glitches_per_ms=20,
                seed=7,
            )
        )
        uart.write(message)
        board.run_for(500_000)
    decoded = sigrok_bytes(path, "GPIO14", uart.baud_rate() or 0)
    assert decoded != message
    assert decoded[:5] == message[:5]  # before the noise window (0.5 ms: 5.7 characters)
    assert bytes(console.received)[:5] == message[:5]
    assert bytes(console.received) != message


@needs_sigrok
def test_board_record_vcd_alone_gets_the_uart_waveform(tmp_path: Path) -> None:
    """``board.record_vcd`` needs nothing else: a recorder watching a UART line gets a tap."""
    board, uart, _console = console_board()
    uart.configure(115_200)
    path = tmp_path / "auto.vcd"
    with board.record_vcd(path, ["J8-08", "J8-10"]):
        board.run_for(20_000)
        uart.write(b"automatic")
        assert uart.read(9, 10_000_000) == b"automatic"
    assert sigrok_bytes(path, "GPIO14", uart.baud_rate() or 0) == b"automatic"
    assert sigrok_bytes(path, "GPIO15", 115_200) == b"automatic"
