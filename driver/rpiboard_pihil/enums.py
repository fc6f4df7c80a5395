"""Enumerations of the driver's settings and repeated-capability names.

The capability enums (`GpioLine`, `I2cBusId`, `SpiBusId`, `ChipSelect`,
`UartId`, `HeaderPin`) index the collections the way strings and integers do:
``board.gpios[GpioLine.GPIO17]`` is ``board.gpios[17]`` is ``board.gpios["GPIO17"]``.
Members a given board does not have are rejected by the collection with the
list of legal names.
"""

from __future__ import annotations

import enum


class Direction(enum.Enum):
    """Direction of a GPIO line."""

    INPUT = "input"
    OUTPUT = "output"


class Pull(enum.Enum):
    """The SoC's own pull resistor on a GPIO line (about 50 kohm, soc-facts §3.6)."""

    NONE = "none"
    UP = "up"
    DOWN = "down"


class Drive(enum.Enum):
    """Output drive: push-pull, or open-drain (only ever drives low; high is released)."""

    PUSH_PULL = "push-pull"
    OPEN_DRAIN = "open-drain"


class Edge(enum.Enum):
    """Which edges a GPIO line's edge detection reports."""

    NONE = "none"
    RISING = "rising"
    FALLING = "falling"
    BOTH = "both"


class EdgeKind(enum.Enum):
    """The kind of one detected edge event."""

    RISING = "rising"
    FALLING = "falling"


class Function(enum.Enum):
    """GPFSEL function of a pin (soc-facts §3.3): GPIO input/output or ALT0..ALT5."""

    INPUT = "input"
    OUTPUT = "output"
    ALT0 = "alt0"
    ALT1 = "alt1"
    ALT2 = "alt2"
    ALT3 = "alt3"
    ALT4 = "alt4"
    ALT5 = "alt5"


class Parity(enum.Enum):
    """UART parity (soc-facts §4.2: the PL011 has all five, the mini UART only NONE)."""

    NONE = "N"
    EVEN = "E"
    ODD = "O"
    MARK = "M"
    SPACE = "S"


class PinKind(enum.Enum):
    """What a header pin is: a GPIO line, a supply rail, ground, or something else."""

    GPIO = "gpio"
    POWER = "power"
    GROUND = "ground"
    OTHER = "other"


class DeviceErrorCode(enum.IntEnum):
    """Codes of the errors the board reports on its own (``ivi_utility.error_query``)."""

    ELECTRICAL_FAULT = 1
    BUS_ERROR = 2
    UART_FRAMING = 3
    UART_PARITY = 4
    UART_OVERRUN = 5
    UART_BREAK = 6
    EDGE_EVENT_OVERFLOW = 7
    BOARD_RESET = 8
    REGISTER_WARNING = 9


class GpioLine(enum.IntEnum):
    """SoC GPIO lines by their Broadcom name (54 on BCM2835, 58 on BCM2711)."""

    GPIO0 = 0
    GPIO1 = 1
    GPIO2 = 2
    GPIO3 = 3
    GPIO4 = 4
    GPIO5 = 5
    GPIO6 = 6
    GPIO7 = 7
    GPIO8 = 8
    GPIO9 = 9
    GPIO10 = 10
    GPIO11 = 11
    GPIO12 = 12
    GPIO13 = 13
    GPIO14 = 14
    GPIO15 = 15
    GPIO16 = 16
    GPIO17 = 17
    GPIO18 = 18
    GPIO19 = 19
    GPIO20 = 20
    GPIO21 = 21
    GPIO22 = 22
    GPIO23 = 23
    GPIO24 = 24
    GPIO25 = 25
    GPIO26 = 26
    GPIO27 = 27
    GPIO28 = 28
    GPIO29 = 29
    GPIO30 = 30
    GPIO31 = 31
    GPIO32 = 32
    GPIO33 = 33
    GPIO34 = 34
    GPIO35 = 35
    GPIO36 = 36
    GPIO37 = 37
    GPIO38 = 38
    GPIO39 = 39
    GPIO40 = 40
    GPIO41 = 41
    GPIO42 = 42
    GPIO43 = 43
    GPIO44 = 44
    GPIO45 = 45
    GPIO46 = 46
    GPIO47 = 47
    GPIO48 = 48
    GPIO49 = 49
    GPIO50 = 50
    GPIO51 = 51
    GPIO52 = 52
    GPIO53 = 53
    GPIO54 = 54
    GPIO55 = 55
    GPIO56 = 56
    GPIO57 = 57


class I2cBusId(enum.IntEnum):
    """I2C buses by number (Linux ``/dev/i2c-N``; BSCn for the SoC's own controllers)."""

    I2C0 = 0
    I2C1 = 1
    I2C3 = 3
    I2C4 = 4
    I2C5 = 5
    I2C6 = 6
    I2C10 = 10


class SpiBusId(enum.IntEnum):
    """SPI buses by number (Linux ``/dev/spidevB.C``)."""

    SPI0 = 0
    SPI1 = 1
    SPI3 = 3
    SPI4 = 4
    SPI5 = 5
    SPI6 = 6


class ChipSelect(enum.IntEnum):
    """Chip selects of an SPI bus."""

    CE0 = 0
    CE1 = 1
    CE2 = 2


class UartId(enum.IntEnum):
    """UARTs by number: UART0 and UART2-5 are PL011s, UART1 is the mini UART."""

    UART0 = 0
    UART1 = 1
    UART2 = 2
    UART3 = 3
    UART4 = 4
    UART5 = 5


class HeaderPin(enum.StrEnum):
    """Header pins by the seed's naming (``P1-03``, ``P5-04``, ``J8-11``)."""

    P1_01 = "P1-01"
    P1_02 = "P1-02"
    P1_03 = "P1-03"
    P1_04 = "P1-04"
    P1_05 = "P1-05"
    P1_06 = "P1-06"
    P1_07 = "P1-07"
    P1_08 = "P1-08"
    P1_09 = "P1-09"
    P1_10 = "P1-10"
    P1_11 = "P1-11"
    P1_12 = "P1-12"
    P1_13 = "P1-13"
    P1_14 = "P1-14"
    P1_15 = "P1-15"
    P1_16 = "P1-16"
    P1_17 = "P1-17"
    P1_18 = "P1-18"
    P1_19 = "P1-19"
    P1_20 = "P1-20"
    P1_21 = "P1-21"
    P1_22 = "P1-22"
    P1_23 = "P1-23"
    P1_24 = "P1-24"
    P1_25 = "P1-25"
    P1_26 = "P1-26"
    P5_01 = "P5-01"
    P5_02 = "P5-02"
    P5_03 = "P5-03"
    P5_04 = "P5-04"
    P5_05 = "P5-05"
    P5_06 = "P5-06"
    P5_07 = "P5-07"
    P5_08 = "P5-08"
    J8_01 = "J8-01"
    J8_02 = "J8-02"
    J8_03 = "J8-03"
    J8_04 = "J8-04"
    J8_05 = "J8-05"
    J8_06 = "J8-06"
    J8_07 = "J8-07"
    J8_08 = "J8-08"
    J8_09 = "J8-09"
    J8_10 = "J8-10"
    J8_11 = "J8-11"
    J8_12 = "J8-12"
    J8_13 = "J8-13"
    J8_14 = "J8-14"
    J8_15 = "J8-15"
    J8_16 = "J8-16"
    J8_17 = "J8-17"
    J8_18 = "J8-18"
    J8_19 = "J8-19"
    J8_20 = "J8-20"
    J8_21 = "J8-21"
    J8_22 = "J8-22"
    J8_23 = "J8-23"
    J8_24 = "J8-24"
    J8_25 = "J8-25"
    J8_26 = "J8-26"
    J8_27 = "J8-27"
    J8_28 = "J8-28"
    J8_29 = "J8-29"
    J8_30 = "J8-30"
    J8_31 = "J8-31"
    J8_32 = "J8-32"
    J8_33 = "J8-33"
    J8_34 = "J8-34"
    J8_35 = "J8-35"
    J8_36 = "J8-36"
    J8_37 = "J8-37"
    J8_38 = "J8-38"
    J8_39 = "J8-39"
    J8_40 = "J8-40"
