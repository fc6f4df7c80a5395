"""The shared HAT EEPROM format (devices/hat_format.py) against an image written from the spec.

The builder, the emulator's parser and the bench reader all use `hat_format`, so checking
them against each other would check the shared code only against itself. Here the image is
written byte by byte from raspberrypi/hats eeprom-format.md (soc-facts §6), the UUID as
eepromutils/eepmake.c ``product_uuid`` lays it out, and the CRCs are literals that the bitwise
port of eepromutils/eeptypes.h ``getcrc()`` in devices/test_dev_hat_eeprom.py (not the table
the module uses) reproduces.
"""

from __future__ import annotations

import uuid

import pytest

from pihil_emulator.devices import hat_format
from pihil_emulator.devices.hat_eeprom import (
    AtomCrcError,
    GpioBankMap,
    GpioPin,
    HatImage,
    Pull,
    VendorInfo,
    build_hat_image,
)
from pihil_emulator.devices.hat_eeprom import parse_hat_image as emulator_parse
from pytest_pihil.hat_eeprom import parse_hat_image as bench_parse

from .devices.test_dev_hat_eeprom import eeptypes_getcrc

UUID = uuid.UUID("12345678-9abc-4def-8123-456789abcdef")

# eeprom-format.md: header, vendor info atom (count 0), GPIO bank 0 map atom (count 1)
HEADER = bytes.fromhex(
    "52 2d 50 69"  # signature "R-Pi"
    "01"  # version 1
    "00"  # reserved
    "02 00"  # numatoms 2
    "5c 00 00 00"  # eeplen 92 = 12 + 40 + 40
)
VENDOR_BODY = (
    bytes.fromhex(
        "01 00"  # type 0x0001 vendor info
        "00 00"  # count 0
        "20 00 00 00"  # dlen 32 = 30 data + 2 CRC
        # eepmake.c product_uuid: serial[3] = 12345678, serial[2] = 9abc4def,
        # serial[1] = 81234567, serial[0] = 89abcdef; stored serial[0] first, each uint32 LE
        "ef cd ab 89  67 45 23 81  ef 4d bc 9a  78 56 34 12"
        "42 00"  # product id 0x0042
        "03 00"  # product version 3
        "05 03"  # vslen 5, pslen 3
    )
    + b"PihilHAT"
)
GPIO_BODY = (
    bytes.fromhex(
        "02 00"  # type 0x0002 GPIO bank 0 map
        "01 00"  # count 1
        "20 00 00 00"  # dlen 32 = 30 data + 2 CRC
        "94"  # bank_drive: hysteresis 2 (enabled) << 6 | slew 1 (limiting) << 4 | drive 4 (8 mA)
        "01"  # power: back_power 1 (up to 1.3 A)
        "00 00 00 00"  # GPIO0..3 unused
        "a1"  # GPIO4: is_used << 7 | pulltype 1 (up) << 5 | func_sel 1 (output)
    )
    + bytes(23)  # GPIO5..27 unused
)
VENDOR_CRC = 0xC857
GPIO_CRC = 0x7F75
IMAGE = (
    HEADER
    + VENDOR_BODY
    + VENDOR_CRC.to_bytes(2, "little")
    + GPIO_BODY
    + GPIO_CRC.to_bytes(2, "little")
)


def test_crc_is_eeptypes_getcrc_and_crc16_arc() -> None:
    """soc-facts §6: getcrc() is CRC-16/ARC; check value 0xBB3D on "123456789"."""
    assert eeptypes_getcrc(b"123456789") == 0xBB3D == hat_format.crc16_arc(b"123456789")
    assert eeptypes_getcrc(VENDOR_BODY) == VENDOR_CRC == hat_format.crc16_arc(VENDOR_BODY)
    assert eeptypes_getcrc(GPIO_BODY) == GPIO_CRC == hat_format.crc16_arc(GPIO_BODY)
    assert hat_format.crc16_arc(bytes([0x80, 0xFF, 0x01])) == eeptypes_getcrc(b"\x80\xff\x01")


def test_sizes_match_eeptypes_h() -> None:
    """eeptypes.h: HEADER_SIZE 12, VENDOR_SIZE 22, CRC_SIZE 2, ATOM_SIZE 10 (= 8 + CRC)."""
    assert hat_format.HEADER_SIZE == 12
    assert hat_format.VENDOR_FIXED_SIZE == 22
    assert hat_format.CRC_SIZE == 2
    assert hat_format.ATOM_HEADER_SIZE + hat_format.CRC_SIZE == 10
    assert hat_format.pack_header(2, 92) == HEADER


def test_framing_reads_the_hand_written_image() -> None:
    """eeprom-format.md: header fields and atoms (type, count, dlen, data, crc16) little-endian."""
    header = hat_format.read_header(IMAGE + b"\xff" * 16)  # a dump longer than eeplen
    assert (header.version, header.reserved, header.numatoms, header.eeplen) == (1, 0, 2, 92)
    vendor, gpio = hat_format.read_atoms(IMAGE, header)
    assert (vendor.type, vendor.count, vendor.crc, vendor.crc_ok) == (1, 0, VENDOR_CRC, True)
    assert vendor.data == VENDOR_BODY[8:]
    assert (gpio.type, gpio.count, gpio.crc, gpio.offset, gpio.end) == (2, 1, GPIO_CRC, 52, 92)
    assert gpio.data == GPIO_BODY[8:]


def test_builder_writes_the_hand_written_image_byte_for_byte() -> None:
    """The emulator's builder gives exactly the spec image for the same content."""
    pins = [GpioPin()] * 4 + [GpioPin(func_sel=1, pull=Pull.UP, used=True)]
    image = HatImage(
        vendor=VendorInfo(UUID, 0x0042, 3, "Pihil", "HAT"),
        gpio_bank0=GpioBankMap.bank0(pins, drive=4, slew=1, hysteresis=2, back_power=1),
    )
    assert build_hat_image(image) == IMAGE


def test_emulator_parser_reads_the_hand_written_image() -> None:
    """eepmake.c's UUID layout, the vendor strings and the GPIO map fields decode as written."""
    parsed = emulator_parse(IMAGE)
    assert parsed.vendor == VendorInfo(UUID, 0x0042, 3, "Pihil", "HAT")
    bank = parsed.gpio_bank0
    assert (bank.drive, bank.slew, bank.hysteresis, bank.back_power) == (4, 1, 2, 1)
    assert bank.pins[4] == GpioPin(func_sel=1, pull=Pull.UP, used=True)
    assert not any(p.used for i, p in enumerate(bank.pins) if i != 4)
    assert not parsed.compliant  # no DT atom


def test_bench_reader_reads_the_hand_written_image() -> None:
    """The reader sees the same atoms, CRCs and vendor fields."""
    parsed = bench_parse(IMAGE + b"\xff" * 16)
    assert (parsed.version, parsed.numatoms, parsed.eeplen) == (1, 2, 92)
    assert [(a.type_name, a.count, a.crc, a.crc_ok) for a in parsed.atoms] == [
        ("vendor", 0, VENDOR_CRC, True),
        ("gpio_map_bank0", 1, GPIO_CRC, True),
    ]
    vendor = parsed.vendor()
    assert (vendor.product_id, vendor.product_version) == (0x0042, 3)
    assert (vendor.vendor, vendor.product) == ("Pihil", "HAT")


def test_a_flipped_data_byte_fails_the_crc_in_both_parsers() -> None:
    """eeprom-format.md: the CRC covers type, count, dlen and data."""
    bad = bytearray(IMAGE)
    bad[12 + 8 + 16] ^= 0x01  # the product id's low byte
    with pytest.raises(AtomCrcError) as info:
        emulator_parse(bytes(bad))
    assert (info.value.index, info.value.actual) == (0, VENDOR_CRC)
    assert info.value.expected == eeptypes_getcrc(bytes(bad[12:50]))
    assert [a.crc_ok for a in bench_parse(bytes(bad)).atoms] == [False, True]
