"""The serial-port interface of a userspace: the ttys, the ``termios`` functions, the ptys.

``attach`` serves each UART's tty (`tty_dev`) and its ``serialN`` alias, and installs, while
the userspace is entered, the ``termios`` functions (`termios_patches`) and the closing of
the ptys opened inside it (`pty_bridge`). One of the `session.INTERFACES`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import pty_bridge, termios_patches
from .tty_dev import TtyOpener, tty_paths
from .tty_port import TtyPort

if TYPE_CHECKING:
    from .session import Userspace


def attach(userspace: Userspace) -> None:
    """Serve each UART's tty and its serialN alias; install the ``termios`` functions and
    pyserial's ``pihil://`` handler while the userspace is entered."""
    ports = {u.name: TtyPort(userspace, u) for u in userspace.info.uarts}
    for path, name in tty_paths(userspace).items():
        userspace.add_device(path, TtyOpener(ports[name]))
    userspace.on_enter(termios_patches.enter, termios_patches.leave)
    userspace.on_enter(_nothing, pty_bridge.close_all)  # ptys opened inside close on leaving


def _nothing(_userspace: Userspace) -> None:
    """Entering opens no pty (``Userspace.pty`` does)."""
