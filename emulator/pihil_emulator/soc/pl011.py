"""The ARM PL011 UART (UART0; UART2-5 on the BCM2711) at register level (soc-facts §4.2).

Register map as data below; behaviour on top of the UART waveform engine
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
full, RTS/CTS flow control, IFLS trigger levels, IMSC/RIS/MIS/ICR with
level-style RX/TX/RT conditions and latched error/CTS interrupts.
LCRH, IBRD and FBRD form one register updated by the LCRH write (Linux
writes LCRH last: "REG_LCRH ... MUST BE WRITTEN AFTER REG_FBRD & REG_IBRD"),
and a new setting applies once the character in progress is complete.

Driver entry points (docs/emulator-api.md) behave as Linux's amba-pl011:
``configure`` programs IBRD/FBRD/LCRH/CR the way ``pl011_set_termios`` does
and opens the port (the interrupt handler then drains the FIFO into the tty
buffer); ``write``, ``read``, ``send_break``, ``error_counts``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, overload

from ..buses.uart_line import LineSettings, UartLines, parity_name
from ..buses.uart_rx import BE, FE, OE, PE, UartReceiver
from ..buses.uart_tty import UartTty
from ..buses.uart_tx import UartTransmitter
from ..errors import ConfigurationError
from ..world.net import Drive, Net
from .registers import Access, Field, Register, RegisterBlock, RegisterMap

if TYPE_CHECKING:
    from .soc import Soc

RO = Access.RO
WO = Access.WO

# fmt: off
PL011_MAP = RegisterMap([
    Register("DR", 0x00, (
        Field("DATA", 0, 8), Field("FE", 8, access=RO), Field("PE", 9, access=RO),
        Field("BE", 10, access=RO), Field("OE", 11, access=RO),
    ), doc="data: write pushes the TX FIFO, read pops the RX FIFO with its error bits"),
    Register("RSRECR", 0x04, (
        Field("FE", 0), Field("PE", 1), Field("BE", 2), Field("OE", 3),
    ), doc="receive status; any write clears it"),
    Register("FR", 0x18, (
        Field("CTS", 0, access=RO), Field("DSR", 1, access=RO), Field("DCD", 2, access=RO),
        Field("BUSY", 3, access=RO), Field("RXFE", 4, access=RO, reset=1),
        Field("TXFF", 5, access=RO), Field("RXFF", 6, access=RO),
        Field("TXFE", 7, access=RO, reset=1), Field("RI", 8, access=RO),
    ), doc="flags (computed)"),
    Register("ILPR", 0x20, (Field("ILPDVSR", 0, 8),), doc="IrDA: not in use on the BCM2711"),
    Register("IBRD", 0x24, (Field("IBRD", 0, 16),), doc="integer baud divisor"),
    Register("FBRD", 0x28, (Field("FBRD", 0, 6),), doc="fractional baud divisor (64ths)"),
    Register("LCRH", 0x2C, (
        Field("BRK", 0), Field("PEN", 1), Field("EPS", 2), Field("STP2", 3), Field("FEN", 4),
        Field("WLEN", 5, 2), Field("SPS", 7),
    ), doc="line control"),
    Register("CR", 0x30, (
        Field("UARTEN", 0), Field("SIREN", 1), Field("SIRLP", 2), Field("LBE", 7),
        Field("TXE", 8, reset=1), Field("RXE", 9, reset=1), Field("DTR", 10), Field("RTS", 11),
        Field("OUT1", 12), Field("OUT2", 13), Field("RTSEN", 14), Field("CTSEN", 15),
    ), doc="control"),
    Register("IFLS", 0x34, (
        Field("TXIFLSEL", 0, 3, reset=0b010), Field("RXIFLSEL", 3, 3, reset=0b010),
        Field("TXIFPSEL", 6, 3), Field("RXIFPSEL", 9, 3),
    ), doc="FIFO interrupt levels (reset 1/2 each)"),
    Register("IMSC", 0x38, (
        Field("RIMIM", 0), Field("CTSMIM", 1), Field("DCDMIM", 2), Field("DSRMIM", 3),
        Field("RXIM", 4), Field("TXIM", 5), Field("RTIM", 6), Field("FEIM", 7),
        Field("PEIM", 8), Field("BEIM", 9), Field("OEIM", 10),
    ), doc="interrupt mask set/clear"),
    Register("RIS", 0x3C, (
        Field("RIRMIS", 0, access=RO), Field("CTSRMIS", 1, access=RO),
        Field("DCDRMIS", 2, access=RO), Field("DSRRMIS", 3, access=RO),
        Field("RXRIS", 4, access=RO), Field("TXRIS", 5, access=RO), Field("RTRIS", 6, access=RO),
        Field("FERIS", 7, access=RO), Field("PERIS", 8, access=RO), Field("BERIS", 9, access=RO),
        Field("OERIS", 10, access=RO),
    ), doc="raw interrupt status (computed)"),
    Register("MIS", 0x40, (
        Field("RIMMIS", 0, access=RO), Field("CTSMMIS", 1, access=RO),
        Field("DCDMMIS", 2, access=RO), Field("DSRMMIS", 3, access=RO),
        Field("RXMIS", 4, access=RO), Field("TXMIS", 5, access=RO), Field("RTMIS", 6, access=RO),
        Field("FEMIS", 7, access=RO), Field("PEMIS", 8, access=RO), Field("BEMIS", 9, access=RO),
        Field("OEMIS", 10, access=RO),
    ), doc="masked interrupt status: RIS & IMSC"),
    Register("ICR", 0x44, (
        Field("RIMIC", 0, access=WO), Field("CTSMIC", 1, access=WO),
        Field("DCDMIC", 2, access=WO), Field("DSRMIC", 3, access=WO),
        Field("RXIC", 4, access=WO), Field("TXIC", 5, access=WO), Field("RTIC", 6, access=WO),
        Field("FEIC", 7, access=WO), Field("PEIC", 8, access=WO), Field("BEIC", 9, access=WO),
        Field("OEIC", 10, access=WO),
    ), doc="interrupt clear (write 1)"),
    Register("DMACR", 0x48, (
        Field("RXDMAE", 0), Field("TXDMAE", 1), Field("DMAONERR", 2),
    ), doc="DMA control (no DMA engine is modelled)"),
])
# fmt: on

FIFO_DEPTH = 32
"""soc-facts §4.2: "Separate 32x8 transmit and 32x12 receive FIFO memory"."""
TRIGGER_EIGHTHS = {0b000: 1, 0b001: 2, 0b010: 4, 0b011: 6, 0b100: 7}
"""IFLS level select → eighths of the FIFO: 1/8, 1/4, 1/2, 3/4, 7/8 (soc-facts §4.2)."""
RT_BITS = 32
"""Receive timeout: the RX FIFO is not empty and nothing arrived for 32 bit periods."""

INT_CTSM = 1 << 1
INT_RX = 1 << 4
INT_TX = 1 << 5
INT_RT = 1 << 6
INT_FE = 1 << 7
INT_PE = 1 << 8
INT_BE = 1 << 9
INT_OE = 1 << 10
_ERROR_INT = {FE: INT_FE, PE: INT_PE, BE: INT_BE, OE: INT_OE}


def pl011_divisors(uartclk_hz: int, baud: float) -> tuple[int, int]:
    """IBRD and FBRD for ``baud`` as Linux computes them: quot = round(4·UARTCLK / baud).

    ``pl011_set_termios``: ``quot = DIV_ROUND_CLOSEST(uartclk * 4, baud)``,
    FBRD = quot & 0x3f, IBRD = quot >> 6 (soc-facts §4.2: 48 MHz, 115200 →
    IBRD 26, FBRD 3).
    """
    if not baud > 0:
        raise ConfigurationError(f"baud rate must be positive; got {baud!r}")
    quot = (uartclk_hz * 4 * 2 + round(baud)) // (2 * round(baud))
    return quot >> 6, quot & 0x3F


class UartPins:
    """A UART's signals reached through the GPIO block's routing (TXDn, RXDn, CTSn, RTSn)."""

    def __init__(self, soc: Soc, owner: str, tx: str, rx: str, cts: str, rts: str) -> None:
        self.gpio = soc.gpio
        self.owner = owner
        self.tx, self.rx, self.cts, self.rts = tx, rx, cts, rts

    def tx_nets(self) -> list[Net]:
        return self.gpio.signal_nets(self.tx)

    def rx_nets(self) -> list[Net]:
        return self.gpio.signal_nets(self.rx)

    def candidates(self, signal: str) -> list[Net]:
        """Every pin that GPFSEL could route to ``signal`` (watched for level changes)."""
        return [self.gpio.net(line) for line, _alt in self.gpio.candidates(signal)]

    def drive_tx(self, level: bool) -> None:
        self.gpio.drive_signal(self.tx, self.owner, Drive.push_pull(level))

    def drive_rts(self, asserted: bool) -> None:
        """nRTS is active low."""
        self.gpio.drive_signal(self.rts, f"{self.owner} RTS", Drive.push_pull(not asserted))

    def cts_asserted(self) -> bool:
        """nCTS is active low; a CTS input no pin is routed to reads deasserted [I]."""
        nets = self.gpio.signal_nets(self.cts)
        return bool(nets) and not nets[0].level


class Pl011Block(RegisterBlock):
    """One PL011 (``uart0``; ``uart2``..``uart5`` on BCM2711)."""

    MAP: ClassVar[RegisterMap] = PL011_MAP

    def __init__(self, soc: Soc, name: str) -> None:
        if not name.startswith("uart") or not name[4:].isdigit():
            raise ConfigurationError(f"a PL011 block is named uart<n>; got {name!r}")
        n = name[4:]
        self.soc = soc
        self.world = soc.world
        self.uartclk_hz = soc.variant.pl011_clock_hz
        self.pins = UartPins(soc, f"{name} (PL011)", f"TXD{n}", f"RXD{n}", f"CTS{n}", f"RTS{n}")
        self.hub = UartLines.of(soc.circuit)
        self.hub.attachments = soc.attachments  # how UART devices find their wires
        self._lbe_level = True  # the internal TX→RX path in loopback mode
        default = LineSettings(9600)
        self._line: LineSettings | None = None
        self.tx = UartTransmitter(
            self.world,
            default,
            name=f"{name}.tx",
            hub=self.hub,
            outputs=self.pins.tx_nets,
            drive_level=self._drive_tx,
        )
        self.rx = UartReceiver(
            self.world,
            default,
            name=f"{name}.rx",
            kind="pl011",
            inputs=self._rx_inputs,
            watch=self.pins.candidates(f"RXD{n}"),
            hub=self.hub,
            enabled=False,
            unrouted_level=self._rx_unrouted_level,
        )
        self._rx_fifo: deque[int] = deque()
        self._overrun_pending = False
        self._last_rx_ns = 0.0
        self._latched_int = 0
        self._cts = False
        self._rts_out: bool | None = None
        self._tty: UartTty | None = None
        self._rts_wake: int | None = None
        self.rx.subscribe(self._on_rx_news)
        self._cts_unwatch: list[Callable[[], None]] = [
            net.watch(self._on_cts_pin) for net in self.pins.candidates(f"CTS{n}")
        ]
        super().__init__(name)
        self.pins.drive_tx(True)
        self._apply_control()

    def __repr__(self) -> str:
        line = self._line.describe() if self._line else "no baud"
        return f"Pl011Block({self.name}, {line})"

    # -- reset ------------------------------------------------------------------------------
    def reset_registers(self) -> None:
        super().reset_registers()
        if not hasattr(self, "tx"):
            return  # first call, from RegisterBlock.__init__
        self._rx_fifo.clear()
        self._overrun_pending = False
        self._latched_int = 0
        self._tty = None
        self.tx.discard_pending()
        self.tx.set_break(False)
        self._line = None
        self._apply_control()

    # -- access: registers, or the driver's read/write (docs/emulator-api.md) ---------------
    @overload
    def read(self, key: str | int) -> int: ...
    @overload
    def read(self, key: int, timeout_ns: int) -> bytes: ...
    def read(self, key: str | int, timeout_ns: int | None = None) -> int | bytes:
        """``read(register)``: a register read. ``read(n, timeout_ns)``: the driver's read of
        up to ``n`` received bytes, returning as soon as ``n`` arrived or at the timeout."""
        if timeout_ns is not None:
            if not isinstance(key, int):
                raise ConfigurationError(
                    f"{self.name}.read(n, timeout_ns) takes a count; got {key!r}"
                )
            return self._require_tty().read(key, timeout_ns)
        self._sync()
        return super().read(key)

    @overload
    def write(self, key: str | int, value: int) -> None: ...
    @overload
    def write(
        self, key: bytes | bytearray, value: None = None, *, timeout_ns: int | None = None
    ) -> None: ...
    def write(
        self,
        key: str | int | bytes | bytearray,
        value: int | None = None,
        *,
        timeout_ns: int | None = None,
    ) -> None:
        """``write(register, value)``: a register write. ``write(data)``: the driver's write,
        returning once the last stop bit has left (simulated time)."""
        if isinstance(key, bytes | bytearray | memoryview):
            if value is not None:
                raise ConfigurationError(f"{self.name}.write(data) takes the bytes only")
            self._require_tty().write(bytes(key), timeout_ns)
            return
        if value is None:
            raise ConfigurationError(
                f"{self.name}.write(register, value) needs a value (or pass bytes to send data)"
            )
        self._sync()
        super().write(key, value)

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
    def _on_cts_pin(self, _net: Net, _level: bool, _time_ns: int) -> None:
        self._update_cts()

    def _update_cts(self) -> None:
        cts = self.pins.cts_asserted()
        if cts != self._cts:
            self._cts = cts
            self._latched_int |= INT_CTSM
        if self.peek_or("CR", 0) >> 15 & 1 and not cts:
            self.tx.hold("cts")  # CTSEN: "data is only transmitted when nUARTCTS is asserted"
        else:
            self.tx.release("cts")

    def _update_rts(self) -> None:
        cr = self.peek_or("CR", 0)
        # RTSEN: deasserted while the RX FIFO holds its trigger level or more; else CR.RTS
        rtsen = bool(cr >> 14 & 1)
        asserted = len(self._rx_fifo) < self._rx_trigger() if rtsen else bool(cr >> 11 & 1)
        if asserted != self._rts_out:
            self._rts_out = asserted
            self.pins.drive_rts(asserted)
        if rtsen and asserted and self._tty is None:
            # nobody reads the FIFO between register accesses: wake when it reaches the level
            when = self.rx.time_of(self._rx_trigger() - len(self._rx_fifo) - 1)
            if when is not None:
                self._wake_for_rts(when)

    def _wake_for_rts(self, t: float) -> None:
        due = max(self.world.now_ns, math.ceil(t - 1e-6))
        if self._rts_wake is not None and self.world.now_ns <= self._rts_wake <= due:
            return
        self._rts_wake = due
        ev = self.world.timeout(due - self.world.now_ns)
        ev.callbacks.append(self._on_rts_wake)

    def _on_rts_wake(self, _event: object) -> None:
        if self._rts_wake is not None and self._rts_wake <= self.world.now_ns:
            self._rts_wake = None
        self._sync()
        self._update_rts()

    def _on_rx_news(self) -> None:
        if self.peek_or("CR", 0) >> 14 & 1 and self._tty is None:
            self._update_rts()

    def rts_asserted(self) -> bool:
        return bool(self._rts_out)

    # -- FIFO levels ------------------------------------------------------------------------
    def _rx_trigger(self) -> int:
        if not self.get_field("LCRH", "FEN"):
            return 1
        sel = self.get_field("IFLS", "RXIFLSEL")
        return FIFO_DEPTH * TRIGGER_EIGHTHS.get(sel, 4) // 8

    def _tx_trigger(self) -> int:
        sel = self.get_field("IFLS", "TXIFLSEL")
        return FIFO_DEPTH * TRIGGER_EIGHTHS.get(sel, 4) // 8

    def rx_level(self) -> int:
        self._sync()
        return len(self._rx_fifo)

    def tx_level(self) -> int:
        return min(self.tx.queued(), self.fifo_depth)

    # -- receive path -----------------------------------------------------------------------
    def _sync(self) -> None:
        """Move what the receiver completed by now into the RX FIFO (or the tty buffer)."""
        chunks = self.rx.take()
        if not chunks:
            return
        if self._tty is not None:
            self._tty.feed(chunks)
            self._last_rx_ns = chunks[-1].time_of(len(chunks[-1].data) - 1)
            return
        depth = self.fifo_depth
        fifo = self._rx_fifo
        for chunk in chunks:
            flags = chunk.flags
            for i, value in enumerate(chunk.data):
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
                for bit, irq in _ERROR_INT.items():
                    if f & bit:
                        self._latched_int |= irq
            self._last_rx_ns = chunk.time_of(len(chunk.data) - 1)
        self._update_rts()

    def _read_DR(self) -> int:  # noqa: N802 - datasheet name
        if not self._rx_fifo:
            return 0
        entry = self._rx_fifo.popleft()
        # RSR mirrors the error bits of the character just read (OE stays until cleared)
        rsr = self.peek("RSRECR") & 0x8 | (entry >> 8) & 0x7
        self.poke("RSRECR", rsr)
        self._update_rts()
        return entry

    def _write_DR(self, value: int) -> None:  # noqa: N802 - datasheet name
        if self.tx.queued() >= self.fifo_depth:
            return  # the TX FIFO is full: the write is lost, as on the silicon
        self.tx.send(bytes((value & 0xFF,)))

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

    # -- interrupts ---------------------------------------------------------------------------
    def _raw_interrupts(self) -> int:
        ris = self._latched_int
        if len(self._rx_fifo) >= self._rx_trigger():
            ris |= INT_RX
        if self.get_field("LCRH", "FEN"):
            if self.tx.queued() <= self._tx_trigger():
                ris |= INT_TX
        elif self.tx.queued() == 0:
            ris |= INT_TX
        if self._rx_fifo and self._line is not None:
            idle = self.world.now_ns - self._last_rx_ns
            if idle >= RT_BITS * self._line.bit_ns:
                ris |= INT_RT
        return ris

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
        if self._tty is None:
            self._sync()
            self._tty = UartTty(self.world, self.name, self.rx, self.tx, self._sync)
            self._tty.feed_entries(self._rx_fifo)
            self._rx_fifo.clear()
        self.write("CR", cr)
        assert self._line is not None
        return self._line

    def close(self) -> None:
        """Close the port (``pl011_shutdown``): disable the UART; the tty buffer is dropped."""
        self._sync()
        self._tty = None
        self.write("CR", self.read("CR") & ~(1 | 1 << 8 | 1 << 9))

    def _require_tty(self) -> UartTty:
        if self._tty is None:
            raise ConfigurationError(
                f"{self.name} is not open: call configure(baud, ...) first (as opening the tty)"
            )
        return self._tty

    def write_bytes(self, data: bytes) -> None:
        """Queue ``data`` without waiting (the kernel's transmit buffer)."""
        self._require_tty()
        self.tx.send(bytes(data))

    def flush(self, timeout_ns: int | None = None) -> None:
        """``tcdrain``: wait until everything written has left."""
        self._require_tty().drain(timeout_ns)

    def in_waiting(self) -> int:
        return self._require_tty().in_waiting()

    def discard_input(self) -> None:
        self._require_tty().discard_input()

    def send_break(self, duration_ns: int) -> None:
        """``tcsendbreak``: wait for the transmitter to drain, set LCRH.BRK, hold, clear."""
        tty = self._require_tty()
        if duration_ns <= 0:
            raise ConfigurationError(f"a break lasts a positive time; got {duration_ns} ns")
        tty.drain()
        self.write("LCRH", self.read("LCRH") | 1)
        self.world.run_for(int(duration_ns))
        self.write("LCRH", self.read("LCRH") & ~1)

    def error_counts(self) -> dict[str, int]:
        """Errors the interrupt handler counted since the port was first opened (icount)."""
        if self._tty is None:
            return {"framing": 0, "parity": 0, "overrun": 0, "break": 0}
        return self._tty.error_counts()
