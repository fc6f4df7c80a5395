"""Device models by the name a board profile uses (``model: pcf8523``), with their bus kind.

`DEVICE_MODELS` is a plain dict: each device module's author adds an entry
(one line and a factory). A factory is called as ``factory(address, name,
params)``: ``address`` is the I2C address (the entry's default when the
profile gives none; None for SPI and UART devices), ``params`` the profile's
parameters, which the factory checks with `Params` so a typo or a wrong type
is an error naming the model, the key and what is accepted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from ..buses.i2c_target import I2cTarget
from ..errors import ConfigurationError
from .at24 import AT24_PARTS, At24Eeprom, WriteProtectStyle
from .bcd_calendar import RtcDevice
from .console import console_factory
from .emc2301 import Emc2301
from .gpio_parts import buzzer_factory, ir_receiver_factory, led_factory
from .hat_eeprom import (
    GpioBankMap,
    GpioPin,
    HatImage,
    VendorInfo,
    hat_eeprom_device,
    setgpio_pin,
)
from .lm75b import Lm75b
from .mcp3008 import Mcp3008
from .nmea_gps import nmea_gps_factory
from .params import BUS_KINDS as BUS_KINDS
from .params import BusKind as BusKind
from .params import DeviceEntry as DeviceEntry
from .params import Factory as Factory
from .params import Params as Params
from .pcf8523 import Pcf8523
from .pcf85063a import Pcf85063a
from .sht3x import Sht3x, Timing
from .tpa6130a2 import Tpa6130a2
from .w25q import DEFAULT_PAGE_PROGRAM_NS, DEFAULT_SECTOR_ERASE_NS, W25q


def _need_address(model: str, address: int | None) -> int:
    if address is None:
        raise ConfigurationError(f"device model {model!r} needs an I2C address")
    return address


# -- factories for the I2C models ---------------------------------------------------------


def _eeprom_factory(part: str) -> Factory:
    def make(address: int | None, name: str, params: Mapping[str, object]) -> object:
        p = Params(part, params)
        contents_file = p.get_str("contents_file")
        dev = At24Eeprom(
            _need_address(part, address),
            name,
            part=part,
            write_cycle_ns=p.get_int("write_cycle_ns", 5_000_000),
            write_protect=p.get_bool("write_protect", False),
            wp_style=cast(WriteProtectStyle, p.get_str("wp_style", "nack")),
        )
        p.done()
        if contents_file is not None:
            dev.load(_read_file(part, "contents_file", contents_file))
        return dev

    return make


def _read_file(model: str, key: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"device model {model!r}: {key} {path!r}: {exc}") from exc


def _hat_eeprom(address: int | None, name: str, params: Mapping[str, object]) -> object:
    """A 24C32 with a HAT image: ``image_file`` (an .eep), or the fields to build one."""
    p = Params("hat-eeprom", params)
    image_file = p.get_str("image_file")
    vendor = p.get_str("vendor")
    product = p.get_str("product")
    product_id = p.get_int("product_id", 0)
    product_version = p.get_int("product_version", 0)
    uuid_text = p.get_str("uuid")
    dt_blob = p.get_str("dt_blob")
    custom = p.get_list("custom")
    gpios = p.get_mapping("gpios")
    bank_kw = {
        "drive": p.get_int("gpio_drive", 0),
        "slew": p.get_int("gpio_slew", 0),
        "hysteresis": p.get_int("gpio_hysteresis", 0),
        "back_power": p.get_int("back_power", 0),
    }
    write_protect = p.get_bool("write_protect", True)
    p.done()
    address = _need_address("hat-eeprom", address)
    if image_file is not None:
        if vendor is not None or product is not None:
            raise ConfigurationError(
                "device model 'hat-eeprom': give either image_file or vendor/product, not both"
            )
        raw = _read_file("hat-eeprom", "image_file", image_file)
        return hat_eeprom_device(raw, address=address, name=name, write_protect=write_protect)
    if vendor is None or product is None:
        raise ConfigurationError(
            "device model 'hat-eeprom' needs image_file (an .eep image) or vendor and product "
            "(plus optional product_id, product_version, uuid, dt_blob, custom, gpios, "
            "gpio_drive, gpio_slew, gpio_hysteresis, back_power)"
        )
    if uuid_text is None:
        # deterministic per board and device: the same profile gives the same image
        board_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"pihil:hat-eeprom:{name}:{vendor}:{product}")
    else:
        try:
            board_uuid = uuid.UUID(uuid_text)
        except ValueError:
            raise ConfigurationError(
                f"device model 'hat-eeprom': uuid {uuid_text!r} is not a UUID"
            ) from None
    pins: list[GpioPin] = [GpioPin()] * 28
    for key, spec in gpios.items():
        if not isinstance(key, int) or not 0 <= key <= 27 or not isinstance(spec, str):
            raise ConfigurationError(
                "device model 'hat-eeprom': gpios maps a GPIO number 0..27 to "
                f'"FUNCTION [PULL]" (eepmake setgpio words), got {key!r}: {spec!r}'
            )
        words = spec.split()
        if not 1 <= len(words) <= 2:
            raise ConfigurationError(
                f"device model 'hat-eeprom': gpios[{key}] must be \"FUNCTION [PULL]\", got {spec!r}"
            )
        pins[key] = setgpio_pin(*words)
    custom_atoms: list[bytes] = []
    for item in custom:
        if not isinstance(item, str):
            raise ConfigurationError(
                f"device model 'hat-eeprom': custom atoms are strings, got {item!r}"
            )
        custom_atoms.append(item.encode("utf-8"))
    image = HatImage(
        vendor=VendorInfo(board_uuid, product_id, product_version, vendor, product),
        gpio_bank0=GpioBankMap.bank0(pins, **bank_kw),
        dt_blob=dt_blob.encode("ascii") if dt_blob is not None else None,
        custom=tuple(custom_atoms),
    )
    return hat_eeprom_device(image, address=address, name=name, write_protect=write_protect)


def _rtc_factory(model: str, cls: type[Pcf8523] | type[Pcf85063a]) -> Factory:
    def make(address: int | None, name: str, params: Mapping[str, object]) -> object:
        p = Params(model, params)
        when = p.get_raw("datetime")
        os_flag = p.get_bool("os_flag", True)
        p.done()
        dev: RtcDevice = cls(_need_address(model, address), name)
        if when is not None:
            if isinstance(when, str):
                try:
                    when = dt.datetime.fromisoformat(when)
                except ValueError:
                    raise ConfigurationError(
                        f"device model {model!r}: datetime {when!r} is not ISO 8601 "
                        "(e.g. 2024-05-01T12:00:00)"
                    ) from None
            if not isinstance(when, dt.datetime):
                raise ConfigurationError(
                    f"device model {model!r}: datetime must be an ISO 8601 date-time, got {when!r}"
                )
            dev.set_datetime(when)
        dev.os_flag = os_flag
        return dev

    return make


def _lm75b(address: int | None, name: str, params: Mapping[str, object]) -> object:
    p = Params("lm75b", params)
    dev = Lm75b(
        _need_address("lm75b", address),
        name,
        temperature_c=p.get_float("temperature_c", 25.0),
        conversion_period_ns=p.get_int("conversion_period_ns", 100_000_000),
        conversion_time_ns=p.get_int("conversion_time_ns", 10_000_000),
    )
    p.done()
    return dev


def _tpa6130a2(address: int | None, name: str, params: Mapping[str, object]) -> object:
    Params("tpa6130a2", params).done()
    return Tpa6130a2(_need_address("tpa6130a2", address), name)


def _emc2301(address: int | None, name: str, params: Mapping[str, object]) -> object:
    p = Params("emc2301", params)
    dev = Emc2301(
        _need_address("emc2301", address),
        name,
        max_rpm=p.get_float("max_rpm", 5000.0),
        poles=p.get_int("poles", 2),
        spin_time_constant_ns=p.get_int("spin_time_constant_ns", 0),
    )
    p.done()
    return dev


def _sht3x(address: int | None, name: str, params: Mapping[str, object]) -> object:
    p = Params("sht3x", params)
    timing = p.get_str("timing", "max")
    dev = Sht3x(
        _need_address("sht3x", address),
        name,
        temperature_c=p.get_float("temperature_c", 25.0),
        humidity_rh=p.get_float("humidity_rh", 50.0),
        timing=cast(Timing, timing),
    )
    p.done()
    return dev


# -- factories for the SPI models -----------------------------------------------------------


def _mcp3008(address: int | None, name: str, params: Mapping[str, object]) -> object:
    p = Params("mcp3008", params)
    dev = Mcp3008(name, vref=p.get_float("vref", 3.3), vdd=p.get_float("vdd", 3.3))
    p.done()
    return dev


def _w25q(address: int | None, name: str, params: Mapping[str, object]) -> object:
    p = Params("w25q", params)
    contents_file = p.get_str("contents_file")
    image = None if contents_file is None else _read_file("w25q", "contents_file", contents_file)
    dev = W25q(
        name,
        part=p.get_str("part", "w25q32") or "w25q32",
        page_program_ns=p.get_int("page_program_ns", DEFAULT_PAGE_PROGRAM_NS),
        sector_erase_ns=p.get_int("sector_erase_ns", DEFAULT_SECTOR_ERASE_NS),
        contents=image,
    )
    p.done()
    return dev


DEVICE_MODELS: dict[str, DeviceEntry] = {
    **{
        part: DeviceEntry(
            "i2c",
            _eeprom_factory(part),
            0x50,
            f"{part.upper()} EEPROM, {geo.size} bytes, {geo.page_size}-byte pages",
        )
        for part, geo in AT24_PARTS.items()
    },
    "hat-eeprom": DeviceEntry(
        "i2c", _hat_eeprom, 0x50, "HAT ID EEPROM: a 24C32 holding an R-Pi image (ID_SD/ID_SC)"
    ),
    "pcf8523": DeviceEntry("i2c", _rtc_factory("pcf8523", Pcf8523), 0x68, "NXP PCF8523 RTC"),
    "pcf85063a": DeviceEntry(
        "i2c", _rtc_factory("pcf85063a", Pcf85063a), 0x51, "NXP PCF85063A RTC"
    ),
    "lm75b": DeviceEntry("i2c", _lm75b, 0x48, "NXP LM75B temperature sensor"),
    "tpa6130a2": DeviceEntry("i2c", _tpa6130a2, 0x60, "TI TPA6130A2 headphone amplifier"),
    "emc2301": DeviceEntry("i2c", _emc2301, 0x2F, "Microchip EMC2301 fan controller with a fan"),
    "sht3x": DeviceEntry("i2c", _sht3x, 0x44, "Sensirion SHT3x humidity/temperature sensor"),
    "mcp3008": DeviceEntry("spi", _mcp3008, None, "Microchip MCP3008 8-channel 10-bit ADC"),
    "w25q": DeviceEntry("spi", _w25q, None, "Winbond W25Q SPI NOR flash (default W25Q32)"),
    "nmea-gps": DeviceEntry("uart", nmea_gps_factory, None, "GPS sending NMEA RMC+GGA, 9600 8N1"),
    "console": DeviceEntry("uart", console_factory, None, "serial console that echoes"),
    "led": DeviceEntry("gpio", led_factory, None, "LED on a GPIO (active: high|low)"),
    "buzzer": DeviceEntry("gpio", buzzer_factory, None, "buzzer switched by a GPIO (transistor)"),
    "ir-receiver": DeviceEntry(
        "gpio", ir_receiver_factory, None, "TSOP-style IR receiver firing NEC/RC-5 frames"
    ),
}


def known_models(bus_kind: str | None = None) -> list[str]:
    """Model names, sorted; only those of ``bus_kind`` when given."""
    return sorted(m for m, e in DEVICE_MODELS.items() if bus_kind is None or e.bus_kind == bus_kind)


def device_entry(model: str) -> DeviceEntry:
    """The entry for ``model``; an unknown name is an error listing the known ones."""
    entry = DEVICE_MODELS.get(model)
    if entry is None:
        raise ConfigurationError(
            f"unknown device model {model!r}; known models: {', '.join(known_models())}"
        )
    return entry


def create_device(
    model: str,
    *,
    name: str,
    address: int | None = None,
    params: Mapping[str, object] | None = None,
) -> object:
    """Build a device model as a board profile describes it (I2C address defaults per model)."""
    entry = device_entry(model)
    if entry.bus_kind == "i2c":
        address = entry.default_address if address is None else address
    elif address is not None:
        raise ConfigurationError(
            f"device model {model!r} sits on a {entry.bus_kind} bus and takes no I2C address"
        )
    return entry.factory(address, name, params or {})


def create_i2c_device(
    model: str,
    *,
    name: str,
    address: int | None = None,
    params: Mapping[str, object] | None = None,
) -> I2cTarget:
    """`create_device` for a model that must be an I2C target."""
    entry = device_entry(model)
    if entry.bus_kind != "i2c":
        raise ConfigurationError(
            f"device model {model!r} is a {entry.bus_kind} device, not an I2C one; "
            f"I2C models: {', '.join(known_models('i2c'))}"
        )
    dev = create_device(model, name=name, address=address, params=params)
    if not isinstance(dev, I2cTarget):
        raise TypeError(f"factory of {model!r} returned {type(dev).__name__}, not an I2cTarget")
    return dev
