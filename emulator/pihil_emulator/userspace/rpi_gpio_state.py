"""RPi.GPIO 0.7.1's module state and argument parsing (``py_gpio.c``, ``common.c``).

The C keeps its state in globals for the life of the process; `GpioState` holds them for
one userspace (the process of the emulated board), on the `Userspace` object: the numbering
mode, ``gpio_direction[54]``, the warnings flag, the mapping of ``/dev/gpiomem``, the edge
detection (`rpi_gpio_events`), the software PWM (`rpi_gpio_pwm`) and the Python callbacks.
``get_gpio_number`` and ``chan_from_gpio`` translate channels as ``common.c``/``py_gpio.c``
do. `c_int`, `c_float` and `c_long_to_int` are ``PyArg_ParseTuple``'s ``"i"``/``"f"`` and
``(int)PyLong_AsLong``: the same TypeError/OverflowError for a wrong argument.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import rpi_gpio_chip as chip
from .rpi_gpio_chip import BCM, BOARD, MODE_UNKNOWN, GpioMem
from .rpi_gpio_events import EventGpio
from .rpi_gpio_soft_pwm import SoftPwm
from .session import current

if TYPE_CHECKING:
    from .session import Userspace

_MSG_NO_MODE = (
    "Please set pin numbering mode using GPIO.setmode(GPIO.BOARD) or GPIO.setmode(GPIO.BCM)"
)
_MSG_BAD_CHANNEL = "The channel sent is invalid on a Raspberry Pi"
_MSG_NO_DEVMEM = "No access to /dev/mem.  Try running as root!"


def c_int(value: Any) -> int:
    """``"i"``: an ``int`` (``__index__``), range-checked as a C ``int``."""
    if not hasattr(type(value), "__index__"):
        raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")
    number = value.__index__()
    if number > 2**31 - 1:
        raise OverflowError("signed integer is greater than maximum")
    if number < -(2**31):
        raise OverflowError("signed integer is less than minimum")
    return int(number)


def c_long_to_int(value: int) -> int:
    """``(int)PyLong_AsLong(obj)`` of an ``int`` object."""
    if not -(2**63) <= value < 2**63:
        raise OverflowError("Python int too large to convert to C long")
    return ((value + 2**31) % 2**32) - 2**31


def c_float(value: Any) -> float:
    """``"f"``: a real number (``__float__`` or ``__index__``)."""
    if isinstance(value, float):
        return value
    if hasattr(type(value), "__float__"):
        return float(value)
    if hasattr(type(value), "__index__"):
        return float(value.__index__())
    raise TypeError(f"must be real number, not {type(value).__name__}")


class GpioState:
    """The globals of py_gpio.c and common.c for one userspace."""

    def __init__(self, userspace: Userspace) -> None:
        self.userspace = userspace
        self.info = chip.rpi_info(userspace.info.revision_code)
        self.gpio_mode = MODE_UNKNOWN
        self.gpio_direction = [-1] * 54
        self.gpio_warnings = 1
        self.module_setup = False
        self.mem_fd: int | None = None
        self.mem = GpioMem(userspace)
        self.pin_to_gpio = chip.header_gpios(userspace)
        self.events = EventGpio(userspace)
        self.pwm = SoftPwm(userspace, self.mem)
        self.py_callbacks: list[tuple[int, Callable[[int], Any]]] = []

    @property
    def p1_revision(self) -> int:
        assert self.info is not None
        return self.info.p1_revision

    def mmap_gpio_mem(self) -> None:
        """``setup()`` of c_gpio.c: open ``/dev/gpiomem`` (or ``/dev/mem``) and map it."""
        if self.module_setup:
            return
        try:
            self.mem_fd = self.userspace.devfs.open("/dev/gpiomem", os.O_RDWR | os.O_SYNC)
        except OSError:
            # the fallback, /dev/mem, needs root: the emulated board gives no access to it
            raise RuntimeError(_MSG_NO_DEVMEM) from None
        self.module_setup = True

    def check_gpio_priv(self) -> None:
        if not self.module_setup:
            raise RuntimeError(_MSG_NO_DEVMEM)

    def get_gpio_number(self, channel: int) -> int:
        mode = self.gpio_mode
        if mode not in (BOARD, BCM):
            raise RuntimeError(_MSG_NO_MODE)
        p1 = self.p1_revision
        if (
            (mode == BCM and not 0 <= channel <= 53)
            or (mode == BOARD and not 1 <= channel <= 26 and p1 != 3)
            or (mode == BOARD and not 1 <= channel <= 40 and p1 == 3)
        ):
            raise ValueError(_MSG_BAD_CHANNEL)
        if mode == BOARD:
            gpio = self.pin_to_gpio.get(channel, -1)
            if gpio == -1:
                raise ValueError(_MSG_BAD_CHANNEL)
            return gpio
        return channel

    def chan_from_gpio(self, gpio: int) -> int:
        if self.gpio_mode == BCM:
            return gpio
        if self.p1_revision == 0:
            return -1
        chans = 26 if self.p1_revision in (1, 2) else 40
        for chan in range(1, chans + 1):
            if self.pin_to_gpio.get(chan, -1) == gpio:
                return chan
        return -1

    def run_py_callbacks(self, gpio: int) -> None:
        for cb_gpio, callback in list(self.py_callbacks):
            if cb_gpio == gpio:
                try:
                    callback(self.chan_from_gpio(gpio))
                except Exception:  # PyErr_Print(); the poll thread goes on
                    sys.excepthook(*sys.exc_info())

    def add_py_callback(self, gpio: int, callback: Callable[[int], Any]) -> None:
        # as py_gpio.c: every Python callback also adds one run_py_callbacks to the edge
        # callbacks, so with n callbacks on a channel each runs n times per event
        self.py_callbacks.append((gpio, callback))
        self.events.add_edge_callback(gpio, self.run_py_callbacks)

    def shutdown(self) -> None:
        self.pwm.shutdown()
        self.events.shutdown()


def state() -> GpioState:
    """The active userspace's state; `UserspaceError` outside one."""
    space = current()
    found: GpioState | None = getattr(space, "_rpi_gpio_state", None)
    if found is None:
        found = GpioState(space)
        space._rpi_gpio_state = found  # type: ignore[attr-defined]
    if found.info is None:
        raise RuntimeError("This module can only be run on a Raspberry Pi!")
    return found
