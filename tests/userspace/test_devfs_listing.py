"""Listing the board's ``/dev`` (and its device tree) inside a userspace.

``os.listdir``/``os.scandir`` and what is built on them (``glob``, ``pathlib``, ``os.walk``)
show the board's device files; the machine's own ``/dev/null``, ``/dev/urandom``,
``/dev/pts`` stay (a test process needs them); the machine's devices of the board kinds
(``i2c-*``, ``ttyS*``, ``gpiochip*``...) are not the board's and are not listed.
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pihil_emulator.userspace import Userspace, devfs_paths
from rpiboard_pihil import RpiBoard

BOARD_FILES = {"i2c-0", "i2c-1", "ttyAMA0", "serial0"}  # mirkopc: i2c0 (jig), i2c1, PL011


def board_files(space: Userspace) -> set[str]:
    """Every device file the userspace serves directly in /dev (more interfaces add theirs)."""
    return {p[5:] for p in space.devfs.paths if p.startswith("/dev/") and "/" not in p[5:]}


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board
    board.close()


def test_dev_lists_the_boards_files_and_keeps_what_a_process_needs(mirkopc: RpiBoard) -> None:
    real = set(os.listdir("/dev"))
    with mirkopc.simulation.userspace() as space:
        names = os.listdir("/dev")
        assert len(names) == len(set(names))  # no entry twice
        assert set(names) >= BOARD_FILES
        assert set(names) >= board_files(space)
        for needed in ("null", "urandom", "pts", "ptmx"):
            if needed in real:
                assert needed in names
        assert set(names) - board_files(space) <= real
        with open("/dev/null", "w") as sink:  # still the machine's
            sink.write("x")
        assert len(os.urandom(4)) == 4
    assert set(os.listdir("/dev")) == real  # put back on leaving
    assert os.listdir is devfs_paths.ORIGINAL_LISTDIR
    assert os.scandir is devfs_paths.ORIGINAL_SCANDIR


def test_the_machines_devices_of_board_kinds_are_not_listed(
    mirkopc: RpiBoard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the machine has: its ``ttyS3``, ``i2c-7``, ``gpiochip4`` are not the board's."""
    host = ["null", "ttyS3", "i2c-7", "i2c-1", "gpiochip4", "spidev0.0", "ttyUSB0", "pts"]
    monkeypatch.setattr(devfs_paths, "ORIGINAL_LISTDIR", lambda path: list(host))
    with mirkopc.simulation.userspace() as space:
        names = os.listdir("/dev")
        assert sorted(names) == sorted(["null", "ttyUSB0", "pts", *board_files(space)])


def test_scandir_entries_say_what_they_are(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace(), os.scandir("/dev") as entries:
        by_name = {e.name: e for e in entries}
    i2c = by_name["i2c-1"]
    assert i2c.path == "/dev/i2c-1"
    assert os.fspath(i2c) == "/dev/i2c-1"
    assert i2c.is_file()
    assert not i2c.is_dir()
    assert not i2c.is_symlink()
    with mirkopc.simulation.userspace():
        assert stat.S_ISCHR(i2c.stat().st_mode)
        assert stat.S_ISCHR(os.stat("/dev/ttyAMA0").st_mode)
    if "pts" in by_name:
        assert by_name["pts"].is_dir()  # a real entry, as the machine has it


def test_glob_and_pathlib_find_the_boards_devices(
    mirkopc: RpiBoard, monkeypatch: pytest.MonkeyPatch
) -> None:
    with mirkopc.simulation.userspace():
        assert sorted(glob.glob("/dev/i2c-*")) == ["/dev/i2c-0", "/dev/i2c-1"]
        assert sorted(glob.glob("i2c-*", root_dir="/dev")) == ["i2c-0", "i2c-1"]
        assert sorted(p.name for p in Path("/dev").glob("i2c-*")) == ["i2c-0", "i2c-1"]
        assert Path("/dev/ttyAMA0") in set(Path("/dev").iterdir())
        assert glob.glob("/dev/ttyS*") == []  # the machine's serial ports are not the board's
        assert glob.glob("/dev/i2c-[0-9]") == glob.glob("/dev/i2c-?")
        monkeypatch.chdir("/dev")
        assert set(os.listdir()) >= BOARD_FILES
        assert sorted(glob.glob("i2c-*")) == ["i2c-0", "i2c-1"]
        assert {os.fsdecode(n) for n in os.listdir(b"/dev")} >= BOARD_FILES
        assert all(isinstance(n, bytes) for n in os.listdir(b"/dev"))


def test_exists_for_board_paths(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        assert os.path.exists("/dev/i2c-1")
        assert Path("/dev/i2c-0").exists()
        assert not os.path.exists("/dev/i2c-5")  # the profile has no such bus
        assert not Path("/dev/ttyS0").exists()  # mirkopc's console UART is the PL011
        assert not os.path.isdir("/dev/i2c-1")
        assert os.path.exists("/dev/null")
        assert os.path.isdir("/dev")
        assert os.access("/dev/i2c-1", os.R_OK | os.W_OK)
        with pytest.raises(NotADirectoryError):
            os.listdir("/dev/i2c-1")
        with pytest.raises(FileNotFoundError):
            os.scandir("/dev/i2c-5")


def test_the_device_tree_is_the_boards(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        for root in ("/proc/device-tree", "/sys/firmware/devicetree/base"):
            assert sorted(os.listdir(root)) == ["compatible", "model", "serial-number", "system"]
            assert os.path.isdir(root)
            assert os.path.isdir(f"{root}/system")
            assert os.listdir(f"{root}/system") == ["linux,revision"]
            assert not os.path.exists(f"{root}/chosen")  # not the machine's own tree
            with pytest.raises(FileNotFoundError):
                os.listdir(f"{root}/chosen")
        walked = {top: sorted(files) for top, _, files in os.walk("/proc/device-tree")}
        assert walked == {
            "/proc/device-tree": ["compatible", "model", "serial-number"],
            "/proc/device-tree/system": ["linux,revision"],
        }
        assert "device-tree" in os.listdir("/proc")
        assert "cpuinfo" in os.listdir("/proc")
        assert os.path.isdir("/sys/firmware/devicetree")
        assert "devicetree" in os.listdir("/sys/firmware")
        model = Path("/proc/device-tree/model").read_bytes()
        assert model == b"Raspberry Pi Compute Module 4 Rev 1.0\0"  # the profile's revision


def test_a_pi_4_lists_its_own_devices() -> None:
    board = RpiBoard("local", options={"simulate": True, "board": "rpi-4b"})
    try:
        with board.simulation.userspace():
            names = set(os.listdir("/dev"))
            assert {"i2c-1", "ttyS0", "serial0"} <= names
            assert not names & {"i2c-0", "ttyAMA0"}
    finally:
        board.close()


def test_a_file_left_open_keeps_its_number_until_its_holder_closes_it(
    mirkopc: RpiBoard, tmp_path: Path
) -> None:
    """Adafruit_PureIO and smbus2 close from ``__del__``, often after the block: the number
    must still be theirs, not a file the process opened since."""
    with mirkopc.simulation.userspace():
        left = open("/dev/i2c-1", "r+b", buffering=0)  # noqa: SIM115 - left open on purpose
        fd = left.fileno()
    with open(tmp_path / "later", "wb") as later:
        assert later.fileno() != fd
        left.close()  # closes its own number only
        later.write(b"still open")
    assert (tmp_path / "later").read_bytes() == b"still open"
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(fd)
