"""The simulated backend: the driver on the emulator (`pihil_emulator.Board`).

It drives the emulated SoC the way the Linux kernel drives the real one, so
the emulator sees the register traffic a Pi sees:
- GPIO through the GPIO block's registers as pinctrl-bcm2835 does: GPFSEL
  read-modify-write (through input between two other functions, soc-facts
  §3.3), the output value written to GPSET/GPCLR before the pin becomes an
  output, GPLEV for reads, pulls by the BCM2835 GPPUD/GPPUDCLK sequence or the
  BCM2711 GPIO_PUP_PDN_CNTRL registers (§3.6), edges from GPREN/GPFEN (the
  synchronous detectors Linux uses, §3.5), open drain emulated as gpiolib
  does (a 1 turns the pin into an input), debounce done in software as
  gpiolib-cdev does on this chip (an edge counts once the level held for the
  period; the event is stamped then).
- I2C, SPI and UARTs through the bus blocks' Linux-like entry points
  (docs/emulator-api.md).

This is the only module of the driver that imports the emulator. Every
emulator exception is translated into the driver's `PihilError` hierarchy
with the original chained.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from pihil_emulator import errors as emu
from pihil_emulator.buses.i2c_master import I2cMessage as EmuMessage
from pihil_emulator.soc.gpio import FSEL_ALT, FSEL_INPUT, FSEL_OUTPUT, GpioBlock

from ..board_info import BoardInfo, I2cBusInfo, PinInfo, SpiBusInfo, UartInfo
from ..enums import DeviceErrorCode, Direction, Drive, Edge, EdgeKind, Function, PinKind, Pull
from ..errors import (
    BusError,
    BusTimeoutError,
    ConfigurationError,
    ElectricalFaultError,
    I2cClockStretchTimeoutError,
    I2cNackError,
    NotSupportedError,
    PihilError,
    ProfileError,
    RegisterAccessError,
    ResourceBusyError,
    SelectorError,
)
from ..utility import ErrorQueryResult
from .base import (
    DEFAULT_I2C_FREQUENCY_HZ,
    DEFAULT_SPI_MODE,
    DEFAULT_SPI_SPEED_HZ,
    DEFAULT_UART_FORMAT,
    EdgeEvent,
    I2cMessage,
    Identity,
    UartFormat,
    not_an_output,
)

if TYPE_CHECKING:
    from pihil_emulator.world.edges import Edge as EmuEdge
    from pihil_emulator.world.edges import EdgeQueue

P = ParamSpec("P")
T = TypeVar("T")

FUNCTION_OF_FSEL: dict[int, Function] = {
    FSEL_INPUT: Function.INPUT,
    FSEL_OUTPUT: Function.OUTPUT,
    **{code: Function[f"ALT{alt}"] for alt, code in enumerate(FSEL_ALT)},
}
FSEL_OF_FUNCTION: dict[Function, int] = {f: code for code, f in FUNCTION_OF_FSEL.items()}

# pull encodings (soc-facts §3.6): they differ between the two chips
PUP_PDN_OF_PULL = {Pull.NONE: 0b00, Pull.UP: 0b01, Pull.DOWN: 0b10}
PULL_OF_PUP_PDN = {code: pull for pull, code in PUP_PDN_OF_PULL.items()}
GPPUD_OF_PULL = {Pull.NONE: 0b00, Pull.DOWN: 0b01, Pull.UP: 0b10}
GPSET_REGS = ("GPSET0", "GPSET1")
GPCLR_REGS = ("GPCLR0", "GPCLR1")
GPLEV_REGS = ("GPLEV0", "GPLEV1")
GPPUD_WAIT_NS = 1_000
"""Linux pinctrl-bcm2835 waits udelay(1) for the datasheet's 150 cycles, before and after the clock."""


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
        assert isinstance(backend, SimulatedBackend)
        # `now_ns` without its calls (every translated call pays them): SimPy's clock, made an
        # int only when an error needs it
        start = backend._world.env._now
        try:
            return fn(*args, **kwargs)
        except emu.EmulatorError as exc:
            error = translate(exc)
            if isinstance(error, ElectricalFaultError) and (error.time_ns or 0) > int(start):
                backend.record_device_error(DeviceErrorCode.ELECTRICAL_FAULT, str(error))
            raise error from exc

    return wrapper


# -- the board catalogue --------------------------------------------------------------------


@functools.cache
def board_infos() -> dict[str, BoardInfo]:
    """Every shipped board profile as the driver sees it, by profile name."""
    from pihil_emulator import boards

    try:
        return {name: describe_board(boards.load_profile(name)) for name in boards.profile_names()}
    except emu.EmulatorError as exc:
        raise translate(exc) from exc


_PIN_KINDS = {"gpio": PinKind.GPIO, "power": PinKind.POWER, "ground": PinKind.GROUND}


def _default_tty(number: int, kind: str | None) -> str:
    # soc-facts §4.2: /dev/ttyAMA0 = PL011 (UART0), /dev/ttyS0 = mini UART; the BCM2711's
    # extra PL011s appear as further ttyAMA devices when their overlays are enabled
    if kind == "mini":
        return "/dev/ttyS0"
    return "/dev/ttyAMA0" if number == 0 else f"/dev/ttyAMA{number}"


def describe_board(profile: Any) -> BoardInfo:
    """The driver's `BoardInfo` from an emulator `BoardProfile` (enabled buses only)."""
    from pihil_emulator.soc.gpio import _reset_pulls

    pin_map = profile.pin_map()
    pins = tuple(
        PinInfo(
            name=p.name,
            header=p.header,
            number=p.number,
            kind=_PIN_KINDS.get(p.kind, PinKind.OTHER),
            gpio=p.gpio,
            signal=f"GPIO{p.gpio}" if p.gpio is not None else (p.rail or "NC"),
        )
        for header in profile.headers.values()
        for _, p in sorted(header.pins.items())
    )
    lines = tuple(profile.gpio_lines)
    aliases: dict[str, int] = {}
    for p in profile.header_pins:
        if p.gpio is not None:
            for name in (p.name, *p.labels):
                aliases[name] = p.gpio
    for name in pin_map.display_names():
        try:
            info = pin_map.resolve(name)
        except emu.EmulatorError:
            continue  # ambiguous or not a pin of this board
        if info.gpio is not None and info.gpio in lines and name != f"GPIO{info.gpio}":
            aliases.setdefault(name, info.gpio)
    buses = [b for b in profile.buses.values() if b.enabled]
    i2c = tuple(
        I2cBusInfo(
            b.name, b.number, b.gpios.get("sda"), b.gpios.get("scl"),
            b.linux_device or f"/dev/i2c-{b.number}", b.controller,
        )
        for b in buses
        if b.kind == "i2c"
    )  # fmt: skip
    spi = tuple(
        SpiBusInfo(
            b.name,
            b.number,
            b.chip_selects,
            MappingProxyType({cs: f"/dev/spidev{b.number}.{cs}" for cs in b.chip_selects}),
        )
        for b in buses
        if b.kind == "spi"
    )
    uarts = tuple(
        UartInfo(
            b.name, b.number, b.uart_type or "pl011", b.gpios.get("tx"), b.gpios.get("rx"),
            b.linux_device or _default_tty(b.number, b.uart_type),
        )
        for b in buses
        if b.kind == "uart"
    )  # fmt: skip
    reset = _reset_pulls(profile.variant.gpio_count)
    pull_names = {0: Pull.NONE, 1: Pull.UP, 2: Pull.DOWN}

    def resolve(name: str) -> int | None:
        try:
            return pin_map.resolve(name).gpio  # type: ignore[no-any-return]
        except emu.EmulatorError:
            return None

    return BoardInfo(
        name=profile.name,
        manufacturer=profile.manufacturer,
        model=profile.model,
        soc=profile.variant.name,
        gpio_count=profile.variant.gpio_count,
        gpios=lines,
        pins=pins,
        i2c_buses=i2c,
        spi_buses=spi,
        uarts=uarts,
        gpio_aliases=MappingProxyType(aliases),
        kernel_models=tuple(profile.kernel_models),  # /proc/device-tree/model prefixes
        revision_code=profile.revision_code,
        dt_model=profile.dt_model,
        primary_header=pin_map.main_header or "",
        reset_pulls=MappingProxyType({n: pull_names[reset[n]] for n in lines}),
        resolve_gpio=resolve,
    )


# -- per-line state -----------------------------------------------------------------------------


@dataclass
class _Line:
    """What the kernel keeps about a line beyond the registers (gpiolib flags, cdev state)."""

    drive: Drive = Drive.PUSH_PULL
    out: bool = False
    """gpiolib's FLAG_IS_OUT: the line was made an output through the driver."""
    od_output: bool = False
    """An open-drain output (gpiolib keeps it an output while the pin floats as an input)."""
    pull: Pull | None = None
    """The pull as set through the driver (the BCM2835 cannot read it back)."""
    edge: Edge = Edge.NONE
    debounce_ns: int = 0
    queue: EdgeQueue | None = None
    seqno: int = 0
    stable: bool = False
    """Debounce: the level last reported."""
    pending: tuple[int, bool] | None = None
    """Debounce: (time, level) of the last raw edge not yet held for the period."""
    ready: list[EdgeEvent] = field(default_factory=list)


class SimulatedBackend:
    """The emulator behind the driver API."""

    simulated = True

    def __init__(self, info: BoardInfo, *, seed: int, devices: Mapping[str, str]) -> None:
        from pihil_emulator.board import Board

        info.check_device_names(devices)  # they only matter on hardware, but must be valid

        try:
            board = Board.from_profile(info.name, seed=seed)
        except emu.EmulatorError as exc:
            raise translate(exc) from exc
        self._setup(board, info)

    @classmethod
    def on(cls, board: Any, info: BoardInfo) -> SimulatedBackend:
        """A backend on an emulator board built elsewhere (tests, custom boards)."""
        self = cls.__new__(cls)
        self._setup(board, info)
        return self

    def _setup(self, board: Any, info: BoardInfo) -> None:
        self._board = board
        self._info = info
        self._bsc_found = {}
        self._world = board.world
        gpio = board.soc.gpio
        assert isinstance(gpio, GpioBlock)
        self._gpio = gpio
        # the registers of the hot path, looked up once (the kernel keeps their mapped addresses)
        self._gpset = tuple(gpio.writer(reg) for reg in GPSET_REGS)
        self._gpclr = tuple(gpio.writer(reg) for reg in GPCLR_REGS)
        self._gplev = tuple(gpio.reader(reg) for reg in GPLEV_REGS)
        self._lines: dict[int, _Line] = {}
        self._pup_pdn = board.soc.variant.pull_control == "pup_pdn"
        self._spi: dict[tuple[int, int], tuple[int, int]] = {}
        self._i2c_hz: dict[int, int] = {}
        self._uart_formats: dict[int, UartFormat] = {}
        self._uart_counts: dict[int, dict[str, int]] = {}
        self._errors: list[ErrorQueryResult] = []
        self._register_warnings_seen = 0
        """How many of the SoC's register warnings are already queued as device errors."""
        profile = getattr(board, "profile", None)
        self._claimed: dict[int, str] = {}
        """Lines the kernel's drivers hold after boot (the profile's buses, config.txt overlays)."""
        if profile is not None:
            for line in profile.boot_functions:
                self._claimed[line] = "config.txt (boot_functions)"
            for b in profile.buses.values():
                if b.enabled:
                    for line in b.gpios.values():
                        self._claimed[line] = b.name
        self._controllers: dict[tuple[str, int], str] = (
            {(b.kind, b.number): b.controller for b in profile.buses.values() if b.enabled}
            if profile is not None
            else {}
        )
        self._probe_i2c()
        on_reset = getattr(board, "on_reset", None)  # a stand-in board in tests may lack it
        self._unlisten_reset: Callable[[], None] = (
            on_reset(self._rebooted) if on_reset is not None else lambda: None
        )
        self.simulation = Simulation(self)

    def _probe_i2c(self) -> None:
        for bus in self._info.i2c_buses:  # i2c-bcm2835 programs the divider at probe (100 kHz)
            if self._block_or_none("i2c", bus.number) is not None:
                self.i2c_set_frequency(bus.number, DEFAULT_I2C_FREQUENCY_HZ)

    def _rebooted(self, reason: str) -> None:
        """The SoC was reset under the session: Linux boots again and its drivers probe. What
        the kernel kept for this session is gone (line requests, spidev settings, open
        ttys); the buses come back at their probe settings; a device error says so."""
        for state in self._lines.values():
            if state.queue is not None:
                state.queue.close()
        self._lines.clear()
        self._spi.clear()
        self._uart_formats.clear()
        self._uart_counts.clear()
        self._i2c_hz.clear()
        self._probe_i2c()
        self.record_device_error(
            DeviceErrorCode.BOARD_RESET,
            f"the board was reset at {self._world.now_ns / 1e9:.9f} s simulated ({reason}): "
            "GPIO lines released, SPI at mode 0 / 500 kHz, UARTs closed, I2C at 100 kHz; "
            "set up again what the test needs",
        )

    def _block_or_none(self, kind: str, number: int) -> Any:
        name = self._controllers.get((kind, number))
        return None if name is None else self._board.soc.blocks.get(name)

    def _block(self, kind: str, number: int) -> Any:
        name = self._controllers.get((kind, number), f"{kind}{number}")
        return self._board.soc.block(name)

    # -- identity, clock, errors -----------------------------------------------------------
    @property
    def info(self) -> BoardInfo:
        return self._info

    @property
    def emulator(self) -> Any:
        """The `pihil_emulator.Board` (exceptions from direct use are not translated)."""
        return self._board

    def identify(self) -> Identity:
        return Identity(self._info.manufacturer, self._info.model, self._info.model)

    def now_ns(self) -> int:
        return int(self._world.now_ns)

    @translated
    def delay_ns(self, duration_ns: int) -> None:
        if duration_ns:  # SimPy refuses to run until "now"
            self._world.run_for(duration_ns)

    def record_device_error(self, code: DeviceErrorCode, message: str) -> None:
        """Queue an error the board reported on its own."""
        self._errors.append(ErrorQueryResult(int(code), message))

    def device_errors(self) -> list[ErrorQueryResult]:
        policy = getattr(getattr(self._board, "soc", None), "register_policy", None)
        if policy is not None and len(policy.warnings) > self._register_warnings_seen:
            # writes the chip ignored in part (reserved bits, too-wide values): warnings
            for w in policy.warnings[self._register_warnings_seen :]:
                self.record_device_error(DeviceErrorCode.REGISTER_WARNING, str(w))
            self._register_warnings_seen = len(policy.warnings)
        if not self._errors and not self._uart_counts:
            return []
        out, self._errors = self._errors, []
        out.extend(self._uart_errors())
        return out

    @translated
    def reset(self) -> None:
        """Lines the driver exposes that are GPIOs go back to inputs with reset pulls, no edges."""
        for number in self._info.gpios:
            line = self._lines.pop(number, None)
            if line is not None and line.queue is not None:
                line.queue.close()
            if self._fsel(number) in (FSEL_INPUT, FSEL_OUTPUT):
                self._set_fsel(number, FSEL_INPUT)
                self._write_pull(number, self._info.reset_pulls.get(number, Pull.NONE))
        self._set_detect(self._info.gpios, rising=False, falling=False)
        self._lines.clear()
        self._spi.clear()
        for bus in self._info.i2c_buses:
            if self._block_or_none("i2c", bus.number) is not None:
                self.i2c_set_frequency(bus.number, DEFAULT_I2C_FREQUENCY_HZ)
        for uart in self._info.uarts:
            if self._block_or_none("uart", uart.number) is not None:
                self.uart_set_format(uart.number, DEFAULT_UART_FORMAT)
                self.uart_discard_input(uart.number)

    def close(self) -> None:
        self._unlisten_reset()
        for line in self._lines.values():
            if line.queue is not None:
                line.queue.close()
        self._lines.clear()

    # -- GPIO registers ----------------------------------------------------------------------
    def _free(self, line: int) -> None:
        """Refuse a line a kernel driver holds, as the GPIO character device does (EBUSY)."""
        holder = self._claimed.get(line)
        if holder is not None:
            raise ResourceBusyError(
                f"GPIO{line} is in use by {holder!r}; when a kernel driver holds it (I2C, SPI, "
                "UART, I2S...) it is routed to that peripheral: disable the overlay or dtparam "
                "that claims it in config.txt (in simulation: the board profile's buses and "
                "boot_functions) to use it as a GPIO"
            )

    def _state(self, line: int) -> _Line:
        state = self._lines.get(line)
        if state is None:
            state = self._lines[line] = _Line()
        return state

    def _fsel(self, line: int) -> int:
        value = self._gpio.read(f"GPFSEL{line // 10}")
        return int((value >> (3 * (line % 10))) & 0b111)

    def _set_fsel(self, line: int, code: int) -> None:
        reg = f"GPFSEL{line // 10}"
        shift = 3 * (line % 10)
        value = self._gpio.read(reg)
        self._gpio.write(reg, (value & ~(0b111 << shift)) | (code << shift))

    def _set_function(self, line: int, code: int) -> None:
        current = self._fsel(line)
        if current == code:
            return
        if current != FSEL_INPUT and code != FSEL_INPUT:
            self._set_fsel(line, FSEL_INPUT)  # "Always transition through GPIO_IN" (soc-facts §3.3)
        self._set_fsel(line, code)

    def _latch(self, line: int, value: bool) -> None:
        self._gpio.write(f"{'GPSET' if value else 'GPCLR'}{line // 32}", 1 << (line % 32))

    def _level(self, line: int) -> bool:
        return bool(self._gpio.read(f"GPLEV{line // 32}") >> (line % 32) & 1)

    def _write_pull(self, line: int, pull: Pull) -> None:
        if self._pup_pdn:
            reg = f"GPIO_PUP_PDN_CNTRL_REG{line // 16}"
            shift = 2 * (line % 16)
            value = self._gpio.read(reg)
            self._gpio.write(reg, (value & ~(0b11 << shift)) | (PUP_PDN_OF_PULL[pull] << shift))
        else:
            clk = f"GPPUDCLK{line // 32}"
            self._gpio.write("GPPUD", GPPUD_OF_PULL[pull])
            self._world.run_for(GPPUD_WAIT_NS)
            self._gpio.write(clk, 1 << (line % 32))
            self._world.run_for(GPPUD_WAIT_NS)
            self._gpio.write(clk, 0)

    def _set_detect(self, lines: Sequence[int], *, rising: bool, falling: bool) -> None:
        for bank in {n // 32 for n in lines}:
            mask = sum(1 << (n % 32) for n in lines if n // 32 == bank)
            for reg, on in ((f"GPREN{bank}", rising), (f"GPFEN{bank}", falling)):
                value = self._gpio.read(reg)
                new = value | mask if on else value & ~mask
                if new != value:
                    self._gpio.write(reg, new)
            self._gpio.write(f"GPEDS{bank}", mask)  # the ISR acknowledges what it handled

    # -- GPIO --------------------------------------------------------------------------------
    @translated
    def gpio_get_function(self, line: int) -> Function:
        state = self._lines.get(line)
        if state is not None and state.od_output:
            return Function.OUTPUT
        return FUNCTION_OF_FSEL[self._fsel(line)]

    @translated
    def gpio_set_function(self, line: int, function: Function) -> None:
        if function is Function.INPUT or function is Function.OUTPUT:
            d = Direction.INPUT if function is Function.INPUT else Direction.OUTPUT
            self.gpio_set_direction(line, d, False)
            return
        state = self._state(line)
        state.od_output = state.out = False
        self._set_function(line, FSEL_OF_FUNCTION[function])

    @translated
    def gpio_get_direction(self, line: int) -> Direction:
        state = self._lines.get(line)
        if (state is not None and state.od_output) or self._fsel(line) == FSEL_OUTPUT:
            return Direction.OUTPUT
        return Direction.INPUT

    @translated
    def gpio_set_direction(self, line: int, direction: Direction, value: bool) -> None:
        self._free(line)
        state = self._state(line)
        if direction is Direction.INPUT:
            state.od_output = state.out = False
            self._set_function(line, FSEL_INPUT)
            return
        if state.drive is Drive.OPEN_DRAIN:
            state.od_output = True
            self._drive_open_drain(line, value)
        else:
            self._latch(line, value)  # bcm2835_gpio_direction_output: value first, then FSEL
            self._set_function(line, FSEL_OUTPUT)
        state.out = True

    def _drive_open_drain(self, line: int, value: bool) -> None:
        # gpiolib's open-drain emulation: a 1 releases the pin (input), a 0 drives it low
        if value:
            self._set_function(line, FSEL_INPUT)
        else:
            self._latch(line, False)
            self._set_function(line, FSEL_OUTPUT)

    def gpio_read(self, line: int) -> bool:
        # the hot path of every GPIO test: not @translated (no time runs), the register found once
        if line in self._claimed:
            self._free(line)
        try:
            return self._gplev[line >> 5]() >> (line & 31) & 1 == 1
        except emu.EmulatorError as exc:
            raise translate(exc) from exc

    def gpio_write(self, line: int, value: bool) -> None:
        state = self._lines.get(line)
        if state is None or not state.out or state.od_output:
            self._gpio_write_other(line, value)
            return
        # a push-pull output the kernel knows: one GPSET/GPCLR write (the hot path, as gpio_read)
        try:
            (self._gpset if value else self._gpclr)[line >> 5](1 << (line & 31))
        except emu.EmulatorError as exc:
            raise translate(exc) from exc

    @translated
    def _gpio_write_other(self, line: int, value: bool) -> None:
        state = self._lines.get(line)
        if state is None or not state.out:
            self._free(line)
            # the kernel refuses a value on a line it does not know as an output; a test may
            # have made it one by a register write, so look at GPFSEL before refusing
            if self._fsel(line) != FSEL_OUTPUT:
                raise not_an_output(line)
            state = self._state(line)
            state.out = True
        if state.od_output:
            self._drive_open_drain(line, value)
        else:
            self._latch(line, value)

    @translated
    def gpio_get_pull(self, line: int) -> Pull:
        self._free(line)
        state = self._lines.get(line)
        if state is None or state.pull is None:
            raise NotSupportedError(
                f"the kernel does not know GPIO{line}'s pull until it is set (the BCM2835 cannot "
                "report it, soc-facts §3.6); set gpio.pull first"
            )
        return state.pull

    @translated
    def gpio_set_pull(self, line: int, pull: Pull) -> None:
        self._free(line)
        self._write_pull(line, pull)
        self._state(line).pull = pull

    @translated
    def gpio_get_drive(self, line: int) -> Drive:
        self._free(line)
        state = self._lines.get(line)
        return Drive.PUSH_PULL if state is None else state.drive

    @translated
    def gpio_set_drive(self, line: int, drive: Drive) -> None:
        self._free(line)
        state = self._state(line)
        if drive is state.drive:
            return
        output = self.gpio_get_direction(line) is Direction.OUTPUT
        level = (
            self._gpio.output_latch(line) if not state.od_output else self._fsel(line) == FSEL_INPUT
        )
        state.drive = drive
        if not output:
            return
        state.out = True
        if drive is Drive.OPEN_DRAIN:
            state.od_output = True
            self._drive_open_drain(line, level)
        else:
            state.od_output = False
            self._latch(line, level)
            self._set_function(line, FSEL_OUTPUT)

    def gpio_get_edge_detection(self, line: int) -> tuple[Edge, int]:
        state = self._lines.get(line)
        return (Edge.NONE, 0) if state is None else (state.edge, state.debounce_ns)

    @translated
    def gpio_set_edge_detection(self, line: int, edge: Edge, debounce_ns: int) -> None:
        if debounce_ns % 1000:
            raise ConfigurationError(
                f"GPIO{line}: the kernel's debounce period is in whole microseconds; "
                f"got {debounce_ns} ns"
            )
        self._free(line)
        state = self._state(line)
        if state.queue is not None:
            state.queue.close()
            state.queue = None
        state.ready.clear()
        state.pending = None
        state.edge, state.debounce_ns = edge, debounce_ns
        if edge is Edge.NONE:
            self._set_detect((line,), rising=False, falling=False)
            return
        both = edge is Edge.BOTH or debounce_ns > 0  # debounce tracks the level through both edges
        self._set_detect(
            (line,),
            rising=both or edge is Edge.RISING,
            falling=both or edge is Edge.FALLING,
        )
        state.queue = self._gpio.events(line)
        state.stable = self._level(line)

    @translated
    def gpio_wait_edges(self, line: int, timeout_ns: int) -> list[EdgeEvent]:
        state = self._state(line)
        queue = state.queue
        if queue is None:
            return []
        if state.debounce_ns == 0:
            raw = queue.wait(timeout_ns)
            if raw:
                self._gpio.write(f"GPEDS{line >> 5}", 1 << (line & 31))
            return [self._event(state, line, e.time_ns, e.level) for e in raw]
        deadline = self._world.now_ns + timeout_ns
        raw = queue.drain()
        while True:
            self._debounce(state, line, raw)
            now = self._world.now_ns
            if state.ready or now >= deadline:
                break
            wake = deadline
            if state.pending is not None:
                wake = min(wake, state.pending[0] + state.debounce_ns)
            raw = queue.wait(wake - now)
        events, state.ready = state.ready, []
        return events

    def _event(self, state: _Line, line: int, time_ns: int, level: bool) -> EdgeEvent:
        state.seqno += 1
        kind = EdgeKind.RISING if level else EdgeKind.FALLING
        return EdgeEvent(kind, time_ns, line, state.seqno)

    def _debounce(self, state: _Line, line: int, raw: list[EmuEdge]) -> None:
        """gpiolib-cdev software debounce: report a level once it has held for the period."""
        period = state.debounce_ns
        for e in raw:
            if state.pending is not None and e.time_ns - state.pending[0] >= period:
                self._settle(state, line, *state.pending)
            state.pending = (e.time_ns, e.level)
        if raw:
            self._gpio.write(f"GPEDS{line >> 5}", 1 << (line & 31))
        if state.pending is not None and self._world.now_ns - state.pending[0] >= period:
            self._settle(state, line, *state.pending)
            state.pending = None

    def _settle(self, state: _Line, line: int, time_ns: int, level: bool) -> None:
        if level == state.stable:
            return
        state.stable = level
        wanted = state.edge is Edge.BOTH or (state.edge is Edge.RISING) == level
        if wanted:
            state.ready.append(self._event(state, line, time_ns + state.debounce_ns, level))

    # -- I2C -------------------------------------------------------------------------------
    def _bsc(self, bus: int) -> Any:
        """The bus's controller: a BSC block, or the board's bit-banged i2c-gpio bus (the
        profile's ``controller: i2c-gpio``), which has the same transfer/set_bus_speed."""
        board = self._board
        found = self._bsc_found.get(bus)
        if found is not None and found[0] is board:
            return found[1]  # (the profile's controllers and the board's blocks are fixed)
        if self._controllers.get(("i2c", bus)) == "i2c-gpio":
            name = next(b.name for b in self._info.i2c_buses if b.number == bus)
            controller = board.i2c_gpio_buses[name]
        else:
            controller = self._block("i2c", bus)
        self._bsc_found[bus] = (board, controller)
        return controller

    _bsc_found: dict[int, tuple[Any, Any]]
    """`_bsc` answers by bus number, with the board they are of."""

    def i2c_controller(self, bus: int) -> Any:
        """The emulator's controller of Linux bus ``bus`` (for the board's userspace)."""
        return self._bsc(bus)

    @translated
    def i2c_transfer(self, bus: int, messages: Sequence[I2cMessage]) -> list[bytes]:
        # the driver's I2cMessage carries fields I2cBus has checked as the emulator's would
        checked = EmuMessage.checked
        msgs = [checked(m.address, m.read, m.data, m.length) for m in messages]
        data: list[bytes] = self._bsc(bus).transfer(msgs)  # bytes already: BscBlock, i2c-gpio
        return data

    def i2c_get_frequency(self, bus: int) -> int:
        return self._i2c_hz.get(bus, DEFAULT_I2C_FREQUENCY_HZ)

    @translated
    def i2c_set_frequency(self, bus: int, hz: int) -> None:
        self._bsc(bus).set_bus_speed(hz)
        self._i2c_hz[bus] = hz

    # -- SPI -------------------------------------------------------------------------------
    def spi_controller(self, bus: int) -> Any:
        """The emulator's controller of Linux SPI bus ``bus`` (for the board's userspace)."""
        return self._block("spi", bus)

    @translated
    def spi_transfer(self, bus: int, cs: int, data: bytes) -> bytes:
        mode, speed = self._spi.get((bus, cs), (DEFAULT_SPI_MODE, DEFAULT_SPI_SPEED_HZ))
        block = self._block("spi", bus)
        return bytes(block.transfer(data, cs=cs, mode=mode, speed_hz=speed))

    def spi_get_mode(self, bus: int, cs: int) -> int:
        return self._spi.get((bus, cs), (DEFAULT_SPI_MODE, DEFAULT_SPI_SPEED_HZ))[0]

    def spi_set_mode(self, bus: int, cs: int, mode: int) -> None:
        self._spi[(bus, cs)] = (mode, self.spi_get_speed(bus, cs))

    def spi_get_speed(self, bus: int, cs: int) -> int:
        return self._spi.get((bus, cs), (DEFAULT_SPI_MODE, DEFAULT_SPI_SPEED_HZ))[1]

    def spi_set_speed(self, bus: int, cs: int, hz: int) -> None:
        self._spi[(bus, cs)] = (self.spi_get_mode(bus, cs), hz)

    # -- UART ------------------------------------------------------------------------------
    def _uart(self, uart: int) -> Any:
        """The UART block, its port opened (at 115200 8N1) on first use as a tty is."""
        block = self._block("uart", uart)
        if uart not in self._uart_counts:
            if uart not in self._uart_formats:
                block.configure(DEFAULT_UART_FORMAT.baud_rate, 8, "none", 1)
                self._uart_formats[uart] = DEFAULT_UART_FORMAT
            self._uart_counts[uart] = dict(block.error_counts())
        return block

    def uart_get_format(self, uart: int) -> UartFormat:
        return self._uart_formats.get(uart, DEFAULT_UART_FORMAT)

    @translated
    def uart_set_format(self, uart: int, fmt: UartFormat) -> None:
        parity = fmt.parity.name.lower()
        self._block("uart", uart).configure(fmt.baud_rate, fmt.data_bits, parity, fmt.stop_bits)
        self._uart_formats[uart] = fmt
        self._uart(uart)

    @translated
    def uart_write(self, uart: int, data: bytes) -> None:
        self._uart(uart).write(data)

    @translated
    def uart_read(self, uart: int, n: int, timeout_ns: int) -> bytes:
        return bytes(self._uart(uart).read(n, timeout_ns))

    @translated
    def uart_in_waiting(self, uart: int) -> int:
        return int(self._uart(uart).in_waiting())

    @translated
    def uart_send_break(self, uart: int, duration_ns: int) -> None:
        self._uart(uart).send_break(duration_ns)

    @translated
    def uart_flush(self, uart: int) -> None:
        self._uart(uart).flush()

    @translated
    def uart_discard_input(self, uart: int) -> None:
        self._uart(uart).discard_input()

    def _uart_errors(self) -> Iterator[ErrorQueryResult]:
        names = {
            "framing": (DeviceErrorCode.UART_FRAMING, "framing error(s)"),
            "parity": (DeviceErrorCode.UART_PARITY, "parity error(s)"),
            "overrun": (DeviceErrorCode.UART_OVERRUN, "overrun(s) of the UART FIFO"),
            "break": (DeviceErrorCode.UART_BREAK, "break(s) received"),
            "buf_overrun": (
                DeviceErrorCode.UART_OVERRUN,
                "character(s) lost: the tty buffer was full (read the UART more often)",
            ),
        }
        for uart, before in self._uart_counts.items():
            now = dict(self._uart(uart).error_counts())
            for key, (code, text) in names.items():
                delta = now.get(key, 0) - before.get(key, 0)
                if delta > 0:
                    yield ErrorQueryResult(int(code), f"uart{uart}: {delta} {text}")
            self._uart_counts[uart] = now


class Simulation:
    """``board.simulation``: the emulator's handle, with errors translated and the session locked.

    Pin and net names are any the board profile knows (``J8-11``, ``GPIO17``, ``I2C1_SDA``).
    """

    def __init__(self, backend: SimulatedBackend) -> None:
        self._backend = backend
        self._board = backend.emulator
        self.lock: Any = None  # set by the session
        self.closed: Callable[[], bool] = lambda: False  # set by the session

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        lock = self.lock
        if lock is None:
            return self._run(fn, *args, **kwargs)
        with lock:
            if self.closed():
                from ..session import Session

                Session.refuse_closed()
            return self._run(fn, *args, **kwargs)

    @staticmethod
    def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except emu.EmulatorError as exc:
            raise translate(exc) from exc

    @property
    def emulator(self) -> Any:
        """The `pihil_emulator.Board` itself, for what this handle does not wrap.

        Exceptions raised by direct use of it are the emulator's own.
        """
        return self._call(lambda: self._board)

    @property
    def now_ns(self) -> int:
        """Simulated time in integer nanoseconds."""
        return self._call(lambda: int(self._board.now_ns))

    def run_for(self, seconds: float) -> None:
        """Advance simulated time (as ``board.delay``)."""
        from ..validate import seconds_to_ns

        self._call(self._backend.delay_ns, seconds_to_ns(seconds, "run_for(seconds)"))

    def connect(self, a: str, b: str) -> Any:
        """A jumper wire between two pins; returns the wire (for `disconnect`)."""
        return self._call(self._board.connect, a, b)

    def disconnect(self, wire: Any) -> None:
        self._call(self._board.disconnect, wire)

    def apply_voltage(self, pin: str, volts: float) -> None:
        """An external voltage source on a pin; above 3.3 V raises `ElectricalFaultError`."""
        self._call(self._board.apply_voltage, pin, volts)

    def remove_voltage(self, pin: str) -> None:
        self._call(self._board.remove_voltage, pin)

    @property
    def devices(self) -> Mapping[str, Any]:
        """Device models by the name the profile gives them (``"rtc"``); an unknown name
        raises `UnknownDeviceError` (a KeyError) listing the board's devices."""
        from .device_table import DeviceTable

        return self._call(lambda: DeviceTable(dict(self._board.devices), self._board.profile.name))

    def attach(self, device: Any, bus: str, **roles: str) -> Any:
        """Add a device model to a bus (``bus="i2c1"``)."""
        from pihil_emulator.board import require_model

        def attach() -> Any:
            require_model(self._board, device, bus, roles.get("kind"))
            return self._board.attach(device, bus=bus, **roles)

        return self._call(attach)

    def read_register(self, block: str, register: str) -> int:
        """A register by block and datasheet name (``("gpio", "GPFSEL1")``)."""
        return int(self._call(self._board.read_register, block, register))

    def write_register(self, block: str, register: str, value: int) -> None:
        self._call(self._board.write_register, block, register, value)

    def detach(self, device: Any) -> None:
        """Take a device model off the board's buses."""
        self._call(self._board.detach, device)

    def inject(self, fault: Any) -> Any:
        """Schedule a fault (a `pihil_emulator.faults.Fault`) at ``fault.at_ns``, simulated time."""
        from pihil_emulator.faults import Fault

        if not isinstance(fault, Fault):
            raise ConfigurationError(
                f"inject() takes a pihil_emulator.faults.Fault (BrownOut, StuckNet, "
                f"DroppedDevice, or a bus module's fault); got {fault!r}"
            )
        return self._call(self._board.inject, fault)

    def clear_fault(self, fault: Any) -> None:
        """End an injected fault now."""
        self._call(self._board.clear_fault, fault)

    def snapshot(self) -> Any:
        """The whole simulated board now (registers, devices, nets, time, random source,
        scheduled events) with the driver's session state; `restore` it as often as wanted.
        A busy board, an open VCD recording or userspace: ConfigurationError."""
        from .sim_snapshot import snapshot

        return snapshot(self)

    def restore(self, snapshot: Any) -> None:
        """Put the board back to ``snapshot`` (one this board's `snapshot()` took)."""
        from .sim_snapshot import restore

        restore(self, snapshot)

    def userspace(self, *, epoch_s: float | None = None, pace: float | None = None) -> Any:
        """The board's userspace as a context manager: inside the block, smbus2, spidev,
        pyserial, gpiod, RPi.GPIO and gpiozero reach this board, and ``time.sleep`` and
        the other clocks run on simulated time (``docs/userspace.md``).

        One userspace at a time in a process; ``epoch_s`` pins what ``time.time()`` reads
        at its start (default: the wall clock's whole second at entry). ``pace=N`` keeps
        simulated time from running ahead of the wall clock × N (for code that busy-waits
        or talks to a program outside); by default time jumps whenever every thread waits.
        """
        from pihil_emulator.userspace import Userspace

        from ..validate import userspace_clock

        if self.lock is None:
            raise ConfigurationError("simulation.userspace() needs the RpiBoard session's lock")
        userspace_clock(epoch_s, pace)
        with self.lock:
            if self.closed():
                from ..session import Session

                Session.refuse_closed()
        return Userspace(self._backend, self.lock, epoch_s=epoch_s, pace=pace)

    @contextmanager
    def _recording(self, path: str, nets: Sequence[str] | None) -> Iterator[Any]:
        names = [f"GPIO{n}" for n in self._backend.info.gpios] if nets is None else nets
        recorder = self._call(self._board.record_vcd, path, names)
        self._call(recorder.__enter__)
        try:
            yield recorder
        except BaseException as exc:
            self._call(recorder.__exit__, type(exc), exc, exc.__traceback__)
            raise
        self._call(recorder.__exit__, None, None, None)

    def record_vcd(
        self, path: str, nets: Sequence[str] | None = None
    ) -> AbstractContextManager[Any]:
        """Record a VCD of ``nets`` (every GPIO line of the board by default) during the block."""
        return self._recording(path, nets)
