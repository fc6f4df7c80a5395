"""The part every piece of the simulated backend shares: the translation of emulator
exceptions into the driver's (`translate`, `translated`) and the state and block look-up of
`SimCore`, which `SimulatedBackend` (`simulated`) sets up and its GPIO (`sim_gpio`) and bus
(`sim_buses`) parts use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from pihil_emulator import errors as emu

from ..board_info import BoardInfo
from ..enums import DeviceErrorCode, Direction, Drive, Edge, Pull
from ..errors import (
    BusError,
    BusTimeoutError,
    ConfigurationError,
    ElectricalFaultError,
    I2cClockStretchTimeoutError,
    I2cNackError,
    PihilError,
    ProfileError,
    RegisterAccessError,
    SelectorError,
)
from ..utility import ErrorQueryResult

__all__ = ["Direction", "Drive", "Edge", "Pull", "SimCore", "translate", "translated"]
"""The enums too: the emulator's userspace (`pihil_emulator.userspace.gpio_chip.GpioChip`) takes
the backend's enums from the globals of ``gpio_set_direction``, which `translated` wraps here."""

P = ParamSpec("P")
T = TypeVar("T")

# -- exception translation ----------------------------------------------------------------


def translate(exc: emu.EmulatorError) -> PihilError:
    """The driver exception for an emulator exception (the caller chains the original)."""
    cause = exc.__cause__
    if type(cause) is type(exc):
        # SimPy re-raises a failed process's exception as a copy whose cause is the original
        exc = cause
    if isinstance(exc, emu.ElectricalFault):
        return ElectricalFaultError(str(exc), net=exc.net, drivers=exc.drivers, time_ns=exc.time_ns)
    if isinstance(exc, emu.BusError):
        kind = {
            "nack": I2cNackError,
            "clkt": I2cClockStretchTimeoutError,
            "timeout": BusTimeoutError,
        }.get(exc.kind, BusError)
        return kind(
            str(exc),
            bus=exc.bus,
            kind=exc.kind,
            address=exc.address,
            phase=exc.phase,
            transferred=exc.transferred,
            errno_name=exc.errno_name,
        )
    if isinstance(exc, emu.ConfigurationError):
        return ConfigurationError(str(exc))
    if isinstance(exc, emu.PinError):
        return SelectorError(str(exc), legal=())
    if isinstance(exc, emu.RegisterError):
        return RegisterAccessError(str(exc))
    if isinstance(exc, emu.ProfileError):
        return ProfileError(str(exc))
    return PihilError(f"emulator error: {exc}")


def translated(fn: Callable[P, T]) -> Callable[P, T]:
    """Run a backend method, turning emulator exceptions into driver exceptions (chained).

    An electrical fault stamped later than the call began happened while simulated time
    ran (a scheduled fault, a device): the board saw it on its own, so it is also queued
    as a device error, besides being raised by the call that ran the time.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        backend = args[0]
        assert isinstance(backend, SimCore)
        # `now_ns` without its calls (every translated call pays them): SimPy's clock, made an
        # int only when an error needs it
        start = backend._world.env.time_ns
        try:
            return fn(*args, **kwargs)
        except emu.EmulatorError as exc:
            error = translate(exc)
            if isinstance(error, ElectricalFaultError) and (error.time_ns or 0) > int(start):
                backend.record_device_error(DeviceErrorCode.ELECTRICAL_FAULT, str(error))
            raise error from exc

    return wrapper


class SimCore:
    """What the parts of `SimulatedBackend` share: the emulator board, its description, the
    buses' controllers and the queue of device errors (all set by `SimulatedBackend._setup`)."""

    _board: Any
    _info: BoardInfo
    _world: Any
    _controllers: dict[tuple[str, int], str]
    _errors: list[ErrorQueryResult]

    def _block_or_none(self, kind: str, number: int) -> Any:
        name = self._controllers.get((kind, number))
        return None if name is None else self._board.soc.blocks.get(name)

    def _block(self, kind: str, number: int) -> Any:
        name = self._controllers.get((kind, number), f"{kind}{number}")
        return self._board.soc.block(name)

    def record_device_error(self, code: DeviceErrorCode, message: str) -> None:
        """Queue an error the board reported on its own."""
        self._errors.append(ErrorQueryResult(int(code), message))
