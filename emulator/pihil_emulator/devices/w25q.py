"""Winbond W25Q serial NOR flash (standard SPI), default the W25Q32 (32 Mbit).

What is modelled, from the Winbond W25Q32BV/FV datasheets (instruction set and
AC characteristics):

- JEDEC ID (9Fh): manufacturer EFh, memory type 40h, capacity 16h for the
  W25Q32 (15h W25Q16, 17h W25Q64, 18h W25Q128);
- Read Data (03h) with a 24-bit address; Fast Read (0Bh) with 8 dummy clocks;
  the address increments after each byte for "a continuous stream of data";
  past the last byte it rolls over to 0 [I];
- Write Enable (06h) and Write Disable (04h) set and clear WEL, taking effect
  when /CS goes high;
- Page Program (02h): needs WEL; up to 256 bytes into one page: "If more than
  256 bytes are sent to the device the addressing will wrap to the beginning
  of the page and overwrite previously sent data"; programming only clears
  bits (1 → 0); "/CS must be driven high after the eighth bit of the last byte
  has been latched" and then the self-timed cycle lasts tPP;
- Sector Erase (20h): needs WEL; the 4 KiB sector to FFh, self-timed for tSE;
  it runs only when /CS rises right after the 24-bit address;
- Read Status Register-1 (05h): S0 BUSY, S1 WEL, readable continuously;
  "While the ... cycle is in progress, the Read Status Register instruction may
  still be accessed for checking the status of the BUSY bit"; every other
  instruction is ignored while BUSY; WEL clears when the cycle completes.

Timing parameters default to typical values and are parameters (maxima in
brackets): tPP 0.7 ms (3 ms) and tSE 45 ms (400 ms), the W25Q32FV's AC
characteristics. Cross-check found while writing this: Apache Mynewt's
spiflash configuration for a Winbond part uses tPP 700 µs typical / 3000 µs
maximum and tSE 30 ms typical / 400 ms maximum, so tSE varies between
revisions: set ``sector_erase_ns`` for the part on the board.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from ..buses.spi_target import MisoByte, SpiTarget
from ..errors import ConfigurationError
from ..world.clock import NS_PER_MS, NS_PER_US

PAGE_SIZE: Final = 256
SECTOR_SIZE: Final = 4096
MANUFACTURER_WINBOND: Final = 0xEF

# instructions (standard SPI)
WRITE_ENABLE: Final = 0x06
WRITE_DISABLE: Final = 0x04
READ_STATUS_1: Final = 0x05
READ_DATA: Final = 0x03
FAST_READ: Final = 0x0B
PAGE_PROGRAM: Final = 0x02
SECTOR_ERASE: Final = 0x20
JEDEC_ID: Final = 0x9F

# Status Register-1 bits
SR_BUSY: Final = 0x01
SR_WEL: Final = 0x02

DEFAULT_PAGE_PROGRAM_NS: Final = 700 * NS_PER_US
"""tPP typical (W25Q32FV; 3 ms maximum)."""
DEFAULT_SECTOR_ERASE_NS: Final = 45 * NS_PER_MS
"""tSE typical (W25Q32FV; 400 ms maximum)."""


@dataclass(frozen=True)
class W25qPart:
    """One member of the family: its JEDEC ID and size."""

    name: str
    jedec_id: bytes
    size: int


W25Q_PARTS: Mapping[str, W25qPart] = {
    p.name: p
    for p in (
        W25qPart("w25q16", bytes([MANUFACTURER_WINBOND, 0x40, 0x15]), 2 * 1024 * 1024),
        W25qPart("w25q32", bytes([MANUFACTURER_WINBOND, 0x40, 0x16]), 4 * 1024 * 1024),
        W25qPart("w25q64", bytes([MANUFACTURER_WINBOND, 0x40, 0x17]), 8 * 1024 * 1024),
        W25qPart("w25q128", bytes([MANUFACTURER_WINBOND, 0x40, 0x18]), 16 * 1024 * 1024),
    )
}

# command phases
_IDLE = 0  # waiting for the instruction byte
_ADDRESS = 1  # collecting the 24-bit address
_DUMMY = 2  # fast read's dummy byte
_READ = 3  # streaming data out
_PROGRAM = 4  # collecting page-program data
_STATUS = 5  # streaming Status Register-1
_JEDEC = 6  # streaming the JEDEC ID
_DONE = 7  # instruction complete; further bytes are ignored until /CS rises
_IGNORED = 8  # instruction ignored (busy, unknown, or WEL not set)


class W25q(SpiTarget):
    """A W25Q flash at byte level, with its self-timed program and erase cycles."""

    model = "w25q"
    modes = frozenset({0, 3})
    mode = 0
    max_speed_hz = 104_000_000

    def __init__(
        self,
        name: str | None = None,
        *,
        part: str = "w25q32",
        page_program_ns: int = DEFAULT_PAGE_PROGRAM_NS,
        sector_erase_ns: int = DEFAULT_SECTOR_ERASE_NS,
        contents: bytes | None = None,
    ) -> None:
        spec = W25Q_PARTS.get(part.lower()) if isinstance(part, str) else None
        if spec is None:
            raise ConfigurationError(f"unknown W25Q part {part!r}; known: {', '.join(W25Q_PARTS)}")
        for label, value in (
            ("page_program_ns", page_program_ns),
            ("sector_erase_ns", sector_erase_ns),
        ):
            if not isinstance(value, int) or value < 0:
                raise ConfigurationError(f"{label} must be a non-negative integer, got {value!r}")
        super().__init__(name or spec.name)
        self.part = spec
        self.size = spec.size
        self.page_program_ns = page_program_ns
        self.sector_erase_ns = sector_erase_ns
        self._mem = bytearray(b"\xff" * spec.size)
        if contents is not None:
            if len(contents) > spec.size:
                raise ConfigurationError(
                    f"{spec.name} holds {spec.size} bytes; {len(contents)} given"
                )
            self._mem[: len(contents)] = contents
        self._mask = spec.size - 1
        self._wel = False
        self._busy_until = -1
        self._pending_wel: bool | None = None
        self.programs = 0
        self.erases = 0
        self._begin()

    # -- model-side access ------------------------------------------------------------
    @property
    def contents(self) -> bytes:
        return bytes(self._mem)

    def read_memory(self, address: int, length: int) -> bytes:
        """Bytes of the array, bypassing the bus (for test assertions)."""
        if length < 0 or address < 0 or address + length > self.size:
            raise ConfigurationError(
                f"{self.name}: {length} bytes at {address:#x} fall outside 0..{self.size - 1:#x}"
            )
        return bytes(self._mem[address : address + length])

    @property
    def busy(self) -> bool:
        return self.now_ns < self._busy_until

    @property
    def status(self) -> int:
        """Status Register-1 now: BUSY (S0) and WEL (S1)."""
        self._settle()
        return (SR_BUSY if self.busy else 0) | (SR_WEL if self._wel else 0)

    def _settle(self) -> None:
        """A finished program or erase cycle clears WEL."""
        if self._busy_until >= 0 and not self.busy:
            self._wel = False
            self._busy_until = -1

    # -- the serial side --------------------------------------------------------------
    def _begin(self) -> None:
        self._phase = _IDLE
        self._cmd = 0
        self._addr = 0
        self._addr_count = 0
        self._page: dict[int, int] = {}
        self._count = 0
        self._jedec_index = 0
        self._extra = 0

    def select(self) -> None:
        self._begin()

    def exchange(self, mosi: int) -> MisoByte:
        phase = self._phase
        if phase == _READ:
            addr = self._addr
            self._addr = (addr + 1) & self._mask
            return self._mem[addr]
        if phase == _IDLE:
            self._start(mosi)
            return None
        if phase == _ADDRESS:
            self._addr = (self._addr << 8 | mosi) & 0xFFFFFF
            self._addr_count += 1
            if self._addr_count == 3:
                self._addr &= self._mask
                cmd = self._cmd
                if cmd == READ_DATA:
                    self._phase = _READ
                elif cmd == FAST_READ:
                    self._phase = _DUMMY
                elif cmd == PAGE_PROGRAM:
                    self._phase = _PROGRAM
                else:  # sector erase: the instruction is complete
                    self._phase = _DONE
            return None
        if phase == _DUMMY:
            self._phase = _READ
            return None
        if phase == _PROGRAM:
            base = self._addr & ~(PAGE_SIZE - 1)
            self._page[base + (self._addr + self._count) % PAGE_SIZE] = mosi
            self._count += 1
            return None
        if phase == _STATUS:
            return self.status
        if phase == _JEDEC:
            i = self._jedec_index
            self._jedec_index += 1
            return self.part.jedec_id[i] if i < len(self.part.jedec_id) else None
        self._extra += 1  # _DONE / _IGNORED
        return None

    def exchange_many(self, data: bytes, times: Sequence[int]) -> Sequence[MisoByte]:
        """`exchange` for a run of bytes: the command and address bytes one by one (at their
        times: a Read Status or a busy check sees the byte's instant), then, once in the READ
        phase, the rest as one slice of the array from the address on: Read Data's "continuous
        stream of data" (the module's list), rolling over to 0 past the last byte as the
        byte-wise address counter does [I]. A subclass with its own `exchange` gets the
        byte-wise default."""
        if type(self).exchange is not W25q.exchange:
            return super().exchange_many(data, times)
        n = len(data)
        i = 0
        out: list[MisoByte] = []
        if self._phase != _READ:
            exchange = self.exchange
            try:
                while i < n and self._phase != _READ:
                    if self._phase == _ADDRESS and self._addr_count == 0 and n - i >= 3:
                        # the first two address bytes in one step: what two `exchange` calls
                        # leave (the phase moves on the third, which takes the normal path;
                        # the address phase reads no time)
                        self._addr = (self._addr << 16 | data[i] << 8 | data[i + 1]) & 0xFFFFFF
                        self._addr_count = 2
                        out += (None, None)
                        i += 2
                    self.bus_time_ns = times[i]
                    out.append(exchange(data[i]))
                    i += 1
            finally:
                self.bus_time_ns = None
            if i == n:
                return out
        count = n - i
        mem, mask = self._mem, self._mask
        addr = self._addr
        chunk = bytes(mem[addr : addr + count])
        while len(chunk) < count:  # past the top: on from address 0
            chunk += bytes(mem[: count - len(chunk)])
        self._addr = (addr + count) & mask
        if not out:
            return chunk
        out.extend(chunk)
        return out

    def _start(self, cmd: int) -> None:
        self._cmd = cmd
        if cmd == READ_STATUS_1:
            self._phase = _STATUS
            return
        if self.busy:
            self._phase = _IGNORED  # everything but Read Status is ignored during a cycle
            return
        self._settle()
        if cmd in (READ_DATA, FAST_READ):
            self._phase = _ADDRESS
        elif cmd in (PAGE_PROGRAM, SECTOR_ERASE):
            self._phase = _ADDRESS if self._wel else _IGNORED
        elif cmd == JEDEC_ID:
            self._phase = _JEDEC
        elif cmd in (WRITE_ENABLE, WRITE_DISABLE):
            self._phase = _DONE
        else:
            self._phase = _IGNORED

    def deselect(self) -> None:
        """/CS high: write-type instructions execute now, if they ended on a byte boundary."""
        phase, cmd = self._phase, self._cmd
        now = self.now_ns
        if phase == _DONE and self._extra == 0:
            if cmd == WRITE_ENABLE:
                self._wel = True
            elif cmd == WRITE_DISABLE:
                self._wel = False
            elif cmd == SECTOR_ERASE:
                start = self._addr & ~(SECTOR_SIZE - 1)
                self._mem[start : start + SECTOR_SIZE] = b"\xff" * SECTOR_SIZE
                self.erases += 1
                self._busy_until = now + self.sector_erase_ns
        elif phase == _PROGRAM and self._page:
            for addr, value in self._page.items():
                self._mem[addr] &= value  # NOR programming only clears bits
            self.programs += 1
            self._busy_until = now + self.page_program_ns
        self._begin()
