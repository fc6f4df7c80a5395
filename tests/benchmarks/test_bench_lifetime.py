"""Memory over board lifetimes (issue 11 "Lifetime"): the RSS after 1,000 open/close cycles of
a simulated MirkoPC session with traffic (goal: flat, within 50 MB of the start).

Reads the resident set from /proc/self/statm (Linux). No assertion on the figure; the test
suite's `tests/driver/test_lifetime.py` asserts that no closed board stays alive.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

from rpiboard_pihil import RpiBoard

CYCLES = 1_000


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cycle() -> None:
    with RpiBoard("local", options={"simulate": True, "board": "mirkopc"}) as board:
        board.i2c_buses[1].write_read(0x68, b"\x00", 1)
        board.uarts[0].write(b"hello")


def test_rss_after_a_thousand_board_cycles() -> None:
    _cycle()  # imports and caches first
    gc.collect()
    start = _rss_mb()
    for i in range(CYCLES):
        _cycle()
        if (i + 1) % 250 == 0:
            gc.collect()
            print(f"\n  after {i + 1:>5} cycles: RSS {_rss_mb():7.1f} MB", end="")
    gc.collect()
    end = _rss_mb()
    print(
        f"\nRSS after {CYCLES} MirkoPC open/close cycles: {end:.1f} MB "
        f"({end - start:+.1f} MB from {start:.1f}; goal within 50 MB)"
    )
