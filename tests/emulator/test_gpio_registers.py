"""GPIO block registers: map, reset values, function select, SET/CLR latch (soc-facts §3.1-§3.4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.errors import ElectricalFault, PinError
from pihil_emulator.soc.gpio import FSEL_ALT, GpioBlock
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.variants import BCM2711, BCM2835, SocVariant
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive


def make_soc(variant: SocVariant) -> Soc:
    world = World(seed=0)
    return Soc(world, Circuit(world), variant)


@pytest.fixture(params=[BCM2835, BCM2711], ids=["BCM2835", "BCM2711"])
def gpio(request: pytest.FixtureRequest) -> GpioBlock:
    return make_soc(request.param).gpio


COMMON_OFFSETS = {
    "GPFSEL0": 0x00, "GPFSEL1": 0x04, "GPFSEL2": 0x08, "GPFSEL3": 0x0C, "GPFSEL4": 0x10,
    "GPFSEL5": 0x14, "GPSET0": 0x1C, "GPSET1": 0x20, "GPCLR0": 0x28, "GPCLR1": 0x2C,
    "GPLEV0": 0x34, "GPLEV1": 0x38, "GPEDS0": 0x40, "GPEDS1": 0x44, "GPREN0": 0x4C,
    "GPREN1": 0x50, "GPFEN0": 0x58, "GPFEN1": 0x5C, "GPHEN0": 0x64, "GPHEN1": 0x68,
    "GPLEN0": 0x70, "GPLEN1": 0x74, "GPAREN0": 0x7C, "GPAREN1": 0x80, "GPAFEN0": 0x88,
    "GPAFEN1": 0x8C,
}  # fmt: skip


def test_register_offsets_of_both_chips() -> None:
    """soc-facts §3.2: the common offsets, GPPUD/GPPUDCLK on 2835, GPIO_PUP_PDN_CNTRL on 2711."""
    g2835 = make_soc(BCM2835).gpio
    g2711 = make_soc(BCM2711).gpio
    for gpio in (g2835, g2711):
        for name, offset in COMMON_OFFSETS.items():
            assert gpio.MAP.get(name).offset == offset, name
    assert {r.name: r.offset for r in g2835.MAP if r.name not in COMMON_OFFSETS} == {
        "GPPUD": 0x94,
        "GPPUDCLK0": 0x98,
        "GPPUDCLK1": 0x9C,
    }
    assert {r.name: r.offset for r in g2711.MAP if r.name not in COMMON_OFFSETS} == {
        "GPIO_PUP_PDN_CNTRL_REG0": 0xE4,
        "GPIO_PUP_PDN_CNTRL_REG1": 0xE8,
        "GPIO_PUP_PDN_CNTRL_REG2": 0xEC,
        "GPIO_PUP_PDN_CNTRL_REG3": 0xF0,
    }
    # register access by offset reaches the same register
    g2711.write(0x04, 0b001 << 21)
    assert g2711.function(17) == "output"


def test_line_counts() -> None:
    """soc-facts §3.1: 54 GPIO lines on the BCM2835, 58 on the BCM2711 (three banks)."""
    g2835 = make_soc(BCM2835).gpio
    g2711 = make_soc(BCM2711).gpio
    assert g2835.count == 54
    assert g2711.count == 58
    assert g2711.net(57).name == "GPIO57"
    with pytest.raises(PinError, match=r"GPIO54 does not exist.*GPIO0-GPIO53"):
        g2835.net(54)
    assert [f.name for f in g2835.MAP.get("GPFSEL5").fields] == [f"FSEL{n}" for n in range(50, 54)]
    assert [f.name for f in g2711.MAP.get("GPFSEL5").fields] == [f"FSEL{n}" for n in range(50, 58)]


@pytest.mark.parametrize(("variant", "mask"), [(BCM2835, 0x3F_FFFF), (BCM2711, 0x3FF_FFFF)])
def test_bank1_registers_use_bits_21_or_25(variant: SocVariant, mask: int) -> None:
    """soc-facts §3.2: GPSET1/GPCLR1/GPLEV1 use bits 21:0 on 2835 and 25:0 on 2711.

    (QEMU's bcm2838 model handles only 22 bits, so GPIO54-57 cannot be set there: §5.)
    """
    gpio = make_soc(variant).gpio
    for i in range(3, 6):
        gpio.write(f"GPFSEL{i}", 0x0924_9249)  # every field 001: output
    gpio.write("GPCLR1", 0xFFFF_FFFF)
    assert gpio.read("GPLEV1") == 0
    gpio.write("GPSET1", 0xFFFF_FFFF)
    assert gpio.read("GPLEV1") == mask
    assert gpio.level(gpio.count - 1) is True


def test_reset_values_of_every_register(gpio: GpioBlock) -> None:
    """soc-facts §3.3/§3.7/§8: FSEL all 0 (input), no events or enables, reset pulls seen on GPLEV."""
    expected_pull_words = [0xAAA95555, 0xA0AAAAAA, 0x50AAA95A, 0x00055555]
    pulled_up = [*range(0, 9), 34, 35, 36, *range(46, gpio.count)]
    lev = sum(1 << n for n in pulled_up)
    for reg in gpio.MAP:
        value = gpio.read(reg.name)
        if reg.name == "GPLEV0":
            assert value == lev & 0xFFFF_FFFF
        elif reg.name == "GPLEV1":
            assert value == lev >> 32
        elif reg.name.startswith("GPIO_PUP_PDN_CNTRL_REG"):
            assert value == expected_pull_words[int(reg.name[-1])], reg.name
        else:
            assert value == 0, reg.name
    assert all(gpio.function(n) == "input" for n in range(gpio.count))


FSEL_CASES = [
    # (code, function) from soc-facts §3.3
    (0b000, "input"),
    (0b001, "output"),
    (0b100, "ALT0"),
    (0b101, "ALT1"),
    (0b110, "ALT2"),
    (0b111, "ALT3"),
    (0b011, "ALT4"),
    (0b010, "ALT5"),
]


@pytest.mark.parametrize(("code", "function"), FSEL_CASES)
def test_fsel_encodings(gpio: GpioBlock, code: int, function: str) -> None:
    """soc-facts §3.3: 000 input, 001 output, 100 ALT0, 101 ALT1, 110 ALT2, 111 ALT3, 011 ALT4, 010 ALT5."""
    # GPIO14 is field 4 of GPFSEL1 (bits 14:12)
    gpio.write("GPFSEL1", code << 12)
    assert gpio.function(14) == function
    assert gpio.read("GPFSEL1") == code << 12
    assert gpio.get_field("GPFSEL1", "FSEL14") == code
    if function.startswith("ALT"):
        alt = int(function[3])
        assert FSEL_ALT[alt] == code
        assert gpio.signal(14) == gpio.alternates(14)[alt]


def test_alt_routes_pin_to_its_signal(gpio: GpioBlock) -> None:
    """soc-facts §3.9: GPIO14 ALT0 is TXD0 (UART0), ALT5 is TXD1 (mini UART) on both chips."""
    gpio.set_function(14, "ALT0")
    assert gpio.signal(14) == "TXD0"
    assert gpio.lines_for("TXD0") == [14]
    gpio.set_function(14, "ALT5")
    assert gpio.signal(14) == "TXD1"
    assert gpio.lines_for("TXD0") == []
    assert gpio.lines_for("TXD1") == [14]
    gpio.set_function(14, "input")
    assert gpio.signal(14) is None
    assert gpio.lines_for("TXD1") == []


def test_unused_alternate_drives_zero() -> None:
    """soc-facts §3.3: "All unused alternative function lines are tied to ground and will output a 0"."""
    soc = make_soc(BCM2711)
    gpio = soc.gpio
    net = gpio.net(16)  # BCM2711 GPIO16 ALT0 is "–"
    net.drive("external 10k", Drive.pull_up(10_000))
    assert net.level is True
    gpio.set_function(16, "ALT0")
    assert gpio.signal(16) is None
    assert net.level is False
    assert gpio.read("GPLEV0") >> 16 & 1 == 0
    with pytest.raises(ElectricalFault):
        net.drive("external driver", Drive.push_pull(True))
    gpio.set_function(16, "input")
    assert net.level is True


def test_all_pins_reset_to_input(gpio: GpioBlock) -> None:
    """soc-facts §3.3: "All pins reset to normal GPIO input operation"; drives are released."""
    gpio.write("GPFSEL1", 0b001 << 21)  # GPIO17 output
    gpio.write("GPSET0", 1 << 17)
    gpio.set_function(2, "ALT0")
    assert gpio.net(17).level is True
    gpio.reset_registers()
    assert gpio.function(17) == "input"
    assert gpio.signal(2) is None
    assert "gpio.GPIO17" not in gpio.net(17).drivers
    assert gpio.net(17).level is False  # back on its reset pull-down
    assert gpio.output_latch(17) is False


def test_set_written_while_input_applies_when_output(gpio: GpioBlock) -> None:
    """soc-facts §3.4: "if the pin is subsequently defined as an output then the bit will be set
    according to the last set/clear operation"; GPLEV reads the pin, not the latch."""
    gpio.write("GPSET0", 1 << 17)  # GPIO17 is an input with its reset pull-down
    assert gpio.output_latch(17) is True
    assert gpio.read("GPLEV0") >> 17 & 1 == 0
    gpio.write("GPFSEL1", 0b001 << 21)
    assert gpio.read("GPLEV0") >> 17 & 1 == 1
    gpio.write("GPCLR0", 1 << 17)
    assert gpio.read("GPLEV0") >> 17 & 1 == 0
    gpio.write("GPFSEL1", 0)  # back to input: the latch stays as last written
    gpio.write("GPSET0", 1 << 17)
    gpio.write("GPCLR0", 1 << 17)
    gpio.write("GPFSEL1", 0b001 << 21)
    assert gpio.level(17) is False


def test_writing_zero_to_set_or_clear_has_no_effect(gpio: GpioBlock) -> None:
    """soc-facts §3.4: "writing a "0" to the field has no effect" (no read-modify-write needed)."""
    gpio.write("GPFSEL1", (0b001 << 21) | (0b001 << 24))  # GPIO17, GPIO18 outputs
    gpio.write("GPSET0", (1 << 17) | (1 << 18))
    gpio.write("GPSET0", 0)
    gpio.write("GPCLR0", 1 << 18)
    assert gpio.level(17) is True
    assert gpio.level(18) is False
    gpio.write("GPCLR0", 0)
    assert gpio.level(17) is True
    assert gpio.read("GPSET0") == 0
    assert gpio.read("GPCLR0") == 0


def test_gplev_reads_the_pin_when_something_else_drives_it(gpio: GpioBlock) -> None:
    """soc-facts §3.4: GPLEV "return[s] the actual value of the pin" — here an external source."""
    net = gpio.net(22)
    net.drive("bench supply", Drive.source(3.3))
    assert gpio.read("GPLEV0") >> 22 & 1 == 1
    net.drive("bench supply", Drive.source(0.0))
    assert gpio.read("GPLEV0") >> 22 & 1 == 0


def test_contention_raises_and_leaves_the_latch(gpio: GpioBlock) -> None:
    """DESIGN electrical rules: an output fighting an external driver is an ElectricalFault."""
    gpio.net(5).drive("external", Drive.push_pull(False))
    gpio.set_function(5, "output")
    with pytest.raises(ElectricalFault, match="contention"):
        gpio.write("GPSET0", 1 << 5)
    assert gpio.output_latch(5) is False
    assert gpio.net(5).level is False


OPS = st.lists(
    st.tuples(
        st.sampled_from(["set", "clr", "out", "in"]),
        st.integers(min_value=0, max_value=53),
    ),
    max_size=40,
)


@settings(max_examples=25)
@given(ops=OPS)
def test_outputs_follow_the_latch_and_inputs_follow_their_pull(ops: list[tuple[str, int]]) -> None:
    """soc-facts §3.4: for any SET/CLR/FSEL sequence an output reads its latch and an input its pull."""
    gpio = make_soc(BCM2835).gpio
    latch: set[int] = set()
    outputs: set[int] = set()
    for op, n in ops:
        reg, bit = n // 32, 1 << (n % 32)
        if op == "set":
            gpio.write(f"GPSET{reg}", bit)
            latch.add(n)
        elif op == "clr":
            gpio.write(f"GPCLR{reg}", bit)
            latch.discard(n)
        else:
            gpio.set_function(n, "output" if op == "out" else "input")
            (outputs.add if op == "out" else outputs.discard)(n)
    for n in range(54):
        if n in outputs:
            assert gpio.level(n) is (n in latch), n
        elif gpio.pull(n) != "none":
            assert gpio.level(n) is (gpio.pull(n) == "up"), n
