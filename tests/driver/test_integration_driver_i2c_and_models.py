"""Integration fixes seen from the driver: ``I2cBus.write_read`` on both backends, and the
kernel models of the ID query read from the board profiles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import FakeLinux
from linux_doubles import FakeI2cTarget

import rpiboard_pihil.backends.linux as linux
from rpiboard_pihil import RpiBoard
from rpiboard_pihil.backends.base import I2cMessage
from rpiboard_pihil.backends.linux import LinuxBackend
from rpiboard_pihil.backends.simulated import board_infos, describe_board


@pytest.fixture
def local_board(fake_linux: FakeLinux, monkeypatch: pytest.MonkeyPatch) -> Iterator[RpiBoard]:
    monkeypatch.setattr(linux, "DEFAULT_ROOT", fake_linux.root)
    monkeypatch.setattr(linux, "load_libraries", lambda: fake_linux.libs)
    b = RpiBoard("local")
    yield b
    b.close()


def test_write_read_on_the_linux_backend_returns_the_read_data(
    local_board: RpiBoard, fake_linux: FakeLinux
) -> None:
    """Linux I2C_RDWR: a write message then a read message after a repeated start (soc-facts
    §1.6); ``transfer`` gives the data of the read messages only, so ``write_read`` is the
    first (and only) item, the bytes at the register written."""
    target = FakeI2cTarget()
    target.memory[0x10:0x13] = b"\xa1\xb2\xc3"
    node = str(fake_linux.root / "dev/i2c-1")
    fake_linux.smbus2.targets[(node, 0x50)] = target
    i2c = local_board.i2c_buses["i2c1"]
    assert i2c.write_read(0x50, b"\x10", 3) == b"\xa1\xb2\xc3"
    _, msgs = fake_linux.smbus2.transfers[-1]
    assert [(addr, length) for addr, _, length in msgs] == [(0x50, b"\x10"), (0x50, 3)]
    got = i2c.transfer([I2cMessage.write(0x50, b"\x11"), I2cMessage.read_of(0x50, 1)])
    assert got == [b"\xb2"]


def test_write_read_on_the_simulated_backend_returns_the_read_data() -> None:
    """The same call on the emulator: the TPA6130A2's version register reads 0x02 (MirkoPC's
    tpa6130a2_init.py), and ``transfer`` gives one item per read message."""
    with RpiBoard("local", options={"simulate": True, "board": "mirkopc"}) as board:
        i2c = board.i2c_buses["i2c1"]
        assert i2c.write_read(0x60, b"\x04", 1) == b"\x02"
        got = i2c.transfer([I2cMessage.write(0x60, b"\x04"), I2cMessage.read_of(0x60, 2)])
        assert len(got) == 1
        assert got[0][:1] == b"\x02"


def test_the_id_query_uses_the_kernel_models_of_the_profiles() -> None:
    """Each profile names what /proc/device-tree/model starts with; the Linux backend's ID
    query picks the profile from the reported string."""
    catalogue = board_infos()
    assert catalogue["rpi-bplus"].kernel_models == ("Raspberry Pi Model B Plus",)
    info = LinuxBackend._choose_board(
        catalogue, "Raspberry Pi Model B Plus Rev 1.2", board=None, id_query=True
    )
    assert info.name == "rpi-bplus"


def test_a_board_added_as_one_profile_file_is_identified(tmp_path: Path) -> None:
    """Adding a board is one file: its profile's kernel_models reach the ID query."""
    from pihil_emulator.boards import load_profile

    path = tmp_path / "pi400.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "model": "Raspberry Pi 400",
                "manufacturer": "Raspberry Pi Ltd",
                "soc": "BCM2711",
                "kernel_models": ["Raspberry Pi 400"],
                "headers": {"J8": {"pins": {1: "3V3", 2: "5V", 3: "GPIO2"}}},
            }
        )
    )
    info = describe_board(load_profile(path))
    assert info.kernel_models == ("Raspberry Pi 400",)
    catalogue = {**board_infos(), "pi400": info}
    chosen = LinuxBackend._choose_board(
        catalogue, "Raspberry Pi 400 Rev 1.0", board=None, id_query=True
    )
    assert chosen is info
