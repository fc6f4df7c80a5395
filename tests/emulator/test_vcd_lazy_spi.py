"""Lazy SPI waveforms (issue 13 item 3): a recorder keeps closed-form runs as `SpiWave` data and
renders them in bulk; the file must be byte-identical to the per-edge path (``lazy=False``).

The traffic is random and goes through SPI0 on the MirkoPC (W25Q32 on CE0, MCP3008 on CE1):
the Linux driver's transfer (one engine run per transfer, FIFO-fed with one idle SCLK cycle
per byte or DMA without gaps, spi-bcm2835.c) and register-level FIFO writes (one run per
byte, the first edge at the current instant), in every mode, at speeds whose half period
is a whole number of nanoseconds or not (a 400 MHz core clock), with recordings of every
SPI net or only some (no SCLK: the waves go in as edges), started at t = 0 (the file then
runs 1 ns late), with small flush sizes (the stream to disk), and with other recorded nets
changing inside a transfer (the wave turns back into edges before that change).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.board import Board
from pihil_emulator.soc.spi0 import Spi0Block
from pihil_emulator.vcd import VcdRecorder
from pihil_emulator.vcd_spi import SpiWave
from pihil_emulator.world.net import Drive, Net

SPI_NETS = ("GPIO11", "GPIO10", "GPIO9", "GPIO8", "GPIO7")
OTHER = "GPIO17"  # a free header pin the test drives itself, recorded too

OPS = st.one_of(
    st.tuples(
        st.just("xfer"),
        st.sampled_from((0, 1)),
        st.sampled_from((0, 1, 2, 3)),
        st.sampled_from((125_000_000, 10_000_000, 3_000_000, 1_234_567)),
        st.binary(min_size=0, max_size=120),
        st.booleans(),
    ),
    st.tuples(st.just("fifo"), st.sampled_from((0, 1)), st.binary(min_size=1, max_size=5)),
    st.tuples(st.just("wait"), st.integers(0, 30_000)),
    st.tuples(st.just("poke"), st.integers(0, 40_000), st.booleans()),
)


def drive_later(net: Net, level: bool) -> Callable[[], None]:
    def drive() -> None:
        net.drive("test", Drive.push_pull(level))

    return drive


def run(board: Board, ops: list[tuple[Any, ...]]) -> list[bytes]:
    block = board.soc.blocks["spi0"]
    assert isinstance(block, Spi0Block)
    other = board.net(OTHER)
    got: list[bytes] = []
    for op in ops:
        if op[0] == "xfer":
            _, cs, mode, speed, data, hold = op
            got.append(block.transfer(data, cs=cs, mode=mode, speed_hz=speed, hold_cs=hold))
        elif op[0] == "fifo":  # register level: TA, bytes into the FIFO, let them shift
            _, cs, data = op
            block.release_cs()
            block.write("CLK", 32)
            block.write("CS", 0x80 | cs | 0x30)
            for b in data:
                block.write("FIFO", b)
            board.run_for(len(data) * 9 * 32 * 4 + 200)
            got.append(bytes(block.read("FIFO") for _ in data))
            block.write("CS", 0x30)
        elif op[0] == "wait":
            board.run_for(op[1])
        else:  # another recorded net changes at a time that may fall inside a transfer
            _, delay, level = op
            board.world.call_at(board.now_ns + delay, drive_later(other, level))
    return got


def record(
    tmp: Path,
    name: str,
    ops: list[tuple[Any, ...]],
    *,
    lazy: bool,
    nets: tuple[str, ...],
    flush: int,
    start_ns: int,
    core_hz: int | None,
) -> tuple[bytes, list[bytes], int]:
    overrides = {"core_clock_hz": core_hz} if core_hz else None
    board = Board.from_profile("mirkopc", soc_overrides=overrides)
    board.run_for(start_ns)
    path = tmp / f"{name}.vcd"
    recorder = VcdRecorder(board.world, path, [board.net(n) for n in nets], flush_changes=flush)
    recorder.lazy = lazy
    with recorder:
        got = run(board, ops)
        board.run_for(1_000)
    return path.read_bytes(), got, recorder.written_changes


@settings(max_examples=60, deadline=None)
@given(
    ops=st.lists(OPS, min_size=1, max_size=8),
    nets=st.sampled_from(
        (SPI_NETS, (*SPI_NETS, OTHER), ("GPIO11", "GPIO9"), ("GPIO10", "GPIO8"), ("GPIO11",))
    ),
    flush=st.sampled_from((1 << 16, 50, 1)),
    start_ns=st.sampled_from((0, 1, 5_000)),
    core_hz=st.sampled_from((None, 400_000_000)),
)
def test_lazy_file_is_the_per_edge_file(
    tmp_path_factory: Any,
    ops: list[tuple[Any, ...]],
    nets: tuple[str, ...],
    flush: int,
    start_ns: int,
    core_hz: int | None,
) -> None:
    tmp: Path = tmp_path_factory.mktemp("lazy")
    kw: dict[str, Any] = {"nets": nets, "flush": flush, "start_ns": start_ns, "core_hz": core_hz}
    lazy = record(tmp, "lazy", ops, lazy=True, **kw)
    eager = record(tmp, "eager", ops, lazy=False, **kw)
    assert lazy[1] == eager[1]  # the same traffic
    assert lazy[0] == eager[0]  # byte for byte
    assert lazy[2] == eager[2]  # and the same count of changes written


def wave(**changes: Any) -> SpiWave:
    fields: dict[str, Any] = {
        "tx": b"\x03\x00\x10\x00\xa5",
        "rx": b"\x00\xff\x5a\x00\x81",
        "t0_ns": 1_000,
        "core_clock_hz": 250_000_000,
        "half_cycles": 13,
        "gap_sclk_cycles": 1,
        "cpol": 0,
        "cpha": 0,
        "sclk": ("SCLK",),
        "mosi": ("MOSI",),
        "miso": "MISO",
        "mosi_before": False,
    }
    fields.update(changes)
    return SpiWave(**fields)


@settings(max_examples=60, deadline=None)
@given(
    tx=st.binary(min_size=1, max_size=40),
    data=st.data(),
    mode=st.sampled_from((0, 1, 2, 3)),
    gap=st.sampled_from((0, 1, 3)),
    half=st.sampled_from((1, 13, 32768)),
    hz=st.sampled_from((250_000_000, 400_000_000, 1_000_000)),
    mosi_before=st.booleans(),
    miso_level=st.booleans(),
)
def test_render_equals_the_edge_by_edge_writer(
    tmp_path_factory: Any,
    tx: bytes,
    data: st.DataObject,
    mode: int,
    gap: int,
    half: int,
    hz: int,
    mosi_before: bool,
    miso_level: bool,
) -> None:
    """The bulk renderer against the recorder's own loop over `SpiWave.edges`, on waves the
    board does not make (several SCLK/MOSI pins, long gaps, 1-cycle half periods)."""
    rx = data.draw(st.binary(min_size=len(tx), max_size=len(tx)))
    w = wave(
        tx=tx,
        rx=rx,
        half_cycles=half,
        gap_sclk_cycles=gap,
        core_clock_hz=hz,
        cpol=mode >> 1,
        cpha=mode & 1,
        sclk=("SCLK", "SCLK2"),
        mosi=("MOSI", "MOSI2"),
        mosi_before=mosi_before,
    )
    ids = {"SCLK": "!", "SCLK2": '"', "MOSI": "#", "MOSI2": "$", "MISO": "%"}
    idle = bool(mode >> 1)
    start = {"SCLK": idle, "SCLK2": idle, "MOSI": mosi_before, "MOSI2": mosi_before}
    start["MISO"] = miso_level
    last = dict(start)
    rendered = w.render(ids, last, 999, 0)
    if half * 1_000_000_000 < hz:  # instants closer than 1 ns: the recorder's loop does it
        assert rendered is None
        return
    assert rendered is not None
    text, t_prev = rendered
    # the reference: VcdRecorder._write's rules applied to the sorted edges
    ref_last, out, prev = dict(start), [], 999
    for e in sorted(w.edges(), key=lambda e: e.time_ns):
        if ref_last[e.net] == e.level:
            continue
        ref_last[e.net] = e.level
        if e.time_ns > prev:
            out.append(f"#{e.time_ns}\n")
            prev = e.time_ns
        out.append(f"{int(e.level)}{ids[e.net]}\n")
    assert text == "".join(out)
    assert t_prev == prev
    assert last == ref_last
    assert w.edge_count(ids) == len(w.edges())


def test_a_wave_stays_compact_until_written(tmp_path: Path) -> None:
    """A 4 KiB transfer recorded: one wave held (4096 bytes), not ~100 k edge tuples."""
    board = Board.from_profile("mirkopc")
    block = board.soc.blocks["spi0"]
    assert isinstance(block, Spi0Block)
    with board.record_vcd(tmp_path / "spi.vcd", SPI_NETS[:4]) as recorder:
        block.transfer(b"\x03\x00\x10\x00" + bytes(4092), cs=0, mode=0, speed_hz=10_000_000)
        assert len(recorder._waves) == 1
        assert recorder.held_changes < 4200
    assert recorder.written_changes > 60_000
