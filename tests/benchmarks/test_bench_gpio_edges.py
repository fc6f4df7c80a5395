"""GPIO edge throughput (issue 2 "Measured"): edges per wall second through a jumper, printed.

GPIO17 is an output, jumpered to GPIO27 (the MirkoPC test jig's J8-11/J8-13); GPIO27 has
synchronous rising and falling detection on (GPREN/GPFEN, each accepted edge a timer of
the 2-clock sampling window) and an edge-event buffer that the loop drains. Each edge is a
GPSET/GPCLR register write, the net's resolution through the wire, the GPIO block's
watcher, the sampler's timer and the event. The same loop with detection off, and with
the asynchronous detectors, is printed beside it. Run with ``tox -e bench``.
"""

from __future__ import annotations

import time

from pihil_emulator.board import Board

EDGES = 20_000
PERIOD_NS = 1_000  # a 1 MHz square wave: an edge every 500 ns


def _run(board: Board, edges: int, *, detect: str) -> tuple[float, int]:
    """Toggle GPIO17 ``edges`` times; returns (wall seconds, events seen on GPIO27)."""
    gpio = board.gpio
    gpio.set_function(17, "output")
    if detect == "sync":
        gpio.write("GPREN0", 1 << 27)
        gpio.write("GPFEN0", 1 << 27)
    elif detect == "async":
        gpio.write("GPAREN0", 1 << 27)
        gpio.write("GPAFEN0", 1 << 27)
    events = gpio.events(27)
    seen = 0
    write = gpio.write
    run_for = board.world.run_for
    half = PERIOD_NS // 2
    t0 = time.perf_counter()
    for i in range(edges // 2):
        write("GPSET0", 1 << 17)
        run_for(half)
        write("GPCLR0", 1 << 17)
        run_for(half)
        if i % 256 == 0:
            seen += len(events.drain())
    wall = time.perf_counter() - t0
    seen += len(events.drain())
    events.close()
    return wall, seen


def test_gpio_edges_per_second_through_a_jumper() -> None:
    """Edges per wall second with edge detection on (figure printed; not a timed assertion)."""
    figures = {}
    for detect in ("sync", "async", "off"):
        board = Board.from_profile("mirkopc")
        wall, seen = _run(board, EDGES, detect=detect)
        assert seen == (EDGES if detect != "off" else 0), (detect, seen)
        assert board.now_ns == EDGES * PERIOD_NS // 2
        figures[detect] = EDGES / wall
        rtf = (board.now_ns / 1e9) / wall
        print(
            f"\nGPIO edges through a jumper, detection {detect:5}: {EDGES / wall:>10,.0f} edges/s "
            f"({wall * 1e6 / EDGES:.1f} µs/edge, {EDGES} edges, real-time factor {rtf:.3f} "
            f"for a {1e9 / PERIOD_NS / 1e6:g} MHz square wave)"
        )
    assert all(f > 0 for f in figures.values())
