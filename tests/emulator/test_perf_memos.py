"""The kept answers of issue 13's second speed round give what computing them afresh gives.

Each cache is checked against the computation it stands for, across the changes that must
invalidate it: the drivers of a node (`Node.version`: `line_condition`, the GPIO block's
sole-driver path), the routing of a signal (`GpioBlock.routing_generation`: `signal_nets`),
the calendar's second (`BcdCalendar.read`), a flash's bulk exchange against its byte-wise `exchange`
(`W25q.exchange_many`) and an EEPROM's one-call sequential read against byte-wise reads
(`At24Eeprom.read_many`).
"""

from __future__ import annotations

import contextlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.board import Board
from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.buses.i2c_timing import BscSequencer, BscTiming
from pihil_emulator.buses.i2c_wire import FastBus, _line_condition, line_condition
from pihil_emulator.buses.spi_target import MisoByte, SpiTarget
from pihil_emulator.devices.at24 import At24Eeprom
from pihil_emulator.devices.bcd_calendar import BcdCalendar, CalendarTime
from pihil_emulator.devices.w25q import W25q
from pihil_emulator.errors import ElectricalFault
from pihil_emulator.soc.bsc import BscBlock
from pihil_emulator.soc.gpio import GpioBlock
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.variants import BCM2711, BCM2835
from pihil_emulator.world.clock import NS_PER_S, World
from pihil_emulator.world.net import Circuit, Drive, Net, NetKind


def make_gpio(variant: object = BCM2711) -> GpioBlock:
    world = World(seed=0)
    return Soc(world, Circuit(world), variant).gpio  # type: ignore[arg-type]


# -- Node.version and line_condition --------------------------------------------------------


def test_every_driver_change_moves_the_node_version() -> None:
    """A change of any drive on any net of a node moves its version; an equal drive does not."""
    c = Circuit(World())
    a, b = c.add_net("A", NetKind.GPIO), c.add_net("B")
    c.connect(a, b)
    node = a.node
    seen = [node.version]
    steps: list[tuple[Net, str, Drive | None]] = [
        (a, "pull", Drive.pull_up(1800)),
        (b, "dev", Drive.open_drain_low()),
        (b, "dev", Drive.push_pull(False)),  # hard to hard: the inline path
        (b, "dev", None),
    ]
    for net, owner, drive in steps:
        net.drive(owner, drive)
        assert node.version > seen[-1]
        seen.append(node.version)
    a.drive("pull", Drive.pull_up(1800))  # the very same drive: nothing changes
    assert node.version == seen[-1]


def test_a_rolled_back_drive_still_moves_the_version() -> None:
    """A drive refused with ElectricalFault (DESIGN: rules raise and roll back) may have been
    seen half-way by nobody, but the version moves so no kept view outlives it."""
    c = Circuit(World())
    n = c.add_net("GPIO4", NetKind.GPIO)
    n.drive("gpio", Drive.push_pull(True))
    before = n.node.version
    with pytest.raises(ElectricalFault):
        n.drive("dev", Drive.push_pull(False))
    assert n.node.version > before
    assert n.drivers == {"gpio": Drive.push_pull(True)}


drives = st.sampled_from(
    [
        None,
        Drive.pull_up(1800),
        Drive.pull_up(50_000),
        Drive.pull_down(50_000),
        Drive.open_drain_low(),
        Drive.push_pull(True),
        Drive.source(1.0),
    ]
)


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(st.sampled_from(["SDA", "X"]), st.sampled_from(["bsc", "dev", "pull"]), drives),
        max_size=12,
    ),
    st.booleans(),
    st.sampled_from([{"bsc"}, {"bsc", "dev"}, set()]),
)
def test_line_condition_kept_equals_computed(
    changes: list[tuple[str, str, Drive | None]], wired: bool, owners: set[str]
) -> None:
    """`line_condition` (kept per node version and owners) equals the computation after every
    change of the drivers, also across a wire made or removed."""
    c = Circuit(World())
    sda, other = c.add_net("SDA", NetKind.GPIO), c.add_net("X")
    wire = c.connect(sda, other) if wired else None
    own = {f"{o}{w}" for o in owners for w in ("SDA", "X")}
    for i, (where, owner, drive) in enumerate(changes):
        net = sda if where == "SDA" else other
        with contextlib.suppress(ElectricalFault):
            net.drive(f"{owner}{where}", drive)
        if i == 5 and wire is not None:
            with contextlib.suppress(ElectricalFault):
                c.disconnect(wire)
        assert line_condition(sda, own) == _line_condition(sda, own)
        assert line_condition(sda, set(own)) == _line_condition(sda, own)  # the kept one


# -- GPIO: routing generation, signal_nets, the sole-driver path -----------------------------


def test_signal_nets_follow_every_routing_change() -> None:
    """soc-facts §3.3: GPFSEL routes a signal; the kept answer changes with every FSEL change
    that routes or unroutes it (and stays the same object while nothing changes)."""
    gpio = make_gpio(BCM2835)
    assert gpio.signal_nets("SDA1") == []
    g0 = gpio.routing_generation
    gpio.set_function(2, "ALT0")
    assert gpio.routing_generation > g0
    first = gpio.signal_nets("SDA1")
    assert first == [gpio.net(2)]
    assert gpio.signal_nets("SDA1") is first  # kept
    gpio.set_function(44, "ALT2")  # soc-facts §3.9: SDA1 is also GPIO44's ALT2
    assert gpio.signal_nets("SDA1") == [gpio.net(2), gpio.net(44)]
    gpio.set_function(2, "input")
    assert gpio.signal_nets("SDA1") == [gpio.net(n) for n in gpio.lines_for("SDA1")]
    assert gpio.net(2) not in gpio.signal_nets("SDA1")


def _round_trip(gpio: GpioBlock, line: int, levels: list[bool]) -> list[tuple[bool, bool, float]]:
    """(GPLEV bit, net level, net volts) after each GPSET/GPCLR of ``line``."""
    out = []
    for level in levels:
        gpio.write("GPSET0" if level else "GPCLR0", 1 << line)
        net = gpio.net(line)
        out.append((bool(gpio.read("GPLEV0") >> line & 1), net.level, net.volts))
    return out


@pytest.mark.parametrize("variant", [BCM2835, BCM2711], ids=["BCM2835", "BCM2711"])
def test_sole_driver_path_gives_the_net_models_levels(variant: object) -> None:
    """soc-facts §3.4: GPSET/GPCLR drive an output, GPLEV reads the pin. On an unwired output
    (the kept sole-driver path) levels and voltages are what the electrical model gives."""
    gpio = make_gpio(variant)
    gpio.set_function(23, "output")
    levels = [True, False, True, True, False, False, True]
    got = _round_trip(gpio, 23, levels)
    assert got == [(v, v, 3.3 if v else 0.0) for v in levels]
    node = gpio.net(23).node
    assert node.memo is not None
    assert node.memo[2] is gpio
    assert node.volts == node._solve()[0]


def test_sole_driver_path_tells_a_watcher_added_later() -> None:
    """A watcher added while the path is armed (a VCD recorder, a device) sees every change."""
    gpio = make_gpio()
    gpio.set_function(23, "output")
    _round_trip(gpio, 23, [True, False])  # armed
    seen: list[bool] = []
    unwatch = gpio.net(23).watch(lambda _net, level, _t: seen.append(level))
    _round_trip(gpio, 23, [True, False, True])
    assert seen == [True, False, True]
    unwatch()
    _round_trip(gpio, 23, [False, True])
    assert seen == [True, False, True]


def test_sole_driver_path_reaches_a_jumpered_net() -> None:
    """A wire made after the path was armed: the other net and its watcher follow."""
    gpio = make_gpio()
    circuit = gpio.net(23).circuit
    probe = circuit.add_net("probe")
    seen: list[bool] = []
    probe.watch(lambda _net, level, _t: seen.append(level))
    gpio.set_function(23, "output")
    _round_trip(gpio, 23, [True, False, True])
    circuit.connect(gpio.net(23), probe)
    _round_trip(gpio, 23, [False, True])
    assert probe.level is True
    assert seen[-2:] == [False, True]


def test_sole_driver_path_keeps_edge_detection() -> None:
    """soc-facts §3.5: a rising edge with GPREN set sets GPEDS, also when the edge detection
    is enabled after the path was armed."""
    gpio = make_gpio()
    gpio.set_function(23, "output")
    _round_trip(gpio, 23, [True, False])
    gpio.write("GPREN0", 1 << 23)
    _round_trip(gpio, 23, [True])
    gpio.world.run_for(1_000)
    assert gpio.read("GPEDS0") >> 23 & 1


def test_sole_driver_path_sees_a_second_driver() -> None:
    """DESIGN rules: another hard driver on the net makes a fight an ElectricalFault, also
    after the path was armed (the drive moved the node's version)."""
    gpio = make_gpio()
    gpio.set_function(23, "output")
    _round_trip(gpio, 23, [True, False])
    gpio.net(23).drive("dev", Drive.push_pull(False))
    with pytest.raises(ElectricalFault):
        gpio.write("GPSET0", 1 << 23)
    assert gpio.net(23).level is False


# -- the calendar ----------------------------------------------------------------------------


@given(
    st.lists(st.integers(0, 3 * NS_PER_S), min_size=1, max_size=20),
    st.integers(0, 100 * 365 * 86_400),
)
def test_calendar_kept_value_equals_computed(steps: list[int], start_s: int) -> None:
    """The calendar read (kept once per second) equals the computed time, across writes."""
    start = CalendarTime.from_seconds(start_s, 3)
    cal, ref = BcdCalendar(start), BcdCalendar(start)
    t = 0
    for i, dt in enumerate(steps):
        t += dt
        if i % 7 == 6:
            value = CalendarTime.from_seconds(start_s + i * 1000, i % 7)
            cal.write(t, value)
            ref.write(t, value)
        ref._memo_key = (-1, -1)  # the reference computes afresh
        assert cal.read(t) == ref.read(t)


# -- SPI: a bulk exchange equals the byte-wise one -------------------------------------------

SIZE = 2 * 1024 * 1024  # the W25Q16


def _pair() -> tuple[W25q, W25q]:
    world = World()
    flashes = []
    for _ in range(2):
        f = W25q(part="w25q16", contents=bytes(range(256)) * (SIZE // 256))
        f.bind(world)
        flashes.append(f)
    return flashes[0], flashes[1]


addresses = st.one_of(st.integers(0, 4095), st.integers(SIZE - 700, SIZE - 1))  # and the top
commands = st.one_of(
    st.tuples(st.just(0x03), addresses, st.integers(0, 1500)),  # read, wrapping past the top
    st.tuples(st.just(0x0B), addresses, st.integers(0, 300)),  # fast read
    st.tuples(st.sampled_from([0x05, 0x9F, 0x06, 0x04, 0x02, 0x20, 0x77]), st.just(0),
              st.integers(0, 20)),
)  # fmt: skip


@settings(max_examples=80)
@given(st.lists(commands, min_size=1, max_size=6), st.integers(1, 4))
def test_w25q_exchange_many_equals_exchange(runs: list[tuple[int, int, int]], pieces: int) -> None:
    """W25Q32 datasheet Read Data/Fast Read: a continuous stream from the address; the bulk
    exchange (one slice) gives the bytes and leaves the state the byte-wise one does, also
    when one transaction arrives in several runs and past the top of the array."""
    bulk, ref = _pair()
    for cmd, address, length in runs:
        frame = (
            bytes([cmd])
            + address.to_bytes(3, "big")
            + bytes(range(256)) * (length // 256)
            + bytes(range(length % 256))
        )
        bulk.select()
        ref.select()
        cut = [len(frame) * k // pieces for k in range(pieces + 1)]
        for lo, hi in itertools.pairwise(cut):
            part = frame[lo:hi]
            times = [1000 * k for k in range(lo, hi)]
            got = list(bulk.exchange_many(part, times))
            want: list[MisoByte] = list(SpiTarget.exchange_many(ref, part, times))
            assert got == want
        bulk.deselect()
        ref.deselect()
        assert bytes(bulk._mem) == bytes(ref._mem)
        assert bulk.status == ref.status
        assert bulk.bus_time_ns is None


def test_w25q_subclass_with_its_own_exchange_keeps_it() -> None:
    """A model derived from W25q that changes `exchange` is exchanged byte by byte."""

    class Inverted(W25q):
        def exchange(self, mosi: int) -> MisoByte:
            out = super().exchange(mosi)
            return None if out is None else (~int(out)) & 0xFF  # type: ignore[arg-type]

    f = Inverted(part="w25q16")
    f.bind(World())
    f.select()
    out = f.exchange_many(b"\x03\x00\x00\x00\x00\x00", range(6))
    assert list(out)[4:] == [0x00, 0x00]  # erased 0xFF, inverted


# -- I2C: a memory's sequential read in one call ---------------------------------------------

EEPROM = 0x57


class ByteWiseEeprom(At24Eeprom):
    """The same part read byte by byte: its own `read_byte` (the base's) turns `read_many` off."""

    def read_byte(self) -> int:
        return super().read_byte()


def _eeprom_board(bulk: bool) -> tuple[Board, At24Eeprom]:
    board = Board.from_profile("mirkopc", seed=1)
    model = At24Eeprom if bulk else ByteWiseEeprom
    eeprom = model(EEPROM, "seq", contents=bytes((7 * i + 3) & 0xFF for i in range(4096)))
    board.attach(eeprom, bus="i2c1")
    return board, eeprom


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.one_of(st.integers(0, 4095), st.integers(3800, 4095)), st.integers(1, 400)),
        min_size=1,
        max_size=4,
    )
)
def test_at24_sequential_read_in_one_call_equals_byte_wise_reads(
    reads: list[tuple[int, int]],
) -> None:
    """CAT24C32 datasheet (devices/at24.py): a random read (address write, repeated START, read)
    and a current-address read roll over from the last byte to 0; the closed form's one-call read
    (`At24Eeprom.read_many`) gives the bytes, the address counter and the STOP's time that reading
    byte by byte gives."""
    (fast, f_dev), (slow, s_dev) = _eeprom_board(True), _eeprom_board(False)
    for address, length in reads:
        outcome = []
        for board in (fast, slow):
            block = board.soc.blocks["bsc1"]
            assert isinstance(block, BscBlock)
            random_read = [
                I2cMessage.write(EEPROM, address.to_bytes(2, "big")),
                I2cMessage.read_of(EEPROM, length),
            ]
            got = block.transfer(random_read)
            again = block.transfer([I2cMessage.read_of(EEPROM, 3)])  # current address
            outcome.append((got, again, board.now_ns, block.last_level))
        assert outcome[0] == outcome[1]
        assert outcome[0][3] == "transaction"  # the closed form ran (FastBus._reads_one)
        assert f_dev.address_counter == s_dev.address_counter


def test_at24_read_many_is_read_byte_repeated_and_leaves_subclasses_alone() -> None:
    """`read_many(n)` equals n `read_byte` calls (bytes and counter, across the top); a subclass
    with its own `read_byte` gets None (read byte by byte)."""
    a, b = (At24Eeprom(contents=bytes(range(256)) * 16) for _ in range(2))
    a.address_counter = b.address_counter = 4000
    assert a.read_many(200) == bytes(b.read_byte() for _ in range(200))
    assert a.address_counter == b.address_counter == (4000 + 200) % 4096

    class Stamped(At24Eeprom):
        def read_byte(self) -> int:
            return 0x42

    assert Stamped().read_many(4) is None


@settings(max_examples=200)
@given(
    st.sampled_from([250_000_000, 500_000_000, 150_000_000, 400_000_000, 333_333_333]),
    st.integers(1, 20_000).map(lambda h: 2 * h),
    st.integers(0, 10**12),
    st.integers(0, 10**7),
    st.integers(0, 300),
)
def test_byte_times_by_range_equal_the_per_byte_formula(
    core_hz: int, cdiv: int, anchor: int, k: int, n: int
) -> None:
    """soc-facts §2 (DIV): a byte is nine SCL periods of CDIV core clocks; `FastBus._times`
    gives each byte's first and last falling edge at anchor + ticks·1e9 // core clock, by
    `range` when a byte is a whole number of ns, else per byte: the same instants either way."""
    timing = BscTiming(core_hz, cdiv, 0, 0, stretch_bug=False)
    bus = FastBus(BscSequencer(timing), [], 0)
    bus.seq.anchor, bus.seq.k = anchor, k
    starts, ends = bus._times(n)
    step = 18 * timing.half
    edges = [anchor + (k + i * step) * NS_PER_S // core_hz for i in range(n + 1)]
    assert (starts, ends) == (edges[:-1], edges[1:])
    assert bus.seq.k == k + n * step
