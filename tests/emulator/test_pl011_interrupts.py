"""PL011 interrupts as events (issue 12 item 2), replayed the way Linux's amba-pl011 drives them.

The driver below is a register-level port of drivers/tty/serial/amba-pl011.c (torvalds/linux,
``pl011_hwinit``, ``pl011_startup``, ``pl011_enable_interrupts``, ``pl011_set_termios``,
``pl011_start_tx_pio``, ``pl011_tx_chars``, ``pl011_tx_char``, ``pl011_stop_tx``,
``pl011_fifo_to_tty``/``pl011_rx_chars`` and the ``pl011_int`` loop), with the constants of
include/linux/amba/serial.h. Its interrupt line is MIS != 0 ("UARTINTR", the OR of the masked
interrupts); the "CPU" runs the handler whenever it is high, checking once per bit period.

What the chip does (PL011 TRM DDI 0183, section "Interrupts", and soc-facts §4.2):
- UARTRXINTR: set when the RX FIFO *reaches* its IFLS level; cleared by reading it below the
  level or by UARTICR. pl011_enable_interrupts: "RXIS is asserted only when the RX FIFO
  transitions from below to above the trigger threshold. If the RX FIFO is already full to the
  threshold this can't happen and RXIS will now be stuck off."
- UARTTXINTR: "based on a transition through a level, rather than on the level itself"; not
  set when the UART and the interrupt are enabled before anything was written. Linux commit
  734745caeb9f ("serial/amba-pl011: Activate TX IRQ passively") replaced the dummy character
  that "provoked" it by filling the FIFO in pl011_start_tx_pio.
- UARTRTINTR: the RX FIFO is not empty and nothing arrived for 32 bit periods; cleared by
  UARTICR.RTIC or by the FIFO becoming empty.
"""

from __future__ import annotations

from collections.abc import Callable

from pihil_emulator.buses.uart_line import LineSettings
from pihil_emulator.soc.pl011 import Pl011Block
from pihil_emulator.soc.variants import BCM2711

from .uart_rig import SocUartRig

# include/linux/amba/serial.h
UART01X_FR_TXFF = 0x020
UART01X_FR_RXFE = 0x010
UART011_RXIS, UART011_TXIS, UART011_RTIS = 1 << 4, 1 << 5, 1 << 6
UART011_FEIS, UART011_PEIS, UART011_BEIS, UART011_OEIS = 1 << 7, 1 << 8, 1 << 9, 1 << 10
UART011_RXIM, UART011_TXIM, UART011_RTIM = UART011_RXIS, UART011_TXIS, UART011_RTIS
UART011_DSRMIS, UART011_DCDMIS, UART011_CTSMIS, UART011_RIMIS = 1 << 3, 1 << 2, 1 << 1, 1 << 0
UART01X_CR_UARTEN, UART011_CR_TXE, UART011_CR_RXE = 0x0001, 0x0100, 0x0200
UART011_CR_DTR, UART011_CR_RTS = 0x0400, 0x0800
UART01X_LCRH_WLEN_8, UART01X_LCRH_FEN = 0x60, 0x10
UART011_IFLS_RX4_8, UART011_IFLS_TX4_8 = 2 << 3, 2 << 0
AMBA_ISR_PASS_LIMIT = 256
FIFOSIZE = 32  # get_fifosize_arm: amba_rev >= 3 (the BCM283x PL011 is r1p5)
UARTCLK = 48_000_000


class Pl011Driver:
    """amba-pl011.c's register sequences (PIO, no DMA, no RS485) against one PL011 block."""

    def __init__(self, uart: Pl011Block) -> None:
        self.uart = uart
        self.im = 0
        self.xmit = bytearray()  # the tty layer's circular buffer (uart_state.xmit)
        self.rx = bytearray()  # what reached the tty flip buffer
        self.handled: list[int] = []  # each pass of pl011_int: the status it handled

    def read(self, reg: str) -> int:
        return self.uart.read(reg)

    def write(self, value: int, reg: str) -> None:  # pl011_write(val, uap, reg)
        self.uart.write(reg, value)

    def hwinit(self) -> None:
        """pl011_hwinit: clear pending error and receive interrupts, keep IMSC, enable RX."""
        self.write(
            UART011_OEIS | UART011_BEIS | UART011_PEIS | UART011_FEIS | UART011_RTIS | UART011_RXIS,
            "ICR",
        )
        self.im = self.read("IMSC")
        self.write(UART011_RTIM | UART011_RXIM, "IMSC")

    def startup(self) -> None:
        """pl011_startup (pl011_allocate_irq writes IMSC; vendor_arm.ifls RX4_8 | TX4_8)."""
        self.hwinit()
        self.write(self.im, "IMSC")  # pl011_allocate_irq
        self.write(UART011_IFLS_RX4_8 | UART011_IFLS_TX4_8, "IFLS")
        cr = self.read("CR") & (UART011_CR_RTS | UART011_CR_DTR)
        cr |= UART01X_CR_UARTEN | UART011_CR_RXE | UART011_CR_TXE
        self.write(cr, "CR")
        self.read("FR")  # uap->old_status
        self.enable_interrupts()

    def enable_interrupts(self, *, drain: bool = True) -> None:
        """pl011_enable_interrupts; ``drain=False`` leaves out the drain loop (what its
        comment says happens without it)."""
        self.write(UART011_RTIS | UART011_RXIS, "ICR")  # "spuriously appearing RX interrupts"
        if drain:
            for _ in range(FIFOSIZE * 2):
                if self.read("FR") & UART01X_FR_RXFE:
                    break
                self.read("DR")
        self.im = UART011_RTIM | UART011_RXIM
        self.write(self.im, "IMSC")

    def set_termios(self, baud: int) -> None:
        """pl011_set_termios for 8N1 without flow control: FBRD, IBRD, LCRH (last), CR."""
        quot = (UARTCLK * 4 * 2 + baud) // (2 * baud)  # DIV_ROUND_CLOSEST(uartclk * 4, baud)
        old_cr = self.read("CR")
        self.write(quot & 0x3F, "FBRD")
        self.write(quot >> 6, "IBRD")
        self.write(UART01X_LCRH_WLEN_8 | UART01X_LCRH_FEN, "LCRH")
        self.write(old_cr, "CR")

    # -- transmit -------------------------------------------------------------------------
    def tx_char(self, c: int, from_irq: bool) -> bool:
        """pl011_tx_char: outside the IRQ, only when FR.TXFF is clear."""
        if not from_irq and self.read("FR") & UART01X_FR_TXFF:
            return False
        self.write(c, "DR")
        return True

    def stop_tx(self) -> None:
        self.im &= ~UART011_TXIM
        self.write(self.im, "IMSC")

    def tx_chars(self, from_irq: bool) -> bool:
        """pl011_tx_chars: up to fifosize/2 from the IRQ, as many as fit otherwise."""
        count = FIFOSIZE >> 1
        if not self.xmit:
            self.stop_tx()
            return False
        while True:
            if from_irq:
                if count == 0:
                    break
                count -= 1
            if not self.tx_char(self.xmit[0], from_irq):
                break
            del self.xmit[0]
            if not self.xmit:
                break
        if not self.xmit:
            self.stop_tx()
            return False
        return True

    def start_tx(self, data: bytes) -> None:
        """uart_write then pl011_start_tx → pl011_start_tx_pio."""
        self.xmit += data
        if self.tx_chars(False):
            self.im |= UART011_TXIM
            self.write(self.im, "IMSC")

    # -- receive and the handler ------------------------------------------------------------
    def fifo_to_tty(self) -> int:
        """pl011_fifo_to_tty: up to 256 characters, while FR.RXFE is clear."""
        taken = 0
        while taken != 256:
            if self.read("FR") & UART01X_FR_RXFE:
                break
            self.rx.append(self.read("DR") & 0xFF)
            taken += 1
        return taken

    def interrupt(self) -> bool:
        """pl011_int: ICR all but TX/RT/RX, then RX, modem status, TX, until RIS & im is 0."""
        status = self.read("RIS") & self.im
        if not status:
            return False
        passes = AMBA_ISR_PASS_LIMIT
        while status:
            self.handled.append(status)
            self.write(status & ~(UART011_TXIS | UART011_RTIS | UART011_RXIS), "ICR")
            if status & (UART011_RTIS | UART011_RXIS):
                self.fifo_to_tty()  # pl011_rx_chars
            if status & (UART011_DSRMIS | UART011_DCDMIS | UART011_CTSMIS | UART011_RIMIS):
                self.read("FR")  # pl011_modem_status
            if status & UART011_TXIS:
                self.tx_chars(True)
            if passes == 0:
                raise AssertionError("pl011_int hit AMBA_ISR_PASS_LIMIT: an interrupt stuck on")
            passes -= 1
            status = self.read("RIS") & self.im
        return True


class Rig(SocUartRig[Pl011Block]):
    """UART0 on GPIO14/15 with a far end at 115200 8N1, and the ported driver."""

    def __init__(self) -> None:
        super().__init__("uart0", Pl011Block, "ALT0", variant=BCM2711, far=LineSettings(115_200))
        self.drv = Pl011Driver(self.uart)

    def open(self) -> None:
        """uart_port_startup: ops->startup, then the line settings (set_termios)."""
        self.drv.startup()
        self.drv.set_termios(115_200)

    @property
    def bit_ns(self) -> float:
        baud = self.uart.baud_rate()
        assert baud is not None
        return 1e9 / baud

    def cpu(self, ns: float, until: Callable[[], bool] | None = None) -> None:
        """Run ``ns`` of simulated time; the handler runs whenever UARTINTR is high."""
        step = int(self.bit_ns)
        end = self.world.now_ns + int(ns)
        while self.world.now_ns < end:
            if self.uart.read("MIS"):
                self.drv.interrupt()
            if until is not None and until():
                return
            self.run(min(step, end - self.world.now_ns))

    def ris(self) -> int:
        return self.uart.read("RIS")


# -- transmit -------------------------------------------------------------------------------
def test_txris_is_not_set_after_startup_before_anything_is_written() -> None:
    """TRM UARTTXINTR: "When the interrupt and the UART is enabled before any data is written to
    the transmit FIFO the interrupt is not set" (pl011_startup, then TXIM unmasked)."""
    rig = Rig()
    rig.open()
    rig.run(int(100 * rig.bit_ns))
    assert not rig.ris() & UART011_TXIS
    rig.uart.write("IMSC", UART011_TXIM)
    assert rig.uart.read("MIS") == 0  # no TX interrupt would ever come: Linux must prime it


def test_start_tx_pio_primes_the_tx_interrupt_and_pl011_int_sends_the_rest() -> None:
    """pl011_start_tx_pio fills the FIFO itself (pl011_tx_chars from_irq=false, polling TXFF)
    and unmasks TXIM; the FIFO draining down through 1/2 (IFLS TX4_8) sets TXRIS; each
    pl011_int pass writes fifosize/2 = 16 and stops TX (masks TXIM) once xmit is empty."""
    rig = Rig()
    rig.open()
    data = bytes((i * 37 + 11) & 0xFF for i in range(100))
    rig.drv.start_tx(data)
    written_by_start = len(data) - len(rig.drv.xmit)
    # the first character goes straight to the shifter; then 32 fill the FIFO up to TXFF
    assert written_by_start == FIFOSIZE + 1
    assert rig.drv.im & UART011_TXIM
    assert not rig.ris() & UART011_TXIS  # the FIFO is full: above the level
    rig.cpu(12 * 10 * rig.bit_ns)  # 12 characters leave: 21 queued, still above 16
    assert rig.drv.handled == []
    rig.cpu(200 * 10 * rig.bit_ns, until=lambda: not rig.drv.xmit and not rig.uart.tx.busy())
    rig.run(int(20 * rig.bit_ns))
    assert bytes(c.value for c in rig.heard()) == data
    tx_passes = [s for s in rig.drv.handled if s & UART011_TXIS]
    rest = len(data) - written_by_start
    assert len(tx_passes) == -(-rest // 16)  # one TX interrupt per 16 characters written
    assert not rig.drv.im & UART011_TXIM  # pl011_stop_tx once the buffer ran empty
    assert rig.uart.read("MIS") == 0


def test_txris_set_when_the_fifo_drains_through_its_level_and_cleared_by_icr_or_writes() -> None:
    """TRM UARTTXINTR: set at "equal to or lower than the programmed trigger level", on the
    transition; cleared by UARTICR.TXIC or by writing until above the level."""
    rig = Rig()
    rig.open()
    for b in range(20):  # 1 in the shifter, 19 queued (> 16)
        rig.uart.write("DR", b)
    assert not rig.ris() & UART011_TXIS
    rig.run(int(3.5 * 10 * rig.bit_ns))  # 3 more started: 16 queued, at the level
    assert rig.ris() & UART011_TXIS
    rig.uart.write("ICR", UART011_TXIS)
    assert not rig.ris() & UART011_TXIS  # cleared although the FIFO stays at/below the level
    rig.run(int(10 * 10 * rig.bit_ns))
    assert not rig.ris() & UART011_TXIS  # no new transition: stays clear
    for b in range(12):  # 6 queued + 12 = 18: above the level again
        rig.uart.write("DR", b)
    rig.run(int(2.5 * 10 * rig.bit_ns))
    assert rig.ris() & UART011_TXIS  # down through 16 again
    for b in range(8):  # writing above the level clears it
        rig.uart.write("DR", b)
    assert not rig.ris() & UART011_TXIS


def test_txris_with_fifos_disabled_once_the_character_leaves_the_holding_register() -> None:
    """TRM UARTTXINTR, FIFOs disabled: set when "there is no data present in the transmitters
    single location"; "only set, after written data leaves the single location"."""
    rig = Rig()
    u = rig.uart
    u.write("CR", 0)
    u.write("IBRD", 26)
    u.write("FBRD", 3)
    u.write("LCRH", UART01X_LCRH_WLEN_8)  # FEN clear
    u.write("CR", UART01X_CR_UARTEN | UART011_CR_TXE | UART011_CR_RXE)
    assert not rig.ris() & UART011_TXIS
    u.write("DR", 0x41)
    assert rig.ris() & UART011_TXIS  # straight into the shifter: the location is empty
    u.write("ICR", UART011_TXIS)
    assert not rig.ris() & UART011_TXIS
    u.write("DR", 0x42)  # held while 'A' is on the line
    assert not rig.ris() & UART011_TXIS
    rig.run(int(10.5 * rig.bit_ns))
    assert rig.ris() & UART011_TXIS
    rig.run(int(20 * rig.bit_ns))
    assert [c.value for c in rig.heard()] == [0x41, 0x42]


# -- receive --------------------------------------------------------------------------------
def test_rxris_set_when_the_fifo_reaches_its_level_and_icr_clears_it_while_above() -> None:
    """TRM UARTRXINTR / pl011_enable_interrupts: RXIS is set on the transition to the level
    (1/2 = 16) and UARTICR.RXIC clears it with the FIFO still above; more characters do not set
    it again; reading below the level and refilling does."""
    rig = Rig()
    rig.open()
    rig.far_tx.send(bytes(range(15)))
    rig.run(int(15.5 * 10 * rig.bit_ns))
    assert rig.uart.rx_level() == 15
    assert not rig.ris() & UART011_RXIS
    rig.far_tx.send(b"\x10")
    rig.run(int(10.5 * rig.bit_ns))
    assert rig.ris() & UART011_RXIS
    rig.uart.write("ICR", UART011_RXIS)
    assert not rig.ris() & UART011_RXIS  # cleared with 16 in the FIFO
    rig.far_tx.send(bytes(4))
    rig.run(int(4.5 * 10 * rig.bit_ns))
    assert rig.uart.rx_level() == 20
    assert not rig.ris() & UART011_RXIS  # above the level, no new transition
    for _ in range(5):  # 15 left: below the level
        rig.uart.read("DR")
    rig.far_tx.send(b"\x20")
    rig.run(int(10.5 * rig.bit_ns))
    assert rig.ris() & UART011_RXIS  # 15 → 16 again


def test_reading_below_the_level_clears_rxris() -> None:
    """TRM UARTRXINTR: "cleared by reading data from the receive FIFO until it becomes less than
    the trigger level"."""
    rig = Rig()
    rig.open()
    rig.far_tx.send(bytes(17))
    rig.run(int(17.5 * 10 * rig.bit_ns))
    assert rig.ris() & UART011_RXIS
    rig.uart.read("DR")
    assert rig.ris() & UART011_RXIS  # 16 left: still at the level
    rig.uart.read("DR")
    assert not rig.ris() & UART011_RXIS


def test_enable_interrupts_drain_loop_is_what_unsticks_rxis() -> None:
    """pl011_enable_interrupts: with the RX FIFO already at its level, the ICR write leaves RXIS
    "stuck off"; its drain loop empties the FIFO so the next 16 characters raise it."""
    for drain in (False, True):
        rig = Rig()
        rig.drv.set_termios(115_200)  # a boot loader left the UART on, receiving
        rig.uart.write("CR", UART01X_CR_UARTEN | UART011_CR_RXE | UART011_CR_TXE)
        rig.far_tx.send(bytes(range(20)))
        rig.run(int(20.5 * 10 * rig.bit_ns))
        rig.drv.hwinit()
        rig.drv.enable_interrupts(drain=drain)
        rig.far_tx.send(bytes(range(16)))
        rig.run(int(16.5 * 10 * rig.bit_ns))
        assert bool(rig.ris() & UART011_RXIS) is drain, drain
        assert rig.uart.rx_level() == (16 if drain else FIFOSIZE)


def test_receive_timeout_is_cleared_by_icr_and_set_again_only_after_new_data() -> None:
    """TRM UARTRTINTR: set when the FIFO is not empty and no more data came for 32 bit periods;
    cleared by UARTICR.RTIC (the characters stay) or by the FIFO becoming empty."""
    rig = Rig()
    rig.open()
    bit = rig.bit_ns
    rig.far_tx.send(b"ab")
    rig.run(int(20 * bit + 31 * bit))
    assert not rig.ris() & UART011_RTIS  # 31 bit periods after 'b'
    rig.run(int(1.5 * bit))
    assert rig.ris() & UART011_RTIS
    rig.uart.write("ICR", UART011_RTIS)
    assert not rig.ris() & UART011_RTIS
    rig.run(int(200 * bit))
    assert not rig.ris() & UART011_RTIS  # no new data: not set again
    assert rig.uart.rx_level() == 2
    rig.far_tx.send(b"c")
    rig.run(int(10 * bit + 33 * bit))
    assert rig.ris() & UART011_RTIS  # 'c' restarted the count
    rig.uart.read("DR")
    assert rig.ris() & UART011_RTIS  # two left
    rig.uart.read("DR")
    rig.uart.read("DR")
    assert not rig.ris() & UART011_RTIS  # the FIFO emptied


def test_receive_timeout_that_ran_out_between_register_accesses_is_not_lost() -> None:
    """RTRIS is an event at its own time: a timeout that ran out before a later character arrived
    is still latched when the driver looks after both."""
    rig = Rig()
    rig.open()
    bit = rig.bit_ns
    rig.far_tx.send(b"a")
    rig.run(int(10 * bit + 40 * bit))  # the timeout ran out; nobody looked
    rig.far_tx.send(b"b")
    rig.run(int(12 * bit))
    assert rig.ris() & UART011_RTIS


def test_pl011_int_receives_a_burst_through_rx_then_timeout_interrupts() -> None:
    """pl011_int with RXIM|RTIM (pl011_enable_interrupts): 40 characters arrive; the FIFO
    reaching 16 raises RXIS twice (each pass drains the FIFO, which clears it), the last 8 come
    with the receive timeout; the handler's loop always ends (RIS & im reads 0)."""
    rig = Rig()
    rig.open()
    data = bytes((i * 53 + 7) & 0xFF for i in range(40))
    rig.far_tx.send(data)
    rig.cpu(40 * 10 * rig.bit_ns + 64 * rig.bit_ns)
    assert bytes(rig.drv.rx) == data
    kinds = [s & (UART011_RXIS | UART011_RTIS) for s in rig.drv.handled]
    assert kinds == [UART011_RXIS, UART011_RXIS, UART011_RTIS]
    assert rig.ris() & (UART011_RXIS | UART011_RTIS) == 0


def test_mis_is_ris_and_imsc() -> None:
    """TRM UARTMIS: the masked interrupt status is RIS ANDed with IMSC."""
    rig = Rig()
    rig.open()
    rig.far_tx.send(bytes(16))
    rig.run(int(16 * 10 * rig.bit_ns + 40 * rig.bit_ns))
    ris = rig.ris()
    assert ris & UART011_RXIS
    assert ris & UART011_RTIS
    for im in (0, UART011_RXIM, UART011_RTIM, UART011_RXIM | UART011_TXIM, 0x7FF):
        rig.uart.write("IMSC", im)
        assert rig.uart.read("MIS") == ris & im
