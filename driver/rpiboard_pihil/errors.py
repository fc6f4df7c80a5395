"""The driver's exceptions: one hierarchy rooted at `PihilError`.

IVI-Python requires errors to be reported only as exceptions. Everything the
driver raises on purpose is a `PihilError`; errors from the emulator or from
the Linux libraries (gpiod, smbus2, spidev, pyserial) are translated into
these classes with the original chained as ``__cause__``, so ``except
PihilError`` catches every failure of a driver call.

Several classes also derive from the matching built-in (``ValueError``,
``KeyError``, ``TimeoutError``) so idiomatic handlers keep working.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pihil_emulator.errors import BusFailure

if TYPE_CHECKING:
    from .utility import ErrorQueryResult


class PihilError(Exception):
    """Root of every exception the driver raises."""


# -- session and configuration ---------------------------------------------------------------


class OptionError(PihilError, ValueError):
    """A constructor option is unknown, has the wrong type, or names an unknown board."""


class ResourceNameError(PihilError, ValueError):
    """The ``resource_name`` given to the constructor is not a form this driver supports."""


class ResourceNotFoundError(PihilError):
    """A device node or kernel interface the Linux backend needs does not exist.

    ``path`` is the missing node (``/dev/gpiochip0``, ``/dev/i2c-1``...).
    """

    def __init__(self, message: str, *, path: str) -> None:
        self.path = path
        super().__init__(message)


class ResourceBusyError(PihilError):
    """The kernel refused a resource because another user (a driver, a process) holds it."""


class IdQueryError(PihilError):
    """The board does not identify as one of the supported models.

    ``found`` is what the board reported, ``supported`` the models this driver knows.
    """

    def __init__(self, message: str, *, found: str, supported: Sequence[str]) -> None:
        self.found = found
        self.supported = tuple(supported)
        super().__init__(message)


class SessionClosedError(PihilError):
    """The session was closed; open a new `RpiBoard` to continue."""


class SelectorError(PihilError, KeyError):
    """An illegal repeated-capability specifier; the message names the legal ones."""

    def __init__(self, message: str, *, legal: Sequence[str]) -> None:
        self.legal = tuple(legal)
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ConfigurationError(PihilError, ValueError):
    """A setting the hardware cannot take (out of range, wrong type, wrong mode)."""


class NotSupportedError(PihilError):
    """The backend cannot do this; the message says what can (a config.txt line, simulation)."""


class SimulationNotAvailableError(NotSupportedError):
    """``board.simulation`` was asked for on a session that drives real hardware."""


class ProfileError(PihilError):
    """A board profile is malformed (file, key, what was expected)."""


class RegisterAccessError(PihilError):
    """An unknown register or field in the emulator, or an access it does not allow."""


# -- things the hardware reports ------------------------------------------------------------


class ElectricalFaultError(PihilError):
    """An electrical rule was broken: contention, over-voltage, a short.

    Carries the net, the drivers involved and the simulated time (ns).
    """

    def __init__(
        self, message: str, *, net: str, drivers: Sequence[str], time_ns: int | None
    ) -> None:
        self.net = net
        self.drivers = tuple(drivers)
        self.time_ns = time_ns
        super().__init__(message)


class BusError(PihilError, BusFailure):
    """A bus transfer failed.

    ``bus`` names the bus, ``kind`` is what failed (``"nack"``, ``"clkt"``,
    ``"timeout"``, ``"arbitration"``, ``"not_routed"``, ``"io"``), ``address``
    the target address (I2C), ``phase`` where in the transfer it happened,
    ``transferred`` the bytes moved before the failure and ``errno_name``
    what Linux reports for it (``EREMOTEIO``, ``EIO``, ``ETIMEDOUT``...).
    """

    def __init__(
        self,
        message: str,
        *,
        bus: str,
        kind: str,
        address: int | None = None,
        phase: str | None = None,
        transferred: int = 0,
        errno_name: str | None = None,
    ) -> None:
        self._note_failure(bus, kind, address, phase, transferred, errno_name)
        super().__init__(message)


class I2cNackError(BusError):
    """The target did not acknowledge its address or a data byte (Linux: EREMOTEIO)."""


class I2cClockStretchTimeoutError(BusError):
    """The target held SCL low longer than the BSC CLKT timeout (Linux: EIO)."""


class BusTimeoutError(BusError, TimeoutError):
    """The whole transfer did not complete in time (Linux: ETIMEDOUT)."""


class UartError(PihilError):
    """A UART operation failed (the port could not be opened or written)."""


class InstrumentStatusError(PihilError):
    """The board reported errors of its own (see ``ivi_utility.error_query``).

    Raised by ``ivi_utility.raise_on_device_error()`` and, with
    query-instrument-status enabled, at the end of any call after which new
    device errors were seen. ``errors`` holds them as `ErrorQueryResult`.
    """

    def __init__(self, message: str, *, errors: Sequence[ErrorQueryResult]) -> None:
        self.errors = tuple(errors)
        super().__init__(message)


__all__ = [
    "BusError",
    "BusTimeoutError",
    "ConfigurationError",
    "ElectricalFaultError",
    "I2cClockStretchTimeoutError",
    "I2cNackError",
    "IdQueryError",
    "InstrumentStatusError",
    "NotSupportedError",
    "OptionError",
    "PihilError",
    "ProfileError",
    "RegisterAccessError",
    "ResourceBusyError",
    "ResourceNameError",
    "ResourceNotFoundError",
    "SelectorError",
    "SessionClosedError",
    "SimulationNotAvailableError",
    "UartError",
]
