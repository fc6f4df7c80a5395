"""Profile keys that carry what used to live outside the profile (one file per board)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pihil_emulator.board import Board
from pihil_emulator.boards import load_profile, profile_names
from pihil_emulator.errors import ProfileError
from pihil_emulator.soc.pl011 import Pl011Block
from pihil_emulator.world.clock import NS_PER_MS

KERNEL_MODELS = {
    "rpi-b-rev1": ("Raspberry Pi Model B Rev 1",),
    "rpi-b-rev2": ("Raspberry Pi Model B Rev 2",),
    "rpi-bplus": ("Raspberry Pi Model B Plus",),
    "rpi-4b": ("Raspberry Pi 4 Model B",),
    "cm4-io": ("Raspberry Pi Compute Module 4",),
    "mirkopc": ("Raspberry Pi Compute Module 4",),
}

SMALL: dict[str, Any] = {
    "model": "Test Board",
    "manufacturer": "Test",
    "soc": "BCM2711",
    "kernel_models": ["Raspberry Pi 4 Model B", "Raspberry Pi 400"],
    "headers": {"J1": {"pins": {1: "3V3", 2: "GPIO2", 3: "GND"}}},
}


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "testboard.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_every_shipped_profile_names_its_kernel_model() -> None:
    """DESIGN "Devices and boards" (profiles are data files, one per board): the
    /proc/device-tree/model prefix the driver's ID query matches on hardware is in the
    profile (Raspberry Pi OS: "Raspberry Pi 4 Model B Rev 1.4", "Raspberry Pi Compute
    Module 4 Rev 1.0"; a CM4 carrier is not visible to the kernel)."""
    assert set(profile_names()) == set(KERNEL_MODELS)
    for name, models in KERNEL_MODELS.items():
        assert load_profile(name).kernel_models == models, name


def test_a_profile_file_carries_its_kernel_models(tmp_path: Path) -> None:
    """A board added as one file brings its kernel models with it."""
    profile = load_profile(write(tmp_path, SMALL))
    assert profile.kernel_models == ("Raspberry Pi 4 Model B", "Raspberry Pi 400")
    without = {k: v for k, v in SMALL.items() if k != "kernel_models"}
    assert load_profile(write(tmp_path, without)).kernel_models == ()


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("Raspberry Pi 4 Model B", "kernel_models"),
        ([], "kernel_models"),
        (["Raspberry Pi 4 Model B", 4], "kernel_models[1]"),
        ([" Raspberry Pi 4 Model B"], "kernel_models[0]"),
    ],
)
def test_bad_kernel_models_are_rejected_with_the_key(tmp_path: Path, value: Any, key: str) -> None:
    """A bad profile is rejected with the file, the key and what was expected."""
    path = write(tmp_path, {**SMALL, "kernel_models": value})
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.key == key
    assert "/proc/device-tree/model" in info.value.expected


# -- boot pulls: the firmware's pad pulls (the UART's RX pulled up) ---------------------------


@pytest.mark.parametrize("name", sorted(KERNEL_MODELS))
def test_the_uart_rx_pin_is_pulled_up_after_boot(name: str) -> None:
    """raspberrypi/documentation pin-configuration.md (the firmware's dt-blob): RX uart0 on
    GPIO15 is `termination = "pull_up"`, TX `no_pulling` [V for the BCM2835 boards, I for the
    BCM2711 ones]; GPIO15's reset pull is down (soc-facts §3.7), so the profile says it."""
    board = Board.from_profile(name)
    profile = board.profile
    rx_line = profile.buses[profile.primary_uart or ""].gpios["rx"]
    assert rx_line == 15
    assert profile.boot_pulls == {15: "up"}
    assert board.gpio.pull(15) == "up"
    assert board.gpio.pull(14) == "down"  # TX keeps its reset pull (the UART drives it)
    board.reset()  # the RUN pin: the firmware boots again and sets it again
    assert board.gpio.pull(15) == "up"


def test_the_bcm2711_pull_register_reads_the_boot_pull() -> None:
    """soc-facts §3.6: on the BCM2711 "Reading these registers gives the current pull-state"
    (01 = pull up); GPIO15 is bits 31:30 of GPIO_PUP_PDN_CNTRL_REG0."""
    board = Board.from_profile("rpi-4b")
    assert board.read_register("gpio", "GPIO_PUP_PDN_CNTRL_REG0") >> 30 & 0b11 == 0b01


def test_the_jig_loopback_removed_leaves_the_pl011_rx_idle_not_in_break() -> None:
    """soc-facts §4.2 PL011 BE: a break is the RX input held low for more than a frame. With
    the MirkoPC jig's TX-RX wire removed, the RX pin rests on its boot pull-up (idle, marking),
    so the PL011 counts no break and receives nothing."""
    board = Board.from_profile("mirkopc")
    uart = board.soc.blocks["uart0"]
    assert isinstance(uart, Pl011Block)
    uart.configure(115_200)
    (jig,) = [w for w in board.wires if {w.a.name, w.b.name} == {"GPIO14", "GPIO15"}]
    board.disconnect(jig)
    board.run_for(10 * NS_PER_MS)
    assert board.net("J8-10").level is True
    assert uart.read(1, 0) == b""
    assert uart.error_counts()["break"] == 0


def test_bad_boot_pulls_are_rejected_with_the_key(tmp_path: Path) -> None:
    """A bad profile is rejected with the file, the key and what was expected."""
    for value, key, expected in (
        ({"GPIO2": "strong"}, "boot_pulls.GPIO2", "up, down, none"),
        ({"J1-01": "up"}, "boot_pulls.J1-01", "a GPIO pin"),
        (["GPIO2"], "boot_pulls", "a mapping of pin to pull"),
    ):
        with pytest.raises(ProfileError) as info:
            load_profile(write(tmp_path, {**SMALL, "boot_pulls": value}))
        assert info.value.key == key
        assert expected in info.value.expected
