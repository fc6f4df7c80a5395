"""A profile's bit-banged bus (``controller: i2c-gpio``) through the Board and the driver.

soc-facts §1.5: ``dtoverlay=i2c-gpio,bus=3,i2c_gpio_sda=23,i2c_gpio_scl=24`` is the usual
workaround for the BCM2835 clock-stretching bug; the board then has /dev/i2c-3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pihil_emulator.board import Board
from pihil_emulator.boards import load_profile
from pihil_emulator.buses.i2c_gpio import BCM_GPIO_ACCESS_NS, I2cGpioBus
from pihil_emulator.buses.i2c_master import I2cMessage as EmuMessage
from pihil_emulator.errors import ProfileError
from rpiboard_pihil.backends.base import I2cMessage
from rpiboard_pihil.backends.simulated import SimulatedBackend, describe_board
from rpiboard_pihil.errors import I2cNackError, ResourceBusyError, SelectorError
from rpiboard_pihil.i2c import I2cBusCollection
from rpiboard_pihil.session import Session

PROFILE: dict[str, Any] = {
    "model": "Test Pi with i2c-gpio",
    "manufacturer": "Test",
    "soc": "BCM2835",
    "config": ["dtoverlay=i2c-gpio,bus=3,i2c_gpio_sda=23,i2c_gpio_scl=24"],
    "headers": {
        "J1": {
            "pins": {
                **{1: "3V3", 2: "GPIO2", 3: "GPIO3", 4: "GPIO23", 5: "GPIO24", 6: "GND"},
                **{7: "GPIO17", 8: "GPIO27"},
            }
        }
    },
    "pulls": [
        {"pin": "J1-02", "pull": "up", "ohms": 1800},
        {"pin": "J1-03", "pull": "up", "ohms": 1800},
        {"pin": "J1-04", "pull": "up", "ohms": 4700},
        {"pin": "J1-05", "pull": "up", "ohms": 4700},
    ],
    "buses": {
        "i2c1": {"kind": "i2c", "controller": "bsc1", "sda": "J1-02", "scl": "J1-03"},
        "i2c3": {
            "kind": "i2c",
            "controller": "i2c-gpio",
            "sda": "J1-04",
            "scl": "J1-05",
            "linux_device": "/dev/i2c-3",
        },
    },
    "devices": {"sensor": {"model": "lm75b", "bus": "i2c3", "address": 0x48}},
}


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "gpio-i2c-board.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_the_board_builds_the_profile_i2c_gpio_bus(tmp_path: Path) -> None:
    """The overlay's pins become GPIO inputs bit-banged by i2c-algo-bit (udelay =
    i2c_gpio_delay_us, default 2: overlay README); its devices are on it, not on i2c1."""
    board = Board(load_profile(write(tmp_path, PROFILE)))
    bus = board.i2c_gpio_buses["i2c3"]
    assert isinstance(bus, I2cGpioBus)
    assert bus.udelay_us == 2
    assert board.gpio.function(23) == board.gpio.function(24) == "input"
    assert bus.transfer([EmuMessage(0x48, False, b"\x00"), EmuMessage(0x48, True, 2)]) == [
        b"\x19\x00"  # LM75B Temp at 25.0 °C (datasheet: 11-bit, 0.125 °C a step, MSB first)
    ]


def test_the_driver_reaches_the_i2c_gpio_bus(tmp_path: Path) -> None:
    """The driver's i2c_buses has the bit-banged bus as /dev/i2c-3; its lines are held by the
    kernel (EBUSY as a GPIO); a missing address is a NACK (i2c-algo-bit: ENXIO)."""
    profile = load_profile(write(tmp_path, PROFILE))
    board = Board(profile)
    info = describe_board(profile)
    backend = SimulatedBackend.on(board, info)
    buses = I2cBusCollection(Session(backend, query_instrument_status=False), info.i2c_buses, "t")
    i2c3 = buses["/dev/i2c-3"]
    assert i2c3.name == "i2c3"
    assert i2c3.write_read(0x48, b"\x00", 2) == b"\x19\x00"
    with pytest.raises(I2cNackError) as err:
        i2c3.read(0x49, 1)
    assert err.value.errno_name == "ENXIO"
    i2c3.frequency_hz = 50_000
    assert board.i2c_gpio_buses["i2c3"].udelay_us == 10
    with pytest.raises(I2cNackError):
        buses["i2c1"].read(0x48, 1)  # the sensor is on the bit-banged bus only
    with pytest.raises(ResourceBusyError, match="i2c3"):
        backend.gpio_read(23)
    got = backend.i2c_transfer(3, [I2cMessage.write(0x48, b"\x01"), I2cMessage.read_of(0x48, 1)])
    assert got == [b"\x00"]  # LM75B Conf resets to 0


def test_an_i2c_gpio_bus_takes_any_gpio_and_a_delay(tmp_path: Path) -> None:
    """Only i2c-gpio buses take ``delay_us`` (1..1000 µs); a BSC bus still needs its pins."""
    data = yaml.safe_load(yaml.safe_dump(PROFILE))
    data["buses"]["i2c3"]["delay_us"] = 5
    assert load_profile(write(tmp_path, data)).buses["i2c3"].delay_us == 5
    data["buses"]["i2c3"]["delay_us"] = 0
    with pytest.raises(ProfileError) as info:
        load_profile(write(tmp_path, data))
    assert info.value.key == "buses.i2c3.delay_us"
    data["buses"]["i2c3"]["delay_us"] = 5
    data["buses"]["i2c1"]["delay_us"] = 5
    with pytest.raises(ProfileError) as info:
        load_profile(write(tmp_path, data))
    assert info.value.key == "buses.i2c1.delay_us"


def test_a_profile_gives_the_gpio_access_cost_a_bench_measured(tmp_path: Path) -> None:
    """``gpio_access_ns`` (0..1 ms) sets what one GPIO access costs on that board's i2c-gpio
    bus; absent, the Pi's figure (delay 2 = ~100 kHz, i2c-gpio-overlay.dts); only i2c-gpio
    buses take it."""
    data = yaml.safe_load(yaml.safe_dump(PROFILE))
    default = Board(load_profile(write(tmp_path, data))).i2c_gpio_buses["i2c3"]
    assert default.gpio_access_ns == BCM_GPIO_ACCESS_NS
    assert default.scl_hz == pytest.approx(100_000)
    data["buses"]["i2c3"]["gpio_access_ns"] = 250
    bus = Board(load_profile(write(tmp_path, data))).i2c_gpio_buses["i2c3"]
    assert (bus.gpio_access_ns, bus.bit_period_ns) == (250, 5_000)
    for bad in (-1, 1_000_001, "fast"):
        data["buses"]["i2c3"]["gpio_access_ns"] = bad
        with pytest.raises(ProfileError) as info:
            load_profile(write(tmp_path, data))
        assert info.value.key == "buses.i2c3.gpio_access_ns"
    del data["buses"]["i2c3"]["gpio_access_ns"]
    data["buses"]["i2c1"]["gpio_access_ns"] = 250
    with pytest.raises(ProfileError) as info:
        load_profile(write(tmp_path, data))
    assert info.value.key == "buses.i2c1.gpio_access_ns"


def test_two_i2c_gpio_buses_are_told_apart_by_name(tmp_path: Path) -> None:
    """Two overlays (bus=3 and bus=4) give two buses; the controller name "i2c-gpio" names
    neither (an alias only when one bus has that controller)."""
    data = yaml.safe_load(yaml.safe_dump(PROFILE))
    data["pulls"] += [{"pin": p, "pull": "up", "ohms": 4700} for p in ("J1-07", "J1-08")]
    data["buses"]["i2c4"] = {
        "kind": "i2c",
        "controller": "i2c-gpio",
        "sda": "J1-07",
        "scl": "J1-08",
    }
    profile = load_profile(write(tmp_path, data))
    board = Board(profile)
    assert set(board.i2c_gpio_buses) == {"i2c3", "i2c4"}
    info = describe_board(profile)
    backend = SimulatedBackend.on(board, info)
    buses = I2cBusCollection(Session(backend, query_instrument_status=False), info.i2c_buses, "t")
    assert buses["i2c-4"].name == "i2c4"
    assert buses["bsc1"].name == "i2c1"
    with pytest.raises(SelectorError):
        buses["i2c-gpio"]
    with pytest.raises(I2cNackError):
        buses["i2c4"].read(0x48, 1)  # the sensor is on i2c3
