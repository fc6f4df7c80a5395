"""SPI speed (DESIGN "Performance goals"): real-time factor of SPI at 10 MHz, printed.

Real-time factor = simulated seconds per wall-clock second, reading 4 KiB blocks from the W25Q
flash on CE0 through SPI0's Linux-style transfer (DMA path, CDIV 26 → 9.62 MHz). Goal: ≥ 1.
Run with ``tox -e bench`` (``-s`` shows the figures).
"""

from __future__ import annotations

import time
from pathlib import Path

from pihil_emulator.attachments import Attachments
from pihil_emulator.devices.w25q import W25q
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.spi0 import Spi0Block
from pihil_emulator.soc.variants import BCM2835
from pihil_emulator.vcd import VcdRecorder
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit

GOAL_RTF = 1.0
BLOCK = 4096
SPEED_HZ = 10_000_000


def _board() -> tuple[Soc, Spi0Block, W25q]:
    world = World(seed=0)
    soc = Soc(world, Circuit(world), BCM2835, Attachments())
    g = soc.gpio
    for line in (7, 8, 9, 10, 11):
        g.set_function(line, "ALT0")
    flash = W25q(contents=bytes((i * 31) & 0xFF for i in range(1 << 20)))
    soc.attachments.attach(
        flash,
        "spi0",
        "spi",
        {"sclk": g.net(11), "mosi": g.net(10), "miso": g.net(9), "cs": g.net(8)},
    )
    spi = soc.blocks["spi0"]
    assert isinstance(spi, Spi0Block)
    return soc, spi, flash


def _read_blocks(soc: Soc, spi: Spi0Block, flash: W25q, blocks: int) -> tuple[float, float]:
    """Read ``blocks`` 4 KiB blocks; returns (simulated s, wall s), checking every block."""
    t_sim = soc.world.now_ns
    t_wall = time.perf_counter()
    for i in range(blocks):
        address = (i * BLOCK) % (1 << 20)
        rx = spi.transfer(
            b"\x03" + address.to_bytes(3, "big") + bytes(BLOCK), cs=0, mode=0, speed_hz=SPEED_HZ
        )
        assert rx[4:] == flash.read_memory(address, BLOCK)
    wall = time.perf_counter() - t_wall
    return (soc.world.now_ns - t_sim) / 1e9, wall


def test_rtf_spi_10mhz_4k_reads() -> None:
    soc, spi, flash = _board()
    _read_blocks(soc, spi, flash, 5)  # warm-up
    sim, wall = _read_blocks(soc, spi, flash, 200)
    rtf = sim / wall
    kib_s = 200 * BLOCK / 1024 / wall
    print(
        f"\nSPI 10 MHz (effective {spi.effective_speed_hz} Hz), 4 KiB flash reads: "
        f"{sim * 1e3:.1f} ms simulated in {wall * 1e3:.1f} ms wall -> real-time factor {rtf:.2f} "
        f"(goal >= {GOAL_RTF}, {'met' if rtf >= GOAL_RTF else 'NOT met'}); {kib_s:.0f} KiB/s"
    )
    assert sim > 0  # every block was checked in _read_blocks; speed is printed, not asserted


def test_rtf_spi_10mhz_4k_reads_with_vcd(tmp_path: Path) -> None:
    """The same with a VCD of SCLK/MOSI/MISO/CE0 recorded (edges computed in closed form)."""
    soc, spi, flash = _board()
    nets = [soc.gpio.net(n) for n in (11, 10, 9, 8)]
    t_wall = time.perf_counter()
    with VcdRecorder(soc.world, tmp_path / "spi.vcd", nets):
        sim, _ = _read_blocks(soc, spi, flash, 10)
    wall = time.perf_counter() - t_wall  # including writing the file
    size = (tmp_path / "spi.vcd").stat().st_size
    print(
        f"\nSPI 10 MHz 4 KiB reads with a VCD: {sim * 1e3:.1f} ms simulated in {wall * 1e3:.1f} ms "
        f"wall -> real-time factor {sim / wall:.3f}; VCD {size / 1e6:.1f} MB"
    )
    assert size > 0
