"""SPI waveforms as VCD, decoded back by sigrok-cli (issue 4 "Waveforms and faults")."""

from __future__ import annotations

from pathlib import Path

import pytest

from pihil_emulator.attachments import Attachments
from pihil_emulator.devices.w25q import W25q
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.spi0 import Spi0Block
from pihil_emulator.soc.variants import BCM2835
from pihil_emulator.vcd import VcdRecorder
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .sigrok_spi import CE0, MISO, MOSI, SCLK, needs_sigrok, sigrok_spi
except ImportError:  # pragma: no cover
    from sigrok_spi import CE0, MISO, MOSI, SCLK, needs_sigrok, sigrok_spi  # type: ignore[no-redef]
IMAGE = bytes((i * 37 + 11) & 0xFF for i in range(4096))


def board() -> tuple[Soc, Spi0Block]:
    world = World(seed=4)
    soc = Soc(world, Circuit(world), BCM2835, Attachments())
    g = soc.gpio
    for line in (7, CE0, MISO, MOSI, SCLK):
        g.set_function(line, "ALT0")
    soc.attachments.attach(
        W25q(contents=IMAGE),
        "spi0",
        "spi",
        {"sclk": g.net(SCLK), "mosi": g.net(MOSI), "miso": g.net(MISO), "cs": g.net(CE0)},
    )
    spi = soc.blocks["spi0"]
    assert isinstance(spi, Spi0Block)
    return soc, spi


def record(soc: Soc, path: Path, action: object) -> None:
    nets = [soc.gpio.net(n) for n in (SCLK, MOSI, MISO, CE0)]
    with VcdRecorder(soc.world, path, nets):
        soc.world.run_for(2_000)
        assert callable(action)
        action()
        soc.world.run_for(2_000)


def sigrok_decode(path: Path, mode: int, row: str) -> bytes:
    return b"".join(sigrok_spi(path, mode, row))


@needs_sigrok
@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_sigrok_decodes_the_recorded_bytes(tmp_path: Path, mode: int) -> None:
    """Issue 4: VCD of SCLK/MOSI/MISO/CE; sigrok-cli's SPI decoder (cpol/cpha of the mode) reads
    back the bytes sent and received, in every mode."""
    soc, spi = board()
    tx = b"\x03" + (0x123).to_bytes(3, "big") + bytes(12)
    got: list[bytes] = []
    path = tmp_path / f"mode{mode}.vcd"
    record(soc, path, lambda: got.append(spi.transfer(tx, cs=0, mode=mode, speed_hz=8_000_000)))
    rx = got[0]
    if mode in (0, 3):
        assert rx[4:] == IMAGE[0x123 : 0x123 + 12]
    assert sigrok_decode(path, mode, "mosi-data") == tx
    assert sigrok_decode(path, mode, "miso-data") == rx


@needs_sigrok
def test_sigrok_decodes_a_gapless_dma_transfer(tmp_path: Path) -> None:
    """Linux spi-bcm2835: ≥ 96 bytes go by DMA, the clock without idle gaps; still decodable."""
    soc, spi = board()
    tx = b"\x0b" + (0x800).to_bytes(3, "big") + b"\x00" + bytes(200)
    got: list[bytes] = []
    path = tmp_path / "dma.vcd"
    record(soc, path, lambda: got.append(spi.transfer(tx, cs=0, mode=0, speed_hz=31_250_000)))
    assert got[0][5:] == IMAGE[0x800 : 0x800 + 200]
    assert sigrok_decode(path, 0, "miso-data") == got[0]
    assert sigrok_decode(path, 0, "mosi-data") == tx


def test_vcd_frames_the_clock_inside_chip_select(tmp_path: Path) -> None:
    """soc-facts §4.1 (ADCS note): /CS is asserted before the first SCLK edge and released after
    the last; SCLK rests at CPOL outside the transfer."""
    soc, spi = board()
    path = tmp_path / "frame.vcd"
    record(soc, path, lambda: spi.transfer(b"\x9f\x00\x00\x00", cs=0, mode=3, speed_hz=1_000_000))
    text = path.read_text()
    ids = {}
    for line in text.splitlines():
        if line.startswith("$var"):
            parts = line.split()
            ids[parts[3]] = parts[4]
    t = 0
    changes: list[tuple[int, str, int]] = []
    for token in text.split("$enddefinitions $end", 1)[1].split():
        if token.startswith("#"):
            t = int(token[1:])
        elif token[0] in "01" and token[1:] in ids:
            changes.append((t, ids[token[1:]], int(token[0])))
    ce = [(t, v) for t, n, v in changes if n == f"GPIO{CE0}" and t > 0]
    clk = [(t, v) for t, n, v in changes if n == f"GPIO{SCLK}" and t > 0]
    assert [v for _, v in ce] == [0, 1]
    inside = [c for c in clk if ce[0][0] < c[0] < ce[1][0]]
    before = [c for c in clk if c[0] <= ce[0][0]]
    assert len(inside) == 4 * 16
    assert before == [(before[0][0], 1)]  # CPOL = 1 set up before /CS falls (prepare_message)
    assert all(c[0] < ce[1][0] for c in clk)
    assert inside[-1][1] == 1  # back at rest (high) before /CS rises
