"""Exceptions raised by the emulator.

The driver translates each of these into its own `PihilError` hierarchy and
chains the original, so users of `rpiboard_pihil` never see them raw.

Every exception here can be rebuilt as ``type(e)(*e.args)``: SimPy does
exactly that when a background process fails, so ``args`` holds the
constructor's arguments and ``__str__`` renders the message.
"""

from __future__ import annotations

from collections.abc import Sequence


def clip(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters for an error message (the one shortener
    of the emulator, the driver and the bench file's messages)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class EmulatorError(Exception):
    """Root of every error the emulator raises."""


class ElectricalFault(EmulatorError):
    """An electrical rule was broken: contention, over-voltage, a short.

    Carries the net, the drivers involved (as ``owner: drive`` strings) and the
    simulated time in nanoseconds, so a failing test says what fought what.
    """

    def __init__(
        self, message: str, net: str = "?", drivers: Sequence[str] = (), time_ns: int = 0
    ) -> None:
        self.message = message
        self.net = net
        self.drivers = tuple(drivers)
        self.time_ns = time_ns
        super().__init__(message, net, self.drivers, time_ns)

    def __str__(self) -> str:
        detail = "; ".join(self.drivers) if self.drivers else "no drivers"
        return f"{self.message} on net {self.net} at t={self.time_ns} ns (drivers: {detail})"


class ProfileError(EmulatorError):
    """A board profile is malformed: names the file, the key and what was expected."""

    def __init__(self, file: str, key: str, expected: str) -> None:
        self.file = file
        self.key = key
        self.expected = expected
        super().__init__(file, key, expected)

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.expected}"


class PinError(EmulatorError, KeyError):
    """A pin or net name that the board does not know, or a misuse of a pin."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RegisterError(EmulatorError):
    """An unknown register or field, or an access the register does not allow."""


class BusFailure:
    """What a failed bus transfer reports: ``bus``, ``kind`` (what failed), ``address``,
    ``phase``, the bytes ``transferred`` before it and ``errno_name`` (what Linux returns).
    The emulator's `BusError` and the driver's (`rpiboard_pihil.errors.BusError`) both
    carry it, set by `_note_failure`."""

    bus: str
    kind: str
    address: int | None
    phase: str | None
    transferred: int
    errno_name: str | None

    def _note_failure(
        self,
        bus: str,
        kind: str,
        address: int | None,
        phase: str | None,
        transferred: int,
        errno_name: str | None,
    ) -> None:
        self.bus = bus
        self.kind = kind
        self.address = address
        self.phase = phase
        self.transferred = transferred
        self.errno_name = errno_name


class BusError(EmulatorError, BusFailure):
    """A bus transfer failed the way the hardware (and the Linux driver) reports it.

    ``kind`` is one of ``"nack"``, ``"clkt"`` (clock-stretch timeout),
    ``"timeout"`` (the whole transfer), ``"arbitration"``, ``"not_routed"``;
    ``errno_name`` is what Linux returns for it (``EREMOTEIO``, ``EIO``,
    ``ETIMEDOUT``...).
    """

    def __init__(
        self,
        message: str,
        bus: str = "?",
        kind: str = "error",
        address: int | None = None,
        phase: str | None = None,
        transferred: int = 0,
        errno_name: str | None = None,
        time_ns: int | None = None,
    ) -> None:
        self.message = message
        self._note_failure(bus, kind, address, phase, transferred, errno_name)
        self.time_ns = time_ns
        super().__init__(message, bus, kind, address, phase, transferred, errno_name, time_ns)

    def __str__(self) -> str:
        parts = [f"{self.bus}: {self.message}"]
        if self.address is not None:
            parts.append(f"address 0x{self.address:02x}")
        if self.phase is not None:
            parts.append(f"phase {self.phase}")
        parts.append(f"{self.transferred} byte(s) transferred")
        if self.errno_name is not None:
            parts.append(self.errno_name)
        return ", ".join(parts)


class ConfigurationError(EmulatorError, ValueError):
    """A request the modelled hardware cannot honour (bad mode, speed, length)."""
