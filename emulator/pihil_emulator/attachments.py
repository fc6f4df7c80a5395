"""Which device sits on which wires: the registry bus controllers search for their devices.

An `Attachment` says that a device model is connected to some nets in some roles
(``sda``/``scl`` for I2C; ``sclk``/``mosi``/``miso``/``cs`` for SPI; ``tx``/``rx`` for
a UART, named from the SoC's side: the device listens on ``tx`` and talks on ``rx``).
A controller asks `Attachments.find` for the devices on its pins; matching is by
electrical node, so a device on nets that a jumper joins to the controller's pins is
found too, and one behind a removed jumper is not.
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
        return attachment

    def attach(self, device: object, bus: str, kind: str, nets: Mapping[str, Net]) -> Attachment:
        """Record ``device`` as wired to ``nets`` (role → net) on ``bus``."""
        return self.add(Attachment(device, bus, kind, dict(nets)))

    def remove(self, attachment: Attachment) -> None:
        try:
            self._items.remove(attachment)
        except ValueError:
            raise ConfigurationError(f"{attachment!r} is not attached") from None

    def detach(self, device: object) -> list[Attachment]:
        """Remove every attachment of ``device``; returns them (so they can be put back)."""
        gone = [a for a in self._items if a.device is device]
        self._items = [a for a in self._items if a.device is not device]
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
