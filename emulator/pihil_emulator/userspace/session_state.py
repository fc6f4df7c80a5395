"""Which userspace is active in this process: one at a time (`session.Userspace` sets it).

Kept below the session and the interfaces so that an interface that answers a call from the
user's code (a ``termios`` function, a blocking GPIO read) finds the active userspace without
importing the session that attaches it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .session import Userspace

_active: Userspace | None = None


class UserspaceError(RuntimeError):
    """A userspace used wrongly (nested, a second board's, outside its block)."""


def current() -> Userspace:
    """The active userspace; raises `UserspaceError` outside one."""
    if _active is None:
        raise UserspaceError(
            "no pihil userspace is active: use the `userspace` pytest fixture, or "
            "`with board.simulation.userspace():` around the code that opens the device"
        )
    return _active


def active() -> Userspace | None:
    return _active


def set_active(space: Userspace | None) -> None:
    """Make ``space`` the active userspace (None: no userspace is active)."""
    global _active
    _active = space
