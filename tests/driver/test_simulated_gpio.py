"""The simulated backend drives the emulator's GPIO block through its registers, as Linux does."""

from __future__ import annotations

import functools
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import pi4_like_info

from pihil_emulator.errors import ElectricalFault
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.variants import BCM2711, BCM2835, SocVariant
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit
from rpiboard_pihil.backends.simulated import GPPUD_WAIT_NS, SimulatedBackend
from rpiboard_pihil.board_info import BoardInfo
from rpiboard_pihil.enums import Direction, Drive, Edge, EdgeKind, Function, Pull
from rpiboard_pihil.errors import ConfigurationError, ElectricalFaultError, NotSupportedError


class Rig:
    """A bare SoC (no board profile) with GPIO17 and GPIO27 jumpered, and a write log."""

    def __init__(self, variant: SocVariant, info: BoardInfo | None = None) -> None:
        self.world = World(0)
        self.circuit = Circuit(self.world)
        self.soc = Soc(self.world, self.circuit, variant)
        self.gpio = self.soc.gpio
        self.writes: list[tuple[str, int, int]] = []
        original = self.gpio.write

        def logged(reg: Any, value: int) -> None:
            self.writes.append((str(reg), value, self.world.now_ns))
            original(reg, value)

        self.gpio.write = logged  # type: ignore[method-assign,assignment]
        # the backend's mapped GPSET/GPCLR are logged too
        self.gpio.writer = lambda reg: functools.partial(logged, reg)  # type: ignore[method-assign,assignment]
        self.backend = SimulatedBackend.on(
            SimpleNamespace(world=self.world, soc=self.soc), info or pi4_like_info()
        )

    def jumper(self, a: int = 17, b: int = 27) -> None:
        self.circuit.connect(self.gpio.net(a), self.gpio.net(b))

    def fsel(self, line: int) -> int:
        return (self.gpio.read(f"GPFSEL{line // 10}") >> (3 * (line % 10))) & 0b111


@pytest.fixture(params=[BCM2835, BCM2711], ids=["bcm2835", "bcm2711"])
def rig(request: pytest.FixtureRequest) -> Rig:
    return Rig(request.param)


def test_output_value_is_latched_before_fsel(rig: Rig) -> None:
    """soc-facts §3.4: SET/CLR latch apart from the pin; Linux writes the value, then FSEL=001."""
    rig.backend.gpio_set_direction(27, Direction.OUTPUT, True)
    assert [w[0] for w in rig.writes] == ["GPSET0", "GPFSEL2"]
    assert rig.fsel(27) == 0b001
    assert rig.backend.gpio_read(27) is True
    rig.backend.gpio_write(27, False)
    assert rig.writes[-1][:2] == ("GPCLR0", 1 << 27)
    assert rig.backend.gpio_read(27) is False
    assert rig.backend.gpio_get_direction(27) is Direction.OUTPUT


def test_function_change_goes_through_input(rig: Rig) -> None:
    """soc-facts §3.3: Linux pinctrl "Always transition through GPIO_IN" between two functions."""
    b = rig.backend
    b.gpio_set_function(14, Function.ALT0)
    assert rig.fsel(14) == 0b100
    rig.writes.clear()
    b.gpio_set_function(14, Function.ALT5)
    codes = [(v >> 12) & 0b111 for reg, v, _ in rig.writes if reg == "GPFSEL1"]
    assert codes == [0b000, 0b010]  # input, then ALT5 (encoding 010, soc-facts §3.3)
    assert b.gpio_get_function(14) is Function.ALT5
    assert rig.gpio.signal(14) in ("TXD1",)


def test_pull_through_the_chip_own_mechanism(rig: Rig) -> None:
    """soc-facts §3.6: GPPUD/GPPUDCLK clocked sequence on BCM2835, PUP_PDN registers on BCM2711."""
    b = rig.backend
    with pytest.raises(NotSupportedError, match=r"set gpio.pull first"):
        b.gpio_get_pull(17)
    t0 = rig.world.now_ns
    b.gpio_set_pull(17, Pull.UP)
    assert b.gpio_read(17) is True
    assert b.gpio_get_pull(17) is Pull.UP
    if rig.soc.variant is BCM2835:
        regs = [(reg, v) for reg, v, _ in rig.writes]
        assert regs == [("GPPUD", 0b10), ("GPPUDCLK0", 1 << 17), ("GPPUDCLK0", 0)]
        assert rig.world.now_ns - t0 == 2 * GPPUD_WAIT_NS
    else:
        value = rig.gpio.read("GPIO_PUP_PDN_CNTRL_REG1")
        assert (value >> 2) & 0b11 == 0b01  # 01 = up on BCM2711
        assert rig.world.now_ns == t0
    b.gpio_set_pull(17, Pull.DOWN)
    assert b.gpio_read(17) is False
    assert rig.gpio.pull(17) == "down"


def test_edges_through_a_jumper_with_timestamps(rig: Rig) -> None:
    """soc-facts §3.5: Linux uses the synchronous GPREN/GPFEN detectors for edge events."""
    rig.jumper()
    b = rig.backend
    b.gpio_set_direction(17, Direction.INPUT, False)
    b.gpio_set_direction(27, Direction.OUTPUT, False)
    b.gpio_set_edge_detection(17, Edge.RISING, 0)
    assert (rig.gpio.read("GPREN0") >> 17) & 1 == 1
    assert (rig.gpio.read("GPFEN0") >> 17) & 1 == 0
    rig.world.run_for(1_000)
    t_rise = rig.world.now_ns
    b.gpio_write(27, True)
    rig.world.run_for(1_000)
    b.gpio_write(27, False)
    rig.world.run_for(1_000)
    b.gpio_write(27, True)
    events = b.gpio_wait_edges(17, 1_000_000)
    assert [e.kind for e in events] == [EdgeKind.RISING]
    window = rig.gpio.sync_window_ns
    assert events[0].timestamp_ns == t_rise + window
    assert events[0].seqno == 1
    more = b.gpio_wait_edges(17, 1_000_000)
    assert [(e.kind, e.timestamp_ns, e.seqno) for e in more] == [
        (EdgeKind.RISING, t_rise + 2_000 + window, 2)
    ]
    assert b.gpio_wait_edges(17, 1_000_000) == []
    assert rig.world.now_ns >= t_rise + 2_000 + 1_000_000  # the timeout is simulated time


def test_debounce_reports_a_bouncing_press_once(rig: Rig) -> None:
    """gpiolib-cdev software debounce: one event, stamped when the level has held for the period."""
    rig.jumper()
    b = rig.backend
    b.gpio_set_direction(27, Direction.OUTPUT, True)
    b.gpio_set_direction(17, Direction.INPUT, False)
    b.gpio_set_edge_detection(17, Edge.FALLING, 1_000_000)
    level = True
    for _ in range(5):  # contact bounce: 5 changes 100 µs apart, ending low
        rig.world.run_for(100_000)
        level = not level
        b.gpio_write(27, level)
    t_last = rig.world.now_ns
    events = b.gpio_wait_edges(17, 10_000_000)
    window = rig.gpio.sync_window_ns
    assert [(e.kind, e.timestamp_ns) for e in events] == [
        (EdgeKind.FALLING, t_last + window + 1_000_000)
    ]
    assert rig.world.now_ns == t_last + window + 1_000_000  # returned as soon as it was reported
    # a glitch shorter than the period is not an edge
    b.gpio_write(27, True)
    rig.world.run_for(500_000)
    b.gpio_write(27, False)
    assert b.gpio_wait_edges(17, 5_000_000) == []


def test_debounce_must_be_whole_microseconds(rig: Rig) -> None:
    with pytest.raises(ConfigurationError, match=r"whole microseconds"):
        rig.backend.gpio_set_edge_detection(17, Edge.BOTH, 2_500)


def test_open_drain_releases_for_a_one(rig: Rig) -> None:
    """Open drain as gpiolib emulates it: 0 drives low, 1 makes the pin an input (released)."""
    rig.jumper()
    b = rig.backend
    b.gpio_set_pull(17, Pull.UP)
    b.gpio_set_drive(27, Drive.OPEN_DRAIN)
    b.gpio_set_direction(27, Direction.OUTPUT, False)
    assert rig.fsel(27) == 0b001
    assert b.gpio_read(17) is False
    b.gpio_write(27, True)
    assert rig.fsel(27) == 0b000
    assert b.gpio_read(17) is True  # the pull-up on the far end
    assert b.gpio_get_direction(27) is Direction.OUTPUT
    assert b.gpio_get_function(27) is Function.OUTPUT
    b.gpio_set_drive(27, Drive.PUSH_PULL)
    assert rig.fsel(27) == 0b001
    assert b.gpio_read(27) is True


def test_contention_is_an_electrical_fault_error(rig: Rig) -> None:
    """DESIGN: two push-pull drivers fighting raise ElectricalFault, reaching the user translated."""
    rig.jumper()
    b = rig.backend
    b.gpio_set_direction(17, Direction.OUTPUT, True)
    with pytest.raises(ElectricalFaultError) as info:
        b.gpio_set_direction(27, Direction.OUTPUT, False)
    assert isinstance(info.value.__cause__, ElectricalFault)
    assert "GPIO17" in info.value.net or "GPIO27" in info.value.net
    assert info.value.drivers


@pytest.mark.parametrize("variant", [BCM2835, BCM2711], ids=["bcm2835", "bcm2711"])
def test_reset_returns_gpios_to_inputs_with_reset_pulls(variant: SocVariant) -> None:
    rig = Rig(variant, replace(pi4_like_info(), i2c_buses=(), uarts=()))  # a SoC without buses
    b = rig.backend
    b.gpio_set_direction(27, Direction.OUTPUT, True)
    b.gpio_set_pull(17, Pull.UP)
    b.gpio_set_edge_detection(17, Edge.BOTH, 0)
    b.gpio_set_function(14, Function.ALT0)
    b.reset()
    assert rig.fsel(27) == 0b000
    assert rig.gpio.pull(17) == "down"  # soc-facts §3.7: GPIO9-27 reset to pull-down
    assert (rig.gpio.read("GPREN0") >> 17) & 1 == 0
    assert b.gpio_get_edge_detection(17) == (Edge.NONE, 0)
    assert rig.fsel(14) == 0b100  # a peripheral's pin stays routed, as a kernel driver holds it
