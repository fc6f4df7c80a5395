"""The files a GPIO chip's ioctls hand out: v2 line requests, v1 line handles and line events.

drivers/gpio/gpiolib-cdev.c: ``linereq_create`` and the ``line_fileops`` of the descriptor
it returns (GET/SET_VALUES, SET_CONFIG, ``read()`` of ``struct gpio_v2_line_event``, poll),
``linehandle_create`` and ``lineevent_create`` of the v1 ABI. Each request is a file of the
userspace's devfs (`DevFs.adopt`, the kernel's ``anon_inode_getfile``); its descriptor number
is written into the caller's struct as the kernel does. The v1 files are in `gpio_line_v1`,
what both ABIs share (edge detection, the event FIFO file) in `gpio_line_events`.

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

from . import gpio_uapi as uapi
from .devfs import oserror
from .gpio_chip import Desc, GpioChip
from .gpio_line_events import EdgeSource as EdgeSource
from .gpio_line_events import EventQueueFile as EventQueueFile
from .gpio_line_events import _in, _out
from .gpio_line_events import edge_subscription as edge_subscription
from .gpio_line_v1 import LineEvent as LineEvent
from .gpio_line_v1 import LineHandle as LineHandle
from .gpio_line_v1 import create_line_event as create_line_event
from .gpio_line_v1 import create_line_handle as create_line_handle


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
