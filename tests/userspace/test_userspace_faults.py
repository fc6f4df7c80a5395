"""Injected faults and recordings reach user code in the userspace as they would on Linux.

soc-facts §1.3: i2c-bcm2835 returns -EREMOTEIO when the BSC sets ERR (a NACK); a hung bus
(a slave holding SDA low) fails the transfer the same way until the address byte's nine
clocks free it. DESIGN "Faults and observation": a recording covers every transfer of
the board, whoever made it; sigrok-cli decodes it.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

import pytest
import smbus2

from pihil_emulator.buses.i2c_faults import HoldSdaLow, NackAddress
from pihil_emulator.faults import DroppedDevice
from rpiboard_pihil import RpiBoard

from ..emulator.test_i2c_vcd import decode, needs_sigrok


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    with board.simulation.userspace():
        yield board
    board.close()


def test_a_nacked_address_is_eremoteio_and_the_retry_works(mirkopc: RpiBoard) -> None:
    mirkopc.simulation.inject(NackAddress(device="temperature", count=1))
    with smbus2.SMBus(1) as bus:
        with pytest.raises(OSError, match="Remote I/O") as nack:
            bus.read_word_data(0x48, 0)
        assert nack.value.errno == errno.EREMOTEIO
        word = bus.read_word_data(0x48, 0)
    msb, lsb = word & 0xFF, word >> 8  # LM75B Temp: MSB first on the wire, SMBus words LSB first
    assert bytes([msb, lsb]) == mirkopc.i2c_buses[1].write_read(0x48, b"\x00", 2)


def test_a_dropped_device_nacks_until_it_comes_back(mirkopc: RpiBoard) -> None:
    fault = mirkopc.simulation.inject(DroppedDevice(device="rtc"))
    with smbus2.SMBus(1) as bus:
        with pytest.raises(OSError, match="Remote I/O"):
            bus.read_byte_data(0x68, 0)
        mirkopc.simulation.clear_fault(fault)
        assert bus.read_byte_data(0x68, 0) == mirkopc.i2c_buses[1].write_read(0x68, b"\0", 1)[0]


def test_a_held_sda_fails_the_transfer_then_the_address_clocks_free_it(mirkopc: RpiBoard) -> None:
    mirkopc.simulation.inject(HoldSdaLow(device="rtc"))
    with smbus2.SMBus(1) as bus:
        with pytest.raises(OSError, match="Remote I/O") as hung:
            bus.read_byte_data(0x48, 0)
        assert hung.value.errno == errno.EREMOTEIO
        assert bus.read_byte_data(0x48, 1) == 0  # LM75B Conf at reset


@needs_sigrok
def test_sigrok_decodes_what_smbus2_sent(mirkopc: RpiBoard, tmp_path: Path) -> None:
    path = tmp_path / "smbus2.vcd"
    with mirkopc.simulation.record_vcd(str(path), ["GPIO2", "GPIO3"]), smbus2.SMBus(1) as bus:
        value = bus.read_byte_data(0x68, 0x03)
        bus.write_byte_data(0x68, 0x0A, 0x15)
    assert decode(path, sda="GPIO2", scl="GPIO3") == [
        *("Start", "Write", "Address write: 68", "ACK", "Data write: 03", "ACK"),
        *("Start repeat", "Read", "Address read: 68", "ACK", f"Data read: {value:02X}", "NACK"),
        "Stop",
        *("Start", "Write", "Address write: 68", "ACK", "Data write: 0A", "ACK"),
        *("Data write: 15", "ACK", "Stop"),
    ]
