"""The ARM PL011 UART (UART0; UART2-5 on the BCM2711) at register level (soc-facts §4.2).

Register map as data (`pl011_map`); behaviour on top of the UART waveform engine
(`pihil_emulator.buses.uart_rx` / `uart_tx`): the transmitter publishes its
characters as waveform bursts on the pins GPFSEL routes to TXDn, the receiver
samples whatever is on the pins routed to RXDn at its own baud rate and
format, so FE/PE/BE/OE appear per character exactly as a mismatched far end
would cause them.

Modelled: DR with FE/PE/BE/OE per character (12-bit RX FIFO entries),
RSRECR, FR, IBRD/FBRD fractional divider (baud = UARTCLK / (16 · (IBRD +
FBRD/64))), LCRH (5-8 bits, parity none/even/odd/stick, 1 or 2 stop bits,
FIFO enable, break), CR (UARTEN, TXE, RXE, LBE loopback, RTS, RTSEN,
CTSEN), 32-deep FIFOs (1-deep with FEN clear), overrun when the RX FIFO is
full, RTS/CTS flow control, IFLS trigger levels, IMSC/RIS/MIS/ICR.

Interrupts are events, not levels (PL011 TRM DDI 0183 "Interrupts"; amba-pl011.c):
RXRIS is set when a character takes the RX FIFO up to its IFLS level ("RXIS is asserted
only when the RX FIFO transitions from below to above the trigger threshold",
pl011_enable_interrupts), cleared by ICR.RXIC even while above it, or by reads below it.
TXRIS is set when the TX FIFO drains down through its level (FEN clear: when the character
leaves the holding register), cleared by ICR.TXIC or writes above the level, and not set
after enable before a write ("based on a transition through a level, rather than on the
level itself"; Linux primes it in pl011_start_tx_pio since commit 734745caeb9f). RTRIS:
32 bit periods after the last character with the FIFO not empty; cleared by ICR.RTIC or
the FIFO emptying; set again only after new data [I]. Error and CTS interrupts latch.
LCRH, IBRD and FBRD form one register updated by the LCRH write (Linux
writes LCRH last: "REG_LCRH ... MUST BE WRITTEN AFTER REG_FBRD & REG_IBRD"),
and a new setting applies once the character in progress is complete.

Driver entry points (docs/emulator-api.md) behave as Linux's amba-pl011:
``configure`` programs IBRD/FBRD/LCRH/CR the way ``pl011_set_termios`` does
and opens the port (the interrupt handler then drains the FIFO into the tty
buffer); ``write``, ``read``, ``send_break`` (LCRH.BRK), ``close``
(``pl011_shutdown``), ``error_counts``: the tty side is `uart_port.UartPort`'s,
shared with the mini UART.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..buses.uart_line import EPS_NS, LineSettings, parity_name
from ..buses.uart_rx import OE, Chunk
from ..buses.uart_rx_delivery import RT_BITS, RxDelivery
from ..errors import ConfigurationError
from ..world.net import Net
from .pl011_map import _ERROR_INT
from .pl011_map import FIFO_DEPTH as FIFO_DEPTH
from .pl011_map import INT_BE as INT_BE
from .pl011_map import INT_CTSM as INT_CTSM
from .pl011_map import INT_FE as INT_FE
from .pl011_map import INT_OE as INT_OE
from .pl011_map import INT_PE as INT_PE
from .pl011_map import INT_RT as INT_RT
from .pl011_map import INT_RX as INT_RX
from .pl011_map import INT_TX as INT_TX
from .pl011_map import PL011_MAP as PL011_MAP
from .pl011_map import RO as RO
from .pl011_map import TRIGGER_EIGHTHS as TRIGGER_EIGHTHS
from .pl011_map import WO as WO
from .pl011_map import pl011_divisors as pl011_divisors
from .registers import RegisterMap
from .uart_port import UartPins, UartPort

if TYPE_CHECKING:
    from .soc import Soc


class Pl011Block(UartPort):
    """One PL011 (``uart0``; ``uart2``..``uart5`` on BCM2711)."""

    MAP: ClassVar[RegisterMap] = PL011_MAP

    def __init__(self, soc: Soc, name: str) -> None:
        if not name.startswith("uart") or not name[4:].isdigit():
            raise ConfigurationError(f"a PL011 block is named uart<n>; got {name!r}")
        n = name[4:]
        self.uartclk_hz = soc.variant.pl011_clock_hz
        self._lbe_level = True  # the internal TX→RX path in loopback mode
        self._line: LineSettings | None = None
        self._overrun_pending = False
        self._latched_int = 0
        self._tx_armed = False  # the TX FIFO was above its level since TXRIS was last set
        self._rt_armed = False  # a character arrived since RTRIS was last set
        self._rt_since_ns = 0.0  # when the last character arrived (the timeout counts from it)
        self._cts = False
        super().__init__(
            soc,
            name,
            UartPins(soc, f"{name} (PL011)", f"TXD{n}", f"RXD{n}", f"CTS{n}", f"RTS{n}"),
            LineSettings(9600),
            kind="pl011",
            rx_inputs=self._rx_inputs,
            drive_tx=self._drive_tx,
            unrouted_level=self._rx_unrouted_level,
        )

    def __repr__(self) -> str:
        line = self._line.describe() if self._line else "no baud"
        return f"Pl011Block({self.name}, {line})"

    # -- reset ------------------------------------------------------------------------------
    def _reset_state(self) -> None:
        self._overrun_pending = False
        self._latched_int = 0
        self._tx_armed = self._rt_armed = False
        self.tx.set_break(False)
        self._line = None
        self._apply_control()

    # -- derived configuration --------------------------------------------------------------
    @property
    def fifo_depth(self) -> int:
        """32 with LCRH.FEN set, else 1 (a one-character holding register)."""
        return FIFO_DEPTH if self.get_field("LCRH", "FEN") else 1

    @property
    def line_settings(self) -> LineSettings | None:
        """Baud rate and format in force (latched by the last LCRH write); None if IBRD is 0."""
        return self._line

    def baud_rate(self) -> float | None:
        return self._line.baud if self._line else None

    def _latch_line(self) -> None:
        """LCRH write: IBRD, FBRD and LCRH take effect together (after the current character)."""
        ibrd = self.get_field("IBRD", "IBRD")
        fbrd = self.get_field("FBRD", "FBRD")
        lcrh = self.peek("LCRH")
        if ibrd == 0 or (ibrd == 0xFFFF and fbrd != 0):
            self._line = None  # PL011: IBRD 0 (or > 65535) is not a valid divisor
        else:
            divisor = ibrd + fbrd / 64
            baud = self.uartclk_hz / (16 * divisor)
            pen = bool(lcrh >> 1 & 1)
            eps = bool(lcrh >> 2 & 1)
            sps = bool(lcrh >> 7 & 1)
            if not pen:
                parity = "none"
            elif sps:
                parity = "space" if eps else "mark"  # stick parity: EPS=1 sends 0, EPS=0 sends 1
            else:
                parity = "even" if eps else "odd"
            self._line = LineSettings(
                baud,
                5 + (lcrh >> 5 & 3),
                parity_name(parity),
                2 if lcrh >> 3 & 1 else 1,
            )
            self.tx.set_settings(self._line)
            self.rx.set_settings(self._line)
        self._apply_control()

    def _apply_control(self) -> None:
        """CR/LCRH → transmitter holds, receiver enable, loopback, break, RTS."""
        cr = self.peek("CR")
        uarten = bool(cr & 1)
        lbe = bool(cr >> 7 & 1)
        tx_on = uarten and bool(cr >> 8 & 1) and self._line is not None
        rx_on = uarten and bool(cr >> 9 & 1) and self._line is not None
        # loopback: TX feeds RX internally; the RX pin is ignored
        self.tx.loopback = [self.rx] if lbe else None
        self.rx.resync()
        if tx_on:
            self.tx.release("disabled")
        else:
            self.tx.hold("disabled")
        self._update_cts()
        self.rx.set_enabled(rx_on)
        self.tx.set_break(bool(self.peek("LCRH") & 1))
        self._update_rts()

    def _rx_inputs(self) -> list[Net]:
        return [] if self.peek_or("CR", 0) >> 7 & 1 else self.pins.rx_nets()

    def _rx_unrouted_level(self) -> bool:
        # in loopback the internal TX line; otherwise an RX input no pin drives idles high [I]
        return self._lbe_level if self.peek_or("CR", 0) >> 7 & 1 else True

    def peek_or(self, name: str, default: int) -> int:
        """A register's stored value, or ``default`` while the block is still being built."""
        return self._values.get(name, default) if hasattr(self, "_values") else default

    def _drive_tx(self, level: bool) -> None:
        if self.peek_or("CR", 0) >> 7 & 1:
            self._lbe_level = level
            self.rx.resync()
        else:
            self._lbe_level = True
            self.pins.drive_tx(level)

    # -- flow control -----------------------------------------------------------------------
    def _update_cts(self) -> None:
        cts = self.pins.cts_low()  # nCTS is active low
        if cts != self._cts:
            self._cts = cts
            self._latched_int |= INT_CTSM
        if self.peek_or("CR", 0) >> 15 & 1 and not cts:
            self.tx.hold("cts")  # CTSEN: "data is only transmitted when nUARTCTS is asserted"
        else:
            self.tx.release("cts")

    def _rts_rule(self) -> tuple[bool, int | None]:
        cr = self.peek_or("CR", 0)
        if cr >> 14 & 1:  # RTSEN: nRTS de-asserted while the RX FIFO holds its trigger level
            level = self._rx_trigger()
            return len(self._rx_fifo) < level, level
        return bool(cr >> 11 & 1), None  # CR.RTS: set drives nRTS low

    def _rts_auto_flow(self) -> bool:
        return bool(self.peek_or("CR", 0) >> 14 & 1)

    def rts_asserted(self) -> bool:
        return bool(self._rts_out)

    # -- FIFO levels ------------------------------------------------------------------------
    def _rx_trigger(self) -> int:
        if not self.get_field("LCRH", "FEN"):
            return 1
        sel = self.get_field("IFLS", "RXIFLSEL")
        return FIFO_DEPTH * TRIGGER_EIGHTHS.get(sel, 4) // 8

    def _tx_trigger(self) -> int:
        if not self.get_field("LCRH", "FEN"):
            return 0  # "no data present in the transmitter's single location"
        sel = self.get_field("IFLS", "TXIFLSEL")
        return FIFO_DEPTH * TRIGGER_EIGHTHS.get(sel, 4) // 8

    # -- receive path -----------------------------------------------------------------------
    def _fill_rx_fifo(self, chunks: list[Chunk]) -> None:
        """Each character with its FE/PE/BE flags; OE goes with the first one after a loss.

        Character by character, at its own arrival time: a receive timeout that ran out
        before it, then the character, then RXRIS if it took the FIFO to the trigger level.
        """
        depth = self.fifo_depth
        trigger = self._rx_trigger()
        fifo = self._rx_fifo
        for chunk in chunks:
            flags = chunk.flags
            for i, value in enumerate(chunk.data):
                at = chunk.time_of(i)
                self._check_timeout(at)
                self._rt_since_ns, self._rt_armed = at, True
                f = flags[i] if flags is not None else 0
                if len(fifo) >= depth:
                    # "OE: data is received and the receive FIFO is already full"
                    self._overrun_pending = True
                    self._latched_int |= INT_OE
                    self.set_field("RSRECR", "OE", 1)
                    continue
                if self._overrun_pending:
                    f |= OE
                    self._overrun_pending = False
                fifo.append(value | f << 8)
                if len(fifo) == trigger:  # "the receive FIFO reaches the trigger level"
                    self._latched_int |= INT_RX
                for bit, irq in _ERROR_INT.items():
                    if f & bit:
                        self._latched_int |= irq

    def _read_DR(self) -> int:  # noqa: N802 - datasheet name
        if not self._rx_fifo:
            return 0
        entry = self._rx_fifo.popleft()
        if len(self._rx_fifo) < self._rx_trigger():
            self._latched_int &= ~INT_RX  # "reading data ... until it becomes less than"
        if not self._rx_fifo:
            self._latched_int &= ~INT_RT  # "when the FIFO becomes empty"
            self._rt_armed = False
        # RSR mirrors the error bits of the character just read (OE stays until cleared)
        rsr = self.peek("RSRECR") & 0x8 | (entry >> 8) & 0x7
        self.poke("RSRECR", rsr)
        self._update_rts()
        return entry

    def _write_DR(self, value: int) -> None:  # noqa: N802 - datasheet name
        self._push_tx(value)
        # FEN clear: the character fills the holding register (TXRIS once it leaves it)
        if not self.get_field("LCRH", "FEN") or self.tx.queued() > self._tx_trigger():
            self._latched_int &= ~INT_TX  # "writing data ... until it becomes greater"
            self._tx_armed = True

    def _write_RSRECR(self, _value: int) -> None:  # noqa: N802 - datasheet name
        self.poke("RSRECR", 0)  # "a write to UARTECR clears the framing, parity, break, overrun"

    def _read_FR(self) -> int:  # noqa: N802 - datasheet name
        queued = self.tx.queued()
        depth = self.fifo_depth
        fr = 0
        fr |= int(self._cts) << 0
        fr |= int(self.tx.busy()) << 3
        fr |= int(not self._rx_fifo) << 4
        fr |= int(queued >= depth) << 5
        fr |= int(len(self._rx_fifo) >= depth) << 6
        fr |= int(queued == 0) << 7
        return fr

    # -- control registers --------------------------------------------------------------------
    def _write_IBRD(self, value: int) -> None:  # noqa: N802 - datasheet name
        self.poke("IBRD", value & 0xFFFF)  # takes effect at the next LCRH write

    def _write_FBRD(self, value: int) -> None:  # noqa: N802 - datasheet name
        self.poke("FBRD", value & 0x3F)

    def _write_LCRH(self, value: int) -> None:  # noqa: N802 - datasheet name
        old_fen = self.get_field("LCRH", "FEN")
        self.poke("LCRH", value & 0xFF)
        if old_fen and not value >> 4 & 1:
            while len(self._rx_fifo) > 1:  # back to a 1-character holding register
                self._rx_fifo.pop()
        self._latch_line()

    def _write_CR(self, value: int) -> None:  # noqa: N802 - datasheet name
        self.poke("CR", value & 0xFFFF)
        self._apply_control()

    def _write_IFLS(self, value: int) -> None:  # noqa: N802 - datasheet name
        self.poke("IFLS", value & 0xFFF)
        self._update_rts()

    def _rx_delivery(self) -> RxDelivery:
        """amba-pl011 ``pl011_int``: the FIFO drained at RXIS (its IFLS level) or RTIS."""
        return RxDelivery(self._rx_trigger, self._rx_timeout_ns)

    def _rx_timeout_ns(self) -> float | None:
        return None if self._line is None else RT_BITS * self._line.bit_ns

    # -- interrupts ---------------------------------------------------------------------------
    def _sync(self) -> None:
        """Received characters in (with their RX/RT events), then the events time made."""
        super()._sync()
        self._check_timeout(self.world.now_ns)
        if self._tx_armed and self.tx.queued() <= self._tx_trigger():
            self._latched_int |= INT_TX  # the TX FIFO passed down through its level
            self._tx_armed = False

    def _check_timeout(self, now_ns: float) -> None:
        """RTRIS once 32 bit periods passed since the last character, the FIFO not empty."""
        if not (self._rt_armed and self._rx_fifo and self._line is not None):
            return
        if now_ns - self._rt_since_ns >= RT_BITS * self._line.bit_ns - EPS_NS:
            self._latched_int |= INT_RT
            self._rt_armed = False

    def _raw_interrupts(self) -> int:
        return self._latched_int

    def _read_RIS(self) -> int:  # noqa: N802 - datasheet name
        return self._raw_interrupts()

    def _read_MIS(self) -> int:  # noqa: N802 - datasheet name
        return self._raw_interrupts() & self.peek("IMSC")

    def _write_ICR(self, value: int) -> None:  # noqa: N802 - datasheet name
        self._latched_int &= ~value

    # ----------------------------------------------------------------------------------------
    # Driver entry points (docs/emulator-api.md), as Linux's amba-pl011 does them
    # ----------------------------------------------------------------------------------------
    def configure(
        self,
        baud: float,
        data_bits: int = 8,
        parity: str = "none",
        stop_bits: int = 1,
        *,
        flow_control: bool = False,
    ) -> LineSettings:
        """Open the port with these settings (termios + ``pl011_set_termios``); returns what
        the divisors really give. Refuses what the PL011 cannot do."""
        if not isinstance(data_bits, int) or data_bits not in (5, 6, 7, 8):
            raise ConfigurationError(
                f"{self.name} (PL011) supports 5, 6, 7 or 8 data bits; got {data_bits!r}"
            )
        if stop_bits not in (1, 2):
            raise ConfigurationError(
                f"{self.name} (PL011) supports 1 or 2 stop bits (no 1.5); got {stop_bits!r}"
            )
        par = parity_name(parity)
        max_baud = self.uartclk_hz / 16
        if not isinstance(baud, int | float) or not 0 < baud <= max_baud:
            raise ConfigurationError(
                f"{self.name} (PL011): baud rate must be 1..{max_baud:g} "
                f"(UARTCLK {self.uartclk_hz} Hz / 16); got {baud!r}"
            )
        ibrd, fbrd = pl011_divisors(self.uartclk_hz, baud)
        if not 1 <= ibrd <= 0xFFFF:
            lowest = self.uartclk_hz / (16 * (0xFFFF + 63 / 64))
            raise ConfigurationError(
                f"{self.name} (PL011): {baud} baud needs IBRD {ibrd}, outside 1..65535; "
                f"the lowest rate at {self.uartclk_hz} Hz is {lowest:.1f} baud"
            )
        lcrh = (data_bits - 5) << 5 | 1 << 4  # WLEN, FEN
        if stop_bits == 2:
            lcrh |= 1 << 3
        if par != "none":
            lcrh |= 1 << 1
            if par in ("even", "space"):
                lcrh |= 1 << 2
            if par in ("mark", "space"):
                lcrh |= 1 << 7
        old_cr = self.read("CR")
        self.write("CR", 0)  # "first, disable everything"
        self.write("FBRD", fbrd)
        self.write("IBRD", ibrd)
        self.write("LCRH", lcrh)
        cr = 1 | 1 << 8 | 1 << 9 | 1 << 10 | 1 << 11  # UARTEN, TXE, RXE, DTR, RTS
        if flow_control:
            cr |= 1 << 14 | 1 << 15
        cr |= old_cr & (1 << 7)  # keep loopback if a test set it
        self._open_tty()
        self.write("CR", cr)
        assert self._line is not None
        return self._line

    def _shut_down(self) -> None:
        """``pl011_shutdown``: disable the UART, its transmitter and receiver."""
        self.write("CR", self.read("CR") & ~(1 | 1 << 8 | 1 << 9))

    def _set_break(self, on: bool) -> None:
        lcrh = self.read("LCRH")
        self.write("LCRH", lcrh | 1 if on else lcrh & ~1)  # LCRH.BRK
