"""RPi.GPIO 0.7.1 on the emulated board: the stand-in does what the C extension does.

Register traffic as ``c_gpio.c`` writes it through ``/dev/gpiomem`` (pull first, then
GPFSEL; the BCM2835 GPPUD/GPPUDCLK sequence, the BCM2711 GPIO_PUP_PDN_CNTRL registers,
soc-facts §3.6), edge detection as ``event_gpio.c`` gets it from sysfs (GPREN/GPFEN, the
synchronous detectors of soc-facts §3.5), software PWM edges on the pin in simulated time,
and the C module's exceptions, messages and warnings. The MirkoPC's test jig has the
GPIO17-GPIO27 loop wire (J8-11/J8-13).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import RPi.GPIO as GPIO  # the stand-in, under --hil-target=sim

from pihil_emulator.userspace import UserspaceError
from pihil_emulator.userspace import rpi_gpio_chip as chip
from rpiboard_pihil import RpiBoard

MS = 1_000_000
IN_USE = (
    "This channel is already in use, continuing anyway.  Use GPIO.setwarnings(False) to "
    "disable warnings."
)


def _board(name: str, *jumpers: tuple[str, str]) -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": name})
    for a, b in jumpers:
        board.simulation.connect(a, b)
    yield board
    board.close()


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    yield from _board("mirkopc")


@pytest.fixture
def rpi4b() -> Iterator[RpiBoard]:
    """A Pi 4 with a jumper J8-11 (GPIO17) to J8-13 (GPIO27)."""
    yield from _board("rpi-4b", ("J8-11", "J8-13"))


@pytest.fixture
def bplus() -> Iterator[RpiBoard]:
    """A B+ (BCM2835: GPPUD/GPPUDCLK pulls) with the same jumper."""
    yield from _board("rpi-bplus", ("J8-11", "J8-13"))


def _gpio_block(board: RpiBoard) -> Any:
    return board.simulation.emulator.soc.gpio


def _log_writes(board: RpiBoard) -> list[tuple[str, int]]:
    """Every register write to the GPIO block from now on, by register name."""
    block = _gpio_block(board)
    log: list[tuple[str, int]] = []
    write = block.write

    def logged(key: str | int, value: int) -> None:
        log.append((block.MAP.get(key, block.name).name, value))
        write(key, value)

    block.write = logged
    return log


def _blink_and_read(times: int) -> list[int]:
    """An RPi.GPIO script as written for a Pi: drive GPIO17, read the loop on GPIO27."""
    GPIO.setmode(GPIO.BCM)
    GPIO.setup(27, GPIO.IN, pull_up_down=GPIO.PUD_OFF)
    GPIO.setup(17, GPIO.OUT, initial=GPIO.LOW)
    seen = []
    for _ in range(times):
        GPIO.output(17, GPIO.HIGH)
        time.sleep(0.5)
        seen.append(GPIO.input(27))
        GPIO.output(17, GPIO.LOW)
        time.sleep(0.5)
        seen.append(GPIO.input(27))
    GPIO.cleanup()
    return seen


def test_a_script_drives_gpio17_and_reads_it_on_gpio27(mirkopc: RpiBoard) -> None:
    block = _gpio_block(mirkopc)
    with mirkopc.simulation.userspace() as space:
        log = _log_writes(mirkopc)
        assert _blink_and_read(3) == [1, 0, 1, 0, 1, 0]
        assert space.simulated_s == pytest.approx(3.0, abs=1e-4)
    # setup(17, OUT, initial=LOW) as c_gpio.c: the latch, the pull (off), then GPFSEL
    names = [name for name, _ in log]
    first = names.index("GPCLR0")
    assert names[first : first + 3] == ["GPCLR0", "GPIO_PUP_PDN_CNTRL_REG1", "GPFSEL1"]
    assert ("GPSET0", 1 << 17) in log
    assert block.function(17) == "input"  # cleanup() puts every channel back to input


def test_pulls_on_the_bcm2711_registers(mirkopc: RpiBoard) -> None:
    """soc-facts §3.6: GPIO_PUP_PDN_CNTRL 01 = up, 10 = down, 16 lines per register."""
    block = _gpio_block(mirkopc)
    with mirkopc.simulation.userspace():
        GPIO.setmode(GPIO.BCM)
        GPIO.setup(17, GPIO.IN, pull_up_down=GPIO.PUD_OFF)  # the loop's other end floats
        for pud, level, code, name in (
            (GPIO.PUD_UP, 1, 0b01, "up"),
            (GPIO.PUD_DOWN, 0, 0b10, "down"),
        ):
            GPIO.setup(27, GPIO.IN, pull_up_down=pud)
            time.sleep(0.001)
            assert GPIO.input(27) == level
            assert GPIO.input(17) == level
            assert block.read("GPIO_PUP_PDN_CNTRL_REG1") >> 22 & 0b11 == code
            assert block.pull(27) == name
        GPIO.cleanup()
        assert block.pull(27) == "none"
        assert block.pull(17) == "none"


def test_pulls_by_the_bcm2835_gppud_sequence(bplus: RpiBoard) -> None:
    """soc-facts §3.6: GPPUD (10 = up), wait, clock it into the pad, wait, remove both."""
    block = _gpio_block(bplus)
    with bplus.simulation.userspace():
        GPIO.setmode(GPIO.BCM)
        GPIO.setup(17, GPIO.IN)
        log = _log_writes(bplus)
        start = bplus.simulation.now_ns
        GPIO.setup(27, GPIO.IN, pull_up_down=GPIO.PUD_UP)
        assert bplus.simulation.now_ns - start == 2 * chip.SHORT_WAIT_NS  # two short_wait()s
        assert log == [
            ("GPPUD", 0b10),
            ("GPPUDCLK0", 1 << 27),
            ("GPPUD", 0),
            ("GPPUDCLK0", 0),
            ("GPFSEL2", block.read("GPFSEL2")),
        ]
        assert block.pull(27) == "up"
        assert GPIO.input(27) == 1
        GPIO.setup(27, GPIO.IN, pull_up_down=GPIO.PUD_DOWN)
        assert ("GPPUD", 0b01) in log
        assert block.pull(27) == "down"
        GPIO.cleanup()


def test_board_numbering_from_the_header(rpi4b: RpiBoard) -> None:
    block = _gpio_block(rpi4b)
    with rpi4b.simulation.userspace():
        GPIO.setmode(GPIO.BOARD)
        assert GPIO.getmode() == GPIO.BOARD
        GPIO.setup(13, GPIO.IN)
        GPIO.setup(11, GPIO.OUT, initial=GPIO.HIGH)
        assert block.read("GPFSEL1") >> 21 & 0b111 == 0b001  # soc-facts §3.3: 001 = output
        assert block.output_latch(17)
        assert GPIO.input(13) == GPIO.HIGH
        assert GPIO.gpio_function(11) == GPIO.OUT
        assert GPIO.gpio_function(13) == GPIO.IN
        assert GPIO.gpio_function(3) == GPIO.I2C  # J8-03: GPIO2, ALT0 (i2c1)
        for pin in (1, 6, 41, 0):  # 3V3, GND, beyond the header
            with pytest.raises(ValueError, match="The channel sent is invalid on a Raspberry Pi"):
                GPIO.setup(pin, GPIO.OUT)
        GPIO.cleanup()


@pytest.mark.parametrize(
    ("profile", "table", "p1"),
    [
        ("rpi-b-rev1", chip.PIN_TO_GPIO_REV1, 1),
        ("rpi-b-rev2", chip.PIN_TO_GPIO_REV2, 2),
        ("rpi-bplus", chip.PIN_TO_GPIO_REV3, 3),
        ("rpi-4b", chip.PIN_TO_GPIO_REV3, 3),
    ],
)
def test_header_tables_are_the_c_modules(profile: str, table: tuple[int, ...], p1: int) -> None:
    """The profile's P1/J8 table gives BOARD numbers; it agrees with common.c's pin_to_gpio."""
    for board in _board(profile):
        with board.simulation.userspace() as space:
            assert chip.header_gpios(space) == {n: g for n, g in enumerate(table) if g != -1}
            assert GPIO.RPI_INFO["P1_REVISION"] == p1 == GPIO.RPI_REVISION


@pytest.mark.parametrize(
    ("profile", "info"),
    [
        ("mirkopc", (0, "c03140", "Compute Module 4", "Sony UK", "BCM2711", "4G")),
        ("rpi-4b", (3, "c03114", "Pi 4 Model B", "Sony UK", "BCM2711", "4G")),
        ("rpi-bplus", (3, "10", "Model B+", "Sony UK", "BCM2835", "512M")),
        ("rpi-b-rev1", (1, "2", "Model B", "Egoman", "BCM2835", "256M")),
    ],
)
def test_rpi_info_from_the_revision_code(profile: str, info: tuple[Any, ...]) -> None:
    """cpuinfo.c: the device-tree revision printed with %x (old codes lose their zeros)."""
    keys = ("P1_REVISION", "REVISION", "TYPE", "MANUFACTURER", "PROCESSOR", "RAM")
    for board in _board(profile):
        with board.simulation.userspace():
            assert dict(zip(keys, info, strict=True)) == GPIO.RPI_INFO
            assert list(GPIO.RPI_INFO) == list(keys)
    with pytest.raises(UserspaceError):
        GPIO.RPI_INFO  # noqa: B018 - the board's, only inside a userspace


def test_a_compute_module_refuses_board_numbering(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        with pytest.raises(RuntimeError) as refused:
            GPIO.setmode(GPIO.BOARD)
        assert str(refused.value) == "BOARD numbering system not applicable on compute module"
        GPIO.setmode(GPIO.BCM)
        with pytest.raises(ValueError, match=r"^A different mode has already been set!$"):
            GPIO.setmode(GPIO.BOARD)


def _loop(board: RpiBoard) -> None:
    GPIO.setmode(GPIO.BCM)
    GPIO.setup(27, GPIO.IN)
    GPIO.setup(17, GPIO.OUT, initial=GPIO.LOW)


def _later(seconds: float, action: Callable[[], None]) -> None:
    timer = threading.Timer(seconds, action)
    timer.start()


def test_wait_for_edge_times_out_in_simulated_time(mirkopc: RpiBoard) -> None:
    sim = mirkopc.simulation
    window = _gpio_block(mirkopc).sync_window_ns  # soc-facts §3.5: two samples of the pin
    with sim.userspace() as space:
        _loop(mirkopc)
        start = sim.now_ns
        assert GPIO.wait_for_edge(27, GPIO.RISING, timeout=200) is None
        assert sim.now_ns - start == 200 * MS
        _later(0.1, lambda: GPIO.output(17, GPIO.HIGH))
        start = sim.now_ns
        assert GPIO.wait_for_edge(27, GPIO.RISING, timeout=500) == 27
        assert sim.now_ns - start == 100 * MS + window
        _later(0.05, lambda: GPIO.output(17, GPIO.LOW))
        assert GPIO.wait_for_edge(27, GPIO.FALLING) == 27  # no timeout: the edge ends it
        GPIO.cleanup()
        assert space.simulated_s < 0.4


def test_callbacks_bouncetime_and_event_detected(mirkopc: RpiBoard) -> None:
    calls: list[tuple[int, float]] = []

    def on_fall(channel: int) -> None:
        calls.append((channel, time.monotonic()))

    def bouncy_press() -> None:  # three falling edges within 8 ms
        for level in (0, 1, 0, 1, 0):
            GPIO.output(17, level)
            time.sleep(0.002)
        GPIO.output(17, 1)

    with mirkopc.simulation.userspace():
        _loop(mirkopc)
        GPIO.output(17, GPIO.HIGH)
        GPIO.add_event_detect(27, GPIO.FALLING, callback=on_fall, bouncetime=200)
        time.sleep(0.01)
        assert GPIO.event_detected(27) is False
        t0 = time.monotonic()
        bouncy_press()
        time.sleep(0.5)
        bouncy_press()
        time.sleep(0.1)
        assert [c for c, _ in calls] == [27, 27]
        assert [round(t - t0, 3) for _, t in calls] == [0.0, 0.51]
        assert GPIO.event_detected(27) is True
        assert GPIO.event_detected(27) is False
        GPIO.remove_event_detect(27)
        assert _gpio_block(mirkopc).read("GPFEN0") >> 27 & 1 == 0  # the interrupt is freed

        calls.clear()  # without bouncetime every falling edge is a callback
        GPIO.add_event_detect(27, GPIO.FALLING, callback=on_fall)
        time.sleep(0.01)
        bouncy_press()
        time.sleep(0.01)
        assert len(calls) == 3
        GPIO.remove_event_detect(27)
        GPIO.cleanup()


def test_each_added_callback_runs_once_per_callback(mirkopc: RpiBoard) -> None:
    """py_gpio.c add_py_callback adds run_py_callbacks to the edge callbacks every time, so
    with two callbacks on a channel each runs twice per event (the C module's behaviour)."""
    hits: list[str] = []
    with mirkopc.simulation.userspace():
        _loop(mirkopc)
        GPIO.add_event_detect(27, GPIO.RISING, callback=lambda ch: hits.append("a"))
        GPIO.add_event_callback(27, lambda ch: hits.append("b"))
        time.sleep(0.01)
        GPIO.output(17, GPIO.HIGH)
        time.sleep(0.01)
        assert sorted(hits) == ["a", "a", "b", "b"]
        GPIO.cleanup()


def test_a_callback_that_raises_is_printed_and_detection_goes_on(
    mirkopc: RpiBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    count = [0]

    def broken(channel: int) -> None:
        count[0] += 1
        raise ZeroDivisionError("in the callback")

    with mirkopc.simulation.userspace():
        _loop(mirkopc)
        GPIO.add_event_detect(27, GPIO.BOTH, callback=broken)
        time.sleep(0.01)
        for level in (1, 0):
            GPIO.output(17, level)
            time.sleep(0.01)
        assert count[0] == 2
        GPIO.cleanup()
    assert capsys.readouterr().err.count("ZeroDivisionError: in the callback") == 2


def _levels(board: RpiBoard, line: int) -> tuple[list[tuple[int, bool]], Callable[[], None]]:
    edges: list[tuple[int, bool]] = []
    unwatch = _gpio_block(board).net(line).watch(lambda _n, level, t: edges.append((t, level)))
    return edges, unwatch


def _high_and_period(edges: list[tuple[int, bool]]) -> tuple[set[int], set[int]]:
    rises = [t for t, level in edges if level]
    falls = [t for t, level in edges if not level]
    highs = {f - r for r, f in zip(rises, [f for f in falls if f > rises[0]], strict=False)}
    return highs, {b - a for a, b in itertools.pairwise(rises)}


def test_software_pwm_duty_and_frequency_on_the_pin(mirkopc: RpiBoard) -> None:
    """soft_pwm.c: 100 Hz at 25 % is 2.5 ms high in every 10 ms, in simulated time."""
    with mirkopc.simulation.userspace():
        GPIO.setmode(GPIO.BCM)
        GPIO.setup(17, GPIO.OUT)
        pwm = GPIO.PWM(17, 100)
        edges, unwatch = _levels(mirkopc, 17)
        pwm.start(25)
        time.sleep(0.1)
        assert _high_and_period(edges) == ({int(2.5 * MS)}, {10 * MS})
        edges.clear()
        pwm.ChangeDutyCycle(75)
        pwm.ChangeFrequency(50)
        time.sleep(0.021)
        edges.clear()
        time.sleep(0.2)
        assert _high_and_period(edges) == ({15 * MS}, {20 * MS})
        pwm.stop()
        time.sleep(0.05)
        edges.clear()
        time.sleep(0.05)
        assert edges == []
        assert GPIO.input(17) == GPIO.LOW
        with pytest.raises(ValueError, match=r"^dutycycle must have a value from 0\.0 to 100\.0$"):
            pwm.start(101)
        pwm.start(50)  # soft_pwm.c: stop() dropped the record; a new one runs at 1 kHz
        time.sleep(0.01)
        edges.clear()
        time.sleep(0.01)
        assert _high_and_period(edges) == ({MS // 2}, {MS})
        pwm.stop()
        unwatch()
        GPIO.cleanup()


def _message(fn: Callable[[], object], kind: type[BaseException]) -> str:
    with pytest.raises(kind) as caught:
        fn()
    return str(caught.value)


def test_the_c_modules_errors(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        assert _message(lambda: GPIO.remove_event_detect(27), RuntimeError) == (
            "Please set pin numbering mode using GPIO.setmode(GPIO.BOARD) or GPIO.setmode(GPIO.BCM)"
        )
        assert _message(lambda: GPIO.setmode(666), ValueError) == (
            "An invalid mode was passed to setmode()"
        )
        GPIO.setmode(GPIO.BCM)
        # nothing has mapped /dev/gpiomem yet (no setup/gpio_function): the C refuses
        assert _message(lambda: GPIO.remove_event_detect(27), RuntimeError) == (
            "No access to /dev/mem.  Try running as root!"
        )
        errors: list[tuple[Callable[[], object], type[BaseException], str]] = [
            (lambda: GPIO.setup(54, GPIO.OUT), ValueError, "The channel sent is invalid on a Raspberry Pi"),
            (lambda: GPIO.setup("d", GPIO.OUT), ValueError, "Channel must be an integer or list/tuple of integers"),
            (lambda: GPIO.setup(("d", 17), GPIO.OUT), ValueError, "Channel must be an integer"),
            (lambda: GPIO.setup(17, 5), ValueError, "An invalid direction was passed to setup()"),
            (lambda: GPIO.setup(17, GPIO.OUT, pull_up_down=GPIO.PUD_UP), ValueError, "pull_up_down parameter is not valid for outputs"),
            (lambda: GPIO.setup(17, GPIO.IN, initial=GPIO.LOW), ValueError, "initial parameter is not valid for inputs"),
            (lambda: GPIO.setup(17, GPIO.IN, pull_up_down=GPIO.HIGH), ValueError, "Invalid value for pull_up_down - should be either PUD_OFF, PUD_UP or PUD_DOWN"),
            (lambda: GPIO.output(17, GPIO.HIGH), RuntimeError, "The GPIO channel has not been set up as an OUTPUT"),
            (lambda: GPIO.input(17), RuntimeError, "You must setup() the GPIO channel first"),
            (lambda: GPIO.output(17, 0.5), ValueError, "Value must be an integer/boolean or a list/tuple of integers/booleans"),
            (lambda: GPIO.output([17, 27], [0, 0, 0]), RuntimeError, "Number of channels != number of values"),
            (lambda: GPIO.output(17, (0, 0)), RuntimeError, "Number of channels != number of values"),
            (lambda: GPIO.add_event_detect(27, GPIO.RISING, callback=None), TypeError, "Parameter must be callable"),
            (lambda: GPIO.add_event_detect(27, GPIO.RISING), RuntimeError, "You must setup() the GPIO channel as an input first"),
            (lambda: GPIO.wait_for_edge(27, GPIO.RISING, timeout="beer"), TypeError, "'str' object cannot be interpreted as an integer"),
            (lambda: GPIO.cleanup(None), ValueError, "Channel must be an integer or list/tuple of integers"),
            (lambda: GPIO.PWM(17, 50), RuntimeError, "You must setup() the GPIO channel as an output first"),
        ]  # fmt: skip
        for fn, kind, text in errors:
            assert _message(fn, kind) == text
        GPIO.setup([17, 22], GPIO.OUT)
        GPIO.setup(27, GPIO.IN)
        GPIO.output((17, 22), (1, 0))
        assert _message(lambda: GPIO.output([17, 27], 1), RuntimeError) == (
            "The GPIO channel has not been set up as an OUTPUT"
        )
        assert GPIO.input(27) == 1  # GPIO17 was written before GPIO27 failed, as in the C
        later: list[tuple[Callable[[], object], type[BaseException], str]] = [
            (lambda: GPIO.add_event_detect(27, GPIO.LOW), ValueError, "The edge must be set to RISING, FALLING or BOTH"),
            (lambda: GPIO.add_event_detect(27, GPIO.RISING, bouncetime=0), ValueError, "Bouncetime must be greater than 0"),
            (lambda: GPIO.wait_for_edge(27, GPIO.RISING, timeout=-5), ValueError, "Timeout must be greater than 0"),
            (lambda: GPIO.add_event_callback(27, print), RuntimeError, "Add event detection using add_event_detect first before adding a callback"),
            (lambda: GPIO.PWM(17, 0), ValueError, "frequency must be greater than 0.0"),
        ]  # fmt: skip
        for fn, kind, text in later:
            assert _message(fn, kind) == text
        GPIO.add_event_detect(27, GPIO.RISING, bouncetime=123)
        assert _message(lambda: GPIO.add_event_detect(27, GPIO.RISING), RuntimeError) == (
            "Conflicting edge detection already enabled for this GPIO channel"
        )
        conflicting = lambda: GPIO.wait_for_edge(27, GPIO.RISING, bouncetime=321)  # noqa: E731
        assert _message(conflicting, RuntimeError) == (
            "Conflicting edge detection events already exist for this GPIO channel"
        )
        GPIO.remove_event_detect(27)
        pwm = GPIO.PWM(17, 50)
        assert _message(lambda: GPIO.PWM(17, 49), RuntimeError) == (
            "A PWM object already exists for this GPIO channel"
        )
        pwm.stop()
        GPIO.cleanup()


def test_the_c_modules_warnings(mirkopc: RpiBoard, rpi4b: RpiBoard) -> None:
    in_use = re.escape(IN_USE)
    with mirkopc.simulation.userspace():
        GPIO.setmode(GPIO.BCM)
        with pytest.warns(RuntimeWarning, match=in_use):
            GPIO.setup(18, GPIO.OUT)  # PCM (dtparam=i2s=on): ALT0
        mirkopc.gpios[22].set_output(False)  # an output this program did not set up
        with pytest.warns(RuntimeWarning, match=in_use):
            GPIO.setup(22, GPIO.IN)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            GPIO.setup(22, GPIO.OUT)  # set up by this program now: no warning
        with pytest.warns(RuntimeWarning) as record:
            GPIO.setup(2, GPIO.IN, pull_up_down=GPIO.PUD_UP)  # I2C1's SDA, ALT0
        # in use, but no "physical pull up" warning: the C skips it on a compute module
        assert [str(w.message) for w in record] == [IN_USE]
        GPIO.cleanup()
        with pytest.warns(RuntimeWarning, match="No channels have been set up yet - nothing"):
            GPIO.cleanup()
        GPIO.setwarnings(False)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            GPIO.setmode(GPIO.BCM)
            GPIO.setup(18, GPIO.OUT)
            GPIO.cleanup()
            GPIO.cleanup()
    with rpi4b.simulation.userspace():
        GPIO.setmode(GPIO.BOARD)
        with pytest.warns(RuntimeWarning) as record:
            GPIO.setup(3, GPIO.IN, pull_up_down=GPIO.PUD_DOWN)  # J8-03: GPIO2, SDA1 (ALT0)
        assert [str(w.message) for w in record] == [
            IN_USE,
            "A physical pull up resistor is fitted on this channel!",
        ]
        assert record[0].filename == __file__  # stacklevel: the caller's line, as the C's
        GPIO.cleanup()


def test_cleanup_of_channels(mirkopc: RpiBoard) -> None:
    block = _gpio_block(mirkopc)
    with mirkopc.simulation.userspace():
        GPIO.setmode(GPIO.BCM)
        GPIO.setup([17, 22], GPIO.OUT)
        GPIO.setup(27, GPIO.IN, pull_up_down=GPIO.PUD_UP)
        GPIO.add_event_detect(27, GPIO.BOTH)
        assert block.read("GPREN0") >> 27 & 1 == 1 == block.read("GPFEN0") >> 27 & 1
        GPIO.cleanup(27)
        assert GPIO.getmode() == GPIO.BCM  # one channel: the mode stays
        assert block.read("GPREN0") >> 27 & 1 == 0
        assert block.pull(27) == "none"
        GPIO.cleanup((17,))
        assert block.function(17) == "input"
        assert GPIO.gpio_function(22) == GPIO.OUT
        with pytest.raises(RuntimeError, match="You must setup"):
            GPIO.input(27)
        GPIO.cleanup()
        assert GPIO.getmode() is None
        assert block.function(22) == "input"


def test_state_is_the_userspaces_and_calls_outside_raise(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        GPIO.setmode(GPIO.BCM)
        GPIO.setup(17, GPIO.OUT)
    with pytest.raises(UserspaceError, match="no pihil userspace is active"):
        GPIO.setmode(GPIO.BCM)
    with pytest.raises(UserspaceError):
        GPIO.output(17, 1)
    with mirkopc.simulation.userspace():  # a new "process": nothing set up
        assert GPIO.getmode() is None
        assert _gpio_block(mirkopc).function(17) == "output"  # the pin stays as left
