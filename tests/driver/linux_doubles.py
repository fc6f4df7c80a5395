"""Test doubles of gpiod 2.x, smbus2 and spidev that check what the real libraries would receive.

They use the real libraries' own value types (gpiod's LineSettings, enums,
LineInfo, ChipInfo, EdgeEvent; smbus2's i2c_msg), so a wrong type or field
fails here as it would on the Pi, and they enforce the kernel's rules that
bite from user space (gpiolib-cdev ``gpio_v2_line_flags_validate``: bias needs
a direction, drive needs an output, edge detection needs an input; set_value on
an input is EPERM; a line held by someone else is EBUSY).
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import gpiod
import smbus2
from gpiod.line import Bias, Direction, Drive, Edge, Value

# -- gpiod ----------------------------------------------------------------------------------


@dataclass
class FakeLine:
    """The kernel's view of one line."""

    offset: int
    direction: Direction = Direction.INPUT
    bias: Bias = Bias.UNKNOWN
    drive: Drive = Drive.PUSH_PULL
    edge: Edge = Edge.NONE
    debounce_us: int = 0
    output: Value = Value.INACTIVE
    external: bool | None = None
    """A level driven from outside (None: nothing drives the pin)."""
    consumer: str = ""
    line_seqno: int = 0
    level: bool = False

    def resolve(self) -> bool:
        if self.direction == Direction.OUTPUT and not (
            self.drive == Drive.OPEN_DRAIN and self.output == Value.ACTIVE
        ):
            return self.output == Value.ACTIVE
        if self.external is not None:
            return self.external
        return self.bias == Bias.PULL_UP


class FakeGpiod:
    """Stands in for the ``gpiod`` module (2.x API)."""

    line = gpiod.line
    LineSettings = gpiod.LineSettings
    EdgeEvent = gpiod.EdgeEvent

    def __init__(self, chips: dict[str, tuple[str, int]]) -> None:
        self.chips = chips  # path -> (label, num_lines)
        self.lines: dict[int, FakeLine] = {}
        self.requests: list[FakeRequest] = []
        self.calls: list[tuple[str, Any]] = []
        self.clock_ns = 1_000_000_000
        self.global_seqno = 0
        self.event_buffer: dict[int, list[gpiod.EdgeEvent]] = {}

    def fake_line(self, offset: int) -> FakeLine:
        return self.lines.setdefault(offset, FakeLine(offset))

    # module functions
    def is_gpiochip_device(self, path: str) -> bool:
        return path in self.chips

    def Chip(self, path: str) -> FakeChip:  # noqa: N802 - mirrors gpiod.Chip
        if path not in self.chips:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        return FakeChip(self, path)

    def request_lines(
        self,
        path: str,
        config: dict[Any, Any],
        consumer: str | None = None,
        event_buffer_size: int | None = None,
        output_values: dict[Any, Any] | None = None,
    ) -> FakeRequest:
        if path not in self.chips:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        offsets = self._offsets(config)
        for off in offsets:
            if self.fake_line(off).consumer:
                raise OSError(errno.EBUSY, "Device or resource busy")
        req = FakeRequest(self, path, offsets, consumer or "?")
        self.calls.append(("request_lines", {"path": path, "config": config, "consumer": consumer}))
        req.reconfigure_lines(config, record=False)
        for off in offsets:
            self.fake_line(off).consumer = consumer or "?"
        self.requests.append(req)
        return req

    def _offsets(self, config: dict[Any, Any]) -> list[int]:
        out = []
        for key, settings in config.items():
            keys: Iterable[Any] = key if isinstance(key, tuple) else (key,)
            for k in keys:
                if not isinstance(k, int) or not 0 <= k < self._num_lines():
                    raise ValueError(f"bad line offset {k!r}")
                out.append(k)
            if settings is not None and not isinstance(settings, gpiod.LineSettings):
                raise TypeError(f"settings must be gpiod.LineSettings, got {settings!r}")
        return out

    def _num_lines(self) -> int:
        return max(n for _, n in self.chips.values())

    # what the outside world does
    def drive_external(self, offset: int, level: bool | None, *, after_ns: int = 1000) -> None:
        """An external source drives the pin; edge events as the kernel would queue them."""
        self.clock_ns += after_ns
        line = self.fake_line(offset)
        line.external = level
        self._update(line)

    def _update(self, line: FakeLine) -> None:
        new = line.resolve()
        if new == line.level:
            return
        line.level = new
        wanted = {
            Edge.RISING: new,
            Edge.FALLING: not new,
            Edge.BOTH: True,
            Edge.NONE: False,
        }[line.edge]
        if wanted and line.direction == Direction.INPUT and line.consumer:
            self.global_seqno += 1
            line.line_seqno += 1
            kind = gpiod.EdgeEvent.Type.RISING_EDGE if new else gpiod.EdgeEvent.Type.FALLING_EDGE
            self.event_buffer.setdefault(line.offset, []).append(
                gpiod.EdgeEvent(
                    kind.value, self.clock_ns, line.offset, self.global_seqno, line.line_seqno
                )
            )

    def drop_events(self, offset: int, count: int) -> None:
        """Lose the oldest ``count`` events, as a full kernel buffer does."""
        del self.event_buffer[offset][:count]


class FakeChip:
    def __init__(self, gpiod_: FakeGpiod, path: str) -> None:
        self._g = gpiod_
        self.path = path
        self.closed = False

    def get_info(self) -> gpiod.ChipInfo:
        label, n = self._g.chips[self.path]
        return gpiod.ChipInfo(name=self.path.rsplit("/", 1)[-1], label=label, num_lines=n)

    def get_line_info(self, offset: int) -> gpiod.LineInfo:
        line = self._g.fake_line(offset)
        return gpiod.LineInfo(
            offset,
            f"GPIO{offset}",
            bool(line.consumer),
            line.consumer,
            line.direction.value,
            False,
            line.bias.value,
            line.drive.value,
            line.edge.value,
            gpiod.line.Clock.MONOTONIC.value,
            line.debounce_us > 0,
            line.debounce_us,
        )

    def close(self) -> None:
        self.closed = True


class FakeRequest:
    def __init__(self, g: FakeGpiod, path: str, offsets: list[int], consumer: str) -> None:
        self._g = g
        self.path = path
        self.offsets = offsets
        self.consumer = consumer
        self.released = False
        self.reconfigurations: list[dict[int, gpiod.LineSettings]] = []

    def _check(self, offset: int) -> FakeLine:
        if self.released:
            raise gpiod.RequestReleasedError()
        if offset not in self.offsets:
            raise ValueError(f"line {offset} is not in this request")
        return self._g.fake_line(offset)

    def reconfigure_lines(self, config: dict[Any, Any], *, record: bool = True) -> None:
        for off in self._g._offsets(config):
            s: gpiod.LineSettings = config[off]
            # gpiolib-cdev gpio_v2_line_flags_validate
            if s.bias != Bias.AS_IS and s.direction == Direction.AS_IS:
                raise OSError(errno.EINVAL, "bias requires explicit direction")
            if s.drive != Drive.PUSH_PULL and s.direction != Direction.OUTPUT:
                raise OSError(errno.EINVAL, "drive requires explicit output direction")
            if s.edge_detection != Edge.NONE and s.direction != Direction.INPUT:
                raise OSError(errno.EINVAL, "edge detection requires explicit input")
            if s.debounce_period != timedelta(0) and s.direction != Direction.INPUT:
                raise OSError(errno.EINVAL, "debounce requires input")
            line = self._g.fake_line(off)
            if s.direction != Direction.AS_IS:
                line.direction = s.direction
            if s.bias != Bias.AS_IS:
                line.bias = s.bias
            line.drive = s.drive
            line.edge = s.edge_detection
            line.debounce_us = int(s.debounce_period / timedelta(microseconds=1))
            if s.direction == Direction.OUTPUT:
                line.output = s.output_value
            if line.edge == Edge.NONE:
                self._g.event_buffer.pop(off, None)
            self._g._update(line)
        if record:
            self.reconfigurations.append(dict(config))
            self._g.calls.append(("reconfigure_lines", config))

    def get_value(self, offset: int) -> Value:
        line = self._check(offset)
        return Value.ACTIVE if line.resolve() else Value.INACTIVE

    def set_value(self, offset: int, value: Value) -> None:
        line = self._check(offset)
        if not isinstance(value, Value):
            raise TypeError(f"value must be gpiod.line.Value, got {value!r}")
        if line.direction != Direction.OUTPUT:
            raise OSError(errno.EPERM, "Operation not permitted")
        line.output = value
        self._g.calls.append(("set_value", (offset, value)))
        self._g._update(line)

    def wait_edge_events(self, timeout: timedelta | float | None = None) -> bool:
        if self.released:
            raise gpiod.RequestReleasedError()
        if not isinstance(timeout, timedelta | float | int):
            raise TypeError(f"timeout must be timedelta or seconds, got {timeout!r}")
        self._g.calls.append(("wait_edge_events", timeout))
        return any(self._g.event_buffer.get(off) for off in self.offsets)

    def read_edge_events(self, max_events: int | None = None) -> list[gpiod.EdgeEvent]:
        out: list[gpiod.EdgeEvent] = []
        for off in self.offsets:
            out.extend(self._g.event_buffer.pop(off, []))
        return out

    def release(self) -> None:
        if not self.released:
            for off in self.offsets:
                # pinctrl-bcm2835 gpio_disable_free: a freed line goes back to GPIO_IN
                line = self._g.fake_line(off)
                line.consumer = ""
                line.direction = Direction.INPUT
                line.edge = Edge.NONE
                self._g._update(line)
            self.released = True


# -- smbus2 ---------------------------------------------------------------------------------


@dataclass
class FakeI2cTarget:
    """A register-pointer device (EEPROM-like): a write sets the pointer and stores data."""

    memory: bytearray = field(default_factory=lambda: bytearray(256))
    pointer: int = 0

    def write(self, data: bytes) -> None:
        if data:
            self.pointer = data[0]
            for b in data[1:]:
                self.memory[self.pointer] = b
                self.pointer = (self.pointer + 1) % len(self.memory)

    def read(self, n: int) -> bytes:
        out = bytes(self.memory[(self.pointer + i) % len(self.memory)] for i in range(n))
        self.pointer = (self.pointer + n) % len(self.memory)
        return out


READ = smbus2.smbus2.I2C_M_RD


class FakeSMBus:
    """Stands in for ``smbus2.SMBus``: checks the messages ``i2c_rdwr`` receives."""

    def __init__(self, module: FakeSmbus2, bus: int | str) -> None:
        self._m = module
        self.bus = bus
        self.closed = False

    def i2c_rdwr(self, *msgs: smbus2.i2c_msg) -> None:
        if self.closed:
            raise OSError(errno.EBADF, "Bad file descriptor")
        for m in msgs:
            if not isinstance(m, smbus2.i2c_msg):
                raise TypeError(f"i2c_rdwr takes i2c_msg, got {m!r}")
        self._m.transfers.append(
            (self.bus, [(m.addr, m.flags, m.len if m.flags & READ else bytes(m)) for m in msgs])
        )
        if self._m.fail_errno is not None:
            raise OSError(self._m.fail_errno, errno.errorcode[self._m.fail_errno])
        for m in msgs:
            target = self._m.targets.get((self.bus, m.addr))
            if target is None:
                raise OSError(errno.EREMOTEIO, "Remote I/O error")
            if m.flags & READ:
                data = target.read(m.len)
                for i, b in enumerate(data):
                    m.buf[i] = bytes([b])
            else:
                target.write(bytes(m))

    def close(self) -> None:
        self.closed = True


class FakeSmbus2:
    """Stands in for the ``smbus2`` module."""

    i2c_msg = smbus2.i2c_msg

    def __init__(self) -> None:
        self.targets: dict[tuple[int | str, int], FakeI2cTarget] = {}
        self.transfers: list[tuple[int | str, list[tuple[int, int, bytes | int]]]] = []
        self.opened: list[int | str] = []
        self.fail_errno: int | None = None

    def SMBus(self, bus: int | str) -> FakeSMBus:  # noqa: N802 - mirrors smbus2.SMBus
        self.opened.append(bus)
        return FakeSMBus(self, bus)


# -- spidev ---------------------------------------------------------------------------------


class FakeSpiDev:
    """Stands in for ``spidev.SpiDev``: records mode, speed and data of each ``xfer2``."""

    def __init__(self, module: FakeSpidevModule) -> None:
        self._m = module
        self.path: str | None = None
        self.mode = 0
        self.max_speed_hz = 0
        self.bits_per_word = 0
        self.closed = False

    def open_path(self, path: str) -> None:
        self.path = path
        self._m.devices.append(self)

    def xfer2(self, values: list[int], *args: Any) -> list[int]:
        if self.path is None or self.closed:
            raise OSError(errno.EBADF, "Bad file descriptor")
        if not isinstance(values, list) or not all(isinstance(v, int) for v in values):
            raise TypeError("xfer2 takes a list of ints")
        if len(values) > self._m.bufsiz:
            raise OSError(errno.EMSGSIZE, "Message too long")
        self._m.transfers.append(
            SimpleNamespace(
                path=self.path, mode=self.mode, speed=self.max_speed_hz, tx=list(values)
            )
        )
        return [self._m.respond(v) for v in values]

    def close(self) -> None:
        self.closed = True


class FakeSpidevModule:
    """Stands in for the ``spidev`` module; the far end answers each byte with ``respond``."""

    bufsiz = 4096

    def __init__(self) -> None:
        self.devices: list[FakeSpiDev] = []
        self.transfers: list[SimpleNamespace] = []
        self.respond: Callable[[int], int] = lambda b: b ^ 0xFF

    def SpiDev(self) -> FakeSpiDev:  # noqa: N802 - mirrors spidev.SpiDev
        return FakeSpiDev(self)
