"""The PL011 (UART0, and UART2-5 on BCM2711) at register level, against soc-facts §4.2 and §8.9.

The far end is a raw receiver/transmitter on the pins (or a jumper from TX to
RX), so every check goes through the waveform the PL011 puts on its pin.
"""

from __future__ import annotations

import pytest

from pihil_emulator.buses.uart_line import LineSettings
from pihil_emulator.buses.uart_rx import BE, FE, PE
from pihil_emulator.errors import BusError, ConfigurationError
from pihil_emulator.soc.pl011 import Pl011Block, pl011_divisors
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.variants import BCM2711, BCM2835, SocVariant
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive

from .uart_rig import SocUartRig

S115 = LineSettings(115_200)


class Rig(SocUartRig[Pl011Block]):
    """A SoC with UART0 on GPIO14/15 (ALT0) and a far end on the pins."""

    def __init__(self, variant: SocVariant = BCM2711, *, far: LineSettings = S115) -> None:
        super().__init__("uart0", Pl011Block, "ALT0", variant=variant, far=far)

    def enable(self, ibrd: int = 26, fbrd: int = 3, lcrh: int = 0x70, cr: int = 0x301) -> None:
        """Bare-metal set-up: divisors, LCRH (which latches them), then CR."""
        u = self.uart
        u.write("CR", 0)
        u.write("IBRD", ibrd)
        u.write("FBRD", fbrd)
        u.write("LCRH", lcrh)
        u.write("CR", cr)


# -- reset values and divisors ---------------------------------------------------------------
def test_reset_values() -> None:
    """soc-facts §4.2: CR resets with RXE and TXE set; FR shows both FIFOs empty; IFLS 1/2."""
    u = Rig().uart
    assert u.read("CR") == 0x300
    assert u.read("FR") == 0x90
    assert u.read("IFLS") == 0x12
    for reg in ("IBRD", "FBRD", "LCRH", "IMSC", "RSRECR", "DMACR"):
        assert u.read(reg) == 0, reg


def test_register_offsets_are_the_datasheets() -> None:
    """soc-facts §4.2: DR 0x00, RSRECR 0x04, FR 0x18, ILPR 0x20, IBRD 0x24 ... DMACR 0x48."""
    expected = {
        "DR": 0x00, "RSRECR": 0x04, "FR": 0x18, "ILPR": 0x20, "IBRD": 0x24, "FBRD": 0x28,
        "LCRH": 0x2C, "CR": 0x30, "IFLS": 0x34, "IMSC": 0x38, "RIS": 0x3C, "MIS": 0x40,
        "ICR": 0x44, "DMACR": 0x48,
    }  # fmt: skip
    assert {r.name: r.offset for r in Pl011Block.MAP} == expected


def test_divisors_for_115200_at_48mhz_are_26_and_3() -> None:
    """soc-facts §4.2: 48 MHz, 115200 → BAUDDIV 26.0417: IBRD 26, FBRD 3."""
    assert pl011_divisors(48_000_000, 115_200) == (26, 3)
    rig = Rig()
    actual = rig.uart.configure(115_200)
    assert (rig.uart.read("IBRD"), rig.uart.read("FBRD")) == (26, 3)
    assert actual.baud == pytest.approx(48e6 / (16 * (26 + 3 / 64)))


def test_bit_time_on_the_wire_follows_the_divisor() -> None:
    """soc-facts §4.2: baud = UARTCLK / (16 · (IBRD + FBRD/64)); a 8N1 character is 10 bits."""
    rig = Rig(far=LineSettings(9600))
    rig.uart.configure(9600)
    start = rig.world.now_ns
    rig.uart.write(b"\x55")
    ibrd, fbrd = rig.uart.read("IBRD"), rig.uart.read("FBRD")
    bit = 16 * (ibrd + fbrd / 64) / 48e6 * 1e9
    assert rig.world.now_ns - start == pytest.approx(10 * bit, abs=1.5)
    assert [c.value for c in rig.heard()] == [0x55]


def test_divisor_writes_wait_for_an_lcrh_write() -> None:
    """soc-facts §4.2 and Linux: IBRD/FBRD take effect with the LCRH write that follows them."""
    rig = Rig(far=LineSettings(9600))
    rig.enable()  # 115200
    rig.uart.write("IBRD", 312)
    rig.uart.write("FBRD", 32)  # 9600 baud, not latched yet
    rig.uart.write("DR", 0x41)
    rig.run(2_000_000)
    assert [c.value for c in rig.heard()] != [0x41]  # sent at 115200: garbage at 9600
    rig.uart.write("LCRH", 0x70)
    rig.uart.write("DR", 0x41)
    rig.run(3_000_000)
    assert [(c.value, c.flags) for c in rig.heard()] == [(0x41, 0)]


def test_uartclk_comes_from_the_variant() -> None:
    """soc-facts §4.2: init_uart_clock defaults to 48 MHz; a profile can change it."""
    world = World()
    soc = Soc(world, Circuit(world), BCM2711.with_overrides(pl011_clock_hz=3_000_000))
    u = soc.blocks["uart0"]
    assert isinstance(u, Pl011Block)
    with pytest.raises(ConfigurationError, match="187500"):
        u.configure(200_000)  # above 3 MHz / 16
    assert u.configure(115_200).baud == pytest.approx(3e6 / (16 * (1 + 40 / 64)))


# -- formats ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bits", "parity", "stop", "lcrh"),
    [
        (8, "none", 1, 0x70),
        (7, "even", 1, 0x56),
        (5, "odd", 2, 0x1A),
        (8, "mark", 1, 0xF2),
        (8, "space", 2, 0xFE),
    ],
)
def test_configure_programs_lcrh_like_linux(bits: int, parity: str, stop: int, lcrh: int) -> None:
    """soc-facts §4.2 LCRH: SPS 7, WLEN 6:5, FEN 4, STP2 3, EPS 2, PEN 1 (Linux sets FEN)."""
    rig = Rig()
    rig.uart.configure(19_200, bits, parity, stop)
    assert rig.uart.read("LCRH") == lcrh


@pytest.mark.parametrize(
    ("bits", "parity", "stop"),
    [(5, "none", 1), (6, "even", 2), (7, "odd", 1), (8, "mark", 2), (8, "space", 1)],
)
def test_every_format_reaches_a_matching_far_end(bits: int, parity: str, stop: int) -> None:
    """soc-facts §4.2: 5-8 data bits; even, odd, stick or no parity; 1 or 2 stop bits."""
    far = LineSettings(19_200, bits, parity, stop)  # type: ignore[arg-type]
    rig = Rig(far=far)
    rig.uart.configure(19_200, bits, parity, stop)
    data = bytes([0x00, 0x15, 0x1F & 0xFF, 0xAA, 0xFF])
    rig.uart.write(data)
    rig.run(1_000_000)
    mask = (1 << bits) - 1
    assert [(c.value, c.flags) for c in rig.heard()] == [(b & mask, 0) for b in data]
    rig.far_tx.send(data)
    assert rig.uart.read(len(data), 20_000_000) == bytes(b & mask for b in data)
    assert rig.uart.error_counts() == {
        "framing": 0,
        "parity": 0,
        "overrun": 0,
        "break": 0,
        "buf_overrun": 0,
    }


def test_stick_parity_sends_a_constant_bit() -> None:
    """PL011 stick parity: SPS with EPS sends parity 0, SPS without EPS sends 1."""
    rig = Rig(far=LineSettings(19_200, 8, "none", 2))
    rig.uart.configure(19_200, 8, "space", 1)  # parity bit 0 where the far end expects stop
    rig.uart.write(b"\x00\xff")
    rig.run(1_000_000)
    assert all(c.flags & FE for c in rig.heard())
    rig.uart.configure(19_200, 8, "mark", 1)  # parity bit 1 = a valid first stop bit
    rig.uart.write(b"\x00\xff")
    rig.run(1_000_000)
    assert [(c.value, c.flags) for c in rig.heard()] == [(0x00, 0), (0xFF, 0)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"data_bits": 9}, "5, 6, 7 or 8 data bits"),
        ({"data_bits": 4}, "5, 6, 7 or 8 data bits"),
        ({"stop_bits": 3}, "1 or 2 stop bits"),
        ({"parity": "sometimes"}, "parity must be one of"),
        ({"baud": 3_000_001}, "1..3e\\+06"),
        ({"baud": 40}, "lowest rate"),
        ({"baud": -1}, "baud rate must be"),
    ],
)
def test_configure_refuses_what_the_pl011_cannot_do(kwargs: dict[str, object], match: str) -> None:
    """Issue 4: bad input gets a clear error (an unsupported word size, a baud above UARTCLK/16)."""
    args: dict[str, object] = {"baud": 115_200, **kwargs}
    with pytest.raises(ConfigurationError, match=match):
        Rig().uart.configure(**args)  # type: ignore[arg-type]


# -- receive errors per character -------------------------------------------------------------
def test_parity_error_shows_in_dr_bit_9() -> None:
    """soc-facts §4.2/§8.9: PE per character in DR[9] (and RSRECR after the read)."""
    rig = Rig(far=LineSettings(115_200, 8, "odd"))
    rig.enable(lcrh=0x76)  # 8E1 with FIFOs
    rig.far_tx.send(b"\x03\x04")
    rig.run(1_000_000)
    dr = [rig.uart.read("DR"), rig.uart.read("DR")]
    assert dr == [0x200 | 0x03, 0x200 | 0x04]
    assert rig.uart.read("RSRECR") == 0b0010
    assert rig.uart.read("RIS") >> 8 & 1  # PERIS
    rig.uart.write("RSRECR", 0)
    assert rig.uart.read("RSRECR") == 0


def test_framing_error_when_the_far_end_is_slower() -> None:
    """soc-facts §4.2: FE when the received character has no valid stop bit."""
    rig = Rig(far=LineSettings(38_400))
    rig.enable()
    rig.far_tx.send(b"\xf3")  # each far bit spans three of ours: we read 0xFC, stop = its bit 2
    rig.run(1_000_000)
    assert rig.uart.read("DR") == 0x100 | 0xFC  # FE


def test_break_loads_exactly_one_zero_with_be() -> None:
    """soc-facts §8.9: a break gives exactly one 0x00 with BE; §4.2: the next character needs
    the line to go high and a new start bit."""
    rig = Rig()
    rig.enable()
    rig.far_tx.set_break(True)
    rig.run(10_000_000)  # more than a hundred frame times
    rig.far_tx.set_break(False)
    rig.far_tx.send(b"K")
    rig.run(1_000_000)
    first = rig.uart.read("DR")
    assert first & 0xFF == 0
    assert first & 0x400
    assert rig.uart.read("RSRECR") & 0b0100
    assert rig.uart.read("DR") == ord("K")
    assert rig.uart.read("FR") & 0x10  # RXFE: nothing else


def test_overrun_when_the_rx_fifo_is_full() -> None:
    """soc-facts §4.2: OE "if data is received and the receive FIFO is already full";
    32-deep RX FIFO; the next character stored after a read carries OE."""
    rig = Rig()
    rig.enable()
    rig.far_tx.send(bytes(range(40)))
    rig.run(5_000_000)
    fr = rig.uart.read("FR")
    assert fr & 0x40  # RXFF
    assert rig.uart.read("RSRECR") & 0b1000  # OE
    assert rig.uart.read("RIS") >> 10 & 1  # OERIS
    first = rig.uart.read("DR")  # frees one place
    assert first == 0
    rig.far_tx.send(b"\x99")
    rig.run(200_000)
    entries = [rig.uart.read("DR") for _ in range(32)]
    assert [e & 0xFF for e in entries[:31]] == list(range(1, 32))
    assert entries[31] == 0x800 | 0x99  # OE on the character after the overflow
    assert rig.uart.read("FR") & 0x10


def test_fifo_disabled_is_one_deep() -> None:
    """soc-facts §4.2: with FEN clear the FIFOs are one character deep."""
    rig = Rig()
    rig.enable(lcrh=0x60)  # 8N1, FEN = 0
    rig.far_tx.send(b"ab")
    rig.run(1_000_000)
    assert rig.uart.read("FR") & 0x40  # RXFF with one character
    assert rig.uart.read("DR") == ord("a")
    assert rig.uart.read("RSRECR") & 0b1000  # 'b' was lost: overrun


# -- transmit side -----------------------------------------------------------------------------
def test_tx_fifo_is_32_deep_and_busy_until_the_last_stop_bit() -> None:
    """soc-facts §4.2: 32x8 TX FIFO; FR BUSY, TXFF, TXFE."""
    rig = Rig()
    rig.enable()
    for i in range(40):
        rig.uart.write("DR", 0x30 + i)
    fr = rig.uart.read("FR")
    assert fr & 0x20  # TXFF
    assert fr & 0x08  # BUSY
    rig.run(10_000_000)
    heard = bytes(c.value for c in rig.heard())
    assert heard == bytes(0x30 + i for i in range(33))  # one in the shift register + 32
    fr = rig.uart.read("FR")
    assert fr & 0x80
    assert not fr & 0x08


def test_disabled_uart_does_not_transmit_until_enabled() -> None:
    """soc-facts §4.2 CR: UARTEN gates the UART; TXE the transmitter."""
    rig = Rig()
    rig.enable(cr=0x300)  # UARTEN clear
    rig.uart.write("DR", 0x61)
    rig.run(1_000_000)
    assert rig.heard() == []
    rig.uart.write("CR", 0x301)
    rig.run(1_000_000)
    assert [c.value for c in rig.heard()] == [0x61]


def test_lbe_loops_tx_to_rx_inside_the_uart() -> None:
    """PL011 CR.LBE: the transmit path is fed to the receive path; the pin stays idle."""
    rig = Rig()
    rig.enable(cr=0x381)
    for b in b"loop":
        rig.uart.write("DR", b)
    rig.run(1_000_000)
    assert bytes(rig.uart.read("DR") & 0xFF for _ in range(4)) == b"loop"
    assert rig.heard() == []


def test_cts_flow_control_holds_the_transmitter() -> None:
    """soc-facts §4.2 CR.CTSEN: data is sent only while nCTS (GPIO16 ALT3) is asserted (low)."""
    rig = Rig()
    rig.gpio.set_function(16, "ALT3")  # CTS0
    cts = rig.gpio.net(16)
    cts.drive("peer", Drive.push_pull(True))  # deasserted
    rig.enable(cr=0x8301)  # CTSEN
    for b in b"flow":
        rig.uart.write("DR", b)
    rig.run(2_000_000)
    assert rig.heard() == []
    assert not rig.uart.read("FR") & 1  # FR.CTS = 0
    cts.drive("peer", Drive.push_pull(False))
    rig.run(2_000_000)
    assert bytes(c.value for c in rig.heard()) == b"flow"
    assert rig.uart.read("FR") & 1
    assert rig.uart.read("RIS") >> 1 & 1  # CTSMRIS: the modem status changed


def test_rts_deasserts_when_the_rx_fifo_reaches_its_level() -> None:
    """soc-facts §4.2 CR.RTSEN: nRTS (GPIO17 ALT3) goes high once the RX FIFO holds its
    trigger level (IFLS 1/2 = 16), and low again when it is read below."""
    rig = Rig()
    rig.gpio.set_function(17, "ALT3")  # RTS0
    rig.enable(cr=0x4B01)  # RTSEN | RTS | TXE | RXE... (0x4000 | 0x800 | 0x300 | 1)
    rts = rig.gpio.net(17)
    assert rts.level is False  # asserted
    rig.far_tx.send(bytes(16))
    frame = 10 * 1e9 / rig.uart.baud_rate()  # type: ignore[operator]
    rig.run(int(15 * frame))
    assert rts.level is False  # 15 characters in
    rig.run(int(frame))
    assert rts.level is True  # the 16th: de-asserted when it arrives, with no register access
    rig.uart.read("DR")
    assert rts.level is False


def test_receive_timeout_after_32_idle_bits() -> None:
    """PL011 RTRIS: the RX FIFO is not empty and nothing arrived for 32 bit periods."""
    rig = Rig()
    rig.enable()
    rig.far_tx.send(b"x")
    bit = 1e9 / rig.uart.baud_rate()  # type: ignore[operator]
    rig.run(int(10 * bit + 20 * bit))
    assert not rig.uart.read("RIS") >> 6 & 1
    rig.run(int(20 * bit))
    assert rig.uart.read("RIS") >> 6 & 1
    rig.uart.write("IMSC", 1 << 6)
    assert rig.uart.read("MIS") == 1 << 6


def test_settings_change_applies_after_the_character_in_progress() -> None:
    """soc-facts §4.2: IBRD/FBRD "are not updated until transmission or reception of the
    current character is complete"."""
    rig = Rig()
    rig.enable()
    for b in b"ab":
        rig.uart.write("DR", b)
    rig.run(30_000)  # 'a' in progress
    rig.uart.write("IBRD", 52)
    rig.uart.write("FBRD", 5)
    rig.uart.write("LCRH", 0x70)  # 57600 from the next character
    rig.run(2_000_000)
    heard = rig.heard()
    assert (heard[0].value, heard[0].flags) == (ord("a"), 0)
    assert (heard[1].value, heard[1].flags) != (ord("b"), 0)


# -- routing -----------------------------------------------------------------------------------
def test_tx_reaches_only_pins_routed_to_txd0() -> None:
    """soc-facts §4.2/§3.9: GPIO14/15 ALT0 are TXD0/RXD0; on ALT5 they belong to the mini UART."""
    rig = Rig()
    rig.gpio.set_pull(14, "up")  # so the pin idles high when the PL011 does not drive it
    rig.uart.configure(115_200)
    rig.gpio.set_function(14, "ALT5")
    rig.uart.write(b"gone")
    assert rig.heard() == []
    rig.gpio.set_function(14, "ALT0")
    rig.uart.write(b"here")
    assert bytes(c.value for c in rig.heard()) == b"here"


def test_bcm2711_uart2_is_on_gpio0_1_alt4() -> None:
    """soc-facts §4.2: BCM2711 UART2-5 are on GPIO 0/1, 4/5, 8/9, 12/13 ALT4."""
    world = World()
    c = Circuit(world)
    soc = Soc(world, c, BCM2711)
    assert {"uart0", "uart2", "uart3", "uart4", "uart5"} <= set(soc.blocks)
    soc.gpio.set_function(0, "ALT4")
    soc.gpio.set_function(1, "ALT4")
    c.connect(soc.gpio.net(0), soc.gpio.net(1))
    u2 = soc.blocks["uart2"]
    assert isinstance(u2, Pl011Block)
    u2.configure(38_400)
    u2.write(b"uart2")
    assert u2.read(5, 10_000_000) == b"uart2"


def test_bcm2835_has_only_uart0() -> None:
    """soc-facts §3.9: the 2835 has no UART2-5."""
    world = World()
    soc = Soc(world, Circuit(world), BCM2835)
    assert [n for n in soc.blocks if n.startswith("uart") and n != "uart1"] == ["uart0"]


# -- the driver side ---------------------------------------------------------------------------
def test_driver_read_returns_when_the_receive_timeout_delivers() -> None:
    """read(n, timeout) returns once the driver has the n-th byte: ten bytes stay below the
    RX trigger (IFLS RX4_8: 16), so amba-pl011's pl011_int gets them all at the receive
    timeout, 32 bit periods after the last stop bit (PL011 TRM UARTRTINTR)."""
    rig = Rig()
    rig.uart.configure(115_200)
    rig.far_tx.send(b"0123456789")
    t0 = rig.world.now_ns
    assert rig.uart.read(4, 1_000_000_000) == b"0123"
    bit = 1e9 / 115_200
    assert rig.world.now_ns - t0 == pytest.approx(
        10 * 10 * bit - 0.5 * bit + 32 * bit, abs=0.1 * bit
    )
    t1 = rig.world.now_ns
    assert rig.uart.read(100, 1_000_000) == b"456789"
    assert rig.world.now_ns - t1 == 1_000_000  # fewer than asked: the whole timeout


def test_a_burst_reaches_the_driver_at_each_trigger_level_then_at_the_timeout() -> None:
    """amba-pl011 pl011_int → pl011_fifo_to_tty drains the FIFO at RXIS (the 16th character,
    IFLS RX4_8 of 32) and at RTIS (32 bit periods after the last one): 40 characters reach
    the tty as 16 at the 16th stop bit, 16 at the 32nd, 8 at the 40th + 32 bit periods."""
    rig = Rig()
    rig.uart.configure(115_200)
    tty = rig.uart.tty
    assert tty is not None
    bit = 1e9 / 115_200
    t0 = rig.world.now_ns
    rig.far_tx.send(bytes(range(40)))

    def stop_bit(k: int) -> float:  # the k-th character's stop bit is sampled
        return t0 + k * 10 * bit - 0.5 * bit

    seen = []
    for at in (stop_bit(16) - bit, stop_bit(16) + bit, stop_bit(32) + bit, stop_bit(40) + bit):
        rig.world.run_for(int(at) - rig.world.now_ns)
        seen.append(rig.uart.in_waiting())
    assert seen == [0, 16, 32, 32]
    rig.world.run_for(int(stop_bit(40) + 31 * bit) - rig.world.now_ns)
    assert rig.uart.in_waiting() == 32
    rig.world.run_for(int(2 * bit))
    assert rig.uart.in_waiting() == 40
    assert tty.delivery is not None
    assert tty.delivery.interrupts == 3
    assert rig.uart.read(40, 0) == bytes(range(40))


def test_without_fifos_every_character_interrupts() -> None:
    """LCRH.FEN clear: the FIFO is a one-character holding register, and the receive
    interrupt comes as each character fills it (PL011 TRM UARTRXINTR, FIFOs disabled), so
    pl011_int hands each one over at its stop bit."""
    rig = Rig()
    rig.uart.configure(115_200)
    rig.uart.write("LCRH", rig.uart.read("LCRH") & ~(1 << 4))
    bit = 1e9 / 115_200
    t0 = rig.world.now_ns
    rig.far_tx.send(b"ab")
    rig.world.run_for(int(10 * bit))
    assert rig.uart.in_waiting() == 1
    assert rig.world.now_ns - t0 < 11 * bit
    assert rig.uart.read(2, 1_000_000) == b"ab"


def test_driver_counts_errors_as_linux_icount() -> None:
    """Linux pl011_fifo_to_tty: a break counts as a break only; PE before FE."""
    rig = Rig(far=LineSettings(115_200, 8, "odd"))
    rig.uart.configure(115_200, 8, "even", 1)
    rig.far_tx.send(b"\x01\x02")
    rig.run(300_000)
    rig.far_tx.set_break(True)
    rig.run(2_000_000)
    rig.far_tx.set_break(False)
    rig.run(100_000)
    data = rig.uart.read(10, 0)
    assert data == b"\x01\x02\x00"
    assert rig.uart.error_counts() == {
        "framing": 0,
        "parity": 2,
        "overrun": 0,
        "break": 1,
        "buf_overrun": 0,
    }


def test_driver_send_break_is_one_be_at_a_pl011_far_end() -> None:
    """tcsendbreak: LCRH.BRK holds TX low; a PL011 receiving it loads one 0x00 with BE."""
    rig = Rig()
    rig.uart.configure(115_200)
    rig.uart.write(b"ab")
    rig.uart.send_break(2_000_000)
    rig.run(100_000)
    got = [(c.value, c.flags) for c in rig.heard()]
    assert got == [(ord("a"), 0), (ord("b"), 0), (0, BE | FE)]
    assert rig.uart.read("LCRH") & 1 == 0


def test_driver_write_under_held_cts_times_out_with_etimedout() -> None:
    """A write that CTS flow control never lets out is an error, not a hang."""
    rig = Rig()
    rig.gpio.set_function(16, "ALT3")
    rig.gpio.net(16).drive("peer", Drive.push_pull(True))
    rig.uart.configure(115_200, flow_control=True)
    with pytest.raises(BusError, match="held by: cts") as info:
        rig.uart.write(b"stuck", timeout_ns=5_000_000)
    assert info.value.errno_name == "ETIMEDOUT"


def test_driver_calls_need_an_open_port() -> None:
    u = Rig().uart
    with pytest.raises(ConfigurationError, match="configure"):
        u.write(b"x")
    with pytest.raises(ConfigurationError, match="configure"):
        u.read(1, 0)
    assert u.error_counts() == {
        "framing": 0,
        "parity": 0,
        "overrun": 0,
        "break": 0,
        "buf_overrun": 0,
    }


def test_parity_mismatch_flags_reach_the_far_end_too() -> None:
    """The PL011's parity bit is on the wire: a far end expecting the other parity flags PE."""
    rig = Rig(far=LineSettings(115_200, 8, "even"))
    rig.uart.configure(115_200, 8, "odd", 1)
    rig.uart.write(b"\x10")
    assert [(c.value, c.flags) for c in rig.heard()] == [(0x10, PE)]


def test_board_jumper_tx_to_rx_is_a_loopback() -> None:
    """Issue 4: a jumper TX→RX makes a loopback (the MirkoPC test jig wires J8-08 to J8-10);
    receivers are found by electrical node, so removing the wire ends it."""
    from pihil_emulator.board import Board

    board = Board.from_profile("mirkopc")
    uart = board.soc.blocks["uart0"]
    assert isinstance(uart, Pl011Block)
    uart.configure(115_200)
    uart.write(b"through the jig")
    assert uart.read(15, 10_000_000) == b"through the jig"
    jig = [w for w in board.circuit.wires if {w.a.name, w.b.name} == {"GPIO14", "GPIO15"}]
    assert len(jig) == 1
    board.gpio.set_pull(15, "up")  # else the open RX input sits on its reset pull-down: a break
    board.circuit.disconnect(jig[0])
    uart.write(b"nobody")
    assert uart.read(6, 10_000_000) == b""
    board.connect("J8-08", "J8-10")
    uart.write(b"again")
    assert uart.read(5, 10_000_000) == b"again"
