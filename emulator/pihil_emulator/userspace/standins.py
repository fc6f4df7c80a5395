"""Stand-in modules for C extensions that user code imports by their real names.

Where a library is a C extension that talks to the kernel itself (spidev, the C
``smbus``, RPi.GPIO, gpiod's ``_ext``), its system calls cannot be answered at the
Python level, so a stand-in with the real package's names and signatures takes its place:

- inside a userspace, in ``sys.modules`` (and in every loaded module that had imported
  the real one); on leaving, whatever was there before is put back;
- under ``pytest --hil-target=sim``, also at import time (`install_finder`), so a test
  module's top-level ``import RPi.GPIO as GPIO`` works off a Pi, where the real package
  refuses to import or to build. Such a stand-in raises `UserspaceError` when called
  outside a userspace.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import Userspace


@dataclass(frozen=True)
class Standin:
    module: str
    """The module of this package that stands in."""
    at_import: bool
    """Also replace the real one at import time under the simulation (see `install_finder`);
    False for packages that import fine off a Pi and whose real Python layer is kept."""


STANDINS: dict[str, Standin] = {
    "smbus": Standin("pihil_emulator.userspace.standin_smbus", at_import=True),
    "spidev": Standin("pihil_emulator.userspace.standin_spidev", at_import=True),
    "RPi": Standin("pihil_emulator.userspace.standin_rpi", at_import=True),
    "RPi.GPIO": Standin("pihil_emulator.userspace.standin_rpi_gpio", at_import=True),
    "RPi._GPIO": Standin("pihil_emulator.userspace.standin_rpi_gpio", at_import=True),
    "gpiod._ext": Standin("pihil_emulator.userspace.standin_gpiod_ext", at_import=False),
}
"""Importable name -> its stand-in. Interfaces register theirs here (one line each)."""

_saved: dict[str, ModuleType | None] = {}
_rebound: list[tuple[dict[str, Any], str, Any]] = []


def install(userspace: Userspace) -> None:
    """Put every stand-in in ``sys.modules`` under its real name."""
    names = {name: s.module for name, s in STANDINS.items()} | userspace.standins
    for name, target in names.items():
        standin = importlib.import_module(target)
        original = sys.modules.get(name)
        _saved[name] = original
        sys.modules[name] = standin
        if original is not None and original is not standin:
            _rebind(original, standin)


def _rebind(original: ModuleType, standin: ModuleType) -> None:
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict) or module is standin:
            continue
        for key, value in list(namespace.items()):
            if value is original:
                _rebound.append((namespace, key, value))
                namespace[key] = standin


def uninstall(_userspace: Userspace) -> None:
    """Put back what ``sys.modules`` held before (nothing, or the real package)."""
    for namespace, key, value in reversed(_rebound):
        namespace[key] = value
    _rebound.clear()
    for name, original in _saved.items():
        if original is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = original
    _saved.clear()


class _StandinLoader(importlib.abc.Loader):
    """Gives the stand-in module under the real name: importlib then sets its ``__spec__`` to
    the real name's (``spidev``, parent ''), so a stand-in must import absolutely inside its
    functions (``from pihil_emulator.userspace.session import ...``): a relative import there
    would resolve against ``__spec__.parent`` (a DeprecationWarning since 3.12, an error
    once Python stops falling back to ``__package__``)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """The stand-in ran when it was imported under its own name."""


class StandinFinder(importlib.abc.MetaPathFinder):
    """Answers ``import spidev`` (and the other at-import stand-ins) with the stand-in."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        standin = STANDINS.get(fullname)
        if standin is None or not standin.at_import:
            return None
        is_package = any(name.startswith(fullname + ".") for name in STANDINS)
        return importlib.machinery.ModuleSpec(
            fullname, _StandinLoader(standin.module), is_package=is_package
        )


_finder = StandinFinder()
_finder_users = 0


def install_finder() -> None:
    """From now on, importing an at-import stand-in's real name gives the stand-in
    (the real package, if installed, is not imported). Counted: each call wants one
    `remove_finder` (a pytest run inside a pytest run configures the plugin twice)."""
    global _finder_users
    _finder_users += 1
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def remove_finder() -> None:
    global _finder_users
    _finder_users = max(0, _finder_users - 1)
    if _finder_users == 0 and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
