"""Test rigs for the UART tests: a SoC UART block with a raw far end on its pins, a board
with a console on UART0.

`SocUartRig` routes GPIO14/15 to one UART block and puts the far end on the pins: a raw
receiver hearing GPIO14 (the SoC's TXD) and a raw transmitter talking on GPIO15 (the SoC's
RXD, push-pull, idle high), so every check goes through the waveform on the pin.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pihil_emulator.board import Board
from pihil_emulator.buses.uart_line import LineSettings, UartLines
from pihil_emulator.buses.uart_rx import RxChar, UartReceiver
from pihil_emulator.buses.uart_tx import UartTransmitter
from pihil_emulator.devices.console import Console
from pihil_emulator.soc.pl011 import Pl011Block
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.uart_port import UartPort
from pihil_emulator.soc.variants import SocVariant
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive

B = TypeVar("B", bound=UartPort)


def received(rx: UartReceiver) -> list[RxChar]:
    """Every character ``rx`` completed by now and nobody took yet, oldest first."""
    out: list[RxChar] = []
    for chunk in rx.take():
        out.extend(chunk.chars())
    return out


class SocUartRig(Generic[B]):
    """A SoC with UART block ``block`` on GPIO14/15 (``function``) and a far end on the pins."""

    def __init__(
        self,
        block: str,
        block_type: type[B],
        function: str,
        *,
        variant: SocVariant,
        far: LineSettings,
    ) -> None:
        self.world = World()
        self.circuit = Circuit(self.world)
        self.soc = Soc(self.world, self.circuit, variant)
        self.gpio = self.soc.gpio
        self.gpio.set_function(14, function)
        self.gpio.set_function(15, function)
        uart = self.soc.blocks[block]
        assert isinstance(uart, block_type)
        self.uart: B = uart
        self.hub = UartLines.of(self.circuit)
        self.tx_pin = self.gpio.net(14)
        self.rx_pin = self.gpio.net(15)
        # the far end: hears GPIO14, talks on GPIO15 (push-pull, idle high)
        self.rx_pin.drive("far", Drive.push_pull(True))
        self.far_rx = UartReceiver(
            self.world, far, name="far.rx", inputs=[self.tx_pin], hub=self.hub
        )
        self.far_tx = UartTransmitter(
            self.world,
            far,
            name="far.tx",
            hub=self.hub,
            outputs=[self.rx_pin],
            drive_level=self._far_drive,
        )

    def _far_drive(self, level: bool) -> None:
        self.rx_pin.drive("far", Drive.push_pull(level))

    def heard(self) -> list[RxChar]:
        """What the far end received from the SoC's TXD since the last call."""
        return received(self.far_rx)

    def run(self, ns: int) -> None:
        self.world.run_for(ns)


def console_board(baud: int = 115_200) -> tuple[Board, Pl011Block, Console]:
    """The MirkoPC with its test jig's TX→RX jumper removed and a console on UART0 at ``baud``."""
    board = Board.from_profile("mirkopc")
    for wire in list(board.circuit.wires):
        if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
            board.circuit.disconnect(wire)
    console = Console(LineSettings(baud), name="console")
    board.attach(console, bus="uart0")
    uart = board.soc.blocks["uart0"]
    assert isinstance(uart, Pl011Block)
    return board, uart, console
