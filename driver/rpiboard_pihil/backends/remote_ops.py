"""The remote backend's GPIO, I2C, SPI and UART operations: each one agent command or query
(docs/agent.md), over the transport `RemoteBackend` (`remote`) provides."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from ..agent.protocol import encode_block
from ..enums import Direction, Drive, Edge, EdgeKind, Function, Parity, Pull
from .base import EdgeEvent, I2cMessage, UartFormat


class RemoteIo(ABC):
    """The interface operations of `RemoteBackend`, on its three round trips."""

    @abstractmethod
    def _query(self, text: str | bytes, extra_ns: int = 0) -> str:
        """One query, its answer line (`RemoteBackend._query`)."""

    @abstractmethod
    def _command(self, payload: bytes | str, extra_ns: int = 0) -> None:
        """One command with its error read back (`RemoteBackend._command`)."""

    @abstractmethod
    def _block_query(self, payload: bytes, extra_ns: int = 0) -> bytes:
        """One query answered by a definite-length block (`RemoteBackend._block_query`)."""

    # GPIO
    def gpio_get_function(self, line: int) -> Function:
        return Function[self._query(f"GPIO:FUNC? {line}")]

    def gpio_set_function(self, line: int, function: Function) -> None:
        self._command(f"GPIO:FUNC {line},{function.name}")

    def gpio_get_direction(self, line: int) -> Direction:
        return Direction[self._query(f"GPIO:DIR? {line}")]

    def gpio_set_direction(self, line: int, direction: Direction, value: bool) -> None:
        self._command(f"GPIO:DIR {line},{direction.name},{int(value)}")

    def gpio_read(self, line: int) -> bool:
        return self._query(f"GPIO:LEV? {line}") == "1"

    def gpio_write(self, line: int, value: bool) -> None:
        self._command(f"GPIO:LEV {line},{int(value)}")

    def gpio_get_pull(self, line: int) -> Pull:
        return Pull[self._query(f"GPIO:PULL? {line}")]

    def gpio_set_pull(self, line: int, pull: Pull) -> None:
        self._command(f"GPIO:PULL {line},{pull.name}")

    def gpio_get_drive(self, line: int) -> Drive:
        return Drive[self._query(f"GPIO:DRIV? {line}")]

    def gpio_set_drive(self, line: int, drive: Drive) -> None:
        self._command(f"GPIO:DRIV {line},{drive.name}")

    def gpio_get_edge_detection(self, line: int) -> tuple[Edge, int]:
        edge, debounce = self._query(f"GPIO:EDGE? {line}").split(",")
        return Edge[edge], int(debounce)

    def gpio_set_edge_detection(self, line: int, edge: Edge, debounce_ns: int) -> None:
        self._command(f"GPIO:EDGE {line},{edge.name},{debounce_ns}")

    def gpio_wait_edges(self, line: int, timeout_ns: int) -> list[EdgeEvent]:
        parts = self._query(f"GPIO:WAIT? {line},{timeout_ns}", timeout_ns).split(",")
        return [
            EdgeEvent(EdgeKind[parts[i]], int(parts[i + 1]), int(parts[i + 2]), int(parts[i + 3]))
            for i in range(1, 1 + 4 * int(parts[0]), 4)
        ]

    # I2C
    def i2c_transfer(self, bus: int, messages: Sequence[I2cMessage]) -> list[bytes]:
        out = bytearray(b"I2C:XFER? %d" % bus)
        for m in messages:
            if m.read:
                out += b",R,%d,%d" % (m.address, m.length)
            else:
                out += b",W,%d," % m.address + encode_block(m.data)
        data = self._block_query(bytes(out))
        reads, pos = [], 0
        for m in messages:
            if m.read:
                reads.append(data[pos : pos + m.length])
                pos += m.length
        return reads

    def i2c_get_frequency(self, bus: int) -> int:
        return int(self._query(f"I2C:FREQ? {bus}"))

    def i2c_set_frequency(self, bus: int, hz: int) -> None:
        self._command(f"I2C:FREQ {bus},{hz}")

    # SPI
    def spi_transfer(self, bus: int, cs: int, data: bytes) -> bytes:
        return self._block_query(b"SPI:XFER? %d,%d," % (bus, cs) + encode_block(data))

    def spi_get_mode(self, bus: int, cs: int) -> int:
        return int(self._query(f"SPI:MODE? {bus},{cs}"))

    def spi_set_mode(self, bus: int, cs: int, mode: int) -> None:
        self._command(f"SPI:MODE {bus},{cs},{mode}")

    def spi_get_speed(self, bus: int, cs: int) -> int:
        return int(self._query(f"SPI:SPEED? {bus},{cs}"))

    def spi_set_speed(self, bus: int, cs: int, hz: int) -> None:
        self._command(f"SPI:SPEED {bus},{cs},{hz}")

    # UART
    def uart_get_format(self, uart: int) -> UartFormat:
        baud, bits, parity, stop = self._query(f"UART:FORM? {uart}").split(",")
        return UartFormat(int(baud), int(bits), Parity(parity), int(stop))

    def uart_set_format(self, uart: int, fmt: UartFormat) -> None:
        p = fmt.parity.value
        self._command(f"UART:FORM {uart},{fmt.baud_rate},{fmt.data_bits},{p},{fmt.stop_bits}")

    def uart_write(self, uart: int, data: bytes) -> None:
        self._command(b"UART:WRIT %d," % uart + encode_block(data))

    def uart_read(self, uart: int, n: int, timeout_ns: int) -> bytes:
        return self._block_query(b"UART:READ? %d,%d,%d" % (uart, n, timeout_ns), timeout_ns)

    def uart_in_waiting(self, uart: int) -> int:
        return int(self._query(f"UART:WAIT? {uart}"))

    def uart_send_break(self, uart: int, duration_ns: int) -> None:
        self._command(f"UART:BRK {uart},{duration_ns}", duration_ns)

    def uart_flush(self, uart: int) -> None:
        self._command(f"UART:FLUSH {uart}", 10**10)

    def uart_discard_input(self, uart: int) -> None:
        self._command(f"UART:DISC {uart}")
