"""The Linux backend's I2C path on a real kernel: i2c-dev and smbus2 on i2c-stub.

i2c-stub (drivers/i2c/i2c-stub.c, Linux 6.1) loaded with ``chip_addr=0x50`` is an SMBus-only
adapter: functionality ``QUICK | BYTE | BYTE_DATA | WORD_DATA | I2C_BLOCK``, a 256-word
register file per chip, ``-ENODEV`` for an address it does not serve (``stub_xfer``). It has no
``master_xfer``, so an ``I2C_RDWR`` (what the driver's transfers use, like i2c-bcm2835 wants)
fails in ``__i2c_transfer`` with ``-EOPNOTSUPP``, which the backend maps to NotSupportedError.
"""

from __future__ import annotations

import errno
import fcntl
import struct
from collections.abc import Iterator

import pytest
from smbus2 import SMBus

from rpiboard_pihil import RpiBoard
from rpiboard_pihil.errors import NotSupportedError, PihilError

from .kernel_sim import info

STUB = 0x50
ABSENT = 0x51
I2C_FUNCS = 0x0705  # include/uapi/linux/i2c-dev.h
I2C_FUNC_I2C = 0x00000001
I2C_FUNC_SMBUS_BYTE_DATA = 0x00180000


def _bus() -> tuple[str, str]:
    b = next(b for b in info().i2c_buses if b.name == "i2c0")
    return b.name, b.linux_device


@pytest.fixture
def smbus() -> Iterator[SMBus]:
    with SMBus(_bus()[1]) as bus:
        yield bus


def test_byte_data_round_trip(smbus: SMBus) -> None:
    for reg, value in ((0x00, 0x5A), (0x7F, 0xA5), (0xFF, 0x01)):
        smbus.write_byte_data(STUB, reg, value)
        assert smbus.read_byte_data(STUB, reg) == value


def test_word_data_round_trip_and_low_byte(smbus: SMBus) -> None:
    smbus.write_word_data(STUB, 0x10, 0xBEEF)
    assert smbus.read_word_data(STUB, 0x10) == 0xBEEF
    assert smbus.read_byte_data(STUB, 0x10) == 0xEF  # i2c-stub: a byte reads the word's low byte


def test_i2c_block_round_trip(smbus: SMBus) -> None:
    data = [1, 2, 3, 4, 250, 251, 252, 253]
    smbus.write_i2c_block_data(STUB, 0x20, data)
    assert smbus.read_i2c_block_data(STUB, 0x20, len(data)) == data
    assert smbus.read_byte_data(STUB, 0x23) == 4


def test_absent_address_is_enodev(smbus: SMBus) -> None:
    with pytest.raises(OSError, match="No such device") as err:
        smbus.read_byte_data(ABSENT, 0)
    assert err.value.errno == errno.ENODEV


def test_functionality_is_smbus_only() -> None:
    with open(_bus()[1], "rb", buffering=0) as f:
        buf = fcntl.ioctl(f.fileno(), I2C_FUNCS, struct.pack("L", 0))
    funcs = struct.unpack("L", buf)[0]
    assert funcs & I2C_FUNC_SMBUS_BYTE_DATA == I2C_FUNC_SMBUS_BYTE_DATA
    assert not funcs & I2C_FUNC_I2C


def test_driver_write_maps_eopnotsupp(board: RpiBoard) -> None:
    name = _bus()[0]
    with pytest.raises(NotSupportedError, match=rf"{name}: the I2C driver refused"):
        board.i2c_buses[name].write(STUB, b"\x00\x01")


def test_driver_read_maps_eopnotsupp(board: RpiBoard) -> None:
    name = _bus()[0]
    with pytest.raises(NotSupportedError, match="refused"):
        board.i2c_buses[name].read(STUB, 2)


def test_driver_write_read_to_an_absent_address_also_refused(board: RpiBoard) -> None:
    # I2C_RDWR is refused before any address is tried: EOPNOTSUPP, not ENODEV
    name = _bus()[0]
    with pytest.raises(NotSupportedError):
        board.i2c_buses[name].write_read(ABSENT, b"\x00", 1)


def test_driver_frequency_without_device_tree(board: RpiBoard) -> None:
    bus = board.i2c_buses[_bus()[0]]
    assert bus.frequency_hz == 100_000
    with pytest.raises(PihilError):
        bus.frequency_hz = 400_000
