"""Stand-in for ``smbus``, the C extension of i2c-tools' py-smbus (PyPI ``smbus==1.1.post2``).

The real module is ``smbusmodule.c`` over libi2c (``lib/smbus.c``, i2c-tools 4.1): an
``SMBus`` type whose methods open ``/dev/i2c-N`` and issue the ``I2C_SLAVE``, ``I2C_PEC``
and ``I2C_SMBUS`` ioctls (``struct i2c_smbus_ioctl_data`` pointing at a
``union i2c_smbus_data``). Being C, its system calls cannot be answered at the Python
level, so this module does the same calls through ``os.open`` and ``fcntl.ioctl``, which
inside a userspace reach the emulated i2c-dev (`i2c_dev`). What it keeps of the C code:

- the methods, their positional-only arguments (``METH_VARARGS``: keywords are refused,
  except ``bus`` for the constructor and ``open``), the ``PyArg_ParseTuple`` ``"i"``
  conversions and their TypeError/OverflowError messages, and ``SMBus_list_to_data``'s
  checks (a list of at most 32 ints, each truncated to a byte; an empty list passes);
- the cached client address: ``I2C_SLAVE`` is issued only when the address changes, and
  the cache is updated even when the ioctl fails; ``close()`` and a fresh object reset it
  to -1, ``open()`` does not;
- ``read_i2c_block_data(addr, cmd, len=32)`` asks for ``I2C_SMBUS_I2C_BLOCK_BROKEN`` when
  ``len`` is 32 (i2c-dev then reads 32 bytes), ``I2C_SMBUS_I2C_BLOCK_DATA`` otherwise;
  ``write_i2c_block_data`` always uses the "broken" size; ``process_call`` returns None
  (the C code drops the result); ``block_process_call`` returns the block;
- errors as ``PyErr_SetFromErrno(PyExc_IOError)``: ``OSError(errno, strerror)`` without a
  file name (ENOENT for an absent bus, EBADF on a closed object, EREMOTEIO for a NACK on
  i2c-bcm2835);
- no ``fileno``, no context manager, not subclassable, no weak references, no pickling.

Calls that reach the kernel raise `UserspaceError` outside a userspace (the machine running
the tests has no such bus); an object opened in a userspace that has since been left acts
as closed by the kernel (EBADF); ``close()`` then releases the descriptor number the
userspace kept for it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
from typing import Any, NoReturn

from .i2c_dev import (
    I2C_PEC,
    I2C_SLAVE,
    I2C_SMBUS,
    I2C_SMBUS_BLOCK_DATA,
    I2C_SMBUS_BLOCK_MAX,
    I2C_SMBUS_BLOCK_PROC_CALL,
    I2C_SMBUS_BYTE,
    I2C_SMBUS_BYTE_DATA,
    I2C_SMBUS_I2C_BLOCK_BROKEN,
    I2C_SMBUS_I2C_BLOCK_DATA,
    I2C_SMBUS_PROC_CALL,
    I2C_SMBUS_QUICK,
    I2C_SMBUS_READ,
    I2C_SMBUS_WORD_DATA,
    I2C_SMBUS_WRITE,
)
from .pyarg import INT_MAX as INT_MAX
from .pyarg import INT_MIN as INT_MIN
from .pyarg import LONG_MAX, LONG_MIN, open_rdwr
from .pyarg import c_int as _c_int
from .pyarg import ioerror as _ioerror

__all__ = ["SMBus"]

MAXPATH = 16
LIST_MESSAGE = "Third argument must be a list of at least one, but not more than 32 integers"


class _Data(ctypes.Union):
    """``union i2c_smbus_data`` (include/uapi/linux/i2c.h)."""

    _fields_ = [
        ("byte", ctypes.c_uint8),
        ("word", ctypes.c_uint16),
        ("block", ctypes.c_uint8 * (I2C_SMBUS_BLOCK_MAX + 2)),
    ]


class _IoctlData(ctypes.Structure):
    """``struct i2c_smbus_ioctl_data`` (include/uapi/linux/i2c-dev.h)."""

    _fields_ = [
        ("read_write", ctypes.c_uint8),
        ("command", ctypes.c_uint8),
        ("size", ctypes.c_uint32),
        ("data", ctypes.POINTER(_Data)),
    ]


# -- PyArg_ParseTuple, as the C methods use it ---------------------------------------------------
def _no_keywords(name: str, kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise TypeError(f"SMBus.{name}() takes no keyword arguments")


def _count(name: str, args: tuple[object, ...], least: int, most: int) -> None:
    n = len(args)
    if least <= n <= most:
        return
    if least == most:
        how, count = "exactly", least
    else:
        how, count = ("at least", least) if n < least else ("at most", most)
    raise TypeError(f"{name}() takes {how} {count} argument{'' if count == 1 else 's'} ({n} given)")


def _ints(name: str, args: tuple[object, ...], kwargs: dict[str, Any], n: int) -> list[int]:
    _no_keywords(name, kwargs)
    _count(name, args, n, n)
    return [_c_int(a) for a in args]


def _bus_argument(
    name: str, args: tuple[object, ...], kwargs: dict[str, Any], *, optional: bool
) -> int | None:
    """``PyArg_ParseTupleAndKeywords(args, kwds, "i:open" | "|i:__init__", {"bus"})``."""
    if len(args) + len(kwargs) > 1:
        extra = "keyword " if not args else ""
        raise TypeError(
            f"{name}() takes at most 1 {extra}argument ({len(args) + len(kwargs)} given)"
        )
    if args:
        return _c_int(args[0])
    if "bus" in kwargs:
        return _c_int(kwargs["bus"])
    if not optional:
        raise TypeError(f"{name}() missing required argument 'bus' (pos 1)")
    if kwargs:
        key = next(iter(kwargs))
        raise TypeError(f"'{key}' is an invalid keyword argument for {name}()")
    return None


def _list_to_data(values: object, data: _Data) -> None:
    """``SMBus_list_to_data``: block[0] is the length, the values follow as bytes."""
    if not isinstance(values, list):
        raise TypeError(LIST_MESSAGE)
    if len(values) > I2C_SMBUS_BLOCK_MAX:
        raise OverflowError(LIST_MESSAGE)
    data.block[0] = len(values)
    for i, value in enumerate(values):
        if not isinstance(value, int):
            raise TypeError(LIST_MESSAGE)
        if not LONG_MIN <= value <= LONG_MAX:
            raise OverflowError("Python int too large to convert to C long")
        data.block[i + 1] = value & 0xFF


def _userspace() -> Any:
    from pihil_emulator.userspace.session import current

    return current()


class SMBus:
    """SMBus([bus]) -> SMBus

    Return a new SMBus object that is (optionally) connected to the
    specified I2C device interface.
    """

    __slots__ = ("_addr", "_fd", "_pec", "_space")

    def __init__(self, *args: object, **kwargs: Any) -> None:
        self._fd = -1
        self._addr = -1
        self._pec = 0
        self._space: object | None = None
        bus = _bus_argument("__init__", args, kwargs, optional=True)
        if bus is not None and bus >= 0:
            self.open(bus)

    def __init_subclass__(cls, **kwargs: Any) -> NoReturn:
        raise TypeError("type 'SMBus' is not an acceptable base type")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("cannot pickle 'SMBus' object")

    def __repr__(self) -> str:
        return f"<SMBus object at {id(self):#x}>"

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # tp_dealloc drops a failed close's error too
            self.close()

    # -- the descriptor ----------------------------------------------------------------------
    def open(self, *args: object, **kwargs: Any) -> None:
        """open(bus)

        Connects the object to the specified SMBus.
        """
        bus = _bus_argument("open", args, kwargs, optional=False)
        path = f"/dev/i2c-{bus}"
        if len(path) >= MAXPATH:
            raise OverflowError("Bus number is invalid.")
        space = _userspace()
        self._fd = -1  # what a failed open leaves
        self._fd = open_rdwr(path)
        self._space = space

    def close(self) -> None:
        """close()

        Disconnects the object from the bus.
        """
        if self._fd != -1:  # after leaving, the number still held for it (`DevFs.close_all`)
            os.close(self._fd)
        self._fd = -1
        self._addr = -1
        self._pec = 0
        self._space = None

    def _descriptor(self) -> int:
        """The descriptor for a system call: -1 (EBADF) when closed, or when the userspace it
        was opened in has been left."""
        space = _userspace()
        if self._fd != -1 and self._space is not space:
            return -1
        return self._fd

    def _ioctl(self, request: int, arg: Any) -> Any:
        fd = self._descriptor()
        if fd < 0:  # ioctl(-1, ...) in C; Python's fcntl refuses a negative descriptor
            raise _ioerror(errno.EBADF)
        return fcntl.ioctl(fd, request, arg)

    def _set_addr(self, addr: int) -> None:
        """``SMBus_set_addr``: I2C_SLAVE when the address changes; the cache follows even when
        the ioctl fails."""
        _userspace()
        if self._addr != addr:
            self._addr = addr
            self._ioctl(I2C_SLAVE, addr)

    def _access(self, read_write: int, command: int, size: int, data: _Data | None) -> None:
        """libi2c's ``i2c_smbus_access``: the I2C_SMBUS ioctl."""
        args = _IoctlData(
            read_write, command & 0xFF, size, ctypes.pointer(data) if data is not None else None
        )
        self._ioctl(I2C_SMBUS, args)

    # -- pec ------------------------------------------------------------------------------------
    @property
    def pec(self) -> bool:
        """True if Packet Error Codes (PEC) are enabled"""
        return bool(self._pec)

    @pec.setter
    def pec(self, value: object) -> None:
        try:
            pec = int(bool(value))
        except Exception:
            raise TypeError("The pec attribute must be a boolean.") from None
        if self._pec != pec:
            self._ioctl(I2C_PEC, pec)
            self._pec = pec

    @pec.deleter
    def pec(self) -> None:
        raise TypeError("Cannot delete attribute")

    # -- the SMBus transactions -----------------------------------------------------------------
    def _read_data(
        self, name: str, args: tuple[object, ...], kwargs: dict[str, Any], size: int
    ) -> _Data:
        """``name(addr, cmd)``: an SMBus read of ``size``; the union it filled."""
        addr, cmd = _ints(name, args, kwargs, 2)
        self._set_addr(addr)
        data = _Data()
        self._access(I2C_SMBUS_READ, cmd, size, data)
        return data

    def _write_data(
        self, name: str, args: tuple[object, ...], kwargs: dict[str, Any], size: int
    ) -> None:
        """``name(addr, cmd, val)``: an SMBus write of ``size`` (a byte of BYTE_DATA, else a
        word, cut to the C type as smbusmodule.c's ``__u8``/``__u16`` assignment does)."""
        addr, cmd, val = _ints(name, args, kwargs, 3)
        self._set_addr(addr)
        data = _Data()
        if size == I2C_SMBUS_BYTE_DATA:
            data.byte = val & 0xFF
        else:
            data.word = val & 0xFFFF
        self._access(I2C_SMBUS_WRITE, cmd, size, data)

    def write_quick(self, *args: object, **kwargs: Any) -> None:
        """write_quick(addr)

        Perform SMBus Quick transaction.
        """
        (addr,) = _ints("write_quick", args, kwargs, 1)
        self._set_addr(addr)
        self._access(I2C_SMBUS_WRITE, 0, I2C_SMBUS_QUICK, None)

    def read_byte(self, *args: object, **kwargs: Any) -> int:
        """read_byte(addr) -> result

        Perform SMBus Read Byte transaction.
        """
        (addr,) = _ints("read_byte", args, kwargs, 1)
        self._set_addr(addr)
        data = _Data()
        self._access(I2C_SMBUS_READ, 0, I2C_SMBUS_BYTE, data)
        return int(data.byte)

    def write_byte(self, *args: object, **kwargs: Any) -> None:
        """write_byte(addr, val)

        Perform SMBus Write Byte transaction.
        """
        addr, val = _ints("write_byte", args, kwargs, 2)
        self._set_addr(addr)
        self._access(I2C_SMBUS_WRITE, val, I2C_SMBUS_BYTE, None)

    def read_byte_data(self, *args: object, **kwargs: Any) -> int:
        """read_byte_data(addr, cmd) -> result

        Perform SMBus Read Byte Data transaction.
        """
        return int(self._read_data("read_byte_data", args, kwargs, I2C_SMBUS_BYTE_DATA).byte)

    def write_byte_data(self, *args: object, **kwargs: Any) -> None:
        """write_byte_data(addr, cmd, val)

        Perform SMBus Write Byte Data transaction.
        """
        self._write_data("write_byte_data", args, kwargs, I2C_SMBUS_BYTE_DATA)

    def read_word_data(self, *args: object, **kwargs: Any) -> int:
        """read_word_data(addr, cmd) -> result

        Perform SMBus Read Word Data transaction.
        """
        return int(self._read_data("read_word_data", args, kwargs, I2C_SMBUS_WORD_DATA).word)

    def write_word_data(self, *args: object, **kwargs: Any) -> None:
        """write_word_data(addr, cmd, val)

        Perform SMBus Write Word Data transaction.
        """
        self._write_data("write_word_data", args, kwargs, I2C_SMBUS_WORD_DATA)

    def process_call(self, *args: object, **kwargs: Any) -> None:
        """process_call(addr, cmd, val)

        Perform SMBus Process Call transaction.
        """
        self._write_data("process_call", args, kwargs, I2C_SMBUS_PROC_CALL)
        # smbusmodule.c returns None here: the word read back is dropped

    def read_block_data(self, *args: object, **kwargs: Any) -> list[int]:
        """read_block_data(addr, cmd) -> results

        Perform SMBus Read Block Data transaction.
        """
        addr, cmd = _ints("read_block_data", args, kwargs, 2)
        self._set_addr(addr)
        data = _Data()
        self._access(I2C_SMBUS_READ, cmd, I2C_SMBUS_BLOCK_DATA, data)
        return list(data.block[1 : 1 + data.block[0]])

    def write_block_data(self, *args: object, **kwargs: Any) -> None:
        """write_block_data(addr, cmd, [vals])

        Perform SMBus Write Block Data transaction.
        """
        addr, cmd, data = self._block_args("write_block_data", args, kwargs)
        self._set_addr(addr)
        self._access(I2C_SMBUS_WRITE, cmd, I2C_SMBUS_BLOCK_DATA, data)

    def block_process_call(self, *args: object, **kwargs: Any) -> list[int]:
        """block_process_call(addr, cmd, [vals]) -> results

        Perform SMBus Block Process Call transaction.
        """
        addr, cmd, data = self._block_args("block_process_call", args, kwargs)
        self._set_addr(addr)
        self._access(I2C_SMBUS_WRITE, cmd, I2C_SMBUS_BLOCK_PROC_CALL, data)
        return list(data.block[1 : 1 + data.block[0]])

    def read_i2c_block_data(self, *args: object, **kwargs: Any) -> list[int]:
        """read_i2c_block_data(addr, cmd, len=32) -> results

        Perform I2C Block Read transaction.
        """
        _no_keywords("read_i2c_block_data", kwargs)
        _count("read_i2c_block_data", args, 2, 3)
        addr, cmd, length = (*[_c_int(a) for a in args], 32)[:3]
        self._set_addr(addr)
        data = _Data()
        data.block[0] = length & 0xFF
        size = I2C_SMBUS_I2C_BLOCK_BROKEN if length == 32 else I2C_SMBUS_I2C_BLOCK_DATA
        self._access(I2C_SMBUS_READ, cmd, size, data)
        return list(data.block[1 : 1 + data.block[0]])

    def write_i2c_block_data(self, *args: object, **kwargs: Any) -> None:
        """write_i2c_block_data(addr, cmd, [vals])

        Perform I2C Block Write transaction.
        """
        addr, cmd, data = self._block_args("write_i2c_block_data", args, kwargs)
        self._set_addr(addr)
        self._access(I2C_SMBUS_WRITE, cmd, I2C_SMBUS_I2C_BLOCK_BROKEN, data)

    @staticmethod
    def _block_args(
        name: str, args: tuple[object, ...], kwargs: dict[str, Any]
    ) -> tuple[int, int, _Data]:
        """``"iiO&"`` with ``SMBus_list_to_data``."""
        _no_keywords(name, kwargs)
        _count(name, args, 3, 3)
        addr, cmd = _c_int(args[0]), _c_int(args[1])
        data = _Data()
        _list_to_data(args[2], data)
        return addr, cmd, data
