"""``select.poll`` and ``selectors.DefaultSelector`` on emulated files, in simulated time.

``select.select`` is patched in `devfs`; this module adds the other two ways programs wait
for a descriptor: ``poll`` objects (gpiod users poll a request's fd) and the selectors
module (asyncio's loop, pyserial-asyncio). A poll set that holds an emulated descriptor
waits on the board's clock; real descriptors in the same set are looked at along with
them, and a set of real descriptors only is the original ``poll``.
"""

from __future__ import annotations

import math
import select
import selectors
from typing import TYPE_CHECKING, Any

from .devfs import DevFile, _file, _fileno
from .patches import Patches

if TYPE_CHECKING:
    from .session import Userspace

ORIGINAL_POLL = select.poll
ORIGINAL_DEFAULT_SELECTOR = selectors.DefaultSelector
READ_EVENTS = select.POLLIN | select.POLLPRI | select.POLLRDNORM


class Poll:
    """A ``select.poll()`` object that knows the board's files."""

    def __init__(self) -> None:
        self._masks: dict[int, int] = {}
        self._board_fds: set[int] = set()
        """Registered descriptors that were emulated files (closed since: POLLNVAL)."""
        self._real = ORIGINAL_POLL()

    def register(
        self, fd: Any, eventmask: int = select.POLLIN | select.POLLPRI | select.POLLOUT
    ) -> None:
        number = _fileno(fd)
        self._masks[number] = eventmask
        if _file(number) is None:
            self._real.register(number, eventmask)
        else:
            self._board_fds.add(number)

    def modify(self, fd: Any, eventmask: int) -> None:
        number = _fileno(fd)
        if number not in self._masks:
            raise FileNotFoundError(2, "No such file or directory")
        self.register(number, eventmask)

    def unregister(self, fd: Any) -> None:
        number = _fileno(fd)
        del self._masks[number]  # KeyError when not registered, as poll's
        if number in self._board_fds:
            self._board_fds.discard(number)
        else:
            self._real.unregister(number)

    def _emulated(self) -> dict[int, DevFile | None]:
        return {fd: _file(fd) for fd in self._board_fds}

    def _ready(self, emulated: dict[int, DevFile | None]) -> list[tuple[int, int]]:
        events: list[tuple[int, int]] = []
        for fd, file in emulated.items():
            mask = self._masks[fd]
            revents = 0
            if file is None or file.closed:
                revents = select.POLLNVAL
            else:
                if mask & READ_EVENTS and file.readable_now():
                    revents |= mask & READ_EVENTS
                if mask & select.POLLOUT:
                    revents |= select.POLLOUT
            if revents:
                events.append((fd, revents))
        if len(emulated) < len(self._masks):
            events += self._real.poll(0)
        return events

    def poll(self, timeout: float | None = None) -> list[tuple[int, int]]:
        emulated = self._emulated()
        if not emulated:
            return list(self._real.poll(timeout))
        timeout_s = None if timeout is None or timeout < 0 else math.ceil(timeout) / 1000
        events = self._ready(emulated)
        if events or timeout_s == 0:
            return events
        from .session import active

        space = active()
        if space is not None:
            space.wait_files([f for f in emulated.values() if f is not None], timeout_s)
        return self._ready(emulated)


class PollSelector(selectors.PollSelector):
    """``selectors.DefaultSelector`` inside a userspace: a poll selector on `Poll`."""

    _selector_cls = Poll


def _patches() -> Patches:
    patches = Patches()
    patches.add(select, "poll", Poll)
    patches.add(selectors, "DefaultSelector", PollSelector)
    return patches


def attach(userspace: Userspace) -> None:
    applied: list[Patches] = []

    def enter(_: Userspace) -> None:
        patches = _patches()
        patches.apply()
        applied.append(patches)

    def leave(_: Userspace) -> None:
        while applied:
            applied.pop().restore()

    userspace.on_enter(enter, leave)
