"""The SPI bus engine: a whole run of bytes computed in closed form, no event per bit.

A controller (SPI0) hands the engine the bytes to shift, the SCLK timing, the
mode and the pins it drives; the engine works out, byte by byte,

- which devices take part: those whose chip-select input is at its active
  level now (devices are selected and deselected live, by watching their CS
  nets, so a device on CE1 never sees a transfer addressed to CE0, and a CS
  driven by anything else works too), whose SCLK input is on the master's
  SCLK node;
- what each device receives: the master's MOSI bits if its MOSI input is on
  the master's MOSI node, else the constant level of its own MOSI net;
- what the master reads on MISO: the bits the selected devices drive; where a
  jumper joins MOSI and MISO (one electrical node) the master's own MOSI bits;
  where nothing drives, the level the MISO node's pulls give (or its last
  level when it floats); a hard driver already on the node (an instrument, the
  stuck-MISO fault) takes part too. Two drivers disagreeing on a bit raise
  `ElectricalFault`, as a short would.

Modes follow soc-facts §4.1: mode = CPOL << 1 | CPHA; CPOL is the idle level
of SCLK, CPHA = 0 puts the first SCLK transition in the middle of a data bit
(sample on the leading edge), CPHA = 1 at its beginning (sample on the
trailing edge). A device clocked in a mode outside its datasheet's ``modes``
is modelled bit-exactly: the engine samples the computed MOSI waveform at the
device's own sampling edges and the device's output at the master's, with the
rule that a sample taken at the very instant a line changes sees the old level
(hold time met) [I]. That is how a mismatched device sees shifted bits.

Waveforms are data: when a `VcdRecorder` watches one of the bus nets, the
engine hands it the run as one `SpiWave` (bytes, timing, mode, pin names), which the
recorder renders to VCD text in bulk when it writes (vcd.py), instead of scheduling edges.

Timing is counted in core-clock cycles from the start of the first bit cell:
a bit cell is CDIV cycles, the FIFO-fed (polled or interrupt) BCM2835 master
leaves one idle SCLK cycle after each byte ("there is 1 idle clocks cycles
after each byte getting transferred so we have 9 cycles/byte", Linux
spi-bcm2835.c) while DMA runs "the spi clock without gaps".
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Iterable, Sequence

from ..errors import ConfigurationError, ElectricalFault
from ..vcd import VcdRecorder
from ..vcd_spi import SpiWave
from ..world.clock import NS_PER_S, World
from ..world.edges import Edge
from ..world.net import V_IH, DriveKind, Net, Node
from .spi_clock import (  # re-exported: their home was this module
    MAX_DIVISOR as MAX_DIVISOR,
)
from .spi_clock import (
    SpiClock as SpiClock,
)
from .spi_clock import (
    effective_divisor as effective_divisor,
)
from .spi_link import BulkMiso as BulkMiso
from .spi_link import Outs, bulk_miso
from .spi_link import SpiLink as SpiLink
from .spi_link import SpiPins as SpiPins
from .spi_link import SpiRun as SpiRun
from .spi_target import SpiTarget, check_mode, normalize_miso

_DRIVEN = [(v, 0xFF) for v in range(256)]
_BASE_EXCHANGE_MANY = SpiTarget.exchange_many
_MISO_OF: dict[object, tuple[int, int]] = {v: (v, 0xFF) for v in range(256)}
_MISO_OF[None] = (0, 0)
"""`normalize_miso` of a whole byte and of None, by look-up (hashable `MisoByte` values)."""
_VALUE = operator.itemgetter(0)
"""(value, driven mask) of a fully driven MISO byte, one tuple per value, shared."""


def recorders_on(nets: Iterable[Net]) -> list[VcdRecorder]:
    """The VCD recorders watching any of ``nets`` (they take closed-form edges)."""
    if not VcdRecorder.open_count:
        return []
    found: dict[int, VcdRecorder] = {}
    for net in nets:
        for watcher in net._watchers:  # a recorder watches through its bound method
            owner = getattr(watcher, "__self__", None)
            if isinstance(owner, VcdRecorder) and not getattr(owner, "_closed", False):
                found[id(owner)] = owner
    return list(found.values())


advance_if_idle = World.advance_if_idle
"""`World.advance_if_idle`, as a function of the world (kept for the modules that import it here)."""
advance_idle = World.advance_idle
"""`World.advance_idle`, as a function of the world (kept for the modules that import it here)."""


def _byte_bits(value: int) -> list[int]:
    return [(value >> (7 - i)) & 1 for i in range(8)]


class SpiBus:
    """The devices on one SPI bus and the engine that clocks runs of bytes through them."""

    def __init__(self, world: World, name: str) -> None:
        self.world = world
        self.name = name
        self.links: list[SpiLink] = []
        self._unwatch: dict[int, Callable[[], None]] = {}
        #: owners of drives on the MISO node that win over device outputs (faults)
        self.dominant_owners: set[str] = set()

    # -- devices ----------------------------------------------------------------------
    def attach(
        self,
        target: SpiTarget,
        *,
        cs: Net,
        sclk: Net,
        mosi: Net | None = None,
        miso: Net | None = None,
    ) -> SpiLink:
        """Put ``target`` on these nets; it is selected whenever ``cs`` is at its active level."""
        if target.bus_owner is not None:
            raise ConfigurationError(f"{target.name} is already on {target.bus_owner}")
        check_mode(target.mode)
        if target._world is None:
            target.bind(self.world)
        link = SpiLink(target, cs, sclk, mosi, miso)
        self.links.append(link)
        target.bus_owner = self.name

        def on_cs(_net: Net, level: bool, _time_ns: int) -> None:
            self._cs_changed(link, level)

        self._unwatch[id(link)] = cs.watch(on_cs)
        self._cs_changed(link, cs.level)
        return link

    def detach(self, target: SpiTarget) -> None:
        for link in list(self.links):
            if link.target is target:
                self._unwatch.pop(id(link))()
                self.links.remove(link)
                target.bus_owner = None
                if target.selected:
                    target.selected = False
                    target.deselect()
                return
        raise ConfigurationError(f"{target.name} is not on {self.name}")

    def link_of(self, target: SpiTarget) -> SpiLink:
        for link in self.links:
            if link.target is target:
                return link
        raise ConfigurationError(f"{target.name} is not on {self.name}")

    def _cs_changed(self, link: SpiLink, level: bool) -> None:
        target = link.target
        active = level == target.cs_active_high
        if active == target.selected:
            return
        target.selected = active
        target.bus_time_ns = None
        if active:
            target.select()
        else:
            target.deselect()

    # -- the engine -------------------------------------------------------------------
    def run(
        self,
        tx: bytes,
        *,
        t0_ns: int,
        clock: SpiClock,
        mode: int,
        pins: SpiPins,
        mosi_before: bool,
        record: bool | None = None,
    ) -> SpiRun:
        """Clock ``tx`` out from ``t0_ns`` (the start of the first bit cell) and return what came in.

        ``mosi_before`` is the MOSI level before the first bit (what a device sampling
        too early sees). With ``record`` None the edges are computed only when a
        recorder watches the bus nets, and handed to it.
        """
        check_mode(mode)
        n = len(tx)
        cpol, cpha = mode >> 1, mode & 1
        # loops, not comprehensions: each of those is a call of its own (Python 3.11)
        sclk_nodes = set()
        for net in pins.sclk:
            sclk_nodes.add(id(net.node))
        mosi_nodes = set()
        for net in pins.mosi:
            mosi_nodes.add(id(net.node))
        miso_node: Node | None = pins.miso.node if pins.miso is not None else None

        clocked: list[SpiLink] = []
        for link in self.links:
            target = link.target
            if target.selected and target.present and id(link.sclk.node) in sclk_nodes:
                clocked.append(link)
        # per device: the bytes it sends back, as (value, driven) per master byte slot
        contributions: list[tuple[str, Outs]] = []
        for link in clocked:
            outs = self._clock_device(link, tx, t0_ns, clock, mode, mosi_nodes, mosi_before)
            if (
                link.target.answering
                and miso_node is not None
                and link.miso is not None
                and link.miso.node is miso_node
            ):
                contributions.append((link.target.name, outs))

        rx = self._resolve_miso(tx, contributions, miso_node, pins, t0_ns, clock)
        # clock.ns(clock.run_cycles(n)), inlined
        cycles = (n - 1) * clock.byte_cycles + 8 * clock.divisor if n > 0 else 0
        end_ns = t0_ns + cycles * NS_PER_S // clock.core_clock_hz
        mosi_last = bool(tx[-1] & 1) if n else mosi_before
        result = SpiRun(rx, end_ns, mosi_last)

        recorders = (
            recorders_on([*pins.sclk, *pins.mosi, *([pins.miso] if pins.miso else [])])
            if (record is None and VcdRecorder.open_count) or record
            else []
        )
        if n and (record or recorders):
            wave = SpiWave(
                bytes(tx),
                rx,
                t0_ns,
                clock.core_clock_hz,
                clock.half_cycles,
                clock.gap_sclk_cycles,
                cpol,
                cpha,
                tuple(net.name for net in pins.sclk),
                tuple(net.name for net in pins.mosi),
                pins.miso.name if pins.miso is not None else None,
                mosi_before,
            )
            if record:
                result.edges = wave.edges()
            for rec in recorders:
                rec.add_wave(wave)  # compact: rendered when the recorder writes
        return result

    # -- one device -------------------------------------------------------------------
    def _clock_device(
        self,
        link: SpiLink,
        tx: bytes,
        t0_ns: int,
        clock: SpiClock,
        mode: int,
        mosi_nodes: set[int],
        mosi_before: bool,
    ) -> Outs:
        target = link.target
        sees_mosi = link.mosi is not None and id(link.mosi.node) in mosi_nodes
        if sees_mosi:
            incoming = tx
        else:
            constant = 0xFF if (link.mosi is not None and link.mosi.level) else 0x00
            incoming = bytes([constant]) * len(tx)
            mosi_before = constant == 0xFF
        if mode in target.modes:
            return self._exchange_aligned(target, incoming, t0_ns, clock)
        return self._exchange_shifted(target, incoming, t0_ns, clock, mode, mosi_before, sees_mosi)

    @staticmethod
    def _exchange_aligned(target: SpiTarget, incoming: bytes, t0_ns: int, clock: SpiClock) -> Outs:
        outs: list[tuple[int, int]] = []
        append = outs.append
        exchange = target.exchange
        name = target.name
        driven = _DRIVEN
        step = clock.byte_cycles * NS_PER_S  # clock.ns(k * byte_cycles), inlined
        hz = clock.core_clock_hz
        n = len(incoming)
        times: Sequence[int]
        if step % hz == 0:
            times = range(t0_ns, t0_ns + n * (step // hz), step // hz) if n else ()
        else:
            times = [t0_ns + k * step // hz for k in range(n)]
        if type(target).exchange_many is not _BASE_EXCHANGE_MANY:
            # the part's bulk exchange (a flash read as one memory slice): same bytes, same state
            got = target.exchange_many(incoming, times)
            bulk = bulk_miso(got)
            if bulk is not None:
                return bulk
            try:  # whole bytes and None by look-up, in one pass
                return list(map(_MISO_OF.__getitem__, got))
            except (KeyError, TypeError):  # MisoBits or a wrong value: checked as `exchange`'s
                pass
            for r in got:
                if type(r) is int and 0 <= r <= 0xFF:
                    append(driven[r])
                else:
                    append(normalize_miso(r, name))
            return outs
        try:
            for t, b in zip(times, incoming, strict=True):
                target.bus_time_ns = t
                r = exchange(b)
                if type(r) is int and 0 <= r <= 0xFF:
                    append(driven[r])
                else:
                    append(normalize_miso(r, name))
        finally:
            target.bus_time_ns = None
        return outs

    def _exchange_shifted(
        self,
        target: SpiTarget,
        incoming: bytes,
        t0_ns: int,
        clock: SpiClock,
        mode: int,
        mosi_before: bool,
        sees_mosi: bool,
    ) -> list[tuple[int, int]]:
        """A device clocked outside its modes: sample the waveforms at its own edges, bit-exact."""
        n = len(incoming)
        cpol, cpha = mode >> 1, mode & 1
        dcpol, dcpha = target.mode >> 1, target.mode & 1
        half = clock.half_cycles
        byte_cycles = clock.byte_cycles
        # master MOSI changes (cycle, bit) and master sampling instants, per bit slot
        mosi_t: list[int] = []
        mosi_v: list[int] = []
        master_sample: list[int] = []
        edges: list[tuple[int, bool]] = []  # (cycle, rising)
        for k in range(n):
            base = k * byte_cycles
            bits = _byte_bits(incoming[k])
            for i in range(8):
                mosi_t.append(base + 2 * i * half)
                mosi_v.append(bits[i])
                master_sample.append(base + (2 * i + 1) * half)
            for j in range(16):
                edges.append((base + (j + 1 - cpha) * half, (j + cpol) % 2 == 0))
        sample_rising = dcpol == dcpha
        samples: list[int] = []  # the device's sampling instants
        starts: list[int] = []  # when each of the device's output bits starts being driven
        launched = dcpha == 0  # a CPHA=1 part needs a launch edge before it samples
        if dcpha == 0:
            starts.append(-1)  # bit 0 is on DO from the selection on
        pending_launch = False  # a sample happened; the next launch edge shifts out a bit
        for cyc, rising in edges:
            if rising == sample_rising:
                if launched:
                    samples.append(cyc)
                    pending_launch = True
            else:
                if dcpha == 1 and not launched:
                    launched = True
                    starts.append(cyc)
                elif pending_launch:
                    starts.append(cyc)
                    pending_launch = False

        def mosi_at(cyc: int) -> int:
            i = bisect.bisect_left(mosi_t, cyc) - 1  # changes at ``cyc`` itself are not seen yet
            return mosi_v[i] if i >= 0 else int(mosi_before)

        got = [mosi_at(c) if sees_mosi else int(mosi_before) for c in samples]
        dev_bits: list[tuple[int, int]] = []  # (value, driven) per device output bit
        try:
            for m in range(len(got) // 8):
                value = 0
                for b in got[8 * m : 8 * m + 8]:
                    value = value << 1 | b
                first = samples[8 * m]
                target.bus_time_ns = t0_ns + clock.ns(max(0, first - half))
                out_v, out_d = normalize_miso(target.exchange(value), target.name)
                dev_bits.extend(((out_v >> (7 - i)) & 1, (out_d >> (7 - i)) & 1) for i in range(8))
        finally:
            target.bus_time_ns = None
        # what the master samples: the device bit whose start is strictly before the sample
        outs: list[tuple[int, int]] = []
        usable = min(len(starts), len(dev_bits))
        starts = starts[:usable]
        for k in range(n):
            value = driven = 0
            for i in range(8):
                t = master_sample[8 * k + i]
                idx = bisect.bisect_left(starts, t) - 1
                value <<= 1
                driven <<= 1
                if idx >= 0:
                    v, d = dev_bits[idx]
                    value |= v & d
                    driven |= d
            outs.append((value, driven))
        return outs

    # -- MISO -------------------------------------------------------------------------
    def _resolve_miso(
        self,
        tx: bytes,
        contributions: list[tuple[str, Outs]],
        miso_node: Node | None,
        pins: SpiPins,
        t0_ns: int,
        clock: SpiClock,
    ) -> bytes:
        n = len(tx)
        if miso_node is None:
            return bytes(n)  # no pin routed to MISO: the peripheral's input reads 0 [I]
        mosi = pins.mosi
        loopback = False
        hard: list[tuple[str, float]] = []
        dominant: list[tuple[str, float]] = []
        pull = DriveKind.PULL
        for net in miso_node.nets:
            if net in mosi:  # (identity: nets have no __eq__)
                loopback = True
                continue  # the master's own MOSI drive: that is the loopback case
            for owner, drive in net._drivers.items():  # read only: no copy (`Net.drivers`)
                if drive.kind is not pull:
                    hard.append((owner, drive.volts))
                    if owner in self.dominant_owners:
                        dominant.append((owner, drive.volts))
        if dominant:
            return bytes([0xFF if dominant[0][1] >= V_IH else 0x00]) * n
        fill = 0xFF if miso_node.level else 0x00
        if not hard and not loopback:
            if not contributions:
                return bytes([fill]) * n
            if len(contributions) == 1:
                outs = contributions[0][1]
                if type(outs) is BulkMiso:
                    if not fill or outs.driven is None:
                        return outs.values
                    # v | ~d per byte, as one big-integer operation
                    undriven = int.from_bytes(outs.driven, "big") ^ ((1 << 8 * n) - 1)
                    return (int.from_bytes(outs.values, "big") | undriven).to_bytes(n, "big")
                assert isinstance(outs, list)
                if fill:
                    return bytes([v | (~d & 0xFF) for v, d in outs])
                return bytes(map(_VALUE, outs))

        drivers: list[tuple[str, Sequence[tuple[int, int]]]] = []
        if loopback:
            drivers.append(("master MOSI (jumpered to MISO)", [(b, 0xFF) for b in tx]))
        if hard:
            level = 0xFF if hard[0][1] >= V_IH else 0x00
            drivers.append((", ".join(o for o, _ in hard), [(level, 0xFF)] * n))
        for name, given in contributions:
            drivers.append((name, given.pairs() if isinstance(given, BulkMiso) else given))
        rx = bytearray(n)
        for k in range(n):
            acc_v = acc_m = 0
            acc_names: list[str] = []
            for name, pairs in drivers:
                v, m = pairs[k]
                clash = (acc_v ^ v) & acc_m & m
                if clash:
                    bit = clash.bit_length() - 1  # the first bit on the wire (MSB first)
                    cell = k * clock.byte_cycles + 2 * (7 - bit) * clock.half_cycles
                    raise ElectricalFault(
                        f"contention on MISO in byte {k}, bit {bit}: "
                        f"{' and '.join(acc_names)} against {name}",
                        net=miso_node.names(),
                        drivers=[*acc_names, name],
                        time_ns=t0_ns + clock.ns(cell),
                    )
                acc_v |= v & m
                acc_m |= m
                if m:
                    acc_names.append(name)
            rx[k] = acc_v | (fill & ~acc_m & 0xFF)
        return bytes(rx)

    # -- waveforms --------------------------------------------------------------------
    def release_edges(self, pins: SpiPins, time_ns: int) -> list[Edge]:
        """The MISO line going back to its undriven level when the devices let go (CS inactive)."""
        if pins.miso is None:
            return []
        edge = [Edge(time_ns, pins.miso.name, pins.miso.level)]
        for rec in recorders_on([pins.miso]):
            rec.add_edges(edge)
        return edge
