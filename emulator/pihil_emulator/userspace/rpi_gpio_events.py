"""RPi.GPIO 0.7.1's edge detection (``event_gpio.c``) on the emulated board, in simulated time.

The C module exports the line through ``/sys/class/gpio``, writes its ``edge`` attribute and
``epoll_wait``s on its ``value`` file (``EPOLLIN | EPOLLET | EPOLLPRI``). The kernel side,
as gpiolib-sysfs and pinctrl-bcm2835 do it: writing ``edge`` requests the line's interrupt
on those edges, which sets GPREN/GPFEN (the synchronous detectors, soc-facts §3.5) for the
line; each interrupt is acknowledged in GPEDS and notifies the ``value`` file. Here each
epoll registration of a value file (`_Watch`) is an edge queue of the GPIO block
(``GpioBlock.events``), and waiting is `SimClock.block`, so a wait ends at the simulated
instant of the edge.

What the C relies on and is kept:

- an ``EPOLL_CTL_ADD`` reports at once (a sysfs file is always ``EPOLLIN``): the C ignores
  that first trigger (``initial_thread``, ``initial_edge``);
- ``EPOLLET``: notifications between two ``epoll_wait`` calls are one trigger;
- ``bouncetime``: a trigger less than ``bouncetime`` ms after the last accepted one
  (``lastcall``, from ``gettimeofday``: the board's clock) is dropped; in
  ``blocking_wait_for_edge`` a timeout inside that window does not end the wait either
  (the C loops on any ``epoll_wait`` return);
- one poll thread for every channel (started by the first ``add_event_detect``, ended by
  ``event_cleanup`` when no channel is left); callbacks run on it one after another, so a
  callback that sleeps delays the next (edges meanwhile coalesce into one trigger).
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .devfs import DevFile, oserror
from .rpi_gpio_chip import BOTH_EDGE, FALLING_EDGE, NO_EDGE, RISING_EDGE

EdgeCallback = Callable[[int], None]
SYSFS_GPIO = "/sys/class/gpio"


def _directory(_flags: int) -> DevFile:
    raise oserror(errno.EISDIR)


class _Watch:
    """One epoll registration of a line's ``value`` file: its triggers not yet harvested."""

    def __init__(self, events: EventGpio, gpio: int) -> None:
        self.events = events
        self.gpio = gpio
        with events.lock:
            self.queue = events.block.events(gpio)
        self.initial = True
        """The report every ``EPOLL_CTL_ADD`` gives at once."""
        self.edge_times: list[int] = []

    def pending(self) -> bool:
        """Would ``epoll_wait`` report this file now (a notification since the last harvest)."""
        with self.events.lock:
            edges = self.queue.drain()
            if edges:
                # the kernel's interrupt handler acknowledges the event (bcm2835_gpio_irq_ack)
                self.events.block.write(f"GPEDS{self.gpio // 32}", 1 << (self.gpio % 32))
                self.edge_times.extend(e.time_ns for e in edges)
        return self.initial or bool(self.edge_times)

    def first_ns(self) -> int:
        return -1 if self.initial else self.edge_times[0]

    def harvest(self) -> None:
        """``epoll_wait`` returned this file: everything so far is one trigger (EPOLLET)."""
        self.pending()
        self.initial = False
        self.edge_times.clear()

    def subscribe(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Wake a waiter at the simulated instant the next edge is queued."""
        with self.events.lock:
            event = self.queue.when_any()

        def fire(_event: Any) -> None:
            wake()

        callbacks = event.callbacks
        if callbacks is None:
            wake()
            return lambda: None
        callbacks.append(fire)

        def unsubscribe() -> None:
            if event.callbacks is not None and fire in event.callbacks:
                event.callbacks.remove(fire)

        return unsubscribe

    def wait(self, timeout_ms: int) -> int:
        """``epoll_wait(fd, ..., 1, timeout)`` on this file alone: 1 (a trigger) or 0."""
        clock = self.events.clock
        if not self.pending():
            deadline = None if timeout_ms < 0 else clock.now_ns + timeout_ms * 1_000_000
            clock.block(deadline, self.pending, self.subscribe)
            if not self.pending():
                return 0
        self.harvest()
        return 1

    def close(self) -> None:
        with self.events.lock:
            self.queue.close()


@dataclass(eq=False)
class Gpios:
    """``struct gpios``: one exported line with edge detection."""

    gpio: int
    edge: int = NO_EDGE
    initial_thread: bool = True
    initial_wait: bool = True
    thread_added: bool = False
    bouncetime: int = -666
    lastcall: int = 0
    watch: _Watch | None = field(default=None, repr=False)
    """Its registration with the poll thread's epoll set (``epfd_thread``)."""


class EventGpio:
    """The state of ``event_gpio.c`` for one userspace (the C keeps it in globals)."""

    def __init__(self, userspace: Any) -> None:
        self.userspace = userspace
        self.clock = userspace.clock
        self.lock = userspace.lock
        self.block = userspace.board.soc.gpio
        self.gpio_list: dict[int, Gpios] = {}
        self.callbacks: list[tuple[int, EdgeCallback]] = []
        self.event_occurred: set[int] = set()
        self.thread_running = False
        self.thread: threading.Thread | None = None
        self._generation = 0
        """Bumped when ``epfd_thread`` is closed: the poll thread of an older one exits."""
        self.exported: set[int] = set()

    # -- the kernel: /sys/class/gpio --------------------------------------------------------
    def _gpio_export(self, gpio: int) -> None:
        """``/sys/class/gpio/gpioN`` appears (a program may look for it, as RPi.GPIO's
        own tests do); its attribute files are not served."""
        self.exported.add(gpio)
        self.userspace.devfs.add(f"{SYSFS_GPIO}/gpio{gpio}", _directory)

    def _gpio_unexport(self, gpio: int) -> None:
        self.exported.discard(gpio)
        self.userspace.devfs.paths.pop(f"{SYSFS_GPIO}/gpio{gpio}", None)

    def _gpio_set_direction_in(self, gpio: int) -> None:
        # gpiolib direction_input -> bcm2835_gpio_direction_input: GPFSEL to input
        reg = f"GPFSEL{gpio // 10}"
        shift = 3 * (gpio % 10)
        with self.lock:
            value = self.block.read(reg)
            new = value & ~(7 << shift)
            if new != value:
                self.block.write(reg, new)

    def _gpio_set_edge(self, gpio: int, edge: int) -> None:
        """Writing ``edge``: the line's interrupt on those edges (pinctrl-bcm2835 GPREN/GPFEN)."""
        bank, bit = gpio // 32, 1 << (gpio % 32)
        rising = edge in (RISING_EDGE, BOTH_EDGE)
        falling = edge in (FALLING_EDGE, BOTH_EDGE)
        with self.lock:
            for reg, on in ((f"GPREN{bank}", rising), (f"GPFEN{bank}", falling)):
                value = self.block.read(reg)
                new = value | bit if on else value & ~bit
                if new != value:
                    self.block.write(reg, new)
            self.block.write(f"GPEDS{bank}", bit)

    def _timenow_us(self) -> int:
        """``gettimeofday`` in µs, on the board's clock."""
        return int(self.clock.epoch_s * 1_000_000) + int(self.clock.elapsed_ns()) // 1000

    # -- gpio list -------------------------------------------------------------------------
    def new_gpio(self, gpio: int) -> Gpios:
        self._gpio_export(gpio)
        self._gpio_set_direction_in(gpio)
        g = Gpios(gpio)
        self.gpio_list[gpio] = g
        return g

    def gpio_event_added(self, gpio: int) -> int:
        g = self.gpio_list.get(gpio)
        return NO_EDGE if g is None else g.edge

    # -- callbacks -------------------------------------------------------------------------
    def add_edge_callback(self, gpio: int, func: EdgeCallback) -> None:
        self.callbacks.append((gpio, func))

    def callback_exists(self, gpio: int) -> bool:
        return any(g == gpio for g, _ in self.callbacks)

    def run_callbacks(self, gpio: int) -> None:
        for g, func in list(self.callbacks):
            if g == gpio:
                func(g)

    def remove_callbacks(self, gpio: int) -> None:
        self.callbacks = [(g, f) for g, f in self.callbacks if g != gpio]

    # -- the poll thread --------------------------------------------------------------------
    def _thread_watches(self) -> list[_Watch]:
        return [g.watch for g in self.gpio_list.values() if g.watch is not None]

    def _epoll_wait_thread(self, generation: int) -> Gpios | None:
        """``epoll_wait(epfd_thread, &events, 1, -1)``: the line whose file reports first,
        or None once ``epfd_thread`` is closed (or the userspace ends)."""

        def stopped() -> bool:
            return self._generation != generation or self.clock.closed

        def ready() -> bool:
            return stopped() or any(w.pending() for w in self._thread_watches())

        def subscribe(wake: Callable[[], None]) -> Callable[[], None]:
            undo = [w.subscribe(wake) for w in self._thread_watches()]

            def unsubscribe() -> None:
                for u in undo:
                    u()

            return unsubscribe

        while True:
            if not ready():
                self.clock.block(None, ready, subscribe)
            if stopped():
                return None
            due = [w for w in self._thread_watches() if w.pending()]
            if due:
                watch = min(due, key=_Watch.first_ns)
                watch.harvest()
                return self.gpio_list.get(watch.gpio)

    def _bounce_passed(self, g: Gpios) -> bool:
        """py_gpio.c's bouncetime check of an edge on ``g`` (the poll thread's and
        ``blocking_wait_for_edge``'s): True, and ``lastcall`` set to now, when the edge
        counts; False when it came within ``bouncetime`` ms of the last one."""
        timenow = self._timenow_us()
        if (
            g.bouncetime == -666
            or timenow - g.lastcall > g.bouncetime * 1000
            or g.lastcall == 0
            or g.lastcall > timenow
        ):
            g.lastcall = timenow
            return True
        return False

    def _poll_thread(self, generation: int) -> None:
        while self.thread_running and self._generation == generation:
            g = self._epoll_wait_thread(generation)
            if g is None:
                break
            if g.initial_thread:  # "ignore first epoll trigger"
                g.initial_thread = False
                continue
            if self._bounce_passed(g):
                self.event_occurred.add(g.gpio)
                self.run_callbacks(g.gpio)
        if self._generation == generation:
            self.thread_running = False

    # -- the C API ---------------------------------------------------------------------------
    def remove_edge_detect(self, gpio: int) -> None:
        g = self.gpio_list.get(gpio)
        if g is None:
            return
        if g.watch is not None:  # epoll_ctl(epfd_thread, EPOLL_CTL_DEL, ...)
            g.watch.close()
            g.watch = None
        self.remove_callbacks(gpio)
        self._gpio_set_edge(gpio, NO_EDGE)
        g.edge = NO_EDGE
        self._gpio_unexport(gpio)
        self.event_occurred.discard(gpio)
        del self.gpio_list[gpio]

    def event_detected(self, gpio: int) -> bool:
        if gpio in self.event_occurred:
            self.event_occurred.discard(gpio)
            return True
        return False

    def event_cleanup(self, gpio: int = -666) -> None:
        """Every channel (``-666``) or one: edge detection off, unexported."""
        for g in list(self.gpio_list.values()):
            if gpio == -666 or g.gpio == gpio:
                self.remove_edge_detect(g.gpio)
        if not self.gpio_list:  # close(epfd_thread): the poll thread's epoll_wait fails
            self._generation += 1
            self.thread_running = False

    def add_edge_detect(self, gpio: int, edge: int, bouncetime: int) -> int:
        """0 success, 1 edge detection already added, 2 other error."""
        added = self.gpio_event_added(gpio)
        if added == NO_EDGE:
            g = self.new_gpio(gpio)
            self._gpio_set_edge(gpio, edge)
            g.edge = edge
            g.bouncetime = bouncetime
        elif added == edge:
            g = self.gpio_list[gpio]
            if (bouncetime != -666 and g.bouncetime != bouncetime) or g.thread_added:
                return 1
        else:
            return 1
        g.watch = _Watch(self, gpio)  # epoll_ctl(epfd_thread, EPOLL_CTL_ADD, ...)
        g.thread_added = True
        if not self.thread_running:
            self.thread_running = True
            generation = self._generation
            self.thread = threading.Thread(
                target=self._poll_thread, args=(generation,), name="RPi.GPIO poll_thread"
            )
            self.thread.daemon = True
            self.thread.start()
        return 0

    def blocking_wait_for_edge(self, gpio: int, edge: int, bouncetime: int, timeout: int) -> int:
        """1 edge detected, 0 timeout, -1 edge detection already added, -2 other error."""
        if self.callback_exists(gpio):
            return -1
        added = self.gpio_event_added(gpio)
        if added == edge:
            g = self.gpio_list[gpio]
            if g.bouncetime != -666 and g.bouncetime != bouncetime:
                return -1
        elif added == NO_EDGE:
            g = self.new_gpio(gpio)
            self._gpio_set_edge(gpio, edge)
            g.edge = edge
            g.bouncetime = bouncetime
        else:  # an event for a different edge
            g = self.gpio_list[gpio]
            self._gpio_set_edge(gpio, edge)
            g.edge = edge
            g.bouncetime = bouncetime
            g.initial_wait = True
        watch = _Watch(self, gpio)  # epoll_ctl(epfd_blocking, EPOLL_CTL_ADD, ...)
        try:
            finished = False
            initial_edge = True
            n = 0
            while not finished:
                n = watch.wait(timeout)
                if initial_edge:  # "first time triggers with current state, so ignore"
                    initial_edge = False
                elif self._bounce_passed(g):
                    finished = True
                if self.clock.closed:
                    return 0
            return 0 if n == 0 else 1
        finally:
            watch.close()

    def shutdown(self) -> None:
        """The process ends (``Py_AtExit(event_cleanup_all)``): every channel cleaned up, the
        poll thread let out of its wait and joined in simulated time."""
        self.event_cleanup()
        self._generation += 1
        self.thread_running = False
        thread, self.thread = self.thread, None
        if thread is not None and thread.is_alive() and self.clock.registered():
            thread.join(1.0)
