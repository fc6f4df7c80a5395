"""``gpiod._ext``: the C module of libgpiod's Python binding (gpiod 2.x), in Python.

The real package's Python layer (``gpiod.Chip``, ``gpiod.LineRequest``, ``gpiod.LineSettings``
...) stays; only its C extension is replaced, with the same classes, methods, constants and
exceptions (bindings/python/gpiod/ext/*.c of gpiod 2.5.0), over the same library logic
(libgpiod's lib/*.c: the chip check, the line-config-to-uapi packing, the request and edge
buffer code) calling ``os.open``, ``fcntl.ioctl``, ``os.read`` and ``os.close`` on the
character device as libgpiod calls open/ioctl/read/close. Inside a pihil userspace those reach
the emulated ``/dev/gpiochip0`` (`gpio_cdev`); elsewhere, a real kernel's.

Errors are the binding's (Py_gpiod_SetErrFromErrno): EINVAL is ``ValueError``, EOPNOTSUPP
``NotImplementedError``, ENOENT ``FileNotFoundError``, EPERM ``PermissionError``, others
``OSError`` with the errno, their message the emulated kernel's (which says what to do).

``is_gpiochip_device`` follows gpiod_check_gpiochip_device(): a character device whose
``/sys/dev/char/M:m/subsystem`` is ``/sys/bus/gpio``; for an emulated device file that sysfs
link is answered by the userspace (the chips `gpio_cdev` serves).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import importlib
import os
import stat
import sys
from collections.abc import Iterable
from typing import Any

from . import gpio_uapi as uapi

with contextlib.suppress(ImportError):
    # the real package first, so the userspace saves its real _ext and puts it back on leaving
    if "gpiod" not in sys.modules and "gpiod._ext" not in sys.modules:
        importlib.import_module("gpiod")

__all__: list[str] = []

api_version = "2.3"
"""GPIOD_API_VERSION_STR of the libgpiod that gpiod 2.5.0 bundles."""

VALUE_INACTIVE = 0
VALUE_ACTIVE = 1
DIRECTION_AS_IS = 1
DIRECTION_INPUT = 2
DIRECTION_OUTPUT = 3
BIAS_AS_IS = 1
BIAS_UNKNOWN = 2
BIAS_DISABLED = 3
BIAS_PULL_UP = 4
BIAS_PULL_DOWN = 5
DRIVE_PUSH_PULL = 1
DRIVE_OPEN_DRAIN = 2
DRIVE_OPEN_SOURCE = 3
EDGE_NONE = 1
EDGE_RISING = 2
EDGE_FALLING = 3
EDGE_BOTH = 4
CLOCK_MONOTONIC = 1
CLOCK_REALTIME = 2
CLOCK_HTE = 3
EDGE_EVENT_TYPE_RISING = 1
EDGE_EVENT_TYPE_FALLING = 2
INFO_EVENT_TYPE_LINE_REQUESTED = 1
INFO_EVENT_TYPE_LINE_RELEASED = 2
INFO_EVENT_TYPE_LINE_CONFIG_CHANGED = 3

EVENT_BUFFER_MAX_CAPACITY = uapi.GPIO_V2_LINES_MAX * 16

_EXCEPTION_OF_ERRNO: dict[int, type[Exception]] = {
    errno.EINVAL: ValueError,
    errno.EOPNOTSUPP: NotImplementedError,
    errno.EPIPE: BrokenPipeError,
    errno.ECHILD: ChildProcessError,
    errno.EINTR: InterruptedError,
    errno.EEXIST: FileExistsError,
    errno.ENOENT: FileNotFoundError,
    errno.EISDIR: IsADirectoryError,
    errno.ENOTDIR: NotADirectoryError,
    errno.EPERM: PermissionError,
    errno.ETIMEDOUT: TimeoutError,
}


class _Errno(Exception):
    """A failed libgpiod call: the errno it leaves (and the kernel's message)."""

    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or os.strerror(code)


def _set_err(err: _Errno) -> Exception:
    """Py_gpiod_SetErrFromErrno()."""
    if err.code == errno.ENOMEM:
        return MemoryError()
    cls = _EXCEPTION_OF_ERRNO.get(err.code, OSError)
    return cls(err.code, err.message)


def _os_err(err: _Errno) -> OSError:
    """PyErr_SetFromErrno(PyExc_OSError) (chip_get_info)."""
    return OSError(err.code, err.message)


def _call(fn: Any, *args: Any) -> Any:
    """A system call, its OSError as the errno libgpiod would see."""
    try:
        return fn(*args)
    except OSError as exc:
        raise _Errno(exc.errno or errno.EIO, exc.strerror) from exc


def _uint(value: Any, bits: int = 32) -> int:
    """PyArg_ParseTuple's "I"/"k": an integer, masked to the C type."""
    if isinstance(value, bool) or not isinstance(value, int):
        if not hasattr(value, "__index__"):
            raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")
        value = value.__index__()
    return int(value) & ((1 << bits) - 1)


def _size_t(value: Any) -> int:
    """PyLong_AsSize_t."""
    if not isinstance(value, int):
        raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")
    if value < 0:
        raise OverflowError("can't convert negative int to unsigned")
    return int(value)


def _str_arg(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, not {type(value).__name__}")
    return value


def _python_type(module: str, name: str) -> Any:
    """Py_gpiod_GetModuleAttrString(): the binding's Python classes, looked up at call time."""
    return getattr(importlib.import_module(module), name)


# -- descriptors (libgpiod closes what it opened; the userspace may have closed it first) ----------
class _Fd:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._file: Any = None
        from pihil_emulator.userspace.devfs import _file

        self._file = _file(fd)

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd < 0 or (self._file is not None and self._file.closed):
            return  # the userspace ended: its files are closed already
        with contextlib.suppress(OSError):
            os.close(fd)


def _ioctl(fd: int, request: int, buffer: bytearray) -> None:
    """gpiod_ioctl(): a positive return is EBADE."""
    ret = _call(fcntl.ioctl, fd, request, buffer, True)
    if ret > 0:
        raise _Errno(errno.EBADE)


# -- the gpiochip check (lib/internal.c) -------------------------------------------------------------
def _sysfs_subsystem(path: str, st: os.stat_result) -> str:
    from pihil_emulator.userspace.session import active

    space = active()
    if space is not None and space.devfs.owns(path):
        from pihil_emulator.userspace.gpio_cdev import SUBSYSTEM, chips_of

        if path in chips_of(space):
            return SUBSYSTEM
        return "/sys/class/" + path.rsplit("/", 1)[-1]
    devpath = f"/sys/dev/char/{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}/subsystem"
    return str(_call(os.path.realpath, devpath, True))


def _check_gpiochip_device(path: str) -> None:
    """gpiod_check_gpiochip_device(): raises `_Errno` with libgpiod's errno."""
    st = _call(os.lstat, path)
    real = _call(os.path.realpath, path) if stat.S_ISLNK(st.st_mode) else path
    st = _call(os.stat, real)
    if not stat.S_ISCHR(st.st_mode):
        raise _Errno(errno.ENOTTY)
    if _sysfs_subsystem(real, st) != "/sys/bus/gpio":
        raise _Errno(errno.ENODEV)


def is_gpiochip_device(path: Any) -> bool:
    _str_arg(path, "is_gpiochip_device() argument")
    try:
        _check_gpiochip_device(path)
    except _Errno:
        return False
    return True


# -- line settings and config (lib/line-settings.c, lib/line-config.c) ------------------------------
_SETTINGS_VALID = {
    "direction": (DIRECTION_AS_IS, DIRECTION_INPUT, DIRECTION_OUTPUT),
    "edge_detection": (EDGE_NONE, EDGE_RISING, EDGE_FALLING, EDGE_BOTH),
    "bias": (BIAS_AS_IS, BIAS_DISABLED, BIAS_PULL_UP, BIAS_PULL_DOWN),
    "drive": (DRIVE_PUSH_PULL, DRIVE_OPEN_DRAIN, DRIVE_OPEN_SOURCE),
    "output_value": (VALUE_INACTIVE, VALUE_ACTIVE),
    "event_clock": (CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_HTE),
}


class LineSettings:
    """gpiod._ext.LineSettings(direction, edge_detection, bias, drive, active_low,
    debounce_period, event_clock, output_value): every argument required, as "IIIIpkII"."""

    __module__ = "gpiod._ext"

    def __init__(
        self,
        direction: int,
        edge_detection: int,
        bias: int,
        drive: int,
        active_low: bool,
        debounce_period: int,
        event_clock: int,
        output_value: int,
    ) -> None:
        values = {
            "direction": _uint(direction),
            "edge_detection": _uint(edge_detection),
            "bias": _uint(bias),
            "drive": _uint(drive),
            "event_clock": _uint(event_clock),
            "output_value": _uint(output_value),
        }
        for name in ("direction", "edge_detection", "bias", "drive", "output_value"):
            if values[name] not in _SETTINGS_VALID[name]:
                raise _set_err(_Errno(errno.EINVAL))
        if values["event_clock"] not in _SETTINGS_VALID["event_clock"]:
            raise _set_err(_Errno(errno.EINVAL))
        self.direction: int = values["direction"]
        self.edge_detection: int = values["edge_detection"]
        self.bias: int = values["bias"]
        self.drive: int = values["drive"]
        self.active_low = bool(active_low)
        self.debounce_period_us = _uint(debounce_period, 64)
        self.event_clock: int = values["event_clock"]
        self.output_value: int = values["output_value"]

    def kernel_flags(self) -> int:
        """make_kernel_flags()."""
        flags = 0
        if self.direction == DIRECTION_INPUT:
            flags |= uapi.FLAG_INPUT
        elif self.direction == DIRECTION_OUTPUT:
            flags |= uapi.FLAG_OUTPUT
        edge = {
            EDGE_FALLING: uapi.FLAG_EDGE_FALLING,
            EDGE_RISING: uapi.FLAG_EDGE_RISING,
            EDGE_BOTH: uapi.EDGE_FLAGS,
        }.get(self.edge_detection, 0)
        if edge:
            flags |= edge | uapi.FLAG_INPUT
        flags |= {
            DRIVE_OPEN_DRAIN: uapi.FLAG_OPEN_DRAIN,
            DRIVE_OPEN_SOURCE: uapi.FLAG_OPEN_SOURCE,
        }.get(self.drive, 0)
        flags |= {
            BIAS_DISABLED: uapi.FLAG_BIAS_DISABLED,
            BIAS_PULL_UP: uapi.FLAG_BIAS_PULL_UP,
            BIAS_PULL_DOWN: uapi.FLAG_BIAS_PULL_DOWN,
        }.get(self.bias, 0)
        if self.active_low:
            flags |= uapi.FLAG_ACTIVE_LOW
        flags |= {
            CLOCK_REALTIME: uapi.FLAG_EVENT_CLOCK_REALTIME,
            CLOCK_HTE: uapi.FLAG_EVENT_CLOCK_HTE,
        }.get(self.event_clock, 0)
        return flags

    def _key(self) -> tuple[int, ...]:
        """settings_equal(): everything but the debounce period and the output value."""
        return (
            self.direction, self.edge_detection, self.bias, self.drive, int(self.active_low),
            self.event_clock,
        )  # fmt: skip


class LineConfig:
    """gpiod._ext.LineConfig: offsets to settings, and the global output values."""

    __module__ = "gpiod._ext"

    def __init__(self) -> None:
        self._lines: list[tuple[int, LineSettings]] = []
        self._output_values: list[int] = []

    def add_line_settings(self, offsets: Any, settings: Any) -> None:
        numbers = [_uint(o) for o in offsets]
        if type(settings) is not LineSettings:
            raise TypeError("not a gpiod._ext.LineSettings object")
        if not numbers:
            raise _set_err(_Errno(errno.EINVAL))
        known = [o for o, _ in self._lines]
        new = {o for o in numbers if o not in known}
        if len(self._lines) + len(new) > uapi.GPIO_V2_LINES_MAX:
            raise _set_err(_Errno(errno.E2BIG))
        for offset in numbers:
            for i, (o, _) in enumerate(self._lines):
                if o == offset:
                    self._lines[i] = (offset, settings)
                    break
            else:
                self._lines.append((offset, settings))

    def set_output_values(self, values: Iterable[Any]) -> None:
        raw = [int(v.value) for v in values]
        if not raw or len(raw) > uapi.GPIO_V2_LINES_MAX:
            raise _set_err(_Errno(errno.EINVAL))
        for value in raw:
            if value not in (VALUE_INACTIVE, VALUE_ACTIVE):
                self._output_values = []
                raise _set_err(_Errno(errno.EINVAL))
        self._output_values = raw

    def to_uapi(self) -> tuple[list[int], uapi.LineConfig]:
        """gpiod_line_config_to_uapi(): the offsets and the kernel's line config."""
        lines = self._lines
        attrs: list[uapi.ConfigAttr] = []

        def add(attr: uapi.ConfigAttr) -> None:
            if len(attrs) == uapi.GPIO_V2_LINE_NUM_ATTRS_MAX:
                raise _Errno(errno.E2BIG)
            attrs.append(attr)

        if any(s.direction == DIRECTION_OUTPUT for _, s in lines):  # set_output_values()
            mask = values = 0
            for i, (_, s) in enumerate(lines):
                if s.direction == DIRECTION_OUTPUT:
                    mask |= 1 << i
                    values = values & ~(1 << i) | (int(s.output_value == VALUE_ACTIVE) << i)
            for i, value in enumerate(self._output_values):
                mask |= 1 << i
                values = values & ~(1 << i) | (int(value == VALUE_ACTIVE) << i)
            attrs.append(uapi.ConfigAttr(uapi.ATTR_ID_OUTPUT_VALUES, values, mask))
        done = 0
        for i, (_, s) in enumerate(lines):  # set_debounce_periods()
            if done >> i & 1:
                continue
            done |= 1 << i
            if not s.debounce_period_us:
                continue
            mask = 0
            for j in range(i, len(lines)):
                if lines[j][1].debounce_period_us == s.debounce_period_us:
                    mask |= 1 << j
                    done |= 1 << j
            add(uapi.ConfigAttr(uapi.ATTR_ID_DEBOUNCE, s.debounce_period_us & 0xFFFFFFFF, mask))
        done, flags, taken = 0, 0, False
        for i, (_, s) in enumerate(lines):  # set_flags()
            if done >> i & 1:
                continue
            done |= 1 << i
            same = [j for j in range(i, len(lines)) if lines[j][1]._key() == s._key()]
            if not taken:
                taken, flags = True, s.kernel_flags()
                for j in same:
                    done |= 1 << j
            else:
                mask = 0
                for j in same:
                    done |= 1 << j
                    mask |= 1 << j
                add(uapi.ConfigAttr(uapi.ATTR_ID_FLAGS, s.kernel_flags(), mask))
        config = uapi.LineConfig(flags, attrs, len(attrs), bytes(20))
        return [o for o, _ in lines], config


def _line_config_of(obj: Any) -> LineConfig:
    if type(obj) is not LineConfig:
        raise TypeError("not a gpiod._ext.LineConfig object")
    return obj


# -- line info (lib/line-info.c) ------------------------------------------------------------------------
def _line_info(raw: bytes) -> Any:
    """gpiod_line_info_from_uapi() and the binding's make_line_info()."""
    name, consumer, offset, num_attrs, flags, attrs, _pad = uapi.LINE_INFO.unpack(raw)
    if flags & uapi.FLAG_BIAS_PULL_UP:
        bias = BIAS_PULL_UP
    elif flags & uapi.FLAG_BIAS_PULL_DOWN:
        bias = BIAS_PULL_DOWN
    elif flags & uapi.FLAG_BIAS_DISABLED:
        bias = BIAS_DISABLED
    else:
        bias = BIAS_UNKNOWN
    if flags & uapi.FLAG_OPEN_DRAIN:
        drive = DRIVE_OPEN_DRAIN
    elif flags & uapi.FLAG_OPEN_SOURCE:
        drive = DRIVE_OPEN_SOURCE
    else:
        drive = DRIVE_PUSH_PULL
    rising, falling = flags & uapi.FLAG_EDGE_RISING, flags & uapi.FLAG_EDGE_FALLING
    edge = (
        EDGE_BOTH if rising and falling else EDGE_RISING if rising else
        EDGE_FALLING if falling else EDGE_NONE
    )  # fmt: skip
    if flags & uapi.FLAG_EVENT_CLOCK_REALTIME:
        clock = CLOCK_REALTIME
    elif flags & uapi.FLAG_EVENT_CLOCK_HTE:
        clock = CLOCK_HTE
    else:
        clock = CLOCK_MONOTONIC
    debounced, period = False, 0
    for i in range(min(num_attrs, uapi.GPIO_V2_LINE_NUM_ATTRS_MAX)):
        a_id, _p, value = uapi.LINE_ATTRIBUTE.unpack_from(attrs, i * uapi.LINE_ATTRIBUTE.size)
        if a_id == uapi.ATTR_ID_DEBOUNCE:
            debounced, period = True, value & 0xFFFFFFFF
    text, user = uapi.cstr(name), uapi.cstr(consumer)
    return _python_type("gpiod.line_info", "LineInfo")(
        offset,
        text or None,
        bool(flags & uapi.FLAG_USED),
        user or None,
        DIRECTION_OUTPUT if flags & uapi.FLAG_OUTPUT else DIRECTION_INPUT,
        bool(flags & uapi.FLAG_ACTIVE_LOW),
        bias,
        drive,
        edge,
        clock,
        debounced,
        period,
    )


# -- requests (lib/line-request.c, lib/edge-event.c) ------------------------------------------------------
class Request:
    """gpiod._ext.Request: made by Chip.request_lines only."""

    __module__ = "gpiod._ext"

    _chip_name: str
    _offsets: list[int]
    _fd: _Fd
    _capacity: int

    def __init__(self) -> None:
        raise TypeError("cannot create 'gpiod._ext.Request' instances")

    @classmethod
    def _make(cls, chip_name: str, offsets: list[int], fd: int, buffer_size: int) -> Request:
        self = object.__new__(cls)
        self._chip_name = chip_name
        self._offsets = offsets
        self._fd = _Fd(fd)
        capacity = buffer_size or 64
        self._capacity = min(capacity, EVENT_BUFFER_MAX_CAPACITY)
        self._released = False
        return self

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.release()

    def release(self) -> None:
        if not getattr(self, "_released", True):
            self._released = True
            self._fd.close()

    @property
    def chip_name(self) -> str:
        return self._chip_name

    @property
    def num_lines(self) -> int:
        return len(self._offsets)

    @property
    def offsets(self) -> list[int]:
        return list(self._offsets)

    @property
    def fd(self) -> int:
        return self._fd.fd

    def _bit(self, offset: int) -> int:
        try:
            return self._offsets.index(offset)
        except ValueError:
            raise _Errno(errno.EINVAL) from None

    def get_values(self, offsets: Any, values: Any) -> None:
        numbers = list(offsets)
        if len(numbers) > self.num_lines:
            raise ValueError("number of offsets exceeds the number of requested lines")
        numbers = [_uint(o) for o in numbers]
        try:
            mask = 0
            for offset in numbers:
                mask |= 1 << self._bit(offset)
            buffer = bytearray(uapi.LINE_VALUES.pack(0, mask))
            _ioctl(self.fd, uapi.GPIO_V2_LINE_GET_VALUES_IOCTL, buffer)
        except _Errno as err:
            raise _set_err(err) from None
        bits, _ = uapi.LINE_VALUES.unpack(buffer)
        value_type = _python_type("gpiod.line", "Value")
        for pos, offset in enumerate(numbers):
            values[pos] = value_type(bits >> self._offsets.index(offset) & 1)

    def set_values(self, values: Any) -> None:
        if len(values) > self.num_lines:
            raise ValueError("number of offsets exceeds the number of requested lines")
        pairs = [(_uint(k), int(v.value)) for k, v in values.items()]
        try:
            mask = bits = 0
            for offset, value in pairs:
                bit = self._bit(offset)
                mask |= 1 << bit
                bits = bits & ~(1 << bit) | (int(bool(value)) << bit)
            _ioctl(
                self.fd,
                uapi.GPIO_V2_LINE_SET_VALUES_IOCTL,
                bytearray(uapi.LINE_VALUES.pack(bits, mask)),
            )
        except _Errno as err:
            raise _set_err(err) from None

    def reconfigure_lines(self, line_cfg: Any) -> None:
        config = _line_config_of(line_cfg)
        try:
            offsets, kernel = config.to_uapi()
            if offsets != self._offsets:
                raise _Errno(errno.EINVAL)
            buffer = bytearray(uapi.pack_config(kernel))
            _ioctl(self.fd, uapi.GPIO_V2_LINE_SET_CONFIG_IOCTL, buffer)
        except _Errno as err:
            raise _set_err(err) from None

    def read_edge_events(self, max_events: Any) -> list[Any]:
        wanted = 64 if max_events is None else _size_t(max_events)
        wanted = min(wanted, self._capacity)
        if wanted == 0:
            return []
        size = uapi.LINE_EVENT.size
        try:
            data = _call(os.read, self.fd, wanted * size)
            if len(data) < size:
                raise _Errno(errno.EIO)
        except _Errno as err:
            raise _set_err(err) from None
        event_type = _python_type("gpiod.edge_event", "EdgeEvent")
        out = []
        for i in range(len(data) // size):
            ts, event_id, offset, seqno, line_seqno, _ = uapi.LINE_EVENT.unpack_from(data, i * size)
            kind = (
                EDGE_EVENT_TYPE_RISING
                if event_id == uapi.EVENT_RISING_EDGE
                else EDGE_EVENT_TYPE_FALLING
            )
            out.append(event_type(kind, ts, offset, seqno, line_seqno))
        return out


# -- the chip (lib/chip.c) --------------------------------------------------------------------------
class Chip:
    """gpiod._ext.Chip(path): an open GPIO character device."""

    __module__ = "gpiod._ext"

    def __init__(self, path: Any) -> None:
        _str_arg(path, "argument 1")
        try:
            _check_gpiochip_device(path)
            fd = _call(os.open, path, os.O_RDWR | os.O_CLOEXEC)
        except _Errno as err:
            raise _set_err(err) from None
        self._path: str = path
        self._fd: _Fd | None = _Fd(fd)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def close(self) -> None:
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            fd.close()

    @property
    def path(self) -> str:
        return self._path

    @property
    def fd(self) -> int:
        return self._fd.fd if self._fd is not None else -1

    def _chip_info(self) -> tuple[str, str, int]:
        buffer = bytearray(uapi.CHIP_INFO.size)
        _ioctl(self.fd, uapi.GPIO_GET_CHIPINFO_IOCTL, buffer)
        name, label, lines = uapi.CHIP_INFO.unpack(buffer)
        return uapi.cstr(name), uapi.cstr(label) or "unknown", lines

    def get_info(self) -> Any:
        try:
            name, label, lines = self._chip_info()
        except _Errno as err:
            raise _os_err(err) from None
        return _python_type("gpiod.chip_info", "ChipInfo")(name, label, lines)

    def _read_line_info(self, offset: int, watch: bool) -> bytes:
        buffer = bytearray(uapi.LINE_INFO.size)
        uapi.U32.pack_into(buffer, 64, offset)
        request = (
            uapi.GPIO_V2_GET_LINEINFO_WATCH_IOCTL if watch else uapi.GPIO_V2_GET_LINEINFO_IOCTL
        )
        _ioctl(self.fd, request, buffer)
        return bytes(buffer)

    def get_line_info(self, offset: Any, watch: Any) -> Any:
        try:
            raw = self._read_line_info(_uint(offset), bool(watch))
        except _Errno as err:
            raise _set_err(err) from None
        return _line_info(raw)

    def get_line_name(self, offset: Any) -> str | None:
        try:
            raw = self._read_line_info(_uint(offset), False)
        except _Errno as err:
            raise _set_err(err) from None
        return uapi.cstr(uapi.LINE_INFO.unpack(raw)[0]) or None

    def unwatch_line_info(self, offset: Any) -> None:
        try:
            _ioctl(
                self.fd,
                uapi.GPIO_GET_LINEINFO_UNWATCH_IOCTL,
                bytearray(uapi.U32.pack(_uint(offset))),
            )
        except _Errno as err:
            raise _set_err(err) from None

    def read_info_event(self) -> Any:
        size = uapi.LINE_INFO_CHANGED.size
        try:
            data = _call(os.read, self.fd, size)
            if len(data) < size:
                raise _Errno(errno.EIO)
            info, stamp, event_type, _pad = uapi.LINE_INFO_CHANGED.unpack(data)
            if event_type not in (1, 2, 3):
                raise _Errno(errno.ENOMSG)
        except _Errno as err:
            raise _set_err(err) from None
        return _python_type("gpiod.info_event", "InfoEvent")(event_type, stamp, _line_info(info))

    def line_offset_from_id(self, id: Any) -> int:
        name = _str_arg(id, "argument 1")
        try:
            _, _, lines = self._chip_info()
            for offset in range(lines):
                raw = self._read_line_info(offset, False)
                if uapi.cstr(uapi.LINE_INFO.unpack(raw)[0]) == name:
                    return offset
            raise _Errno(errno.ENOENT)
        except _Errno as err:
            raise _set_err(err) from None

    def request_lines(self, line_cfg: Any, consumer: Any, event_buffer_size: Any) -> Request:
        config = _line_config_of(line_cfg)
        label = "" if consumer is None else _str_arg(consumer, "consumer")
        size = 0 if event_buffer_size is None else _size_t(event_buffer_size)
        try:
            offsets, kernel = config.to_uapi()
            name, _, _ = self._chip_info()
            raw = uapi.LINE_REQUEST.pack(
                *(offsets + [0] * (uapi.GPIO_V2_LINES_MAX - len(offsets))),
                label.encode()[: uapi.GPIO_MAX_NAME_SIZE - 1],
                uapi.pack_config(kernel),
                len(offsets),
                size & 0xFFFFFFFF,
                bytes(20),
                0,
            )
            buffer = bytearray(raw)
            _ioctl(self.fd, uapi.GPIO_V2_GET_LINE_IOCTL, buffer)
        except _Errno as err:
            raise _set_err(err) from None
        args = uapi.unpack_request(bytes(buffer))
        return Request._make(name, args.offsets[: args.num_lines], args.fd, size)
