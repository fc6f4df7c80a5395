"""The BSC's closed-form `transfer` (issue 13 item 1, `pihil_emulator.soc.bsc_fast`) against the
register-by-register reference path (the Linux i2c-bcm2835 driver, its ISR and the controller
process, `pihil_emulator.soc.bsc`).

Two boards from the same profile and seed run the same random I2C traffic, one with
``BscBlock.fast_path`` (the default), one without: the MirkoPC (BCM2711: its RTC, LM75B,
amplifier and fan controller on i2c1) and the Model B rev 2 (BCM2835, with the clock-stretch bug,
soc-facts §1.2/§8.3), each with two recording register targets on i2c1, one of them stretching
SCL at a random phase now and then. The traffic: random message lists (writes, reads,
write+read, three messages, empty messages, reads that are not last -> EOPNOTSUPP), absent
addresses (NACK -> EREMOTEIO, soc-facts §1.3), written bytes NACKed, long reads and writes (FIFO
refills, soc-facts §2), both bus speeds, CLKT set (EIO on the BCM2711, where it works, §1.3),
waits, device registers changed by a process during a transfer, and faults scheduled in the
future (`NackAddress`, `FlipBit`, `DroppedDevice`) so that the fast path has to give way. Both
must give the same results or errors, registers, controller state, device state (every call a
target received, with its bus time), pending events and simulated time to the nanosecond, after
every step.
"""

from __future__ import annotations

from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from simpy.events import Condition

from pihil_emulator.board import Board
from pihil_emulator.buses.i2c_faults import FlipBit, NackAddress
from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.buses.i2c_target import Stretch, StretchPhase
from pihil_emulator.errors import BusError
from pihil_emulator.faults import DroppedDevice
from pihil_emulator.soc.bsc import BscBlock

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .i2c_rig import PointerTarget
except ImportError:  # pragma: no cover
    from i2c_rig import PointerTarget  # type: ignore[no-redef]

PROFILES = ("mirkopc", "rpi-b-rev2")
PLAIN, STRETCHER = 0x40, 0x41
ADDRESSES = (
    PLAIN,
    PLAIN,
    STRETCHER,
    STRETCHER,
    0x68,
    0x48,
    0x33,
)  # 0x33: nobody; 0x68/0x48 on MirkoPC


def bsc1(board: Board) -> BscBlock:
    block = board.soc.blocks["bsc1"]
    assert isinstance(block, BscBlock)
    return block


_TARGETS: dict[int, tuple[PointerTarget, PointerTarget]] = {}


def build(profile: str, seed: int, fast: bool) -> Board:
    board = Board.from_profile(profile, seed=seed)
    plain = PointerTarget(PLAIN, "plain", fill=0x10)
    stretcher = PointerTarget(STRETCHER, "stretcher", fill=0x80)
    board.attach(plain, bus="i2c1")
    board.attach(stretcher, bus="i2c1")
    _TARGETS[id(board)] = (plain, stretcher)
    bsc1(board).fast_path = fast
    return board


def targets(board: Board) -> tuple[PointerTarget, PointerTarget]:
    return _TARGETS[id(board)]


def _write(draw: st.DrawFn, address: int) -> I2cMessage:
    size = draw(st.sampled_from((1, 1, 1, 2, 3, 16, 11, 12, 15, 0, 20)))
    return I2cMessage(address, False, draw(st.binary(min_size=size, max_size=size)))


def _read(draw: st.DrawFn, address: int) -> I2cMessage:
    return I2cMessage(address, True, draw(st.sampled_from((1, 1, 2, 4, 16, 12, 11, 17, 40, 0))))


@st.composite
def messages(draw: st.DrawFn) -> list[I2cMessage]:
    """Mostly what drivers send (a write, a read, a register read), now and then any list."""
    address = draw(st.sampled_from(ADDRESSES))
    shape = draw(st.sampled_from(("w", "w", "r", "wr", "wr", "wr", "any")))
    if shape == "w":
        return [_write(draw, address)]
    if shape == "r":
        return [_read(draw, address)]
    if shape == "wr":
        other = draw(st.sampled_from((address, address, address, *ADDRESSES)))
        return [_write(draw, address), _read(draw, other)]
    out = []
    count = draw(st.integers(1, 3))
    for i in range(count):
        address = draw(st.sampled_from(ADDRESSES))
        read = draw(st.booleans()) if i == count - 1 else draw(st.integers(0, 9)) == 0
        out.append(_read(draw, address) if read else _write(draw, address))
    return out


DELAYS = st.one_of(st.integers(0, 400_000), st.integers(400_000, 20_000_000))
"""When a scheduled change happens: often during the next transfer, else some transfers on."""

STRETCH_OP = st.tuples(
    st.just("stretch"),
    st.sampled_from(list(StretchPhase)),
    st.sampled_from((0, 1_300, 2_600, 5_000, 40_000)),
    st.sampled_from((None, 0, 1, 2)),
)
OPS = st.one_of(
    st.tuples(st.just("xfer"), messages()),
    st.tuples(st.just("xfer"), messages()),
    st.tuples(st.just("xfer"), messages()),
    st.tuples(st.just("xfer"), messages()),
    st.tuples(st.just("xfer"), messages()),
    st.tuples(st.just("speed"), st.sampled_from((100_000, 400_000))),
    st.tuples(st.just("wait"), st.sampled_from((0, 1, 2_500, 40_000, 400_000, 5_000_000))),
    STRETCH_OP,
    STRETCH_OP,
    st.tuples(st.just("unstretch")),
    st.tuples(st.just("clkt"), st.sampled_from((0, 0, 2, 40))),
    st.tuples(st.just("nack_data"), st.sampled_from((None, None, 0, 1, 3))),
    st.tuples(st.just("nack_data"), st.sampled_from((None, 0, 1, 3))),  # (twice: often set)
    st.tuples(st.just("poke"), DELAYS, st.integers(0, 255), st.integers(0, 255)),
    st.tuples(
        st.just("fault"),
        st.sampled_from(("nack", "flip_write", "flip_read", "dropped")),
        st.sampled_from((PLAIN, STRETCHER)),
        DELAYS,
        st.sampled_from((1_000, 300_000, None)),
    ),
)


def run(board: Board, ops: list[tuple[Any, ...]]) -> list[object]:
    """Apply ``ops``; the transcript: each op's result (or error) and the time after it."""
    block = bsc1(board)
    plain, stretcher = targets(board)
    by_address = {PLAIN: plain, STRETCHER: stretcher}
    out: list[object] = []
    for op in ops:
        try:
            kind = op[0]
            if kind == "xfer":
                out.append(block.transfer(op[1]))
            elif kind == "speed":
                block.set_bus_speed(op[1])
            elif kind == "wait":
                board.run_for(op[1])
            elif kind == "stretch":
                _, phase, duration, index = op
                stretcher.stretches = [Stretch(phase, duration, byte_index=index)]
            elif kind == "unstretch":
                stretcher.stretches = []
            elif kind == "clkt":
                block.write("CLKT", op[1])
            elif kind == "nack_data":
                plain.nack_data_after = op[1]
            elif kind == "poke":
                _, delay, where, value = op

                def poke(where: int = where, value: int = value) -> None:
                    plain.mem[where] = value

                board.world.call_at(board.now_ns + delay, poke)
                board.run_for(1)  # the process waits for its time: the poke is the next event
            else:
                _, what, address, delay, duration = op
                device = by_address[address]
                at = board.now_ns + delay
                fault: Any
                if what == "nack":
                    fault = NackAddress(device=device, at_ns=at, duration_ns=duration)
                elif what == "dropped":
                    fault = DroppedDevice(device=device, at_ns=at, duration_ns=duration)
                else:
                    direction = what.removeprefix("flip_")
                    fault = FlipBit(
                        device=device, byte_index=1, bit=3, direction=direction, at_ns=at
                    )
                board.inject(fault)
                board.run_for(1)
        except Exception as exc:  # the same failure both ways is part of the transcript
            out.append((type(exc).__name__, str(exc), getattr(exc, "__dict__", {})))
        out.append(board.now_ns)
    return out


def _live(event: simpy.Event) -> bool:
    """An event that still does something when it fires (not the adapter-timeout guard of a
    finished ``run_until``, whose only callback is its triggered AnyOf's check)."""
    for cb in event.callbacks or ():
        owner = getattr(cb, "__self__", None)
        if not (isinstance(owner, Condition) and owner.triggered):
            return True
    return False


def device_state(device: object) -> object:
    if isinstance(device, PointerTarget):
        return (list(device.log), bytes(device.mem), device.pointer, device.present)
    values = getattr(device, "_values", None)
    return (
        type(device).__name__,
        dict(values) if isinstance(values, dict) else None,
        getattr(device, "pointer", None),
        getattr(device, "present", None),
    )


def state(board: Board) -> dict[str, object]:
    block = bsc1(board)
    return {
        "now": board.now_ns,
        "registers": dict(block._values),
        "S": block.read("S"),
        "DLEN": block.read("DLEN"),
        "controller": (
            block._ta,
            block._done,
            block._err,
            block._clkt,
            block._abort,
            block._pending_st,
            list(block._fifo),
            block._dlen_written,
            block._xfer,
            block._bus_free_at,
            block._transferred,
            block.last_error,
            block.last_level,
            len(block._timeline),
        ),
        "devices": [device_state(d) for d in (*board.devices.values(), *targets(board))],
        "attached": [a.device.name for a in board.attachments.on_bus("i2c1")],  # type: ignore[attr-defined]
        "queue": sorted((t, p) for t, p, _, e in board.world.env.pending if _live(e)),
    }


@settings(max_examples=120, deadline=None)
@given(
    profile=st.sampled_from(PROFILES),
    seed=st.integers(0, 3),
    ops=st.lists(OPS, min_size=1, max_size=14),
)
def test_fast_path_equals_the_register_path(
    profile: str, seed: int, ops: list[tuple[Any, ...]]
) -> None:
    """Issue 13 items 1-2: identical transcripts and state after every step, fast and reference."""
    fast, slow = build(profile, seed, True), build(profile, seed, False)
    for i in range(len(ops)):
        step = ops[i : i + 1]
        assert run(fast, step) == run(slow, step), (i, step)
        assert state(fast) == state(slow), (i, step)
    assert bsc1(slow).fast_path_count == 0


STRETCHES = st.lists(
    st.builds(
        Stretch,
        st.sampled_from(list(StretchPhase)),
        st.sampled_from((0, 900, 4_960, 5_500, 9_960, 12_000, 40_000, 130_000)),
        st.sampled_from((None, 0, 1, 2)),
        st.integers(1, 7),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=60, deadline=None)
@given(
    profile=st.sampled_from(PROFILES),
    stretches=STRETCHES,
    clkt=st.sampled_from((None, 0, 1, 3, 40)),
    speed=st.sampled_from((100_000, 400_000)),
    transfers=st.lists(messages(), min_size=1, max_size=4),
)
def test_stretching_targets_fast_and_reference_agree(
    profile: str,
    stretches: list[Stretch],
    clkt: int | None,
    speed: int,
    transfers: list[list[I2cMessage]],
) -> None:
    """soc-facts §1.2/§1.3/§8.3: declared stretches at every phase, the BCM2835 bug (runts,
    late samples, false NACKs) and CLKT timeouts, to the stretching target: the same
    transcript and state both ways (the fast path on the virtual bus, or handing over)."""
    ops: list[tuple[Any, ...]] = [("speed", speed)]
    if clkt is not None:
        ops.append(("clkt", clkt))
    for msgs in transfers:
        msgs = [I2cMessage(STRETCHER, m.read, m.length if m.read else m.data) for m in msgs]
        ops += [("xfer", msgs), ("wait", 200_000)]
    fast, slow = build(profile, 0, True), build(profile, 0, False)
    for board in (fast, slow):
        targets(board)[1].stretches = list(stretches)
    for i in range(len(ops)):
        step = ops[i : i + 1]
        assert run(fast, step) == run(slow, step), (i, step)
        assert state(fast) == state(slow), (i, step)


def test_the_common_transfers_take_the_fast_path() -> None:
    """A register write, a register read and a plain read of a present device each run in
    closed form, with the reference path's bytes, registers and time."""
    fast, slow = build("mirkopc", 0, True), build("mirkopc", 0, False)
    transfers = [
        [I2cMessage(PLAIN, False, b"\x05\xaa\xbb")],
        [I2cMessage(PLAIN, False, b"\x05"), I2cMessage(PLAIN, True, 2)],
        [I2cMessage(PLAIN, True, 40)],
        [I2cMessage(0x68, False, b"\x03"), I2cMessage(0x68, True, 1)],  # the RTC's Seconds
    ]
    for n, msgs in enumerate(transfers, 1):
        assert bsc1(fast).transfer(msgs) == bsc1(slow).transfer(msgs)
        assert bsc1(fast).fast_path_count == n
        assert state(fast) == state(slow)
    assert bsc1(fast).transfer(transfers[1]) == [b"\xaa\xbb"]


def test_an_absent_address_takes_the_fast_path_and_fails_as_the_driver_does() -> None:
    """soc-facts §1.3: no ACK -> EREMOTEIO with the address and phase, at the STOP's time."""
    fast, slow = build("rpi-b-rev2", 0, True), build("rpi-b-rev2", 0, False)
    errors = []
    for board in (fast, slow):
        with pytest.raises(BusError) as err:
            bsc1(board).transfer([I2cMessage(0x33, True, 1)])
        errors.append((err.value.__dict__, str(err.value), board.now_ns))
    assert errors[0] == errors[1]
    assert errors[0][0]["errno_name"] == "EREMOTEIO"
    assert bsc1(fast).fast_path_count == 1


def test_a_vcd_recorder_takes_the_wave_path_not_the_plain_fast_path(tmp_path: Any) -> None:
    """With only a recorder on SDA/SCL the transfer is computed at transaction level and the
    recorder is handed its waveform as data (soc/bsc_wave.py; tests/emulator/
    test_vcd_lazy_i2c.py proves the file equal to the pin level's): not the plain fast path."""
    board = build("mirkopc", 0, True)
    with board.record_vcd(tmp_path / "i2c.vcd", ["GPIO2", "GPIO3"]):
        bsc1(board).transfer([I2cMessage(PLAIN, False, b"\x00"), I2cMessage(PLAIN, True, 1)])
    assert bsc1(board).fast_path_count == 0
    assert bsc1(board).wave_path_count == 1
    assert bsc1(board).last_level == "pin"
    bsc1(board).transfer([I2cMessage(PLAIN, True, 1)])  # recorder closed: fast again
    assert bsc1(board).fast_path_count == 1


def test_a_process_acting_during_the_transfer_turns_the_fast_path_off() -> None:
    """An event due before the STOP may change what the transfer sees (here a process writes
    the device's register while the write+read is on the wire): the reference path runs, and
    the read gives what the device holds when its bytes are clocked."""
    fast, slow = build("mirkopc", 0, True), build("mirkopc", 0, False)
    msgs = [I2cMessage(PLAIN, False, b"\x00"), I2cMessage(PLAIN, True, 4)]
    got = []
    for board in (fast, slow):
        plain = targets(board)[0]

        def poke(plain: PointerTarget = plain) -> None:
            plain.mem[0] = 0xEE

        # the write of the register number ends ~190 us in at 100 kHz; the read is clocked after
        board.world.call_at(board.now_ns + 100_000, poke)
        got.append(bsc1(board).transfer(msgs))
    assert got[0] == got[1] == [b"\xee\x11\x12\x13"]
    assert bsc1(fast).fast_path_count == 0
    assert state(fast) == state(slow)
    assert bsc1(fast).transfer(msgs) == [b"\xee\x11\x12\x13"]  # nothing due: fast again
    assert bsc1(fast).fast_path_count == 1


def test_a_fault_scheduled_during_the_transfer_turns_the_fast_path_off() -> None:
    """A fault due before the STOP is an event inside the transfer: the reference path runs."""
    fast, slow = build("rpi-b-rev2", 0, True), build("rpi-b-rev2", 0, False)
    msgs = [I2cMessage(PLAIN, False, b"\x00"), I2cMessage(PLAIN, True, 4)]
    got = []
    for board in (fast, slow):
        board.inject(NackAddress(device=targets(board)[0], at_ns=board.now_ns + 100_000))
        got.append(bsc1(board).transfer(msgs))
    assert got[0] == got[1]
    assert bsc1(fast).fast_path_count == 0
    assert state(fast) == state(slow)


def _both(
    profile: str, msgs: list[I2cMessage], *stretches: Stretch, clkt: int | None = None
) -> Any:
    """Run ``msgs`` on a fast and a reference board whose stretcher has ``stretches``; the
    outcome (result or error), asserted equal with the state after it; and the fast board."""
    got = []
    boards = build(profile, 0, True), build(profile, 0, False)
    for board in boards:
        targets(board)[1].stretches = list(stretches)
        targets(board)[1].mem[0] = 0x08
        if clkt is not None:
            bsc1(board).set_bus_speed(100_000)  # the driver probes (CLKT 0), then CLKT set
            bsc1(board).write("CLKT", clkt)
        try:
            got.append(bsc1(board).transfer(msgs))
        except BusError as exc:
            got.append(exc.__dict__)
    assert got[0] == got[1]
    assert state(boards[0]) == state(boards[1])
    return got[0], boards[0]


READ_ONE = [I2cMessage(STRETCHER, False, b"\x00"), I2cMessage(STRETCHER, True, 1)]


def test_declared_stretching_runs_on_the_virtual_bus_without_the_steps() -> None:
    """soc-facts §1.2/§8.3 (Advamation): on the BCM2835 a bit put out after a mid-byte stretch
    past the sample point is read wrong, on the BCM2711 right; both boards agree, and the
    declared profile lets the fast path run it (the virtual bus, no SimPy step per byte)."""
    late = Stretch(StretchPhase.MID_BYTE, 9_000, byte_index=1, bit=4)
    got, board = _both("rpi-b-rev2", READ_ONE, late)
    assert got == [b"\x00"]
    assert bsc1(board).fast_path_count == 1
    got, board = _both("mirkopc", READ_ONE, late)
    assert got == [b"\x08"]
    assert bsc1(board).fast_path_count == 1


def test_a_runt_pulse_false_nack_is_the_reference_paths_nack() -> None:
    """soc-facts §1.1/§1.2 (rewolff): a release just before a check point makes a 40 ns SCL
    pulse the slave misses: the master reads a NACK (EREMOTEIO, data byte 1)."""
    runt = Stretch(StretchPhase.WRITE_POST_ACK, 10_000 - 40, byte_index=0)
    got, board = _both("rpi-b-rev2", [I2cMessage(STRETCHER, False, b"\x00")], runt)
    assert (got["kind"], got["errno_name"], got["phase"]) == ("nack", "EREMOTEIO", "data byte 1")
    assert bsc1(board).fast_path_count == 1


def test_a_clkt_timeout_hands_over_to_the_reference_path() -> None:
    """soc-facts §1.3: on the BCM2711, where CLKT works, a stretch past CLKT.TOUT periods ends
    the transfer with S.CLKT (EIO); the fast path leaves that outcome to the reference path,
    with the wire's operations made so far replayed."""
    long = Stretch(StretchPhase.READ_PRE_ACK, 60_000, byte_index=1)
    got, board = _both("mirkopc", READ_ONE, long, clkt=2)
    assert (got["kind"], got["errno_name"]) == ("clkt", "EIO")
    assert bsc1(board).fast_path_count == 0
    assert bsc1(board)._next_wire is None


def test_an_event_inside_the_stretched_transfer_turns_the_fast_path_off() -> None:
    """The window the fast path needs free of events is the transfer as the declared stretches
    can make it, not the unstretched one: a process acting after the unstretched STOP but
    before the read is clocked is seen by the read, both ways."""
    long = Stretch(StretchPhase.WRITE_POST_ACK, 1_000_000, byte_index=0)
    got = []
    for fast in (True, False):
        board = build("mirkopc", 0, fast)
        stretcher = targets(board)[1]
        stretcher.stretches = [long]

        def poke(stretcher: PointerTarget = stretcher) -> None:
            stretcher.mem[0] = 0xEE

        board.world.call_at(board.now_ns + 800_000, poke)  # unstretched, the STOP is at ~400 us
        board.run_for(1)  # the process is waiting: the next event is the poke
        got.append((bsc1(board).transfer(READ_ONE), bsc1(board).fast_path_count, state(board)))
    assert got[0][0] == got[1][0] == [b"\xee"]
    assert got[0][1] == 0
    assert got[0][2] == got[1][2]


def test_a_fault_in_place_turns_the_fast_path_off() -> None:
    """A slave fault in force acts at bit level (`SlaveFaults`): the closed form is not used."""
    board = build("rpi-b-rev2", 0, True)
    _, stretcher = targets(board)
    board.inject(FlipBit(device=stretcher, byte_index=1, direction="read"))
    bsc1(board).transfer([I2cMessage(STRETCHER, True, 3)])
    assert bsc1(board).fast_path_count == 0


@pytest.mark.parametrize("nack_after", [None, 0, 1, 2])
@pytest.mark.parametrize("read", [1, 11, 12, 30])
def test_a_nack_in_the_write_of_a_register_read_hands_over_to_the_reference_path(
    nack_after: int | None, read: int
) -> None:
    """raspberrypi/linux#5429 (no stop-on-error): a NACKed write leaves its bytes in the FIFO
    and the read runs anyway, its RXR interrupt seeing ERR; the closed form gives that case to
    the reference path with the START and the write already made (each target call once)."""
    fast, slow = build("mirkopc", 0, True), build("mirkopc", 0, False)
    address = PLAIN if nack_after is not None else 0x33
    msgs = [I2cMessage(address, False, b"\x00\x01\x02"), I2cMessage(PLAIN, True, read)]
    got = []
    for board in (fast, slow):
        targets(board)[0].nack_data_after = nack_after
        try:
            got.append(bsc1(board).transfer(msgs))
        except Exception as exc:
            got.append((str(exc), exc.__dict__))
        got.append(state(board))
        board.run_for(5_000_000)  # an abort the ISR made finishes on the wire
        got.append(state(board))
    assert got[:3] == got[3:]
    assert "no ACK" in str(got[0])
    assert bsc1(fast).fast_path_count == 0
    assert bsc1(fast)._next_wire is None


def test_a_checked_message_is_the_message_the_constructor_makes() -> None:
    """`I2cMessage.checked` (the driver's hot path, fields already checked by `I2cBus`) gives
    the same message as the checking constructor; a bytearray is copied to bytes."""
    assert I2cMessage.checked(0x50, False, b"\x00\x40", 2) == I2cMessage(0x50, False, b"\x00\x40")
    assert I2cMessage.checked(0x50, True, b"", 16) == I2cMessage(0x50, True, 16)
    kept = bytearray(b"\x01")
    m = I2cMessage.checked(0x50, False, kept, 1)
    kept[0] = 2
    assert m.data == b"\x01"
    assert type(m.data) is bytes
