"""What every bus device model has, whatever its bus: a name, the board's clock, presence.

`BusTarget` is the base of `i2c_target.I2cTarget`, `spi_target.SpiTarget` and
`uart_target.UartTarget`: the device's ``name`` and profile ``model``, ``bind(world)``
(``board.attach`` gives the device its board's clock), ``world`` (an error before that), and
``present`` (False while the device is dropped by a fault). ``now_ns`` is the time the device
sees: during a bus call, the time of the bus event it answers (a transaction-level bus computes
a transfer ahead of the clock and stamps each call in ``_bus_time_ns``), else the clock's now.
"""

from __future__ import annotations

from ..world.clock import World


class BusTarget:
    """Base class of the bus device models (see the module docstring)."""

    #: model name used in board profiles (e.g. ``"pcf8523"``)
    model: str = "target"
    #: the time of the bus event being answered, set by a bus while it calls the device
    _bus_time_ns: int | None = None

    def __init__(self, name: str) -> None:
        self.name = name
        self._world: World | None = None
        self.present = True
        """False while dropped (a fault): the device no longer answers on its bus."""

    # -- wiring -----------------------------------------------------------
    def bind(self, world: World) -> None:
        """Give the device its board's clock; start background processes here."""
        self._world = world

    @property
    def world(self) -> World:
        if self._world is None:
            raise RuntimeError(f"{self.name} is not attached to a board")
        return self._world

    @property
    def now_ns(self) -> int:
        """The time of the bus event being answered (see the module docstring), else now."""
        if self._bus_time_ns is not None:
            return self._bus_time_ns
        return self.world.now_ns if self._world is not None else 0
