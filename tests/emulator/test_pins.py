"""Pin names: every form the seed uses resolves on every board (seed "Referring to pins")."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.boards import PinMap, load_profile, profile_names
from pihil_emulator.errors import ElectricalFault, PinError


def pins(name: str) -> PinMap:
    return load_profile(name).pin_map()


@pytest.mark.parametrize("board", profile_names())
def test_every_header_pin_by_every_form(board: str) -> None:
    """Seed: pins are "P1-01, etc."; GPIO<n> names the SoC line; case and zero-padding are free."""
    profile = load_profile(board)
    pm = profile.pin_map()
    for header in profile.headers.values():
        for number, pin in header.pins.items():
            for form in (
                f"{header.name}-{number:02d}",
                f"{header.name}-{number}",
                f"{header.name}:{number}",
                f"{header.name.lower()}-{number:02d}",
            ):
                info = pm.resolve(form)
                assert (info.header, info.number) == (header.name, number), form
            if pin.gpio is not None:
                for form in (
                    f"GPIO{pin.gpio}",
                    f"gpio{pin.gpio}",
                    f"GPIO {pin.gpio}",
                    f"BCM{pin.gpio}",
                ):
                    assert pm.resolve(form).name == pin.name, form
            for label in pin.labels:
                assert pm.resolve(label).name == pin.name


@pytest.mark.parametrize(
    ("board", "name", "pin", "gpio"),
    [
        ("rpi-b-rev2", "P1-03", "P1-03", 2),
        ("rpi-b-rev1", "P1-03", "P1-03", 0),
        ("rpi-b-rev1", "P1-13", "P1-13", 21),
        ("rpi-bplus", "J8-03", "J8-03", 2),
        ("rpi-b-rev2", "I2C1_SDA", "P1-03", 2),
        ("rpi-b-rev2", "I2C1_SCL", "P1-05", 3),
        ("rpi-b-rev1", "I2C0_SDA", "P1-03", 0),
        ("rpi-b-rev2", "I2C0_SDA", "P5-03", 28),
        ("rpi-b-rev2", "I2C0_SCL", "P5-04", 29),
        ("rpi-b-rev2", "UART0_TXD", "P1-08", 14),
        ("rpi-b-rev2", "UART0_RXD", "P1-10", 15),
        ("rpi-bplus", "I2C1_SDA", "J8-03", 2),
        ("rpi-bplus", "ID_SD", "J8-27", 0),
        ("rpi-bplus", "ID_SC", "J8-28", 1),
        ("rpi-bplus", "I2C0_SDA", "J8-27", 0),
        ("rpi-4b", "UART0_TXD", "J8-08", 14),
        ("rpi-4b", "UART1_TXD", "J8-08", 14),
        ("rpi-4b", "TXD1", "J8-08", 14),
        ("mirkopc", "SPI0_MOSI", "J8-19", 10),
        ("mirkopc", "SPI0_CE1_N", "J8-26", 7),
        ("mirkopc", "CE0#", "J8-24", 8),
        ("rpi-b-rev2", "MOSI", "P1-19", 10),
        ("rpi-b-rev2", "PCM_DIN", "P5-05", 30),
        ("cm4-io", "I2C0_SDA", "GPIO44", 44),
        ("cm4-io", "ID_SD", "J8-27", 0),
        ("rpi-b-rev2", "BOARD12", "P1-12", 18),
    ],
)
def test_seed_names_resolve(board: str, name: str, pin: str, gpio: int) -> None:
    """Seed: "I2C0_SDA"/"I2C0_SCL" and "UART0_TXD"/"UART0_RXD" name the signals; the P5 header
    carries I2C0 on rev 2; ID_SD/ID_SC are J8-27/28; a bus of the profile decides a signal
    found on two pins (cm4-io: SDA0 routed to GPIO44 by its i2c10, not the ID pin)."""
    info = pins(board).resolve(name)
    assert (info.name, info.gpio) == (pin, gpio)
    assert info.kind == "gpio"


def test_alt_cell_names() -> None:
    """Seed: "GPIO7-ALT0 would refer to a specific cell of the table"."""
    pm = pins("rpi-bplus")
    info = pm.resolve("GPIO7-ALT0")
    assert (info.name, info.alt, info.signal) == ("J8-26", "ALT0", "SPI0_CE1_N")
    assert pm.resolve("GPIO2-ALT0").signal == "SDA1"
    assert pm.resolve("gpio14_alt5").signal == "TXD1"
    assert pm.resolve("GPIO40-ALT4").signal == "SPI2_MISO"  # off the header, BCM2835 table
    with pytest.raises(PinError, match=r"ALT0\.\.ALT5"):
        pm.resolve("GPIO2-ALT6")


def test_power_and_ground_pins_are_known_as_such() -> None:
    """Seed P1 table: pins 1/17 3.3 V, 2/4 5V0, 6/9/14/20/25 GND; P5-01 5V0, P5-02 3.3 V."""
    pm = pins("rpi-b-rev2")
    kinds = {n: pm.resolve(f"P1-{n}").kind for n in (1, 17, 2, 4, 6, 9, 14, 20, 25)}
    assert kinds == {1: "power", 17: "power", 2: "power", 4: "power"} | {
        n: "ground" for n in (6, 9, 14, 20, 25)
    }
    assert pm.resolve("P1-01").net == "3V3"
    assert pm.resolve("P1-02").net == "5V"
    assert pm.resolve("P5-01").net == "5V"
    assert pm.resolve("P5-02").net == "3V3"
    for alias, net in (
        ("+3V3", "3V3"),
        ("3.3 V", "3V3"),
        ("5V0", "5V"),
        ("gnd", "GND"),
        ("0V", "GND"),
    ):
        assert pm.resolve(alias).net == net


@pytest.mark.parametrize("name", ["P1-01", "P1-02", "P1-06", "GND", "5V", "+3V3"])
def test_supply_pin_as_gpio_is_an_electrical_fault(name: str) -> None:
    """Issue 2: "driving or reading a power or ground pin as if it were a GPIO" raises ElectricalFault."""
    with pytest.raises(ElectricalFault, match="not a GPIO"):
        pins("rpi-b-rev2").gpio_line(name)


def test_ambiguous_signal_names_both_pins() -> None:
    """GPCLK0 is on GPIO4 ALT0 and GPIO20 ALT5 (soc-facts §3.9), both on J8: the name is refused
    with both pins rather than guessed."""
    with pytest.raises(PinError, match=r"J8-07 \(GPIO4\) and J8-38 \(GPIO20\)"):
        pins("rpi-bplus").resolve("GPCLK0")
    # on P1 only GPIO4 carries it
    assert pins("rpi-b-rev2").resolve("GPCLK0").name == "P1-07"


def test_unknown_names_are_refused_with_suggestions() -> None:
    """Bad input gets a clear error that says what was wrong and what is valid."""
    pm = pins("rpi-bplus")
    with pytest.raises(PinError, match="GPIO58 does not exist on the BCM2835"):
        pm.resolve("GPIO58")
    with pytest.raises(PinError, match="header J8 has pins 1-40"):
        pm.resolve("J8-41")
    with pytest.raises(PinError, match=r"did you mean.*I2C1_SDA"):
        pm.resolve("I2C1_SDAA")
    with pytest.raises(PinError, match="unknown pin 'P1-03'"):
        pm.resolve("P1-03")  # the B+ has J8, not P1
    with pytest.raises(PinError, match="must be a string"):
        pm.resolve(3)  # type: ignore[arg-type]


def test_bcm2711_lines_off_the_header() -> None:
    """soc-facts §3.1: the BCM2711 has GPIO0-57; lines off the header still resolve as GPIOs."""
    pm = pins("rpi-4b")
    info = pm.resolve("GPIO57")
    assert (info.name, info.header, info.gpio, info.kind) == ("GPIO57", None, 57, "gpio")


@settings(max_examples=60)
@given(
    number=st.integers(min_value=1, max_value=40),
    zeros=st.integers(min_value=0, max_value=2),
    sep=st.sampled_from(["-", ":", "."]),
    lower=st.booleans(),
    spaces=st.booleans(),
)
def test_pin_forms_are_equivalent(
    number: int, zeros: int, sep: str, lower: bool, spaces: bool
) -> None:
    """Case, spaces, separators and leading zeros never change which pin a name means."""
    pm = pins("mirkopc")
    name = f"J8{sep}{'0' * zeros}{number}"
    if lower:
        name = name.lower()
    if spaces:
        name = f" {name[:2]} {name[2:]} "
    assert pm.resolve(name).name == f"J8-{number:02d}"
