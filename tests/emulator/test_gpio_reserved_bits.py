"""GPSET/GPCLR bits above the bank's lines (issue 12).

soc-facts §3.2: "GPSET1/GPCLR1/GPLEV1 use bits 25:0 (pins 32-57) on 2711 and bits 21:0 (pins
32-53) on 2835"; the rest of the register is "Reserved - Write as 0, read as don't care"
(BCM2835 ARM Peripherals / BCM2711-DS register tables). The chip ignores such bits; the model
drops them and records one warning per (block, register, kind) as for every other register
(`RegisterPolicy`, tests/emulator/test_register_policy.py), also on the mapped fast path that
the driver's GPIO code keeps (`GpioBlock.writer`), where they used to vanish unrecorded.
"""

from __future__ import annotations

import pytest

from pihil_emulator.board import Board
from pihil_emulator.errors import RegisterError


@pytest.mark.parametrize(
    ("profile", "count", "reserved"),
    [("rpi-bplus", 54, 0xFFC0_0000), ("rpi-4b", 58, 0xFC00_0000)],
)
@pytest.mark.parametrize("reg", ["GPSET1", "GPCLR1"])
@pytest.mark.parametrize("path", ["writer", "write"])
def test_bits_above_the_last_line_are_ignored_and_recorded(
    profile: str, count: int, reserved: int, reg: str, path: str
) -> None:
    board = Board.from_profile(profile)
    gpio = board.soc.gpio
    assert gpio.count == count
    last = count - 1  # the top line of bank 1 (GPIO53 / GPIO57)
    gpio.set_function(last, "output")
    gpio.set_function(32, "output")
    if reg == "GPCLR1":
        gpio.write("GPSET1", (1 << (last - 32)) | 1)
    before = gpio.level(last), gpio.level(32)
    board.run_for(777)
    lowest_line_bit = 1 << (last - 32)  # a real line of the bank, written with the reserved ones
    value = reserved | lowest_line_bit
    if path == "writer":
        gpio.writer(reg)(value)
    else:
        gpio.write(reg, value)
    want_level = reg == "GPSET1"
    assert gpio.level(last) is want_level  # the defined bit took effect
    assert gpio.level(32) is before[1]  # GPIO32 was not written
    (w,) = board.register_warnings
    assert (w.block, w.register, w.kind) == ("gpio", reg, "reserved bits")
    assert (w.written, w.kept) == (value, lowest_line_bit)
    assert w.time_ns == board.now_ns
    assert f"bits {reserved:#x} of {value:#x} are reserved" in w.message
    assert "ignored as the chip does" in w.message
    # once per (block, register, kind), as everywhere else
    gpio.writer(reg)(reserved)
    assert len(board.register_warnings) == 1
    assert gpio.level(last) is want_level


def test_bank_0_has_no_reserved_bits() -> None:
    """GPSET0/GPCLR0 are lines 0-31 on both chips: every bit is a line, nothing is recorded."""
    board = Board.from_profile("rpi-bplus")
    board.soc.gpio.writer("GPSET0")(0xFFFF_FFFF)
    board.soc.gpio.writer("GPCLR0")(0xFFFF_FFFF)
    assert board.register_warnings == []


def test_strict_mode_raises_on_the_fast_path_too() -> None:
    board = Board.from_profile("rpi-bplus")
    board.strict_registers = True
    gpio = board.soc.gpio
    gpio.set_function(40, "output")
    with pytest.raises(RegisterError, match=r"gpio\.GPSET1: bits 0x400000 .* reserved"):
        gpio.writer("GPSET1")(1 << 22)
    with pytest.raises(RegisterError, match="reserved"):
        gpio.writer("GPCLR1")((1 << 31) | (1 << 8))
    assert not gpio.level(40)  # a refused write changes nothing
    gpio.writer("GPSET1")(1 << 8)  # GPIO40
    assert gpio.level(40)
    assert board.register_warnings == []
