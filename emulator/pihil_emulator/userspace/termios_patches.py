"""``termios``, ``fcntl.flock``, ``os.isatty``/``ttyname``/``get_blocking``/``set_blocking``
on the board's device files.

The ``termios`` functions are C and take a file descriptor, so the userspace puts Python
ones in their place (as `devfs` does for ``os`` and ``fcntl``): on a board tty they go
the way glibc's do (tcgetattr/tcsetattr -> TCGETS/TCSETS*, tcsendbreak -> TCSBRK 0 or
TCSBRKP ``(ms + 99) // 100``, tcdrain -> TCSBRK 1, tcflush -> TCFLSH, tcflow -> TCXONC),
with CPython's checks and ``termios.error(errno, message)``; every other descriptor goes
to the original. ``serial.protocol_handler_packages`` gains this package, so
``serial.serial_for_url("pihil://uart0")`` works (`protocol_pihil`).
"""

from __future__ import annotations

import errno
import fcntl
import operator
import os
import sys
import termios
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .devfs import DevFile, oserror
from .patches import Patches
from .session_state import active
from .tty_dev import TCFLSH, TCSBRK, TCSBRKP, TCXONC, TtyFile
from .tty_termios import TermiosError, check_when, from_py_attributes, py_attributes

if TYPE_CHECKING:
    from .session import Userspace

ORIGINAL_TCGETATTR = termios.tcgetattr
ORIGINAL_TCSETATTR = termios.tcsetattr
ORIGINAL_TCSENDBREAK = termios.tcsendbreak
ORIGINAL_TCDRAIN = termios.tcdrain
ORIGINAL_TCFLUSH = termios.tcflush
ORIGINAL_TCFLOW = termios.tcflow
ORIGINAL_TCGETWINSIZE = getattr(termios, "tcgetwinsize", None)
ORIGINAL_TCSETWINSIZE = getattr(termios, "tcsetwinsize", None)
ORIGINAL_FLOCK = fcntl.flock
ORIGINAL_ISATTY = os.isatty
ORIGINAL_TTYNAME = os.ttyname
ORIGINAL_GET_BLOCKING = os.get_blocking
ORIGINAL_SET_BLOCKING = os.set_blocking

HANDLER_PACKAGE = __package__ or "pihil_emulator.userspace"
"""Where pyserial finds ``protocol_pihil`` (``<package>.protocol_<scheme>``)."""

T = TypeVar("T")

_patches: Patches | None = None
_saved_time: list[tuple[Any, Any]] = []


def _number(fd: Any) -> int | None:
    """The descriptor CPython's fildes converter would take (None: let the original fail)."""
    if isinstance(fd, int):
        return fd
    fileno = getattr(fd, "fileno", None)
    if fileno is None:
        return None
    value = fileno()
    return value if isinstance(value, int) else None


def _emulated(fd: Any) -> DevFile | None:
    space = active()
    number = _number(fd)
    if space is None or number is None:
        return None
    return space.devfs.get(number)


def _tty(file: DevFile) -> TtyFile:
    if not isinstance(file, TtyFile):
        raise termios.error(errno.ENOTTY, os.strerror(errno.ENOTTY))
    return file


def _as_termios_error(call: Callable[[], T]) -> T:
    """Run ``call``; OSError and model errors become ``termios.error(errno, message)``."""
    try:
        return call()
    except TermiosError as exc:
        raise termios.error(exc.errno, os.strerror(exc.errno)) from None
    except OSError as exc:
        code = exc.errno or errno.EIO
        raise termios.error(code, os.strerror(code)) from None


# -- the termios module ----------------------------------------------------------------------
def tcgetattr(fd: Any) -> list[Any]:
    file = _emulated(fd)
    if file is None:
        return ORIGINAL_TCGETATTR(fd)
    return py_attributes(_tty(file).port.termios)


def tcsetattr(fd: Any, when: Any, attributes: Any) -> None:
    file = _emulated(fd)
    if file is None:
        return ORIGINAL_TCSETATTR(fd, when, attributes)
    port = _tty(file).port
    operator.index(when)  # Argument Clinic: an int
    new = _as_termios_error(lambda: from_py_attributes(port.termios, attributes))
    action = _as_termios_error(lambda: check_when(when))
    _as_termios_error(
        lambda: port.set_termios(
            new, flush=action == termios.TCSAFLUSH, wait=action != termios.TCSANOW
        )
    )
    return None


def tcsendbreak(fd: Any, duration: int) -> None:
    file = _emulated(fd)
    if file is None:
        return ORIGINAL_TCSENDBREAK(fd, duration)
    tty = _tty(file)
    if duration <= 0:
        _as_termios_error(lambda: tty.ioctl(TCSBRK, 0))
    else:
        _as_termios_error(lambda: tty.ioctl(TCSBRKP, (duration + 99) // 100))
    return None


def tcdrain(fd: Any) -> None:
    file = _emulated(fd)
    if file is None:
        return ORIGINAL_TCDRAIN(fd)
    tty = _tty(file)
    _as_termios_error(lambda: tty.ioctl(TCSBRK, 1))
    return None


def tcflush(fd: Any, queue: int) -> None:
    file = _emulated(fd)
    if file is None:
        return ORIGINAL_TCFLUSH(fd, queue)
    tty = _tty(file)
    _as_termios_error(lambda: tty.ioctl(TCFLSH, operator.index(queue)))
    return None


def tcflow(fd: Any, action: int) -> None:
    file = _emulated(fd)
    if file is None:
        return ORIGINAL_TCFLOW(fd, action)
    tty = _tty(file)
    _as_termios_error(lambda: tty.ioctl(TCXONC, operator.index(action)))
    return None


def tcgetwinsize(fd: Any) -> tuple[int, int]:
    file = _emulated(fd)
    if file is None:
        assert ORIGINAL_TCGETWINSIZE is not None
        return ORIGINAL_TCGETWINSIZE(fd)  # type: ignore[no-any-return]
    raw = _tty(file).port.winsize
    return int.from_bytes(raw[0:2], "little"), int.from_bytes(raw[2:4], "little")


def tcsetwinsize(fd: Any, winsize: Any) -> None:
    file = _emulated(fd)
    if file is None:
        assert ORIGINAL_TCSETWINSIZE is not None
        ORIGINAL_TCSETWINSIZE(fd, winsize)
        return
    rows, cols = winsize
    port = _tty(file).port
    port.winsize = (
        int(rows).to_bytes(2, "little") + int(cols).to_bytes(2, "little") + port.winsize[4:]
    )


# -- fcntl.flock, os.isatty, os.ttyname ----------------------------------------------------------
def flock(fd: Any, operation: int) -> None:
    """flock() on a board tty: one lock per port (pyserial's ``exclusive=True``)."""
    file = _emulated(fd)
    if file is None:
        return ORIGINAL_FLOCK(fd, operation)
    if not isinstance(file, TtyFile):
        return None
    port = file.port
    if operation & fcntl.LOCK_UN:
        if port.flock_holder is file:
            port.flock_holder = None
        return None
    if not operation & (fcntl.LOCK_SH | fcntl.LOCK_EX):
        raise oserror(errno.EINVAL)
    if port.flock_holder in (None, file):
        port.flock_holder = file
        return None
    if operation & fcntl.LOCK_NB:
        raise oserror(errno.EWOULDBLOCK)
    clock = port.us.clock
    if clock.registered():
        clock.block(None, lambda: port.flock_holder is None)
    port.flock_holder = file
    return None


def isatty(fd: int) -> bool:
    file = _emulated(fd)
    if file is None:
        return ORIGINAL_ISATTY(fd)
    return isinstance(file, TtyFile)


def ttyname(fd: int) -> str:
    file = _emulated(fd)
    if file is None:
        return ORIGINAL_TTYNAME(fd)
    if not isinstance(file, TtyFile):
        raise oserror(errno.ENOTTY)
    return file.path


def get_blocking(fd: int) -> bool:
    """``os.get_blocking``/``set_blocking`` are C calls of fcntl: on an emulated file they
    read and set its O_NONBLOCK flag."""
    file = _emulated(fd)
    if file is None:
        return ORIGINAL_GET_BLOCKING(fd)
    return not file.flags & os.O_NONBLOCK


def set_blocking(fd: int, blocking: bool) -> None:
    file = _emulated(fd)
    if file is None:
        return ORIGINAL_SET_BLOCKING(fd, blocking)
    file.flags = file.flags & ~os.O_NONBLOCK if blocking else file.flags | os.O_NONBLOCK
    return None


def termios_patches() -> Patches:
    patches = Patches()
    replacements: list[tuple[str, Any]] = [
        ("tcgetattr", tcgetattr),
        ("tcsetattr", tcsetattr),
        ("tcsendbreak", tcsendbreak),
        ("tcdrain", tcdrain),
        ("tcflush", tcflush),
        ("tcflow", tcflow),
    ]
    if ORIGINAL_TCGETWINSIZE is not None:
        replacements += [("tcgetwinsize", tcgetwinsize), ("tcsetwinsize", tcsetwinsize)]
    patches.add_many(termios, replacements)
    patches.add(fcntl, "flock", flock)
    patches.add_many(
        os,
        [
            ("isatty", isatty),
            ("ttyname", ttyname),
            ("get_blocking", get_blocking),
            ("set_blocking", set_blocking),
        ],
    )
    return patches


# -- the userspace's enter/leave hooks ----------------------------------------------------------
def enter(_userspace: Userspace) -> None:
    """Install the replacements and pyserial's ``pihil://`` handler package."""
    global _patches
    _patches = termios_patches()
    _patches.apply()
    serial = sys.modules.get("serial")
    if serial is None:
        try:
            import serial  # type: ignore[no-redef]
        except ImportError:  # pyserial not installed: nothing to register
            return
    packages = getattr(serial, "protocol_handler_packages", None)
    if isinstance(packages, list) and HANDLER_PACKAGE not in packages:
        packages.append(HANDLER_PACKAGE)
    _clock_pyserial_timeouts()


def _clock_pyserial_timeouts() -> None:
    """pyserial's ``Timeout`` keeps ``TIME = time.monotonic`` as a class attribute (bound at
    import, so the module scan of `Patches` misses it): point it at the board's clock."""
    from .time_patches import monotonic

    serialutil = sys.modules.get("serial.serialutil")
    timeout = getattr(serialutil, "Timeout", None)
    if timeout is not None and "TIME" in vars(timeout):
        _saved_time.append((timeout, vars(timeout)["TIME"]))
        timeout.TIME = staticmethod(monotonic)


def leave(_userspace: Userspace) -> None:
    global _patches
    try:
        while _saved_time:
            owner, original = _saved_time.pop()
            owner.TIME = original
        serial = sys.modules.get("serial")
        packages = getattr(serial, "protocol_handler_packages", None)
        if isinstance(packages, list) and HANDLER_PACKAGE in packages:
            packages.remove(HANDLER_PACKAGE)
    finally:
        if _patches is not None:
            _patches.restore()
            _patches = None
