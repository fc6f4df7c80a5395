"""The twin selection (issue 15 item 3): user tests written once, run on the emulator and on
the kernel tier's QEMU guest, compared by tests/kernel/test_twin_table.py.

Both sides use the board profile ci/kernel/kernel-sim.yaml: on the emulator by path
(``--hil-target=sim --hil-board=ci/kernel/kernel-sim.yaml``: a BCM2711 with a 24C02 at 0x50 on
i2c0 and a TXD-RXD jumper on uart0), in the guest by name (``--hil-target=local
--hil-board=kernel-sim``: gpio-sim lines GPIO0..57, i2c-stub at 0x50 on /dev/i2c-0, a looped
16550 on /dev/ttyS1). The tests use the public driver API (``board``), smbus2 on the bus's
``linux_device`` (through the ``userspace`` fixture, a no-op in the guest) and one per-target
fixture, ``outside``: what drives an input from outside the board (a bench source on the
emulator's pin, gpio-sim's sysfs ``pull`` in the guest). ci/kernel/run.py runs both sides and
writes their JUnit to the output folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from rpiboard_pihil import RpiBoard

from ..kernel.kernel_sim import drive as gpio_sim_pull

MODEL = "pihil kernel-sim"
VDD = 3.3
Drive = Callable[[int, bool], None]


@pytest.fixture(autouse=True)
def _kernel_sim_only(board: RpiBoard) -> None:
    if board.info.model != MODEL:
        pytest.skip(
            f"twin selection: runs on the kernel-sim board (ci/kernel/kernel-sim.yaml), not "
            f"{board.info.model!r}"
        )


@pytest.fixture
def outside(board: RpiBoard, request: pytest.FixtureRequest) -> Iterator[Drive]:
    """``outside(line, level)``: the world outside the board drives input ``line``.

    Emulator: an external source of 3.3 V or 0 V on the pin (removed after the test).
    Guest: gpio-sim's ``pull`` of the line (drivers/gpio/gpio-sim.c ``gpio_sim_sysfs_pull_store``,
    put back to its default ``pull-down`` after the test).
    """
    touched: set[int] = set()
    if request.config.getoption("--hil-target") == "sim":
        emulator = board.simulation

        def drive(line: int, level: bool) -> None:
            emulator.apply_voltage(f"GPIO{line}", VDD if level else 0.0)
            touched.add(line)

        yield drive
        for line in touched:
            emulator.remove_voltage(f"GPIO{line}")
        return

    def pull(line: int, level: bool) -> None:
        gpio_sim_pull(line, level)
        touched.add(line)

    yield pull
    for line in touched:
        gpio_sim_pull(line, False)


@pytest.fixture
def i2c_device(board: RpiBoard) -> str:
    """The i2c0 bus's /dev node (the same name in the profile on both sides)."""
    return next(b.linux_device for b in board.info.i2c_buses if b.name == "i2c0")
