"""An I2C device whose protocol is "register pointer, then auto-incrementing data".

Most small I2C parts (RTCs, fan controllers, amplifiers) work this way: the
first byte of a write sets the register pointer, every further written byte
goes to the pointed register, every read byte comes from it, and the pointer
moves on after each data byte, wrapping at the end of the map. The register
map itself is data (`pihil_emulator.soc.registers`); a device gives behaviour
to the registers that do more than store bits with `_hook(...)`.
"""

from __future__ import annotations

from typing import ClassVar

from ..buses.i2c_target import I2cTarget
from ..errors import RegisterError
from ..soc.registers import ReadHook, RegisterBlock, RegisterMap, WriteHook


class I2cRegisterDevice(I2cTarget, RegisterBlock):
    """Pointer + auto-increment register file on the I2C byte-level protocol.

    ``POINTER_SPAN`` is the number of pointer positions: after ``span - 1`` the
    pointer wraps to 0. Reads of a pointer position with no register return
    ``UNMAPPED_READ`` and writes there are ignored (the datasheets of these
    parts say unused addresses read 0 and ignore writes).
    """

    MAP: ClassVar[RegisterMap]
    POINTER_SPAN: ClassVar[int] = 256
    UNMAPPED_READ: ClassVar[int] = 0x00
    #: whether the pointer moves on after each data byte
    AUTO_INCREMENT: ClassVar[bool] = True

    def __init__(self, address: int, name: str | None = None) -> None:
        I2cTarget.__init__(self, address, name)
        RegisterBlock.__init__(self, self.name)
        self._offsets = frozenset(reg.offset for reg in self.MAP)
        self.pointer = 0
        self._expect_pointer = False
        self._in_access = False

    # -- hooks for subclasses ---------------------------------------------
    def _hook(
        self, name: str, *, read: ReadHook | None = None, write: WriteHook | None = None
    ) -> None:
        """Give register ``name`` behaviour: ``read() -> int`` and/or ``write(value)``."""
        reg = self.MAP.get(name, self.name)
        if read is not None:
            self._read_hooks[reg.name] = read
        if write is not None:
            self._write_hooks[reg.name] = write

    def begin_access(self) -> None:
        """The first START of an access (until STOP): e.g. an RTC freezes its time registers."""

    def end_access(self) -> None:
        """The STOP that ends an access."""

    def next_pointer(self, pointer: int) -> int:
        """Where the pointer goes after a data byte at ``pointer`` (wraps to 0 at the span)."""
        if not self.AUTO_INCREMENT:
            return pointer
        return pointer + 1 if pointer + 1 < self.POINTER_SPAN else 0

    def set_pointer(self, value: int) -> int:
        """The pointer after the master wrote ``value`` as the first byte of a write."""
        return value & 0xFF

    # -- model-side register access (8-bit registers) ----------------------
    def write(self, key: str | int, value: int) -> None:
        if not 0 <= value <= 0xFF:
            raise RegisterError(
                f"{self.name}: registers are 8 bits wide (0..0xff), got {value:#x} for {key!r}"
            )
        super().write(key, value)

    def read_offset(self, offset: int) -> int:
        """The byte the bus reads at pointer ``offset`` (unmapped offsets read UNMAPPED_READ)."""
        if offset not in self._offsets:
            return self.UNMAPPED_READ
        return self.read(offset) & 0xFF

    def write_offset(self, offset: int, value: int) -> None:
        """A bus write of ``value`` at pointer ``offset`` (unmapped offsets ignore it)."""
        if offset in self._offsets:
            self.write(offset, value)

    # -- the byte-level protocol ---------------------------------------------
    def start(self, read: bool) -> bool:
        if not self._in_access:
            self._in_access = True
            self.begin_access()
        self._expect_pointer = not read
        return True

    def write_byte(self, value: int) -> bool:
        if self._expect_pointer:
            self._expect_pointer = False
            self.pointer = self.set_pointer(value)
            return True
        self.write_offset(self.pointer, value)
        self.pointer = self.next_pointer(self.pointer)
        return True

    def read_byte(self) -> int:
        value = self.read_offset(self.pointer)
        self.pointer = self.next_pointer(self.pointer)
        return value

    def stop(self) -> None:
        self._expect_pointer = False
        if self._in_access:
            self._in_access = False
            self.end_access()

    @property
    def in_access(self) -> bool:
        """True between the first START and the STOP of an access."""
        return self._in_access
