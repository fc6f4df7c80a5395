"""Register maps as data, and the base class that gives a block's registers behaviour.

A block module declares its map at the top (names, offsets, fields, access,
reset values, straight from the datasheet) and overrides only the registers
that do more than store a value, with ``_read_<NAME>`` / ``_write_<NAME>``
methods.

Writes of bits the map does not define (reserved bits, and values wider than a
field that spill above it) do what the silicon does: the bits are ignored. The
datasheets mark them "Reserved - Write as 0, read as don't care" (BCM2835 ARM
Peripherals §1.3 / BCM2711-DS "reserved bits"); the bcm2835 C library ends
``bcm2835_i2c_write`` by setting BSC C bit 1, which the chip ignores. Each case is
recorded once per (block, register, kind) as a `RegisterWarning` in the block's
`RegisterPolicy` (one per SoC: ``soc.register_policy.warnings``, on the board
``board.register_warnings``); ``strict = True`` raises
`RegisterError` instead, for tests that want the error. A value outside 32 bits
is not a register write at all and always raises.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from ..errors import RegisterError


class Access(enum.Enum):
    RW = "rw"
    RO = "ro"  # writes are ignored (as the silicon does); use `RegisterBlock.set_hw` to change
    WO = "wo"  # reads return 0
    W1C = "w1c"  # write 1 to clear
    W1S = "w1s"  # write 1 to start: self-clearing, reads 0


@dataclass(frozen=True)
class Field:
    """A bit field: ``width`` bits from ``lsb``."""

    name: str
    lsb: int
    width: int = 1
    access: Access = Access.RW
    reset: int = 0
    doc: str = ""

    def __post_init__(self) -> None:
        if self.lsb < 0 or self.width < 1 or self.lsb + self.width > 32:
            raise ValueError(
                f"field {self.name}: bits {self.lsb}+{self.width} outside a 32-bit register"
            )
        if not 0 <= self.reset < (1 << self.width):
            raise ValueError(
                f"field {self.name}: reset {self.reset:#x} does not fit {self.width} bits"
            )

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb

    def get(self, value: int) -> int:
        return (value >> self.lsb) & ((1 << self.width) - 1)

    def put(self, value: int, field_value: int) -> int:
        if not 0 <= field_value < (1 << self.width):
            raise RegisterError(
                f"field {self.name} takes 0..{(1 << self.width) - 1}, got {field_value}"
            )
        return (value & ~self.mask) | (field_value << self.lsb)


@dataclass(frozen=True)
class Register:
    """One register: name and offset from the datasheet, its fields, its reset value.

    ``reset`` defaults to the OR of the fields' resets. ``access`` is the
    register-wide access for registers without fields (or the default for bits
    outside every field).
    """

    name: str
    offset: int
    fields: tuple[Field, ...] = ()
    reset: int | None = None
    access: Access = Access.RW
    doc: str = ""
    _by_name: dict[str, Field] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        used = 0
        for f in self.fields:
            if used & f.mask:
                raise ValueError(f"register {self.name}: field {f.name} overlaps another field")
            used |= f.mask
            self._by_name[f.name] = f

    @property
    def reset_value(self) -> int:
        if self.reset is not None:
            return self.reset
        value = 0
        for f in self.fields:
            value |= f.reset << f.lsb
        return value

    def field(self, name: str) -> Field:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(f.name for f in self.fields) or "none"
            raise RegisterError(
                f"register {self.name} has no field {name!r} (fields: {known})"
            ) from None

    @functools.cached_property
    def defined_mask(self) -> int:
        """The bits of this register that some field defines (all 32 without fields)."""
        if not self.fields:
            return 0xFFFF_FFFF
        return sum(f.mask for f in self.fields)

    def mask_of(self, access: Access) -> int:
        """Bits of this register with the given access."""
        if not self.fields:
            return 0xFFFF_FFFF if self.access is access else 0
        return sum(f.mask for f in self.fields if f.access is access)


class RegisterMap:
    """The registers of one block, by name and by offset."""

    def __init__(self, registers: Iterable[Register]) -> None:
        self._by_name: dict[str, Register] = {}
        self._by_offset: dict[int, Register] = {}
        for r in registers:
            if r.name in self._by_name:
                raise ValueError(f"register {r.name} defined twice")
            if r.offset in self._by_offset:
                raise ValueError(
                    f"registers {self._by_offset[r.offset].name} and {r.name} share offset {r.offset:#x}"
                )
            self._by_name[r.name] = r
            self._by_offset[r.offset] = r

    def __iter__(self) -> Iterator[Register]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return list(self._by_name)

    def get(self, key: str | int, block: str = "block") -> Register:
        if isinstance(key, int):
            reg = self._by_offset.get(key)
            if reg is None:
                raise RegisterError(f"{block} has no register at offset {key:#x}")
            return reg
        reg = self._by_name.get(key)
        if reg is None:
            raise RegisterError(
                f"{block} has no register {key!r}; its registers are: {', '.join(self._by_name)}"
            )
        return reg


@dataclass(frozen=True)
class RegisterWarning:
    """A write the chip accepts but does not take as written (reserved bits, a too-wide value)."""

    time_ns: int
    block: str
    register: str
    kind: str  # "reserved bits" or "value too wide"
    written: int
    kept: int
    message: str

    def __str__(self) -> str:
        return f"t={self.time_ns} ns: {self.message}"


class RegisterPolicy:
    """What a block does with bits its map does not define: ignore and warn, or raise (strict).

    One per SoC, shared by its blocks (``soc.register_policy``); the board shows it as
    ``register_warnings`` and ``strict_registers``.
    """

    def __init__(self, now: Callable[[], int] | None = None, *, strict: bool = False) -> None:
        self.strict = strict
        self.warnings: list[RegisterWarning] = []
        self._seen: set[tuple[str, str, str]] = set()
        self._now = now

    def now_ns(self) -> int:
        return self._now() if self._now is not None else 0

    def undefined_bits(self, block: str, reg: Register, value: int) -> int:
        """``value`` with the bits outside ``reg``'s fields dropped (recorded or raised)."""
        defined = sum(f.mask for f in reg.fields)
        extra = value & ~defined
        kept = value & defined
        fields = ", ".join(f"{f.name} {f.lsb + f.width - 1}:{f.lsb}" for f in reg.fields)
        if len(reg.fields) == 1 and reg.fields[0].lsb == 0:
            f = reg.fields[0]
            kind = "value too wide"
            what = (
                f"{block}.{reg.name}: {f.name} is {f.width} bits (0..{(1 << f.width) - 1:#x}), "
                f"{value:#x} was written; the bits above it are reserved"
            )
        else:
            kind = "reserved bits"
            what = (
                f"{block}.{reg.name}: bits {extra:#x} of {value:#x} are reserved "
                f"(defined: {fields})"
            )
        if self.strict:
            raise RegisterError(
                f"{what}; the chip ignores them (keeps {kept:#x}). Write only the defined bits, "
                "or turn strict register checking off to get a warning instead"
            )
        key = (block, reg.name, kind)
        if key not in self._seen:
            self._seen.add(key)
            self.warnings.append(
                RegisterWarning(
                    self.now_ns(),
                    block,
                    reg.name,
                    kind,
                    value,
                    kept,
                    f"{what}; ignored as the chip does (kept {kept:#x})",
                )
            )
        return kept


ReadHook = Callable[[], int]
WriteHook = Callable[[int], None]


class RegisterBlock:
    """A SoC block seen through its registers.

    Default behaviour per access type; a subclass overrides a register with
    ``_read_<NAME>(self) -> int`` and/or ``_write_<NAME>(self, value) -> None``.
    """

    MAP: ClassVar[RegisterMap]

    def __init__(self, name: str, policy: RegisterPolicy | None = None) -> None:
        self.name = name
        self.policy: RegisterPolicy | None = policy
        """None: bits outside the fields are stored as written (device register files);
        the SoC gives each of its blocks its `RegisterPolicy`."""
        self._values: dict[str, int] = {}
        self._read_hooks: dict[str, ReadHook] = {}
        self._write_hooks: dict[str, WriteHook] = {}
        for reg in self.MAP:
            rh = getattr(self, f"_read_{reg.name}", None)
            wh = getattr(self, f"_write_{reg.name}", None)
            if rh is not None:
                self._read_hooks[reg.name] = rh
            if wh is not None:
                self._write_hooks[reg.name] = wh
        self.reset_registers()

    def reset_registers(self) -> None:
        """Every register to its datasheet reset value."""
        self._values = {reg.name: reg.reset_value for reg in self.MAP}

    # -- bus access ------------------------------------------------------
    def read(self, key: str | int) -> int:
        reg = self.MAP.get(key, self.name)
        hook = self._read_hooks.get(reg.name)
        if hook is not None:
            return hook() & 0xFFFF_FFFF
        if not reg.fields and reg.access is Access.WO:
            return 0
        return self._values[reg.name] & ~(reg.mask_of(Access.WO) | reg.mask_of(Access.W1S))

    def write(self, key: str | int, value: int) -> None:
        reg = self.MAP.get(key, self.name)
        if not 0 <= value <= 0xFFFF_FFFF:
            raise RegisterError(
                f"{self.name}.{reg.name}: a 32-bit register takes 0..0xffffffff, got {value:#x}"
            )
        policy = self.policy
        if policy is not None and reg.fields and value & ~reg.defined_mask:
            value = policy.undefined_bits(self.name, reg, value)
        hook = self._write_hooks.get(reg.name)
        if hook is not None:
            hook(value)
            return
        self._values[reg.name] = self.apply_write(reg, self._values[reg.name], value)

    # -- mapped access: what a driver keeps after ioremap ---------------------
    def reader(self, key: str | int) -> ReadHook:
        """A function that reads the register as ``read(key)`` does, found once.

        For a driver's hot path (the kernel keeps the mapped address, not the name);
        a block may hand out the register's own function when it behaves the same.
        """
        return functools.partial(self.read, self.MAP.get(key, self.name).name)

    def writer(self, key: str | int) -> WriteHook:
        """A function that writes the register as ``write(key, value)`` does, found once."""
        return functools.partial(self.write, self.MAP.get(key, self.name).name)

    @staticmethod
    def apply_write(reg: Register, old: int, value: int) -> int:
        """The stored value after a write, by access type (RO kept, W1C cleared, W1S not stored)."""
        if not reg.fields:
            if reg.access is Access.RO:
                return old
            if reg.access is Access.W1C:
                return old & ~value
            if reg.access is Access.W1S:
                return old
            return value
        rw = reg.mask_of(Access.RW) | reg.mask_of(Access.WO)
        w1c = reg.mask_of(Access.W1C)
        new = (old & ~rw) | (value & rw)
        new &= ~(value & w1c)
        return new

    # -- model-side access -----------------------------------------------
    def peek(self, name: str) -> int:
        """The stored value, without side effects."""
        return self._values[self.MAP.get(name, self.name).name]

    def poke(self, name: str, value: int) -> None:
        """Store a value as the hardware would, bypassing access rules."""
        self._values[self.MAP.get(name, self.name).name] = value & 0xFFFF_FFFF

    def get_field(self, reg: str, field_name: str) -> int:
        r = self.MAP.get(reg, self.name)
        return r.field(field_name).get(self._values[r.name])

    def set_field(self, reg: str, field_name: str, field_value: int) -> None:
        """Hardware-side update of one field (status bits and the like)."""
        r = self.MAP.get(reg, self.name)
        self._values[r.name] = r.field(field_name).put(self._values[r.name], field_value)
