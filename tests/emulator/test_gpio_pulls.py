"""GPIO pulls: the BCM2835 GPPUD/GPPUDCLK sequence, BCM2711 PUP_PDN registers, reset pulls (soc-facts §3.6, §3.7)."""

from __future__ import annotations

import pytest

from pihil_emulator.soc.gpio import PAD_PULL_OHMS, GpioBlock
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.variants import BCM2711, BCM2835, SocVariant
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive

SETUP_NS = 600  # 150 cycles of the 250 MHz core clock


def make_gpio(variant: SocVariant) -> GpioBlock:
    world = World(seed=0)
    return Soc(world, Circuit(world), variant).gpio


def gppud_sequence(gpio: GpioBlock, pud: int, lines: list[int], setup_ns: int = SETUP_NS) -> None:
    """The datasheet sequence (§3.6): GPPUD, wait, GPPUDCLK, wait, GPPUD=0, GPPUDCLK=0."""
    gpio.write("GPPUD", pud)
    if setup_ns:
        gpio.world.run_for(setup_ns)
    for bank in (0, 1):
        bits = sum(1 << (n - 32 * bank) for n in lines if n // 32 == bank)
        if bits:
            gpio.write(f"GPPUDCLK{bank}", bits)
    gpio.world.run_for(SETUP_NS)
    gpio.write("GPPUD", 0)
    gpio.write("GPPUDCLK0", 0)
    gpio.write("GPPUDCLK1", 0)


def test_gppud_sequence_applies_a_pull_up() -> None:
    """soc-facts §3.6: write GPPUD, wait 150 cycles, clock the pads: GPPUD 10 = pull-up."""
    gpio = make_gpio(BCM2835)
    assert gpio.level(17) is False  # reset pull-down
    gppud_sequence(gpio, 0b10, [17])
    assert gpio.pull(17) == "up"
    assert gpio.level(17) is True


def test_gppud_01_is_pull_down_on_the_2835() -> None:
    """soc-facts §3.6: GPPUD "01 enable pull-down" (the 2711 register reads 01 as up)."""
    gpio = make_gpio(BCM2835)
    assert gpio.level(4) is True  # reset pull-up
    gppud_sequence(gpio, 0b01, [4])
    assert gpio.pull(4) == "down"
    assert gpio.level(4) is False


def test_gppud_00_removes_the_pull_and_the_pin_keeps_its_level() -> None:
    """soc-facts §3.6: GPPUD 00 = off; a floating input keeps its last level (net model)."""
    gpio = make_gpio(BCM2835)
    gppud_sequence(gpio, 0b00, [4])
    assert gpio.pull(4) == "none"
    assert gpio.net(4).floating
    assert gpio.level(4) is True


def test_pull_change_without_its_clock_changes_nothing() -> None:
    """soc-facts §3.6 / §8 oracle 6: a GPPUD write without a GPPUDCLK pulse must not apply."""
    gpio = make_gpio(BCM2835)
    gpio.write("GPPUD", 0b10)
    gpio.world.run_for(10_000)
    gpio.write("GPPUD", 0)
    assert gpio.pull(17) == "down"
    assert gpio.level(17) is False


@pytest.mark.parametrize(
    ("setup_ns", "applied"), [(0, False), (SETUP_NS - 1, False), (SETUP_NS, True)]
)
def test_setup_time_is_150_core_cycles(setup_ns: int, applied: bool) -> None:
    """soc-facts §3.6 [I test idea]: the pull applies only with set-up >= 150 core cycles (600 ns at 250 MHz)."""
    gpio = make_gpio(BCM2835)
    gppud_sequence(gpio, 0b10, [17], setup_ns=setup_ns)
    assert (gpio.pull(17) == "up") is applied


def test_setup_follows_the_core_clock() -> None:
    """soc-facts §3.6: "wait 150 cycles" of the core clock: 375 ns at 400 MHz."""
    gpio = make_gpio(BCM2835.with_overrides(core_clock_hz=400_000_000))
    assert gpio.pud_setup_ns == 375
    gppud_sequence(gpio, 0b10, [17], setup_ns=374)
    assert gpio.pull(17) == "down"
    gppud_sequence(gpio, 0b10, [17], setup_ns=375)
    assert gpio.pull(17) == "up"


def test_unclocked_pads_keep_their_state() -> None:
    """soc-facts §3.6: "only the pads which receive a clock will be modified, all others will
    retain their previous state" — across both GPPUDCLK registers."""
    gpio = make_gpio(BCM2835)
    before = [gpio.pull(n) for n in range(54)]
    gppud_sequence(gpio, 0b10, [17, 40])
    after = [gpio.pull(n) for n in range(54)]
    changed = [n for n in range(54) if before[n] != after[n]]
    assert changed == [17, 40]


def test_gppud_reserved_value_changes_nothing() -> None:
    """soc-facts §3.6: GPPUD 11 is reserved; the model leaves the pads as they were."""
    gpio = make_gpio(BCM2835)
    gppud_sequence(gpio, 0b11, [17])
    assert gpio.pull(17) == "down"


def test_2835_pull_state_cannot_be_read_back() -> None:
    """soc-facts §3.6: "The pull state is not readable on BCM2835": after the sequence every
    register except GPLEV reads what it read before."""
    gpio = make_gpio(BCM2835)
    before = {r.name: gpio.read(r.name) for r in gpio.MAP}
    gppud_sequence(gpio, 0b10, [17, 27, 40])
    after = {r.name: gpio.read(r.name) for r in gpio.MAP}
    differs = sorted(name for name in before if before[name] != after[name])
    assert differs == ["GPLEV0", "GPLEV1"]


def test_2711_pup_pdn_encoding_and_read_back() -> None:
    """soc-facts §3.6: 2 bits per pin, "00 none, 01 pull up, 10 pull down"; "Reading these
    registers gives the current pull-state"; offset p/16, shift (p%16)*2."""
    gpio = make_gpio(BCM2711)
    reg = "GPIO_PUP_PDN_CNTRL_REG1"  # GPIO16-31; GPIO17 at bits 3:2
    value = gpio.read(reg)
    gpio.write(reg, (value & ~(0b11 << 2)) | (0b01 << 2))
    assert gpio.pull(17) == "up"
    assert gpio.level(17) is True
    assert gpio.read(reg) >> 2 & 0b11 == 0b01
    gpio.write(reg, (value & ~(0b11 << 2)) | (0b10 << 2))
    assert gpio.pull(17) == "down"
    assert gpio.level(17) is False
    gpio.write(reg, value & ~(0b11 << 2))
    assert gpio.pull(17) == "none"
    assert gpio.read(reg) >> 2 & 0b11 == 0
    # the pulls apply at once: no clocked sequence on the 2711
    assert gpio.world.now_ns == 0


def test_2711_reserved_code_reads_back_but_pulls_nothing() -> None:
    """soc-facts §3.6: 11 = Reserved: stored as written, no resistor selected."""
    gpio = make_gpio(BCM2711)
    gpio.write("GPIO_PUP_PDN_CNTRL_REG0", 0b11 << (2 * 4))
    assert gpio.read("GPIO_PUP_PDN_CNTRL_REG0") == 0b11 << 8
    assert gpio.pull(4) == "none"
    assert gpio.pull(0) == "none"  # the rest of the write (00) removed the other pulls


EXPECTED_RESET_PULLS = (
    ["up"] * 9 + ["down"] * 19 + ["none"] * 2 + ["down"] * 4 + ["up"] * 3
    + ["down"] * 7 + ["none"] * 2 + ["up"] * 12
)  # fmt: skip


@pytest.mark.parametrize("variant", [BCM2835, BCM2711], ids=["BCM2835", "BCM2711"])
def test_reset_pulls_per_pin(variant: SocVariant) -> None:
    """soc-facts §3.7: GPIO0-8 up; 9-27 down; 28-29 none; 30-33 down; 34-36 up; 37-43 down;
    44-45 none; 46-57 up (same pattern on both chips; raspi-gpio and BCM2711-DS)."""
    gpio = make_gpio(variant)
    assert [gpio.pull(n) for n in range(gpio.count)] == EXPECTED_RESET_PULLS[: gpio.count]
    for n in range(gpio.count):
        if EXPECTED_RESET_PULLS[n] != "none":
            assert gpio.level(n) is (EXPECTED_RESET_PULLS[n] == "up"), n


def test_internal_pull_is_50k_and_loses_to_a_board_resistor() -> None:
    """Seed: internal pull-up 50-65 kΩ, pull-down 50-60 kΩ; Linux reports 50000 Ω (§3.6).
    An external 10 kΩ pull-down beats the pad's pull-up: a divider of 10k and 50k."""
    gpio = make_gpio(BCM2835)
    assert PAD_PULL_OHMS == 50_000
    net = gpio.net(4)  # reset pull-up
    assert net.drivers["gpio.GPIO4 pull"] == Drive.pull_up(50_000)
    net.drive("external", Drive.pull_down(10_000))
    assert net.volts == pytest.approx(3.3 * 10_000 / 60_000)
    assert net.level is False


def test_reset_restores_the_reset_pulls() -> None:
    """soc-facts §3.7: pads return to their reset pulls on a SoC reset."""
    gpio = make_gpio(BCM2711)
    gpio.write("GPIO_PUP_PDN_CNTRL_REG0", 0)
    assert gpio.pull(2) == "none"
    gpio.reset_registers()
    assert gpio.pull(2) == "up"
    assert gpio.read("GPIO_PUP_PDN_CNTRL_REG0") == 0xAAA95555
