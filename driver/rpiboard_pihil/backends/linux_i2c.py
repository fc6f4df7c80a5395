"""The Linux backend's I2C: smbus2 ``i2c_rdwr`` on i2c-dev (the ``I2C_RDWR`` ioctl) for raw
combined transfers, the kernel's errno mapped to the driver's errors as i2c-bcm2835 gives them
(``EREMOTEIO`` a NACK, ``EIO`` a clock-stretch timeout, ``ETIMEDOUT``, ``EOPNOTSUPP``). The
bus clock is set at boot: `NotSupportedError` names the config.txt line.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..board_info import BoardInfo
from ..errors import (
    BusError,
    BusTimeoutError,
    ConfigurationError,
    I2cClockStretchTimeoutError,
    I2cNackError,
    NotSupportedError,
    PihilError,
)
from .base import I2cMessage
from .linux_core import LinuxCore

# -- config.txt lines that do what user space cannot ---------------------------------------


def _i2c_param(info: BoardInfo, bus: int) -> str | None:
    """``i2c_arm`` for the bus on the main header's pins 3/5, ``i2c_vc`` for BSC0 elsewhere
    (the HAT ID pins, P5, the CM4's GPIO44/45 mux), None for an overlay bus (i2c3..6)."""
    spec = next(b for b in info.i2c_buses if b.number == bus)
    try:
        arm_sda = info.pin(f"{info.primary_header}-03").gpio
    except KeyError:
        arm_sda = None
    if spec.sda_gpio is not None and spec.sda_gpio == arm_sda:
        return "i2c_arm"
    if bus in (0, 10):
        return "i2c_vc"
    return None


def _i2c_enable_line(info: BoardInfo, bus: int) -> str:
    param = _i2c_param(info, bus)
    return f"dtparam={param}=on" if param else f"dtoverlay=i2c{bus}"


def _i2c_baudrate_line(info: BoardInfo, bus: int, hz: int) -> str:
    param = _i2c_param(info, bus)
    return f"dtparam={param}_baudrate={hz}" if param else f"dtoverlay=i2c{bus},baudrate={hz}"


_BUS_ERRNOS: dict[int, tuple[type[BusError], str, str]] = {
    # errno: (driver exception, kind, message); i2c-bcm2835 returns them (soc-facts §1.3)
    errno.EREMOTEIO: (I2cNackError, "nack", "no ACK from address 0x{address:02x} (EREMOTEIO)"),
    errno.EIO: (
        I2cClockStretchTimeoutError,
        "clkt",
        "clock-stretch timeout talking to 0x{address:02x} (EIO)",
    ),
    errno.ETIMEDOUT: (
        BusTimeoutError,
        "timeout",
        "transfer to 0x{address:02x} timed out (ETIMEDOUT)",
    ),
}
"""The errnos of a failed ``I2C_RDWR`` that name what failed on the bus."""


@dataclass
class LinuxI2c(LinuxCore):
    """I2C buses through ``/dev/i2c-<n>``."""

    _i2c: dict[int, Any] = field(default_factory=dict)

    def _i2c_close(self) -> None:
        for bus in self._i2c.values():
            bus.close()
        self._i2c.clear()

    def _i2c_info(self, bus: int) -> tuple[str, str]:
        for b in self._info.i2c_buses:
            if b.number == bus:
                return b.name, self.devices.get(b.name, b.linux_device)
        raise ConfigurationError(f"no I2C bus {bus}")  # the collections prevent this

    def _smbus(self, bus: int) -> Any:
        handle = self._i2c.get(bus)
        if handle is None:
            name, path = self._i2c_info(bus)
            enable = _i2c_enable_line(self._info, bus)
            node = self._enabled_node(path, name, enable, " (and load i2c-dev)")
            handle = self._os(path, self.libs.smbus2.SMBus, node)
            self._i2c[bus] = handle
        return handle

    def i2c_transfer(self, bus: int, messages: Sequence[I2cMessage]) -> list[bytes]:
        handle = self._smbus(bus)
        msg = self.libs.smbus2.i2c_msg
        raw = [
            msg.read(m.address, m.length) if m.read else msg.write(m.address, m.data)
            for m in messages
        ]
        try:
            handle.i2c_rdwr(*raw)
        except OSError as exc:
            raise self._i2c_error(bus, messages, exc) from exc
        return [bytes(r) for r, m in zip(raw, messages, strict=True) if m.read]

    def _i2c_error(self, bus: int, messages: Sequence[I2cMessage], exc: OSError) -> PihilError:
        name = self._i2c_info(bus)[0]
        address = messages[0].address
        code = exc.errno
        ename = errno.errorcode.get(code, str(code)) if code is not None else None
        known = _BUS_ERRNOS.get(code) if code is not None else None
        if known is not None:
            cls, kind, what = known
            return cls(
                f"{name}: {what.format(address=address)}",
                bus=name,
                kind=kind,
                address=address,
                errno_name=ename,
            )
        if code == errno.EOPNOTSUPP:
            return NotSupportedError(f"{name}: the I2C driver refused the transfer ({exc})")
        return BusError(
            f"{name}: transfer to 0x{address:02x} failed ({exc})",
            bus=name,
            kind="io",
            address=address,
            errno_name=ename,
        )

    def i2c_get_frequency(self, bus: int) -> int:
        path = self.root / "sys/class/i2c-adapter" / f"i2c-{bus}" / "of_node/clock-frequency"
        try:
            raw = path.read_bytes()
        except OSError:
            return 100_000  # i2c-bcm2835 uses 100 kHz when the device tree gives no clock-frequency
        return int.from_bytes(raw[:4], "big")

    def i2c_set_frequency(self, bus: int, hz: int) -> None:
        if hz == self.i2c_get_frequency(bus):
            return
        raise NotSupportedError(
            f"the I2C clock (the BSC DIV register) cannot be set from user space; set it at boot "
            f"with `{_i2c_baudrate_line(self._info, bus, hz)}` in config.txt"
        )
