"""I2C, SPI and UARTs of the simulated backend, through the emulator's bus blocks'
Linux-like entry points (docs/emulator-api.md)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pihil_emulator.buses.i2c_master import I2cMessage as EmuMessage

from ..enums import DeviceErrorCode
from ..utility import ErrorQueryResult
from .base import (
    DEFAULT_I2C_FREQUENCY_HZ,
    DEFAULT_SPI_MODE,
    DEFAULT_SPI_SPEED_HZ,
    DEFAULT_UART_FORMAT,
    I2cMessage,
    UartFormat,
)
from .sim_core import SimCore, translated


class SimI2c(SimCore):
    """The I2C part of `SimulatedBackend`."""

    _i2c_hz: dict[int, int]

    # -- I2C -------------------------------------------------------------------------------
    def _bsc(self, bus: int) -> Any:
        """The bus's controller: a BSC block, or the board's bit-banged i2c-gpio bus (the
        profile's ``controller: i2c-gpio``), which has the same transfer/set_bus_speed."""
        board = self._board
        found = self._bsc_found.get(bus)
        if found is not None and found[0] is board:
            return found[1]  # (the profile's controllers and the board's blocks are fixed)
        if self._controllers.get(("i2c", bus)) == "i2c-gpio":
            name = next(b.name for b in self._info.i2c_buses if b.number == bus)
            controller = board.i2c_gpio_buses[name]
        else:
            controller = self._block("i2c", bus)
        self._bsc_found[bus] = (board, controller)
        return controller

    _bsc_found: dict[int, tuple[Any, Any]]
    """`_bsc` answers by bus number, with the board they are of."""

    def i2c_controller(self, bus: int) -> Any:
        """The emulator's controller of Linux bus ``bus`` (for the board's userspace)."""
        return self._bsc(bus)

    @translated
    def i2c_transfer(self, bus: int, messages: Sequence[I2cMessage]) -> list[bytes]:
        # the driver's I2cMessage carries fields I2cBus has checked as the emulator's would
        checked = EmuMessage.checked
        msgs = [checked(m.address, m.read, m.data, m.length) for m in messages]
        data: list[bytes] = self._bsc(bus).transfer(msgs)  # bytes already: BscBlock, i2c-gpio
        return data

    def i2c_get_frequency(self, bus: int) -> int:
        return self._i2c_hz.get(bus, DEFAULT_I2C_FREQUENCY_HZ)

    @translated
    def i2c_set_frequency(self, bus: int, hz: int) -> None:
        self._bsc(bus).set_bus_speed(hz)
        self._i2c_hz[bus] = hz


class SimSpi(SimCore):
    """The SPI part of `SimulatedBackend`."""

    _spi: dict[tuple[int, int], tuple[int, int]]

    # -- SPI -------------------------------------------------------------------------------
    def spi_controller(self, bus: int) -> Any:
        """The emulator's controller of Linux SPI bus ``bus`` (for the board's userspace)."""
        return self._block("spi", bus)

    @translated
    def spi_transfer(self, bus: int, cs: int, data: bytes) -> bytes:
        mode, speed = self._spi.get((bus, cs), (DEFAULT_SPI_MODE, DEFAULT_SPI_SPEED_HZ))
        block = self._block("spi", bus)
        return bytes(block.transfer(data, cs=cs, mode=mode, speed_hz=speed))

    def spi_get_mode(self, bus: int, cs: int) -> int:
        return self._spi.get((bus, cs), (DEFAULT_SPI_MODE, DEFAULT_SPI_SPEED_HZ))[0]

    def spi_set_mode(self, bus: int, cs: int, mode: int) -> None:
        self._spi[(bus, cs)] = (mode, self.spi_get_speed(bus, cs))

    def spi_get_speed(self, bus: int, cs: int) -> int:
        return self._spi.get((bus, cs), (DEFAULT_SPI_MODE, DEFAULT_SPI_SPEED_HZ))[1]

    def spi_set_speed(self, bus: int, cs: int, hz: int) -> None:
        self._spi[(bus, cs)] = (self.spi_get_mode(bus, cs), hz)


class SimUart(SimCore):
    """The UART part of `SimulatedBackend`."""

    _uart_formats: dict[int, UartFormat]
    _uart_counts: dict[int, dict[str, int]]

    # -- UART ------------------------------------------------------------------------------
    def _uart(self, uart: int) -> Any:
        """The UART block, its port opened (at 115200 8N1) on first use as a tty is."""
        block = self._block("uart", uart)
        if uart not in self._uart_counts:
            if uart not in self._uart_formats:
                block.configure(DEFAULT_UART_FORMAT.baud_rate, 8, "none", 1)
                self._uart_formats[uart] = DEFAULT_UART_FORMAT
            self._uart_counts[uart] = dict(block.error_counts())
        return block

    def uart_get_format(self, uart: int) -> UartFormat:
        return self._uart_formats.get(uart, DEFAULT_UART_FORMAT)

    @translated
    def uart_set_format(self, uart: int, fmt: UartFormat) -> None:
        parity = fmt.parity.name.lower()
        self._block("uart", uart).configure(fmt.baud_rate, fmt.data_bits, parity, fmt.stop_bits)
        self._uart_formats[uart] = fmt
        self._uart(uart)

    @translated
    def uart_write(self, uart: int, data: bytes) -> None:
        self._uart(uart).write(data)

    @translated
    def uart_read(self, uart: int, n: int, timeout_ns: int) -> bytes:
        return bytes(self._uart(uart).read(n, timeout_ns))

    @translated
    def uart_in_waiting(self, uart: int) -> int:
        return int(self._uart(uart).in_waiting())

    @translated
    def uart_send_break(self, uart: int, duration_ns: int) -> None:
        self._uart(uart).send_break(duration_ns)

    @translated
    def uart_flush(self, uart: int) -> None:
        self._uart(uart).flush()

    @translated
    def uart_discard_input(self, uart: int) -> None:
        self._uart(uart).discard_input()

    def _uart_errors(self) -> Iterator[ErrorQueryResult]:
        names = {
            "framing": (DeviceErrorCode.UART_FRAMING, "framing error(s)"),
            "parity": (DeviceErrorCode.UART_PARITY, "parity error(s)"),
            "overrun": (DeviceErrorCode.UART_OVERRUN, "overrun(s) of the UART FIFO"),
            "break": (DeviceErrorCode.UART_BREAK, "break(s) received"),
            "buf_overrun": (
                DeviceErrorCode.UART_OVERRUN,
                "character(s) lost: the tty buffer was full (read the UART more often)",
            ),
        }
        for uart, before in self._uart_counts.items():
            now = dict(self._uart(uart).error_counts())
            for key, (code, text) in names.items():
                delta = now.get(key, 0) - before.get(key, 0)
                if delta > 0:
                    yield ErrorQueryResult(int(code), f"uart{uart}: {delta} {text}")
            self._uart_counts[uart] = now
