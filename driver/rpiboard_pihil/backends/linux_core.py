"""The Linux backend's common part: the libraries it drives, and the state and error mapping
every interface shares (the board description, the device-node root, ``OSError`` → the
driver's errors). The interfaces are `linux_gpio`, `linux_i2c`, `linux_spi` and `linux_uart`;
`linux.LinuxBackend` is composed of them.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..board_info import BoardInfo
from ..errors import NotSupportedError, PihilError, ResourceBusyError, ResourceNotFoundError
from ..utility import ErrorQueryResult

DEFAULT_ROOT = Path("/")
"""Where the device nodes and /proc live (a test points it at a fake tree)."""

SIMULATION_HINT = (
    "To run without hardware use the emulator: "
    "RpiBoard('local', options={'simulate': True, 'board': 'mirkopc'}) "
    "or the option string 'Simulate=True, Board=mirkopc'."
)


@dataclass(frozen=True)
class LinuxLibraries:
    """The Python libraries the backend drives (the real ones, or test doubles)."""

    gpiod: Any
    smbus2: Any
    spidev: Any
    serial: Any


@dataclass
class LinuxCore:
    """What every interface of the Linux backend shares: the board, the libraries, the root."""

    _info: BoardInfo
    reported_model: str
    chip_path: str
    libs: LinuxLibraries
    root: Path = DEFAULT_ROOT
    devices: Mapping[str, str] = field(default_factory=dict)
    _errors: list[ErrorQueryResult] = field(default_factory=list)
    """Errors found on the way (edge events lost), handed out by ``device_errors``."""

    def _node(self, path: str) -> str:
        """``path`` under ``root`` (the real root on the Pi; a fake tree in tests)."""
        return path if self.root == Path("/") else str(self.root / path.lstrip("/"))

    def _enabled_node(self, path: str, what: str, enable: str, also: str = "") -> str:
        """`_node` of an interface's device; a missing one is `ResourceNotFoundError` naming the
        config.txt line ``enable`` that enables ``what`` (and ``also``, what else it needs)."""
        node = self._node(path)
        if not os.path.exists(node):
            raise ResourceNotFoundError(
                f"{path} does not exist, so {what} is not enabled: add `{enable}` to config.txt"
                f"{also}. " + SIMULATION_HINT,
                path=path,
            )
        return node

    def _os(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Call a library function, translating OSError into the driver's errors."""
        try:
            return fn(*args)
        except OSError as exc:
            raise self._os_error(what, exc) from exc

    @staticmethod
    def _os_error(what: str, exc: OSError) -> PihilError:
        code = exc.errno
        if code == errno.EBUSY:
            return ResourceBusyError(f"{what} is in use by another driver or process ({exc})")
        if code in (errno.EPERM, errno.EACCES):
            return ResourceBusyError(
                f"{what}: permission denied ({exc}); add the user to the gpio, i2c, spi or "
                "dialout group"
            )
        if code == errno.ENOENT:
            return ResourceNotFoundError(f"{what}: {exc}", path=exc.filename or what)
        if code in (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
            return NotSupportedError(f"{what}: the kernel refused the request ({exc})")
        return PihilError(f"{what}: {exc}")
