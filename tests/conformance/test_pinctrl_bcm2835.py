"""pinctrl-bcm2835 register sequences against the GPIO model.

Source: drivers/pinctrl/bcm/pinctrl-bcm2835.c, a current copy with the BCM2711 support (read
through the library's stored copies; ``bcm2711_pull_config_set`` as read in the RT-Thread port of
the same function, the part of the Linux file holding it was not read):
- ``bcm2835_pinctrl_fsel_set`` (read GPFSELn; nothing if unchanged; "always transition through
  GPIO_IN" between two non-input functions; write), reached from ``bcm2835_pmx_set`` and
  ``bcm2835_pmx_gpio_set_direction``; ``bcm2835_gpio_direction_output`` (GPSET/GPCLR first, then
  FSEL output); ``bcm2835_gpio_get`` (GPLEV); ``bcm2835_gpio_set_bit`` ("note NOT a
  read/modify/write cycle").
- ``bcm2835_pull_config_set``: ``GPPUD = arg & 3``; ``udelay(1)`` ("BCM2835 datasheet say to wait
  150 cycles ... this clock runs at 250 MHz"); ``GPPUDCLK0 + off*4 = BIT(bit)``; ``udelay(1)``;
  ``GPPUDCLK = 0``. ``bcm2711_pull_config_set``: read-modify-write of GPIO_PUP_PDN_CNTRL_REGn,
  2 bits a pin, 16 pins a register (``BCM2711_PULL_NONE 0, UP 1, DOWN 2``; soc-facts §3.6).
- IRQs: ``__bcm2835_gpio_irq_config`` (read-modify-write of GPREN/GPFEN/GPHEN/GPLEN by type),
  ``bcm2835_gpio_irq_unmask`` / ``_mask`` (mask also writes the line's GPEDS bit: "Clear events
  that were latched prior to clearing event sources"), ``bcm2835_gpio_irq_ack`` (GPEDS W1C),
  ``bcm2835_gpio_irq_handle_bank`` (GPEDS & bank mask & enabled map; IRQ0 GPIO0-27, IRQ1 28-45,
  IRQ2 46-57). The bank's interrupt line is GPEDS & that mask, non-zero (soc-facts §3.1, §3.5):
  the model exposes GPEDS, not a line, so the line is computed from it here.
- GPAREN/GPAFEN: "Linux ... never uses the async registers" (soc-facts §3.5); checked at register
  level against the datasheet's "rising edges of very short duration can be detected".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from pihil_emulator.board import Board
from pihil_emulator.soc.gpio import GpioBlock
from pihil_emulator.world.net import Drive

FSEL_IN, FSEL_OUT, ALT0, ALT5 = 0b000, 0b001, 0b100, 0b010
BCM2835_PUD_OFF, BCM2835_PUD_DOWN, BCM2835_PUD_UP = 0, 1, 2
BCM2711_PULL_NONE, BCM2711_PULL_UP, BCM2711_PULL_DOWN = 0, 1, 2
IRQ_TYPE_EDGE_RISING, IRQ_TYPE_EDGE_FALLING, IRQ_TYPE_EDGE_BOTH = 1, 2, 3
IRQ_TYPE_LEVEL_HIGH, IRQ_TYPE_LEVEL_LOW = 4, 8
BANK_MASKS = {0: ((0, 0x0FFFFFFF),), 1: ((0, 0xF0000000), (1, 0x00003FFF)), 2: ((1, 0x003FC000),)}
UDELAY_1_NS = 1_000


@dataclass
class Pinctrl:
    """The driver's register accesses, with a log of every write."""

    board: Board
    writes: list[tuple[str, int]] = field(default_factory=list)
    irq_type: dict[int, int] = field(default_factory=dict)
    enabled_irq_map: list[int] = field(default_factory=lambda: [0, 0])

    @property
    def gpio(self) -> GpioBlock:
        return self.board.soc.gpio

    def rd(self, reg: str) -> int:
        return self.gpio.read(reg)

    def wr(self, reg: str, value: int) -> None:
        self.writes.append((reg, value))
        self.gpio.write(reg, value)

    def fsel_set(self, pin: int, fsel: int) -> None:
        reg, shift = f"GPFSEL{pin // 10}", (pin % 10) * 3
        val = self.rd(reg)
        cur = (val >> shift) & 0x7
        if cur == fsel:
            return
        if cur != FSEL_IN and fsel != FSEL_IN:
            val = (val & ~(0x7 << shift)) | (FSEL_IN << shift)
            self.wr(reg, val)
        val = (val & ~(0x7 << shift)) | (fsel << shift)
        self.wr(reg, val)

    def set_bit(self, reg0: str, pin: int) -> None:
        self.wr(f"{reg0[:-1]}{pin // 32}", 1 << (pin % 32))

    def get_bit(self, reg0: str, pin: int) -> int:
        return (self.rd(f"{reg0[:-1]}{pin // 32}") >> (pin % 32)) & 1

    def direction_output(self, pin: int, value: int) -> None:
        self.set_bit("GPSET0" if value else "GPCLR0", pin)
        self.fsel_set(pin, FSEL_OUT)

    def pull_config_set_2835(self, pin: int, arg: int) -> None:
        self.wr("GPPUD", arg & 3)
        self.board.run_for(UDELAY_1_NS)
        self.wr(f"GPPUDCLK{pin // 32}", 1 << (pin % 32))
        self.board.run_for(UDELAY_1_NS)
        self.wr(f"GPPUDCLK{pin // 32}", 0)

    def pull_config_set_2711(self, pin: int, arg: int) -> None:
        reg, shift = f"GPIO_PUP_PDN_CNTRL_REG{pin // 16}", (pin % 16) * 2
        value = self.rd(reg)
        value &= ~(0x3 << shift)
        value |= arg << shift
        self.wr(reg, value)

    def _irq_config_reg(self, reg0: str, pin: int, enable: bool) -> None:
        reg = f"{reg0[:-1]}{pin // 32}"
        value = self.rd(reg)
        value = value | (1 << pin % 32) if enable else value & ~(1 << pin % 32)
        self.wr(reg, value)

    def irq_config(self, pin: int, enable: bool) -> None:
        kind = self.irq_type.get(pin, 0)
        if kind in (IRQ_TYPE_EDGE_RISING, IRQ_TYPE_EDGE_BOTH):
            self._irq_config_reg("GPREN0", pin, enable)
        if kind in (IRQ_TYPE_EDGE_FALLING, IRQ_TYPE_EDGE_BOTH):
            self._irq_config_reg("GPFEN0", pin, enable)
        if kind == IRQ_TYPE_LEVEL_HIGH:
            self._irq_config_reg("GPHEN0", pin, enable)
        if kind == IRQ_TYPE_LEVEL_LOW:
            self._irq_config_reg("GPLEN0", pin, enable)

    def request_irq(self, pin: int, kind: int) -> None:
        """irq_set_type while disabled (__bcm2835_gpio_irq_set_type_disabled), then unmask."""
        self.irq_type[pin] = kind
        self.enabled_irq_map[pin // 32] |= 1 << (pin % 32)
        self.irq_config(pin, True)

    def mask(self, pin: int) -> None:
        self.irq_config(pin, False)
        self.set_bit("GPEDS0", pin)
        self.enabled_irq_map[pin // 32] &= ~(1 << (pin % 32))

    def irq_line(self, group: int) -> bool:
        return any(self.gpio.peek(f"GPEDS{b}") & m for b, m in BANK_MASKS[group])

    def handle(self, group: int) -> list[int]:
        """bcm2835_gpio_irq_handler for one group: the lines it dispatches (each acked)."""
        lines: list[int] = []
        for bank, mask in BANK_MASKS[group]:
            events = self.rd(f"GPEDS{bank}") & mask & self.enabled_irq_map[bank]
            lines += [32 * bank + b for b in range(32) if events >> b & 1]
        for line in lines:
            self.set_bit("GPEDS0", line)  # handle_edge_irq / handle_level_irq → irq_ack
        return lines


def pinctrl(profile: str) -> Pinctrl:
    return Pinctrl(Board.from_profile(profile))


@pytest.mark.parametrize("profile", ["rpi-bplus", "rpi-4b"])
def test_pmx_set_goes_through_gpio_in_between_two_alternates(profile: str) -> None:
    p = pinctrl(profile)
    p.fsel_set(14, FSEL_IN)  # the profile routes GPIO14 already; start from an input
    base = p.rd("GPFSEL1")
    assert base & (0x7 << 12) == 0
    p.writes.clear()
    p.fsel_set(14, ALT0)  # input → ALT0: one write
    assert p.writes == [("GPFSEL1", base | ALT0 << 12)]
    assert p.gpio.function(14) == "ALT0"
    assert p.gpio.signal(14) == "TXD0"
    p.writes.clear()
    p.fsel_set(14, ALT5)  # ALT0 → ALT5: via input
    assert p.writes == [("GPFSEL1", base), ("GPFSEL1", base | ALT5 << 12)]
    assert p.gpio.function(14) == "ALT5"
    assert p.gpio.signal(14) == "TXD1"
    p.writes.clear()
    p.fsel_set(14, ALT5)  # unchanged: no write at all
    assert p.writes == []
    assert p.rd("GPFSEL1") == base | ALT5 << 12  # neighbours (GPIO10-19) untouched


@pytest.mark.parametrize(("profile", "pin"), [("rpi-bplus", 4), ("rpi-bplus", 47), ("rpi-4b", 57)])
def test_direction_output_sets_the_latch_first_and_gplev_reads_it(profile: str, pin: int) -> None:
    """bcm2835_gpio_direction_output: no glitch, the latch is written before FSEL."""
    p = pinctrl(profile)
    seen: list[bool] = []
    p.gpio.net(pin).watch(lambda _net, level, _t: seen.append(level))
    start = p.gpio.level(pin)
    p.direction_output(pin, 1)
    assert p.get_bit("GPLEV0", pin) == 1
    assert seen == ([] if start else [True])  # straight to high, never low first
    p.set_bit("GPCLR0", pin)
    assert p.get_bit("GPLEV0", pin) == 0
    p.fsel_set(pin, FSEL_IN)
    assert p.gpio.function(pin) == "input"
    assert p.board.register_warnings == []


@pytest.mark.parametrize(
    ("pin", "arg", "want"),
    [
        (17, BCM2835_PUD_UP, "up"),  # reset: down (soc-facts §3.7)
        (4, BCM2835_PUD_DOWN, "down"),  # reset: up
        (40, BCM2835_PUD_UP, "up"),  # bank 1: GPPUDCLK1
        (2, BCM2835_PUD_OFF, "none"),
    ],
)
def test_bcm2835_pull_config_set_sequence(pin: int, arg: int, want: str) -> None:
    p = pinctrl("rpi-bplus")
    others = {n: p.gpio.pull(n) for n in range(54) if n != pin}
    p.pull_config_set_2835(pin, arg)
    assert p.writes == [
        ("GPPUD", arg),
        (f"GPPUDCLK{pin // 32}", 1 << (pin % 32)),
        (f"GPPUDCLK{pin // 32}", 0),
    ]
    assert p.gpio.pull(pin) == want
    assert {n: p.gpio.pull(n) for n in others} == others  # "only the pads which receive a clock"
    if want != "none" and pin != 2:  # GPIO2 has the board's 1K8 pull-up
        assert p.gpio.level(pin) is (want == "up")


def test_bcm2835_pull_without_the_setup_wait_is_not_applied() -> None:
    """The driver's udelay(1) is what meets the 150-cycle set-up (600 ns at 250 MHz): a clock
    written 100 ns after GPPUD does not take (soc-facts §3.6 step 2)."""
    p = pinctrl("rpi-bplus")
    assert p.gpio.pull(17) == "down"
    p.wr("GPPUD", BCM2835_PUD_UP)
    p.board.run_for(100)
    p.wr("GPPUDCLK0", 1 << 17)
    p.wr("GPPUDCLK0", 0)
    assert p.gpio.pull(17) == "down"
    p.pull_config_set_2835(17, BCM2835_PUD_UP)
    assert p.gpio.pull(17) == "up"


@pytest.mark.parametrize(
    ("pin", "arg", "want"),
    [(17, BCM2711_PULL_UP, "up"), (4, BCM2711_PULL_DOWN, "down"), (57, BCM2711_PULL_NONE, "none")],
)
def test_bcm2711_pull_config_set_read_modify_write(pin: int, arg: int, want: str) -> None:
    p = pinctrl("rpi-4b")
    reg = f"GPIO_PUP_PDN_CNTRL_REG{pin // 16}"
    before = p.rd(reg)
    p.pull_config_set_2711(pin, arg)
    shift = (pin % 16) * 2
    assert p.rd(reg) == (before & ~(3 << shift)) | arg << shift  # "Reading ... current state"
    assert p.gpio.pull(pin) == want
    assert p.board.register_warnings == []


@pytest.mark.parametrize(("profile", "pin"), [("rpi-bplus", 17), ("rpi-4b", 30), ("rpi-4b", 50)])
def test_edge_irq_sets_gpeds_raises_the_bank_line_and_ack_clears_it(profile: str, pin: int) -> None:
    p = pinctrl(profile)
    group = 0 if pin <= 27 else 1 if pin <= 45 else 2
    net = p.gpio.net(pin)
    net.drive("button", Drive.push_pull(False))
    p.board.run_for(100)
    p.request_irq(pin, IRQ_TYPE_EDGE_RISING)
    assert p.get_bit("GPREN0", pin) == 1
    assert not p.irq_line(group)
    net.drive("button", Drive.push_pull(True))
    p.board.run_for(100)
    assert p.get_bit("GPEDS0", pin) == 1
    assert p.irq_line(group)
    assert not any(p.irq_line(g) for g in BANK_MASKS if g != group)
    assert p.handle(group) == [pin]
    assert not p.irq_line(group)  # the ack (W1C) cleared it; the level stays high
    net.drive("button", Drive.push_pull(False))  # a falling edge: not enabled
    p.board.run_for(100)
    assert not p.irq_line(group)
    p.request_irq(pin, IRQ_TYPE_EDGE_BOTH)
    net.drive("button", Drive.push_pull(True))
    p.board.run_for(100)
    net.drive("button", Drive.push_pull(False))
    p.board.run_for(100)
    assert p.handle(group) == [pin]
    p.mask(pin)
    assert p.get_bit("GPREN0", pin) == 0
    assert p.get_bit("GPFEN0", pin) == 0


def test_level_irq_stays_set_while_the_level_lasts() -> None:
    """GPHEN: "If the pin is still high when an attempt is made to clear the status bit in
    GPEDSn then the status bit will remain set" (soc-facts §3.5): handle_level_irq acks, the
    line stays up until the device lets go; mask clears the event."""
    p = pinctrl("rpi-bplus")
    net = p.gpio.net(22)
    net.drive("irq out", Drive.push_pull(False))
    p.request_irq(22, IRQ_TYPE_LEVEL_HIGH)
    assert not p.irq_line(0)
    net.drive("irq out", Drive.push_pull(True))
    p.board.run_for(50)
    assert p.handle(0) == [22]
    assert p.irq_line(0)  # still high: GPEDS re-sets at once
    net.drive("irq out", Drive.push_pull(False))
    p.set_bit("GPEDS0", 22)
    assert not p.irq_line(0)
    p.request_irq(23, IRQ_TYPE_LEVEL_LOW)
    p.gpio.net(23).drive("irq out", Drive.push_pull(False))
    p.board.run_for(50)
    assert p.handle(0) == [23]
    assert p.irq_line(0)
    p.mask(23)
    assert not p.irq_line(0)
    assert p.get_bit("GPLEN0", 23) == 0


def test_async_edge_detect_catches_what_the_synchronous_one_filters() -> None:
    """A 4 ns pulse (one 250 MHz cycle): GPAREN sets GPEDS, GPREN does not (soc-facts §3.5:
    sync detection samples "011" at the system clock; async "can detect very narrow events")."""
    p = pinctrl("rpi-bplus")
    for pin in (5, 6):
        p.gpio.net(pin).drive("pulse", Drive.push_pull(False))
    p.wr("GPREN0", 1 << 5)
    p.wr("GPAREN0", 1 << 6)
    p.board.run_for(100)
    for pin in (5, 6):
        p.gpio.net(pin).drive("pulse", Drive.push_pull(True))
    p.board.run_for(4)
    for pin in (5, 6):
        p.gpio.net(pin).drive("pulse", Drive.push_pull(False))
    p.board.run_for(100)
    eds = p.rd("GPEDS0")
    assert eds & (1 << 6)
    assert not eds & (1 << 5)
