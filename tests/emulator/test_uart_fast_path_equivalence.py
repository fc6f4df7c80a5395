"""The UART's one-step drain (issue 13 item 1) against the reference path through the scheduler.

`UartTty.drain` (``tcdrain`` after a write) waits for the wake-up the transmitter schedules
at the last stop bit; with no other event due before then it sets the clock there in one
step (`advance_if_idle`). Two MirkoPC boards from the same seed run the same random
traffic on uart0 (the PL011; the jig's GPIO14-GPIO15 wire loops TX to RX), one with
``fast_path`` on the tty, one without: random bytes, baud rates and frame formats
(5-8 data bits, parities, 1-2 stop bits), reads with timeouts, waits, line noise
(`UartNoise`, garbage on RX) scheduled to start later, and an echoing console at the
same or another baud rate (mismatched: framing errors, garbage) instead of the wire.
Both must give the same bytes, receive flags, error counts, transmitter and FIFO state,
and simulated time to the nanosecond; and byte-identical VCDs when recording.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.board import Board
from pihil_emulator.buses.uart_faults import UartNoise
from pihil_emulator.buses.uart_line import EPS_NS, LineSettings
from pihil_emulator.devices.console import Console
from pihil_emulator.soc.pl011 import Pl011Block

BAUDS = (115_200, 9_600, 1_000_000, 57_600, 230_400)
FORMATS = st.tuples(
    st.sampled_from(BAUDS),
    st.sampled_from((8, 8, 7, 5)),
    st.sampled_from(("none", "none", "even", "odd")),
    st.sampled_from((1, 1, 2)),
)
OPS = st.one_of(
    st.tuples(st.just("write"), st.binary(min_size=1, max_size=6)),
    st.tuples(st.just("write"), st.binary(min_size=1, max_size=1)),
    st.tuples(st.just("read"), st.integers(0, 8), st.integers(0, 3_000_000)),
    st.tuples(st.just("config"), FORMATS),
    st.tuples(st.just("wait"), st.integers(0, 500_000)),
    st.tuples(st.just("noise"), st.integers(0, 300_000), st.integers(10_000, 400_000)),
)


def uart0(board: Board) -> Pl011Block:
    block = board.soc.blocks["uart0"]
    assert isinstance(block, Pl011Block)
    return block


def echo_console(board: Board, baud: int) -> Console:
    """The jig's TX-RX wire off, an echoing console on uart0's pins instead."""
    for wire in list(board.circuit.wires):
        if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
            board.disconnect(wire)
    console = Console(LineSettings(baud), "echo")
    board.attach(console, bus="uart0")
    return console


def run(board: Board, ops: list[tuple[Any, ...]]) -> list[object]:
    block = uart0(board)
    out: list[object] = []
    for op in ops:
        try:
            if op[0] == "write":
                block.write(op[1])
            elif op[0] == "read":
                out.append(block.read(op[1], op[2]))
            elif op[0] == "config":
                out.append(block.configure(*op[1]))
            elif op[0] == "wait":
                board.run_for(op[1])
            else:
                _, delay, duration = op
                board.inject(
                    UartNoise(
                        line="GPIO15",
                        at_ns=board.now_ns + delay,
                        duration_ns=duration,
                        glitches_per_ms=20,
                        seed=delay,
                    )
                )
        except Exception as exc:  # the same failure both ways is part of the transcript
            out.append((type(exc).__name__, str(exc)))
    out.append(block.read(1 << 16, 0))
    return out


def state(board: Board) -> dict[str, object]:
    block = uart0(board)
    tty = block.tty
    assert tty is not None
    tx = tty.tx
    return {
        "now": board.now_ns,
        "registers": dict(block._values),
        "rx fifo": list(block._rx_fifo),
        "tty": (bytes(tty.buffer), bytes(tty.flags), dict(tty.counts), tty.received),
        "tx": (bytes(tx.pending), tx.sent, tx.busy_until_ns, tx.busy(), tx.queued()),
        "counts": block.error_counts(),
        # pending events that do something (SimPy leaves its stop events behind)
        "queue": sorted((t, p) for t, p, _, e in board.world.env.pending if e.callbacks),
    }


def both(
    ops: list[tuple[Any, ...]], seed: int, echo_baud: int | None
) -> tuple[Board, Board, list[object], list[object], list[Console]]:
    boards = Board.from_profile("mirkopc", seed=seed), Board.from_profile("mirkopc", seed=seed)
    consoles: list[Console] = []
    outs = []
    for board, fast in zip(boards, (True, False), strict=True):
        block = uart0(board)
        block.configure(115_200)
        assert block.tty is not None
        block.tty.fast_path = fast
        if echo_baud is not None:
            consoles.append(echo_console(board, echo_baud))
        outs.append(run(board, ops))
    return boards[0], boards[1], outs[0], outs[1], consoles


@settings(max_examples=40, deadline=None)
@given(
    ops=st.lists(OPS, min_size=1, max_size=12),
    seed=st.integers(0, 3),
    echo_baud=st.sampled_from((None, None, 115_200, 9_600, 120_000)),
)
def test_one_step_drain_equals_the_scheduler(
    ops: list[tuple[Any, ...]], seed: int, echo_baud: int | None
) -> None:
    fast, slow, got_fast, got_slow, consoles = both(ops, seed, echo_baud)
    assert got_fast == got_slow
    assert state(fast) == state(slow)
    if consoles:
        a, b = consoles
        assert (bytes(a.received), a.log) == (bytes(b.received), b.log)
    slow_tty = uart0(slow).tty
    assert slow_tty is not None
    assert slow_tty.fast_drains == 0


@settings(max_examples=12, deadline=None)
@given(ops=st.lists(OPS, min_size=1, max_size=6))
def test_one_step_drain_equal_with_a_vcd(tmp_path_factory: Any, ops: list[tuple[Any, ...]]) -> None:
    """Recording TX and RX: the UART taps' waveforms are the same file both ways."""
    tmp: Path = tmp_path_factory.mktemp("uart_vcd")
    files = []
    for fast in (True, False):
        board = Board.from_profile("mirkopc")
        block = uart0(board)
        block.configure(115_200)
        assert block.tty is not None
        block.tty.fast_path = fast
        with board.record_vcd(tmp / f"{fast}.vcd", ["GPIO14", "GPIO15"]):
            run(board, ops)
            board.run_for(1_000)
        files.append((tmp / f"{fast}.vcd").read_bytes())
    assert files[0] == files[1]


def test_one_step_drain_taken_in_the_common_case() -> None:
    """A write with nothing else scheduled (the jig's loopback) drains in one step; the byte
    is in the tty buffer at the receive timeout; a fault due during the character takes the scheduler."""
    board = Board.from_profile("mirkopc")
    block = uart0(board)
    line = block.configure(115_200)  # what the PL011's divisor gives
    tty = block.tty
    assert tty is not None
    t0 = board.now_ns
    block.write(b"A")
    assert tty.fast_drains == 1
    # 10 bit periods (start, 8 data, stop): the last stop bit's end, rounded up
    assert board.now_ns == math.ceil(t0 + 10 * line.bit_ns - EPS_NS)
    # in the PL011's FIFO until its receive timeout, 32 bit periods on (amba-pl011 pl011_int)
    assert block.read(1, 0) == b""
    assert block.read(1, math.ceil(32 * line.bit_ns) + 1) == b"A"
    board.inject(UartNoise(line="GPIO15", at_ns=board.now_ns + 20_000, duration_ns=30_000))
    block.write(b"B")
    assert tty.fast_drains == 1
    tty.fast_path = False
    block.write(b"C")
    assert tty.fast_drains == 1
