"""The board's device files: ``os.open``/``read``/``write``/``close``, ``fcntl.ioctl``,
``select`` and ``open()`` on emulated paths, as the kernel answers them.

Pure-Python libraries (smbus2, Adafruit_PureIO, Sensirion's transceiver, pyserial's
POSIX backend) run unchanged: their system calls on ``/dev/i2c-1`` reach the emulated
board. An emulated file holds a real file descriptor (of ``/dev/null``) so its number is
unique in the process; every other descriptor and path goes to the real calls.
Inside a userspace the board's device paths (``/dev/i2c-*``, ``/dev/spidev*``, the
UART ttys, ``/dev/gpiochip*``) are the board's: one the profile lacks is ENOENT, never a
device of the machine running the tests.

Directory listings and ``stat``/``access`` of paths are `devfs_paths`.
"""

from __future__ import annotations

import builtins
import errno
import fcntl
import io
import os
import re
import select
from collections.abc import Callable
from typing import Any

from .patches import Patches

ORIGINAL_OPEN = os.open
ORIGINAL_CLOSE = os.close
ORIGINAL_READ = os.read
ORIGINAL_WRITE = os.write
ORIGINAL_IOCTL = fcntl.ioctl
ORIGINAL_FCNTL = fcntl.fcntl
ORIGINAL_SELECT = select.select
ORIGINAL_BUILTIN_OPEN = builtins.open

BOARD_PATHS = re.compile(
    r"^/dev/(i2c-\d+|spidev\d+\.\d+|ttyAMA\d+|ttyS\d+|serial\d+|gpiochip\d+|gpiomem)$"
)
"""Device paths that, inside a userspace, are the board's (emulated, or absent)."""

DEVICE_TREES = ("/proc/device-tree", "/sys/firmware/devicetree/base")
"""Directories that, once the userspace serves a file in them, are wholly the board's."""


def oserror(code: int, path: str | None = None) -> OSError:
    """The OSError (subclass) Python raises for a failed system call with ``code``."""
    if path is None:
        return OSError(code, os.strerror(code))
    return OSError(code, os.strerror(code), path)


class DevFile:
    """One open emulated file: subclasses answer the system calls they support."""

    path = ""

    def __init__(self, flags: int) -> None:
        self.flags = flags
        self.closed = False
        self.gone: str | None = None
        """Why the device behind this descriptor went away (the board's SoC was reset), or
        None: reads, writes and ioctls then fail with ENODEV; only ``close`` works."""

    def read(self, n: int) -> bytes:
        raise oserror(errno.EINVAL)

    def write(self, data: bytes) -> int:
        raise oserror(errno.EINVAL)

    def ioctl(self, request: int, arg: int | memoryview) -> int:
        raise oserror(errno.ENOTTY)

    def readable_now(self) -> bool:
        """select/poll: would a read return at once."""
        return True

    def subscribe(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Let ``wake`` be called when the file may become readable; returns the undo."""
        return lambda: None

    def close(self) -> None:
        self.closed = True


class StaticFile(DevFile):
    """A read-only file with fixed content (``/proc/device-tree/model``)."""

    def __init__(self, flags: int, content: bytes) -> None:
        super().__init__(flags)
        self._content = content
        self._pos = 0

    def read(self, n: int) -> bytes:
        out = self._content[self._pos : self._pos + max(0, n)]
        self._pos += len(out)
        return out


Opener = Callable[[int], DevFile]


class DevFs:
    """The emulated paths and the open emulated descriptors of one userspace."""

    def __init__(self) -> None:
        self.paths: dict[str, Opener] = {}
        self.files: dict[int, DevFile] = {}

    def add(self, path: str, opener: Opener) -> None:
        self.paths[path] = opener

    def add_static(self, path: str, content: bytes) -> None:
        self.paths[path] = lambda flags: StaticFile(flags, content)

    def owns(self, path: str) -> bool:
        return path in self.paths or bool(BOARD_PATHS.match(path)) or self.in_tree(path)

    def in_tree(self, path: str) -> bool:
        """Inside (or the root of) a device tree the board serves (`DEVICE_TREES`)."""
        return any(
            (path == root or path.startswith(root + "/")) and self.is_dir(root)
            for root in DEVICE_TREES
        )

    def is_dir(self, path: str) -> bool:
        """A directory holding emulated files (``/dev``, ``/proc/device-tree/system``)."""
        prefix = path.rstrip("/") + "/"
        return any(p.startswith(prefix) for p in self.paths)

    def children(self, directory: str) -> dict[str, bool]:
        """The emulated entries directly in ``directory``: name -> is a directory."""
        prefix = directory.rstrip("/") + "/"
        out: dict[str, bool] = {}
        for path in self.paths:
            if path.startswith(prefix):
                head, sep, _ = path[len(prefix) :].partition("/")
                out[head] = out.get(head, False) or bool(sep)
        return out

    def listing(self, directory: str) -> tuple[dict[str, bool], bool]:
        """For ``listdir`` of the absolute ``directory``: its emulated entries and whether the
        real entries are shown too (those the board owns are filtered out by the caller).
        Raises ENOENT/ENOTDIR for what is not a directory here."""
        if directory in self.paths:
            raise oserror(errno.ENOTDIR, directory)
        if self.hides(directory):
            raise oserror(errno.ENOENT, directory)
        virtual = self.children(directory)
        if self.in_tree(directory):
            if not virtual:
                raise oserror(errno.ENOENT, directory)
            return virtual, False
        return virtual, True

    def hides(self, path: str) -> bool:
        """A real entry that, inside the userspace, is not there (the board lacks it)."""
        return self.owns(path) and path not in self.paths and not self.is_dir(path)

    def affects(self, directory: str) -> bool:
        """Listing ``directory`` differs from the real one."""
        return directory == "/dev" or self.owns(directory) or self.is_dir(directory)

    def open(self, path: str, flags: int) -> int:
        opener = self.paths.get(path)
        if opener is None:
            raise oserror(errno.ENOENT, path)
        file = opener(flags)
        file.path = path
        return self.adopt(file)

    def adopt(self, file: DevFile) -> int:
        """A new descriptor for ``file`` (an open file, or one an ioctl hands out, such as
        a GPIO line request's ``anon_inode`` descriptor)."""
        fd = ORIGINAL_OPEN(os.devnull, os.O_RDONLY)
        self.files[fd] = file
        return fd

    def get(self, fd: int) -> DevFile | None:
        return self.files.get(fd)

    def close(self, fd: int) -> None:
        file = self.files.pop(fd)
        try:
            file.close()
        finally:
            ORIGINAL_CLOSE(fd)

    def device_gone(self, reason: str) -> None:
        """The board's SoC was reset under the open descriptors (a brown-out, the RUN pin):
        on the board Linux boots again and every program with them dies; here each open
        emulated file fails from now on with ENODEV saying so, and a new ``open`` works."""
        for file in self.files.values():
            file.gone = reason

    def close_all(self) -> None:
        """Leaving: every emulated file is closed, but its descriptor number stays open (on
        ``/dev/null``) until its holder closes it. An object left open in the block
        (Adafruit_PureIO's or smbus2's ``SMBus``, a ``DevFileIO``) closes it later, from its
        ``__del__`` as often as not: that must close its own number, never a descriptor the
        process has opened since under the same number."""
        errors: list[BaseException] = []
        for fd in list(self.files):
            try:
                self.files.pop(fd).close()
            except Exception as exc:  # every file is closed even when one fails
                errors.append(exc)
        if errors:
            raise errors[0]


_fs: DevFs | None = None
_wait: Callable[[list[DevFile], float | None], None] | None = None
"""How a select waits on emulated files (the userspace's clock)."""


def set_devfs(fs: DevFs | None, wait: Callable[[list[DevFile], float | None], None] | None) -> None:
    global _fs, _wait
    _fs, _wait = fs, wait


def _path_of(path: Any) -> str | None:
    fs = _fs
    if fs is None or isinstance(path, int):
        return None
    try:
        text = os.fsdecode(os.fspath(path))
    except TypeError:
        return None
    return text if fs.owns(text) else None


def _file(fd: Any) -> DevFile | None:
    fs = _fs
    if fs is None or not isinstance(fd, int):
        return None
    return fs.files.get(fd)


def _usable(fd: Any) -> DevFile | None:
    """The emulated file of ``fd`` for a read, write or ioctl (None: a real descriptor);
    ENODEV if its device went away under it (`DevFs.device_gone`)."""
    file = _file(fd)
    if file is not None and file.gone is not None:
        raise OSError(
            errno.ENODEV,
            f"{os.strerror(errno.ENODEV)}: {file.path or 'this descriptor'}: {file.gone}; "
            "Linux booted again, so descriptors opened before are gone: open the device again",
        )
    return file


# -- the replacements --------------------------------------------------------------------
def os_open(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
    own = _path_of(path)
    if own is None or _fs is None:
        return ORIGINAL_OPEN(path, flags, mode, dir_fd=dir_fd)
    return _fs.open(own, flags)


def os_close(fd: int) -> None:
    if _file(fd) is None or _fs is None:
        return ORIGINAL_CLOSE(fd)
    _fs.close(fd)
    return None


def os_read(fd: int, n: int) -> bytes:
    file = _usable(fd)
    if file is None:
        return ORIGINAL_READ(fd, n)
    if n < 0:
        raise ValueError("negative count")
    return file.read(n)


def os_write(fd: int, data: Any) -> int:
    file = _usable(fd)
    if file is None:
        return ORIGINAL_WRITE(fd, data)
    return file.write(bytes(memoryview(data).cast("B")))


def fcntl_ioctl(fd: Any, request: int, arg: Any = 0, mutate_flag: bool = True) -> Any:
    number = fd if isinstance(fd, int) else fd.fileno() if hasattr(fd, "fileno") else fd
    file = _usable(number)
    if file is None:
        return ORIGINAL_IOCTL(fd, request, arg, mutate_flag)
    request &= 0xFFFFFFFF
    if isinstance(arg, int):
        return file.ioctl(request, arg)
    if isinstance(arg, str):
        arg = arg.encode()
    view = memoryview(arg).cast("B")
    if view.readonly or not mutate_flag:
        buffer = bytearray(view)
        file.ioctl(request, memoryview(buffer))
        return bytes(buffer)
    return file.ioctl(request, view)


def fcntl_fcntl(fd: Any, cmd: int, arg: Any = 0) -> Any:
    number = fd if isinstance(fd, int) else fd.fileno() if hasattr(fd, "fileno") else fd
    file = _file(number)
    if file is None:
        return ORIGINAL_FCNTL(fd, cmd, arg)
    if cmd == fcntl.F_GETFL:
        return file.flags
    if cmd == fcntl.F_SETFL:
        settable = os.O_NONBLOCK | os.O_APPEND
        file.flags = (file.flags & ~settable) | (int(arg) & settable)
        return 0
    if cmd in (fcntl.F_GETFD, fcntl.F_SETFD):
        return 0
    raise oserror(errno.EINVAL)


def _fileno(obj: Any) -> int:
    if isinstance(obj, int):
        return obj
    return int(obj.fileno())


def select_select(
    rlist: Any, wlist: Any, xlist: Any, timeout: float | None = None
) -> tuple[list[Any], list[Any], list[Any]]:
    rlist, wlist, xlist = list(rlist), list(wlist), list(xlist)
    emulated = [o for o in (*rlist, *wlist, *xlist) if _file(_fileno(o)) is not None]
    if not emulated:
        return ORIGINAL_SELECT(rlist, wlist, xlist, timeout)
    if timeout is not None and timeout < 0:
        raise ValueError("timeout must be non-negative")
    real_r = [o for o in rlist if _file(_fileno(o)) is None]
    real_w = [o for o in wlist if _file(_fileno(o)) is None]

    def poll() -> tuple[list[Any], list[Any], list[Any]]:
        readable = [o for o in rlist if (f := _file(_fileno(o))) is not None and f.readable_now()]
        writable = [o for o in wlist if _file(_fileno(o)) is not None]
        if real_r or real_w:
            rr, rw, _ = ORIGINAL_SELECT(real_r, real_w, [], 0)
            readable += rr
            writable += rw
        return readable, writable, []

    result = poll()
    if any(result) or timeout == 0 or _wait is None:
        return result
    files = [f for o in rlist if (f := _file(_fileno(o))) is not None]
    _wait(files, timeout)
    return poll()


class DevFileIO(io.RawIOBase):
    """``open()`` of an emulated path: a raw file over the emulated descriptor."""

    def __init__(self, fd: int, name: str, mode: str) -> None:
        super().__init__()
        self._fd = fd
        self.name = name
        self.mode = mode

    def fileno(self) -> int:
        return self._fd

    def readable(self) -> bool:
        return "r" in self.mode or "+" in self.mode

    def writable(self) -> bool:
        return any(c in self.mode for c in "wa+")

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = os_read(self._fd, len(view))
        view[: len(data)] = data
        return len(data)

    def write(self, data: Any) -> int:
        return os_write(self._fd, data)

    def close(self) -> None:
        if not self.closed:
            try:
                os_close(self._fd)
            finally:
                super().close()


def _flags_of(mode: str) -> int:
    if "+" in mode:
        return os.O_RDWR
    if "w" in mode or "a" in mode:
        return os.O_WRONLY
    return os.O_RDONLY


def builtin_open(file: Any, mode: str = "r", buffering: int = -1, *args: Any, **kwargs: Any) -> Any:
    own = _path_of(file) if not isinstance(file, int) else None
    if own is None or _fs is None:
        return ORIGINAL_BUILTIN_OPEN(file, mode, buffering, *args, **kwargs)
    fd = _fs.open(own, _flags_of(mode))
    raw = DevFileIO(fd, own, mode)
    if "b" in mode and buffering == 0:
        return raw
    buffered: Any
    if raw.readable() and raw.writable():
        buffered = io.BufferedRandom(raw)
    elif raw.writable():
        buffered = io.BufferedWriter(raw)
    else:
        buffered = io.BufferedReader(raw)
    if "b" in mode:
        return buffered
    encoding = kwargs.get("encoding") or (args[0] if args else None) or "utf-8"
    return io.TextIOWrapper(buffered, encoding=encoding)


def current() -> DevFs | None:
    """The device files of the userspace entered now (None outside one)."""
    return _fs


def path_of(path: Any) -> str | None:
    """The absolute path if it is one the entered userspace owns (see `DevFs.owns`)."""
    return _path_of(path)


def devfs_patches() -> Patches:
    """The descriptor-level calls (open, read, write, ioctl, fcntl, select); the path-level
    ones (stat, access, listing) are `devfs_paths.path_patches`."""
    patches = Patches()
    patches.add_many(
        os,
        [
            ("open", os_open),
            ("close", os_close),
            ("read", os_read),
            ("write", os_write),
        ],
    )
    patches.add_many(fcntl, [("ioctl", fcntl_ioctl), ("fcntl", fcntl_fcntl)])
    patches.add(select, "select", select_select)
    patches.add(builtins, "open", builtin_open)
    patches.add(io, "open", builtin_open)
    return patches
