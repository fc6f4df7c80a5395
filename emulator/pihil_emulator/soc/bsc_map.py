"""The BSC's register map (soc-facts §2, BCM2711-DS ch.3) as data, its bit constants, and the
plain records the controller keeps (a latched transfer, the last error). Shared by the controller
(`pihil_emulator.soc.bsc`) and its closed-form fast path (`pihil_emulator.soc.bsc_fast`)."""

from __future__ import annotations

from dataclasses import dataclass

from .registers import Access, Field, Register, RegisterMap

# --------------------------------------------------------------------------------------
# Register map (soc-facts §2), as data
# --------------------------------------------------------------------------------------

BSC_MAP = RegisterMap(
    [
        Register(
            "C",
            0x00,
            (
                Field("I2CEN", 15, doc="I2C enable"),
                Field("INTR", 10, doc="interrupt on RX (RXR)"),
                Field("INTT", 9, doc="interrupt on TX (TXW)"),
                Field("INTD", 8, doc="interrupt on DONE"),
                Field("ST", 7, access=Access.W1S, doc="start transfer (one shot, reads 0)"),
                Field("CLEAR", 4, 2, access=Access.W1S, doc="clear FIFO (x1 or 1x)"),
                Field("READ", 0, doc="0 write packet, 1 read packet"),
            ),
            doc="Control",
        ),
        Register(
            "S",
            0x04,
            (
                Field("CLKT", 9, access=Access.W1C, doc="clock stretch timeout"),
                Field("ERR", 8, access=Access.W1C, doc="ACK error"),
                Field("RXF", 7, access=Access.RO, doc="FIFO full"),
                Field("TXE", 6, access=Access.RO, reset=1, doc="FIFO empty"),
                Field("RXD", 5, access=Access.RO, doc="FIFO contains data"),
                Field("TXD", 4, access=Access.RO, reset=1, doc="FIFO can accept data"),
                Field("RXR", 3, access=Access.RO, doc="FIFO needs reading (3/4 full)"),
                Field("TXW", 2, access=Access.RO, doc="FIFO needs writing (under 1/4 full)"),
                Field("DONE", 1, access=Access.W1C, doc="transfer done"),
                Field("TA", 0, access=Access.RO, doc="transfer active"),
            ),
            doc="Status",
        ),
        Register("DLEN", 0x08, (Field("DLEN", 0, 16),), doc="Data length"),
        Register("A", 0x0C, (Field("ADDR", 0, 7),), doc="Slave address"),
        Register("FIFO", 0x10, (Field("DATA", 0, 8),), doc="Data FIFO (16 bytes)"),
        Register("DIV", 0x14, (Field("CDIV", 0, 16, reset=0x05DC),), doc="Clock divider"),
        Register(
            "DEL",
            0x18,
            (Field("FEDL", 16, 16, reset=0x0030), Field("REDL", 0, 16, reset=0x0030)),
            doc="Data delay",
        ),
        Register("CLKT", 0x1C, (Field("TOUT", 0, 16, reset=0x0040),), doc="Clock stretch timeout"),
    ]
)

FIFO_DEPTH = 16
TXW_BELOW = FIFO_DEPTH // 4  # "FIFO is less than ¼ full"
RXR_FROM = FIFO_DEPTH * 3 // 4  # "FIFO is ¾ or more full"

C_I2CEN = 1 << 15
C_INTR = 1 << 10
C_INTT = 1 << 9
C_INTD = 1 << 8
C_ST = 1 << 7
C_CLEAR = 0b11 << 4
C_READ = 1
S_CLKT = 1 << 9
S_ERR = 1 << 8
S_RXF = 1 << 7
S_TXE = 1 << 6
S_RXD = 1 << 5
S_TXD = 1 << 4
S_RXR = 1 << 3
S_TXW = 1 << 2
S_DONE = 1 << 1
S_TA = 1
S_LEN = 1 << 10  # Linux's fake bit for a length error (never in the register)


@dataclass(slots=True)
class Xfer:
    """One transfer as the controller latched it at ST (or at the repeated START)."""

    address: int
    read: bool
    dlen: int
    started: int = 0  # bytes begun on the wire (planned)
    done: int = 0  # bytes finished, as settled by now
    planned_end: int = 0  # bytes whose end is planned


@dataclass
class ErrorInfo:
    kind: str
    address: int
    phase: str
    time_ns: int
