"""W25Q NOR flash against the Winbond W25Q32 datasheet, clocked through the SPI engine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pihil_emulator.buses.spi_bus import SpiBus
from pihil_emulator.buses.spi_master import SpiMaster
from pihil_emulator.devices.w25q import (
    DEFAULT_PAGE_PROGRAM_NS,
    DEFAULT_SECTOR_ERASE_NS,
    SR_BUSY,
    SR_WEL,
    W25q,
)
from pihil_emulator.errors import ConfigurationError
from pihil_emulator.world.clock import NS_PER_MS, World
from pihil_emulator.world.net import Circuit, Drive, NetKind


def bench(**kw: object) -> tuple[SpiMaster, W25q, World]:
    world = World(seed=5)
    c = Circuit(world)
    sclk, mosi, miso, cs = (c.add_net(n, NetKind.GPIO) for n in ("SCLK", "MOSI", "MISO", "CS"))
    miso.drive("pull", Drive.pull_down(50_000))
    bus = SpiBus(world, "spi")
    flash = W25q(**kw)  # type: ignore[arg-type]
    bus.attach(flash, cs=cs, sclk=sclk, mosi=mosi, miso=miso)
    return (
        SpiMaster(bus, sclk=sclk, mosi=mosi, miso=miso, cs=[cs], sclk_hz=10_000_000),
        flash,
        world,
    )


def addr(a: int) -> bytes:
    return a.to_bytes(3, "big")


def read(m: SpiMaster, a: int, n: int) -> bytes:
    return m.transfer(b"\x03" + addr(a) + bytes(n))[4:]


def status(m: SpiMaster) -> int:
    return m.transfer(b"\x05\x00")[1]


def wait_ready(m: SpiMaster, world: World) -> int:
    """Poll the BUSY bit like a flash driver; returns the polls it took."""
    polls = 0
    while status(m) & SR_BUSY:
        polls += 1
        world.run_for(50_000)
    return polls


def program(m: SpiMaster, a: int, data: bytes) -> None:
    m.transfer(b"\x06")
    m.transfer(b"\x02" + addr(a) + data)


def test_jedec_id() -> None:
    """W25Q32 datasheet: 9Fh returns manufacturer EFh, memory type 40h, capacity 16h."""
    m, _, _ = bench()
    assert m.transfer(b"\x9f\x00\x00\x00")[1:] == bytes([0xEF, 0x40, 0x16])
    m2, _, _ = bench(part="w25q128")
    assert m2.transfer(b"\x9f\x00\x00\x00")[1:] == bytes([0xEF, 0x40, 0x18])


def test_erased_array_reads_ff_and_command_phase_is_hi_z() -> None:
    """W25Q: the array ships erased (FFh); DO is high impedance during instruction and address."""
    m, _, _ = bench()
    rx = m.transfer(b"\x03" + addr(0x1000) + bytes(4))
    assert rx[:4] == b"\x00\x00\x00\x00"  # hi-Z: the MISO pull-down
    assert rx[4:] == b"\xff" * 4


def test_read_and_fast_read_stream_the_array() -> None:
    """W25Q 03h: 24-bit address, then continuous data; 0Bh: the same after 8 dummy clocks."""
    image = bytes(range(256)) * 4
    m, _, _ = bench(contents=image)
    assert read(m, 0x10, 300) == image[0x10 : 0x10 + 300]
    fast = m.transfer(b"\x0b" + addr(0x20) + b"\x00" + bytes(8))
    assert fast[5:] == image[0x20:0x28]


def test_page_program_needs_write_enable() -> None:
    """W25Q: "A Write Enable instruction must be executed before the device will accept the Page
    Program Instruction (Status Register bit WEL must equal 1)"."""
    m, flash, world = bench()
    m.transfer(b"\x02" + addr(0) + b"\x12\x34")
    world.run_for(5 * NS_PER_MS)
    assert read(m, 0, 2) == b"\xff\xff"
    assert flash.programs == 0
    m.transfer(b"\x06")
    assert status(m) == SR_WEL
    m.transfer(b"\x04")
    assert status(m) == 0


def test_page_program_busy_for_tpp_then_wel_clears() -> None:
    """W25Q: after /CS goes high the self-timed program lasts tPP, BUSY = 1 meanwhile (readable
    with 05h), and WEL is cleared when it completes."""
    m, _flash, world = bench()
    program(m, 0x100, b"\xa5\x5a")
    t0 = world.now_ns
    assert status(m) == SR_BUSY | SR_WEL
    polls = wait_ready(m, world)
    assert status(m) == 0
    assert world.now_ns - t0 >= DEFAULT_PAGE_PROGRAM_NS
    assert polls >= DEFAULT_PAGE_PROGRAM_NS // 50_000 - 1  # the poll loop really waited
    assert read(m, 0x100, 3) == b"\xa5\x5a\xff"


def test_instructions_are_ignored_while_busy() -> None:
    """W25Q: during a program or erase cycle only Read Status Register is accepted."""
    m, _flash, world = bench(contents=b"\x11" * 16)
    m.transfer(b"\x06")
    m.transfer(b"\x20" + addr(0))
    assert read(m, 0, 2) == b"\x00\x00"  # ignored: DO stays hi-Z (pull-down)
    assert m.transfer(b"\x9f\x00\x00\x00")[1:] == b"\x00\x00\x00"
    world.run_for(DEFAULT_SECTOR_ERASE_NS)
    assert read(m, 0, 2) == b"\xff\xff"


def test_page_program_wraps_inside_the_page() -> None:
    """W25Q: "If more than 256 bytes are sent ... the addressing will wrap to the beginning of the
    page and overwrite previously sent data"; bytes outside the page are untouched."""
    m, _flash, world = bench()
    data = bytes((i * 7) & 0xFF for i in range(300))
    program(m, 0x2F0, data)  # starts 0xF0 into page 0x200
    wait_ready(m, world)
    page = bytearray(256)
    for i, b in enumerate(data):
        page[(0xF0 + i) % 256] = b
    assert read(m, 0x200, 256) == bytes(page)
    assert read(m, 0x300, 4) == b"\xff" * 4
    assert read(m, 0x1FC, 4) == b"\xff" * 4


def test_programming_only_clears_bits() -> None:
    """NOR flash: programming turns 1s into 0s; only an erase sets them back to 1."""
    m, _, world = bench()
    program(m, 0, b"\xf0")
    wait_ready(m, world)
    program(m, 0, b"\x3c")
    wait_ready(m, world)
    assert read(m, 0, 1) == b"\x30"


def test_sector_erase_takes_tse_and_erases_4k() -> None:
    """W25Q 20h: the 4 KiB sector holding the address goes to FFh; BUSY for tSE."""
    image = bytes([0x00]) * (3 * 4096)
    m, flash, world = bench(contents=image)
    m.transfer(b"\x06")
    m.transfer(b"\x20" + addr(0x1234))
    t0 = world.now_ns
    wait_ready(m, world)
    assert world.now_ns - t0 >= DEFAULT_SECTOR_ERASE_NS
    assert flash.read_memory(0x1000, 4096) == b"\xff" * 4096
    assert flash.read_memory(0x0FFF, 1) == b"\x00"
    assert flash.read_memory(0x2000, 1) == b"\x00"


def test_erase_not_executed_unless_cs_rises_after_the_address() -> None:
    """W25Q: "/CS must be driven high after the eighth bit of the last byte has been latched.
    If this is not done the ... instruction will not be executed"."""
    m, flash, _world = bench(contents=b"\x00" * 4096)
    m.transfer(b"\x06")
    m.transfer(b"\x20" + addr(0) + b"\x00")
    assert flash.erases == 0
    assert status(m) & SR_BUSY == 0


def test_timing_is_a_parameter() -> None:
    """tPP and tSE default to the datasheet typical values and can be set per part."""
    m, _, world = bench(page_program_ns=3 * NS_PER_MS)
    program(m, 0, b"\x00")
    world.run_for(2 * NS_PER_MS)
    assert status(m) & SR_BUSY
    world.run_for(NS_PER_MS)
    assert status(m) & SR_BUSY == 0


def test_bad_configuration_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="unknown W25Q part"):
        W25q(part="w25q9999")
    with pytest.raises(ConfigurationError, match="page_program_ns"):
        W25q(page_program_ns=-1)
    with pytest.raises(ConfigurationError, match="holds"):
        W25q(part="w25q16", contents=bytes(3 * 1024 * 1024))


@given(
    offset=st.integers(0, 255),
    data=st.binary(min_size=1, max_size=256),
)
def test_program_then_read_back(offset: int, data: bytes) -> None:
    """W25Q page program then read: every sent byte lands at its in-page address."""
    m, _, world = bench()
    program(m, 0x4000 + offset, data)
    wait_ready(m, world)
    expected = bytearray(b"\xff" * 256)
    for i, b in enumerate(data):
        expected[(offset + i) % 256] = b
    assert read(m, 0x4000, 256) == bytes(expected)
