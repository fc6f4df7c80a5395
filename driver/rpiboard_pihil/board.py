"""`RpiBoard`: the root class of the IVI-Python driver ``RpiBoard_Pihil``.

One instance is one session with one board: the emulator
(``options={"simulate": True}``) or this machine's kernel devices
(``resource_name="local"``). Its reference properties lead to every
capability (``gpios``, ``pins``, ``i2c_buses``, ``spi_buses``, ``uarts``,
``ivi_utility``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, cast

from .backends.base import Backend
from .board_info import BoardInfo
from .collection import Specifier
from .errors import ConfigurationError, IdQueryError, ResourceNameError, SimulationNotAvailableError
from .gpio import Gpio, GpioCollection
from .i2c import I2cBus, I2cBusCollection
from .options import DEFAULT_SIMULATED_BOARD, Options, parse_options
from .pins import Pin, PinCollection
from .session import Session
from .spi import SpiBus, SpiBusCollection
from .uart import Uart, UartCollection
from .utility import RpiBoardUtility
from .validate import seconds_to_ns

if TYPE_CHECKING:
    from .backends.simulated import SimulatedBackend, Simulation

LOCAL = "local"
"""The one resource name supported now: this machine's kernel devices (or the emulator)."""


class RpiBoard:
    """A Raspberry Pi class board (IVI-Python driver ``RpiBoard_Pihil``).

    ``RpiBoard(resource_name, id_query=True, reset=False, options=None)``:

    - ``resource_name``: ``"local"``, this machine's GPIO chip, ``/dev/i2c-N``,
      ``/dev/spidevB.C`` and serial ports (or, with ``simulate``, the emulator);
      ``"TCPIP::<host>::<port>::SOCKET"``: a board served by ``pihil agent``
      (docs/agent.md). Other forms are rejected with `ResourceNameError`.
    - ``id_query``: check that the board is a supported model (on hardware, from
      ``/proc/device-tree/model``) or raise `IdQueryError` naming what was found.
    - ``reset``: put the board in its known state after opening (``ivi_utility.reset``).
    - ``options``: an `Options` dict or the option string (``"Simulate=True,
      Board=mirkopc"``); simulation is off unless asked for.

    Use it as a context manager, or call `close`. Every method and property
    is thread safe: one lock per session.
    """

    def __init__(
        self,
        resource_name: str,
        id_query: bool = True,
        reset: bool = False,
        options: Options | Mapping[str, object] | str | None = None,
    ) -> None:
        if not isinstance(resource_name, str):
            raise ResourceNameError(
                f"resource_name must be a str ('local'); got {type(resource_name).__name__}"
            )
        for arg, value in (("id_query", id_query), ("reset", reset)):
            if not isinstance(value, bool):
                raise ConfigurationError(f"{arg} takes True or False; got {value!r}")
        from .backends import simulated

        catalogue = simulated.board_infos()
        from pihil_emulator.boards import is_profile_path

        opts = parse_options(options, boards=tuple(catalogue), is_profile_file=is_profile_path)
        if opts.board is not None and opts.board not in catalogue:
            catalogue = {**catalogue, opts.board: _board_info_from_file(opts.board)}
        from .backends import remote

        if resource_name != LOCAL and not remote.is_resource(resource_name):
            raise ResourceNameError(
                f"resource_name {resource_name!r} is not supported; the only form is 'local' "
                "(this machine's kernel devices, or the emulator with options={'simulate': True}), "
                "and for remote boards 'TCPIP::<host>::<port>::SOCKET' (a `pihil agent`)"
            )
        backend: Backend
        if resource_name != LOCAL and not opts.simulate:
            backend = remote.open_remote(resource_name, catalogue, board=opts.board)
        elif opts.simulate:
            backend = simulated.SimulatedBackend(
                catalogue[opts.board or DEFAULT_SIMULATED_BOARD],
                seed=opts.seed,
                devices=opts.devices,
            )
        else:
            from .backends.linux import LinuxBackend

            backend = LinuxBackend.open(
                catalogue, board=opts.board, devices=opts.devices, id_query=id_query
            )
        try:
            self._setup(backend, catalogue, id_query, opts.query_instrument_status)
            self._resource_name = resource_name
            if reset:
                self._utility.reset()
        except BaseException:
            backend.close()
            raise

    def _setup(
        self,
        backend: Backend,
        catalogue: Mapping[str, BoardInfo],
        id_query: bool,
        query_instrument_status: bool,
    ) -> None:
        supported = tuple(dict.fromkeys(info.model for info in catalogue.values()))
        identity = backend.identify()
        if id_query and identity.model not in supported:
            raise IdQueryError(
                f"the board identifies as {identity.reported!r}, which is not a supported "
                f"model; supported: {', '.join(supported)}",
                found=identity.reported,
                supported=supported,
            )
        self._session = session = Session(backend, query_instrument_status=query_instrument_status)
        info = backend.info
        self._info = info
        owner = f"board {info.name!r} ({info.model})"
        self._gpios = GpioCollection(
            session, info.gpios, info.gpio_aliases, owner, info.resolve_gpio
        )
        self._pins = PinCollection(info.pins, self._gpios, info.primary_header, owner)
        self._i2c_buses = I2cBusCollection(session, info.i2c_buses, owner)
        self._spi_buses = SpiBusCollection(session, info.spi_buses, owner)
        self._uarts = UartCollection(session, info.uarts, owner)
        self._utility = RpiBoardUtility(session, identity, supported)
        if backend.simulated:
            # (typed by name, not isinstance: a test runner that re-imports the backend
            # module, as pytester's in-process runs do, makes a second class object)
            simulated = cast("SimulatedBackend", backend)
            simulated.simulation.lock = session.lock
            simulated.simulation.closed = lambda: session.closed

    # -- reference properties ---------------------------------------------------------------
    @property
    def ivi_utility(self) -> RpiBoardUtility:
        """The IVI utility interface: identity, simulation state, errors, reset."""
        return self._utility

    @property
    def gpios(self) -> GpioCollection:
        """GPIO lines by ``GPIO<n>``, line number, `GpioLine`, or any pin name the profile knows."""
        return self._gpios

    def gpios_item(self, specifier: Specifier) -> Gpio:
        """Method-style accessor of `gpios` (IVI-Python ``<rc>_item``)."""
        return self._gpios[specifier]

    @property
    def pins(self) -> PinCollection:
        """Header pins by name (``J8-11``), physical number on the main header, or `HeaderPin`."""
        return self._pins

    def pins_item(self, specifier: Specifier) -> Pin:
        """Method-style accessor of `pins`."""
        return self._pins[specifier]

    @property
    def i2c_buses(self) -> I2cBusCollection:
        """I2C buses by name (``i2c1``), number or `I2cBusId`."""
        return self._i2c_buses

    def i2c_buses_item(self, specifier: Specifier) -> I2cBus:
        """Method-style accessor of `i2c_buses`."""
        return self._i2c_buses[specifier]

    @property
    def spi_buses(self) -> SpiBusCollection:
        """SPI buses by name (``spi0``), number or `SpiBusId`; chip selects in ``.devices``."""
        return self._spi_buses

    def spi_buses_item(self, specifier: Specifier) -> SpiBus:
        """Method-style accessor of `spi_buses`."""
        return self._spi_buses[specifier]

    @property
    def uarts(self) -> UartCollection:
        """UARTs by name (``uart0``), number or `UartId`."""
        return self._uarts

    def uarts_item(self, specifier: Specifier) -> Uart:
        """Method-style accessor of `uarts`."""
        return self._uarts[specifier]

    # -- board-level --------------------------------------------------------------------------
    @property
    def resource_name(self) -> str:
        return self._resource_name

    @property
    def board_name(self) -> str:
        """The board profile in use (``mirkopc``, ``rpi-4b``...)."""
        return self._info.name

    @property
    def info(self) -> BoardInfo:
        """The driver's description of this board (pins, lines, buses)."""
        return self._info

    @property
    def simulation(self) -> Simulation:
        """The emulator handle (jumpers, voltages, devices, registers, faults, VCD).

        Raises `SimulationNotAvailableError` on a real board; tests that need it
        carry the ``sim_only`` marker.
        """
        with self._session.lock:
            if self._session.closed:
                self._session.refuse_closed()
            backend = self._session.backend
            if not backend.simulated:
                raise SimulationNotAvailableError(
                    "board.simulation is only available in simulation; this session drives a "
                    "real board. Open RpiBoard('local', options={'simulate': True}) to get it, "
                    "and mark tests that need it with @pytest.mark.sim_only"
                )
            return cast("SimulatedBackend", backend).simulation

    @property
    def now_ns(self) -> int:
        """The board's clock in integer ns: simulated time in simulation, CLOCK_MONOTONIC on hardware."""
        return self._session.call(self._session.backend.now_ns)

    def delay(self, seconds: float) -> None:
        """Let ``seconds`` pass: simulated time in simulation, wall time on hardware."""
        ns = seconds_to_ns(seconds, "delay(seconds)")
        self._session.call(self._session.backend.delay_ns, ns)

    def close(self) -> None:
        """End the session and release every device; further calls raise `SessionClosedError`."""
        with self._session.lock:
            if self._session.closed:
                return
            self._session.closed = True
            self._session.backend.close()

    def __enter__(self) -> RpiBoard:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "simulated" if self._session.backend.simulated else "local"
        if mode == "local" and self._resource_name != LOCAL:
            mode = "remote"
        state = "closed" if self._session.closed else "open"
        return f"RpiBoard({self._info.name!r}, {mode}, {state})"


def _board_info_from_file(path: str) -> BoardInfo:
    """The `BoardInfo` of a profile file (``options={"board": "./myboard.yaml"}``); a file
    that does not load is an `OptionError` naming the file and what is wrong in it."""
    from pihil_emulator import boards
    from pihil_emulator import errors as emu

    from .backends import simulated
    from .errors import OptionError

    try:
        info = simulated.describe_board(boards.load_profile(path))
    except emu.EmulatorError as exc:
        raise OptionError(f"option 'board': profile file {path!r}: {exc}") from exc
    # named by its path: the emulator builds the board from the file again by this name
    return dataclasses.replace(info, name=path)
