"""The binding layer of the ``gpiod._ext`` stand-in (`standin_gpiod_ext`): its constants, errors and checks.

The module constants of bindings/python/gpiod/ext/module.c (gpiod 2.5.0); errno to the
binding's exceptions (Py_gpiod_SetErrFromErrno: EINVAL ``ValueError``, EOPNOTSUPP
``NotImplementedError``, ENOENT ``FileNotFoundError``, EPERM ``PermissionError``, others
``OSError``); the C argument conversions (``PyArg_Parse`` ``I``/``n``/``s``); libgpiod's file
descriptors and ioctl calls; and the gpiochip check (lib/internal.c,
gpiod_check_gpiochip_device()). Everything here is re-exported by `standin_gpiod_ext`, the
module that stands in under the real name.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import importlib
import os
import stat
from typing import Any

from . import gpio_uapi as uapi

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
