"""Hypothesis strategies of values that are wrong for a given kind of argument.

Each strategy draws only values the argument must refuse: for an integer ``lo..hi``,
other types (floats, even integral ones; strings of digits; bools; None; containers)
and integers outside the range; for a duration, negative, NaN, infinite, too long or not
a number; for an enum, members of other enums, their names and values as strings, ints.
"""

from __future__ import annotations

import enum
import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import strategies as st

from rpiboard_pihil import (
    ChipSelect,
    Direction,
    Drive,
    Edge,
    Function,
    GpioLine,
    HeaderPin,
    I2cBusId,
    Parity,
    Pull,
    SpiBusId,
    UartId,
)

ENUMS: tuple[type[enum.Enum], ...] = (
    Direction,
    Drive,
    Edge,
    Function,
    Parity,
    Pull,
    GpioLine,
    HeaderPin,
    I2cBusId,
    SpiBusId,
    ChipSelect,
    UartId,
)


class Strange:
    """An object of no type the API knows, with a repr that says so."""

    def __repr__(self) -> str:
        return "Strange()"


def _odd_objects() -> st.SearchStrategy[object]:
    return st.sampled_from(
        [
            None,
            Strange(),
            object,
            [],
            {},
            (),
            set(),
            b"",
            bytearray(b"\x01"),
            1j,
            Decimal("1.5"),
            Fraction(1, 3),
            Ellipsis,
            NotImplemented,
            len,
            [1, 2],
            {"a": 1},
            (1,),
            frozenset({1}),
        ]
    )


def _floats() -> st.SearchStrategy[float]:
    return st.one_of(
        st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 0.5, 1e300, -1e300, 5e-324]),
        st.floats(allow_nan=True, allow_infinity=True),
    )


def _strings() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["", " ", "0", "1", "-1", "0x10", "1e3", "True", "nan", "\x00", "é"]),
        st.text(max_size=12),
    )


def not_bool() -> st.SearchStrategy[object]:
    """Anything but True and False."""
    return st.one_of(
        st.integers(-3, 3),
        st.integers(),
        _floats(),
        _strings(),
        _odd_objects(),
        st.sampled_from(ENUMS).flatmap(st.sampled_from),
    )


def not_int_in(lo: int, hi: int) -> st.SearchStrategy[object]:
    """Anything but an int ``lo..hi`` (bool is not an int here)."""
    out_of_range = st.one_of(
        st.sampled_from([lo - 1, hi + 1, -(2**63), 2**63, 2**64, -(10**30), 10**30, 10**400]),
        st.integers(max_value=lo - 1),
        st.integers(min_value=hi + 1),
    )
    integral_floats = st.integers(lo, hi).map(float)
    return st.one_of(
        out_of_range,
        integral_floats,
        _floats(),
        st.integers(lo, hi).map(str),
        st.booleans(),
        _strings(),
        _odd_objects(),
        st.integers(lo, hi).map(lambda n: Decimal(n)),
    )


def not_seconds(high_s: float, *, positive: bool = False) -> st.SearchStrategy[object]:
    """Anything but a finite duration ``0..high_s`` seconds (above 0 when ``positive``)."""
    low_bad = [-1e-9, -1.0, -(10**20), -math.inf]
    if positive:
        low_bad += [0, 0.0]
    return st.one_of(
        st.sampled_from([*low_bad, math.nan, math.inf, high_s * 2, 10**400, 1e308]),
        st.floats(max_value=-1e-300),
        st.floats(min_value=high_s * 1.0001, allow_infinity=True),
        st.booleans(),
        _strings(),
        _odd_objects(),
    )


def not_member(enum_type: type[enum.Enum]) -> st.SearchStrategy[object]:
    """Anything but a member of ``enum_type`` (its names and values as text included)."""
    others = [e for e in ENUMS if e is not enum_type]
    own_texts = [m.name for m in enum_type] + [str(m.value) for m in enum_type]
    return st.one_of(
        st.sampled_from(others).flatmap(st.sampled_from),
        st.sampled_from(own_texts),
        st.integers(-2, 10),
        _strings(),
        _odd_objects(),
        st.booleans(),
    )


def not_bytes(max_len: int) -> st.SearchStrategy[object]:
    """Anything but bytes-like or a list/tuple of ints 0..255 at most ``max_len`` long."""
    return st.one_of(
        _strings().filter(bool),
        st.integers(),
        _floats(),
        st.sampled_from([None, Strange(), {}, {1: 2}, {1, 2}, 3j, [None], [True, False]]),
        st.lists(st.integers().filter(lambda n: not 0 <= n <= 255), min_size=1, max_size=4),
        st.lists(st.floats(), min_size=1, max_size=3),
        st.lists(st.text(max_size=2), min_size=1, max_size=3),
        st.lists(st.lists(st.integers(0, 255), max_size=2), min_size=1, max_size=2),
        st.just(bytes(max_len + 1)),
        st.just([0] * (max_len + 1)),
        st.builds(lambda n: iter(range(n)), st.integers(0, 3)),
    )


def not_name(known: frozenset[str]) -> st.SearchStrategy[object]:
    """Anything but a name in ``known`` (compared case-insensitively, stripped)."""
    folded = {k.casefold() for k in known}
    text = st.one_of(
        st.sampled_from(["", " ", "\x00", "GPIO", "GPIO_17", "J8-", "J8-99", "P9-01", "GPIO99"]),
        st.sampled_from(
            ["gpio-17", "GPIO17.5", "GPIO1e1", "i2c-", "spi9", "uart9", "ce9", "nosuch"]
        ),
        st.text(max_size=10).map(lambda s: f"no such {s}"),
        st.text(alphabet="!@#$%^&*()[]{}<>?|~`", min_size=1, max_size=6),
    ).filter(lambda s: s.strip().casefold() not in folded)
    return st.one_of(
        text,
        _floats(),
        st.booleans(),
        _odd_objects(),
        st.integers().map(lambda n: (n,)),
        st.binary(max_size=4).filter(bool),
    )
