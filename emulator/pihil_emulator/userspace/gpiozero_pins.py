"""gpiozero's pin factory for the emulated board: ``PihilFactory``.

``PihilFactory`` is gpiozero 2.0's own ``RPiGPIOFactory`` (``gpiozero/pins/rpigpio.py``) over
the RPi.GPIO stand-in (`standin_rpi_gpio`), so gpiozero runs its own code from its device
classes down to the ``GPIO.setup``/``output``/``add_event_detect``/``PWM`` calls, which
reach the emulated GPIO registers. What ``LocalPiFactory`` does is unchanged: the board
comes from the revision in ``/proc/device-tree/system/linux,revision`` (``procfs`` serves
the profile's), hardware SPI is ``spidev`` (the stand-in, where the board has
``/dev/spidevB.C``), ticks are ``time.monotonic`` (the board's clock).

Inside a userspace gpiozero's default factory is this one without the user setting
anything: entering sets ``GPIOZERO_PIN_FACTORY=pihil`` (unless the environment names a
factory already) and clears ``Device.pin_factory``, so the first device makes a
``PihilFactory`` through the ``gpiozero_pin_factories`` entry point. Leaving closes the
devices and the factory made inside (gpiozero's own shutdown), then puts back what was
there. gpiozero itself is imported only when the program imports it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .session import UserspaceError, current

if TYPE_CHECKING:
    from .session import Userspace

ENV = "GPIOZERO_PIN_FACTORY"
NAME = "pihil"
"""The factory's name in the ``gpiozero_pin_factories`` entry points (pyproject.toml)."""
_RPI_NAMES = ("RPi", "RPi.GPIO", "RPi._GPIO")
_built: dict[str, Any] = {}


def _rpigpio() -> ModuleType:
    """``gpiozero.pins.rpigpio``; off a Pi (no RPi.GPIO, or one that refuses to import) it is
    imported over the stand-in, which then answers inside a userspace."""
    loaded = sys.modules.get("gpiozero.pins.rpigpio")
    if loaded is not None:
        return loaded
    if importlib.util.find_spec("gpiozero") is None:
        raise ImportError("PihilFactory needs gpiozero: pip install 'gpiozero>=2.0'")
    try:
        importlib.import_module("RPi.GPIO")
    except Exception:  # the real package raises RuntimeError off a Pi
        saved = {name: sys.modules.get(name) for name in _RPI_NAMES}
        from . import standin_rpi, standin_rpi_gpio

        sys.modules.update(
            {"RPi": standin_rpi, "RPi.GPIO": standin_rpi_gpio, "RPi._GPIO": standin_rpi_gpio}
        )
        try:
            return importlib.import_module("gpiozero.pins.rpigpio")
        finally:
            for name, module in saved.items():
                if module is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module
    return importlib.import_module("gpiozero.pins.rpigpio")


def _build() -> type:
    rpigpio = _rpigpio()

    class PihilFactory(rpigpio.RPiGPIOFactory):  # type: ignore[misc,name-defined]
        """gpiozero's RPi.GPIO pin factory on the emulated board of the active userspace.

        Made by gpiozero itself inside a userspace (it is the default there); made outside
        one it raises `UserspaceError`. Its pins are ``RPiGPIOPin``: every gpiozero device,
        software PWM, edge callbacks and bounce handling run as on a Pi with RPi.GPIO.
        """

        def __init__(self) -> None:
            try:
                current()
            except UserspaceError as exc:
                raise UserspaceError(
                    f"gpiozero's {NAME!r} pin factory drives the emulated board: {exc}"
                ) from None
            super().__init__()

    PihilFactory.__module__ = __name__
    return PihilFactory


def __getattr__(name: str) -> Any:
    """``PihilFactory`` is made on first use, so that importing this module (every userspace
    does) needs neither gpiozero nor RPi.GPIO."""
    if name == "PihilFactory":
        cls = _built.get(name)
        if cls is None:
            cls = _built[name] = _build()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- the userspace: gpiozero's default factory ---------------------------------------------------
class _Saved:
    def __init__(self) -> None:
        self.env_set = False
        self.factory: Any = None
        self.spidev: list[tuple[ModuleType, Any]] = []


def _enter(userspace: Userspace) -> None:
    saved = _Saved()
    userspace._gpiozero_saved = saved  # type: ignore[attr-defined]
    if ENV not in os.environ:
        os.environ[ENV] = NAME
        saved.env_set = True
    devices = sys.modules.get("gpiozero.devices")
    if devices is not None:
        saved.factory = devices.Device.pin_factory
        devices.Device.pin_factory = None
    # modules that did `from spidev import SpiDev` before the userspace (None off a Pi)
    spidev = sys.modules.get("spidev")
    is_standin = spidev is not None and spidev is sys.modules.get(f"{__package__}.standin_spidev")
    standin = getattr(spidev, "SpiDev", None) if is_standin else None
    if standin is not None:
        for name in ("gpiozero.pins.local", "gpiozero.pins.pi"):
            module = sys.modules.get(name)
            if module is not None and getattr(module, "SpiDev", standin) is not standin:
                saved.spidev.append((module, module.SpiDev))
                module.SpiDev = standin  # type: ignore[attr-defined]


def _leave(userspace: Userspace) -> None:
    saved: _Saved | None = getattr(userspace, "_gpiozero_saved", None)
    if saved is None:
        return
    userspace._gpiozero_saved = None  # type: ignore[attr-defined]
    try:
        devices = sys.modules.get("gpiozero.devices")
        if devices is not None:
            factory = devices.Device.pin_factory
            cls = _built.get("PihilFactory")
            ours = cls is not None and isinstance(factory, cls)
            if ours and factory is not saved.factory:
                shutdown = getattr(devices, "_devices_shutdown", None)
                if shutdown is not None:
                    shutdown()  # closes the devices on its pins, then the factory
                else:
                    factory.close()
            devices.Device.pin_factory = saved.factory
    finally:
        for module, original in saved.spidev:
            module.SpiDev = original  # type: ignore[attr-defined]
        if saved.env_set and os.environ.get(ENV) == NAME:
            del os.environ[ENV]


def attach(userspace: Userspace) -> None:
    userspace.on_enter(_enter, _leave)
