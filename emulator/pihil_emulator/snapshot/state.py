"""The walk behind `pihil_emulator.snapshot`: the values of every mutable object reachable
from some roots (`WorldState`), and how to write them back into the same objects. See the
package docstring for the design and what is refused."""

from __future__ import annotations

import array
import collections
import contextlib
import datetime
import decimal
import enum
import fractions
import functools
import io
import itertools
import pathlib
import random
import re
import socket
import threading
import types
import weakref
from collections.abc import Iterable
from typing import Any, NoReturn

from ..boards.pins import PinMap
from ..boards.schema import BoardProfile
from ..errors import ConfigurationError
from ..soc.variants import SocVariant


class SnapshotError(ConfigurationError):
    """A snapshot that cannot be taken or restored (a busy board, another board's snapshot)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


_MISSING: Any = object()
"""An empty slot or cell (restored by deleting it)."""

_ATOMS: tuple[type, ...] = (
    int,
    float,
    complex,
    str,
    bytes,
    type(None),
    type,
    types.ModuleType,
    types.BuiltinFunctionType,
    types.MethodWrapperType,
    types.WrapperDescriptorType,
    types.MethodDescriptorType,
    types.GetSetDescriptorType,
    types.MemberDescriptorType,
    types.CodeType,
    range,
    slice,
    enum.Enum,
    re.Pattern,
    type(Ellipsis),
    datetime.date,  # datetime too
    datetime.time,
    datetime.timedelta,
    datetime.tzinfo,
    decimal.Decimal,
    fractions.Fraction,
    pathlib.PurePath,
    type(threading.Lock()),
    type(threading.RLock()),
)
"""Values without state of their own (locks: assumed free between calls; they guard)."""

_REFUSED: tuple[type, ...] = (io.IOBase, socket.socket, threading.Thread, memoryview)

_STOP: tuple[type, ...] = (BoardProfile, SocVariant, PinMap)
"""Shared with other boards (the profile cache) and never changed: not walked. A `PinMap`
shares its name tables with the profile's (`PinMap.rebound`); what it keeps of its own is
a resolution cache and the board's clock."""

_QUIESCENT = (
    "; a snapshot needs a quiescent board: run the simulation until transfers, "
    "transmissions and waits have ended"
)

_COUNT = re.compile(r"count\((-?\d+)(?:, (-?\d+))?\)")


_GENERATORS = (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)


def _running(generator: object) -> bool:
    """A generator (a SimPy process's body) that has not finished: its frame is live."""
    frame = getattr(generator, "gi_frame", None)
    frame = frame or getattr(generator, "cr_frame", None) or getattr(generator, "ag_frame", None)
    return frame is not None


def _frozen(obj: object) -> bool:
    params = getattr(type(obj), "__dataclass_params__", None)
    return bool(params is not None and params.frozen)


def _slot_descriptors(cls: type) -> tuple[Any, ...]:
    """Every slot of ``cls`` and its bases (private ``__x`` slots under their mangled name)."""
    found: list[Any] = []
    for klass in cls.__mro__:
        if "__slots__" in klass.__dict__:
            found.extend(
                d for d in klass.__dict__.values() if isinstance(d, types.MemberDescriptorType)
            )
    return tuple(found)


_SLOTS: dict[type, tuple[Any, ...]] = {}


def _slots_of(cls: type) -> tuple[Any, ...]:
    got = _SLOTS.get(cls)
    if got is None:
        got = _SLOTS[cls] = _slot_descriptors(cls)
    return got


def _describe(obj: object) -> str:
    qualname = getattr(obj, "__qualname__", None)
    if isinstance(obj, types.GeneratorType | types.CoroutineType) and qualname:
        return f"the process {qualname}"
    name = getattr(obj, "name", None)
    label = f" {name!r}" if isinstance(name, str) else ""
    return f"a {type(obj).__qualname__}{label}"


class _Walk:
    """One walk of the graph from some roots: what `WorldState` keeps, in lists."""

    def __init__(self, roots: Iterable[object]) -> None:
        self.dicts: list[tuple[dict[Any, Any], tuple[tuple[Any, Any], ...]]] = []
        self.slots: list[tuple[object, tuple[tuple[Any, Any], ...]]] = []
        self.cells: list[tuple[types.CellType, Any]] = []
        self.lists: list[tuple[list[Any], tuple[Any, ...]]] = []
        self.sets: list[tuple[set[Any], frozenset[Any]]] = []
        self.deques: list[tuple[collections.deque[Any], tuple[Any, ...]]] = []
        self.buffers: list[tuple[bytearray | array.array[Any], bytes | array.array[Any]]] = []
        self.randoms: list[tuple[random.Random, Any]] = []
        self.counts: list[tuple[dict[str, Any], str, int, int]] = []
        self.known: set[int] = set()
        self.keep: list[object] = []
        self._capture(list(roots))

    # -- capture ---------------------------------------------------------------------------
    def _capture(self, roots: list[object]) -> None:
        from ..vcd import VcdRecorder

        known = self.known
        walked_frozen: set[int] = set()
        """Reached only below frozen objects so far (configuration: walked, not recorded)."""
        parents: dict[int, tuple[object, str]] = {}
        stack: list[tuple[object, bool]] = [(root, False) for root in reversed(roots)]
        while stack:
            obj, below_frozen = stack.pop()
            oid = id(obj)
            if oid in known or isinstance(obj, _ATOMS):
                continue
            if below_frozen:
                if oid in walked_frozen:
                    continue
                walked_frozen.add(oid)
            else:
                known.add(oid)
            push: list[tuple[str, object]] = []
            if isinstance(obj, _GENERATORS):
                if _running(obj):
                    self._refuse(obj, parents, "is still running", _QUIESCENT)
                continue
            if isinstance(obj, _REFUSED):
                self._refuse(obj, parents, "holds state outside Python (close or stop it first)")
            if isinstance(obj, VcdRecorder):
                if not obj.closed:
                    self._refuse(obj, parents, "is recording (close the VCD recorder first)")
                continue
            if isinstance(obj, _STOP):
                continue
            frozen = below_frozen or _frozen(obj)
            self._visit(obj, not frozen, push, parents)
            for where, value in push:
                if id(value) not in known and not isinstance(value, _ATOMS):
                    parents.setdefault(id(value), (obj, where))
                    stack.append((value, frozen))

    def _visit(
        self,
        obj: object,
        record: bool,
        push: list[tuple[str, object]],
        parents: dict[int, tuple[object, str]],
    ) -> None:
        """Record ``obj``'s values (when ``record``: not below a frozen object, which holds
        configuration) and list what it refers to in ``push``."""
        if isinstance(obj, types.FunctionType):
            for i, cell in enumerate(obj.__closure__ or ()):
                try:
                    value = cell.cell_contents
                except ValueError:
                    value = _MISSING
                if record:
                    self.cells.append((cell, value))
                push.append((f"{obj.__qualname__}<cell {i}>", value))
        elif isinstance(obj, types.MethodType):
            push.append((f".{obj.__func__.__name__}.__self__", obj.__self__))
        elif isinstance(obj, functools.partial):
            push.append(("<partial func>", obj.func))
            push.extend(("<partial arg>", a) for a in obj.args)
            push.extend(("<partial kw>", a) for a in obj.keywords.values())
        elif isinstance(obj, weakref.ref):
            target = obj()
            if target is not None:
                self.keep.append(target)
                push.append(("<weakref>", target))
        elif isinstance(obj, tuple | frozenset):
            push.extend((f"[{i}]", v) for i, v in enumerate(obj))
        elif isinstance(obj, types.MappingProxyType):
            push.extend((f"[{k!r}]", v) for k, v in obj.items())
        elif isinstance(obj, itertools.count):
            self._refuse(obj, parents, "is a counter outside an object's attributes")
        elif isinstance(obj, random.Random):
            if record:
                self.randoms.append((obj, obj.getstate()))
        elif isinstance(obj, bytearray):
            if record:
                self.buffers.append((obj, bytes(obj)))
        elif isinstance(obj, array.array):
            if record:
                self.buffers.append((obj, array.array(obj.typecode, obj)))
        else:
            if isinstance(obj, list):
                if record:
                    self.lists.append((obj, tuple(obj)))
                push.extend((f"[{i}]", v) for i, v in enumerate(obj))
            elif isinstance(obj, dict):
                items = tuple(obj.items())
                if record:
                    self.dicts.append((obj, items))
                for k, v in items:
                    push.append((f"<key {k!r}>", k))
                    push.append((f"[{k!r}]", v))
            elif isinstance(obj, set):
                if record:
                    self.sets.append((obj, frozenset(obj)))
                push.extend(("<member>", v) for v in obj)
            elif isinstance(obj, collections.deque):
                if record:
                    self.deques.append((obj, tuple(obj)))
                push.extend((f"[{i}]", v) for i, v in enumerate(obj))
            plain = isinstance(obj, list | dict | set | collections.deque)
            if not self._attributes(obj, record, push, parents) and not plain:
                self._refuse(obj, parents, "keeps its state where Python cannot see it")

    def _attributes(
        self,
        obj: object,
        record: bool,
        push: list[tuple[str, object]],
        parents: dict[int, tuple[object, str]],
    ) -> bool:
        """Record (when ``record``) and walk an object's ``__dict__`` and slots; False if it
        has neither."""
        cls = type(obj)
        frozen = not record
        d = getattr(obj, "__dict__", None)
        descriptors = _slots_of(cls)
        if d is None and not descriptors:
            return False
        if isinstance(d, dict):
            if not frozen:
                self.dicts.append((d, tuple(d.items())))
            for k, v in d.items():
                if isinstance(v, itertools.count):
                    if not frozen:
                        start, step = self._count_state(v, obj, parents)
                        self.counts.append((d, k, start, step))
                else:
                    push.append((f".{k}", v))
        if descriptors:
            values = []
            for descr in descriptors:
                try:
                    value = descr.__get__(obj, cls)
                except AttributeError:
                    value = _MISSING
                values.append((descr, value))
                if value is not _MISSING:
                    push.append((f".{descr.__name__}", value))
            if not frozen:
                self.slots.append((obj, tuple(values)))
        return True

    def _count_state(
        self, counter: itertools.count[Any], owner: object, parents: dict[int, tuple[object, str]]
    ) -> tuple[int, int]:
        match = _COUNT.fullmatch(repr(counter))
        if match is None:
            return self._refuse(
                owner, parents, f"has a counter this module cannot read ({counter!r})"
            )
        return int(match.group(1)), int(match.group(2) or 1)

    def _refuse(
        self, obj: object, parents: dict[int, tuple[object, str]], why: str, hint: str = ""
    ) -> NoReturn:
        path: list[str] = []
        cursor: object = obj
        while id(cursor) in parents and len(path) < 12:
            cursor, where = parents[id(cursor)]
            path.append(where)
        root = _describe(cursor)
        raise SnapshotError(
            f"cannot snapshot the world: {_describe(obj)} {why} (reached from {root}"
            f"{''.join(reversed(path))}){hint}"
        )


class WorldState:
    """The values of every mutable object reachable from some roots, and how to put them back.

    Built by walking the roots once; `apply` writes the values back into the same objects.
    Immutable once built (tuples of (object, values)): applying it twice gives the same
    state twice.
    """

    def __init__(self, roots: Iterable[object]) -> None:
        walk = _Walk(roots)
        self.dicts = tuple(walk.dicts)
        self.slots = tuple(walk.slots)
        self.cells = tuple(walk.cells)
        self.lists = tuple(walk.lists)
        self.sets = tuple(walk.sets)
        """A set's members; one that changed since is refilled, and may iterate in another
        order than at the snapshot (a hash table's order depends on its history)."""
        self.deques = tuple(walk.deques)
        self.buffers = tuple(walk.buffers)
        self.randoms = tuple(walk.randoms)
        self.counts = tuple(walk.counts)
        """(owner's __dict__, attribute, next value, step): an ``itertools.count`` (SimPy's
        event ids) cannot be set, so restore puts a new one there."""
        self.known = frozenset(walk.known)
        """ids of every object walked (the restore check tells new observers by it)."""
        self._keep = tuple(walk.keep)
        """Objects reached through weak references only: kept alive with the snapshot."""

    # -- restore ---------------------------------------------------------------------------
    def apply(self) -> None:
        """Write every recorded value back (into the same objects)."""
        for d, items in self.dicts:
            d.clear()
            d.update(items)
        for d, key, start, step in self.counts:
            d[key] = itertools.count(start, step)
        for obj, values in self.slots:
            for descr, value in values:
                if value is _MISSING:
                    with contextlib.suppress(AttributeError):
                        descr.__delete__(obj)
                else:
                    descr.__set__(obj, value)
        for cell, value in self.cells:
            if value is _MISSING:
                with contextlib.suppress(ValueError):
                    del cell.cell_contents
            else:
                cell.cell_contents = value
        for lst, items in self.lists:
            lst[:] = items
        for s, members in self.sets:
            if s != members:  # untouched sets keep their iteration order as it was
                s.clear()
                s.update(members)
        for q, entries in self.deques:
            q.clear()
            q.extend(entries)
        for buffer, content in self.buffers:
            if buffer != content:
                buffer[:] = content  # type: ignore[assignment]  # same kind as it was taken
        for rng, state in self.randoms:
            rng.setstate(state)
