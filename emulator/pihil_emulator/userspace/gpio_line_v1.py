"""The v1 ABI's line files (drivers/gpio/gpiolib-cdev.c, CONFIG_GPIO_CDEV_V1):
``linehandle_create`` (`LineHandle`, GPIOHANDLE_GET/SET_LINE_VALUES and SET_CONFIG) and
``lineevent_create`` (`LineEvent`, a FIFO of ``struct gpioevent_data``). The v2 line request is
in `gpio_line_request`.
"""

from __future__ import annotations

import errno
import os
from collections import deque

from . import gpio_uapi as uapi
from .devfs import oserror
from .gpio_chip import Desc, GpioChip
from .gpio_line_events import EdgeSource, EventQueueFile, LineFile, _in, _out, edge_subscription


# -- ABI v1 ---------------------------------------------------------------------------------------------
class LineHandle(LineFile):
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
