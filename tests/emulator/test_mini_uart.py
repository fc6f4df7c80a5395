"""The mini UART (UART1, AUX) at register level, against soc-facts §4.2, §8.1 and §8.8."""

from __future__ import annotations

import pytest

from pihil_emulator.buses.uart_line import LineSettings
from pihil_emulator.errors import ConfigurationError
from pihil_emulator.soc.mini_uart import MiniUartBlock, linux_baud_reg, mini_uart_baud
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.variants import BCM2711, BCM2835, SocVariant
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive

from .uart_rig import SocUartRig


class Rig(SocUartRig[MiniUartBlock]):
    """A SoC with the mini UART on GPIO14/15 (ALT5) and a far end on the pins."""

    def __init__(self, *, far: LineSettings | None = None, variant: SocVariant = BCM2711) -> None:
        far = far or LineSettings(mini_uart_baud(250e6, 270))
        super().__init__("uart1", MiniUartBlock, "ALT5", variant=variant, far=far)

    def bare_metal_init(self, baud_reg: int = 270, lcr: int = 3) -> None:
        """The usual bare-metal sequence: enable, LCR, baud, CNTL."""
        u = self.uart
        u.write("AUX_ENABLES", 1)
        u.write("AUX_MU_CNTL_REG", 0)
        u.write("AUX_MU_LCR_REG", lcr)
        u.write("AUX_MU_MCR_REG", 0)
        u.write("AUX_MU_IER_REG", 0)
        u.write("AUX_MU_BAUD_REG", baud_reg)
        u.write("AUX_MU_CNTL_REG", 3)


def test_registers_are_unreachable_until_aux_enables_bit_0() -> None:
    """soc-facts §4.2: "If the enable bits are clear ... You can not even read or write the
    registers!" """
    u = Rig().uart
    u.write("AUX_MU_SCRATCH", 0x5A)
    assert u.read("AUX_MU_SCRATCH") == 0
    assert u.read("AUX_MU_IIR_REG") == 0
    u.write("AUX_ENABLES", 1)
    u.write("AUX_MU_SCRATCH", 0x5A)
    assert u.read("AUX_MU_SCRATCH") == 0x5A


def test_reset_values_once_enabled() -> None:
    """soc-facts §8.1: LSR TX-idle (bit 6) = 1, IIR = 0xC1 (FIFO enables, nothing pending)."""
    u = Rig().uart
    u.write("AUX_ENABLES", 1)
    assert u.read("AUX_MU_IIR_REG") == 0xC1
    assert u.read("AUX_MU_LSR_REG") & 0x40
    assert u.read("AUX_MU_CNTL_REG") == 0x03
    assert u.read("AUX_MU_BAUD_REG") == 0
    assert u.read("AUX_MU_LCR_REG") == 0


def test_register_offsets_and_short_names() -> None:
    """soc-facts §4.2: AUX_IRQ 0x00, AUX_ENABLES 0x04, MU_IO 0x40 ... STAT 0x64, BAUD 0x68."""
    offsets = {r.name: r.offset for r in MiniUartBlock.MAP}
    assert offsets == {
        "AUX_IRQ": 0x00, "AUX_ENABLES": 0x04, "AUX_MU_IO_REG": 0x40, "AUX_MU_IER_REG": 0x44,
        "AUX_MU_IIR_REG": 0x48, "AUX_MU_LCR_REG": 0x4C, "AUX_MU_MCR_REG": 0x50,
        "AUX_MU_LSR_REG": 0x54, "AUX_MU_MSR_REG": 0x58, "AUX_MU_SCRATCH": 0x5C,
        "AUX_MU_CNTL_REG": 0x60, "AUX_MU_STAT_REG": 0x64, "AUX_MU_BAUD_REG": 0x68,
    }  # fmt: skip
    u = Rig().uart
    u.write("AUX_ENABLES", 1)
    u.write("SCRATCH", 7)
    assert u.read("AUX_MU_SCRATCH") == u.read(0x5C) == 7


def test_baud_is_core_clock_over_8_times_reg_plus_1() -> None:
    """soc-facts §4.2/§8.8: baud = f_core / (8·(reg+1)); 250 MHz, reg 270 → 115313 baud; reg 0
    → 31.25 Mbaud; the lowest rate at 250 MHz is 476 baud."""
    assert mini_uart_baud(250e6, 270) == pytest.approx(115_313, abs=1)
    assert mini_uart_baud(250e6, 0) == 31_250_000
    assert int(mini_uart_baud(250e6, 0xFFFF)) == 476
    rig = Rig()
    rig.bare_metal_init(270)
    assert rig.uart.baud_rate() == pytest.approx(250e6 / (8 * 271))


def test_character_time_on_the_wire() -> None:
    """The frame goes out at the computed rate: 10 bits of 8N1 at f_core/(8·(reg+1))."""
    rig = Rig()
    rig.bare_metal_init(270)
    rig.uart.write("AUX_MU_IO_REG", 0x41)
    assert rig.uart.read("AUX_MU_LSR_REG") & 0x40 == 0  # not idle
    bit = 8 * 271 / 250e6 * 1e9
    rig.world.run_for(int(10 * bit) + 1)
    assert rig.uart.read("AUX_MU_LSR_REG") & 0x40
    assert [(c.value, c.flags) for c in rig.heard()] == [(0x41, 0)]


def test_dlab_reaches_the_baud_register_through_io_and_ier() -> None:
    """16550-like registers (soc-facts §4.2): with LCR.DLAB, IO/IER are the baud bytes."""
    u = Rig().uart
    u.write("AUX_ENABLES", 1)
    u.write("AUX_MU_LCR_REG", 0x83)
    u.write("AUX_MU_IO_REG", 0x0F)
    u.write("AUX_MU_IER_REG", 0x01)
    assert u.read("AUX_MU_BAUD_REG") == 0x010F
    assert u.read("AUX_MU_IO_REG") == 0x0F
    u.write("AUX_MU_LCR_REG", 0x03)
    assert u.read("AUX_MU_IER_REG") == 0


def test_changing_the_core_clock_changes_the_baud_rate_mid_stream() -> None:
    """soc-facts §4.2/§8.8: "when the core clock frequency changes, the UART baud rate will also
    change"; a far end at the old rate then sees wrong bytes."""
    rig = Rig()
    rig.bare_metal_init(270)
    for b in b"ABCDEFGH":
        rig.uart.write("AUX_MU_IO_REG", b)
    bit = 8 * 271 / 250e6 * 1e9
    rig.world.run_for(int(25 * bit))  # 'C' in progress
    rig.soc.set_core_clock(400_000_000)
    assert rig.uart.baud_rate() == pytest.approx(400e6 / (8 * 271))
    rig.world.run_for(2_000_000)
    heard = rig.heard()
    assert bytes(c.value for c in heard[:3]) == b"ABC"
    assert bytes(c.value for c in heard[3:]) != b"DEFGH"


def test_rx_held_low_gives_a_stream_of_zeros_and_no_error() -> None:
    """soc-facts §8.8: with RX held low the receiver sees a stream of 0x00 and no framing error;
    the 8-deep FIFO then overruns (LSR bit 1, cleared by reading LSR)."""
    rig = Rig()
    rig.bare_metal_init(270)
    rig.far_tx.set_break(True)
    rig.world.run_for(1_000_000)
    stat = rig.uart.read("AUX_MU_STAT_REG")
    assert stat >> 16 & 0xF == 8  # RX FIFO full of zeros
    lsr = rig.uart.read("AUX_MU_LSR_REG")
    assert lsr & 0b11 == 0b11  # data ready, overrun
    assert rig.uart.read("AUX_MU_LSR_REG") & 0b10 == 0  # overrun cleared by the read
    assert [rig.uart.read("AUX_MU_IO_REG") for _ in range(8)] == [0] * 8


def test_driver_reads_a_continuous_zero_stream_from_a_low_line() -> None:
    """§8.8 through the driver: 0x00 at one per (9.5 + detection latency) bit times, no errors."""
    rig = Rig()
    rig.uart.configure(115_200)
    rig.far_tx.set_break(True)
    data = rig.uart.read(1000, 100_000_000)
    assert data == bytes(1000)
    assert rig.uart.error_counts() == {
        "framing": 0,
        "parity": 0,
        "overrun": 0,
        "break": 0,
        "buf_overrun": 0,
    }


def test_unrouted_rx_reads_zeros() -> None:
    """[I] soc-facts §4.2: a low RX from "an error in connection or GPIO setup" gives 0x00s."""
    rig = Rig()
    rig.gpio.set_function(15, "input")
    rig.uart.configure(115_200)
    assert rig.uart.read(4, 10_000_000) == bytes(4)


def test_no_framing_or_parity_detection() -> None:
    """soc-facts §4.2: no "Break detection, Framing errors detection, Parity bit"."""
    rig = Rig(far=LineSettings(mini_uart_baud(250e6, 270), 8, "even"))
    rig.uart.configure(115_200)
    rig.far_tx.send(b"\x01\x02\x03")
    assert rig.uart.read(3, 10_000_000) == b"\x01\x02\x03"
    assert rig.uart.error_counts() == {
        "framing": 0,
        "parity": 0,
        "overrun": 0,
        "break": 0,
        "buf_overrun": 0,
    }


def test_seven_bit_mode() -> None:
    """soc-facts §4.2: "7-bit or 8-bit operation" (LCR bit 0)."""
    rig = Rig(far=LineSettings(mini_uart_baud(250e6, 270), 7))
    rig.bare_metal_init(270, lcr=0)
    rig.uart.write("AUX_MU_IO_REG", 0xC1)
    rig.world.run_for(1_000_000)
    assert [(c.value, c.flags) for c in rig.heard()] == [(0x41, 0)]


def test_fifos_are_8_deep() -> None:
    """soc-facts §4.2: 8 symbols deep FIFOs; STAT TX level 27:24, RX level 19:16."""
    rig = Rig()
    rig.bare_metal_init(270)
    for i in range(12):
        rig.uart.write("AUX_MU_IO_REG", 0x30 + i)
    stat = rig.uart.read("AUX_MU_STAT_REG")
    assert stat >> 24 & 0xF == 8
    assert stat >> 5 & 1  # TX FIFO full
    assert rig.uart.read("AUX_MU_LSR_REG") & 0x20 == 0  # cannot accept a byte
    rig.world.run_for(5_000_000)
    assert bytes(c.value for c in rig.heard()) == bytes(0x30 + i for i in range(9))
    stat = rig.uart.read("AUX_MU_STAT_REG")
    assert stat >> 9 & 1  # TX done
    rig.far_tx.send(bytes(range(5)))
    rig.world.run_for(1_000_000)
    stat = rig.uart.read("AUX_MU_STAT_REG")
    assert stat >> 16 & 0xF == 5
    assert stat & 1  # symbol available


def test_iir_reports_rx_then_tx_interrupts_and_write_clears_fifos() -> None:
    """16550-like IIR: bit 0 clear while pending; ID 10 = RX byte held, 01 = TX FIFO empty;
    writing bit 1/2 clears the RX/TX FIFO."""
    rig = Rig()
    rig.bare_metal_init(270)
    u = rig.uart
    u.write("AUX_MU_IER_REG", 0b11)
    assert u.read("AUX_MU_IIR_REG") == 0xC2  # TX empty pending
    assert u.read("AUX_IRQ") == 1
    rig.far_tx.send(b"z")
    rig.world.run_for(200_000)
    assert u.read("AUX_MU_IIR_REG") == 0xC4  # RX holds a byte
    u.write("AUX_MU_IIR_REG", 0b110)
    assert u.read("AUX_MU_LSR_REG") & 1 == 0


def test_break_generation_holds_tx_low() -> None:
    """soc-facts §4.2 "Break generation" (LCR bit 6): a PL011-style receiver sees a break."""
    rig = Rig()
    rig.bare_metal_init(270)
    rig.uart.write("AUX_MU_LCR_REG", 0x43)
    assert rig.tx_pin.level is False
    rig.world.run_for(1_000_000)
    rig.uart.write("AUX_MU_LCR_REG", 0x03)
    assert rig.tx_pin.level is True
    assert len(rig.heard()) == 1


def test_cts_auto_flow_stops_the_transmitter() -> None:
    """soc-facts §4.2: "Auto flow control" (CNTL bit 3) with CTS1 on GPIO16 ALT5."""
    rig = Rig()
    rig.bare_metal_init(270)
    rig.gpio.set_function(16, "ALT5")
    cts = rig.gpio.net(16)
    cts.drive("peer", Drive.push_pull(True))
    rig.uart.write("AUX_MU_CNTL_REG", 0b1011)
    rig.uart.write("AUX_MU_IO_REG", 0x31)
    rig.world.run_for(1_000_000)
    assert rig.heard() == []
    assert rig.uart.read("AUX_MU_MSR_REG") == 0
    cts.drive("peer", Drive.push_pull(False))
    rig.world.run_for(1_000_000)
    assert [c.value for c in rig.heard()] == [0x31]
    assert rig.uart.read("AUX_MU_MSR_REG") == 0x20


def test_rts_auto_flow_deasserts_with_three_spaces_left() -> None:
    """soc-facts §4.2 CNTL: RTS de-assert level "00: 3 empty spaces left"."""
    rig = Rig()
    rig.bare_metal_init(270)
    rig.gpio.set_function(17, "ALT5")
    rts = rig.gpio.net(17)
    rig.uart.write("AUX_MU_CNTL_REG", 0b0111)
    assert rts.level is False  # asserted
    rig.far_tx.send(bytes(4))
    rig.world.run_for(1_000_000)
    rig.uart.read("AUX_MU_STAT_REG")
    assert rts.level is False  # 4 spaces left
    rig.far_tx.send(bytes(1))
    rig.world.run_for(1_000_000)
    assert rts.level is True  # 3 spaces left: de-asserted as the 5th arrives
    rig.uart.read("AUX_MU_IO_REG")
    assert rts.level is False


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"parity": "even"}, "no parity"),
        ({"data_bits": 6}, "7 or 8 data bits"),
        ({"data_bits": 5}, "7 or 8 data bits"),
        ({"stop_bits": 2}, "1 stop bit only"),
        ({"baud": 40_000_000}, "core clock"),
        ({"baud": 300}, "slowest rate"),
    ],
)
def test_configure_refuses_what_the_mini_uart_cannot_do(
    kwargs: dict[str, object], match: str
) -> None:
    """soc-facts §4.2: 7 or 8 bits, no parity, 1 stop bit; baud between 476 and 31.25M at 250 MHz."""
    args: dict[str, object] = {"baud": 115_200, **kwargs}
    with pytest.raises(ConfigurationError, match=match):
        Rig().uart.configure(**args)  # type: ignore[arg-type]


def test_configure_writes_the_baud_register_as_linux() -> None:
    """8250_bcm2835aux: uartclk = 2·core; quot = DIV_ROUND_CLOSEST(uartclk, 16·baud)."""
    assert linux_baud_reg(250_000_000, 115_200) == 271
    rig = Rig(far=LineSettings(mini_uart_baud(250e6, 271)))
    line = rig.uart.configure(115_200)
    assert rig.uart.read("AUX_MU_BAUD_REG") == 271
    assert line.baud == pytest.approx(250e6 / (8 * 272))
    rig.uart.write(b"linux")
    assert bytes(c.value for c in rig.heard()) == b"linux"
    rig.far_tx.send(b"back")
    assert rig.uart.read(4, 10_000_000) == b"back"


def test_aux_is_the_same_block_as_uart1() -> None:
    world = World()
    soc = Soc(world, Circuit(world), BCM2835)
    assert soc.blocks["aux"] is soc.blocks["uart1"]


def test_the_driver_gets_each_character_at_its_stop_bit() -> None:
    """8250_bcm2835aux through the 8250 core: the mini UART's RX interrupt is pending while the
    FIFO holds a byte (BCM2835 ARM Peripherals §2.2.2 AUX_MU_IIR_REG "receiver holds valid
    byte") and serial8250_rx_chars reads while LSR.DR, so each character reaches the tty as
    it completes; no receive-timeout wait as on the PL011 (buses/uart_rx_delivery.py)."""
    rig = Rig()
    rig.uart.configure(115_200)
    bit = 1e9 / rig.uart.baud_rate()
    t0 = rig.world.now_ns
    rig.far_tx.send(b"xy")
    assert rig.uart.read(1, 1_000_000_000) == b"x"
    assert rig.world.now_ns - t0 < 10 * bit  # the stop bit is sampled mid-bit
    rig.world.run_for(int(10 * bit))
    assert rig.uart.in_waiting() == 1
