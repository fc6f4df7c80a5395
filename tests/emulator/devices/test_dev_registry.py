"""The device registry: profile model names → device models (DESIGN "Devices and boards")."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from pathlib import Path

import pytest

from pihil_emulator.buses.i2c_target import I2cTarget
from pihil_emulator.devices.at24 import At24Eeprom
from pihil_emulator.devices.emc2301 import Emc2301
from pihil_emulator.devices.hat_eeprom import (
    GpioBankMap,
    HatImage,
    Pull,
    VendorInfo,
    build_hat_image,
    parse_hat_image,
)
from pihil_emulator.devices.lm75b import Lm75b
from pihil_emulator.devices.pcf8523 import Pcf8523
from pihil_emulator.devices.pcf85063a import Pcf85063a
from pihil_emulator.devices.registry import (
    DEVICE_MODELS,
    DeviceEntry,
    create_device,
    create_i2c_device,
    known_models,
)
from pihil_emulator.devices.sht3x import Sht3x
from pihil_emulator.devices.tpa6130a2 import Tpa6130a2
from pihil_emulator.errors import ConfigurationError
from pihil_emulator.world.clock import World

from .dev_protocol_helpers import Master


@pytest.mark.parametrize(
    ("model", "cls", "address"),
    [
        ("24c32", At24Eeprom, 0x50),
        ("hat-eeprom", At24Eeprom, 0x50),
        ("pcf8523", Pcf8523, 0x68),  # soc-facts §7.2
        ("pcf85063a", Pcf85063a, 0x51),  # soc-facts §7.1
        ("lm75b", Lm75b, 0x48),  # soc-facts §7.2
        ("tpa6130a2", Tpa6130a2, 0x60),  # soc-facts §7.2
        ("emc2301", Emc2301, 0x2F),  # soc-facts §7.1
        ("sht3x", Sht3x, 0x44),
    ],
)
def test_models_build_at_their_board_addresses(model: str, cls: type, address: int) -> None:
    """soc-facts §7: each carrier-board device at the address the boards use, by default."""
    params = {"vendor": "ACME", "product": "Board"} if model == "hat-eeprom" else {}
    dev = create_device(model, name="dev1", params=params)
    assert isinstance(dev, cls)
    assert isinstance(dev, I2cTarget)
    assert dev.address == address
    assert dev.name == "dev1"
    assert DEVICE_MODELS[model].bus_kind == "i2c"
    assert create_i2c_device(model, name="x", address=0x33, params=params).address == 0x33


def test_known_models_lists_every_entry() -> None:
    names = known_models()
    assert names == sorted(names)
    for model in ("24c32", "hat-eeprom", "pcf8523", "pcf85063a", "lm75b", "tpa6130a2", "emc2301"):
        assert model in names
    assert "sht3x" in known_models("i2c")
    assert "sht3x" not in known_models("spi")


def test_unknown_model_lists_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown device model 'pcf8563'.*pcf8523"):
        create_device("pcf8563", name="rtc")


def test_unknown_parameter_and_wrong_type_are_clear() -> None:
    with pytest.raises(ConfigurationError, match=r"no parameter\(s\) 'temperature'.*temperature_c"):
        create_device("lm75b", name="t", params={"temperature": 30})
    with pytest.raises(ConfigurationError, match="'max_rpm' must be a number"):
        create_device("emc2301", name="fan", params={"max_rpm": "fast"})
    with pytest.raises(ConfigurationError, match="'write_protect' must be true or false"):
        create_device("24c32", name="e", params={"write_protect": 1})
    with pytest.raises(ConfigurationError, match="takes: none"):
        create_device("tpa6130a2", name="amp", params={"gain": 3})


def test_parameters_reach_the_models() -> None:
    t = create_device("lm75b", name="t", params={"temperature_c": 41})
    assert isinstance(t, Lm75b)
    assert t.temperature_c == 41.0
    fan = create_device("emc2301", name="fan", params={"max_rpm": 7000, "poles": 4})
    assert isinstance(fan, Emc2301)
    assert (fan.max_rpm, fan.poles) == (7000.0, 4)
    sht = create_device("sht3x", name="s", address=0x45, params={"humidity_rh": 12.5})
    assert isinstance(sht, Sht3x)
    assert (sht.address, sht.humidity_rh) == (0x45, 12.5)
    eeprom = create_device("24c64", name="e", params={"write_cycle_ns": 3_000_000})
    assert isinstance(eeprom, At24Eeprom)
    assert (eeprom.size, eeprom.write_cycle_ns) == (8192, 3_000_000)


@pytest.mark.parametrize("when", ["2031-07-04T09:15:00", dt.datetime(2031, 7, 4, 9, 15)])
def test_rtc_initial_time(when: object) -> None:
    """A profile can start the RTC at a date-time (PyYAML gives a datetime, JSON a string)."""
    rtc = create_device("pcf8523", name="rtc", params={"datetime": when, "os_flag": False})
    assert isinstance(rtc, Pcf8523)
    rtc.bind(World())
    assert rtc.datetime == dt.datetime(2031, 7, 4, 9, 15)
    assert not rtc.os_flag
    with pytest.raises(ConfigurationError, match="ISO 8601"):
        create_device("pcf85063a", name="rtc", params={"datetime": "yesterday"})


def test_hat_eeprom_from_fields() -> None:
    """soc-facts §6: the profile's fields become a valid image (eepmake setgpio words for pins)."""
    dev = create_device(
        "hat-eeprom",
        name="hat",
        params={
            "vendor": "ACME",
            "product": "Relay HAT",
            "product_id": 0x1234,
            "product_version": 2,
            "dt_blob": "acme-relay",
            "custom": ["serial=42"],
            "gpios": {4: "OUTPUT", 17: "INPUT UP"},
            "gpio_drive": 8,
            "back_power": 1,
        },
    )
    assert isinstance(dev, At24Eeprom)
    assert dev.write_protect
    world = World()
    dev.bind(world)
    img = parse_hat_image(Master(world).write_read(dev, b"\x00\x00", 4096))
    assert (img.vendor.vendor, img.vendor.product) == ("ACME", "Relay HAT")
    assert (img.vendor.product_id, img.vendor.product_version) == (0x1234, 2)
    assert img.vendor.uuid.version == 5
    assert img.dt_blob == b"acme-relay"
    assert img.custom == (b"serial=42",)
    assert img.gpio_bank0.pins[4].func_sel == 1
    assert img.gpio_bank0.pins[17].pull is Pull.UP
    assert img.gpio_bank0.pins[17].used
    assert not img.gpio_bank0.pins[5].used
    assert (img.gpio_bank0.drive, img.gpio_bank0.back_power) == (8, 1)
    again = create_device(
        "hat-eeprom", name="hat", params={"vendor": "ACME", "product": "Relay HAT"}
    )
    assert isinstance(again, At24Eeprom)
    assert parse_hat_image(again.contents).vendor.uuid == img.vendor.uuid  # deterministic


def test_hat_eeprom_from_image_file(tmp_path: Path) -> None:
    image = HatImage(
        vendor=VendorInfo(uuid.UUID(int=7), 1, 1, "V", "P"), gpio_bank0=GpioBankMap.bank0()
    )
    path = tmp_path / "hat.eep"
    path.write_bytes(build_hat_image(image))
    dev = create_device("hat-eeprom", name="hat", params={"image_file": str(path)})
    assert isinstance(dev, At24Eeprom)
    assert parse_hat_image(dev.contents) == image
    with pytest.raises(ConfigurationError, match="image_file"):
        create_device("hat-eeprom", name="hat", params={"image_file": str(tmp_path / "nope")})


def test_hat_eeprom_errors() -> None:
    with pytest.raises(ConfigurationError, match=r"needs image_file .* or vendor and product"):
        create_device("hat-eeprom", name="hat")
    with pytest.raises(ConfigurationError, match="not both"):
        create_device(
            "hat-eeprom", name="hat", params={"image_file": "x", "vendor": "a", "product": "b"}
        )
    with pytest.raises(ConfigurationError, match=r"GPIO number 0\.\.27"):
        create_device(
            "hat-eeprom", name="hat", params={"vendor": "a", "product": "b", "gpios": {30: "INPUT"}}
        )
    with pytest.raises(ValueError, match="setgpio function 'ALT9'"):
        create_device(
            "hat-eeprom", name="hat", params={"vendor": "a", "product": "b", "gpios": {3: "ALT9"}}
        )


def test_other_bus_kinds_plug_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry is a plain dict SPI/UART model authors add to; bus_kind lets the loader check wiring."""

    class FakeSpi:
        def __init__(self, name: str, params: Mapping[str, object]) -> None:
            self.name = name
            self.params = dict(params)

    monkeypatch.setitem(
        DEVICE_MODELS,
        "fake-spi",
        DeviceEntry("spi", lambda address, name, params: FakeSpi(name, params), None, "test"),
    )
    dev = create_device("fake-spi", name="adc", params={"vref": 3.3})
    assert isinstance(dev, FakeSpi)
    assert dev.params == {"vref": 3.3}
    assert "fake-spi" in known_models("spi")
    with pytest.raises(ConfigurationError, match="takes no I2C address"):
        create_device("fake-spi", name="adc", address=0x10)
    with pytest.raises(ConfigurationError, match="is a spi device, not an I2C one"):
        create_i2c_device("fake-spi", name="adc")
