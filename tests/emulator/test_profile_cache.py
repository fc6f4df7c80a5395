"""The cache of validated board profiles (issue 13 item 4, `boards.loader.load_profile`).

A profile loaded again comes from the cache only while every file of its ``extends``
chain reads the same text and the device registry is unchanged; what a board built from a
cached profile does is what a board built from a freshly parsed one does.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from pihil_emulator.board import Board
from pihil_emulator.boards import PROFILES_DIR, BoardProfile, load_profile
from pihil_emulator.boards import loader as profile_module
from pihil_emulator.devices.registry import DEVICE_MODELS, DeviceEntry
from pihil_emulator.errors import ProfileError


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    profile_module.clear_profile_cache()
    yield
    profile_module.clear_profile_cache()


def _copy_mirkopc(folder: Path) -> Path:
    """mirkopc.yaml and its bases in ``folder`` (``extends`` resolves in the same folder)."""
    for name in ("mirkopc.yaml", "_j8-40.yaml"):
        shutil.copy(PROFILES_DIR / name, folder / name)
    text = (folder / "mirkopc.yaml").read_text(encoding="utf-8")
    assert "extends: _j8-40" in text
    return folder / "mirkopc.yaml"


def _same(a: BoardProfile, b: BoardProfile) -> None:
    for f in fields(BoardProfile):
        if f.compare:
            assert getattr(a, f.name) == getattr(b, f.name), f.name


def test_a_second_load_is_the_cached_profile_and_equals_a_fresh_parse() -> None:
    first = load_profile("mirkopc")
    assert load_profile("mirkopc") is first
    assert load_profile(PROFILES_DIR / "mirkopc.yaml") is first  # one entry per resolved path
    profile_module.clear_profile_cache()
    fresh = load_profile("mirkopc")
    assert fresh is not first
    _same(first, fresh)


def test_a_file_rewritten_at_once_with_the_same_size_is_parsed_again(tmp_path: Path) -> None:
    path = _copy_mirkopc(tmp_path)
    assert load_profile(path).model == "MirkoPC REV1.1"
    text = path.read_text(encoding="utf-8")
    # same length, written within the same mtime tick: only the text tells them apart
    path.write_text(text.replace("MirkoPC REV1.1", "MirkoPC REV1.2"), encoding="utf-8")
    assert load_profile(path).model == "MirkoPC REV1.2"


def test_a_changed_base_file_is_seen(tmp_path: Path) -> None:
    path = _copy_mirkopc(tmp_path)
    before = load_profile(path)
    assert before.headers["J8"].description != "changed in the base"
    base = tmp_path / "_j8-40.yaml"
    text = base.read_text(encoding="utf-8")
    old = "    description: 40-pin GPIO header (2x20, pin 1 is 3V3)\n"
    assert old in text
    base.write_text(text.replace(old, "    description: changed in the base\n"), encoding="utf-8")
    after = load_profile(path)
    assert after is not before
    assert after.headers["J8"].description == "changed in the base"


def test_errors_are_not_cached(tmp_path: Path) -> None:
    path = _copy_mirkopc(tmp_path)
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("soc: BCM2711", "soc: BCM9999"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ProfileError, match="soc"):
            load_profile(path)
    path.write_text(good, encoding="utf-8")
    assert load_profile(path).soc == "BCM2711"
    path.write_text(good.replace("soc: BCM2711", "soc: BCM9999"), encoding="utf-8")
    with pytest.raises(ProfileError, match="soc"):
        load_profile(path)  # a cached good profile does not hide the broken file


def test_a_device_model_removed_from_the_registry_fails_the_cached_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _copy_mirkopc(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("model: lm75b", "model: fake-sensor"), encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setitem(DEVICE_MODELS, "fake-sensor", DeviceEntry("i2c", lambda *a: None, None, "x"))
        assert load_profile(path).devices["temperature"].model == "fake-sensor"
        assert load_profile(path) is load_profile(path)
    assert "fake-sensor" not in DEVICE_MODELS
    with pytest.raises(ProfileError, match="fake-sensor"):
        load_profile(path)


def test_the_cache_is_bounded(tmp_path: Path) -> None:
    source = (PROFILES_DIR / "rpi-4b.yaml").read_text(encoding="utf-8")
    shutil.copy(PROFILES_DIR / "_j8-40.yaml", tmp_path / "_j8-40.yaml")
    for i in range(profile_module.PROFILE_CACHE_SIZE + 5):
        (tmp_path / f"board{i}.yaml").write_text(source, encoding="utf-8")
        load_profile(tmp_path / f"board{i}.yaml")
    assert len(profile_module._cache) == profile_module.PROFILE_CACHE_SIZE
    assert (tmp_path / "board0.yaml").resolve() not in profile_module._cache  # oldest gone


def test_boards_from_a_cached_profile_behave_like_fresh_ones() -> None:
    def trace(board: Board) -> tuple[object, ...]:
        board.attachments  # noqa: B018 - built
        return (
            sorted(board.devices),
            board.gpio.read("GPLEV0"),
            board.gpio.read("GPFSEL1"),
            [wire.a.name + wire.b.name for wire in board.circuit.wires],
        )

    profile_module.clear_profile_cache()
    fresh = Board.from_profile("mirkopc")
    cached = Board.from_profile("mirkopc")
    assert fresh.profile is cached.profile
    assert trace(fresh) == trace(cached)
    assert fresh.pins is not cached.pins  # each board's own resolution cache and clock
    assert fresh.pins.resolve("J8-03") == cached.pins.resolve("J8-03")
    fresh.run_for(5_000_000)
    cached.run_for(5_000_000)
    assert trace(fresh) == trace(cached)
