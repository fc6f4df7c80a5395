"""Stand-in for ``spidev``, the C extension of py-spidev (PyPI ``spidev==3.8``).

The real module is ``spidev_module.c``: a ``SpiDev`` type whose methods open
``/dev/spidevB.C`` and issue the spidev ioctls (include/uapi/linux/spi/spidev.h). Being C,
its system calls cannot be answered at the Python level, so this module makes the same
calls through ``os.open``, ``os.read``/``os.write`` and ``fcntl.ioctl`` with ctypes
memory, which inside a userspace reach the emulated spidev (`spi_dev`) and on a Raspberry
Pi reach its kernel. What it keeps of the C code:

- the methods and their ``PyArg_ParseTuple`` formats, with CPython's messages: positional
  arguments only (``METH_VARARGS``) except ``SpiDev(bus, client)``, ``open(bus, device)``
  and ``open_path(path)``; ``SpiDev(bus)`` without a second number fails in ``open()``;
  the ``"I"``, ``"H"``, ``"B"`` arguments of ``xfer*`` (speed, delay, bits) are truncated,
  not range-checked;
- the sequence rules: any iterable (``PySequence_Fast``), a list is filled in place and
  returned, a tuple gives a tuple; the length of ``xfer``/``xfer2``/``writebytes`` is a
  ``uint16_t`` (65536 items are "Empty argument list."), at most 4096 bytes
  (OverflowError); values are ints cut to a byte ("Non-Int/Long value in arguments: %x."
  prints the object's address); ``readbytes(n)`` reads 1..4096 bytes;
- ``xfer`` and ``xfer2`` are both one SPI_IOC_MESSAGE(1) (this build has no
  ``SPIDEV_SINGLE``); ``xfer3`` and ``writebytes2`` go in blocks of
  ``/sys/module/spidev/parameters/bufsiz`` (read once per process, 4096 by default, at
  most 65535), each block its own ioctl or write (the chip select toggles between them);
  with ``read0`` and CS_HIGH a 0-byte read follows each xfer;
- the cached ``mode``, ``bits_per_word`` and ``max_speed_hz`` (read at ``open``; the
  bits and speed setters skip the ioctl when the value is cached; ``max_speed_hz`` reads
  back as a C ``int``); a mode setter writes SPI_IOC_WR_MODE and checks SPI_IOC_RD_MODE:
  a mismatch is ``OSError("Attempted to set mode 0x4 but mode 0x0 returned")`` (what
  ``cshigh = True`` gives on a Pi, whose spidev hides CS_HIGH);
- errors as ``PyErr_SetFromErrno(PyExc_IOError)``: ``OSError(errno, strerror)`` without a
  file name; EBADF on an object that is not open;
- subclassable (``mcp3008.MCP3008`` is a ``SpiDev``), no instance attributes, no weak
  references, no pickling.

Calls that reach the kernel raise `UserspaceError` outside a userspace, unless the object
was opened on this machine's own ``/dev`` (a Pi); an object opened in a userspace that
has since been left acts as closed (EBADF), its descriptor having been closed on leaving.

The argument handling is `spidev_args` (with CPython's ``"i"`` and IOError in `pyarg`, shared
with the ``smbus`` stand-in), ``struct spi_ioc_transfer`` and the xfer3 block size `spidev_ioc`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import inspect
import os
from typing import Any, Literal, NoReturn

from .pyarg import INT_MAX as INT_MAX
from .pyarg import INT_MIN as INT_MIN
from .pyarg import LONG_MAX as LONG_MAX
from .pyarg import LONG_MIN as LONG_MIN
from .pyarg import c_int as _c_int
from .pyarg import ioerror as _ioerror
from .pyarg import open_rdwr
from .spi_dev import (
    SPI_3WIRE,
    SPI_CS_HIGH,
    SPI_IOC_RD_BITS_PER_WORD,
    SPI_IOC_RD_MAX_SPEED_HZ,
    SPI_IOC_RD_MODE,
    SPI_IOC_WR_BITS_PER_WORD,
    SPI_IOC_WR_MAX_SPEED_HZ,
    SPI_IOC_WR_MODE,
    SPI_LOOP,
    SPI_LSB_FIRST,
    SPI_NO_CS,
    spi_ioc_message,
)
from .spidev_args import (
    _MISSING,
    _active,
    _bytes_of,
    _cannot_delete,
    _check_bool,
    _check_int,
    _fast,
    _fspath,
    _keywords,
    _list_bytes,
    _masked,
    _no_arguments,
    _positional,
    _require_userspace,
)
from .spidev_ioc import BLOCK_SIZE_CONTROL_FILE as BLOCK_SIZE_CONTROL_FILE
from .spidev_ioc import SPIDEV_MAXPATH as SPIDEV_MAXPATH
from .spidev_ioc import XFER3_DEFAULT_BLOCK_SIZE as XFER3_DEFAULT_BLOCK_SIZE
from .spidev_ioc import XFER3_MAX_BLOCK_SIZE as XFER3_MAX_BLOCK_SIZE
from .spidev_ioc import _IocTransfer
from .spidev_ioc import get_xfer3_block_size as get_xfer3_block_size

__version__ = "3.8"
__all__ = ["SpiDev"]


def _flag_property(bit: int, name: str, doc: str) -> Any:
    """A mode bit as the C getset has it: a bool; setting it writes and reads the mode."""

    def get(self: SpiDev) -> bool:
        return bool(self._mode & bit)

    def put(self: SpiDev, value: object) -> None:
        self._flag(bit, name, value)

    return property(get, put, _cannot_delete, doc)


class SpiDev:
    """SpiDev([bus],[client]) -> SPI

    Return a new SPI object that is (optionally) connected to the
    specified SPI device interface.
    """

    _fd: int
    _mode: int
    _bits_per_word: int
    _max_speed_hz: int
    _read0: bool
    _space: object | None
    __slots__ = ("_bits_per_word", "_fd", "_max_speed_hz", "_mode", "_read0", "_space")

    def __new__(cls, *args: object, **kwargs: object) -> SpiDev:
        self = super().__new__(cls)
        self._fd = -1
        self._mode = 0
        self._bits_per_word = 0
        self._max_speed_hz = 0
        self._read0 = False
        self._space = None
        return self

    def __init__(self, *args: object, **kwargs: Any) -> None:
        bus, _client = _keywords("__init__", args, kwargs, ("bus", "client"), _c_int, 0)
        if bus is not _MISSING and bus >= 0:
            self.open(*args, **kwargs)

    def __repr__(self) -> str:
        if type(self) is SpiDev:
            return f"<SpiDev object at {id(self):#x}>"
        return object.__repr__(self)

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError(f"cannot pickle '{type(self).__name__}' object")

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # tp_dealloc drops a failed close's error
            self.close()

    def __enter__(self, *args: object, **kwargs: Any) -> SpiDev:
        _positional("__enter__", None, args, kwargs, [], 0)
        return self

    def __exit__(self, *args: object, **kwargs: Any) -> Literal[False]:
        if kwargs:
            raise TypeError("SpiDev.__exit__() takes no keyword arguments")
        if len(args) != 3:
            raise TypeError(f"__exit__ expected 3 arguments, got {len(args)}")
        self.close()
        return False

    # -- the descriptor -------------------------------------------------------------------
    def _open_dev(self, path: bytes) -> None:
        """``SpiDev_open_dev``: open O_RDWR, then cache mode, bits per word and speed."""
        space = _active()
        if space is None and not os.path.exists(path):
            _require_userspace()  # raises: off a Pi the board's devices live in a userspace
        self._fd = -1  # what a failed open leaves
        self._fd = open_rdwr(path)
        self._space = space
        mode = ctypes.c_uint8()
        self._ioctl(SPI_IOC_RD_MODE, mode)
        self._mode = mode.value
        bits = ctypes.c_uint8()
        self._ioctl(SPI_IOC_RD_BITS_PER_WORD, bits)
        self._bits_per_word = bits.value
        speed = ctypes.c_uint32()
        self._ioctl(SPI_IOC_RD_MAX_SPEED_HZ, speed)
        self._max_speed_hz = speed.value

    def open(self, *args: object, **kwargs: Any) -> None:
        """open(bus, device)

        Connects the object to the specified SPI device.
        open(X,Y) will open /dev/spidev<X>.<Y>
        """
        bus, device = _keywords("open", args, kwargs, ("bus", "device"), _c_int, 2)
        self._open_dev(f"/dev/spidev{bus}.{device}".encode())

    def open_path(self, *args: object, **kwargs: Any) -> None:
        """open_path(spidev_path)

        Connects the object to the specified SPI device.
        open_path(X) will open the spidev character device <X> (following symbolic links if necessary).
        """
        (path,) = _keywords("open", args, kwargs, ("path",), _fspath, 1)
        self._open_dev(path)

    def close(self, *args: object, **kwargs: Any) -> None:
        """close()

        Disconnects the object from the interface.
        """
        _no_arguments("close", args, kwargs)
        if self._fd != -1 and self._live():
            try:
                os.close(self._fd)
            except OSError as exc:
                raise _ioerror(exc.errno or errno.EIO) from None
        # else: never opened, or the userspace it was opened in closed it on leaving
        self._fd = -1
        self._mode = 0
        self._bits_per_word = 0
        self._max_speed_hz = 0
        self._space = None

    def fileno(self, *args: object, **kwargs: Any) -> int:
        """fileno() -> integer "file descriptor"

        This is needed for lower-level file interfaces, such as os.read().
        """
        _no_arguments("fileno", args, kwargs)
        return self._fd

    def _live(self) -> bool:
        """The descriptor is still this object's: opened on a Pi's own /dev, or in the
        userspace that is active now."""
        return _active() is self._space

    def _descriptor(self) -> int:
        """The descriptor for a system call (-1: EBADF)."""
        if _active() is None and not (self._fd != -1 and self._space is None):
            _require_userspace()
        return self._fd if self._live() else -1

    def _ioctl(self, request: int, arg: Any) -> None:
        fd = self._descriptor()
        if fd < 0:
            raise _ioerror(errno.EBADF)
        try:
            fcntl.ioctl(fd, request, arg)
        except OSError as exc:
            raise _ioerror(exc.errno or errno.EIO) from None

    def _read(self, n: int) -> bytes:
        try:
            return os.read(self._descriptor(), n)
        except OSError as exc:
            raise _ioerror(exc.errno or errno.EIO) from None

    def _write(self, data: bytes) -> None:
        try:
            os.write(self._descriptor(), data)
        except OSError as exc:
            raise _ioerror(exc.errno or errno.EIO) from None

    # -- transfers ------------------------------------------------------------------------
    def _message(self, tx: bytes, speed_hz: int, delay_usecs: int, bits_per_word: int) -> bytes:
        """One SPI_IOC_MESSAGE(1) of ``tx``; the bytes read."""
        n = len(tx)
        txbuf = (ctypes.c_uint8 * n).from_buffer_copy(tx)
        rxbuf = (ctypes.c_uint8 * n)()
        xfer = _IocTransfer()
        xfer.tx_buf = ctypes.addressof(txbuf)
        xfer.rx_buf = ctypes.addressof(rxbuf)
        xfer.len = n
        xfer.delay_usecs = delay_usecs
        xfer.speed_hz = speed_hz or self._max_speed_hz
        xfer.bits_per_word = bits_per_word or self._bits_per_word
        self._ioctl(spi_ioc_message(1), xfer)
        return bytes(rxbuf)

    def _read0_after(self) -> None:
        """ "in CS_HIGH mode CS isn't pulled to low after transfer ... reading 0 bytes
        doesn't matter but brings cs down" (only with ``read0``)."""
        if self._read0 and self._mode & SPI_CS_HIGH:
            self._read(0)

    def _xfer(self, name: str, args: tuple[object, ...], kwargs: dict[str, Any]) -> Any:
        obj, speed, delay, bits = _positional(
            name, name, args, kwargs, [lambda o: o, _masked(32), _masked(16), _masked(8)], 1
        )
        seq = _fast(obj)
        n, tx = _list_bytes(seq)
        out: list[Any] = list(seq) if isinstance(seq, tuple) else seq
        rx = self._message(tx, speed or 0, delay or 0, bits or 0)
        out[:n] = list(rx)
        self._read0_after()
        return tuple(out) if isinstance(obj, tuple) else out

    def xfer(self, *args: object, **kwargs: Any) -> Any:
        """xfer([values]) -> [values]

        Perform SPI transaction.
        CS will be released and reactivated between blocks.
        delay specifies delay in usec between blocks.
        """
        return self._xfer("xfer", args, kwargs)

    def xfer2(self, *args: object, **kwargs: Any) -> Any:
        """xfer2([values]) -> [values]

        Perform SPI transaction.
        CS will be held active between blocks.
        """
        return self._xfer("xfer2", args, kwargs)

    def xfer3(self, *args: object, **kwargs: Any) -> tuple[int, ...]:
        """xfer3([values]) -> [values]

        Perform SPI transaction. Accepts input of arbitrary size.
        Large blocks will be send as multiple transactions
        CS will be held active between blocks.
        """
        obj, speed, delay, bits = _positional(
            "xfer3", "xfer3", args, kwargs, [lambda o: o, _masked(32), _masked(16), _masked(8)], 1
        )
        seq = _fast(obj)
        n = len(seq)
        if n == 0:
            raise TypeError("Empty argument list.")
        block = min(get_xfer3_block_size(), n)
        rx = bytearray()
        for start in range(0, n, block):
            tx = _bytes_of(seq, start, min(block, n - start))
            rx += self._message(tx, speed or 0, delay or 0, bits or 0)
        self._read0_after()
        return tuple(rx)

    def readbytes(self, *args: object, **kwargs: Any) -> list[int]:
        """read(len) -> [values]

        Read len bytes from SPI device.
        """
        (n,) = _positional("readbytes", "read", args, kwargs, [_c_int], 1)
        n = min(max(n, 1), SPIDEV_MAXPATH)
        return list(self._read(n))

    def writebytes(self, *args: object, **kwargs: Any) -> None:
        """write([values]) -> None

        Write bytes to SPI device.
        """
        (obj,) = _positional("writebytes", "write", args, kwargs, [lambda o: o], 1)
        _n, data = _list_bytes(_fast(obj))
        self._write(data)

    def writebytes2(self, *args: object, **kwargs: Any) -> None:
        """writebytes2([values]) -> None

        Write bytes to SPI device.
        values must be a list or buffer.
        """
        (obj,) = _positional("writebytes2", "writebytes2", args, kwargs, [lambda o: o], 1)
        try:
            view = memoryview(obj)  # type: ignore[arg-type,unused-ignore]
        except TypeError:
            view = None
        if view is not None and view.contiguous:
            data = view.tobytes()
            block = get_xfer3_block_size()
            for start in range(0, len(data), block):
                self._write(data[start : start + block])
            return
        seq = _fast(obj)
        n = len(seq)
        if n == 0:
            raise TypeError("Empty argument list.")
        block = get_xfer3_block_size()
        for start in range(0, n, block):
            self._write(_bytes_of(seq, start, min(block, n - start)))

    # -- the mode ---------------------------------------------------------------------------
    def _set_mode(self, mode: int) -> None:
        """``__spidev_set_mode``: SPI_IOC_WR_MODE, then SPI_IOC_RD_MODE must agree."""
        self._ioctl(SPI_IOC_WR_MODE, ctypes.c_uint8(mode))
        test = ctypes.c_uint8()
        self._ioctl(SPI_IOC_RD_MODE, test)
        if test.value != mode:
            raise OSError(f"Attempted to set mode 0x{mode:x} but mode 0x{test.value:x} returned")
        self._mode = mode

    def _flag(self, bit: int, name: str, value: object) -> None:
        on = _check_bool(name, value)
        self._set_mode(self._mode | bit if on else self._mode & ~bit & 0xFF)

    def _get_mode(self) -> int:
        return self._mode & 0b11

    def _put_mode(self, value: object) -> None:
        mode = _check_int("mode", value) & 0xFF
        if mode > 3:
            raise TypeError("The mode attribute must be an integerbetween 0 and 3.")
        self._set_mode((self._mode & ~0b11) | mode)

    def _get_bits(self) -> int:
        return self._bits_per_word

    def _put_bits(self, value: object) -> None:
        bits = _check_int("bits_per_word", value) & 0xFF
        if not 8 <= bits <= 32:
            raise TypeError("invalid bits_per_word (8 to 32)")
        if self._bits_per_word != bits:
            self._ioctl(SPI_IOC_WR_BITS_PER_WORD, ctypes.c_uint8(bits))
            self._bits_per_word = bits

    def _get_speed(self) -> int:
        speed = self._max_speed_hz
        return speed - (1 << 32) if speed > INT_MAX else speed  # Py_BuildValue("i", uint32)

    def _put_speed(self, value: object) -> None:
        speed = _check_int("max_speed_hz", value) & 0xFFFFFFFF
        if self._max_speed_hz != speed:
            self._ioctl(SPI_IOC_WR_MAX_SPEED_HZ, ctypes.c_uint32(speed))
            self._max_speed_hz = speed

    def _get_read0(self) -> bool:
        return self._read0

    def _put_read0(self, value: object) -> None:
        self._read0 = _check_bool("read0", value)

    mode = property(
        _get_mode,
        _put_mode,
        _cannot_delete,
        "SPI mode as two bit pattern of \nClock Polarity  and Phase [CPOL|CPHA]\n"
        "min: 0b00 = 0 max: 0b11 = 3\n",
    )
    cshigh = _flag_property(SPI_CS_HIGH, "cshigh", "CS active high\n")
    threewire = _flag_property(SPI_3WIRE, "3wire", "SI/SO signals shared\n")
    lsbfirst = _flag_property(SPI_LSB_FIRST, "lsbfirst", "LSB first\n")
    loop = _flag_property(SPI_LOOP, "loop", "loopback configuration\n")
    no_cs = _flag_property(SPI_NO_CS, "no_cs", "disable chip select\n")
    bits_per_word = property(_get_bits, _put_bits, _cannot_delete, "bits per word\n")
    max_speed_hz = property(_get_speed, _put_speed, _cannot_delete, "maximum speed in Hz\n")
    read0 = property(
        _get_read0,
        _put_read0,
        _cannot_delete,
        "Read 0 bytes after transfer to lower CS if cshigh == True\n",
    )


def _c_docstrings() -> None:
    """The docstrings as the C module has them (no source indentation)."""
    SpiDev.__doc__ = inspect.cleandoc(SpiDev.__doc__ or "") + "\n"
    for name in (
        "open", "open_path", "close", "fileno", "xfer", "xfer2", "xfer3",
        "readbytes", "writebytes", "writebytes2",
    ):  # fmt: skip
        function = getattr(SpiDev, name)
        function.__doc__ = inspect.cleandoc(function.__doc__ or "") + "\n"


_c_docstrings()
