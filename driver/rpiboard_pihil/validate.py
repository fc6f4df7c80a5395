"""Argument checks shared by the capabilities: each failure says what was wrong and what is valid."""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from typing import TypeVar

from pihil_emulator.errors import clip

from .errors import ConfigurationError

E = TypeVar("E", bound=enum.Enum)

ByteData = bytes | bytearray | memoryview | Sequence[int]
"""What data arguments take: bytes-like, or a sequence of ints 0..255."""

NS_PER_S = 1_000_000_000


def member(value: object, enum_type: type[E], what: str) -> E:
    """``value`` if it is a member of ``enum_type``, else a `ConfigurationError` listing them."""
    if isinstance(value, enum_type):
        return value
    legal = ", ".join(f"{enum_type.__name__}.{m.name}" for m in enum_type)
    raise ConfigurationError(f"{what} takes one of {legal}; got {value!r}")


def boolean(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{what} takes True or False; got {value!r}")
    return value


def integer(value: object, what: str, low: int, high: int) -> int:
    """An int in ``low..high`` inclusive (bool refused)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigurationError(f"{what} takes an integer {low}..{high}; got {value!r}")
    if not low <= value <= high:
        raise ConfigurationError(f"{what} must be {low}..{high}; got {value}")
    return value


def seconds_to_ns(value: object, what: str, high_s: float = 1e9) -> int:
    """A non-negative, finite duration in seconds, as integer nanoseconds."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ConfigurationError(
            f"{what} takes a duration in seconds (0..{high_s:g}); got {clip(value)}"
        )
    # compared before any conversion: an int too large for a float is still out of range
    if (isinstance(value, float) and not math.isfinite(value)) or not 0 <= value <= high_s:
        raise ConfigurationError(f"{what} must be 0..{high_s:g} s; got {clip(value)}")
    return round(value * NS_PER_S)


MAX_EPOCH_S = 253_402_300_800
"""0001-01-01 + 10,000 years: 10000-01-01T00:00:00Z, where `datetime` ends."""


def userspace_clock(epoch_s: object, pace: object) -> None:
    """The clock settings of ``simulation.userspace()``: ``epoch_s`` None or a time
    0..`MAX_EPOCH_S` (Linux refuses a negative CLOCK_REALTIME); ``pace`` None or a finite
    number above 0."""
    if epoch_s is not None and (
        isinstance(epoch_s, bool)
        or not isinstance(epoch_s, int | float)
        or not 0 <= epoch_s < MAX_EPOCH_S  # NaN fails it too
    ):
        raise ConfigurationError(
            f"epoch_s is what time.time() reads when the userspace begins: None or seconds "
            f"since 1970, 0..{MAX_EPOCH_S}; got {clip(epoch_s)}"
        )
    if pace is not None and (
        isinstance(pace, bool)
        or not isinstance(pace, int | float)
        or not 0 < pace < math.inf  # NaN fails it too
    ):
        raise ConfigurationError(
            "pace is simulated seconds per wall-clock second, a finite number > 0 (or None "
            f"for no pacing); got {clip(pace)}"
        )


def data_bytes(value: object, what: str, max_len: int) -> bytes:
    """bytes, bytearray, memoryview or a sequence of ints 0..255, at most ``max_len`` long."""
    if isinstance(value, bytes | bytearray | memoryview):
        out = bytes(value)
    elif isinstance(value, list | tuple) and all(
        isinstance(b, int) and not isinstance(b, bool) for b in value
    ):
        bad = [b for b in value if not 0 <= b <= 255]
        if bad:
            raise ConfigurationError(f"{what}: byte values must be 0..255; got {bad[0]}")
        out = bytes(value)
    else:
        raise ConfigurationError(
            f"{what} takes bytes (or a list of ints 0..255); got {type(value).__name__}"
        )
    if len(out) > max_len:
        raise ConfigurationError(
            f"{what}: {len(out)} bytes is more than the {max_len} one transfer can carry"
        )
    return out
