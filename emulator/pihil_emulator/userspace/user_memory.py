"""The caller's memory, as an ioctl handler sees it (``copy_from_user``/``copy_to_user``).

An ioctl argument is either a buffer Python passed (``fcntl.ioctl(fd, req, buf)``) or an
address (an ``int``: a ctypes object's address, as C-level callers and ctypes users pass);
structures hold further addresses (``tx_buf``, ``msgs``), read and written in place. A null
address or a buffer too short for the structure is EFAULT, as the kernel says.
"""

from __future__ import annotations

import ctypes
import errno

from .devfs import oserror


def read_user(address: int, length: int) -> bytes:
    """``length`` bytes at ``address`` of the caller's memory."""
    if address == 0:
        raise oserror(errno.EFAULT)
    return ctypes.string_at(address, length)


def write_user(address: int, data: bytes) -> None:
    """``data`` into the caller's memory at ``address``."""
    if address == 0:
        raise oserror(errno.EFAULT)
    ctypes.memmove(address, data, len(data))


def copy_in(arg: int | memoryview, size: int) -> bytes:
    """The structure the argument points at (a buffer, or an address as an int)."""
    if isinstance(arg, int):
        return read_user(arg, size)
    if len(arg) < size:
        raise oserror(errno.EFAULT)
    return bytes(arg[:size])


def copy_out(arg: int | memoryview, data: bytes) -> None:
    """``data`` into the structure the argument points at."""
    if isinstance(arg, int):
        write_user(arg, data)
    elif len(arg) < len(data):
        raise oserror(errno.EFAULT)
    else:
        arg[: len(data)] = data
