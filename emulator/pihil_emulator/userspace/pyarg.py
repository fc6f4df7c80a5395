"""CPython's argument conversions as the C extensions that the stand-ins replace use them.

``PyArg_ParseTuple``'s ``"i"`` format (`c_int`): an object with ``__index__`` that fits a C
``int``, with CPython's messages (``PyLong_AsLong``'s overflow first, then the ``int`` range);
the C limits of the 64-bit Linux ABI; and ``PyErr_SetFromErrno(PyExc_IOError)`` (`ioerror`:
an ``OSError`` with the errno and its message, no file name), also for the ``open(path,
O_RDWR)`` of a device (`open_rdwr`). Used by the ``spidev`` and ``smbus`` stand-ins.
"""

from __future__ import annotations

import errno
import operator
import os

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


# -- PyArg_ParseTuple, as the C methods use it ---------------------------------------------------
def c_int(value: object) -> int:
    """The ``"i"`` format: an object with ``__index__`` that fits a C int."""
    number = operator.index(value)  # type: ignore[arg-type]
    if not LONG_MIN <= number <= LONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    if number > INT_MAX:
        raise OverflowError("signed integer is greater than maximum")
    if number < INT_MIN:
        raise OverflowError("signed integer is less than minimum")
    return int(number)


def ioerror(code: int) -> OSError:
    """``PyErr_SetFromErrno(PyExc_IOError)`` for ``code``."""
    return OSError(code, os.strerror(code))


def open_rdwr(path: str | bytes) -> int:
    """``open(path, O_RDWR)`` of a device file, its failure as `ioerror`."""
    try:
        return os.open(path, os.O_RDWR, 0)
    except OSError as exc:
        raise ioerror(exc.errno or errno.EIO) from None
