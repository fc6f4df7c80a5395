"""The Linux backend: the Pi's own kernel devices through gpiod 2.x, smbus2, spidev and pyserial.

- GPIO: one gpiod line request per line, holding its settings (direction,
  bias, drive, edge detection, debounce); edge events come from the kernel's
  buffer with their CLOCK_MONOTONIC timestamps.
- I2C: smbus2 ``i2c_rdwr`` (the ``I2C_RDWR`` ioctl) for raw combined transfers.
- SPI: spidev ``xfer2`` (chip select held for the whole transfer).
- UART: pyserial on the tty; receive-error counts from ``TIOCGICOUNT``.

What the kernel does not let user space do (alternate-function select, the
BSC clock divider) raises `NotSupportedError` naming the config.txt or
dtparam line that does it at boot.
"""

from __future__ import annotations

import errno
import fcntl
import glob
import os
import struct
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..board_info import BoardInfo, UartInfo
from ..enums import DeviceErrorCode, Direction, Drive, Edge, EdgeKind, Function, Parity, Pull
from ..errors import (
    BusError,
    BusTimeoutError,
    ConfigurationError,
    I2cClockStretchTimeoutError,
    I2cNackError,
    IdQueryError,
    NotSupportedError,
    OptionError,
    PihilError,
    ResourceBusyError,
    ResourceNotFoundError,
    UartError,
)
from ..utility import ErrorQueryResult
from .base import (
    DEFAULT_SPI_MODE,
    DEFAULT_SPI_SPEED_HZ,
    DEFAULT_UART_FORMAT,
    EdgeEvent,
    I2cMessage,
    Identity,
    UartFormat,
    not_an_output,
)

DEFAULT_ROOT = Path("/")
"""Where the device nodes and /proc live (a test points it at a fake tree)."""

CONSUMER = "rpiboard_pihil"
GPIO_CHIP_LABELS = ("pinctrl-bcm2835", "pinctrl-bcm2711")
MODEL_FILE = "proc/device-tree/model"
SERIAL_FILE = "proc/device-tree/serial-number"
SIMULATION_HINT = (
    "To run without hardware use the emulator: "
    "RpiBoard('local', options={'simulate': True, 'board': 'mirkopc'}) "
    "or the option string 'Simulate=True, Board=mirkopc'."
)

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


@dataclass(frozen=True)
class LinuxLibraries:
    """The Python libraries the backend drives (the real ones, or test doubles)."""

    gpiod: Any
    smbus2: Any
    spidev: Any
    serial: Any


def load_libraries() -> LinuxLibraries:
    """Import gpiod, smbus2, spidev and pyserial, or say how to install them."""
    try:
        import gpiod
        import serial
        import smbus2
        import spidev
    except ImportError as exc:
        raise NotSupportedError(
            f"the Linux backend needs gpiod>=2.1, smbus2, spidev and pyserial ({exc}); "
            "install them with: pip install 'rpiboard-pihil[linux]'. " + SIMULATION_HINT
        ) from exc
    return LinuxLibraries(gpiod=gpiod, smbus2=smbus2, spidev=spidev, serial=serial)


def read_icount(fd: int) -> dict[str, int] | None:
    """The tty's error counters (TIOCGICOUNT), or None where the tty has none (a pty)."""
    try:
        raw = fcntl.ioctl(fd, TIOCGICOUNT, bytes(_ICOUNT.size))
    except OSError:
        return None
    values = _ICOUNT.unpack(raw)
    return {name: values[index] for name, (index, _, _) in _ICOUNT_FIELDS.items()}


def _matches(reported: str, prefix: str) -> bool:
    return reported == prefix or reported.startswith(prefix + " ")


# -- config.txt lines that do what user space cannot ---------------------------------------


def _i2c_param(info: BoardInfo, bus: int) -> str | None:
    """``i2c_arm`` for the bus on the main header's pins 3/5, ``i2c_vc`` for BSC0 elsewhere
    (the HAT ID pins, P5, the CM4's GPIO44/45 mux), None for an overlay bus (i2c3..6)."""
    spec = next(b for b in info.i2c_buses if b.number == bus)
    try:
        arm_sda = info.pin(f"{info.primary_header}-03").gpio
    except KeyError:
        arm_sda = None
    if spec.sda_gpio is not None and spec.sda_gpio == arm_sda:
        return "i2c_arm"
    if bus in (0, 10):
        return "i2c_vc"
    return None


def _i2c_enable_line(info: BoardInfo, bus: int) -> str:
    param = _i2c_param(info, bus)
    return f"dtparam={param}=on" if param else f"dtoverlay=i2c{bus}"


def _i2c_baudrate_line(info: BoardInfo, bus: int, hz: int) -> str:
    param = _i2c_param(info, bus)
    return f"dtparam={param}_baudrate={hz}" if param else f"dtoverlay=i2c{bus},baudrate={hz}"


def _spi_enable_line(bus: int) -> str:
    return "dtparam=spi=on" if bus == 0 else f"dtoverlay=spi{bus}-2cs"


def _uart_enable_line(info: BoardInfo, uart: UartInfo) -> str:
    # soc-facts §4.2: on boards with Bluetooth the PL011 serves it and the mini UART is primary
    if uart.number == 0 and info.soc == "BCM2711":
        return "enable_uart=1` and `dtoverlay=disable-bt"
    if uart.number in (0, 1):
        return "enable_uart=1"
    return f"dtoverlay=uart{uart.number}"


@dataclass
class _Line:
    """This session's request for one GPIO line and the settings it holds."""

    request: Any
    direction: Direction
    bias: Pull | None
    """None while the kernel does not know the pull (never set since boot)."""
    drive: Drive
    edge: Edge = Edge.NONE
    debounce_ns: int = 0
    last_seqno: int = 0
    as_is: bool = True
    """Requested without changing the line; the first reconfigure makes the settings explicit."""


@dataclass
class _Serial:
    port: Any
    fmt: UartFormat
    counts: dict[str, int] | None = None


@dataclass
class _SpiState:
    mode: int = DEFAULT_SPI_MODE
    speed_hz: int = DEFAULT_SPI_SPEED_HZ
    dev: Any = None


@dataclass
class LinuxBackend:
    """Reaches the board this code runs on through its kernel devices."""

    _info: BoardInfo
    reported_model: str
    chip_path: str
    libs: LinuxLibraries
    root: Path = DEFAULT_ROOT
    devices: Mapping[str, str] = field(default_factory=dict)
    icount: Callable[[int], dict[str, int] | None] = read_icount
    _lines: dict[int, _Line] = field(default_factory=dict)
    _chip: Any = None
    _i2c: dict[int, Any] = field(default_factory=dict)
    _spi: dict[tuple[int, int], _SpiState] = field(default_factory=dict)
    _uarts: dict[int, _Serial] = field(default_factory=dict)
    _uart_formats: dict[int, UartFormat] = field(default_factory=dict)
    _errors: list[ErrorQueryResult] = field(default_factory=list)

    simulated = False

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        catalogue: Mapping[str, BoardInfo],
        *,
        board: str | None,
        devices: Mapping[str, str],
        id_query: bool,
        root: Path | None = None,
        libraries: LinuxLibraries | None = None,
    ) -> LinuxBackend:
        """Find the GPIO chip, identify the board, and return a backend for it.

        Fails at once, naming the missing device node, on a machine that is not a Pi.
        """
        root = DEFAULT_ROOT if root is None else root
        chips = sorted(glob.glob(str(root / "dev" / "gpiochip*")))
        if not chips:
            raise ResourceNotFoundError(
                "no GPIO character device: /dev/gpiochip0 does not exist on this machine, so it "
                "is not a Raspberry Pi (or its kernel lacks the GPIO character device). "
                + SIMULATION_HINT,
                path="/dev/gpiochip0",
            )
        libs = load_libraries() if libraries is None else libraries
        chip_path = cls._find_chip(libs, chips)
        model_file = root / MODEL_FILE
        try:
            reported = model_file.read_bytes().rstrip(b"\x00").decode("ascii", "replace").strip()
        except OSError as exc:
            raise ResourceNotFoundError(
                f"cannot read /{MODEL_FILE} ({exc.strerror}); the board cannot identify itself. "
                + SIMULATION_HINT,
                path="/" + MODEL_FILE,
            ) from exc
        info = cls._choose_board(catalogue, reported, board, id_query)
        info.check_device_names(devices)
        return cls(info, reported, chip_path, libs, root, dict(devices))

    @staticmethod
    def _find_chip(libs: LinuxLibraries, chips: Sequence[str]) -> str:
        seen = []
        for path in chips:
            try:
                if not libs.gpiod.is_gpiochip_device(path):
                    continue
                chip = libs.gpiod.Chip(path)
                try:
                    label = chip.get_info().label
                finally:
                    chip.close()
            except OSError as exc:
                raise LinuxBackend._os_error(path, exc) from exc
            if label in GPIO_CHIP_LABELS:
                return path
            seen.append(f"{path} ({label})")
        raise ResourceNotFoundError(
            "no BCM2835/BCM2711 GPIO chip (label "
            + " or ".join(GPIO_CHIP_LABELS)
            + ") among "
            + (", ".join(seen) or ", ".join(chips))
            + "; this board is not one the driver supports. "
            + SIMULATION_HINT,
            path=chips[0],
        )

    @staticmethod
    def _choose_board(
        catalogue: Mapping[str, BoardInfo], reported: str, board: str | None, id_query: bool
    ) -> BoardInfo:
        candidates = [
            i for i in catalogue.values() if any(_matches(reported, p) for p in i.kernel_models)
        ]
        supported = tuple(dict.fromkeys(i.model for i in catalogue.values()))
        if board is not None:
            info = catalogue[board]
            if id_query and info not in candidates:
                raise IdQueryError(
                    f"the kernel reports this board as {reported!r}, which is not {board!r} "
                    f"({info.model}, kernel model {' or '.join(info.kernel_models)}); "
                    "pass id_query=False to use the profile anyway",
                    found=reported,
                    supported=supported,
                )
            return info
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            names = ", ".join(repr(c.name) for c in candidates)
            raise OptionError(
                f"the kernel reports {reported!r}, which fits several boards ({names}); "
                "the carrier board cannot be read from the kernel, so choose it with "
                f"options={{'board': {candidates[0].name!r}}}"
            )
        raise IdQueryError(
            f"the kernel reports this board as {reported!r}, which is not a supported model; "
            f"supported: {', '.join(supported)}"
            + (
                ""
                if id_query
                else "; with id_query=False choose a profile with options={'board': ...}"
            ),
            found=reported,
            supported=supported,
        )

    # -- identity, clock, errors -----------------------------------------------------------
    @property
    def info(self) -> BoardInfo:
        return self._info

    def identify(self) -> Identity:
        return Identity(
            self._info.manufacturer,
            self._info.model,
            self.reported_model,
            serial=self._board_fact(SERIAL_FILE, None),
            revision=self._board_fact("proc/cpuinfo", "Revision"),
        )

    def _board_fact(self, relative: str, key: str | None) -> str | None:
        """A line of a /proc file (``key: value`` in /proc/cpuinfo), or a device-tree string;
        None when the kernel does not offer it (an absent file is no error: not every
        board has a serial number in its device tree)."""
        try:
            text = (self.root / relative).read_bytes().decode("ascii", "replace")
        except OSError:
            return None
        if key is None:
            value = text.strip("\x00\n ")
            return value or None
        for line in text.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == key and value.strip():
                return value.strip()
        return None

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def delay_ns(self, duration_ns: int) -> None:
        time.sleep(duration_ns / 1e9)

    def device_errors(self) -> list[ErrorQueryResult]:
        out, self._errors = self._errors, []
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

    def reset(self) -> None:
        """Lines this session holds go back to input, reset pull, no edges, and are released."""
        gpiod = self.libs.gpiod
        for number, line in list(self._lines.items()):
            pull = self._info.reset_pulls.get(number)
            settings = gpiod.LineSettings(
                direction=gpiod.line.Direction.INPUT,
                bias=self._bias(pull) if pull is not None else gpiod.line.Bias.AS_IS,
            )
            self._os(f"GPIO{number}", line.request.reconfigure_lines, {number: settings})
            line.request.release()
        self._lines.clear()
        self._close_buses()
        self._uart_formats.clear()

    def close(self) -> None:
        for line in self._lines.values():
            line.request.release()
        self._lines.clear()
        self._close_buses()
        if self._chip is not None:
            self._chip.close()
            self._chip = None

    def _close_buses(self) -> None:
        for bus in self._i2c.values():
            bus.close()
        self._i2c.clear()
        for spi in self._spi.values():
            if spi.dev is not None:
                spi.dev.close()
        self._spi.clear()
        for ser in self._uarts.values():
            ser.port.close()
        self._uarts.clear()

    # -- helpers -----------------------------------------------------------------------------
    def _node(self, path: str) -> str:
        """``path`` under ``root`` (the real root on the Pi; a fake tree in tests)."""
        return path if self.root == Path("/") else str(self.root / path.lstrip("/"))

    def _os(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Call a library function, translating OSError into the driver's errors."""
        try:
            return fn(*args)
        except OSError as exc:
            raise self._os_error(what, exc) from exc

    @staticmethod
    def _os_error(what: str, exc: OSError) -> PihilError:
        code = exc.errno
        if code == errno.EBUSY:
            return ResourceBusyError(f"{what} is in use by another driver or process ({exc})")
        if code in (errno.EPERM, errno.EACCES):
            return ResourceBusyError(
                f"{what}: permission denied ({exc}); add the user to the gpio, i2c, spi or "
                "dialout group"
            )
        if code == errno.ENOENT:
            return ResourceNotFoundError(f"{what}: {exc}", path=exc.filename or what)
        if code in (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
            return NotSupportedError(f"{what}: the kernel refused the request ({exc})")
        return PihilError(f"{what}: {exc}")

    def _chip_handle(self) -> Any:
        if self._chip is None:
            self._chip = self._os("GPIO chip", self.libs.gpiod.Chip, self.chip_path)
        return self._chip

    # -- GPIO ------------------------------------------------------------------------------
    def _bias(self, pull: Pull) -> Any:
        b = self.libs.gpiod.line.Bias
        return {Pull.NONE: b.DISABLED, Pull.UP: b.PULL_UP, Pull.DOWN: b.PULL_DOWN}[pull]

    def _settings(self, line: _Line, value: bool = False) -> Any:
        """LineSettings the kernel accepts (gpiolib-cdev: bias needs a direction, drive
        needs an output, edges and debounce need an input)."""
        g = self.libs.gpiod
        if line.as_is:
            return g.LineSettings()  # every field AS_IS / off: the request changes nothing
        d = g.line.Direction
        e = g.line.Edge
        is_input = line.direction is Direction.INPUT
        edge = {
            Edge.NONE: e.NONE,
            Edge.RISING: e.RISING,
            Edge.FALLING: e.FALLING,
            Edge.BOTH: e.BOTH,
        }
        open_drain = line.drive is Drive.OPEN_DRAIN and not is_input
        return g.LineSettings(
            direction=d.INPUT if is_input else d.OUTPUT,
            edge_detection=edge[line.edge] if is_input else e.NONE,
            bias=g.line.Bias.AS_IS if line.bias is None else self._bias(line.bias),
            drive=g.line.Drive.OPEN_DRAIN if open_drain else g.line.Drive.PUSH_PULL,
            debounce_period=timedelta(microseconds=line.debounce_ns // 1000 if is_input else 0),
            output_value=g.line.Value.ACTIVE if value else g.line.Value.INACTIVE,
        )

    def _line(self, number: int) -> _Line:
        """This session's request of the line, made on first use without changing its state."""
        line = self._lines.get(number)
        if line is not None:
            return line
        info = self._os(f"GPIO{number}", self._chip_handle().get_line_info, number)
        if info.used:
            raise ResourceBusyError(
                f"GPIO{number} is in use by {info.consumer or 'another consumer'!r}; when a kernel "
                "driver holds it (I2C, SPI, UART, 1-wire...) it is routed to that peripheral: "
                "disable the overlay or dtparam that claims it in config.txt to use it as a GPIO"
            )
        g = self.libs.gpiod
        bias = {
            g.line.Bias.PULL_UP: Pull.UP,
            g.line.Bias.PULL_DOWN: Pull.DOWN,
            g.line.Bias.DISABLED: Pull.NONE,
        }.get(info.bias)
        line = _Line(
            request=None,
            direction=Direction.OUTPUT
            if info.direction == g.line.Direction.OUTPUT
            else Direction.INPUT,
            bias=bias,
            drive=Drive.OPEN_DRAIN if info.drive == g.line.Drive.OPEN_DRAIN else Drive.PUSH_PULL,
        )
        line.request = self._os(
            f"GPIO{number}",
            g.request_lines,
            self.chip_path,
            {number: self._settings(line)},
            CONSUMER,
        )
        self._lines[number] = line
        return line

    def _reconfigure(self, number: int, line: _Line, value: bool = False) -> None:
        line.as_is = False
        self._os(
            f"GPIO{number}",
            line.request.reconfigure_lines,
            {number: self._settings(line, value)},
        )

    def gpio_get_function(self, line: int) -> Function:
        held = self._lines.get(line)
        if held is None:
            info = self._os(f"GPIO{line}", self._chip_handle().get_line_info, line)
            if info.used:
                raise NotSupportedError(
                    f"GPIO{line} is held by {info.consumer!r}, so it is probably routed to an "
                    "alternate function, which the GPIO character device cannot report; "
                    f"`pinctrl get {line}` (or `raspi-gpio get {line}`) on the Pi shows it"
                )
            is_output = info.direction == self.libs.gpiod.line.Direction.OUTPUT
            return Function.OUTPUT if is_output else Function.INPUT
        return (
            Function.OUTPUT if self.gpio_get_direction(line) is Direction.OUTPUT else Function.INPUT
        )

    def gpio_set_function(self, line: int, function: Function) -> None:
        if function is Function.INPUT:
            self.gpio_set_direction(line, Direction.INPUT, False)
        elif function is Function.OUTPUT:
            self.gpio_set_direction(line, Direction.OUTPUT, False)
        else:
            alt = function.name[-1]
            raise NotSupportedError(
                f"alternate-function select (GPIO{line} to {function.name}) is not available from "
                "user space through the GPIO character device; set it at boot with "
                f"`gpio={line}=a{alt}` in config.txt (/boot/firmware/config.txt), or enable the "
                "peripheral's overlay that routes the pin (dtparam=i2c_arm=on, dtparam=spi=on, "
                "enable_uart=1, dtoverlay=...)"
            )

    def gpio_get_direction(self, line: int) -> Direction:
        held = self._lines.get(line)
        if held is not None:
            return held.direction
        info = self._os(f"GPIO{line}", self._chip_handle().get_line_info, line)
        out = info.direction == self.libs.gpiod.line.Direction.OUTPUT
        return Direction.OUTPUT if out else Direction.INPUT

    def gpio_set_direction(self, line: int, direction: Direction, value: bool) -> None:
        held = self._line(line)
        old = held.direction
        held.direction = direction
        try:
            self._reconfigure(line, held, value)
        except PihilError:
            held.direction = old
            raise

    def gpio_read(self, line: int) -> bool:
        held = self._line(line)
        value = self._os(f"GPIO{line}", held.request.get_value, line)
        return bool(value == self.libs.gpiod.line.Value.ACTIVE)

    def gpio_write(self, line: int, value: bool) -> None:
        held = self._line(line)
        if held.direction is not Direction.OUTPUT:
            raise not_an_output(line)
        v = self.libs.gpiod.line.Value
        self._os(f"GPIO{line}", held.request.set_value, line, v.ACTIVE if value else v.INACTIVE)

    def gpio_get_pull(self, line: int) -> Pull:
        held = self._lines.get(line)
        bias = held.bias if held is not None else self._line(line).bias
        if bias is None:
            raise NotSupportedError(
                f"the kernel does not know GPIO{line}'s pull until it is set (the BCM2835 cannot "
                "report it, soc-facts §3.6); set gpio.pull first"
            )
        return bias

    def gpio_set_pull(self, line: int, pull: Pull) -> None:
        held = self._line(line)
        old = held.bias
        held.bias = pull
        try:
            self._reconfigure(line, held, self._output_level(line, held))
        except PihilError:
            held.bias = old
            raise

    def _output_level(self, number: int, line: _Line) -> bool:
        if line.direction is not Direction.OUTPUT:
            return False
        value = self._os(f"GPIO{number}", line.request.get_value, number)
        return bool(value == self.libs.gpiod.line.Value.ACTIVE)

    def gpio_get_drive(self, line: int) -> Drive:
        return self._line(line).drive

    def gpio_set_drive(self, line: int, drive: Drive) -> None:
        held = self._line(line)
        old = held.drive
        held.drive = drive
        try:
            self._reconfigure(line, held, self._output_level(line, held))
        except PihilError:
            held.drive = old
            raise

    def gpio_get_edge_detection(self, line: int) -> tuple[Edge, int]:
        held = self._lines.get(line)
        return (Edge.NONE, 0) if held is None else (held.edge, held.debounce_ns)

    def gpio_set_edge_detection(self, line: int, edge: Edge, debounce_ns: int) -> None:
        if debounce_ns % 1000:
            raise ConfigurationError(
                f"GPIO{line}: the kernel's debounce period is in whole microseconds; "
                f"got {debounce_ns} ns"
            )
        held = self._line(line)
        old = (held.edge, held.debounce_ns)
        held.edge, held.debounce_ns = edge, debounce_ns
        try:
            self._reconfigure(line, held)
        except PihilError:
            held.edge, held.debounce_ns = old
            raise

    def gpio_wait_edges(self, line: int, timeout_ns: int) -> list[EdgeEvent]:
        held = self._line(line)
        request = held.request
        rising = self.libs.gpiod.EdgeEvent.Type.RISING_EDGE
        events: list[EdgeEvent] = []
        wait = timedelta(microseconds=timeout_ns / 1000)
        while self._os(f"GPIO{line}", request.wait_edge_events, wait):
            for ev in self._os(f"GPIO{line}", request.read_edge_events):
                lost = ev.line_seqno - held.last_seqno - 1
                if lost > 0:
                    self._errors.append(
                        ErrorQueryResult(
                            int(DeviceErrorCode.EDGE_EVENT_OVERFLOW),
                            f"GPIO{line}: {lost} edge event(s) lost (kernel event buffer full)",
                        )
                    )
                held.last_seqno = ev.line_seqno
                kind = EdgeKind.RISING if ev.event_type == rising else EdgeKind.FALLING
                events.append(EdgeEvent(kind, ev.timestamp_ns, ev.line_offset, ev.line_seqno))
            wait = timedelta(0)
        return events

    # -- I2C -------------------------------------------------------------------------------
    def _i2c_info(self, bus: int) -> tuple[str, str]:
        for b in self._info.i2c_buses:
            if b.number == bus:
                return b.name, self.devices.get(b.name, b.linux_device)
        raise ConfigurationError(f"no I2C bus {bus}")  # the collections prevent this

    def _smbus(self, bus: int) -> Any:
        handle = self._i2c.get(bus)
        if handle is None:
            name, path = self._i2c_info(bus)
            node = self._node(path)
            if not os.path.exists(node):
                raise ResourceNotFoundError(
                    f"{path} does not exist, so {name} is not enabled: add "
                    f"`{_i2c_enable_line(self._info, bus)}` to config.txt (and load i2c-dev). "
                    + SIMULATION_HINT,
                    path=path,
                )
            handle = self._os(path, self.libs.smbus2.SMBus, node)
            self._i2c[bus] = handle
        return handle

    def i2c_transfer(self, bus: int, messages: Sequence[I2cMessage]) -> list[bytes]:
        handle = self._smbus(bus)
        msg = self.libs.smbus2.i2c_msg
        raw = [
            msg.read(m.address, m.length) if m.read else msg.write(m.address, m.data)
            for m in messages
        ]
        try:
            handle.i2c_rdwr(*raw)
        except OSError as exc:
            raise self._i2c_error(bus, messages, exc) from exc
        return [bytes(r) for r, m in zip(raw, messages, strict=True) if m.read]

    def _i2c_error(self, bus: int, messages: Sequence[I2cMessage], exc: OSError) -> PihilError:
        name = self._i2c_info(bus)[0]
        address = messages[0].address
        code = exc.errno
        ename = errno.errorcode.get(code, str(code)) if code is not None else None
        if code == errno.EREMOTEIO:
            return I2cNackError(
                f"{name}: no ACK from address 0x{address:02x} (EREMOTEIO)",
                bus=name,
                kind="nack",
                address=address,
                errno_name=ename,
            )
        if code == errno.EIO:
            return I2cClockStretchTimeoutError(
                f"{name}: clock-stretch timeout talking to 0x{address:02x} (EIO)",
                bus=name,
                kind="clkt",
                address=address,
                errno_name=ename,
            )
        if code == errno.ETIMEDOUT:
            return BusTimeoutError(
                f"{name}: transfer to 0x{address:02x} timed out (ETIMEDOUT)",
                bus=name,
                kind="timeout",
                address=address,
                errno_name=ename,
            )
        if code == errno.EOPNOTSUPP:
            return NotSupportedError(f"{name}: the I2C driver refused the transfer ({exc})")
        return BusError(
            f"{name}: transfer to 0x{address:02x} failed ({exc})",
            bus=name,
            kind="io",
            address=address,
            errno_name=ename,
        )

    def i2c_get_frequency(self, bus: int) -> int:
        path = self.root / "sys/class/i2c-adapter" / f"i2c-{bus}" / "of_node/clock-frequency"
        try:
            raw = path.read_bytes()
        except OSError:
            return 100_000  # i2c-bcm2835 uses 100 kHz when the device tree gives no clock-frequency
        return int.from_bytes(raw[:4], "big")

    def i2c_set_frequency(self, bus: int, hz: int) -> None:
        if hz == self.i2c_get_frequency(bus):
            return
        raise NotSupportedError(
            f"the I2C clock (the BSC DIV register) cannot be set from user space; set it at boot "
            f"with `{_i2c_baudrate_line(self._info, bus, hz)}` in config.txt"
        )

    # -- SPI -------------------------------------------------------------------------------
    def _spi_state(self, bus: int, cs: int) -> _SpiState:
        return self._spi.setdefault((bus, cs), _SpiState())

    def _spidev(self, bus: int, cs: int) -> Any:
        state = self._spi_state(bus, cs)
        if state.dev is None:
            info = next(b for b in self._info.spi_buses if b.number == bus)
            path = self.devices.get(f"{info.name}.ce{cs}", info.linux_devices[cs])
            node = self._node(path)
            if not os.path.exists(node):
                raise ResourceNotFoundError(
                    f"{path} does not exist, so {info.name} CE{cs} is not enabled: add "
                    f"`{_spi_enable_line(bus)}` to config.txt. " + SIMULATION_HINT,
                    path=path,
                )
            dev = self.libs.spidev.SpiDev()
            self._os(path, dev.open_path, node)
            dev.mode = state.mode
            dev.max_speed_hz = state.speed_hz
            dev.bits_per_word = 8
            state.dev = dev
        return state.dev

    def spi_transfer(self, bus: int, cs: int, data: bytes) -> bytes:
        dev = self._spidev(bus, cs)
        try:
            rx = dev.xfer2(list(data))
        except OSError as exc:
            name = f"spi{bus}.ce{cs}"
            if exc.errno == errno.EMSGSIZE:
                raise ConfigurationError(
                    f"{name}: {len(data)} bytes exceed spidev's buffer (4096 by default); raise "
                    "it with spidev.bufsiz=<bytes> on the kernel command line"
                ) from exc
            raise BusError(f"{name}: transfer failed ({exc})", bus=f"spi{bus}", kind="io") from exc
        return bytes(rx)

    def spi_get_mode(self, bus: int, cs: int) -> int:
        return self._spi_state(bus, cs).mode

    def spi_set_mode(self, bus: int, cs: int, mode: int) -> None:
        state = self._spi_state(bus, cs)
        if state.dev is not None:
            state.dev.mode = mode
        state.mode = mode

    def spi_get_speed(self, bus: int, cs: int) -> int:
        return self._spi_state(bus, cs).speed_hz

    def spi_set_speed(self, bus: int, cs: int, hz: int) -> None:
        state = self._spi_state(bus, cs)
        if state.dev is not None:
            state.dev.max_speed_hz = hz
        state.speed_hz = hz

    # -- UART ------------------------------------------------------------------------------
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
            node = self._node(path)
            if not os.path.exists(node):
                raise ResourceNotFoundError(
                    f"{path} does not exist, so {info.name} is not enabled: add "
                    f"`{_uart_enable_line(self._info, info)}` to config.txt. " + SIMULATION_HINT,
                    path=path,
                )
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
