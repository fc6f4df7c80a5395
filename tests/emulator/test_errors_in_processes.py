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
