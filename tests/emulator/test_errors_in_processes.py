"""Emulator exceptions survive SimPy's re-raise of a failed background process.

SimPy rebuilds the failure as ``type(e)(*e.args)`` with the original as
``__cause__``; an exception that cannot be rebuilt that way reaches the user as
a confusing ``TypeError`` instead of the fault.
"""

from __future__ import annotations

import pytest

from pihil_emulator.boards.pins import PinNameConflict
from pihil_emulator.devices.hat_eeprom import AtomCrcError
from pihil_emulator.errors import BusError, ElectricalFault, EmulatorError, ProfileError
from pihil_emulator.world.clock import World

SAMPLES: list[EmulatorError] = [
    ElectricalFault("contention", net="GPIO4", drivers=["a: push-pull high"], time_ns=7),
    BusError(
        "address NACK",
        bus="bsc1",
        kind="nack",
        address=0x68,
        phase="address",
        errno_name="EREMOTEIO",
    ),
    ProfileError("mirkopc.yaml", "devices.rtc.model", "one of: pcf8523, lm75b"),
    PinNameConflict("LED", "J8-36", "J8-37"),
    AtomCrcError(1, 0x0001, 0x1234, 0x4321),
]


@pytest.mark.parametrize("error", SAMPLES, ids=lambda e: type(e).__name__)
def test_failure_in_a_background_process_keeps_its_type_fields_and_message(
    error: EmulatorError,
) -> None:
    world = World()

    def background():  # type: ignore[no-untyped-def]
        yield world.timeout(5)
        raise error

    world.process(background())
    with pytest.raises(type(error)) as info:
        world.run_for(10)
    assert str(info.value) == str(error)
    assert vars(info.value) == vars(error)
    assert info.value.__cause__ is error


class Interrupt(Exception):
    """Stands for KeyboardInterrupt (a real one would stop the test run)."""


@pytest.mark.parametrize("error", [ElectricalFault("short", net="GPIO4", time_ns=5), Interrupt()])
def test_a_run_ended_by_an_exception_leaves_time_consistent(error: Exception) -> None:
    """Issue 11 "Recovery": after an exception out of a run (a fault raised by a process at
    5 µs of a 10 µs run, Ctrl-C), the next ``run_for(t)`` advances exactly ``t``: the stop of
    the interrupted run does not end a later one early."""
    world = World()

    def fail() -> None:
        raise error

    world.call_at(5_000, fail)
    with pytest.raises(type(error)):
        world.run_for(10_000)
    assert world.now_ns == 5_000
    world.run_for(20_000)
    assert world.now_ns == 25_000
    with pytest.raises(TimeoutError):
        world.run_until(world.event(), limit_ns=1_000)
    assert world.now_ns == 26_000
    world.call_at(world.now_ns + 500, fail)
    with pytest.raises(type(error)):
        world.run_until(world.event(), limit_ns=3_000)
    world.run_for(7_000)
    assert world.now_ns == 26_500 + 7_000
