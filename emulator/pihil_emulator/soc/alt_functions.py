"""Alternate-function tables of the BCM2835 and BCM2711 GPIO pins, as data.

One row per GPIO line: the peripheral signal behind ALT0..ALT5, ``None`` where
the datasheet has no function ("All unused alternative function lines are tied
to ground and will output a "0" if selected", soc-facts §3.3).

Sources (soc-facts §3.9): GPIO0-27 of both chips verbatim from soc-facts (the
BCM2711-DS table; raspi-gpio ``gpio_alt_names_2835``); the other rows from
raspi-gpio's tables (RPi-Distro/raspi-gpio raspi-gpio.c) and, for BCM2711
GPIO28-45, the BCM2711-DS table, which agrees with the rows soc-facts quotes
(28, 29, 32, 33, 40, 41, 44, 45). BCM2711-DS marks GPIO46-57 "<Internal>";
raspi-gpio gives names for 46-53 only, so 54-57 have no known alternates.

Names are those of soc-facts §3.9 (``SDA1``, ``TXD0``, ``SPI0_CE0_N``...);
`seed_signal_name` gives the seed's recommended spelling (``I2C1_SDA``,
``UART0_TXD``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

AltRow = tuple[str | None, str | None, str | None, str | None, str | None, str | None]

_: None = None  # a cell with no function: reads as an unused alternate (drives 0)

# fmt: off
BCM2835_ALT: Mapping[int, AltRow] = MappingProxyType({
    # GPIO: (ALT0,        ALT1,          ALT2,         ALT3,              ALT4,           ALT5)
    0:  ("SDA0",       "SA5",         "PCLK",       "AVEOUT_VCLK",     "AVEIN_VCLK",   _),
    1:  ("SCL0",       "SA4",         "DE",         "AVEOUT_DSYNC",    "AVEIN_DSYNC",  _),
    2:  ("SDA1",       "SA3",         "LCD_VSYNC",  "AVEOUT_VSYNC",    "AVEIN_VSYNC",  _),
    3:  ("SCL1",       "SA2",         "LCD_HSYNC",  "AVEOUT_HSYNC",    "AVEIN_HSYNC",  _),
    4:  ("GPCLK0",     "SA1",         "DPI_D0",     "AVEOUT_VID0",     "AVEIN_VID0",   "ARM_TDI"),
    5:  ("GPCLK1",     "SA0",         "DPI_D1",     "AVEOUT_VID1",     "AVEIN_VID1",   "ARM_TDO"),
    6:  ("GPCLK2",     "SOE_N/SE",    "DPI_D2",     "AVEOUT_VID2",     "AVEIN_VID2",   "ARM_RTCK"),
    7:  ("SPI0_CE1_N", "SWE_N/SRW_N", "DPI_D3",     "AVEOUT_VID3",     "AVEIN_VID3",   _),
    8:  ("SPI0_CE0_N", "SD0",         "DPI_D4",     "AVEOUT_VID4",     "AVEIN_VID4",   _),
    9:  ("SPI0_MISO",  "SD1",         "DPI_D5",     "AVEOUT_VID5",     "AVEIN_VID5",   _),
    10: ("SPI0_MOSI",  "SD2",         "DPI_D6",     "AVEOUT_VID6",     "AVEIN_VID6",   _),
    11: ("SPI0_SCLK",  "SD3",         "DPI_D7",     "AVEOUT_VID7",     "AVEIN_VID7",   _),
    12: ("PWM0",       "SD4",         "DPI_D8",     "AVEOUT_VID8",     "AVEIN_VID8",   "ARM_TMS"),
    13: ("PWM1",       "SD5",         "DPI_D9",     "AVEOUT_VID9",     "AVEIN_VID9",   "ARM_TCK"),
    14: ("TXD0",       "SD6",         "DPI_D10",    "AVEOUT_VID10",    "AVEIN_VID10",  "TXD1"),
    15: ("RXD0",       "SD7",         "DPI_D11",    "AVEOUT_VID11",    "AVEIN_VID11",  "RXD1"),
    16: ("FL0",        "SD8",         "DPI_D12",    "CTS0",            "SPI1_CE2_N",   "CTS1"),
    17: ("FL1",        "SD9",         "DPI_D13",    "RTS0",            "SPI1_CE1_N",   "RTS1"),
    18: ("PCM_CLK",    "SD10",        "DPI_D14",    "BSCSL SDA/MOSI",  "SPI1_CE0_N",   "PWM0"),
    19: ("PCM_FS",     "SD11",        "DPI_D15",    "BSCSL SCL/SCLK",  "SPI1_MISO",    "PWM1"),
    20: ("PCM_DIN",    "SD12",        "DPI_D16",    "BSCSL/MISO",      "SPI1_MOSI",    "GPCLK0"),
    21: ("PCM_DOUT",   "SD13",        "DPI_D17",    "BSCSL/CE_N",      "SPI1_SCLK",    "GPCLK1"),
    22: ("SD0_CLK",    "SD14",        "DPI_D18",    "SD1_CLK",         "ARM_TRST",     _),
    23: ("SD0_CMD",    "SD15",        "DPI_D19",    "SD1_CMD",         "ARM_RTCK",     _),
    24: ("SD0_DAT0",   "SD16",        "DPI_D20",    "SD1_DAT0",        "ARM_TDO",      _),
    25: ("SD0_DAT1",   "SD17",        "DPI_D21",    "SD1_DAT1",        "ARM_TCK",      _),
    26: ("SD0_DAT2",   "TE0",         "DPI_D22",    "SD1_DAT2",        "ARM_TDI",      _),
    27: ("SD0_DAT3",   "TE1",         "DPI_D23",    "SD1_DAT3",        "ARM_TMS",      _),
    # GPIO28-53: raspi-gpio gpio_alt_names_2835 (P5 of the Model B rev 2 agrees: seed)
    28: ("SDA0",       "SA5",         "PCM_CLK",    "FL0",             _,              _),
    29: ("SCL0",       "SA4",         "PCM_FS",     "FL1",             _,              _),
    30: ("TE0",        "SA3",         "PCM_DIN",    "CTS0",            _,              "CTS1"),
    31: ("FL0",        "SA2",         "PCM_DOUT",   "RTS0",            _,              "RTS1"),
    32: ("GPCLK0",     "SA1",         "RING_OCLK",  "TXD0",            _,              "TXD1"),
    33: ("FL1",        "SA0",         "TE1",        "RXD0",            _,              "RXD1"),
    34: ("GPCLK0",     "SOE_N/SE",    "TE2",        "SD1_CLK",         _,              _),
    35: ("SPI0_CE1_N", "SWE_N/SRW_N", _,            "SD1_CMD",         _,              _),
    36: ("SPI0_CE0_N", "SD0",         "TXD0",       "SD1_DAT0",        _,              _),
    37: ("SPI0_MISO",  "SD1",         "RXD0",       "SD1_DAT1",        _,              _),
    38: ("SPI0_MOSI",  "SD2",         "RTS0",       "SD1_DAT2",        _,              _),
    39: ("SPI0_SCLK",  "SD3",         "CTS0",       "SD1_DAT3",        _,              _),
    40: ("PWM0",       "SD4",         _,            "SD1_DAT4",        "SPI2_MISO",    "TXD1"),
    41: ("PWM1",       "SD5",         "TE0",        "SD1_DAT5",        "SPI2_MOSI",    "RXD1"),
    42: ("GPCLK1",     "SD6",         "TE1",        "SD1_DAT6",        "SPI2_SCLK",    "RTS1"),
    43: ("GPCLK2",     "SD7",         "TE2",        "SD1_DAT7",        "SPI2_CE0_N",   "CTS1"),
    44: ("GPCLK1",     "SDA0",        "SDA1",       "TE0",             "SPI2_CE1_N",   _),
    45: ("PWM1",       "SCL0",        "SCL1",       "TE1",             "SPI2_CE2_N",   _),
    46: ("SDA0",       "SDA1",        "SPI0_CE0_N", _,                 _,              "SPI2_CE1_N"),
    47: ("SCL0",       "SCL1",        "SPI0_MISO",  _,                 _,              "SPI2_CE0_N"),
    48: ("SD0_CLK",    "FL0",         "SPI0_MOSI",  "SD1_CLK",         "ARM_TRST",     "SPI2_SCLK"),
    49: ("SD0_CMD",    "GPCLK0",      "SPI0_SCLK",  "SD1_CMD",         "ARM_RTCK",     "SPI2_MOSI"),
    50: ("SD0_DAT0",   "GPCLK1",      "PCM_CLK",    "SD1_DAT0",        "ARM_TDO",      _),
    51: ("SD0_DAT1",   "GPCLK2",      "PCM_FS",     "SD1_DAT1",        "ARM_TCK",      _),
    52: ("SD0_DAT2",   "PWM0",        "PCM_DIN",    "SD1_DAT2",        "ARM_TDI",      _),
    53: ("SD0_DAT3",   "PWM1",        "PCM_DOUT",   "SD1_DAT3",        "ARM_TMS",      _),
})

BCM2711_ALT: Mapping[int, AltRow] = MappingProxyType({
    # GPIO: (ALT0,        ALT1,          ALT2,         ALT3,              ALT4,               ALT5)
    0:  ("SDA0",       "SA5",         "PCLK",       "SPI3_CE0_N",      "TXD2",             "SDA6"),
    1:  ("SCL0",       "SA4",         "DE",         "SPI3_MISO",       "RXD2",             "SCL6"),
    2:  ("SDA1",       "SA3",         "LCD_VSYNC",  "SPI3_MOSI",       "CTS2",             "SDA3"),
    3:  ("SCL1",       "SA2",         "LCD_HSYNC",  "SPI3_SCLK",       "RTS2",             "SCL3"),
    4:  ("GPCLK0",     "SA1",         "DPI_D0",     "SPI4_CE0_N",      "TXD3",             "SDA3"),
    5:  ("GPCLK1",     "SA0",         "DPI_D1",     "SPI4_MISO",       "RXD3",             "SCL3"),
    6:  ("GPCLK2",     "SOE_N/SE",    "DPI_D2",     "SPI4_MOSI",       "CTS3",             "SDA4"),
    7:  ("SPI0_CE1_N", "SWE_N/SRW_N", "DPI_D3",     "SPI4_SCLK",       "RTS3",             "SCL4"),
    8:  ("SPI0_CE0_N", "SD0",         "DPI_D4",     "BSCSL/CE_N",      "TXD4",             "SDA4"),
    9:  ("SPI0_MISO",  "SD1",         "DPI_D5",     "BSCSL/MISO",      "RXD4",             "SCL4"),
    10: ("SPI0_MOSI",  "SD2",         "DPI_D6",     "BSCSL SDA/MOSI",  "CTS4",             "SDA5"),
    11: ("SPI0_SCLK",  "SD3",         "DPI_D7",     "BSCSL SCL/SCLK",  "RTS4",             "SCL5"),
    12: ("PWM0_0",     "SD4",         "DPI_D8",     "SPI5_CE0_N",      "TXD5",             "SDA5"),
    13: ("PWM0_1",     "SD5",         "DPI_D9",     "SPI5_MISO",       "RXD5",             "SCL5"),
    14: ("TXD0",       "SD6",         "DPI_D10",    "SPI5_MOSI",       "CTS5",             "TXD1"),
    15: ("RXD0",       "SD7",         "DPI_D11",    "SPI5_SCLK",       "RTS5",             "RXD1"),
    16: (_,            "SD8",         "DPI_D12",    "CTS0",            "SPI1_CE2_N",       "CTS1"),
    17: (_,            "SD9",         "DPI_D13",    "RTS0",            "SPI1_CE1_N",       "RTS1"),
    18: ("PCM_CLK",    "SD10",        "DPI_D14",    "SPI6_CE0_N",      "SPI1_CE0_N",       "PWM0_0"),
    19: ("PCM_FS",     "SD11",        "DPI_D15",    "SPI6_MISO",       "SPI1_MISO",        "PWM0_1"),
    20: ("PCM_DIN",    "SD12",        "DPI_D16",    "SPI6_MOSI",       "SPI1_MOSI",        "GPCLK0"),
    21: ("PCM_DOUT",   "SD13",        "DPI_D17",    "SPI6_SCLK",       "SPI1_SCLK",        "GPCLK1"),
    22: ("SD0_CLK",    "SD14",        "DPI_D18",    "SD1_CLK",         "ARM_TRST",         "SDA6"),
    23: ("SD0_CMD",    "SD15",        "DPI_D19",    "SD1_CMD",         "ARM_RTCK",         "SCL6"),
    24: ("SD0_DAT0",   "SD16",        "DPI_D20",    "SD1_DAT0",        "ARM_TDO",          "SPI3_CE1_N"),
    25: ("SD0_DAT1",   "SD17",        "DPI_D21",    "SD1_DAT1",        "ARM_TCK",          "SPI4_CE1_N"),
    26: ("SD0_DAT2",   _,             "DPI_D22",    "SD1_DAT2",        "ARM_TDI",          "SPI5_CE1_N"),
    27: ("SD0_DAT3",   _,             "DPI_D23",    "SD1_DAT3",        "ARM_TMS",          "SPI6_CE1_N"),
    # GPIO28-45: BCM2711-DS table (raspi-gpio gpio_alt_names_2711 agrees)
    28: ("SDA0",       "SA5",         "PCM_CLK",    _,                 "MII_A_RX_ERR",     "RGMII_MDIO"),
    29: ("SCL0",       "SA4",         "PCM_FS",     _,                 "MII_A_TX_ERR",     "RGMII_MDC"),
    30: (_,            "SA3",         "PCM_DIN",    "CTS0",            "MII_A_CRS",        "CTS1"),
    31: (_,            "SA2",         "PCM_DOUT",   "RTS0",            "MII_A_COL",        "RTS1"),
    32: ("GPCLK0",     "SA1",         _,            "TXD0",            "SD_CARD_PRES",     "TXD1"),
    33: (_,            "SA0",         _,            "RXD0",            "SD_CARD_WRPROT",   "RXD1"),
    34: ("GPCLK0",     "SOE_N/SE",    _,            "SD1_CLK",         "SD_CARD_LED",      "RGMII_IRQ"),
    35: ("SPI0_CE1_N", "SWE_N/SRW_N", _,            "SD1_CMD",         "RGMII_START_STOP", _),
    36: ("SPI0_CE0_N", "SD0",         "TXD0",       "SD1_DAT0",        "RGMII_RX_OK",      "MII_A_RX_ERR"),
    37: ("SPI0_MISO",  "SD1",         "RXD0",       "SD1_DAT1",        "RGMII_MDIO",       "MII_A_TX_ERR"),
    38: ("SPI0_MOSI",  "SD2",         "RTS0",       "SD1_DAT2",        "RGMII_MDC",        "MII_A_CRS"),
    39: ("SPI0_SCLK",  "SD3",         "CTS0",       "SD1_DAT3",        "RGMII_IRQ",        "MII_A_COL"),
    40: ("PWM1_0",     "SD4",         _,            "SD1_DAT4",        "SPI0_MISO",        "TXD1"),
    41: ("PWM1_1",     "SD5",         _,            "SD1_DAT5",        "SPI0_MOSI",        "RXD1"),
    42: ("GPCLK1",     "SD6",         _,            "SD1_DAT6",        "SPI0_SCLK",        "RTS1"),
    43: ("GPCLK2",     "SD7",         _,            "SD1_DAT7",        "SPI0_CE0_N",       "CTS1"),
    44: ("GPCLK1",     "SDA0",        "SDA1",       _,                 "SPI0_CE1_N",       "SD_CARD_VOLT"),
    45: ("PWM0_1",     "SCL0",        "SCL1",       _,                 "SPI0_CE2_N",       "SD_CARD_PWR0"),
    # GPIO46-53: raspi-gpio only (BCM2711-DS: "<Internal>"); 54-57: no public source
    46: ("SDA0",       "SDA1",        "SPI0_CE0_N", _,                 _,                  "SPI2_CE1_N"),
    47: ("SCL0",       "SCL1",        "SPI0_MISO",  _,                 _,                  "SPI2_CE0_N"),
    48: ("SD0_CLK",    _,             "SPI0_MOSI",  "SD1_CLK",         "ARM_TRST",         "SPI2_SCLK"),
    49: ("SD0_CMD",    "GPCLK0",      "SPI0_SCLK",  "SD1_CMD",         "ARM_RTCK",         "SPI2_MOSI"),
    50: ("SD0_DAT0",   "GPCLK1",      "PCM_CLK",    "SD1_DAT0",        "ARM_TDO",          "SPI2_MISO"),
    51: ("SD0_DAT1",   "GPCLK2",      "PCM_FS",     "SD1_DAT1",        "ARM_TCK",          "SD_CARD_LED"),
    52: ("SD0_DAT2",   "PWM0_0",      "PCM_DIN",    "SD1_DAT2",        "ARM_TDI",          _),
    53: ("SD0_DAT3",   "PWM0_1",      "PCM_DOUT",   "SD1_DAT3",        "ARM_TMS",          _),
    54: (_, _, _, _, _, _),
    55: (_, _, _, _, _, _),
    56: (_, _, _, _, _, _),
    57: (_, _, _, _, _, _),
})
# fmt: on

BCM2835_UNDOCUMENTED: frozenset[tuple[int, int]] = frozenset(
    [(line, 2) for line in range(28)]  # the DPI column: "<reserved>" in the datasheet
    + [(line, alt) for line in range(16) for alt in (3, 4)]  # AVEOUT/AVEIN
    + [(16, 0), (17, 0), (26, 1), (27, 1)]  # FL0/FL1, TE0/TE1
    + [(line, 0) for line in range(22, 28)]  # SD0_* on 22-27
    + [(line, alt) for line in range(46, 54) for alt in range(6)]  # "Internal" in the datasheet
)
"""(line, alt) cells of the BCM2835 table that come from raspi-gpio, not the datasheet (§3.9)."""

BCM2711_UNDOCUMENTED: frozenset[tuple[int, int]] = frozenset(
    (line, alt) for line in range(46, 58) for alt in range(6)
)
"""(line, alt) cells of the BCM2711 table not in BCM2711-DS ("<Internal>", §3.9)."""

ALT_TABLES: Mapping[str, Mapping[int, AltRow]] = MappingProxyType(
    {"BCM2835": BCM2835_ALT, "BCM2711": BCM2711_ALT}
)


def alt_table(soc: str) -> Mapping[int, AltRow]:
    """The table of one SoC by name (``"BCM2835"`` or ``"BCM2711"``)."""
    try:
        return ALT_TABLES[soc.upper()]
    except KeyError:
        raise ValueError(
            f"no alternate-function table for SoC {soc!r}; known: BCM2835, BCM2711"
        ) from None


def lines_with_signal(table: Mapping[int, AltRow], signal: str) -> list[tuple[int, int]]:
    """Every (line, alt number) whose alternate function is ``signal``."""
    return [(line, alt) for line, row in table.items() for alt, s in enumerate(row) if s == signal]


def signal_names(table: Mapping[int, AltRow]) -> frozenset[str]:
    """Every signal name the table knows."""
    return frozenset(s for row in table.values() for s in row if s is not None)


_BROADCOM_TO_SEED = (
    (re.compile(r"^SDA(\d)$"), "I2C{}_SDA"),
    (re.compile(r"^SCL(\d)$"), "I2C{}_SCL"),
    (re.compile(r"^TXD(\d)$"), "UART{}_TXD"),
    (re.compile(r"^RXD(\d)$"), "UART{}_RXD"),
    (re.compile(r"^CTS(\d)$"), "UART{}_CTS"),
    (re.compile(r"^RTS(\d)$"), "UART{}_RTS"),
)
_SEED_TO_BROADCOM = (
    (re.compile(r"^I2C(\d)_SDA$"), "SDA{}"),
    (re.compile(r"^I2C(\d)_SCL$"), "SCL{}"),
    (re.compile(r"^UART(\d)_TXD$"), "TXD{}"),
    (re.compile(r"^UART(\d)_RXD$"), "RXD{}"),
    (re.compile(r"^UART(\d)_CTS$"), "CTS{}"),
    (re.compile(r"^UART(\d)_RTS$"), "RTS{}"),
)


def seed_signal_name(signal: str) -> str:
    """The seed's recommended spelling: ``SDA1`` → ``I2C1_SDA``, ``TXD0`` → ``UART0_TXD``.

    Seed (RPi low-level peripherals, "Referring to pins"): "Instead of using "SDA0" and
    "SCL0", "I2C0_SDA" and "I2C0_SCL" should be used; and "UART0_TXD" and "UART0_RXD"".
    SPI names are kept as Broadcom spells them.
    """
    for pattern, template in _BROADCOM_TO_SEED:
        m = pattern.match(signal)
        if m:
            return template.format(m.group(1))
    return signal


def broadcom_signal_name(name: str) -> str:
    """The inverse of `seed_signal_name`: ``I2C1_SDA`` → ``SDA1``; other names unchanged."""
    for pattern, template in _SEED_TO_BROADCOM:
        m = pattern.match(name)
        if m:
            return template.format(m.group(1))
    return name
