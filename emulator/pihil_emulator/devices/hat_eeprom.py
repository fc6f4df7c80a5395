"""The HAT ID EEPROM image (raspberrypi/hats eeprom-format.md) as data, its builder and parser.

soc-facts §6. The wire format (header, atom framing, CRC-16/ARC, the constants) lives in
`devices.hat_format`, shared with the bench reader; this module gives the atoms their
meaning: the vendor info, the GPIO bank maps and the atom order (vendor info, GPIO bank 0
map, DT blob, custom data..., GPIO bank 1 map last), and checks it when parsing.
`hat_eeprom_device` puts an image into a 24C32 at 0x50 (ID_SD/ID_SC).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from .at24 import At24Eeprom
from .hat_format import (
    FORMAT_VERSION,
    HEADER_SIZE,
    VENDOR_FIXED_SIZE,
    AtomType,
    HatEepromError,
    crc16_arc,
    encode_atom,
    pack_header,
    pack_vendor_fixed,
    read_atoms,
    read_header,
    unpack_vendor_fixed,
    uuid_from_bytes,
    uuid_to_bytes,
)

__all__ = [
    "FORMAT_VERSION",
    "GPIO_BANK0_COUNT",
    "GPIO_BANK0_SIZE",
    "GPIO_BANK1_COUNT",
    "GPIO_BANK1_SIZE",
    "HAT_EEPROM_ADDRESS",
    "HEADER_SIZE",
    "SETGPIO_FUNCTIONS",
    "VENDOR_FIXED_SIZE",
    "Atom",
    "AtomCrcError",
    "AtomType",
    "GpioBankMap",
    "GpioPin",
    "HatEepromError",
    "HatImage",
    "Pull",
    "VendorInfo",
    "build_hat_image",
    "crc16_arc",
    "encode_atom",
    "hat_eeprom_device",
    "parse_hat_image",
    "setgpio_pin",
]

GPIO_BANK0_COUNT = 28  # GPIO0..27
GPIO_BANK1_COUNT = 18  # GPIO28..45
GPIO_BANK0_SIZE = 2 + GPIO_BANK0_COUNT
GPIO_BANK1_SIZE = 2 + GPIO_BANK1_COUNT
HAT_EEPROM_ADDRESS = 0x50


class AtomCrcError(HatEepromError):
    """An atom's stored CRC does not match its contents."""

    def __init__(self, index: int, atom_type: int, expected: int, actual: int) -> None:
        self.index = index
        self.atom_type = atom_type
        self.expected = expected
        self.actual = actual
        super().__init__(index, atom_type, expected, actual)  # rebuildable, as SimPy does

    def __str__(self) -> str:
        return (
            f"atom {self.index} ({_type_name(self.atom_type)}): CRC-16 mismatch: computed "
            f"0x{self.expected:04x} from its type, count, dlen and data, but the image stores "
            f"0x{self.actual:04x}"
        )


# -- the parsed/buildable image as data ----------------------------------------------


class Pull(enum.IntEnum):
    """GPIO map pulltype (bits [6:5] of a pin byte)."""

    DEFAULT = 0
    UP = 1
    DOWN = 2
    NONE = 3


@dataclass(frozen=True)
class GpioPin:
    """One pin byte: FSEL function (0..7, as the GPFSEL field), pull, whether the board uses it."""

    func_sel: int = 0
    pull: Pull = Pull.DEFAULT
    used: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.func_sel <= 7:
            raise HatEepromError(f"GPIO func_sel is a 3-bit FSEL value 0..7, got {self.func_sel}")

    def encode(self) -> int:
        return (self.used << 7) | (int(self.pull) << 5) | self.func_sel

    @classmethod
    def decode(cls, value: int, where: str) -> GpioPin:
        if value & 0x18:
            raise HatEepromError(f"{where}: reserved bits [4:3] must be 0, got 0x{value:02x}")
        return cls(func_sel=value & 0x07, pull=Pull((value >> 5) & 0x03), used=bool(value & 0x80))


#: eepmake's ``setgpio`` function names → FSEL values (eepromutils/eepmake.c)
SETGPIO_FUNCTIONS = {
    "INPUT": 0,
    "OUTPUT": 1,
    "ALT0": 4,
    "ALT1": 5,
    "ALT2": 6,
    "ALT3": 7,
    "ALT4": 3,
    "ALT5": 2,
}


def setgpio_pin(function: str, pull: str = "DEFAULT") -> GpioPin:
    """A used pin from eepmake's ``setgpio <n> <FUNCTION> <PULL>`` words (e.g. "OUTPUT", "UP")."""
    func = SETGPIO_FUNCTIONS.get(function.upper())
    if func is None:
        raise HatEepromError(
            f"setgpio function {function!r} unknown; use one of {', '.join(SETGPIO_FUNCTIONS)}"
        )
    try:
        pull_value = Pull[pull.upper()]
    except KeyError:
        raise HatEepromError(
            f"setgpio pull {pull!r} unknown; use one of {', '.join(p.name for p in Pull)}"
        ) from None
    return GpioPin(func_sel=func, pull=pull_value, used=True)


@dataclass(frozen=True)
class GpioBankMap:
    """A GPIO map atom: bank drive/slew/hysteresis, back-power (bank 0 only), one byte per pin.

    drive: 0 = default, 1..8 = drive*2 mA; slew: 0 default, 1 limiting, 2 no limiting;
    hysteresis: 0 default, 1 disabled, 2 enabled; back_power: 0 no, 1 up to 1.3 A, 2 up to 2 A.
    """

    pins: tuple[GpioPin, ...]
    drive: int = 0
    slew: int = 0
    hysteresis: int = 0
    back_power: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.drive <= 8:
            raise HatEepromError(f"bank drive is 0 (default) or 1..8 (x2 mA), got {self.drive}")
        if not 0 <= self.slew <= 2:
            raise HatEepromError(f"slew is 0 default, 1 limiting or 2 no limiting, got {self.slew}")
        if not 0 <= self.hysteresis <= 2:
            raise HatEepromError(
                f"hysteresis is 0 default, 1 disabled or 2 enabled, got {self.hysteresis}"
            )
        if not 0 <= self.back_power <= 2:
            raise HatEepromError(
                f"back_power is 0 (none), 1 (1.3 A) or 2 (2 A), got {self.back_power}"
            )

    @classmethod
    def bank0(cls, pins: Sequence[GpioPin] = (), **kw: int) -> GpioBankMap:
        """A bank 0 map (GPIO0..27); missing pins are unused."""
        return cls(pins=_pad(pins, GPIO_BANK0_COUNT, "bank 0"), **kw)

    @classmethod
    def bank1(cls, pins: Sequence[GpioPin] = (), **kw: int) -> GpioBankMap:
        """A bank 1 map (GPIO28..45); missing pins are unused."""
        if kw.get("back_power", 0):
            raise HatEepromError(
                "the GPIO bank 1 map has no back_power field (its byte is reserved)"
            )
        return cls(pins=_pad(pins, GPIO_BANK1_COUNT, "bank 1"), **kw)

    def _bank_drive(self) -> int:
        return (self.hysteresis << 6) | (self.slew << 4) | self.drive

    def encode(self, bank: int) -> bytes:
        count = GPIO_BANK0_COUNT if bank == 0 else GPIO_BANK1_COUNT
        if len(self.pins) != count:
            raise HatEepromError(f"a GPIO bank {bank} map has {count} pins, got {len(self.pins)}")
        if bank == 1 and self.back_power:
            raise HatEepromError(
                "the GPIO bank 1 map has no back_power field (its byte is reserved)"
            )
        second = self.back_power if bank == 0 else 0
        return bytes([self._bank_drive(), second]) + bytes(p.encode() for p in self.pins)

    @classmethod
    def decode(cls, data: bytes, bank: int, where: str) -> GpioBankMap:
        size = GPIO_BANK0_SIZE if bank == 0 else GPIO_BANK1_SIZE
        if len(data) != size:
            raise HatEepromError(
                f"{where}: GPIO bank {bank} map data is {size} bytes, got {len(data)}"
            )
        bank_drive, second = data[0], data[1]
        drive, slew, hyst = bank_drive & 0x0F, (bank_drive >> 4) & 3, bank_drive >> 6
        if drive > 8 or slew == 3 or hyst == 3:
            raise HatEepromError(
                f"{where}: bank_drive 0x{bank_drive:02x} uses reserved values "
                f"(drive {drive} > 8, slew 3 or hysteresis 3)"
            )
        if bank == 0 and (second & 0xFC or (second & 0x03) == 3):
            raise HatEepromError(
                f"{where}: power byte 0x{second:02x}: back_power 3 and bits [7:2] are reserved"
            )
        if bank == 1 and second:
            raise HatEepromError(f"{where}: the reserved byte must be 0, got 0x{second:02x}")
        pins = tuple(
            GpioPin.decode(b, f"{where} GPIO{i + (0 if bank == 0 else GPIO_BANK0_COUNT)}")
            for i, b in enumerate(data[2:])
        )
        return cls(pins=pins, drive=drive, slew=slew, hysteresis=hyst, back_power=second & 3)


@dataclass(frozen=True)
class VendorInfo:
    """The vendor info atom: RFC 4122 UUID, product id/version, vendor and product strings."""

    uuid: uuid.UUID
    product_id: int
    product_version: int
    vendor: str
    product: str

    def __post_init__(self) -> None:
        for label, value in (
            ("product_id", self.product_id),
            ("product_version", self.product_version),
        ):
            if not 0 <= value <= 0xFFFF:
                raise HatEepromError(f"{label} is a 16-bit field (0..0xffff), got {value}")
        for label, text in (("vendor", self.vendor), ("product", self.product)):
            if not text.isascii():
                raise HatEepromError(f"{label} string must be ASCII, got {text!r}")
            if len(text) > 255:
                raise HatEepromError(
                    f"{label} string has a 1-byte length: at most 255 characters, got {len(text)}"
                )

    def encode(self) -> bytes:
        v, p = self.vendor.encode("ascii"), self.product.encode("ascii")
        fixed = pack_vendor_fixed(
            uuid_to_bytes(self.uuid), self.product_id, self.product_version, len(v), len(p)
        )
        return fixed + v + p

    @classmethod
    def decode(cls, data: bytes, where: str) -> VendorInfo:
        if len(data) < VENDOR_FIXED_SIZE:
            raise HatEepromError(
                f"{where}: vendor info needs at least {VENDOR_FIXED_SIZE} bytes, got {len(data)}"
            )
        raw_uuid, pid, pver, vslen, pslen = unpack_vendor_fixed(data)
        uid = uuid_from_bytes(raw_uuid)
        if VENDOR_FIXED_SIZE + vslen + pslen != len(data):
            raise HatEepromError(
                f"{where}: vslen {vslen} + pslen {pslen} + {VENDOR_FIXED_SIZE} fixed bytes "
                f"!= data length {len(data)}"
            )
        raw_v = data[VENDOR_FIXED_SIZE : VENDOR_FIXED_SIZE + vslen]
        raw_p = data[VENDOR_FIXED_SIZE + vslen :]
        try:
            vendor, product = raw_v.decode("ascii"), raw_p.decode("ascii")
        except UnicodeDecodeError as exc:
            raise HatEepromError(f"{where}: vendor/product strings must be ASCII: {exc}") from None
        return cls(uid, pid, pver, vendor, product)


@dataclass(frozen=True)
class Atom:
    """One atom as stored: type, count, data and its CRC."""

    type: int
    count: int
    data: bytes
    crc: int


@dataclass(frozen=True)
class HatImage:
    """The content of a HAT EEPROM. ``build_hat_image`` encodes it, ``parse_hat_image`` decodes it."""

    vendor: VendorInfo
    gpio_bank0: GpioBankMap
    dt_blob: bytes | None = None
    custom: tuple[bytes, ...] = ()
    gpio_bank1: GpioBankMap | None = None
    version: int = FORMAT_VERSION
    #: the atoms as stored (filled by the parser; ignored by the builder)
    atoms: tuple[Atom, ...] = field(default=(), compare=False)

    @property
    def compliant(self) -> bool:
        """The HAT specification requires the DT atom (eeprom-format.md)."""
        return self.dt_blob is not None


# -- build --------------------------------------------------------------------------


def _pad(pins: Sequence[GpioPin], count: int, bank: str) -> tuple[GpioPin, ...]:
    if len(pins) > count:
        raise HatEepromError(f"GPIO {bank} has {count} pins, got {len(pins)}")
    return tuple(pins) + (GpioPin(),) * (count - len(pins))


def build_hat_image(image: HatImage) -> bytes:
    """Encode ``image`` as eepmake does: header, then atoms counted from 0 in spec order."""
    if image.version != FORMAT_VERSION:
        raise HatEepromError(
            f"only format version {FORMAT_VERSION} exists (0 is reserved), got {image.version}"
        )
    payloads: list[tuple[int, bytes]] = [
        (AtomType.VENDOR_INFO, image.vendor.encode()),
        (AtomType.GPIO_BANK0, image.gpio_bank0.encode(0)),
    ]
    if image.dt_blob is not None:
        payloads.append((AtomType.DT_BLOB, image.dt_blob))
    payloads.extend((AtomType.CUSTOM, bytes(c)) for c in image.custom)
    if image.gpio_bank1 is not None:
        payloads.append((AtomType.GPIO_BANK1, image.gpio_bank1.encode(1)))
    atoms = b"".join(encode_atom(t, i, d) for i, (t, d) in enumerate(payloads))
    eeplen = HEADER_SIZE + len(atoms)
    return pack_header(len(payloads), eeplen) + atoms


# -- parse --------------------------------------------------------------------------


def _type_name(atom_type: int) -> str:
    try:
        return AtomType(atom_type).name.lower().replace("_", " ")
    except ValueError:
        return f"type 0x{atom_type:04x}"


def parse_hat_image(data: bytes) -> HatImage:
    """Decode and validate a HAT EEPROM image (or a whole EEPROM dump: bytes after eeplen are ignored).

    Raises `HatEepromError` naming the field, and `AtomCrcError` naming the atom
    with the computed and stored CRC.
    """
    data = bytes(data)
    header = read_header(data)
    if header.version != FORMAT_VERSION:
        raise HatEepromError(f"format version must be {FORMAT_VERSION}, got {header.version}")
    if header.reserved != 0:
        raise HatEepromError(f"header reserved byte must be 0, got 0x{header.reserved:02x}")
    atoms: list[Atom] = []
    pos = HEADER_SIZE
    for index, raw in enumerate(read_atoms(data, header)):
        if not raw.crc_ok:
            raise AtomCrcError(index, raw.type, raw.computed_crc, raw.crc)
        if raw.count != index:
            where = f"atom {index} ({_type_name(raw.type)}) at offset {raw.offset}"
            raise HatEepromError(
                f"{where}: atom count must be {index} (incrementing), got {raw.count}"
            )
        atoms.append(Atom(raw.type, raw.count, raw.data, raw.crc))
        pos = raw.end
    if pos != header.eeplen:
        raise HatEepromError(
            f"{header.numatoms} atoms end at offset {pos} but header eeplen is {header.eeplen}"
        )
    version = header.version
    return _interpret(atoms, version)


def _interpret(atoms: list[Atom], version: int) -> HatImage:
    def where(i: int) -> str:
        return f"atom {i} ({_type_name(atoms[i].type)})"

    if len(atoms) < 2:
        raise HatEepromError(
            f"a HAT image needs the vendor info and GPIO bank 0 atoms, found {len(atoms)} atom(s)"
        )
    if atoms[0].type != AtomType.VENDOR_INFO:
        raise HatEepromError(f"atom 0 must be vendor info, got {_type_name(atoms[0].type)}")
    if atoms[1].type != AtomType.GPIO_BANK0:
        raise HatEepromError(f"atom 1 must be the GPIO bank 0 map, got {_type_name(atoms[1].type)}")
    vendor = VendorInfo.decode(atoms[0].data, where(0))
    bank0 = GpioBankMap.decode(atoms[1].data, 0, where(1))
    dt_blob: bytes | None = None
    custom: list[bytes] = []
    bank1: GpioBankMap | None = None
    for i in range(2, len(atoms)):
        t = atoms[i].type
        if bank1 is not None:
            raise HatEepromError(f"{where(i)}: the GPIO bank 1 map must be the last atom")
        if t == AtomType.DT_BLOB:
            if dt_blob is not None or custom:
                raise HatEepromError(f"{where(i)}: one DT atom, placed right after the GPIO map")
            dt_blob = atoms[i].data
        elif t == AtomType.CUSTOM:
            custom.append(atoms[i].data)
        elif t == AtomType.GPIO_BANK1:
            bank1 = GpioBankMap.decode(atoms[i].data, 1, where(i))
        else:
            raise HatEepromError(
                f"{where(i)}: type 0x{t:04x} is invalid or reserved here "
                f"(valid after the GPIO map: 0x0003 DT, 0x0004 custom, 0x0005 GPIO bank 1)"
            )
    return HatImage(
        vendor=vendor,
        gpio_bank0=bank0,
        dt_blob=dt_blob,
        custom=tuple(custom),
        gpio_bank1=bank1,
        version=version,
        atoms=tuple(atoms),
    )


# -- the device -----------------------------------------------------------------------


def hat_eeprom_device(
    image: HatImage | bytes,
    *,
    address: int = HAT_EEPROM_ADDRESS,
    name: str | None = "hat_eeprom",
    part: str = "24c32",
    write_protect: bool = True,
) -> At24Eeprom:
    """A 24C32 preloaded with a HAT image (soc-facts §6: on ID_SD/ID_SC at 0x50, WP pulled up).

    ``image`` is a `HatImage` (encoded here) or raw bytes (stored as given, so a
    test can present a corrupt EEPROM). The rest of the array reads 0xFF (erased).
    """
    raw = build_hat_image(image) if isinstance(image, HatImage) else bytes(image)
    return At24Eeprom(address, name, part=part, contents=raw, write_protect=write_protect)
