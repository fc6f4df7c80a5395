"""Fuzz: malformed board profiles, loaded the way the driver loads them.

Every shipped profile (merged with its ``extends`` bases) is mutated into a wrong one
(`yaml_mutations`), written to a file and loaded with `pihil_emulator.boards.load_profile`,
the loader behind the driver's board catalogue; when it loads, the board is built from it
(`Board`) and described for the driver (`describe_board`). The clean outcome is an
emulator or driver error, the `ProfileError` naming the file, the key and what was expected.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pihil_emulator.board import Board
from pihil_emulator.boards import PROFILES_DIR, load_profile, profile_names
from pihil_emulator.boards.loader import _load_merged
from pihil_emulator.errors import EmulatorError
from rpiboard_pihil import PihilError
from rpiboard_pihil.backends.simulated import describe_board

from .harness import check, fuzz_settings, referee
from .yaml_mutations import INF, NAN, WILD, Leaf, Mutant, Schema, mutants

AREA = "profiles"
W = WILD

BAD_PIN = ("J8-01", "J8-06", "P1-01", "nosuch", 5, None, "GPIO99", "", [1], {"a": 1})
"""Not a GPIO pin of any board: power, ground, unknown, not a name."""
BAD_TEXT = (5, "", "   ", [1], {"a": 1}, True, 1.5)
BAD_DEVICE = (5, "x", [], None)
ROLES = ("sda", "scl", "sclk", "mosi", "miso", "ce0", "ce1", "tx", "rx")


def _device_leaves(prefix: tuple[str, ...]) -> list[Leaf]:
    d = (*prefix, W)
    return [
        Leaf(d, BAD_DEVICE),
        Leaf((*d, "model"), ("nosuch", 5, None, "LM75B", "")),
        Leaf((*d, "part"), (5, "", None, [])),
        Leaf((*d, "bus"), ("i2c9", 5, None, "uart9", [1])),
        Leaf((*d, "address"), (-1, 0x78, 0x02, 10**30, "0xzz", True, 1.5, None, [0x50], NAN)),
        Leaf((*d, "chip_select"), (3, -1, "ce9", True, 1.5, None, "x", INF)),
        Leaf((*d, "gpio"), BAD_PIN),
        Leaf((*d, "pins"), (5, "x", [1])),
        Leaf((*d, "params"), (5, "x", [1], {5: 1})),
        Leaf((*d, "note"), BAD_TEXT),
    ]


def _pull_leaves(prefix: tuple[str, ...]) -> list[Leaf]:
    p = (*prefix, W)
    return [
        Leaf(prefix, (5, "x", {"pin": "J8-03"})),
        Leaf(p, (5, "x", [1], None)),
        Leaf((*p, "pin"), BAD_PIN),
        Leaf((*p, "pull"), ("sideways", "UP", 5, None, True)),
        Leaf((*p, "ohms"), (0, -1, NAN, INF, -INF, "3k9", True, None, [1], 1e400)),
        Leaf((*p, "ref"), BAD_TEXT),
    ]


def _jumper_leaves(prefix: tuple[str, ...]) -> list[Leaf]:
    return [
        Leaf(prefix, (5, "x", {"a": 1})),
        Leaf(
            (*prefix, W),
            (
                5,
                "x",
                ["J8-11"],
                ["J8-11", "J8-13", "J8-15"],
                ["J8-11", "J8-11"],
                ["J8-01", "J8-06"],  # 3V3 onto GND
                ["J8-02", "J8-11"],  # 5V onto a GPIO
                ["J8-11", "nosuch"],
                {"a": "J8-11"},
                {"a": "J8-11", "b": "J8-13", "c": 1},
            ),
        ),
    ]


SCHEMA = Schema(
    leaves=[
        Leaf(("soc",), ("BCM2837", 2711, None, ["BCM2711"], "", {"a": 1})),
        Leaf(("model",), (*BAD_TEXT, None)),
        Leaf(("manufacturer",), (*BAD_TEXT, None)),
        Leaf(("description",), BAD_TEXT),
        Leaf(("kernel_models",), ([], "x", [5], [""], [" x"], {"a": 1})),
        Leaf(("revision",), (5, "c03140", {"code": "c03140"}, [1])),
        Leaf(("revision", "code"), ("xyz", "C03140", "12345", "", "c0314g")),
        Leaf(("revision", "model"), (5, "", "Not A Pi at all")),
        Leaf(("primary_uart",), ("uart9", 5, "i2c1", "", None)),
        Leaf(("config",), ("x", 5, [5], [""], {"a": 1})),
        Leaf(("headers",), (5, "J8", [1, 2])),
        Leaf(("headers", W, "pins"), ({}, 5, "x", [1])),
        Leaf(("headers", W, "description"), BAD_TEXT),
        Leaf(
            ("headers", W, "pins", W),
            (
                "GPIO99",
                "GPIO-1",
                "VCC",
                5,
                None,
                [],
                "",
                "GPIO" + "9" * 30,
                {"pin": 5},
                {"pin": "NC", "labels": 5},
                {"pin": "NC", "labels": [""]},
                {"pin": "NC", "note": 5},
            ),
        ),
        Leaf(("headers", W, "pins", W, "labels"), (5, [""], [5], "x")),
        *_pull_leaves(("pulls",)),
        *_pull_leaves(("test_jig", "pulls")),
        Leaf(("buses",), (5, "x", [1])),
        Leaf(("buses", W), (5, "x", [])),
        Leaf(("buses", W, "kind"), ("can", 5, None, "I2C")),
        Leaf(("buses", W, "controller"), ("bsc9", "bsc2", 5, None, "uart7", "spi1", "")),
        Leaf(("buses", W, "enabled"), (1, "yes", 0, None, "true")),
        *[Leaf(("buses", W, role), BAD_PIN) for role in ROLES],
        Leaf(("buses", W, "linux_device"), BAD_TEXT),
        Leaf(("buses", W, "delay_us"), (0, -1, 10**6, "2", True, NAN)),
        Leaf(("buses", W, "note"), BAD_TEXT),
        *_device_leaves(("devices",)),
        *_device_leaves(("test_jig", "devices")),
        *_jumper_leaves(("jumpers",)),
        *_jumper_leaves(("test_jig", "jumpers")),
        Leaf(("boot_functions",), (5, "x", [1])),
        Leaf(("boot_functions", W), ("ALT9", 5, None, "alt", "", "ALT-1")),
        Leaf(("boot_pulls",), (5, "x", [1])),
        Leaf(("boot_pulls", W), ("sideways", 5, None, "UP", "")),
        Leaf(
            ("soc_overrides",),
            (
                5,
                "x",
                [1],
                {"nosuch": 1},
                {"gpio_count": 10**12},
                {"gpio_count": -1},
                {"gpio_count": True},
                {"core_clock_hz": "fast"},
                {"core_clock_hz": 0},
                {"core_clock_hz": NAN},
                {"pl011_clock_hz": -48_000_000},
                {"pull_control": "x"},
                {"i2c_stretch_bug": "yes"},
                {"i2c_controllers": "bsc1"},
                {"i2c_controllers": ["bsc9"]},
                {"pl011_uarts": [5]},
                {"name": 5},
                {"peripheral_base": -1},
            ),
            create=True,
        ),
        Leaf(("name",), (5, "othername", "", [1]), create=True),
        Leaf(("test_jig",), (5, "x", [1]), create=True),
        Leaf(("test_jig", "description"), BAD_TEXT),
        Leaf(("test_jig", "config"), ("x", 5, [5], [""])),
        Leaf(("extends",), ("nosuch", 5, "", ["_j8-40"], {"a": 1}), create=True),
    ],
    closed=[
        (),
        ("headers", W),
        ("headers", W, "pins", W),
        ("buses", W),
        ("devices", W),
        ("test_jig",),
        ("test_jig", "devices", W),
        ("pulls", W),
        ("test_jig", "pulls", W),
        ("jumpers", W),
        ("test_jig", "jumpers", W),
        ("revision",),
    ],
    required=[
        ("soc",),
        ("model",),
        ("manufacturer",),
        ("buses", W, "kind"),
        ("buses", W, "controller"),
        *[("buses", W, role) for role in ("sda", "scl", "sclk", "mosi", "miso", "tx", "rx")],
        ("devices", W, "model"),
        ("devices", W, "address"),
        ("devices", W, "chip_select"),
        ("test_jig", "devices", W, "model"),
        ("test_jig", "devices", W, "address"),
        ("test_jig", "devices", W, "chip_select"),
        ("pulls", W, "pin"),
        ("pulls", W, "pull"),
        ("pulls", W, "ohms"),
        ("test_jig", "pulls", W, "ohms"),
        ("revision", "code"),
        ("headers", W, "pins", 2),  # a pin in the middle of a header
        ("headers", W, "pins", 13),
    ],
    bad_keys=[
        (("headers",), ("j8", "8", "J8-", "", 5, None, True, "J 8")),
        (("headers", W, "pins"), (0, -1, "x", True, 1.5, 10**12, 10**100, None, "7")),
        (("buses",), ("i2c", "i2cx", "bus1", 5, "I2C1", "spi0x", None, "uart", "can0")),
        (("devices",), ("1abc", "", "a b", 5, None, "a.b", "_x")),
        (("test_jig", "devices"), ("1abc", "", "a b", 5, None)),
        (("boot_functions",), ("GPIO99", "J8-01", "nosuch", 5, None)),
        (("boot_pulls",), ("GPIO99", "J8-06", "nosuch", 5, None)),
    ],
)


def _bases() -> dict[str, dict[str, object]]:
    out = {}
    for name in profile_names():
        data, _ = _load_merged(PROFILES_DIR / f"{name}.yaml")
        out[name] = data
    return out


def _load(path: Path) -> object:
    profile = load_profile(path)
    Board(profile, seed=0)
    return describe_board(profile)


@pytest.fixture(scope="module")
def profile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-profiles")


def test_every_malformed_profile_is_refused_clearly(profile_dir: Path) -> None:
    bases = _bases()

    @fuzz_settings(3000)
    @given(st.data())
    def case(data: st.DataObject) -> None:
        stem = data.draw(st.sampled_from(sorted(bases)), label="profile")
        mutant: Mutant = data.draw(mutants([bases[stem]], SCHEMA), label="mutant")
        path = profile_dir / f"{stem}.yaml"
        if isinstance(mutant.text, bytes):
            path.write_bytes(mutant.text)
        else:
            path.write_text(mutant.text, encoding="utf-8")
        referee(
            AREA,
            f"load_profile: {mutant.op}",
            mutant,
            lambda: _load(path),
            (EmulatorError, PihilError),
        )

    case()
    check(AREA)
