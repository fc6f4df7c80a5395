"""Mapped register access (`RegisterBlock.reader`/`writer`) and the GPSET/GPCLR one-line shortcut.

A driver keeps a register's mapped address instead of looking the name up on every
access; the function it gets must do exactly what ``read``/``write`` do.
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pihil_emulator.errors import ElectricalFault, RegisterError
from pihil_emulator.soc.gpio import GpioBlock
from pihil_emulator.soc.registers import Access, Field, Register, RegisterBlock, RegisterMap
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.variants import BCM2711, BCM2835, SocVariant
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive, Net


def make_gpio(variant: SocVariant) -> GpioBlock:
    world = World(seed=0)
    return Soc(world, Circuit(world), variant).gpio


@pytest.fixture(params=[BCM2835, BCM2711], ids=["BCM2835", "BCM2711"])
def gpio(request: pytest.FixtureRequest) -> GpioBlock:
    return make_gpio(request.param)


class Plain(RegisterBlock):
    """A block with stored registers of each access type and one computed register."""

    MAP: ClassVar[RegisterMap] = RegisterMap(
        [
            Register("DATA", 0x0, reset=0x5A),
            Register("FLAGS", 0x4, (Field("DONE", 0, access=Access.W1C, reset=1),)),
            Register("ID", 0x8, reset=0x1234, access=Access.RO),
            Register("COUNT", 0xC, access=Access.RO),
        ]
    )

    def __init__(self) -> None:
        self.count = 0
        super().__init__("plain")

    def _read_COUNT(self) -> int:  # noqa: N802 (the register's name)
        self.count += 1
        return self.count | 1 << 40  # wider than a register: read() keeps 32 bits


def test_ports_of_a_plain_block_read_and_write_as_read_and_write() -> None:
    """soc-facts §3.2 access types through a port: RO keeps its value, W1C clears, a computed
    register is computed on every read and cut to 32 bits, bad values are refused the same."""
    block = Plain()
    assert block.reader("DATA")() == 0x5A
    block.writer(0x0)(0xCAFE)
    assert block.read("DATA") == 0xCAFE
    block.writer("FLAGS")(1)
    assert block.reader(0x4)() == 0
    block.writer("ID")(0)
    assert block.reader("ID")() == 0x1234
    count = block.reader("COUNT")
    assert (count(), count(), block.read("COUNT")) == (1, 2, 3)
    with pytest.raises(RegisterError, match=r"plain.DATA: a 32-bit register takes 0..0xffffffff"):
        block.writer("DATA")(1 << 32)
    with pytest.raises(RegisterError, match="has no register 'NOPE'"):
        block.reader("NOPE")
    with pytest.raises(RegisterError, match="no register at offset 0x40"):
        block.writer(0x40)


def test_every_gpio_register_reads_the_same_through_its_port(gpio: GpioBlock) -> None:
    """soc-facts §3.2: every register of the GPIO map, by name and by offset, reads through its
    port what ``read`` returns (computed ones: GPFSEL, GPLEV, GPEDS, the pulls)."""
    gpio.set_function(4, "output")
    gpio.write("GPSET0", 1 << 4)
    gpio.write("GPREN0", 1 << 6)
    gpio.net(6).drive("bench", Drive.source(3.3))
    gpio.net(40).drive("bench", Drive.source(3.3))
    for reg in gpio.MAP:
        assert gpio.reader(reg.name)() == gpio.read(reg.name), reg.name
        assert gpio.reader(reg.offset)() == gpio.read(reg.offset), reg.name
    assert gpio.reader("GPLEV0")() >> 4 & 1 == 1
    assert gpio.reader("GPLEV1")() >> 8 & 1 == 1  # GPIO40


def test_gpset_port_refuses_what_write_refuses(gpio: GpioBlock) -> None:
    """A register is 32 bits: a wider value is an error naming the register, never truncated."""
    gpio.set_function(4, "output")
    for reg in ("GPSET0", "GPCLR1"):
        with pytest.raises(RegisterError) as by_write:
            gpio.write(reg, 1 << 32 | 1 << 4)
        with pytest.raises(RegisterError) as by_port:
            gpio.writer(reg)(1 << 32 | 1 << 4)
        assert str(by_port.value) == str(by_write.value)
        with pytest.raises(RegisterError):
            gpio.writer(reg)(-1)
    assert gpio.output_latch(4) is False


# -- one GPSET/GPCLR bit at a time (the shortcut) against several in one write -------------------

LINES = (2, 17, 40)
SPARE = {0: 1 << 20, 1: 1 << (45 - 32)}
"""An input line per bank, never looked at: its bit makes a reference write touch two lines."""
OPS = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["set", "clr"]), st.sets(st.sampled_from(LINES), min_size=1)),
        st.tuples(st.sampled_from(["out", "in", "low", "high", "free"]), st.sampled_from(LINES)),
    ),
    max_size=30,
)


def watched(variant: SocVariant) -> tuple[GpioBlock, list[tuple[str, bool]]]:
    gpio = make_gpio(variant)
    log: list[tuple[str, bool]] = []

    def seen(net: Net, level: bool, _t: int) -> None:
        log.append((net.name, level))

    for n in LINES:
        gpio.set_function(n, "output")  # most writes drive a line: the shortcut's case
        gpio.net(n).watch(seen)
    return gpio, log


def latch_write(gpio: GpioBlock, op: str, lines: set[int], one_by_one: bool) -> None:
    banks: dict[int, list[int]] = {}
    for n in sorted(lines):
        banks.setdefault(n // 32, []).append(1 << (n % 32))
    other = "clr" if op == "set" else "set"
    for bank, bits in banks.items():
        reg = f"GP{op.upper()}{bank}"
        if one_by_one:
            port = gpio.writer(reg)
            for bit in bits:
                port(bit)
        else:
            # the spare line's latch flips in the same write: always more than one line changes
            gpio.write(f"GP{other.upper()}{bank}", SPARE[bank])
            gpio.write(reg, sum(bits) | SPARE[bank])


@given(variant=st.sampled_from([BCM2835, BCM2711]), ops=OPS)
@example(variant=BCM2835, ops=[("set", {17}), ("clr", {17}), ("set", {17, 40})])
@example(variant=BCM2711, ops=[("low", 2), ("set", {2, 17}), ("free", 2), ("set", {2})])
def test_a_set_or_clear_of_one_line_equals_the_general_path(
    variant: SocVariant, ops: list[tuple[str, object]]
) -> None:
    """soc-facts §3.4: writing 1s to GPSET/GPCLR sets/clears those latch bits and drives the
    outputs among them; an ElectricalFault (an external driver fighting, DESIGN) stops the write
    at the failing line with the earlier lines done and its latch bit unchanged. Written one bit
    at a time (the one-line shortcut) or several at once (the general path), the latches,
    levels, edges seen and faults are the same."""
    shortcut, shortcut_log = watched(variant)
    general, general_log = watched(variant)
    for op, arg in ops:
        faults: list[str | None] = []
        for gpio, one_by_one in ((shortcut, True), (general, False)):
            try:
                if isinstance(arg, set):
                    latch_write(gpio, op, arg, one_by_one)
                elif op in ("out", "in"):
                    assert isinstance(arg, int)
                    gpio.set_function(arg, "output" if op == "out" else "input")
                elif op == "free":
                    assert isinstance(arg, int)
                    gpio.net(arg).release("external")
                else:
                    assert isinstance(arg, int)
                    gpio.net(arg).drive("external", Drive.push_pull(op == "high"))
                faults.append(None)
            except ElectricalFault as fault:
                faults.append(str(fault))
        assert faults[0] == faults[1]
        for n in LINES:
            assert shortcut.output_latch(n) == general.output_latch(n), n
            assert shortcut.level(n) == general.level(n), n
        assert shortcut_log == general_log
