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
The tty side (``read``/``write``/``flush``/``close``/``error_counts``...) is
`uart_port.UartPort`'s, shared with the PL011; only overruns are ever counted here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..buses.uart_line import LineSettings, parity_name
from ..buses.uart_rx import Chunk
from ..errors import ConfigurationError, RegisterError
from .registers import Access, Field, Register, RegisterBlock, RegisterMap
from .uart_port import UartPins, UartPort

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

# fmt: off
DLAB_MAP = RegisterMap([
    Register("AUX_MU_IO_REG", 0x40, (Field("DLL", 0, 8),), doc="with DLAB: baud bits 7:0"),
    Register("AUX_MU_IER_REG", 0x44, (Field("DLM", 0, 8),), doc="with DLAB: baud bits 15:8"),
])
# fmt: on
"""What AUX_MU_IO/IER are while LCR.DLAB is set (BCM2835 ARM Peripherals §2.2.2: "If the
DLAB bit is set this register gives access to the MS 8 bits of the baud rate"): bits 7:0 are
the divisor byte, only the bits above are reserved. The write policy filters through this map
then, not through IER's 2-bit interrupt-enable fields (8250 ``serial_dl_write`` writes DLM)."""

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


class MiniUartBlock(UartPort):
    """The AUX block's mini UART (``uart1``; also reachable as ``aux``)."""

    MAP: ClassVar[RegisterMap] = AUX_MAP

    def __init__(self, soc: Soc, name: str = "uart1") -> None:
        self.core_clock_hz = soc.variant.core_clock_hz
        self._line = LineSettings(mini_uart_baud(self.core_clock_hz, 0), 7)
        self._overrun = False  # LSR bit 1, cleared by reading LSR
        self._overrun_stat = False  # STAT bit 4
        pins = UartPins(soc, f"{name} (mini UART)", "TXD1", "RXD1", "CTS1", "RTS1")
        super().__init__(
            soc,
            name,
            pins,
            self._line,
            kind="mini",  # 8x oversampling, no parity/framing/break detection (soc-facts §4.2)
            rx_inputs=pins.rx_nets,
            drive_tx=pins.drive_tx,
            unrouted_level=False,  # [I] soc-facts §4.2: "an error in ... GPIO setup" reads 0x00s
        )

    def __repr__(self) -> str:
        return f"MiniUartBlock({self.name}, {self._line.describe()})"

    def _reset_state(self) -> None:
        self._overrun = self._overrun_stat = False
        self._apply_control()

    # -- access ------------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        """AUX_ENABLES bit 0: without it the mini UART's registers are unreachable."""
        return bool(self._values.get("AUX_ENABLES", 0) & 1)

    def _register_read(self, key: str | int) -> int:
        """Short names like ``"LSR"`` work; the mini UART's registers read 0 while disabled."""
        name = self.MAP.get(_full_name(key), self.name).name
        if name in _MU_REGS and not self.enabled:
            return 0  # "You can not even read or write the registers!"
        return super()._register_read(name)

    def _register_write(self, key: str | int, value: int) -> None:
        name = self.MAP.get(_full_name(key), self.name).name
        if name in _MU_REGS and not self.enabled:
            return
        if name in DLAB_MAP and self._dlab():
            self._write_divisor_byte(name, value)
            return
        super()._register_write(name, value)

    def _write_divisor_byte(self, name: str, value: int) -> None:
        """DLAB set: IO is the baud register's bits 7:0 (DLL), IER its bits 15:8 (DLM)."""
        if not 0 <= value <= 0xFFFF_FFFF:
            raise RegisterError(
                f"{self.name}.{name}: a 32-bit register takes 0..0xffffffff, got {value:#x}"
            )
        reg = DLAB_MAP.get(name, self.name)
        if value & ~reg.defined_mask:
            if self.policy is not None:
                value = self.policy.undefined_bits(self.name, reg, value)
            value &= reg.defined_mask
        shift = 0 if name == "AUX_MU_IO_REG" else 8
        baud = self.peek("AUX_MU_BAUD_REG") & ~(0xFF << shift)
        self.poke("AUX_MU_BAUD_REG", baud | value << shift)
        self._update_line()

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

    @property
    def fifo_depth(self) -> int:
        """soc-facts §4.2: 8 deep, always (no FIFO enable bit)."""
        return FIFO_DEPTH

    def _apply_control(self) -> None:
        """AUX_ENABLES/CNTL/LCR → transmitter holds, receiver enable, break, CTS, RTS."""
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
    def _update_cts(self) -> None:
        cntl = self._values.get("AUX_MU_CNTL_REG", 0)
        if cntl >> 3 & 1:  # CTS auto flow: stop while CTS is not at its assert level [I]
            invert = bool(cntl >> 7 & 1)
            asserted = self.pins.cts_low() != invert
            if asserted:
                self.tx.release("cts")
            else:
                self.tx.hold("cts")
        else:
            self.tx.release("cts")

    def _rts_rule(self) -> tuple[bool, int | None]:
        cntl = self._values.get("AUX_MU_CNTL_REG", 0)
        if cntl >> 2 & 1:  # RTS auto flow: de-assert when only N spaces are left
            level = FIFO_DEPTH - RTS_SPACES[cntl >> 4 & 3]  # de-asserts at this fill level
            asserted = len(self._rx_fifo) < level
            return asserted != bool(cntl >> 6 & 1), level  # asserted = low unless bit 6 [I]
        return bool(self._values.get("AUX_MU_MCR_REG", 0) >> 1 & 1), None  # MCR RTS: set = low

    def _rts_auto_flow(self) -> bool:
        return bool(self._values.get("AUX_MU_CNTL_REG", 0) >> 2 & 1)

    # -- receive path ---------------------------------------------------------------------------
    def _fill_rx_fifo(self, chunks: list[Chunk]) -> None:
        """Values only: the mini UART flags no framing, parity or break (soc-facts §4.2)."""
        fifo = self._rx_fifo
        for chunk in chunks:
            for value in chunk.data:
                if len(fifo) >= FIFO_DEPTH:
                    self._overrun = self._overrun_stat = True
                    continue
                fifo.append(value)

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
        self._push_tx(value)  # with DLAB set, `_write_divisor_byte` takes the write

    def _read_AUX_MU_IER_REG(self) -> int:  # noqa: N802
        if self._dlab():
            return self.peek("AUX_MU_BAUD_REG") >> 8 & 0xFF
        return self.peek("AUX_MU_IER_REG")

    def _write_AUX_MU_IER_REG(self, value: int) -> None:  # noqa: N802
        self.poke("AUX_MU_IER_REG", value & 0x3)  # with DLAB set, `_write_divisor_byte`

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
        self._apply_control()

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
        return int(self.pins.cts_low()) << 5

    def _write_AUX_MU_CNTL_REG(self, value: int) -> None:  # noqa: N802
        self.poke("AUX_MU_CNTL_REG", value & 0xFF)
        self._apply_control()

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
        stat |= int(self.pins.cts_low()) << 7
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
        self._apply_control()

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
        self._open_tty()
        return self._line

    def _shut_down(self) -> None:
        """Closing: receiver and transmitter off (CNTL 0)."""
        self.write("AUX_MU_CNTL_REG", 0)

    def _set_break(self, on: bool) -> None:
        lcr = self.read("AUX_MU_LCR_REG")
        self.write("AUX_MU_LCR_REG", lcr | 0x40 if on else lcr & ~0x40)  # LCR bit 6: break


def aux_alias(soc: Soc, name: str) -> RegisterBlock:
    """``aux``: the same block as ``uart1`` (the AUX registers live with the mini UART)."""
    return soc.blocks["uart1"]
