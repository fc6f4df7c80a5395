"""A board behind an agent that reboots: the remote session notices (issue 11 item 2 on a
real board, issue 16 item 1). The agent answers ``SYST:BOOT?`` with the kernel's boot id
(random(4): ``/proc/sys/kernel/random/boot_id`` changes at every boot; one per agent for an
emulated board); when the connection is lost the remote backend opens it again once and
compares: a new boot id is a reboot, reported as a BOARD_RESET device error, and the session
goes on on the new connection. An agent that does not come back leaves a clear error.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from rpiboard_pihil import DeviceErrorCode, ResourceNotFoundError, RpiBoard
from rpiboard_pihil.agent.commands import BOOT_ID, Agent
from rpiboard_pihil.backends import remote
from rpiboard_pihil.backends.simulated import SimulatedBackend, board_infos


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _agent_process(port: int) -> Iterator[str]:
    """``pihil agent --sim`` in its own process (so that killing it drops the connection)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest_pihil.cli", "agent", "--sim", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        m = re.search(r"at (TCPIP::127\.0\.0\.1::\d+::SOCKET)", first)
        assert m, first
        yield m.group(1)
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_the_boot_id_is_the_kernels_on_a_real_board_and_fresh_per_emulated_agent() -> None:
    backend = SimulatedBackend(board_infos()["mirkopc"], seed=0, devices={})
    try:
        first, second = Agent(backend).boot_id, Agent(backend).boot_id
        assert first.startswith("agent-")
        assert first != second
    finally:
        backend.close()
    if not os.path.exists(BOOT_ID):
        pytest.skip(f"{BOOT_ID} is Linux's; this machine has none")
    with open(BOOT_ID, encoding="ascii") as f:  # what a real board's agent reads
        assert re.fullmatch(r"[0-9a-f-]{36}", f.read().strip())


def test_a_reboot_behind_the_agent_is_a_board_reset_and_the_session_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pyvisa-py notices a dropped socket only when its read times out: a short timeout keeps
    # this test quick (a real client waits the backend's 10 s once per loss)
    monkeypatch.setattr(remote, "BASE_TIMEOUT_MS", 1_500)
    port = _free_port()
    with _agent_process(port) as resource:
        board = RpiBoard(resource)
        board.gpios[17].set_output(True)
        assert board.gpios[27].value is True  # the jig's J8-11/J8-13 loop, on the agent
    try:
        with _agent_process(port):  # the board came back: a new boot
            with pytest.raises(ResourceNotFoundError, match="the board has rebooted"):
                board.gpios[27].value  # noqa: B018 - the read is the operation that finds out
            errors = board.ivi_utility.error_query_all()
            assert [e.code for e in errors] == [int(DeviceErrorCode.BOARD_RESET)]
            assert "rebooted" in errors[0].message
            assert board.gpios[17].direction.name == "INPUT"  # the defaults again
            board.gpios[17].set_output(True)  # and it works on the new connection
            assert board.gpios[27].value is True
        with pytest.raises(ResourceNotFoundError, match="did not answer again"):
            board.gpios[27].value  # noqa: B018 - nobody serves the port now
        with pytest.raises(ResourceNotFoundError, match="close this session"):
            board.gpios[27].value  # noqa: B018
    finally:
        board.close()
