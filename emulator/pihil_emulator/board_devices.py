"""What a board attaches: its device models, by profile name, on their buses or pins.

`DeviceWiring` is the part of `Board` (board.py) that builds the profile's devices through
the device registry, wires a model to a bus by role (``board.attach``) and takes it off
again (``board.detach``); `DeviceMap` is ``board.devices`` with errors that explain;
`require_model` refuses a model a bus of its kind could not talk to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .attachments import Attachment, Attachments
from .boards.build import device_registry
from .boards.schema import BoardProfile, DeviceSpec
from .buses.i2c_slave import hub_for, i2c_slaves
from .buses.i2c_target import I2cTarget
from .buses.spi_target import SpiTarget
from .buses.uart_target import UartTarget
from .errors import ConfigurationError, EmulatorError, ProfileError
from .world.clock import World
from .world.net import Net

if TYPE_CHECKING:
    from .board import Board
    from .soc.gpio import GpioBlock


class UnknownDevice(EmulatorError, KeyError):
    """A device name the board does not have, or one declared without a model yet."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DeviceMap(dict[str, object]):
    """``board.devices``: the device models by profile name, with errors that explain."""

    def __init__(self, board_name: str, unmodelled: Mapping[str, DeviceSpec]) -> None:
        super().__init__()
        self._board = board_name
        self._unmodelled = unmodelled

    def __missing__(self, name: str) -> object:
        spec = self._unmodelled.get(name)
        if spec is not None:
            where = f" on {spec.bus}" if spec.bus else ""
            raise UnknownDevice(
                f"{name} ({spec.part}{where}) is declared by the {self._board} profile but has "
                f"no model yet; modelled devices: {', '.join(self) or 'none'}"
            )
        raise UnknownDevice(
            f"the {self._board} board has no device {name!r}; devices: "
            f"{', '.join([*self, *self._unmodelled]) or 'none'}"
        )


class DeviceWiring:
    """The device half of `Board`: the attributes it uses are the board's own."""

    profile: BoardProfile
    world: World
    gpio: GpioBlock
    attachments: Attachments
    devices: DeviceMap
    unmodelled: dict[str, DeviceSpec]
    _bound: set[int]

    if TYPE_CHECKING:

        def net(self, name: str | Net) -> Net: ...  # Board.net

    def _build_devices(self) -> None:
        registry = device_registry()
        models = set(registry.known_models())
        for spec in self.profile.devices.values():
            if spec.model not in models:
                self.unmodelled[spec.name] = spec
                continue
            params = dict(spec.params)
            if spec.part != spec.model:
                params.setdefault("part", spec.part)
            try:
                device = registry.create_device(
                    spec.model, name=spec.name, address=spec.address, params=params
                )
            except (TypeError, ValueError, EmulatorError) as exc:
                raise ProfileError(
                    self.profile.file,
                    f"devices.{spec.name}",
                    f"parameters the {spec.model} model accepts ({exc})",
                ) from exc
            self.devices[spec.name] = device
            self._attach_spec(device, spec)

    def _attach_spec(self, device: object, spec: DeviceSpec) -> None:
        roles: dict[str, Any] = dict(spec.pins)
        if spec.kind == "spi":
            roles["cs"] = f"ce{spec.chip_select}"
        if spec.bus is not None:
            self.attach(device, bus=spec.bus, **roles)
        else:
            if spec.gpio is not None:
                roles.setdefault("pin", f"GPIO{spec.gpio}")
            if roles:
                self.attach(device, bus=spec.name, kind="gpio", **roles)
            else:
                self._bind(device)

    def device(self, name: str) -> object:
        return self.devices[name]

    def _bind(self, device: object) -> None:
        bind = getattr(device, "bind", None)
        if callable(bind) and id(device) not in self._bound:
            self._bound.add(id(device))
            bind(self.world)

    def attach(
        self,
        device: object,
        bus: str = "i2c1",
        *,
        kind: str | None = None,
        **roles: str | Net,
    ) -> Attachment:
        """Wire a device model to a bus of the profile (its pins by role), or to any pins.

        On a profile bus the device gets the bus's pins; extra ``roles`` add pins (or, for
        SPI, pick the chip select: ``cs="ce1"``). Elsewhere give every role's pin and the
        ``kind`` (``i2c``, ``spi``, ``uart``, ``gpio``). The device is bound to the board's
        world once (``device.bind(world)`` when it has one).
        """
        if kind is not None and not isinstance(kind, str):
            raise ConfigurationError(
                f"attach() takes kind= as one of i2c, spi, uart, gpio; got {kind!r}"
            )
        if not isinstance(bus, str):
            raise ConfigurationError(
                f"attach() takes the bus by name ({', '.join(self.profile.buses) or 'none'}, "
                f"or a name of your own with kind= and the pins), got {bus!r}"
            )
        spec = self.profile.buses.get(bus)
        nets: dict[str, Net] = {}
        if spec is not None:
            if kind is not None and kind != spec.kind:
                raise ConfigurationError(f"{bus} is an {spec.kind} bus, not {kind}")
            kind = spec.kind
            for role, line in spec.gpios.items():
                if not (spec.kind == "spi" and role.startswith("ce")):
                    nets[role] = self.gpio.net(line)
            if spec.kind == "spi" and "cs" not in roles:
                raise ConfigurationError(
                    f"say which chip select of {bus} the device is on: cs='ce0' "
                    f"(it has {', '.join(f'ce{c}' for c in spec.chip_selects)})"
                )
        elif kind is None:
            raise ConfigurationError(
                f"{bus!r} is not a bus of the {self.profile.name} profile "
                f"({', '.join(self.profile.buses) or 'none'}); give kind= and the pins by role"
            )
        for role, pin in roles.items():
            if spec is not None and isinstance(pin, str) and pin in spec.gpios:
                nets[role] = self.gpio.net(spec.gpios[pin])
            else:
                nets[role] = self.net(pin)
        if device is None or isinstance(device, bool | int | float | str | bytes):
            raise ConfigurationError(f"attach() takes a device model object, got {device!r}")
        if kind == "i2c" and not {"sda", "scl"} <= nets.keys():
            raise ConfigurationError(
                f"an I2C device needs its sda and scl pins (sda='GPIO23', scl='GPIO24'); "
                f"got roles: {', '.join(nets) or 'none'}"
            )
        attachment = self.attachments.attach(device, bus, kind, nets)
        self._bind(device)
        # an I2C target answers edges on its pins from now on, whoever makes them (a bus,
        # or test code toggling GPIOs), not only once a controller has looked for it
        i2c_slaves(self.world, [attachment])
        return attachment

    def detach(self, device: object) -> list[Attachment]:
        """Take a device off every bus it is on; an I2C target also lets go of its pins."""
        removed = self.attachments.detach(device)
        if not removed:
            raise ConfigurationError(
                f"{_device_name(device)} is not attached to this board (never attached, or "
                "detached already); nothing to detach"
            )
        if any(a.kind == "i2c" for a in removed):
            hub_for(self.world).forget(device)
        return removed


_MODEL_BASES: Mapping[str, tuple[type, str]] = {
    "i2c": (I2cTarget, "an I2C device model (an I2cTarget: lm75b, pcf8523...)"),
    "spi": (SpiTarget, "an SPI device model (an SpiTarget: w25q, mcp3008...)"),
    "uart": (UartTarget, "a UART device model (a UartTarget: nmea-gps, console...)"),
}


def _device_name(device: object) -> str:
    name = getattr(device, "name", None)
    return f"device {name!r}" if isinstance(name, str) else repr(device)


def require_model(board: Board, device: object, bus: object, kind: object = None) -> None:
    """Refuse a device that a bus of its kind could not talk to (every later transfer on
    the bus would fail): an I2C bus takes an `I2cTarget`, SPI an `SpiTarget`, UART a
    `UartTarget`. `Board.attach` itself takes any object (the attachment mechanics);
    the driver's ``simulation.attach`` asks this first."""
    spec = board.profile.buses.get(bus) if isinstance(bus, str) else None
    wanted = kind if isinstance(kind, str) else (spec.kind if spec is not None else None)
    expected = _MODEL_BASES.get(wanted or "")
    if expected is not None and not isinstance(device, expected[0]):
        raise ConfigurationError(
            f"attach() on an {wanted} bus takes {expected[1]}, got {device!r}; "
            "pihil_emulator.devices.registry.create_device builds one"
        )
