"""Issue 13, SPI round 3: what the closed-form SPI transfer keeps between transfers, and the
bulk MISO bytes, checked against the computations they stand for.

- `BulkMiso` (buses/spi_link.py): a part's bulk exchange (``exchange_many``) carried as two
  byte strings instead of a (value, driven) pair per byte. A target answering through
  ``exchange_many`` must give the master the same bytes, and the same errors (a wrong value,
  MISO contention with a second device or a hard driver), as the same answers through
  byte-wise ``exchange`` (checked by `normalize_miso`), whatever MISO's undriven level
  (pull-up, pull-down, floating: the bits nothing drives read that level, soc-facts §4.1 and
  the engine's module text).
- `Spi0Driver._requests`, `_pins_memo`, `_clocks` and `Spi0Block._sync_owners`: a board that
  keeps them and a board that forgets them before every transfer run the same random
  traffic (odd argument types, GPFSEL changes, a core-clock change, a SoC reset, devices
  detached and attached again, a jumper, snapshots restored) to the same transcript and state
  (Linux spi-bcm2835 ``bcm2835_spi_transfer_one``: the checks and CDIV of each request).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pihil_emulator.board import Board
from pihil_emulator.buses.spi_bus import BulkMiso, SpiBus, SpiClock, SpiPins
from pihil_emulator.buses.spi_target import MisoBits, MisoByte, SpiTarget
from pihil_emulator.devices.mcp3008 import Mcp3008
from pihil_emulator.devices.w25q import W25q
from pihil_emulator.errors import BusError
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive, NetKind

from .test_spi_fast_path_equivalence import run as run_ops
from .test_spi_fast_path_equivalence import spi0, state, transfers

# -- BulkMiso against byte-wise exchange -------------------------------------------------------


class Scripted(SpiTarget):
    """Answers each byte with the next item of its script (byte-wise `exchange`)."""

    model = "scripted"
    modes = frozenset({0, 1, 2, 3})

    def __init__(self, name: str, script: Sequence[object]) -> None:
        super().__init__(name)
        self.script = list(script)
        self.at = 0

    def exchange(self, mosi: int) -> MisoByte:
        out = self.script[self.at]
        self.at += 1
        return out  # type: ignore[return-value]  # wrong values on purpose


class BulkScripted(Scripted):
    """The same answers through ``exchange_many``: the list, or `bytes` when ``as_bytes``."""

    def __init__(self, name: str, script: Sequence[object], as_bytes: bool) -> None:
        super().__init__(name, script)
        self.as_bytes = as_bytes

    def exchange_many(self, data: bytes, times: Sequence[int]) -> Sequence[MisoByte]:
        part = self.script[self.at : self.at + len(data)]
        self.at += len(data)
        if self.as_bytes:
            return bytes(part)  # type: ignore[arg-type]  # the strategy gives ints then
        return part  # type: ignore[return-value]


def _rig_run(
    dev: SpiTarget, other: Scripted | None, pull: str | None, instrument: bool | None, tx: bytes
) -> object:
    world = World(seed=1)
    c = Circuit(world)
    sclk, mosi, miso, cs = (c.add_net(n, NetKind.GPIO) for n in ("SCLK", "MOSI", "MISO", "CS"))
    if pull == "up":
        miso.drive("pull", Drive.pull_up(50_000))
    elif pull == "down":
        miso.drive("pull", Drive.pull_down(50_000))
    if instrument is not None:
        miso.drive("instrument", Drive.push_pull(instrument))
    cs.drive("master", Drive.push_pull(False))
    sclk.drive("master", Drive.push_pull(False))
    bus = SpiBus(world, "spi")
    bus.attach(dev, cs=cs, sclk=sclk, mosi=mosi, miso=miso)
    if other is not None:
        bus.attach(other, cs=cs, sclk=sclk, mosi=mosi, miso=miso)
    try:
        result = bus.run(
            tx,
            t0_ns=100,
            clock=SpiClock(250_000_000, 26),
            mode=0,
            pins=SpiPins([sclk], [mosi], miso),
            mosi_before=False,
            record=False,
        )
    except Exception as exc:
        return (type(exc).__name__, str(exc))
    return result.rx


answers = st.one_of(
    st.none(),
    st.integers(0, 255),
    st.builds(MisoBits, st.integers(0, 255), st.integers(0, 255)),
    st.sampled_from((256, -1)),
)


@st.composite
def scripts(draw: st.DrawFn) -> tuple[list[object], bool]:
    n = draw(st.integers(1, 40))
    shape = draw(st.sampled_from(("flash", "bytes", "any")))
    if shape == "any":
        return draw(st.lists(answers, min_size=n, max_size=n)), False
    ints = draw(st.lists(st.integers(0, 255), min_size=n, max_size=n))
    if shape == "bytes":
        return list(ints), True
    head = draw(st.integers(0, n))  # a command's undriven bytes, then a read's data
    undriven: list[object] = [None] * head
    return undriven + ints[head:], False


@settings(max_examples=150, deadline=None)
@given(
    script=scripts(),
    pull=st.sampled_from(("up", "down", None)),
    second=st.one_of(st.none(), st.lists(answers, min_size=40, max_size=40)),
    instrument=st.one_of(st.none(), st.booleans()),
    mosi=st.binary(min_size=40, max_size=40),
)
def test_bulk_miso_equals_the_byte_wise_answers(
    script: tuple[list[object], bool],
    pull: str | None,
    second: list[object] | None,
    instrument: bool | None,
    mosi: bytes,
) -> None:
    """The master reads the same bytes (or fails the same way) from a part's bulk exchange as
    from its byte-wise answers: one device alone (the `bytes` path), with a second device or
    an instrument on MISO (the pair-by-pair resolution, contention raised at the same bit)."""
    items, as_bytes = script
    tx = mosi[: len(items)]
    bulk = BulkScripted("dev", items, as_bytes)
    ref = Scripted("dev", items)
    other = [Scripted("other", second) if second is not None else None for _ in range(2)]
    got = _rig_run(bulk, other[0], pull, instrument, tx)
    want = _rig_run(ref, other[1], pull, instrument, tx)
    assert got == want


def test_bulk_miso_pairs_are_the_engine_pairs() -> None:
    """`BulkMiso.pairs` gives the (value, driven) pairs `normalize_miso` gives per byte."""
    assert BulkMiso(b"\x00\x5a", b"\x00\xff").pairs() == [(0, 0), (0x5A, 0xFF)]
    assert BulkMiso(b"\x01\xfe", None).pairs() == [(1, 0xFF), (0xFE, 0xFF)]


def test_a_flash_read_reaches_the_master_as_bytes() -> None:
    """The W25Q32's Read Data ("continuous stream of data", datasheet 8.2.6) in one run: the
    four command and address bytes undriven (MISO hi-Z), then the array."""
    flash = W25q(part="w25q32", contents=bytes(range(256)) * 32)
    world = World()
    flash.bind(world)
    flash.select()
    got = list(flash.exchange_many(b"\x03\x00\x01\x00" + bytes(8), range(12)))
    assert got == [None] * 4 + list(range(8))


# -- the driver's kept answers against recomputing them ---------------------------------------


def _forget(board: Board) -> None:
    block = spi0(board)
    block.driver._requests.clear()
    block.driver._pins_memo = None
    block.driver._clocks.clear()
    block._sync_owners = None


def _apply(board: Board, op: tuple[Any, ...], forget: bool, snaps: list[Any]) -> object:
    block = spi0(board)
    try:
        if op[0] == "odd":  # the same request with other argument types
            _, cs, mode, speed, data = op
            if forget:
                _forget(board)
            return block.transfer(data, cs=cs, mode=mode, speed_hz=speed)
        if op[0] == "clock":
            board.soc.set_core_clock(op[1])
        elif op[0] == "reset":
            board.reset()
        elif op[0] == "detach":
            device = board.devices[op[1]]
            nets = [a for a in board.attachments if a.device is device]
            for a in nets:
                board.attachments.remove(a)
            board.attachments.add(nets[0])  # back: a new generation, the same device
        elif op[0] == "bus_detach":
            device = board.devices[op[1]]
            assert isinstance(device, SpiTarget)
            if device.bus_owner is not None:
                block.bus.detach(device)  # the engine loses it; the next transfer syncs it back
        elif op[0] == "jumper":
            board.connect("GPIO11", "GPIO25")  # SCLK's node changes: the sync looks again
        elif op[0] == "snapshot":
            snaps.append(board.snapshot())
        elif op[0] == "restore":
            if snaps:
                board.restore(snaps[-1])
        else:
            if forget and op[0] == "xfer":
                _forget(board)
            return run_ops(board, [op])
    except Exception as exc:
        return (type(exc).__name__, str(exc))
    return None


ODD = st.sampled_from(
    (
        ("odd", 0, 0, 10_000_000, b"\x9f\x00\x00\x00"),
        ("odd", True, 0, 10_000_000, b"\x9f\x00\x00\x00"),  # a bool chip select
        ("odd", 0, 1.0, 10_000_000, b"\x05\x00"),  # a float mode
        ("odd", 0, 0, 10_000_000.0, b"\x05\x00"),  # a float speed
        ("odd", 1, 3, True, bytearray(b"\x01\x80\x00")),  # a bool speed
        ("odd", 1, 4, 1_000_000, b"\x01\x80\x00"),  # no such mode
    )
)
"""A few requests drawn often, so that one kept answer meets the changes that must drop it."""

MEMO_OPS = st.one_of(
    transfers(),
    transfers(),
    ODD,
    ODD,
    ODD,
    st.tuples(st.just("fsel"), st.sampled_from((9, 10, 11, 7, 8)), st.sampled_from(("input", "alt0"))),
    st.tuples(st.just("clock"), st.sampled_from((250_000_000, 500_000_000))),
    st.tuples(st.just("reset")),
    st.tuples(st.just("detach"), st.sampled_from(("flash", "adc"))),
    st.tuples(st.just("bus_detach"), st.sampled_from(("flash", "adc"))),
    st.tuples(st.just("jumper")),
    st.tuples(st.just("snapshot")),
    st.tuples(st.just("restore")),
)  # fmt: skip


JEDEC_OP = ("odd", 0, 0, 10_000_000, b"\x9f\x00\x00\x00")


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(MEMO_OPS, min_size=1, max_size=14))
@example(ops=[JEDEC_OP, ("fsel", 11, "input"), JEDEC_OP, ("fsel", 11, "alt0"), JEDEC_OP])
@example(ops=[JEDEC_OP, ("bus_detach", "flash"), JEDEC_OP, ("detach", "flash"), JEDEC_OP])
@example(ops=[JEDEC_OP, ("snapshot",), ("fsel", 8, "input"), ("restore",), JEDEC_OP])
@example(
    ops=[JEDEC_OP, ("jumper",), JEDEC_OP, ("clock", 500_000_000), JEDEC_OP, ("reset",), JEDEC_OP]
)
def test_kept_answers_equal_recomputed_ones(ops: list[tuple[Any, ...]]) -> None:
    """A board keeping the driver's request, pin and clock answers and the device sync gives
    the transcript and state of one that recomputes them for every transfer."""
    kept, fresh = Board.from_profile("mirkopc", seed=2), Board.from_profile("mirkopc", seed=2)
    snaps: dict[int, list[Any]] = {id(kept): [], id(fresh): []}
    got = [_apply(kept, op, False, snaps[id(kept)]) for op in ops]
    want = [_apply(fresh, op, True, snaps[id(fresh)]) for op in ops]
    assert got == want
    assert state(kept) == state(fresh)
    for board in (kept, fresh):
        adc = board.devices["adc"]
        assert isinstance(adc, Mcp3008)
    assert [a.device.bus_owner for a in kept.attachments if a.kind == "spi"] == [  # type: ignore[attr-defined]
        a.device.bus_owner  # type: ignore[attr-defined]
        for a in fresh.attachments
        if a.kind == "spi"
    ]


def test_a_request_kept_for_one_type_is_not_taken_for_another() -> None:
    """``speed_hz=True`` is refused even after ``speed_hz=1`` ... and an int-valued float
    mode after the int one: the types are part of what is kept (spi-bcm2835 takes ints)."""
    board = Board.from_profile("mirkopc")
    block = spi0(board)
    block.transfer(b"\x9f\x00", cs=0, mode=0, speed_hz=10_000_000)
    kept = len(block.driver._requests)
    fresh = Board.from_profile("mirkopc")
    for speed in (10_000_000.0, True):
        outcomes: list[object] = []
        for b in (board, fresh):
            try:
                outcomes.append(spi0(b).transfer(b"\x9f\x00", cs=0, mode=0, speed_hz=speed))  # type: ignore[arg-type]
            except Exception as exc:
                outcomes.append((type(exc).__name__, str(exc)))
        assert outcomes[0] == outcomes[1]
        assert isinstance(outcomes[0], tuple), outcomes
    assert len(block.driver._requests) == kept  # refused requests are never kept


def test_a_kept_request_is_checked_again_after_a_routing_change() -> None:
    """spi-bcm2835 on a Pi whose SCLK or CE0 pin was given another function: the transfer
    fails (``not_routed``) also right after the same request succeeded, and works again once
    the pin is back on ALT0 (soc-facts §4.1: GPIO7-11 ALT0)."""
    board = Board.from_profile("mirkopc")
    block = spi0(board)
    for line in (11, 8):
        assert block.transfer(b"\x9f\x00\x00\x00", cs=0, mode=0, speed_hz=10_000_000)
        board.soc.gpio.set_function(line, "input")
        with pytest.raises(BusError) as caught:
            block.transfer(b"\x9f\x00\x00\x00", cs=0, mode=0, speed_hz=10_000_000)
        assert caught.value.kind == "not_routed"
        board.soc.gpio.set_function(line, "alt0")
        got = block.transfer(b"\x9f\x00\x00\x00", cs=0, mode=0, speed_hz=10_000_000)
        assert got[1:] == b"\xef\x40\x16"  # W25Q32 JEDEC ID


def test_a_device_released_by_another_bus_is_taken_at_the_next_transfer() -> None:
    """The device sync is skipped only while every device keeps the owner the last sync left
    it: a part attached for spi0 but held by another bus joins spi0's engine at the first
    transfer after that bus lets it go (the reference `sync_devices` does so at every TA)."""
    board = Board.from_profile("mirkopc")
    block = spi0(board)
    other = SpiBus(board.world, "elsewhere")
    part = W25q("extra", part="w25q16")
    nets = {
        "cs": board.net("GPIO25"),
        "sclk": board.net("GPIO11"),
        "mosi": board.net("GPIO10"),
        "miso": board.net("GPIO9"),
    }
    nets["cs"].drive("test", Drive.push_pull(True))  # /CS inactive: it takes no part
    other.attach(part, cs=nets["cs"], sclk=nets["sclk"], mosi=nets["mosi"], miso=nets["miso"])
    board.attachments.attach(part, "spi0", "spi", nets)
    block.transfer(b"\x9f\x00\x00\x00", cs=0, mode=0, speed_hz=10_000_000)
    block.transfer(b"\x9f\x00\x00\x00", cs=0, mode=0, speed_hz=10_000_000)  # nothing new
    assert part.bus_owner == "elsewhere"
    other.detach(part)
    block.transfer(b"\x9f\x00\x00\x00", cs=0, mode=0, speed_hz=10_000_000)
    assert part.bus_owner == "spi0"
    assert block.bus.link_of(part).cs is nets["cs"]
