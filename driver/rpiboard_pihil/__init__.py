"""rpiboard_pihil: the IVI-Python driver ``RpiBoard_Pihil`` for Raspberry Pi class boards.

``RpiBoard("local", options={"simulate": True, "board": "mirkopc"})`` opens an
emulated board; ``RpiBoard("local")`` on the Pi itself drives its kernel
devices. See "Introduction to RpiBoard_Pihil.md" beside this package's
sources for the documentation map.

Content from the IVI specifications reproduced with permission from the IVI Foundation.

The IVI Foundation and its member companies make no warranty of any kind with
regard to this material, including, but not limited to, the implied
warranties of merchantability and fitness for a particular purpose. The IVI
Foundation and its member companies shall not be liable for errors contained
herein or for incidental or consequential damages in connection with the
furnishing, performance, or use of this material.
"""

from .backends.base import EdgeEvent, I2cMessage, UartFormat
from .board import RpiBoard
from .board_info import BoardInfo, I2cBusInfo, PinInfo, SpiBusInfo, UartInfo
from .collection import RepeatedCapabilityCollection
from .enums import (
    ChipSelect,
    DeviceErrorCode,
    Direction,
    Drive,
    Edge,
    EdgeKind,
    Function,
    GpioLine,
    HeaderPin,
    I2cBusId,
    Parity,
    PinKind,
    Pull,
    SpiBusId,
    UartId,
)
from .errors import (
    BusError,
    BusTimeoutError,
    ConfigurationError,
    ElectricalFaultError,
    I2cClockStretchTimeoutError,
    I2cNackError,
    IdQueryError,
    InstrumentStatusError,
    NotSupportedError,
    OptionError,
    PihilError,
    ProfileError,
    RegisterAccessError,
    ResourceBusyError,
    ResourceNameError,
    ResourceNotFoundError,
    SelectorError,
    SessionClosedError,
    SimulationNotAvailableError,
    UartError,
)
from .gpio import Gpio, GpioCollection
from .i2c import I2cBus, I2cBusCollection
from .options import Options
from .pins import Pin, PinCollection
from .spi import SpiBus, SpiBusCollection, SpiDevice, SpiDeviceCollection
from .uart import Uart, UartCollection
from .utility import (
    DRIVER_IDENTIFIER,
    DRIVER_VERSION,
    ErrorQueryResult,
    IviUtility,
    RpiBoardUtility,
)

__version__ = DRIVER_VERSION

__all__ = [
    "DRIVER_IDENTIFIER",
    "DRIVER_VERSION",
    "BoardInfo",
    "BusError",
    "BusTimeoutError",
    "ChipSelect",
    "ConfigurationError",
    "DeviceErrorCode",
    "Direction",
    "Drive",
    "Edge",
    "EdgeEvent",
    "EdgeKind",
    "ElectricalFaultError",
    "ErrorQueryResult",
    "Function",
    "Gpio",
    "GpioCollection",
    "GpioLine",
    "HeaderPin",
    "I2cBus",
    "I2cBusCollection",
    "I2cBusId",
    "I2cBusInfo",
    "I2cClockStretchTimeoutError",
    "I2cMessage",
    "I2cNackError",
    "IdQueryError",
    "InstrumentStatusError",
    "IviUtility",
    "NotSupportedError",
    "OptionError",
    "Options",
    "Parity",
    "PihilError",
    "Pin",
    "PinCollection",
    "PinInfo",
    "PinKind",
    "ProfileError",
    "Pull",
    "RegisterAccessError",
    "RepeatedCapabilityCollection",
    "ResourceBusyError",
    "ResourceNameError",
    "ResourceNotFoundError",
    "RpiBoard",
    "RpiBoardUtility",
    "SelectorError",
    "SessionClosedError",
    "SimulationNotAvailableError",
    "SpiBus",
    "SpiBusCollection",
    "SpiBusId",
    "SpiBusInfo",
    "SpiDevice",
    "SpiDeviceCollection",
    "Uart",
    "UartCollection",
    "UartError",
    "UartFormat",
    "UartId",
    "UartInfo",
    "__version__",
]
