"""The Backend protocol: one way of reaching the hardware, below the driver's public API.

The driver (`RpiBoard` and its capabilities) owns the API, the checks and the
session lock; a backend only performs operations and translates its own
library's failures into `PihilError` subclasses (chaining the original).
Two backends exist: `SimulatedBackend` (the emulator, driven through the SoC
registers the way the Linux kernel drives them) and `LinuxBackend` (gpiod 2.x,
smbus2, spidev, pyserial on the Pi itself).

Lines, buses and chip selects are given by number; the driver has already
checked them against `BoardInfo`. Durations are integer nanoseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..board_info import BoardInfo
from ..enums import Direction, Drive, Edge, EdgeKind, Function, Parity, Pull
from ..errors import ConfigurationError
from ..validate import data_bytes, integer

I2C_MAX_MESSAGE = 65535
"""The kernel's i2c_msg.len and the BSC's DLEN are 16 bits (soc-facts §2)."""

if TYPE_CHECKING:
    from ..utility import ErrorQueryResult


@dataclass(frozen=True)
class EdgeEvent:
    """One detected edge on a GPIO line.

    ``timestamp_ns`` is simulated time in simulation and CLOCK_MONOTONIC (the
    kernel's edge timestamp) on hardware; ``seqno`` counts this line's events
    from 1, so a gap shows a lost event.
    """

    kind: EdgeKind
    timestamp_ns: int
    gpio: int
    seqno: int


@dataclass(frozen=True)
class I2cMessage:
    """One message of a combined I2C transfer: a write of ``data`` or a read of ``length`` bytes."""

    address: int
    read: bool
    data: bytes = b""
    length: int = 0

    @staticmethod
    def write(address: int, data: bytes) -> I2cMessage:
        """A write of ``data`` (bytes, or a list of ints 0..255) to the 7-bit ``address``."""
        a = integer(address, "I2cMessage.write(address)", 0x00, 0x7F)
        out = data_bytes(data, "I2cMessage.write(data)", I2C_MAX_MESSAGE)
        return I2cMessage(a, False, out, len(out))

    @staticmethod
    def read_of(address: int, length: int) -> I2cMessage:
        """A read of ``length`` bytes (1..65535) from the 7-bit ``address``."""
        a = integer(address, "I2cMessage.read_of(address)", 0x00, 0x7F)
        n = integer(length, "I2cMessage.read_of(length)", 1, I2C_MAX_MESSAGE)
        return I2cMessage(a, True, b"", n)

    @classmethod
    def checked(cls, address: int, read: bool, data: bytes, length: int) -> I2cMessage:
        """A message from fields the caller has checked as `write`/`read_of` do (the driver's
        hot path, `I2cBus.write_read`): the same object the dataclass constructor makes,
        built without its four frozen ``object.__setattr__`` calls (225 ns against 545)."""
        m = _new_object(cls)
        fields = m.__dict__
        fields["address"] = address
        fields["read"] = read
        fields["data"] = data
        fields["length"] = length
        return m


_new_object = object.__new__


@dataclass(frozen=True)
class UartFormat:
    """Line settings of a UART."""

    baud_rate: int = 115_200
    data_bits: int = 8
    parity: Parity = Parity.NONE
    stop_bits: int = 1


@dataclass(frozen=True)
class Identity:
    """What the board says it is."""

    manufacturer: str
    model: str
    reported: str
    """The raw identity: ``/proc/device-tree/model`` on hardware, the profile model in simulation."""
    serial: str | None = None
    """The board's serial number (``/proc/device-tree/serial-number`` on hardware), if known."""
    revision: str | None = None
    """The board's revision code (``Revision`` of ``/proc/cpuinfo`` on hardware), if known."""


class Backend(Protocol):
    """Operations a backend performs. Every method may raise a `PihilError`."""

    @property
    def info(self) -> BoardInfo: ...

    @property
    def simulated(self) -> bool: ...

    def identify(self) -> Identity: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...

    def now_ns(self) -> int: ...

    def delay_ns(self, duration_ns: int) -> None: ...

    def device_errors(self) -> list[ErrorQueryResult]:
        """Errors the board reported on its own since the last call (drained)."""
        ...

    # -- GPIO ------------------------------------------------------------------------------
    def gpio_get_function(self, line: int) -> Function: ...

    def gpio_set_function(self, line: int, function: Function) -> None: ...

    def gpio_get_direction(self, line: int) -> Direction: ...

    def gpio_set_direction(self, line: int, direction: Direction, value: bool) -> None:
        """Set the direction; an output starts at ``value``."""
        ...

    def gpio_read(self, line: int) -> bool: ...

    def gpio_write(self, line: int, value: bool) -> None: ...

    def gpio_get_pull(self, line: int) -> Pull: ...

    def gpio_set_pull(self, line: int, pull: Pull) -> None: ...

    def gpio_get_drive(self, line: int) -> Drive: ...

    def gpio_set_drive(self, line: int, drive: Drive) -> None: ...

    def gpio_get_edge_detection(self, line: int) -> tuple[Edge, int]:
        """The edge detection and debounce period (ns)."""
        ...

    def gpio_set_edge_detection(self, line: int, edge: Edge, debounce_ns: int) -> None: ...

    def gpio_wait_edges(self, line: int, timeout_ns: int) -> list[EdgeEvent]:
        """Wait up to ``timeout_ns`` for at least one event; return all that are queued."""
        ...

    # -- I2C -------------------------------------------------------------------------------
    def i2c_transfer(self, bus: int, messages: Sequence[I2cMessage]) -> list[bytes]:
        """Run the messages as one combined transfer (repeated starts); the data of each read."""
        ...

    def i2c_get_frequency(self, bus: int) -> int: ...

    def i2c_set_frequency(self, bus: int, hz: int) -> None: ...

    # -- SPI -------------------------------------------------------------------------------
    def spi_transfer(self, bus: int, cs: int, data: bytes) -> bytes: ...

    def spi_get_mode(self, bus: int, cs: int) -> int: ...

    def spi_set_mode(self, bus: int, cs: int, mode: int) -> None: ...

    def spi_get_speed(self, bus: int, cs: int) -> int: ...

    def spi_set_speed(self, bus: int, cs: int, hz: int) -> None: ...

    # -- UART ------------------------------------------------------------------------------
    def uart_get_format(self, uart: int) -> UartFormat: ...

    def uart_set_format(self, uart: int, fmt: UartFormat) -> None: ...

    def uart_write(self, uart: int, data: bytes) -> None: ...

    def uart_read(self, uart: int, n: int, timeout_ns: int) -> bytes: ...

    def uart_in_waiting(self, uart: int) -> int: ...

    def uart_send_break(self, uart: int, duration_ns: int) -> None: ...

    def uart_flush(self, uart: int) -> None: ...

    def uart_discard_input(self, uart: int) -> None: ...


def not_an_output(line: int) -> ConfigurationError:
    """The error for a value written to a line that is not an output (the kernel: EPERM)."""
    return ConfigurationError(
        f"GPIO{line} is not an output; set direction = Direction.OUTPUT "
        "(or call set_output(value)) before writing its value"
    )


DEFAULT_SPI_MODE = 0
DEFAULT_SPI_SPEED_HZ = 500_000
"""SPI settings every chip select starts with (and returns to on reset), in both backends."""

DEFAULT_I2C_FREQUENCY_HZ = 100_000
"""The Linux i2c-bcm2835 default bus clock (no clock-frequency property)."""

DEFAULT_UART_FORMAT = UartFormat()
"""115200 8N1, the Raspberry Pi console setting."""
