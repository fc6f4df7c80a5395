"""The IVI-Python utility interface (`IviUtility`, `ErrorQueryResult`) and the driver's implementation.

`IviUtility` and `ErrorQueryResult` are the classes the IVI-Python
specification defines ("IVI-Python Utility Interface"); `RpiBoardUtility` is
this driver's subclass, reached as ``board.ivi_utility``.

Device errors are what the board reports on its own, not the failures of a
call (those are exceptions of that call): UART framing, parity, overrun and
break counts, edge events the kernel dropped, faults the emulator saw in the
background. They queue up until read with `error_query` /
`error_query_all`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Collection
from typing import TYPE_CHECKING

from .errors import ConfigurationError, InstrumentStatusError

if TYPE_CHECKING:
    from .backends.base import Identity
    from .session import Session

DRIVER_IDENTIFIER = "RpiBoard_Pihil"
DRIVER_VENDOR = "pihil developers"
DRIVER_VERSION = "0.1.0"
"""Semver, and a FileVersion in the IVI Driver Core sense (Major.Minor.Build, each 0..65535).

MajorVersion 0 marks the pre-release of the initial release, which the core
spec allows. Keep in step with ``version`` in pyproject.toml (a test checks).
"""

_FILE_VERSION = re.compile(r"^(\d{1,5})\.(\d{1,5})\.(\d{1,5})(?:\.(\d{1,5}))?(?: [\x20-\x7e]+)?$")


def is_valid_driver_version(text: str) -> bool:
    """True if ``text`` is a FileVersion optionally followed by a space and ASCII text."""
    m = _FILE_VERSION.match(text)
    return m is not None and all(int(g) <= 65535 for g in m.groups() if g is not None)


class ErrorQueryResult:
    """One error the instrument reported: a code and a message (IVI-Python)."""

    def __init__(self, code: int, message: str) -> None:
        self._code = code
        self._message = message

    @property
    def code(self) -> int:
        return self._code

    @property
    def message(self) -> str:
        return self._message

    def __str__(self) -> str:
        return f"{self._code}: {self._message}"

    def __repr__(self) -> str:
        return f"ErrorQueryResult({self._code!r}, {self._message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ErrorQueryResult):
            return NotImplemented
        return (self._code, self._message) == (other._code, other._message)

    def __hash__(self) -> int:
        return hash((self._code, self._message))


class IviUtility(ABC):
    """The IVI-Python utility interface, as the specification defines it."""

    @property
    @abstractmethod
    def driver_version(self) -> str: ...

    @property
    @abstractmethod
    def driver_vendor(self) -> str: ...

    @property
    @abstractmethod
    def instrument_manufacturer(self) -> str: ...

    @property
    @abstractmethod
    def instrument_model(self) -> str: ...

    @property
    @abstractmethod
    def query_instrument_status_enabled(self) -> bool: ...

    @query_instrument_status_enabled.setter
    @abstractmethod
    def query_instrument_status_enabled(self, enabled: bool) -> None: ...

    @property
    @abstractmethod
    def simulation_enabled(self) -> bool: ...

    @abstractmethod
    def error_query(self) -> ErrorQueryResult | None: ...

    @abstractmethod
    def error_query_all(self) -> Collection[ErrorQueryResult]:
        return []

    @abstractmethod
    def raise_on_device_error(self) -> None: ...

    @abstractmethod
    def reset(self) -> None: ...

    @property
    @abstractmethod
    def supported_instrument_models(self) -> tuple[str, ...]: ...


class RpiBoardUtility(IviUtility):
    """``board.ivi_utility``: identity, simulation state, device errors and reset of a session.

    After ``close()`` the members that report on the instrument or the session (its
    identity, status checking, simulation state, errors, reset) raise
    `SessionClosedError`, as every other driver call does; the driver's own facts
    (`driver_version`, `driver_vendor`, `driver_identifier`,
    `supported_instrument_models`) need no session and keep answering.
    """

    def __init__(self, session: Session, identity: Identity, supported: tuple[str, ...]) -> None:
        self._session = session
        self._identity = identity
        self._supported = supported

    def _open(self) -> Session:
        """The session, if it is still open (else `SessionClosedError`)."""
        session = self._session
        with session.lock:
            if session.closed:
                session.refuse_closed()
        return session

    @property
    def driver_version(self) -> str:
        """Driver version: FileVersion ``Major.Minor.Build`` (semver), e.g. ``0.1.0``."""
        return DRIVER_VERSION

    @property
    def driver_vendor(self) -> str:
        """The vendor of this driver."""
        return DRIVER_VENDOR

    @property
    def driver_identifier(self) -> str:
        """The IVI Driver Identifier, ``RpiBoard_Pihil``."""
        return DRIVER_IDENTIFIER

    @property
    def instrument_manufacturer(self) -> str:
        """Manufacturer of the board (from its profile, checked against the kernel on hardware)."""
        self._open()
        return self._identity.manufacturer

    @property
    def instrument_model(self) -> str:
        """Model of the board, one of `supported_instrument_models`."""
        self._open()
        return self._identity.model

    @property
    def instrument_model_reported(self) -> str:
        """What the board itself reports: ``/proc/device-tree/model`` on hardware.

        The kernel names the SoM (``Raspberry Pi Compute Module 4 Rev 1.0``) and the
        board revision; `instrument_model` names the board the profile describes.
        """
        self._open()
        return self._identity.reported

    @property
    def instrument_serial_number(self) -> str | None:
        """The board's serial number: ``/proc/device-tree/serial-number`` on hardware; None
        where the board does not give one (the emulator, a board without it)."""
        self._open()
        return self._identity.serial

    @property
    def instrument_revision(self) -> str | None:
        """The board's revision code: ``Revision`` in ``/proc/cpuinfo`` on hardware (for
        example ``c03141`` for a CM4); None where the board does not give one."""
        self._open()
        return self._identity.revision

    @property
    def supported_instrument_models(self) -> tuple[str, ...]:
        """Models this driver supports, exactly as `instrument_model` returns them."""
        return self._supported

    @property
    def query_instrument_status_enabled(self) -> bool:
        """When True, every call checks the board's own error reports and raises them.

        False at construction unless the ``query_instrument_status`` option says otherwise.
        """
        return self._open().query_instrument_status

    @query_instrument_status_enabled.setter
    def query_instrument_status_enabled(self, enabled: bool) -> None:
        if not isinstance(enabled, bool):
            raise ConfigurationError(
                f"query_instrument_status_enabled takes True or False, got {enabled!r}"
            )
        with self._session.lock:
            self._open().query_instrument_status = enabled

    # the names the IVI-Python "Required Driver API Mapping Table" uses
    @property
    def query_instrument_status(self) -> bool:
        """Alias of `query_instrument_status_enabled` (the spec's mapping-table name)."""
        return self.query_instrument_status_enabled

    @query_instrument_status.setter
    def query_instrument_status(self, enabled: bool) -> None:
        self.query_instrument_status_enabled = enabled

    @property
    def simulation_enabled(self) -> bool:
        """True when the session runs on the emulator (fixed at construction)."""
        return self._open().backend.simulated

    @property
    def simulate(self) -> bool:
        """Alias of `simulation_enabled` (the spec's mapping-table name)."""
        return self.simulation_enabled

    def error_query(self) -> ErrorQueryResult | None:
        """The oldest error the board reported, removed from the queue; None when there is none."""
        with self._session.lock:  # one step: no close() between the look and the answer
            self._open().collect()
            return self._session.errors.popleft() if self._session.errors else None

    def error_query_all(self) -> list[ErrorQueryResult]:
        """All queued errors, oldest first; the queue is emptied."""
        with self._session.lock:
            self._open().collect()
            out = list(self._session.errors)
            self._session.errors.clear()
            return out

    def raise_on_device_error(self) -> None:
        """Raise `InstrumentStatusError` if the board reported any error (the queue is emptied)."""
        errors = self.error_query_all()
        if errors:
            raise InstrumentStatusError(
                f"the board reported {len(errors)} error(s): " + "; ".join(str(e) for e in errors),
                errors=errors,
            )

    def reset(self) -> None:
        """Put the board in its known state (see the introduction document, "Reset").

        GPIO lines the driver exposes become inputs with their reset pulls and no
        edge detection, SPI devices go back to mode 0 at 500 kHz, UARTs to 115200 8N1
        with empty buffers, I2C buses to 100 kHz where the backend can set it.
        """
        self._session.call(self._session.backend.reset)
