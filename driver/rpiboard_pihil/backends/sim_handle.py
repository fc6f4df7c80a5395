"""``board.simulation``: the emulator's handle of a simulated board (`Simulation`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from pihil_emulator import errors as emu

from ..errors import ConfigurationError
from .sim_core import T, translate

if TYPE_CHECKING:
    from .simulated import SimulatedBackend


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
