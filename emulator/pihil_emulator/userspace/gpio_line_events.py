"""Edge events of requested GPIO lines (drivers/gpio/gpiolib-cdev.c): the backend's edge
detection per line (`EdgeSource`), the subscription that wakes a blocking ``read()``/``poll``
(`edge_subscription`), and the event FIFO file that v2 line requests and v1 line events share
(`EventQueueFile`).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .devfs import DevFile, oserror
from .gpio_chip import Desc, GpioChip, wait_readable
from .i2c_dev import I2cDevFile

if TYPE_CHECKING:
    from ..world.edges import EdgeQueue


_in = I2cDevFile._in


_out = I2cDevFile._out


class EdgeSource:
    """One line's edge detection in the backend, and a queue on the GPIO block that tells
    a waiter when the line had an edge (the interrupt)."""

    def __init__(self, chip: GpioChip, desc: Desc) -> None:
        self.chip = chip
        self.desc = desc
        self.queue: EdgeQueue | None = None
        self.debounce_ns = 0
        self.last_raw_ns: int | None = None

    @property
    def active(self) -> bool:
        return self.queue is not None

    def configure(self, rising: bool, falling: bool, debounce_us: int) -> None:
        """Physical edges to detect (both, with debounce: the debouncer follows the level)."""
        self.stop()
        edge = self.chip.enums.Edge
        if debounce_us or (rising and falling):
            kind = edge.BOTH
        elif rising or falling:
            kind = edge.RISING if rising else edge.FALLING
        else:
            return
        offset = self.desc.offset
        self.chip.call(self.chip.kernel.gpio_set_edge_detection, offset, kind, debounce_us * 1000)
        self.debounce_ns = debounce_us * 1000
        self.queue = self.chip.us.board.soc.gpio.events(offset)

    def stop(self) -> None:
        if self.queue is None:
            return
        self.queue.close()
        self.queue = None
        self.debounce_ns = 0
        self.last_raw_ns = None
        edge = self.chip.enums.Edge
        self.chip.call(self.chip.kernel.gpio_set_edge_detection, self.desc.offset, edge.NONE, 0)

    def take(self) -> list[tuple[int, bool]]:
        """The backend's events since the last look: (simulated ns, physical level)."""
        if self.queue is None:
            return []
        raw = self.queue.drain()
        if raw:
            self.last_raw_ns = max(e.time_ns for e in raw)
        events = self.chip.call(self.chip.kernel.gpio_wait_edges, self.desc.offset, 0)
        return [(int(e.timestamp_ns), e.kind.value == "rising") for e in events]


def edge_subscription(
    file: DevFile, sources: list[EdgeSource]
) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """``subscribe(wake)`` for a file fed by ``sources``: wake the waiter when the file
    becomes readable (an edge detected, a debounce period over), never before."""

    def subscribe(wake: Callable[[], None]) -> Callable[[], None]:
        live = [True]

        def ready() -> bool:
            if live[0] and file.readable_now():
                live[0] = False
                wake()
                return True
            return False

        def alarm(source: EdgeSource) -> None:
            if not source.debounce_ns or source.last_raw_ns is None:
                return
            world = source.chip.us.world
            due = source.last_raw_ns + source.debounce_ns
            if due >= world.now_ns:
                world.timeout(due - world.now_ns).callbacks.append(lambda _e: ready())

        def arm(source: EdgeSource) -> None:
            queue = source.queue
            if queue is None or not live[0]:
                return
            event = queue.when_any()

            def on_edge(_event: object) -> None:
                if not live[0] or source.queue is not queue:
                    return
                if not ready():
                    alarm(source)
                    arm(source)

            event.callbacks.append(on_edge)

        for source in sources:
            alarm(source)
            arm(source)

        def unsubscribe() -> None:
            live[0] = False

        return unsubscribe

    return subscribe


class LineFile(DevFile):
    """A file of requested lines that a chip's ioctl hands out (a v2 line request, a v1 line
    handle or line event): closing it gives its lines back to the chip (linereq_release,
    linehandle_release, lineevent_release)."""

    chip: Any

    def release(self) -> None:
        """Give the file's lines back to the chip."""
        raise NotImplementedError

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        with self.chip.us.lock:
            self.release()


class EventQueueFile(LineFile):
    """A file whose reads hand out whole edge-event records (a v2 line request, a v1 line
    event): readable while events are queued; ``read`` blocks in simulated time until one
    arrives, or EAGAIN with O_NONBLOCK (linereq_read / lineevent_read)."""

    event_size = 0
    """Bytes per event record (struct gpio_v2_line_event / gpioevent_data)."""
    events: Any
    _subscribe: Callable[[Callable[[], None]], Callable[[], None]]

    def collect(self) -> None:
        """Move detected edges into ``events``."""
        raise NotImplementedError

    def readable_now(self) -> bool:
        with self.chip.us.lock:
            if self.closed:
                return False
            self.collect()
            return bool(self.events)

    def subscribe(self, wake: Callable[[], None]) -> Callable[[], None]:
        return self._subscribe(wake)

    def read(self, n: int) -> bytes:
        size = self.event_size
        if n < size:
            raise oserror(errno.EINVAL)
        with self.chip.us.lock:
            if not self.readable_now():
                if self.flags & os.O_NONBLOCK:
                    raise oserror(errno.EAGAIN)
                wait_readable(self)
            out = bytearray()
            while self.events and len(out) + size <= n:
                out += self.events.popleft()
            return bytes(out)
