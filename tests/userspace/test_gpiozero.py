"""gpiozero 2.0 on the emulated board through its own RPi.GPIO pin factory (``PihilFactory``).

Inside a userspace gpiozero's default factory is ours without any setting; its board info
comes from the revision in ``/proc/device-tree`` (the MirkoPC's CM4, ``c03140``); LED,
Button, PWMLED and MCP3008 run unchanged, with the MirkoPC test jig's GPIO17-GPIO27 loop
wire (J8-11/J8-13) between an output and a button.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import gpiozero
import pytest
from gpiozero import LED, PWMLED, Button, Device, DigitalInputDevice

from pihil_emulator.userspace import UserspaceError, standins
from rpiboard_pihil import RpiBoard

MS = 1_000_000


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board
    board.close()


def _gpio_block(board: RpiBoard) -> Any:
    return board.simulation.emulator.soc.gpio


def test_the_default_factory_inside_a_userspace(mirkopc: RpiBoard) -> None:
    from pihil_emulator.userspace.gpiozero_pins import PihilFactory

    before = Device.pin_factory
    with mirkopc.simulation.userspace():
        led = LED(17)  # nothing set: gpiozero finds its factory by itself
        assert isinstance(Device.pin_factory, PihilFactory)
        assert isinstance(Device.pin_factory, gpiozero.pins.rpigpio.RPiGPIOFactory)
        info = gpiozero.pi_info()  # from /proc/device-tree/system/linux,revision
        assert (info.revision, info.model, info.soc, info.memory) == (
            "c03140",
            "CM4",
            "BCM2711",
            4096,
        )
        assert Device.pin_factory.board_info is info
        assert info.headers["J8"].pins[11].name == "GPIO17"
        led.on()
        assert _gpio_block(mirkopc).level(17) is True
        assert os.environ["GPIOZERO_PIN_FACTORY"] == "pihil"
    assert led.closed  # leaving closed the devices and the factory made inside
    assert Device.pin_factory is before
    assert "GPIOZERO_PIN_FACTORY" not in os.environ
    assert _gpio_block(mirkopc).function(17) == "input"  # gpiozero's close: GPIO.cleanup


def test_the_factory_outside_a_userspace_and_its_entry_point() -> None:
    (entry,) = [
        e
        for e in importlib.metadata.entry_points(group="gpiozero_pin_factories")
        if e.name == "pihil"
    ]
    factory = entry.load()
    assert factory.__name__ == "PihilFactory"
    with pytest.raises(UserspaceError, match="'pihil' pin factory drives the emulated board"):
        factory()


def _rises(edges: list[tuple[int, bool]]) -> list[int]:
    return [t for t, level in edges if level]


def test_led_blink_and_pwmled_on_the_pin(mirkopc: RpiBoard) -> None:
    edges: list[tuple[int, bool]] = []
    unwatch = _gpio_block(mirkopc).net(17).watch(lambda _n, level, t: edges.append((t, level)))
    with mirkopc.simulation.userspace():
        led = LED(17)
        reader = DigitalInputDevice(27)  # the other end of the loop wire
        led.blink(on_time=0.1, off_time=0.2, n=3, background=False)
        rises = _rises(edges)
        assert len(rises) == 3
        assert {b - a for a, b in itertools.pairwise(rises)} == {300 * MS}
        assert reader.value == 0
        led.close()
        edges.clear()
        dimmed = PWMLED(17, frequency=100)  # RPi.GPIO software PWM
        dimmed.value = 0.25
        time.sleep(0.1)
        rises = _rises(edges)
        falls = [t for t, level in edges if not level and t > rises[0]]
        assert {f - r for r, f in zip(rises, falls, strict=False)} == {int(2.5 * MS)}
        assert {b - a for a, b in itertools.pairwise(rises)} == {10 * MS}
        dimmed.close()
    unwatch()


def test_button_driven_from_the_other_end_of_the_loop(mirkopc: RpiBoard) -> None:
    """GPIO17 is driven by the test (the driver API); the Button on GPIO27 sees it."""
    window = _gpio_block(mirkopc).sync_window_ns  # soc-facts §3.5
    sim = mirkopc.simulation
    drive = mirkopc.gpios[17]
    drive.set_output(True)
    with sim.userspace():
        button = Button(27)  # pull-up, active low
        presses: list[int] = []
        button.when_pressed = lambda: presses.append(sim.now_ns)
        assert button.is_pressed is False
        start = sim.now_ns
        threading.Timer(0.5, lambda: setattr(drive, "value", False)).start()
        assert button.wait_for_press(timeout=2) is True
        assert sim.now_ns - start == 500 * MS + window
        assert presses == [sim.now_ns]
        drive.value = True
        time.sleep(0.01)  # the release reaches gpiozero through RPi.GPIO's poll thread
        start = sim.now_ns
        assert button.wait_for_press(timeout=0.2) is False
        assert sim.now_ns - start == 200 * MS
        assert len(presses) == 1


def test_button_bounce_time_over_rpi_gpio(mirkopc: RpiBoard) -> None:
    """``bounce_time=0.1`` is RPi.GPIO's bouncetime=100: the bounces of a press are one."""
    sim = mirkopc.simulation
    with sim.userspace():
        switch = LED(17, initial_value=True)  # the "switch" end of the loop (high = open)
        button = Button(27, bounce_time=0.1)
        presses: list[int] = []
        button.when_pressed = lambda: presses.append(sim.now_ns)
        time.sleep(0.01)
        for _ in range(2):
            for level in (False, True, False, True, False):  # a contact bouncing for 8 ms
                switch.value = level
                time.sleep(0.002)
            time.sleep(0.3)
            switch.on()
            time.sleep(0.3)
        assert len(presses) == 2


@pytest.mark.skipif("spidev" not in standins.STANDINS, reason="the spidev stand-in is not wired")
def test_an_app_with_mcp3008_and_a_button(mirkopc: RpiBoard) -> None:
    """gpiozero's MCP3008 on spidev0.1 (the jig's ADC on CE1) read when a button is pressed."""
    from gpiozero import MCP3008

    adc_model = mirkopc.simulation.devices["adc"]
    adc_model.set_voltage(0, 1.1)
    readings: list[float] = []
    with mirkopc.simulation.userspace():
        switch = LED(17, initial_value=True)
        button = Button(27)
        adc = MCP3008(channel=0, device=1)
        button.when_pressed = lambda: readings.append(adc.value)
        time.sleep(0.01)
        switch.off()
        time.sleep(0.05)
        assert readings == [pytest.approx(1.1 / 3.3, abs=1 / 1024)]
        assert adc.value == pytest.approx(1.1 / 3.3, abs=1 / 1024)


@pytest.mark.parametrize("profile", ["mirkopc", "rpi-4b", "rpi-bplus", "rpi-b-rev2", "rpi-b-rev1"])
def test_gpiozeros_header_is_the_profiles(profile: str) -> None:
    """``pi_info()`` inside a userspace is the profile's board: every pin of the headers
    both know (the 40-pin J8, the 26-pin P1, P5 on a rev 2 B) is the same GPIO, rail or
    ground in gpiozero as in ``pihil pinout`` (the profile's header table, soc-facts §7 for
    the carriers). gpiozero knows more headers (PoE, RUN) that the profiles do not model."""
    board = RpiBoard("local", options={"simulate": True, "board": profile})
    try:
        headers = board.simulation.emulator.profile.headers
        with board.simulation.userspace():
            info = gpiozero.pi_info()
            compared = 0
            main = "J8" if "J8" in info.headers else "P1"
            assert main in headers, f"the profile has no {main}, gpiozero's GPIO header"
            for name, header in info.headers.items():
                ours = headers.get(name)
                if ours is None:  # a header the profile does not model (PoE, RUN, camera)
                    continue
                for number, pin in header.pins.items():
                    mine = ours.pins[number]
                    if mine.kind == "gpio":
                        assert pin.name == f"GPIO{mine.gpio}", (name, number)
                    elif mine.kind == "ground":
                        assert pin.name == "GND", (name, number)
                    elif mine.kind == "power":
                        assert pin.name == mine.rail, (name, number)
                    compared += 1
        assert compared >= 26  # the 26-pin P1 at least
    finally:
        board.close()
