"""The C ``smbus`` module (i2c-tools py-smbus, PyPI smbus 1.1.post2) on the emulated MirkoPC.

``import smbus`` gives the stand-in (`pihil_emulator.userspace.standin_smbus`), which makes
the C module's system calls (open ``/dev/i2c-N``, the I2C_SLAVE and I2C_SMBUS ioctls), so
the PyPI package AT24Cxxx runs unmodified against the HAT EEPROM.

soc-facts §6: the HAT ID EEPROM is a CAT24C32 at 0x50 on i2c0, 16-bit word addresses,
32-byte pages, WP pulled up (lifted here as the flashing jumper does). §7.2: the PCF8523 RTC
at 0x68 on i2c1. §1.3: i2c-bcm2835 returns EREMOTEIO for a NACK.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Iterator

import pytest
import smbus
from AT24Cxxx import AT24Cxxx

from pihil_emulator.userspace import UserspaceError, standin_smbus
from rpiboard_pihil import RpiBoard

PAGE = 32


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    board.simulation.emulator.devices["hat_eeprom"].write_protect = False  # WP jumper fitted
    yield board
    board.close()


def test_import_gives_the_standin() -> None:
    assert smbus.SMBus is standin_smbus.SMBus
    assert not hasattr(smbus.SMBus, "fileno")  # the C type has none, nor __enter__
    assert not hasattr(smbus.SMBus, "__enter__")


def test_at24cxxx_writes_a_string_across_pages_and_reads_it_back(mirkopc: RpiBoard) -> None:
    """AT24Cxxx writes a byte at a time (write_i2c_block_data(addr, hi, [lo, value]), then
    sleeps 10 ms) and reads with a current-address read_byte: 70 bytes from 0x0F0 span
    three pages."""
    model = mirkopc.simulation.emulator.devices["hat_eeprom"]
    text = "pihil: the C smbus module on the MirkoPC HAT EEPROM, across three pages"
    start = 0x0F0
    with mirkopc.simulation.userspace() as space:
        eeprom = AT24Cxxx(channel=0, address=0x50)
        cycles = model.write_cycles
        eeprom.writeString(start, text + "\0")
        assert model.write_cycles - cycles == len(text) + 1  # one write cycle per byte
        assert space.simulated_s >= 0.01 * len(text)  # AT24Cxxx's sleeps ran on the board clock
        assert eeprom.readString(start) == text
        assert eeprom.readByte(start + 1) == ord("i")
        eeprom.bus.close()
    assert model.contents[start : start + len(text) + 1] == text.encode() + b"\0"
    assert (start + len(text)) // PAGE - start // PAGE == 2


def _wait_for_write_cycle(bus: smbus.SMBus, address: int) -> None:
    """ACK polling: the 24C32 NACKs its address during tWR (EREMOTEIO on i2c-bcm2835)."""
    for _ in range(100):
        try:
            bus.write_quick(address)
            return
        except OSError as exc:
            if exc.errno != errno.EREMOTEIO:
                raise
            time.sleep(0.0005)
    raise AssertionError("the EEPROM never acknowledged after its write cycle")


def _page_write(bus: smbus.SMBus, offset: int, data: bytes) -> None:
    """Page writes with the C module: at most 31 data bytes per call (32 list items, the
    first being the low address byte), never across a page boundary."""
    while data:
        room = min(PAGE - offset % PAGE, 31)
        chunk, data = data[:room], data[room:]
        bus.write_i2c_block_data(0x50, offset >> 8, [offset & 0xFF, *chunk])
        _wait_for_write_cycle(bus, 0x50)
        offset += len(chunk)


def _read(bus: smbus.SMBus, offset: int, length: int) -> bytes:
    bus.write_i2c_block_data(0x50, offset >> 8, [offset & 0xFF])  # set the address counter
    return bytes(bus.read_byte(0x50) for _ in range(length))


def test_multi_page_writes_with_write_i2c_block_data(mirkopc: RpiBoard) -> None:
    model = mirkopc.simulation.emulator.devices["hat_eeprom"]
    data = bytes(range(256))[:100]
    with mirkopc.simulation.userspace():
        bus = smbus.SMBus(0)
        _page_write(bus, 0x7E5, data)  # 0x7E5..0x848: four pages
        assert _read(bus, 0x7E5, len(data)) == data
        bus.close()
    assert model.contents[0x7E5 : 0x7E5 + len(data)] == data


def test_a_block_written_across_a_page_boundary_wraps_inside_the_page(mirkopc: RpiBoard) -> None:
    """CAT24C32: the address counter wraps inside the page; the stand-in sends the block as
    one message, so the bytes past the boundary land at the page's start."""
    model = mirkopc.simulation.emulator.devices["hat_eeprom"]
    with mirkopc.simulation.userspace():
        bus = smbus.SMBus(0)
        bus.write_i2c_block_data(0x50, 0x01, [0x1E, 0xA1, 0xA2, 0xA3, 0xA4])  # from 0x11E
        _wait_for_write_cycle(bus, 0x50)
        bus.close()
    assert model.contents[0x11E:0x120] == b"\xa1\xa2"
    assert model.contents[0x100:0x102] == b"\xa3\xa4"


def test_a_nack_at_an_absent_address_is_eremoteio(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        bus = smbus.SMBus(1)
        for call in (
            lambda: bus.read_byte_data(0x33, 0),
            lambda: bus.write_quick(0x33),
            lambda: bus.read_i2c_block_data(0x33, 0, 4),
            lambda: bus.write_byte(0x33, 1),
        ):
            with pytest.raises(OSError, match=r"^\[Errno 121\] Remote I/O error$") as nack:
                call()
            assert nack.value.errno == errno.EREMOTEIO
            assert nack.value.filename is None  # PyErr_SetFromErrno: no file name
        assert bus.read_byte_data(0x68, 0x0A) & 0x80  # the bus still works: Minute_alarm AEN_M
        bus.close()


def test_a_closed_bus_is_ebadf_and_an_absent_bus_is_enoent(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        bus = smbus.SMBus(1)
        bus.close()
        bus.close()  # twice is fine, as in the C module
        with pytest.raises(OSError, match="Bad file descriptor") as closed:
            bus.read_byte(0x68)
        assert closed.value.errno == errno.EBADF
        with pytest.raises(OSError, match="Bad file descriptor") as pec:
            bus.pec = True  # the I2C_PEC ioctl on the closed descriptor
        assert pec.value.errno == errno.EBADF
        assert bus.pec is False
        never_opened = smbus.SMBus()
        with pytest.raises(OSError, match="Bad file descriptor") as unopened:
            never_opened.write_quick(0x68)
        assert unopened.value.errno == errno.EBADF
        with pytest.raises(FileNotFoundError) as absent:
            smbus.SMBus(7)
        assert absent.value.errno == errno.ENOENT
        assert absent.value.filename is None
        bus.open(1)
        # smbusmodule.c caches the address even when I2C_SLAVE fails, and open() keeps the
        # cache: no I2C_SLAVE now, the new file's client address is 0, nobody acknowledges
        with pytest.raises(OSError, match="Remote I/O") as cached:
            bus.read_byte_data(0x68, 0x0A)
        assert cached.value.errno == errno.EREMOTEIO
        bus.close()  # close() resets the cache
        bus.open(1)
        assert bus.read_byte_data(0x68, 0x0A) & 0x80
        bus.close()


def test_argument_errors_are_the_c_modules(mirkopc: RpiBoard) -> None:
    """The messages PyArg_ParseTuple and SMBus_list_to_data give (checked against the C
    module built from the sdist); none reaches the bus."""
    message = "Third argument must be a list of at least one, but not more than 32 integers"
    with mirkopc.simulation.userspace():
        bus = smbus.SMBus(0)
        with pytest.raises(TypeError, match=r"^write_quick\(\) takes exactly 1 argument \(0"):
            bus.write_quick()
        with pytest.raises(TypeError, match="takes no keyword arguments"):
            bus.read_i2c_block_data(0x50, 0, len=4)
        with pytest.raises(TypeError, match="'float' object cannot be interpreted"):
            bus.read_byte(80.0)
        with pytest.raises(OverflowError, match="signed integer is greater than maximum"):
            bus.read_byte(2**40)
        with pytest.raises(TypeError, match=message):
            bus.write_i2c_block_data(0x50, 0, (1, 2))
        with pytest.raises(OverflowError, match=message):
            bus.write_i2c_block_data(0x50, 0, list(range(33)))
        with pytest.raises(OverflowError, match="Bus number is invalid"):
            smbus.SMBus(1234567)
        with pytest.raises(TypeError, match="not an acceptable base type"):
            type("Mine", (smbus.SMBus,), {})
        bus.close()


def test_values_are_truncated_to_bytes_as_the_c_casts_do(mirkopc: RpiBoard) -> None:
    model = mirkopc.simulation.emulator.devices["hat_eeprom"]
    with mirkopc.simulation.userspace():
        bus = smbus.SMBus(0)
        bus.write_i2c_block_data(0x50, 0x100 + 0x02, [0x00, 0x1FF, -1, 300])  # (__u8) casts
        _wait_for_write_cycle(bus, 0x50)
        bus.close()
    assert model.contents[0x200:0x203] == bytes([0xFF, 0xFF, 300 & 0xFF])


def test_the_pcf8523_through_read_i2c_block_data(mirkopc: RpiBoard) -> None:
    """Set 2024-12-31 23:59:30 (BCD, Seconds..Years at 03h-09h), let 45 simulated seconds
    pass, read the year roll over; a 32-byte read (the "broken" block size the C module
    asks for with len=32) wraps from 13h to 00h."""
    with mirkopc.simulation.userspace():
        bus = smbus.SMBus(1)
        bus.write_i2c_block_data(0x68, 0x03, [0x30, 0x59, 0x23, 0x31, 0x02, 0x12, 0x24])
        time.sleep(45)
        seconds, minutes, hours, days, weekday, months, years = bus.read_i2c_block_data(
            0x68, 0x03, 7
        )
        assert (years, months, days, hours, minutes) == (0x25, 0x01, 0x01, 0x00, 0x00)
        assert seconds in (0x15, 0x16)  # 45 increments, 46 if one fell in the bus time
        assert weekday == 0x03
        full = bus.read_i2c_block_data(0x68, 0x00)
        assert len(full) == 32
        assert full[20:32] == full[0:12]  # the pointer wraps from 13h to 00h
        assert full[3] & 0x7F in (seconds, seconds + 1)
        bus.close()


def test_outside_a_userspace_the_standin_refuses(mirkopc: RpiBoard) -> None:
    with pytest.raises(UserspaceError, match="no pihil userspace is active"):
        smbus.SMBus(1)
    with mirkopc.simulation.userspace():
        bus = smbus.SMBus(1)  # left open: the userspace closes its descriptor on leaving
    with pytest.raises(UserspaceError):
        bus.read_byte(0x68)
