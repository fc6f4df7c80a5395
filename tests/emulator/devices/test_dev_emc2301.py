"""EMC2301 fan controller (0x2F on the CM4 IO board and MirkoPC; soc-facts §7.1, §7.2) against its data sheet."""

from __future__ import annotations

import pytest

from pihil_emulator.devices.emc2301 import Emc2301, count_to_rpm, rpm_to_count
from pihil_emulator.errors import ConfigurationError
from pihil_emulator.world.clock import NS_PER_MS, World

from .dev_protocol_helpers import Master


@pytest.fixture
def world() -> World:
    return World()


def make(world: World, **kw: float) -> Emc2301:
    dev = Emc2301(**kw)  # type: ignore[arg-type]
    dev.bind(world)
    return dev


def tach(m: Master, dev: Emc2301) -> int:
    raw = m.write_read(dev, b"\x3e", 2)
    return (raw[0] << 5) | (raw[1] >> 3)


def test_identification_registers(world: World) -> None:
    """EMC2301 Table 5.1: product ID FDh = 37h, manufacturer FEh = 5Dh, revision FFh = 80h."""
    dev = make(world)
    assert dev.address == 0x2F
    assert Master(world).write_read(dev, b"\xfd", 3) == b"\x37\x5d\x80"


def test_reset_values(world: World) -> None:
    """EMC2301 Table 5.1 defaults: Configuration 40h, Fan Config 1 2Bh, minimum drive 66h, Valid TACH F5h."""
    dev = make(world)
    m = Master(world)
    assert m.write_read(dev, b"\x20", 1) == b"\x40"
    assert m.write_read(dev, b"\x30", 10) == bytes.fromhex("00 01 2b 28 00 2a 19 10 66 f5")
    assert m.write_read(dev, b"\x3c", 4) == b"\xf8\xff\xff\xf8"  # target and reading: slowest


def test_undefined_registers_read_zero(world: World) -> None:
    """EMC2301 §5.1: reads of undefined registers return 00h; writes have no effect."""
    dev = make(world)
    m = Master(world)
    m.write(dev, b"\x50\xaa")
    assert m.write_read(dev, b"\x50", 1) == b"\x00"


def test_rpm_equation_matches_data_sheet_constant() -> None:
    """EMC2301 equation [3]: RPM = 3,932,160 × m / COUNT for a 2-pole fan sampled on 5 edges."""
    for m in (1, 2, 4, 8):
        assert count_to_rpm(4000, multiplier=m) == pytest.approx(3_932_160 * m / 4000)
    assert rpm_to_count(3000, edges=5, multiplier=2, poles=2) == round(7_864_320 / 3000)
    assert rpm_to_count(0, edges=5, multiplier=2, poles=2) == 0x1FFF


def test_fan_setting_drives_rpm_and_tach(world: World) -> None:
    """Fan Setting 30h: drive = value/255; the fan model turns that into rpm and a TACH count."""
    dev = make(world, max_rpm=6000.0)
    m = Master(world)
    assert tach(m, dev) == 0x1FFF  # fan off
    m.write(dev, b"\x30\x80")
    assert m.write_read(dev, b"\x30", 1) == b"\x80"
    expected_rpm = 6000.0 * 0x80 / 255
    assert dev.rpm == pytest.approx(expected_rpm)
    count = tach(m, dev)
    assert count == round(7_864_320 / expected_rpm)
    assert count_to_rpm(count) == pytest.approx(expected_rpm, rel=1e-3)


def test_range_changes_the_count(world: World) -> None:
    """Fan Configuration 1 RANGE: m = 1, 2, 4, 8 scales every TACH value."""
    dev = make(world, max_rpm=6000.0)
    m = Master(world)
    m.write(dev, b"\x30\xff")
    assert tach(m, dev) == round(7_864_320 / 6000)
    m.write(dev, b"\x32\x0b")  # RANGE = 00 → m = 1
    assert tach(m, dev) == round(3_932_160 / 6000)


def test_pwm_polarity_inverts_what_the_fan_sees(world: World) -> None:
    """PWM Polarity 2Ah PLRITY1 = 1 inverts the output: setting 00h means full speed."""
    dev = make(world, max_rpm=4000.0)
    m = Master(world)
    m.write(dev, b"\x2a\x01")
    assert dev.rpm == pytest.approx(4000.0)
    m.write(dev, b"\x30\xff")
    assert dev.rpm == 0.0


def test_stalled_fan_fault_sets_stall_status_read_to_clear(world: World) -> None:
    """A blocked rotor: TACH saturates (FFF8h), FNSTL/F1STL set; read-to-clear, set again while stalled."""
    dev = make(world, max_rpm=5000.0)
    m = Master(world)
    m.write(dev, b"\x30\xc0")
    assert m.write_read(dev, b"\x25", 1) == b"\x00"
    dev.stalled = True
    assert m.write_read(dev, b"\x3e", 2) == b"\xff\xf8"
    assert m.write_read(dev, b"\x24", 1) == b"\x01"
    assert m.write_read(dev, b"\x25", 1) == b"\x01"
    assert m.write_read(dev, b"\x25", 1) == b"\x01"  # still stalled: asserted again
    dev.stalled = False
    assert m.write_read(dev, b"\x25", 1) == b"\x01"  # latched until read
    assert m.write_read(dev, b"\x25", 1) == b"\x00"
    assert dev.rpm == pytest.approx(5000.0 * 0xC0 / 255)


def test_fan_off_is_not_a_stall(world: World) -> None:
    """[I] With drive 0 the fan is meant to stand still: no stall is flagged."""
    dev = make(world)
    assert Master(world).write_read(dev, b"\x24", 1) == b"\x00"


def test_rpm_algorithm_reaches_tach_target(world: World) -> None:
    """Fan Config 1 EN_ALGO: the drive follows the TACH target (converged loop); Fan Setting read-only."""
    dev = make(world, max_rpm=5000.0)
    m = Master(world)
    target_count = round(7_864_320 / 2500)  # 2500 rpm at m = 2
    m.write(dev, bytes([0x3C, (target_count & 0x1F) << 3, target_count >> 5]))
    m.write(dev, b"\x32\xab")  # EN_ALGO = 1, defaults otherwise
    drive = m.write_read(dev, b"\x30", 1)[0]
    assert drive == 128  # ceil(0.5 * 255)
    assert dev.rpm == pytest.approx(5000.0 * 128 / 255)
    m.write(dev, b"\x30\x10")  # ignored while the algorithm runs
    assert m.write_read(dev, b"\x30", 1)[0] == 128
    m.write(dev, b"\x3c\x00\xf0")  # slow target (1024 rpm): clamped to the minimum drive (66h)
    assert dev.drive == 0x66
    m.write(dev, b"\x3d\xff")  # target high byte FFh: fan off
    assert dev.drive == 0


def test_spin_up_time_constant(world: World) -> None:
    """Fan model: with a time constant the speed approaches the drive's rpm exponentially."""
    dev = make(world, max_rpm=3000.0, spin_time_constant_ns=500 * NS_PER_MS)
    m = Master(world)
    m.write(dev, b"\x30\xff")
    assert dev.rpm == pytest.approx(0.0)
    world.run_for(500 * NS_PER_MS)
    assert dev.rpm == pytest.approx(3000.0 * (1 - 0.36787944), rel=1e-6)
    world.run_for(5000 * NS_PER_MS)
    assert dev.rpm == pytest.approx(3000.0, rel=1e-3)


def test_software_lock(world: World) -> None:
    """Software Lock EFh: LOCK makes SWL registers read-only until power-on reset."""
    dev = make(world)
    m = Master(world)
    m.write(dev, b"\x38\x40")
    m.write(dev, b"\xef\x01")
    m.write(dev, b"\x38\x80")
    m.write(dev, b"\xef\x00")
    assert dev.read("FanMinimumDrive") == 0x40
    assert dev.locked
    m.write(dev, b"\x30\x22")  # Fan Setting is not locked
    assert dev.drive == 0x22


def test_bad_parameters() -> None:
    with pytest.raises(ConfigurationError, match="max_rpm"):
        Emc2301(max_rpm=0)
    with pytest.raises(ConfigurationError, match="poles"):
        Emc2301(poles=5)
    with pytest.raises(ConfigurationError, match="negative"):
        Emc2301(spin_time_constant_ns=-1)
