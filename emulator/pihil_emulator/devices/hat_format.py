"""The HAT ID EEPROM wire format: constants, CRC-16/ARC, header and atom framing (soc-facts §6).

The one place the layout of raspberrypi/hats eeprom-format.md and eepromutils/eeptypes.h is
written down; the emulator's image builder and device (`devices.hat_eeprom`) and the bench
reader (`pytest_pihil.hat_eeprom`) both use it. Layout, all multi-byte fields little-endian:
a 12-byte header (``R-Pi``, version u8, reserved u8, numatoms u16, eeplen u32), then atoms of
type u16, count u16, dlen u32 (= len(data) + 2), data, and a CRC-16 of type..data. The CRC
is CRC-16/ARC (what eeptypes.h's ``getcrc`` computes, despite an older spec text saying CCITT).
This module frames and checks; what an atom's data means is the callers' business.
"""

from __future__ import annotations

import enum
import struct
import uuid
from dataclasses import dataclass
from typing import Final

from ..errors import EmulatorError

SIGNATURE: Final = b"R-Pi"
FORMAT_VERSION: Final = 0x01
HEADER_FORMAT: Final = "<4sBBHI"  # signature, version, reserved, numatoms, eeplen
ATOM_HEADER_FORMAT: Final = "<HHI"  # type, count, dlen
CRC_FORMAT: Final = "<H"
VENDOR_FIXED_FORMAT: Final = "<16sHHBB"  # uuid, product id, product version, vslen, pslen
HEADER_SIZE: Final = struct.calcsize(HEADER_FORMAT)  # 12 (eeptypes.h HEADER_SIZE)
ATOM_HEADER_SIZE: Final = struct.calcsize(ATOM_HEADER_FORMAT)  # 8
CRC_SIZE: Final = struct.calcsize(CRC_FORMAT)  # 2 (eeptypes.h CRC_SIZE)
VENDOR_FIXED_SIZE: Final = struct.calcsize(VENDOR_FIXED_FORMAT)  # 22 (eeptypes.h VENDOR_SIZE)


class AtomType(enum.IntEnum):
    """Atom types (eeprom-format.md "Atom Types")."""

    VENDOR_INFO = 0x0001
    GPIO_BANK0 = 0x0002
    DT_BLOB = 0x0003
    CUSTOM = 0x0004
    GPIO_BANK1 = 0x0005


class HatEepromError(EmulatorError, ValueError):
    """A HAT EEPROM image (or the data to build one) breaks the format."""


# -- CRC-16/ARC -----------------------------------------------------------------
# Hand-written (a dozen lines) rather than a dependency: the standard library has no
# CRC-16/ARC (binascii.crc_hqx is CCITT/XMODEM) and crcmod is unmaintained.


def _make_arc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1  # 0xA001 = reflected 0x8005
        table.append(crc)
    return tuple(table)


_ARC_TABLE: Final = _make_arc_table()


def crc16_arc(data: bytes | bytearray) -> int:
    """CRC-16/ARC: poly 0x8005 reflected, init 0, no final XOR ("123456789" → 0xBB3D)."""
    crc = 0
    for b in data:
        crc = (crc >> 8) ^ _ARC_TABLE[(crc ^ b) & 0xFF]
    return crc


# -- pack -------------------------------------------------------------------------


def pack_header(numatoms: int, eeplen: int, version: int = FORMAT_VERSION) -> bytes:
    """The 12-byte header: signature, version, reserved 0, numatoms, eeplen."""
    return struct.pack(HEADER_FORMAT, SIGNATURE, version, 0, numatoms, eeplen)


def encode_atom(atom_type: int, count: int, data: bytes) -> bytes:
    """type, count, dlen (= len(data) + 2), data, CRC-16/ARC of all of it; little-endian."""
    body = struct.pack(ATOM_HEADER_FORMAT, atom_type, count, len(data) + CRC_SIZE) + data
    return body + struct.pack(CRC_FORMAT, crc16_arc(body))


def uuid_to_bytes(value: uuid.UUID) -> bytes:
    """The vendor atom's UUID field: eeptypes.h stores it as four uint32 LE, least
    significant first, i.e. the 128-bit value in little-endian byte order."""
    return value.int.to_bytes(16, "little")


def uuid_from_bytes(field: bytes) -> uuid.UUID:
    """The inverse of `uuid_to_bytes` (eepmake.c ``product_uuid``: serial[3] holds the
    first eight hex digits, serial[0] the last eight)."""
    return uuid.UUID(int=int.from_bytes(field, "little"))


def pack_vendor_fixed(
    uuid_field: bytes, product_id: int, product_version: int, vslen: int, pslen: int
) -> bytes:
    """The 22 fixed bytes of the vendor atom (uuid, pid, pver, vslen, pslen)."""
    return struct.pack(VENDOR_FIXED_FORMAT, uuid_field, product_id, product_version, vslen, pslen)


def unpack_vendor_fixed(data: bytes) -> tuple[bytes, int, int, int, int]:
    """(uuid bytes, pid, pver, vslen, pslen) from the start of a vendor atom's data
    (at least `VENDOR_FIXED_SIZE` bytes; the caller checks and says so in its own words)."""
    uid, pid, pver, vslen, pslen = struct.unpack_from(VENDOR_FIXED_FORMAT, data, 0)
    return bytes(uid), pid, pver, vslen, pslen


# -- parse ------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """The header fields as stored."""

    version: int
    reserved: int
    numatoms: int
    eeplen: int


@dataclass(frozen=True)
class RawAtom:
    """One framed atom: its fields, the CRC stored and the CRC computed, where it ends."""

    type: int
    count: int
    data: bytes
    crc: int
    computed_crc: int
    offset: int
    end: int

    @property
    def crc_ok(self) -> bool:
        return self.crc == self.computed_crc


def read_header(image: bytes) -> Header:
    """The header of ``image`` (which may be longer than eeplen: a whole EEPROM dump).

    Checks length, signature and that eeplen fits; the version and reserved byte are
    returned as stored for the caller to judge.
    """
    if len(image) < HEADER_SIZE:
        raise HatEepromError(
            f"image has {len(image)} bytes, fewer than the {HEADER_SIZE}-byte header"
        )
    signature, version, reserved, numatoms, eeplen = struct.unpack_from(HEADER_FORMAT, image, 0)
    if signature != SIGNATURE:
        raise HatEepromError(f"signature is {signature!r}, expected {SIGNATURE!r}")
    if eeplen > len(image):
        raise HatEepromError(f"eeplen {eeplen} is beyond the {len(image)} bytes read")
    return Header(version=version, reserved=reserved, numatoms=numatoms, eeplen=eeplen)


def read_atoms(image: bytes, header: Header) -> tuple[RawAtom, ...]:
    """Frame ``header.numatoms`` atoms after the header; each must fit inside eeplen.

    A CRC mismatch is not an error here (`RawAtom.crc_ok` says it): the bench reader
    reports it per atom, the emulator's parser raises.
    """
    eeplen = header.eeplen
    atoms: list[RawAtom] = []
    offset = HEADER_SIZE
    for index in range(header.numatoms):
        if offset + ATOM_HEADER_SIZE > eeplen:
            raise HatEepromError(
                f"atom {index} header at offset {offset} is beyond eeplen {eeplen}"
            )
        atype, count, dlen = struct.unpack_from(ATOM_HEADER_FORMAT, image, offset)
        if dlen < CRC_SIZE or offset + ATOM_HEADER_SIZE + dlen > eeplen:
            raise HatEepromError(
                f"atom {index} at offset {offset}: dlen {dlen} does not fit in eeplen {eeplen}"
            )
        body_end = offset + ATOM_HEADER_SIZE + dlen - CRC_SIZE
        (crc,) = struct.unpack_from(CRC_FORMAT, image, body_end)
        atoms.append(
            RawAtom(
                type=atype,
                count=count,
                data=bytes(image[offset + ATOM_HEADER_SIZE : body_end]),
                crc=crc,
                computed_crc=crc16_arc(image[offset:body_end]),
                offset=offset,
                end=body_end + CRC_SIZE,
            )
        )
        offset = body_end + CRC_SIZE
    return tuple(atoms)
