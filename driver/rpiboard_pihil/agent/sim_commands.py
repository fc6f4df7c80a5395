"""The agent's SIM commands: ``board.simulation`` of an emulated board, over the network.

What the board suite's simulated-only tests and the plugin use of the in-process handle
(`backends.simulated.Simulation`): simulated time, jumper wires, external voltages, net
levels, device models' state and methods, SoC registers, scheduled faults, register
warnings and the world's random seed. Every argument is checked (`args`); a value
travels as JSON in a ``#<n><len><bytes>`` block (`plain`); an emulator exception comes back
as the driver exception the in-process handle raises (`simulated.translate`). On an agent
serving real hardware every SIM command fails with 110 (`SimulationNotAvailableError`).

Not served: ``record_vcd`` (the file would be written on the agent's machine),
``userspace`` (it patches the modules of the process that runs the test) and ``attach``
(a device model is an object of the agent's process).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from ..backends.base import Backend
from ..errors import SimulationNotAvailableError
from . import plain
from .args import attribute, block, integer, name, nargs, number
from .protocol import (
    DATA_OUT_OF_RANGE,
    DATA_TYPE_ERROR,
    MAX_DELAY_NS,
    MISSING_PARAMETER,
    PARAMETER_NOT_ALLOWED,
    TOO_MUCH_DATA,
    Command,
    ProtocolError,
    registrar,
)

MAX_JSON = 1 << 16
"""Bytes of JSON one SIM argument block may carry."""
MAX_HANDLES = 4096
"""Wires and faults the agent keeps handles of at a time."""
MAX_VOLTS = 1000.0
"""The largest external voltage SIM:VOLT takes (the emulator refuses what a pin cannot take)."""
MAX_SEED = (1 << 64) - 1

FAULT_KINDS: dict[str, str] = {
    "BrownOut": "pihil_emulator.faults",
    "StuckNet": "pihil_emulator.faults",
    "DroppedDevice": "pihil_emulator.faults",
    "NackAddress": "pihil_emulator.buses.i2c_faults",
    "HoldSdaLow": "pihil_emulator.buses.i2c_faults",
    "FlipBit": "pihil_emulator.buses.i2c_faults",
    "SilentSpiDevice": "pihil_emulator.buses.spi_faults",
    "StuckMiso": "pihil_emulator.buses.spi_faults",
    "UartNoise": "pihil_emulator.buses.uart_faults",
    "UartWrongBaud": "pihil_emulator.buses.uart_faults",
}
"""The faults ``SIM:FAULT:INJ?`` builds, by class name: the module each lives in."""


class SimState:
    """What SIM commands keep between commands: the wires and faults they made, by id."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.wires: dict[int, Any] = {}
        self.faults: dict[int, Any] = {}
        self._ids = itertools.count(1)

    def simulation(self) -> Any:
        """The in-process handle; 110 on an agent that serves real hardware."""
        sim = getattr(self.backend, "simulation", None)
        if not self.backend.simulated or sim is None:
            raise SimulationNotAvailableError(
                "SIM commands need an emulated board; this agent serves real hardware "
                "(start one with `pihil agent --sim --board PROFILE`)"
            )
        return sim

    def keep(self, table: dict[int, Any], obj: Any, what: str) -> int:
        if len(table) >= MAX_HANDLES:
            raise ProtocolError(
                TOO_MUCH_DATA, f"the agent keeps at most {MAX_HANDLES} {what}; release some first"
            )
        key = next(self._ids)
        table[key] = obj
        return key

    @staticmethod
    def find(table: dict[int, Any], arg: str | bytes, what: str) -> int:
        key = integer(arg, f"{what} id", 1, 1 << 62)
        if key not in table:
            raise ProtocolError(
                DATA_OUT_OF_RANGE,
                f"no {what} {key} (ids are what SIM:CONN? and SIM:FAULT:INJ? answer)",
            )
        return key

    def device(self, arg: str | bytes) -> Any:
        devices = self.simulation().devices
        label = name(arg, "device")
        if label not in devices:
            raise ProtocolError(
                DATA_OUT_OF_RANGE,
                f"no device model {label!r}; devices: {', '.join(sorted(devices)) or 'none'}",
            )
        return devices[label]


SimHandler = Callable[[SimState, Command], bytes | None]
SIM_HANDLERS: dict[str, SimHandler] = {}
handles = registrar(SIM_HANDLERS)


def json_arg(arg: str | bytes, what: str) -> Any:
    data = block(arg, what, MAX_JSON)
    try:
        return plain.loads(data)
    except plain.NotPlain as exc:
        raise ProtocolError(
            DATA_TYPE_ERROR, f"{what} takes a JSON block of plain values: {exc}"
        ) from None


def json_out(value: Any, what: str) -> bytes:
    try:
        return plain.dumps(value).encode()
    except plain.NotPlain as exc:
        raise ProtocolError(
            DATA_TYPE_ERROR, f"{what} is not a plain value ({exc}); it stays on the agent"
        ) from None


def _run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call into the emulator: its exceptions become the driver's (as in-process)."""
    from pihil_emulator import errors as emu

    from ..backends.simulated import translate

    try:
        return fn(*args, **kwargs)
    except emu.EmulatorError as exc:
        raise translate(exc) from exc


# time, wires, voltages, nets, registers, seed


@handles("SIM:RUN")
def _run_for(s: SimState, c: Command) -> None:
    (ns,) = nargs(c, 1, "<ns>")
    s.simulation()
    s.backend.delay_ns(integer(ns, "run_for (ns)", 0, MAX_DELAY_NS))


@handles("SIM:CONN?")
def _connect(s: SimState, c: Command) -> bytes:
    a, b = nargs(c, 2, "<pin>,<pin>")
    sim = s.simulation()
    wire = sim.connect(name(a, "pin"), name(b, "pin"))
    return str(s.keep(s.wires, wire, "wires")).encode()


def _release(s: SimState, c: Command, table: dict[int, Any], what: str, undo: str) -> None:
    """End a wire or fault by its id (``sim.disconnect``, ``sim.clear_fault``); the id goes
    once the emulator has taken it back."""
    (arg,) = nargs(c, 1, f"<{what} id>")
    sim = s.simulation()
    key = s.find(table, arg, what)
    getattr(sim, undo)(table[key])
    del table[key]


@handles("SIM:DISC")
def _disconnect(s: SimState, c: Command) -> None:
    _release(s, c, s.wires, "wire", "disconnect")


@handles("SIM:VOLT")
def _apply_voltage(s: SimState, c: Command) -> None:
    pin, volts = nargs(c, 2, "<pin>,<volts>")
    s.simulation().apply_voltage(name(pin, "pin"), number(volts, "volts", -MAX_VOLTS, MAX_VOLTS))


@handles("SIM:VOLT:REM")
def _remove_voltage(s: SimState, c: Command) -> None:
    (pin,) = nargs(c, 1, "<pin>")
    s.simulation().remove_voltage(name(pin, "pin"))


@handles("SIM:NET?")
def _net(s: SimState, c: Command) -> bytes:
    (pin,) = nargs(c, 1, "<pin or net>")
    net = _run(s.simulation().emulator.net, name(pin, "pin"))
    return f"{net.volts!r},{int(net.level)},{int(net.floating)},{net.name}".encode()


@handles("SIM:REG", "SIM:REG?")
def _register(s: SimState, c: Command) -> bytes | None:
    sim = s.simulation()
    if c.query:
        blk, reg = nargs(c, 2, "<block>,<register>")
        return str(sim.read_register(name(blk, "block"), name(reg, "register"))).encode()
    blk, reg, value = nargs(c, 3, "<block>,<register>,<value>")
    sim.write_register(
        name(blk, "block"), name(reg, "register"), integer(value, "value", 0, 0xFFFF_FFFF)
    )
    return None


@handles("SIM:WARN?")
def _warnings(s: SimState, c: Command) -> bytes:
    nargs(c, 0, "no arguments")
    warnings = s.simulation().emulator.register_warnings
    return json_out([str(w) for w in warnings], "the register warnings")


@handles("SIM:SEED")
def _seed(s: SimState, c: Command) -> None:
    (seed,) = nargs(c, 1, "<seed>")
    s.simulation().emulator.world.random.seed(integer(seed, "seed", 0, MAX_SEED))


# device models


_CLASS_MEMBERS: dict[type, tuple[frozenset[str], frozenset[str]]] = {}


def _class_members(cls: type) -> tuple[frozenset[str], frozenset[str]]:
    """A model class's public values (properties, plain class attributes) and methods."""
    known = _CLASS_MEMBERS.get(cls)
    if known is not None:
        return known
    values: set[str] = set()
    methods: set[str] = set()
    for n in dir(cls):
        if n.startswith("_"):
            continue
        static = inspect.getattr_static(cls, n)
        if isinstance(static, property):
            values.add(n)
        elif isinstance(static, staticmethod | classmethod) or inspect.isfunction(static):
            methods.add(n)
        elif not callable(static):
            values.add(n)
    known = _CLASS_MEMBERS[cls] = (frozenset(values), frozenset(methods))
    return known


def members(device: Any) -> tuple[list[str], list[str]]:
    """A model's public values (attributes, properties) and methods, by name."""
    values, methods = _class_members(type(device))
    own = {
        n
        for n, v in getattr(device, "__dict__", {}).items()
        if not n.startswith("_") and not callable(v)
    }
    return sorted(values | (own - methods)), sorted(methods)


@handles("SIM:DEV:LIST?")
def _device_list(s: SimState, c: Command) -> bytes:
    nargs(c, 0, "no arguments")
    devices = s.simulation().devices
    return json_out({k: type(v).__name__ for k, v in devices.items()}, "the device list")


@handles("SIM:DEV:MEMB?")
def _device_members(s: SimState, c: Command) -> bytes:
    (dev,) = nargs(c, 1, "<device>")
    values, methods = members(s.device(dev))
    return json_out({"values": values, "methods": methods}, "the members")


def _value_name(device: Any, arg: str | bytes) -> str:
    label = attribute(arg, "attribute")
    values, methods = members(device)
    if label not in values:
        kind = "a method (SIM:DEV:CALL?)" if label in methods else "not an attribute"
        raise ProtocolError(
            DATA_OUT_OF_RANGE,
            f"{type(device).__name__}.{label} is {kind}; values: {', '.join(values)}",
        )
    return label


@handles("SIM:DEV:GET?")
def _device_get(s: SimState, c: Command) -> bytes:
    dev, attr = nargs(c, 2, "<device>,<attribute>")
    device = s.device(dev)
    label = _value_name(device, attr)
    return json_out(_run(getattr, device, label), f"{type(device).__name__}.{label}")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


@handles("SIM:DEV:SET")
def _device_set(s: SimState, c: Command) -> None:
    dev, attr, data = nargs(c, 3, "<device>,<attribute>,<JSON block>")
    device = s.device(dev)
    label = _value_name(device, attr)
    value = json_arg(data, "the value")
    static = inspect.getattr_static(device, label)
    where = f"{type(device).__name__}.{label}"
    if isinstance(static, property):
        if static.fset is None:
            raise ProtocolError(DATA_OUT_OF_RANGE, f"{where} is read-only")
    else:
        old = getattr(device, label)
        if old is not None and _kind(old) != _kind(value):
            raise ProtocolError(
                DATA_TYPE_ERROR, f"{where} holds a {_kind(old)}; got a {_kind(value)}"
            )
        if isinstance(old, float) and isinstance(value, int):
            value = float(value)
    _run(setattr, device, label, value)


@handles("SIM:DEV:CALL?")
def _device_call(s: SimState, c: Command) -> bytes:
    dev, meth, data = nargs(c, 3, "<device>,<method>,<JSON block: [args...]>")
    device = s.device(dev)
    label = attribute(meth, "method")
    if label not in members(device)[1]:
        raise ProtocolError(
            DATA_OUT_OF_RANGE,
            f"{type(device).__name__}.{label} is not a method; methods: "
            f"{', '.join(members(device)[1])}",
        )
    call_args = json_arg(data, "the arguments")
    if not isinstance(call_args, list):
        raise ProtocolError(DATA_TYPE_ERROR, "the arguments are a JSON list")
    fn = getattr(device, label)
    try:
        inspect.signature(fn).bind(*call_args)
    except TypeError as exc:
        raise ProtocolError(MISSING_PARAMETER, f"{type(device).__name__}.{label}: {exc}") from None
    return json_out(_run(fn, *call_args), f"what {type(device).__name__}.{label} returned")


@handles("SIM:DETACH")
def _detach(s: SimState, c: Command) -> None:
    (dev,) = nargs(c, 1, "<device>")
    s.simulation().detach(s.device(dev))


# faults


def fault_class(kind: str) -> Any:
    module = FAULT_KINDS.get(kind)
    if module is None:
        raise ProtocolError(
            DATA_OUT_OF_RANGE, f"fault kind {kind[:40]!r} is not one of {', '.join(FAULT_KINDS)}"
        )
    return getattr(importlib.import_module(module), kind)


@handles("SIM:FAULT:INJ?")
def _inject(s: SimState, c: Command) -> bytes:
    kind, data = nargs(c, 2, "<kind>,<JSON block: {field: value}>")
    sim = s.simulation()
    cls = fault_class(attribute(kind, "fault kind"))
    fields = json_arg(data, "the fault's fields")
    if not isinstance(fields, dict):
        raise ProtocolError(DATA_TYPE_ERROR, "the fault's fields are a JSON object")
    legal = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(fields) - legal)
    if unknown:
        raise ProtocolError(
            PARAMETER_NOT_ALLOWED,
            f"{cls.__name__} has no field {', '.join(unknown)}; fields: {', '.join(sorted(legal))}",
        )
    if len(s.faults) >= MAX_HANDLES:
        raise ProtocolError(TOO_MUCH_DATA, f"the agent keeps at most {MAX_HANDLES} faults")
    try:
        fault = _run(cls, **fields)
    except TypeError as exc:
        raise ProtocolError(DATA_TYPE_ERROR, f"{cls.__name__}: {exc}") from None
    sim.inject(fault)
    return str(s.keep(s.faults, fault, "faults")).encode()


@handles("SIM:FAULT:CLR")
def _clear(s: SimState, c: Command) -> None:
    _release(s, c, s.faults, "fault", "clear_fault")


@handles("SIM:FAULT:ACT?")
def _active(s: SimState, c: Command) -> bytes:
    (fault,) = nargs(c, 1, "<fault id>")
    s.simulation()
    return b"1" if s.faults[s.find(s.faults, fault, "fault")].active else b"0"
