"""RPi.GPIO 0.7.1's software PWM engine (``soft_pwm.c``): the ``pwm_list`` and its threads.

One thread per running channel writes GPSET, sleeps ``req_on``, writes GPCLR, sleeps
``req_off`` (``pwm_thread``); the sleeps are ``nanosleep`` on the board's clock. The
arithmetic is the C's (``calculate_times``, C ``float`` through `f32`). The ``RPi.GPIO.PWM``
object that drives it is in `rpi_gpio_pwm`; the module state (`rpi_gpio_state`) holds one
`SoftPwm` per userspace.
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass
from typing import Any

from .rpi_gpio_chip import GpioMem, output_gpio

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
