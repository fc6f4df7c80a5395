"""Board profiles: the six shipped boards, and rejection of bad profiles (issue 2 "Board profiles")."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from pihil_emulator.board import Board
from pihil_emulator.boards import PROFILES_DIR, load_profile, profile_names
from pihil_emulator.errors import ProfileError

ROOT = Path(__file__).resolve().parents[2]

SEED_J8 = {
    1: "3V3", 2: "5V", 3: "GPIO2", 4: "5V", 5: "GPIO3", 6: "GND", 7: "GPIO4", 8: "GPIO14",
    9: "GND", 10: "GPIO15", 11: "GPIO17", 12: "GPIO18", 13: "GPIO27", 14: "GND", 15: "GPIO22",
    16: "GPIO23", 17: "3V3", 18: "GPIO24", 19: "GPIO10", 20: "GND", 21: "GPIO9", 22: "GPIO25",
    23: "GPIO11", 24: "GPIO8", 25: "GND", 26: "GPIO7", 27: "GPIO0", 28: "GPIO1", 29: "GPIO5",
    30: "GND", 31: "GPIO6", 32: "GPIO12", 33: "GPIO13", 34: "GND", 35: "GPIO19", 36: "GPIO16",
    37: "GPIO26", 38: "GPIO20", 39: "GND", 40: "GPIO21",
}  # fmt: skip
"""Seed "Models B+, B2" table: pin 1 bottom-left, odd pins in the left column."""


def pin_names(profile_name: str, header: str) -> dict[int, str]:
    profile = load_profile(profile_name)
    return {n: p.net or "NC" for n, p in profile.headers[header].pins.items()}


def test_six_profiles_are_shipped() -> None:
    """DESIGN "Profiles to ship": Model B rev 1, rev 2, B+/2B, Pi 4 B, CM4 IO board, MirkoPC REV1.1."""
    assert profile_names() == [
        "cm4-io",
        "mirkopc",
        "rpi-4b",
        "rpi-b-rev1",
        "rpi-b-rev2",
        "rpi-bplus",
    ]
    for name in profile_names():
        assert load_profile(name).name == name


def test_model_and_manufacturer_strings_match_the_package_keywords() -> None:
    """pyproject keywords hold the manufacturer and model strings the driver returns."""
    keywords = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["keywords"]
    expected = {
        "rpi-b-rev1": "Raspberry Pi Model B Rev 1",
        "rpi-b-rev2": "Raspberry Pi Model B Rev 2",
        "rpi-bplus": "Raspberry Pi Model B Plus",
        "rpi-4b": "Raspberry Pi 4 Model B",
        "cm4-io": "Raspberry Pi Compute Module 4 IO Board",
        "mirkopc": "MirkoPC REV1.1",
    }
    for name, model in expected.items():
        profile = load_profile(name)
        assert profile.model == model
        assert profile.model in keywords
        if name != "mirkopc":
            assert profile.manufacturer == "Raspberry Pi Ltd"
            assert profile.manufacturer in keywords
    assert load_profile("mirkopc").manufacturer == "MirkoPC"


def test_rev1_p1_differences() -> None:
    """Seed: on revision 1 "P1 pin 3 is GPIO 0 / SDA0 (not GPIO 2); P1 pin 5 is GPIO 1 / SCL0
    (not GPIO 3); P1 pin 13 is GPIO 21 (not GPIO 27)"; rev 1 has no P5 header."""
    rev1, rev2 = pin_names("rpi-b-rev1", "P1"), pin_names("rpi-b-rev2", "P1")
    assert (rev1[3], rev1[5], rev1[13]) == ("GPIO0", "GPIO1", "GPIO21")
    assert (rev2[3], rev2[5], rev2[13]) == ("GPIO2", "GPIO3", "GPIO27")
    assert {n: v for n, v in rev1.items() if n not in (3, 5, 13)} == {
        n: v for n, v in rev2.items() if n not in (3, 5, 13)
    }
    assert list(load_profile("rpi-b-rev1").headers) == ["P1"]
    # the same 1K8 pull-ups sit on P1-03/05 whichever GPIO is there
    assert {(p.pin, p.net, p.ohms) for p in load_profile("rpi-b-rev1").pulls} == {
        ("P1-03", "GPIO0", 1800.0),
        ("P1-05", "GPIO1", 1800.0),
    }
    assert load_profile("rpi-b-rev1").buses["i2c0"].gpios == {"sda": 0, "scl": 1}


def test_p1_rev2_is_the_first_26_pins_of_j8() -> None:
    """Seed: "The first 26 pins are the same as P1 on the A/B boards"."""
    p1 = pin_names("rpi-b-rev2", "P1")
    assert p1 == {n: SEED_J8[n] for n in range(1, 27)}


def test_rev2_p5_header() -> None:
    """Seed P5 tables: P5-01 5V0, P5-02 3.3 V, P5-03 GPIO28 (I2C0_SDA), P5-04 GPIO29 (I2C0_SCL),
    P5-05 GPIO30, P5-06 GPIO31, P5-07/08 GND; "one [I2C bus] on P5"."""
    assert pin_names("rpi-b-rev2", "P5") == {
        1: "5V", 2: "3V3", 3: "GPIO28", 4: "GPIO29", 5: "GPIO30", 6: "GPIO31", 7: "GND", 8: "GND",
    }  # fmt: skip
    bus = load_profile("rpi-b-rev2").buses["i2c0"]
    assert (bus.controller, dict(bus.gpios), dict(bus.functions)) == (
        "bsc0",
        {"sda": 28, "scl": 29},
        {28: "ALT0", 29: "ALT0"},
    )


@pytest.mark.parametrize("name", ["rpi-bplus", "rpi-4b", "cm4-io", "mirkopc"])
def test_j8_boards_have_the_seed_header(name: str) -> None:
    """Seed "Models B+, B2": the 40-pin J8; ID_SD/ID_SC on pins 27/28 (GPIO0/1)."""
    profile = load_profile(name)
    assert pin_names(name, "J8") == SEED_J8
    assert profile.headers["J8"].pins[27].labels == ("ID_SD",)
    assert profile.headers["J8"].pins[28].labels == ("ID_SC",)


def test_socs() -> None:
    """soc-facts §3.1 and §7: the Model B/B+ are BCM2835 (54 lines), the Pi 4 and CM4 BCM2711 (58)."""
    socs = {n: load_profile(n).soc for n in profile_names()}
    assert socs == {
        "rpi-b-rev1": "BCM2835",
        "rpi-b-rev2": "BCM2835",
        "rpi-bplus": "BCM2835",
        "rpi-4b": "BCM2711",
        "cm4-io": "BCM2711",
        "mirkopc": "BCM2711",
    }


@pytest.mark.parametrize(
    ("name", "function", "signals"),
    [
        ("rpi-b-rev1", "ALT0", ("TXD0", "RXD0")),
        ("rpi-b-rev2", "ALT0", ("TXD0", "RXD0")),
        ("rpi-bplus", "ALT0", ("TXD0", "RXD0")),
        ("rpi-4b", "ALT5", ("TXD1", "RXD1")),
        ("cm4-io", "ALT5", ("TXD1", "RXD1")),
        ("mirkopc", "ALT0", ("TXD0", "RXD0")),
    ],
)
def test_primary_uart_decides_gpio14_15(name: str, function: str, signals: tuple[str, str]) -> None:
    """Seed: GPIO14/15 "Boot to Alt 0 -> UART0_TXD" on the original boards; soc-facts §7.1: the
    CM4's console is the mini UART (ALT5); MirkoPC's jig uses disable-bt (PL011, ALT0)."""
    board = Board.from_profile(name)
    assert (board.gpio.function(14), board.gpio.function(15)) == (function, function)
    assert (board.gpio.signal(14), board.gpio.signal(15)) == signals
    uart = board.profile.buses[board.profile.primary_uart or ""]
    assert uart.uart_type == ("mini" if function == "ALT5" else "pl011")


def test_cm4_io_rtc_and_fan_on_i2c10() -> None:
    """soc-facts §7.1: PCF85063A at 0x51 and EMC2301 at 0x2F on GPIO44/45 (BSC0, i2c-10)."""
    profile = load_profile("cm4-io")
    bus = profile.buses["i2c10"]
    assert (bus.controller, dict(bus.functions), bus.linux_device) == (
        "bsc0",
        {44: "ALT1", 45: "ALT1"},
        "/dev/i2c-10",
    )
    devices = {(d.model, d.bus, d.address) for d in profile.devices.values()}
    assert ("pcf85063a", "i2c10", 0x51) in devices
    assert ("emc2301", "i2c10", 0x2F) in devices
    assert profile.devices["console"].bus == "uart1"
    board = Board(profile)
    assert board.gpio.signal(44) == "SDA0"
    assert board.net("GPIO44").level is True  # pulled up


def test_mirkopc_devices() -> None:
    """soc-facts §7.2: PCF8523 0x68, LM75B 0x48, TPA6130A2 0x60, EMC2301 0x2F on I2C1; LEDs on
    GPIO16 (green) and GPIO26 (red), buzzer GPIO22, IR receiver GPIO17, the DAC on PCM."""
    profile = load_profile("mirkopc")
    i2c1 = {d.model: d.address for d in profile.devices.values() if d.bus == "i2c1"}
    assert i2c1 == {"pcf8523": 0x68, "lm75b": 0x48, "tpa6130a2": 0x60, "emc2301": 0x2F}
    gpio_parts = {
        (d.model, d.gpio, d.params.get("color"))
        for d in profile.devices.values()
        if d.kind == "gpio"
    }
    assert gpio_parts == {
        ("led", 16, "green"),
        ("led", 26, "red"),
        ("buzzer", 22, None),
        ("ir-receiver", 17, None),
    }
    assert profile.devices["dac"].model == "pcm5100a"
    assert {profile.boot_functions[n] for n in (18, 19, 20, 21)} == {"ALT0"}


def test_mirkopc_test_jig() -> None:
    """The jig: HAT EEPROM at 0x50 on i2c0 (ID_SD/ID_SC), W25Q on spi0 CE0, MCP3008 on CE1,
    GPIO loops and a UART loopback; all marked as jig parts."""
    profile = load_profile("mirkopc")
    jig = {d.name: d for d in profile.devices.values() if d.source == "test_jig"}
    assert (jig["hat_eeprom"].bus, jig["hat_eeprom"].address) == ("i2c0", 0x50)
    assert (jig["flash"].model, jig["flash"].part, jig["flash"].chip_select) == (
        "w25q",
        "w25q32",
        0,
    )
    assert (jig["adc"].model, jig["adc"].chip_select) == ("mcp3008", 1)
    pairs = {frozenset((j.a, j.b)) for j in profile.jumpers}
    assert frozenset(("J8-11", "J8-13")) in pairs
    assert frozenset(("J8-08", "J8-10")) in pairs
    assert all(j.source == "test_jig" for j in profile.jumpers)
    assert profile.test_jig


def test_bases_are_not_boards() -> None:
    """Files starting with "_" are bases for `extends:`, not profiles."""
    assert all(not n.startswith("_") for n in profile_names())
    with pytest.raises(ProfileError, match="one of the shipped profiles"):
        load_profile("_j8-40")
    with pytest.raises(ProfileError, match="did you mean mirkopc"):
        load_profile("mirkpc")


# -- rejection of bad profiles --------------------------------------------------------------

MINIMAL: dict[str, Any] = {
    "model": "Test Board",
    "manufacturer": "Test",
    "soc": "BCM2835",
    "primary_uart": "uart0",
    "headers": {
        "J1": {
            "pins": {
                1: "3V3",
                2: "5V",
                3: "GPIO2",
                4: "5V",
                5: "GPIO3",
                6: "GND",
                7: {"pin": "GPIO4", "labels": ["BUTTON"]},
                8: "GPIO14",
                9: "GND",
                10: "GPIO15",
            }
        }
    },
    "pulls": [{"pin": "J1-03", "pull": "up", "ohms": 1800}],
    "buses": {
        "i2c1": {"kind": "i2c", "controller": "bsc1", "sda": "J1-03", "scl": "J1-05"},
        "uart0": {"kind": "uart", "controller": "uart0", "tx": "J1-08", "rx": "J1-10"},
    },
    "devices": {"rtc": {"model": "pcf8523", "bus": "i2c1", "address": 0x68}},
    "jumpers": [["J1-07", "J1-09"]],
}


def write(tmp_path: Path, data: dict[str, Any], name: str = "testboard") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def variant_of(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    for dotted, value in changes.items():
        *parents, last = (int(p) if p.isdigit() else p for p in dotted.split("__"))
        node: Any = data
        for p in parents:
            node = node[p]
        node[last] = value
    return data


def test_minimal_profile_loads(tmp_path: Path) -> None:
    """A well-formed profile file loads (the base of the rejection tests below)."""
    profile = load_profile(write(tmp_path, MINIMAL))
    assert profile.name == "testboard"
    assert profile.pin_map().resolve("BUTTON").gpio == 4
    board = Board(profile)
    assert board.gpio.level(2) is True


BAD_PROFILES = [
    # (description, data, key, expected fragment)
    ("unknown top-level key", {**MINIMAL, "modle": "x"}, "modle", "did you mean 'model'"),
    (
        "unknown device key",
        variant_of(devices={"rtc": {"model": "pcf8523", "bus": "i2c1", "adress": 0x68}}),
        "devices.rtc.adress",
        "did you mean 'address'",
    ),
    ("missing model", {k: v for k, v in MINIMAL.items() if k != "model"}, "model", "required"),
    ("unknown SoC", variant_of(soc="BCM2712"), "soc", "BCM2835, BCM2711"),
    (
        "GPIO the SoC lacks",
        variant_of(headers__J1__pins__7="GPIO54"),
        "headers.J1.pins.7",
        "GPIO0-GPIO53",
    ),
    (
        "same GPIO on two pins",
        variant_of(headers__J1__pins__7="GPIO2"),
        "headers.J1.pins.7",
        "'GPIO2' names both J1-03 and J1-07",
    ),
    (
        "label resolving twice",
        variant_of(headers__J1__pins__8={"pin": "GPIO14", "labels": ["BUTTON"]}),
        "headers.J1.pins.8.labels",
        "'BUTTON' names both J1-07 and J1-08",
    ),
    (
        "label that is another pin's GPIO",
        variant_of(headers__J1__pins__8={"pin": "GPIO14", "labels": ["GPIO4"]}),
        "headers.J1.pins.8.labels",
        "'GPIO4'",
    ),
    (
        "label that is a supply name",
        variant_of(headers__J1__pins__8={"pin": "GPIO14", "labels": ["GND"]}),
        "headers.J1.pins.8.labels",
        "'GND' names both",
    ),
    (
        "gap in the header",
        variant_of(headers__J1__pins__11="GPIO17", headers__J1__pins__13="GPIO27"),
        "headers.J1.pins",
        "missing: [12]",
    ),
    (
        "pin entry of the wrong type",
        variant_of(headers__J1__pins__7=7),
        "headers.J1.pins.7",
        "GPIO<n>",
    ),
    (
        "bad header name",
        variant_of(headers={"j1": MINIMAL["headers"]["J1"]}),
        "headers.j1",
        "capitals",
    ),
    (
        "address of the wrong type",
        variant_of(devices={"rtc": {"model": "pcf8523", "bus": "i2c1", "address": "sixty-eight"}}),
        "devices.rtc.address",
        "an integer 3..119",
    ),
    (
        "misspelt part",
        variant_of(devices={"rtc": {"model": "pcf8532", "bus": "i2c1", "address": 0x68}}),
        "devices.rtc.model",
        "did you mean pcf8523",
    ),
    (
        "device on a bus of another kind",
        variant_of(devices={"flash": {"model": "w25q", "bus": "i2c1", "chip_select": 0}}),
        "devices.flash.bus",
        "a spi bus",
    ),
    (
        "two devices on one address",
        variant_of(
            devices={
                "rtc": {"model": "pcf8523", "bus": "i2c1", "address": 0x68},
                "rtc2": {"model": "pcf8523", "bus": "i2c1", "address": 0x68},
            }
        ),
        "devices.rtc2.address",
        "0x68 is rtc's",
    ),
    (
        "bus pin without the controller's signal",
        variant_of(
            buses__i2c1={"kind": "i2c", "controller": "bsc1", "sda": "J1-07", "scl": "J1-05"}
        ),
        "buses.i2c1.sda",
        "SDA1 function of bsc1 (GPIO2 ALT0",
    ),
    (
        "controller the SoC lacks",
        variant_of(
            buses__i2c1={"kind": "i2c", "controller": "bsc3", "sda": "J1-03", "scl": "J1-05"}
        ),
        "buses.i2c1.controller",
        "bsc0, bsc1",
    ),
    (
        "bus name not matching its kind",
        variant_of(
            buses={
                **MINIMAL["buses"],
                "spi0": {"kind": "i2c", "controller": "bsc0", "sda": "J1-03", "scl": "J1-05"},
            }
        ),
        "buses.spi0",
        "starting with i2c",
    ),
    ("primary UART not a UART bus", variant_of(primary_uart="i2c1"), "primary_uart", "uart0"),
    (
        "two enabled buses on one pin",
        variant_of(
            buses={
                **MINIMAL["buses"],
                "uart1": {"kind": "uart", "controller": "uart1", "tx": "J1-08", "rx": "J1-10"},
            }
        ),
        "buses.uart1.tx",
        "GPIO14 is ALT0 for buses.uart0",
    ),
    (
        "pull to nowhere",
        variant_of(pulls=[{"pin": "J1-99", "pull": "up", "ohms": 1800}]),
        "pulls[0].pin",
        "J1 has pins 1-10",
    ),
    (
        "negative pull",
        variant_of(pulls=[{"pin": "J1-03", "pull": "up", "ohms": -5}]),
        "pulls[0].ohms",
        "positive",
    ),
    ("jumper onto 5V", variant_of(jumpers=[["J1-07", "J1-02"]]), "jumpers[0]", "not 5 V tolerant"),
    ("jumper shorting rails", variant_of(jumpers=[["J1-01", "J1-06"]]), "jumpers[0]", "short"),
    (
        "boot function unknown",
        variant_of(boot_functions={"GPIO4": "ALT9"}),
        "boot_functions.GPIO4",
        "ALT5",
    ),
    (
        "soc override unknown",
        variant_of(soc_overrides={"core_clk": 1}),
        "soc_overrides",
        "core_clk",
    ),
    ("name differing from the file", variant_of(name="other"), "name", "testboard"),
]


@pytest.mark.parametrize(
    ("what", "data", "key", "expected"), BAD_PROFILES, ids=[b[0] for b in BAD_PROFILES]
)
def test_bad_profile_is_rejected_with_file_key_and_expectation(
    tmp_path: Path, what: str, data: dict[str, Any], key: str, expected: str
) -> None:
    """Issue 2: "A bad profile (unknown key, a duplicate pin, a GPIO the SoC does not have, a
    name that resolves twice) is rejected with the file, the key and what was expected"."""
    path = write(tmp_path, data)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    err = info.value
    assert err.file.startswith(str(path))
    assert err.key == key, err
    assert expected in err.expected, err


def test_duplicate_pin_number_in_yaml_is_rejected(tmp_path: Path) -> None:
    """A pin written twice: PyYAML would keep the last silently; the loader names both lines."""
    path = tmp_path / "dup.yaml"
    path.write_text(
        "model: X\nmanufacturer: Y\nsoc: BCM2835\nheaders:\n  J1:\n    pins:\n"
        "      1: 3V3\n      2: GPIO4\n      2: GPIO5\n"
    )
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.key == "2"
    assert "line 9 repeats line 8" in info.value.expected


def test_extends_merges_a_base_and_refuses_cycles(tmp_path: Path) -> None:
    """`extends:` merges a base of the same folder (mappings by key, lists appended, null deletes)."""
    base = copy.deepcopy(MINIMAL)
    write(tmp_path, base, "_base")
    child = {
        "extends": "_base",
        "model": "Child",
        "headers": {"J1": {"pins": {7: "GPIO17"}}},
        "pulls": [{"pin": "J1-05", "pull": "up", "ohms": 1800}],
        "devices": {"rtc": None},
    }
    profile = load_profile(write(tmp_path, child, "child"))
    assert profile.model == "Child"
    assert profile.headers["J1"].pins[7].gpio == 17
    assert [p.pin for p in profile.pulls] == ["J1-03", "J1-05"]
    assert "rtc" not in profile.devices
    assert "_base.yaml" in profile.file
    write(tmp_path, {**base, "extends": "loop_b"}, "loop_a")
    write(tmp_path, {"extends": "loop_a"}, "loop_b")
    with pytest.raises(ProfileError, match="no cycle"):
        load_profile(tmp_path / "loop_a.yaml")
    with pytest.raises(ProfileError, match="one of: "):
        load_profile(write(tmp_path, {"extends": "_nope"}, "orphan"))


def test_shipped_profiles_have_no_stray_files() -> None:
    """Every YAML in the profiles folder is a profile or a base that some profile extends."""
    stems = {p.stem for p in PROFILES_DIR.glob("*.yaml")}
    bases = {s for s in stems if s.startswith("_")}
    extended = {
        yaml.safe_load((PROFILES_DIR / f"{n}.yaml").read_text()).get("extends")
        for n in profile_names()
    }
    assert bases <= extended
