"""``/dev/gpiochip0``: the kernel's GPIO character device over the SoC's pinctrl-bcm2835 chip.

The chip is what drivers/pinctrl/bcm/pinctrl-bcm2835.c registers: label
``pinctrl-bcm2711`` with 58 lines on the BCM2711 (BCM2711_NUM_GPIOS), ``pinctrl-bcm2835``
with 54 on the BCM2835 (soc-facts §3.1), line names from the board's device tree
(`gpio_uapi.line_names`). The ioctls, their checks and errno are drivers/gpio/gpiolib-cdev.c's
(``gpio_ioctl``: chip info, v2 and v1 line info, info watches, v2 line requests, v1 line
handles and line events); the line operations under them are gpiolib's (drivers/gpio/gpiolib.c:
``gpiod_request`` is EBUSY on a requested line, active-low inversion, open-drain and open-source
emulated by turning the pin into an input, the bias applied with the direction), carried out
through the driver's simulated backend (``userspace.kernel``), which drives the GPIO registers
as the pinctrl driver does. Line requests live in `gpio_line_request`.

Not modelled: the Pi 4/CM4 firmware GPIO expander (``gpiochip1``, ``raspberrypi-exp-gpio``,
8 lines behind the VideoCore mailbox) has no model on the emulated board, so it is absent.
Lines a kernel driver holds (the profile's enabled buses, config.txt boot functions) are
``used`` and refuse a request with EBUSY; pinctrl-bcm2835 is not a strict pinmux (no
``.strict`` in bcm2835_pmx_ops), so a real Pi lets the request through and takes the pin
from the peripheral: the emulator refuses, as the driver's backend does. On release, the pin
keeps an output level, as Raspberry Pi OS's ``pinctrl_bcm2835.persist_gpio_outputs=y``
default does; a profile whose config has ``dtparam=strict_gpiod`` returns it to an input.

Here: the chip's character device file and its ioctls; the chip itself (gpiolib's line
operations) is `gpio_chip`, the files its ioctls hand out `gpio_line_request`.
"""

from __future__ import annotations

import errno
import os
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import gpio_uapi as uapi
from .devfs import DevFile, oserror
from .gpio_chip import Desc as Desc
from .gpio_chip import GpioChip as GpioChip
from .gpio_chip import driver_errno as driver_errno
from .gpio_chip import wait_readable as wait_readable
from .i2c_dev import I2cDevFile

if TYPE_CHECKING:
    from .session import Userspace

SUBSYSTEM = "/sys/bus/gpio"


def chips_of(userspace: Userspace) -> dict[str, GpioChip]:
    """The GPIO chips of a userspace by device path (for libgpiod's sysfs check)."""
    chips: dict[str, GpioChip] = userspace.parts.get(__name__, {})
    return chips


class GpioChipFile(DevFile):
    """One open of ``/dev/gpiochipN`` (struct gpio_chardev_data): its watched lines and the
    FIFO of their info-changed events."""

    def __init__(self, flags: int, chip: GpioChip) -> None:
        super().__init__(flags)
        self.chip = chip
        self.watched: set[int] = set()
        self.abi_version = 0
        self.events: deque[tuple[uapi.LineInfo, int, int]] = deque()
        self._wakers: list[Callable[[], None]] = []
        chip.files.append(self)

    # -- info events ---------------------------------------------------------------------------
    def post(self, info: uapi.LineInfo, stamp: int, event_type: int) -> None:
        if len(self.events) >= uapi.INFO_EVENT_FIFO:
            return  # kfifo_in() fails: "lineinfo event FIFO is full - event dropped"
        self.events.append((info, stamp, event_type))
        for wake in list(self._wakers):
            wake()

    def readable_now(self) -> bool:
        return bool(self.events)

    def subscribe(self, wake: Callable[[], None]) -> Callable[[], None]:
        self._wakers.append(wake)
        return lambda: self._wakers.remove(wake) if wake in self._wakers else None

    def read(self, n: int) -> bytes:
        """lineinfo_watch_read(): whole events, blocking in simulated time when there are none
        (EAGAIN with O_NONBLOCK)."""
        us = self.chip.us
        with us.lock:
            if not self.events:
                if self.flags & os.O_NONBLOCK:
                    raise oserror(errno.EAGAIN)
                wait_readable(self)
            v2 = self.abi_version == 2
            size = uapi.LINE_INFO_CHANGED.size if v2 else uapi.LINE_INFO_CHANGED_V1.size
            if n < size:
                raise oserror(errno.EINVAL)
            out = bytearray()
            while self.events and len(out) + size <= n:
                info, stamp, event_type = self.events.popleft()
                if v2:
                    out += uapi.LINE_INFO_CHANGED.pack(info.pack(), stamp, event_type, b"")
                else:
                    out += uapi.LINE_INFO_CHANGED_V1.pack(info.pack_v1(), stamp, event_type, b"")
            return bytes(out)

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        if self in self.chip.files:
            self.chip.files.remove(self)
        self._wakers.clear()

    # -- ioctl -----------------------------------------------------------------------------------
    def ioctl(self, request: int, arg: int | memoryview) -> int:
        from . import gpio_line_request as requests

        chip = self.chip
        with chip.us.lock:
            if request == uapi.GPIO_GET_CHIPINFO_IOCTL:
                info = uapi.CHIP_INFO.pack(
                    uapi.name_bytes(chip.name), uapi.name_bytes(chip.label), chip.ngpio
                )
                I2cDevFile._out(arg, info)
            elif request in (
                uapi.GPIO_V2_GET_LINEINFO_IOCTL,
                uapi.GPIO_V2_GET_LINEINFO_WATCH_IOCTL,
            ):
                self._lineinfo(arg, request == uapi.GPIO_V2_GET_LINEINFO_WATCH_IOCTL)
            elif request in (uapi.GPIO_GET_LINEINFO_IOCTL, uapi.GPIO_GET_LINEINFO_WATCH_IOCTL):
                self._lineinfo_v1(arg, request == uapi.GPIO_GET_LINEINFO_WATCH_IOCTL)
            elif request == uapi.GPIO_GET_LINEINFO_UNWATCH_IOCTL:
                (offset,) = uapi.U32.unpack(I2cDevFile._in(arg, uapi.U32.size))
                if offset >= chip.ngpio:
                    raise oserror(errno.EINVAL)
                if offset not in self.watched:
                    raise oserror(errno.EBUSY)
                self.watched.discard(offset)
            elif request == uapi.GPIO_V2_GET_LINE_IOCTL:
                requests.create_line_request(chip, arg)
            elif request == uapi.GPIO_GET_LINEHANDLE_IOCTL:
                requests.create_line_handle(chip, arg)
            elif request == uapi.GPIO_GET_LINEEVENT_IOCTL:
                requests.create_line_event(chip, arg)
            else:
                raise oserror(errno.EINVAL)  # gpio_ioctl(): "default: return -EINVAL"
        return 0

    def _watch(self, offset: int, version: int) -> None:
        if self.abi_version not in (0, version):
            raise oserror(errno.EPERM)  # lineinfo_ensure_abi_version()
        self.abi_version = version
        if offset in self.watched:
            raise oserror(errno.EBUSY)
        self.watched.add(offset)

    def _lineinfo(self, arg: int | memoryview, watch: bool) -> None:
        raw = I2cDevFile._in(arg, uapi.LINE_INFO.size)
        fields = uapi.LINE_INFO.unpack(raw)
        if any(fields[-1]):
            raise oserror(errno.EINVAL)  # padding must be zero
        desc = self.chip.desc(fields[2])
        if watch:
            self._watch(desc.offset, 2)
        I2cDevFile._out(arg, self.chip.line_info(desc).pack())

    def _lineinfo_v1(self, arg: int | memoryview, watch: bool) -> None:
        raw = I2cDevFile._in(arg, uapi.LINE_INFO_V1.size)
        (offset,) = uapi.U32.unpack_from(raw)
        desc = self.chip.desc(offset)
        if watch:
            self._watch(desc.offset, 1)
        I2cDevFile._out(arg, self.chip.line_info(desc).pack_v1())


def chip_label(soc: str) -> str:
    """pinctrl-bcm2835.c's gpio_chip labels."""
    return "pinctrl-bcm2711" if soc == "BCM2711" else "pinctrl-bcm2835"


def attach(userspace: Userspace) -> None:
    """Serve ``/dev/gpiochip0``: the SoC's GPIO lines."""
    info = userspace.info
    models = (*info.kernel_models, info.dt_model)
    names = uapi.line_names(models, info.soc, info.gpio_count)
    chip = GpioChip(userspace, 0, chip_label(info.soc), names)

    def opener(flags: int) -> DevFile:
        return GpioChipFile(flags, chip)

    userspace.add_device(chip.path, opener)
    userspace.parts[__name__] = {chip.path: chip}
