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

The operations of the interfaces are in `remote_ops`, the reading of the agent's answers in
`remote_wire`; this module is the connection (opening, round trips, reconnecting).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from typing import Any

from ..agent.protocol import BOARD_IN_USE
from ..agent.remote_simulation import RemoteSimulation
from ..board_info import BoardInfo
from ..enums import DeviceErrorCode
from ..errors import (
    IdQueryError,
    OptionError,
    PihilError,
    ProfileError,
    ResourceBusyError,
    ResourceNotFoundError,
)
from ..utility import ErrorQueryResult
from .base import Identity
from .remote_ops import RemoteIo
from .remote_wire import _ERROR, _fields, _strings, _unquote, rebuild_error

RESOURCE = re.compile(
    r"^TCPIP(\d*)::(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)::(?P<port>\d{1,5})::SOCKET$",
    re.IGNORECASE,
)
"""VISA's raw socket resource: ``TCPIP[board]::<host>::<port>::SOCKET``."""
ENV_TOKEN = "PIHIL_AGENT_TOKEN"
ENV_TOKEN_FILE = "PIHIL_AGENT_TOKEN_FILE"
BASE_TIMEOUT_MS = 10_000
"""How long a reply may take beyond the time the operation itself asks for."""

__all__ = [
    "BASE_TIMEOUT_MS",
    "ENV_TOKEN",
    "ENV_TOKEN_FILE",
    "RESOURCE",
    "RemoteBackend",
    "RemoteIo",
    "is_resource",
    "open_remote",
    "rebuild_error",
]


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
            raise OptionError(f"cannot read {ENV_TOKEN_FILE}={path!r}: {exc}") from exc
    return token or None


class RemoteBackend(RemoteIo):
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
            raise ResourceNotFoundError(
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
                raise IdQueryError(
                    f"{resource} answers *IDN? with {idn!r}, which is not a pihil board agent",
                    found=idn,
                    supported=(),
                )
            board = self._query("SYST:BOARD?")
            if board not in catalogue:
                raise ProfileError(
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
            raise ResourceNotFoundError(
                f"the connection to the board agent at {self._resource} is gone and could not "
                "be made again: close this session and open a new one",
                path=self._resource,
            )
        try:
            self._inst.write_raw(payload + b"\n")
        except (self._errors_type, OSError) as exc:
            raise self._lost(exc) from exc

    def _lost(self, exc: BaseException) -> PihilError:
        if not hasattr(self, "_info"):
            return ResourceNotFoundError(
                f"cannot reach a board agent at {self._resource}: {exc}; start one there with "
                "`pihil agent` (or `pihil agent --sim --board mirkopc`)",
                path=self._resource,
            )
        return ResourceNotFoundError(
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

    def _refusal(self, text: str) -> PihilError:
        m = _ERROR.match(text.strip())
        if m and int(m.group(1)) == BOARD_IN_USE and "board in use" in text:
            return ResourceBusyError(f"the agent at {self._resource} says: {m.group(2)}")
        if m and int(m.group(1)) == -203:
            return PihilError(
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
                raise PihilError(f"the agent sent {raw[:40]!r} where a block was due")
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
        raise OptionError(
            f"option 'board' is {board!r}, but the agent at {resource} serves {served!r}; "
            "leave the option out (the agent decides) or start the agent with --board"
        )
    return backend
