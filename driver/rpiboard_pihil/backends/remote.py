"""The remote backend: the driver on a board served by ``pihil agent``, over TCP.

``RpiBoard("TCPIP::pi4::5025::SOCKET")`` opens it. It speaks the agent's
protocol (docs/agent.md, `rpiboard_pihil.agent.protocol`) through PyVISA with
the pure-Python ``@py`` backend (pyvisa-py) as a raw socket instrument: a query
is one round trip; a command is sent together with ``SYST:ERR?`` so that it
costs one round trip too and its error comes back as the driver exception the
agent raised (rebuilt from the error code and its JSON details).

On an agent that emulates its board (``pihil agent --sim``) the session is simulated and
``board.simulation`` is served through the agent's SIM commands
(`agent.remote_simulation`).

The token for an agent started with ``--token-file`` comes from the
``PIHIL_AGENT_TOKEN`` variable (or the file named by ``PIHIL_AGENT_TOKEN_FILE``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .. import errors as err
from ..agent.protocol import BOARD_IN_USE, ERROR_CODES, encode_block
from ..agent.remote_simulation import RemoteSimulation
from ..board_info import BoardInfo
from ..enums import DeviceErrorCode, Direction, Drive, Edge, EdgeKind, Function, Parity, Pull
from ..utility import ErrorQueryResult
from .base import EdgeEvent, I2cMessage, Identity, UartFormat

RESOURCE = re.compile(
    r"^TCPIP(\d*)::(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)::(?P<port>\d{1,5})::SOCKET$",
    re.IGNORECASE,
)
"""VISA's raw socket resource: ``TCPIP[board]::<host>::<port>::SOCKET``."""
ENV_TOKEN = "PIHIL_AGENT_TOKEN"
ENV_TOKEN_FILE = "PIHIL_AGENT_TOKEN_FILE"
BASE_TIMEOUT_MS = 10_000
"""How long a reply may take beyond the time the operation itself asks for."""
_CLASS_OF_CODE = {code: cls for cls, code in ERROR_CODES}
_ERROR = re.compile(r'^!?(-?\d+),"(.*)"$', re.S)


def is_resource(name: str) -> bool:
    return RESOURCE.match(name) is not None


def _token() -> str | None:
    token = os.environ.get(ENV_TOKEN)
    path = os.environ.get(ENV_TOKEN_FILE)
    if token is None and path:
        try:
            with open(path, encoding="utf-8") as f:
                token = f.read().strip()
        except OSError as exc:
            raise err.OptionError(f"cannot read {ENV_TOKEN_FILE}={path!r}: {exc}") from exc
    return token or None


def rebuild_error(line: str) -> err.PihilError:
    """The driver exception for an agent error line ``[!]<code>,"<text>[;<json>]"``."""
    m = _ERROR.match(line.strip())
    if m is None:
        return err.PihilError(f"the agent answered something unexpected: {line[:200]!r}")
    code = int(m.group(1))
    text = m.group(2).replace('""', '"')
    details: dict[str, Any] = {}
    head, sep, tail = text.rpartition(";")
    if sep and tail.startswith("{"):
        try:
            details = json.loads(tail)
            text = head
        except ValueError:
            details = {}
    if code < 0:
        # a protocol-level refusal (SCPI code): the agent did not run the command
        return err.ConfigurationError(f"the agent refused the command ({code}): {text}")
    cls = _CLASS_OF_CODE.get(code, err.PihilError)
    d = details
    try:
        if issubclass(cls, err.BusError):
            return cls(
                text,
                bus=str(d.get("bus", "")),
                kind=str(d.get("kind", "io")),
                address=d.get("address"),
                phase=d.get("phase"),
                transferred=int(d.get("transferred", 0)),
                errno_name=d.get("errno_name"),
            )
        if cls is err.ElectricalFaultError:
            return cls(
                text,
                net=str(d.get("net", "")),
                drivers=d.get("drivers", ()),
                time_ns=d.get("time_ns"),
            )
        if cls is err.SelectorError:
            return cls(text, legal=d.get("legal", ()))
        if cls is err.ResourceNotFoundError:
            return cls(text, path=str(d.get("path", "")))
        if cls is err.IdQueryError:
            return cls(text, found=str(d.get("found", "")), supported=d.get("supported", ()))
        if cls is err.InstrumentStatusError:
            return cls(text, errors=())
        return cls(text)
    except (TypeError, ValueError):
        return err.PihilError(text)


class RemoteBackend:
    """A `Backend` whose operations run on a board agent."""

    def __init__(
        self, resource: str, catalogue: Mapping[str, BoardInfo], token: str | None
    ) -> None:
        import pyvisa

        m = RESOURCE.match(resource)
        if m is not None:  # VISA names are case-insensitive; pyvisa parses the canonical form
            resource = f"TCPIP{m.group(1)}::{m.group('host')}::{m.group('port')}::SOCKET"
        self._resource = resource
        self._errors_type = pyvisa.errors.VisaIOError
        try:
            inst: Any = _resource_manager().open_resource(
                resource, read_termination="\n", write_termination="\n", timeout=BASE_TIMEOUT_MS
            )
        except (pyvisa.errors.VisaIOError, OSError, ValueError) as exc:
            raise err.ResourceNotFoundError(
                f"cannot reach a board agent at {resource}: {exc}; start one there with "
                "`pihil agent` (or `pihil agent --sim --board mirkopc`)",
                path=resource,
            ) from exc
        self._inst = inst
        self._timeout = BASE_TIMEOUT_MS
        self._token = token
        self._queued: list[ErrorQueryResult] = []
        """Device errors found here (a reboot seen on reconnecting), before the agent's own."""
        try:
            if token is not None:
                self._send(f"AUTH {token}".encode())
            idn = self._query("*IDN?")
            if "pihil-agent" not in idn:
                raise err.IdQueryError(
                    f"{resource} answers *IDN? with {idn!r}, which is not a pihil board agent",
                    found=idn,
                    supported=(),
                )
            board = self._query("SYST:BOARD?")
            if board not in catalogue:
                raise err.ProfileError(
                    f"the agent serves board {board!r}, which this driver has no profile of; "
                    "install the same rpiboard-pihil version on both sides"
                )
            self._info = catalogue[board]
            manufacturer, model, reported = _strings(self._query("SYST:IDEN?"))
            self._identity = Identity(manufacturer, model, reported)
            self._sim_agent = self._query("SYST:SIM?") == "1"
            self.simulation = RemoteSimulation(self)
            """``board.simulation`` when the agent emulates the board (`agent.remote_simulation`)."""
            self._boot = self._query("SYST:BOOT?")
        except BaseException:
            self.close()
            raise

    # -- transport ---------------------------------------------------------------------------
    def _send(self, payload: bytes) -> None:
        if self._inst is None:
            raise err.ResourceNotFoundError(
                f"the connection to the board agent at {self._resource} is gone and could not "
                "be made again: close this session and open a new one",
                path=self._resource,
            )
        try:
            self._inst.write_raw(payload + b"\n")
        except (self._errors_type, OSError) as exc:
            raise self._lost(exc) from exc

    def _lost(self, exc: BaseException) -> err.PihilError:
        if not hasattr(self, "_info"):
            return err.ResourceNotFoundError(
                f"cannot reach a board agent at {self._resource}: {exc}; start one there with "
                "`pihil agent` (or `pihil agent --sim --board mirkopc`)",
                path=self._resource,
            )
        return err.ResourceNotFoundError(
            f"lost the board agent at {self._resource}: {exc}; {self._reconnect()}",
            path=self._resource,
        )

    def _reconnect(self) -> str:
        """After a lost connection: open it again once and compare the board's boot id. A
        new one means the board rebooted (its settings are the defaults again): a
        BOARD_RESET device error is queued. Returns what happened, for the error message."""
        import pyvisa

        old = self._inst
        self._inst = None
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()
        try:
            inst: Any = _resource_manager().open_resource(
                self._resource,
                read_termination="\n",
                write_termination="\n",
                timeout=BASE_TIMEOUT_MS,
            )
            if self._token is not None:
                inst.write(f"AUTH {self._token}")
            inst.write("SYST:BOOT?")
            boot = str(inst.read()).strip()
        except (pyvisa.errors.VisaIOError, OSError, ValueError) as exc:
            return f"it did not answer again ({exc}); the session stays broken: close it"
        self._inst = inst
        self._timeout = BASE_TIMEOUT_MS
        if boot.startswith("!"):
            return f"it answered again but refused ({boot}): close the session"
        if boot == self._boot:
            return "reconnected to the same boot of the board; the operation may not have run"
        self._boot = boot
        self._queued.append(
            ErrorQueryResult(
                int(DeviceErrorCode.BOARD_RESET),
                f"the board behind {self._resource} rebooted (its boot id changed): its "
                "GPIO, I2C, SPI and UART settings are the defaults again",
            )
        )
        return (
            "reconnected: the board has rebooted (its settings are the defaults again; "
            "error_query reports BOARD_RESET); the operation did not run"
        )

    def _line(self) -> str:
        try:
            text: str = self._inst.read()
        except (self._errors_type, OSError) as exc:
            raise self._lost(exc) from exc
        if text.startswith("!"):
            raise self._refusal(text)
        return text

    def _refusal(self, text: str) -> err.PihilError:
        m = _ERROR.match(text.strip())
        if m and int(m.group(1)) == BOARD_IN_USE and "board in use" in text:
            return err.ResourceBusyError(f"the agent at {self._resource} says: {m.group(2)}")
        if m and int(m.group(1)) == -203:
            return err.PihilError(
                f"the agent at {self._resource} refused the connection: {m.group(2)}; "
                f"give its token in {ENV_TOKEN} (or {ENV_TOKEN_FILE})"
            )
        return rebuild_error(text)

    def _set_timeout(self, extra_ns: int) -> None:
        want = BASE_TIMEOUT_MS + extra_ns // 1_000_000 if not self._sim_agent else BASE_TIMEOUT_MS
        if want != self._timeout:
            self._inst.timeout = want
            self._timeout = want

    def _query(self, text: str | bytes, extra_ns: int = 0) -> str:
        if hasattr(self, "_sim_agent"):
            self._set_timeout(extra_ns)
        self._send(text.encode() if isinstance(text, str) else text)
        return self._line().rstrip("\r")

    def _command(self, payload: bytes | str, extra_ns: int = 0) -> None:
        """Run a command and read its error (one round trip)."""
        raw = payload.encode() if isinstance(payload, str) else payload
        self._set_timeout(extra_ns)
        self._send(raw + b"\nSYST:ERR?")
        answer = self._line()
        if not answer.startswith("0,"):
            raise rebuild_error(answer)

    def _block_query(self, payload: bytes, extra_ns: int = 0) -> bytes:
        self._set_timeout(extra_ns)
        self._send(payload)
        try:
            raw = bytes(self._inst.read_raw())  # up to the first newline, maybe inside the block
            if raw[:1] == b"!":
                raise self._refusal(raw.decode("utf-8", "replace"))
            if raw[:1] != b"#" or not raw[1:2].isdigit():
                raise err.PihilError(f"the agent sent {raw[:40]!r} where a block was due")
            digits = int(raw[1:2])
            size = int(raw[2 : 2 + digits])
            need = 2 + digits + size + 1
            while len(raw) < need:
                raw += bytes(self._inst.read_raw())
            data = raw[2 + digits : 2 + digits + size]
        except (self._errors_type, OSError, ValueError) as exc:
            raise self._lost(exc) from exc
        return data

    # -- the Backend protocol ----------------------------------------------------------------
    @property
    def info(self) -> BoardInfo:
        return self._info

    @property
    def simulated(self) -> bool:
        # an agent that emulates its board serves board.simulation (its SIM commands)
        return self._sim_agent

    def sim_query(self, payload: bytes) -> str:
        """A SIM query (text or blocks in ``payload``): its one answer line."""
        return self._query(payload)

    def sim_command(self, payload: bytes, extra_ns: int = 0) -> None:
        self._command(payload, extra_ns)

    def identify(self) -> Identity:
        return self._identity

    def reset(self) -> None:
        self._command("*RST")

    def close(self) -> None:
        inst = getattr(self, "_inst", None)
        if inst is not None:
            with contextlib.suppress(Exception):  # the connection may be gone already
                inst.close()
            self._inst = None

    def now_ns(self) -> int:
        return int(self._query("SYST:TIME?"))

    def delay_ns(self, duration_ns: int) -> None:
        self._command(f"DELAY {duration_ns}", duration_ns)

    def device_errors(self) -> list[ErrorQueryResult]:
        queued, self._queued = self._queued, []
        parts = _fields(self._query("SYST:DERR?"))
        n = int(parts[0])
        return queued + [
            ErrorQueryResult(int(parts[1 + 2 * i]), _unquote(parts[2 + 2 * i])) for i in range(n)
        ]

    # GPIO
    def gpio_get_function(self, line: int) -> Function:
        return Function[self._query(f"GPIO:FUNC? {line}")]

    def gpio_set_function(self, line: int, function: Function) -> None:
        self._command(f"GPIO:FUNC {line},{function.name}")

    def gpio_get_direction(self, line: int) -> Direction:
        return Direction[self._query(f"GPIO:DIR? {line}")]

    def gpio_set_direction(self, line: int, direction: Direction, value: bool) -> None:
        self._command(f"GPIO:DIR {line},{direction.name},{int(value)}")

    def gpio_read(self, line: int) -> bool:
        return self._query(f"GPIO:LEV? {line}") == "1"

    def gpio_write(self, line: int, value: bool) -> None:
        self._command(f"GPIO:LEV {line},{int(value)}")

    def gpio_get_pull(self, line: int) -> Pull:
        return Pull[self._query(f"GPIO:PULL? {line}")]

    def gpio_set_pull(self, line: int, pull: Pull) -> None:
        self._command(f"GPIO:PULL {line},{pull.name}")

    def gpio_get_drive(self, line: int) -> Drive:
        return Drive[self._query(f"GPIO:DRIV? {line}")]

    def gpio_set_drive(self, line: int, drive: Drive) -> None:
        self._command(f"GPIO:DRIV {line},{drive.name}")

    def gpio_get_edge_detection(self, line: int) -> tuple[Edge, int]:
        edge, debounce = self._query(f"GPIO:EDGE? {line}").split(",")
        return Edge[edge], int(debounce)

    def gpio_set_edge_detection(self, line: int, edge: Edge, debounce_ns: int) -> None:
        self._command(f"GPIO:EDGE {line},{edge.name},{debounce_ns}")

    def gpio_wait_edges(self, line: int, timeout_ns: int) -> list[EdgeEvent]:
        parts = self._query(f"GPIO:WAIT? {line},{timeout_ns}", timeout_ns).split(",")
        return [
            EdgeEvent(EdgeKind[parts[i]], int(parts[i + 1]), int(parts[i + 2]), int(parts[i + 3]))
            for i in range(1, 1 + 4 * int(parts[0]), 4)
        ]

    # I2C
    def i2c_transfer(self, bus: int, messages: Sequence[I2cMessage]) -> list[bytes]:
        out = bytearray(b"I2C:XFER? %d" % bus)
        for m in messages:
            if m.read:
                out += b",R,%d,%d" % (m.address, m.length)
            else:
                out += b",W,%d," % m.address + encode_block(m.data)
        data = self._block_query(bytes(out))
        reads, pos = [], 0
        for m in messages:
            if m.read:
                reads.append(data[pos : pos + m.length])
                pos += m.length
        return reads

    def i2c_get_frequency(self, bus: int) -> int:
        return int(self._query(f"I2C:FREQ? {bus}"))

    def i2c_set_frequency(self, bus: int, hz: int) -> None:
        self._command(f"I2C:FREQ {bus},{hz}")

    # SPI
    def spi_transfer(self, bus: int, cs: int, data: bytes) -> bytes:
        return self._block_query(b"SPI:XFER? %d,%d," % (bus, cs) + encode_block(data))

    def spi_get_mode(self, bus: int, cs: int) -> int:
        return int(self._query(f"SPI:MODE? {bus},{cs}"))

    def spi_set_mode(self, bus: int, cs: int, mode: int) -> None:
        self._command(f"SPI:MODE {bus},{cs},{mode}")

    def spi_get_speed(self, bus: int, cs: int) -> int:
        return int(self._query(f"SPI:SPEED? {bus},{cs}"))

    def spi_set_speed(self, bus: int, cs: int, hz: int) -> None:
        self._command(f"SPI:SPEED {bus},{cs},{hz}")

    # UART
    def uart_get_format(self, uart: int) -> UartFormat:
        baud, bits, parity, stop = self._query(f"UART:FORM? {uart}").split(",")
        return UartFormat(int(baud), int(bits), Parity(parity), int(stop))

    def uart_set_format(self, uart: int, fmt: UartFormat) -> None:
        p = fmt.parity.value
        self._command(f"UART:FORM {uart},{fmt.baud_rate},{fmt.data_bits},{p},{fmt.stop_bits}")

    def uart_write(self, uart: int, data: bytes) -> None:
        self._command(b"UART:WRIT %d," % uart + encode_block(data))

    def uart_read(self, uart: int, n: int, timeout_ns: int) -> bytes:
        return self._block_query(b"UART:READ? %d,%d,%d" % (uart, n, timeout_ns), timeout_ns)

    def uart_in_waiting(self, uart: int) -> int:
        return int(self._query(f"UART:WAIT? {uart}"))

    def uart_send_break(self, uart: int, duration_ns: int) -> None:
        self._command(f"UART:BRK {uart},{duration_ns}", duration_ns)

    def uart_flush(self, uart: int) -> None:
        self._command(f"UART:FLUSH {uart}", 10**10)

    def uart_discard_input(self, uart: int) -> None:
        self._command(f"UART:DISC {uart}")


_RM: Any = None


def _resource_manager() -> Any:
    """One pyvisa-py resource manager for every session (closing one would close them all)."""
    global _RM
    import pyvisa

    if _RM is not None:
        try:
            _RM.session  # noqa: B018 - raises once someone closed it (pyvisa shares it)
        except pyvisa.errors.InvalidSession:
            _RM = None
    if _RM is None:
        _RM = pyvisa.ResourceManager("@py")
    return _RM


def open_remote(
    resource: str, catalogue: Mapping[str, BoardInfo], *, board: str | None = None
) -> RemoteBackend:
    """Connect to the agent named by a ``TCPIP::host::port::SOCKET`` resource.

    ``board`` (the ``board`` option), if given, must be the profile the agent serves.
    """
    backend = RemoteBackend(resource, catalogue, _token())
    if board is not None and board != backend.info.name:
        served = backend.info.name
        backend.close()
        raise err.OptionError(
            f"option 'board' is {board!r}, but the agent at {resource} serves {served!r}; "
            "leave the option out (the agent decides) or start the agent with --board"
        )
    return backend


def _fields(text: str) -> list[str]:
    """Split a response on commas outside SCPI strings."""
    out: list[str] = []
    cur: list[str] = []
    inside = False
    for ch in text:
        if ch == '"':
            inside = not inside
        if ch == "," and not inside:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _unquote(text: str) -> str:
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] == '"':
        t = t[1:-1]
    return t.replace('""', '"')


def _strings(text: str) -> list[str]:
    parts = [_unquote(p) for p in _fields(text)]
    if len(parts) != 3:
        raise err.PihilError(f"the agent's SYST:IDEN? answer is malformed: {text[:200]!r}")
    return parts
