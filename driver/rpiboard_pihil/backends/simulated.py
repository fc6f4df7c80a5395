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

The driver drives the emulator only through this backend (this module and its parts:
`sim_core`, `sim_catalogue`, `sim_gpio`, `sim_buses`, `sim_handle`). Every emulator exception
is translated into the driver's `PihilError` hierarchy with the original chained.

`SimulatedBackend` is the board, its set-up, reset and identity (this module), composed of
the GPIO part (`sim_gpio.SimGpio`) and the bus parts (`sim_buses`) on the shared `SimCore`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from pihil_emulator import errors as emu
from pihil_emulator.soc.gpio import FSEL_INPUT, FSEL_OUTPUT, GpioBlock

from ..board_info import BoardInfo
from ..enums import DeviceErrorCode, Direction, Drive, Edge, Pull
from ..utility import ErrorQueryResult
from .base import DEFAULT_I2C_FREQUENCY_HZ, DEFAULT_UART_FORMAT, Identity, UartFormat
from .sim_buses import SimI2c, SimSpi, SimUart
from .sim_catalogue import board_infos, describe_board
from .sim_core import SimCore, translate, translated
from .sim_gpio import (
    FSEL_OF_FUNCTION,
    FUNCTION_OF_FSEL,
    GPCLR_REGS,
    GPLEV_REGS,
    GPPUD_OF_PULL,
    GPPUD_WAIT_NS,
    GPSET_REGS,
    PULL_OF_PUP_PDN,
    PUP_PDN_OF_PULL,
    SimGpio,
    _Line,
)
from .sim_handle import Simulation

__all__ = [
    "FSEL_OF_FUNCTION",
    "FUNCTION_OF_FSEL",
    "GPCLR_REGS",
    "GPLEV_REGS",
    "GPPUD_OF_PULL",
    "GPPUD_WAIT_NS",
    "GPSET_REGS",
    "PULL_OF_PUP_PDN",
    "PUP_PDN_OF_PULL",
    "SimCore",
    "SimulatedBackend",
    "Simulation",
    "board_infos",
    "describe_board",
    "translate",
    "translated",
]


class SimulatedBackend(SimGpio, SimI2c, SimSpi, SimUart):
    """The emulator behind the driver API."""

    gpio_enums = SimpleNamespace(Direction=Direction, Pull=Pull, Drive=Drive, Edge=Edge)
    """The enums the GPIO calls take, for the emulator's userspace (/dev/gpiochip*), which
    does not import the driver."""

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
        self._drop_lines()
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
        self._drop_lines()
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
        self._drop_lines()
