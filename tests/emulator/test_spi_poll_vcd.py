"""SPI0 driven register by register as spi-bcm2835 polls it, recorded to VCD and decoded by
sigrok-cli (issue 12 item 4).

The driver is a port of drivers/spi/spi-bcm2835.c (torvalds/linux): ``bcm2835_spi_prepare_message``
(CPOL/CPHA into CS), ``bcm2835_spi_transfer_one`` (CDIV, REN cleared, the polling choice
``tfr->len < spi_used_hz / hz_per_byte`` with ``hz_per_byte = 9 * 1000000 / polling_limit_us``),
``bcm2835_spi_transfer_one_poll`` (CS | TA, ``bcm2835_wr_fifo_blind(bs, 64)``, then
``bcm2835_wr_fifo`` / ``bcm2835_rd_fifo`` until ``rx_len`` is 0) and ``bcm2835_spi_reset_hw``.
The chip select is the native CE0 (the CS field), as the driver did before it moved every chip
select to a GPIO descriptor; the polling loop costs 40 ns of simulated time per register access
(an assumption [I]: the loop must let time pass, or it would spin at one instant).

Before the fix each FIFO byte was its own bus run whose first MISO bit was compared with the
live MISO net (which the closed-form engine never drives) instead of with the level the slave
had left on the wire, so a byte starting with that level recorded no edge: sigrok read the
wrong MISO bits while the driver read the right ones.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from pihil_emulator.attachments import Attachments
from pihil_emulator.buses.spi_target import SpiTarget
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.spi0 import Spi0Block, effective_speed_hz, linux_cdiv
from pihil_emulator.soc.variants import BCM2835
from pihil_emulator.vcd import VcdRecorder
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .sigrok_spi import CE0, MISO, MOSI, SCLK, needs_sigrok, sigrok_spi
except ImportError:  # pragma: no cover
    from sigrok_spi import CE0, MISO, MOSI, SCLK, needs_sigrok, sigrok_spi  # type: ignore[no-redef]

# spi-bcm2835.c
BCM2835_SPI_CS_RXD = 0x00020000
BCM2835_SPI_CS_TXD = 0x00040000
BCM2835_SPI_CS_REN = 0x00001000
BCM2835_SPI_CS_INTR = 0x00000400
BCM2835_SPI_CS_INTD = 0x00000200
BCM2835_SPI_CS_DMAEN = 0x00000100
BCM2835_SPI_CS_TA = 0x00000080
BCM2835_SPI_CS_CLEAR_RX = 0x00000020
BCM2835_SPI_CS_CLEAR_TX = 0x00000010
BCM2835_SPI_CS_CPOL = 0x00000008
BCM2835_SPI_CS_CPHA = 0x00000004
BCM2835_SPI_FIFO_SIZE = 64
POLLING_LIMIT_US = 30
ACCESS_NS = 40  # [I] simulated cost of one register access in the polling loop


class RandomSlave(SpiTarget):
    """Answers every byte with the next byte of its own random stream (always drives MISO)."""

    model = "random-slave"
    modes = frozenset({0, 1, 2, 3})

    def __init__(self, seed: int) -> None:
        super().__init__("random-slave")
        self._rng = random.Random(seed)
        self.got = bytearray()
        self.sent = bytearray()

    def exchange(self, mosi: int) -> int:
        self.got.append(mosi)
        out = self._rng.randrange(256)
        self.sent.append(out)
        return out


class PolledDriver:
    """spi-bcm2835's polled path, register for register."""

    def __init__(self, soc: Soc, spi: Spi0Block) -> None:
        self.soc = soc
        self.spi = spi
        self.clk_hz = spi.linux_clk_hz
        self.tx_buf = b""
        self.rx_buf = bytearray()
        self.tx_len = self.rx_len = 0
        self.before_ta: Callable[[], None] | None = None  # run just before the CS | TA write
        self.after_ta_off: Callable[[], None] | None = None  # just after reset_hw's CS write

    def rd(self, reg: str) -> int:
        self.soc.world.run_for(ACCESS_NS)
        return self.spi.read(reg)

    def wr(self, reg: str, value: int, hook: Callable[[], None] | None = None) -> None:
        """One register write; ``hook`` runs at the instant of the write, just before it."""
        self.soc.world.run_for(ACCESS_NS)
        if hook is not None:
            hook()
        self.spi.write(reg, value)

    def prepare_message(self, mode: int) -> None:
        cs = self.rd("CS") & ~(BCM2835_SPI_CS_CPOL | BCM2835_SPI_CS_CPHA)
        if mode & 2:
            cs |= BCM2835_SPI_CS_CPOL
        if mode & 1:
            cs |= BCM2835_SPI_CS_CPHA
        self.wr("CS", cs)

    def wr_fifo_blind(self, count: int) -> None:
        count = min(count, self.tx_len)
        self.tx_len -= count
        while count:
            self.wr("FIFO", self.tx_buf[len(self.tx_buf) - self.tx_len - count])
            count -= 1

    def wr_fifo(self) -> None:
        while self.tx_len and self.rd("CS") & BCM2835_SPI_CS_TXD:
            self.wr("FIFO", self.tx_buf[len(self.tx_buf) - self.tx_len])
            self.tx_len -= 1

    def rd_fifo(self) -> None:
        while self.rx_len and self.rd("CS") & BCM2835_SPI_CS_RXD:
            self.rx_buf.append(self.rd("FIFO") & 0xFF)
            self.rx_len -= 1

    def reset_hw(self) -> None:
        cs = self.rd("CS")
        cs &= ~(BCM2835_SPI_CS_INTR | BCM2835_SPI_CS_INTD | BCM2835_SPI_CS_DMAEN)
        cs &= ~BCM2835_SPI_CS_TA
        cs |= BCM2835_SPI_CS_CLEAR_RX | BCM2835_SPI_CS_CLEAR_TX
        self.wr("CS", cs)
        if self.after_ta_off is not None:
            self.after_ta_off()
        self.wr("DLEN", 0)

    def transfer_one(self, tx: bytes, speed_hz: int, chip_select: int = 0) -> bytes:
        cs = self.rd("CS")
        cdiv = linux_cdiv(self.clk_hz, speed_hz)
        spi_used_hz = effective_speed_hz(self.clk_hz, cdiv)
        self.wr("CLK", cdiv)
        cs &= ~BCM2835_SPI_CS_REN
        cs = (cs & ~0b11) | chip_select  # native chip select (the CS field)
        self.tx_buf, self.rx_buf = tx, bytearray()
        self.tx_len = self.rx_len = len(tx)
        hz_per_byte = (9 * 1_000_000) // POLLING_LIMIT_US
        assert len(tx) < spi_used_hz // hz_per_byte, "this test drives the polled path only"
        # bcm2835_spi_transfer_one_poll
        self.wr("CS", cs | BCM2835_SPI_CS_TA, self.before_ta)
        self.wr_fifo_blind(BCM2835_SPI_FIFO_SIZE)
        while self.rx_len:
            self.wr_fifo()
            self.rd_fifo()
        self.reset_hw()
        return bytes(self.rx_buf)


def polled_max(speed_hz: int, clk_hz: int = BCM2835.core_clock_hz) -> int:
    """The longest transfer spi-bcm2835 polls at ``speed_hz`` (``len < byte_limit``), at most 70
    (more than the 64-byte FIFO, so the loop refills it)."""
    used = effective_speed_hz(clk_hz, linux_cdiv(clk_hz, speed_hz))
    return min(70, used // ((9 * 1_000_000) // POLLING_LIMIT_US) - 1)


def board(seed: int) -> tuple[Soc, Spi0Block, RandomSlave]:
    world = World(seed=seed)
    soc = Soc(world, Circuit(world), BCM2835, Attachments())
    g = soc.gpio
    for line in (7, CE0, MISO, MOSI, SCLK):
        g.set_function(line, "ALT0")
    slave = RandomSlave(seed)
    soc.attachments.attach(
        slave,
        "spi0",
        "spi",
        {"sclk": g.net(SCLK), "mosi": g.net(MOSI), "miso": g.net(MISO), "cs": g.net(CE0)},
    )
    spi = soc.blocks["spi0"]
    assert isinstance(spi, Spi0Block)
    return soc, spi, slave


def sigrok_transfers(path: Path, mode: int) -> list[tuple[bytes, bytes]]:
    """(MOSI, MISO) of every transfer sigrok's spi decoder finds."""
    mosi = sigrok_spi(path, mode, "mosi-transfer")
    miso = sigrok_spi(path, mode, "miso-transfer")
    assert len(mosi) == len(miso), (mosi, miso)
    return list(zip(mosi, miso, strict=True))


def test_the_polled_port_reads_what_the_slave_sent() -> None:
    """bcm2835_spi_transfer_one_poll at register level: the bytes read are the slave's, in order,
    and the slave got every byte written (no VCD involved)."""
    soc, spi, slave = board(1)
    drv = PolledDriver(soc, spi)
    drv.prepare_message(0)
    tx = bytes(range(1, 26))
    rx = drv.transfer_one(tx, 8_000_000)
    assert bytes(slave.got) == tx
    assert rx == bytes(slave.sent)
    assert spi.read("CS") & BCM2835_SPI_CS_TA == 0


@needs_sigrok
@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_sigrok_decodes_40_polled_transfers_exactly(tmp_path: Path, mode: int) -> None:
    """Issue 12 item 4: 40 random polled transfers in one recording; sigrok-cli's spi decoder
    (one transfer per /CS assertion) gives back 100 % of the MOSI bytes sent and of the MISO
    bytes the driver read."""
    soc, spi, slave = board(100 + mode)
    rng = random.Random(mode)
    drv = PolledDriver(soc, spi)
    path = tmp_path / f"poll{mode}.vcd"
    nets = [soc.gpio.net(n) for n in (SCLK, MOSI, MISO, CE0)]
    expected: list[tuple[bytes, bytes]] = []
    with VcdRecorder(soc.world, path, nets):
        drv.prepare_message(mode)
        soc.world.run_for(2_000)
        for _ in range(40):
            speed = rng.choice((8_000_000, 16_000_000, 31_250_000))
            tx = bytes(rng.randrange(256) for _ in range(rng.randint(1, polled_max(speed))))
            rx = drv.transfer_one(tx, speed)
            expected.append((tx, rx))
            soc.world.run_for(rng.randint(500, 3_000))
    assert b"".join(rx for _, rx in expected) == bytes(slave.sent)
    got = sigrok_transfers(path, mode)
    assert len(got) == 40
    bad = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    assert bad == [], f"transfers decoded wrong: {bad}"


@needs_sigrok
@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_recordings_tight_around_one_polled_transfer(tmp_path: Path, mode: int) -> None:
    """Issue 12 (done when): a recording that starts at the instant the driver writes CS | TA
    (/CS falls at its first instant) and stops the instant reset_hw writes TA = 0 (/CS rises at
    its last) still decodes to exactly the bytes sent and read, for each of 10 transfers."""
    soc, spi, _slave = board(7 + mode)
    rng = random.Random(50 + mode)
    drv = PolledDriver(soc, spi)
    drv.prepare_message(mode)
    soc.world.run_for(1_000)
    nets = [soc.gpio.net(n) for n in (SCLK, MOSI, MISO, CE0)]
    paths: list[Path] = []
    recorders: list[VcdRecorder] = []

    def start() -> None:
        recorders.append(VcdRecorder(soc.world, paths[-1], nets))

    def stop() -> None:
        recorders[-1].close()

    drv.before_ta, drv.after_ta_off = start, stop
    for k in range(10):
        speed = rng.choice((8_000_000, 31_250_000))
        tx = bytes(rng.randrange(256) for _ in range(rng.randint(1, polled_max(speed))))
        path = tmp_path / f"tight{mode}_{k}.vcd"
        paths.append(path)
        rx = drv.transfer_one(tx, speed)
        assert sigrok_transfers(path, mode) == [(tx, rx)], k
        soc.world.run_for(rng.randint(100, 2_000))


@needs_sigrok
def test_a_message_of_transfers_with_cs_held_decodes_exactly(tmp_path: Path) -> None:
    """The driver path (`Spi0Block.transfer`) has the same seam: the spi core keeps /CS asserted
    between the transfers of one message (TA stays 1), each transfer one bus run; sigrok sees
    one /CS assertion whose MISO is every byte the driver read."""
    soc, spi, slave = board(3)
    rng = random.Random(3)
    path = tmp_path / "held.vcd"
    nets = [soc.gpio.net(n) for n in (SCLK, MOSI, MISO, CE0)]
    sent = bytearray()
    read = bytearray()
    seams = 0  # transfers whose first MISO bit is 0 (the pull-down) after a last bit of 1
    with VcdRecorder(soc.world, path, nets):
        soc.world.run_for(1_000)
        for last in [False] * 29 + [True]:
            tx = bytes(rng.randrange(256) for _ in range(rng.randint(1, 20)))
            rx = spi.transfer(tx, cs=0, mode=0, speed_hz=8_000_000, hold_cs=not last)
            seams += int(bool(read) and read[-1] & 1 == 1 and rx[0] >> 7 == 0)
            read += rx
            sent += tx
        soc.world.run_for(1_000)
    assert bytes(read) == bytes(slave.sent)
    assert seams > 0  # the case the fix is about occurs
    assert sigrok_transfers(path, 0) == [(bytes(sent), bytes(read))]
