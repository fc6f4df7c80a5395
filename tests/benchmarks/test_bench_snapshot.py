"""Fresh boards from snapshots (issue 13 item 4, goal: each example starts from the same board
at a cost <= 2 ms): the CPU and wall cost of `board.simulation.restore(snapshot)` on the
MirkoPC after traffic changed its state, against opening a new `RpiBoard`, medians of 30.

Printed, not asserted (`tox -e bench`); the behaviour is tested in tests/emulator/test_snapshot*.py.
"""

from __future__ import annotations

import statistics
import time

from rpiboard_pihil import Direction, RpiBoard

RUNS = 30


def _traffic(board: RpiBoard) -> None:
    board.i2c_buses[1].write_read(0x68, b"\x03", 1)
    board.spi_buses[0].devices[0].transfer(b"\x9f\x00\x00\x00")
    board.uarts[0].write(b"hello")
    line = board.gpios["GPIO4"]
    line.direction = Direction.OUTPUT
    line.value = True


def _median(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        statistics.median(s[0] for s in samples) * 1e3,
        statistics.median(s[1] for s in samples) * 1e3,
    )


def test_restore_against_opening_a_board() -> None:
    opened: list[tuple[float, float]] = []
    for _ in range(RUNS):
        w, c = time.perf_counter(), time.process_time()
        RpiBoard("local", options={"simulate": True, "board": "mirkopc"}).close()
        opened.append((time.perf_counter() - w, time.process_time() - c))
    with RpiBoard("local", options={"simulate": True, "board": "mirkopc"}) as board:
        snap = board.simulation.snapshot()
        restored: list[tuple[float, float]] = []
        for _ in range(RUNS):
            _traffic(board)
            w, c = time.perf_counter(), time.process_time()
            board.simulation.restore(snap)
            restored.append((time.perf_counter() - w, time.process_time() - c))
        assert board.gpios["GPIO4"].direction is Direction.INPUT  # the work did happen
    ow, oc = _median(opened)
    rw, rc = _median(restored)
    print(
        f"\n  open+close a board: {ow:.2f} ms wall ({oc:.2f} ms CPU); "
        f"restore a snapshot after traffic: {rw:.3f} ms wall ({rc:.3f} ms CPU); goal <= 2 ms"
    )
