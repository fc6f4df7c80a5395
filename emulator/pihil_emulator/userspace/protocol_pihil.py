"""pyserial's ``pihil://`` URLs: ``serial.serial_for_url("pihil://uart0")``.

pyserial's ``serial_for_url`` imports ``<package>.protocol_<scheme>`` from each package of
``serial.protocol_handler_packages`` and takes its ``Serial`` class; the userspace adds
this package to that list while it is entered. The class is pyserial's own POSIX
``Serial`` opened on the board tty the URL names, so everything else is shared with
``serial.Serial("/dev/ttyAMA0")``. Accepted: ``pihil://uart0`` (the profile's UART name),
``pihil://serial0`` or ``pihil://ttyAMA0`` (a device name), ``pihil:///dev/ttyAMA0`` (a path).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import serial
import serial.serialposix


def device_path(url: str) -> str:
    """The board tty a ``pihil://`` URL names; SerialException (as pyserial's URL handlers
    raise) for another scheme, options, or a UART the board does not have."""
    from .session import current
    from .tty_dev import resolve, tty_paths

    parts = urllib.parse.urlsplit(url)
    form = 'expected a string in the form "pihil://<uart>" (uart0, serial0, /dev/ttyAMA0)'
    if parts.scheme.lower() != "pihil" or parts.query or parts.fragment:
        raise serial.SerialException(f"{form}: got {url!r}")
    name = (parts.netloc + parts.path) if parts.netloc else parts.path
    space = current()
    try:
        port = resolve(space, name)
    except ValueError as exc:
        raise serial.SerialException(f"{form}: {exc}") from None
    if name.startswith("/dev/"):
        return name
    paths = tty_paths(space)
    alias = f"/dev/{name}"
    return alias if alias in paths else str(port.info.linux_device)


class Serial(serial.serialposix.Serial):  # type: ignore[misc]
    """pyserial's POSIX port, opened on the board tty of a ``pihil://`` URL."""

    def open(self) -> None:
        url = self._port
        if isinstance(url, str) and url.lower().startswith("pihil://"):
            self.portstr = device_path(url)
        super().open()

    def from_url(self, url: str) -> str:
        return device_path(url)


def serial_class_for_url(url: str) -> tuple[str, Any]:
    """pyserial's hook: the URL stays the port's name; `Serial` resolves it on open."""
    return url, Serial
