"""I2C faults, scheduled in simulated time with ``board.inject`` (DESIGN "Faults and observation").

They act on a device's slave front end (`I2cSlave`), so the transaction level and
the pin level see the same fault:

- `NackAddress`: the device does not acknowledge its address (and is not told it
  was addressed), ``count`` times or while the fault lasts.
- `HoldSdaLow`: the device is stuck in the middle of a read with a 0 bit on SDA, as
  after a master reset mid-transfer: the bus hangs (no START can be made). Clocking
  SCL (up to nine times) and a STOP free it: the usual bus recovery
  (`I2cGpioBus.recover`, Linux's ``i2c_generic_scl_recovery``).
- `FlipBit`: noise flips one bit of one byte as its receiver sees it: a byte written
  to the device (``byte_index`` 0 is the address byte) or read from it.
- Dropping a device is the generic `pihil_emulator.faults.DroppedDevice`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..faults import Fault
from .i2c_slave import I2cSlave, SlaveState, hub_for
from .i2c_target import I2cTarget

if TYPE_CHECKING:
    from ..board import Board


def _slaves(board: Board, device: Any, who: str) -> list[I2cSlave]:
    dev = board.device(device) if isinstance(device, str) else device
    if not isinstance(dev, I2cTarget):
        raise ValueError(f"{who}: {device!r} is not an I2C device model")
    hub = hub_for(board.world)
    out = [
        hub.slave_for(dev, a.nets["sda"], a.nets["scl"])
        for a in board.attachments.for_device(dev)
        if a.kind == "i2c"
    ]
    if not out:
        raise ValueError(f"{who}: {dev.name} is not attached to an I2C bus")
    return out


@dataclass(eq=False)
class _SlaveFault(Fault):
    """Base: a fault hooked into the slave front ends of ``device`` (name or model)."""

    device: Any = None
    _hooked: list[I2cSlave] = field(default_factory=list, init=False, repr=False)

    def apply(self, board: Board) -> None:
        self._hooked = _slaves(board, self.device, self.describe())
        for s in self._hooked:
            s.faults.append(self)

    def clear(self, board: Board) -> None:
        for s in self._hooked:
            if self in s.faults:
                s.faults.remove(self)
        self._hooked = []

    # the SlaveFaults protocol: no effect unless a subclass says otherwise
    def nacks_address(self, slave: I2cSlave, time_ns: int) -> bool:
        return False

    def corrupt(self, slave: I2cSlave, byte_index: int, value: int, time_ns: int) -> int:
        return value

    def _name(self) -> str:
        return self.device if isinstance(self.device, str) else getattr(self.device, "name", "?")


@dataclass(eq=False)
class NackAddress(_SlaveFault):
    """``device`` does not ACK its address: the next ``count`` times (None: while active)."""

    count: int | None = None
    nacked: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.count is not None and (
            isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1
        ):
            raise ValueError(f"count is a positive int or None, got {self.count!r}")

    def nacks_address(self, slave: I2cSlave, time_ns: int) -> bool:
        if self.count is not None and self.nacked >= self.count:
            return False
        self.nacked += 1
        return True

    def describe(self) -> str:
        times = "" if self.count is None else f" {self.count} time(s)"
        return f"{self._name()} NACKs its address{times}"


@dataclass(eq=False)
class HoldSdaLow(_SlaveFault):
    """``device`` hangs the bus: stuck mid-read of ``value`` (0x00: SDA low for 8 clocks)."""

    value: int = 0x00

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.value <= 0xFF or self.value & 0x80:
            raise ValueError(
                f"the stuck byte must have its top bit 0 to hold SDA low (0x00..0x7f), "
                f"got {self.value!r}"
            )

    def apply(self, board: Board) -> None:
        self._hooked = _slaves(board, self.device, self.describe())
        for s in self._hooked:
            s.force_stuck_read(self.value)

    def clear(self, board: Board) -> None:
        """The device is reset (power-cycled): it lets go of SDA if it still holds it."""
        for s in self._hooked:
            if s.state is SlaveState.READ and s.sda_low:
                s.state = SlaveState.IDLE
                s.addressed = False
                s._drive_sda(False)
        self._hooked = []

    def describe(self) -> str:
        return f"{self._name()} holds SDA low (stuck mid-read)"


@dataclass(eq=False)
class FlipBit(_SlaveFault):
    """Flip ``bit`` (7 = MSB) of data byte ``byte_index`` as its receiver sees it.

    ``direction`` ``"write"``: what ``device`` receives (``byte_index`` 0 is the
    address byte); ``"read"``: what the master receives from it (1 = the first byte
    of a read message). ``count`` flips, then the fault has no more effect.
    """

    byte_index: int = 1
    bit: int = 0
    direction: str = "write"
    count: int = 1
    flipped: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.bit <= 7:
            raise ValueError(f"bit is 0..7 (7 = MSB), got {self.bit!r}")
        if self.direction not in ("write", "read"):
            raise ValueError(f"direction is 'write' or 'read', got {self.direction!r}")
        low = 0 if self.direction == "write" else 1
        if self.byte_index < low:
            raise ValueError(f"byte_index for a {self.direction} is at least {low}")
        if self.count < 1:
            raise ValueError(f"count is at least 1, got {self.count!r}")

    def _flip(self, value: int) -> int:
        if self.flipped >= self.count:
            return value
        self.flipped += 1
        return value ^ (1 << self.bit)

    def corrupt(self, slave: I2cSlave, byte_index: int, value: int, time_ns: int) -> int:
        if self.direction != "write" or byte_index != self.byte_index:
            return value
        return self._flip(value)

    def corrupt_read(
        self, slave: I2cSlave, address: int, byte_index: int, value: int, time_ns: int
    ) -> int:
        if self.direction != "read" or byte_index != self.byte_index:
            return value
        if not slave.target.responds_to(address):
            return value
        return self._flip(value)

    def describe(self) -> str:
        return (
            f"bit {self.bit} of {self.direction} byte {self.byte_index} of {self._name()} flipped"
        )
