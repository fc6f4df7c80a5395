"""A serial console on a UART: it echoes every character it receives, at its own baud rate.

Like a terminal in local-echo-off mode talking to a shell that echoes, or a
loopback dongle with a microcontroller in between: each character that
arrives goes straight back out. The console has its own line settings, so a
SoC configured for another baud rate or format gets garbage back, and the
console's log shows what it really decoded (with FE/PE/BE flags).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..buses.uart_line import LineSettings
from ..buses.uart_rx import RxChar
from ..buses.uart_target import UartTarget
from .params import Params, line_settings_from

DEFAULT_SETTINGS = LineSettings(115_200)


class Console(UartTarget):
    """An echoing console (profile model ``console``)."""

    model = "console"

    def __init__(self, settings: LineSettings = DEFAULT_SETTINGS, name: str | None = None) -> None:
        super().__init__(settings, name)
        self.echo = True
        """False: listen only."""
        self.log: list[RxChar] = []
        """Every character decoded, with its flags and completion time."""
        self.received = bytearray()

    def receive(self, char: RxChar) -> None:
        self.log.append(char)
        self.received.append(char.value)
        if self.echo:
            self.transmit(bytes((char.value,)))

    def type(self, text: str | bytes) -> float:
        """Send ``text`` to the SoC as if typed; returns when its last stop bit ends."""
        data = text.encode() if isinstance(text, str) else bytes(text)
        return self.transmit(data)


def console_factory(address: int | None, name: str, params: Mapping[str, object]) -> Console:
    """Registry factory (profile model ``console``): ``baud``, ``data_bits``, ``parity``,
    ``stop_bits`` (default 115200 8N1), ``echo`` (default true)."""
    p = Params("console", params)
    settings = line_settings_from(p, DEFAULT_SETTINGS)
    echo = p.get_bool("echo", True)
    p.done()
    console = Console(settings, name)
    console.echo = echo
    return console
