"""SPI0's closed-form `transfer` (issue 13 item 1) against the register-by-register reference path.

Two MirkoPC boards from the same seed run the same random traffic, one with
``Spi0Block.fast_path`` (the default), one without: the W25Q32 flash on CE0 and the
MCP3008 ADC on CE1 (random commands, page programs, reads, conversions), random modes,
speeds (CDIV 2 .. 65536 by Linux spi-bcm2835's ``bcm2835_spi_transfer_one`` arithmetic),
lengths across the DMA threshold (``BCM2835_SPI_DMA_MIN_LENGTH``), held chip selects
(the spi core's ``cs_change``), SPI_CS_HIGH, SPI_NO_CS, GPFSEL changes (a pin taken off
SPI0 and given back), waits, and faults scheduled in the future
(a `StuckMiso` or `SilentSpiDevice` that starts during a transfer). Both must give the
same bytes, registers, FIFOs, pin levels, device state and simulated time to the
nanosecond, and byte-identical VCDs when recording.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.board import Board
from pihil_emulator.buses.spi_faults import SilentSpiDevice, StuckMiso
from pihil_emulator.devices.mcp3008 import Mcp3008
from pihil_emulator.devices.w25q import W25q
from pihil_emulator.faults import DroppedDevice
from pihil_emulator.soc.spi0 import Spi0Block

SPI_PINS = (7, 8, 9, 10, 11)
FLASH_COMMANDS = (
    b"\x9f\x00\x00\x00",  # JEDEC ID
    b"\x05\x00",  # read status 1
    b"\x06",  # write enable
    b"\x03\x00\x10\x00",  # read at 0x001000 (followed by random dummy bytes)
    b"\x0b\x00\x10\x00\x00",  # fast read
    b"\x02\x00\x10\x00",  # page program at 0x001000 (followed by random data)
    b"\x20\x00\x10\x00",  # sector erase
    b"",
)


def spi0(board: Board) -> Spi0Block:
    block = board.soc.blocks["spi0"]
    assert isinstance(block, Spi0Block)
    return block


@st.composite
def transfers(draw: st.DrawFn) -> tuple[Any, ...]:
    cs = draw(st.sampled_from((0, 1)))
    if cs == 0:
        head = draw(st.sampled_from(FLASH_COMMANDS))
    else:
        head = bytes([0x01, 0x80 | draw(st.integers(0, 7)) << 4, 0x00])
    tail = draw(st.binary(max_size=draw(st.sampled_from((4, 40, 130)))))
    # mostly the modes both parts are specified for (0, 3); now and then 1 and 2
    mode = draw(st.sampled_from((0, 0, 3, 1, 2)))
    speed = draw(
        st.one_of(
            st.sampled_from((125_000_000, 10_000_000, 1_000_000, 3_815)),
            st.integers(3_815, 125_000_000),
        )
    )
    hold = draw(st.booleans()) and draw(st.booleans())
    cs_high = draw(st.integers(0, 9)) == 0
    no_cs = draw(st.integers(0, 9)) == 0  # SPI_NO_CS: CS field 0b11
    return ("xfer", cs, mode, speed, head + tail, hold, cs_high, no_cs)


OPS = st.one_of(
    transfers(),
    transfers(),
    transfers(),
    st.tuples(st.just("wait"), st.integers(0, 200_000)),
    st.tuples(st.just("release")),
    st.tuples(
        st.just("fault"),
        st.sampled_from(("stuck_high", "stuck_low", "silent", "dropped")),
        st.integers(0, 40_000),
        st.integers(1, 60_000),
    ),
    st.tuples(st.just("volts"), st.integers(0, 7), st.floats(0.0, 3.3)),
    # GPFSEL changes under the driver: MISO, MOSI, SCLK or CE1 off SPI0 and back
    st.tuples(st.just("fsel"), st.sampled_from((9, 10, 11, 7)), st.sampled_from(("input", "alt0"))),
)


def run(board: Board, ops: list[tuple[Any, ...]]) -> list[object]:
    """Apply ``ops``; returns what each gave (bytes, or the exception's type and text)."""
    block = spi0(board)
    adc = board.devices["adc"]
    assert isinstance(adc, Mcp3008)
    out: list[object] = []
    for op in ops:
        try:
            if op[0] == "xfer":
                _, cs, mode, speed, data, hold, cs_high, no_cs = op
                out.append(
                    block.transfer(
                        data,
                        cs=cs,
                        mode=mode,
                        speed_hz=speed,
                        hold_cs=hold,
                        cs_high=cs_high,
                        no_cs=no_cs,
                    )
                )
            elif op[0] == "fsel":
                board.soc.gpio.set_function(op[1], op[2])
            elif op[0] == "wait":
                board.run_for(op[1])
            elif op[0] == "release":
                block.release_cs()
            elif op[0] == "volts":
                adc.set_voltage(op[1], op[2])
            else:
                _, kind, delay, duration = op
                at = board.now_ns + delay
                if kind == "silent":
                    fault: Any = SilentSpiDevice(device="flash", at_ns=at, duration_ns=duration)
                elif kind == "dropped":
                    fault = DroppedDevice(device="adc", at_ns=at, duration_ns=duration)
                else:
                    level = kind == "stuck_high"
                    fault = StuckMiso(level=level, at_ns=at, duration_ns=duration)
                board.inject(fault)
        except Exception as exc:  # the same failure both ways is part of the transcript
            out.append((type(exc).__name__, str(exc)))
    return out


def state(board: Board) -> dict[str, object]:
    block = spi0(board)
    flash, adc = board.devices["flash"], board.devices["adc"]
    assert isinstance(flash, W25q)
    assert isinstance(adc, Mcp3008)
    return {
        "now": board.now_ns,
        "registers": dict(block._values),
        "CS read": block.read("CS"),
        "fifos": (block.tx_fifo, block.rx_fifo),
        "engine": (
            block._next_start_ns,
            block._mosi_level,
            block._held_cs,
            block._dlen_left,
            block._generation,
            block._shifting,
            getattr(block, "effective_speed_hz", None),
        ),
        "pins": [board.gpio.level(n) for n in SPI_PINS],
        "flash": (bytes(flash._mem), flash.status, flash.selected, flash._phase),
        "adc": (adc.conversions, adc.selected),
        # pending events that do something (SimPy leaves run_for's stop event behind)
        "queue": sorted((t, p) for t, p, _, e in board.world.env.pending if e.callbacks),
    }


def both(ops: list[tuple[Any, ...]], seed: int) -> tuple[Board, Board, list[object], list[object]]:
    fast, slow = Board.from_profile("mirkopc", seed=seed), Board.from_profile("mirkopc", seed=seed)
    spi0(slow).fast_path = False
    return fast, slow, run(fast, ops), run(slow, ops)


@settings(max_examples=40, deadline=None)
@given(ops=st.lists(OPS, min_size=1, max_size=12), seed=st.integers(0, 3))
def test_fast_path_equals_the_register_path(ops: list[tuple[Any, ...]], seed: int) -> None:
    """Issue 13 item 2: identical transcripts, state and simulated time, fast and reference."""
    fast, slow, got_fast, got_slow = both(ops, seed)
    assert got_fast == got_slow
    assert state(fast) == state(slow)
    assert spi0(slow).fast_transfers == 0


@settings(max_examples=15, deadline=None)
@given(ops=st.lists(transfers(), min_size=1, max_size=6))
def test_fast_path_equal_with_a_vcd(tmp_path_factory: Any, ops: list[tuple[Any, ...]]) -> None:
    """With a recorder on the SPI pins both boards take the reference path and write
    byte-identical files (the fast one is switched on, the recorder turns it off)."""
    tmp: Path = tmp_path_factory.mktemp("spi_vcd")
    fast, slow = Board.from_profile("mirkopc"), Board.from_profile("mirkopc")
    spi0(slow).fast_path = False
    files = []
    for name, board in (("fast", fast), ("slow", slow)):
        with board.record_vcd(tmp / f"{name}.vcd", ["GPIO11", "GPIO10", "GPIO9", "GPIO8"]):
            run(board, ops)
            run(board, [("wait", 1000)])
        files.append((tmp / f"{name}.vcd").read_bytes())
    assert files[0] == files[1]
    assert state(fast) == state(slow)
    assert spi0(fast).fast_transfers == 0


JEDEC = b"\x9f\x00\x00\x00"


def test_fast_path_taken_in_the_common_case() -> None:
    """Nothing watching, no fault: every driver-level transfer is closed form."""
    board = Board.from_profile("mirkopc")
    block = spi0(board)
    before = block.fast_transfers
    assert block.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000)[1:] == b"\xef\x40\x16"
    block.transfer(bytes(200), cs=1, mode=0, speed_hz=10_000_000)  # DMA length
    assert block.fast_transfers == before + 2


def test_fast_path_not_taken_with_a_recorder_or_a_fault(tmp_path: Path) -> None:
    """A recorder on any SPI net, an active SPI fault, a dropped device, a mode change
    (it waits half a period before TA) or fast_path = False: the reference path."""
    board = Board.from_profile("mirkopc")
    block = spi0(board)
    block.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000)
    n = block.fast_transfers
    with board.record_vcd(tmp_path / "ce1.vcd", ["GPIO7"]):
        block.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000)
    assert block.fast_transfers == n
    for fault in (
        StuckMiso(level=True),
        SilentSpiDevice(device="flash"),
        DroppedDevice(device="adc"),
    ):
        board.inject(fault)
        block.transfer(JEDEC, cs=0, mode=0, speed_hz=10_000_000)
        assert block.fast_transfers == n, fault
        board.clear_fault(fault)
    block.transfer(JEDEC, cs=0, mode=3, speed_hz=10_000_000)  # CPOL changes: reference path
    assert block.fast_transfers == n
    block.transfer(JEDEC, cs=0, mode=3, speed_hz=10_000_000)
    assert block.fast_transfers == n + 1
    block.fast_path = False
    block.transfer(JEDEC, cs=0, mode=3, speed_hz=10_000_000)
    assert block.fast_transfers == n + 1


def test_scheduled_fault_during_a_fast_transfer_runs_at_its_time() -> None:
    """A fault due inside a transfer: time runs through the scheduler (not the one-step
    advance), so it starts at its instant and the next transfer sees it, both ways."""
    fast, slow, got_fast, got_slow = both(
        [
            ("fault", "stuck_high", 5_000, 1_000_000),
            ("xfer", 0, 0, 1_000_000, JEDEC + bytes(8), False, False, False),
            ("xfer", 0, 0, 1_000_000, JEDEC, False, False, False),
        ],
        seed=0,
    )
    assert got_fast == got_slow
    assert got_fast[1] == b"\xff" * 4
    assert state(fast) == state(slow)
