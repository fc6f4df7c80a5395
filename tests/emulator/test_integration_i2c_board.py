"""I2C through the Board: ``add_i2c_gpio``, devices on their pins from the moment they are
attached, and ``detach`` taking them off the wire."""

from __future__ import annotations

import pytest

from pihil_emulator.board import Board
from pihil_emulator.buses.i2c_gpio import I2cGpioBus
from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.devices.tpa6130a2 import VERSION
from pihil_emulator.errors import BusError, ConfigurationError
from pihil_emulator.world.net import Drive, Net

AMP = 0x60  # the MirkoPC's TPA6130A2 on i2c1 (GPIO2/3); register 4 reads its version
HALF_NS = 5_000  # 100 kHz
_LOW = Drive.open_drain_low()


class BitBanger:
    """Test code toggling two GPIO nets open-drain, as a hand-written I2C master would."""

    def __init__(self, board: Board, sda: str, scl: str) -> None:
        self.board = board
        for pin in (sda, scl):
            board.gpio.set_function(board.pins.gpio_line(pin), "input")
        self.sda: Net = board.net(sda)
        self.scl: Net = board.net(scl)

    def _set(self, net: Net, level: bool) -> None:
        net.drive("test code", None if level else _LOW)
        self.board.run_for(HALF_NS)

    def start(self) -> None:
        self._set(self.sda, True)
        self._set(self.scl, True)
        self._set(self.sda, False)
        self._set(self.scl, False)

    def stop(self) -> None:
        self._set(self.sda, False)
        self._set(self.scl, True)
        self._set(self.sda, True)

    def _bit(self, out: bool) -> bool:
        self._set(self.sda, out)
        self._set(self.scl, True)
        level = self.sda.level
        self._set(self.scl, False)
        return level

    def write(self, byte: int) -> bool:
        """Send ``byte``; True when the target acknowledged it."""
        for i in range(7, -1, -1):
            self._bit(bool(byte >> i & 1))
        return not self._bit(True)

    def read(self, ack: bool) -> int:
        value = 0
        for _ in range(8):
            value = value << 1 | int(self._bit(True))
        self._bit(not ack)
        return value


def test_a_profile_device_answers_test_code_toggling_its_pins_on_a_fresh_board() -> None:
    """DESIGN "Two levels": pin level is used for "a device driven from test code through
    pins"; the device model answers as soon as the board is built, before any bus has
    looked for it (a register read of the TPA6130A2's version, datasheet: 0x02)."""
    board = Board.from_profile("mirkopc")
    m = BitBanger(board, "GPIO2", "GPIO3")
    m.start()
    assert m.write(AMP << 1)
    assert m.write(0x04)
    m.start()  # repeated START
    assert m.write(AMP << 1 | 1)
    value = m.read(ack=False)
    m.stop()
    assert value == VERSION == 0x02
    m.start()
    assert not m.write(0x11 << 1)  # nobody at 0x11: no ACK
    m.stop()
    assert m.sda.level  # nothing left holding the lines
    assert m.scl.level


def test_a_device_attached_in_a_test_answers_pins_before_any_bus_ran() -> None:
    """DESIGN "Two levels": a device attached from a test answers edges made by test code."""
    from pihil_emulator.devices.at24 import At24Eeprom

    board = Board.from_profile("rpi-b-rev2")
    eeprom = At24Eeprom(0x50, contents=bytes([0x5A]))
    board.attach(eeprom, bus="i2c1")
    m = BitBanger(board, "P1-03", "P1-05")
    m.start()
    assert m.write(0x50 << 1)
    assert m.write(0x00)
    assert m.write(0x00)
    m.start()
    assert m.write(0x50 << 1 | 1)
    assert m.read(ack=False) == 0x5A
    m.stop()


def test_add_i2c_gpio_talks_to_the_profile_devices() -> None:
    """soc-facts §1.5 workaround (dtoverlay=i2c-gpio): ``board.add_i2c_gpio`` is the
    bit-banged bus on any two GPIOs; on the I2C1 pins it reaches the board's devices."""
    board = Board.from_profile("mirkopc")
    bus = board.add_i2c_gpio("i2c-3", "GPIO2", "J8-05", speed_hz=50_000)
    assert isinstance(bus, I2cGpioBus)
    assert bus.udelay_us == 10  # i2c-algo-bit's half period in whole µs
    assert board.gpio.function(2) == board.gpio.function(3) == "input"
    t0 = board.now_ns
    got = bus.transfer([I2cMessage(AMP, False, b"\x04"), I2cMessage(AMP, True, 1)])
    assert got == [bytes([VERSION])]
    # 3 bytes + 3 ACK bits at 20 µs a bit is at least 540 µs
    assert board.now_ns - t0 >= 27 * 20_000
    with pytest.raises(BusError) as err:
        bus.transfer([I2cMessage(0x11, True, 1)])
    assert err.value.errno_name == "ENXIO"


def test_a_detached_device_no_longer_answers_on_its_pins() -> None:
    """Board.detach takes the device off the wire: a bus (here the bit-banged one, pin level)
    gets no ACK from it afterwards; attaching it again puts it back."""
    board = Board.from_profile("mirkopc")
    amp = board.devices["headphone_amp"]
    bus = board.add_i2c_gpio("i2c-3", "GPIO2", "GPIO3")
    assert bus.transfer([I2cMessage(AMP, True, 1)])
    board.detach(amp)
    with pytest.raises(BusError) as err:
        bus.transfer([I2cMessage(AMP, True, 1)])
    assert err.value.kind == "nack"
    board.attach(amp, bus="i2c1")
    assert bus.transfer([I2cMessage(AMP, False, b"\x04"), I2cMessage(AMP, True, 1)]) == [
        bytes([VERSION])
    ]


def test_an_i2c_device_needs_both_pins() -> None:
    """Board.attach off the profile: an I2C device without sda/scl is refused clearly."""
    board = Board.from_profile("mirkopc")
    from pihil_emulator.devices.lm75b import Lm75b

    with pytest.raises(ConfigurationError, match="sda and scl"):
        board.attach(Lm75b(0x49), bus="probe", kind="i2c", sda="GPIO23")
