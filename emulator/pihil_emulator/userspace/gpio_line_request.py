"""The files a GPIO chip's ioctls hand out: v2 line requests, v1 line handles and line events.

drivers/gpio/gpiolib-cdev.c: ``linereq_create`` and the ``line_fileops`` of the descriptor
it returns (GET/SET_VALUES, SET_CONFIG, ``read()`` of ``struct gpio_v2_line_event``, poll),
``linehandle_create`` and ``lineevent_create`` of the v1 ABI. Each request is a file of the
userspace's devfs (`DevFs.adopt`, the kernel's ``anon_inode_getfile``); its descriptor number
is written into the caller's struct as the kernel does.

Edges come from the backend's edge detection (GPREN/GPFEN, the synchronous detectors Linux
uses; software debounce as gpiolib-cdev does it on this chip, whose pinconf has no
debounce), and are moved into the request's FIFO when someone looks: their timestamps and
sequence numbers are the ones the kernel's interrupt thread would have given. The FIFO has
the kernel's size (``event_buffer_size``, default 16 per line, rounded up to a power of two)
and drops the oldest event when full (v2), the newest (v1's 16). A blocking ``read()`` and
``poll`` wait in simulated time and wake at the instant the edge is detected (or its
debounce period has passed).
"""

from __future__ import annotations

import errno
import os
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import gpio_uapi as uapi
from .devfs import DevFile, oserror
from .gpio_cdev import Desc, GpioChip, wait_readable
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


class EventQueueFile(DevFile):
    """A file whose reads hand out whole edge-event records (a v2 line request, a v1 line
    event): readable while events are queued; ``read`` blocks in simulated time until one
    arrives, or EAGAIN with O_NONBLOCK (linereq_read / lineevent_read)."""

    event_size = 0
    """Bytes per event record (struct gpio_v2_line_event / gpioevent_data)."""
    chip: Any
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


class _Line:
    """struct line: one line of a v2 request, with its edge detector and debouncer."""

    def __init__(self, chip: GpioChip, desc: Desc) -> None:
        self.desc = desc
        self.source = EdgeSource(chip, desc)
        self.edflags = 0
        self.sw_debounced = False
        self.level = False
        """The debounced physical level (line->level)."""
        self.line_seqno = 0


class LineRequest(EventQueueFile):
    """A v2 line request (``struct linereq``)."""

    def __init__(self, chip: GpioChip, args: uapi.LineRequestArgs) -> None:
        super().__init__(os.O_RDONLY)
        self.path = "anon_inode:[gpio-line]"
        self.chip = chip
        self.label = args.consumer or None
        self.num_lines = args.num_lines
        size = args.event_buffer_size or args.num_lines * 16
        self.event_buffer_size = min(size, uapi.GPIO_V2_LINES_MAX * 16)
        self.lines: list[_Line] = []
        self.events: deque[bytes] | None = None
        self.seqno = 0
        self._subscribe = edge_subscription(self, [])

    # -- the edge detector (edge_detector_setup/stop/update) ---------------------------------------
    def _setup(self, line: _Line, config: uapi.LineConfig, index: int, edflags: int) -> None:
        eflags = edflags & uapi.EDGE_FLAGS
        if eflags and self.events is None:
            size = uapi.roundup_pow_of_two(self.event_buffer_size)
            if size < 2:
                raise oserror(errno.EINVAL)  # kfifo_alloc()
            self.events = deque(maxlen=size)
        debounce = config.debounce_of(index)
        if debounce is not None:
            if debounce:
                line.level = self.chip.get_raw(line.desc)
                line.sw_debounced = True
            line.desc.debounce_us = debounce
        if not eflags and not line.sw_debounced:
            return
        rising, falling = self._physical(line, edflags)
        line.source.configure(rising, falling, line.desc.debounce_us if line.sw_debounced else 0)

    def _stop(self, line: _Line) -> None:
        line.source.stop()
        line.sw_debounced = False
        line.edflags = 0
        line.desc.debounce_us = 0

    def _update(self, line: _Line, config: uapi.LineConfig, index: int, edflags: int) -> None:
        debounce = config.debounce_of(index) or 0
        if line.edflags == edflags and line.desc.debounce_us == debounce:
            return
        if debounce and line.sw_debounced:
            line.desc.debounce_us = debounce
            line.source.configure(*self._physical(line, edflags), debounce)
            return
        self._stop(line)
        self._setup(line, config, index, edflags)

    @staticmethod
    def _physical(line: _Line, edflags: int) -> tuple[bool, bool]:
        low = bool(edflags & uapi.FLAG_ACTIVE_LOW)
        rising = bool(edflags & (uapi.FLAG_EDGE_FALLING if low else uapi.FLAG_EDGE_RISING))
        falling = bool(edflags & (uapi.FLAG_EDGE_RISING if low else uapi.FLAG_EDGE_FALLING))
        return rising, falling

    def _resubscribe(self) -> None:
        self._subscribe = edge_subscription(self, [ln.source for ln in self.lines])

    # -- events ------------------------------------------------------------------------------------
    def collect(self) -> None:
        """Move the edges detected since the last look into the FIFO, stamped and numbered as
        edge_irq_thread() and debounce_work_func() do."""
        found: list[tuple[int, int, int]] = []
        for index, line in enumerate(self.lines):
            if not line.source.active:
                continue
            eflags = line.edflags & uapi.EDGE_FLAGS
            for stamp, level in line.source.take():
                if line.sw_debounced:
                    line.level = level
                logical = level != line.desc.active_low
                if line.sw_debounced and (
                    not eflags
                    or (eflags == uapi.FLAG_EDGE_RISING and not logical)
                    or (eflags == uapi.FLAG_EDGE_FALLING and logical)
                ):
                    continue
                event_id = uapi.EVENT_RISING_EDGE if logical else uapi.EVENT_FALLING_EDGE
                found.append((stamp, index, event_id))
        if not found or self.events is None:
            return
        found.sort(key=lambda e: e[0])
        chip = self.chip
        for stamp, index, event_id in found:
            line = self.lines[index]
            line.line_seqno += 1
            self.seqno += 1
            seqno = line.line_seqno if self.num_lines == 1 else self.seqno
            realtime = line.desc.flags & uapi.FLAG_EVENT_CLOCK_REALTIME
            ts = chip.realtime_ns(stamp) if realtime else chip.monotonic_ns(stamp)
            self.events.append(
                uapi.LINE_EVENT.pack(
                    ts, event_id, line.desc.offset, seqno & 0xFFFFFFFF, line.line_seqno, b""
                )
            )

    event_size = uapi.LINE_EVENT.size

    # -- ioctl -------------------------------------------------------------------------------------
    def ioctl(self, request: int, arg: int | memoryview) -> int:
        with self.chip.us.lock:
            if request == uapi.GPIO_V2_LINE_GET_VALUES_IOCTL:
                self._get_values(arg)
            elif request == uapi.GPIO_V2_LINE_SET_VALUES_IOCTL:
                self._set_values(arg)
            elif request == uapi.GPIO_V2_LINE_SET_CONFIG_IOCTL:
                self._set_config(arg)
            else:
                raise oserror(errno.EINVAL)
        return 0

    def _get_values(self, arg: int | memoryview) -> None:
        _bits, mask = uapi.LINE_VALUES.unpack(_in(arg, uapi.LINE_VALUES.size))
        chosen = [i for i in range(self.num_lines) if mask >> i & 1]
        if not chosen:
            raise oserror(errno.EINVAL)
        self.collect()  # the debouncers' levels are up to date
        bits = 0
        for i in chosen:
            line = self.lines[i]
            if line.sw_debounced:
                value = line.level != line.desc.active_low
            else:
                value = self.chip.get_value(line.desc)
            bits |= int(value) << i
        _out(arg, uapi.LINE_VALUES.pack(bits, mask))

    def _set_values(self, arg: int | memoryview) -> None:
        bits, mask = uapi.LINE_VALUES.unpack(_in(arg, uapi.LINE_VALUES.size))
        chosen = [i for i in range(self.num_lines) if mask >> i & 1]
        for i in chosen:
            if not self.lines[i].desc.is_out:
                raise oserror(errno.EPERM)  # "setting inputs is not allowed"
        if not chosen:
            raise oserror(errno.EINVAL)
        for i in chosen:
            self.chip.set_value(self.lines[i].desc, bool(bits >> i & 1))

    def _set_config(self, arg: int | memoryview) -> None:
        config = uapi.unpack_config(_in(arg, uapi.LINE_CONFIG_SIZE))
        code = uapi.config_validate(config, self.num_lines)
        if code:
            raise oserror(code)
        self.collect()  # edges before the change are the kernel's already
        for i, line in enumerate(self.lines):
            self._configure(line, config, i, update=True)
            self.chip.notify(line.desc, uapi.CHANGED_CONFIG)

    def _configure(self, line: _Line, config: uapi.LineConfig, index: int, *, update: bool) -> None:
        chip, desc = self.chip, line.desc
        flags = config.flags_of(index)
        chip.set_flags(desc, flags)
        edflags = flags & uapi.EDGE_DETECTOR_FLAGS
        if flags & uapi.FLAG_OUTPUT:
            if update:
                self._stop(line)
            chip.direction_output(desc, config.output_value(index))
        elif flags & uapi.FLAG_INPUT:
            chip.direction_input(desc)
            if update:
                self._update(line, config, index, edflags)
            else:
                self._setup(line, config, index, edflags)
        line.edflags = edflags

    def release(self) -> None:
        """linereq_free()."""
        error: BaseException | None = None
        for line in self.lines:
            try:
                self._stop(line)
            except OSError as exc:
                error = error or exc
            try:
                self.chip.free(line.desc)
            except OSError as exc:
                error = error or exc
        self.lines.clear()
        if error is not None:
            raise error

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        with self.chip.us.lock:
            self.release()


def create_line_request(chip: GpioChip, arg: int | memoryview) -> None:
    """linereq_create(): GPIO_V2_GET_LINE_IOCTL."""
    raw = _in(arg, uapi.LINE_REQUEST.size)
    args = uapi.unpack_request(raw)
    if not 0 < args.num_lines <= uapi.GPIO_V2_LINES_MAX or any(args.padding):
        raise oserror(errno.EINVAL)
    code = uapi.config_validate(args.config, args.num_lines)
    if code:
        raise oserror(code)
    req = LineRequest(chip, args)
    try:
        for i in range(args.num_lines):
            desc = chip.desc(args.offsets[i])
            chip.request(desc, req.label)
            line = _Line(chip, desc)
            req.lines.append(line)
            req._configure(line, args.config, i, update=False)
            chip.notify(desc, uapi.CHANGED_REQUESTED)
    except BaseException:
        req.release()
        raise
    req._resubscribe()
    fd = chip.us.devfs.adopt(req)
    _out(arg, uapi.with_fd(raw, fd))


# -- ABI v1 ---------------------------------------------------------------------------------------------
class LineHandle(DevFile):
    """A v1 line handle (``struct linehandle_state``): values and config, no events."""

    def __init__(self, chip: GpioChip) -> None:
        super().__init__(os.O_RDONLY)
        self.path = "anon_inode:[gpio-linehandle]"
        self.chip = chip
        self.descs: list[Desc] = []

    def _apply(self, flags: int, defaults: bytes, notify: int) -> None:
        chip = self.chip
        for i, desc in enumerate(self.descs):
            chip.set_flags(desc, uapi.v2_flags_of_handle(flags) & ~uapi.DIRECTION_FLAGS)
            if flags & uapi.HANDLE_OUTPUT:
                chip.direction_output(desc, bool(defaults[i]))
            elif flags & uapi.HANDLE_INPUT:
                chip.direction_input(desc)
            chip.notify(desc, notify)

    def ioctl(self, request: int, arg: int | memoryview) -> int:
        chip = self.chip
        with chip.us.lock:
            if request == uapi.GPIOHANDLE_GET_LINE_VALUES_IOCTL:
                values = bytes(int(chip.get_value(d)) for d in self.descs)
                _out(arg, uapi.HANDLE_DATA.pack(values))
            elif request == uapi.GPIOHANDLE_SET_LINE_VALUES_IOCTL:
                if not self.descs[0].is_out:
                    raise oserror(errno.EPERM)
                (values,) = uapi.HANDLE_DATA.unpack(_in(arg, uapi.HANDLE_DATA.size))
                for i, desc in enumerate(self.descs):
                    chip.set_value(desc, bool(values[i]))
            elif request == uapi.GPIOHANDLE_SET_CONFIG_IOCTL:
                flags, defaults, _pad = uapi.HANDLE_CONFIG.unpack(_in(arg, uapi.HANDLE_CONFIG.size))
                code = uapi.handle_flags_validate(flags)
                if code:
                    raise oserror(code)
                self._apply(flags, defaults, uapi.CHANGED_CONFIG)
            else:
                raise oserror(errno.EINVAL)
        return 0

    def release(self) -> None:
        descs, self.descs = self.descs, []
        for desc in descs:
            self.chip.free(desc)

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        with self.chip.us.lock:
            self.release()


def create_line_handle(chip: GpioChip, arg: int | memoryview) -> None:
    """linehandle_create(): GPIO_GET_LINEHANDLE_IOCTL."""
    raw = _in(arg, uapi.HANDLE_REQUEST.size)
    fields = uapi.HANDLE_REQUEST.unpack(raw)
    offsets = fields[: uapi.GPIOHANDLES_MAX]
    flags, defaults, label, lines, _fd = fields[uapi.GPIOHANDLES_MAX :]
    if not 0 < lines <= uapi.GPIOHANDLES_MAX:
        raise oserror(errno.EINVAL)
    code = uapi.handle_flags_validate(flags)
    if code:
        raise oserror(code)
    handle = LineHandle(chip)
    consumer = uapi.cstr(label) or None
    try:
        for i in range(lines):
            desc = chip.desc(offsets[i])
            chip.request(desc, consumer)
            handle.descs.append(desc)
        handle._apply(flags, defaults, uapi.CHANGED_REQUESTED)
    except BaseException:
        handle.release()
        raise
    fd = chip.us.devfs.adopt(handle)
    _out(arg, uapi.with_fd(raw, fd))


class LineEvent(EventQueueFile):
    """A v1 line event request (``struct lineevent_state``): one input line's edges as
    ``struct gpioevent_data``, in a 16-event FIFO that drops new events when full."""

    def __init__(self, chip: GpioChip, desc: Desc, eflags: int) -> None:
        super().__init__(os.O_RDONLY)
        self.path = "anon_inode:[gpio-event]"
        self.chip = chip
        self.desc = desc
        self.eflags = eflags
        self.source = EdgeSource(chip, desc)
        self.events: deque[bytes] = deque()
        self.requested = False
        self._subscribe = edge_subscription(self, [self.source])

    def collect(self) -> None:
        both = uapi.EVENT_REQUEST_RISING_EDGE | uapi.EVENT_REQUEST_FALLING_EDGE
        for stamp, level in self.source.take():
            if self.eflags & both == both:
                rising = level != self.desc.active_low
            else:
                rising = bool(self.eflags & uapi.EVENT_REQUEST_RISING_EDGE)
            if len(self.events) >= uapi.V1_EVENT_FIFO:
                continue  # "event FIFO is full - event dropped"
            event_id = (
                uapi.GPIOEVENT_EVENT_RISING_EDGE if rising else uapi.GPIOEVENT_EVENT_FALLING_EDGE
            )
            self.events.append(uapi.EVENT_DATA.pack(self.chip.monotonic_ns(stamp), event_id))

    event_size = uapi.EVENT_DATA.size

    def ioctl(self, request: int, arg: int | memoryview) -> int:
        with self.chip.us.lock:
            if request != uapi.GPIOHANDLE_GET_LINE_VALUES_IOCTL:
                raise oserror(errno.EINVAL)  # an event line is an input: no set
            value = int(self.chip.get_value(self.desc))
            _out(arg, uapi.HANDLE_DATA.pack(bytes([value])))
        return 0

    def release(self) -> None:
        self.source.stop()
        if self.requested:
            self.requested = False
            self.chip.free(self.desc)

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        with self.chip.us.lock:
            self.release()


def create_line_event(chip: GpioChip, arg: int | memoryview) -> None:
    """lineevent_create(): GPIO_GET_LINEEVENT_IOCTL."""
    raw = _in(arg, uapi.EVENT_REQUEST.size)
    offset, hflags, eflags, label, _fd = uapi.EVENT_REQUEST.unpack(raw)
    desc = chip.desc(offset)
    if hflags & ~uapi.HANDLE_VALID_FLAGS or eflags & ~uapi.EVENT_REQUEST_VALID_FLAGS:
        raise oserror(errno.EINVAL)
    if hflags & (uapi.HANDLE_OUTPUT | uapi.HANDLE_OPEN_DRAIN | uapi.HANDLE_OPEN_SOURCE):
        raise oserror(errno.EINVAL)  # "we don't look for events on output lines"
    bias = hflags & (
        uapi.HANDLE_BIAS_DISABLE | uapi.HANDLE_BIAS_PULL_UP | uapi.HANDLE_BIAS_PULL_DOWN
    )
    if bin(bias).count("1") > 1:
        raise oserror(errno.EINVAL)
    event = LineEvent(chip, desc, eflags)
    try:
        chip.request(desc, uapi.cstr(label) or None)
        event.requested = True
        chip.set_flags(desc, uapi.v2_flags_of_handle(hflags) & ~uapi.DIRECTION_FLAGS)
        chip.direction_input(desc)
        chip.notify(desc, uapi.CHANGED_REQUESTED)
        low = desc.active_low
        rise = bool(eflags & uapi.EVENT_REQUEST_RISING_EDGE)
        fall = bool(eflags & uapi.EVENT_REQUEST_FALLING_EDGE)
        event.source.configure(fall if low else rise, rise if low else fall, 0)
    except BaseException:
        event.release()
        raise
    event._subscribe = edge_subscription(event, [event.source])
    fd = chip.us.devfs.adopt(event)
    _out(arg, uapi.with_fd(raw, fd))
