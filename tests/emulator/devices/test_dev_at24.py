"""24Cxx EEPROM model against the CAT24C32 datasheet and soc-facts §6 (the HAT ID EEPROM part)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.devices.at24 import At24Eeprom
from pihil_emulator.errors import ConfigurationError
from pihil_emulator.world.clock import NS_PER_MS, World

from .dev_protocol_helpers import Master, Nacked


@pytest.fixture
def world() -> World:
    return World(seed=1)


@pytest.fixture
def eeprom(world: World) -> At24Eeprom:
    dev = At24Eeprom(0x50)
    dev.bind(world)
    return dev


def settle(world: World) -> None:
    world.run_for(5 * NS_PER_MS)


def test_byte_write_then_random_read(eeprom: At24Eeprom, world: World) -> None:
    """CAT24C32: byte write = address + 2 word-address bytes + data; random read = dummy write + Sr."""
    m = Master(world)
    m.write(eeprom, b"\x01\x23\xa5")
    settle(world)
    assert m.write_read(eeprom, b"\x01\x23", 1) == b"\xa5"
    assert eeprom.contents[0x123] == 0xA5
    assert eeprom.write_cycles == 1


def test_default_geometry_is_24c32() -> None:
    """soc-facts §6: the recommended HAT EEPROM is a CAT24C32 (4 KiB, 16-bit word address)."""
    dev = At24Eeprom()
    assert dev.address == 0x50
    assert dev.size == 4096
    assert dev.geometry.page_size == 32
    assert dev.geometry.address_bytes == 2
    assert dev.contents == b"\xff" * 4096  # erased


def test_page_write_wraps_inside_the_page(eeprom: At24Eeprom, world: World) -> None:
    """CAT24C32: the 5 low address bits increment; past the page end they wrap and overwrite."""
    m = Master(world)
    data = bytes(range(40))  # 40 bytes from offset 28 of page 0x40..0x5f
    m.write(eeprom, b"\x00\x5c" + data)
    settle(world)
    mem = eeprom.contents
    # the last 32 bytes written survive: data[8:40] at page offsets 4..31, 0..3
    expected = bytearray(32)
    for i, b in enumerate(data):
        expected[(28 + i) % 32] = b
    assert mem[0x40:0x60] == bytes(expected)
    assert mem[0x60] == 0xFF  # neighbours untouched
    assert mem[0x3F] == 0xFF
    assert eeprom.write_cycles == 1


def test_write_cycle_nacks_address_until_twr_elapsed(eeprom: At24Eeprom, world: World) -> None:
    """CAT24C32: during tWR (5 ms) the part does not acknowledge its address (ACK polling)."""
    m = Master(world)
    m.write(eeprom, b"\x00\x10\x42")
    t_stop = world.now_ns
    assert not m.acks(eeprom, read=False)
    assert not m.acks(eeprom, read=True)
    world.run_for(5 * NS_PER_MS - 1)
    assert eeprom.busy
    assert not m.acks(eeprom, read=False)
    world.run_for(1)
    assert world.now_ns - t_stop == 5 * NS_PER_MS
    assert m.acks(eeprom, read=False)


def test_ack_polling_loop_finds_the_end_of_the_write_cycle(world: World) -> None:
    """CAT24C32 "Acknowledge Polling": repeat the address until ACK; tWR is configurable."""
    dev = At24Eeprom(0x50, write_cycle_ns=3_300_000)
    dev.bind(world)
    m = Master(world, byte_ns=90_000)  # one address byte at 100 kHz
    m.write(dev, b"\x00\x00\x11\x22")
    t_stop = world.now_ns
    polls = 0
    while not m.acks(dev, read=False):
        polls += 1
    assert world.now_ns - t_stop >= 3_300_000
    assert world.now_ns - t_stop < 3_300_000 + 90_000
    assert polls == 3_300_000 // 90_000
    assert m.write_read(dev, b"\x00\x00", 2) == b"\x11\x22"


def test_sequential_read_rolls_over_at_end_of_memory(eeprom: At24Eeprom, world: World) -> None:
    """CAT24C32: sequential read increments through the array and rolls over to address 0."""
    eeprom.load(b"\xaa\xbb", 4094)
    eeprom.load(b"\x01\x02", 0)
    m = Master(world)
    assert m.write_read(eeprom, b"\x0f\xfe", 4) == b"\xaa\xbb\x01\x02"


def test_current_address_read_follows_last_access(eeprom: At24Eeprom, world: World) -> None:
    """CAT24C32: an immediate (current address) read returns the byte after the last one accessed."""
    eeprom.load(bytes(range(16)), 0x200)
    m = Master(world)
    assert m.write_read(eeprom, b"\x02\x00", 3) == b"\x00\x01\x02"
    assert m.read(eeprom, 2) == b"\x03\x04"
    m.write(eeprom, b"\x02\x08\xee")  # after a write: the byte after the last written
    settle(world)
    assert m.read(eeprom, 1) == b"\x09"


def test_upper_word_address_bits_are_dont_care(eeprom: At24Eeprom, world: World) -> None:
    """CAT24C32: 4096 bytes use 12 address bits; the 4 upper bits of the word address are ignored."""
    eeprom.load(b"\x5a", 0x345)
    m = Master(world)
    assert m.write_read(eeprom, b"\xf3\x45", 1) == b"\x5a"


def test_write_protect_nack_style_rejects_data(eeprom: At24Eeprom, world: World) -> None:
    """CAT24C32 "Hardware Write Protection": WP high at the first data byte → data NACKed, no write."""
    eeprom.write_protect = True
    m = Master(world)
    with pytest.raises(Nacked) as err:
        m.write(eeprom, b"\x00\x20\x99\x98")
    assert (err.value.phase, err.value.index) == ("data", 3)  # address bytes ACKed, data not
    assert eeprom.contents[0x20] == 0xFF
    assert eeprom.write_cycles == 0
    assert m.acks(eeprom, read=False)  # no write cycle: ready at once


def test_write_protect_ack_discard_style(world: World) -> None:
    """Microchip AT24C32E: with WP asserted all bytes are ACKed but no write cycle occurs at STOP."""
    dev = At24Eeprom(0x50, wp_style="ack-discard", write_protect=True)
    dev.bind(world)
    m = Master(world)
    m.write(dev, b"\x00\x20\x99\x98")
    assert dev.contents[0x20:0x22] == b"\xff\xff"
    assert m.acks(dev, read=False)
    dev.write_protect = False
    m.write(dev, b"\x00\x20\x99\x98")
    settle(world)
    assert dev.contents[0x20:0x22] == b"\x99\x98"


def test_repeated_start_after_data_writes_nothing(eeprom: At24Eeprom, world: World) -> None:
    """The internal write cycle starts only at STOP; a repeated START abandons the loaded bytes."""
    m = Master(world)
    m.address(eeprom, read=False)
    m.send(eeprom, b"\x00\x30\x77")
    m.address(eeprom, read=True)
    m.receive(eeprom, 1)
    eeprom.stop()
    assert eeprom.write_cycles == 0
    assert eeprom.contents[0x30] == 0xFF
    assert m.acks(eeprom, read=False)


def test_one_byte_address_part(world: World) -> None:
    """24C02: 256 bytes, one word-address byte, 8-byte pages."""
    dev = At24Eeprom(0x51, part="24c02")
    dev.bind(world)
    m = Master(world)
    m.write(dev, b"\xfe" + bytes(range(4)))  # wraps inside the 8-byte page 0xf8..0xff
    settle(world)
    assert dev.contents[0xFE:0x100] == b"\x00\x01"
    assert dev.contents[0xF8:0xFA] == b"\x02\x03"
    assert m.write_read(dev, b"\xfe", 4) == b"\x00\x01\xff\xff"  # rolls over to 0x00


def test_bad_configuration_is_rejected_clearly() -> None:
    with pytest.raises(ConfigurationError, match="known parts: 24c01"):
        At24Eeprom(part="24c1024")
    with pytest.raises(ConfigurationError, match="do not fit"):
        At24Eeprom(contents=b"\x00" * 4097)
    with pytest.raises(ConfigurationError, match="write-protect style"):
        At24Eeprom(wp_style="ignore")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="negative"):
        At24Eeprom(write_cycle_ns=-1)


def test_write_cycle_needs_a_board_clock() -> None:
    """An unattached EEPROM cannot time a write cycle: the error says so."""
    dev = At24Eeprom()
    m = Master()
    with pytest.raises(RuntimeError, match="not attached"):
        m.write(dev, b"\x00\x00\x01")


@settings(deadline=None)
@given(
    start=st.integers(0, 4095),
    data=st.binary(min_size=1, max_size=70),
)
def test_page_write_matches_reference_model(start: int, data: bytes) -> None:
    """CAT24C32 page write semantics against a reference: address wraps in the 32-byte page."""
    world = World()
    dev = At24Eeprom()
    dev.bind(world)
    Master(world).write(dev, start.to_bytes(2, "big") + data)
    world.run_for(5 * NS_PER_MS)
    ref = bytearray(b"\xff" * 4096)
    base = start - start % 32
    for i, b in enumerate(data):
        ref[base + (start + i) % 32] = b
    assert dev.contents == bytes(ref)
