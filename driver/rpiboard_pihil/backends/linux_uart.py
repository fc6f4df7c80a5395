"""The Linux backend's UART: pyserial on the tty; receive-error counts from ``TIOCGICOUNT``
(framing, overrun, parity, break), reported by ``device_errors`` as they grow.
"""

from __future__ import annotations

import fcntl
import struct
import termios
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..board_info import BoardInfo, UartInfo
from ..enums import DeviceErrorCode, Parity
from ..errors import ConfigurationError, UartError
from ..utility import ErrorQueryResult
from .base import DEFAULT_UART_FORMAT, UartFormat
from .linux_core import LinuxCore

TIOCGICOUNT = 0x545D
"""ioctl returning struct serial_icounter_struct (20 ints: cts dsr rng dcd rx tx frame overrun
parity brk buf_overrun reserved[9])."""
_ICOUNT = struct.Struct("20i")
_ICOUNT_FIELDS = {
    "frame": (6, DeviceErrorCode.UART_FRAMING, "framing error(s)"),
    "overrun": (7, DeviceErrorCode.UART_OVERRUN, "overrun(s) of the UART FIFO"),
    "parity": (8, DeviceErrorCode.UART_PARITY, "parity error(s)"),
    "brk": (9, DeviceErrorCode.UART_BREAK, "break(s) received"),
    "buf_overrun": (10, DeviceErrorCode.UART_OVERRUN, "overrun(s) of the tty buffer"),
}


def read_icount(fd: int) -> dict[str, int] | None:
    """The tty's error counters (TIOCGICOUNT), or None where the tty has none (a pty)."""
    try:
        raw = fcntl.ioctl(fd, TIOCGICOUNT, bytes(_ICOUNT.size))
    except OSError:
        return None
    values = _ICOUNT.unpack(raw)
    return {name: values[index] for name, (index, _, _) in _ICOUNT_FIELDS.items()}


def _uart_enable_line(info: BoardInfo, uart: UartInfo) -> str:
    # soc-facts §4.2: on boards with Bluetooth the PL011 serves it and the mini UART is primary
    if uart.number == 0 and info.soc == "BCM2711":
        return "enable_uart=1` and `dtoverlay=disable-bt"
    if uart.number in (0, 1):
        return "enable_uart=1"
    return f"dtoverlay=uart{uart.number}"


@dataclass
class _Serial:
    port: Any
    fmt: UartFormat
    counts: dict[str, int] | None = None


@dataclass
class LinuxUart(LinuxCore):
    """UARTs through their ttys (``/dev/ttyAMA0``, ``/dev/ttyS0``...)."""

    icount: Callable[[int], dict[str, int] | None] = read_icount
    _uarts: dict[int, _Serial] = field(default_factory=dict)
    _uart_formats: dict[int, UartFormat] = field(default_factory=dict)

    def _uart_errors(self) -> list[ErrorQueryResult]:
        """What each open tty's error counters gained since they were last read."""
        out = []
        for number, ser in self._uarts.items():
            if ser.counts is None:
                continue
            now = self.icount(ser.port.fileno())
            if now is None:
                continue
            for name, (_, code, text) in _ICOUNT_FIELDS.items():
                delta = now[name] - ser.counts[name]
                if delta > 0:
                    out.append(ErrorQueryResult(int(code), f"uart{number}: {delta} {text}"))
            ser.counts = now
        return out

    def _uart_close(self) -> None:
        for ser in self._uarts.values():
            ser.port.close()
        self._uarts.clear()

    def _uart_info(self, uart: int) -> UartInfo:
        return next(u for u in self._info.uarts if u.number == uart)

    def _port_settings(self, fmt: UartFormat) -> dict[str, Any]:
        s = self.libs.serial
        parity = {
            Parity.NONE: s.PARITY_NONE,
            Parity.EVEN: s.PARITY_EVEN,
            Parity.ODD: s.PARITY_ODD,
            Parity.MARK: s.PARITY_MARK,
            Parity.SPACE: s.PARITY_SPACE,
        }[fmt.parity]
        stop = s.STOPBITS_ONE if fmt.stop_bits == 1 else s.STOPBITS_TWO
        return {
            "baudrate": fmt.baud_rate,
            "bytesize": fmt.data_bits,
            "parity": parity,
            "stopbits": stop,
        }

    def _serial(self, uart: int) -> _Serial:
        ser = self._uarts.get(uart)
        if ser is None:
            info = self._uart_info(uart)
            path = self.devices.get(info.name, info.linux_device)
            node = self._enabled_node(path, info.name, _uart_enable_line(self._info, info))
            fmt = self.uart_get_format(uart)
            try:
                port = self.libs.serial.Serial(
                    node, timeout=0, exclusive=True, **self._port_settings(fmt)
                )
            except (OSError, ValueError, termios.error) as exc:
                raise UartError(f"{info.name}: cannot open {path} ({exc})") from exc
            ser = _Serial(port, fmt, self.icount(port.fileno()))
            self._uarts[uart] = ser
        return ser

    def uart_get_format(self, uart: int) -> UartFormat:
        return self._uart_formats.get(uart, DEFAULT_UART_FORMAT)

    def uart_set_format(self, uart: int, fmt: UartFormat) -> None:
        ser = self._uarts.get(uart)
        if ser is not None:
            try:
                ser.port.apply_settings(self._port_settings(fmt))
            except (OSError, ValueError, termios.error) as exc:
                # pyserial keeps the refused values; put the ones the tty has back
                ser.port.apply_settings(self._port_settings(ser.fmt))
                raise ConfigurationError(f"uart{uart}: the tty refused {fmt} ({exc})") from exc
            ser.fmt = fmt
        self._uart_formats[uart] = fmt

    def _uart_io(self, uart: int, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except (OSError, termios.error) as exc:
            raise UartError(f"uart{uart}: {what} failed ({exc})") from exc

    def uart_write(self, uart: int, data: bytes) -> None:
        port = self._serial(uart).port
        written = self._uart_io(uart, "write", port.write, data)
        if written != len(data):
            raise UartError(f"uart{uart}: wrote {written} of {len(data)} bytes")

    def uart_read(self, uart: int, n: int, timeout_ns: int) -> bytes:
        port = self._serial(uart).port
        port.timeout = timeout_ns / 1e9
        return bytes(self._uart_io(uart, "read", port.read, n))

    def uart_in_waiting(self, uart: int) -> int:
        port = self._serial(uart).port
        return int(self._uart_io(uart, "in_waiting", lambda: port.in_waiting))

    def uart_send_break(self, uart: int, duration_ns: int) -> None:
        port = self._serial(uart).port
        self._uart_io(uart, "send_break", port.send_break, duration_ns / 1e9)

    def uart_flush(self, uart: int) -> None:
        port = self._serial(uart).port
        self._uart_io(uart, "flush", port.flush)

    def uart_discard_input(self, uart: int) -> None:
        port = self._serial(uart).port
        self._uart_io(uart, "reset_input_buffer", port.reset_input_buffer)
