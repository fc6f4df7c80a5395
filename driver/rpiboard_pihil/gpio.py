"""GPIO lines: the ``gpios`` repeated capability (`GpioCollection` of `Gpio`).

A `Gpio` is one SoC line (``GPIO17``): direction, level, the SoC pull, drive
mode, edge detection with debounce, and the GPFSEL function. Reads return the
pin's real level (GPLEV), not the output latch (soc-facts §3.4).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from .backends.base import EdgeEvent
from .collection import RepeatedCapabilityCollection
from .enums import Direction, Drive, Edge, Function, GpioLine, HeaderPin, Pull
from .errors import ConfigurationError
from .validate import boolean, member, seconds_to_ns

if TYPE_CHECKING:
    from .backends.base import Backend
    from .session import Session

MAX_DEBOUNCE_S = 4294.967295
"""The kernel's debounce_period_us is a u32 of microseconds."""


def _no_translation(exc: BaseException) -> None:
    """`LineAccess.failed` of a backend whose accessors raise driver errors themselves."""


class LineAccess:
    """One line's level accessors, handed to `Gpio` by its backend (``gpio_access(line)``).

    ``write(value)`` is `Backend.gpio_write` and ``read()`` `Backend.gpio_read` for this line,
    with whatever the backend can resolve once (the bank register, the bit, the line's
    direction and claim) resolved; the backend swaps them whenever what they resolved
    changes, so they are always exact. ``failed(exc)``, called with what either raised,
    raises the driver's exception for it (the backend's own errors, not yet translated, on
    the direct path) or returns to let ``exc`` through as it is.
    """

    __slots__ = ("failed", "read", "write")

    def __init__(
        self,
        write: Callable[[bool], None],
        read: Callable[[], bool],
        failed: Callable[[BaseException], None] = _no_translation,
    ) -> None:
        self.write = write
        self.read = read
        self.failed = failed


def line_access(backend: Backend, line: int) -> LineAccess:
    """The backend's `LineAccess` for ``line``; one calling ``gpio_write``/``gpio_read`` for a
    backend without its own (``gpio_access`` is optional: the `Backend` protocol has none)."""
    own = getattr(type(backend), "gpio_access", None)
    if own is not None:
        access: LineAccess = own(backend, line)
        return access
    return LineAccess(
        functools.partial(backend.gpio_write, line), functools.partial(backend.gpio_read, line)
    )


class Gpio:
    """One GPIO line of the SoC. Get it from ``board.gpios[...]``."""

    __slots__ = ("_access", "_backend", "_line", "_name", "_session")

    def __init__(self, session: Session, line: int) -> None:
        self._session = session
        self._backend = session.backend
        self._line = line
        self._name = f"GPIO{line}"
        self._access = line_access(session.backend, line)

    @property
    def name(self) -> str:
        """The physical name, ``GPIO<n>`` (Broadcom numbering)."""
        return self._name

    @property
    def number(self) -> int:
        """The Broadcom line number."""
        return self._line

    # -- function and direction ------------------------------------------------------------
    @property
    def function(self) -> Function:
        """GPFSEL function: INPUT, OUTPUT or ALT0..ALT5 (soc-facts §3.3).

        Setting ALTn routes the pin to a peripheral; the Linux backend cannot do
        that from user space and raises `NotSupportedError` naming the config.txt line.
        """
        return self._session.call(self._backend.gpio_get_function, self._line)

    @function.setter
    def function(self, function: Function) -> None:
        fn = member(function, Function, f"{self._name}.function")
        self._session.call(self._set_function, fn)

    def _set_function(self, fn: Function) -> None:
        if fn is Function.OUTPUT:
            self._check_no_edges("Function.OUTPUT")
        self._backend.gpio_set_function(self._line, fn)

    @property
    def direction(self) -> Direction:
        """INPUT or OUTPUT. A line switched to OUTPUT drives low; use `set_output` to choose."""
        return self._session.call(self._backend.gpio_get_direction, self._line)

    @direction.setter
    def direction(self, direction: Direction) -> None:
        d = member(direction, Direction, f"{self._name}.direction")
        self._session.call(self._set_direction, d, False)

    def set_output(self, value: bool) -> None:
        """Make the line an output driving ``value`` from the first instant (no glitch)."""
        v = boolean(value, f"{self._name}.set_output(value)")
        self._session.call(self._set_direction, Direction.OUTPUT, v)

    def _set_direction(self, d: Direction, value: bool) -> None:
        if d is Direction.OUTPUT:
            self._check_no_edges("Direction.OUTPUT")
        self._backend.gpio_set_direction(self._line, d, value)

    def _check_no_edges(self, what: str) -> None:
        edge, _ = self._backend.gpio_get_edge_detection(self._line)
        if edge is not Edge.NONE:
            raise ConfigurationError(
                f"{self._name} has edge detection {edge.name}; edge detection needs an input, "
                f"so set edge_detection = Edge.NONE before {what}"
            )

    # -- level -----------------------------------------------------------------------------
    @property
    def value(self) -> bool:
        """The pin's level as the SoC reads it (GPLEV): True is high."""
        # the hot path of every GPIO test: Session.call inlined (same lock, same checks), the
        # lock taken by acquire/release, which costs half of a with statement, and the level
        # read by the line's accessor (one call: docs/performance.md "GPIO round trip")
        session = self._session
        lock = session.lock
        lock.acquire()
        try:
            if session.closed:
                session.refuse_closed()
            try:
                level = self._access.read()
            except Exception as exc:
                self._access.failed(exc)
                raise
            if session.query_instrument_status:
                session.check_status()
        finally:
            lock.release()
        return level

    @value.setter
    def value(self, value: bool) -> None:
        if value is not True and value is not False:
            boolean(value, f"{self._name}.value")
        session = self._session  # Session.call inlined, as in the getter
        lock = session.lock
        lock.acquire()
        try:
            if session.closed:
                session.refuse_closed()
            try:
                self._access.write(value)
            except Exception as exc:
                self._access.failed(exc)
                raise
            if session.query_instrument_status:
                session.check_status()
        finally:
            lock.release()

    # -- electrical ------------------------------------------------------------------------
    @property
    def pull(self) -> Pull:
        """The SoC's pull resistor: NONE, UP or DOWN (soc-facts §3.6).

        On BCM2835 the hardware cannot report its pull state; the value is the last
        one set through this driver, or the reset default (soc-facts §3.7).
        """
        return self._session.call(self._backend.gpio_get_pull, self._line)

    @pull.setter
    def pull(self, pull: Pull) -> None:
        p = member(pull, Pull, f"{self._name}.pull")
        self._session.call(self._backend.gpio_set_pull, self._line, p)

    @property
    def drive(self) -> Drive:
        """PUSH_PULL, or OPEN_DRAIN: writing True releases the line, False pulls it low."""
        return self._session.call(self._backend.gpio_get_drive, self._line)

    @drive.setter
    def drive(self, drive: Drive) -> None:
        d = member(drive, Drive, f"{self._name}.drive")
        self._session.call(self._backend.gpio_set_drive, self._line, d)

    # -- edges -----------------------------------------------------------------------------
    @property
    def edge_detection(self) -> Edge:
        """Which edges are queued for `wait_edges`: NONE, RISING, FALLING or BOTH (inputs only)."""
        return self._session.call(self._backend.gpio_get_edge_detection, self._line)[0]

    @edge_detection.setter
    def edge_detection(self, edge: Edge) -> None:
        e = member(edge, Edge, f"{self._name}.edge_detection")
        self._session.call(self._set_edges, e, None)

    @property
    def debounce_s(self) -> float:
        """Debounce period in seconds (0 = off): an edge counts once the level held that long."""
        ns = self._session.call(self._backend.gpio_get_edge_detection, self._line)[1]
        return ns / 1e9

    @debounce_s.setter
    def debounce_s(self, seconds: float) -> None:
        ns = seconds_to_ns(seconds, f"{self._name}.debounce_s", MAX_DEBOUNCE_S)
        if ns % 1000 or (ns == 0 and seconds != 0):
            raise ConfigurationError(
                f"{self._name}.debounce_s: the kernel's debounce period is in whole "
                f"microseconds (0 turns it off); got {seconds!r} s"
            )
        self._session.call(self._set_edges, None, ns)

    def _set_edges(self, edge: Edge | None, debounce_ns: int | None) -> None:
        old_edge, old_debounce = self._backend.gpio_get_edge_detection(self._line)
        new_edge = old_edge if edge is None else edge
        if (
            new_edge is not Edge.NONE
            and self._backend.gpio_get_direction(self._line) is not Direction.INPUT
        ):
            raise ConfigurationError(
                f"{self._name} is an output; edge detection needs direction = Direction.INPUT"
            )
        self._backend.gpio_set_edge_detection(
            self._line, new_edge, old_debounce if debounce_ns is None else debounce_ns
        )

    def wait_edges(self, timeout_s: float) -> list[EdgeEvent]:
        """Wait up to ``timeout_s`` for an edge; return every queued event (maybe none).

        In simulation the timeout is simulated time. Events are timestamped
        (`EdgeEvent.timestamp_ns`, the clock of ``board.now_ns``).
        """
        ns = seconds_to_ns(timeout_s, f"{self._name}.wait_edges(timeout_s)")
        return self._session.call(self._wait, ns)

    def read_edges(self) -> list[EdgeEvent]:
        """The events queued now, without waiting."""
        return self._session.call(self._wait, 0)

    def _wait(self, timeout_ns: int) -> list[EdgeEvent]:
        if self._backend.gpio_get_edge_detection(self._line)[0] is Edge.NONE:
            raise ConfigurationError(
                f"{self._name} has no edge detection; set edge_detection "
                "(Edge.RISING, Edge.FALLING or Edge.BOTH) before waiting for edges"
            )
        return self._backend.gpio_wait_edges(self._line, timeout_ns)

    def __repr__(self) -> str:
        return f"Gpio({self._name})"


class GpioCollection(RepeatedCapabilityCollection[Gpio]):
    """``board.gpios``: the GPIO lines of the board, by ``GPIO<n>``, number, pin name or enum."""

    _kind = "GPIO line"
    _enums = (GpioLine, HeaderPin)

    def __init__(
        self,
        session: Session,
        lines: tuple[int, ...],
        aliases: Mapping[str, int],
        owner: str,
        resolve_gpio: Callable[[str], int | None] | None = None,
    ) -> None:
        items = {f"GPIO{n}": Gpio(session, n) for n in lines}

        def fallback(name: str) -> str | None:
            line = resolve_gpio(name) if resolve_gpio is not None else None
            return f"GPIO{line}" if line is not None and line in lines else None

        super().__init__(
            items,
            numbers={n: f"GPIO{n}" for n in lines},
            aliases={a: f"GPIO{n}" for a, n in aliases.items() if n in lines},
            fallback=fallback,
            owner=owner,
        )
