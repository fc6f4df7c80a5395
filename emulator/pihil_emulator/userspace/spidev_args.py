"""The argument handling of the ``spidev`` stand-in (`standin_spidev`), as spidev_module.c does it.

``PyArg_ParseTuple``/``PyArg_ParseTupleAndKeywords`` with CPython's messages: the
``"I"``, ``"H"``, ``"B"`` formats that truncate (`_masked`), paths (`_fspath`), positional
and keyword arguments (`_positional`, `_keywords`), ``PySequence_Fast`` (`_fast`), the byte
values of a sequence (`_bytes_of`) and the list argument of the transfers (`_list_bytes`);
the attribute setters' type checks; and the active userspace.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable
from typing import Any, NoReturn

from .spidev_ioc import SPIDEV_MAXPATH

_MISSING = object()


# -- PyArg_ParseTuple, as the C methods use it ---------------------------------------------------
def _masked(bits: int) -> Callable[[object], int]:
    """The ``"I"``, ``"H"``, ``"B"`` formats: any integer, cut to the C type's width."""

    def convert(value: object) -> int:
        return int(operator.index(value)) & ((1 << bits) - 1)  # type: ignore[arg-type]

    return convert


def _fspath(value: object) -> bytes:
    """``PyUnicode_FSConverter``."""
    path = os.fsencode(os.fspath(value))  # type: ignore[call-overload]
    if b"\0" in path:
        raise ValueError("embedded null byte")
    return path


def _positional(
    method: str,
    fname: str | None,
    args: tuple[object, ...],
    kwargs: dict[str, Any],
    converters: list[Callable[[object], Any]],
    required: int,
) -> list[Any]:
    """``PyArg_ParseTuple`` in a ``METH_VARARGS`` method; missing optionals are None."""
    if kwargs:
        raise TypeError(f"SpiDev.{method}() takes no keyword arguments")
    n, most = len(args), len(converters)
    if not required <= n <= most:
        if required == most:
            how, count = "exactly", most
        else:
            how, count = ("at least", required) if n < required else ("at most", most)
        name = f"{fname}()" if fname else "function"
        raise TypeError(
            f"{name} takes {how} {count} argument{'' if count == 1 else 's'} ({n} given)"
        )
    values = [convert(a) for convert, a in zip(converters, args, strict=False)]
    return values + [None] * (most - n)


def _keywords(
    fname: str,
    args: tuple[object, ...],
    kwargs: dict[str, Any],
    kwlist: tuple[str, ...],
    converter: Callable[[object], Any],
    required: int,
) -> list[Any]:
    """``PyArg_ParseTupleAndKeywords`` (CPython 3.11 ``vgetargskeywords``)."""
    n, nk, most = len(args), len(kwargs), len(kwlist)
    if n + nk > most:
        kind = "keyword " if n == 0 else ""
        raise TypeError(
            f"{fname}() takes at most {most} {kind}argument{'' if most == 1 else 's'} "
            f"({n + nk} given)"
        )
    values: list[Any] = [_MISSING] * most
    left = nk
    for i, name in enumerate(kwlist):
        if i < n:
            values[i] = converter(args[i])
            continue
        if left and name in kwargs:
            values[i] = converter(kwargs[name])
            left -= 1
            continue
        if i < required:
            raise TypeError(f"{fname}() missing required argument '{name}' (pos {i + 1})")
        if not left:
            return values
    for i in range(n):
        if kwlist[i] in kwargs:
            raise TypeError(
                f"argument for {fname}() given by name ('{kwlist[i]}') and position ({i + 1})"
            )
    for key in kwargs:
        if key not in kwlist:
            raise TypeError(f"'{key}' is an invalid keyword argument for {fname}()")
    return values


def _no_arguments(method: str, args: tuple[object, ...], kwargs: dict[str, Any]) -> None:
    """``METH_NOARGS``."""
    if kwargs:
        raise TypeError(f"SpiDev.{method}() takes no keyword arguments")
    if args:
        raise TypeError(f"SpiDev.{method}() takes no arguments ({len(args)} given)")


def _fast(obj: object) -> list[Any] | tuple[Any, ...]:
    """``PySequence_Fast(obj, "expected a sequence")``: a list or tuple as it is, any other
    iterable as a new list."""
    if type(obj) is list or type(obj) is tuple:
        return obj
    try:
        return list(obj)  # type: ignore[call-overload,no-any-return]
    except TypeError:
        raise TypeError("expected a sequence") from None


def _bytes_of(seq: list[Any] | tuple[Any, ...], start: int, count: int) -> bytes:
    """The values as bytes: ``(__u8)PyLong_AS_LONG(val)``, a non-int is a TypeError."""
    out = bytearray(count)
    for i in range(count):
        value = seq[start + i]
        if not isinstance(value, int):
            raise TypeError(f"Non-Int/Long value in arguments: {id(value) & 0xFFFFFFFF:x}.")
        out[i] = value & 0xFF
    return bytes(out)


def _active() -> Any:
    from pihil_emulator.userspace.session import active

    return active()


def _require_userspace() -> Any:
    from pihil_emulator.userspace.session import current

    return current()


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"The {name} attribute must be boolean")
    return value


def _check_int(name: str, value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f"The {name} attribute must be an integer")
    return value


def _cannot_delete(_self: object) -> NoReturn:
    raise TypeError("Cannot delete attribute")


def _list_bytes(seq: list[Any] | tuple[Any, ...]) -> tuple[int, bytes]:
    """The list argument of ``xfer``/``xfer2``/``writebytes``: its ``uint16_t`` length and its
    bytes, with spidev_module.c's checks (empty; more than 4096 bytes)."""
    n = len(seq) & 0xFFFF  # uint16_t len
    if n == 0:
        raise TypeError("Empty argument list.")
    if n > SPIDEV_MAXPATH:
        raise OverflowError(f"Argument list size exceeds {SPIDEV_MAXPATH} bytes.")
    return n, _bytes_of(seq, 0, n)
