"""The Linux backend's SPI: spidev ``xfer2`` (chip select held for the whole transfer), the
mode and clock kept per chip select until the device is opened.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from typing import Any

from ..errors import BusError, ConfigurationError
from .base import DEFAULT_SPI_MODE, DEFAULT_SPI_SPEED_HZ
from .linux_core import LinuxCore


def _spi_enable_line(bus: int) -> str:
    return "dtparam=spi=on" if bus == 0 else f"dtoverlay=spi{bus}-2cs"


@dataclass
class _SpiState:
    mode: int = DEFAULT_SPI_MODE
    speed_hz: int = DEFAULT_SPI_SPEED_HZ
    dev: Any = None


@dataclass
class LinuxSpi(LinuxCore):
    """SPI chip selects through ``/dev/spidev<bus>.<cs>``."""

    _spi: dict[tuple[int, int], _SpiState] = field(default_factory=dict)

    def _spi_close(self) -> None:
        for spi in self._spi.values():
            if spi.dev is not None:
                spi.dev.close()
        self._spi.clear()

    def _spi_state(self, bus: int, cs: int) -> _SpiState:
        return self._spi.setdefault((bus, cs), _SpiState())

    def _spidev(self, bus: int, cs: int) -> Any:
        state = self._spi_state(bus, cs)
        if state.dev is None:
            info = next(b for b in self._info.spi_buses if b.number == bus)
            path = self.devices.get(f"{info.name}.ce{cs}", info.linux_devices[cs])
            node = self._enabled_node(path, f"{info.name} CE{cs}", _spi_enable_line(bus))
            dev = self.libs.spidev.SpiDev()
            self._os(path, dev.open_path, node)
            dev.mode = state.mode
            dev.max_speed_hz = state.speed_hz
            dev.bits_per_word = 8
            state.dev = dev
        return state.dev

    def spi_transfer(self, bus: int, cs: int, data: bytes) -> bytes:
        dev = self._spidev(bus, cs)
        try:
            rx = dev.xfer2(list(data))
        except OSError as exc:
            name = f"spi{bus}.ce{cs}"
            if exc.errno == errno.EMSGSIZE:
                raise ConfigurationError(
                    f"{name}: {len(data)} bytes exceed spidev's buffer (4096 by default); raise "
                    "it with spidev.bufsiz=<bytes> on the kernel command line"
                ) from exc
            raise BusError(f"{name}: transfer failed ({exc})", bus=f"spi{bus}", kind="io") from exc
        return bytes(rx)

    def spi_get_mode(self, bus: int, cs: int) -> int:
        return self._spi_state(bus, cs).mode

    def spi_set_mode(self, bus: int, cs: int, mode: int) -> None:
        state = self._spi_state(bus, cs)
        if state.dev is not None:
            state.dev.mode = mode
        state.mode = mode

    def spi_get_speed(self, bus: int, cs: int) -> int:
        return self._spi_state(bus, cs).speed_hz

    def spi_set_speed(self, bus: int, cs: int, hz: int) -> None:
        state = self._spi_state(bus, cs)
        if state.dev is not None:
            state.dev.max_speed_hz = hz
        state.speed_hz = hz
