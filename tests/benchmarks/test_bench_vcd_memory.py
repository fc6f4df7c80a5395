"""Memory of a long recording (issue 11 "VCD streams"): ten simulated minutes of a 1 kHz
square wave on a GPIO net (1.2 million changes) recorded to VCD. The recorder streams
settled changes to disk, so the memory it holds stays bounded (`FLUSH_CHANGES` changes).

Prints the peak of memory allocated while recording (tracemalloc) and the file size. No
timed or sized assertion beyond the recorder's own bound. Run with ``tox -e bench``.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

from pihil_emulator.vcd import FLUSH_CHANGES, VcdRecorder
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive, NetKind

MINUTES = 10
HALF_PERIOD_NS = 500_000  # 1 kHz


def test_ten_minutes_of_a_square_wave(tmp_path: Path) -> None:
    world = World()
    net = Circuit(world).add_net("GPIO4", NetKind.GPIO)
    end_ns = MINUTES * 60 * 1_000_000_000

    def square():  # type: ignore[no-untyped-def]
        level = False
        while True:
            level = not level
            net.drive("wave", Drive.push_pull(level))
            yield world.timeout(HALF_PERIOD_NS)

    world.env.process(square())
    path = tmp_path / "wave.vcd"
    tracemalloc.start()
    t0 = time.perf_counter()
    with VcdRecorder(world, path, [net]) as recorder:
        world.run_for(end_ns)
        held = recorder.held_changes
        written = recorder.written_changes
    wall = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert held <= FLUSH_CHANGES
    print(
        f"\n{MINUTES} simulated minutes at 1 kHz: {written + held:,} changes, "
        f"peak {peak / 2**20:.1f} MiB allocated while recording "
        f"(at most {FLUSH_CHANGES:,} changes held), file {path.stat().st_size / 2**20:.1f} MiB, "
        f"{wall:.1f} s of wall clock"
    )
