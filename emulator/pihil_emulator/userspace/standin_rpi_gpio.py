"""Stand-in for ``RPi.GPIO`` (and its C extension ``RPi._GPIO``) 0.7.1 on the emulated board.

The real module is a C extension that maps ``/dev/gpiomem`` and drives the GPIO registers
itself (``py_gpio.c`` over ``c_gpio.c``), and does edge detection through
``/sys/class/gpio`` and epoll (``event_gpio.c``) and PWM in threads (``soft_pwm.c``). This
module is ``py_gpio.c`` in Python with the same functions, keywords, constants, exception
types and messages, warnings and order of checks; `rpi_gpio_chip` does the register
writes on the emulated GPIO block (holding the session lock), `rpi_gpio_events` the edge
detection in simulated time, `rpi_gpio_pwm` the software PWM, `rpi_gpio_state` keeps the
C's globals for the userspace.

The C keeps its state in globals for the life of the process; here it lives for the
userspace (the process of the emulated board): ``setmode``, ``setup`` channels and the
warnings flag start afresh in each one. On leaving, what ``Py_AtExit`` runs is run (edge
detection cleaned up, threads ended); the pins stay as they were, as after a real script.

``RPI_INFO`` and ``RPI_REVISION`` are the board's (from its revision code, as
``cpuinfo.c`` decodes it) inside a userspace; every function, and those two names, raise
`UserspaceError` outside one (a top-level ``import RPi.GPIO`` under ``--hil-target=sim``
works; calling it needs the ``userspace`` fixture). ``BOARD`` numbering comes from the
profile's J8/P1 header table; as in the C, a Compute Module refuses it.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from . import rpi_gpio_chip as chip
from .devfs import DevFile
from .rpi_gpio_chip import (
    BCM,
    BOARD,
    HIGH,
    INPUT,
    LOW,
    MODE_UNKNOWN,
    OUTPUT,
    PY_EVENT_CONST_OFFSET,
    PY_PUD_CONST_OFFSET,
)
from .rpi_gpio_pwm import PWM
from .rpi_gpio_state import GpioState, c_int, c_long_to_int
from .rpi_gpio_state import state as _state
from .session import current

if TYPE_CHECKING:
    from pihil_emulator.userspace.session import Userspace

VERSION = "0.7.1"
# constants.c
OUT = OUTPUT
IN = INPUT
HARD_PWM = chip.PWM
SERIAL = chip.SERIAL
I2C = chip.I2C
SPI = chip.SPI
UNKNOWN = MODE_UNKNOWN
PUD_OFF = chip.PUD_OFF + PY_PUD_CONST_OFFSET
PUD_UP = chip.PUD_UP + PY_PUD_CONST_OFFSET
PUD_DOWN = chip.PUD_DOWN + PY_PUD_CONST_OFFSET
RISING = chip.RISING_EDGE + PY_EVENT_CONST_OFFSET
FALLING = chip.FALLING_EDGE + PY_EVENT_CONST_OFFSET
BOTH = chip.BOTH_EDGE + PY_EVENT_CONST_OFFSET

__all__ = [
    "BCM", "BOARD", "BOTH", "FALLING", "HARD_PWM", "HIGH", "I2C", "IN", "LOW", "OUT", "PUD_DOWN",
    "PUD_OFF", "PUD_UP", "PWM", "RISING", "SERIAL", "SPI", "UNKNOWN", "VERSION",
    "add_event_callback", "add_event_detect", "cleanup", "event_detected", "getmode",
    "gpio_function", "input", "output", "remove_event_detect", "setmode", "setup",
    "setwarnings", "wait_for_edge",
]  # fmt: skip
"""The C module's names (``RPI_INFO``/``RPI_REVISION`` left out, so that a star import
outside a userspace works)."""

_NOT_GIVEN: Any = object()
_MSG_IN_USE = (
    "This channel is already in use, continuing anyway.  Use GPIO.setwarnings(False) to "
    "disable warnings."
)
_MSG_CHANNEL_TYPES = "Channel must be an integer or list/tuple of integers"
_MSG_NOT_INPUT = "You must setup() the GPIO channel as an input first"
_MSG_BAD_EDGE = "The edge must be set to RISING, FALLING or BOTH"


def _warn(message: str, stacklevel: int) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=stacklevel + 1)


def _channels(value: Any) -> list[Any] | None:
    """A list/tuple of channels (None for one int); ValueError for anything else."""
    if isinstance(value, int):
        return None
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ValueError(_MSG_CHANNEL_TYPES)


def _channel_item(value: Any) -> int:
    if not isinstance(value, int):
        raise ValueError("Channel must be an integer")
    return c_long_to_int(value)


# -- the functions -------------------------------------------------------------------------------
def setup(channel: Any, direction: Any, pull_up_down: Any = PUD_OFF, initial: Any = -1) -> None:
    """Set up a GPIO channel or list of channels with a direction and (optional) pull/up down
    control: ``channel`` (BOARD or BCM number, or a list/tuple), ``direction`` IN or OUT,
    ``pull_up_down`` PUD_OFF (default), PUD_UP or PUD_DOWN, ``initial`` for an output."""
    direction, pud, initial = c_int(direction), c_int(pull_up_down), c_int(initial)
    chanlist = _channels(channel)
    state = _state()
    state.mmap_gpio_mem()
    if direction not in (INPUT, OUTPUT):
        raise ValueError("An invalid direction was passed to setup()")
    if direction == OUTPUT and pud != PUD_OFF:
        raise ValueError("pull_up_down parameter is not valid for outputs")
    if direction == INPUT and initial != -1:
        raise ValueError("initial parameter is not valid for inputs")
    if direction == OUTPUT:
        pud = PUD_OFF
    pud -= PY_PUD_CONST_OFFSET
    if pud not in (chip.PUD_OFF, chip.PUD_DOWN, chip.PUD_UP):
        raise ValueError(
            "Invalid value for pull_up_down - should be either PUD_OFF, PUD_UP or PUD_DOWN"
        )
    if chanlist is None:
        _setup_one(state, c_long_to_int(channel), direction, pud, initial)
        return
    for item in chanlist:
        _setup_one(state, _channel_item(item), direction, pud, initial)


def _setup_one(state: GpioState, channel: int, direction: int, pud: int, initial: int) -> None:
    gpio = state.get_gpio_number(channel)
    mem = state.mem
    func = chip.gpio_function(mem, gpio)
    if state.gpio_warnings and (
        func not in (0, 1) or (state.gpio_direction[gpio] == -1 and func == 1)
    ):
        _warn(_MSG_IN_USE, 3)
    if state.gpio_warnings and state.p1_revision != 0:
        i2c_pins = (state.p1_revision == 1 and gpio in (0, 1)) or gpio in (2, 3)
        if i2c_pins and pud in (chip.PUD_UP, chip.PUD_DOWN):
            _warn("A physical pull up resistor is fitted on this channel!", 3)
    if direction == OUTPUT and initial in (LOW, HIGH):
        chip.output_gpio(mem, gpio, initial)
    chip.setup_gpio(mem, gpio, direction, pud)
    state.gpio_direction[gpio] = direction


def cleanup(channel: Any = _NOT_GIVEN) -> None:
    """Clean up by resetting all GPIO channels that have been used by this program to INPUT
    with no pullup/pulldown and no event detection; ``channel``: one, or a list/tuple."""
    single: int | None = None
    chanlist: list[Any] | None = None
    if channel is not _NOT_GIVEN:
        chanlist = _channels(channel)
        if chanlist is None:
            single = c_long_to_int(channel)
    state = _state()
    found = False

    def cleanup_one(gpio: int) -> None:
        nonlocal found
        state.events.event_cleanup(gpio)
        if state.gpio_direction[gpio] != -1:
            chip.setup_gpio(state.mem, gpio, INPUT, chip.PUD_OFF)
            state.gpio_direction[gpio] = -1
            found = True

    if state.module_setup:
        if single is None and chanlist is None:
            state.events.event_cleanup()
            for gpio in range(54):
                if state.gpio_direction[gpio] != -1:
                    chip.setup_gpio(state.mem, gpio, INPUT, chip.PUD_OFF)
                    state.gpio_direction[gpio] = -1
                    found = True
            state.gpio_mode = MODE_UNKNOWN
        elif single is not None:
            cleanup_one(state.get_gpio_number(single))
        else:
            for item in chanlist or ():
                cleanup_one(state.get_gpio_number(_channel_item(item)))
    if not found and state.gpio_warnings:
        _warn(
            "No channels have been set up yet - nothing to clean up!  Try cleaning up at the "
            "end of your program instead!",
            2,
        )


def output(channel: Any, value: Any, /) -> None:
    """Output to a GPIO channel or list of channels: ``value`` 0/1, False/True or LOW/HIGH
    (or a list/tuple of them, one per channel)."""
    chanlist = _channels(channel)
    if isinstance(value, int):
        values: list[Any] | None = None
        single_value = c_long_to_int(value)
    elif isinstance(value, (list, tuple)):
        values, single_value = list(value), -1
    else:
        raise ValueError("Value must be an integer/boolean or a list/tuple of integers/booleans")
    chancount = -1 if chanlist is None else len(chanlist)
    valuecount = -1 if values is None else len(values)
    if (chancount != -1 and chancount != valuecount and valuecount != -1) or (
        chancount == -1 and valuecount != -1
    ):
        raise RuntimeError("Number of channels != number of values")
    state = _state()

    def output_one(chan: int, level: int) -> None:
        gpio = state.get_gpio_number(chan)
        if state.gpio_direction[gpio] != OUTPUT:
            raise RuntimeError("The GPIO channel has not been set up as an OUTPUT")
        state.check_gpio_priv()
        chip.output_gpio(state.mem, gpio, level)

    if chanlist is None:
        output_one(c_long_to_int(channel), single_value)
        return
    level = single_value
    for i, item in enumerate(chanlist):
        chan = _channel_item(item)
        if values:
            if not isinstance(values[i], int):
                raise ValueError("Value must be an integer or boolean")
            level = c_long_to_int(values[i])
        output_one(chan, level)


def input(channel: Any, /) -> int:
    """Input from a GPIO channel: HIGH=1=True or LOW=0=False."""
    chan = c_int(channel)
    state = _state()
    gpio = state.get_gpio_number(chan)
    if state.gpio_direction[gpio] not in (INPUT, OUTPUT):
        raise RuntimeError("You must setup() the GPIO channel first")
    state.check_gpio_priv()
    return HIGH if chip.input_gpio(state.mem, gpio) else LOW


def setmode(mode: Any, /) -> None:
    """Set up numbering mode to use for channels: BOARD (board pin numbers) or BCM
    (Broadcom GPIO 00..nn numbers)."""
    new_mode = c_int(mode)
    state = _state()
    if state.gpio_mode != MODE_UNKNOWN and new_mode != state.gpio_mode:
        raise ValueError("A different mode has already been set!")
    if new_mode not in (BOARD, BCM):
        raise ValueError("An invalid mode was passed to setmode()")
    if state.p1_revision == 0 and new_mode == BOARD:
        raise RuntimeError("BOARD numbering system not applicable on compute module")
    state.gpio_mode = new_mode


def getmode() -> int | None:
    """Get numbering mode used for channel numbers: BOARD, BCM or None."""
    mode = _state().gpio_mode
    return None if mode == MODE_UNKNOWN else mode


def setwarnings(state_flag: Any, /) -> None:
    """Enable or disable warning messages."""
    flag = c_int(state_flag)
    _state().gpio_warnings = flag


def gpio_function(channel: Any, /) -> int:
    """Return the current GPIO function (IN, OUT, HARD_PWM, SERIAL, I2C, SPI, UNKNOWN)."""
    chan = c_int(channel)
    state = _state()
    gpio = state.get_gpio_number(chan)
    state.mmap_gpio_mem()
    f = chip.gpio_function(state.mem, gpio)
    if f == 0:
        return IN
    if f == 1:
        return OUT
    if f == 4:  # ALT0
        return {0: I2C, 1: I2C, 2: I2C, 3: I2C, 7: SPI, 8: SPI, 9: SPI, 10: SPI, 11: SPI,
                12: HARD_PWM, 13: HARD_PWM, 14: SERIAL, 15: SERIAL, 28: I2C,
                29: I2C}.get(gpio, UNKNOWN)  # fmt: skip
    if f == 2:  # ALT5
        return HARD_PWM if gpio in (18, 19) else UNKNOWN
    if f == 3:  # ALT4
        return SPI if 16 <= gpio <= 21 else UNKNOWN
    return UNKNOWN


def _edge_args(state: GpioState, gpio: int, edge: int, bouncetime: int) -> int:
    if state.gpio_direction[gpio] != INPUT:
        raise RuntimeError(_MSG_NOT_INPUT)
    edge -= PY_EVENT_CONST_OFFSET
    if edge not in (chip.RISING_EDGE, chip.FALLING_EDGE, chip.BOTH_EDGE):
        raise ValueError(_MSG_BAD_EDGE)
    if bouncetime <= 0 and bouncetime != -666:
        raise ValueError("Bouncetime must be greater than 0")
    return edge


def add_event_detect(
    gpio: Any, edge: Any, callback: Any = _NOT_GIVEN, bouncetime: Any = -666
) -> None:
    """Enable edge detection events for a channel: ``edge`` RISING, FALLING or BOTH,
    ``callback`` a function of the channel (optional), ``bouncetime`` in ms (optional)."""
    chan, edge_value, bounce = c_int(gpio), c_int(edge), c_int(bouncetime)
    if callback is not _NOT_GIVEN and not callable(callback):
        raise TypeError("Parameter must be callable")
    state = _state()
    line = state.get_gpio_number(chan)
    kind = _edge_args(state, line, edge_value, bounce)
    state.check_gpio_priv()
    result = state.events.add_edge_detect(line, kind, bounce)
    if result == 1:
        raise RuntimeError("Conflicting edge detection already enabled for this GPIO channel")
    if result != 0:
        raise RuntimeError("Failed to add edge detection")
    if callback is not _NOT_GIVEN:
        state.add_py_callback(line, callback)


def add_event_callback(gpio: Any, callback: Any) -> None:
    """Add a callback for an event already defined using add_event_detect()."""
    chan = c_int(gpio)
    if not callable(callback):
        raise TypeError("Parameter must be callable")
    state = _state()
    line = state.get_gpio_number(chan)
    if state.gpio_direction[line] != INPUT:
        raise RuntimeError(_MSG_NOT_INPUT)
    if not state.events.gpio_event_added(line):
        raise RuntimeError(
            "Add event detection using add_event_detect first before adding a callback"
        )
    state.add_py_callback(line, callback)


def remove_event_detect(gpio: Any, /) -> None:
    """Remove edge detection for a particular GPIO channel."""
    chan = c_int(gpio)
    state = _state()
    line = state.get_gpio_number(chan)
    state.py_callbacks = [(g, cb) for g, cb in state.py_callbacks if g != line]
    state.check_gpio_priv()
    state.events.remove_edge_detect(line)


def event_detected(channel: Any, /) -> bool:
    """True if an edge has occurred on a channel since the last call (needs
    add_event_detect() first)."""
    chan = c_int(channel)
    state = _state()
    return state.events.event_detected(state.get_gpio_number(chan))


def wait_for_edge(channel: Any, edge: Any, bouncetime: Any = -666, timeout: Any = -1) -> int | None:
    """Wait for an edge (RISING, FALLING or BOTH); returns the channel, or None after
    ``timeout`` ms; ``bouncetime`` in ms. The wait is in the board's simulated time."""
    chan, edge_value = c_int(channel), c_int(edge)
    bounce, wait_ms = c_int(bouncetime), c_int(timeout)
    state = _state()
    line = state.get_gpio_number(chan)
    kind = _edge_args(state, line, edge_value, bounce)
    if wait_ms <= 0 and wait_ms != -1:
        raise ValueError("Timeout must be greater than 0")
    state.check_gpio_priv()
    result = state.events.blocking_wait_for_edge(line, kind, bounce, wait_ms)
    if result == 0:
        return None
    if result == -1:
        raise RuntimeError("Conflicting edge detection events already exist for this GPIO channel")
    if result == -2:
        raise RuntimeError("Error waiting for edge")
    return chan


# -- the userspace: /dev/gpiomem, RPI_INFO, the end of the "process" ----------------------------
def __getattr__(name: str) -> Any:
    if name in ("RPI_INFO", "RPI_REVISION"):
        current()  # raises UserspaceError outside a userspace
    raise AttributeError(f"module 'RPi.GPIO' has no attribute {name!r}")


def _enter(userspace: Userspace) -> None:
    info = chip.rpi_info(userspace.info.revision_code)
    if info is not None:  # globals(): the import system may rename this module (RPi._GPIO)
        globals().update(RPI_INFO=info.as_dict(), RPI_REVISION=info.p1_revision)


def _leave(userspace: Userspace) -> None:
    state: GpioState | None = getattr(userspace, "_rpi_gpio_state", None)
    try:
        if state is not None:
            state.shutdown()
    finally:
        userspace._rpi_gpio_state = None  # type: ignore[attr-defined]
        for name in ("RPI_INFO", "RPI_REVISION"):
            globals().pop(name, None)


def _gpiomem(flags: int) -> DevFile:
    """``/dev/gpiomem``: a device that is only mapped (read and write are EINVAL, as for an
    mmap-only character device)."""
    return DevFile(flags)


def attach(userspace: Userspace) -> None:
    if "/dev/gpiomem" not in userspace.devfs.paths:
        userspace.add_device("/dev/gpiomem", _gpiomem)
    userspace.on_enter(_enter, _leave)
