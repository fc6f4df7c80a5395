"""Line settings, line config and line info of the ``gpiod._ext`` stand-in (`standin_gpiod_ext`).

`LineSettings` and `LineConfig` follow lib/line-settings.c and lib/line-config.c of libgpiod
2.x: the settings' validation, their kernel flags, and the packing of a config into the
uapi's ``struct gpio_v2_line_config`` (`LineConfig.to_uapi`); `_line_info` is lib/line-info.c,
a ``struct gpio_v2_line_info`` as the Python layer's ``gpiod.LineInfo``.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from typing import Any

from . import gpio_uapi as uapi
from .gpiod_ext_binding import (
    BIAS_AS_IS,
    BIAS_DISABLED,
    BIAS_PULL_DOWN,
    BIAS_PULL_UP,
    BIAS_UNKNOWN,
    CLOCK_HTE,
    CLOCK_MONOTONIC,
    CLOCK_REALTIME,
    DIRECTION_AS_IS,
    DIRECTION_INPUT,
    DIRECTION_OUTPUT,
    DRIVE_OPEN_DRAIN,
    DRIVE_OPEN_SOURCE,
    DRIVE_PUSH_PULL,
    EDGE_BOTH,
    EDGE_FALLING,
    EDGE_NONE,
    EDGE_RISING,
    VALUE_ACTIVE,
    VALUE_INACTIVE,
    _Errno,
    _python_type,
    _set_err,
    _uint,
)

# -- line settings and config (lib/line-settings.c, lib/line-config.c) ------------------------------
_SETTINGS_VALID = {
    "direction": (DIRECTION_AS_IS, DIRECTION_INPUT, DIRECTION_OUTPUT),
    "edge_detection": (EDGE_NONE, EDGE_RISING, EDGE_FALLING, EDGE_BOTH),
    "bias": (BIAS_AS_IS, BIAS_DISABLED, BIAS_PULL_UP, BIAS_PULL_DOWN),
    "drive": (DRIVE_PUSH_PULL, DRIVE_OPEN_DRAIN, DRIVE_OPEN_SOURCE),
    "output_value": (VALUE_INACTIVE, VALUE_ACTIVE),
    "event_clock": (CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_HTE),
}


class LineSettings:
    """gpiod._ext.LineSettings(direction, edge_detection, bias, drive, active_low,
    debounce_period, event_clock, output_value): every argument required, as "IIIIpkII"."""

    __module__ = "gpiod._ext"

    def __init__(
        self,
        direction: int,
        edge_detection: int,
        bias: int,
        drive: int,
        active_low: bool,
        debounce_period: int,
        event_clock: int,
        output_value: int,
    ) -> None:
        values = {
            "direction": _uint(direction),
            "edge_detection": _uint(edge_detection),
            "bias": _uint(bias),
            "drive": _uint(drive),
            "event_clock": _uint(event_clock),
            "output_value": _uint(output_value),
        }
        for name in ("direction", "edge_detection", "bias", "drive", "output_value"):
            if values[name] not in _SETTINGS_VALID[name]:
                raise _set_err(_Errno(errno.EINVAL))
        if values["event_clock"] not in _SETTINGS_VALID["event_clock"]:
            raise _set_err(_Errno(errno.EINVAL))
        self.direction: int = values["direction"]
        self.edge_detection: int = values["edge_detection"]
        self.bias: int = values["bias"]
        self.drive: int = values["drive"]
        self.active_low = bool(active_low)
        self.debounce_period_us = _uint(debounce_period, 64)
        self.event_clock: int = values["event_clock"]
        self.output_value: int = values["output_value"]

    def kernel_flags(self) -> int:
        """make_kernel_flags()."""
        flags = 0
        if self.direction == DIRECTION_INPUT:
            flags |= uapi.FLAG_INPUT
        elif self.direction == DIRECTION_OUTPUT:
            flags |= uapi.FLAG_OUTPUT
        edge = {
            EDGE_FALLING: uapi.FLAG_EDGE_FALLING,
            EDGE_RISING: uapi.FLAG_EDGE_RISING,
            EDGE_BOTH: uapi.EDGE_FLAGS,
        }.get(self.edge_detection, 0)
        if edge:
            flags |= edge | uapi.FLAG_INPUT
        flags |= {
            DRIVE_OPEN_DRAIN: uapi.FLAG_OPEN_DRAIN,
            DRIVE_OPEN_SOURCE: uapi.FLAG_OPEN_SOURCE,
        }.get(self.drive, 0)
        flags |= {
            BIAS_DISABLED: uapi.FLAG_BIAS_DISABLED,
            BIAS_PULL_UP: uapi.FLAG_BIAS_PULL_UP,
            BIAS_PULL_DOWN: uapi.FLAG_BIAS_PULL_DOWN,
        }.get(self.bias, 0)
        if self.active_low:
            flags |= uapi.FLAG_ACTIVE_LOW
        flags |= {
            CLOCK_REALTIME: uapi.FLAG_EVENT_CLOCK_REALTIME,
            CLOCK_HTE: uapi.FLAG_EVENT_CLOCK_HTE,
        }.get(self.event_clock, 0)
        return flags

    def _key(self) -> tuple[int, ...]:
        """settings_equal(): everything but the debounce period and the output value."""
        return (
            self.direction, self.edge_detection, self.bias, self.drive, int(self.active_low),
            self.event_clock,
        )  # fmt: skip


class LineConfig:
    """gpiod._ext.LineConfig: offsets to settings, and the global output values."""

    __module__ = "gpiod._ext"

    def __init__(self) -> None:
        self._lines: list[tuple[int, LineSettings]] = []
        self._output_values: list[int] = []

    def add_line_settings(self, offsets: Any, settings: Any) -> None:
        numbers = [_uint(o) for o in offsets]
        if type(settings) is not LineSettings:
            raise TypeError("not a gpiod._ext.LineSettings object")
        if not numbers:
            raise _set_err(_Errno(errno.EINVAL))
        known = [o for o, _ in self._lines]
        new = {o for o in numbers if o not in known}
        if len(self._lines) + len(new) > uapi.GPIO_V2_LINES_MAX:
            raise _set_err(_Errno(errno.E2BIG))
        for offset in numbers:
            for i, (o, _) in enumerate(self._lines):
                if o == offset:
                    self._lines[i] = (offset, settings)
                    break
            else:
                self._lines.append((offset, settings))

    def set_output_values(self, values: Iterable[Any]) -> None:
        raw = [int(v.value) for v in values]
        if not raw or len(raw) > uapi.GPIO_V2_LINES_MAX:
            raise _set_err(_Errno(errno.EINVAL))
        for value in raw:
            if value not in (VALUE_INACTIVE, VALUE_ACTIVE):
                self._output_values = []
                raise _set_err(_Errno(errno.EINVAL))
        self._output_values = raw

    def to_uapi(self) -> tuple[list[int], uapi.LineConfig]:
        """gpiod_line_config_to_uapi(): the offsets and the kernel's line config."""
        lines = self._lines
        attrs: list[uapi.ConfigAttr] = []

        def add(attr: uapi.ConfigAttr) -> None:
            if len(attrs) == uapi.GPIO_V2_LINE_NUM_ATTRS_MAX:
                raise _Errno(errno.E2BIG)
            attrs.append(attr)

        if any(s.direction == DIRECTION_OUTPUT for _, s in lines):  # set_output_values()
            mask = values = 0
            for i, (_, s) in enumerate(lines):
                if s.direction == DIRECTION_OUTPUT:
                    mask |= 1 << i
                    values = values & ~(1 << i) | (int(s.output_value == VALUE_ACTIVE) << i)
            for i, value in enumerate(self._output_values):
                mask |= 1 << i
                values = values & ~(1 << i) | (int(value == VALUE_ACTIVE) << i)
            attrs.append(uapi.ConfigAttr(uapi.ATTR_ID_OUTPUT_VALUES, values, mask))
        done = 0
        for i, (_, s) in enumerate(lines):  # set_debounce_periods()
            if done >> i & 1:
                continue
            done |= 1 << i
            if not s.debounce_period_us:
                continue
            mask = 0
            for j in range(i, len(lines)):
                if lines[j][1].debounce_period_us == s.debounce_period_us:
                    mask |= 1 << j
                    done |= 1 << j
            add(uapi.ConfigAttr(uapi.ATTR_ID_DEBOUNCE, s.debounce_period_us & 0xFFFFFFFF, mask))
        done, flags, taken = 0, 0, False
        for i, (_, s) in enumerate(lines):  # set_flags()
            if done >> i & 1:
                continue
            done |= 1 << i
            same = [j for j in range(i, len(lines)) if lines[j][1]._key() == s._key()]
            if not taken:
                taken, flags = True, s.kernel_flags()
                for j in same:
                    done |= 1 << j
            else:
                mask = 0
                for j in same:
                    done |= 1 << j
                    mask |= 1 << j
                add(uapi.ConfigAttr(uapi.ATTR_ID_FLAGS, s.kernel_flags(), mask))
        config = uapi.LineConfig(flags, attrs, len(attrs), bytes(20))
        return [o for o, _ in lines], config


def _line_config_of(obj: Any) -> LineConfig:
    if type(obj) is not LineConfig:
        raise TypeError("not a gpiod._ext.LineConfig object")
    return obj


# -- line info (lib/line-info.c) ------------------------------------------------------------------------
_BIAS_OF_FLAG = (
    (uapi.FLAG_BIAS_PULL_UP, BIAS_PULL_UP),
    (uapi.FLAG_BIAS_PULL_DOWN, BIAS_PULL_DOWN),
    (uapi.FLAG_BIAS_DISABLED, BIAS_DISABLED),
)
_DRIVE_OF_FLAG = (
    (uapi.FLAG_OPEN_DRAIN, DRIVE_OPEN_DRAIN),
    (uapi.FLAG_OPEN_SOURCE, DRIVE_OPEN_SOURCE),
)
_CLOCK_OF_FLAG = (
    (uapi.FLAG_EVENT_CLOCK_REALTIME, CLOCK_REALTIME),
    (uapi.FLAG_EVENT_CLOCK_HTE, CLOCK_HTE),
)
"""gpiod_line_info_from_uapi()'s if/else chains: the first flag set gives the value."""


def _first_flag(flags: int, table: tuple[tuple[int, int], ...], default: int) -> int:
    for flag, value in table:
        if flags & flag:
            return value
    return default


def _line_info(raw: bytes) -> Any:
    """gpiod_line_info_from_uapi() and the binding's make_line_info()."""
    name, consumer, offset, num_attrs, flags, attrs, _pad = uapi.LINE_INFO.unpack(raw)
    bias = _first_flag(flags, _BIAS_OF_FLAG, BIAS_UNKNOWN)
    drive = _first_flag(flags, _DRIVE_OF_FLAG, DRIVE_PUSH_PULL)
    rising, falling = flags & uapi.FLAG_EDGE_RISING, flags & uapi.FLAG_EDGE_FALLING
    edge = (
        EDGE_BOTH if rising and falling else EDGE_RISING if rising else
        EDGE_FALLING if falling else EDGE_NONE
    )  # fmt: skip
    clock = _first_flag(flags, _CLOCK_OF_FLAG, CLOCK_MONOTONIC)
    debounced, period = False, 0
    for i in range(min(num_attrs, uapi.GPIO_V2_LINE_NUM_ATTRS_MAX)):
        a_id, _p, value = uapi.LINE_ATTRIBUTE.unpack_from(attrs, i * uapi.LINE_ATTRIBUTE.size)
        if a_id == uapi.ATTR_ID_DEBOUNCE:
            debounced, period = True, value & 0xFFFFFFFF
    text, user = uapi.cstr(name), uapi.cstr(consumer)
    return _python_type("gpiod.line_info", "LineInfo")(
        offset,
        text or None,
        bool(flags & uapi.FLAG_USED),
        user or None,
        DIRECTION_OUTPUT if flags & uapi.FLAG_OUTPUT else DIRECTION_INPUT,
        bool(flags & uapi.FLAG_ACTIVE_LOW),
        bias,
        drive,
        edge,
        clock,
        debounced,
        period,
    )
