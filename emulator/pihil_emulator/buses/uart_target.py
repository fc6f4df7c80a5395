"""The byte-level interface every UART device model implements (mirrors ``i2c_target``).

A device has its own line settings (baud rate and format, which may differ
from the SoC's: then it sees garbage, as a real one would). It receives
decoded characters through `UartTarget.receive` at their completion times,
with their error flags, and transmits with `UartTarget.transmit`, which
publishes waveform bursts on the net it talks on.

Roles are named from the SoC's side, as in `pihil_emulator.attachments`:
the device listens on ``tx`` (the SoC's TXD) and talks on ``rx`` (the SoC's
RXD). On a board, ``board.attach(device, bus="uart0")`` records the wiring
and binds the device (``bind(world)``); the device finds its nets through the
board's attachments when it needs them, so a dropped device (its attachment
removed) neither hears nor talks. Off a board, `UartTarget.connect` gives the
nets directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..world.clock import World
from ..world.net import Circuit, Drive, Net
from .bus_target import BusTarget
from .uart_line import Alarm, LineSettings, UartLines
from .uart_rx import RxChar, UartReceiver
from .uart_tx import UartTransmitter


class UartTarget(BusTarget):
    """Base class of UART device models. Subclasses override `receive` (and `on_bound`)."""

    #: model name used in board profiles (e.g. ``"nmea-gps"``)
    model: str = "uart-target"

    def __init__(self, settings: LineSettings, name: str | None = None) -> None:
        super().__init__(name or self.model)
        self._settings = settings
        self._hub: UartLines | None = None
        self._fixed: tuple[Net, Net] | None = None  # (listen, talk) from connect()
        self._rx: UartReceiver | None = None
        self._tx: UartTransmitter | None = None
        self._watched: Net | None = None
        self._unwatch: Callable[[], None] | None = None
        self._driven: Net | None = None
        self._delivery: Alarm | None = None  # wakes at each received character's completion

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name}, {self._settings.describe()})"

    # -- wiring ---------------------------------------------------------------------------
    def bind(self, world: World) -> None:
        """Give the device its board's clock (``board.attach`` calls this once)."""
        super().bind(world)
        self._setup()
        self.on_bound()

    def connect(self, circuit: Circuit, *, tx: Net, rx: Net) -> None:
        """Wire the device off a board: it listens on ``tx`` and talks on ``rx``."""
        self._fixed = (tx, rx)
        self._hub = UartLines.of(circuit)
        if self._world is None:
            self._world = circuit.world
            self._setup()
            self.on_bound()
        else:
            self._setup()

    def on_bound(self) -> None:
        """Start background processes here (the clock is known)."""

    def _hub_now(self) -> UartLines | None:
        if self._hub is None and self._world is not None:
            self._hub = UartLines.for_world(self._world)
        return self._hub

    def _nets(self) -> tuple[Net, Net] | None:
        """(listen, talk) nets now, or None when not wired (or dropped)."""
        if not self.present:
            return None
        if self._fixed is not None:
            return self._fixed
        hub = self._hub_now()
        if hub is None or hub.attachments is None:
            return None
        for a in hub.attachments.for_device(self):
            if a.kind == "uart" and "tx" in a.nets and "rx" in a.nets:
                return a.nets["tx"], a.nets["rx"]
        return None

    def _listen_nets(self) -> list[Net]:
        nets = self._nets()
        if nets is None:
            return []
        if nets[0] is not self._watched:
            self._rewatch(nets[0])
        if nets[1] is not self._driven:
            self._drive_idle(nets[1])
        return [nets[0]]

    def _talk_nets(self) -> list[Net]:
        nets = self._nets()
        if nets is None:
            return []
        if nets[1] is not self._driven:
            self._drive_idle(nets[1])
        return [nets[1]]

    def _rewatch(self, net: Net) -> None:
        if self._rx is None:
            return  # the receiver being built asks for its inputs: watch once it exists
        if self._unwatch is not None:
            self._unwatch()
        self._watched = net
        if self._rx is not None:
            self._unwatch = net.watch(self._rx_dc)

    def _rx_dc(self, _net: Net, _level: bool, _time_ns: int) -> None:
        if self._rx is not None:
            self._rx.resync()

    def _drive_idle(self, net: Net) -> None:
        """Our TX output idles high (marking)."""
        if self._driven is not None:
            self._driven.release(self._owner)
        self._driven = net
        net.drive(self._owner, Drive.push_pull(True))

    @property
    def _owner(self) -> str:
        return f"{self.name} TX"

    def _setup(self) -> None:
        hub = self._hub_now()
        if hub is None or self._rx is not None:
            if self._rx is not None:
                self._listen_nets()
            return
        self._rx = UartReceiver(
            self.world,
            self._settings,
            name=f"{self.name}.rx",
            kind="pl011",
            inputs=self._listen_nets,
            watch=(),
            hub=hub,
            unrouted_level=True,
        )
        self._tx = UartTransmitter(
            self.world,
            self._settings,
            name=f"{self.name}.tx",
            hub=hub,
            outputs=self._talk_nets,
            drive_level=self._drive_level,
        )
        self._delivery = Alarm(self.world, self._deliver)
        self._rx.subscribe(self._on_chars)
        self._listen_nets()

    def _drive_level(self, level: bool) -> None:
        talk = self._talk_nets()
        for net in talk:
            net.drive(self._owner, Drive.push_pull(level))

    # -- settings -------------------------------------------------------------------------
    @property
    def settings(self) -> LineSettings:
        return self._settings

    def set_settings(self, settings: LineSettings) -> None:
        """New baud rate or format for both directions (the character in progress finishes)."""
        self._settings = settings
        if self._rx is not None and self._tx is not None:
            self._rx.set_settings(settings)
            self._tx.set_settings(settings)

    # -- the byte-level protocol ------------------------------------------------------------
    def receive(self, char: RxChar) -> None:
        """A character arrived (at ``char.time_ns``), with its error flags. Default: ignore."""

    def transmit(self, data: bytes) -> float:
        """Send ``data`` after anything already queued; returns when the last stop bit ends."""
        if self._rx is None:
            self._setup()
        if self._tx is None or not self._talk_nets():
            return float(self.now_ns)
        self._tx.send(bytes(data))
        return self._tx.busy_until_ns

    def send_break(self, duration_ns: int) -> None:
        """Hold our TX line low for ``duration_ns`` (after what is queued)."""
        if self._tx is None:
            return
        tx = self._tx
        tx.set_break(True)
        end = max(float(self.now_ns), tx.busy_until_ns) + duration_ns
        self.world.call_at(math.ceil(end), lambda: tx.set_break(False))

    @property
    def transmitting(self) -> bool:
        return self._tx is not None and self._tx.busy()

    # -- delivery of received characters at their completion times ---------------------------
    def _on_chars(self) -> None:
        self._schedule_delivery()

    def _schedule_delivery(self) -> None:
        rx = self._rx
        if rx is None or self._delivery is None:
            return
        t = rx.time_of(0)
        if t is not None:
            self._delivery.at(t)

    def _deliver(self) -> None:
        rx = self._rx
        if rx is None:
            return
        for chunk in rx.take():
            for char in chunk.chars():
                self.receive(char)
        self._schedule_delivery()
