"""``board.simulation.devices``: the emulated board's device models by name, where an unknown
name is an error that says which names there are (not a bare ``KeyError: 'nosuch'``)."""

from __future__ import annotations

import difflib
from typing import Any


class UnknownDeviceError(KeyError):
    """No device of that name on this board (a `KeyError`, so ``in``/``get`` work as usual)."""

    def __str__(self) -> str:  # KeyError's own str() quotes the whole message
        return str(self.args[0]) if self.args else ""


class DeviceTable(dict[str, Any]):
    """A dict of device models whose missing keys say what is there."""

    def __init__(self, devices: dict[str, Any], board: str) -> None:
        super().__init__(devices)
        self.board = board

    def __missing__(self, key: object) -> Any:
        names = sorted(self)
        close = difflib.get_close_matches(str(key), names, n=3) if isinstance(key, str) else []
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UnknownDeviceError(
            f"board {self.board!r} has no device {key!r}{hint}; its devices: "
            f"{', '.join(names) or 'none'} (names from its profile, `pihil pinout`)"
        )
