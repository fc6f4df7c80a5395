"""The BSC closed form with VCD recorders on its pins: the waveform handed over as data (issue 13).

A VCD recorder on SDA/SCL used to force every transfer onto the pin-level engine
(`PinWire`: a net drive per edge, every slave and watcher called per edge). When the
recorders are the only observers of the two nets (`wave_recorders`), nothing but the
file can tell the levels apart, so the transfer runs at transaction level as it does with
no recorder, and each recorder gets what the pin-level engine would have put on the nets:

- `bsc_fast` (the whole driver call at once): the closed form (`RecordingFastBus`, a
  `FastBus` that keeps the byte outcomes as nine-bit cells), one `vcd_i2c.I2cWave` per
  transfer, kept as data by the recorder and rendered when it writes;
- the register path (`watched_wire`, the controller's wire when `bsc_fast` declines: a
  write longer than the FIFO, a read longer than the adapter timeout allows, ...): the
  same closed form, handed over piece by piece as the controller makes each wire
  operation (the pieces are stamped ahead of the clock, so a recorder keeps them as data);
- on the virtual bus (declared stretching, a FIFO stall that moves the master's grid, an
  outcome the closed form leaves to the slow path): the `VirtualBus` edge log, forwarded to
  the recorders as the bus makes the edges (`WaveWire`), ordered as a recorder on the real
  nets sees them (`VirtualBus.reactions_first`).

Only observers are allowed: VCD recorders, the slave hub (the slaves' own front ends,
which the transaction level runs itself), the GPIO block's level/event watcher with no
event detection enabled on the two pins, a UART's CTS watcher on a pin not routed to its
CTS (`UartPort._update_cts` reads only the routed pin) and a UART receiver that does not
listen on the net (`UartReceiver._on_dc` returns at once: ``listens_on``). An edge
queue, a detection enable, any other watcher, pins joined to other nets, recorders that
see a slave's ACK and its SCL fall in different orders, two targets on one address,
``level = "pin"``: the pin-level engine, as before. Tests: tests/emulator/test_vcd_lazy_i2c.py.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..buses.i2c_closed_form import ByteRun, FastBus
from ..buses.i2c_master import I2cMessage
from ..buses.i2c_slave import I2cSlave, I2cSlaveHub, hub_for
from ..buses.i2c_timing import NS_PER_S, BscSequencer, BscTiming
from ..buses.i2c_virtual import VirtualBus
from ..buses.i2c_wire import BscWire, NetLines, PinWire, TransactionWire
from ..buses.uart_rx import UartReceiver
from ..vcd import VcdRecorder
from ..vcd_i2c import FALL, OPEN, REPEATED_START, STOP, I2cWave, read_code, write_code
from ..world.clock import World
from ..world.edges import Edge
from ..world.net import Net
from .gpio_events import GpioEventDetect
from .registers import RegisterBlock
from .uart_port import UartPort

if TYPE_CHECKING:
    from .bsc_controller import BscController

_HUB_WATCHERS = (I2cSlaveHub._scl_changed, I2cSlaveHub._sda_changed)


def wave_recorders(
    level: str, world: World, gpio: RegisterBlock, sda: list[Net], scl: list[Net]
) -> tuple[list[VcdRecorder], bool] | None:
    """The VCD recorders on SDA/SCL when they, the slave hub and a GPIO block without event
    detection on the pins are all that watches the two nets, and whether the recorders see a
    slave's SDA change before the SCL fall that caused it (the hub watches SCL before them);
    None when anything else watches, the recorders disagree on that, or a pin's net is
    joined to others."""
    if level != "auto" or len(sda) != 1 or len(scl) != 1:
        return None
    sda_net, scl_net = sda[0], scl[0]
    if sda_net.node.nets != (sda_net,) or scl_net.node.nets != (scl_net,):
        return None
    hub = hub_for(world)
    recorders: list[VcdRecorder] = []
    flags: set[bool] = set()
    hub_first = False
    for net in (scl_net, sda_net):
        for w in net._watchers:
            owner = getattr(w, "__self__", None)
            func = getattr(w, "__func__", None)
            if isinstance(owner, VcdRecorder) and func is VcdRecorder._on_change:
                if owner not in recorders:
                    recorders.append(owner)
                if net is scl_net:
                    flags.add(hub_first)
            elif owner is hub and func in _HUB_WATCHERS:
                hub_first = hub_first or net is scl_net
            elif (
                owner is gpio
                and isinstance(owner, GpioEventDetect)
                and func is GpioEventDetect._on_net_change
                and not owner._detect & owner._bit_of.get(net, 0)
            ):
                continue
            elif (
                isinstance(owner, UartPort)
                and func is UartPort._on_cts_pin
                and net not in owner.pins.gpio.signal_nets(owner.pins.cts)
            ):
                continue  # a pin that could be CTS, not routed there: its level is not read
            elif (
                isinstance(owner, UartReceiver)
                and func is UartReceiver._on_dc
                and not owner.listens_on(net)
            ):
                continue  # a UART receiver whose input is routed elsewhere: it ignores the net
            else:
                return None
    if not recorders or len(flags) > 1:
        return None
    return recorders, bool(flags and flags.pop())


def wave_timing(timing: BscTiming) -> bool:
    """The master's half period is at least 1 ns, so its edges are apart on the ns grid
    (`I2cWave.edges` assumes each SCL toggle lands ``CDIV/2`` ticks after the last)."""
    return timing.half * NS_PER_S >= timing.core_clock_hz


def one_sender(slaves: Sequence[I2cSlave], msgs: Sequence[I2cMessage]) -> bool:
    """At most one target answers each read message's address: the read bits on SDA are
    then that target's (two senders changing SDA at one fall could glitch the line in an
    order `I2cWave` does not model)."""
    for m in msgs:
        if m.read and sum(bool(s.target.responds_to(m.address)) for s in slaves) > 1:
            return False
    return True


def distinct_addresses(slaves: Sequence[I2cSlave]) -> bool:
    """No two present targets answer one address (each the base `I2cTarget.responds_to`):
    whatever the register path addresses, at most one target sends (see `one_sender`)."""
    seen: set[int] = set()
    for s in slaves:
        target = s.target
        if not s._base_responds:
            return False
        if target.present:
            if target.address in seen:
                return False
            seen.add(target.address)
    return True


class RecordingFastBus(FastBus):
    """`FastBus` keeping each byte it clocks as an `I2cWave` cell code; ``after`` (when set)
    is called after each operation, with True after the STOP."""

    def __init__(self, seq: BscSequencer, slaves: Sequence[I2cSlave], t0: int) -> None:
        super().__init__(seq, slaves, t0)
        self.t0 = t0
        self.codes: list[int] = []
        self.stopped = False
        self.after: Callable[[bool], None] | None = None

    def _done(self, stop: bool = False) -> None:
        if self.after is not None:
            self.after(stop)

    def address_times(self, byte: int) -> tuple[bool, int, int]:
        ack, t_start, t_end = super().address_times(byte)
        self.codes.append(write_code(byte, ack))
        self._done()
        return ack, t_start, t_end

    def writes(self, values: Sequence[int]) -> ByteRun:
        run = super().writes(values)
        self.codes.extend(map(write_code, run.values, run.acks))
        self._done()
        return run

    def reads(self, n: int, nack_last: bool) -> ByteRun:
        run = super().reads(n, nack_last)
        self.codes.extend(map(read_code, run.values, run.acks))
        self._done()
        return run

    def repeated_start(self) -> None:
        super().repeated_start()
        self.codes.append(REPEATED_START)
        self._done()

    def stop(self) -> tuple[int, bool]:
        result = super().stop()
        self.stopped = True
        self._done(True)
        return result


class _Forward(list[Edge]):
    """A virtual bus's edge log that hands each edge to the recorders as it is made."""

    def __init__(self, recorders: Sequence[VcdRecorder]) -> None:
        super().__init__()
        self.recorders = recorders

    def append(self, edge: Edge, /) -> None:
        for rec in self.recorders:
            rec.add_edges((edge,))


def watched_wire(
    block: BscController,
    timing: BscTiming,
    sda: list[Net],
    scl: list[Net],
    slaves: Sequence[I2cSlave],
) -> BscWire:
    """The controller's wire for a transfer something watches edge by edge (its register path,
    `BscController._make_wire`): the virtual bus with its edges to the recorders when only
    VCD recorders watch (`wave_recorders`), else the pin-level engine on the nets."""
    world = block.world
    gpio = block.soc.gpio
    seen = wave_recorders(block.level, world, gpio, sda, scl)
    if seen is not None and wave_timing(timing) and distinct_addresses(slaves):
        return WaveWire(timing, world, slaves, sda[0], scl[0], block.owner, *seen, piecewise=True)
    lines = NetLines(
        world,
        sda[0],
        scl[0],
        functools.partial(gpio.drive_signal, block.sda_signal, block.owner),
        functools.partial(gpio.drive_signal, block.scl_signal, block.owner),
    )
    return PinWire(timing, lines)


class WaveWire(TransactionWire):
    """The transaction-level wire of a transfer whose pins only VCD recorders observe: what
    it runs reaches them as `I2cWave` data (closed form) or as edges (virtual bus, from
    the first byte boundary where the closed form stops: a stall that moves the master's
    grid, which `I2cWave` does not describe, an outcome the closed form leaves to it)."""

    def __init__(
        self,
        timing: BscTiming,
        world: World,
        slaves: Sequence[I2cSlave],
        sda: Net,
        scl: Net,
        owner: str,
        recorders: Sequence[VcdRecorder],
        sda_first: bool,
        *,
        piecewise: bool = False,
    ) -> None:
        super().__init__(timing, world, slaves, sda, scl, owner)
        self.recorders = list(recorders)
        self.sda_first = sda_first
        self.piecewise = piecewise
        """Hand the closed form over one wire operation at a time, as it is made (the
        register path: the controller asks for the bytes as the FIFO allows, over simulated
        time); else in one wave at the STOP (`bsc_fast`, the whole transfer at once)."""
        self.recording: RecordingFastBus | None = None
        self._piece: tuple[bool, int, bool, bool] = (True, 0, False, False)
        """Where the next piece begins: (with the START, tick, master and slave SDA)."""

    def closed_form(self, t0: int) -> FastBus | None:
        if not self.clean():
            return None
        self.fast = self.recording = fast = RecordingFastBus(self.seq, self.slaves, t0)
        if self.piecewise:
            fast.after = self._after_op
        return fast

    def _after_op(self, stop: bool) -> None:
        self.deliver(STOP if stop else OPEN)

    def deliver(self, end: int | None = None) -> None:
        """Hand the closed-form bytes made since the last piece to the recorders, as a piece
        that ends ``end`` (default: at the STOP if it was made, else with the last SCL fall,
        the closed form's end); after a `FALL` or `STOP` the closed form's part is over."""
        fast = self.recording
        if fast is None:
            return
        if end is None:
            end = STOP if fast.stopped else FALL
        if end != OPEN:
            self.recording = None
        codes = fast.codes
        if not codes and end == OPEN:
            return
        start, k0, m_low, s_low = self._piece
        # at a FALL the virtual bus takes over: a slave sending a read drives its next
        # byte's first bit from that fall (what `FastBus.hand_over` gives the slave)
        s_end = (
            end == FALL
            and fast.read_mode
            and bool(fast.active and fast.tx)
            and not fast.tx[0] & 0x80
        )
        sda, scl = self._names
        timing = self.timing
        wave = I2cWave(
            sda,
            scl,
            fast.t0,
            timing.core_clock_hz,
            timing.half,
            timing.fedl,
            tuple(codes),
            end,
            self.sda_first,
            start,
            k0,
            m_low,
            s_low,
            s_end,
        )
        for rec in self.recorders:
            rec.add_wave(wave)
        if codes:
            last = codes[-1]
            if last == REPEATED_START:
                m_low, s_low = True, False
            else:
                m_low, s_low = not last >> 9 & 1, bool(last & 1)
        self._piece = (False, self.seq.k, m_low, s_low)
        fast.codes = []

    def resume_at(self, t: int) -> None:
        if self.recording is not None and self.fast is not None and t > self.seq.position_ns:
            # a stall moves the master's grid: the virtual bus from this byte boundary on
            self._slow()
        super().resume_at(t)

    def _slow(self) -> VirtualBus:
        if self.vbus is None:
            self.deliver(FALL)  # the closed form's bytes come first, up to this fall
            self.log = _Forward(self.recorders)
            vbus = super()._slow()
            vbus.reactions_first = self.sda_first
            return vbus
        return self.vbus
