"""Injected I2C faults, scheduled in simulated time, the same at transaction and pin level
(DESIGN "Faults and observation": NACK an address, hold SDA low and the 9-clock recovery,
drop a device, flip a bit)."""

from __future__ import annotations

import pytest

from pihil_emulator.board import Board
from pihil_emulator.buses.i2c_faults import FlipBit, HoldSdaLow, NackAddress
from pihil_emulator.buses.i2c_gpio import attach_i2c_gpio
from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.errors import BusError
from pihil_emulator.faults import DroppedDevice
from pihil_emulator.soc.bsc import BscBlock

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .i2c_rig import PointerTarget
except ImportError:  # pragma: no cover
    from i2c_rig import PointerTarget  # type: ignore[no-redef]

READ = [I2cMessage(0x48, False, b"\x04"), I2cMessage(0x48, True, 2)]


@pytest.fixture(params=["transaction", "pin"])
def setup(request: pytest.FixtureRequest) -> tuple[Board, BscBlock, PointerTarget]:
    board = Board.from_profile("rpi-4b")
    target = PointerTarget(0x48, fill=0x20)
    board.attach(target, bus="i2c1")
    bsc = board.soc.blocks["bsc1"]
    assert isinstance(bsc, BscBlock)
    bsc.level = request.param
    return board, bsc, target


def outcome(bsc: BscBlock, msgs: list[I2cMessage]) -> object:
    try:
        return bsc.transfer(msgs)
    except BusError as e:
        return (e.kind, e.errno_name, e.phase)


def test_nack_address_a_number_of_times(setup: tuple[Board, BscBlock, PointerTarget]) -> None:
    """A NACKed address gives ERR → EREMOTEIO (soc-facts §1.3); the device is not told it was
    addressed; after ``count`` NACKs it answers again."""
    board, bsc, target = setup
    # each READ addresses the device twice: after the NACKed write the queued repeated START
    # and the read follow anyway (raspberrypi/linux#5429)
    board.inject(NackAddress(device=target, count=4))
    assert outcome(bsc, READ) == ("nack", "EREMOTEIO", "address")
    assert outcome(bsc, READ) == ("nack", "EREMOTEIO", "address")
    assert target.log == []
    assert outcome(bsc, READ) == [b"\x24\x25"]


def test_a_fault_starts_at_its_time(setup: tuple[Board, BscBlock, PointerTarget]) -> None:
    """Faults are scheduled in simulated time: before ``at_ns`` the bus works, after it fails,
    and it ends after ``duration_ns``."""
    board, bsc, target = setup
    board.inject(NackAddress(device=target, at_ns=board.now_ns + 5_000_000, duration_ns=5_000_000))
    assert outcome(bsc, READ) == [b"\x24\x25"]
    board.run_for(6_000_000)
    assert outcome(bsc, READ) == ("nack", "EREMOTEIO", "address")
    board.run_for(6_000_000)
    assert outcome(bsc, READ) == [b"\x24\x25"]


def test_dropped_device_nacks_and_comes_back(setup: tuple[Board, BscBlock, PointerTarget]) -> None:
    """A dropped device does not answer; when the fault ends it does again."""
    board, bsc, target = setup
    fault = board.inject(DroppedDevice(device=target))
    assert outcome(bsc, READ) == ("nack", "EREMOTEIO", "address")
    board.clear_fault(fault)
    assert outcome(bsc, READ) == [b"\x24\x25"]


def test_hold_sda_low_hangs_the_bus_until_nine_clocks_free_it(
    setup: tuple[Board, BscBlock, PointerTarget],
) -> None:
    """A slave stuck mid-read holds SDA low: no START can be made and the transfer goes wrong; the
    bus recovery (SCL clocked until SDA is high, then a STOP) frees it."""
    board, bsc, target = setup
    board.inject(HoldSdaLow(device=target))
    assert not board.net("GPIO2").level
    assert outcome(bsc, READ) != [b"\x24\x25"]  # no START: garbage or an error
    board.inject(HoldSdaLow(device=target))  # stuck again
    board.gpio.set_function(2, "input")
    board.gpio.set_function(3, "input")
    recovery = attach_i2c_gpio(board, "recovery", "GPIO2", "GPIO3")
    assert recovery.recover()
    recovery.close()
    board.gpio.set_function(2, "ALT0")
    board.gpio.set_function(3, "ALT0")
    board.run_for(10_000)
    assert board.net("GPIO2").level
    assert outcome(bsc, READ) == [b"\x24\x25"]


def test_flip_a_written_bit(setup: tuple[Board, BscBlock, PointerTarget]) -> None:
    """Noise flips one bit of a byte as the device receives it (once)."""
    board, bsc, target = setup
    board.inject(FlipBit(device=target, byte_index=2, bit=7, direction="write"))
    bsc.transfer([I2cMessage(0x48, False, b"\x10\x01\x02")])
    assert target.mem[0x10:0x12] == b"\x81\x02"
    bsc.transfer([I2cMessage(0x48, False, b"\x10\x01\x02")])
    assert target.mem[0x10:0x12] == b"\x01\x02"


def test_flip_a_read_bit(setup: tuple[Board, BscBlock, PointerTarget]) -> None:
    """Noise flips one bit of a byte as the master receives it (once)."""
    board, bsc, target = setup
    board.inject(FlipBit(device=target, byte_index=2, bit=0, direction="read"))
    assert outcome(bsc, READ) == [b"\x24\x24"]
    assert outcome(bsc, READ) == [b"\x24\x25"]


def test_flipping_the_address_bit_misses_the_device(
    setup: tuple[Board, BscBlock, PointerTarget],
) -> None:
    """A flipped address bit (byte 0) makes the device not recognise its address: NACK."""
    board, bsc, target = setup
    board.inject(FlipBit(device=target, byte_index=0, bit=3, direction="write"))
    assert outcome(bsc, READ) == ("nack", "EREMOTEIO", "address")


def test_fault_arguments_are_checked() -> None:
    """Bad input gets a clear error."""
    with pytest.raises(ValueError, match="bit"):
        FlipBit(device="x", bit=8)
    with pytest.raises(ValueError, match="direction"):
        FlipBit(device="x", direction="sideways")
    with pytest.raises(ValueError, match="top bit"):
        HoldSdaLow(device="x", value=0x80)
    with pytest.raises(ValueError, match="count"):
        NackAddress(device="x", count=0)
    board = Board.from_profile("rpi-4b")
    with pytest.raises(ValueError, match="not attached"):
        board.inject(NackAddress(device=PointerTarget(0x48)))
