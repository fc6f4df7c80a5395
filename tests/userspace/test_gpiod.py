"""libgpiod's Python binding (gpiod 2.x) unmodified on the emulated boards' /dev/gpiochip0.

The real ``gpiod`` package runs; only its C extension ``gpiod._ext`` is the pihil stand-in,
which makes the same system calls on the emulated GPIO character device (gpiolib-cdev.c).
The MirkoPC test jig's loop wires (profile ``test_jig.jumpers``: J8-11/J8-13 = GPIO17-GPIO27,
J8-29/J8-31 = GPIO5-GPIO6) join an output to an input.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import gpiod
import pytest
from gpiod.line import Bias, Clock, Direction, Drive, Edge, Value

from pihil_emulator.userspace import standin_gpiod_ext
from rpiboard_pihil import RpiBoard

CHIP = "/dev/gpiochip0"
OUT = gpiod.LineSettings(direction=Direction.OUTPUT, output_value=Value.INACTIVE)
BOTH = gpiod.LineSettings(direction=Direction.INPUT, edge_detection=Edge.BOTH)


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board
    board.close()


@pytest.fixture
def space(mirkopc: RpiBoard) -> Iterator[object]:
    with mirkopc.simulation.userspace() as userspace:
        yield userspace


def _sync_window_ns(board: RpiBoard) -> int:
    return int(board.simulation.emulator.soc.gpio.sync_window_ns)


@pytest.mark.usefixtures("space")
def test_an_output_drives_the_jig_loop_wire() -> None:
    inp_settings = gpiod.LineSettings(direction=Direction.INPUT)
    with (
        gpiod.request_lines(CHIP, {"GPIO17": OUT}, consumer="drive") as out,
        gpiod.request_lines(CHIP, {27: inp_settings}) as inp,
    ):
        assert inp.get_value(27) is Value.INACTIVE
        out.set_value("GPIO17", Value.ACTIVE)
        time.sleep(0.001)
        assert inp.get_values() == [Value.ACTIVE]
        out.set_values({17: Value.INACTIVE})
        time.sleep(0.001)
        assert inp.get_value(27) is Value.INACTIVE
        assert out.get_value(17) is Value.INACTIVE  # an output's level reads back


def test_edge_events_are_stamped_in_simulated_time(mirkopc: RpiBoard) -> None:
    """gpiolib-cdev's edge_irq_handler stamps with ktime_get_ns (CLOCK_MONOTONIC): the
    userspace's time.monotonic_ns() at the detection, one synchronous-detector window after
    the pin changed (soc-facts §3.5: "011" sampled on the system clock)."""
    window = _sync_window_ns(mirkopc)
    with (
        mirkopc.simulation.userspace(),
        gpiod.request_lines(CHIP, {17: OUT}) as out,
        gpiod.request_lines(CHIP, {27: BOTH}, consumer="watch") as inp,
    ):
        assert inp.wait_edge_events(timedelta(seconds=0)) is False
        t0 = time.monotonic_ns()
        assert inp.wait_edge_events(timedelta(milliseconds=250)) is False
        assert time.monotonic_ns() - t0 == 250_000_000  # the timeout, simulated
        rise_at = time.monotonic_ns()
        out.set_value(17, Value.ACTIVE)
        assert inp.wait_edge_events(timedelta(seconds=1)) is True
        assert time.monotonic_ns() - rise_at == window  # woken at the detection
        time.sleep(0.02)
        fall_at = time.monotonic_ns()
        out.set_value(17, Value.INACTIVE)
        time.sleep(0.01)
        events = inp.read_edge_events()
    assert [e.event_type for e in events] == [
        gpiod.EdgeEvent.Type.RISING_EDGE,
        gpiod.EdgeEvent.Type.FALLING_EDGE,
    ]
    assert [e.timestamp_ns for e in events] == [rise_at + window, fall_at + window]
    assert [(e.line_offset, e.line_seqno, e.global_seqno) for e in events] == [
        (27, 1, 1),
        (27, 2, 2),
    ]


def test_realtime_event_clock_reads_time_time(mirkopc: RpiBoard) -> None:
    settings = gpiod.LineSettings(
        direction=Direction.INPUT, edge_detection=Edge.RISING, event_clock=Clock.REALTIME
    )
    with (
        mirkopc.simulation.userspace(epoch_s=1_700_000_000),
        gpiod.request_lines(CHIP, {17: OUT}) as out,
        gpiod.request_lines(CHIP, {27: settings}) as inp,
    ):
        before = time.time_ns()
        out.set_value(17, Value.ACTIVE)
        assert inp.wait_edge_events(1.0)
        (event,) = inp.read_edge_events()
        info = gpiod.Chip(CHIP).get_line_info(27)
    assert 0 < event.timestamp_ns - before <= _sync_window_ns(mirkopc)
    assert event.timestamp_ns // 1_000_000_000 == 1_700_000_000
    assert info.event_clock is Clock.REALTIME
    assert info.edge_detection is Edge.RISING


@pytest.mark.usefixtures("space")
def test_debounce_drops_a_glitch_and_stamps_the_settled_edge(mirkopc: RpiBoard) -> None:
    """gpiolib-cdev debounces in software on this chip (pinconf has no debounce): an edge
    counts once the level has held for the period, and is stamped then."""
    period = timedelta(milliseconds=5)
    settings = gpiod.LineSettings(
        direction=Direction.INPUT, edge_detection=Edge.BOTH, debounce_period=period
    )
    with (
        gpiod.request_lines(CHIP, {17: OUT}) as out,
        gpiod.request_lines(CHIP, {27: settings}) as inp,
    ):
        info = gpiod.Chip(CHIP).get_line_info(27)
        assert info.debounced
        assert info.debounce_period == period
        out.set_value(17, Value.ACTIVE)  # a 1 ms glitch: shorter than the period
        time.sleep(0.001)
        out.set_value(17, Value.INACTIVE)
        assert inp.wait_edge_events(timedelta(milliseconds=50)) is False
        rise_at = time.monotonic_ns()
        out.set_value(17, Value.ACTIVE)
        assert inp.get_value(27) is Value.INACTIVE  # the debounced level, not the pin's yet
        assert inp.wait_edge_events(timedelta(seconds=1))
        woke = time.monotonic_ns() - rise_at
        (event,) = inp.read_edge_events()
        assert inp.get_value(27) is Value.ACTIVE
    assert event.event_type is gpiod.EdgeEvent.Type.RISING_EDGE
    assert woke == 5_000_000 + _sync_window_ns(mirkopc)  # the period after the detection
    assert event.timestamp_ns - rise_at == woke


@pytest.mark.usefixtures("space")
def test_bias_pull_up_on_a_floating_pin_reads_1() -> None:
    """GPIO23 (J8-16) has nothing on the MirkoPC and its reset pull is down (soc-facts §3.7)."""
    as_is = gpiod.LineSettings(direction=Direction.INPUT)
    with gpiod.request_lines(CHIP, {23: as_is}) as line:
        assert line.get_value(23) is Value.INACTIVE
        line.reconfigure_lines(
            {23: gpiod.LineSettings(direction=Direction.INPUT, bias=Bias.PULL_UP)}
        )
        assert line.get_value(23) is Value.ACTIVE
        assert gpiod.Chip(CHIP).get_line_info(23).bias is Bias.PULL_UP
        line.reconfigure_lines(
            {23: gpiod.LineSettings(direction=Direction.INPUT, bias=Bias.PULL_DOWN)}
        )
        assert line.get_value(23) is Value.INACTIVE


@pytest.mark.usefixtures("space")
def test_active_low_inverts_values_and_edges() -> None:
    low_out = gpiod.LineSettings(
        direction=Direction.OUTPUT, active_low=True, output_value=Value.ACTIVE
    )
    low_in = gpiod.LineSettings(
        direction=Direction.INPUT, active_low=True, edge_detection=Edge.RISING
    )
    plain_in = gpiod.LineSettings(direction=Direction.INPUT)
    with gpiod.request_lines(CHIP, {17: low_out}) as out:
        with gpiod.request_lines(CHIP, {27: plain_in}) as inp:
            assert inp.get_value(27) is Value.INACTIVE  # active (low) drives the pin low
        with gpiod.request_lines(CHIP, {27: low_in}) as inp:
            assert inp.get_value(27) is Value.ACTIVE
            out.set_value(17, Value.INACTIVE)  # the pin goes high: a falling logical edge
            assert inp.wait_edge_events(0.1) is False  # rising-only: nothing
            out.set_value(17, Value.ACTIVE)  # the pin goes low: a rising logical edge
            assert inp.wait_edge_events(0.1)
            (event,) = inp.read_edge_events()
            assert event.event_type is gpiod.EdgeEvent.Type.RISING_EDGE
            assert gpiod.Chip(CHIP).get_line_info(27).active_low


@pytest.mark.usefixtures("space")
def test_open_drain_releases_the_line_for_its_pull_up() -> None:
    """gpiolib emulates open drain on this chip: a 1 makes the pin an input."""
    od = gpiod.LineSettings(
        direction=Direction.OUTPUT, drive=Drive.OPEN_DRAIN, output_value=Value.ACTIVE
    )
    up = gpiod.LineSettings(direction=Direction.INPUT, bias=Bias.PULL_UP)
    with gpiod.request_lines(CHIP, {5: od}) as out, gpiod.request_lines(CHIP, {6: up}) as inp:
        assert inp.get_value(6) is Value.ACTIVE
        out.set_value(5, Value.INACTIVE)
        assert inp.get_value(6) is Value.INACTIVE
        info = gpiod.Chip(CHIP).get_line_info(5)
        assert (info.direction, info.drive) == (Direction.OUTPUT, Drive.OPEN_DRAIN)


def test_a_line_a_bus_holds_is_busy(mirkopc: RpiBoard) -> None:
    """GPIO2 is I2C1's SDA on the MirkoPC: used, and a request fails with EBUSY."""
    with mirkopc.simulation.userspace(), gpiod.Chip(CHIP) as chip:
        info = chip.get_line_info(2)
        assert info.used
        assert info.consumer is None
        with pytest.raises(OSError, match="i2c1") as busy:
            chip.request_lines({2: None})
        assert busy.value.errno == errno.EBUSY
        with chip.request_lines({17: OUT}, consumer="mine"):
            with pytest.raises(OSError, match="busy") as again:
                chip.request_lines({17: OUT})
            assert again.value.errno == errno.EBUSY
        with chip.request_lines({17: OUT}):  # released: free again
            pass


@pytest.mark.parametrize(
    ("profile", "label", "lines", "names"),
    [
        (
            "mirkopc",
            "pinctrl-bcm2711",
            58,
            {0: "ID_SDA", 2: "GPIO2", 17: "GPIO17", 42: "STATUS_LED_G_CLK"},
        ),
        ("rpi-4b", "pinctrl-bcm2711", 58, {1: "ID_SCL", 27: "GPIO27", 57: "RGMII_TXD3"}),
        (
            "rpi-b-rev2",
            "pinctrl-bcm2835",
            54,
            {2: "SDA1", 17: "GPIO17", 27: "GPIO27", 28: "GPIO28"},
        ),
        ("rpi-b-rev1", "pinctrl-bcm2835", 54, {21: "GPIO21", 27: "CAM_GPIO0"}),
        ("rpi-bplus", "pinctrl-bcm2835", 54, {0: "ID_SDA", 26: "GPIO26", 47: "STATUS_LED"}),
    ],
)
def test_chip_info_and_line_names(
    profile: str, label: str, lines: int, names: dict[int, str]
) -> None:
    """pinctrl-bcm2835.c: ``pinctrl-bcm2711`` (BCM2711_NUM_GPIOS 58) or ``pinctrl-bcm2835``
    (54, soc-facts §3.1); names from the Raspberry Pi device trees' gpio-line-names."""
    board = RpiBoard("local", options={"simulate": True, "board": profile})
    try:
        with board.simulation.userspace(), gpiod.Chip(CHIP) as chip:
            info = chip.get_info()
            got = {n: chip.get_line_info(n).name for n in names}
            assert chip.line_offset_from_id(names[min(names)]) == min(names)
    finally:
        board.close()
    assert (info.name, info.label, info.num_lines) == ("gpiochip0", label, lines)
    assert got == names


@pytest.mark.usefixtures("space")
def test_line_info_shows_the_consumer_and_direction() -> None:
    with gpiod.Chip(CHIP) as chip:
        before = chip.get_line_info(17)
        assert not before.used
        assert before.consumer is None
        with chip.request_lines({17: OUT}, consumer="blinker"):
            info = chip.get_line_info("GPIO17")
            assert (info.used, info.consumer, info.direction) == (True, "blinker", Direction.OUTPUT)
        with chip.request_lines({27: None}):
            assert chip.get_line_info(27).consumer == "?"  # gpiolib's label for no consumer
        assert chip.get_line_info(17).used is False


@pytest.mark.usefixtures("space")
def test_info_events_follow_a_watched_line() -> None:
    with gpiod.Chip(CHIP) as watcher, gpiod.Chip(CHIP) as other:
        assert watcher.watch_line_info(17).used is False
        assert watcher.wait_info_event(timedelta(milliseconds=10)) is False
        request = other.request_lines({17: OUT}, consumer="app")
        request.reconfigure_lines({17: gpiod.LineSettings(direction=Direction.INPUT)})
        request.release()
        assert watcher.wait_info_event(0)
        kinds = [watcher.read_info_event() for _ in range(3)]
        watcher.unwatch_line_info(17)
        with pytest.raises(OSError, match="busy") as not_watched:
            watcher.unwatch_line_info(17)
    assert [e.event_type for e in kinds] == [
        gpiod.InfoEvent.Type.LINE_REQUESTED,
        gpiod.InfoEvent.Type.LINE_CONFIG_CHANGED,
        gpiod.InfoEvent.Type.LINE_RELEASED,
    ]
    assert kinds[0].line_info.consumer == "app"
    assert kinds[1].line_info.direction is Direction.INPUT
    assert not_watched.value.errno == errno.EBUSY


@pytest.mark.usefixtures("space")
def test_invalid_settings_are_the_kernels_errors() -> None:
    with gpiod.Chip(CHIP) as chip:
        both = gpiod.LineSettings(direction=Direction.OUTPUT, edge_detection=Edge.BOTH)
        with pytest.raises(ValueError, match="Invalid argument"):  # EINVAL: input and output
            chip.request_lines({17: both})
        od_input = gpiod.LineSettings(direction=Direction.INPUT, drive=Drive.OPEN_DRAIN)
        with pytest.raises(ValueError, match="Invalid argument"):  # drive requires an output
            chip.request_lines({17: od_input})
        hte = gpiod.LineSettings(direction=Direction.INPUT, event_clock=Clock.HTE)
        with pytest.raises(NotImplementedError):  # EOPNOTSUPP: no CONFIG_HTE on the Pi
            chip.request_lines({17: hte})
        with pytest.raises(ValueError, match="line offset"):  # gpiod checks num_lines
            chip.request_lines({58: None})
        with chip.request_lines({27: None}) as inp, pytest.raises(PermissionError):
            inp.set_value(27, Value.ACTIVE)  # EPERM: setting an input


def test_a_thread_waits_for_an_edge_while_the_main_thread_toggles(mirkopc: RpiBoard) -> None:
    got: list[gpiod.EdgeEvent] = []
    with (
        mirkopc.simulation.userspace(),
        gpiod.request_lines(CHIP, {17: OUT}) as out,
        gpiod.request_lines(CHIP, {27: BOTH}) as inp,
    ):

        def wait() -> None:
            while len(got) < 4 and inp.wait_edge_events(timedelta(seconds=5)):
                got.extend(inp.read_edge_events())

        thread = threading.Thread(target=wait)
        thread.start()
        start = time.monotonic_ns()
        for level in (Value.ACTIVE, Value.INACTIVE, Value.ACTIVE, Value.INACTIVE):
            time.sleep(0.1)
            out.set_value(17, level)
        thread.join(10)
        assert not thread.is_alive()
    window = _sync_window_ns(mirkopc)
    assert [e.timestamp_ns - start for e in got] == [n * 100_000_000 + window for n in (1, 2, 3, 4)]
    assert [e.line_seqno for e in got] == [1, 2, 3, 4]


def test_is_gpiochip_device_and_the_real_ext_comes_back(mirkopc: RpiBoard) -> None:
    real = gpiod._ext
    with mirkopc.simulation.userspace():
        assert gpiod._ext is standin_gpiod_ext
        assert getattr(gpiod.chip, "_ext") is standin_gpiod_ext  # noqa: B009
        assert gpiod.is_gpiochip_device(CHIP)
        assert not gpiod.is_gpiochip_device("/dev/i2c-1")  # a char device, not a GPIO chip
        assert not gpiod.is_gpiochip_device("/dev/gpiochip1")  # no expander modelled
        with pytest.raises(FileNotFoundError):
            gpiod.Chip("/dev/gpiochip1")
        with pytest.raises(OSError, match="No such device") as not_gpio:
            gpiod.Chip("/dev/i2c-1")
        assert not_gpio.value.errno == errno.ENODEV
    assert gpiod._ext is real
    assert getattr(gpiod.chip, "_ext") is real  # noqa: B009
    assert getattr(gpiod.line_request, "_ext") is real  # noqa: B009


def test_the_standin_matches_the_real_modules_constants() -> None:
    real = gpiod._ext
    names = [n for n in dir(real) if n.isupper()]
    assert len(names) >= 25
    assert {n: getattr(standin_gpiod_ext, n) for n in names} == {n: getattr(real, n) for n in names}


FIRST_IMPORT_INSIDE = """
import sys
from rpiboard_pihil import RpiBoard
board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
with board.simulation.userspace():
    import gpiod
    from gpiod.line import Direction
    ext_inside = gpiod._ext.__name__
    request = gpiod.request_lines("/dev/gpiochip0", {17: gpiod.LineSettings(direction=Direction.OUTPUT)})
keep = open(sys.executable, "rb")  # takes the lowest free descriptor, maybe the request's old one
request.release()  # after the userspace closed its files: must not close another file
keep.read(1)
print(ext_inside, gpiod._ext.__name__, gpiod.chip._ext.__name__)
"""


def test_gpiod_imported_first_inside_a_userspace_gets_its_real_ext_back() -> None:
    """The stand-in imports the real package before replacing its _ext, so leaving puts the
    real one back even when the program imported gpiod inside the userspace."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", FIRST_IMPORT_INSIDE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "pihil_emulator.userspace.standin_gpiod_ext",
        "gpiod._ext",
        "gpiod._ext",
    ]
