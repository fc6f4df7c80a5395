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

The module is in three parts: its constants, errors, argument conversions and the chip check
(`gpiod_ext_binding`), line settings, config and info (`gpiod_ext_lines`), and here the
``Chip`` and ``Request`` objects; it re-exports the names of the other two.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import os
import sys
from typing import Any

from . import gpio_uapi as uapi
from .gpiod_ext_binding import BIAS_AS_IS as BIAS_AS_IS
from .gpiod_ext_binding import BIAS_DISABLED as BIAS_DISABLED
from .gpiod_ext_binding import BIAS_PULL_DOWN as BIAS_PULL_DOWN
from .gpiod_ext_binding import BIAS_PULL_UP as BIAS_PULL_UP
from .gpiod_ext_binding import BIAS_UNKNOWN as BIAS_UNKNOWN
from .gpiod_ext_binding import CLOCK_HTE as CLOCK_HTE
from .gpiod_ext_binding import CLOCK_MONOTONIC as CLOCK_MONOTONIC
from .gpiod_ext_binding import CLOCK_REALTIME as CLOCK_REALTIME
from .gpiod_ext_binding import DIRECTION_AS_IS as DIRECTION_AS_IS
from .gpiod_ext_binding import DIRECTION_INPUT as DIRECTION_INPUT
from .gpiod_ext_binding import DIRECTION_OUTPUT as DIRECTION_OUTPUT
from .gpiod_ext_binding import DRIVE_OPEN_DRAIN as DRIVE_OPEN_DRAIN
from .gpiod_ext_binding import DRIVE_OPEN_SOURCE as DRIVE_OPEN_SOURCE
from .gpiod_ext_binding import DRIVE_PUSH_PULL as DRIVE_PUSH_PULL
from .gpiod_ext_binding import EDGE_BOTH as EDGE_BOTH
from .gpiod_ext_binding import EDGE_EVENT_TYPE_FALLING as EDGE_EVENT_TYPE_FALLING
from .gpiod_ext_binding import EDGE_EVENT_TYPE_RISING as EDGE_EVENT_TYPE_RISING
from .gpiod_ext_binding import EDGE_FALLING as EDGE_FALLING
from .gpiod_ext_binding import EDGE_NONE as EDGE_NONE
from .gpiod_ext_binding import EDGE_RISING as EDGE_RISING
from .gpiod_ext_binding import EVENT_BUFFER_MAX_CAPACITY as EVENT_BUFFER_MAX_CAPACITY
from .gpiod_ext_binding import (
    INFO_EVENT_TYPE_LINE_CONFIG_CHANGED as INFO_EVENT_TYPE_LINE_CONFIG_CHANGED,
)
from .gpiod_ext_binding import INFO_EVENT_TYPE_LINE_RELEASED as INFO_EVENT_TYPE_LINE_RELEASED
from .gpiod_ext_binding import INFO_EVENT_TYPE_LINE_REQUESTED as INFO_EVENT_TYPE_LINE_REQUESTED
from .gpiod_ext_binding import VALUE_ACTIVE as VALUE_ACTIVE
from .gpiod_ext_binding import VALUE_INACTIVE as VALUE_INACTIVE
from .gpiod_ext_binding import (
    _call,
    _check_gpiochip_device,
    _Errno,
    _Fd,
    _ioctl,
    _os_err,
    _python_type,
    _set_err,
    _size_t,
    _str_arg,
    _uint,
)
from .gpiod_ext_binding import api_version as api_version
from .gpiod_ext_binding import is_gpiochip_device as is_gpiochip_device
from .gpiod_ext_lines import LineConfig as LineConfig
from .gpiod_ext_lines import LineSettings as LineSettings
from .gpiod_ext_lines import _line_config_of, _line_info

with contextlib.suppress(ImportError):
    # the real package first, so the userspace saves its real _ext and puts it back on leaving
    if "gpiod" not in sys.modules and "gpiod._ext" not in sys.modules:
        importlib.import_module("gpiod")

__all__: list[str] = []


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
