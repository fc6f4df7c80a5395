"""Putting functions in place for the length of a userspace, and back, everywhere they are bound.

A module that did ``from time import sleep`` (or ``from fcntl import ioctl``, as smbus2
does) holds its own reference to the original; replacing ``time.sleep`` alone would miss
it. So, as freezegun does for the clock, entering scans the loaded modules for globals
that are one of the originals and rebinds them, and leaving puts every one back.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

_OWN_PREFIX = "pihil_emulator.userspace"
_SKIP = frozenset(
    {
        "posix",
        "nt",
        "_io",
        "_thread",
        "builtins",
        "sys",
        "_imp",
        "importlib._bootstrap",
        "importlib._bootstrap_external",
    }
)
"""C modules whose functions *are* the originals, and the import machinery: never rebound."""


class Patches:
    """A set of (owner, attribute, replacement); owners are modules or classes."""

    def __init__(self) -> None:
        self._targets: list[tuple[Any, str, Any]] = []
        self._undo: list[tuple[Any, str, Any]] = []
        self.active = False

    def add(self, owner: Any, name: str, replacement: Any) -> None:
        self._targets.append((owner, name, replacement))

    def add_many(self, owner: Any, replacements: Iterable[tuple[str, Any]]) -> None:
        for name, replacement in replacements:
            self.add(owner, name, replacement)

    def apply(self) -> None:
        """Install every replacement, and rebind copies of the originals in loaded modules."""
        if self.active:
            raise RuntimeError("these patches are applied already")
        by_id: dict[int, Any] = {}
        for owner, name, replacement in self._targets:
            original = owner.__dict__[name] if name in owner.__dict__ else getattr(owner, name)
            self._undo.append((owner, name, original))
            setattr(owner, name, replacement)
            if callable(original) and not isinstance(original, type):
                by_id[id(original)] = replacement
        owners = {id(owner) for owner, _, _ in self._targets}
        for module in list(sys.modules.values()):
            if module is None or id(module) in owners:
                continue
            name = getattr(module, "__name__", "")
            if not isinstance(name, str) or name.startswith(_OWN_PREFIX) or name in _SKIP:
                continue
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for key, value in list(namespace.items()):
                replacement = by_id.get(id(value))
                if replacement is not None and replacement is not value:
                    self._undo.append((module, key, value))
                    namespace[key] = replacement
        self.active = True

    def restore(self) -> None:
        """Put every original back (also where a module imported during the userspace bound a
        replacement)."""
        back: dict[int, Any] = {}
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        for owner, name, replacement in self._targets:
            original = next(o for w, n, o in self._undo if w is owner and n == name)
            back[id(replacement)] = original
        for module in list(sys.modules.values()):
            namespace = getattr(module, "__dict__", None)
            mod_name = getattr(module, "__name__", "")
            if not isinstance(namespace, dict) or (
                isinstance(mod_name, str) and mod_name.startswith(_OWN_PREFIX)
            ):
                continue
            for key, value in list(namespace.items()):
                original = back.get(id(value))
                if original is not None:
                    namespace[key] = original
        self._undo.clear()
        self.active = False
