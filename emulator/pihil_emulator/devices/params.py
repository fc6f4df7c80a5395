"""What a device model is given by a board profile: its parameters, read with type checks (`Params`).

A factory of the device registry (`registry.DEVICE_MODELS`) is called as
``factory(address, name, params)`` and checks ``params`` with `Params`, so a typo or a wrong
type is an error naming the model, the key and what is accepted; `DeviceEntry` is one entry of
the registry, and `line_settings_from` reads a UART device's line settings from its
parameters. Below the registry and the device modules, so both import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar, cast

from ..buses.uart_line import LineSettings, parity_name
from ..errors import ConfigurationError

BusKind = Literal["i2c", "spi", "uart", "gpio"]
BUS_KINDS: tuple[BusKind, ...] = ("i2c", "spi", "uart", "gpio")
Factory = Callable[[int | None, str, Mapping[str, object]], object]


T = TypeVar("T")


@dataclass(frozen=True)
class DeviceEntry:
    """How to build one model: its bus kind, factory, default I2C address, one-line description."""

    bus_kind: BusKind
    factory: Factory
    default_address: int | None = None
    description: str = ""


class Params:
    """A profile's parameters for one device, read with type checks; leftovers are an error."""

    def __init__(self, model: str, params: Mapping[str, object]) -> None:
        self.model = model
        self._params = dict(params)
        self._used: set[str] = set()

    def _get(self, key: str, kinds: tuple[type, ...], what: str, default: T) -> object | T:
        self._used.add(key)
        if key not in self._params:
            return default
        value = self._params[key]
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise ConfigurationError(
                f"device model {self.model!r}: parameter {key!r} must be {what}, "
                f"got {value!r} ({type(value).__name__})"
            )
        return value

    def get_int(self, key: str, default: int) -> int:
        return cast(int, self._get(key, (int,), "an integer", default))

    def get_float(self, key: str, default: float) -> float:
        return float(cast(float, self._get(key, (int, float), "a number", default)))

    def get_bool(self, key: str, default: bool) -> bool:
        return cast(bool, self._get(key, (bool,), "true or false", default))

    def get_str(self, key: str, default: str | None = None) -> str | None:
        return cast("str | None", self._get(key, (str,), "a string", default))

    def get_mapping(self, key: str) -> Mapping[object, object]:
        return cast(Mapping[object, object], self._get(key, (dict,), "a mapping", {}))

    def get_list(self, key: str) -> list[object]:
        return cast(list[object], self._get(key, (list,), "a list", []))

    def get_raw(self, key: str) -> object:
        self._used.add(key)
        return self._params.get(key)

    def done(self) -> None:
        """Raise if the profile gave parameters this model does not take."""
        unknown = sorted(set(self._params) - self._used)
        if unknown:
            raise ConfigurationError(
                f"device model {self.model!r} has no parameter(s) {', '.join(map(repr, unknown))}; "
                f"it takes: {', '.join(sorted(self._used)) or 'none'}"
            )


def line_settings_from(p: Params, default: LineSettings) -> LineSettings:
    """``baud``, ``data_bits``, ``parity``, ``stop_bits`` parameters of a profile entry."""
    return LineSettings(
        p.get_float("baud", default.baud),
        p.get_int("data_bits", default.data_bits),
        parity_name(p.get_str("parity", default.parity) or "none"),
        p.get_int("stop_bits", default.stop_bits),
    )
