"""SPI0 on the MirkoPC board: the jig's flash on CE0 and ADC on CE1, faults, waveforms."""

from __future__ import annotations

from pathlib import Path

import pytest

from pihil_emulator.board import Board
from pihil_emulator.buses.spi_faults import SilentSpiDevice, StuckMiso
from pihil_emulator.devices.mcp3008 import Mcp3008
from pihil_emulator.devices.w25q import W25q
from pihil_emulator.errors import ElectricalFault
from pihil_emulator.faults import DroppedDevice
from pihil_emulator.soc.spi0 import Spi0Block
from pihil_emulator.world.clock import NS_PER_MS

JEDEC = b"\x9f\x00\x00\x00"


@pytest.fixture
def board() -> Board:
    return Board.from_profile("mirkopc")


def spi0(board: Board) -> Spi0Block:
    block = board.soc.blocks["spi0"]
    assert isinstance(block, Spi0Block)
    return block


def adc_frame(ch: int) -> bytes:
    return bytes([0x01, 0x80 | ch << 4, 0x00])


def code(rx: bytes) -> int:
    return ((rx[1] & 3) << 8) | rx[2]


def test_jig_flash_on_ce0_and_adc_on_ce1(board: Board) -> None:
    """MirkoPC test jig: W25Q32 on spi0 CE0 (JEDEC EF 40 16), MCP3008 on CE1."""
    spi = spi0(board)
    flash, adc = board.devices["flash"], board.devices["adc"]
    assert isinstance(flash, W25q)
    assert isinstance(adc, Mcp3008)
    assert spi.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000)[1:] == b"\xef\x40\x16"
    adc.set_voltage(2, 1.1)
    assert code(spi.transfer(adc_frame(2), cs=1, mode=0, speed_hz=1_000_000)) == int(
        1024 * 1.1 / 3.3
    )
    # the ADC does not see the flash's transfer and the flash not the ADC's
    assert adc.conversions == 1
    assert spi.transfer(adc_frame(2), cs=0, mode=0, speed_hz=1_000_000) == b"\x00\x00\x00"
    assert adc.conversions == 1


def test_board_reset_puts_spi0_back(board: Board) -> None:
    """soc-facts §8.1: CS reads 0x00041000 after reset."""
    spi = spi0(board)
    board.write_register("spi0", "CS", 0x80 | 1 << 3)
    board.reset()
    assert board.read_register("spi0", "CS") == 0x0004_1000
    assert board.gpio.level(8)
    assert spi.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000)[1:] == b"\xef\x40\x16"


def test_silent_device_reads_the_pull(board: Board) -> None:
    """Issue 4 fault: a device that stops answering releases MISO: the master reads the pull
    (GPIO9 resets pulled down, soc-facts §3.7: 0x00; pulled up: 0xFF). It still listens."""
    spi = spi0(board)
    flash = board.devices["flash"]
    assert isinstance(flash, W25q)
    fault = board.inject(SilentSpiDevice(device="flash", at_ns=board.now_ns, duration_ns=NS_PER_MS))
    assert spi.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000) == bytes(4)
    board.gpio.set_pull(9, "up")
    assert spi.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000) == b"\xff" * 4
    spi.transfer(b"\x06", cs=0, mode=0, speed_hz=10_000_000)  # still executes commands
    assert flash.status & 0x02
    board.run_for(NS_PER_MS)
    assert not fault.active
    assert spi.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000)[1:] == b"\xef\x40\x16"


def test_stuck_miso_wins_over_the_device(board: Board) -> None:
    """Issue 4 fault: a stuck MISO reads its level whatever the device drives; GPLEV shows it."""
    spi = spi0(board)
    board.inject(StuckMiso(level=True, at_ns=board.now_ns + 1_000))
    assert spi.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000)[1:] == b"\xef\x40\x16"
    board.run_for(1_000)
    assert spi.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000) == b"\xff" * 4
    assert board.gpio.level(9)
    with pytest.raises(ElectricalFault, match="contention"):  # two shorts fighting on one line
        board.inject(StuckMiso(level=False))


def test_stuck_miso_low_then_cleared(board: Board) -> None:
    spi = spi0(board)
    fault = board.inject(StuckMiso(level=False, duration_ns=10_000))
    assert spi.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000) == bytes(4)
    board.run_for(10_000)
    assert spi.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000)[1:] == b"\xef\x40\x16"
    assert not fault.active


def test_dropped_device_is_not_found(board: Board) -> None:
    """The generic DroppedDevice fault takes the flash off the bus; MISO reads the pull."""
    spi = spi0(board)
    fault = board.inject(DroppedDevice(device="flash"))
    assert spi.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000) == bytes(4)
    board.clear_fault(fault)
    assert spi.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000)[1:] == b"\xef\x40\x16"


def test_record_vcd_through_the_board(tmp_path: Path, board: Board) -> None:
    """board.record_vcd takes pin names; the SPI edges land in the file."""
    spi = spi0(board)
    path = tmp_path / "spi.vcd"
    with board.record_vcd(path, nets=["GPIO11", "GPIO10", "GPIO9", "GPIO8"]):
        spi.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000)
        board.run_for(1_000)
    body = path.read_text().split("$enddefinitions $end", 1)[1]
    assert body.count("#") > 64  # 32 SCLK periods and the data edges
