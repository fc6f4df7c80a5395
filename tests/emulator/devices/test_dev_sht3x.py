"""SHT3x-DIS (the clock-stretching sensor of DESIGN "Devices and boards") against the Sensirion data sheet."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.buses.i2c_target import StretchPhase
from pihil_emulator.devices.sht3x import (
    Sht3x,
    crc8_sensirion,
    ticks_to_humidity,
    ticks_to_temperature,
)
from pihil_emulator.errors import ConfigurationError
from pihil_emulator.world.clock import NS_PER_MS, NS_PER_S, NS_PER_US, World

from .dev_protocol_helpers import Master, Nacked

MS = NS_PER_MS


@pytest.fixture
def world() -> World:
    return World()


def make(world: World, **kw: object) -> Sht3x:
    dev = Sht3x(**kw)  # type: ignore[arg-type]
    dev.bind(world)
    return dev


def decode(data: bytes) -> tuple[float, float]:
    """Check both CRCs and convert (data sheet §4.13)."""
    assert len(data) == 6
    assert crc8_sensirion(data[0:2]) == data[2]
    assert crc8_sensirion(data[3:5]) == data[5]
    t = ticks_to_temperature(int.from_bytes(data[0:2], "big"))
    rh = ticks_to_humidity(int.from_bytes(data[3:5], "big"))
    return t, rh


def test_crc8_example() -> None:
    """SHT3x Table 20: CRC-8 poly 0x31, init 0xFF; CRC(0xBEEF) = 0x92."""
    assert crc8_sensirion(b"\xbe\xef") == 0x92


def test_single_shot_with_clock_stretching(world: World) -> None:
    """SHT3x §4.3: with stretching the read header is ACKed and SCL held low until the measurement ends."""
    dev = make(world, temperature_c=23.5, humidity_rh=41.0)
    m = Master(world)
    m.write(dev, b"\x2c\x06")
    t0 = world.now_ns
    world.run_for(2 * MS)
    data = m.read(dev, 6)
    assert world.now_ns - t0 == 15 * MS  # tMEAS,h max
    assert m.stretches == [(StretchPhase.WRITE_POST_ACK, 0, 13 * MS)]
    assert dev.stretch(StretchPhase.WRITE_POST_ACK, 0) == 0  # not stretching any more
    t, rh = decode(data)
    assert t == pytest.approx(23.5, abs=0.003)
    assert rh == pytest.approx(41.0, abs=0.002)


def test_stretch_query_is_idempotent_and_only_at_the_read_header(world: World) -> None:
    """The stretch is asked by phase; asking twice at one instant gives the same remaining time."""
    dev = make(world)
    m = Master(world)
    m.write(dev, b"\x2c\x0d")  # medium repeatability, stretching: 6 ms
    world.run_for(1 * MS)
    assert dev.start(read=True)
    assert dev.stretch(StretchPhase.WRITE_POST_ACK, 0) == 5 * MS
    assert dev.stretch(StretchPhase.WRITE_POST_ACK, 0) == 5 * MS
    assert dev.stretch(StretchPhase.WRITE_PRE_ACK, 0) == 0
    assert dev.stretch(StretchPhase.READ_POST_ACK, 1) == 0
    world.run_for(2 * MS)
    assert dev.stretch(StretchPhase.WRITE_POST_ACK, 0) == 3 * MS
    dev.stop()


def test_single_shot_without_stretching_nacks_until_ready(world: World) -> None:
    """SHT3x §4.3: without stretching the read header is NACKed while no data is present."""
    dev = make(world, temperature_c=-10.0, humidity_rh=90.0)
    m = Master(world)
    m.write(dev, b"\x24\x00")
    world.run_for(15 * MS - 1)
    with pytest.raises(Nacked) as err:
        m.read(dev, 6)
    assert err.value.phase == "address"
    world.run_for(1)
    t, rh = decode(m.read(dev, 6))
    assert t == pytest.approx(-10.0, abs=0.003)
    assert rh == pytest.approx(90.0, abs=0.002)
    assert m.stretches == []


@pytest.mark.parametrize(
    ("command", "max_ns", "typ_ns"),
    [
        (b"\x24\x0b", 6 * MS, 4500 * NS_PER_US),
        (b"\x24\x16", 4 * MS, 2500 * NS_PER_US),
        (b"\x24\x00", 15 * MS, 12500 * NS_PER_US),
    ],
)
def test_measurement_durations(command: bytes, max_ns: int, typ_ns: int) -> None:
    """SHT3x Table 4: tMEAS low/medium/high, max (default) or typical."""
    for timing, duration in (("max", max_ns), ("typ", typ_ns)):
        world = World()
        dev = make(world, timing=timing)
        m = Master(world)
        m.write(dev, command)
        world.run_for(duration - 1)
        assert not m.acks(dev, read=True)
        world.run_for(1)
        assert len(m.read(dev, 6)) == 6


def test_write_header_not_acknowledged_while_measuring(world: World) -> None:
    """[I] SHT3x/SHTC1: the sensor does not respond to I2C activity during a measurement."""
    dev = make(world)
    m = Master(world)
    m.write(dev, b"\x24\x00")
    assert not m.acks(dev, read=False)
    world.run_for(15 * MS)
    assert m.acks(dev, read=False)


def test_data_is_read_once(world: World) -> None:
    """SHT3x §4.4/§4.6: after readout no measurement data is present: the next read header is NACKed."""
    dev = make(world)
    m = Master(world)
    m.write(dev, b"\x24\x16")
    world.run_for(4 * MS)
    m.read(dev, 3)  # temperature and its CRC only, then NACK
    assert not m.acks(dev, read=True)


def test_value_is_sampled_when_the_measurement_completes(world: World) -> None:
    """The result holds the temperature at the end of the conversion, not at the command or the read."""
    dev = make(world, temperature_c=20.0)
    m = Master(world)
    m.write(dev, b"\x24\x00")
    world.run_for(5 * MS)
    dev.temperature_c = 30.0  # during the conversion
    world.run_for(10 * MS)
    dev.temperature_c = 40.0  # after it, before the read
    t, _ = decode(m.read(dev, 6))
    assert t == pytest.approx(30.0, abs=0.003)


def test_periodic_mode_and_fetch(world: World) -> None:
    """SHT3x §4.5/§4.6: periodic acquisition; Fetch Data 0xE000; NACK when no new data; Break stops it."""
    dev = make(world, temperature_c=50.0)
    m = Master(world)
    m.write(dev, b"\x21\x30")  # 1 mps, high repeatability
    assert dev.periodic == 1.0
    m.write(dev, b"\xe0\x00")
    assert not m.acks(dev, read=True)  # first measurement not done yet
    world.run_for(15 * MS)
    m.write(dev, b"\xe0\x00")
    assert decode(m.read(dev, 6))[0] == pytest.approx(50.0, abs=0.003)
    m.write(dev, b"\xe0\x00")
    assert not m.acks(dev, read=True)  # cleared by the readout
    dev.temperature_c = 60.0
    world.run_for(NS_PER_S)
    m.write(dev, b"\xe0\x00")
    assert decode(m.read(dev, 6))[0] == pytest.approx(60.0, abs=0.003)
    assert dev.measurements == 2
    m.write(dev, b"\x24\x00")  # single shot refused in periodic mode
    assert dev.status & 0x0002
    m.write(dev, b"\x30\x93")  # Break
    assert dev.periodic is None
    m.write(dev, b"\x24\x00")
    assert not dev.status & 0x0002


def test_status_register(world: World) -> None:
    """SHT3x Table 17: status 0x8010 after reset (alert pending, reset detected); clear, heater, bad command."""
    dev = make(world)
    m = Master(world)

    def status() -> int:
        m.write(dev, b"\xf3\x2d")
        raw = m.read(dev, 3)
        assert crc8_sensirion(raw[:2]) == raw[2]
        return int.from_bytes(raw[:2], "big")

    assert status() == 0x8010
    m.write(dev, b"\x30\x41")
    assert status() == 0x0000
    m.write(dev, b"\x30\x6d")
    assert status() == 0x2000
    assert dev.heater
    m.write(dev, b"\x30\x66")
    m.write(dev, b"\x12\x34")
    assert status() == 0x0002


def test_soft_reset(world: World) -> None:
    """SHT3x §4.9: soft reset 0x30A2 restores the status register; the sensor is busy for tSR (1.5 ms)."""
    dev = make(world)
    m = Master(world)
    m.write(dev, b"\x30\x41")
    m.write(dev, b"\x30\x6d")
    m.write(dev, b"\x30\xa2")
    assert not m.acks(dev, read=False)
    world.run_for(1500 * NS_PER_US)
    assert dev.status == 0x8010
    assert not dev.heater
    assert m.acks(dev, read=False)


def test_idle_costs_no_events(world: World) -> None:
    """DESIGN "Time": periodic measurements are computed when fetched, not scheduled."""
    dev = make(world)
    Master(world).write(dev, b"\x27\x37")  # 10 mps
    assert world.env.peek() == float("inf")
    world.run_for(3600 * NS_PER_S)
    assert dev.measurements == 36_000


def test_bad_values_rejected() -> None:
    with pytest.raises(ConfigurationError, match=r"-45\.\.130"):
        Sht3x(temperature_c=131.0)
    dev = Sht3x()
    with pytest.raises(ConfigurationError, match=r"0\.\.100"):
        dev.humidity_rh = 101.0
    with pytest.raises(ConfigurationError, match="timing"):
        Sht3x(timing="fast")  # type: ignore[arg-type]


@settings(deadline=None)
@given(t=st.floats(-45.0, 130.0), rh=st.floats(0.0, 100.0))
def test_conversion_round_trip(t: float, rh: float) -> None:
    """SHT3x §4.13: T = -45 + 175·S/65535, RH = 100·S/65535; one tick of resolution, CRC on each word."""
    world = World()
    dev = make(world, temperature_c=t, humidity_rh=rh)
    m = Master(world)
    m.write(dev, b"\x2c\x10")
    got_t, got_rh = decode(m.read(dev, 6))
    assert got_t == pytest.approx(t, abs=175 / 65535)
    assert got_rh == pytest.approx(rh, abs=100 / 65535)
