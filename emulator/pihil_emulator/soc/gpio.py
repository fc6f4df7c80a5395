"""The GPIO block of the BCM2835 (54 lines) and BCM2711 (58 lines), at register level.

What it models (soc-facts §3):
- GPFSEL with the ALT0..ALT5 encodings; selecting ALTn routes the pin to that
  peripheral signal (`alt_functions`); an unused alternate drives 0 (§3.3).
- GPSET/GPCLR write a latch kept apart from the pin: a SET written while the pin
  is an input takes effect when it becomes an output; GPLEV reads the pin (§3.4).
- Event detect (§3.5): synchronous REN/FEN see an edge only once the new level
  has been held for the sampling window (two system-clock periods, 8 ns at
  250 MHz), so a shorter glitch never sets GPEDS through them; asynchronous
  AREN/AFEN catch any edge; HEN/LEN are level-sensitive and stay set after a
  write-1-to-clear while the level persists. The window is computed from event
  times, never by a process per clock: the sampler's decision on an edge is taken when
  anything looks (GPEDS, the line's event buffer, the next edge) and stamped with the time
  it happened; a timer is armed only while someone waits on the line's event buffer.
- Pulls (§3.6, §3.7): the BCM2835 GPPUD/GPPUDCLK clocked sequence (set-up of
  150 core-clock cycles between the GPPUD write and the clock; pads without a
  clock keep their state; no register reads the pull back) and the BCM2711
  GPIO_PUP_PDN_CNTRL registers (01 = up, 10 = down, readable). The pad's pull
  is a `Drive.pull_up/pull_down` of `PAD_PULL_OHMS` on the pin's net.

Peripherals reach pins only through signals (`drive_signal`, `signal_level`,
`signal_nets`), so routing follows GPFSEL as on the chip.

Choices where the sources are silent: GPPUDCLK acts on a bit's 0→1 transition and
the 150-cycle hold after it is not checked; HEN/LEN look at the pin unfiltered; a
peripheral input routed to several pins reads the lowest-numbered one; enabling
REN/FEN starts the sampler agreeing with the pin as it is.

Layout (issue 17): the register map, codes and reset values are data in `gpio_map`; the
behaviour is a chain of parts, each in its own module, that `GpioBlock` closes:
`gpio_pulls` (the shared state, line checks, pad pulls) <- `gpio_events` (event detect,
`GpioEventQueue`) <- `gpio_routing` (GPFSEL, signals) <- `gpio_latch` (GPSET/GPCLR) <- this
module (construction, reset, register hooks, the model-side API). Every name this module
had before the split is still importable from it (`__all__`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar

import simpy

from ..errors import ConfigurationError
from ..world.clock import World
from ..world.net import Drive, Net, NetKind
from .alt_functions import AltRow, alt_table, signal_names
from .gpio_events import GpioEventQueue
from .gpio_latch import GpioLatch
from .gpio_map import (
    ALT_OF_FSEL,
    FSEL_ALT,
    FSEL_INPUT,
    FSEL_OF_FUNCTION,
    FSEL_OUTPUT,
    FUNCTION_NAMES,
    GPFSEL_OFFSET,
    GPIO_BANK_REGISTERS,
    GPPUD_OFFSET,
    GPPUD_SETUP_CYCLES,
    GPPUD_TO_PULL,
    GPPUDCLK_OFFSET,
    PAD_PULL_OHMS,
    PULL_DOWN,
    PULL_NAMES,
    PULL_NONE,
    PULL_OF_NAME,
    PULL_UP,
    PUP_PDN_OFFSET,
    SYNC_SAMPLES,
    _reset_pulls,
    build_gpio_map,
)
from .registers import RegisterMap

if TYPE_CHECKING:
    from .soc import Soc

# Every name the module had before the split stays importable from here (issue 17).
__all__ = [
    "ALT_OF_FSEL",
    "FSEL_ALT",
    "FSEL_INPUT",
    "FSEL_OF_FUNCTION",
    "FSEL_OUTPUT",
    "FUNCTION_NAMES",
    "GPFSEL_OFFSET",
    "GPIO_BANK_REGISTERS",
    "GPPUDCLK_OFFSET",
    "GPPUD_OFFSET",
    "GPPUD_SETUP_CYCLES",
    "GPPUD_TO_PULL",
    "PAD_PULL_OHMS",
    "PULL_DOWN",
    "PULL_NAMES",
    "PULL_NONE",
    "PULL_OF_NAME",
    "PULL_UP",
    "PUP_PDN_OFFSET",
    "SYNC_SAMPLES",
    "Bcm2711Gpio",
    "Bcm2835Gpio",
    "GpioBlock",
    "GpioEventQueue",
    "_reset_pulls",
    "build_gpio_map",
    "gpio_block",
]


class GpioBlock(GpioLatch):
    """GPIO registers, pads' pulls and pin routing of one SoC; see the module docstring."""

    MAP: ClassVar[RegisterMap]

    def __init__(self, soc: Soc, name: str = "gpio") -> None:
        variant = soc.variant
        if variant.gpio_count != self.GPIO_COUNT or variant.pull_control != self.PULL_CONTROL:
            raise ConfigurationError(
                f"{type(self).__name__} models {self.GPIO_COUNT} lines with {self.PULL_CONTROL} "
                f"pulls; {variant.name} has {variant.gpio_count} with {variant.pull_control}"
            )
        self.soc = soc
        self.world: World = soc.world
        self._env = soc.world.env
        self.count = variant.gpio_count
        self._all = (1 << self.count) - 1
        self.alt_table: Mapping[int, AltRow] = alt_table(variant.name)
        self._known_signals = signal_names(self.alt_table)
        period_ns = 1e9 / variant.core_clock_hz
        self.sync_window_ns = math.ceil(SYNC_SAMPLES * period_ns - 1e-9)
        self.pud_setup_ns = math.ceil(GPPUD_SETUP_CYCLES * period_ns - 1e-9)

        circuit = soc.circuit
        self._nets: list[Net] = []
        for n in range(self.count):
            net_name = f"GPIO{n}"
            net = (
                circuit[net_name]
                if net_name in circuit
                else circuit.add_net(net_name, NetKind.GPIO)
            )
            self._nets.append(net)
        self._bit_of: dict[Net, int] = {net: 1 << n for n, net in enumerate(self._nets)}
        self._out_owner = [f"gpio.GPIO{n}" for n in range(self.count)]
        self._pull_owner = [f"gpio.GPIO{n} pull" for n in range(self.count)]
        self._reset_pull_state = _reset_pulls(self.count)

        # pin state
        self._fsel = [FSEL_INPUT] * self.count
        self._line_signal: list[str | None] = [None] * self.count
        self._latch = 0
        self._outputs = 0
        self._level = 0
        self._pull = [PULL_NONE] * self.count
        # event detect
        self._eds = 0
        self._ren = self._fen = self._hen = self._len = self._aren = self._afen = 0
        self._detect = 0  # lines with any detection enabled
        self._sync = 0  # lines with REN or FEN
        self._sync_level = 0  # the level as the synchronous sampler has accepted it
        self._pend_t = [-1] * self.count  # time of a raw edge not yet accepted by the sampler
        self._pend_seq = [0] * self.count
        self._edge_seq = [0] * self.count
        self._evented_seq = [0] * self.count
        self._commit_q: deque[tuple[int, int, int]] = deque()
        self._armed: set[int] = set()  # due times with a timer
        self._commit_cb: Callable[[simpy.Event], None] = self._commit_due
        self._queues: list[list[GpioEventQueue]] = [[] for _ in range(self.count)]
        # BCM2835 pull sequence
        self._gppud = 0
        self._gppud_since = 0
        self._pudclk = 0
        # routing
        self._routed: dict[str, list[int]] = {}
        self.routing_generation = 0
        """Bumped whenever a pin enters or leaves an alternate function (`_routed` changes):
        a view of the routing kept elsewhere is exact while the generation is unchanged."""
        self._signal_nets: dict[str, list[Net]] = {}
        """`signal_nets` answers for this generation (emptied by `_rerouted`)."""
        self._signal_drives: dict[str, dict[str, Drive]] = {}

        for net in self._nets:
            net.watch(self._on_net_change)
        super().__init__(name)
        self._install_hooks()

    # ----------------------------------------------------------------------------------
    # reset
    # ----------------------------------------------------------------------------------
    def reset_registers(self) -> None:
        """Datasheet reset: every pin an input, latches and events clear, reset pulls (§3.3, §3.7)."""
        super().reset_registers()
        for n in range(self.count):
            self._apply_fsel(n, FSEL_INPUT)
        self._latch = 0
        self._eds = 0
        self._ren = self._fen = self._hen = self._len = self._aren = self._afen = 0
        self._detect = self._sync = 0
        self._pend_t = [-1] * self.count
        self._commit_q.clear()
        self._gppud = 0
        self._gppud_since = self.world.now_ns
        self._pudclk = 0
        for n in range(self.count):
            self._set_pad_pull(n, self._reset_pull_state[n])
        self._level = sum(1 << n for n, net in enumerate(self._nets) if net.level)
        self._sync_level = self._level

    # ----------------------------------------------------------------------------------
    # register hooks
    # ----------------------------------------------------------------------------------
    def _install_hooks(self) -> None:
        self._checked_writers: dict[str, Callable[[int], None]] = {}
        self._make_line_writers()
        for i in range(6):
            self._write_hooks[f"GPFSEL{i}"] = self._fsel_writer(i)
            self._read_hooks[f"GPFSEL{i}"] = self._fsel_reader(i)
        for bank in (0, 1):
            shift = 32 * bank
            for reg, level in ((f"GPSET{bank}", True), (f"GPCLR{bank}", False)):
                self._write_hooks[reg] = self._latch_writer(reg, level, shift)
                self._checked_writers[reg] = self._write_hooks[reg]
            self._read_hooks[f"GPLEV{bank}"] = self._level_reader(shift)
            self._read_hooks[f"GPEDS{bank}"] = self._bank_reader(self._events_now, shift)
            self._write_hooks[f"GPEDS{bank}"] = self._shifted(self._clear_events, shift)
            for reg in ("REN", "FEN", "HEN", "LEN", "AREN", "AFEN"):
                self._write_hooks[f"GP{reg}{bank}"] = self._enable_writer(reg, bank)
        if self.PULL_CONTROL == "gppud":
            self._write_hooks["GPPUD"] = self._write_gppud
            for bank in (0, 1):
                self._write_hooks[f"GPPUDCLK{bank}"] = self._pudclk_writer(bank)
        else:
            for r in range(4):
                self._write_hooks[f"GPIO_PUP_PDN_CNTRL_REG{r}"] = self._pup_pdn_writer(r)
                self._read_hooks[f"GPIO_PUP_PDN_CNTRL_REG{r}"] = self._pup_pdn_reader(r)

    def _shifted(self, fn: Callable[[int], None], shift: int) -> Callable[[int], None]:
        mask = self._bank_mask(shift)

        def write(value: int) -> None:
            fn((value & mask) << shift)

        return write

    def _level_reader(self, shift: int) -> Callable[[], int]:
        mask = self._bank_mask(shift)
        if not shift:
            return lambda: self._level & mask
        return lambda: (self._level >> shift) & mask

    def line_reader(self, line: int) -> Callable[[], bool]:
        """One line's GPLEV bit with the bank and bit resolved: what
        ``GPLEV<line // 32> >> (line % 32) & 1`` reads, as a bool (one function per line)."""
        readers = self.__dict__.get("_line_readers")
        if readers is None:
            readers = self._line_readers = [self._one_line_reader(n) for n in range(self.count)]
        return readers[self._check_line(line)]

    def _one_line_reader(self, n: int) -> Callable[[], bool]:
        return lambda: self._level >> n & 1 == 1

    def _bank_reader(self, source: Callable[[], int], shift: int) -> Callable[[], int]:
        mask = self._bank_mask(shift)

        def read() -> int:
            return (source() >> shift) & mask

        return read

    # bus access by name without the map lookup: the driver's GPIO path (set, read) is hot.
    # The hooks are keyed by name only, so an offset finds none and takes the general path.
    def read(self, key: str | int) -> int:
        hook = self._read_hooks.get(key)  # type: ignore[arg-type]
        if hook is not None:
            return hook()
        return super().read(key)

    def write(self, key: str | int, value: int) -> None:
        hook = self._write_hooks.get(key)  # type: ignore[arg-type]
        if hook is not None and 0 <= value <= 0xFFFF_FFFF:
            reg = self.MAP.get(key, self.name)
            if self.policy is not None and value & ~reg.defined_mask:
                value = self.policy.undefined_bits(self.name, reg, value)  # reserved: ignored
            hook(value)
            return
        super().write(key, value)

    def reader(self, key: str | int) -> Callable[[], int]:
        """As `RegisterBlock.reader`; a computed register's (GPLEV, GPEDS...) own function,
        which returns the 32-bit value `read` would."""
        hook = self._read_hooks.get(self.MAP.get(key, self.name).name)
        return hook if hook is not None else super().reader(key)

    def writer(self, key: str | int) -> Callable[[int], None]:
        """As `RegisterBlock.writer`; GPSET/GPCLR's own function, which checks the value itself."""
        hook = self._checked_writers.get(self.MAP.get(key, self.name).name)
        return hook if hook is not None else super().writer(key)

    def peek(self, name: str) -> int:
        """The register's value without side effects (computed registers included)."""
        reg = self.MAP.get(name, self.name)
        hook = self._read_hooks.get(reg.name)
        return hook() if hook is not None else super().peek(name)

    def get_field(self, reg: str, field_name: str) -> int:
        r = self.MAP.get(reg, self.name)
        return r.field(field_name).get(self.peek(r.name))

    # ----------------------------------------------------------------------------------
    # model-side API (docs/emulator-api.md "GPIO block")
    # ----------------------------------------------------------------------------------
    def net(self, line: int) -> Net:
        """The net of a GPIO line (named ``GPIO<n>``)."""
        return self._nets[self._check_line(line)]

    @property
    def nets(self) -> list[Net]:
        return list(self._nets)

    def level(self, line: int) -> bool:
        """The pin's level, as GPLEV reads it."""
        return bool(self._level >> self._check_line(line) & 1)

    def output_latch(self, line: int) -> bool:
        """The SET/CLR latch of a line (what it drives when it is an output)."""
        return bool(self._latch >> self._check_line(line) & 1)

    def events(self, line: int) -> GpioEventQueue:
        """A new edge-event buffer for ``line``: an `Edge` for every event-detect hit
        (the kernel's edge-event buffer; ``close()`` it when done)."""
        q = GpioEventQueue(self, self._check_line(line))
        self._queues[line].append(q)
        return q

    def event_queue(self, line: int) -> GpioEventQueue:
        """Alias of `events` (docs/emulator-api.md names both)."""
        return self.events(line)


class Bcm2835Gpio(GpioBlock):
    """BCM2835: 54 lines, GPPUD/GPPUDCLK pull sequence."""

    GPIO_COUNT = 54
    PULL_CONTROL = "gppud"
    MAP = build_gpio_map(54, "gppud")


class Bcm2711Gpio(GpioBlock):
    """BCM2711: 58 lines, GPIO_PUP_PDN_CNTRL_REG0-3."""

    GPIO_COUNT = 58
    PULL_CONTROL = "pup_pdn"
    MAP = build_gpio_map(58, "pup_pdn")


def gpio_block(soc: Soc, name: str = "gpio") -> GpioBlock:
    """The GPIO block for the SoC's variant (by its line count and pull control)."""
    for cls in (Bcm2835Gpio, Bcm2711Gpio):
        if (
            soc.variant.gpio_count,
            soc.variant.pull_control,
        ) == (cls.GPIO_COUNT, cls.PULL_CONTROL):
            return cls(soc, name)
    raise ConfigurationError(
        f"no GPIO model for {soc.variant.gpio_count} lines with {soc.variant.pull_control} "
        "pulls; modelled: 54/gppud (BCM2835), 58/pup_pdn (BCM2711)"
    )
