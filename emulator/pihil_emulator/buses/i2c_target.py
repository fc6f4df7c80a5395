"""The byte-level interface every I2C device model implements.

A device is written once, at byte level. Both the transaction-level BSC model
(closed-form timing) and the pin-level adapter (one process per edge, used by
the bit-banged bus and waveform recording) drive devices through exactly
these calls, so the two levels cannot disagree about what a device does.

Call order for one transfer, as on the wire:
``start(read)`` once the address byte matched (returns ACK), then for a write
``write_byte`` per byte (returns ACK), for a read ``read_byte`` per byte
followed by ``master_ack(ack)``; a repeated start calls ``start`` again
without ``stop``; ``stop()`` ends it. ``stretch()`` is asked at each phase
how long the device holds SCL low there.

Every call is stamped with the simulated time of the bus event it answers:
``now_ns`` inside a call is that time (a transaction-level bus computes a
transfer ahead of the clock and stamps each call), so a device must read the
time through ``self.now_ns``, not ``self.world.now_ns``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .bus_target import BusTarget


class StretchPhase(enum.Enum):
    """Where in a byte a target may hold SCL low (soc-facts §1.2 names)."""

    WRITE_PRE_ACK = (
        "write-preACK"  # after the 8th data bit of a byte written to us, before our ACK bit
    )
    WRITE_POST_ACK = "write-postACK"  # after our ACK of a written byte (also after the address ACK)
    READ_PRE_ACK = (
        "read-preACK"  # after we sent the 8th bit of a read byte, before the master's ACK
    )
    READ_POST_ACK = "read-postACK"  # after the master's ACK/NACK of a byte we sent
    MID_BYTE = "mid-byte"  # inside a byte, before bit ``bit`` (1..7)


@dataclass(frozen=True)
class Stretch:
    """A stretch profile entry: hold SCL low for ``duration_ns`` at ``phase``.

    ``byte_index`` restricts it to one byte of the transfer (0 = the address
    byte; None = every byte); ``bit`` is the bit index for ``MID_BYTE``.
    """

    phase: StretchPhase
    duration_ns: int
    byte_index: int | None = None
    bit: int = 4

    def __post_init__(self) -> None:
        if self.duration_ns < 0:
            raise ValueError(f"stretch duration cannot be negative: {self.duration_ns} ns")
        if not 1 <= self.bit <= 7:
            raise ValueError(f"mid-byte stretch bit must be 1..7, got {self.bit}")


class I2cTarget(BusTarget):
    """Base class of I2C device models (7-bit addressing).

    Subclasses override the protocol methods; the defaults describe a device
    that ACKs its address, ignores writes and reads 0xFF.
    """

    #: model name used in board profiles (e.g. ``"pcf8523"``)
    model: str = "i2c-target"
    #: SCL high pulses shorter than this are not seen (the I2C spec's 50 ns spike
    #: suppression, tSP, for Fast-mode inputs; soc-facts §1.2 "min-high filter")
    spike_filter_ns: int = 50

    def __init__(self, address: int, name: str | None = None) -> None:
        if not 0 <= address <= 0x7F:
            raise ValueError(f"I2C address must be 7-bit (0x00..0x7f), got 0x{address:x}")
        self.address = address
        super().__init__(name or f"{self.model}@0x{address:02x}")
        self.stretches: list[Stretch] = []
        self._bus_time_ns: int | None = None  # set by a bus while it calls us

    def responds_to(self, address: int) -> bool:
        return self.present and address == self.address

    # -- the byte-level protocol -----------------------------------------
    def start(self, read: bool) -> bool:
        """Our address was sent with R/W = ``read``; return True to ACK."""
        return True

    def write_byte(self, value: int) -> bool:
        """The master wrote ``value``; return True to ACK."""
        return True

    def read_byte(self) -> int:
        """The master clocks a byte out of us."""
        return 0xFF

    def master_ack(self, ack: bool) -> None:
        """The master ACKed (wants more) or NACKed (last byte) what we sent."""

    def stop(self) -> None:
        """A STOP condition ended the transfer."""

    def stretch(self, phase: StretchPhase, byte_index: int) -> int:
        """Nanoseconds to hold SCL low at ``phase`` of byte ``byte_index`` (0 = address)."""
        total = 0
        for s in self.stretches:
            if s.phase is phase and (s.byte_index is None or s.byte_index == byte_index):
                total += s.duration_ns
        return total

    def mid_byte_stretch(self, byte_index: int) -> tuple[int, int] | None:
        """(bit, duration_ns) of a mid-byte stretch in this byte, if any."""
        for s in self.stretches:
            if s.phase is StretchPhase.MID_BYTE and (
                s.byte_index is None or s.byte_index == byte_index
            ):
                return (s.bit, s.duration_ns)
        return None
