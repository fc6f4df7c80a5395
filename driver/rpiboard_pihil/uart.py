"""UARTs: the ``uarts`` repeated capability (`UartCollection` of `Uart`).

``uart0`` (and ``uart2``..``uart5`` on BCM2711) are PL011s with 5..8 data
bits, any parity and 1 or 2 stop bits; ``uart1`` is the mini UART: 7 or 8
data bits, no parity, one stop bit (soc-facts §4.2). Receive errors
(framing, parity, overrun, break) are device errors (``ivi_utility.error_query``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from .backends.base import UartFormat
from .board_info import UartInfo
from .capability import SessionInterface
from .collection import NumberedCollection
from .enums import Parity, UartId
from .errors import ConfigurationError, NotSupportedError
from .validate import ByteData, data_bytes, integer, member, seconds_to_ns

if TYPE_CHECKING:
    from .session import Session

MAX_BAUD = 31_250_000
"""The fastest any Pi UART goes: the mini UART at 250 MHz with BAUD = 0 (soc-facts §4.2)."""
MAX_IO = 1 << 20


class Uart(SessionInterface[UartInfo]):
    """One UART (``uart0``)."""

    __slots__ = ()

    @property
    def kind(self) -> str:
        """``"pl011"`` or ``"mini"``."""
        return self._info.kind

    # -- line settings ---------------------------------------------------------------------
    @property
    def format(self) -> UartFormat:
        """All line settings at once (baud rate, data bits, parity, stop bits)."""
        return self._session.call(self._backend.uart_get_format, self._info.number)

    @format.setter
    def format(self, fmt: UartFormat) -> None:
        if not isinstance(fmt, UartFormat):
            raise ConfigurationError(f"{self.name}.format takes a UartFormat; got {fmt!r}")
        self._session.call(self._set_format, fmt)

    @property
    def baud_rate(self) -> int:
        """Bits per second (115200 after open and reset)."""
        return self.format.baud_rate

    @baud_rate.setter
    def baud_rate(self, baud: int) -> None:
        b = integer(baud, f"{self.name}.baud_rate", 1, MAX_BAUD)
        self._session.call(self._change, baud_rate=b)

    @property
    def data_bits(self) -> int:
        """5..8 on a PL011, 7 or 8 on the mini UART."""
        return self.format.data_bits

    @data_bits.setter
    def data_bits(self, bits: int) -> None:
        b = integer(bits, f"{self.name}.data_bits", 5, 8)
        self._session.call(self._change, data_bits=b)

    @property
    def parity(self) -> Parity:
        return self.format.parity

    @parity.setter
    def parity(self, parity: Parity) -> None:
        p = member(parity, Parity, f"{self.name}.parity")
        self._session.call(self._change, parity=p)

    @property
    def stop_bits(self) -> int:
        """1 or 2 (a PL011 has no 1.5)."""
        return self.format.stop_bits

    @stop_bits.setter
    def stop_bits(self, bits: int) -> None:
        b = integer(bits, f"{self.name}.stop_bits", 1, 2)
        self._session.call(self._change, stop_bits=b)

    def _change(self, **changes: object) -> None:
        old = self._backend.uart_get_format(self._info.number)
        self._set_format(dataclasses.replace(old, **changes))  # type: ignore[arg-type]

    def _set_format(self, fmt: UartFormat) -> None:
        integer(fmt.baud_rate, f"{self.name}.baud_rate", 1, MAX_BAUD)
        integer(fmt.data_bits, f"{self.name}.data_bits", 5, 8)
        member(fmt.parity, Parity, f"{self.name}.parity")
        integer(fmt.stop_bits, f"{self.name}.stop_bits", 1, 2)
        if self._info.kind == "mini" and (
            fmt.data_bits not in (7, 8) or fmt.parity is not Parity.NONE or fmt.stop_bits != 1
        ):
            raise NotSupportedError(
                f"{self.name} is the mini UART: 7 or 8 data bits, no parity, 1 stop bit only "
                f"(soc-facts §4.2); got {fmt.data_bits}{fmt.parity.value}{fmt.stop_bits}. "
                "Use a PL011 (uart0; on boards where it serves Bluetooth, "
                "dtoverlay=disable-bt or dtoverlay=miniuart-bt in config.txt frees it)"
            )
        self._backend.uart_set_format(self._info.number, fmt)

    # -- data ------------------------------------------------------------------------------
    def write(self, data: ByteData) -> None:
        """Send ``data``; returns once it is handed to the transmitter."""
        tx = data_bytes(data, f"{self.name}.write data", MAX_IO)
        self._session.call(self._backend.uart_write, self._info.number, tx)

    def read(self, n: int, timeout_s: float) -> bytes:
        """Up to ``n`` received bytes: returns as soon as ``n`` arrived, or what came by the timeout.

        In simulation the timeout is simulated time.
        """
        count = integer(n, f"{self.name}.read(n)", 0, MAX_IO)
        ns = seconds_to_ns(timeout_s, f"{self.name}.read(timeout_s)")
        return self._session.call(self._backend.uart_read, self._info.number, count, ns)

    @property
    def in_waiting(self) -> int:
        """Bytes received and not read yet."""
        return self._session.call(self._backend.uart_in_waiting, self._info.number)

    def send_break(self, duration_s: float = 0.25) -> None:
        """Hold TX low (a break) for ``duration_s``, more than 0 and up to 10 s (default 0.25 s)."""
        ns = seconds_to_ns(duration_s, f"{self.name}.send_break(duration_s)", 10.0)
        if ns == 0:
            raise ConfigurationError(f"{self.name}.send_break: a break lasts a positive time")
        self._session.call(self._backend.uart_send_break, self._info.number, ns)

    def flush(self) -> None:
        """Wait until everything written has left the transmitter."""
        self._session.call(self._backend.uart_flush, self._info.number)

    def discard_input(self) -> None:
        """Drop everything received and not read yet."""
        self._session.call(self._backend.uart_discard_input, self._info.number)

    def __repr__(self) -> str:
        return f"Uart({self.name}: {self.kind})"


class UartCollection(NumberedCollection[Uart]):
    """``board.uarts``: by name (``uart0``), number or `UartId`."""

    _kind = "UART"
    _enums = (UartId,)
    _prefix = "UART"

    def __init__(self, session: Session, uarts: tuple[UartInfo, ...], owner: str) -> None:
        super().__init__(
            uarts,
            lambda u: Uart(session, u),
            aliases={u.linux_device: u.name for u in uarts},
            owner=owner,
        )
