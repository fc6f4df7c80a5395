"""Round-trip cost of the board agent over loopback: a GPIO read through `RpiBoard` remotely.

Issue 16 "Done when": the agent's round trip per operation on loopback, goal under 200 µs
for a GPIO read. Printed per operation for: a GPIO read through ``RpiBoard("TCPIP::...")``
(the IVI API, PyVISA @py, TCP loopback, the agent's parser and the simulated backend), the
same read in-process (the floor the network adds to), a GPIO write (a command and its
``SYST:ERR?`` in one round trip) and a 4-byte SPI transfer (blocks both ways). Wall time
(``perf_counter``: the agent runs in another thread, whose time a thread clock would miss),
best of five rounds; no timed assertion. Run with ``tox -e bench``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rpiboard_pihil import Direction, RpiBoard
from rpiboard_pihil.agent.server import AgentServer
from rpiboard_pihil.backends.simulated import SimulatedBackend, board_infos

OPERATIONS = 2_000
ROUNDS = 5
LINE = 23  # on the MirkoPC header and wired to nothing


def _per_op(fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        for _ in range(OPERATIONS):
            fn()
        best = min(best, (time.perf_counter() - t0) / OPERATIONS)
    return best


def test_agent_round_trip_per_gpio_read() -> None:
    """Figures printed: µs per operation over the agent and in-process (goal: read < 200 µs)."""
    server = AgentServer(SimulatedBackend(board_infos()["mirkopc"], seed=0, devices={}), port=0)
    server.start()
    try:
        with RpiBoard(server.resource) as remote:
            g = remote.gpios[LINE]
            g.direction = Direction.OUTPUT
            flash = remote.spi_buses[0].devices[0]
            assert g.value is False
            read = _per_op(lambda: g.value)
            write = _per_op(lambda: setattr(g, "value", False))
            spi = _per_op(lambda: flash.transfer(b"\x9f\x00\x00\x00"))
            assert flash.transfer(b"\x9f\x00\x00\x00") == b"\x00\xef\x40\x16"
    finally:
        server.stop()
    with RpiBoard("local", options={"simulate": True, "board": "mirkopc"}) as local:
        h = local.gpios[LINE]
        h.direction = Direction.OUTPUT
        floor = _per_op(lambda: h.value)
    print(
        f"\nagent over loopback: GPIO read {read * 1e6:.1f} µs (goal < 200), "
        f"GPIO write {write * 1e6:.1f} µs, 4-byte SPI transfer {spi * 1e6:.1f} µs; "
        f"the same read in-process {floor * 1e6:.1f} µs"
    )
