"""The GPIO character device's ioctls, called directly with ctypes structs as C programs do,
and python-periphery 2.4.3's CdevGPIO (v2 ABI) and Cdev1GPIO (v1 ABI) on them.

The structs below are written from include/uapi/linux/gpio.h independently of the emulator's
own layouts, so a layout mistake on either side fails here. Errno follow gpiolib-cdev.c.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import select
import time
from collections.abc import Iterator
from typing import Any

import pytest
from periphery import gpio_cdev1, gpio_cdev2

from rpiboard_pihil import RpiBoard

CHIP = "/dev/gpiochip0"
Cdev1GPIO: Any = gpio_cdev1.Cdev1GPIO  # python-periphery's modules have no type hints
Cdev2GPIO: Any = gpio_cdev2.Cdev2GPIO
NAME = 32
LINES = 64
ATTRS = 10


def _ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (0xB4 << 8) | nr


class ChipInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char * NAME),
        ("label", ctypes.c_char * NAME),
        ("lines", ctypes.c_uint32),
    ]


class LineAttribute(ctypes.Structure):
    class _U(ctypes.Union):
        _fields_ = [
            ("flags", ctypes.c_uint64),
            ("values", ctypes.c_uint64),
            ("debounce_period_us", ctypes.c_uint32),
        ]

    _fields_ = [("id", ctypes.c_uint32), ("padding", ctypes.c_uint32), ("u", _U)]


class ConfigAttribute(ctypes.Structure):
    _fields_ = [("attr", LineAttribute), ("mask", ctypes.c_uint64)]


class LineConfig(ctypes.Structure):
    _fields_ = [
        ("flags", ctypes.c_uint64),
        ("num_attrs", ctypes.c_uint32),
        ("padding", ctypes.c_uint32 * 5),
        ("attrs", ConfigAttribute * ATTRS),
    ]


class LineRequest(ctypes.Structure):
    _fields_ = [
        ("offsets", ctypes.c_uint32 * LINES),
        ("consumer", ctypes.c_char * NAME),
        ("config", LineConfig),
        ("num_lines", ctypes.c_uint32),
        ("event_buffer_size", ctypes.c_uint32),
        ("padding", ctypes.c_uint32 * 5),
        ("fd", ctypes.c_int32),
    ]


class LineInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char * NAME),
        ("consumer", ctypes.c_char * NAME),
        ("offset", ctypes.c_uint32),
        ("num_attrs", ctypes.c_uint32),
        ("flags", ctypes.c_uint64),
        ("attrs", LineAttribute * ATTRS),
        ("padding", ctypes.c_uint32 * 4),
    ]


class LineValues(ctypes.Structure):
    _fields_ = [("bits", ctypes.c_uint64), ("mask", ctypes.c_uint64)]


class LineEvent(ctypes.Structure):
    _fields_ = [
        ("timestamp_ns", ctypes.c_uint64),
        ("id", ctypes.c_uint32),
        ("offset", ctypes.c_uint32),
        ("seqno", ctypes.c_uint32),
        ("line_seqno", ctypes.c_uint32),
        ("padding", ctypes.c_uint32 * 6),
    ]


class LineInfoChanged(ctypes.Structure):
    _fields_ = [
        ("info", LineInfo),
        ("timestamp_ns", ctypes.c_uint64),
        ("event_type", ctypes.c_uint32),
        ("padding", ctypes.c_uint32 * 5),
    ]


class LineInfoV1(ctypes.Structure):
    _fields_ = [
        ("line_offset", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("name", ctypes.c_char * NAME),
        ("consumer", ctypes.c_char * NAME),
    ]


class HandleRequest(ctypes.Structure):
    _fields_ = [
        ("lineoffsets", ctypes.c_uint32 * LINES),
        ("flags", ctypes.c_uint32),
        ("default_values", ctypes.c_uint8 * LINES),
        ("consumer_label", ctypes.c_char * NAME),
        ("lines", ctypes.c_uint32),
        ("fd", ctypes.c_int),
    ]


class HandleConfig(ctypes.Structure):
    _fields_ = [
        ("flags", ctypes.c_uint32),
        ("default_values", ctypes.c_uint8 * LINES),
        ("padding", ctypes.c_uint32 * 4),
    ]


class HandleData(ctypes.Structure):
    _fields_ = [("values", ctypes.c_uint8 * LINES)]


class EventRequest(ctypes.Structure):
    _fields_ = [
        ("lineoffset", ctypes.c_uint32),
        ("handleflags", ctypes.c_uint32),
        ("eventflags", ctypes.c_uint32),
        ("consumer_label", ctypes.c_char * NAME),
        ("fd", ctypes.c_int),
    ]


class EventData(ctypes.Structure):
    _fields_ = [("timestamp", ctypes.c_uint64), ("id", ctypes.c_uint32)]


GET_CHIPINFO = _ioc(2, 0x01, ctypes.sizeof(ChipInfo))
UNWATCH = _ioc(3, 0x0C, 4)
V2_GET_LINEINFO = _ioc(3, 0x05, ctypes.sizeof(LineInfo))
V2_WATCH = _ioc(3, 0x06, ctypes.sizeof(LineInfo))
V2_GET_LINE = _ioc(3, 0x07, ctypes.sizeof(LineRequest))
V2_SET_CONFIG = _ioc(3, 0x0D, ctypes.sizeof(LineConfig))
V2_GET_VALUES = _ioc(3, 0x0E, ctypes.sizeof(LineValues))
V2_SET_VALUES = _ioc(3, 0x0F, ctypes.sizeof(LineValues))
GET_LINEINFO = _ioc(3, 0x02, ctypes.sizeof(LineInfoV1))
GET_LINEHANDLE = _ioc(3, 0x03, ctypes.sizeof(HandleRequest))
GET_LINEEVENT = _ioc(3, 0x04, ctypes.sizeof(EventRequest))
HANDLE_GET_VALUES = _ioc(3, 0x08, ctypes.sizeof(HandleData))
HANDLE_SET_VALUES = _ioc(3, 0x09, ctypes.sizeof(HandleData))
HANDLE_SET_CONFIG = _ioc(3, 0x0A, ctypes.sizeof(HandleConfig))
V1_WATCH = _ioc(3, 0x0B, ctypes.sizeof(LineInfoV1))

USED, ACTIVE_LOW, INPUT, OUTPUT = 1, 2, 4, 8
RISING, FALLING, OPEN_DRAIN, OPEN_SOURCE = 16, 32, 64, 128
PULL_UP, PULL_DOWN, BIAS_DISABLED, REALTIME, HTE = 256, 512, 1024, 2048, 4096
H_INPUT, H_OUTPUT, H_ACTIVE_LOW, H_OPEN_DRAIN = 1, 2, 4, 8
H_PULL_UP, H_PULL_DOWN = 32, 64


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board
    board.close()


@pytest.fixture
def chip(mirkopc: RpiBoard) -> Iterator[int]:
    with mirkopc.simulation.userspace():
        fd = os.open(CHIP, os.O_RDWR | os.O_CLOEXEC)
        yield fd
        os.close(fd)


def _request(chip: int, offsets: list[int], flags: int, **config: object) -> LineRequest:
    req = LineRequest()
    for i, offset in enumerate(offsets):
        req.offsets[i] = offset
    req.num_lines = len(offsets)  # (config may say otherwise)
    req.consumer = b"test"
    req.config.flags = flags
    for name, value in config.items():
        setattr(req, name, value)
    fcntl.ioctl(chip, V2_GET_LINE, req)
    return req


def _errno_of(fn: object, *args: object) -> int:
    try:
        fn(*args)  # type: ignore[operator]
    except OSError as exc:
        return int(exc.errno or 0)
    raise AssertionError("the call succeeded")


def _set(fd: int, bits: int, mask: int = 1) -> None:
    fcntl.ioctl(fd, V2_SET_VALUES, LineValues(bits, mask))


def _get(fd: int, mask: int = 1) -> int:
    values = LineValues(0, mask)
    fcntl.ioctl(fd, V2_GET_VALUES, values)
    return int(values.bits)


def test_struct_sizes_and_ioctl_numbers_are_the_headers() -> None:
    """The numbers libgpiod and python-periphery scrape from <linux/gpio.h>."""
    assert (V2_GET_LINE, V2_GET_LINEINFO, V2_SET_CONFIG) == (0xC250B407, 0xC100B405, 0xC110B40D)
    assert (GET_LINEHANDLE, GET_LINEEVENT, GET_CHIPINFO) == (0xC16CB403, 0xC030B404, 0x8044B401)
    assert ctypes.sizeof(LineEvent) == 48
    assert ctypes.sizeof(EventData) == 16


def test_chip_info_and_line_info(chip: int) -> None:
    info = ChipInfo()
    fcntl.ioctl(chip, GET_CHIPINFO, info)
    assert (info.name, info.label, info.lines) == (b"gpiochip0", b"pinctrl-bcm2711", 58)
    line = LineInfo(offset=2)
    fcntl.ioctl(chip, V2_GET_LINEINFO, line)
    assert (line.name, line.flags) == (b"GPIO2", USED | INPUT)  # I2C1's SDA, held by i2c1
    assert _errno_of(fcntl.ioctl, chip, V2_GET_LINEINFO, LineInfo(offset=58)) == errno.EINVAL
    padded = LineInfo(offset=17)
    padded.padding[0] = 1
    assert _errno_of(fcntl.ioctl, chip, V2_GET_LINEINFO, padded) == errno.EINVAL
    assert _errno_of(fcntl.ioctl, chip, 0xC004B4FF, bytearray(4)) == errno.EINVAL  # unknown


def test_a_request_hands_out_a_descriptor_and_drives_the_line(chip: int) -> None:
    out = _request(chip, [17], OUTPUT)
    inp = _request(chip, [27], INPUT | RISING | FALLING)
    assert out.fd > 2
    assert inp.fd not in (out.fd, chip)
    _set(out.fd, 1)
    time.sleep(0.001)
    assert _get(inp.fd) == 1
    data = os.read(inp.fd, ctypes.sizeof(LineEvent))
    event = LineEvent.from_buffer_copy(data)
    assert (event.id, event.offset, event.seqno, event.line_seqno) == (1, 27, 1, 1)
    info = LineInfo(offset=17)
    fcntl.ioctl(chip, V2_GET_LINEINFO, info)
    assert (info.consumer, info.flags) == (b"test", USED | OUTPUT)
    os.close(out.fd)
    os.close(inp.fd)
    fcntl.ioctl(chip, V2_GET_LINEINFO, info)
    assert (info.consumer, info.flags & USED) == (b"", 0)


def test_the_kernels_checks(chip: int) -> None:
    """linereq_create() and gpio_v2_line_flags_validate()."""
    assert _errno_of(_request, chip, [], INPUT) == errno.EINVAL  # num_lines 0
    too_many = lambda: _request(chip, list(range(20, 28)), INPUT, num_lines=65)  # noqa: E731
    assert _errno_of(too_many) == errno.EINVAL  # > GPIO_V2_LINES_MAX
    assert _errno_of(_request, chip, [58], INPUT) == errno.EINVAL  # no such line
    assert _errno_of(_request, chip, [17], INPUT | OUTPUT) == errno.EINVAL
    assert _errno_of(_request, chip, [17], RISING) == errno.EINVAL  # edges need input
    assert _errno_of(_request, chip, [17], INPUT | OPEN_DRAIN) == errno.EINVAL
    assert _errno_of(_request, chip, [17], OUTPUT | OPEN_DRAIN | OPEN_SOURCE) == errno.EINVAL
    assert _errno_of(_request, chip, [17], PULL_UP) == errno.EINVAL  # bias needs a direction
    assert _errno_of(_request, chip, [17], INPUT | PULL_UP | PULL_DOWN) == errno.EINVAL
    assert _errno_of(_request, chip, [17], INPUT | (1 << 20)) == errno.EINVAL  # unknown flag
    assert _errno_of(_request, chip, [17], INPUT | HTE) == errno.EOPNOTSUPP
    assert _errno_of(_request, chip, [2], INPUT) == errno.EBUSY  # i2c1's SDA
    assert _errno_of(_request, chip, [17, 17], INPUT) == errno.EBUSY  # twice in one request
    req = _request(chip, [17], INPUT)
    assert _errno_of(_request, chip, [27, 17], INPUT) == errno.EBUSY
    assert _request(chip, [27], INPUT).fd  # 27 was given back when the request failed
    assert _errno_of(_set, req.fd, 1) == errno.EPERM  # setting an input
    assert _errno_of(_get, req.fd, 0) == errno.EINVAL  # no line in the mask
    assert _errno_of(os.read, req.fd, 10) == errno.EINVAL  # smaller than an event
    bad = LineRequest(num_lines=1, event_buffer_size=1)
    bad.offsets[0] = 23
    bad.config.flags = INPUT | RISING
    assert _errno_of(fcntl.ioctl, chip, V2_GET_LINE, bad) == errno.EINVAL  # a 1-event kfifo


def test_set_config_and_debounce_attribute(chip: int) -> None:
    out = _request(chip, [17], OUTPUT)
    req = _request(chip, [27], INPUT)
    config = LineConfig(flags=INPUT | RISING, num_attrs=1)
    config.attrs[0].attr.id = 3  # GPIO_V2_LINE_ATTR_ID_DEBOUNCE
    config.attrs[0].attr.u.debounce_period_us = 2000
    config.attrs[0].mask = 1
    fcntl.ioctl(req.fd, V2_SET_CONFIG, config)
    info = LineInfo(offset=27)
    fcntl.ioctl(chip, V2_GET_LINEINFO, info)
    assert info.flags == USED | INPUT | RISING
    assert (info.num_attrs, info.attrs[0].id, info.attrs[0].u.debounce_period_us) == (1, 3, 2000)
    _set(out.fd, 1)
    flags = fcntl.fcntl(req.fd, fcntl.F_GETFL)
    fcntl.fcntl(req.fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
    assert _errno_of(os.read, req.fd, 48) == errno.EAGAIN  # not settled yet
    time.sleep(0.003)
    event = LineEvent.from_buffer_copy(os.read(req.fd, 48))
    assert event.id == 1
    output = LineConfig(flags=OUTPUT)
    bad = LineConfig(flags=OUTPUT, num_attrs=1)
    bad.attrs[0] = config.attrs[0]
    assert _errno_of(fcntl.ioctl, req.fd, V2_SET_CONFIG, bad) == errno.EINVAL  # debounce: input
    _set(out.fd, 0)  # a released output keeps its level (persist_gpio_outputs): low, as
    os.close(out.fd)  # GPIO27 will drive the loop wire
    fcntl.ioctl(req.fd, V2_SET_CONFIG, output)
    fcntl.ioctl(chip, V2_GET_LINEINFO, info)
    assert (info.flags, info.num_attrs) == (USED | OUTPUT, 0)


def test_poll_select_and_a_blocking_read_wait_in_simulated_time(
    mirkopc: RpiBoard, chip: int
) -> None:
    out = _request(chip, [17], OUTPUT)
    inp = _request(chip, [27], INPUT | FALLING)
    poller = select.poll()
    poller.register(inp.fd, select.POLLIN)
    start = time.monotonic()
    assert poller.poll(300) == []
    assert time.monotonic() - start == pytest.approx(0.3)
    _set(out.fd, 1)
    assert select.select([inp.fd], [], [], 0.1) == ([], [], [])  # a rising edge: not watched
    _set(out.fd, 0)
    assert select.select([inp.fd], [], [], 0.1)[0] == [inp.fd]
    assert poller.poll(0) == [(inp.fd, select.POLLIN)]
    os.read(inp.fd, 48)
    _set(out.fd, 1)
    _set(out.fd, 0)  # a pulse of no time: the synchronous detector sees no edge (§3.5)
    assert select.select([inp.fd], [], [], 0.1)[0] == []
    _set(out.fd, 1)
    time.sleep(0.001)
    before = time.monotonic_ns()
    _set(out.fd, 0)
    event = LineEvent.from_buffer_copy(os.read(inp.fd, 48))  # blocks until the detection
    assert time.monotonic_ns() - before == mirkopc.simulation.emulator.soc.gpio.sync_window_ns
    assert event.id == 2


def test_events_are_ordered_across_lines_and_the_fifo_drops_the_oldest(chip: int) -> None:
    outs = _request(chip, [17, 5], OUTPUT)
    ins = _request(chip, [27, 6], INPUT | RISING | FALLING, event_buffer_size=4)
    _set(outs.fd, 0b01, 0b11)
    time.sleep(0.001)
    _set(outs.fd, 0b11, 0b11)
    time.sleep(0.001)
    data = os.read(ins.fd, 48 * 8)
    events = [LineEvent.from_buffer_copy(data, i * 48) for i in range(len(data) // 48)]
    assert [(e.offset, e.seqno, e.line_seqno) for e in events] == [(27, 1, 1), (6, 2, 1)]
    for _ in range(3):  # six edges into a four-event FIFO
        _set(outs.fd, 0, 0b01)
        time.sleep(0.001)
        _set(outs.fd, 1, 0b01)
        time.sleep(0.001)
    data = os.read(ins.fd, 48 * 8)
    assert [LineEvent.from_buffer_copy(data, i * 48).seqno for i in range(4)] == [5, 6, 7, 8]


def test_info_watch_v2_events_and_abi_mixing(chip: int) -> None:
    watched = LineInfo(offset=23)
    fcntl.ioctl(chip, V2_WATCH, watched)
    assert _errno_of(fcntl.ioctl, chip, V2_WATCH, LineInfo(offset=23)) == errno.EBUSY
    assert _errno_of(fcntl.ioctl, chip, V1_WATCH, LineInfoV1(line_offset=5)) == errno.EPERM
    req = _request(chip, [23], INPUT | PULL_UP)
    os.close(req.fd)
    data = os.read(chip, ctypes.sizeof(LineInfoChanged) * 2)
    first = LineInfoChanged.from_buffer_copy(data)
    second = LineInfoChanged.from_buffer_copy(data, ctypes.sizeof(LineInfoChanged))
    assert (first.event_type, first.info.flags) == (1, USED | INPUT | PULL_UP)
    assert (second.event_type, second.info.flags) == (2, INPUT)
    offset = ctypes.c_uint32(23)
    fcntl.ioctl(chip, UNWATCH, offset)
    assert _errno_of(fcntl.ioctl, chip, UNWATCH, offset) == errno.EBUSY
    assert _errno_of(fcntl.ioctl, chip, UNWATCH, ctypes.c_uint32(58)) == errno.EINVAL


def test_v1_line_handle_and_line_event(chip: int) -> None:
    handle = HandleRequest(flags=H_OUTPUT, lines=1, consumer_label=b"v1")
    handle.lineoffsets[0] = 17
    handle.default_values[0] = 1
    fcntl.ioctl(chip, GET_LINEHANDLE, handle)
    event = EventRequest(lineoffset=27, handleflags=H_INPUT, eventflags=3, consumer_label=b"ev")
    fcntl.ioctl(chip, GET_LINEEVENT, event)
    data = HandleData()
    fcntl.ioctl(event.fd, HANDLE_GET_VALUES, data)
    assert data.values[0] == 1
    start = time.monotonic_ns()
    fcntl.ioctl(handle.fd, HANDLE_SET_VALUES, HandleData())  # all 0
    got = EventData.from_buffer_copy(os.read(event.fd, 16))
    assert got.id == 2  # GPIOEVENT_EVENT_FALLING_EDGE
    assert 0 < got.timestamp - start < 1000
    info = LineInfoV1(line_offset=17)
    fcntl.ioctl(chip, GET_LINEINFO, info)
    assert (info.flags, info.name, info.consumer) == (1 | 2, b"GPIO17", b"v1")  # KERNEL|IS_OUT
    config = HandleConfig(flags=H_INPUT | H_PULL_DOWN)
    fcntl.ioctl(handle.fd, HANDLE_SET_CONFIG, config)
    fcntl.ioctl(chip, GET_LINEINFO, info)
    assert info.flags == 1 | 64  # KERNEL | BIAS_PULL_DOWN
    assert _errno_of(fcntl.ioctl, handle.fd, HANDLE_SET_VALUES, HandleData()) == errno.EPERM
    assert _errno_of(fcntl.ioctl, event.fd, HANDLE_SET_VALUES, HandleData()) == errno.EINVAL
    bad = EventRequest(lineoffset=23, handleflags=H_OUTPUT, eventflags=1)
    assert _errno_of(fcntl.ioctl, chip, GET_LINEEVENT, bad) == errno.EINVAL
    zero = HandleRequest(flags=H_INPUT, lines=0)
    assert _errno_of(fcntl.ioctl, chip, GET_LINEHANDLE, zero) == errno.EINVAL
    od_in = HandleRequest(flags=H_INPUT | H_OPEN_DRAIN, lines=1)
    assert _errno_of(fcntl.ioctl, chip, GET_LINEHANDLE, od_in) == errno.EINVAL
    busy = HandleRequest(flags=H_INPUT, lines=1)
    busy.lineoffsets[0] = 3
    assert _errno_of(fcntl.ioctl, chip, GET_LINEHANDLE, busy) == errno.EBUSY  # i2c1's SCL
    os.close(handle.fd)
    os.close(event.fd)


def test_python_periphery_v2_gpio(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        out = Cdev2GPIO(CHIP, 17, "low")
        inp = Cdev2GPIO(CHIP, "GPIO27", "in", edge="both", bias="pull_down")
        try:
            assert (inp.name, inp.label, inp.chip_label) == (
                "GPIO27",
                "periphery",
                "pinctrl-bcm2711",
            )
            assert inp.read() is False
            before = time.time_ns()  # periphery asks for CLOCK_REALTIME stamps
            out.write(True)
            assert inp.poll(1.0)
            event = inp.read_event()
            assert event.edge == "rising"
            assert 0 < event.timestamp - before < 1000
            assert inp.poll(0.2) is False
            out.inverted = True  # re-requests the line, active low: True drives it low
            out.write(True)
            assert inp.poll(0.1)
            assert inp.read_event().edge == "falling"
        finally:
            out.close()
            inp.close()


def test_python_periphery_v1_gpio(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        out = Cdev1GPIO(CHIP, 5, "high")
        inp = Cdev1GPIO(CHIP, 6, "in", edge="falling")
        try:
            assert inp.read() is True
            out.write(False)
            assert inp.poll(1.0)
            assert inp.read_event().edge == "falling"
            out.write(True)
            assert inp.poll(0.1) is False
            inp.edge = "none"  # a line handle now
            assert inp.read() is True
        finally:
            out.close()
            inp.close()


def test_a_released_output_keeps_its_level(chip: int) -> None:
    """Raspberry Pi OS's pinctrl_bcm2835.persist_gpio_outputs=y: bcm2835_pmx_free() leaves a
    GPIO output as it is (upstream, or with dtparam=strict_gpiod, it becomes an input)."""
    out = _request(chip, [17], OUTPUT)
    _set(out.fd, 1)
    os.close(out.fd)
    inp = _request(chip, [27], INPUT)
    time.sleep(0.001)
    assert _get(inp.fd) == 1
    info = LineInfo(offset=17)
    fcntl.ioctl(chip, V2_GET_LINEINFO, info)
    assert info.flags == OUTPUT  # no longer used, still an output
