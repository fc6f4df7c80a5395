"""GPIO of the simulated backend: the GPIO block's registers driven as pinctrl-bcm2835 and
gpiolib do (function select, set/clear, level, pulls, edge detection, software debounce)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pihil_emulator import errors as emu
from pihil_emulator.soc.gpio import FSEL_ALT, FSEL_INPUT, FSEL_OUTPUT, GpioBlock

from ..enums import Direction, Drive, Edge, EdgeKind, Function, Pull
from ..errors import ConfigurationError, NotSupportedError, ResourceBusyError
from ..gpio import LineAccess
from .base import EdgeEvent, not_an_output
from .sim_core import SimCore, translate, translated

if TYPE_CHECKING:
    from pihil_emulator.world.edges import Edge as EmuEdge
    from pihil_emulator.world.edges import EdgeQueue

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


class SimGpio(SimCore):
    """The GPIO part of `SimulatedBackend`."""

    _gpio: GpioBlock
    _gpset: tuple[Callable[[int], None], ...]
    _gpclr: tuple[Callable[[int], None], ...]
    _gplev: tuple[Callable[[], int], ...]
    _lines: dict[int, _Line]
    _pup_pdn: bool
    _claimed: dict[int, str]
    _line_access: dict[int, LineAccess]

    # -- the per-line accessors (docs/performance.md "GPIO round trip") -----------------------
    def gpio_access(self, line: int) -> LineAccess:
        """``line``'s `LineAccess`: while the kernel knows it as a push-pull output, ``write``
        is the GPIO block's GPSET/GPCLR of that one bit; while no kernel driver claims it,
        ``read`` is its GPLEV bit. Otherwise (and after any change of the line's direction,
        function, drive or claim, until the next call re-fetches them) they are
        `gpio_write`/`gpio_read`, the reference path."""
        accesses = self.__dict__.get("_line_access")
        if accesses is None:
            accesses = self._line_access = {}
        access = accesses.get(line)
        if access is None:
            access = accesses[line] = LineAccess(
                self._reference_write(line), self._reference_read(line), self._failed
            )
        return access

    def _line_changed(self, line: int) -> None:
        """The line's direction, function or drive changed: its accessors go back to the
        reference path, which re-fetches the direct ones on its next call."""
        access = self.__dict__.get("_line_access", {}).get(line)
        if access is not None:
            access.write = self._reference_write(line)
            access.read = self._reference_read(line)

    def _drop_lines(self) -> None:
        """Forget the kernel's state of every line (the session's reset, a reboot, close):
        every handed-out accessor goes back to the reference path."""
        self._lines.clear()
        self._all_lines_changed()

    def _all_lines_changed(self) -> None:
        for line in self.__dict__.get("_line_access", {}):
            self._line_changed(line)

    def _refetch(self, line: int) -> None:
        access = self._line_access[line]
        state = self._lines.get(line)
        if line not in self._claimed:
            access.read = self._gpio.line_reader(line)
        if state is not None and state.out and not state.od_output and line not in self._claimed:
            access.write = self._gpio.line_writer(line)

    def _reference_write(self, line: int) -> Callable[[bool], None]:
        def write(value: bool) -> None:
            self.gpio_write(line, value)
            self._refetch(line)

        return write

    def _reference_read(self, line: int) -> Callable[[], bool]:
        def read() -> bool:
            level = self.gpio_read(line)
            self._refetch(line)
            return level

        return read

    @staticmethod
    def _failed(exc: BaseException) -> None:
        if isinstance(exc, emu.EmulatorError):
            raise translate(exc) from exc

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
        self._line_changed(line)
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
        self._line_changed(line)
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
        self._line_changed(line)
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
