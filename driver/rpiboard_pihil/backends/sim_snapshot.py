"""``board.simulation.snapshot()`` / ``restore(snap)``: the whole simulated board, driver included.

The emulator's `pihil_emulator.board.Board.snapshot` records the world (registers,
devices, nets, time, random source, scheduled events; see `pihil_emulator.snapshot` for
the design: values restored into the same objects, a quiescent world required). Here the
driver's own session state goes with it: the backend's claimed lines, line requests and
their edge queues, SPI and UART settings, the error queue, and any extra objects given
(the `RpiBoard` itself, for the fixtures). Both run under the session's lock, with the
emulator's refusals (`SnapshotError`: a busy board, an open VCD recorder, another board's
snapshot) translated to the driver's `ConfigurationError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pihil_emulator.snapshot import BoardSnapshot

    from .simulated import Simulation


def snapshot(simulation: Simulation, *extra_roots: object) -> BoardSnapshot:
    """The board behind ``simulation`` now, with the driver's session state."""
    backend = simulation._backend
    board = backend.emulator
    result: BoardSnapshot = simulation._call(board.snapshot, backend, *extra_roots)
    return result


def restore(simulation: Simulation, snap: BoardSnapshot) -> None:
    """Put the board behind ``simulation`` (and the driver's session state) back to ``snap``."""
    board: Any = simulation._backend.emulator
    simulation._call(board.restore, snap)
