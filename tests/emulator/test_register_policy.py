"""Reserved bits and values wider than a field (issue 12 item 3): the chip ignores them.

BCM2835 ARM Peripherals / BCM2711-DS mark undefined bits "Reserved - Write as 0, read as don't
care"; a field is as wide as its table says (BSC A 6:0, FIFO 7:0, DIV.CDIV 15:0, CLKT.TOUT 15:0,
soc-facts §2). The model drops such bits and records one warning per (block, register, kind)
with the simulated time and what was written (`pihil_emulator.soc.registers.RegisterPolicy`);
``strict_registers`` turns them into `RegisterError` for tests that want one.
"""

from __future__ import annotations

import pytest

from pihil_emulator.board import Board
from pihil_emulator.errors import RegisterError
from pihil_emulator.soc.registers import Access, RegisterBlock


@pytest.fixture
def board() -> Board:
    return Board.from_profile("rpi-4b")


@pytest.mark.parametrize(
    ("reg", "value", "kept", "kind"),
    [
        ("A", 0xC8, 0x48, "value too wide"),
        ("DIV", 0x1_09C4, 0x09C4, "value too wide"),
        ("CLKT", 0xF_0000, 0, "value too wide"),
        ("DEL", 0x0030_0030, 0x0030_0030, None),  # two full 16-bit fields: nothing reserved
    ],
)
def test_bsc_too_wide_values_are_truncated_and_recorded(
    board: Board, reg: str, value: int, kept: int, kind: str | None
) -> None:
    board.run_for(1234)
    board.write_register("bsc1", reg, value)
    assert board.read_register("bsc1", reg) == kept
    warnings = board.register_warnings
    if kind is None:
        assert warnings == []
        return
    (w,) = warnings
    assert (w.block, w.register, w.kind, w.written, w.kept) == ("bsc1", reg, kind, value, kept)
    assert w.time_ns == board.now_ns
    assert f"{value:#x}" in w.message
    assert "ignored as the chip does" in w.message


def test_the_bcm2835_library_c_bit_1_is_ignored_once_recorded(board: Board) -> None:
    """bcm2835.c `bcm2835_i2c_write` ends with ``bcm2835_peri_set_bits(control, S_DONE, S_DONE)``
    on the C register: bit 1 is reserved there."""
    for _ in range(3):
        c = board.read_register("bsc1", "C")
        board.write_register("bsc1", "C", c | 0x2)
    assert board.read_register("bsc1", "C") == 0
    (w,) = board.register_warnings
    assert (w.register, w.kind, w.written, w.kept) == ("C", "reserved bits", 0x2, 0)
    assert "bits 0x2 of 0x2 are reserved" in w.message


def test_fifo_above_0xff_keeps_the_low_byte(board: Board) -> None:
    board.write_register("bsc1", "FIFO", 0x1A5)
    bsc = board.soc.blocks["bsc1"]
    assert list(bsc._fifo) == [0xA5]  # type: ignore[attr-defined]
    assert [w.kind for w in board.register_warnings] == ["value too wide"]


def test_strict_mode_raises_and_says_what_to_do(board: Board) -> None:
    board.strict_registers = True
    assert board.strict_registers
    with pytest.raises(RegisterError, match=r"bsc1\.A: ADDR is 7 bits .* strict"):
        board.write_register("bsc1", "A", 0x80)
    with pytest.raises(RegisterError, match="reserved"):
        board.write_register("bsc1", "C", 0x2)
    assert board.register_warnings == []
    board.strict_registers = False
    board.write_register("bsc1", "A", 0x80)
    assert len(board.register_warnings) == 1


def test_a_32_bit_overflow_is_still_an_error(board: Board) -> None:
    """Not a register write at all: the bus is 32 bits wide."""
    with pytest.raises(RegisterError, match="32-bit"):
        board.write_register("bsc1", "C", 1 << 32)


def _reserved_cases(board: Board) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    seen: set[int] = set()
    for name, block in board.soc.blocks.items():
        if id(block) in seen:
            continue
        seen.add(id(block))
        for reg in block.MAP:
            if not reg.fields or reg.defined_mask == 0xFFFF_FFFF:
                continue
            if any(f.access is Access.RO for f in reg.fields) and reg.mask_of(Access.RW) == 0:
                continue
            free = ~reg.defined_mask & 0xFFFF_FFFF
            top = free.bit_length() - 1  # the highest reserved bit
            out.append((name, reg.name, 1 << top))
    return out


def test_every_block_ignores_a_reserved_bit_and_records_it() -> None:
    """The policy is the register layer's, so BSC, SPI0, PL011, the mini UART, GPIO and pads
    all behave alike: a reserved bit written as 1 (over the register's current value) is dropped
    with a warning naming block and register."""
    board = Board.from_profile("rpi-4b")
    board.write_register("aux", "AUX_ENABLES", 1)  # else the mini UART's registers ignore writes
    cases = _reserved_cases(board)
    blocks = {b for b, _, _ in cases}
    assert {"bsc1", "spi0", "uart0", "gpio"} <= blocks, blocks
    for name, reg, bit in cases:
        block: RegisterBlock = board.soc.blocks[name]
        before = block.peek(reg)
        board.write_register(name, reg, before | bit)
        assert not block.peek(reg) & bit, (name, reg)
    got = {(w.block, w.register) for w in board.register_warnings}
    want = {(board.soc.blocks[n].name, r) for n, r, _ in cases}
    assert want <= got


def test_the_driver_reports_register_warnings_as_device_errors() -> None:
    """Through the driver: ``ivi_utility.error_query`` gives REGISTER_WARNING (driver/HELP.md)."""
    from rpiboard_pihil import DeviceErrorCode, RpiBoard

    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    try:
        emulator = board.simulation.emulator
        assert board.ivi_utility.error_query_all() == []
        emulator.write_register("bsc1", "C", 0x2)  # what bcm2835_i2c_write leaves in C
        emulator.write_register("bsc1", "C", 0x2)  # once per (block, register, kind)
        (err,) = board.ivi_utility.error_query_all()
        assert err.code == DeviceErrorCode.REGISTER_WARNING
        assert "bsc1.C" in err.message
        assert "reserved" in err.message
        assert board.ivi_utility.error_query() is None
        emulator.strict_registers = True
        with pytest.raises(RegisterError):
            emulator.write_register("bsc1", "A", 0x80)
    finally:
        board.close()
