"""The board agent's TCP server: one controlling client at a time, optional token, loopback default.

A threaded server (``socketserver.ThreadingTCPServer``) speaking the protocol of
`protocol` to one client at a time; a second client is told ``board in use by
<peer>`` and closed. It binds 127.0.0.1 unless told otherwise, and refuses to
start on a non-loopback address without a token. With a token the first line
must be ``AUTH <token>`` (compared in constant time, `hmac.compare_digest`);
anything else is refused and the connection closed. A client that vanishes,
even inside a command, only ends its own connection: a partial command is
dropped, never run.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import socket
import socketserver
import threading
from collections import deque
from pathlib import Path
from typing import TextIO

from ..backends.base import Backend
from .commands import Agent
from .protocol import (
    BOARD_IN_USE,
    COMMAND_PROTECTED,
    DEFAULT_PORT,
    Command,
    ProtocolError,
    Reader,
    format_error,
)

PARTIAL_TIMEOUT_S = 60.0
"""How long the agent waits for the rest of a command it has started reading."""


class AgentConfigError(ValueError):
    """The agent cannot start with these settings (the message says what to change)."""


def is_loopback(host: str) -> bool:
    """True if every address ``host`` resolves to is a loopback address."""
    if host in ("", "0.0.0.0", "::"):
        return False
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        raise AgentConfigError(f"cannot resolve the bind address {host!r}: {exc}") from exc
    return all(ipaddress.ip_address(str(i[4][0]).split("%")[0]).is_loopback for i in infos)


def read_token(path: str | os.PathLike[str]) -> str:
    """The token in ``path`` (surrounding whitespace dropped); refused if empty or unreadable."""
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise AgentConfigError(f"cannot read the token file {str(path)!r}: {exc}") from exc
    if not token or not token.isascii() or any(ch.isspace() or ch == "," for ch in token):
        raise AgentConfigError(
            f"the token file {str(path)!r} must hold one ASCII token without spaces or "
            "commas (e.g. the "
            "output of `python -c 'import secrets; print(secrets.token_hex(16))'`)"
        )
    return token


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback bind without a token."""
    if token is None and not is_loopback(host):
        raise AgentConfigError(
            f"refusing to serve the board on {host!r} without a token: anyone who can reach "
            "that address could drive its pins. Give --token-file FILE (clients send "
            "AUTH <token>), or bind 127.0.0.1 and tunnel (ssh -L 5025:127.0.0.1:5025 pi)"
        )


class _Handler(socketserver.BaseRequestHandler):
    server: AgentServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = f"{self.client_address[0]}:{self.client_address[1]}"
        srv = self.server
        with srv.slot_lock:
            holder = srv.controller
            if holder is None:
                srv.controller = peer
        if holder is not None:
            _refuse(
                sock,
                BOARD_IN_USE,
                f"board in use by {holder}; one client controls the board at a time, "
                "try again when it has disconnected",
            )
            with srv.slot_lock:
                srv.finished += 1
                srv.ended.append(peer)
                srv.idle.notify_all()
            return
        try:
            self._serve(sock)
        except (EOFError, OSError):
            pass  # the client vanished; what it had half sent is dropped
        finally:
            with srv.slot_lock:
                srv.controller = None
                srv.finished += 1
                srv.ended.append(peer)
                srv.idle.notify_all()

    def _serve(self, sock: socket.socket) -> None:
        srv = self.server
        timeout: list[float | None] = [None]

        def recv(n: int) -> bytes:
            # no limit between commands; a client that stops inside one is dropped
            want = PARTIAL_TIMEOUT_S if reader.mid_command else None
            if want != timeout[0]:
                sock.settimeout(want)
                timeout[0] = want
            return sock.recv(n)

        reader = Reader(recv)
        authed = srv.token is None
        srv.agent.errors.clear()  # a new controller starts with an empty error queue
        while True:
            try:
                cmd = reader.command()
            except ProtocolError as exc:
                if not authed:
                    _refuse(sock, COMMAND_PROTECTED, "send AUTH <token> first")
                    return
                with srv.lock:
                    reply = srv.agent.fail(exc.query, exc.code, exc.message)
                if reply:
                    sock.sendall(reply)
                if exc.fatal:
                    sock.shutdown(socket.SHUT_RDWR)
                    return
                reader.skip_line()
                continue
            except TimeoutError:
                return  # a client that stopped inside a command loses the connection
            if cmd is None:
                continue
            if not authed:
                if not self._auth(sock, cmd):
                    return
                authed = True
                continue
            if cmd.header == "AUTH":
                continue  # already authorised
            with srv.lock:
                reply = srv.agent.execute(cmd)
            if reply:
                sock.sendall(reply)

    def _auth(self, sock: socket.socket, cmd: Command) -> bool:
        token = self.server.token
        assert token is not None
        given = cmd.args[0] if cmd.header == "AUTH" and len(cmd.args) == 1 else None
        if isinstance(given, str) and hmac.compare_digest(given.encode(), token.encode()):
            return True
        why = "wrong token" if cmd.header == "AUTH" else f"got {cmd.header[:20]!r} before AUTH"
        _refuse(sock, COMMAND_PROTECTED, f"this agent needs AUTH <token> first ({why})")
        return False


def _refuse(sock: socket.socket, code: int, message: str) -> None:
    """Answer ``!<code>,"<message>"`` and close, after the client has had its say.

    Half-closing first and draining keeps the kernel from answering the client's unread
    bytes with a reset that would discard the refusal before the client reads it.
    """
    try:
        sock.sendall(b"!" + format_error(code, message).encode() + b"\n")
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(2.0)
        while sock.recv(65536):
            pass
    except OSError:
        pass


class AgentServer(socketserver.ThreadingTCPServer):
    """Serves one backend over TCP. ``serve_forever()`` in a thread; ``shutdown()`` to stop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        backend: Backend,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        token: str | None = None,
    ) -> None:
        check_bind(host, token)
        self.agent = Agent(backend)
        self.token = token
        self.lock = threading.Lock()
        self.slot_lock = threading.Lock()
        self.idle = threading.Condition(self.slot_lock)
        self.controller: str | None = None
        self.finished = 0
        """Connections that have ended (served or refused)."""
        self.ended: deque[str] = deque(maxlen=1024)
        """The last peers (``host:port``) whose connection ended."""
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def resource(self) -> str:
        """The VISA resource string of this agent."""
        host = str(self.server_address[0])
        if ":" in host:
            host = f"[{host}]"
        return f"TCPIP::{host}::{self.port}::SOCKET"

    def wait_finished(self, count: int, timeout_s: float = 10.0) -> bool:
        """Wait until ``count`` connections have ended (True), or the timeout passed (False)."""
        with self.idle:
            return self.idle.wait_for(lambda: self.finished >= count, timeout_s)

    def wait_ended(self, peer: str, timeout_s: float = 10.0) -> bool:
        """Wait until the connection from ``peer`` (``host:port``) has ended."""
        with self.idle:
            return self.idle.wait_for(lambda: peer in self.ended, timeout_s)

    def start(self) -> threading.Thread:
        """Serve in a daemon thread (for tests and embedding)."""
        t = threading.Thread(
            target=self.serve_forever, args=(0.05,), name="pihil-agent", daemon=True
        )
        t.start()
        return t

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def serve(
    backend: Backend,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    token: str | None = None,
    out: TextIO,
) -> None:
    """Run an agent until interrupted (the ``pihil agent`` command)."""
    server = AgentServer(backend, host, port, token=token)
    mode = "simulated" if backend.simulated else "hardware"
    auth = "token required" if token else "no token (loopback only)"
    out.write(f"pihil agent: serving {backend.info.name} ({mode}) at {server.resource}; {auth}\n")
    out.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        backend.close()


def run_agent(
    *,
    sim: bool,
    board: str | None,
    host: str,
    port: int,
    token_file: str | None,
    seed: int = 0,
    out: TextIO,
) -> int:
    """``pihil agent``: check the settings, open the board, serve; the exit status."""
    from ..backends import simulated

    try:
        token = read_token(token_file) if token_file is not None else None
        check_bind(host, token)
    except AgentConfigError as exc:
        out.write(f"pihil agent: {exc}\n")
        return 2
    catalogue = simulated.board_infos()
    if board is not None and board not in catalogue:
        out.write(f"pihil agent: unknown board {board!r}; known boards: {', '.join(catalogue)}\n")
        return 2
    backend: Backend
    if sim:
        backend = simulated.SimulatedBackend(catalogue[board or "mirkopc"], seed=seed, devices={})
    else:
        from ..backends.linux import LinuxBackend

        backend = LinuxBackend.open(catalogue, board=board, devices={}, id_query=True)
    try:
        serve(backend, host=host, port=port, token=token, out=out)
    except OSError as exc:
        backend.close()
        out.write(f"pihil agent: cannot listen on {host}:{port}: {exc}\n")
        return 1
    return 0
