"""Which device sits on which wires: the registry bus controllers search for their devices.

An `Attachment` says that a device model is connected to some nets in some roles
(``sda``/``scl`` for I2C; ``sclk``/``mosi``/``miso``/``cs`` for SPI; ``tx``/``rx`` for
a UART, named from the SoC's side: the device listens on ``tx`` and talks on ``rx``).
A controller asks `Attachments.find` for the devices on its pins; matching is by
electrical node, so a device on nets that a jumper joins to the controller's pins is
found too, and one behind a removed jumper is not.

`Attachments.find` answers from a cache (issue 13: it ran on every transfer). The cache is
keyed by the attachment list's generation (bumped by `add`, `remove`, `detach`) and by the
`Node` objects of the nets asked about (held, compared by identity). That is exact because
`Circuit.connect` and `Circuit.disconnect` give every net whose node membership changes a new
`Node` object: any change that could move an attachment into or out of the queried nodes
gives a queried net a new node too. An `Attachment.nets` dict edited in place after `add` is
not seen; call `invalidate()` after doing that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from .errors import ConfigurationError
from .world.net import Net

KINDS = ("i2c", "spi", "uart", "gpio")
"""Attachment kinds the controllers know."""


@dataclass(eq=False)
class Attachment:
    """One device on some nets: ``nets`` maps a role (``"sda"``) to the net it is wired to."""

    device: object
    bus: str
    kind: str
    nets: dict[str, Net] = field(default_factory=dict)

    def on(self, role: str, net: Net) -> bool:
        """True when this device's ``role`` pin is on the same electrical node as ``net``."""
        mine = self.nets.get(role)
        return mine is not None and mine.node is net.node

    def __repr__(self) -> str:
        name = getattr(self.device, "name", type(self.device).__name__)
        wires = ", ".join(f"{role}={net.name}" for role, net in self.nets.items())
        return f"Attachment({name} on {self.bus} [{self.kind}]: {wires})"


class Attachments:
    """All attachments of one board."""

    def __init__(self) -> None:
        self._items: list[Attachment] = []
        self._generation = 0
        self._cache: dict[tuple[object, ...], tuple[Attachment, ...]] = {}
        self.caching = True
        """False: every `find` searches the list (the reference path the cache is tested
        against, as ``UartReceiver.segment_decoding`` is for the UART)."""

    @property
    def generation(self) -> int:
        """Bumped on every change to the list (and by `invalidate`): a key for callers' caches."""
        return self._generation

    def invalidate(self) -> None:
        """Forget cached `find` answers (after editing an `Attachment.nets` in place)."""
        self._generation += 1
        self._cache.clear()

    def add(self, attachment: Attachment) -> Attachment:
        if attachment.kind not in KINDS:
            raise ConfigurationError(
                f"unknown attachment kind {attachment.kind!r}; known: {', '.join(KINDS)}"
            )
        if not attachment.nets:
            raise ConfigurationError(
                f"{attachment!r} names no nets: a device must be wired to something"
            )
        self._items.append(attachment)
        self.invalidate()
        return attachment

    def attach(self, device: object, bus: str, kind: str, nets: Mapping[str, Net]) -> Attachment:
        """Record ``device`` as wired to ``nets`` (role → net) on ``bus``."""
        return self.add(Attachment(device, bus, kind, dict(nets)))

    def remove(self, attachment: Attachment) -> None:
        try:
            self._items.remove(attachment)
        except ValueError:
            raise ConfigurationError(f"{attachment!r} is not attached") from None
        self.invalidate()

    def detach(self, device: object) -> list[Attachment]:
        """Remove every attachment of ``device``; returns them (so they can be put back)."""
        gone = [a for a in self._items if a.device is device]
        self._items = [a for a in self._items if a.device is not device]
        self.invalidate()
        return gone

    def for_device(self, device: object) -> list[Attachment]:
        return [a for a in self._items if a.device is device]

    def on_bus(self, bus: str) -> list[Attachment]:
        return [a for a in self._items if a.bus == bus]

    def find(self, kind: str, **role_nets: Net | Iterable[Net]) -> list[Attachment]:
        """Attachments of ``kind`` whose pins share a node with the given nets, role by role.

        A role may be given one net or several (a signal routed to more than one pin);
        matching any of them is enough. Roles not given are not checked.
        """
        wanted: list[tuple[str, list[Net]]] = [
            (role, [nets] if isinstance(nets, Net) else list(nets))
            for role, nets in role_nets.items()
        ]
        if not self.caching:
            return self._find(kind, wanted)
        key: tuple[object, ...] = (
            kind,
            self._generation,
            *((role, *(n.node for n in nets)) for role, nets in wanted),
        )
        cached = self._cache.get(key)
        if cached is not None:
            return list(cached)
        found = self._find(kind, wanted)
        if len(self._cache) > 256:
            self._cache.clear()  # stale keys (old nodes) are never asked again
        self._cache[key] = tuple(found)
        return found

    def _find(self, kind: str, wanted: list[tuple[str, list[Net]]]) -> list[Attachment]:
        found: list[Attachment] = []
        for a in self._items:
            if a.kind != kind:
                continue
            for role, nets in wanted:
                mine = a.nets.get(role)
                if mine is None or not any(mine.node is n.node for n in nets):
                    break
            else:
                found.append(a)
        return found

    def __iter__(self) -> Iterator[Attachment]:
        return iter(tuple(self._items))

    def __len__(self) -> int:
        return len(self._items)
