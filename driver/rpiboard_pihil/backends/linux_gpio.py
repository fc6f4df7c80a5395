"""The Linux backend's GPIO: gpiod 2.x, one line request per line holding its settings
(direction, bias, drive, edge detection, debounce); edge events come from the kernel's buffer
with their CLOCK_MONOTONIC timestamps. Alternate-function select is not available from user
space: `NotSupportedError` names the config.txt line that does it at boot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..enums import DeviceErrorCode, Direction, Drive, Edge, EdgeKind, Function, Pull
from ..errors import ConfigurationError, NotSupportedError, PihilError, ResourceBusyError
from ..utility import ErrorQueryResult
from .base import EdgeEvent, not_an_output
from .linux_core import LinuxCore

CONSUMER = "rpiboard_pihil"


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
class LinuxGpio(LinuxCore):
    """GPIO lines through the GPIO character device (``/dev/gpiochip*``)."""

    _lines: dict[int, _Line] = field(default_factory=dict)
    _chip: Any = None

    def _gpio_reset(self) -> None:
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

    def _gpio_release(self) -> None:
        """Release the lines without changing them."""
        for line in self._lines.values():
            line.request.release()
        self._lines.clear()

    def _gpio_close_chip(self) -> None:
        if self._chip is not None:
            self._chip.close()
            self._chip = None

    def _chip_handle(self) -> Any:
        if self._chip is None:
            self._chip = self._os("GPIO chip", self.libs.gpiod.Chip, self.chip_path)
        return self._chip

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

    def _change(self, number: int, level: bool | None, **settings: object) -> None:
        """Set settings of a held line (``bias=Pull.UP``) and apply them (`_reconfigure`), an
        output at ``level`` (None: the level it has); if the kernel refuses, the old ones are
        back."""
        held = self._line(number)
        old = {name: getattr(held, name) for name in settings}
        for name, value in settings.items():
            setattr(held, name, value)
        try:
            out = self._output_level(number, held) if level is None else level
            self._reconfigure(number, held, out)
        except PihilError:
            for name, value in old.items():
                setattr(held, name, value)
            raise

    def gpio_set_direction(self, line: int, direction: Direction, value: bool) -> None:
        self._change(line, value, direction=direction)

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
        self._change(line, None, bias=pull)

    def _output_level(self, number: int, line: _Line) -> bool:
        if line.direction is not Direction.OUTPUT:
            return False
        value = self._os(f"GPIO{number}", line.request.get_value, number)
        return bool(value == self.libs.gpiod.line.Value.ACTIVE)

    def gpio_get_drive(self, line: int) -> Drive:
        return self._line(line).drive

    def gpio_set_drive(self, line: int, drive: Drive) -> None:
        self._change(line, None, drive=drive)

    def gpio_get_edge_detection(self, line: int) -> tuple[Edge, int]:
        held = self._lines.get(line)
        return (Edge.NONE, 0) if held is None else (held.edge, held.debounce_ns)

    def gpio_set_edge_detection(self, line: int, edge: Edge, debounce_ns: int) -> None:
        if debounce_ns % 1000:
            raise ConfigurationError(
                f"GPIO{line}: the kernel's debounce period is in whole microseconds; "
                f"got {debounce_ns} ns"
            )
        self._change(line, False, edge=edge, debounce_ns=debounce_ns)

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
