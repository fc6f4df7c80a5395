"""The board agent's text protocol: parsing of command lines and dispatch onto a `Backend`.

SCPI-like (IEEE 488.2 / SCPI-1999 conventions), one command per line, ``\\n``
terminated, headers case-insensitive; a raw socket instrument for PyVISA
(``TCPIP::host::5025::SOCKET``). Binary data travels as IEEE 488.2
definite-length blocks ``#<n><len><bytes>`` (488.2 §7.7.6), which may contain
``\\n``. Queries (header ending in ``?``) get exactly one response line;
commands get none and queue their error for ``SYST:ERR?`` (SCPI-1999 §21.8,
``<code>,"<text>"``, ``0,"No error"``). A failed query answers
``!<code>,"<text>"`` in place of its response. docs/agent.md lists every command.

This module is the framing (`Reader`: lines capped at `MAX_LINE` bytes of text,
blocks at `MAX_BLOCK` bytes) and the error codes; `commands` checks the arguments
and runs them on the backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import rpiboard_pihil.errors as err

DEFAULT_PORT = 5025
"""The SCPI-over-raw-socket port (IANA "scpi-raw")."""
MAX_LINE = 4096
"""Bytes of text (everything outside blocks) one command line may have."""
MAX_BLOCK = 1 << 20
"""Bytes one definite-length block may carry (the driver's UART write limit)."""
MAX_QUEUE = 32
"""Entries of the error queue; on overflow the last becomes -350 "Queue overflow"."""
MAX_DELAY_NS = 10**18
"""The driver's longest delay, 1e9 s."""

# -- error codes ----------------------------------------------------------------------------

# SCPI-1999 §21.8 standard codes
COMMAND_ERROR = -100
SYNTAX_ERROR = -102
DATA_TYPE_ERROR = -104
PARAMETER_NOT_ALLOWED = -108
MISSING_PARAMETER = -109
UNDEFINED_HEADER = -113
BLOCK_DATA_ERROR = -160
EXECUTION_ERROR = -200
COMMAND_PROTECTED = -203
DATA_OUT_OF_RANGE = -222
TOO_MUCH_DATA = -223
QUEUE_OVERFLOW = -350
INPUT_BUFFER_OVERRUN = -363

# device-specific codes (positive): one per driver exception, most specific first
ERROR_CODES: tuple[tuple[type[err.PihilError], int], ...] = (
    (err.I2cNackError, 131),
    (err.I2cClockStretchTimeoutError, 132),
    (err.BusTimeoutError, 133),
    (err.BusError, 130),
    (err.ElectricalFaultError, 120),
    (err.SimulationNotAvailableError, 110),
    (err.NotSupportedError, 109),
    (err.ConfigurationError, 108),
    (err.SelectorError, 107),
    (err.SessionClosedError, 106),
    (err.IdQueryError, 105),
    (err.ResourceBusyError, 104),
    (err.ResourceNotFoundError, 103),
    (err.ResourceNameError, 102),
    (err.OptionError, 101),
    (err.ProfileError, 111),
    (err.RegisterAccessError, 112),
    (err.UartError, 140),
    (err.InstrumentStatusError, 150),
    (err.PihilError, 100),
)
BOARD_IN_USE = 104


class ProtocolError(Exception):
    """A command the agent refuses: an SCPI error code and a message for the client.

    ``fatal`` means the byte stream cannot be resynchronised (a block header that
    lies): the agent answers and closes the connection.
    """

    def __init__(self, code: int, message: str, *, fatal: bool = False, query: bool = False):
        self.code = code
        self.message = message
        self.fatal = fatal
        self.query = query
        super().__init__(message)


def error_code(exc: err.PihilError) -> int:
    for cls, code in ERROR_CODES:
        if isinstance(exc, cls):
            return code
    return 100  # pragma: no cover - PihilError is last


def error_details(exc: err.PihilError) -> dict[str, object]:
    """The attributes a client needs to rebuild the exception (JSON-safe)."""
    names = ("bus", "kind", "address", "phase", "transferred", "errno_name", "net", "path")
    out: dict[str, object] = {n: getattr(exc, n) for n in names if hasattr(exc, n)}
    for n in ("drivers", "legal", "supported"):
        if hasattr(exc, n):
            out[n] = list(getattr(exc, n))
    for n in ("time_ns", "found"):
        if hasattr(exc, n):
            out[n] = getattr(exc, n)
    return out


def quote(text: str) -> str:
    """A SCPI string: double quotes, embedded quotes doubled, one line."""
    flat = " ".join(text.split())
    return '"' + flat.replace('"', '""') + '"'


def format_error(code: int, message: str, details: dict[str, object] | None = None) -> str:
    """``<code>,"<text>"``; device details go after a ``;`` as JSON (SCPI's device info)."""
    text = message
    if details:
        text += ";" + json.dumps(details, separators=(",", ":"))
    return f"{code},{quote(text)}"


def encode_block(data: bytes) -> bytes:
    """An IEEE 488.2 definite-length block."""
    size = str(len(data)).encode()
    return b"#" + str(len(size)).encode() + size + bytes(data)


# -- the command tables -----------------------------------------------------------------------

H = TypeVar("H")


def registrar(table: dict[str, H]) -> Callable[..., Callable[[H], H]]:
    """A ``@handles("HDR", "HDR?")`` decorator that puts its function in ``table``."""

    def handles(*headers: str) -> Callable[[H], H]:
        def register(fn: H) -> H:
            for h in headers:
                table[h] = fn
            return fn

        return register

    return handles


# -- reading commands -----------------------------------------------------------------------


@dataclass
class Command:
    """One parsed line: the header (upper case), its arguments (text or block bytes)."""

    header: str
    args: list[str | bytes] = field(default_factory=list)

    @property
    def query(self) -> bool:
        return self.header.endswith("?")


class Reader:
    """Reads commands from a byte source (``recv(n) -> bytes``, ``b""`` at the end)."""

    def __init__(self, recv: Callable[[int], bytes]) -> None:
        self._recv = recv
        self._buf = bytearray()
        self._pos = 0
        self._last = 0x0A

    @property
    def mid_command(self) -> bool:
        """A command has been started and not finished (its line not yet ended)."""
        return self._last != 0x0A

    def _byte(self) -> int:
        if self._pos >= len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0
            chunk = self._recv(65536)
            if not chunk:
                raise EOFError("the client closed the connection")
            self._buf += chunk
        b = self._buf[self._pos]
        self._pos += 1
        self._last = b
        return b

    def _take(self, n: int) -> bytes:
        while len(self._buf) - self._pos < n:
            chunk = self._recv(65536)
            if not chunk:
                raise EOFError("the client closed the connection in a block")
            self._buf += chunk
        out = bytes(self._buf[self._pos : self._pos + n])
        self._pos += n
        self._last = 0  # inside a line
        return out

    def skip_line(self) -> None:
        """Discard the rest of the line (after an error in it), up to its newline."""
        if self._last == 0x0A:
            return
        while self._byte() != 0x0A:
            pass

    def command(self) -> Command | None:
        """The next command; None for an empty line. Raises `ProtocolError`, `EOFError`."""
        text = 0
        header = bytearray()
        b = self._byte()
        while b in (0x20, 0x09):
            b = self._byte()
        last = 0
        while b not in (0x20, 0x09, 0x0A):
            if len(header) < MAX_LINE:
                header.append(b)
            last = b
            b = self._byte()
        if len(header) >= MAX_LINE:
            # too long a header: a query if it ends in '?' (so the client still gets an answer)
            if b != 0x0A:
                self.skip_line()
            self._check_len(MAX_LINE + 1, last == 0x3F)
        text = len(header)
        try:
            name = header.decode("ascii").rstrip("\r").upper()
        except UnicodeDecodeError:
            raise ProtocolError(
                SYNTAX_ERROR, "the header is not ASCII", query=header.endswith(b"?")
            ) from None
        query = name.endswith("?")
        cmd = Command(name)
        if b == 0x0A:
            return cmd if name else None
        # arguments: comma separated; a '#' at an argument's start opens a block
        while True:
            b = self._byte()
            while b in (0x20, 0x09):
                b = self._byte()
            if b == 0x23:  # '#'
                cmd.args.append(self._block(query))
                b = self._byte()
                while b in (0x20, 0x09, 0x0D):
                    b = self._byte()
            else:
                arg = bytearray()
                while b not in (0x2C, 0x0A):
                    arg.append(b)
                    text += 1
                    self._check_len(text, query)
                    b = self._byte()
                try:
                    cmd.args.append(arg.decode("ascii").strip())
                except UnicodeDecodeError:
                    raise ProtocolError(
                        SYNTAX_ERROR, "an argument is not ASCII", query=query
                    ) from None
            if b == 0x0A:
                return cmd
            if b != 0x2C:
                raise ProtocolError(
                    SYNTAX_ERROR,
                    "a block must be followed by ',' or the end of the line",
                    query=query,
                )

    @staticmethod
    def _check_len(text: int, query: bool) -> None:
        if text > MAX_LINE:
            raise ProtocolError(
                INPUT_BUFFER_OVERRUN,
                f"the command line is longer than {MAX_LINE} bytes of text; "
                "send binary data as a #<n><len><bytes> block",
                query=query,
            )

    def _block(self, query: bool) -> bytes:
        d = self._byte()
        if not 0x31 <= d <= 0x39:
            # '#0' (indefinite length) or garbage: the length is unknown, resync at the newline
            raise ProtocolError(
                BLOCK_DATA_ERROR,
                "a block is #<n><len><bytes> with n 1..9 digits of length "
                "(indefinite-length #0 blocks are not accepted)",
                query=query,
            )
        digits = self._take(d - 0x30)
        if not digits.isdigit():
            raise ProtocolError(
                BLOCK_DATA_ERROR, "the block length is not decimal digits", fatal=True, query=query
            )
        size = int(digits)
        if size > MAX_BLOCK:
            raise ProtocolError(
                TOO_MUCH_DATA,
                f"a block of {size} bytes is more than the {MAX_BLOCK} the agent takes; "
                "the connection is closed (the stream cannot be resynchronised)",
                fatal=True,
                query=query,
            )
        return self._take(size)
