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

from typing import Any

from . import rpi_gpio_state as gpio_module
from .rpi_gpio_chip import OUTPUT
from .rpi_gpio_soft_pwm import Pwm, SoftPwm, f32
from .session import active

__all__ = ["PWM", "Pwm", "SoftPwm", "f32"]


class PWM:
    """``RPi.GPIO.PWM(channel, frequency)``: software PWM on an output channel."""

    def __init__(self, channel: Any, frequency: Any) -> None:
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
        value = f32(gpio_module.c_float(dutycycle))
        if value < 0.0 or value > 100.0:
            raise ValueError("dutycycle must have a value from 0.0 to 100.0")
        return value

    def start(self, dutycycle: Any, /) -> None:
        """Start software PWM; ``dutycycle`` 0.0 to 100.0."""
        state = gpio_module.state()
        self.dutycycle = self._duty(dutycycle)
        state.pwm.set_duty_cycle(self._gpio, self.dutycycle)
        state.pwm.start(self._gpio)

    def ChangeDutyCycle(self, dutycycle: Any, /) -> None:  # noqa: N802 - the C API's name
        """Change the duty cycle, 0.0 to 100.0."""
        state = gpio_module.state()
        self.dutycycle = self._duty(dutycycle)
        state.pwm.set_duty_cycle(self._gpio, self.dutycycle)

    def ChangeFrequency(self, frequency: Any, /) -> None:  # noqa: N802 - the C API's name
        """Change the frequency (Hz, > 0)."""
        state = gpio_module.state()
        freq = f32(gpio_module.c_float(frequency))
        if freq <= 0.0:
            raise ValueError("frequency must be greater than 0.0")
        self.freq = freq
        state.pwm.set_frequency(self._gpio, freq)

    def stop(self) -> None:
        """Stop software PWM (the pin goes low at the end of the current half-period)."""
        gpio_module.state().pwm.stop(self._gpio)

    def __del__(self) -> None:  # PWM_dealloc: pwm_stop
        space = active()
        state = None if space is None else getattr(space, "_rpi_gpio_state", None)
        if state is not None and getattr(self, "_gpio", -1) >= 0:
            state.pwm.stop(self._gpio)


PWM.__module__ = "RPi.GPIO"
