"""The Linux backend: the Pi's own kernel devices through gpiod 2.x, smbus2, spidev and pyserial.

- GPIO: one gpiod line request per line, holding its settings (direction,
  bias, drive, edge detection, debounce); edge events come from the kernel's
  buffer with their CLOCK_MONOTONIC timestamps.
- I2C: smbus2 ``i2c_rdwr`` (the ``I2C_RDWR`` ioctl) for raw combined transfers.
- SPI: spidev ``xfer2`` (chip select held for the whole transfer).
- UART: pyserial on the tty; receive-error counts from ``TIOCGICOUNT``.

What the kernel does not let user space do (alternate-function select, the
BSC clock divider) raises `NotSupportedError` naming the config.txt or
dtparam line that does it at boot.

`LinuxBackend` is the board, its opening and identity (this module), composed of one part per
interface: `linux_gpio`, `linux_i2c`, `linux_spi`, `linux_uart`, on the state and error
mapping they share (`linux_core`).
"""

from __future__ import annotations

import glob
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..board_info import BoardInfo
from ..errors import IdQueryError, NotSupportedError, OptionError, ResourceNotFoundError
from ..utility import ErrorQueryResult
from .base import Identity
from .linux_core import DEFAULT_ROOT, SIMULATION_HINT, LinuxLibraries
from .linux_gpio import CONSUMER, LinuxGpio
from .linux_i2c import LinuxI2c
from .linux_spi import LinuxSpi
from .linux_uart import TIOCGICOUNT, LinuxUart, read_icount

__all__ = [
    "CONSUMER",
    "DEFAULT_ROOT",
    "SIMULATION_HINT",
    "TIOCGICOUNT",
    "LinuxBackend",
    "LinuxLibraries",
    "load_libraries",
    "read_icount",
]

GPIO_CHIP_LABELS = ("pinctrl-bcm2835", "pinctrl-bcm2711")
MODEL_FILE = "proc/device-tree/model"
SERIAL_FILE = "proc/device-tree/serial-number"


def load_libraries() -> LinuxLibraries:
    """Import gpiod, smbus2, spidev and pyserial, or say how to install them."""
    try:
        import gpiod
        import serial
        import smbus2
        import spidev
    except ImportError as exc:
        raise NotSupportedError(
            f"the Linux backend needs gpiod>=2.1, smbus2, spidev and pyserial ({exc}); "
            "install them with: pip install 'rpiboard-pihil[linux]'. " + SIMULATION_HINT
        ) from exc
    return LinuxLibraries(gpiod=gpiod, smbus2=smbus2, spidev=spidev, serial=serial)


def _matches(reported: str, prefix: str) -> bool:
    return reported == prefix or reported.startswith(prefix + " ")


@dataclass
class LinuxBackend(LinuxGpio, LinuxI2c, LinuxSpi, LinuxUart):
    """Reaches the board this code runs on through its kernel devices: GPIO (`LinuxGpio`), I2C
    (`LinuxI2c`), SPI (`LinuxSpi`) and UART (`LinuxUart`) on the shared `LinuxCore`."""

    simulated = False

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        catalogue: Mapping[str, BoardInfo],
        *,
        board: str | None,
        devices: Mapping[str, str],
        id_query: bool,
        root: Path | None = None,
        libraries: LinuxLibraries | None = None,
    ) -> LinuxBackend:
        """Find the GPIO chip, identify the board, and return a backend for it.

        Fails at once, naming the missing device node, on a machine that is not a Pi.
        """
        root = DEFAULT_ROOT if root is None else root
        chips = sorted(glob.glob(str(root / "dev" / "gpiochip*")))
        if not chips:
            raise ResourceNotFoundError(
                "no GPIO character device: /dev/gpiochip0 does not exist on this machine, so it "
                "is not a Raspberry Pi (or its kernel lacks the GPIO character device). "
                + SIMULATION_HINT,
                path="/dev/gpiochip0",
            )
        libs = load_libraries() if libraries is None else libraries
        chip_path = cls._find_chip(libs, chips)
        model_file = root / MODEL_FILE
        try:
            reported = model_file.read_bytes().rstrip(b"\x00").decode("ascii", "replace").strip()
        except OSError as exc:
            raise ResourceNotFoundError(
                f"cannot read /{MODEL_FILE} ({exc.strerror}); the board cannot identify itself. "
                + SIMULATION_HINT,
                path="/" + MODEL_FILE,
            ) from exc
        info = cls._choose_board(catalogue, reported, board, id_query)
        info.check_device_names(devices)
        return cls(info, reported, chip_path, libs, root, dict(devices))

    @staticmethod
    def _find_chip(libs: LinuxLibraries, chips: Sequence[str]) -> str:
        seen = []
        for path in chips:
            try:
                if not libs.gpiod.is_gpiochip_device(path):
                    continue
                chip = libs.gpiod.Chip(path)
                try:
                    label = chip.get_info().label
                finally:
                    chip.close()
            except OSError as exc:
                raise LinuxBackend._os_error(path, exc) from exc
            if label in GPIO_CHIP_LABELS:
                return path
            seen.append(f"{path} ({label})")
        raise ResourceNotFoundError(
            "no BCM2835/BCM2711 GPIO chip (label "
            + " or ".join(GPIO_CHIP_LABELS)
            + ") among "
            + (", ".join(seen) or ", ".join(chips))
            + "; this board is not one the driver supports. "
            + SIMULATION_HINT,
            path=chips[0],
        )

    @staticmethod
    def _choose_board(
        catalogue: Mapping[str, BoardInfo], reported: str, board: str | None, id_query: bool
    ) -> BoardInfo:
        candidates = [
            i for i in catalogue.values() if any(_matches(reported, p) for p in i.kernel_models)
        ]
        supported = tuple(dict.fromkeys(i.model for i in catalogue.values()))
        if board is not None:
            info = catalogue[board]
            if id_query and info not in candidates:
                raise IdQueryError(
                    f"the kernel reports this board as {reported!r}, which is not {board!r} "
                    f"({info.model}, kernel model {' or '.join(info.kernel_models)}); "
                    "pass id_query=False to use the profile anyway",
                    found=reported,
                    supported=supported,
                )
            return info
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            names = ", ".join(repr(c.name) for c in candidates)
            raise OptionError(
                f"the kernel reports {reported!r}, which fits several boards ({names}); "
                "the carrier board cannot be read from the kernel, so choose it with "
                f"options={{'board': {candidates[0].name!r}}}"
            )
        raise IdQueryError(
            f"the kernel reports this board as {reported!r}, which is not a supported model; "
            f"supported: {', '.join(supported)}"
            + (
                ""
                if id_query
                else "; with id_query=False choose a profile with options={'board': ...}"
            ),
            found=reported,
            supported=supported,
        )

    # -- identity, clock, errors -----------------------------------------------------------
    @property
    def info(self) -> BoardInfo:
        return self._info

    def identify(self) -> Identity:
        return Identity(
            self._info.manufacturer,
            self._info.model,
            self.reported_model,
            serial=self._board_fact(SERIAL_FILE, None),
            revision=self._board_fact("proc/cpuinfo", "Revision"),
        )

    def _board_fact(self, relative: str, key: str | None) -> str | None:
        """A line of a /proc file (``key: value`` in /proc/cpuinfo), or a device-tree string;
        None when the kernel does not offer it (an absent file is no error: not every
        board has a serial number in its device tree)."""
        try:
            text = (self.root / relative).read_bytes().decode("ascii", "replace")
        except OSError:
            return None
        if key is None:
            value = text.strip("\x00\n ")
            return value or None
        for line in text.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == key and value.strip():
                return value.strip()
        return None

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def delay_ns(self, duration_ns: int) -> None:
        time.sleep(duration_ns / 1e9)

    def device_errors(self) -> list[ErrorQueryResult]:
        out, self._errors = self._errors, []
        return out + self._uart_errors()

    def reset(self) -> None:
        """Lines this session holds go back to input, reset pull, no edges, and are released."""
        self._gpio_reset()
        self._close_buses()
        self._uart_formats.clear()

    def close(self) -> None:
        self._gpio_release()
        self._close_buses()
        self._gpio_close_chip()

    def _close_buses(self) -> None:
        self._i2c_close()
        self._spi_close()
        self._uart_close()
