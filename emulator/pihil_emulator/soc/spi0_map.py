"""SPI0's register map and bit masks, as data (soc-facts §4.1, BCM2711-DS ch.9).

Shared by the register model (`pihil_emulator.soc.spi0`) and the Linux driver's transfer
(`pihil_emulator.soc.spi0_driver`).
"""

from __future__ import annotations

from typing import Final

from .registers import Access, Field, Register, RegisterMap

# --------------------------------------------------------------------------------------
# Register map (soc-facts §4.1; BCM2711-DS ch.9), offsets from the SPI0 base 0x7e204000.
# --------------------------------------------------------------------------------------
SPI0_MAP: Final = RegisterMap(
    [
        Register(
            "CS",
            0x00,
            (
                Field("CS", 0, 2, doc="chip select: 00 CE0, 01 CE1, 10 CE2, 11 reserved"),
                Field("CPHA", 2, doc="1: first SCLK transition at the beginning of the data bit"),
                Field("CPOL", 3, doc="rest state of the clock: 0 low, 1 high"),
                Field("CLEAR", 4, 2, Access.W1S, doc="x1 clear TX FIFO, 1x clear RX FIFO"),
                Field("CSPOL", 6, doc="chip select polarity (stored; see module docstring)"),
                Field("TA", 7, doc="transfer active: /CS per CS and CSPOLn"),
                Field("DMAEN", 8, doc="DMA mode: 32-bit FIFO words, DLEN bytes"),
                Field("INTD", 9, doc="interrupt on DONE"),
                Field("INTR", 10, doc="interrupt on RXR"),
                Field("ADCS", 11, doc="auto-deassert chip select (DMA)"),
                Field("REN", 12, reset=1, doc="read enable (bidirectional mode)"),
                Field("LEN", 13, doc="LoSSI mode"),
                Field("LMONO", 14, doc="unused"),
                Field("TE_EN", 15, doc="unused"),
                Field("DONE", 16, access=Access.RO, doc="transfer complete"),
                Field("RXD", 17, access=Access.RO, doc="RX FIFO holds data"),
                Field("TXD", 18, access=Access.RO, reset=1, doc="TX FIFO can accept data"),
                Field("RXR", 19, access=Access.RO, doc="RX FIFO needs reading (>= 3/4 full)"),
                Field("RXF", 20, access=Access.RO, doc="RX FIFO full: the clock pauses"),
                Field("CSPOL0", 21, doc="CE0 active high"),
                Field("CSPOL1", 22, doc="CE1 active high"),
                Field("CSPOL2", 23, doc="CE2 active high"),
                Field("DMA_LEN", 24, doc="LoSSI DMA"),
                Field("LEN_LONG", 25, doc="LoSSI long data word"),
            ),
            doc="control and status; reset 0x00041000 (TXD, REN)",
        ),
        Register("FIFO", 0x04, doc="TX FIFO on write, RX FIFO on read (64 bytes each)"),
        Register("CLK", 0x08, (Field("CDIV", 0, 16, doc="SCLK = core clock / CDIV"),)),
        Register("DLEN", 0x0C, (Field("LEN", 0, 16, doc="bytes to transfer in DMA mode"),)),
        Register("LTOH", 0x10, (Field("TOH", 0, 4, reset=0x1, doc="LoSSI output hold"),)),
        Register(
            "DC",
            0x14,
            (
                Field("TDREQ", 0, 8, reset=0x20),
                Field("TPANIC", 8, 8, reset=0x10),
                Field("RDREQ", 16, 8, reset=0x20),
                Field("RPANIC", 24, 8, reset=0x30),
            ),
            doc="DMA DREQ and panic thresholds",
        ),
    ]
)

FIFO_SIZE: Final = 64
"""Linux ``BCM2835_SPI_FIFO_SIZE 64``."""
FIFO_3_4: Final = 48
"""Linux ``BCM2835_SPI_FIFO_SIZE_3_4 48``: RXR sets at this fill level."""
DMA_MIN_LENGTH: Final = 96
"""Linux ``BCM2835_SPI_DMA_MIN_LENGTH``: shorter transfers are never DMA."""
POLLING_LIMIT_US: Final = 30
"""Linux ``polling_limit_us`` module parameter default."""

CS_BITS: Final = {f.name: f for f in SPI0_MAP.get("CS").fields}
STATUS_MASK: Final = sum(CS_BITS[n].mask for n in ("DONE", "RXD", "TXD", "RXR", "RXF"))
STORED_MASK: Final = 0xFFFF_FFFF & ~STATUS_MASK & ~CS_BITS["CLEAR"].mask
TA: Final = CS_BITS["TA"].mask
DMAEN: Final = CS_BITS["DMAEN"].mask
CLEAR: Final = CS_BITS["CLEAR"].mask
MODE_BITS: Final = 0b11 | CS_BITS["CPOL"].mask | CS_BITS["CPHA"].mask
CPOL: Final = CS_BITS["CPOL"].mask
CSPOL: Final = CS_BITS["CSPOL"].mask
CSPOLN: Final = tuple(CS_BITS[f"CSPOL{n}"].mask for n in range(3))
RESET_OFF: Final = CS_BITS["INTR"].mask | CS_BITS["INTD"].mask | DMAEN

CE_SIGNALS: Final = ("SPI0_CE0_N", "SPI0_CE1_N", "SPI0_CE2_N")
SCLK: Final = "SPI0_SCLK"
MOSI: Final = "SPI0_MOSI"
MISO: Final = "SPI0_MISO"
CS_ROLES: Final = ("cs", "ce", "ss")
