"""The skeleton of a numbered interface of the board (an I2C bus, an SPI bus, a UART): its
profile entry, physical name and number, and for those reached through the session its
session and backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from .session import Session


class NumberedInfo(Protocol):
    """A profile entry of a numbered interface (`I2cBusInfo`, `SpiBusInfo`, `UartInfo`)."""

    @property
    def name(self) -> str: ...

    @property
    def number(self) -> int: ...


InfoT = TypeVar("InfoT", bound=NumberedInfo)


class NumberedInterface(Generic[InfoT]):
    """One numbered interface of the board, by its profile entry (`SpiBus`; through the
    session: `SessionInterface`)."""

    __slots__ = ("_info",)

    def __init__(self, info: InfoT) -> None:
        self._info = info

    @property
    def name(self) -> str:
        """The physical name (``i2c1``, ``spi0``, ``uart0``)."""
        return self._info.name

    @property
    def number(self) -> int:
        """The interface's number (Linux ``/dev/i2c-<n>``, the n of ``spi<n>``, ``uart<n>``)."""
        return self._info.number


class SessionInterface(NumberedInterface[InfoT]):
    """One numbered interface whose operations run through the session (`I2cBus`, `Uart`)."""

    __slots__ = ("_backend", "_session")

    def __init__(self, session: Session, info: InfoT) -> None:
        self._session = session
        self._backend = session.backend
        super().__init__(info)
