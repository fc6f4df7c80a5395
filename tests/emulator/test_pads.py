"""GPIO pads control: password, drive, slew, hysteresis, reset values (soc-facts §3.8)."""

from __future__ import annotations

import pytest

from pihil_emulator.errors import PinError
from pihil_emulator.soc.pads import PadsBlock
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.variants import BCM2711, BCM2835, SocVariant
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit

PASSWORD = 0x5A << 24


def make_pads(variant: SocVariant) -> PadsBlock:
    world = World(seed=0)
    return Soc(world, Circuit(world), variant).pads


@pytest.fixture(params=[BCM2835, BCM2711], ids=["BCM2835", "BCM2711"])
def pads(request: pytest.FixtureRequest) -> PadsBlock:
    return make_pads(request.param)


def test_addresses(pads: PadsBlock) -> None:
    """soc-facts §3.8: 0x7e10002c (GPIO 0-27), 0x7e100030 (28-45), 0x7e100034 (46-53)."""
    assert [(r.name, 0x7E10_0000 + r.offset) for r in pads.MAP] == [
        ("PADS0", 0x7E10_002C),
        ("PADS1", 0x7E10_0030),
        ("PADS2", 0x7E10_0034),
    ]


def test_reset_values(pads: PadsBlock) -> None:
    """soc-facts §3.8: SLEW reset 1, HYST reset 1, DRIVE reset 3 (8 mA): 0x1B; PASSWRD reads 0."""
    for reg in ("PADS0", "PADS1", "PADS2"):
        assert pads.read(reg) == 0x1B
    assert pads.drive_ma(0) == 8
    assert pads.slew_limited(0) is False
    assert pads.hysteresis(0) is True


def test_write_without_password_is_ignored(pads: PadsBlock) -> None:
    """soc-facts §3.8: PASSWRD "Must be 5A when writing": any other value leaves the register."""
    pads.write("PADS0", 0x0000_0007)
    assert pads.read("PADS0") == 0x1B
    pads.write("PADS0", (0xA5 << 24) | 0x07)
    assert pads.read("PADS0") == 0x1B
    pads.write("PADS0", PASSWORD | 0x07)
    assert pads.read("PADS0") == 0x07  # slew limited, no hysteresis, 16 mA
    assert pads.drive_ma(5) == 16
    assert pads.slew_limited(5) is True
    assert pads.hysteresis(5) is False


@pytest.mark.parametrize("drive", range(8))
def test_drive_steps_2_to_16_ma(pads: PadsBlock, drive: int) -> None:
    """soc-facts §3.8: "Drive 0..7 gives 2,4,6,8,10,12,14,16 mA"."""
    pads.write("PADS1", PASSWORD | 0x18 | drive)
    assert pads.drive_ma(30) == [2, 4, 6, 8, 10, 12, 14, 16][drive]


def test_reserved_bits_and_password_do_not_read_back(pads: PadsBlock) -> None:
    """soc-facts §3.8: bits 23:5 reserved; the password field is for writing only."""
    pads.write("PADS2", PASSWORD | 0x00FF_FFE0 | 0x09)
    assert pads.read("PADS2") == 0x09


def test_banks_are_set_per_block_not_per_pin(pads: PadsBlock) -> None:
    """Seed: "chipset GPIO pins 0-27 are in the same block and these properties are set per
    block, not per pin"; soc-facts §3.1 pads groups 0-27, 28-45, 46-53 (46-57 on the 2711)."""
    pads.write("PADS1", PASSWORD | 0x10)  # 2 mA
    assert [pads.drive_ma(n) for n in (27, 28, 45, 46)] == [8, 2, 2, 8]
    last = pads.gpio_count - 1
    assert pads.bank(last) == 2
    with pytest.raises(PinError):
        pads.bank(pads.gpio_count)


def test_soc_reset_restores_pads() -> None:
    """soc-facts §3.8: reset values come back on a SoC reset."""
    world = World()
    soc = Soc(world, Circuit(world), BCM2835)
    soc.pads.write("PADS0", PASSWORD)
    assert soc.pads.read("PADS0") == 0
    soc.reset()
    assert soc.pads.read("PADS0") == 0x1B
