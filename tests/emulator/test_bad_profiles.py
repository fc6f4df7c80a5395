"""Malformed board profiles get a `ProfileError` naming the file, the key and what was
expected (issue 11 item 4): the findings of the fuzz tier (tests/fuzz/test_fuzz_profiles.py).

Before their fixes these were tracebacks from inside the loader (``unhashable type:
'dict'`` for a YAML complex key, UnicodeDecodeError, RecursionError, the 4300-digit int
limit's ValueError, a MemoryError from a huge pin number), a hang (a SoC override of
10**12 GPIO lines) or a silent acceptance (NaN ohms, nonsense SoC overrides).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pihil_emulator.board import Board
from pihil_emulator.boards import PROFILES_DIR, load_profile
from pihil_emulator.boards.loader import _load_merged
from pihil_emulator.errors import ProfileError
from pihil_emulator.soc.variants import BCM2711


def _write(tmp_path: Path, text: str | bytes, name: str = "rpi-4b") -> Path:
    path = tmp_path / f"{name}.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _merged(name: str = "rpi-4b") -> dict[str, object]:
    data, _ = _load_merged(PROFILES_DIR / f"{name}.yaml")
    return data


@pytest.mark.parametrize(
    "text", ["[a, b]: 1\n", "{a: 1}: 1\n", "? [a, b]\n: 1\n", "soc: BCM2711\n!!set {a}: 1\n"]
)
def test_a_complex_key_is_refused_with_its_line(tmp_path: Path, text: str) -> None:
    """Was TypeError: unhashable type: 'dict' (or 'list', 'set') in _construct_mapping."""
    with pytest.raises(ProfileError, match=r"\(line \d+\): a key that is a name or a number"):
        load_profile(_write(tmp_path, text))


def test_a_complex_key_deep_inside_is_refused(tmp_path: Path) -> None:
    data = _merged()
    text = yaml.safe_dump(data, sort_keys=False).replace(
        "    pins:\n", "    pins:\n      [1, 2]: NC\n", 1
    )
    with pytest.raises(ProfileError, match=r"got a list as a key \(\[1, 2\]\)"):
        load_profile(_write(tmp_path, text))


def test_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    """Was UnicodeDecodeError from read_text."""
    with pytest.raises(ProfileError, match=r"\(file\): UTF-8 text; byte 0 is not"):
        load_profile(_write(tmp_path, b"\xff\xfesoc: BCM2711\n"))


def test_nesting_too_deep(tmp_path: Path) -> None:
    """Was RecursionError from the YAML constructor."""
    with pytest.raises(ProfileError, match=r"\(yaml\)"):
        load_profile(_write(tmp_path, "a: " + "[" * 3000 + "]" * 3000 + "\n"))


def test_an_integer_of_thousands_of_digits(tmp_path: Path) -> None:
    """Was ValueError: Exceeds the limit (4300 digits) for integer string conversion."""
    with pytest.raises(ProfileError, match=r"\(yaml\): values a profile can hold"):
        load_profile(_write(tmp_path, "soc: BCM2711\nmodel: " + "1" * 5000 + "\n"))


@pytest.mark.parametrize("number", [201, 10**12, 10**100])
def test_a_header_pin_number_beyond_any_connector(tmp_path: Path, number: int) -> None:
    """10**12 made the "every pin from 1" check build a set of a trillion numbers
    (MemoryError after minutes); now a bound names the largest connector."""
    data = _merged()
    pins = data["headers"]["J8"]["pins"]  # type: ignore[index]
    pins[number] = pins.pop(40)
    with pytest.raises(
        ProfileError, match=r"headers\.J8\.pins\.\d+: a physical pin number up to 200"
    ):
        load_profile(_write(tmp_path, yaml.safe_dump(data, sort_keys=False)))


@pytest.mark.parametrize("ohms", [".nan", ".inf", "-.inf", "0x" + "f" * 300])
def test_a_pull_of_nan_or_infinite_ohms(tmp_path: Path, ohms: str) -> None:
    """NaN ohms loaded silently (NaN <= 0 is False); an int too large for a float was an
    OverflowError."""
    data = _merged()
    data["pulls"] = [{"pin": "J8-11", "pull": "up", "ohms": "__OHMS__"}]
    text = yaml.safe_dump(data, sort_keys=False).replace("'__OHMS__'", ohms)
    with pytest.raises(
        ProfileError,
        match=r"pulls\[0\]\.ohms: a positive, finite resistance in ohms \(up to 1e\+12\)",
    ):
        load_profile(_write(tmp_path, text))


def test_a_device_bus_that_is_a_list(tmp_path: Path) -> None:
    """Was TypeError: unhashable type: 'list' (`bus_name not in buses`)."""
    data = _merged("mirkopc")
    data["devices"]["rtc"]["bus"] = ["i2c1"]  # type: ignore[index]
    with pytest.raises(ProfileError, match=r"devices\.rtc\.bus: a i2c bus of this profile"):
        load_profile(_write(tmp_path, yaml.safe_dump(data, sort_keys=False), "mirkopc"))


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"gpio_count": 10**12}, r"gpio_count takes an integer 1\.\.64"),
        ({"gpio_count": True}, r"gpio_count takes an integer"),
        ({"core_clock_hz": "fast"}, r"core_clock_hz takes an integer"),
        ({"core_clock_hz": 0}, r"core_clock_hz takes an integer 1000000\.\."),
        ({"pull_control": "x"}, r"pull_control takes gppud or pup_pdn"),
        ({"i2c_stretch_bug": "yes"}, r"i2c_stretch_bug takes true or false"),
        ({"i2c_controllers": "bsc1"}, r"i2c_controllers takes a list of block names"),
        ({"name": "BCM2835"}, r"unknown SoC parameter\(s\) name"),
    ],
)
def test_soc_overrides_are_checked(tmp_path: Path, override: dict[str, object], match: str) -> None:
    """Any value was taken: gpio_count 10**12 hung building the GPIO block, a string clock
    failed later inside a bus model."""
    data = _merged()
    data["soc_overrides"] = override
    with pytest.raises(ProfileError, match=rf"soc_overrides: .*{match}"):
        load_profile(_write(tmp_path, yaml.safe_dump(data, sort_keys=False)))
    with pytest.raises(ValueError, match=match):
        BCM2711.with_overrides(**override)


def test_good_overrides_still_apply() -> None:
    fast = Board.from_profile("mirkopc", soc_overrides={"core_clock_hz": 400_000_000})
    assert fast.variant.core_clock_hz == 400_000_000
    assert BCM2711.with_overrides(i2c_controllers=["bsc1"]).i2c_controllers == ("bsc1",)
