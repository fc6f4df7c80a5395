"""Fixtures of the driver tests: a fake Linux tree (device nodes, /proc, a real pty) and doubles."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import serial
from linux_doubles import FakeGpiod, FakeSmbus2, FakeSpidevModule

from rpiboard_pihil.backends.linux import LinuxBackend, LinuxLibraries
from rpiboard_pihil.board_info import BoardInfo, I2cBusInfo, PinInfo, SpiBusInfo, UartInfo
from rpiboard_pihil.enums import PinKind, Pull

PI4_MODEL = "Raspberry Pi 4 Model B Rev 1.4"


def pi4_like_info() -> BoardInfo:
    """A small hand-written board description: the input the Linux backend works from."""
    pins = (
        PinInfo("J8-01", "J8", 1, PinKind.POWER, None, "3V3"),
        PinInfo("J8-03", "J8", 3, PinKind.GPIO, 2, "GPIO2"),
        PinInfo("J8-06", "J8", 6, PinKind.GROUND, None, "GND"),
        PinInfo("J8-11", "J8", 11, PinKind.GPIO, 17, "GPIO17"),
        PinInfo("J8-13", "J8", 13, PinKind.GPIO, 27, "GPIO27"),
    )
    return BoardInfo(
        name="rpi-4b",
        manufacturer="Raspberry Pi Ltd",
        model="Raspberry Pi 4 Model B",
        soc="BCM2711",
        gpio_count=58,
        gpios=(2, 14, 17, 27),
        pins=pins,
        i2c_buses=(I2cBusInfo("i2c1", 1, 2, 3, "/dev/i2c-1"),),
        spi_buses=(SpiBusInfo("spi0", 0, (0, 1), {0: "/dev/spidev0.0", 1: "/dev/spidev0.1"}),),
        uarts=(
            UartInfo("uart0", 0, "pl011", 14, 15, "/dev/ttyAMA0"),
            UartInfo("uart1", 1, "mini", 14, 15, "/dev/ttyS0"),
        ),
        gpio_aliases={"J8-11": 17},
        kernel_models=("Raspberry Pi 4 Model B",),
        primary_header="J8",
        reset_pulls={2: Pull.UP, 14: Pull.DOWN, 17: Pull.DOWN, 27: Pull.DOWN},
    )


def cm4_carrier_infos() -> dict[str, BoardInfo]:
    base = pi4_like_info()
    from dataclasses import replace

    cm4 = ("Raspberry Pi Compute Module 4",)
    return {
        "rpi-4b": base,
        "cm4-io": replace(
            base, name="cm4-io", model="Raspberry Pi Compute Module 4 IO Board", kernel_models=cm4
        ),
        "mirkopc": replace(base, name="mirkopc", model="MirkoPC REV1.1", kernel_models=cm4),
    }


@dataclass
class FakeLinux:
    """A fake Pi: its root tree, the library doubles, and the far end of uart0's pty."""

    root: Path
    gpiod: FakeGpiod
    smbus2: FakeSmbus2
    spidev: FakeSpidevModule
    uart_master: int
    libs: LinuxLibraries

    def open(
        self,
        info: BoardInfo | None = None,
        icount: Callable[[int], dict[str, int] | None] | None = None,
    ) -> LinuxBackend:
        catalogue = {"rpi-4b": info or pi4_like_info()}
        backend = LinuxBackend.open(
            catalogue, board=None, devices={}, id_query=True, root=self.root, libraries=self.libs
        )
        if icount is not None:
            backend.icount = icount
        return backend


@pytest.fixture
def fake_linux(tmp_path: Path) -> Iterator[FakeLinux]:
    root = tmp_path / "root"
    (root / "dev").mkdir(parents=True)
    (root / "proc/device-tree").mkdir(parents=True)
    (root / "proc/device-tree/model").write_bytes(PI4_MODEL.encode() + b"\x00")
    for node in ("gpiochip0", "i2c-1", "spidev0.0", "spidev0.1"):
        (root / "dev" / node).touch()
    master, slave = os.openpty()
    os.symlink(os.ttyname(slave), root / "dev/ttyAMA0")
    g = FakeGpiod({str(root / "dev/gpiochip0"): ("pinctrl-bcm2711", 58)})
    sm = FakeSmbus2()
    sp = FakeSpidevModule()
    libs = LinuxLibraries(gpiod=g, smbus2=sm, spidev=sp, serial=serial)
    try:
        yield FakeLinux(root, g, sm, sp, master, libs)
    finally:
        os.close(master)
        os.close(slave)
