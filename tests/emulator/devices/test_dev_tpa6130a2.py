"""TPA6130A2 headphone amplifier (MirkoPC REV1.1, 0x60; soc-facts §7.2) against the TI data sheet."""

from __future__ import annotations

import pytest

from pihil_emulator.devices.tpa6130a2 import Tpa6130a2
from pihil_emulator.world.clock import World

from .dev_protocol_helpers import Master


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def amp(world: World) -> Tpa6130a2:
    dev = Tpa6130a2()
    dev.bind(world)
    return dev


def test_reset_state(amp: Tpa6130a2, world: World) -> None:
    """Linux tpa6130a2 regmap defaults: Control = SWS, Volume = both muted; version 0x02."""
    assert amp.address == 0x60
    assert Master(world).write_read(amp, b"\x01", 4) == b"\x01\xc0\x00\x02"
    assert amp.software_shutdown
    assert not amp.playing


def test_mirkopc_init_script_sequence(amp: Tpa6130a2, world: World) -> None:
    """soc-facts §7.2: tpa6130a2_init.py reads reg 4 (expects 0x02), writes reg1=0xC0, reg2=0x35, reg3=0x00."""
    m = Master(world)
    assert m.write_read(amp, b"\x04", 1) == b"\x02"
    m.write(amp, b"\x01\xc0")
    m.write(amp, b"\x02\x35")
    m.write(amp, b"\x03\x00")
    assert m.write_read(amp, b"\x01", 3) == b"\xc0\x35\x00"
    assert amp.left_enabled
    assert amp.right_enabled
    assert not amp.software_shutdown
    assert amp.mode == 0  # stereo headphone
    assert amp.volume == 0x35
    assert not amp.muted_left
    assert amp.playing


def test_auto_increment_write(amp: Tpa6130a2, world: World) -> None:
    """Multi-byte write: the register address increments after each data byte."""
    m = Master(world)
    m.write(amp, b"\x01\xc0\x35\x03")
    assert (amp.read("Control"), amp.read("Volume"), amp.read("OutputImpedance")) == (
        0xC0,
        0x35,
        0x03,
    )
    assert amp.hi_z_left
    assert amp.hi_z_right
    assert not amp.playing


def test_read_only_bits_ignore_writes_and_are_logged(amp: Tpa6130a2, world: World) -> None:
    """Version and the thermal flag are read-only: the write is ACKed, dropped and logged."""
    m = Master(world)
    m.write(amp, b"\x04\xff")
    m.write(amp, b"\x01\x02")
    assert m.write_read(amp, b"\x04", 1) == b"\x02"
    assert m.write_read(amp, b"\x01", 1) == b"\x00"
    assert [(reg, value) for _, reg, value in amp.ignored_writes] == [
        ("Version", 0xFF),
        ("Control.THERMAL", 0x02),
    ]


def test_thermal_shutdown_fault_shows_in_control(amp: Tpa6130a2, world: World) -> None:
    """Control bit 1 reports thermal shutdown; the outputs stop."""
    m = Master(world)
    m.write(amp, b"\x01\xc0\x00")
    assert amp.playing
    amp.thermal_shutdown = True
    assert m.write_read(amp, b"\x01", 1) == b"\xc2"
    assert not amp.playing


def test_reserved_and_unmapped_addresses(amp: Tpa6130a2, world: World) -> None:
    """Control bits 3:2 are reserved (not stored); addresses 0 and 5+ read 0 and ignore writes."""
    m = Master(world)
    m.write(amp, b"\x01\x0c")
    assert amp.read("Control") == 0x00
    m.write(amp, b"\x07\x55")
    assert m.write_read(amp, b"\x07", 1) == b"\x00"
    assert m.write_read(amp, b"\x00", 1) == b"\x00"
