"""What board-detection code reads inside a userspace: /proc/cpuinfo and the device tree.

Revision codes: the Raspberry Pi documentation's revision-codes table (old-style codes
0002-0015; new style NOQuuuWuFMMMCCCCPPPPTTTTTTTTRRRR with type 0x11 = 4B, 0x14 = CM4).
"""

from __future__ import annotations

import struct

import pytest

from pihil_emulator.userspace.procfs import board_compatible
from rpiboard_pihil import RpiBoard

BOARDS = {
    "rpi-b-rev1": ("0002", "Raspberry Pi Model B Rev 1", "brcm,bcm2835"),
    "rpi-b-rev2": ("000e", "Raspberry Pi Model B Rev 2", "brcm,bcm2835"),
    "rpi-bplus": ("0010", "Raspberry Pi Model B Plus Rev 1.2", "brcm,bcm2835"),
    "rpi-4b": ("c03114", "Raspberry Pi 4 Model B Rev 1.4", "brcm,bcm2711"),
    "mirkopc": ("c03140", "Raspberry Pi Compute Module 4 Rev 1.0", "brcm,bcm2711"),
}


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_the_board_describes_itself_as_raspberry_pi_os_does(name: str) -> None:
    code, model, soc = BOARDS[name]
    board = RpiBoard("local", options={"simulate": True, "board": name})
    try:
        with board.simulation.userspace():
            with open("/proc/cpuinfo") as f:
                fields = dict(
                    (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in f)
                )
            assert fields["Revision"] == code
            assert fields["Model"] == model
            assert fields["Hardware"] == "BCM2835"  # the downstream kernel, every model
            with open("/proc/device-tree/model", "rb") as f:
                assert f.read() == model.encode() + b"\0"
            with open("/proc/device-tree/system/linux,revision", "rb") as f:
                assert struct.unpack(">I", f.read())[0] == int(code, 16)
            with open("/proc/device-tree/compatible", "rb") as f:
                assert f.read().split(b"\0")[:2] == [
                    board_compatible(code).encode(),  # type: ignore[union-attr]
                    soc.encode(),
                ]
            assert any(model.startswith(m) for m in board.simulation.emulator.profile.kernel_models)
    finally:
        board.close()


def test_new_style_codes_give_the_board_type() -> None:
    # bits 4-11: 0x11 = 4B, 0x14 = CM4 (revision-codes table)
    assert board_compatible("c03114") == "raspberrypi,4-model-b"
    assert board_compatible("b03140") == "raspberrypi,4-compute-module"
    assert board_compatible("0010") == "raspberrypi,model-b-plus"
