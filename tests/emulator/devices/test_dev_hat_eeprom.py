"""HAT ID EEPROM image format against soc-facts §6 (raspberrypi/hats eeprom-format.md, eeptypes.h)."""

from __future__ import annotations

import struct
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.devices.hat_eeprom import (
    AtomCrcError,
    AtomType,
    GpioBankMap,
    GpioPin,
    HatEepromError,
    HatImage,
    Pull,
    VendorInfo,
    build_hat_image,
    crc16_arc,
    encode_atom,
    hat_eeprom_device,
    parse_hat_image,
)
from pihil_emulator.world.clock import World

from .dev_protocol_helpers import Master


def eeptypes_getcrc(data: bytes) -> int:
    """A bit-by-bit port of ``getcrc()`` from raspberrypi/hats eepromutils/eeptypes.h (the oracle)."""
    out = 0
    for byte in data:
        for bit in range(8):
            flag = out >> 15
            out = ((out << 1) & 0xFFFF) | ((byte >> bit) & 1)
            if flag:
                out ^= 0x8005
    for _ in range(16):
        flag = out >> 15
        out = (out << 1) & 0xFFFF
        if flag:
            out ^= 0x8005
    crc = 0
    for i in range(16):
        if out & (0x8000 >> i):
            crc |= 1 << i
    return crc


def sample_image(**overrides: object) -> HatImage:
    pins = [GpioPin()] * 4 + [GpioPin(func_sel=1, pull=Pull.UP, used=True)]  # GPIO4 output, pull-up
    fields: dict[str, object] = {
        "vendor": VendorInfo(
            uuid.UUID("6d1e5f2a-3c4b-4a59-8e7f-0123456789ab"), 0x0042, 0x0003, "ACME", "Sensor HAT"
        ),
        "gpio_bank0": GpioBankMap.bank0(pins, drive=4, slew=1, hysteresis=2, back_power=1),
        "dt_blob": b"acme-sensor",
        "custom": (b"\x01\x02\x03", b"serial=0001"),
    }
    fields.update(overrides)
    return HatImage(**fields)  # type: ignore[arg-type]


def test_crc16_is_arc_with_catalogue_check_value() -> None:
    """soc-facts §6: the implemented CRC is CRC-16/ARC; "123456789" gives 0xBB3D."""
    assert crc16_arc(b"123456789") == 0xBB3D
    assert eeptypes_getcrc(b"123456789") == 0xBB3D
    assert crc16_arc(b"") == 0


@settings(deadline=None)
@given(st.binary(min_size=1, max_size=300))
def test_crc16_matches_eeptypes_getcrc(data: bytes) -> None:
    """soc-facts §6: eeptypes.h getcrc (LSB-first, poly 0x8005, 16 zero bits, bit-reversed) == ARC."""
    assert crc16_arc(data) == eeptypes_getcrc(data)


def test_header_layout_little_endian() -> None:
    """soc-facts §6: header = "R-Pi", version 1, reserved 0, numatoms (LE16), eeplen (LE32)."""
    raw = build_hat_image(sample_image())
    assert raw[:4] == b"\x52\x2d\x50\x69"
    assert raw[4] == 1
    assert raw[5] == 0
    numatoms, eeplen = struct.unpack_from("<HI", raw, 6)
    assert numatoms == 5  # vendor, GPIO bank 0, DT, 2 custom
    assert eeplen == len(raw)


def test_atom_layout_and_crc_cover_type_count_dlen_data() -> None:
    """soc-facts §6: atom = type, count, dlen = len(data)+2, data, CRC-16 of type..data."""
    raw = build_hat_image(sample_image())
    atype, count, dlen = struct.unpack_from("<HHI", raw, 12)
    assert (atype, count) == (AtomType.VENDOR_INFO, 0)
    data = raw[20 : 20 + dlen - 2]
    assert dlen == 22 + len("ACME") + len("Sensor HAT") + 2
    (crc,) = struct.unpack_from("<H", raw, 20 + dlen - 2)
    assert crc == eeptypes_getcrc(raw[12 : 20 + dlen - 2])
    # vendor fixed part: UUID as four LE uint32, least significant first; pid, pver, lengths
    assert data[:16] == uuid.UUID("6d1e5f2a-3c4b-4a59-8e7f-0123456789ab").int.to_bytes(16, "little")
    assert struct.unpack_from("<HHBB", data, 16) == (0x42, 3, 4, 10)
    assert data[22:] == b"ACMESensor HAT"


def test_gpio_bank0_encoding() -> None:
    """soc-facts §6: bank_drive [3:0] drive [5:4] slew [7:6] hyst; power [1:0]; pin [2:0] fsel [6:5] pull [7] used."""
    raw = build_hat_image(sample_image())
    img = parse_hat_image(raw)
    gpio = img.atoms[1]
    assert gpio.type == AtomType.GPIO_BANK0
    assert len(gpio.data) == 30
    assert gpio.data[0] == (2 << 6) | (1 << 4) | 4
    assert gpio.data[1] == 1
    assert gpio.data[2 + 4] == 0x80 | (1 << 5) | 1
    assert gpio.data[2 + 5] == 0


def test_round_trip_of_a_full_image_with_bank1() -> None:
    """soc-facts §6: GPIO bank 1 map (GPIO28-45) is optional and must be the last atom."""
    bank1 = GpioBankMap.bank1([GpioPin(4, Pull.NONE, True)] * 18, drive=8)
    image = sample_image(gpio_bank1=bank1)
    raw = build_hat_image(image)
    parsed = parse_hat_image(raw)
    assert parsed == image
    assert [a.type for a in parsed.atoms] == [1, 2, 3, 4, 4, 5]
    assert [a.count for a in parsed.atoms] == [0, 1, 2, 3, 4, 5]
    assert parsed.compliant


def test_image_without_dt_parses_but_is_not_compliant() -> None:
    """soc-facts §6: the DT atom is "Required for compliance with the HAT specification"."""
    parsed = parse_hat_image(build_hat_image(sample_image(dt_blob=None, custom=())))
    assert parsed.dt_blob is None
    assert not parsed.compliant


def test_parser_ignores_erased_bytes_after_eeplen() -> None:
    """A whole 4 KiB dump parses: eeplen says where the data ends."""
    raw = build_hat_image(sample_image())
    assert parse_hat_image(raw + b"\xff" * (4096 - len(raw))) == sample_image()


def test_corrupt_crc_names_atom_and_both_crcs() -> None:
    """soc-facts §6: each atom ends with its CRC-16; a mismatch names the atom, computed and stored CRC."""
    raw = bytearray(build_hat_image(sample_image()))
    # flip one bit in the DT blob's data (atom 2)
    img = parse_hat_image(bytes(raw))
    offset = 12 + sum(8 + len(a.data) + 2 for a in img.atoms[:2]) + 8
    raw[offset] ^= 0x04
    with pytest.raises(AtomCrcError) as err:
        parse_hat_image(bytes(raw))
    e = err.value
    assert e.index == 2
    assert e.atom_type == AtomType.DT_BLOB
    assert e.actual == img.atoms[2].crc
    assert e.expected == crc16_arc(raw[offset - 8 : offset + len(img.atoms[2].data)])
    assert f"0x{e.expected:04x}" in str(e)
    assert f"0x{e.actual:04x}" in str(e)
    assert "dt blob" in str(e)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.__setitem__(slice(0, 4), b"R-PI"), "signature"),
        (lambda r: r.__setitem__(4, 2), "format version"),
        (lambda r: r.__setitem__(5, 1), "reserved byte"),
        (lambda r: r.__setitem__(slice(8, 12), struct.pack("<I", 10_000)), "eeplen"),
        (lambda r: r.__setitem__(slice(6, 8), struct.pack("<H", 9)), "eeplen"),
    ],
)
def test_header_errors_are_clear(mutate: object, message: str) -> None:
    raw = bytearray(build_hat_image(sample_image()))
    mutate(raw)  # type: ignore[operator]
    with pytest.raises(HatEepromError, match=message):
        parse_hat_image(bytes(raw))


def test_structure_errors_are_clear() -> None:
    """soc-facts §6: vendor atom first, GPIO map second, bank 1 last; counts increment."""
    vendor = sample_image().vendor.encode()
    gpio = GpioBankMap.bank0().encode(0)

    def image(*atoms: tuple[int, int, bytes]) -> bytes:
        body = b"".join(encode_atom(t, c, d) for t, c, d in atoms)
        return b"R-Pi" + struct.pack("<BBHI", 1, 0, len(atoms), 12 + len(body)) + body

    with pytest.raises(HatEepromError, match="atom 0 must be vendor info"):
        parse_hat_image(image((2, 0, gpio), (1, 1, vendor)))
    with pytest.raises(HatEepromError, match="count must be 1"):
        parse_hat_image(image((1, 0, vendor), (2, 7, gpio)))
    bank1 = GpioBankMap.bank1().encode(1)
    with pytest.raises(HatEepromError, match="must be the last atom"):
        parse_hat_image(image((1, 0, vendor), (2, 1, gpio), (5, 2, bank1), (4, 3, b"x")))
    with pytest.raises(HatEepromError, match="reserved"):
        parse_hat_image(image((1, 0, vendor), (2, 1, gpio), (0x0006, 2, b"")))
    with pytest.raises(HatEepromError, match="vslen"):
        parse_hat_image(image((1, 0, vendor + b"!"), (2, 1, gpio)))
    bad_gpio = bytes([0x09, 0]) + bytes(28)  # drive 9 is reserved
    with pytest.raises(HatEepromError, match="reserved values"):
        parse_hat_image(image((1, 0, vendor), (2, 1, bad_gpio)))


def test_builder_rejects_bad_fields() -> None:
    with pytest.raises(HatEepromError, match="ASCII"):
        VendorInfo(uuid.uuid4(), 1, 1, "Äcme", "x")
    with pytest.raises(HatEepromError, match="255"):
        VendorInfo(uuid.uuid4(), 1, 1, "a" * 256, "x")
    with pytest.raises(HatEepromError, match="16-bit"):
        VendorInfo(uuid.uuid4(), 0x10000, 1, "a", "x")
    with pytest.raises(HatEepromError, match="drive"):
        GpioBankMap.bank0(drive=9)
    with pytest.raises(HatEepromError, match="28 pins"):
        GpioBankMap.bank0([GpioPin()] * 29)
    with pytest.raises(HatEepromError, match="back_power"):
        GpioBankMap.bank1(back_power=1)
    with pytest.raises(HatEepromError, match="func_sel"):
        GpioPin(func_sel=8)


def test_hat_eeprom_device_serves_the_image_over_i2c() -> None:
    """soc-facts §6/§8.7: a 24C32 at 0x50 holds the image; a random read from 0 returns it."""
    world = World()
    image = sample_image()
    dev = hat_eeprom_device(image)
    dev.bind(world)
    assert dev.address == 0x50
    assert dev.write_protect  # WP pulled up on a HAT
    raw = build_hat_image(image)
    read = Master(world).write_read(dev, b"\x00\x00", len(raw))
    assert parse_hat_image(read) == image
    assert dev.contents[len(raw) :] == b"\xff" * (4096 - len(raw))


# -- Hypothesis: round trip and single-bit corruption -----------------------------------

ascii_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
pins = st.builds(GpioPin, st.integers(0, 7), st.sampled_from(list(Pull)), st.booleans())
bank_kw = {"drive": st.integers(0, 8), "slew": st.integers(0, 2), "hysteresis": st.integers(0, 2)}
images = st.builds(
    HatImage,
    vendor=st.builds(
        VendorInfo,
        st.uuids(),
        st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFF),
        ascii_text,
        ascii_text,
    ),
    gpio_bank0=st.builds(
        GpioBankMap.bank0,
        st.lists(pins, max_size=28),
        back_power=st.integers(0, 2),
        **bank_kw,
    ),
    dt_blob=st.none() | st.binary(max_size=64),
    custom=st.lists(st.binary(max_size=32), max_size=3).map(tuple),
    gpio_bank1=st.none() | st.builds(GpioBankMap.bank1, st.lists(pins, max_size=18), **bank_kw),
)


@settings(deadline=None)
@given(images)
def test_build_parse_round_trip(image: HatImage) -> None:
    """soc-facts §6: build → parse gives the same content; eeplen and CRCs consistent."""
    raw = build_hat_image(image)
    parsed = parse_hat_image(raw)
    assert parsed == image
    assert build_hat_image(parsed) == raw


@settings(deadline=None)
@given(images, st.data())
def test_any_single_bit_flip_in_an_atom_is_detected(image: HatImage, data: st.DataObject) -> None:
    """soc-facts §6: CRC-16 per atom detects every single-bit error in type, count, dlen, data, CRC."""
    raw = bytearray(build_hat_image(image))
    bit = data.draw(st.integers(12 * 8, len(raw) * 8 - 1), label="bit")
    raw[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(HatEepromError):
        parse_hat_image(bytes(raw))
