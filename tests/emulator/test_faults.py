"""Generic faults scheduled in simulated time: brown-out, stuck net, dropped device (DESIGN "Faults")."""

from __future__ import annotations

from typing import Any

import pytest

from pihil_emulator.board import Board
from pihil_emulator.errors import ElectricalFault
from pihil_emulator.faults import BrownOut, DroppedDevice, Fault, StuckNet
from pihil_emulator.world.net import Drive


@pytest.fixture
def board() -> Board:
    return Board.from_profile("mirkopc")


def test_fault_starts_at_its_time_and_ends_after_its_duration(board: Board) -> None:
    """DESIGN: "Fault injection is declarative and scheduled in simulated time"."""
    sda = board.net("I2C1_SDA")
    board.inject(StuckNet(pin="I2C1_SDA", level=False, at_ns=10_000, duration_ns=5_000))
    board.run_for(9_999)
    assert sda.level is True
    board.run_for(2)
    assert sda.level is False
    board.run_for(4_998)
    assert sda.level is False
    board.run_for(2)
    assert sda.level is True  # the 1K8 pull-up again
    assert board.faults == []


def test_fault_in_the_past_applies_at_once_and_can_be_cleared(board: Board) -> None:
    """A fault whose time has come starts immediately; clear_fault ends it."""
    board.run_for(1_000)
    fault = board.inject(StuckNet(pin="J8-07", level=True, at_ns=0))
    assert board.gpio.level(4) is True
    board.gpio.set_pull(4, "down")
    assert board.gpio.level(4) is True  # the short wins over the pad's pull
    board.clear_fault(fault)
    assert board.gpio.level(4) is False


def test_fault_cleared_before_it_starts_never_happens(board: Board) -> None:
    """Clearing a scheduled fault cancels it."""
    fault = board.inject(StuckNet(pin="J8-03", level=False, at_ns=1_000))
    board.clear_fault(fault)
    board.run_for(2_000)
    assert board.net("J8-03").level is True
    assert not fault.active


def test_stuck_net_fights_a_push_pull_output(board: Board) -> None:
    """DESIGN electrical rules: a net shorted low against an output driving high is a fault."""
    board.inject(StuckNet(pin="J8-11", level=False))
    board.gpio.set_function(27, "output")  # jumpered to J8-11 by the jig
    with pytest.raises(ElectricalFault, match="contention"):
        board.write_register("gpio", "GPSET0", 1 << 27)


def test_stuck_sda_hangs_the_bus_for_every_device(board: Board) -> None:
    """DESIGN: "hold SDA low (bus hang ...)": the line stays low whatever the pull-ups do."""
    board.inject(StuckNet(pin="I2C1_SDA", level=False))
    board.net("I2C1_SDA").drive("device releases", None)
    assert board.gpio.signal_level("SDA1") is False


def test_brown_out_sags_the_rail_and_resets_the_soc_on_recovery(board: Board) -> None:
    """DESIGN: "a brown-out": the 3V3 rail drops; when it recovers the SoC goes through reset
    (pins back to inputs, then the firmware's boot set-up)."""
    rail = board.rail("3V3")
    board.gpio.set_function(4, "output")
    board.inject(BrownOut(rail="3V3", volts=2.0, at_ns=1_000, duration_ns=1_000))
    board.run_for(1_001)
    assert rail.volts == pytest.approx(2.0)
    assert board.net("J8-01").volts == pytest.approx(2.0)
    assert board.gpio.function(4) == "output"
    board.run_for(1_000)
    assert rail.volts == pytest.approx(3.3)
    assert board.gpio.function(4) == "input"
    assert board.gpio.function(2) == "ALT0"  # boot functions again


def test_brown_out_must_be_below_nominal(board: Board) -> None:
    """A brown-out that does not lower the rail is a mistake in the test, said clearly."""
    with pytest.raises(ValueError, match=r"below its 3\.3 V"):
        board.inject(BrownOut(rail="3V3", volts=3.6))
    assert board.faults == []  # a fault that failed to start is not left behind
    with pytest.raises(ValueError, match="cannot be negative"):
        BrownOut(rail="5V", volts=-1.0)


def test_brown_out_seen_by_a_gpio_jumpered_to_the_rail(board: Board) -> None:
    """A GPIO wired to the 3V3 pin reads what the rail gives: low below VIL (0.8 V)."""
    board.connect("J8-07", "J8-17")
    assert board.gpio.level(4) is True
    board.inject(BrownOut(rail="3V3", volts=0.5, reset_soc=False))
    assert board.gpio.level(4) is False


def test_dropped_device_disappears_from_its_bus_and_comes_back(board: Board) -> None:
    """DESIGN: "drop a device": controllers no longer find it; it answers again after."""
    sda, scl = board.gpio.net(2), board.gpio.net(3)

    def on_bus() -> set[str]:
        return {a.device.name for a in board.attachments.find("i2c", sda=sda, scl=scl)}  # type: ignore[attr-defined]

    assert "rtc" in on_bus()
    rtc: Any = board.devices["rtc"]
    board.inject(DroppedDevice(device="rtc", at_ns=100, duration_ns=1_000))
    board.run_for(101)
    assert "rtc" not in on_bus()
    assert "temperature" in on_bus()
    assert rtc.present is False
    board.run_for(1_000)
    assert "rtc" in on_bus()
    assert rtc.present is True


def test_dropping_an_unattached_device_is_refused(board: Board) -> None:
    """A fault that cannot happen is an error, not a silent no-op."""

    class Loose:
        name = "loose"

    with pytest.raises(ValueError, match="not attached"):
        board.inject(DroppedDevice(device=Loose()))


def test_fault_arguments_are_checked() -> None:
    """Times are integer nanoseconds of simulated time."""
    with pytest.raises(ValueError, match="at_ns"):
        StuckNet(pin="J8-03", at_ns=-1)
    with pytest.raises(ValueError, match="duration_ns"):
        StuckNet(pin="J8-03", duration_ns=0)
    with pytest.raises(TypeError):
        Fault()  # type: ignore[abstract]


def test_inject_takes_only_faults(board: Board) -> None:
    """Bad input gets a clear error."""
    with pytest.raises(TypeError, match="Fault"):
        board.inject("stuck")  # type: ignore[arg-type]


def test_bus_modules_can_define_their_own_faults(board: Board) -> None:
    """docs/emulator-api.md: bus modules define their own fault classes on the Fault base."""
    seen: list[tuple[str, int]] = []

    class Glitch(Fault):
        def apply(self, board: Board) -> None:
            seen.append(("apply", board.now_ns))
            board.net("J8-31").drive("glitch", Drive.push_pull(True))

        def clear(self, board: Board) -> None:
            seen.append(("clear", board.now_ns))
            board.net("J8-31").release("glitch")

    board.inject(Glitch(at_ns=50, duration_ns=25))
    board.run_for(200)
    assert seen == [("apply", 50), ("clear", 75)]


def test_an_electrical_fault_at_a_scheduled_time_reaches_the_runner_as_is(board: Board) -> None:
    """DESIGN: ElectricalFault carries the net, the drivers and the time, also when a scheduled
    fault causes it while simulated time runs."""
    board.gpio.set_function(24, "output")  # drives low
    board.inject(StuckNet(pin="GPIO24", level=True, at_ns=500))
    with pytest.raises(ElectricalFault) as info:
        board.run_for(1_000)
    assert info.value.net == "GPIO24"
    assert info.value.time_ns == 500
    assert any("gpio.GPIO24" in d for d in info.value.drivers)
