"""RPi.GPIO 0.7.1's software PWM (``soft_pwm.c``, ``py_pwm.c``) on the emulated board.

One thread per running channel writes GPSET, sleeps ``req_on``, writes GPCLR, sleeps
``req_off`` (``pwm_thread``); the sleeps are ``nanosleep`` on the board's clock, so the
edges are on the emulated pin at their simulated instants and a duty cycle measured on the
pin is the one asked for, to the microsecond the C computes its times in. The arithmetic is
the C's: frequency and duty cycle are C ``float`` (``PyArg_ParseTuple`` ``"f"``),
``basetime = 1000.0 / freq`` ms, ``slicetime = basetime / 100.0``, and each time is truncated
to whole microseconds (``calculate_times``).

Kept quirks of the C: ``stop()`` removes the channel's record at once and the thread ends
after its current half-period, driving the pin low; the next ``start()`` finds no record and
makes a new one at the default 1 kHz (``add_new_pwm``), whatever frequency the object was
made with; ``ChangeDutyCycle``/``ChangeFrequency`` after ``stop()`` do the same.
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass
from typing import Any

from .rpi_gpio_chip import OUTPUT, GpioMem, output_gpio
from .session import active

_F32 = struct.Struct("f")


def f32(value: float) -> float:
    """``value`` as a C ``float`` holds it."""
    return float(_F32.unpack(_F32.pack(value))[0])


@dataclass(eq=False)
class Pwm:
    """``struct pwm``."""

    gpio: int
    freq: float = 1000.0
    dutycycle: float = 0.0
    basetime: float = 1.0  # ms
    slicetime: float = 0.01  # ms
    req_on_ns: int = 0
    req_off_ns: int = 0
    running: bool = False

    def calculate_times(self) -> None:
        usec = int(f32(self.dutycycle * self.slicetime) * 1000.0)
        self.req_on_ns = usec * 1000
        usec = int((100.0 - self.dutycycle) * self.slicetime * 1000.0)
        self.req_off_ns = usec * 1000


class SoftPwm:
    """The ``pwm_list`` of one userspace and its threads."""

    def __init__(self, userspace: Any, mem: GpioMem) -> None:
        self.clock = userspace.clock
        self.mem = mem
        self.pwm_list: list[Pwm] = []
        self.threads: list[threading.Thread] = []

    def find_pwm(self, gpio: int) -> Pwm:
        """The record of ``gpio``, made (1 kHz, duty 0) when it has none."""
        for p in self.pwm_list:
            if p.gpio == gpio:
                return p
        p = Pwm(gpio)
        p.calculate_times()
        self.pwm_list.append(p)
        return p

    def exists(self, gpio: int) -> bool:
        return any(p.gpio == gpio for p in self.pwm_list)

    def set_duty_cycle(self, gpio: int, dutycycle: float) -> None:
        if dutycycle < 0.0 or dutycycle > 100.0:
            return
        p = self.find_pwm(gpio)
        p.dutycycle = dutycycle
        p.calculate_times()

    def set_frequency(self, gpio: int, freq: float) -> None:
        if freq <= 0.0:
            return
        p = self.find_pwm(gpio)
        p.basetime = f32(1000.0 / freq)
        p.slicetime = f32(p.basetime / 100.0)
        p.calculate_times()

    def start(self, gpio: int) -> None:
        p = self.find_pwm(gpio)
        if p.running:
            return
        p.running = True
        thread = threading.Thread(target=self._thread, args=(p,), name=f"RPi.GPIO PWM GPIO{gpio}")
        thread.daemon = True
        self.threads = [t for t in self.threads if t.is_alive()]
        self.threads.append(thread)
        thread.start()

    def stop(self, gpio: int) -> None:
        """``remove_pwm``: the record goes; its thread ends after the current half-period."""
        for p in [p for p in self.pwm_list if p.gpio == gpio]:
            self.pwm_list.remove(p)
            p.running = False

    def _thread(self, p: Pwm) -> None:
        clock, mem = self.clock, self.mem
        while p.running and not clock.closed:
            if p.dutycycle > 0.0:
                output_gpio(mem, p.gpio, 1)
                clock.sleep_ns(p.req_on_ns)
            if p.dutycycle < 100.0:
                output_gpio(mem, p.gpio, 0)
                clock.sleep_ns(p.req_off_ns)
        output_gpio(mem, p.gpio, 0)

    def shutdown(self) -> None:
        """The process ends: every PWM thread stopped and joined in simulated time."""
        for p in list(self.pwm_list):
            self.stop(p.gpio)
        threads, self.threads = self.threads, []
        if self.clock.registered():
            for thread in threads:
                if thread.is_alive():
                    thread.join(1.0)


class PWM:
    """``RPi.GPIO.PWM(channel, frequency)``: software PWM on an output channel."""

    def __init__(self, channel: Any, frequency: Any) -> None:
        from . import rpi_gpio_state as gpio_module

        state = gpio_module.state()
        self._gpio = -1
        gpio = state.get_gpio_number(gpio_module.c_int(channel))
        freq = f32(gpio_module.c_float(frequency))
        if state.pwm.exists(gpio):
            raise RuntimeError("A PWM object already exists for this GPIO channel")
        if state.gpio_direction[gpio] != OUTPUT:
            raise RuntimeError("You must setup() the GPIO channel as an output first")
        if freq <= 0.0:
            raise ValueError("frequency must be greater than 0.0")
        self._gpio = gpio
        self.freq = freq
        self.dutycycle = 0.0
        state.pwm.set_frequency(gpio, freq)

    @staticmethod
    def _duty(dutycycle: Any) -> float:
        from . import rpi_gpio_state as gpio_module

        value = f32(gpio_module.c_float(dutycycle))
        if value < 0.0 or value > 100.0:
            raise ValueError("dutycycle must have a value from 0.0 to 100.0")
        return value

    def start(self, dutycycle: Any, /) -> None:
        """Start software PWM; ``dutycycle`` 0.0 to 100.0."""
        from . import rpi_gpio_state as gpio_module

        state = gpio_module.state()
        self.dutycycle = self._duty(dutycycle)
        state.pwm.set_duty_cycle(self._gpio, self.dutycycle)
        state.pwm.start(self._gpio)

    def ChangeDutyCycle(self, dutycycle: Any, /) -> None:  # noqa: N802 - the C API's name
        """Change the duty cycle, 0.0 to 100.0."""
        from . import rpi_gpio_state as gpio_module

        state = gpio_module.state()
        self.dutycycle = self._duty(dutycycle)
        state.pwm.set_duty_cycle(self._gpio, self.dutycycle)

    def ChangeFrequency(self, frequency: Any, /) -> None:  # noqa: N802 - the C API's name
        """Change the frequency (Hz, > 0)."""
        from . import rpi_gpio_state as gpio_module

        state = gpio_module.state()
        freq = f32(gpio_module.c_float(frequency))
        if freq <= 0.0:
            raise ValueError("frequency must be greater than 0.0")
        self.freq = freq
        state.pwm.set_frequency(self._gpio, freq)

    def stop(self) -> None:
        """Stop software PWM (the pin goes low at the end of the current half-period)."""
        from . import rpi_gpio_state as gpio_module

        gpio_module.state().pwm.stop(self._gpio)

    def __del__(self) -> None:  # PWM_dealloc: pwm_stop
        space = active()
        state = None if space is None else getattr(space, "_rpi_gpio_state", None)
        if state is not None and getattr(self, "_gpio", -1) >= 0:
            state.pwm.stop(self._gpio)


PWM.__module__ = "RPi.GPIO"
