"""pihil_emulator: a discrete-event (SimPy) model of Raspberry Pi class boards."""

from .errors import (
    BusError,
    ConfigurationError,
    ElectricalFault,
    EmulatorError,
    PinError,
    ProfileError,
    RegisterError,
)

__all__ = [
    "BusError",
    "ConfigurationError",
    "ElectricalFault",
    "EmulatorError",
    "PinError",
    "ProfileError",
    "RegisterError",
]
