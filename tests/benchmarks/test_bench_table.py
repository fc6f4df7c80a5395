"""The table of issue 13 ("Performance"), measured: ``tox -e bench`` prints it and writes it
as JSON (``build/bench/table.json``, or ``$PIHIL_BENCH_JSON``).

Every row goes through the public driver API, ``RpiBoard("local", simulate, board=mirkopc)``:
the MirkoPC profile with all its devices attached (RTC, LM75B, TPA6130A2, EMC2301 on i2c1,
the jig's HAT EEPROM on i2c0, W25Q32 and MCP3008 on spi0, the UART0 loopback wire). Each
run opens a fresh board (not timed, except in the rows about opening one), does a fixed
amount of work and gives one figure; the rows run interleaved, round after round, and the
table keeps the median of ``ROUNDS`` runs. VCD rows time the whole recording block:
starting it, the traffic, closing it and writing the file. The GPIO row times gpiozero's
``MockFactory`` pin in the same run, right after ours. Nothing here asserts on time.

The last row of the issue, the board suite with and without ``--hil-vcd`` (in subprocesses,
one to three minutes a run on 2 cores), runs ``$PIHIL_BENCH_SUITE`` times (up to 5); by
default it is left out, to keep ``tox -e bench`` under five minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from pihil_emulator.boards import loader as profile_module
from pihil_emulator.buses.uart_line import LineSettings
from pihil_emulator.devices.console import Console
from rpiboard_pihil import Direction, RpiBoard

from .rtf import AT_LEAST, AT_MOST, Row, Sample, clocks, render, rtf, run_rows, to_json

ROUNDS = 5
ROOT = Path(__file__).resolve().parents[2]
RTC, EEPROM = 0x68, 0x50
FLASH_READ = b"\x03\x00\x10\x00"  # W25Q READ at 0x001000


def _board() -> RpiBoard:
    return RpiBoard("local", options={"simulate": True, "board": "mirkopc"})


def _i2c_args(size: int) -> tuple[int, int, bytes]:
    """(bus, address, register bytes): 1 byte is an RTC register (PCF8523 Seconds on i2c1),
    16 and 256 bytes a sequential read of the HAT EEPROM (CAT24C32 on i2c0, 2 address bytes)."""
    return (1, RTC, b"\x03") if size == 1 else (0, EEPROM, b"\x00\x40")


def _i2c_nets(bus: int) -> list[str]:
    return ["GPIO2", "GPIO3"] if bus == 1 else ["GPIO0", "GPIO1"]


def _i2c(size: int, hz: int, count: int, vcd: bool = False) -> Callable[[], Sample]:
    def run() -> Sample:
        with _board() as board:
            number, address, register = _i2c_args(size)
            bus = board.i2c_buses[number]
            bus.frequency_hz = hz
            expected = bus.write_read(address, register, size)  # warm, and the reference
            controller = board.simulation.emulator.soc.blocks[f"bsc{number}"]
            t0 = board.now_ns
            with tempfile.TemporaryDirectory() as tmp, clocks() as took:
                if vcd:
                    with board.simulation.record_vcd(f"{tmp}/i2c.vcd", _i2c_nets(number)):
                        for _ in range(count):
                            got = bus.write_read(address, register, size)
                        level = controller.last_level
                else:
                    for _ in range(count):
                        got = bus.write_read(address, register, size)
                    level = controller.last_level
            sim = board.now_ns - t0
        assert len(got) == size
        assert size == 1 or got == expected
        assert level == ("pin" if vcd else "transaction"), level
        return rtf(sim, took)

    return run


def _smbus2(count: int) -> Callable[[], Sample]:
    """The 1-byte register read as user code does it: smbus2's ``read_byte_data`` in the
    board's userspace (its ioctls on the emulated /dev/i2c-1)."""

    def run() -> Sample:
        import smbus2

        with _board() as board:
            expected = board.i2c_buses[1].write_read(RTC, b"\x03", 1)[0]
            with board.simulation.userspace(), smbus2.SMBus(1) as bus:
                bus.read_byte_data(RTC, 0x03)
                t0 = board.now_ns
                with clocks() as took:
                    for _ in range(count):
                        got = bus.read_byte_data(RTC, 0x03)
                sim = board.now_ns - t0
        assert got == expected
        return rtf(sim, took)

    return run


def _spi(size: int, count: int, vcd: bool = False) -> Callable[[], Sample]:
    data = FLASH_READ + bytes(size - len(FLASH_READ))

    def run() -> Sample:
        with _board() as board:
            flash = board.spi_buses[0].devices[0]
            flash.speed_hz = 10_000_000
            expected = flash.transfer(data)
            t0 = board.now_ns
            with tempfile.TemporaryDirectory() as tmp, clocks() as took:
                if vcd:
                    nets = ["GPIO11", "GPIO10", "GPIO9", "GPIO8"]
                    with board.simulation.record_vcd(f"{tmp}/spi.vcd", nets):
                        for _ in range(count):
                            got = flash.transfer(data)
                else:
                    for _ in range(count):
                        got = flash.transfer(data)
            sim = board.now_ns - t0
        assert got == expected
        assert len(got) == size
        return rtf(sim, took)

    return run


def _uart(count: int, *, echo: bool = False, vcd: bool = False) -> Callable[[], Sample]:
    """1-byte writes read back: through the jig's TX-RX wire, or (``echo``) with the wire
    off and an echoing console at the same baud rate on the line."""

    def run() -> Sample:
        with _board() as board:
            uart = board.uarts[0]
            uart.baud_rate = 115_200
            if echo:
                emulator = board.simulation.emulator
                for wire in list(emulator.circuit.wires):
                    if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
                        board.simulation.disconnect(wire)
                board.simulation.attach(Console(LineSettings(115_200), "echo"), bus="uart0")
            uart.write(b"!")
            assert uart.read(1, 0.01) == b"!"
            t0 = board.now_ns
            ok = 0
            with tempfile.TemporaryDirectory() as tmp, clocks() as took:
                if vcd:
                    with board.simulation.record_vcd(f"{tmp}/uart.vcd", ["GPIO14", "GPIO15"]):
                        for i in range(count):
                            uart.write(bytes((i & 0x7F,)))
                            ok += uart.read(1, 0.01) == bytes((i & 0x7F,))
                else:
                    for i in range(count):
                        uart.write(bytes((i & 0x7F,)))
                        ok += uart.read(1, 0.01) == bytes((i & 0x7F,))
            sim = board.now_ns - t0
        assert ok == count
        return rtf(sim, took)

    return run


def _gpio_vs_mock_pin(count: int) -> Callable[[], Sample]:
    """Ours (``Gpio.value`` set then read on an unwired MirkoPC line) over gpiozero's bare
    ``MockPin.state`` set then read, timed in the same run one after the other."""

    def run() -> Sample:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MockFactory warns about fallback pin factories
            from gpiozero.pins.mock import MockFactory

            with _board() as board:
                g = board.gpios[23]
                g.direction = Direction.OUTPUT
                bad = 0
                with clocks() as ours:
                    for i in range(count):
                        g.value = bool(i & 1)
                        bad += g.value is not bool(i & 1)
            factory = MockFactory()
            pin = factory.pin(23)
            pin.function = "output"
            with clocks() as theirs:
                for i in range(count):
                    pin.state = i & 1
                    bad += pin.state != i & 1
            factory.close()
        assert bad == 0
        return Sample(ours[0] / theirs[0], ours[1] / theirs[1])

    return run


def _open_board(count: int, *, parse: bool) -> Callable[[], Sample]:
    """Milliseconds per ``RpiBoard(...)`` opened and closed (``parse``: the profile cache
    cleared before each, so every open parses and validates the YAML as before the cache)."""

    def run() -> Sample:
        wall = cpu = 0.0
        for _ in range(count):
            if parse:
                profile_module.clear_profile_cache()
            with clocks() as took:
                _board().close()
            wall, cpu = wall + took[0], cpu + took[1]
        return Sample(wall / count * 1e3, cpu / count * 1e3)

    return run


def _suite_rows(runs: int) -> list[Row]:
    """The board suite (``pihil run``'s pytest) without and with ``--hil-vcd``, each in a
    subprocess: wall seconds and the child's peak RSS (``wait4``)."""
    measured: dict[bool, tuple[float, float]] = {}

    def suite(vcd: bool) -> tuple[float, float]:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [
                sys.executable,
                "-m",
                "pytest",
                str(ROOT / "fixtures/pytest_pihil/board_suite"),
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:benchmark",
                "--hil-target=sim",
                "--hil-board=mirkopc",
                "--hil-report-dir=none",
                *([f"--hil-vcd={tmp}/vcd"] if vcd else []),
            ]
            with clocks() as took:
                child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, cwd=tmp)
                _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
        assert child.returncode == 0, f"the board suite failed (vcd={vcd})"
        return took[0], usage.ru_maxrss / 1024  # Linux gives kilobytes

    def both() -> None:
        if not measured:
            measured[False] = suite(False)
            measured[True] = suite(True)

    def time_ratio() -> Sample:
        both()
        ratio = measured[True][0] / measured[False][0]
        return Sample(ratio, ratio)

    def rss() -> Sample:
        both()
        mb = measured[True][1]
        measured.clear()  # the next round measures again
        return Sample(mb, mb)

    return [
        Row("suite_vcd_time", "board suite with --hil-vcd: time / without", "x", "12.5x",
            2.0, AT_MOST, time_ratio, runs),
        Row("suite_vcd_rss", "board suite with --hil-vcd: peak RSS", "MB", "801 MB",
            100.0, AT_MOST, rss, runs),
    ]  # fmt: skip


def rows() -> list[Row]:
    table = [
        Row("i2c100_1", "I2C 100 kHz, transaction level, 1-byte register read", "RTF", "3.9",
            50, AT_LEAST, _i2c(1, 100_000, 1500)),
        Row("i2c100_1_smbus2", "same, smbus2 read_byte_data in the board's userspace", "RTF",
            "-", 50, AT_LEAST, _smbus2(1500)),
        Row("i2c100_16", "same, 16 bytes", "RTF", "13", 200, AT_LEAST, _i2c(16, 100_000, 500)),
        Row("i2c100_256", "same, 256 bytes", "RTF", "46-53", 500, AT_LEAST,
            _i2c(256, 100_000, 120)),
        Row("i2c400_1", "I2C 400 kHz, 1-byte read", "RTF", "0.99", 15, AT_LEAST,
            _i2c(1, 400_000, 1500)),
        Row("i2c100_pin_vcd_1", "I2C 100 kHz with VCD, 1 byte", "RTF", "0.85-1.10",
            5, AT_LEAST, _i2c(1, 100_000, 150, vcd=True)),
        Row("i2c100_pin_vcd_16", "same, 16 bytes", "RTF", "0.85-1.10", 5, AT_LEAST,
            _i2c(16, 100_000, 50, vcd=True)),
        Row("i2c100_pin_vcd_256", "same, 256 bytes", "RTF", "0.85-1.10", 5, AT_LEAST,
            _i2c(256, 100_000, 6, vcd=True)),
        Row("spi10_16", "SPI 10 MHz, 16 B transfer", "RTF", "0.22", 2, AT_LEAST, _spi(16, 1500)),
        Row("spi10_4k", "SPI 10 MHz, 4 KiB transfer", "RTF", "2.8", 20, AT_LEAST,
            _spi(4096, 80)),
        Row("spi10_vcd", "SPI 10 MHz with VCD, 4 KiB transfer", "RTF", "0.03", 1, AT_LEAST,
            _spi(4096, 6, vcd=True)),
        Row("uart_loop", "UART 115200, 1-byte loopback", "RTF", "1.9", 20, AT_LEAST,
            _uart(1000)),
        Row("uart_echo", "UART 115200, 1 byte through the echo device", "RTF", "3.1", 20,
            AT_LEAST, _uart(1000, echo=True)),
        Row("uart_vcd", "UART 115200, 1-byte loopback with VCD", "RTF", "0.96", 5, AT_LEAST,
            _uart(500, vcd=True)),
        Row("gpio_vs_mockpin", "GPIO write+read round trip / gpiozero bare MockFactory pin",
            "x", "2.15x", 1.0, AT_MOST, _gpio_vs_mock_pin(20000)),
        Row("open_board", "open+close a fresh simulated board (profile cached)", "ms",
            "~21 ms", 2.0, AT_MOST, _open_board(20, parse=False)),
        Row("open_board_parse", "same, the profile parsed each time (no cache)", "ms",
            "~21 ms", 2.0, AT_MOST, _open_board(20, parse=True)),
    ]  # fmt: skip
    suite_runs = int(os.environ.get("PIHIL_BENCH_SUITE", "0"))
    if suite_runs > 0:
        table += _suite_rows(min(suite_runs, ROUNDS))
    return table


def test_issue_13_table() -> None:
    table = rows()
    _board().close()  # imports and the profile cache warm before the first round
    run_rows(table, ROUNDS, lambda line: print(line, flush=True))
    out = Path(os.environ.get("PIHIL_BENCH_JSON", ROOT / "build/bench/table.json"))
    to_json(table, ROUNDS, out)
    print("\nIssue 13, measured on the emulated MirkoPC through RpiBoard(simulate):")
    print(render(table, ROUNDS))
    print(f"written to {out}")
    assert all(len(row.samples) == (row.rounds or ROUNDS) for row in table)
