"""A board assembled from its profile: the SoC, the supplies, the wiring, the devices.

``Board.from_profile("mirkopc")`` builds the world (one SimPy environment, integer ns),
the circuit with the 3V3/5V/GND rails and one net per GPIO, the SoC's blocks, the board's
pull resistors, the jumper wires of the profile and its test jig, the devices (through
the device registry when a model exists), and the pin functions the firmware leaves
after boot. Everything a test or the driver does to the board goes through here.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .attachments import Attachments
from .board_devices import (  # re-exported: their home was this module
    DeviceMap as DeviceMap,
)
from .board_devices import (
    DeviceWiring,
)
from .board_devices import (
    UnknownDevice as UnknownDevice,
)
from .board_devices import (
    require_model as require_model,
)
from .boards import load_profile
from .boards.pins import PinInfo, PinMap
from .boards.schema import I2C_GPIO, I2C_GPIO_DELAY_US, BoardProfile, DeviceSpec
from .buses.i2c_gpio import BCM_GPIO_ACCESS_NS, I2cGpioBus, attach_i2c_gpio
from .errors import (
    ConfigurationError,
    ElectricalFault,
    PinError,
    RegisterError,
)
from .faults import Fault
from .snapshot import BoardSnapshot, restore_snapshot, take_snapshot
from .soc.gpio import GpioBlock
from .soc.registers import RegisterBlock, RegisterWarning
from .soc.soc import Soc
from .soc.variants import SocVariant
from .vcd import VcdRecorder
from .world.clock import World
from .world.net import Circuit, Drive, Net, NetKind, Wire

RAILS: Mapping[str, float] = {"3V3": 3.3, "5V": 5.0, "GND": 0.0}
"""The supply nets every board has."""


class Board(DeviceWiring):
    """One emulated board. See the module docstring and docs/emulator-api.md "Board"."""

    def __init__(
        self,
        profile: BoardProfile,
        *,
        seed: int = 0,
        soc_overrides: Mapping[str, Any] | None = None,
        world: World | None = None,
    ) -> None:
        self.profile = profile
        # ``world``: build the board into a world shared with other boards (a `Bench`,
        # pihil_emulator.multiboard); by default the board has a world of its own
        self.world = World(seed) if world is None else world
        self._shares_world = world is not None
        """Built into another's world (a `Bench`): its time and events are not the board's own."""
        self.circuit = Circuit(self.world)
        try:
            self.variant: SocVariant = profile.variant.with_overrides(**dict(soc_overrides or {}))
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        for rail, volts in RAILS.items():
            self.circuit.add_rail(rail, volts)
        self.attachments = Attachments()
        self.soc = Soc(self.world, self.circuit, self.variant, self.attachments)
        self.resets: list[tuple[int, str]] = []
        """Every SoC reset so far: (simulated time, why)."""
        self._reset_listeners: list[Callable[[str], None]] = []
        self.gpio: GpioBlock = self.soc.gpio
        self.pins: PinMap = profile.pin_map(lambda: self.world.now_ns)
        self.wires: list[Wire] = []
        self.faults: list[Fault] = []
        self._injected: weakref.WeakSet[Fault] = weakref.WeakSet()
        """Every fault injected so far (clear_fault refuses others)."""
        self._bound: set[int] = set()
        for pull in profile.pulls:
            net = self.circuit[pull.net]
            owner = f"board {pull.ref or pull.pull} ({pull.pin})"
            drive = Drive.pull_up(pull.ohms) if pull.pull == "up" else Drive.pull_down(pull.ohms)
            net.drive(owner, drive)
        for jumper in profile.jumpers:
            self.wires.append(self.connect(jumper.a, jumper.b, label=jumper.label or None))
        self._boot()
        self.i2c_gpio_buses: dict[str, I2cGpioBus] = {}
        """The bit-banged I2C buses by name: the profile's ``controller: i2c-gpio`` buses and
        those `add_i2c_gpio` made."""
        for spec in profile.buses.values():
            if spec.enabled and spec.controller == I2C_GPIO:
                bus = self.add_i2c_gpio(spec.name, spec.gpios["sda"], spec.gpios["scl"])
                bus.udelay_us = spec.delay_us or I2C_GPIO_DELAY_US  # i2c_gpio_delay_us
                if spec.gpio_access_ns is not None:
                    bus.gpio_access_ns = spec.gpio_access_ns
        self.unmodelled: dict[str, DeviceSpec] = {}
        self.devices = DeviceMap(profile.name, self.unmodelled)
        self._build_devices()

    @classmethod
    def from_profile(
        cls,
        name: str | Path,
        seed: int = 0,
        soc_overrides: Mapping[str, Any] | None = None,
    ) -> Board:
        """Build the board a shipped profile (``"mirkopc"``) or a profile file describes."""
        return cls(load_profile(name), seed=seed, soc_overrides=soc_overrides)

    def __repr__(self) -> str:
        return f"Board({self.profile.name!r}, {self.variant.name}, t={self.now_ns} ns)"

    # -- time ----------------------------------------------------------------------------
    @property
    def now_ns(self) -> int:
        return self.world.now_ns

    def run_for(self, duration_ns: int) -> None:
        """Advance simulated time (a no-op for 0)."""
        if duration_ns:
            self.world.run_for(duration_ns)

    # -- snapshots (pihil_emulator.snapshot) --------------------------------------------------
    def snapshot(self, *extra_roots: object) -> BoardSnapshot:
        """The whole board now, to `restore` later (as often as wanted): registers, devices,
        nets, wiring, simulated time, the random source, scheduled events. Needs a quiescent
        board (no transfer or wait in flight, no open VCD recorder): `SnapshotError` says
        what is busy. ``extra_roots``: objects outside the board whose state goes with it
        (the driver's session state)."""
        return take_snapshot(self, self._shares_world, extra_roots)

    def restore(self, snapshot: BoardSnapshot) -> None:
        """Put the board back to the moment of ``snapshot`` (taken of this board). What is in
        flight now (a transfer, a fault injected since) is dropped; objects made since then
        leave the board. An open VCD recorder is refused: close it first."""
        restore_snapshot(self, snapshot)

    # -- boot and reset -------------------------------------------------------------------
    def _boot(self) -> None:
        """What the firmware leaves after boot: bus pins and the primary UART on their ALTs,
        and the pad pulls it sets (the UART's RX pulled up)."""
        for line, function in sorted(self.profile.boot_functions.items()):
            self.gpio.set_function(line, function)
        for line, pull in sorted(self.profile.boot_pulls.items()):
            self.gpio.set_pull(line, pull)

    def reset(self, reason: str = "SoC reset") -> None:
        """A SoC reset (the RUN pin): every block to reset values, then the boot pin set-up.

        Wires, board resistors and devices stay: they are not part of the SoC. Whoever
        listens (`on_reset`: the driver, as Linux boots again) hears ``reason``.
        """
        self.soc.reset()
        self._boot()
        self.resets.append((self.world.now_ns, reason))
        for listener in list(self._reset_listeners):
            listener(reason)

    def on_reset(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener(reason)`` after every SoC reset; returns the undo."""
        self._reset_listeners.append(listener)

        def remove() -> None:
            if listener in self._reset_listeners:
                self._reset_listeners.remove(listener)

        return remove

    # -- pins, nets, wiring ---------------------------------------------------------------
    def pin(self, name: str) -> PinInfo:
        return self.pins.resolve(name)

    def net(self, name: str | Net) -> Net:
        """The net of a pin name (``J8-11``, ``GPIO17``, ``3V3``...) or of a net name."""
        if isinstance(name, Net):
            return name
        if not isinstance(name, str):
            raise PinError(f"a pin or net is given by its name (J8-11, GPIO17, 3V3), got {name!r}")
        if name in self.circuit:
            return self.circuit[name]
        info = self.pins.resolve(name)
        if info.net is None:
            raise PinError(f"{name!r} ({info.name}) is not connected to anything")
        return self.circuit[info.net]

    def rail(self, name: str) -> Net:
        """A supply net (``3V3``, ``5V``, ``GND``, or a pin name of one)."""
        net = self.net(name)
        if net.name not in RAILS:
            raise PinError(f"{name!r} is {net.name}, not a supply rail ({', '.join(RAILS)})")
        return net

    def connect(self, a: str | Net, b: str | Net, label: str | None = None) -> Wire:
        """A jumper wire between two pins; `ElectricalFault` (and no wire) if that is illegal."""
        na, nb = self.net(a), self.net(b)
        if na is nb:
            raise PinError(f"{a!r} and {b!r} are the same net ({na.name}): a wire needs two")
        return self.circuit.connect(na, nb, label)

    def disconnect(self, wire: Wire) -> None:
        if not isinstance(wire, Wire):
            raise ConfigurationError(
                f"disconnect() takes the wire connect() returned, got {wire!r}"
            )
        self.circuit.disconnect(wire)
        if wire in self.wires:
            self.wires.remove(wire)

    def apply_voltage(self, pin: str, volts: float) -> None:
        """An external source on a pin (a bench supply); above 3.3 V on a GPIO, or below
        0 V (GND) on one: ElectricalFault."""
        net = self.net(pin)
        if isinstance(volts, bool) or not isinstance(volts, int | float):
            raise ConfigurationError(f"apply_voltage takes a number of volts, got {volts!r}")
        if not math.isfinite(volts):
            raise ConfigurationError(f"apply_voltage takes a finite voltage, got {volts}")
        if volts < 0 and any(n.kind is NetKind.GPIO for n in net.node.nets):
            raise ElectricalFault(
                f"{volts:g} V on a GPIO: below GND, the pins take 0..3.3 V",
                net.name,
                [f"external source: source {volts:g} V"],
                self.now_ns,
            )
        net.drive(EXTERNAL_SOURCE, Drive.source(volts))

    def remove_voltage(self, pin: str) -> None:
        net = self.net(pin)
        if EXTERNAL_SOURCE not in net.drivers:
            raise ConfigurationError(
                f"{pin!r} ({net.name}) has no external voltage to remove; apply_voltage puts one on"
            )
        net.release(EXTERNAL_SOURCE)

    def record_vcd(self, path: str | Path, nets: Iterable[str | Net]) -> VcdRecorder:
        """Record the levels of ``nets`` (pin or net names) until the recorder is closed."""
        if isinstance(nets, str | bytes | Mapping) or not isinstance(nets, Iterable):
            raise ConfigurationError(
                f"record_vcd takes a list of pin or net names (['GPIO17', 'J8-13']), got {nets!r}"
            )
        return VcdRecorder(self.world, path, [self.net(n) for n in nets])

    # -- registers -------------------------------------------------------------------------
    def block(self, name: str) -> RegisterBlock:
        return self.soc.block(name)

    @property
    def register_warnings(self) -> list[RegisterWarning]:
        """Writes the chip ignored in part (reserved bits, values wider than a field), oldest
        first, once per (block, register, kind); see `pihil_emulator.soc.registers`."""
        return list(self.soc.register_policy.warnings)

    @property
    def strict_registers(self) -> bool:
        """True: such writes raise `RegisterError` instead of being ignored with a warning."""
        return self.soc.register_policy.strict

    @strict_registers.setter
    def strict_registers(self, strict: bool) -> None:
        self.soc.register_policy.strict = bool(strict)

    def read_register(self, block: str, reg: str | int) -> int:
        return self._register_block(block, reg).read(reg)

    def write_register(self, block: str, reg: str | int, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFF_FFFF:
            raise RegisterError(
                f"{block}.{reg}: a 32-bit register takes an integer 0..0xffffffff, got {value!r}"
            )
        self._register_block(block, reg).write(reg, value)

    def _register_block(self, block: object, reg: object) -> RegisterBlock:
        if not isinstance(block, str):
            raise RegisterError(
                f"a block is given by its datasheet name (gpio, bsc1, spi0...), got {block!r}"
            )
        if isinstance(reg, bool) or not isinstance(reg, str | int):
            raise RegisterError(
                f"a register is given by its datasheet name (GPFSEL1) or offset, got {reg!r}"
            )
        return self.soc.block(block)

    def add_i2c_gpio(
        self,
        name: str,
        sda: str | int,
        scl: str | int,
        speed_hz: int = 100_000,
        *,
        gpio_access_ns: int = BCM_GPIO_ACCESS_NS,
    ) -> I2cGpioBus:
        """A bit-banged ``i2c-gpio`` bus (Linux i2c-algo-bit) on any two GPIOs, as
        ``dtoverlay=i2c-gpio`` makes one: the workaround for the BCM2835 clock-stretching
        bug (soc-facts §1.5). The pins become GPIO inputs; devices attached to their nets
        (``board.attach(dev, bus="probe", kind="i2c", sda=..., scl=...)``) answer it.
        Each GPIO access costs ``gpio_access_ns`` (the Pi's figure by default; 0 for an
        ideal bus that runs at i2c-algo-bit's nominal rate). It is kept in
        ``board.i2c_gpio_buses[name]``."""
        if name in self.i2c_gpio_buses:
            raise ConfigurationError(
                f"the board already has an i2c-gpio bus named {name!r}; names in use: "
                f"{', '.join(self.i2c_gpio_buses)}"
            )
        bus = attach_i2c_gpio(self, name, sda, scl, speed_hz, gpio_access_ns=gpio_access_ns)
        self.i2c_gpio_buses[name] = bus
        return bus

    # -- faults ----------------------------------------------------------------------------
    def inject(self, fault: Fault) -> Fault:
        """Schedule ``fault`` at ``fault.at_ns`` (now if that has passed), for its duration."""
        if not isinstance(fault, Fault):
            raise TypeError(f"inject() takes a pihil_emulator.faults.Fault, got {fault!r}")
        self.faults.append(fault)
        self._injected.add(fault)
        if fault.at_ns <= self.now_ns:
            self._start(fault)
        else:
            self._at(fault.at_ns, lambda: self._start(fault))
        return fault

    def _at(self, time_ns: int, action: Callable[[], None]) -> None:
        """Run ``action`` at ``time_ns`` from a timer's callback, not a process: an exception
        it raises (an ElectricalFault) reaches whoever runs the simulation as it is, where a
        failed SimPy process would be re-raised as ``type(e)(*e.args)``."""
        timer = self.world.env.timeout(max(0, time_ns - self.now_ns))
        timer.callbacks.append(lambda _event: action())

    def _start(self, fault: Fault) -> None:
        if fault not in self.faults:
            return  # cleared before it started
        try:
            fault.apply(self)
        except BaseException:
            self.faults.remove(fault)
            raise
        fault.active = True
        if fault.duration_ns is not None:
            self._at(self.now_ns + fault.duration_ns, lambda: self.clear_fault(fault))

    def clear_fault(self, fault: Fault) -> None:
        """End a fault now (it will not start if it has not yet); one that ended already
        (its duration ran out, or it was cleared) is left as it is."""
        if not isinstance(fault, Fault):
            raise ConfigurationError(
                f"clear_fault() takes a fault inject() was given, got {fault!r}"
            )
        if fault not in self._injected:
            raise ConfigurationError(
                f"{fault.describe()} was never injected into this board; inject() it first"
            )
        if fault in self.faults:
            self.faults.remove(fault)
        if fault.active:
            fault.active = False
            fault.clear(self)


EXTERNAL_SOURCE = "external source"
"""The owner of the drive `Board.apply_voltage` puts on a net."""
