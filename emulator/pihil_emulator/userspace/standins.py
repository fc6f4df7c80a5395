"""Stand-in modules for C extensions that user code imports by their real names.

Where a library is a C extension that talks to the kernel itself (spidev, the C
``smbus``, RPi.GPIO), its calls cannot be answered at the system-call level, so a
stand-in with the real package's names and signatures takes its place in
``sys.modules`` for the length of the userspace (and in every loaded module that had
imported the real one). On leaving, whatever was there before is put back.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import Userspace

STANDINS: dict[str, str] = {}
"""Importable name -> the module of this package that stands in for it."""

_saved: dict[str, ModuleType | None] = {}
_rebound: list[tuple[dict[str, Any], str, Any]] = []


def register(name: str, module: str) -> None:
    STANDINS[name] = module


def install(_userspace: Userspace) -> None:
    """Put every stand-in in ``sys.modules`` under its real name."""
    for name, target in STANDINS.items():
        standin = importlib.import_module(target)
        original = sys.modules.get(name)
        _saved[name] = original
        sys.modules[name] = standin
        if original is not None and original is not standin:
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
