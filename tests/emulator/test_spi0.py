"""SPI0 at register level and through the Linux driver's transfer (soc-facts §4.1, §8)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pihil_emulator.attachments import Attachments
from pihil_emulator.buses.spi_target import SpiTarget
from pihil_emulator.devices.mcp3008 import Mcp3008
from pihil_emulator.devices.w25q import W25q
from pihil_emulator.errors import BusError, ConfigurationError
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.spi0 import Spi0Block, effective_speed_hz, linux_cdiv
from pihil_emulator.soc.variants import BCM2711, BCM2835, SocVariant
from pihil_emulator.world.clock import World
from pihil_emulator.world.edges import EdgeQueue
from pihil_emulator.world.net import Circuit

CE0, CE1, MISO, MOSI, SCLK = 8, 7, 9, 10, 11


class Recorder(SpiTarget):
    """Records what it is sent and answers with a running counter (always drives MISO)."""

    model = "recorder"
    modes = frozenset({0, 1, 2, 3})

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.got = bytearray()
        self.selects = 0
        self.times: list[int] = []

    def select(self) -> None:
        self.selects += 1

    def exchange(self, mosi: int) -> int:
        self.got.append(mosi)
        self.times.append(self.now_ns)
        return (len(self.got) + 0x40) & 0xFF


def make(variant: SocVariant = BCM2835, route: bool = True) -> tuple[Soc, Spi0Block]:
    world = World(seed=2)
    soc = Soc(world, Circuit(world), variant, Attachments())
    if route:
        for line in (CE1, CE0, MISO, MOSI, SCLK):
            soc.gpio.set_function(line, "ALT0")
    spi = soc.blocks["spi0"]
    assert isinstance(spi, Spi0Block)
    return soc, spi


def wire(soc: Soc, device: SpiTarget, cs_line: int) -> None:
    g = soc.gpio
    soc.attachments.attach(
        device,
        "spi0",
        "spi",
        {"sclk": g.net(SCLK), "mosi": g.net(MOSI), "miso": g.net(MISO), "cs": g.net(cs_line)},
    )


# -- reset values and the register map ------------------------------------------------------
@pytest.mark.parametrize("variant", [BCM2835, BCM2711])
def test_reset_values(variant: SocVariant) -> None:
    """soc-facts §8.1: SPI CS resets to 0x00041000 (TXD, REN); §4.1: CLK 0, DC 0x30201020, LTOH 1."""
    _, spi = make(variant)
    assert spi.read("CS") == 0x0004_1000
    assert spi.read("CLK") == 0
    assert spi.read("DLEN") == 0
    assert spi.read("LTOH") == 0x1
    assert spi.read("DC") == 0x3020_1020
    assert [r.offset for r in spi.MAP] == [0x00, 0x04, 0x08, 0x0C, 0x10, 0x14]


def test_cdiv_as_linux_computes_it() -> None:
    """soc-facts §4.1: cdiv = 2 at or above clk/2, else DIV_ROUND_UP made even, ≥ 65536 → 0;
    effective speed = clk / cdiv (clk / 65536 for 0)."""
    clk = 250_000_000
    assert linux_cdiv(clk, 125_000_000) == 2
    assert linux_cdiv(clk, 200_000_000) == 2
    assert linux_cdiv(clk, 10_000_000) == 26  # 25 rounded up to even
    assert effective_speed_hz(clk, 26) == 9_615_384
    assert linux_cdiv(clk, 1_000_000) == 250
    assert linux_cdiv(clk, 3_816) == 65514
    assert linux_cdiv(clk, 3_814) == 0  # DIV_ROUND_UP gives 65548
    assert effective_speed_hz(clk, 0) == 3_814


def test_clk_register_divisor() -> None:
    """soc-facts §4.1: "SCLK = Core Clock / CDIV. If CDIV is set to 0, the divisor is 65536 ...
    Odd numbers rounded down"."""
    _, spi = make()
    spi.write("CLK", 0)
    assert spi.divisor == 65536
    spi.write("CLK", 251)
    assert spi.divisor == 250
    assert spi.sclk_hz == 1_000_000


# -- chip selects as pins -------------------------------------------------------------------
def test_ta_asserts_the_selected_ce_low() -> None:
    """soc-facts §4.1: TA = 0 → "/CS lines are all high (assuming CSPOL = 0)"; TA = 1 → the line
    named by CS is asserted, the others de-asserted (dibase)."""
    soc, spi = make()
    g = soc.gpio
    assert g.level(CE0)
    assert g.level(CE1)
    spi.write("CS", 0x80 | 1)  # TA, CS = 1
    assert g.level(CE0)
    assert not g.level(CE1)
    spi.write("CS", 0x80 | 0)
    assert not g.level(CE0)
    assert g.level(CE1)
    spi.write("CS", 0)
    assert g.level(CE0)
    assert g.level(CE1)


def test_per_line_polarity() -> None:
    """soc-facts §4.1: CSPOL0/1 (bits 21/22) make a line active high; it idles low."""
    soc, spi = make()
    g = soc.gpio
    spi.write("CS", 1 << 21)
    assert not g.level(CE0)
    assert g.level(CE1)
    spi.write("CS", 1 << 21 | 0x80)
    assert g.level(CE0)
    assert g.level(CE1)


def test_cpol_sets_the_sclk_rest_level() -> None:
    """soc-facts §4.1: CPOL "0 = Rest state of clock = low"."""
    soc, spi = make()
    assert not soc.gpio.level(SCLK)
    spi.write("CS", 1 << 3)
    assert soc.gpio.level(SCLK)


# -- FIFO and status at register level ------------------------------------------------------
def test_polled_recipe_at_register_level() -> None:
    """soc-facts §4.1 polled recipe: set TA, write bytes while TXD, read while RXD, poll DONE."""
    soc, spi = make()
    dev = Recorder("rec")
    wire(soc, dev, CE0)
    spi.write("CLK", 250)  # 1 MHz
    spi.write("CS", 0x30 | 0x80)  # CLEAR both, TA
    assert spi.read("CS") & (1 << 16)  # DONE: nothing to send yet
    for b in b"\x11\x22\x33":
        assert spi.read("CS") & (1 << 18)  # TXD
        spi.write("FIFO", b)
    assert not spi.read("CS") & (1 << 16)  # DONE cleared by writing data
    soc.world.run_for(1_000)  # half a period of lead, then the first byte is on its way
    assert spi.read("CS") & (1 << 17) == 0  # nothing received yet
    soc.world.run_for(40_000)
    cs = spi.read("CS")
    assert cs & (1 << 16)
    assert cs & (1 << 17)
    assert [spi.read("FIFO") for _ in range(3)] == [0x41, 0x42, 0x43]
    assert not spi.read("CS") & (1 << 17)
    assert bytes(dev.got) == b"\x11\x22\x33"
    # 8 bit periods plus one idle period per byte when the CPU feeds the FIFO
    assert [t - dev.times[0] for t in dev.times] == [0, 9_000, 18_000]
    spi.write("CS", 0x30)
    assert soc.gpio.level(CE0)


def test_rx_fifo_full_pauses_the_clock() -> None:
    """soc-facts §4.1: RXR at 3/4 (48 bytes), RXF when full: "No further serial data will be sent /
    received until data is read"; RXR is cleared by TA = 0."""
    soc, spi = make()
    dev = Recorder("rec")
    wire(soc, dev, CE0)
    spi.write("CLK", 2)
    spi.write("CS", 0x80)
    for i in range(64):
        spi.write("FIFO", i)
    soc.world.run_for(10_000)
    for i in range(6):
        spi.write("FIFO", 100 + i)
    soc.world.run_for(10_000)
    cs = spi.read("CS")
    assert cs & (1 << 20)
    assert cs & (1 << 19)
    assert len(dev.got) == 64  # the clock stopped with 6 bytes still queued
    assert spi.read("FIFO") == 0x41
    soc.world.run_for(1_000)
    assert len(dev.got) == 65  # one slot freed, one more byte clocked
    spi.write("CS", 0)
    assert not spi.read("CS") & (1 << 19)


def test_clear_empties_the_fifos() -> None:
    """soc-facts §4.1: CLEAR "x1 = Clear TX FIFO, 1x = Clear RX FIFO", one-shot."""
    _, spi = make()
    for b in b"abc":
        spi.write("FIFO", b)  # TA = 0: queued, not sent
    assert spi.tx_fifo == b"abc"
    spi.write("CS", 0x10)
    assert spi.tx_fifo == b""
    assert spi.read("CS") & 0x30 == 0


def test_tx_fifo_holds_64_bytes() -> None:
    """soc-facts §4.1: the FIFO is 64 bytes deep; TXD clears when it is full."""
    _, spi = make()
    for i in range(64):
        spi.write("FIFO", i)
    assert not spi.read("CS") & (1 << 18)
    spi.write("FIFO", 0xEE)  # lost, as on the chip
    assert len(spi.tx_fifo) == 64


def test_dma_words_and_dlen() -> None:
    """BCM2835 datasheet DMA recipe: with DMAEN, the first FIFO write (TA = 0) carries DLEN in
    bits 31:16 and CS in 7:0; then 32-bit words; DLEN bytes are sent, without idle gaps."""
    soc, spi = make()
    dev = Recorder("rec")
    wire(soc, dev, CE0)
    spi.write("CLK", 250)
    spi.write("CS", 1 << 8)  # DMAEN
    spi.write("FIFO", 5 << 16 | 0x80)  # DLEN = 5, TA
    assert spi.read("DLEN") == 5
    assert spi.read("CS") & 0x80
    spi.write("FIFO", 0x44332211)
    spi.write("FIFO", 0x88776655)
    soc.world.run_for(100_000)
    assert bytes(dev.got) == b"\x11\x22\x33\x44\x55"
    assert [t - dev.times[0] for t in dev.times] == [0, 8_000, 16_000, 24_000, 32_000]
    assert spi.read("FIFO") == 0x44434241


# -- the Linux driver's transfer ------------------------------------------------------------
def test_transfer_reads_the_flash_jedec_id_on_ce0() -> None:
    """A W25Q32 on CE0 answers 9Fh with EF 40 16 through spi-bcm2835's transfer."""
    soc, spi = make()
    wire(soc, W25q(), CE0)
    assert spi.transfer(b"\x9f\x00\x00\x00", cs=0, mode=0, speed_hz=10_000_000)[1:] == bytes(
        [0xEF, 0x40, 0x16]
    )
    assert spi.effective_speed_hz == 9_615_384
    assert spi.read("CS") & 0x80 == 0  # the driver's reset_hw cleared TA


def test_device_on_ce1_does_not_see_a_ce0_transfer() -> None:
    """Issue 4: "a device on CE1 does not see a transfer addressed to CE0"."""
    soc, spi = make()
    a, b = Recorder("a"), Recorder("b")
    wire(soc, a, CE0)
    wire(soc, b, CE1)
    spi.transfer(b"\x01\x02", cs=0, mode=0, speed_hz=1_000_000)
    assert bytes(a.got) == b"\x01\x02"
    assert b.got == bytearray()
    assert b.selects == 0
    assert spi.transfer(b"\x07", cs=1, mode=0, speed_hz=1_000_000) == b"\x41"
    assert bytes(b.got) == b"\x07"
    assert a.selects == 1


def test_transfer_duration_and_gap_by_path() -> None:
    """Linux spi-bcm2835: polled and interrupt transfers have "1 idle clocks cycles after each
    byte", DMA (≥ 96 bytes) "runs the spi clock without gaps"."""
    soc, spi = make()
    dev = Recorder("rec")
    wire(soc, dev, CE0)
    t0 = soc.world.now_ns
    spi.transfer(bytes(10), cs=0, mode=0, speed_hz=1_000_000)  # interrupt mode (10 ≥ 3 bytes)
    assert soc.world.now_ns - t0 == 500 + 10 * 8_000 + 9 * 1_000 + 500
    assert dev.times[1] - dev.times[0] == 9_000
    dev.times.clear()
    t0 = soc.world.now_ns
    spi.transfer(bytes(100), cs=0, mode=0, speed_hz=1_000_000)  # DMA
    assert soc.world.now_ns - t0 == 500 + 100 * 8_000 + 500
    assert dev.times[1] - dev.times[0] == 8_000


def test_ce_pin_edges_frame_the_transfer() -> None:
    """/CS falls before the first SCLK edge and rises after the last (soc-facts §4.1 ADCS note)."""
    soc, spi = make()
    q = EdgeQueue(soc.world, [soc.gpio.net(CE0)])
    t0 = soc.world.now_ns
    spi.transfer(b"\x00\x00", cs=0, mode=0, speed_hz=1_000_000)
    edges = q.drain()
    assert [(e.level, e.time_ns - t0) for e in edges] == [(False, 0), (True, 500 + 17_000 + 500)]


def test_absent_device_reads_the_miso_pull() -> None:
    """Issue 4: MISO with no device floats to what the pulls give: GPIO9 has a reset pull-down
    (soc-facts §3.7), so 0x00; with a pull-up, 0xFF."""
    soc, spi = make()
    assert spi.transfer(b"\x9f\x00", cs=0, mode=0, speed_hz=1_000_000) == b"\x00\x00"
    soc.gpio.set_pull(MISO, "up")
    assert spi.transfer(b"\x9f\x00", cs=0, mode=0, speed_hz=1_000_000) == b"\xff\xff"


def test_jumper_mosi_to_miso_loops_back() -> None:
    """Issue 4: a jumper MOSI→MISO returns what was sent."""
    soc, spi = make()
    soc.circuit.connect(soc.gpio.net(MOSI), soc.gpio.net(MISO))
    data = bytes(range(0, 256, 7))
    for mode in range(4):
        assert spi.transfer(data, cs=0, mode=mode, speed_hz=5_000_000) == data


def test_mcp3008_on_ce1() -> None:
    """MCP3008 on CE1 read with the usual 3-byte frame at 1 MHz."""
    soc, spi = make()
    adc = Mcp3008(vref=3.3)
    wire(soc, adc, CE1)
    adc.set_voltage(6, 2.2)
    rx = spi.transfer(bytes([0x01, 0x80 | 6 << 4, 0x00]), cs=1, mode=0, speed_hz=1_000_000)
    assert ((rx[1] & 3) << 8) | rx[2] == int(1024 * 2.2 / 3.3)


def test_cs_high_with_an_active_high_device() -> None:
    """SPI_CS_HIGH sets CSPOLn: the line idles low after the transfer and is high during it."""
    soc, spi = make()
    dev = Recorder("hi")
    dev.cs_active_high = True
    wire(soc, dev, CE0)
    assert dev.selects == 0
    spi.transfer(b"\x5a", cs=0, mode=0, speed_hz=1_000_000, cs_high=True)
    assert bytes(dev.got) == b"\x5a"
    assert not soc.gpio.level(CE0)


# -- bad input ------------------------------------------------------------------------------
def test_bad_requests_are_rejected_clearly() -> None:
    """Issue 4: unsupported mode or word size, a speed the divider cannot reach, a chip select
    that is not routed: each a clear error."""
    _, spi = make()
    with pytest.raises(ConfigurationError, match="mode must be 0, 1, 2 or 3"):
        spi.transfer(b"\x00", cs=0, mode=4, speed_hz=1_000_000)
    with pytest.raises(ConfigurationError, match="8-bit words only"):
        spi.transfer(b"\x00", cs=0, mode=0, speed_hz=1_000_000, bits_per_word=16)
    with pytest.raises(ConfigurationError, match="125000000 Hz"):
        spi.transfer(b"\x00", cs=0, mode=0, speed_hz=200_000_000)
    with pytest.raises(ConfigurationError, match="3815 Hz"):
        spi.transfer(b"\x00", cs=0, mode=0, speed_hz=1_000)
    with pytest.raises(ConfigurationError, match="chip select must be 0, 1 or 2"):
        spi.transfer(b"\x00", cs=3, mode=0, speed_hz=1_000_000)
    with pytest.raises(BusError) as err:
        spi.transfer(b"\x00", cs=2, mode=0, speed_hz=1_000_000)
    assert err.value.kind == "not_routed"


def test_unrouted_chip_select_is_a_bus_error() -> None:
    """soc-facts §3.9: SPI0 CE0 is GPIO8 ALT0; with GPIO8 an input the transfer cannot select."""
    soc, spi = make()
    soc.gpio.set_function(CE0, "input")
    with pytest.raises(BusError, match="SPI0_CE0_N") as err:
        spi.transfer(b"\x00", cs=0, mode=0, speed_hz=1_000_000)
    assert err.value.kind == "not_routed"
    assert "GPIO8 ALT0" in str(err.value)


def test_ce2_exists_on_bcm2711_only() -> None:
    """soc-facts §3.9: SPI0_CE2_N is GPIO45 ALT4 on the BCM2711; the BCM2835 has no CE2 pin."""
    soc, spi = make(BCM2711)
    soc.gpio.set_function(45, "ALT4")
    dev = Recorder("ce2")
    wire(soc, dev, 45)
    spi.transfer(b"\x33", cs=2, mode=0, speed_hz=1_000_000)
    assert bytes(dev.got) == b"\x33"
    _, spi35 = make(BCM2835)
    with pytest.raises(BusError, match="no pin"):
        spi35.transfer(b"\x33", cs=2, mode=0, speed_hz=1_000_000)


def _polled_by_registers(soc: Soc, spi: Spi0Block, tx: bytes, mode: int, cdiv: int) -> bytes:
    """soc-facts §4.1 polled recipe, register by register, as a bare-metal program would."""
    spi.write("CLK", cdiv)
    cs = (mode >> 1) << 3 | (mode & 1) << 2
    spi.write("CS", cs | 0x30)
    soc.world.run_for(cdiv * 2)  # mode set up before /CS (as prepare_message does)
    spi.write("CS", cs | 0x80)
    rx = bytearray()
    sent = 0
    while len(rx) < len(tx):
        while sent < len(tx) and spi.read("CS") & (1 << 18):
            spi.write("FIFO", tx[sent])
            sent += 1
        while spi.read("CS") & (1 << 17):
            rx.append(spi.read("FIFO"))
        soc.world.run_for(1_000)
    while not spi.read("CS") & (1 << 16):
        soc.world.run_for(100)
    spi.write("CS", cs | 0x30)
    return bytes(rx)


@given(tx=st.binary(min_size=1, max_size=40), mode=st.integers(0, 3))
def test_register_level_and_driver_transfer_agree(tx: bytes, mode: int) -> None:
    """DESIGN "Two levels of detail, one truth": bytes clocked one FIFO event at a time give the
    same answers, and the device sees them with the same spacing, as the closed-form transfer."""
    results = []
    for by_registers in (False, True):
        soc, spi = make()
        dev = Recorder("rec")
        wire(soc, dev, CE0)
        if by_registers:
            rx = _polled_by_registers(soc, spi, tx, mode, 250)
        else:
            rx = spi.transfer(tx, cs=0, mode=mode, speed_hz=1_000_000)
        results.append((rx, bytes(dev.got), [t - dev.times[0] for t in dev.times]))
    assert results[0] == results[1]
