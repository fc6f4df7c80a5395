"""A userspace: what a program on the emulated board sees of Linux, for the length of a block.

Entering installs the board's clock (`clock`), its device files (`devfs`) and the
stand-in modules; leaving removes them all, even when the block raised. One userspace
at a time in a process: nesting, or a second board's, is an error.

The userspace is given the *kernel* of the board: the driver's simulated backend (the
kernel drivers' semantics: i2c-bcm2835's transfers and errno, gpiolib's lines). It is
duck-typed here, so the emulator does not import the driver.
"""

from __future__ import annotations

import errno
import importlib
import os
from collections.abc import Callable, Sequence
from typing import Any

from .clock import SimClock
from .devfs import DevFile, DevFs, devfs_patches, set_devfs
from .devfs_paths import path_patches
from .i2c_dev import Message
from .patches import Patches
from .pty_bridge import open_pty
from .session_state import UserspaceError as UserspaceError
from .session_state import active as active
from .session_state import current as current
from .session_state import set_active
from .standins import install as install_standins
from .standins import uninstall as uninstall_standins
from .time_patches import set_clock, time_patches

INTERFACES: tuple[str, ...] = (
    "procfs",
    "i2c_dev",
    "polling",
    "tty_interface",
    "spi_dev",
    "standin_rpi_gpio",
    "gpiozero_pins",
    "gpio_cdev",
)
"""The modules of this package that each serve one Linux interface. Each has
``attach(userspace)``, which adds its device files (``add_device``), its stand-in modules
(``add_standin``) and its enter/leave hooks (``on_enter``) for the board's profile."""


def errno_of(exc: BaseException) -> int:
    """The errno a Linux interface gives for a driver/emulator bus error."""
    name = getattr(exc, "errno_name", None) or "EIO"
    return int(getattr(errno, name, errno.EIO))


class Userspace:
    """The board's userspace over one simulated board.

    ``kernel`` is the driver's `SimulatedBackend` (its ``info``, ``emulator``,
    ``i2c_transfer``, ``gpio_*``, ``spi_*``, ``uart_*``); ``lock`` the session lock.
    """

    def __init__(
        self, kernel: Any, lock: Any, *, epoch_s: float | None = None, pace: float | None = None
    ) -> None:
        self.kernel = kernel
        self.info = kernel.info
        self.board = kernel.emulator
        self.world = self.board.world
        self.lock = lock
        self.clock = SimClock(self.world, lock, epoch_s=epoch_s, pace=pace)
        self.devfs = DevFs()
        self._patches: list[Patches] = []
        self._hooks: list[tuple[Callable[[Userspace], None], Callable[[Userspace], None]]] = []
        self.standins: dict[str, str] = {}
        self._undo_reset: Callable[[], None] | None = None
        self.parts: dict[str, Any] = {}
        """Per-userspace state of the interfaces, by module name (kept here, not in module
        globals, so it goes with the userspace)."""
        self.entered = False
        self._build_devfs()

    # -- the device files --------------------------------------------------------------------
    def _build_devfs(self) -> None:
        for name in INTERFACES:
            importlib.import_module(f"{__package__}.{name}").attach(self)

    def add_device(self, path: str, opener: Callable[[int], DevFile]) -> None:
        """Serve ``path`` with ``opener(flags) -> DevFile`` (interfaces add their files)."""
        self.devfs.add(path, opener)

    def add_standin(self, name: str, module: str) -> None:
        """While entered, ``import name`` gives the module ``module`` (see `standins`)."""
        self.standins[name] = module

    def i2c_adapter(self, bus: int) -> Callable[[Sequence[Message]], list[bytes]]:
        """The adapter of Linux I2C bus ``bus``: messages -> read data, errors as OSError."""
        from ..buses.i2c_master import I2cMessage
        from ..errors import BusError

        def transfer(messages: Sequence[Message]) -> list[bytes]:
            msgs = [I2cMessage(a, r, d) for a, r, d in messages]
            with self.lock:
                try:
                    return [bytes(d) for d in self.kernel.i2c_controller(bus).transfer(msgs)]
                except BusError as exc:
                    code = errno_of(exc)
                    raise OSError(code, os.strerror(code)) from exc

        return transfer

    def wait_files(self, files: list[DevFile], timeout_s: float | None) -> None:
        """A select on emulated files: block in simulated time until one is readable."""
        deadline = None if timeout_s is None else self.clock.now_ns + round(timeout_s * 1e9)

        def subscribe(wake: Callable[[], None]) -> Callable[[], None]:
            undo = [f.subscribe(wake) for f in files]

            def unsubscribe() -> None:
                for u in undo:
                    u()

            return unsubscribe

        if self.clock.registered():
            self.clock.block(deadline, lambda: any(f.readable_now() for f in files), subscribe)

    def pty(self, name: str, *, pace: float = 1.0) -> str:
        """The path of a real pseudo-terminal wired to UART ``name`` (``"uart0"``,
        ``"serial0"``, ``"/dev/ttyAMA0"``), for a program outside Python; while it is open
        the board runs paced to the wall clock (× ``pace``). Closed on leaving
        (`pty_bridge`)."""
        return open_pty(self, name, pace=pace)

    # -- hooks for interfaces that install more (stand-in modules, gpiozero) --------------------
    def on_enter(
        self, enter: Callable[[Userspace], None], leave: Callable[[Userspace], None]
    ) -> None:
        self._hooks.append((enter, leave))

    # -- entering and leaving -------------------------------------------------------------------
    def __enter__(self) -> Userspace:
        previous = active()
        if previous is not None:
            same = previous.board is self.board
            raise UserspaceError(
                "a pihil userspace is already active in this process"
                + (" for this board (userspaces do not nest)" if same else " for another board")
                + "; one board's userspace at a time: leave the first before entering another"
            )
        set_active(self)
        try:
            set_clock(self.clock)
            set_devfs(self.devfs, self.wait_files)
            self.clock.enter()
            for patches in (time_patches(), devfs_patches(), path_patches()):
                patches.apply()
                self._patches.append(patches)
            self._undo_reset = self.board.on_reset(
                lambda reason: self.devfs.device_gone(f"the board's SoC was reset ({reason})")
            )
            install_standins(self)
            for enter, _ in self._hooks:
                enter(self)
        except BaseException:
            self._leave()
            raise
        self.entered = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._leave()

    def _leave(self) -> None:
        try:
            for _, leave in reversed(self._hooks):
                leave(self)
            uninstall_standins(self)
        finally:
            if self._undo_reset is not None:
                self._undo_reset()
                self._undo_reset = None
            self.clock.close()
            for patches in reversed(self._patches):
                patches.restore()
            self._patches.clear()
            self.devfs.close_all()
            set_devfs(None, None)
            set_clock(None)
            self.clock.leave()
            self.entered = False
            if active() is self:
                set_active(None)

    # -- what the test may want to know ---------------------------------------------------------
    @property
    def simulated_s(self) -> float:
        return self.clock.elapsed_ns() / 1e9

    @property
    def wall_s(self) -> float:
        return self.clock.wall_elapsed_s()
