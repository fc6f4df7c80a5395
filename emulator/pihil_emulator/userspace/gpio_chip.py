"""gpiolib's side of the emulated ``/dev/gpiochip0``: the chip and its line descriptors.

`GpioChip` (struct gpio_device) and its `Desc` lines (struct gpio_desc) answer the line
operations through the board's kernel (the driver's simulated backend), turning driver
exceptions into the errno gpiolib gives (`driver_errno`). The character device files on top,
``/dev/gpiochipN`` and its line requests, are in `gpio_cdev` and `gpio_line_request`.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..world.clock import NS_PER_S
from . import gpio_uapi as uapi
from .devfs import DevFile, oserror

if TYPE_CHECKING:
    from .gpio_cdev import GpioChipFile
    from .session import Userspace


_ERRNO_OF_DRIVER_ERROR = {
    "ResourceBusyError": errno.EBUSY,
    "ConfigurationError": errno.EINVAL,
    "SelectorError": errno.EINVAL,
    "NotSupportedError": errno.EOPNOTSUPP,
    "ElectricalFaultError": errno.EIO,
}
"""The errno of a driver exception, found by class name (the emulator does not import the
driver: the kernel it is given raises the driver's `PihilError` classes)."""


def driver_errno(exc: BaseException) -> int | None:
    """The errno the kernel would give for a driver exception, or None if it is not one."""
    for cls in type(exc).__mro__:
        code = _ERRNO_OF_DRIVER_ERROR.get(cls.__name__)
        if code is not None:
            return code
        if cls.__name__ == "PihilError":
            name = getattr(exc, "errno_name", None)
            return int(getattr(errno, name, errno.EIO)) if name else errno.EIO
    return None


@dataclass(eq=False)
class Desc:
    """struct gpio_desc: one line of the chip and the gpiolib flags it carries."""

    offset: int
    name: str
    requested: bool = False
    label: str = ""
    flags: int = 0
    """The v2 flags that stand for gpiolib's descriptor flags while the line is requested
    (ACTIVE_LOW, OPEN_DRAIN/SOURCE, BIAS_*, EDGE_*, EVENT_CLOCK_REALTIME)."""
    is_out: bool = False
    debounce_us: int = 0
    """The cdev's supplemental info (a software-debounced line's period)."""
    raw_out: bool = False
    """The level last asked of an output (open drain/source emulation)."""
    backend_od: bool = False
    """The backend emulates open drain on this line."""

    @property
    def active_low(self) -> bool:
        return bool(self.flags & uapi.FLAG_ACTIVE_LOW)


class GpioChip:
    """struct gpio_device with gpiolib's line operations, for one userspace."""

    def __init__(self, us: Userspace, index: int, label: str, names: tuple[str, ...]) -> None:
        self.us = us
        self.kernel: Any = us.kernel
        self.name = f"gpiochip{index}"
        self.path = f"/dev/{self.name}"
        self.label = label
        self.descs = [Desc(n, name) for n, name in enumerate(names)]
        self.files: list[GpioChipFile] = []
        """The line-state notifier chain: every open chip file."""
        config = tuple(getattr(getattr(us.board, "profile", None), "config", ()) or ())
        self.persist_outputs = not any("strict_gpiod" in line for line in config)
        self.enums: Any = self.kernel.gpio_enums
        """The backend's enums (Direction, Pull, Drive, Edge): the emulator does not import
        the driver, the backend hands them over."""

    @property
    def ngpio(self) -> int:
        return len(self.descs)

    # -- calls into the kernel ----------------------------------------------------------------
    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A backend call with driver errors as the OSError the kernel gives."""
        try:
            return fn(*args)
        except Exception as exc:
            code = driver_errno(exc)
            if code is None:
                raise
            raise OSError(code, f"{os.strerror(code)}: {exc}") from exc

    def desc(self, offset: int) -> Desc:
        """gpio_device_get_desc(): EINVAL for an offset the chip does not have."""
        if not 0 <= offset < self.ngpio:
            raise oserror(errno.EINVAL)
        return self.descs[offset]

    def held_by_kernel(self, desc: Desc) -> bool:
        """A kernel driver holds the pin (a bus of the profile, a boot function)."""
        try:
            self.kernel.gpio_get_drive(desc.offset)
        except Exception as exc:
            if driver_errno(exc) == errno.EBUSY:
                return True
            raise
        return False

    # -- gpiolib -----------------------------------------------------------------------------------
    def request(self, desc: Desc, label: str | None) -> None:
        """gpiod_request_user(): EBUSY when requested already or held by a kernel driver."""
        if desc.requested:
            raise oserror(errno.EBUSY)
        self.call(self.kernel.gpio_get_drive, desc.offset)  # pinctrl_gpio_request: EBUSY
        desc.requested = True
        desc.label = label or "?"
        desc.flags = 0
        desc.debounce_us = 0
        direction = self.call(self.kernel.gpio_get_direction, desc.offset)
        desc.is_out = direction.value == "output"  # gpiod_get_direction() at request
        desc.backend_od = self.call(self.kernel.gpio_get_drive, desc.offset).value == "open-drain"
        if desc.backend_od:
            desc.raw_out = self.call(self.kernel.gpio_read, desc.offset)

    def free(self, desc: Desc) -> None:
        """gpiod_free(): the flags go, the pin stays as it is unless pinctrl-bcm2835's
        bcm2835_pmx_free() returns it to an input (no persist_gpio_outputs)."""
        if not desc.requested:
            return
        direction = self.enums.Direction
        try:
            if desc.backend_od:
                if desc.raw_out or not self.persist_outputs:
                    self.call(self.kernel.gpio_set_direction, desc.offset, direction.INPUT, False)
                self.call(self.kernel.gpio_set_drive, desc.offset, self.enums.Drive.PUSH_PULL)
                desc.backend_od = False
            elif not self.persist_outputs:
                self.call(self.kernel.gpio_set_direction, desc.offset, direction.INPUT, False)
        finally:
            desc.requested = False
            desc.label = ""
            desc.flags = 0
            desc.debounce_us = 0
            self.notify(desc, uapi.CHANGED_RELEASED)

    def set_flags(self, desc: Desc, flags: int) -> None:
        """gpio_v2_line_config_flags_to_desc_flags()."""
        desc.flags = flags & ~uapi.DIRECTION_FLAGS & ~uapi.FLAG_USED
        if flags & uapi.FLAG_OUTPUT:
            desc.is_out = True
        elif flags & uapi.FLAG_INPUT:
            desc.is_out = False

    def _bias(self, desc: Desc) -> None:
        """gpio_set_bias(): only when the request asks for one."""
        pull = self.enums.Pull
        if desc.flags & uapi.FLAG_BIAS_DISABLED:
            self.call(self.kernel.gpio_set_pull, desc.offset, pull.NONE)
        elif desc.flags & uapi.FLAG_BIAS_PULL_UP:
            self.call(self.kernel.gpio_set_pull, desc.offset, pull.UP)
        elif desc.flags & uapi.FLAG_BIAS_PULL_DOWN:
            self.call(self.kernel.gpio_set_pull, desc.offset, pull.DOWN)

    def _drive(self, desc: Desc, open_drain: bool) -> None:
        if desc.backend_od == open_drain:
            return
        drive = self.enums.Drive
        if not open_drain:  # leaving open drain: release the pin before it is push-pull
            self.call(
                self.kernel.gpio_set_direction, desc.offset, self.enums.Direction.INPUT, False
            )
        self.call(
            self.kernel.gpio_set_drive,
            desc.offset,
            drive.OPEN_DRAIN if open_drain else drive.PUSH_PULL,
        )
        desc.backend_od = open_drain

    def direction_input(self, desc: Desc) -> None:
        """gpiod_direction_input()."""
        self._drive(desc, False)
        self.call(self.kernel.gpio_set_direction, desc.offset, self.enums.Direction.INPUT, False)
        self._bias(desc)
        desc.is_out = False

    def direction_output(self, desc: Desc, value: bool) -> None:
        """gpiod_direction_output(): ``value`` is logical; open drain and open source are
        emulated (the pin an input for the level it does not drive)."""
        raw = bool(value) != desc.active_low
        output = self.enums.Direction.OUTPUT
        self._bias(desc)
        self._drive(desc, bool(desc.flags & uapi.FLAG_OPEN_DRAIN))
        if desc.flags & uapi.FLAG_OPEN_SOURCE and not raw:
            self.call(
                self.kernel.gpio_set_direction, desc.offset, self.enums.Direction.INPUT, False
            )
        else:
            self.call(self.kernel.gpio_set_direction, desc.offset, output, raw)
        desc.is_out = True
        desc.raw_out = raw

    def get_raw(self, desc: Desc) -> bool:
        return bool(self.call(self.kernel.gpio_read, desc.offset))

    def get_value(self, desc: Desc) -> bool:
        """gpiod_get_value(): the logical level."""
        return self.get_raw(desc) != desc.active_low

    def set_value(self, desc: Desc, value: bool) -> None:
        """gpiod_set_value() on an output."""
        raw = bool(value) != desc.active_low
        if desc.flags & uapi.FLAG_OPEN_SOURCE:
            direction = self.enums.Direction
            if raw:
                self.call(self.kernel.gpio_set_direction, desc.offset, direction.OUTPUT, True)
            else:
                self.call(self.kernel.gpio_set_direction, desc.offset, direction.INPUT, False)
        else:
            self.call(self.kernel.gpio_write, desc.offset, raw)
        desc.raw_out = raw

    # -- line info -------------------------------------------------------------------------------
    def line_info(self, desc: Desc) -> uapi.LineInfo:
        """gpio_desc_to_lineinfo() and supinfo_to_lineinfo()."""
        flags = 0
        if desc.requested or self.held_by_kernel(desc):
            flags |= uapi.FLAG_USED
        if desc.requested:
            out = desc.is_out
        else:
            out = self.call(self.kernel.gpio_get_direction, desc.offset).value == "output"
        flags |= uapi.FLAG_OUTPUT if out else uapi.FLAG_INPUT
        if desc.requested:
            flags |= desc.flags & (
                uapi.FLAG_ACTIVE_LOW
                | uapi.DRIVE_FLAGS
                | uapi.BIAS_FLAGS
                | uapi.EDGE_FLAGS
                | uapi.FLAG_EVENT_CLOCK_REALTIME
            )
        return uapi.LineInfo(
            offset=desc.offset,
            name=desc.name,
            consumer=desc.label if desc.requested else "",
            flags=flags,
            debounce_us=desc.debounce_us or None,
        )

    def notify(self, desc: Desc, event_type: int) -> None:
        """gpiod_line_state_notify(): an info event for every chip file that watches the line."""
        watchers = [f for f in self.files if desc.offset in f.watched]
        if not watchers:
            return
        info = self.line_info(desc)
        stamp = self.monotonic_ns(self.us.clock.now_ns)
        for f in watchers:
            f.post(info, stamp, event_type)

    # -- clocks ------------------------------------------------------------------------------------
    def monotonic_ns(self, world_ns: int) -> int:
        """ktime_get_ns() at simulated instant ``world_ns``: what ``time.monotonic_ns()``
        reads inside the userspace then."""
        clock = self.us.clock
        return int(clock.monotonic_base_s) * NS_PER_S + world_ns - clock.start_ns

    def realtime_ns(self, world_ns: int) -> int:
        """ktime_get_real_ns(): ``time.time_ns()`` inside the userspace at ``world_ns``."""
        clock = self.us.clock
        return int(clock.epoch_s) * NS_PER_S + world_ns - clock.start_ns


def wait_readable(file: DevFile) -> None:
    """A blocking read: wait in simulated time until ``file`` has something (ENODEV when the
    userspace ends meanwhile, as a read on a chip that went away)."""
    from .session import current

    clock = current().clock
    while not file.readable_now():
        if not clock.registered():
            raise RuntimeError(
                "a blocking read of a GPIO file from a thread the pihil userspace does not "
                "run: start the thread inside the userspace, or poll the file first"
            )
        clock.block(None, file.readable_now, file.subscribe)
        if clock.closed or file.closed:
            raise oserror(errno.ENODEV)
