"""Collection-style repeated capabilities (IVI-Python "Repeated Capabilities").

A `RepeatedCapabilityCollection` is a read-only mapping from the physical
name of each instance (``GPIO17``, ``i2c1``, ``J8-11``) to the object that
represents it. Its subscript also takes an integer (the instance number:
BCM line, bus number, physical pin), an enum member, or any other name the
board profile knows for the instance; string names are case-insensitive. An
illegal specifier raises `SelectorError` naming the legal ones.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from .capability import NumberedInfo
from .errors import SelectorError


class _Named(Protocol):
    @property
    def name(self) -> str: ...


T_co = TypeVar("T_co", bound=_Named, covariant=True)
Specifier = int | str | enum.Enum


class RepeatedCapabilityCollection(Mapping[str, T_co], Generic[T_co]):
    """Read-only collection of one repeated capability's instances."""

    _kind = "instance"
    _enums: tuple[type[enum.Enum], ...] = ()
    """The enums that name this collection's instances (`GpioLine` for ``gpios``...); a
    member of another enum is refused, though an IntEnum is an int (``gpios[UartId.UART0]``
    is not GPIO0)."""

    def __init__(
        self,
        items: Mapping[str, T_co],
        *,
        numbers: Mapping[int, str],
        aliases: Mapping[str, str] | None = None,
        fallback: Callable[[str], str | None] | None = None,
        owner: str = "",
    ) -> None:
        self._items = dict(items)
        self._fallback = fallback
        self._numbers = dict(numbers)
        self._folded = {name.casefold(): name for name in self._items}
        for alias, name in (aliases or {}).items():
            self._folded.setdefault(alias.casefold(), name)
        self._owner = owner

    def resolve(self, specifier: Specifier) -> str:
        """The physical name the specifier selects (raises `SelectorError` if none)."""
        if isinstance(specifier, bool):
            raise self._illegal(specifier)
        if isinstance(specifier, enum.Enum) and not isinstance(specifier, self._enums):
            raise self._foreign(specifier)
        if isinstance(specifier, int):  # int and IntEnum
            name = self._numbers.get(int(specifier))
            if name is not None:
                return name
            raise self._illegal(specifier)
        if isinstance(specifier, enum.Enum):
            value = specifier.value
            key = value if isinstance(value, str) else specifier.name
        elif isinstance(specifier, str):
            key = specifier
        else:
            raise self._illegal(specifier)
        name = self._folded.get(key.strip().casefold())
        if name is None and self._fallback is not None:
            name = self._fallback(key)
        if name is None:
            raise self._illegal(specifier)
        return name

    def __getitem__(self, specifier: Specifier) -> T_co:
        return self._items[self.resolve(specifier)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, specifier: object) -> bool:
        if not isinstance(specifier, int | str | enum.Enum):
            return False
        try:
            self.resolve(specifier)
        except SelectorError:
            return False
        return True

    @property
    def names(self) -> tuple[str, ...]:
        """The physical names of the instances, in order."""
        return tuple(self._items)

    def _illegal(self, specifier: object) -> SelectorError:
        legal = tuple(self._items)
        numbers = ", ".join(str(n) for n in self._numbers)
        where = f" of {self._owner}" if self._owner else ""
        return SelectorError(
            f"{specifier!r} is not a {self._kind}{where}; legal names: {', '.join(legal)}"
            + (f"; legal numbers: {numbers}" if numbers else "")
            + "; other names the board profile gives them are accepted too",
            legal=legal,
        )

    def _foreign(self, specifier: enum.Enum) -> SelectorError:
        takes = " or ".join(e.__name__ for e in self._enums) or "no enum"
        where = f" of {self._owner}" if self._owner else ""
        return SelectorError(
            f"{specifier!r} is a {type(specifier).__name__}, not a {self._kind}{where}; "
            f"this collection takes {takes} members, names ({', '.join(self._items)}) "
            "or numbers",
            legal=tuple(self._items),
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(self._items)})"


class NumberedCollection(RepeatedCapabilityCollection[T_co]):
    """A collection of the board's numbered interfaces (I2C buses, SPI buses, UARTs), one
    instance made of each profile entry: by name, number, ``<_prefix><n>`` (``I2C1``) and
    the collection's further ``aliases`` (Linux devices, controllers)."""

    _prefix = ""

    def __init__(
        self,
        infos: Sequence[NumberedInfo],
        make: Callable[[Any], T_co],
        *,
        aliases: Mapping[str, str] | None = None,
        owner: str,
    ) -> None:
        super().__init__(
            {i.name: make(i) for i in infos},
            numbers={i.number: i.name for i in infos},
            aliases={f"{self._prefix}{i.number}": i.name for i in infos} | dict(aliases or {}),
            owner=owner,
        )
