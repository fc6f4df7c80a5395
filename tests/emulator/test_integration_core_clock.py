"""BSC and SPI0 follow the VPU core clock (``Soc.set_core_clock``) with the same CDIV.

soc-facts §2 DIV: "SCL = core_clock / CDIV" and "the model must take the VPU/core clock
as a parameter"; §4.1 CLK: "SCLK = Core Clock / CDIV". A core clock change under a running
kernel keeps the dividers the drivers programmed, so the bus clocks move with it.
"""

from __future__ import annotations

import pytest

from pihil_emulator.board import Board
from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.buses.i2c_target import I2cTarget
from pihil_emulator.soc.bsc import BscBlock
from pihil_emulator.soc.spi0 import Spi0Block

NEW_CLOCK_HZ = 400_000_000  # the Pi 3's core clock (raspberrypi/linux#2094, soc-facts §2)


class ByteClock(I2cTarget):
    """Reads 0x00.. and notes the bus time of each byte it is asked for."""

    model = "byte-clock"

    def __init__(self) -> None:
        super().__init__(0x50, "byte-clock")
        self.read_times: list[int] = []

    def read_byte(self) -> int:
        self.read_times.append(self.now_ns)
        return len(self.read_times) & 0xFF


def _byte_spacing(board: Board, bsc: BscBlock, level: str) -> int:
    device = ByteClock()
    board.attach(device, bus="i2c1")
    bsc.level = level  # type: ignore[assignment]
    bsc.transfer([I2cMessage(0x50, True, 4)])
    assert bsc.last_level == level
    gaps = {b - a for a, b in zip(device.read_times, device.read_times[1:], strict=False)}
    assert len(gaps) == 1, f"uneven byte spacing {gaps}"
    board.detach(device)
    return gaps.pop()


@pytest.mark.parametrize("level", ["transaction", "pin"])
def test_bsc_scl_follows_the_core_clock_with_the_same_cdiv(level: str) -> None:
    """soc-facts §2 DIV: SCL = core_clock / CDIV; after the core clock goes from 250 to
    400 MHz the divider Linux programmed for 100 kHz (CDIV 2500) gives 160 kHz: a byte and
    its ACK bit (9 SCL periods) take 9 × 2500 / 400 MHz = 56.25 µs instead of 90 µs."""
    board = Board.from_profile("mirkopc")
    bsc = board.soc.blocks["bsc1"]
    assert isinstance(bsc, BscBlock)
    bsc.set_bus_speed(100_000)
    cdiv = bsc.read("DIV")
    assert cdiv == 2500
    assert _byte_spacing(board, bsc, level) == 9 * cdiv * 10**9 // 250_000_000 == 90_000
    board.soc.set_core_clock(NEW_CLOCK_HZ)
    assert bsc.read("DIV") == cdiv
    assert _byte_spacing(board, bsc, level) == 9 * cdiv * 10**9 // NEW_CLOCK_HZ == 56_250
    assert bsc.bus_speed_hz() == NEW_CLOCK_HZ // cdiv


def test_spi0_sclk_follows_the_core_clock_with_the_same_cdiv() -> None:
    """soc-facts §4.1 CLK: SCLK = Core Clock / CDIV. spi-bcm2835 reads the clock rate once at
    probe (``bs->clk_hz``), so a 1 MHz transfer keeps CDIV 250 after the core clock goes to
    400 MHz and runs at 1.6 MHz: four polled bytes (8 bit cells + 1 idle cell each) take
    36 SCLK periods = 9000 core cycles, 36 µs at 250 MHz and 22.5 µs at 400 MHz."""
    board = Board.from_profile("mirkopc")
    spi = board.soc.blocks["spi0"]
    assert isinstance(spi, Spi0Block)

    def transfer() -> int:
        t0 = board.now_ns
        spi.transfer(b"\x9f\x00\x00\x00", cs=0, mode=0, speed_hz=1_000_000)
        return board.now_ns - t0

    assert transfer() == 36_000
    assert spi.read("CLK") == 250
    board.soc.set_core_clock(NEW_CLOCK_HZ)
    took = transfer()
    assert spi.read("CLK") == 250
    assert spi.sclk_hz == 1_600_000
    assert 22_500 - 2 <= took <= 22_500  # (each edge falls in its whole nanosecond)
    assert spi.effective_speed_hz == 1_000_000  # what the driver believes (its cached rate)


def test_spi0_probes_the_clock_again_after_a_soc_reset() -> None:
    """A SoC reset reboots the kernel: spi-bcm2835 probes again and reads the clock it finds,
    so the same speed then gives the divider for that clock (soc-facts §4.1 Linux cdiv)."""
    board = Board.from_profile("mirkopc")
    spi = board.soc.blocks["spi0"]
    assert isinstance(spi, Spi0Block)
    board.soc.set_core_clock(NEW_CLOCK_HZ)
    board.reset()
    spi.transfer(b"\x00", cs=0, mode=0, speed_hz=1_000_000)
    assert spi.read("CLK") == 400
    assert spi.effective_speed_hz == 1_000_000
