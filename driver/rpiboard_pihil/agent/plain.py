"""Plain values as JSON, both ways: what SIM commands carry (device attributes, call
arguments and results, fault fields).

A plain value is ``None``, a bool, an int, a finite float, a str, bytes (as
``{"bytes": "<hex>"}``), or a list, tuple, set or str-keyed dict of plain values. Sets
and tuples arrive as lists. Anything else (a model object, a callable) is not plain: the
agent refuses to send or take it. JSON's ``NaN`` and ``Infinity`` are refused.
"""

from __future__ import annotations

import enum
import json
import math
from typing import Any

MAX_DEPTH = 8
"""How deep lists and dicts may nest."""
MAX_ITEMS = 65536
"""How many items one list or dict may hold."""


class NotPlain(ValueError):
    """The value is not one SIM commands can carry (the message says which part)."""


def to_plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-ready data; `NotPlain` if it is not a plain value."""
    if depth > MAX_DEPTH:
        raise NotPlain(f"nested deeper than {MAX_DEPTH}")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotPlain(f"{value} is not a finite number")
        return value
    if isinstance(value, enum.Enum):
        return to_plain(value.value, depth + 1)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else list(value)
        if len(items) > MAX_ITEMS:
            raise NotPlain(f"{len(items)} items is more than {MAX_ITEMS}")
        return [to_plain(v, depth + 1) for v in items]
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise NotPlain(f"{len(value)} items is more than {MAX_ITEMS}")
        if not all(isinstance(k, str) for k in value):
            raise NotPlain("a dict with keys other than str")
        if set(value) == {"bytes"}:
            raise NotPlain('a dict of the one key "bytes" (that is how bytes travel)')
        return {k: to_plain(v, depth + 1) for k, v in value.items()}
    raise NotPlain(f"a {type(value).__name__}")


def from_plain(data: Any, depth: int = 0) -> Any:
    """The value JSON data stands for (``{"bytes": hex}`` back to bytes); `NotPlain` if bad."""
    if depth > MAX_DEPTH:
        raise NotPlain(f"nested deeper than {MAX_DEPTH}")
    if data is None or isinstance(data, bool | int | str):
        return data
    if isinstance(data, float):
        if not math.isfinite(data):
            raise NotPlain(f"{data} is not a finite number")
        return data
    if isinstance(data, list):
        if len(data) > MAX_ITEMS:
            raise NotPlain(f"{len(data)} items is more than {MAX_ITEMS}")
        return [from_plain(v, depth + 1) for v in data]
    if isinstance(data, dict):
        if set(data) == {"bytes"}:
            text = data["bytes"]
            try:
                if not isinstance(text, str):
                    raise ValueError
                return bytes.fromhex(text)
            except ValueError:
                raise NotPlain('{"bytes": ...} takes a string of hex digits') from None
        if len(data) > MAX_ITEMS:
            raise NotPlain(f"{len(data)} items is more than {MAX_ITEMS}")
        return {k: from_plain(v, depth + 1) for k, v in data.items()}
    raise NotPlain(f"a {type(data).__name__}")  # pragma: no cover - json gives no other types


def _refuse_constant(name: str) -> Any:
    raise NotPlain(f"{name} is not a finite number")


def loads(raw: bytes | str) -> Any:
    """Parse JSON text into a plain value; `NotPlain` for bad JSON or a value not plain."""
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except NotPlain:
        raise
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise NotPlain(f"not JSON: {str(exc)[:80]}") from None
    return from_plain(data)


def dumps(value: Any) -> str:
    """One line of ASCII JSON for a plain value; `NotPlain` if it is not one."""
    return json.dumps(to_plain(value), separators=(",", ":"), ensure_ascii=True, allow_nan=False)
