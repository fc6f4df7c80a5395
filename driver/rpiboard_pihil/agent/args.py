"""The agent's argument checks: every SCPI argument is checked here before a backend sees it.

Each helper raises `protocol.ProtocolError` with the SCPI code of what is wrong: ``-109``
missing, ``-108`` too many, ``-104`` wrong type (a word where a number is due, a block
where text is due), ``-222`` out of range, ``-223`` too much data.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TypeVar

from .protocol import (
    DATA_OUT_OF_RANGE,
    DATA_TYPE_ERROR,
    MISSING_PARAMETER,
    PARAMETER_NOT_ALLOWED,
    TOO_MUCH_DATA,
    Command,
    ProtocolError,
)

T = TypeVar("T", bound=enum.Enum)


def nargs(cmd: Command, n: int, usage: str) -> list[str | bytes]:
    if len(cmd.args) < n:
        raise ProtocolError(MISSING_PARAMETER, f"{cmd.header} takes {usage}")
    if len(cmd.args) > n:
        raise ProtocolError(PARAMETER_NOT_ALLOWED, f"{cmd.header} takes {usage}; too many")
    return cmd.args


def as_text(arg: str | bytes, what: str) -> str:
    if isinstance(arg, bytes):
        raise ProtocolError(DATA_TYPE_ERROR, f"{what} is a number or word, not a block")
    return arg


def integer(arg: str | bytes, what: str, low: int, high: int) -> int:
    text = as_text(arg, what)
    if not text or len(text) > 20 or not (text.lstrip("+-").isdigit() and text.isascii()):
        raise ProtocolError(DATA_TYPE_ERROR, f"{what} takes an integer {low}..{high}; got {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise ProtocolError(DATA_OUT_OF_RANGE, f"{what} must be {low}..{high}; got {value}")
    return value


def member(arg: str | bytes, kind: type[T], what: str) -> T:
    text = as_text(arg, what).upper()
    for m in kind:
        if text in (m.name, str(m.value).upper()):
            return m
    legal = ", ".join(m.name for m in kind)
    raise ProtocolError(DATA_OUT_OF_RANGE, f"{what} takes one of {legal}; got {text[:40]!r}")


def flag(arg: str | bytes, what: str) -> bool:
    return bool(integer(arg, what, 0, 1))


def block(arg: str | bytes, what: str, limit: int) -> bytes:
    if not isinstance(arg, bytes):
        raise ProtocolError(DATA_TYPE_ERROR, f"{what} takes a #<n><len><bytes> block")
    if len(arg) > limit:
        raise ProtocolError(TOO_MUCH_DATA, f"{what}: {len(arg)} bytes is more than {limit}")
    return arg


def one_of(value: int, legal: Sequence[int], what: str) -> int:
    if value not in legal:
        names = ", ".join(str(x) for x in legal)
        raise ProtocolError(
            DATA_OUT_OF_RANGE, f"{what} {value} is not on this board; legal: {names}"
        )
    return value


NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:+/-")
MAX_NAME = 64


def name(arg: str | bytes, what: str) -> str:
    """A pin, net, device, register or block name: 1..64 of ``[A-Za-z0-9_.:+/-]``."""
    value = as_text(arg, what)
    if not value or len(value) > MAX_NAME or not set(value) <= NAME_CHARS:
        raise ProtocolError(
            DATA_TYPE_ERROR,
            f"{what} takes a name of 1..{MAX_NAME} letters, digits and _.:+/- "
            f"(e.g. GPIO17, J8-11, rtc); got {value[:40]!r}",
        )
    return value


def attribute(arg: str | bytes, what: str) -> str:
    """A public Python attribute name (``write_protect``): no leading underscore."""
    value = as_text(arg, what)
    if (
        not value
        or len(value) > MAX_NAME
        or not value.isidentifier()
        or not value.isascii()
        or value.startswith("_")
    ):
        raise ProtocolError(
            DATA_TYPE_ERROR,
            f"{what} takes a public attribute name (letters, digits, _; not starting with _); "
            f"got {value[:40]!r}",
        )
    return value


def number(arg: str | bytes, what: str, low: float, high: float) -> float:
    """A finite decimal number (``3.3``, ``-0.5``, ``1e-3``) in ``low..high``."""
    value = as_text(arg, what)
    try:
        if not value or len(value) > 32:
            raise ValueError
        result = float(value)
    except ValueError:
        raise ProtocolError(
            DATA_TYPE_ERROR, f"{what} takes a number {low:g}..{high:g}; got {value[:40]!r}"
        ) from None
    if not (low <= result <= high):  # also refuses nan and inf
        raise ProtocolError(DATA_OUT_OF_RANGE, f"{what} must be {low:g}..{high:g}; got {value}")
    return result
