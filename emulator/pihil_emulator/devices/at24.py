"""24Cxx serial EEPROM (default: the 24C32 the HAT spec recommends, OnSemi CAT24C32).

Behaviour from the OnSemi/Catalyst CAT24C32 datasheet (MD-1101): word address
sent after the device address (two bytes for parts above 2 Kbit), page writes
whose address counter wraps inside the page, a self-timed write cycle (tWR,
5 ms max) that starts at the STOP and during which the part does not
acknowledge its address (so a master can use ACK polling), sequential reads
that roll over from the last byte to address 0, current-address reads, random
reads (dummy write of the address, then a repeated START).

Write protect (WP pin high) differs between vendors, so it is a parameter:
- ``"nack"`` (CAT24Cxx, default): WP is strobed before the first data byte; when
  high, that data byte and every further one is not acknowledged and the
  write request is rejected (no write cycle).
- ``"ack-discard"`` (Microchip AT24C32E): address and data bytes are
  acknowledged, WP is sampled at the STOP and no write cycle occurs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..buses.i2c_target import I2cTarget
from ..errors import ConfigurationError
from ..world.clock import NS_PER_MS

WriteProtectStyle = Literal["nack", "ack-discard"]
WP_STYLES: tuple[WriteProtectStyle, ...] = ("nack", "ack-discard")


@dataclass(frozen=True)
class At24Geometry:
    """Size, page size and word-address width of one 24Cxx part."""

    size: int
    page_size: int
    address_bytes: int

    def __post_init__(self) -> None:
        if self.address_bytes not in (1, 2):
            raise ConfigurationError(
                f"a 24Cxx word address is 1 or 2 bytes, got {self.address_bytes}"
            )
        limit = 1 << (8 * self.address_bytes)
        if not 1 <= self.size <= limit or self.size & (self.size - 1):
            raise ConfigurationError(
                f"EEPROM size must be a power of two up to {limit} bytes with a "
                f"{self.address_bytes}-byte word address, got {self.size}"
            )
        if (
            not 1 <= self.page_size <= self.size
            or self.page_size & (self.page_size - 1)
            or self.size % self.page_size
        ):
            raise ConfigurationError(
                f"page size must be a power of two dividing the size {self.size}, "
                f"got {self.page_size}"
            )


#: parts addressed with a plain 1- or 2-byte word address (no block bits in the
#: device address, which the 24C04/08/16 use and this model does not)
AT24_PARTS: Mapping[str, At24Geometry] = {
    "24c01": At24Geometry(size=128, page_size=8, address_bytes=1),
    "24c02": At24Geometry(size=256, page_size=8, address_bytes=1),
    "24c32": At24Geometry(size=4096, page_size=32, address_bytes=2),
    "24c64": At24Geometry(size=8192, page_size=32, address_bytes=2),
    "24c128": At24Geometry(size=16384, page_size=64, address_bytes=2),
    "24c256": At24Geometry(size=32768, page_size=64, address_bytes=2),
    "24c512": At24Geometry(size=65536, page_size=128, address_bytes=2),
}

#: CAT24C32 tWR (maximum write cycle time)
DEFAULT_WRITE_CYCLE_NS = 5 * NS_PER_MS


class At24Eeprom(I2cTarget):
    """A 24Cxx EEPROM at byte level.

    Simulation-side attributes: ``write_protect`` (the WP pin level),
    ``contents`` (a bytes copy), ``load(data, offset)``, ``busy`` (inside tWR),
    ``address_counter`` (the internal address pointer), ``write_cycles``
    (how many internal write cycles ran).
    """

    model = "24c32"

    def __init__(
        self,
        address: int = 0x50,
        name: str | None = None,
        *,
        part: str = "24c32",
        contents: bytes | None = None,
        write_cycle_ns: int = DEFAULT_WRITE_CYCLE_NS,
        write_protect: bool = False,
        wp_style: WriteProtectStyle = "nack",
    ) -> None:
        if part not in AT24_PARTS:
            raise ConfigurationError(
                f"unknown 24Cxx part {part!r}; known parts: {', '.join(AT24_PARTS)}"
            )
        if write_cycle_ns < 0:
            raise ConfigurationError(
                f"write cycle time cannot be negative, got {write_cycle_ns} ns"
            )
        if wp_style not in WP_STYLES:
            raise ConfigurationError(
                f"write-protect style must be one of {', '.join(WP_STYLES)}, got {wp_style!r}"
            )
        self.model = part
        super().__init__(address, name)
        self.geometry = AT24_PARTS[part]
        self.write_cycle_ns = int(write_cycle_ns)
        self.write_protect = write_protect
        self.wp_style: WriteProtectStyle = wp_style
        self._memory = bytearray(b"\xff" * self.geometry.size)
        if contents is not None:
            self.load(contents)
        self.address_counter = 0
        self.write_cycles = 0
        self._busy_until_ns: int | None = None
        # per-transfer state
        self._reading = False
        self._address_buffer: list[int] = []
        self._page_buffer: dict[int, int] = {}
        self._data_bytes = 0
        self._rejected = False

    # -- simulation side ----------------------------------------------------
    @property
    def size(self) -> int:
        return self.geometry.size

    @property
    def contents(self) -> bytes:
        """The whole memory array (what a write cycle has committed)."""
        return bytes(self._memory)

    def load(self, data: bytes, offset: int = 0) -> None:
        """Preload ``data`` at ``offset`` (as a programmer would, no write cycle)."""
        if offset < 0 or offset + len(data) > self.geometry.size:
            raise ConfigurationError(
                f"{self.name}: {len(data)} bytes at offset {offset} do not fit the "
                f"{self.geometry.size}-byte {self.model}"
            )
        self._memory[offset : offset + len(data)] = data

    @property
    def busy(self) -> bool:
        """True while the internal write cycle (tWR) runs."""
        return self._busy_until_ns is not None and self.now_ns < self._busy_until_ns

    # -- the byte-level protocol --------------------------------------------
    def start(self, read: bool) -> bool:
        if self.busy:
            return False  # ACK polling: no acknowledge while the write cycle runs
        # a repeated START after data bytes abandons them: only a STOP starts tWR
        self._reset_transfer()
        self._reading = read
        return True

    def write_byte(self, value: int) -> bool:
        if self._reading:
            return False
        if len(self._address_buffer) < self.geometry.address_bytes:
            self._address_buffer.append(value & 0xFF)
            if len(self._address_buffer) == self.geometry.address_bytes:
                word = 0
                for b in self._address_buffer:
                    word = (word << 8) | b
                self.address_counter = word % self.geometry.size  # upper bits: don't care
            return True
        if self._data_bytes == 0 and self.write_protect and self.wp_style == "nack":
            self._rejected = True
        self._data_bytes += 1
        if self._rejected:
            return False
        self._page_buffer[self.address_counter] = value & 0xFF
        self.address_counter = self._next_in_page(self.address_counter)
        return True

    def read_byte(self) -> int:
        value = self._memory[self.address_counter]
        self.address_counter = (self.address_counter + 1) % self.geometry.size
        return value

    def read_many(self, count: int) -> bytes | None:
        """``count`` `read_byte` calls at once: the sequential read as one slice of the array
        from the address counter, rolling over from the last byte to address 0 (the datasheet's
        sequential read, module docstring), the counter left where the byte-wise reads leave
        it. The closed-form bus (`FastBus._reads_one`) uses it when the master's ACKs need no
        call. None for a subclass with its own `read_byte` (it is read byte by byte)."""
        if type(self).read_byte is not At24Eeprom.read_byte:
            return None
        memory, size = self._memory, self.geometry.size
        start = self.address_counter
        out = bytes(memory[start : start + count])
        while len(out) < count:  # past the last byte: on from address 0
            out += bytes(memory[: count - len(out)])
        self.address_counter = (start + count) % size
        return out

    def stop(self) -> None:
        if self._page_buffer and not self._rejected:
            if self.write_protect and self.wp_style == "ack-discard":
                pass  # sampled at STOP: no write cycle, ready at once
            else:
                for addr, value in self._page_buffer.items():
                    self._memory[addr] = value
                self.write_cycles += 1
                if self.write_cycle_ns:
                    # tWR runs from the STOP's bus time (``now_ns``: a transaction-level bus
                    # stamps the call ahead of the clock); an unattached part has no clock
                    _ = self.world  # RuntimeError "not attached" when unbound
                    self._busy_until_ns = self.now_ns + self.write_cycle_ns
        self._reset_transfer()

    # -- helpers ------------------------------------------------------------
    def _next_in_page(self, addr: int) -> int:
        page = self.geometry.page_size
        return (addr - addr % page) + (addr + 1) % page

    def _reset_transfer(self) -> None:
        self._reading = False
        self._address_buffer = []
        self._page_buffer = {}
        self._data_bytes = 0
        self._rejected = False
