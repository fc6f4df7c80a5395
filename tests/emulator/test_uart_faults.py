"""Injected UART faults (issue 4): noise on a UART line, a wrong baud rate at the far end."""

from __future__ import annotations

import itertools
import random

import pytest

from pihil_emulator.buses.uart_faults import UartNoise, UartWrongBaud, noise_glitches

from .uart_rig import console_board


def test_noise_glitches_are_seeded_sorted_and_disjoint() -> None:
    """Seeded RNG: the same seed gives the same noise (a failing run replays)."""
    a = noise_glitches(random.Random(3), 0, 1e6, 50, 100, 3000)
    b = noise_glitches(random.Random(3), 0, 1e6, 50, 100, 3000)
    assert a == b
    assert len(a) > 10
    assert all(g.start_ns < g.end_ns <= 1e6 for g in a)
    assert all(x.end_ns < y.start_ns for x, y in itertools.pairwise(a))


def test_noise_on_rx_corrupts_only_characters_inside_the_window() -> None:
    """Issue 4: noise on a UART line; the SoC's receiver samples the damaged waveform."""
    board, uart, console = console_board()
    console.echo = False
    uart.configure(115_200)
    frame = 10 * 1e9 / 115_200
    board.inject(
        UartNoise(
            line="J8-10",  # RXD0, by its header name
            at_ns=board.now_ns + round(20 * frame),
            duration_ns=round(20 * frame),
            glitches_per_ms=30,
            min_width_ns=2_000,
            max_width_ns=6_000,
            seed=11,
        )
    )
    message = bytes(range(0x40, 0x40 + 60))
    console.type(message)
    got = uart.read(200, 20_000_000)
    assert got[:19] == message[:19]
    assert got[-19:] == message[-19:]
    assert got != message
    counts = uart.error_counts()
    assert counts["framing"] + counts["parity"] + counts["break"] > 0 or len(got) != len(message)


def test_noise_on_an_idle_line_makes_false_characters() -> None:
    """Glitches longer than half a bit on an idle line look like start bits."""
    board, uart, _console = console_board()
    uart.configure(115_200)
    board.inject(
        UartNoise(
            line="GPIO15",
            at_ns=board.now_ns,
            duration_ns=1_000_000,
            glitches_per_ms=10,
            min_width_ns=6_000,
            max_width_ns=7_000,
            seed=1,
        )
    )
    board.run_for(2_000_000)
    assert uart.in_waiting() > 0


def test_wrong_baud_at_the_far_end_then_back() -> None:
    """Issue 4: a wrong baud rate at the far end (the device's baud changes), then cleared."""
    board, uart, console = console_board()
    uart.configure(115_200)
    fault = UartWrongBaud(device=console, baud=57_600, at_ns=board.now_ns + 1_000_000,
                          duration_ns=10_000_000)  # fmt: skip
    board.inject(fault)
    uart.write(b"before")
    assert uart.read(6, 5_000_000) == b"before"
    board.run_for(1_000_000)
    assert console.settings.baud == 57_600
    uart.write(b"during")
    assert uart.read(64, 5_000_000) != b"during"
    board.run_for(10_000_000)
    assert console.settings.baud == 115_200
    uart.discard_input()
    uart.write(b"after")
    assert uart.read(5, 5_000_000) == b"after"


def test_wrong_baud_by_profile_name_and_bad_targets() -> None:
    board, _uart, _console = console_board()
    with pytest.raises(KeyError):
        board.inject(UartWrongBaud(device="no-such-device", baud=9600))
    with pytest.raises(ValueError, match="not a UART device"):
        board.inject(UartWrongBaud(device=object(), baud=9600))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "needs duration_ns"),
        ({"duration_ns": 10, "glitches_per_ms": -1}, "cannot be negative"),
        ({"duration_ns": 10, "min_width_ns": 0}, "0 < min_width_ns"),
        ({"duration_ns": 10, "min_width_ns": 50, "max_width_ns": 10}, "min_width_ns <= max"),
    ],
)
def test_noise_parameters_are_checked(kwargs: dict[str, int], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        UartNoise(**kwargs)  # type: ignore[arg-type]
