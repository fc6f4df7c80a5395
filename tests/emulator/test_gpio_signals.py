"""Alternate-function tables and signal routing between pins and peripherals (soc-facts §3.3, §3.9)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from pihil_emulator.errors import BusError, ConfigurationError, ElectricalFault
from pihil_emulator.soc.alt_functions import (
    BCM2711_ALT,
    BCM2835_ALT,
    AltRow,
    broadcom_signal_name,
    lines_with_signal,
    seed_signal_name,
)
from pihil_emulator.soc.gpio import GpioBlock
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.variants import BCM2711, BCM2835, SocVariant
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive


def make_gpio(variant: SocVariant) -> GpioBlock:
    world = World(seed=0)
    return Soc(world, Circuit(world), variant).gpio


@pytest.fixture(params=[BCM2835, BCM2711], ids=["BCM2835", "BCM2711"])
def gpio(request: pytest.FixtureRequest) -> GpioBlock:
    return make_gpio(request.param)


def test_tables_cover_every_line() -> None:
    """soc-facts §3.1: 54 rows on the BCM2835, 58 on the BCM2711, six alternates each."""
    assert sorted(BCM2835_ALT) == list(range(54))
    assert sorted(BCM2711_ALT) == list(range(58))
    assert all(len(row) == 6 for row in (*BCM2835_ALT.values(), *BCM2711_ALT.values()))


# soc-facts §3.9 "Summary of the key functions (both chips)"
KEY_FUNCTIONS = [
    ("SDA0", [(0, 0), (28, 0), (44, 1)]),
    ("SCL0", [(1, 0), (29, 0), (45, 1)]),
    ("SDA1", [(2, 0), (44, 2)]),
    ("SCL1", [(3, 0), (45, 2)]),
    ("SPI0_CE1_N", [(7, 0)]),
    ("SPI0_CE0_N", [(8, 0)]),
    ("SPI0_MISO", [(9, 0)]),
    ("SPI0_MOSI", [(10, 0)]),
    ("SPI0_SCLK", [(11, 0)]),
    ("SPI1_CE2_N", [(16, 4)]),
    ("SPI1_CE1_N", [(17, 4)]),
    ("SPI1_CE0_N", [(18, 4)]),
    ("SPI1_MISO", [(19, 4)]),
    ("SPI1_MOSI", [(20, 4)]),
    ("SPI1_SCLK", [(21, 4)]),
    ("TXD0", [(14, 0)]),
    ("RXD0", [(15, 0)]),
    ("CTS0", [(16, 3)]),
    ("RTS0", [(17, 3)]),
    ("TXD1", [(14, 5)]),
    ("RXD1", [(15, 5)]),
    ("CTS1", [(16, 5)]),
    ("RTS1", [(17, 5)]),
    ("GPCLK0", [(4, 0), (20, 5)]),
    ("GPCLK1", [(5, 0), (21, 5)]),
    ("GPCLK2", [(6, 0)]),
    ("PCM_CLK", [(18, 0)]),
    ("PCM_FS", [(19, 0)]),
    ("PCM_DIN", [(20, 0)]),
    ("PCM_DOUT", [(21, 0)]),
]


@pytest.mark.parametrize("table", [BCM2835_ALT, BCM2711_ALT], ids=["BCM2835", "BCM2711"])
@pytest.mark.parametrize(("signal", "cells"), KEY_FUNCTIONS)
def test_key_functions_of_both_chips(
    table: Mapping[int, AltRow], signal: str, cells: list[tuple[int, int]]
) -> None:
    """soc-facts §3.9 summary: I2C0, I2C1, SPI0, SPI1, UART0, UART1, GPCLK, PCM pins and ALTs."""
    found = lines_with_signal(table, signal)
    for cell in cells:
        assert cell in found, (signal, cell)
    # on GPIO0-27 the signal is exactly where the summary says
    assert [c for c in found if c[0] < 28] == [c for c in cells if c[0] < 28]


def test_pwm_names_and_rows_differ_between_chips() -> None:
    """soc-facts §3.9: PWM0/PWM1 on the 2835, PWM0_0/PWM0_1 on the 2711; GPIO12/13 ALT0, 18/19 ALT5."""
    assert (BCM2835_ALT[12][0], BCM2835_ALT[13][0]) == ("PWM0", "PWM1")
    assert (BCM2835_ALT[18][5], BCM2835_ALT[19][5]) == ("PWM0", "PWM1")
    assert (BCM2711_ALT[12][0], BCM2711_ALT[13][0]) == ("PWM0_0", "PWM0_1")
    assert (BCM2711_ALT[18][5], BCM2711_ALT[19][5]) == ("PWM0_0", "PWM0_1")


def test_alt5_on_jtag_rows_and_spi_on_40_45_differ() -> None:
    """soc-facts §3.9: ALT5 on GPIO4/5/6/12/13 is JTAG on 2835 and I2C3-5 on 2711; GPIO40-45
    ALT4 is SPI2 on 2835 and SPI0 on 2711."""
    assert [BCM2835_ALT[n][5] for n in (4, 5, 6, 12, 13)] == [
        "ARM_TDI", "ARM_TDO", "ARM_RTCK", "ARM_TMS", "ARM_TCK",
    ]  # fmt: skip
    assert [BCM2711_ALT[n][5] for n in (4, 5, 6, 12, 13)] == [
        "SDA3",
        "SCL3",
        "SDA4",
        "SDA5",
        "SCL5",
    ]
    assert all(str(BCM2835_ALT[n][4]).startswith("SPI2_") for n in range(40, 46))
    assert all(str(BCM2711_ALT[n][4]).startswith("SPI0_") for n in range(40, 46))


def test_2835_has_no_spi3_6_uart2_5_or_i2c3_6() -> None:
    """soc-facts §3.9: "the 2835 has no SPI3-6, UART2-5 or I2C3-6"."""
    names = {s for row in BCM2835_ALT.values() for s in row if s}
    for absent in ("SPI3_MOSI", "SPI6_SCLK", "TXD2", "RXD5", "SDA3", "SCL6"):
        assert absent not in names
    names_2711 = {s for row in BCM2711_ALT.values() for s in row if s}
    for present in ("SPI3_MOSI", "SPI6_SCLK", "TXD2", "RXD5", "SDA3", "SCL6"):
        assert present in names_2711


def test_rows_0_27_verbatim_spot_checks() -> None:
    """soc-facts §3.9 tables: spot checks of whole rows of both chips."""
    assert BCM2711_ALT[0] == ("SDA0", "SA5", "PCLK", "SPI3_CE0_N", "TXD2", "SDA6")
    assert BCM2711_ALT[8] == ("SPI0_CE0_N", "SD0", "DPI_D4", "BSCSL/CE_N", "TXD4", "SDA4")
    assert BCM2711_ALT[16] == (None, "SD8", "DPI_D12", "CTS0", "SPI1_CE2_N", "CTS1")
    assert BCM2711_ALT[27] == ("SD0_DAT3", None, "DPI_D23", "SD1_DAT3", "ARM_TMS", "SPI6_CE1_N")
    assert BCM2711_ALT[44] == ("GPCLK1", "SDA0", "SDA1", None, "SPI0_CE1_N", "SD_CARD_VOLT")
    assert BCM2835_ALT[18] == ("PCM_CLK", "SD10", "DPI_D14", "BSCSL SDA/MOSI", "SPI1_CE0_N", "PWM0")
    assert BCM2835_ALT[22][3:6] == ("SD1_CLK", "ARM_TRST", None)


def test_p5_header_rows_match_the_seed() -> None:
    """Seed P5 table: GPIO28 ALT0 I2C0_SDA, ALT2 PCM_CLK; GPIO30 ALT2 PCM_DIN, ALT3 UART0_CTS,
    ALT5 UART1_CTS; GPIO31 ALT3 UART0_RTS, ALT5 UART1_RTS."""
    assert seed_signal_name(str(BCM2835_ALT[28][0])) == "I2C0_SDA"
    assert BCM2835_ALT[28][2] == "PCM_CLK"
    assert BCM2835_ALT[30][2] == "PCM_DIN"
    assert [seed_signal_name(str(BCM2835_ALT[30][a])) for a in (3, 5)] == ["UART0_CTS", "UART1_CTS"]
    assert [seed_signal_name(str(BCM2835_ALT[31][a])) for a in (3, 5)] == ["UART0_RTS", "UART1_RTS"]


def test_seed_signal_names() -> None:
    """Seed "Referring to pins": use I2C0_SDA/I2C0_SCL and UART0_TXD/UART0_RXD; SPI names as is."""
    assert seed_signal_name("SDA1") == "I2C1_SDA"
    assert seed_signal_name("SCL0") == "I2C0_SCL"
    assert seed_signal_name("TXD0") == "UART0_TXD"
    assert seed_signal_name("RXD1") == "UART1_RXD"
    assert seed_signal_name("SPI0_MOSI") == "SPI0_MOSI"
    for name in ("SDA1", "SCL6", "TXD0", "RTS1", "SPI0_CE0_N"):
        assert broadcom_signal_name(seed_signal_name(name)) == name


def test_signal_drive_follows_routing(gpio: GpioBlock) -> None:
    """soc-facts §3.3/§3.9: a peripheral's output reaches the pin only while GPFSEL routes it."""
    sda = gpio.net(2)
    sda.drive("board 1K8", Drive.pull_up(1800))
    gpio.drive_signal("SDA1", "bsc1", Drive.open_drain_low())
    assert sda.level is True  # GPIO2 is still an input
    gpio.set_function(2, "ALT0")
    assert gpio.lines_for("SDA1") == [2]
    assert sda.level is False
    assert gpio.signal_level("SDA1") is False
    gpio.set_function(2, "input")
    assert sda.level is True
    assert "bsc1" not in sda.drivers
    gpio.set_function(2, "ALT0")
    assert sda.level is False  # re-applied
    gpio.drive_signal("SDA1", "bsc1", None)
    assert sda.level is True


def test_signal_on_two_pins_is_driven_on_both(gpio: GpioBlock) -> None:
    """soc-facts §3.9: SDA0 is on GPIO0 ALT0 and GPIO28 ALT0; routing both drives both."""
    gpio.set_function(0, "ALT0")
    gpio.set_function(28, "ALT0")
    assert gpio.lines_for("SDA0") == [0, 28]
    gpio.drive_signal("SDA0", "bsc0", Drive.push_pull(False))
    assert gpio.net(0).level is False
    assert gpio.net(28).level is False
    assert [n.name for n in gpio.signal_nets("SDA0")] == ["GPIO0", "GPIO28"]


def test_signal_level_of_an_unrouted_signal_is_a_bus_error(gpio: GpioBlock) -> None:
    """docs/emulator-api.md: signal_level raises BusError(kind="not_routed") naming where it could go."""
    with pytest.raises(BusError, match="GPIO15 ALT0") as info:
        gpio.signal_level("RXD0")
    assert info.value.kind == "not_routed"


def test_unknown_signal_is_refused_with_suggestions(gpio: GpioBlock) -> None:
    """Bad input gets a clear error: a misspelt signal name lists close matches."""
    with pytest.raises(ConfigurationError, match="SDA1"):
        gpio.drive_signal("SDA_1", "bsc1", Drive.open_drain_low())


def test_signal_contention_raises_and_keeps_the_old_drive(gpio: GpioBlock) -> None:
    """DESIGN electrical rules: a peripheral's push-pull output against another driver is a fault."""
    gpio.set_function(14, "ALT0")
    gpio.drive_signal("TXD0", "uart0", Drive.push_pull(True))
    gpio.net(14).drive("far end", Drive.push_pull(True))
    with pytest.raises(ElectricalFault):
        gpio.drive_signal("TXD0", "uart0", Drive.push_pull(False))
    assert gpio.net(14).level is True
    assert gpio.net(14).drivers["uart0"] == Drive.push_pull(True)


def test_fsel_change_into_contention_keeps_the_old_function(gpio: GpioBlock) -> None:
    """DESIGN electrical rules: a fault leaves the circuit as it was; the FSEL field too."""
    gpio.net(16).drive("far end", Drive.push_pull(True))
    with pytest.raises(ElectricalFault):
        gpio.set_function(16, "ALT0" if gpio.count == 58 else "output")
    assert gpio.function(16) == "input"


def test_alt_for_names_the_alternate_or_says_where_the_signal_is(gpio: GpioBlock) -> None:
    """soc-facts §3.9: the alternate of a signal on a pin, and a clear error where it is not."""
    assert gpio.alt_for(44, "SDA1") == "ALT2"
    assert gpio.alt_for(14, "TXD1") == "ALT5"
    with pytest.raises(ConfigurationError, match="GPIO2 ALT0"):
        gpio.alt_for(5, "SDA1")
