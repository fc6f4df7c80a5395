"""LM75B (MirkoPC temperature sensor at 0x48, soc-facts §7.2) against the NXP LM75B data sheet."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.devices.lm75b import (
    Lm75b,
    decode_limit9,
    decode_temp11,
    encode_limit9,
    encode_temp11,
)
from pihil_emulator.errors import ConfigurationError
from pihil_emulator.world.clock import NS_PER_MS, NS_PER_S, World

from .dev_protocol_helpers import Master

MS = NS_PER_MS


@pytest.fixture
def world() -> World:
    return World()


def make(world: World, **kw: float) -> Lm75b:
    dev = Lm75b(0x48, **kw)  # type: ignore[arg-type]
    dev.bind(world)
    return dev


def read_temp(m: Master, dev: Lm75b) -> float:
    raw = m.write_read(dev, b"\x00", 2)
    return decode_temp11(int.from_bytes(raw, "big"))


@pytest.mark.parametrize(
    ("celsius", "raw"),
    [
        (127.0, 0x3F8),
        (125.0, 0x3E8),
        (25.0, 0x0C8),
        (0.125, 0x001),
        (0.0, 0x000),
        (-0.125, 0x7FF),
        (-25.0, 0x738),
        (-54.875, 0x649),
        (-55.0, 0x648),
    ],
)
def test_temp_register_encoding_table(celsius: float, raw: int) -> None:
    """LM75B Table 10: 11-bit two's complement, 0.125 °C per LSB, in bits 15..5."""
    assert encode_temp11(celsius) == raw << 5
    assert decode_temp11(raw << 5) == celsius


def test_limit_encoding() -> None:
    """LM75B Tables 11/12: Tos/Thyst are 9-bit two's complement, 0.5 °C per LSB."""
    assert encode_limit9(80.0) == 0x5000
    assert encode_limit9(75.0) == 0x4B00
    assert encode_limit9(-0.5) == 0xFF80
    assert decode_limit9(0xFF80) == -0.5
    with pytest.raises(ConfigurationError, match="9-bit"):
        encode_limit9(200)


def test_power_up_registers(world: World) -> None:
    """LM75B: Conf = 0, Tos = 80 °C, Thyst = 75 °C at power-up; the pointer selects Temp."""
    dev = make(world)
    m = Master(world)
    assert m.write_read(dev, b"\x01", 1) == b"\x00"
    assert m.write_read(dev, b"\x03", 2) == b"\x50\x00"
    assert m.write_read(dev, b"\x02", 2) == b"\x4b\x00"
    world.run_for(20 * MS)
    assert dev.pointer == 0b10
    fresh = make(World())
    assert fresh.pointer == 0


def test_temp_holds_the_initial_temperature_from_the_start(world: World) -> None:
    """[I] The simulation starts on a booted board: Temp already holds a conversion result."""
    dev = make(world, temperature_c=36.625)
    assert read_temp(Master(world), dev) == 36.625


def test_temp_updates_only_when_a_conversion_completes(world: World) -> None:
    """LM75B: Temp holds the result of the last completed conversion (one every 100 ms)."""
    dev = make(world, temperature_c=21.5)
    m = Master(world)
    world.run_for(10 * MS)  # first conversion done at 10 ms
    assert read_temp(m, dev) == 21.5
    dev.temperature_c = 30.125
    world.run_for(99 * MS)  # t = 109 ms: next conversion ends at 110 ms
    assert read_temp(m, dev) == 21.5
    world.run_for(1 * MS)
    assert read_temp(m, dev) == 30.125
    assert dev.conversions == 2


def test_pointer_read_without_rewrite_and_one_byte_read(world: World) -> None:
    """LM75B: the pointer stays until rewritten; a one-byte read of Temp gives 1 °C resolution."""
    dev = make(world, temperature_c=-12.5)
    m = Master(world)
    world.run_for(10 * MS)
    m.write(dev, b"\x00")
    assert m.read(dev, 2) == (encode_temp11(-12.5)).to_bytes(2, "big")
    assert m.read(dev, 1) == b"\xf3"  # MSByte only: -13 (floor)


def test_shutdown_stops_conversions_and_keeps_interface(world: World) -> None:
    """LM75B: in shutdown no conversion runs; Temp keeps its value; registers stay accessible."""
    dev = make(world, temperature_c=40.0)
    m = Master(world)
    world.run_for(10 * MS)
    m.write(dev, b"\x01\x01")  # SHUTDOWN
    assert dev.shutdown
    dev.temperature_c = 90.0
    world.run_for(10 * NS_PER_S)
    assert read_temp(m, dev) == 40.0
    m.write(dev, b"\x03\x55\x00")
    assert m.write_read(dev, b"\x03", 2) == b"\x55\x00"
    m.write(dev, b"\x01\x00")  # back to normal: a conversion starts now
    world.run_for(10 * MS)
    assert read_temp(m, dev) == 90.0


def test_tos_stores_nine_bits_only(world: World) -> None:
    """LM75B: only 9 bits of Tos/Thyst are used; the 7 LSBs of the LSByte read 0."""
    dev = make(world)
    m = Master(world)
    m.write(dev, b"\x03\x3c\xff")
    assert m.write_read(dev, b"\x03", 2) == b"\x3c\x80"


def test_temp_register_is_read_only(world: World) -> None:
    dev = make(world, temperature_c=20.0)
    m = Master(world)
    world.run_for(10 * MS)
    m.write(dev, b"\x00\x7f\xff")
    assert read_temp(m, dev) == 20.0


def test_os_comparator_mode_with_hysteresis(world: World) -> None:
    """LM75B §7.1: comparator mode: OS active above Tos, inactive again below Thyst; OS active LOW."""
    dev = make(world, temperature_c=70.0)
    world.run_for(10 * MS)
    assert not dev.os_active
    assert dev.os_pin_high
    dev.temperature_c = 81.0
    world.run_for(100 * MS)
    assert dev.os_active
    assert not dev.os_pin_high
    dev.temperature_c = 77.0  # between Thyst and Tos: stays active
    world.run_for(100 * MS)
    assert dev.os_active
    dev.temperature_c = 74.0
    world.run_for(100 * MS)
    assert not dev.os_active


def test_os_fault_queue(world: World) -> None:
    """LM75B: OS_F_QUE = 10 → 4 consecutive faults are needed before OS changes."""
    dev = make(world, temperature_c=90.0)
    m = Master(world)
    m.write(dev, b"\x01\x10")  # fault queue 4, comparator
    world.run_for(10 * MS + 2 * 100 * MS)  # 3 conversions
    assert not dev.os_active
    world.run_for(100 * MS)  # the 4th
    assert dev.os_active


def test_os_interrupt_mode_cleared_by_read(world: World) -> None:
    """LM75B: interrupt mode: OS set when T > Tos, reset by reading any register; then set on T < Thyst."""
    dev = make(world, temperature_c=20.0)
    m = Master(world)
    m.write(dev, b"\x01\x06")  # interrupt mode, OS active HIGH
    dev.temperature_c = 85.0
    world.run_for(110 * MS)
    assert dev.os_active
    assert dev.os_pin_high
    world.run_for(NS_PER_S)
    assert dev.os_active  # stays until read
    m.read(dev, 1)
    assert not dev.os_active
    world.run_for(NS_PER_S)
    assert not dev.os_active  # still hot, but the next event is T < Thyst
    dev.temperature_c = 70.0
    world.run_for(100 * MS)
    assert dev.os_active


def test_idle_hour_costs_no_events(world: World) -> None:
    """DESIGN "Time": conversions are computed when read, not scheduled."""
    dev = make(world, temperature_c=33.0)
    assert world.env.peek() == float("inf")  # nothing scheduled
    world.run_for(3600 * NS_PER_S)
    assert dev.conversions == 36_000
    assert dev.temp_c == 33.0


def test_bad_temperature_and_timing_rejected() -> None:
    with pytest.raises(ConfigurationError, match="Temp register holds"):
        Lm75b(temperature_c=150.0)
    dev = Lm75b()
    with pytest.raises(ConfigurationError, match="Temp register holds"):
        dev.temperature_c = -200.0
    with pytest.raises(ConfigurationError, match="conversion time"):
        Lm75b(conversion_period_ns=5 * MS, conversion_time_ns=10 * MS)


@settings(deadline=None)
@given(st.integers(-1024, 1023))
def test_temperature_round_trip_over_the_bus(steps: int) -> None:
    """LM75B: every 0.125 °C step set from the simulation reads back exactly over I2C."""
    world = World()
    dev = make(world, temperature_c=steps / 8)
    world.run_for(10 * MS)
    assert read_temp(Master(world), dev) == steps / 8
