"""spi-bcm2835 register sequences against the SPI0 model.

Sources (read through the library's stored copies):
- torvalds/linux drivers/spi/spi-bcm2835.c (commit 00be843b): ``bcm2835_spi_probe`` ("initialise
  the hardware with the default polarities": ``CS = CLEAR_RX | CLEAR_TX``),
  ``bcm2835_spi_setup`` (``prepare_cs = CS_10 | CS_01 | CPOL/CPHA``: "The driver always uses
  software-controlled GPIO chip select, hence set the hardware-controlled native chip select to
  an invalid value"; native CE0/CE1 become GPIO8/GPIO7 descriptors),
  ``bcm2835_spi_prepare_message``, ``bcm2835_spi_transfer_one`` (CDIV, the polling choice),
  ``bcm2835_spi_transfer_one_irq`` (TA with interrupts off, ``wr_fifo_blind(64)``, then
  ``INTR | INTD | TA``), ``bcm2835_spi_interrupt`` (RXF → read 64 blind, RXR → read 48 blind,
  DONE with bytes left → write 64 blind, then ``rd_fifo``/``wr_fifo``, ``reset_hw`` when
  ``rx_len`` is 0) and ``bcm2835_spi_reset_hw`` (INTR/INTD/DMAEN/TA off, DONE written "unless
  the DONE bit is written at the end of every transfer ... breaks", both FIFOs cleared, DLEN 0).
- raspberrypi/linux drivers/spi/spi-bcm2835.c (commit 02326c9f, the native chip-select era):
  ``bcm2835_spi_set_cs`` for ``SPI_CS_HIGH`` (``CS_CSPOL | CS_CSPOL0 << chip_select``; on
  de-select ``CSPOL`` cleared and the "undefined" chip select 11).

The polled path is tests/emulator/test_spi_poll_vcd.py's ``PolledDriver``; the interrupt-driven
path below extends it. The interrupt line of SPI0 as the datasheet defines it (BCM2711-DS ch.9,
BCM2835 ARM Peripherals §10.6 CS.INTD "Generate interrupt when DONE = 1", CS.INTR "Generate
interrupt while RXR = 1") is the block's ``irq_line()``; the driver model sleeps on
``irq_event()`` (the GIC waking ``bcm2835_spi_interrupt``) and checks it against ``irq_line(cs)``
below, computed from the CS value the handler reads.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.spi0 import Spi0Block, effective_speed_hz, linux_cdiv
from pihil_emulator.vcd import VcdRecorder

from ..emulator.sigrok_spi import CE0, MISO, MOSI, SCLK, SIGROK, needs_sigrok
from ..emulator.test_spi_poll_vcd import (
    ACCESS_NS,
    BCM2835_SPI_CS_CLEAR_RX,
    BCM2835_SPI_CS_CLEAR_TX,
    BCM2835_SPI_CS_CPHA,
    BCM2835_SPI_CS_CPOL,
    BCM2835_SPI_CS_DMAEN,
    BCM2835_SPI_CS_INTD,
    BCM2835_SPI_CS_INTR,
    BCM2835_SPI_CS_TA,
    BCM2835_SPI_FIFO_SIZE,
    POLLING_LIMIT_US,
    PolledDriver,
    RandomSlave,
    board,
    sigrok_transfers,
)

BCM2835_SPI_CS_LEN_LONG = 0x02000000
BCM2835_SPI_CS_CSPOL0 = 0x00200000
BCM2835_SPI_CS_RXF = 0x00100000
BCM2835_SPI_CS_RXR = 0x00080000
BCM2835_SPI_CS_TXD = 0x00040000
BCM2835_SPI_CS_RXD = 0x00020000
BCM2835_SPI_CS_DONE = 0x00010000
BCM2835_SPI_CS_REN = 0x00001000
BCM2835_SPI_CS_CSPOL = 0x00000040
BCM2835_SPI_CS_CS_10, BCM2835_SPI_CS_CS_01 = 0x2, 0x1
BCM2835_SPI_FIFO_SIZE_3_4 = 48
CS_RESET = BCM2835_SPI_CS_TXD | BCM2835_SPI_CS_REN  # 0x00041000 (soc-facts §4.1)
IRQ_LATENCY_NS = 1_000  # [I] from the line rising to the handler's first read


def irq_line(cs: int) -> bool:
    """SPI0's interrupt as BCM2711-DS defines it: INTD and DONE, or INTR and RXR."""
    return bool(
        (cs & BCM2835_SPI_CS_INTD and cs & BCM2835_SPI_CS_DONE)
        or (cs & BCM2835_SPI_CS_INTR and cs & BCM2835_SPI_CS_RXR)
    )


class MainlineDriver(PolledDriver):
    """torvalds/linux spi-bcm2835 with GPIO chip select (CE0 = GPIO8 as an output)."""

    def __init__(self, soc: Soc, spi: Spi0Block) -> None:
        super().__init__(soc, spi)
        self.prepare_cs = 0
        self.interrupts: list[int] = []  # CS as each bcm2835_spi_interrupt read it
        self.completed = False
        self.path = ""

    def probe(self) -> None:
        self.wr("CS", BCM2835_SPI_CS_CLEAR_RX | BCM2835_SPI_CS_CLEAR_TX)

    def setup(self, mode: int) -> None:
        """bcm2835_spi_setup: the invalid native CS, CPOL/CPHA; CE0 → GPIO8 driven high."""
        cs = BCM2835_SPI_CS_CS_10 | BCM2835_SPI_CS_CS_01
        if mode & 2:
            cs |= BCM2835_SPI_CS_CPOL
        if mode & 1:
            cs |= BCM2835_SPI_CS_CPHA
        self.prepare_cs = cs
        gpio = self.soc.gpio
        gpio.write("GPSET0", 1 << CE0)  # GPIOD_OUT_LOW of an active-low line: inactive, high
        fsel = gpio.read("GPFSEL0") & ~(0b111 << 3 * CE0)
        gpio.write("GPFSEL0", fsel | (0b001 << 3 * CE0))  # bcm2835_pmx_gpio_set_direction

    def set_cs(self, active: bool) -> None:
        """spi_set_cs with a GPIO descriptor (active low): gpiod_set_value → GPCLR0/GPSET0."""
        self.soc.world.run_for(ACCESS_NS)
        self.soc.gpio.write("GPCLR0" if active else "GPSET0", 1 << CE0)

    def prepare_message(self, mode: int) -> None:
        self.wr("CS", self.prepare_cs)

    def reset_hw(self) -> None:
        cs = self.rd("CS")
        cs &= ~(
            BCM2835_SPI_CS_INTR | BCM2835_SPI_CS_INTD | BCM2835_SPI_CS_DMAEN | BCM2835_SPI_CS_TA
        )
        cs |= BCM2835_SPI_CS_DONE
        cs |= BCM2835_SPI_CS_CLEAR_RX | BCM2835_SPI_CS_CLEAR_TX
        self.wr("CS", cs)
        self.wr("DLEN", 0)

    def rd_fifo_blind(self, count: int) -> None:
        count = min(count, self.rx_len)
        self.rx_len -= count
        while count:
            self.rx_buf.append(self.rd("FIFO") & 0xFF)
            count -= 1

    def interrupt(self) -> None:
        """bcm2835_spi_interrupt."""
        cs = self.rd("CS")
        self.interrupts.append(cs)
        if not cs & BCM2835_SPI_CS_INTR:
            return
        if cs & BCM2835_SPI_CS_RXF:
            self.rd_fifo_blind(BCM2835_SPI_FIFO_SIZE)
        elif cs & BCM2835_SPI_CS_RXR:
            self.rd_fifo_blind(BCM2835_SPI_FIFO_SIZE_3_4)
        if self.tx_len and cs & BCM2835_SPI_CS_DONE:
            self.wr_fifo_blind(BCM2835_SPI_FIFO_SIZE)
        self.rd_fifo()
        self.wr_fifo()
        if not self.rx_len:
            self.reset_hw()
            self.completed = True

    def transfer_one_irq(self, cs: int) -> None:
        self.wr("CS", cs | BCM2835_SPI_CS_TA)
        self.wr_fifo_blind(BCM2835_SPI_FIFO_SIZE)
        self.wr_fifo()
        cs |= BCM2835_SPI_CS_INTR | BCM2835_SPI_CS_INTD | BCM2835_SPI_CS_TA
        self.wr("CS", cs)
        world = self.soc.world
        limit = world.now_ns + 30 * 10**9  # BCM2835_SPI_TIMEOUT_MS
        while not self.completed and world.now_ns < limit:
            world.run_until(self.spi.irq_event(), limit_ns=limit - world.now_ns)
            assert self.spi.irq_line()
            assert irq_line(self.spi.read("CS"))
            world.run_for(IRQ_LATENCY_NS)
            self.interrupt()
        assert self.completed, "no completion within BCM2835_SPI_TIMEOUT_MS"

    def transfer(self, tx: bytes, speed_hz: int) -> bytes:
        """The spi core around transfer_one: prepare_message, CS asserted, the transfer, CS
        de-asserted."""
        self.prepare_message(0)
        self.set_cs(True)
        cs = self.prepare_cs
        cdiv = linux_cdiv(self.clk_hz, speed_hz)
        self.wr("CLK", cdiv)
        used = effective_speed_hz(self.clk_hz, cdiv)
        self.tx_buf, self.rx_buf = tx, bytearray()
        self.tx_len = self.rx_len = len(tx)
        self.completed = False
        byte_limit = used // ((9 * 1_000_000) // POLLING_LIMIT_US)
        if len(tx) < byte_limit:
            self.path = "poll"
            self.wr("CS", cs | BCM2835_SPI_CS_TA)
            self.wr_fifo_blind(BCM2835_SPI_FIFO_SIZE)
            while self.rx_len:
                self.wr_fifo()
                self.rd_fifo()
            self.reset_hw()
        else:
            self.path = "irq"
            self.transfer_one_irq(cs)
        self.set_cs(False)
        return bytes(self.rx_buf)


def mainline_board(seed: int, mode: int) -> tuple[Soc, Spi0Block, RandomSlave, MainlineDriver]:
    soc, spi, slave = board(seed)
    drv = MainlineDriver(soc, spi)
    drv.probe()
    drv.setup(mode)
    return soc, spi, slave, drv


def test_probe_leaves_cs_at_its_reset_value_with_empty_fifos() -> None:
    """Probe's CLEAR_RX | CLEAR_TX is one-shot: CS reads back TXD | REN (the reset value, REN
    written 0 by probe: 0x40000), no interrupt pending, FIFOs empty."""
    soc, spi, _slave = board(1)
    assert spi.read("CS") == CS_RESET
    spi.write("FIFO", 0x55)  # TA 0: nothing shifts; the byte waits in the TX FIFO
    assert spi.tx_fifo == b"\x55"
    drv = MainlineDriver(soc, spi)
    drv.probe()
    assert spi.tx_fifo == b""
    assert spi.read("CS") == BCM2835_SPI_CS_TXD
    assert not irq_line(spi.read("CS"))


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_setup_prepare_cs_puts_the_mode_in_cs_and_no_native_chip_select(mode: int) -> None:
    soc, spi, _slave, drv = mainline_board(1, mode)
    drv.prepare_message(mode)
    cs = spi.read("CS")
    assert cs & 0b11 == 0b11
    assert bool(cs & BCM2835_SPI_CS_CPOL) == bool(mode & 2)
    assert bool(cs & BCM2835_SPI_CS_CPHA) == bool(mode & 1)
    assert soc.gpio.level(SCLK) == bool(mode & 2)  # SCLK rests at CPOL before /CS falls
    assert soc.gpio.level(CE0)  # the GPIO chip select, inactive


def test_reset_hw_clears_ta_interrupts_fifos_and_dlen() -> None:
    """bcm2835_spi_reset_hw after a transfer: CS has TA/INTR/INTD/DMAEN clear, writing DONE
    (read-only in the datasheet) changes nothing, both FIFOs are empty, DLEN 0."""
    soc, spi, slave, drv = mainline_board(2, 0)
    spi.write("DLEN", 7)
    spi.write("CLK", 250)  # 1 MHz
    spi.write("CS", drv.prepare_cs | BCM2835_SPI_CS_TA | BCM2835_SPI_CS_INTR)
    spi.write("FIFO", 1)
    soc.world.run_for(50_000)
    assert len(spi.rx_fifo) == 1
    drv.reset_hw()
    cs = spi.read("CS")
    assert cs & (BCM2835_SPI_CS_TA | BCM2835_SPI_CS_INTR | BCM2835_SPI_CS_INTD) == 0
    assert cs & (BCM2835_SPI_CS_DONE | BCM2835_SPI_CS_RXD) == 0
    assert (spi.tx_fifo, spi.rx_fifo, spi.read("DLEN")) == (b"", b"", 0)
    assert soc.register_policy.warnings == []  # DONE is a defined (read-only) bit
    assert bytes(slave.got) == b""  # CS = 11 and the GPIO chip select inactive: nobody selected


@needs_sigrok
def test_irq_transfer_interrupt_sequence_for_a_200_byte_transfer(tmp_path: Path) -> None:
    """transfer_one_irq fills 64 bytes with interrupts off (no interrupt at TA: "Otherwise the
    empty TX FIFO would immediately trigger an interrupt"), then each interrupt finds RXR (48+
    bytes) or DONE; the last one resets the block. The slave got every byte, the driver read
    what it sent, and sigrok decodes the one /CS assertion to exactly those bytes (no DMA: the
    port has no DMA channels, so 200 bytes stay on the interrupt path)."""
    soc, spi, slave, drv = mainline_board(3, 0)
    rng = random.Random(3)
    tx = bytes(rng.randrange(256) for _ in range(200))
    path = tmp_path / "irq200.vcd"
    with VcdRecorder(soc.world, path, [soc.gpio.net(n) for n in (SCLK, MOSI, MISO, CE0)]):
        soc.world.run_for(1_000)
        rx = drv.transfer(tx, 2_000_000)
        soc.world.run_for(1_000)
    assert sigrok_transfers(path, 0) == [(tx, rx)]
    assert drv.path == "irq"
    assert bytes(slave.got) == tx
    assert rx == bytes(slave.sent)
    assert all(cs & (BCM2835_SPI_CS_RXR | BCM2835_SPI_CS_DONE) for cs in drv.interrupts)
    assert any(cs & BCM2835_SPI_CS_RXR for cs in drv.interrupts)  # the 3/4 level was used
    assert drv.interrupts[-1] & BCM2835_SPI_CS_DONE
    cs = spi.read("CS")
    assert not cs & BCM2835_SPI_CS_TA
    assert not irq_line(cs)


@needs_sigrok
@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_sigrok_decodes_irq_and_polled_transfers_with_gpio_chip_select(
    tmp_path: Path, mode: int
) -> None:
    """12 transfers, polled and interrupt-driven by length (``len < byte_limit``), in one
    recording: each /CS assertion on GPIO8 decodes to exactly the bytes sent and read."""
    soc, _spi, slave, drv = mainline_board(20 + mode, mode)
    rng = random.Random(mode)
    path = tmp_path / f"irq{mode}.vcd"
    nets = [soc.gpio.net(n) for n in (SCLK, MOSI, MISO, CE0)]
    want: list[tuple[bytes, bytes]] = []
    paths: set[str] = set()
    with VcdRecorder(soc.world, path, nets):
        soc.world.run_for(2_000)
        for k in range(12):
            speed = rng.choice((1_000_000, 4_000_000, 8_000_000))
            n = rng.randint(1, 3) if k % 3 == 0 else rng.randint(20, 150)
            tx = bytes(rng.randrange(256) for _ in range(n))
            want.append((tx, drv.transfer(tx, speed)))
            paths.add(drv.path)
            soc.world.run_for(rng.randint(500, 3_000))
    assert paths == {"poll", "irq"}
    assert b"".join(r for _, r in want) == bytes(slave.sent)
    assert sigrok_transfers(path, mode) == want


@needs_sigrok
def test_spi_cs_high_through_cspol0(tmp_path: Path) -> None:
    """bcm2835_spi_set_cs (native CS, SPI_CS_HIGH): CSPOL | CSPOL0 set, CS field 0 on select;
    CE0 rests low, goes high for the transfer, low again when de-selected (CSPOL cleared, the
    "undefined" chip select 11); sigrok with an active-high CS decodes the bytes."""
    assert SIGROK is not None
    soc, spi, slave = board(5)
    slave.cs_active_high = True  # a part with an active-high select (why SPI_CS_HIGH exists)
    drv = PolledDriver(soc, spi)

    def set_cs(enable: bool) -> None:
        cs = spi.read("CS")
        cs |= BCM2835_SPI_CS_CSPOL | BCM2835_SPI_CS_CSPOL0  # spi->mode & SPI_CS_HIGH
        if enable:
            cs &= ~(BCM2835_SPI_CS_CS_10 | BCM2835_SPI_CS_CS_01)  # chip_select 0
        else:
            cs &= ~BCM2835_SPI_CS_CSPOL
            cs |= BCM2835_SPI_CS_CS_10 | BCM2835_SPI_CS_CS_01
        spi.write("CS", cs)

    path = tmp_path / "cspol.vcd"
    nets = [soc.gpio.net(n) for n in (SCLK, MOSI, MISO, CE0)]
    with VcdRecorder(soc.world, path, nets):
        set_cs(False)
        soc.world.run_for(2_000)
        assert not soc.gpio.level(CE0)  # active high: idle low
        set_cs(True)
        assert not soc.gpio.level(CE0)  # TA still 0: every line inactive
        tx = b"\xa5\x0f\xf0\x3c"
        levels: list[bool] = []
        drv.before_ta = lambda: levels.append(soc.gpio.level(CE0))
        drv.after_ta_off = lambda: levels.append(soc.gpio.level(CE0))
        rx = drv.transfer_one(tx, 8_000_000)  # native CS 0, TA on and off
        set_cs(False)
        soc.world.run_for(2_000)
    assert rx == bytes(slave.sent)
    assert levels == [False, False]  # just before TA = 1 and just after TA = 0
    assert not soc.gpio.level(CE0)
    assert spi.read("CS") & BCM2835_SPI_CS_CSPOL0
    decoder = (
        f"spi:clk=GPIO{SCLK}:mosi=GPIO{MOSI}:miso=GPIO{MISO}:cs=GPIO{CE0}"
        ":cpol=0:cpha=0:cs_polarity=active-high"
    )

    def row(name: str) -> bytes:
        assert SIGROK is not None
        out = subprocess.run(
            [SIGROK, "-I", "vcd", "-i", str(path), "-P", decoder, "-A", f"spi={name}"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        return bytes(int(line.split(":", 1)[1], 16) for line in out.splitlines() if ":" in line)

    mosi, miso = row("mosi-data"), row("miso-data")
    assert (mosi, miso) == (tx, rx)


def test_the_block_raises_its_interrupt_line_as_cs_says() -> None:
    """BCM2835 ARM Peripherals §10.6 CS: INTD "Generate interrupt when DONE = 1"; INTR
    "Generate interrupt while RXR = 1". DONE alone (no INTD) or INTD without TA (no DONE)
    leaves the line low."""
    _soc, spi, _slave, drv = mainline_board(4, 0)
    drv.prepare_message(0)
    assert spi.irq_line() is False
    spi.write("CS", drv.prepare_cs | BCM2835_SPI_CS_TA)
    assert spi.read("CS") & BCM2835_SPI_CS_DONE
    assert spi.irq_line() is False  # DONE, but INTD clear
    spi.write("CS", drv.prepare_cs | BCM2835_SPI_CS_TA | BCM2835_SPI_CS_INTD)
    line = spi.irq_line
    assert line() is True  # DONE with an empty TX FIFO and INTD
    spi.write("CS", drv.prepare_cs | BCM2835_SPI_CS_INTD)
    assert line() is False  # TA off: no DONE


def test_intr_raises_the_line_at_the_three_quarter_level_and_wakes_a_waiter() -> None:
    """INTR with RXR (RX FIFO 48+ of 64 bytes, spi-bcm2835 BCM2835_SPI_FIFO_SIZE_3_4): the
    line rises when the 48th byte lands, not before, and an ``irq_event`` taken while the
    line was low fires at that moment; reading the FIFO below 48 lowers the line again."""
    soc, spi, _slave, drv = mainline_board(5, 0)
    drv.prepare_message(0)
    spi.write("CLK", 250)  # 1 MHz at the 250 MHz core clock
    spi.write("CS", drv.prepare_cs | BCM2835_SPI_CS_TA | BCM2835_SPI_CS_INTR)
    for _ in range(BCM2835_SPI_FIFO_SIZE):
        spi.write("FIFO", 0x5A)
    assert not spi.irq_line()
    event = spi.irq_event()
    assert not event.triggered
    soc.world.run_until(event, limit_ns=10**6)
    assert len(spi.rx_fifo) == BCM2835_SPI_FIFO_SIZE_3_4
    assert spi.read("CS") & BCM2835_SPI_CS_RXR
    assert spi.irq_line()
    spi.read("FIFO")
    assert not spi.irq_line()  # 47 bytes: RXR clear, and INTD is not set for DONE
    assert spi.irq_event().triggered is False
