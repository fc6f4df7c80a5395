"""Two levels, one truth (DESIGN "Two levels of detail, one truth"): the transaction level (closed
form, or the virtual wire when something stretches) and the pin level (a SimPy process per
edge on the nets) give the same data, ACKs, errors, duration and target calls for random
transfers and stretch profiles, on the buggy and the fixed master (soc-facts §1.2, §8.3)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.buses.i2c_target import Stretch, StretchPhase
from pihil_emulator.errors import BusError

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .i2c_rig import PointerTarget, make_rig
except ImportError:  # pragma: no cover
    from i2c_rig import PointerTarget, make_rig  # type: ignore[no-redef]


@dataclass(frozen=True)
class Scenario:
    variant: str
    bug: bool
    speed_hz: int
    clkt: int
    msgs: tuple[I2cMessage, ...]
    stretches: tuple[Stretch, ...]
    second_device: bool


SPEEDS = {100_000: 5_000, 400_000: 1_252, 10_000: 50_000}  # Hz → T/2 in ns


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    speed = draw(st.sampled_from(sorted(SPEEDS)))
    half = SPEEDS[speed]
    address = draw(st.sampled_from([0x48, 0x48, 0x48, 0x49, 0x50]))
    # a zero-length write only alone (a quick command): before another message it never
    # raises TXW, so Linux times out on it, which both levels agree on but teaches little
    writes = draw(st.lists(st.binary(min_size=1, max_size=4), max_size=2) | st.just([b""]))
    read = None if writes == [b""] else draw(st.none() | st.integers(0, 5))
    msgs = [I2cMessage(address, False, w) for w in writes]
    if read is not None or not msgs:
        msgs.append(I2cMessage(address, True, read or 0))
    stretch = st.builds(
        Stretch,
        phase=st.sampled_from(list(StretchPhase)),
        duration_ns=st.one_of(
            st.integers(0, 3 * half),
            st.integers(3 * half, 12 * half),
            st.sampled_from([half + 1, 2 * half - 10, 2 * half - 60, 2 * half + 1, 3 * half - 30]),
        ),
        byte_index=st.none() | st.integers(0, 3),
        bit=st.integers(1, 7),
    )
    return Scenario(
        variant=draw(st.sampled_from(["BCM2835", "BCM2711"])),
        bug=draw(st.booleans()),
        speed_hz=speed,
        clkt=draw(st.sampled_from([0, 0, 1, 3])),
        msgs=tuple(msgs),
        stretches=tuple(draw(st.lists(stretch, max_size=2))),
        second_device=draw(st.booleans()),
    )


def run(s: Scenario, level: str) -> tuple[object, ...]:
    r = make_rig(s.variant, i2c_stretch_bug=s.bug, i2c_clkt_functional=True)
    t = r.attach(PointerTarget(0x48))
    assert isinstance(t, PointerTarget)
    t.stretches = list(s.stretches)
    other = None
    if s.second_device:
        other = r.attach(PointerTarget(0x50, fill=0x80))
        assert isinstance(other, PointerTarget)
    r.bsc.level = level  # type: ignore[assignment]
    r.bsc.set_bus_speed(s.speed_hz)
    r.bsc.write("CLKT", s.clkt)
    t0 = r.world.now_ns
    try:
        result: object = r.bsc.transfer(list(s.msgs))
    except BusError as e:
        result = (e.kind, e.errno_name, e.address, e.phase, e.transferred)
    took = r.world.now_ns - t0
    r.world.run_for(1_000_000)  # let any stretch still running end, on either level
    assert r.bsc.last_level == level
    return (
        result,
        took,
        t.log,
        bytes(t.mem),
        other.log if other else None,
        r.sda.level,
        r.scl.level,
        r.bsc.read("S"),
    )


@given(scenarios())
def test_transaction_and_pin_level_agree(s: Scenario) -> None:
    """DESIGN "Two levels, one truth": same data, ACKs, errors, duration and device calls."""
    assert run(s, "transaction") == run(s, "pin")


@given(st.integers(1, 40), st.sampled_from(sorted(SPEEDS)))
def test_closed_form_matches_pin_level_on_a_clean_bus(n: int, speed: int) -> None:
    """The closed form (no stretch) gives the §8.2 duration and the same calls as the pin level."""
    s = Scenario(
        "BCM2835",
        True,
        speed,
        0,
        (I2cMessage(0x48, False, bytes([0x10])), I2cMessage(0x48, True, n)),
        (),
        False,
    )
    a, b = run(s, "transaction"), run(s, "pin")
    assert a == b
    assert a[0] == [bytes((0x10 + i) & 0xFF for i in range(n))]
