"""The path-level calls inside a userspace: ``os.stat``/``lstat``/``access`` and directory
listings, over the device files of `devfs`.

Directories (``os.listdir``, ``os.scandir``, and what is built on them: ``glob``,
``pathlib``'s ``iterdir``/``glob``, ``os.walk``; ``os.stat``/``os.path.exists``/``isdir``)
show what a program on the board would find, without taking from the test process what it
needs of the machine's own ``/dev``:

- ``/dev`` lists the machine's real entries (``null``, ``zero``, ``urandom``, ``tty``,
  ``ptmx``, ``pts/``, ``shm/``, ``fd``...: a test still opens ``/dev/null``, and
  `pty_bridge` uses the real ``/dev/ptmx`` and ``/dev/pts``) *except* those of the
  board-device kinds (`BOARD_PATHS`: the machine's ``ttyS*``, ``i2c-*``... are not the
  board's), plus the board's device files;
- a device tree (`DEVICE_TREES`: ``/proc/device-tree``, ``/sys/firmware/devicetree/base``)
  is wholly the board's: only its emulated files, never the machine's own tree;
- any other directory holding emulated files (``/proc``, ``/sys/firmware``) lists its real
  entries plus the emulated ones; one that exists only through emulated files (such as
  ``/sys/firmware/devicetree`` off a Pi) is a directory to ``stat`` and ``listdir``.

Listing by descriptor (``os.listdir(fd)``, ``os.fwalk``) and opening a directory with
``os.open`` see only the real file system.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import stat
from collections.abc import Callable
from typing import Any

from .devfs import current as current_devfs
from .devfs import oserror, path_of
from .patches import Patches

ORIGINAL_STAT = os.stat
ORIGINAL_LSTAT = os.lstat
ORIGINAL_ACCESS = os.access
ORIGINAL_LISTDIR = os.listdir
ORIGINAL_SCANDIR = os.scandir

_DIR_STAT = os.stat_result((stat.S_IFDIR | 0o755, 0, 0, 2, 0, 0, 0, 0, 0, 0))


def _stat_of(path: str) -> os.stat_result:
    fs = current_devfs()
    if fs is not None and path not in fs.paths and fs.is_dir(path):
        return _DIR_STAT
    if fs is None or path not in fs.paths:
        raise oserror(errno.ENOENT, path)
    kind = stat.S_IFCHR if path.startswith("/dev/") else stat.S_IFREG
    return os.stat_result((kind | 0o660, 0, 0, 1, 0, 0, 0, 0, 0, 0))


def _emulated_dir(path: Any) -> str | None:
    """The absolute path, if ``path`` is a directory only because it holds emulated files."""
    fs = current_devfs()
    if fs is None or isinstance(path, int):
        return None
    try:
        text = os.path.abspath(os.fsdecode(os.fspath(path)))
    except TypeError:
        return None
    return text if fs.is_dir(text) else None


def os_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
    own = path_of(path)
    if own is not None:
        return _stat_of(own)
    try:
        return ORIGINAL_STAT(path, *args, **kwargs)
    except FileNotFoundError:
        if args or kwargs.get("dir_fd") is not None or _emulated_dir(path) is None:
            raise
        return _DIR_STAT


def os_lstat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
    own = path_of(path)
    if own is not None:
        return _stat_of(own)
    try:
        return ORIGINAL_LSTAT(path, *args, **kwargs)
    except FileNotFoundError:
        if args or kwargs.get("dir_fd") is not None or _emulated_dir(path) is None:
            raise
        return _DIR_STAT


def os_access(path: Any, mode: int, *args: Any, **kwargs: Any) -> bool:
    fs = current_devfs()
    own = path_of(path)
    if own is not None:
        return fs is not None and (own in fs.paths or fs.is_dir(own))
    if ORIGINAL_ACCESS(path, mode, *args, **kwargs):
        return True
    return not args and kwargs.get("dir_fd") is None and _emulated_dir(path) is not None


# -- directories -------------------------------------------------------------------------
class VirtualDirEntry:
    """An ``os.DirEntry`` for an emulated file or directory (the real type cannot be made)."""

    def __init__(self, directory: str | bytes, name: str, is_dir: bool, as_bytes: bool) -> None:
        self._is_dir = is_dir
        self.name: str | bytes = os.fsencode(name) if as_bytes else name
        self.path: str | bytes = os.path.join(directory, self.name)  # type: ignore[arg-type]

    def __fspath__(self) -> str | bytes:
        return self.path

    def __repr__(self) -> str:
        return f"<DirEntry {self.name!r}>"

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        return self._is_dir

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        return not self._is_dir

    def is_symlink(self) -> bool:
        return False

    def is_junction(self) -> bool:
        return False

    def inode(self) -> int:
        return 0

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        return os_stat(self.path)


class _Scandir:
    """What ``os.scandir`` returns: an iterator that is its own context manager."""

    def __init__(self, entries: list[Any]) -> None:
        self._entries = iter(entries)

    def __iter__(self) -> _Scandir:
        return self

    def __next__(self) -> Any:
        return next(self._entries)

    def __enter__(self) -> _Scandir:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._entries = iter(())


def _directory(path: Any) -> tuple[str, bool] | None:
    """(absolute directory, given as bytes) when the userspace changes its listing."""
    fs = current_devfs()
    if fs is None or isinstance(path, int):
        return None
    try:
        raw = os.fspath(path)
    except TypeError:
        return None
    directory = os.path.abspath(os.fsdecode(raw))
    return (directory, isinstance(raw, bytes)) if fs.affects(directory) else None


def _real_entries(lister: Callable[[Any], Any], path: Any, emulated: bool) -> list[Any]:
    """The real listing, or none when the directory exists only through emulated files."""
    try:
        with contextlib.ExitStack() as stack:
            listed = lister(path)
            if hasattr(listed, "close"):
                stack.callback(listed.close)
            return list(listed)
    except (FileNotFoundError, NotADirectoryError):
        if not emulated:
            raise
        return []


def os_listdir(path: Any = ".") -> list[Any]:
    fs = current_devfs()
    where = _directory(path)
    if where is None or fs is None:
        return ORIGINAL_LISTDIR(path)
    directory, as_bytes = where
    virtual, real = fs.listing(directory)
    names = _real_entries(ORIGINAL_LISTDIR, path, bool(virtual)) if real else []
    kept = [
        n
        for n in names
        if os.fsdecode(n) not in virtual and not fs.hides(os.path.join(directory, os.fsdecode(n)))
    ]
    return kept + [os.fsencode(n) if as_bytes else n for n in sorted(virtual)]


def os_scandir(path: Any = ".") -> Any:
    fs = current_devfs()
    where = _directory(path)
    if where is None or fs is None:
        return ORIGINAL_SCANDIR(path)
    directory, as_bytes = where
    virtual, real = fs.listing(directory)
    entries = _real_entries(ORIGINAL_SCANDIR, path, bool(virtual)) if real else []
    kept = [
        e
        for e in entries
        if os.fsdecode(e.name) not in virtual
        and not fs.hides(os.path.join(directory, os.fsdecode(e.name)))
    ]
    base = os.fspath(path)
    made = [VirtualDirEntry(base, n, virtual[n], as_bytes) for n in sorted(virtual)]
    return _Scandir(kept + made)


def path_patches() -> Patches:
    patches = Patches()
    patches.add_many(
        os,
        [
            ("stat", os_stat),
            ("lstat", os_lstat),
            ("access", os_access),
            ("listdir", os_listdir),
            ("scandir", os_scandir),
        ],
    )
    # Python 3.13's glob and pathlib globbing bind os.scandir/os.lstat into this class when
    # it is created (``_StringGlobber.scandir = staticmethod(os.scandir)``)
    globber = getattr(glob, "_StringGlobber", None)
    if globber is not None:
        for name, replacement in (("scandir", os_scandir), ("lstat", os_lstat)):
            if name in vars(globber):
                patches.add(globber, name, staticmethod(replacement))
    return patches
