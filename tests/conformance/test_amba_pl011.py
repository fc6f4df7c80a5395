"""amba-pl011 register sequences against the PL011 model (UART0).

Source: drivers/tty/serial/amba-pl011.c (``pl011_set_termios`` read in the library's stored copies
of two kernel trees, which agree; the rest as ported from torvalds/linux in
tests/emulator/test_pl011_interrupts.py), constants from include/linux/amba/serial.h:
- ``pl011_startup`` → ``pl011_hwinit`` (ICR of the error and RX interrupts, IMSC saved, RTIM|RXIM),
  ``pl011_allocate_irq`` (IMSC), IFLS ``RX4_8 | TX4_8``, CR ``UARTEN | RXE | TXE`` keeping RTS/DTR,
  ``pl011_enable_interrupts`` (ICR RTIS|RXIS, the drain loop, IMSC RTIM|RXIM): the port in
  tests/emulator/test_pl011_interrupts.py (``Pl011Driver``), reused here.
- ``pl011_set_termios``: ``quot = DIV_ROUND_CLOSEST(port->uartclk * 4, baud)`` (``baud >
  uartclk / 16`` cannot happen for the ARM vendor: ``uart_get_baud_rate`` caps it there), the
  LCRH word from CSIZE/CSTOPB/PARENB/PARODD/CMSPAR with FEN when ``fifosize > 1``, then "first,
  disable everything" (``CR = 0``), ``FBRD = quot & 0x3f``, ``IBRD = quot >> 6``, LCRH last
  (``pl011_write_lcr_h``: "REG_LCRH ... MUST BE WRITTEN AFTER REG_FBRD & REG_IBRD"), CR back.
  Ported below in full (the reused port's ``set_termios`` is 8N1 only and leaves out CR = 0).
- TX by ``pl011_start_tx_pio``/``pl011_tx_chars``; RX by ``pl011_int`` → ``pl011_rx_chars``.

The PL011's clock is the variant's ``pl011_clock_hz`` (48 MHz, ``init_uart_clock``, soc-facts
§4.2). Every sequence that moves the line is recorded to VCD and decoded by sigrok-cli's uart
decoder (tests/emulator/test_uart_vcd.py ``sigrok_bytes``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pihil_emulator.buses.uart_line import LineSettings
from pihil_emulator.buses.uart_vcd import UartVcdTap
from pihil_emulator.soc.pl011 import Pl011Block
from pihil_emulator.soc.variants import BCM2711
from pihil_emulator.vcd import VcdRecorder

from ..emulator.test_pl011_interrupts import (
    UART01X_CR_UARTEN,
    UART01X_LCRH_FEN,
    UART011_CR_RXE,
    UART011_CR_TXE,
    UART011_RTIM,
    UART011_RTIS,
    UART011_RXIM,
    UART011_RXIS,
    UART011_TXIM,
    UART011_TXIS,
    Pl011Driver,
)
from ..emulator.test_uart_vcd import needs_sigrok, sigrok_bytes
from ..emulator.uart_rig import SocUartRig

# include/linux/amba/serial.h
UART01X_LCRH_SPS, UART01X_LCRH_STP2, UART01X_LCRH_EPS = 0x80, 0x08, 0x04
UART01X_LCRH_PEN = 0x02
WLEN = {5: 0x00, 6: 0x20, 7: 0x40, 8: 0x60}
UART011_IFLS_RX4_8, UART011_IFLS_TX4_8 = 2 << 3, 2 << 0


class TermiosDriver(Pl011Driver):
    """Pl011Driver with the whole of pl011_set_termios (format bits, CR = 0 first)."""

    uartclk = BCM2711.pl011_clock_hz

    def set_termios(self, baud: int, fmt: str = "8N1") -> None:
        quot = (self.uartclk * 4 * 2 + baud) // (2 * baud)  # DIV_ROUND_CLOSEST
        lcr_h = WLEN[int(fmt[0])]
        if fmt[2] == "2":
            lcr_h |= UART01X_LCRH_STP2
        if fmt[1] != "N":
            lcr_h |= UART01X_LCRH_PEN
            if fmt[1] in "ES":  # !(c_cflag & PARODD)
                lcr_h |= UART01X_LCRH_EPS
            if fmt[1] in "MS":  # CMSPAR
                lcr_h |= UART01X_LCRH_SPS
        lcr_h |= UART01X_LCRH_FEN  # fifosize 32 > 1
        old_cr = self.read("CR")
        self.write(0, "CR")
        self.write(quot & 0x3F, "FBRD")
        self.write(quot >> 6, "IBRD")
        self.write(lcr_h, "LCRH")
        self.write(old_cr, "CR")


class Rig(SocUartRig[Pl011Block]):
    def __init__(self, baud: int = 115_200, fmt: str = "8N1") -> None:
        parity = {"N": "none", "E": "even", "O": "odd", "M": "mark", "S": "space"}[fmt[1]]
        far = LineSettings(baud, int(fmt[0]), parity, int(fmt[2]))  # type: ignore[arg-type]
        super().__init__("uart0", Pl011Block, "ALT0", variant=BCM2711, far=far)
        self.drv = TermiosDriver(self.uart)

    def open(self, baud: int = 115_200, fmt: str = "8N1") -> None:
        self.drv.startup()
        self.drv.set_termios(baud, fmt)

    def cpu(self, ns: float) -> None:
        """The handler runs whenever UARTINTR (MIS != 0) is high, looked at every bit period."""
        baud = self.uart.baud_rate()
        assert baud is not None
        step = max(1, int(1e9 / baud))
        end = self.world.now_ns + int(ns)
        while self.world.now_ns < end:
            if self.uart.read("MIS"):
                self.drv.interrupt()
            self.run(min(step, end - self.world.now_ns))


def test_startup_register_state() -> None:
    """After pl011_startup: CR UARTEN|TXE|RXE, IFLS RX4_8|TX4_8, IMSC RTIM|RXIM, no interrupt
    raised (TXIS not set before the first write, TRM UARTTXINTR)."""
    rig = Rig()
    rig.drv.startup()
    u = rig.uart
    assert u.read("CR") & (UART01X_CR_UARTEN | UART011_CR_TXE | UART011_CR_RXE) == (
        UART01X_CR_UARTEN | UART011_CR_TXE | UART011_CR_RXE
    )
    assert u.read("IFLS") == UART011_IFLS_RX4_8 | UART011_IFLS_TX4_8
    assert u.read("IMSC") == UART011_RTIM | UART011_RXIM
    assert u.read("MIS") == 0
    assert not u.read("RIS") & UART011_TXIS


@pytest.mark.parametrize(
    ("baud", "ibrd", "fbrd"),
    [
        (9_600, 312, 32),  # quot 20000
        (115_200, 26, 3),  # soc-facts §4.2 worked example
        (921_600, 3, 16),
        (3_000_000, 1, 0),  # UARTCLK / 16: the fastest
    ],
)
def test_set_termios_divisors_and_the_baud_rate_they_give(baud: int, ibrd: int, fbrd: int) -> None:
    rig = Rig()
    rig.open(baud)
    u = rig.uart
    assert (u.read("IBRD"), u.read("FBRD")) == (ibrd, fbrd)
    got = u.baud_rate()
    assert got is not None
    assert got == pytest.approx(48_000_000 / (16 * (ibrd + fbrd / 64)))
    assert abs(got - baud) / baud < 0.01  # 64ths keep the error under 1 % here
    assert u.read("CR") & UART01X_CR_UARTEN  # CR restored after the CR = 0 of set_termios


@pytest.mark.parametrize(
    ("fmt", "lcrh"),
    [
        ("8N1", 0x70),
        ("7E2", 0x40 | 0x10 | 0x08 | 0x04 | 0x02),
        ("5O1", 0x00 | 0x10 | 0x02),
        ("8S1", 0x60 | 0x10 | 0x80 | 0x04 | 0x02),
    ],
)
def test_set_termios_lcrh_word_and_line_settings(fmt: str, lcrh: int) -> None:
    rig = Rig(fmt=fmt)
    rig.open(fmt=fmt)
    assert rig.uart.read("LCRH") == lcrh
    line = rig.uart.line_settings
    assert line is not None
    parity = {"N": "none", "E": "even", "O": "odd", "S": "space"}[fmt[1]]
    assert (line.data_bits, line.parity, line.stop_bits) == (int(fmt[0]), parity, int(fmt[2]))


@needs_sigrok
@pytest.mark.parametrize(("baud", "fmt"), [(115_200, "8N1"), (38_400, "7E2")])
def test_tx_by_start_tx_pio_and_rx_by_pl011_int_decode(tmp_path: Path, baud: int, fmt: str) -> None:
    """100 characters out through pl011_start_tx_pio and the TX interrupt, 70 in through the RX
    and receive-timeout interrupts: the far end heard every byte, the tty got every byte, and
    sigrok decodes both directions to exactly those bytes."""
    rig = Rig(baud, fmt)
    mask = (1 << int(fmt[0])) - 1
    out = bytes((i * 37 + 11) & mask for i in range(100))
    inc = bytes((i * 53 + 7) & mask for i in range(70))
    path = tmp_path / "pl011.vcd"
    rec = VcdRecorder(rig.world, path, [rig.tx_pin, rig.rx_pin])
    with rec, UartVcdTap(rec, rig.circuit):
        rig.run(50_000)
        rig.open(baud, fmt)
        rig.drv.start_tx(out)
        rig.far_tx.send(inc)
        rig.cpu(110 * 12 * 1e9 / baud)
        rig.run(50_000)
    assert bytes(c.value for c in rig.heard()) == out
    assert bytes(rig.drv.rx) == inc
    handled = rig.drv.handled
    assert any(s & UART011_TXIS for s in handled)
    assert any(s & UART011_RXIS for s in handled)
    assert any(s & UART011_RTIS for s in handled)
    assert not rig.drv.im & UART011_TXIM  # pl011_stop_tx once xmit ran empty
    assert rig.uart.read("MIS") == 0
    assert sigrok_bytes(path, "GPIO14", baud, fmt) == out
    assert sigrok_bytes(path, "GPIO15", baud, fmt) == inc
