"""Twin selection, I2C: SMBus byte/word/block round trips with smbus2, the driver's transfers,
and an absent address.

On the emulator the bus is the BCM2711's BSC0 with a 24C02 EEPROM at 0x50 (emulator/
pihil_emulator/devices/at24.py: 8-byte pages, a 5 ms self-timed write cycle during which it
does not acknowledge, so a user waits after each write as the datasheet asks); in the guest
i2c-stub ``chip_addr=0x50`` (drivers/i2c/i2c-stub.c ``stub_xfer``: a 256-word register file,
SMBus only). The expected values are the EEPROM's (the part on the board); where i2c-stub
answers otherwise the difference is listed in docs/kernel-tier.md.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from typing import Any

import pytest
from smbus2 import SMBus

from rpiboard_pihil import RpiBoard
from rpiboard_pihil.errors import I2cNackError

ADDRESS = 0x50
ABSENT = 0x51
WRITE_CYCLE_S = 0.01  # 24C02 tWR is 5 ms max


@pytest.fixture
def bus(board: RpiBoard, userspace: Any, i2c_device: str) -> Iterator[SMBus]:
    with SMBus(i2c_device) as smbus:
        yield smbus


def test_byte_data_round_trip(board: RpiBoard, bus: SMBus) -> None:
    for reg, value in ((0x00, 0x5A), (0x7F, 0xA5), (0xFF, 0x01)):
        bus.write_byte_data(ADDRESS, reg, value)
        board.delay(WRITE_CYCLE_S)
        assert bus.read_byte_data(ADDRESS, reg) == value


def test_word_data_round_trip(board: RpiBoard, bus: SMBus) -> None:
    bus.write_word_data(ADDRESS, 0x10, 0xBEEF)
    board.delay(WRITE_CYCLE_S)
    assert bus.read_word_data(ADDRESS, 0x10) == 0xBEEF
    assert bus.read_byte_data(ADDRESS, 0x10) == 0xEF  # SMBus words are low byte first


def test_word_write_fills_two_consecutive_bytes(board: RpiBoard, bus: SMBus) -> None:
    """An EEPROM stores a word's two bytes at reg and reg+1 (its address counter increments)."""
    bus.write_word_data(ADDRESS, 0x30, 0x1234)
    board.delay(WRITE_CYCLE_S)
    assert bus.read_byte_data(ADDRESS, 0x31) == 0x12


def test_i2c_block_round_trip(board: RpiBoard, bus: SMBus) -> None:
    data = [1, 2, 3, 4, 250, 251, 252, 253]  # one 8-byte page at 0x20
    bus.write_i2c_block_data(ADDRESS, 0x20, data)
    board.delay(WRITE_CYCLE_S)
    assert bus.read_i2c_block_data(ADDRESS, 0x20, len(data)) == data
    assert bus.read_byte_data(ADDRESS, 0x23) == 4


def test_smbus_absent_address_is_a_nack(bus: SMBus) -> None:
    """i2c-bcm2835 answers a NACK with -EREMOTEIO (bcm2835_i2c_isr/bcm2835_i2c_xfer in drivers/i2c/busses/i2c-bcm2835.c; soc-facts §1.3)."""
    with pytest.raises(OSError, match=r"\[Errno \d+\]") as err:
        bus.read_byte_data(ABSENT, 0)
    assert err.value.errno == errno.EREMOTEIO


def test_driver_write_read_round_trip(board: RpiBoard) -> None:
    i2c = board.i2c_buses["i2c0"]
    i2c.write(ADDRESS, bytes([0x40, 0x11, 0x22, 0x33]))
    board.delay(WRITE_CYCLE_S)
    assert i2c.write_read(ADDRESS, b"\x40", 3) == b"\x11\x22\x33"


def test_driver_absent_address_is_a_nack_error(board: RpiBoard) -> None:
    with pytest.raises(I2cNackError):
        board.i2c_buses["i2c0"].read(ABSENT, 1)
