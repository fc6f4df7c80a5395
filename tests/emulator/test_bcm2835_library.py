"""Mike McCauley's bcm2835 C library (bcm2835.c, airspayce.com/mikem/bcm2835) on the model.

The register writes of its I2C, SPI and GPIO functions, ported one for one from bcm2835.c:
`bcm2835_peri_set_bits` (read-modify-write), `bcm2835_gpio_fsel/set/clr/write/lev/pud/pudclk/
set_pud`, `bcm2835_i2c_begin/setSlaveAddress/setClockDivider/write/read/read_register_rs`,
`bcm2835_spi_begin/setClockDivider/setDataMode/chipSelect/transfernb`. Each register access
takes 100 ns of simulated time (the polling loops spin in simulated time; nothing sleeps).

Issue 12 item 3: `bcm2835_i2c_write` and its siblings end with
``bcm2835_peri_set_bits(control, BCM2835_BSC_S_DONE, BCM2835_BSC_S_DONE)`` on the *C*
register, where bit 1 is reserved; the chip ignores it, the model does too and records one
warning. The programs run with no error from pihil and get the right data.
"""

from __future__ import annotations

from pihil_emulator.buses.spi_target import SpiTarget
from pihil_emulator.soc.registers import RegisterBlock

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .i2c_rig import PointerTarget, Rig, make_rig
except ImportError:  # pragma: no cover
    from i2c_rig import PointerTarget, Rig, make_rig  # type: ignore[no-redef]

# bcm2835.h
BSC_C_I2CEN, BSC_C_ST, BSC_C_CLEAR_1, BSC_C_READ = 0x8000, 0x80, 0x10, 0x01
BSC_S_CLKT, BSC_S_ERR, BSC_S_RXD, BSC_S_TXD, BSC_S_DONE, BSC_S_TA = (
    0x200,
    0x100,
    0x20,
    0x10,
    0x02,
    0x01,
)
BSC_FIFO_SIZE = 16
I2C_REASON_OK, I2C_REASON_ERROR_NACK, I2C_REASON_ERROR_CLKT, I2C_REASON_ERROR_DATA = 0, 1, 2, 4
SPI0_CS_CLEAR, SPI0_CS_TA, SPI0_CS_DONE, SPI0_CS_RXD, SPI0_CS_TXD = (
    0x30,
    0x80,
    0x10000,
    0x20000,
    0x40000,
)
SPI0_CS_CPOL, SPI0_CS_CPHA, SPI0_CS_CS = 0x08, 0x04, 0x03
GPIO_FSEL_INPT, GPIO_FSEL_OUTP, GPIO_FSEL_ALT0, GPIO_FSEL_MASK = 0, 1, 4, 7
GPIO_PUD_OFF, GPIO_PUD_DOWN, GPIO_PUD_UP = 0, 1, 2
CORE_CLK_HZ = 250_000_000  # BCM2835_CORE_CLK_HZ
ACCESS_NS = 100


class Bcm2835Lib:
    """The library's functions over the model's registers (V2 board: I2C on BSC1)."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.gpio: RegisterBlock = rig.soc.blocks["gpio"]
        self.bsc: RegisterBlock = rig.soc.blocks["bsc1"]
        self.spi: RegisterBlock = rig.soc.blocks["spi0"]
        self.i2c_byte_wait_us = 0.0

    # bcm2835_peri_read / _write / _set_bits -------------------------------------------
    def rd(self, block: RegisterBlock, reg: str) -> int:
        self.rig.world.run_for(ACCESS_NS)
        return block.read(reg)

    def wr(self, block: RegisterBlock, reg: str, value: int) -> None:
        self.rig.world.run_for(ACCESS_NS)
        block.write(reg, value & 0xFFFF_FFFF)

    def set_bits(self, block: RegisterBlock, reg: str, value: int, mask: int) -> None:
        v = self.rd(block, reg)
        v = (v & ~mask) | (value & mask)
        self.wr(block, reg, v)

    def delay_us(self, us: float) -> None:
        self.rig.world.run_for(int(us * 1000))

    # GPIO -------------------------------------------------------------------------------
    def gpio_fsel(self, pin: int, mode: int) -> None:
        shift = (pin % 10) * 3
        self.set_bits(self.gpio, f"GPFSEL{pin // 10}", mode << shift, GPIO_FSEL_MASK << shift)

    def gpio_set(self, pin: int) -> None:
        self.wr(self.gpio, f"GPSET{pin // 32}", 1 << (pin % 32))

    def gpio_clr(self, pin: int) -> None:
        self.wr(self.gpio, f"GPCLR{pin // 32}", 1 << (pin % 32))

    def gpio_write(self, pin: int, on: bool) -> None:
        if on:
            self.gpio_set(pin)
        else:
            self.gpio_clr(pin)

    def gpio_lev(self, pin: int) -> int:
        return 1 if self.rd(self.gpio, f"GPLEV{pin // 32}") & (1 << (pin % 32)) else 0

    def gpio_pud(self, pud: int) -> None:
        self.wr(self.gpio, "GPPUD", pud)

    def gpio_pudclk(self, pin: int, on: bool) -> None:
        self.wr(self.gpio, f"GPPUDCLK{pin // 32}", (1 if on else 0) << (pin % 32))

    def gpio_set_pud(self, pin: int, pud: int) -> None:
        self.gpio_pud(pud)
        self.delay_us(10)
        self.gpio_pudclk(pin, True)
        self.delay_us(10)
        self.gpio_pud(GPIO_PUD_OFF)
        self.gpio_pudclk(pin, False)

    # I2C --------------------------------------------------------------------------------
    def i2c_begin(self) -> int:
        self.gpio_fsel(2, GPIO_FSEL_ALT0)  # RPI_V2_GPIO_P1_03, SDA
        self.gpio_fsel(3, GPIO_FSEL_ALT0)  # RPI_V2_GPIO_P1_05, SCL
        cdiv = self.rd(self.bsc, "DIV")
        self.i2c_byte_wait_us = cdiv / CORE_CLK_HZ * 1_000_000 * 9
        return 1

    def i2c_set_slave_address(self, addr: int) -> None:
        self.wr(self.bsc, "A", addr & 0xFF)  # uint8_t addr

    def i2c_set_clock_divider(self, divider: int) -> None:
        self.wr(self.bsc, "DIV", divider & 0xFFFF)
        self.i2c_byte_wait_us = divider / CORE_CLK_HZ * 1_000_000 * 9

    def _reason(self, remaining: int) -> int:
        if self.rd(self.bsc, "S") & BSC_S_ERR:
            reason = I2C_REASON_ERROR_NACK
        elif self.rd(self.bsc, "S") & BSC_S_CLKT:
            reason = I2C_REASON_ERROR_CLKT
        elif remaining:
            reason = I2C_REASON_ERROR_DATA
        else:
            reason = I2C_REASON_OK
        self.set_bits(self.bsc, "C", BSC_S_DONE, BSC_S_DONE)  # (sic: C, bit 1 reserved)
        return reason

    def i2c_write(self, buf: bytes) -> int:
        remaining, i = len(buf), 0
        self.set_bits(self.bsc, "C", BSC_C_CLEAR_1, BSC_C_CLEAR_1)
        self.wr(self.bsc, "S", BSC_S_CLKT | BSC_S_ERR | BSC_S_DONE)
        self.wr(self.bsc, "DLEN", len(buf))
        while remaining and i < BSC_FIFO_SIZE:
            self.wr(self.bsc, "FIFO", buf[i])
            i, remaining = i + 1, remaining - 1
        self.wr(self.bsc, "C", BSC_C_I2CEN | BSC_C_ST)
        for _ in range(1_000_000):
            if self.rd(self.bsc, "S") & BSC_S_DONE:
                break
            while remaining and self.rd(self.bsc, "S") & BSC_S_TXD:
                self.wr(self.bsc, "FIFO", buf[i])
                i, remaining = i + 1, remaining - 1
        return self._reason(remaining)

    def _drain(self, out: bytearray, remaining: int) -> int:
        while remaining and self.rd(self.bsc, "S") & BSC_S_RXD:
            out.append(self.rd(self.bsc, "FIFO"))
            remaining -= 1
        return remaining

    def i2c_read(self, n: int) -> tuple[int, bytes]:
        out = bytearray()
        remaining = n
        self.set_bits(self.bsc, "C", BSC_C_CLEAR_1, BSC_C_CLEAR_1)
        self.wr(self.bsc, "S", BSC_S_CLKT | BSC_S_ERR | BSC_S_DONE)
        self.wr(self.bsc, "DLEN", n)
        self.wr(self.bsc, "C", BSC_C_I2CEN | BSC_C_ST | BSC_C_READ)
        for _ in range(1_000_000):
            if self.rd(self.bsc, "S") & BSC_S_DONE:
                break
            while self.rd(self.bsc, "S") & BSC_S_RXD:  # (no remaining check, as the library)
                out.append(self.rd(self.bsc, "FIFO"))
                remaining -= 1
        remaining = self._drain(out, remaining)
        return self._reason(remaining), bytes(out)

    def i2c_read_register_rs(self, regaddr: int, n: int) -> tuple[int, bytes]:
        out = bytearray()
        remaining = n
        self.set_bits(self.bsc, "C", BSC_C_CLEAR_1, BSC_C_CLEAR_1)
        self.wr(self.bsc, "S", BSC_S_CLKT | BSC_S_ERR | BSC_S_DONE)
        self.wr(self.bsc, "DLEN", 1)
        self.wr(self.bsc, "C", BSC_C_I2CEN)
        self.wr(self.bsc, "FIFO", regaddr)
        self.wr(self.bsc, "C", BSC_C_I2CEN | BSC_C_ST)
        for _ in range(1_000_000):  # poll for transfer has started
            s = self.rd(self.bsc, "S")
            if s & BSC_S_TA or s & BSC_S_DONE:
                break
        self.wr(self.bsc, "DLEN", n)
        self.wr(self.bsc, "C", BSC_C_I2CEN | BSC_C_ST | BSC_C_READ)
        self.delay_us(self.i2c_byte_wait_us * 3)
        for _ in range(1_000_000):
            if self.rd(self.bsc, "S") & BSC_S_DONE:
                break
            remaining = self._drain(out, remaining)
        remaining = self._drain(out, remaining)
        return self._reason(remaining), bytes(out)

    # SPI --------------------------------------------------------------------------------
    def spi_begin(self) -> int:
        for pin in (7, 8, 9, 10, 11):  # CE1, CE0, MISO, MOSI, CLK
            self.gpio_fsel(pin, GPIO_FSEL_ALT0)
        self.wr(self.spi, "CS", 0)
        self.wr(self.spi, "CS", SPI0_CS_CLEAR)
        return 1

    def spi_set_clock_divider(self, divider: int) -> None:
        self.wr(self.spi, "CLK", divider & 0xFFFF)

    def spi_set_data_mode(self, mode: int) -> None:
        self.set_bits(self.spi, "CS", mode << 2, SPI0_CS_CPOL | SPI0_CS_CPHA)

    def spi_chip_select(self, cs: int) -> None:
        self.set_bits(self.spi, "CS", cs, SPI0_CS_CS)

    def spi_transfernb(self, tbuf: bytes) -> bytes:
        rbuf = bytearray()
        tx = 0
        self.set_bits(self.spi, "CS", SPI0_CS_CLEAR, SPI0_CS_CLEAR)
        self.set_bits(self.spi, "CS", SPI0_CS_TA, SPI0_CS_TA)
        for _ in range(1_000_000):
            if tx >= len(tbuf) and len(rbuf) >= len(tbuf):
                break
            while self.rd(self.spi, "CS") & SPI0_CS_TXD and tx < len(tbuf):
                self.wr(self.spi, "FIFO", tbuf[tx])
                tx += 1
            while self.rd(self.spi, "CS") & SPI0_CS_RXD and len(rbuf) < len(tbuf):
                rbuf.append(self.rd(self.spi, "FIFO"))
        for _ in range(1_000_000):
            if self.rd(self.spi, "CS") & SPI0_CS_DONE:
                break
        self.set_bits(self.spi, "CS", 0, SPI0_CS_TA)
        return bytes(rbuf)


class Counter(SpiTarget):
    """Records MOSI and answers 0x40 + the byte count (always drives MISO)."""

    model = "counter"
    modes = frozenset({0, 1, 2, 3})

    def __init__(self) -> None:
        super().__init__("counter")
        self.got = bytearray()

    def exchange(self, mosi: int) -> int:
        self.got.append(mosi)
        return (len(self.got) + 0x40) & 0xFF


def lib_rig() -> tuple[Rig, Bcm2835Lib, PointerTarget]:
    r = make_rig("BCM2835")
    t = r.attach(PointerTarget(0x48, fill=0x60))
    assert isinstance(t, PointerTarget)
    return r, Bcm2835Lib(r), t


def test_i2c_write_read_and_read_register_rs_run_and_return_the_data() -> None:
    r, lib, t = lib_rig()
    assert lib.i2c_begin() == 1
    lib.i2c_set_clock_divider(2500)  # 100 kHz
    lib.i2c_set_slave_address(0x48)
    assert lib.i2c_write(b"\x10\xa5\x5a") == I2C_REASON_OK
    assert bytes(t.mem[0x10:0x12]) == b"\xa5\x5a"
    assert lib.i2c_write(b"\x10") == I2C_REASON_OK
    assert lib.i2c_read(3) == (I2C_REASON_OK, b"\xa5\x5a\x72")
    assert lib.i2c_read_register_rs(0x11, 2) == (I2C_REASON_OK, b"\x5a\x72")
    data = bytes((3 * i) & 0xFF for i in range(40))  # longer than the FIFO: TXD refills
    assert lib.i2c_write(b"\x00" + data) == I2C_REASON_OK
    assert bytes(t.mem[:40]) == data
    # the reserved C bit 1 the library sets at the end of each call: one warning in all
    warnings = r.soc.register_policy.warnings
    assert [(w.block, w.register, w.kind) for w in warnings] == [("bsc1", "C", "reserved bits")]
    assert warnings[0].written & 0x2


def test_i2c_nack_is_reported_as_the_library_expects() -> None:
    _, lib, _ = lib_rig()
    lib.i2c_begin()
    lib.i2c_set_slave_address(0x33)
    assert lib.i2c_write(b"\x00") == I2C_REASON_ERROR_NACK
    assert lib.i2c_read(1)[0] == I2C_REASON_ERROR_NACK


def test_an_8_bit_slave_address_is_truncated_to_7_bits_with_a_warning() -> None:
    """`bcm2835_i2c_setSlaveAddress(uint8_t)`: A is bits 6:0; 0xC8 addresses 0x48 (soc-facts §2)."""
    r, lib, t = lib_rig()
    lib.i2c_begin()
    lib.i2c_set_slave_address(0xC8)
    assert lib.i2c_write(b"\x20\x11") == I2C_REASON_OK
    assert t.mem[0x20] == 0x11
    kinds = {(w.register, w.kind) for w in r.soc.register_policy.warnings}
    assert ("A", "value too wide") in kinds


def test_spi_transfernb_exchanges_the_bytes() -> None:
    r, lib, _ = lib_rig()
    dev = Counter()
    g = r.soc.gpio
    r.soc.attachments.attach(
        dev, "spi0", "spi", {"sclk": g.net(11), "mosi": g.net(10), "miso": g.net(9), "cs": g.net(8)}
    )
    assert lib.spi_begin() == 1
    lib.spi_set_clock_divider(64)
    lib.spi_set_data_mode(0)
    lib.spi_chip_select(0)
    got = lib.spi_transfernb(b"\x9f\x01\x02\x03")
    assert bytes(dev.got) == b"\x9f\x01\x02\x03"
    assert got == b"\x41\x42\x43\x44"
    assert [w for w in r.soc.register_policy.warnings if w.block == "spi0"] == []


def test_gpio_fsel_write_lev_and_set_pud() -> None:
    r, lib, _ = lib_rig()
    lib.gpio_fsel(17, GPIO_FSEL_OUTP)
    lib.gpio_write(17, True)
    assert lib.gpio_lev(17) == 1
    lib.gpio_write(17, False)
    assert lib.gpio_lev(17) == 0
    lib.gpio_fsel(4, GPIO_FSEL_INPT)
    lib.gpio_set_pud(4, GPIO_PUD_DOWN)
    assert lib.gpio_lev(4) == 0
    lib.gpio_set_pud(4, GPIO_PUD_UP)
    assert lib.gpio_lev(4) == 1
    assert [w for w in r.soc.register_policy.warnings if w.block == "gpio"] == []
