"""The mini UART (UART1) in the AUX block, at register level (soc-facts §4.2, BCM2711-DS ch.2).

"7-bit or 8-bit operation; 1 start and 1 stop bit; No parities; ... 8 symbols
deep FIFOs"; "baudrate = system_clock_freq / (8 * (baudrate_reg + 1))" from
the VPU core clock, so changing the core clock (`MiniUartBlock.core_clock_changed`,
called by ``Soc.set_core_clock``) changes the baud rate, mid-stream included.
No break, framing or parity detection: "a UART1_RX input line which is
continuously low ... causes the receiver to continuously receive 0x00
symbols". "If the enable bits are clear you will have no access to a
peripheral. You can not even read or write the registers!": with
AUX_ENABLES bit 0 clear the mini UART registers read 0 and ignore writes.

Driver entry points behave as Linux's 8250_bcm2835aux (the 8250 core with
``uartclk = 2 · core clock``): ``configure`` refuses parity, 2 stop bits and
5/6-bit words (Linux would silently change them) and writes BAUD =
round(core / (8 · baud)), as ``DIV_ROUND_CLOSEST(uartclk, 16 · baud)`` does.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, overload

from ..buses.uart_line import LineSettings, UartLines, parity_name
from ..buses.uart_rx import UartReceiver
from ..buses.uart_tty import UartTty
from ..buses.uart_tx import UartTransmitter
from ..errors import ConfigurationError
from ..world.net import Net
from .pl011 import UartPins
from .registers import Access, Field, Register, RegisterBlock, RegisterMap

if TYPE_CHECKING:
    from .soc import Soc

RO = Access.RO

# fmt: off
AUX_MAP = RegisterMap([
    Register("AUX_IRQ", 0x00, (
        Field("MINI_UART_IRQ", 0, access=RO), Field("SPI1_IRQ", 1, access=RO),
        Field("SPI2_IRQ", 2, access=RO),
    ), doc="pending interrupts of the AUX peripherals"),
    Register("AUX_ENABLES", 0x04, (
        Field("MINI_UART_ENABLE", 0), Field("SPI1_ENABLE", 1), Field("SPI2_ENABLE", 2),
    ), doc="clear: no access to the peripheral at all"),
    Register("AUX_MU_IO_REG", 0x40, (Field("DATA", 0, 8),),
             doc="TX/RX FIFO; with DLAB: baud register bits 7:0"),
    Register("AUX_MU_IER_REG", 0x44, (Field("RX_IRQ_ENABLE", 0), Field("TX_IRQ_ENABLE", 1)),
             doc="interrupt enables [I: bit 0 RX, bit 1 TX, the 16550 order]; "
                 "with DLAB: baud register bits 15:8"),
    Register("AUX_MU_IIR_REG", 0x48, (
        Field("PENDING_N", 0, access=RO, reset=1), Field("IID", 1, 2),
        Field("FIFO_ENABLES", 6, 2, access=RO, reset=0b11),
    ), doc="interrupt identify; write bit 1 clears the RX FIFO, bit 2 the TX FIFO"),
    Register("AUX_MU_LCR_REG", 0x4C, (
        Field("DATA_SIZE", 0, 2), Field("BREAK", 6), Field("DLAB", 7),
    ), doc="bit 0: 8-bit mode (Linux writes 3)"),
    Register("AUX_MU_MCR_REG", 0x50, (Field("RTS", 1),), doc="set: UART1_RTS low"),
    Register("AUX_MU_LSR_REG", 0x54, (
        Field("DATA_READY", 0, access=RO), Field("RX_OVERRUN", 1, access=RO),
        Field("TX_EMPTY", 5, access=RO), Field("TX_IDLE", 6, access=RO, reset=1),
    ), doc="line status (computed); overrun clears on read"),
    Register("AUX_MU_MSR_REG", 0x58, (Field("CTS_STATUS", 5, access=RO),),
             doc="bit 5: the inverse of the UART1_CTS input"),
    Register("AUX_MU_SCRATCH", 0x5C, (Field("SCRATCH", 0, 8),), doc="a byte of storage"),
    Register("AUX_MU_CNTL_REG", 0x60, (
        Field("RX_ENABLE", 0, reset=1), Field("TX_ENABLE", 1, reset=1),
        Field("RTS_AUTO", 2), Field("CTS_AUTO", 3), Field("RTS_LEVEL", 4, 2),
        Field("RTS_ASSERT_LEVEL", 6), Field("CTS_ASSERT_LEVEL", 7),
    ), doc="extra control"),
    Register("AUX_MU_STAT_REG", 0x64, (
        Field("SYMBOL_AVAILABLE", 0, access=RO), Field("SPACE_AVAILABLE", 1, access=RO),
        Field("RX_IDLE", 2, access=RO), Field("TX_IDLE", 3, access=RO),
        Field("RX_OVERRUN", 4, access=RO), Field("TX_FULL", 5, access=RO),
        Field("RTS_STATUS", 6, access=RO), Field("CTS_LINE", 7, access=RO),
        Field("TX_EMPTY", 8, access=RO), Field("TX_DONE", 9, access=RO),
        Field("RX_LEVEL", 16, 4, access=RO), Field("TX_LEVEL", 24, 4, access=RO),
    ), doc="extra status (computed)"),
    Register("AUX_MU_BAUD_REG", 0x68, (Field("BAUD", 0, 16),),
             doc="baud = core clock / (8 * (BAUD + 1))"),
])
# fmt: on

FIFO_DEPTH = 8
"""soc-facts §4.2: "8 symbols deep FIFOs for receive and transmit"."""
RTS_SPACES = {0b00: 3, 0b01: 2, 0b10: 1, 0b11: 4}
"""CNTL RTS auto-flow level: de-assert RTS when the RX FIFO has this many spaces left."""
_MU_REGS = frozenset(r.name for r in AUX_MAP if r.name.startswith("AUX_MU_"))


def mini_uart_baud(core_clock_hz: float, baud_reg: int) -> float:
    """soc-facts §4.2: baudrate = system_clock_freq / (8 * (baudrate_reg + 1))."""
    return core_clock_hz / (8 * (baud_reg + 1))


def linux_baud_reg(core_clock_hz: int, baud: float) -> int:
    """What 8250_bcm2835aux writes: DIV_ROUND_CLOSEST(2·core, 16·baud) = round(core / (8·baud))."""
    b = round(baud)
    return (core_clock_hz + 4 * b) // (8 * b)


def _full_name(key: str | int) -> str | int:
    """Accept ``"IO"``, ``"MU_IO"``, ``"AUX_MU_IO_REG"`` (and ``"BAUD"``...) for a register."""
    if isinstance(key, int) or key in AUX_MAP:
        return key
    k = key.upper()
    for cand in (k, f"AUX_{k}", f"AUX_MU_{k}", f"AUX_MU_{k}_REG", f"AUX_{k}_REG"):
        if cand in AUX_MAP:
            return cand
    return key


class MiniUartBlock(RegisterBlock):
    """The AUX block's mini UART (``uart1``; also reachable as ``aux``)."""

    MAP: ClassVar[RegisterMap] = AUX_MAP

    def __init__(self, soc: Soc, name: str = "uart1") -> None:
        self.soc = soc
        self.world = soc.world
        self.core_clock_hz = soc.variant.core_clock_hz
        self.pins = UartPins(soc, f"{name} (mini UART)", "TXD1", "RXD1", "CTS1", "RTS1")
        self.hub = UartLines.of(soc.circuit)
        self.hub.attachments = soc.attachments
        self._line = LineSettings(mini_uart_baud(self.core_clock_hz, 0), 7)
        self.tx = UartTransmitter(
            self.world,
            self._line,
            name=f"{name}.tx",
            hub=self.hub,
            outputs=self.pins.tx_nets,
            drive_level=self.pins.drive_tx,
        )
        self.rx = UartReceiver(
            self.world,
            self._line,
            name=f"{name}.rx",
            kind="mini",
            inputs=self.pins.rx_nets,
            watch=self.pins.candidates("RXD1"),
            hub=self.hub,
            enabled=False,
            unrouted_level=False,  # [I] soc-facts §4.2: "an error in ... GPIO setup" reads 0x00s
        )
        self._rx_fifo: deque[int] = deque()
        self._overrun = False  # LSR bit 1, cleared by reading LSR
        self._overrun_stat = False  # STAT bit 4
        self._rts_out: bool | None = None
        self._tty: UartTty | None = None
        self._rts_wake: int | None = None
        self.rx.subscribe(self._on_rx_news)
        self._cts_unwatch: list[Callable[[], None]] = [
            net.watch(self._on_cts_pin) for net in self.pins.candidates("CTS1")
        ]
        super().__init__(name)
        self.pins.drive_tx(True)
        self._apply()

    def __repr__(self) -> str:
        return f"MiniUartBlock({self.name}, {self._line.describe()})"

    def reset_registers(self) -> None:
        super().reset_registers()
        if not hasattr(self, "tx"):
            return
        self._rx_fifo.clear()
        self._overrun = self._overrun_stat = False
        self._tty = None
        self.tx.discard_pending()
        self._apply()

    # -- access ------------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        """AUX_ENABLES bit 0: without it the mini UART's registers are unreachable."""
        return bool(self._values.get("AUX_ENABLES", 0) & 1)

    @overload
    def read(self, key: str | int) -> int: ...
    @overload
    def read(self, key: int, timeout_ns: int) -> bytes: ...
    def read(self, key: str | int, timeout_ns: int | None = None) -> int | bytes:
        """``read(register)`` (short names like ``"LSR"`` work); ``read(n, timeout_ns)``: the
        driver's read of up to ``n`` received bytes (returns as soon as ``n`` arrived)."""
        if timeout_ns is not None:
            if not isinstance(key, int):
                raise ConfigurationError(
                    f"{self.name}.read(n, timeout_ns) takes a count; got {key!r}"
                )
            return self._require_tty().read(key, timeout_ns)
        name = self.MAP.get(_full_name(key), self.name).name
        self._sync()
        if name in _MU_REGS and not self.enabled:
            return 0  # "You can not even read or write the registers!"
        return super().read(name)

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
        """``write(register, value)``; ``write(data)``: the driver's write (returns when sent)."""
        if isinstance(key, bytes | bytearray | memoryview):
            if value is not None:
                raise ConfigurationError(f"{self.name}.write(data) takes the bytes only")
            self._require_tty().write(bytes(key), timeout_ns)
            return
        if value is None:
            raise ConfigurationError(
                f"{self.name}.write(register, value) needs a value (or pass bytes to send data)"
            )
        name = self.MAP.get(_full_name(key), self.name).name
        self._sync()
        if name in _MU_REGS and not self.enabled:
            return
        super().write(name, value)

    # -- clock and line settings --------------------------------------------------------------
    def core_clock_changed(self, hz: int) -> None:
        """The VPU core clock changed: the baud rate follows at once (soc-facts §4.2/§8.8)."""
        if hz <= 0:
            raise ConfigurationError(f"core clock must be positive; got {hz} Hz")
        self._sync()
        self.core_clock_hz = hz
        self._update_line()

    @property
    def line_settings(self) -> LineSettings:
        return self._line

    def baud_rate(self) -> float:
        return self._line.baud

    def _update_line(self) -> None:
        baud = mini_uart_baud(self.core_clock_hz, self.peek("AUX_MU_BAUD_REG") & 0xFFFF)
        bits = 8 if self.peek("AUX_MU_LCR_REG") & 1 else 7
        line = LineSettings(baud, bits)
        if line != self._line:
            self._line = line
            self.tx.set_settings(line)
            self.rx.set_settings(line)

    def _apply(self) -> None:
        cntl = self.peek("AUX_MU_CNTL_REG")
        on = self.enabled
        self._update_line()
        if on and cntl & 2:
            self.tx.release("disabled")
        else:
            self.tx.hold("disabled")
        self._update_cts()
        self.rx.set_enabled(on and bool(cntl & 1))
        self.tx.set_break(bool(self.peek("AUX_MU_LCR_REG") >> 6 & 1))
        self._update_rts()

    # -- flow control ---------------------------------------------------------------------------
    def _cts_pin_low(self) -> bool:
        nets = self.pins.gpio.signal_nets("CTS1")
        return bool(nets) and not nets[0].level

    def _on_cts_pin(self, _net: Net, _level: bool, _time_ns: int) -> None:
        self._update_cts()

    def _update_cts(self) -> None:
        cntl = self._values.get("AUX_MU_CNTL_REG", 0)
        if cntl >> 3 & 1:  # CTS auto flow: stop while CTS is not at its assert level [I]
            invert = bool(cntl >> 7 & 1)
            asserted = self._cts_pin_low() != invert
            if asserted:
                self.tx.release("cts")
            else:
                self.tx.hold("cts")
        else:
            self.tx.release("cts")

    def _update_rts(self) -> None:
        cntl = self._values.get("AUX_MU_CNTL_REG", 0)
        if cntl >> 2 & 1:  # RTS auto flow: de-assert when only N spaces are left
            spaces = FIFO_DEPTH - len(self._rx_fifo)
            asserted = spaces > RTS_SPACES[cntl >> 4 & 3]
            low = asserted != bool(cntl >> 6 & 1)  # asserted = low unless bit 6 inverts it [I]
        else:
            low = bool(self._values.get("AUX_MU_MCR_REG", 0) >> 1 & 1)  # MCR RTS: set = low
        if low != self._rts_out:
            self._rts_out = low
            self.pins.drive_rts(low)
        if cntl >> 2 & 1 and self._tty is None:
            level = FIFO_DEPTH - RTS_SPACES[cntl >> 4 & 3]  # de-asserts at this fill level
            if len(self._rx_fifo) < level:
                when = self.rx.time_of(level - len(self._rx_fifo) - 1)
                if when is not None:
                    self._wake_for_rts(when)

    def _wake_for_rts(self, t: float) -> None:
        """Nobody reads the FIFO between register accesses: wake when it reaches the level."""
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
        if self._values.get("AUX_MU_CNTL_REG", 0) >> 2 & 1 and self._tty is None:
            self._update_rts()

    # -- receive path ---------------------------------------------------------------------------
    def _sync(self) -> None:
        chunks = self.rx.take()
        if not chunks:
            return
        if self._tty is not None:
            self._tty.feed(chunks)
            return
        fifo = self._rx_fifo
        for chunk in chunks:
            for value in chunk.data:
                if len(fifo) >= FIFO_DEPTH:
                    self._overrun = self._overrun_stat = True
                    continue
                fifo.append(value)
        self._update_rts()

    def _rx_level(self) -> int:
        return len(self._rx_fifo)

    def _tx_level(self) -> int:
        return min(self.tx.queued(), FIFO_DEPTH)

    # -- register behaviour ---------------------------------------------------------------------
    def _dlab(self) -> bool:
        return bool(self.peek("AUX_MU_LCR_REG") >> 7 & 1)

    def _read_AUX_MU_IO_REG(self) -> int:  # noqa: N802 - datasheet name
        if self._dlab():
            return self.peek("AUX_MU_BAUD_REG") & 0xFF
        if not self._rx_fifo:
            return 0
        value = self._rx_fifo.popleft()
        self._update_rts()
        return value

    def _write_AUX_MU_IO_REG(self, value: int) -> None:  # noqa: N802
        if self._dlab():
            baud = self.peek("AUX_MU_BAUD_REG")
            self.poke("AUX_MU_BAUD_REG", (baud & 0xFF00) | (value & 0xFF))
            self._update_line()
            return
        if self.tx.queued() >= FIFO_DEPTH:
            return  # FIFO full: lost
        self.tx.send(bytes((value & 0xFF,)))

    def _read_AUX_MU_IER_REG(self) -> int:  # noqa: N802
        if self._dlab():
            return self.peek("AUX_MU_BAUD_REG") >> 8 & 0xFF
        return self.peek("AUX_MU_IER_REG")

    def _write_AUX_MU_IER_REG(self, value: int) -> None:  # noqa: N802
        if self._dlab():
            baud = self.peek("AUX_MU_BAUD_REG")
            self.poke("AUX_MU_BAUD_REG", (baud & 0x00FF) | (value & 0xFF) << 8)
            self._update_line()
            return
        self.poke("AUX_MU_IER_REG", value & 0x3)

    def _pending(self) -> int:
        """IID of the pending interrupt: 0b10 RX byte held, 0b01 TX FIFO empty, 0 none."""
        ier = self.peek("AUX_MU_IER_REG")
        if ier & 1 and self._rx_fifo:
            return 0b10
        if ier & 2 and self.tx.queued() == 0:
            return 0b01
        return 0

    def _read_AUX_MU_IIR_REG(self) -> int:  # noqa: N802
        iid = self._pending()
        return 0xC0 | iid << 1 | (0 if iid else 1)

    def _write_AUX_MU_IIR_REG(self, value: int) -> None:  # noqa: N802
        if value & 0b010:
            self._rx_fifo.clear()
            self._update_rts()
        if value & 0b100:
            self.tx.discard_pending()

    def _write_AUX_MU_LCR_REG(self, value: int) -> None:  # noqa: N802
        self.poke("AUX_MU_LCR_REG", value & 0xC3)
        self._apply()

    def _write_AUX_MU_MCR_REG(self, value: int) -> None:  # noqa: N802
        self.poke("AUX_MU_MCR_REG", value & 0x2)
        self._update_rts()

    def _read_AUX_MU_LSR_REG(self) -> int:  # noqa: N802
        lsr = int(bool(self._rx_fifo)) | int(self._overrun) << 1
        lsr |= int(self.tx.queued() < FIFO_DEPTH) << 5
        lsr |= int(not self.tx.busy()) << 6
        self._overrun = False  # "cleared each time this register is read"
        return lsr

    def _read_AUX_MU_MSR_REG(self) -> int:  # noqa: N802
        return int(self._cts_pin_low()) << 5

    def _write_AUX_MU_CNTL_REG(self, value: int) -> None:  # noqa: N802
        self.poke("AUX_MU_CNTL_REG", value & 0xFF)
        self._apply()

    def _read_AUX_MU_STAT_REG(self) -> int:  # noqa: N802
        rx = len(self._rx_fifo)
        queued = self.tx.queued()
        tx_level = min(queued, FIFO_DEPTH)
        busy = self.tx.busy()
        stat = int(rx > 0)
        stat |= int(queued < FIFO_DEPTH) << 1
        stat |= int(self.rx.waiting() == 0) << 2  # [I] receiver not in a character
        stat |= int(not busy) << 3
        stat |= int(self._overrun_stat) << 4
        stat |= int(queued >= FIFO_DEPTH) << 5
        stat |= int(bool(self._rts_out)) << 6
        stat |= int(self._cts_pin_low()) << 7
        stat |= int(queued == 0) << 8
        stat |= int(not busy) << 9
        stat |= rx << 16 | tx_level << 24
        return stat

    def _write_AUX_MU_BAUD_REG(self, value: int) -> None:  # noqa: N802
        self.poke("AUX_MU_BAUD_REG", value & 0xFFFF)
        self._update_line()

    def _read_AUX_IRQ(self) -> int:  # noqa: N802
        return int(self.enabled and self._pending() != 0)

    def _write_AUX_ENABLES(self, value: int) -> None:  # noqa: N802
        self.poke("AUX_ENABLES", value & 0x7)
        self._apply()

    # ------------------------------------------------------------------------------------------
    # Driver entry points (docs/emulator-api.md), as 8250_bcm2835aux does them
    # ------------------------------------------------------------------------------------------
    def configure(
        self, baud: float, data_bits: int = 8, parity: str = "none", stop_bits: int = 1
    ) -> LineSettings:
        """Open the port (8250 ``set_termios``); returns what the baud register really gives.

        Refuses what the mini UART cannot do (soc-facts §4.2: "7-bit or 8-bit operation;
        1 start and 1 stop bit; No parities").
        """
        if parity_name(parity) != "none":
            raise ConfigurationError(
                f"{self.name} is the mini UART: it has no parity (soc-facts §4.2); got "
                f"parity {parity!r}. Use a PL011 (uart0) for parity."
            )
        if data_bits not in (7, 8):
            raise ConfigurationError(
                f"{self.name} is the mini UART: 7 or 8 data bits only; got {data_bits!r}"
            )
        if stop_bits != 1:
            raise ConfigurationError(
                f"{self.name} is the mini UART: 1 stop bit only; got {stop_bits!r}"
            )
        fastest = self.core_clock_hz / 8
        if not isinstance(baud, int | float) or not 0 < baud <= fastest:
            raise ConfigurationError(
                f"{self.name} (mini UART): baud rate must be 1..{fastest:g} "
                f"(core clock {self.core_clock_hz} Hz / 8); got {baud!r}"
            )
        reg = linux_baud_reg(self.core_clock_hz, baud)
        if reg > 0xFFFF:
            lowest = mini_uart_baud(self.core_clock_hz, 0xFFFF)
            raise ConfigurationError(
                f"{self.name} (mini UART): {baud} baud is below the slowest rate at "
                f"{self.core_clock_hz} Hz ({lowest:.0f} baud)"
            )
        self.write("AUX_ENABLES", self.read("AUX_ENABLES") | 1)
        lcr = 0x03 if data_bits == 8 else 0x02
        self.write("AUX_MU_LCR_REG", 0x80 | lcr)  # DLAB
        self.write("AUX_MU_IO_REG", reg & 0xFF)
        self.write("AUX_MU_IER_REG", reg >> 8)
        self.write("AUX_MU_LCR_REG", lcr)
        self.write("AUX_MU_MCR_REG", 0x2)  # RTS
        self.write("AUX_MU_CNTL_REG", 0x3)
        if self._tty is None:
            self._sync()
            self._tty = UartTty(self.world, self.name, self.rx, self.tx, self._sync)
            self._tty.feed_entries(self._rx_fifo)
            self._rx_fifo.clear()
        return self._line

    def close(self) -> None:
        self._sync()
        self._tty = None
        self.write("AUX_MU_CNTL_REG", 0)

    def _require_tty(self) -> UartTty:
        if self._tty is None:
            raise ConfigurationError(
                f"{self.name} is not open: call configure(baud, ...) first (as opening the tty)"
            )
        return self._tty

    def flush(self, timeout_ns: int | None = None) -> None:
        self._require_tty().drain(timeout_ns)

    def in_waiting(self) -> int:
        return self._require_tty().in_waiting()

    def discard_input(self) -> None:
        self._require_tty().discard_input()

    def send_break(self, duration_ns: int) -> None:
        """``tcsendbreak`` through LCR bit 6 (the mini UART can generate a break)."""
        tty = self._require_tty()
        if duration_ns <= 0:
            raise ConfigurationError(f"a break lasts a positive time; got {duration_ns} ns")
        tty.drain()
        self.write("AUX_MU_LCR_REG", self.read("AUX_MU_LCR_REG") | 0x40)
        self.world.run_for(int(duration_ns))
        self.write("AUX_MU_LCR_REG", self.read("AUX_MU_LCR_REG") & ~0x40)

    def error_counts(self) -> dict[str, int]:
        """The mini UART detects no framing, parity or break errors; overruns only."""
        if self._tty is None:
            return {"framing": 0, "parity": 0, "overrun": 0, "break": 0}
        return self._tty.error_counts()


def aux_alias(soc: Soc, name: str) -> RegisterBlock:
    """``aux``: the same block as ``uart1`` (the AUX registers live with the mini UART)."""
    return soc.blocks["uart1"]
