"""Profile keys that carry what used to live outside the profile (one file per board)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pihil_emulator.boards import load_profile, profile_names
from pihil_emulator.errors import ProfileError

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
