"""SPI in the board's userspace: ``/dev/spidev0.0`` (the MirkoPC jig's W25Q32 on CE0) and
``/dev/spidev0.1`` (its MCP3008 on CE1), as Raspberry Pi OS's spidev over spi-bcm2835
answers them (soc-facts §4.1 "What Linux spidev exposes"), through py-spidev's API (the
stand-in for its C module), the PyPI ``mcp3008`` package and python-periphery unmodified.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import gc
import math
import os
import struct
import time
from collections.abc import Iterator

import mcp3008  # type: ignore[import-untyped]
import pytest
import spidev
from periphery import SPI, SPIError  # type: ignore[import-untyped]

from pihil_emulator.devices.mcp3008 import Mcp3008
from pihil_emulator.devices.w25q import W25q
from pihil_emulator.userspace import UserspaceError
from pihil_emulator.userspace.spi_dev import (
    SPI_3WIRE,
    SPI_IOC_RD_MODE,
    SPI_IOC_TRANSFER,
    SPI_IOC_WR_MAX_SPEED_HZ,
    SPI_IOC_WR_MODE,
    SPI_IOC_WR_MODE32,
    SPI_LOOP,
    SPI_TX_QUAD,
    spi_ioc_message,
)
from rpiboard_pihil import RpiBoard

CORE_CLOCK_HZ = 250_000_000  # BCM2711 core clock, which spi-bcm2835 divides (soc-facts §4.1)
JEDEC_W25Q32 = [0xEF, 0x40, 0x16]


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    """The MirkoPC with its test jig: W25Q32 on spi0 CE0, MCP3008 on spi0 CE1."""
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board
    board.close()


@pytest.fixture
def space(mirkopc: RpiBoard) -> Iterator[RpiBoard]:
    with mirkopc.simulation.userspace():
        yield mirkopc


def adc_of(board: RpiBoard) -> Mcp3008:
    adc = board.simulation.emulator.devices["adc"]
    assert isinstance(adc, Mcp3008)
    return adc


def flash_of(board: RpiBoard) -> W25q:
    flash = board.simulation.emulator.devices["flash"]
    assert isinstance(flash, W25q)
    return flash


def mcp3008_code(volts: float, vref: float = 3.3) -> int:
    """DS21295D §4.1: code = 1024 × VIN / VREF, 0..1023."""
    return max(0, min(1023, math.floor(1024 * volts / vref)))


def transfer(tx: ctypes.Array[ctypes.c_char] | None, rx: ctypes.Array[ctypes.c_char] | None,
             length: int, **fields: int) -> bytes:  # fmt: skip
    """One ``struct spi_ioc_transfer`` pointing at ctypes buffers (as C code builds it)."""
    values = {"speed_hz": 0, "delay_usecs": 0, "bits_per_word": 0, "cs_change": 0}
    values |= {"tx_nbits": 0, "rx_nbits": 0, "word_delay_usecs": 0} | fields
    return SPI_IOC_TRANSFER.pack(
        ctypes.addressof(tx) if tx is not None else 0,
        ctypes.addressof(rx) if rx is not None else 0,
        length,
        values["speed_hz"],
        values["delay_usecs"],
        values["bits_per_word"],
        values["cs_change"],
        values["tx_nbits"],
        values["rx_nbits"],
        values["word_delay_usecs"],
        0,
    )


# -- (a) the PyPI mcp3008 package (a spidev.SpiDev subclass) ---------------------------------
def test_mcp3008_package_reads_every_channel(space: RpiBoard) -> None:
    adc = adc_of(space)
    volts = [0.0, 0.4, 0.8, 1.2, 1.65, 2.2, 2.9, 3.3]
    for channel, v in enumerate(volts):
        adc.set_voltage(channel, v)
    with mcp3008.MCP3008(bus=0, device=1) as reader:
        assert isinstance(reader, spidev.SpiDev)
        readings = reader.read_all()
        assert readings[8:] == [mcp3008_code(v) for v in volts]  # CH0..CH7 single-ended
        # DF0: CH0 = IN+, CH1 = IN- (0 V - 0.4 V < 0: 000h); DF1: IN+ = CH1, IN- = CH0
        assert readings[0] == 0
        assert readings[1] == mcp3008_code(0.4)
        assert reader.read([mcp3008.CH4], norm=3.3)[0] == pytest.approx(1.65, abs=0.004)
        assert reader.max_speed_hz == 976_000
    assert adc.conversions == 17
    # CDIV = DIV_ROUND_UP(250 MHz, 976 kHz) rounded up to even = 258 (soc-facts §4.1)
    spi0 = space.simulation.emulator.soc.blocks["spi0"]
    assert spi0.effective_speed_hz == CORE_CLOCK_HZ // 258


# -- (b) the W25Q32: JEDEC ID, page program, read back -----------------------------------------
def test_w25q32_jedec_id_and_page_program_through_xfer2(space: RpiBoard) -> None:
    """W25Q32 JEDEC ID EF 40 16; WREN, Page Program, poll BUSY in simulated time, Read Data."""
    with spidev.SpiDev(0, 0) as flash:
        flash.max_speed_hz = 10_000_000
        assert flash.xfer2([0x9F, 0, 0, 0])[1:] == JEDEC_W25Q32
        data = list(b"pihil spidev page")
        flash.xfer2([0x06])  # write enable, latched when /CS rises
        assert flash.xfer2([0x05, 0])[1] & 0x02  # WEL
        flash.xfer2([0x02, 0x00, 0x01, 0x00, *data])  # page program at 0x000100
        polls = 0
        while flash.xfer2([0x05, 0])[1] & 0x01:  # BUSY for tPP
            time.sleep(0.0001)
            polls += 1
        assert polls > 0
        assert flash.xfer2([0x03, 0x00, 0x01, 0x00] + [0] * len(data))[4:] == data
    assert flash_of(space).read_memory(0x100, len(data)) == bytes(data)


def test_w25q32_command_and_read_in_one_message(space: RpiBoard) -> None:
    """SPI_IOC_MESSAGE(2): the spi core keeps /CS asserted from the command transfer to the
    read transfer (no cs_change), so the flash answers the command."""
    fd = os.open("/dev/spidev0.0", os.O_RDWR)
    try:
        cmd = ctypes.create_string_buffer(b"\x9f", 1)
        rx = ctypes.create_string_buffer(3)
        message = bytearray(transfer(cmd, None, 1) + transfer(None, rx, 3))
        assert fcntl.ioctl(fd, spi_ioc_message(2), message) == 4  # the message's length
        assert list(rx.raw) == JEDEC_W25Q32
        # cs_change on the first transfer: /CS goes up between them and the flash forgets
        rx = ctypes.create_string_buffer(3)
        message = bytearray(transfer(cmd, None, 1, cs_change=1) + transfer(None, rx, 3))
        fcntl.ioctl(fd, spi_ioc_message(2), message)
        assert list(rx.raw) != JEDEC_W25Q32
        # separate system calls are separate messages: write() then read() is not a command
        os.write(fd, b"\x9f")
        assert list(os.read(fd, 3)) != JEDEC_W25Q32
    finally:
        os.close(fd)


def test_cs_change_on_the_last_transfer_keeps_the_chip_selected(space: RpiBoard) -> None:
    """spi_transfer_one_message: cs_change on the last transfer keeps /CS asserted after the
    message (keep_cs); the next message continues the command."""
    gpio = space.simulation.emulator.gpio
    fd = os.open("/dev/spidev0.0", os.O_RDWR)
    try:
        cmd = ctypes.create_string_buffer(b"\x9f", 1)
        fcntl.ioctl(fd, spi_ioc_message(1), bytearray(transfer(cmd, None, 1, cs_change=1)))
        assert not gpio.level(8)  # CE0 (GPIO8) still low
        assert list(os.read(fd, 3)) == JEDEC_W25Q32
        assert gpio.level(8)  # released at the end of that message
    finally:
        os.close(fd)


def test_delay_usecs_runs_the_board(space: RpiBoard) -> None:
    fd = os.open("/dev/spidev0.0", os.O_RDWR)
    try:
        tx = ctypes.create_string_buffer(b"\x05\x00", 2)
        start = space.simulation.now_ns
        fcntl.ioctl(fd, spi_ioc_message(1), bytearray(transfer(tx, None, 2, delay_usecs=500)))
        assert space.simulation.now_ns - start >= 500_000
    finally:
        os.close(fd)


# -- (c) python-periphery (pure-Python ioctls) -------------------------------------------------
def test_periphery_spi_reads_the_flash_and_the_adc(space: RpiBoard) -> None:
    adc_of(space).set_voltage(5, 2.5)
    with SPI("/dev/spidev0.0", 0, 8e6) as flash:
        assert flash.transfer(b"\x9f\x00\x00\x00")[1:] == bytes(JEDEC_W25Q32)
        assert flash.mode == 0
        assert flash.max_speed == 8_000_000
        assert flash.bits_per_word == 8
        assert flash.bit_order == "msb"
    with SPI("/dev/spidev0.1", 3, 1_000_000) as adc:  # the MCP3008 also does mode 1,1
        rx = adc.transfer([0x01, 0x80 | 5 << 4, 0x00])
        assert ((rx[1] & 3) << 8) | rx[2] == mcp3008_code(2.5)


def test_periphery_errors_carry_the_kernel_errno(space: RpiBoard) -> None:
    with pytest.raises(SPIError) as lsb:
        SPI("/dev/spidev0.0", 0, 1e6, bit_order="lsb")  # spi-bcm2835 has no SPI_LSB_FIRST
    assert lsb.value.errno == errno.EINVAL
    with pytest.raises(SPIError) as bits:
        SPI("/dev/spidev0.0", 0, 1e6, bits_per_word=9)  # SPI_BPW_MASK(8) only
    assert bits.value.errno == errno.EINVAL
    del lsb, bits  # their half-open SPI objects close their descriptors here, in the userspace
    gc.collect()
    with SPI("/dev/spidev0.0", 0, 1e6) as flash:
        with pytest.raises(SPIError) as long:
            flash.transfer(bytes(4097))  # over spidev's bufsiz
        assert long.value.errno == errno.EMSGSIZE
        assert len(flash.transfer(bytes(4096))) == 4096  # exactly bufsiz is fine
    with pytest.raises(SPIError) as absent:
        SPI("/dev/spidev0.2", 0, 1e6)
    assert absent.value.errno == errno.ENOENT


# -- (d) errors as the kernel gives them ---------------------------------------------------------
def test_refused_settings_leave_the_device_as_it_was(space: RpiBoard) -> None:
    with spidev.SpiDev(0, 0) as spi:
        spi.mode = 1
        with pytest.raises(OSError, match="Invalid argument") as lsb:
            spi.lsbfirst = True
        assert lsb.value.errno == errno.EINVAL
        with pytest.raises(OSError, match="Invalid argument") as loop:
            spi.loop = True
        assert loop.value.errno == errno.EINVAL
        with pytest.raises(OSError, match="Invalid argument") as bits:
            spi.bits_per_word = 9
        assert bits.value.errno == errno.EINVAL
        assert (spi.mode, spi.lsbfirst, spi.bits_per_word) == (1, False, 8)
        mode = ctypes.c_uint8()
        fcntl.ioctl(spi.fileno(), SPI_IOC_RD_MODE, mode)
        assert mode.value == 1
        # the Pi's GPIO chip selects: spidev hides SPI_CS_HIGH, py-spidev's read-back fails
        with pytest.raises(OSError, match="Attempted to set mode 0x5 but mode 0x1 returned"):
            spi.cshigh = True
        assert spi.cshigh is False
        spi.no_cs = True  # in spi-bcm2835's mode_bits
        assert spi.no_cs is True


def test_raw_ioctl_checks(space: RpiBoard) -> None:
    fd = os.open("/dev/spidev0.0", os.O_RDWR)

    def refused(request: int, arg: object) -> int:
        with pytest.raises(OSError, match=r"^\[Errno \d+\]") as error:
            fcntl.ioctl(fd, request, arg)
        return error.value.errno or 0

    try:
        assert refused(SPI_IOC_WR_MODE32, struct.pack("=I", 1 << 20)) == errno.EINVAL  # unknown
        assert refused(SPI_IOC_WR_MODE, bytes([SPI_LOOP])) == errno.EINVAL
        assert refused(SPI_IOC_WR_MAX_SPEED_HZ, struct.pack("=I", 0)) == errno.EINVAL
        assert refused(0x40016A01, b"\0") == errno.ENOTTY  # not spidev's magic 'k'
        assert refused(spi_ioc_message(1) + (1 << 16), bytes(33)) == errno.EINVAL  # size 33
        # quad mode bits are dropped, not refused ("ignoring unsupported mode bits")
        fcntl.ioctl(fd, SPI_IOC_WR_MODE32, struct.pack("=I", SPI_TX_QUAD | 3))
        mode = bytearray(4)
        fcntl.ioctl(fd, SPI_IOC_WR_MODE32 ^ (3 << 30), mode)  # SPI_IOC_RD_MODE32
        assert struct.unpack("=I", mode)[0] == 3
        tx = ctypes.create_string_buffer(2)
        assert refused(spi_ioc_message(1), transfer(tx, None, 2, tx_nbits=2)) == errno.EINVAL
        assert refused(spi_ioc_message(1), transfer(tx, None, 2, bits_per_word=16)) == errno.EINVAL
        with pytest.raises(OSError, match="Message too long") as long:
            os.read(fd, 4097)
        assert long.value.errno == errno.EMSGSIZE
        assert os.read(fd, 0) == b""
        # 3-wire is half duplex: a transfer with both buffers is refused
        fcntl.ioctl(fd, SPI_IOC_WR_MODE, bytes([SPI_3WIRE]))
        both = transfer(tx, ctypes.create_string_buffer(2), 2)
        assert refused(spi_ioc_message(1), both) == errno.EINVAL
    finally:
        os.close(fd)


def test_spidev_argument_errors_are_the_c_modules(space: RpiBoard) -> None:
    with spidev.SpiDev(0, 0) as spi:
        with pytest.raises(OverflowError, match="Argument list size exceeds 4096 bytes"):
            spi.xfer2([0] * 4097)
        with pytest.raises(TypeError, match="Empty argument list"):
            spi.xfer([])
        with pytest.raises(TypeError, match="invalid bits_per_word"):
            spi.bits_per_word = 7
        with pytest.raises(TypeError, match="takes no keyword arguments"):
            spi.xfer2([1], speed_hz=1)
        values = [0x9F, 0, 0, 0]
        assert spi.xfer2(values) is values  # filled in place, as the C code does
        assert spi.xfer((0x9F, 0, 0, 0)) == (0, *JEDEC_W25Q32)
        assert spi.xfer3([0x9F, 0, 0, 0]) == (0, *JEDEC_W25Q32)
    with pytest.raises(FileNotFoundError) as absent:
        spidev.SpiDev(0, 2)  # the profile has CE0 and CE1 only
    assert absent.value.errno == errno.ENOENT
    with pytest.raises(TypeError, match=r"open\(\) missing required argument 'device'"):
        spidev.SpiDev(0)
    closed = spidev.SpiDev()
    with pytest.raises(OSError, match="Bad file descriptor") as ebadf:
        closed.readbytes(1)
    assert ebadf.value.errno == errno.EBADF


def test_outside_a_userspace(mirkopc: RpiBoard) -> None:
    """Off a Pi the board's devices exist only in a userspace; an object opened in one acts
    closed after it; on a machine's own device the stand-in makes the real system calls."""
    with pytest.raises(UserspaceError):
        spidev.SpiDev(0, 0)
    with mirkopc.simulation.userspace():
        spi = spidev.SpiDev(0, 0)
    with mirkopc.simulation.userspace(), pytest.raises(OSError, match="Bad file") as stale:
        spi.xfer2([0x9F])
    assert stale.value.errno == errno.EBADF
    spi.close()
    real = spidev.SpiDev()
    with pytest.raises(OSError, match="Inappropriate ioctl") as notty:
        real.open_path("/dev/null")  # a real open, then a real SPI_IOC_RD_MODE
    assert notty.value.errno == errno.ENOTTY
    real.close()


# -- (e) the mode reaches the wire ---------------------------------------------------------------
@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_mode_reaches_the_cs_register_and_sclk(space: RpiBoard, mode: int) -> None:
    """CS.CPOL (bit 3) and CS.CPHA (bit 2) as spi-bcm2835 programs them; SCLK rests at
    CPOL (soc-facts §4.1)."""
    emulator = space.simulation.emulator
    with spidev.SpiDev(0, 0) as spi:
        spi.mode = mode
        spi.xfer2([0x05, 0x00])
    cs = emulator.read_register("spi0", "CS")
    assert (cs >> 3 & 1, cs >> 2 & 1) == (mode >> 1, mode & 1)
    assert emulator.gpio.level(11) is bool(mode >> 1)  # SPI0_SCLK on GPIO11


def test_the_adc_answers_only_in_its_modes(space: RpiBoard) -> None:
    """DS21295D: "can be used with SPI modes 0,0 and 1,1"; in mode 0,1 it samples on the
    wrong edge and the code is wrong."""
    adc_of(space).set_voltage(2, 1.0)
    with spidev.SpiDev(0, 1) as spi:
        spi.max_speed_hz = 1_000_000
        codes = {}
        for mode in (0, 1, 3):
            spi.mode = mode
            rx = spi.xfer2([0x01, 0x80 | 2 << 4, 0x00])
            codes[mode] = ((rx[1] & 3) << 8) | rx[2]
    assert codes[0] == codes[3] == mcp3008_code(1.0)
    assert codes[1] != mcp3008_code(1.0)


def test_no_cs_selects_nothing(space: RpiBoard) -> None:
    """SPI_NO_CS: neither chip select goes low, the flash does not answer (MISO pulled
    down at reset, soc-facts §3.7)."""
    with spidev.SpiDev(0, 0) as spi:
        spi.no_cs = True
        assert spi.xfer2([0x9F, 0, 0, 0]) == [0, 0, 0, 0]
        spi.no_cs = False
        assert spi.xfer2([0x9F, 0, 0, 0])[1:] == JEDEC_W25Q32


def test_stand_ins_import_cleanly_under_their_real_names(space: RpiBoard) -> None:
    """`import spidev` gives the stand-in with the real name's ``__spec__``; its calls must
    not import relatively (Python 3.12+: "DeprecationWarning: __package__ !=
    __spec__.parent", an error later). 1,146 such warnings came out of 3.12/3.13 runs."""
    import warnings

    import smbus  # type: ignore[import-not-found]

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        dev = spidev.SpiDev()
        dev.open(0, 0)
        dev.max_speed_hz = 1_000_000
        assert dev.xfer2([0x9F, 0, 0, 0])[1:] == JEDEC_W25Q32
        dev.close()
        bus = smbus.SMBus(1)  # the C module's SMBus (no context manager there)
        bus.read_byte_data(0x68, 0x03)
        bus.close()
