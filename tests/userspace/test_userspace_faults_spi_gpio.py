"""Injected faults reach spidev, gpiod and every open descriptor as the Linux interfaces
show them (docs/reliability.md lists the faults; these are their userspace faces).

- A stuck MISO is not an error to spi-bcm2835: the FIFO fills with what the line reads
  (0xFF high); a silent device leaves MISO to its pad pull-down (0x00) (docs/reliability.md
  rows stuck-miso-high and silent-spi-device).
- A net stuck high under an input is what the input reads (soc-facts §3.4: GPLEV is the pin).
- A SoC reset (brown-out with ``reset_soc``) reboots Linux on the board: the descriptors a
  program held are gone (ENODEV, saying why), and opening the device again works.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Iterator

import gpiod
import pytest
import smbus2
import spidev
from gpiod.line import Bias, Direction, Value

from pihil_emulator.buses.spi_faults import SilentSpiDevice, StuckMiso
from pihil_emulator.faults import BrownOut, StuckNet
from rpiboard_pihil import RpiBoard


def _read_ch0(adc: spidev.SpiDev) -> list[int]:
    """MCP3008 single-ended channel 0 (data sheet Table 5-2): start bit, SGL/CH0, a byte of
    clocks. A new list each time: py-spidev fills the list it is given with what came back."""
    return list(adc.xfer2([0x01, 0x80, 0x00]))


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board
    board.close()


def _adc_code(rx: list[int]) -> int:
    return ((rx[1] & 0x03) << 8) | rx[2]


def test_a_stuck_miso_reads_ones_and_a_silent_device_zeros(mirkopc: RpiBoard) -> None:
    mirkopc.simulation.devices["adc"].set_voltage(0, 1.65)
    with mirkopc.simulation.userspace():
        adc = spidev.SpiDev()
        adc.open(0, 1)  # the MCP3008 on CE1
        adc.max_speed_hz = 1_000_000
        assert _adc_code(_read_ch0(adc)) == pytest.approx(512, abs=1)
        stuck = mirkopc.simulation.inject(StuckMiso(bus="spi0", level=True))
        assert _read_ch0(adc) == [0xFF, 0xFF, 0xFF]
        mirkopc.simulation.clear_fault(stuck)
        silent = mirkopc.simulation.inject(SilentSpiDevice(device="adc"))
        assert _read_ch0(adc) == [0x00, 0x00, 0x00]
        mirkopc.simulation.clear_fault(silent)
        assert _adc_code(_read_ch0(adc)) == pytest.approx(512, abs=1)
        adc.close()


def test_a_net_stuck_high_is_what_a_gpiod_input_reads(mirkopc: RpiBoard) -> None:
    settings = gpiod.LineSettings(direction=Direction.INPUT, bias=Bias.PULL_DOWN)
    with (
        mirkopc.simulation.userspace(),
        gpiod.request_lines("/dev/gpiochip0", {23: settings}) as line,
    ):
        time.sleep(0.001)
        assert line.get_value(23) is Value.INACTIVE
        fault = mirkopc.simulation.inject(StuckNet(pin="GPIO23", level=True))
        time.sleep(0.001)
        assert line.get_value(23) is Value.ACTIVE
        mirkopc.simulation.clear_fault(fault)
        time.sleep(0.001)
        assert line.get_value(23) is Value.INACTIVE


def test_a_soc_reset_takes_the_open_descriptors_away(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        bus = smbus2.SMBus(1)
        adc = spidev.SpiDev()
        adc.open(0, 1)
        chip = gpiod.Chip("/dev/gpiochip0")
        assert bus.read_byte_data(0x68, 0x03) is not None
        sag = mirkopc.simulation.inject(BrownOut(rail="3V3", volts=2.0, reset_soc=True))
        time.sleep(0.01)
        mirkopc.simulation.clear_fault(sag)  # the rail recovers: the SoC's power-on reset
        with pytest.raises(OSError, match="SoC was reset") as i2c_gone:
            bus.read_byte_data(0x68, 0x03)
        assert i2c_gone.value.errno == errno.ENODEV
        with pytest.raises(OSError, match="No such device") as spi_gone:  # py-spidev: errno only
            _read_ch0(adc)
        assert spi_gone.value.errno == errno.ENODEV
        with pytest.raises(OSError, match="SoC was reset") as gpio_gone:
            chip.get_info()
        assert gpio_gone.value.errno == errno.ENODEV
        bus.close()  # closing still works
        adc.close()
        chip.close()
        with smbus2.SMBus(1) as again:  # the board booted again: a new open works
            assert again.read_byte_data(0x68, 0x03) is not None
