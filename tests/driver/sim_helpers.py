"""Shared helpers of the driver tests in simulation."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from rpiboard_pihil import RpiBoard

EXERCISED: set[str] = set()
"""``Class.member`` names that some conformance test calls (see `exercises`)."""
F = TypeVar("F", bound=Callable[..., Any])


def exercises(*names: str) -> Callable[[F], F]:
    """Record which public members a test calls (checked by the entry-point test)."""
    EXERCISED.update(names)
    return lambda fn: fn


def open_sim(board: str = "mirkopc", **options: object) -> RpiBoard:
    """An emulated board (id_query on, as a user would open it)."""
    return RpiBoard("local", options={"simulate": True, "board": board, **options})


def public_members(cls: type) -> set[str]:
    """The public API of a class: its properties and methods (not dunder, not private)."""
    names = set()
    for name, value in inspect.getmembers(cls):
        if name.startswith("_"):
            continue
        if isinstance(value, property) or inspect.isfunction(value):
            names.add(name)
    return names
