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
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar, Final

import simpy

from ..errors import BusError, ConfigurationError, ElectricalFault, PinError, RegisterError
from ..world.clock import World
from ..world.edges import Edge, EdgeQueue
from ..world.net import Drive, Net, NetKind
from .alt_functions import AltRow, alt_table, lines_with_signal, signal_names
from .registers import Access, Field, Register, RegisterBlock, RegisterMap

if TYPE_CHECKING:
    from .soc import Soc

# --------------------------------------------------------------------------------------
# Register map (soc-facts §3.2), as data. Offsets are from the GPIO base (0x7e200000).
# --------------------------------------------------------------------------------------

GPIO_BANK_REGISTERS: Final = (
    # (name prefix, offset of bank 0, field prefix, access, what it does)
    ("GPSET", 0x1C, "SET", Access.WO, "write 1: set the output latch (§3.4)"),
    ("GPCLR", 0x28, "CLR", Access.WO, "write 1: clear the output latch (§3.4)"),
    ("GPLEV", 0x34, "LEV", Access.RO, "the actual level of the pin (§3.4)"),
    ("GPEDS", 0x40, "EDS", Access.W1C, "event detect status, write 1 to clear (§3.5)"),
    ("GPREN", 0x4C, "REN", Access.RW, "synchronous rising-edge detect enable"),
    ("GPFEN", 0x58, "FEN", Access.RW, "synchronous falling-edge detect enable"),
    ("GPHEN", 0x64, "HEN", Access.RW, "high-level detect enable"),
    ("GPLEN", 0x70, "LEN", Access.RW, "low-level detect enable"),
    ("GPAREN", 0x7C, "AREN", Access.RW, "asynchronous rising-edge detect enable"),
    ("GPAFEN", 0x88, "AFEN", Access.RW, "asynchronous falling-edge detect enable"),
)
GPFSEL_OFFSET: Final = 0x00  # GPFSEL0-5 at 0x00-0x14, 3 bits per pin, 10 pins per register
GPPUD_OFFSET: Final = 0x94  # BCM2835 only
GPPUDCLK_OFFSET: Final = 0x98  # BCM2835 only: GPPUDCLK0/1 at 0x98/0x9c
PUP_PDN_OFFSET: Final = 0xE4  # BCM2711 only: GPIO_PUP_PDN_CNTRL_REG0-3 at 0xe4-0xf0

# GPFSEL encodings (§3.3): 000 input, 001 output, 100 ALT0, 101 ALT1, 110 ALT2, 111 ALT3,
# 011 ALT4, 010 ALT5.
FSEL_INPUT: Final = 0b000
FSEL_OUTPUT: Final = 0b001
FSEL_ALT: Final = (0b100, 0b101, 0b110, 0b111, 0b011, 0b010)
"""FSEL code of ALT0..ALT5."""
ALT_OF_FSEL: Final = {code: alt for alt, code in enumerate(FSEL_ALT)}
FUNCTION_NAMES: Final = {
    FSEL_INPUT: "input",
    FSEL_OUTPUT: "output",
    **{code: f"ALT{alt}" for alt, code in enumerate(FSEL_ALT)},
}
FSEL_OF_FUNCTION: Final = {name: code for code, name in FUNCTION_NAMES.items()}

# Pull states, in the BCM2711 GPIO_PUP_PDN_CNTRL encoding (§3.6): 00 none, 01 up, 10 down.
PULL_NONE: Final = 0
PULL_UP: Final = 1
PULL_DOWN: Final = 2
PULL_NAMES: Final = {PULL_NONE: "none", PULL_UP: "up", PULL_DOWN: "down"}
PULL_OF_NAME: Final = {name: code for code, name in PULL_NAMES.items()}
# BCM2835 GPPUD bits 1:0 (§3.6): 00 off, 01 pull-down, 10 pull-up, 11 reserved.
GPPUD_TO_PULL: Final = {0b00: PULL_NONE, 0b01: PULL_DOWN, 0b10: PULL_UP}

PAD_PULL_OHMS: Final = 50_000.0
"""The pads' internal pull resistance. The seed gives 50-65 kΩ (up) and 50-60 kΩ (down);
Linux ``bcm2711_pinconf_get`` reports 50000 Ω, "taken from the BCM2711/7211 datasheet"
(soc-facts §3.6). 50 kΩ is the value both sources share."""

GPPUD_SETUP_CYCLES: Final = 150
"""soc-facts §3.6: "Wait 150 cycles – this provides the required set-up time"; counted in
core-clock cycles (Linux: "the VideoCore firmware delay ... this clock runs at 250 MHz")."""

SYNC_SAMPLES: Final = 2
"""soc-facts §3.5: synchronous detection looks for "011"/"100" in the pin sampled at the
system clock, so the new level must be seen by two samples. A pulse of two clock periods
always holds for two samples whatever the sampling phase; the model takes that bound
(8 ns at 250 MHz) so the outcome does not depend on an unobservable clock phase."""


def _reset_pulls(count: int) -> tuple[int, ...]:
    """Reset pulls per line (soc-facts §3.7; the same pattern on both chips):
    GPIO0-8 up; 9-27 down; 28-29 none; 30-33 down; 34-36 up; 37-43 down; 44-45 none;
    46-57 up."""
    spans = (
        (0, 8, PULL_UP),
        (9, 27, PULL_DOWN),
        (28, 29, PULL_NONE),
        (30, 33, PULL_DOWN),
        (34, 36, PULL_UP),
        (37, 43, PULL_DOWN),
        (44, 45, PULL_NONE),
        (46, 57, PULL_UP),
    )
    pulls = [PULL_NONE] * count
    for first, last, pull in spans:
        for line in range(first, min(last, count - 1) + 1):
            pulls[line] = pull
    return tuple(pulls)


def _pin_fields(
    prefix: str, first: int, count: int, width: int, access: Access
) -> tuple[Field, ...]:
    return tuple(Field(f"{prefix}{first + i}", i * width, width, access) for i in range(count))


def build_gpio_map(gpio_count: int, pull_control: str) -> RegisterMap:
    """The GPIO register map of a chip with ``gpio_count`` lines and the given pull control."""
    regs: list[Register] = []
    for i in range(6):
        first = 10 * i
        n = max(0, min(10, gpio_count - first))
        regs.append(
            Register(
                f"GPFSEL{i}",
                GPFSEL_OFFSET + 4 * i,
                _pin_fields("FSEL", first, n, 3, Access.RW),
                doc=f"function select GPIO{first}-{first + n - 1}",
            )
        )
    for prefix, offset, field_prefix, access, doc in GPIO_BANK_REGISTERS:
        for bank in (0, 1):
            first = 32 * bank
            n = min(32, gpio_count - first)
            regs.append(
                Register(
                    f"{prefix}{bank}",
                    offset + 4 * bank,
                    _pin_fields(field_prefix, first, n, 1, access),
                    doc=doc,
                )
            )
    if pull_control == "gppud":
        regs.append(
            Register(
                "GPPUD",
                GPPUD_OFFSET,
                (Field("PUD", 0, 2, Access.RW, doc="00 off, 01 pull-down, 10 pull-up"),),
                doc="pull control signal for the GPPUDCLK sequence (BCM2835)",
            )
        )
        for bank in (0, 1):
            first = 32 * bank
            regs.append(
                Register(
                    f"GPPUDCLK{bank}",
                    GPPUDCLK_OFFSET + 4 * bank,
                    _pin_fields("PUDCLK", first, min(32, gpio_count - first), 1, Access.RW),
                    doc="clock GPPUD into these pads (BCM2835)",
                )
            )
    elif pull_control == "pup_pdn":
        pulls = _reset_pulls(gpio_count)
        for r in range(4):
            first = 16 * r
            n = max(0, min(16, gpio_count - first))
            fields = tuple(
                Field(f"GPIO_PUP_PDN_CNTRL{first + i}", 2 * i, 2, Access.RW, reset=pulls[first + i])
                for i in range(n)
            )
            regs.append(
                Register(
                    f"GPIO_PUP_PDN_CNTRL_REG{r}",
                    PUP_PDN_OFFSET + 4 * r,
                    fields,
                    doc="00 none, 01 pull-up, 10 pull-down; reads the current state (BCM2711)",
                )
            )
    else:
        raise ConfigurationError(f"unknown pull control {pull_control!r}; known: gppud, pup_pdn")
    return RegisterMap(regs)


_HIGH: Final = Drive.push_pull(True)
_LOW: Final = Drive.push_pull(False)
_PULL_DRIVES: Final[Mapping[int, Drive | None]] = {
    PULL_NONE: None,
    PULL_UP: Drive.pull_up(PAD_PULL_OHMS),
    PULL_DOWN: Drive.pull_down(PAD_PULL_OHMS),
}


def _bits(mask: int) -> list[int]:
    """The set bit positions of ``mask``, lowest first."""
    out: list[int] = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class GpioEventQueue(EdgeQueue):
    """The edge-event buffer of one line: an `Edge` per event-detect hit (``gpio.events``)."""

    def __init__(self, block: GpioBlock, line: int) -> None:
        super().__init__(block.world)
        self._block = block
        self.line = line

    # every way of looking first lets the sampler decide on edges whose window has passed
    def __len__(self) -> int:
        self._block._flush()
        return super().__len__()

    def get_nowait(self) -> Edge | None:
        self._block._flush()
        return super().get_nowait()

    def drain(self) -> list[Edge]:
        self._block._flush()
        return super().drain()

    def when_any(self) -> simpy.Event:
        self._block._flush()
        event = super().when_any()
        if not event.triggered:
            self._block._arm_line(self.line)
        return event

    @property
    def waiting(self) -> bool:
        """True while a reader waits in simulated time for this buffer."""
        return bool(self._waiters)

    def close(self) -> None:
        super().close()
        subscribers = self._block._queues[self.line]
        if self in subscribers:
            subscribers.remove(self)


class GpioBlock(RegisterBlock):
    """GPIO registers, pads' pulls and pin routing of one SoC; see the module docstring."""

    MAP: ClassVar[RegisterMap]
    GPIO_COUNT: ClassVar[int]
    PULL_CONTROL: ClassVar[str]

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

    def _bank_mask(self, shift: int) -> int:
        return (self._all >> shift) & 0xFFFF_FFFF

    def _shifted(self, fn: Callable[[int], None], shift: int) -> Callable[[int], None]:
        mask = self._bank_mask(shift)

        def write(value: int) -> None:
            fn((value & mask) << shift)

        return write

    def _latch_writer(self, reg: str, level: bool, shift: int) -> Callable[[int], None]:
        """GPSET/GPCLR of one bank. Checks its own value, so `writer` can hand it out as is.

        One output line whose latch flips (a GPIO round trip) is done here; anything
        else goes through `_change_latch`. Bits above the bank's last line (GPSET1/GPCLR1
        bits 22-31 on the BCM2835, 26-31 on the BCM2711: soc-facts §3.2) are reserved: the
        chip ignores them, and the SoC's `RegisterPolicy` records a warning (or raises when
        strict), on this mapped path as through `write`.
        """
        mask = self._bank_mask(shift)
        change = self._change_latch
        nets = self._nets
        owners = self._out_owner
        drive = _HIGH if level else _LOW
        whole_bank0 = not shift and mask == 0xFFFF_FFFF  # every bit a line: nothing to cut
        register = self.MAP.get(reg, self.name)

        def write(value: int) -> None:
            if not 0 <= value <= 0xFFFF_FFFF:
                raise RegisterError(
                    f"{self.name}.{reg}: a 32-bit register takes 0..0xffffffff, got {value:#x}"
                )
            if whole_bank0:
                bits = value
            else:
                if value & ~mask and self.policy is not None:
                    value = self.policy.undefined_bits(self.name, register, value)
                bits = (value & mask) << shift
            latch = self._latch
            changed = bits & ~latch if level else bits & latch
            if not changed:
                return
            if changed & (changed - 1) or not changed & self._outputs:
                change(changed, level)
                return
            self._latch = latch ^ changed
            n = changed.bit_length() - 1
            net = nets[n]
            node = net.node
            memo = node.memo
            if (
                memo is not None
                and memo[2] is self
                and memo[0] == node.version
                and memo[1] is net._watchers
                and not changed & self._detect
            ):
                # the pin is its node's sole hard driver, alone on it (no wire), watched by
                # this block only, edge detection off: what `Net.drive`'s one-hard-driver path
                # and `_on_net_change` would do, without their calls (`_sole_driver`)
                version = node.version + 1
                node.version = version
                node.memo = (version, memo[1], self)
                net._drivers[owners[n]] = drive
                node.volts = drive.volts
                node.floating = False
                if node.level is not level:
                    node.level = level
                    self._level = self._level | changed if level else self._level & ~changed
                return
            try:
                net.drive(owners[n], drive)
            except ElectricalFault:
                self._latch = latch
                raise
            self._sole_driver(net)

        return write

    def _sole_driver(self, net: Net) -> None:
        """Mark ``net``'s node for `_latch_writer`'s direct path when the output just driven is
        the node's only hard driver (pulls may be on it: the hard drive sets the voltage, as
        in `Net.drive`), the net has no wire to another and only this block watches it. The
        mark is exact while the node's drivers (`Node.version`) and the net's watchers (a
        tuple replaced on every change: compared by identity) stay as they were."""
        node = net.node
        watchers = net._watchers
        if node.hard == 1 and len(node.nets) == 1 and watchers == (self._on_net_change,):
            node.memo = (node.version, watchers, self)

    def _level_reader(self, shift: int) -> Callable[[], int]:
        mask = self._bank_mask(shift)
        if not shift:
            return lambda: self._level & mask
        return lambda: (self._level >> shift) & mask

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

    # GPFSEL ---------------------------------------------------------------------------
    def _fsel_writer(self, index: int) -> Callable[[int], None]:
        first = 10 * index
        lines = range(first, min(first + 10, self.count))

        def write(value: int) -> None:
            for n in lines:
                self._apply_fsel(n, (value >> (3 * (n - first))) & 0b111)

        return write

    def _fsel_reader(self, index: int) -> Callable[[], int]:
        first = 10 * index
        lines = range(first, min(first + 10, self.count))

        def read() -> int:
            value = 0
            for n in lines:
                value |= self._fsel[n] << (3 * (n - first))
            return value

        return read

    def _apply_fsel(self, n: int, code: int) -> None:
        """Switch line ``n`` to FSEL ``code``; on an electrical fault put the old function back."""
        old = self._fsel[n]
        if old == code:
            return
        self._leave_function(n)
        self._fsel[n] = code
        try:
            self._enter_function(n)
        except ElectricalFault:
            self._leave_function(n)
            self._fsel[n] = old
            self._enter_function(n)
            raise

    def _leave_function(self, n: int) -> None:
        code = self._fsel[n]
        net = self._nets[n]
        if code == FSEL_OUTPUT:
            self._outputs &= ~(1 << n)
            net.release(self._out_owner[n])
        elif code != FSEL_INPUT:
            signal = self._line_signal[n]
            if signal is None:
                net.release(self._out_owner[n])  # the unused alternate's tie to ground
            else:
                routed = self._routed[signal]
                routed.remove(n)
                if not routed:
                    del self._routed[signal]
                self._rerouted()
                for owner in self._signal_drives.get(signal, {}):
                    net.release(owner)
                self._line_signal[n] = None

    def _enter_function(self, n: int) -> None:
        code = self._fsel[n]
        net = self._nets[n]
        if code == FSEL_OUTPUT:
            self._outputs |= 1 << n
            net.drive(self._out_owner[n], _HIGH if self._latch >> n & 1 else _LOW)
        elif code != FSEL_INPUT:
            signal = self.alt_table[n][ALT_OF_FSEL[code]] if n in self.alt_table else None
            if signal is None:
                # §3.3: "unused alternative function lines are tied to ground and will output a 0"
                net.drive(self._out_owner[n], _LOW)
            else:
                self._line_signal[n] = signal
                routed = self._routed.setdefault(signal, [])
                routed.append(n)
                routed.sort()
                self._rerouted()
                for owner, drive in self._signal_drives.get(signal, {}).items():
                    net.drive(owner, drive)

    # GPSET / GPCLR --------------------------------------------------------------------
    def _change_latch(self, changed: int, level: bool) -> None:
        if not changed:
            return
        if level:
            self._latch |= changed
        else:
            self._latch &= ~changed
        driven = changed & self._outputs
        if not driven:
            return
        drive = _HIGH if level else _LOW
        if not driven & (driven - 1):  # one line: the common case, no list
            n = driven.bit_length() - 1
            try:
                self._nets[n].drive(self._out_owner[n], drive)
            except ElectricalFault:
                self._latch ^= driven
                raise
            return
        applied = 0
        try:
            for n in _bits(driven):
                self._nets[n].drive(self._out_owner[n], drive)
                applied |= 1 << n
        except ElectricalFault:
            # the lines not driven keep their old latch bit: the circuit is as before for them
            undo = changed & ~applied
            if level:
                self._latch &= ~undo
            else:
                self._latch |= undo
            raise

    # event detect ---------------------------------------------------------------------
    def _clear_events(self, bits: int) -> None:
        self._flush()
        self._eds &= ~bits
        # §3.5 GPHEN/GPLEN: "If the pin is still high [low] when an attempt is made to clear
        # the status bit in GPEDSn then the status bit will remain set."
        self._eds |= bits & ((self._hen & self._level) | (self._len & ~self._level))

    def _enable_writer(self, reg: str, bank: int) -> Callable[[int], None]:
        shift = 32 * bank
        mask = self._bank_mask(shift) << shift
        attr = f"_{reg.lower()}"
        reg_name = f"GP{reg}{bank}"

        def write(value: int) -> None:
            new = (value << shift) & mask
            old: int = getattr(self, attr)
            setattr(self, attr, (old & ~mask) | new)
            self._values[reg_name] = value & self._bank_mask(shift)
            self._detection_changed(new & ~old & mask, reg)

        return write

    def _detection_changed(self, enabled: int, reg: str) -> None:
        newly_sync = (self._ren | self._fen) & ~self._sync
        self._sync = self._ren | self._fen
        self._detect = self._sync | self._hen | self._len | self._aren | self._afen
        for n in _bits(newly_sync):
            # the sampler has been running all along: it agrees with the pin now
            bit = 1 << n
            self._sync_level = (self._sync_level & ~bit) | (self._level & bit)
            self._pend_t[n] = -1
        if reg in ("HEN", "LEN"):
            hits = enabled & (self._level if reg == "HEN" else ~self._level)
            now = self.world.now_ns
            for n in _bits(hits):
                self._edge_seq[n] += 1
                self._hit(n, 1 << n, reg == "HEN", now, self._edge_seq[n])

    def _on_net_change(self, net: Net, level: bool, time_ns: int) -> None:
        """Every level change of a GPIO net: GPLEV, then event detection (the per-edge path)."""
        bit = self._bit_of[net]
        if level:
            self._level |= bit
        else:
            self._level &= ~bit
        if not bit & self._detect:
            return
        n = bit.bit_length() - 1
        self._edge_seq[n] += 1
        seq = self._edge_seq[n]
        sync = bit & self._sync
        if sync:
            pend_t = self._pend_t[n]
            if pend_t >= 0:
                if time_ns - pend_t >= self.sync_window_ns:
                    self._accept(n)  # the previous edge was held long enough: it counts first
                else:
                    self._pend_t[n] = -1  # a glitch shorter than the window: never sampled
                    sync = 0
        if bit & (self._aren if level else self._afen):
            self._hit(n, bit, level, time_ns, seq)
        if bit & (self._hen if level else self._len):
            self._hit(n, bit, level, time_ns, seq)
        if sync:
            self._schedule(n, time_ns, seq)

    def _schedule(self, n: int, time_ns: int, seq: int) -> None:
        """Remember an edge the sampler decides on after the window (lazily, see _flush)."""
        q = self._commit_q
        if q and q[0][0] <= time_ns:
            self._commit_due(None)  # keeps the queue to the edges of the last window
        self._pend_t[n] = time_ns
        self._pend_seq[n] = seq
        due = time_ns + self.sync_window_ns
        q.append((due, n, seq))
        queues = self._queues[n]
        if queues and any(qq.waiting for qq in queues):
            self._arm(due)

    def _arm(self, due: int) -> None:
        """A timer at ``due``, for a reader waiting in simulated time."""
        if due not in self._armed:
            self._armed.add(due)
            self._env.timeout(max(0, due - self._env.now)).callbacks.append(self._commit_cb)

    def _arm_line(self, n: int) -> None:
        if self._pend_t[n] >= 0:
            self._arm(self._pend_t[n] + self.sync_window_ns)

    def _flush(self) -> None:
        """Let the sampler decide on every edge whose window has passed by now."""
        q = self._commit_q
        if q and q[0][0] <= self._env.now:
            self._commit_due(None)

    def _events_now(self) -> int:
        """GPEDS as of now, the sampler's pending decisions included."""
        self._flush()
        return self._eds

    def _commit_due(self, _event: simpy.Event | None) -> None:
        now = self._env.now
        self._armed.discard(now)
        q = self._commit_q
        while q and q[0][0] <= now:
            _, n, seq = q.popleft()
            if self._pend_t[n] >= 0 and self._pend_seq[n] == seq:
                self._accept(n)

    def _accept(self, n: int) -> None:
        """The sampler has seen the new level twice: a synchronous edge (§3.5 "011"/"100")."""
        bit = 1 << n
        self._sync_level ^= bit
        level = bool(self._sync_level & bit)
        stamp = self._pend_t[n] + self.sync_window_ns
        self._pend_t[n] = -1
        if bit & (self._ren if level else self._fen):
            self._hit(n, bit, level, stamp, self._pend_seq[n])

    def _hit(self, n: int, bit: int, level: bool, time_ns: int, seq: int) -> None:
        self._eds |= bit
        if self._evented_seq[n] != seq:
            self._evented_seq[n] = seq
            queues = self._queues[n]
            if queues:
                edge = Edge(time_ns, self._nets[n].name, level)
                for q in queues:
                    q.put(edge)

    # pulls ----------------------------------------------------------------------------
    def _set_pad_pull(self, n: int, pull: int) -> None:
        self._pull[n] = pull
        self._nets[n].drive(self._pull_owner[n], _PULL_DRIVES[pull])

    def _write_gppud(self, value: int) -> None:
        self._gppud = value & 0b11
        self._gppud_since = self.world.now_ns
        self._values["GPPUD"] = self._gppud

    def _pudclk_writer(self, bank: int) -> Callable[[int], None]:
        shift = 32 * bank
        mask = self._bank_mask(shift)
        reg_name = f"GPPUDCLK{bank}"

        def write(value: int) -> None:
            value &= mask
            new = value << shift
            rising = new & ~self._pudclk
            self._pudclk = (self._pudclk & ~(mask << shift)) | new
            self._values[reg_name] = value
            # §3.6: only pads that receive a clock are modified, and only with the set-up met
            pull = GPPUD_TO_PULL.get(self._gppud)
            if not rising or pull is None:
                return
            if self.world.now_ns - self._gppud_since < self.pud_setup_ns:
                return
            for n in _bits(rising):
                self._set_pad_pull(n, pull)

        return write

    def _pup_pdn_writer(self, r: int) -> Callable[[int], None]:
        first = 16 * r
        lines = range(first, min(first + 16, self.count))
        reg_name = f"GPIO_PUP_PDN_CNTRL_REG{r}"
        mask = sum(0b11 << (2 * (n - first)) for n in lines)

        def write(value: int) -> None:
            self._values[reg_name] = value & mask
            for n in lines:
                code = (value >> (2 * (n - first))) & 0b11
                # 11 is "Reserved": the register keeps it, the pad gets no resistor
                self._set_pad_pull(n, code if code in PULL_NAMES else PULL_NONE)

        return write

    def _pup_pdn_reader(self, r: int) -> Callable[[], int]:
        reg_name = f"GPIO_PUP_PDN_CNTRL_REG{r}"
        return lambda: self._values[reg_name]

    # ----------------------------------------------------------------------------------
    # model-side API (docs/emulator-api.md "GPIO block")
    # ----------------------------------------------------------------------------------
    def _check_line(self, line: int) -> int:
        if not isinstance(line, int) or isinstance(line, bool) or not 0 <= line < self.count:
            raise PinError(
                f"GPIO{line} does not exist on the {self.soc.variant.name} "
                f"(GPIO0-GPIO{self.count - 1})"
            )
        return line

    def net(self, line: int) -> Net:
        """The net of a GPIO line (named ``GPIO<n>``)."""
        return self._nets[self._check_line(line)]

    @property
    def nets(self) -> list[Net]:
        return list(self._nets)

    def function(self, line: int) -> str:
        """``"input"``, ``"output"`` or ``"ALT0"``..``"ALT5"``, from GPFSEL."""
        return FUNCTION_NAMES[self._fsel[self._check_line(line)]]

    def set_function(self, line: int, function: str) -> None:
        """Select a function as a GPFSEL write would (read-modify-write of one field)."""
        code = FSEL_OF_FUNCTION.get(function.strip().lower() if function else "")
        if code is None:
            code = FSEL_OF_FUNCTION.get(function.strip().upper())
        if code is None:
            raise ConfigurationError(
                f"unknown GPIO function {function!r}; valid: {', '.join(FSEL_OF_FUNCTION)}"
            )
        self._apply_fsel(self._check_line(line), code)

    def signal(self, line: int) -> str | None:
        """The peripheral signal the pin is routed to now (soc-facts §3.9 names), if any."""
        return self._line_signal[self._check_line(line)]

    def alternates(self, line: int) -> AltRow:
        """The pin's ALT0..ALT5 signals (None: unused)."""
        return self.alt_table[self._check_line(line)]

    def alt_for(self, line: int, signal: str) -> str:
        """The function (``"ALT0"``...) that routes ``line`` to ``signal``; a clear error if none."""
        row = self.alternates(line)
        for alt, name in enumerate(row):
            if name == signal:
                return f"ALT{alt}"
        where = ", ".join(f"GPIO{n} ALT{a}" for n, a in lines_with_signal(self.alt_table, signal))
        raise ConfigurationError(
            f"GPIO{line} has no {signal} function on the {self.soc.variant.name}; "
            f"{signal} is on: {where or 'no pin'}"
        )

    def lines_for(self, signal: str) -> list[int]:
        """The lines routed to ``signal`` now, lowest first."""
        return list(self._routed.get(signal, ()))

    def candidates(self, signal: str) -> list[tuple[int, int]]:
        """Every (line, ALT number) that could carry ``signal`` on this chip."""
        return lines_with_signal(self.alt_table, signal)

    def _check_signal(self, signal: str) -> None:
        if signal not in self._known_signals:
            import difflib

            close = difflib.get_close_matches(signal, sorted(self._known_signals), n=4)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigurationError(
                f"{signal!r} is not a {self.soc.variant.name} alternate-function signal{hint}"
            )

    def drive_signal(self, signal: str, owner: str, drive: Drive | None) -> None:
        """A peripheral drives (or with None releases) its output ``signal``.

        Applied to every line routed to the signal now and re-applied when GPFSEL
        routes it elsewhere. Raises `ElectricalFault` (and keeps the old drive) on a
        broken electrical rule.
        """
        drives = self._signal_drives.get(signal)
        if drives is None:
            self._check_signal(signal)
            drives = self._signal_drives[signal] = {}
        old = drives.get(owner)
        if drive is None:
            drives.pop(owner, None)
        else:
            drives[owner] = drive
        lines = self._routed.get(signal)
        if not lines:
            return
        done: list[Net] = []
        try:
            for n in lines:
                net = self._nets[n]
                net.drive(owner, drive)
                done.append(net)
        except ElectricalFault:
            if old is None:
                drives.pop(owner, None)
            else:
                drives[owner] = old
            for net in done:
                net.drive(owner, old)
            raise

    def signal_level(self, signal: str) -> bool:
        """The level a peripheral input sees: the pin routed to ``signal`` (the lowest if several).

        Raises `BusError` (kind ``not_routed``) when GPFSEL routes no pin to it.
        """
        lines = self._routed.get(signal)
        if not lines:
            self._check_signal(signal)
            where = ", ".join(f"GPIO{n} ALT{a}" for n, a in self.candidates(signal))
            raise BusError(
                f"no GPIO is routed to {signal} (select one of: {where})",
                bus=signal,
                kind="not_routed",
                time_ns=self.world.now_ns,
            )
        return bool(self._level >> lines[0] & 1)

    def signal_nets(self, signal: str) -> list[Net]:
        """The nets routed to ``signal`` now (empty when none), lowest line first.

        Kept per routing generation (every transfer and every UART byte asks): the list is
        shared with the next callers until the routing changes, so it must not be modified.
        """
        nets = self._signal_nets.get(signal)
        if nets is None:
            nets = [self._nets[n] for n in self._routed.get(signal, ())]
            self._signal_nets[signal] = nets
        return nets

    def _rerouted(self) -> None:
        """`_routed` changed: a new routing generation, the kept `signal_nets` answers dropped."""
        self.routing_generation += 1
        self._signal_nets = {}

    def level(self, line: int) -> bool:
        """The pin's level, as GPLEV reads it."""
        return bool(self._level >> self._check_line(line) & 1)

    def output_latch(self, line: int) -> bool:
        """The SET/CLR latch of a line (what it drives when it is an output)."""
        return bool(self._latch >> self._check_line(line) & 1)

    def pull(self, line: int) -> str:
        """The pad's pull now: ``"none"``, ``"up"`` or ``"down"`` (model side; the BCM2835 has
        no register that reads it back)."""
        return PULL_NAMES[self._pull[self._check_line(line)]]

    def set_pull(self, line: int, pull: str) -> None:
        """Set a pad's pull directly (firmware or test set-up); on the BCM2711 the
        GPIO_PUP_PDN_CNTRL register follows, as it reads the current state."""
        code = PULL_OF_NAME.get(pull)
        if code is None:
            raise ConfigurationError(f"unknown pull {pull!r}; valid: {', '.join(PULL_OF_NAME)}")
        n = self._check_line(line)
        self._set_pad_pull(n, code)
        if self.PULL_CONTROL == "pup_pdn":
            reg = f"GPIO_PUP_PDN_CNTRL_REG{n // 16}"
            shift = 2 * (n % 16)
            self._values[reg] = (self._values[reg] & ~(0b11 << shift)) | (code << shift)

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
