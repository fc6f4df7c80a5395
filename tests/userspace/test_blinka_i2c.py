"""Adafruit Blinka 10.0.0 on the emulated boards: ``board``/``busio`` detect the board from the
userspace's ``/proc``, and two CircuitPython drivers run unmodified on ``busio.I2C``.

Blinka detects the board once, at its first import, and keeps the detector in module
globals; the userspace forgets Blinka's modules on entering and leaving (`procfs`), so each
test imports ``board``/``busio`` *inside* its block and gets its own board.

soc-facts §7.2: on the MirkoPC (a CM4 carrier) i2c1 (GPIO2/3) carries the EMC2301 fan
controller (0x2F), the LM75B (0x48), the TPA6130A2 (0x60) and the PCF8523 RTC (0x68).
§6: the HAT EEPROM (a 24C32 at 0x50, "R-Pi" signature) is on i2c0 (ID_SD/ID_SC =
GPIO0/1), which Blinka opens for ``busio.I2C(board.D1, board.D0)`` (its ``i2cPorts``).
"""

from __future__ import annotations

import os
import sys
import time
import types
from collections.abc import Iterator

import pytest

from rpiboard_pihil import RpiBoard


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    board.simulation.emulator.devices["hat_eeprom"].write_protect = False  # WP jumper fitted
    yield board
    board.close()


def test_blinka_detects_the_mirkopc_as_a_cm4_and_scans_i2c1(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        import board  # Blinka detects the board at import: inside the block
        import busio
        from adafruit_blinka.agnostic import detector

        assert detector.chip.id == "BCM2XXX"
        assert detector.board.id == "RASPBERRY_PI_CM4"
        assert detector.board.any_raspberry_pi_cm
        with busio.I2C(board.SCL, board.SDA) as i2c:
            assert i2c.try_lock()
            assert i2c.scan() == [0x2F, 0x48, 0x60, 0x68]
            i2c.unlock()
        assert os.environ["BLINKA_SKIP_DEPENDENCY_CHECK"] == "1"  # no pip prompt in a test
    assert "board" not in sys.modules  # forgotten on leaving
    assert "adafruit_blinka.agnostic" not in sys.modules


def test_the_pcf8523_driver_sets_and_reads_the_rtc(mirkopc: RpiBoard) -> None:
    rtc_model = mirkopc.simulation.emulator.devices["rtc"]
    with mirkopc.simulation.userspace():
        import adafruit_pcf8523.pcf8523
        import board
        import busio

        rtc = adafruit_pcf8523.pcf8523.PCF8523(busio.I2C(board.SCL, board.SDA))
        assert rtc.lost_power  # OS flag set at power-on (PCF8523 data sheet §8.5)
        rtc.datetime = time.struct_time((2024, 12, 31, 23, 59, 30, 1, -1, -1))
        assert not rtc.lost_power  # the driver's write of Seconds cleared OS
        time.sleep(45)  # on the board's clock
        now = rtc.datetime
        assert (now.tm_year, now.tm_mon, now.tm_mday, now.tm_hour, now.tm_min) == (
            2025,
            1,
            1,
            0,
            0,
        )
        assert now.tm_sec in (15, 16)  # 45 increments, 46 if one fell in the bus time
        assert rtc_model.datetime.year == 2025  # the model agrees
        rtc.battery_switchover = 0b000  # PM[2:0] = 000: switch-over enabled
        assert rtc.battery_switchover == 0b000


def test_the_24lc32_driver_on_the_hat_eeprom_at_i2c0(mirkopc: RpiBoard) -> None:
    model = mirkopc.simulation.emulator.devices["hat_eeprom"]
    with mirkopc.simulation.userspace():
        import adafruit_24lc32
        import board
        import busio

        eeprom = adafruit_24lc32.EEPROM_I2C(busio.I2C(board.D1, board.D0), address=0x50)
        assert len(eeprom) == 4096
        assert eeprom[0:4] == bytearray(b"R-Pi")  # the HAT image's signature
        data = bytes(range(0x20, 0x20 + 40))
        eeprom[0x7F0 : 0x7F0 + len(data)] = data  # byte writes with 5 ms waits, across pages
        assert eeprom[0x7F0 : 0x7F0 + len(data)] == bytearray(data)
        eeprom[0x123] = 0xA5
        assert eeprom[0x123] == bytearray([0xA5])
    assert model.contents[0x7F0 : 0x7F0 + len(data)] == data
    assert model.contents[0x123] == 0xA5


def test_a_pi_4_is_detected_afresh_and_has_no_i2c0() -> None:
    """After a MirkoPC userspace in the same process, a Pi 4's is detected as a Pi 4; its
    profile does not enable i2c0 (dtparam=i2c_vc), so Blinka finds no bus on GPIO0/1."""
    mirkopc = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    try:
        with mirkopc.simulation.userspace():
            from adafruit_blinka.agnostic import detector

            assert detector.board.id == "RASPBERRY_PI_CM4"
    finally:
        mirkopc.close()
    pi4 = RpiBoard("local", options={"simulate": True, "board": "rpi-4b"})
    try:
        with pi4.simulation.userspace():
            import board
            import busio
            from adafruit_blinka.agnostic import detector

            assert detector.board.id == "RASPBERRY_PI_4B"
            assert board.board_id == "RASPBERRY_PI_4B"
            with busio.I2C(board.SCL, board.SDA) as i2c:
                assert i2c.try_lock()
                assert i2c.scan() == []  # nothing on the bare Pi 4's i2c1
                i2c.unlock()
            with pytest.raises(ValueError, match="No Hardware I2C on"):
                busio.I2C(board.D1, board.D0)
    finally:
        pi4.close()


def test_a_test_modules_own_board_module_is_left_alone(
    mirkopc: RpiBoard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only Blinka's installed modules are forgotten, not a module of the same name elsewhere."""
    mine = types.ModuleType("board")
    mine.__file__ = os.path.join(os.path.dirname(__file__), "board.py")
    monkeypatch.setitem(sys.modules, "board", mine)
    with mirkopc.simulation.userspace():
        import adafruit_blinka.agnostic

        assert adafruit_blinka.agnostic.board_id == "RASPBERRY_PI_CM4"
        assert sys.modules["board"] is mine
    assert sys.modules["board"] is mine
