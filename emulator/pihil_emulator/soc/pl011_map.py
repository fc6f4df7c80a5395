"""The ARM PL011 UART's register map as data, with its FIFO and interrupt constants (soc-facts §4.2).

Offsets, fields, reset values and access of each register (PL011 TRM DDI 0183), the FIFO
depth and IFLS trigger levels, the interrupt bits of IMSC/RIS/MIS/ICR, and the baud divisors
as Linux's amba-pl011 computes them (`pl011_divisors`). The behaviour is `pl011.Pl011Block`.
"""

from __future__ import annotations

from ..buses.uart_rx_chars import BE, FE, OE, PE
from ..errors import ConfigurationError
from .registers import Access, Field, Register, RegisterMap

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
