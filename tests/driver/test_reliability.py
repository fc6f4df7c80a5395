"""Every row of docs/reliability.md, run on the emulated MirkoPC (issue 11, "Done when":
"docs/reliability.md lists each fault the emulator can inject, what the driver raises for
it (with the errno of the Linux interface), and whether the session survives; every row is
a test")."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sim_helpers import open_sim

from pihil_emulator.buses.i2c_faults import FlipBit, HoldSdaLow, NackAddress
from pihil_emulator.buses.spi_faults import SilentSpiDevice, StuckMiso
from pihil_emulator.buses.uart_faults import UartNoise, UartWrongBaud
from pihil_emulator.devices.console import Console
from pihil_emulator.faults import BrownOut, DroppedDevice, Fault, StuckNet
from rpiboard_pihil import DeviceErrorCode, RpiBoard

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
MS = 1_000_000
RTC = 0x68


@dataclass
class Outcome:
    raised: str = "nothing"
    errno: str = "-"
    device_errors: tuple[str, ...] = ()


def rows() -> dict[str, dict[str, str]]:
    """The table of docs/reliability.md by its ``row`` column."""
    lines = [line for line in DOC.read_text().splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    table = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        row = dict(zip(header, cells, strict=True))
        table[row["row"]] = row
    return table


def rtc(board: RpiBoard) -> Any:
    return board.i2c_buses[1].write_read(RTC, b"\x03", 7)


def jedec(board: RpiBoard) -> Any:
    return board.spi_buses[0].devices[0].transfer(b"\x9f\x00\x00\x00")


def loopback(board: RpiBoard) -> Any:
    uart = board.uarts[0]
    uart.write(b"hello world")
    return uart.read(11, 0.1)


def overrun(board: RpiBoard) -> Any:
    uart = board.uarts[0]
    uart.baud_rate = 921_600
    uart.write(bytes(700 * 1024))
    return uart.in_waiting


def interrupted_delay(board: RpiBoard) -> Any:
    """Ctrl-C half-way through a long delay (the interrupt raised from inside the run)."""
    world = board.simulation.emulator.world

    def ctrl_c():  # type: ignore[no-untyped-def]
        yield world.timeout(500 * MS)
        raise KeyboardInterrupt

    world.process(ctrl_c())
    board.delay(1.0)


def contention(board: RpiBoard) -> Any:
    board.gpios[17].set_output(False)


def console_talks(board: RpiBoard) -> Any:
    """A console on UART0 (the jig's loopback unplugged) types; the SoC reads at 115200."""
    emulator = board.simulation.emulator
    for wire in list(emulator.circuit.wires):
        if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
            emulator.circuit.disconnect(wire)
    console = Console(name="console")
    board.simulation.attach(console, bus="uart0")
    board.uarts[0].discard_input()
    board.simulation.inject(UartWrongBaud(device=console, baud=57_600))
    console.type(b"status?\r\n")
    return board.uarts[0].read(64, 0.01)


# row -> (a new fault, or None; the call while it is active; the check of the call's result)
SCENARIOS: dict[
    str, tuple[Callable[[], Fault] | None, Callable[[RpiBoard], Any], Callable[[Any], bool]]
] = {
    "brown-out-reset": (
        lambda: BrownOut(rail="3V3", volts=2.0, at_ns=MS, duration_ns=MS),
        lambda b: b.delay(0.005),
        lambda r: r is None,
    ),
    "brown-out-no-reset": (
        lambda: BrownOut(rail="5V", volts=4.0, reset_soc=False),
        rtc,
        lambda r: len(r) == 7,
    ),
    "stuck-sda-low": (lambda: StuckNet(pin="I2C1_SDA", level=False), rtc, lambda r: r == bytes(7)),
    "stuck-net-contention": (
        lambda: StuckNet(pin="GPIO17", level=True),
        contention,
        lambda r: False,
    ),
    "dropped-device": (lambda: DroppedDevice(device="rtc"), rtc, lambda r: False),
    "nack-address": (lambda: NackAddress(device="rtc", count=1), rtc, lambda r: False),
    "hold-sda-low": (lambda: HoldSdaLow(device="rtc"), rtc, lambda r: False),
    "flip-bit": (lambda: FlipBit(device="rtc", byte_index=0, bit=7), rtc, lambda r: False),
    "silent-spi-device": (lambda: SilentSpiDevice(device="flash"), jedec, lambda r: r == bytes(4)),
    "stuck-miso-high": (
        lambda: StuckMiso(bus="spi0", level=True),
        jedec,
        lambda r: r == b"\xff" * 4,
    ),
    "uart-noise": (
        lambda: UartNoise(line="GPIO15", glitches_per_ms=20, seed=1, duration_ns=50 * MS),
        loopback,
        lambda r: len(r) == 11 and r != b"hello world",
    ),
    "uart-wrong-baud": (None, console_talks, lambda r: r != b"status?\r\n"),
    "uart-overrun": (None, overrun, lambda r: r == 655_360 + 4095),
    "interrupt": (None, interrupted_delay, lambda r: False),
}


def run(board: RpiBoard, row: str) -> Outcome:
    make_fault, call, ok = SCENARIOS[row]
    if make_fault is not None:
        board.simulation.inject(make_fault())
    outcome = Outcome()
    try:
        result = call(board)
    except BaseException as exc:  # KeyboardInterrupt is a row of the table
        outcome.raised = type(exc).__name__
        outcome.errno = getattr(exc, "errno_name", None) or "-"
    else:
        assert ok(result), f"{row}: unexpected result {result!r}"
    codes = [DeviceErrorCode(e.code).name for e in board.ivi_utility.error_query_all()]
    outcome.device_errors = tuple(dict.fromkeys(codes))
    for active in list(board.simulation.emulator.faults):
        board.simulation.clear_fault(active)
    return outcome


@pytest.fixture
def board() -> Iterator[RpiBoard]:
    b = open_sim("mirkopc")
    yield b
    b.close()


def test_every_fault_class_has_a_row() -> None:
    """A new fault class without a row in docs/reliability.md fails here."""
    import pihil_emulator.buses.i2c_faults as i2c
    import pihil_emulator.buses.spi_faults as spi
    import pihil_emulator.buses.uart_faults as uart
    import pihil_emulator.faults as generic

    classes = {
        name
        for module in (generic, i2c, spi, uart)
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, Fault)
        and not name.startswith("_")
        and value is not Fault
        and value.__module__ == module.__name__
    }
    documented = set(re.findall(r"`(\w+)\(", DOC.read_text()))
    missing = classes - documented
    assert not missing, f"faults without a row in docs/reliability.md: {missing}"
    assert set(rows()) == set(SCENARIOS)


@pytest.mark.parametrize("row", sorted(SCENARIOS))
def test_row(board: RpiBoard, row: str) -> None:
    expect = rows()[row]
    outcome = run(board, row)
    assert outcome.raised == expect["raises"].split(":")[0].strip("` "), row
    assert outcome.errno == expect["errno"].strip("`"), row
    wanted = () if expect["device error"] == "none" else (expect["device error"].strip("`"),)
    assert outcome.device_errors == wanted, row
    assert expect["survives"].startswith("yes")
    if row == "uart-noise":
        board.delay(0.050)  # to the end of the noise window
        board.ivi_utility.error_query_all()
    # the session survives: the bus answers and a delay advances exactly its length
    assert len(rtc(board)) == 7
    before = board.simulation.now_ns
    board.delay(0.010)
    assert board.simulation.now_ns - before == 10 * MS
    if row in ("nack-address", "dropped-device", "hold-sda-low", "flip-bit"):
        assert len(rtc(board)) == 7  # the row's own call works once the fault is gone
    if row == "stuck-net-contention":
        contention(board)
    assert board.ivi_utility.error_query_all() == []


def test_rows_run_in_threads_do_not_share_state() -> None:
    """Two sessions side by side: a fault on one does not reach the other."""
    results: dict[str, Outcome] = {}

    def go(row: str) -> None:
        b = open_sim("mirkopc")
        try:
            results[row] = run(b, row)
        finally:
            b.close()

    threads = [threading.Thread(target=go, args=(r,)) for r in ("dropped-device", "stuck-sda-low")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["dropped-device"].raised == "I2cNackError"
    assert results["stuck-sda-low"].raised == "nothing"


@pytest.mark.parametrize("row", ["dropped-device", "nack-address", "hold-sda-low", "flip-bit"])
def test_errno_of_the_linux_interface(board: RpiBoard, row: str) -> None:
    """The table's errno is what a program on the board gets from /dev/i2c-1 (smbus2)."""
    import errno as errno_module

    import smbus2

    make_fault, _, _ = SCENARIOS[row]
    assert make_fault is not None
    board.simulation.inject(make_fault())
    with (
        board.simulation.userspace(),
        smbus2.SMBus(1) as bus,
        pytest.raises(OSError, match="Errno") as caught,
    ):
        bus.read_i2c_block_data(RTC, 0x03, 7)
    assert errno_module.errorcode[caught.value.errno] == rows()[row]["errno"].strip("`")
