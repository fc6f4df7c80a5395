"""The echoing console on a UART (issue 4): it echoes what it receives, at its own baud rate,
so a mismatch shows up as garbage on both sides."""

from __future__ import annotations

import pytest

from pihil_emulator.board import Board
from pihil_emulator.buses.uart_line import LineSettings
from pihil_emulator.buses.uart_rx import FE
from pihil_emulator.devices.console import Console
from pihil_emulator.devices.registry import create_device
from pihil_emulator.soc.mini_uart import MiniUartBlock
from pihil_emulator.soc.pl011 import Pl011Block


def board_with(console: Console) -> tuple[Board, Pl011Block]:
    board = Board.from_profile("mirkopc")
    for wire in list(board.circuit.wires):
        if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
            board.circuit.disconnect(wire)  # the jig's loopback off: the console answers
    board.attach(console, bus="uart0")
    uart = board.soc.blocks["uart0"]
    assert isinstance(uart, Pl011Block)
    return board, uart


def test_echoes_what_it_receives() -> None:
    """Issue 4: a console device that echoes."""
    console = Console(LineSettings(115_200), name="console")
    _board, uart = board_with(console)
    uart.configure(115_200)
    uart.write(b"hello, console\r\n")
    assert uart.read(16, 10_000_000) == b"hello, console\r\n"
    assert bytes(console.received) == b"hello, console\r\n"
    assert all(c.flags == 0 for c in console.log)


def test_echo_of_each_character_starts_when_it_has_been_received() -> None:
    """The echo of a character cannot begin before its stop bit has been sampled."""
    console = Console(LineSettings(115_200), name="console")
    board, uart = board_with(console)
    uart.configure(115_200)
    t0 = board.now_ns
    uart.write(b"A")
    assert uart.read(1, 10_000_000) == b"A"
    ours = 1e9 / uart.baud_rate()  # type: ignore[operator]
    theirs = 1e9 / 115_200
    # the console samples our stop bit's centre (9.5 bits + start-detection latency) and
    # starts its echo there; we complete the echo at its stop bit's centre
    # and the PL011 hands the echo to the tty at its receive timeout, 32 bit periods later
    expected = (9.5 + 1 / 32) * theirs + (9.5 + 1 / 32) * ours + 32 * ours
    assert board.now_ns - t0 == pytest.approx(expected, abs=2)


def test_a_console_at_another_baud_rate_sees_and_returns_garbage() -> None:
    """Issue 4: with its own baud rate, a mismatch shows up as garbage (and framing errors)."""
    console = Console(LineSettings(57_600), name="console")
    _board, uart = board_with(console)
    uart.configure(115_200)
    uart.write(b"ping ping ping")
    back = uart.read(64, 20_000_000)
    assert bytes(console.received) != b"ping ping ping"
    assert any(c.flags & FE for c in console.log)
    assert back != b"ping ping ping"


def test_typed_text_reaches_the_soc() -> None:
    console = Console(LineSettings(9600), name="console")
    _board, uart = board_with(console)
    uart.configure(9600)
    console.type("login: ")
    assert uart.read(7, 100_000_000) == b"login: "


def test_console_on_the_mini_uart() -> None:
    """The same device on the mini UART (GPIO14/15 ALT5), 8N1 at the 8250 divisor's rate."""
    console = Console(LineSettings(115_200), name="console")
    board, _ = board_with(console)
    board.gpio.set_function(14, "ALT5")
    board.gpio.set_function(15, "ALT5")
    mini = board.soc.blocks["uart1"]
    assert isinstance(mini, MiniUartBlock)
    mini.configure(115_200)  # 114890 baud: -0.27 %, well inside what a receiver tolerates
    mini.write(b"mini")
    assert mini.read(4, 10_000_000) == b"mini"


def test_from_the_registry() -> None:
    console = create_device("console", name="tty", params={"baud": 19_200, "echo": False})
    assert isinstance(console, Console)
    _board, uart = board_with(console)
    uart.configure(19_200)
    uart.write(b"quiet")
    assert uart.read(5, 10_000_000) == b""
    assert bytes(console.received) == b"quiet"
