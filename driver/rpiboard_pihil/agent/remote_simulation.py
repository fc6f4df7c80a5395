"""``board.simulation`` of a remote session on an emulated board (``pihil agent --sim``).

The client side of the agent's SIM commands (`sim_commands`): the parts of the in-process
handle (`backends.simulated.Simulation`) that the board suite and the plugin use, with the
same names and the same driver exceptions:

- ``now_ns``, ``run_for``, ``connect``/``disconnect``, ``apply_voltage``/``remove_voltage``,
  ``read_register``/``write_register``, ``inject``/``clear_fault`` (a
  `pihil_emulator.faults.Fault` built here is sent by its fields), ``detach``;
- ``devices``: proxies of the device models; reading, setting an attribute and calling a
  method each go to the agent (plain values only: `plain`);
- ``emulator``: ``net(name)`` (``volts``, ``level``, ``floating``), ``register_warnings``,
  ``world.random.seed(n)``, ``devices``, ``now_ns``.

`record_vcd`, `userspace` and `attach` raise `NotSupportedError`: they need the emulator
in this process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ..errors import ConfigurationError, NotSupportedError, RegisterAccessError
from ..validate import seconds_to_ns
from . import plain
from .protocol import encode_block
from .sim_commands import FAULT_KINDS


class Link(Protocol):
    """What the proxies need of the remote backend: one query, one command."""

    def sim_query(self, payload: bytes) -> str: ...

    def sim_command(self, payload: bytes, extra_ns: int = 0) -> None: ...

    def now_ns(self) -> int: ...


def _json(value: Any) -> bytes:
    try:
        return encode_block(plain.dumps(value).encode())
    except plain.NotPlain as exc:
        raise ConfigurationError(
            f"a remote simulation takes plain values (numbers, str, bytes, lists): {exc}"
        ) from None


def _remote_only(what: str) -> NotSupportedError:
    return NotSupportedError(
        f"simulation.{what} is not served over the network: it needs the emulator in this "
        "process. Run the test in-process (--hil-target=sim) for it"
    )


class RemoteSimulation:
    """``board.simulation`` of a ``TCPIP::...::SOCKET`` session on an emulated board."""

    def __init__(self, link: Link) -> None:
        self._link = link
        self.lock: Any = None  # set by the session (as the in-process handle's)
        self.closed: Callable[[], bool] = lambda: False
        self._faults: dict[int, tuple[Any, int]] = {}
        self._wires: dict[int, tuple[Wire, int]] = {}
        self._emulator = RemoteEmulator(self)

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        lock = self.lock
        if lock is None:
            return fn(*args)
        with lock:
            if self.closed():
                from ..session import Session

                Session.refuse_closed()
            return fn(*args)

    def query(self, payload: bytes) -> str:
        return str(self._call(self._link.sim_query, payload))

    def command(self, payload: bytes, extra_ns: int = 0) -> None:
        self._call(self._link.sim_command, payload, extra_ns)

    @property
    def emulator(self) -> RemoteEmulator:
        """The parts of `pihil_emulator.Board` served remotely (``net``, ``register_warnings``,
        ``world.random.seed``, ``devices``)."""
        return self._emulator

    @property
    def now_ns(self) -> int:
        return int(self._call(self._link.now_ns))

    def run_for(self, seconds: float) -> None:
        """Advance simulated time (as ``board.delay``)."""
        ns = seconds_to_ns(seconds, "run_for(seconds)")
        self.command(b"SIM:RUN %d" % ns, ns)

    def connect(self, a: str, b: str) -> Wire:
        """A jumper wire between two pins; returns the wire (for `disconnect`)."""
        key = int(self.query(b"SIM:CONN? " + _name(a) + b"," + _name(b)))
        wire = Wire(a, b, key)
        self._wires[id(wire)] = (wire, key)
        return wire

    def disconnect(self, wire: Any) -> None:
        entry = self._wires.get(id(wire))
        if entry is None or entry[0] is not wire:
            raise ConfigurationError(
                f"disconnect() takes a wire this session's connect() returned; got {wire!r}"
            )
        self.command(b"SIM:DISC %d" % entry[1])
        del self._wires[id(wire)]

    def apply_voltage(self, pin: str, volts: float) -> None:
        """An external voltage source on a pin; above 3.3 V raises `ElectricalFaultError`."""
        if isinstance(volts, bool) or not isinstance(volts, int | float):
            raise ConfigurationError(f"apply_voltage takes a number of volts, got {volts!r}")
        self.command(b"SIM:VOLT " + _name(pin) + b"," + repr(float(volts)).encode())

    def remove_voltage(self, pin: str) -> None:
        self.command(b"SIM:VOLT:REM " + _name(pin))

    @property
    def devices(self) -> Mapping[str, RemoteDevice]:
        """Proxies of the device models by the name the profile gives them (``"rtc"``)."""
        listed = plain.loads(self.query(b"SIM:DEV:LIST?"))
        return {n: RemoteDevice(self, n, str(cls)) for n, cls in listed.items()}

    def read_register(self, block: str, register: str) -> int:
        return int(self.query(b"SIM:REG? " + _name(block) + b"," + _name(register)))

    def write_register(self, block: str, register: str, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RegisterAccessError(
                f"{block}.{register}: a 32-bit register takes an integer, got {value!r}"
            )
        self.command(b"SIM:REG %s,%s,%d" % (_name(block), _name(register), value))

    def detach(self, device: Any) -> None:
        """Take a device model (a proxy from `devices`, or its name) off the board's buses."""
        label = device.name if isinstance(device, RemoteDevice) else device
        self.command(b"SIM:DETACH " + _name(label))

    def inject(self, fault: Any) -> Any:
        """Schedule a fault (a `pihil_emulator.faults.Fault`, built here) on the agent's board."""
        kind = type(fault).__name__
        module = FAULT_KINDS.get(kind)
        if (
            module is None
            or type(fault).__module__ != module
            or not dataclasses.is_dataclass(fault)
        ):
            raise ConfigurationError(
                f"inject() takes a pihil_emulator fault ({', '.join(FAULT_KINDS)}); got {fault!r}"
            )
        fields = {}
        for f in dataclasses.fields(fault):
            if f.init:
                value = getattr(fault, f.name)
                fields[f.name] = value.name if isinstance(value, RemoteDevice) else value
        key = int(self.query(b"SIM:FAULT:INJ? " + kind.encode() + b"," + _json(fields)))
        self._faults[id(fault)] = (fault, key)
        return fault

    def clear_fault(self, fault: Any) -> None:
        """End an injected fault now."""
        self.command(b"SIM:FAULT:CLR %d" % self._fault_id(fault))
        del self._faults[id(fault)]

    def fault_active(self, fault: Any) -> bool:
        """Whether an injected fault is in effect now on the agent's board (the in-process
        ``fault.active``)."""
        return self.query(b"SIM:FAULT:ACT? %d" % self._fault_id(fault)) == "1"

    def _fault_id(self, fault: Any) -> int:
        entry = self._faults.get(id(fault))
        if entry is None or entry[0] is not fault:
            raise ConfigurationError(
                f"clear_fault() takes a fault this session's inject() was given, got {fault!r}"
            )
        return entry[1]

    def record_vcd(self, path: str, nets: Any = None) -> AbstractContextManager[Any]:
        raise _remote_only("record_vcd()")

    def userspace(self, **settings: Any) -> Any:
        raise _remote_only("userspace()")

    def attach(self, device: Any, bus: str, **roles: str) -> Any:
        raise _remote_only("attach()")


def _name(text: Any) -> bytes:
    if not isinstance(text, str) or not text.isascii() or not text:
        raise ConfigurationError(f"a pin, net, device or register name is a str; got {text!r}")
    return text.encode()


@dataclasses.dataclass(frozen=True, eq=False)
class Wire:
    """A jumper wire the agent's board carries (what `RemoteSimulation.connect` returns)."""

    a: str
    b: str
    id: int


class RemoteDevice:
    """A device model on the agent's board: attribute reads, writes and method calls go there."""

    def __init__(self, sim: RemoteSimulation, name: str, model: str) -> None:
        object.__setattr__(self, "_sim", sim)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "model_class", model)
        object.__setattr__(self, "_members", None)

    def _schema(self) -> tuple[list[str], list[str]]:
        if self._members is None:
            got = plain.loads(self._sim.query(b"SIM:DEV:MEMB? " + _name(self.name)))
            object.__setattr__(self, "_members", (list(got["values"]), list(got["methods"])))
        members: tuple[list[str], list[str]] = self._members
        return members

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        values, methods = self._schema()
        if attr in methods:
            return _Method(self, attr)
        if attr not in values:
            raise AttributeError(f"{self.model_class} {self.name!r} has no attribute {attr!r}")
        return plain.loads(
            self._sim.query(b"SIM:DEV:GET? " + _name(self.name) + b"," + attr.encode())
        )

    def __setattr__(self, attr: str, value: Any) -> None:
        if attr.startswith("_") or attr not in self._schema()[0]:
            raise AttributeError(f"{self.model_class} {self.name!r} has no attribute {attr!r}")
        self._sim.command(
            b"SIM:DEV:SET " + _name(self.name) + b"," + attr.encode() + b"," + _json(value)
        )

    def __dir__(self) -> list[str]:
        values, methods = self._schema()
        return sorted({"name", "model_class", *values, *methods})

    def __repr__(self) -> str:
        return f"<remote {self.model_class} {self.name!r}>"


class _Method:
    def __init__(self, device: RemoteDevice, name: str) -> None:
        self._device = device
        self._name = name

    def __call__(self, *args: Any) -> Any:
        d = self._device
        payload = b"SIM:DEV:CALL? %s,%s," % (_name(d.name), self._name.encode())
        return plain.loads(d._sim.query(payload + _json(list(args))))

    def __repr__(self) -> str:
        return f"<remote method {self._device.model_class}.{self._name} of {self._device.name!r}>"


class RemoteNet:
    """A net of the agent's board: each property reads it there now."""

    def __init__(self, sim: RemoteSimulation, pin: str) -> None:
        self._sim = sim
        self._pin = pin

    def _read(self) -> list[str]:
        return self._sim.query(b"SIM:NET? " + _name(self._pin)).split(",", 3)

    @property
    def name(self) -> str:
        return self._read()[3]

    @property
    def volts(self) -> float:
        return float(self._read()[0])

    @property
    def level(self) -> bool:
        return self._read()[1] == "1"

    @property
    def floating(self) -> bool:
        return self._read()[2] == "1"

    def __repr__(self) -> str:
        volts, level, _, label = self._read()
        return f"RemoteNet({label!r}, level={level}, volts={float(volts):.2f})"


class _Random:
    def __init__(self, sim: RemoteSimulation) -> None:
        self._sim = sim

    def seed(self, value: int) -> None:
        """Reseed the agent's ``World.random`` (what the plugin does before each test)."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigurationError(f"a remote seed is an integer, got {value!r}")
        self._sim.command(b"SIM:SEED %d" % value)


class _World:
    def __init__(self, sim: RemoteSimulation) -> None:
        self.random = _Random(sim)


class RemoteEmulator:
    """The parts of the agent's `pihil_emulator.Board` that SIM commands serve."""

    def __init__(self, sim: RemoteSimulation) -> None:
        self._sim = sim
        self.world = _World(sim)

    def net(self, name: str) -> RemoteNet:
        """The net of a pin or net name; checked now (a `SelectorError` for an unknown one)."""
        net = RemoteNet(self._sim, name)
        net._read()
        return net

    @property
    def register_warnings(self) -> list[str]:
        """The emulated SoC's register warnings so far, as text."""
        return [str(w) for w in plain.loads(self._sim.query(b"SIM:WARN?"))]

    @property
    def devices(self) -> Mapping[str, RemoteDevice]:
        return self._sim.devices

    @property
    def now_ns(self) -> int:
        return self._sim.now_ns
