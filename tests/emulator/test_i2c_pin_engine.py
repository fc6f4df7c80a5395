"""The BSC's pin-level engine (DESIGN "Two levels of detail, one truth": pin level is really pin
level): every edge is made on the real nets at its own instant, seen by every watcher and by
any process that looks at the pins, whether the master moves the clock straight to its next
edge when nothing else is due (the quiet skip) or schedules a SimPy timer for each edge."""

from __future__ import annotations

import itertools
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pihil_emulator.buses import i2c_lines
from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.errors import BusError
from pihil_emulator.world.edges import EdgeQueue
from pihil_emulator.world.scheduler import Scheduler

try:  # tests/ as packages, or as plain directories (rootdir on sys.path)
    from .i2c_rig import PointerTarget, make_rig
    from .test_i2c_levels import Scenario, scenarios
except ImportError:  # pragma: no cover
    from i2c_rig import PointerTarget, make_rig  # type: ignore[no-redef]
    from test_i2c_levels import Scenario, scenarios  # type: ignore[no-redef]


def observe(s: Scenario, quiet_skip: bool, poll_ns: int) -> tuple[Any, ...]:
    """Run ``s`` at pin level with an edge queue on both lines and a process that samples the
    pins every ``poll_ns`` while the transfer runs (0: no such process); return everything
    anyone could see."""
    r = make_rig(s.variant, i2c_stretch_bug=s.bug, i2c_clkt_functional=True)
    t = r.attach(PointerTarget(0x48))
    assert isinstance(t, PointerTarget)
    t.stretches = list(s.stretches)
    if s.second_device:
        r.attach(PointerTarget(0x50, fill=0x80))
    r.bsc.level = "pin"
    r.bsc.set_bus_speed(s.speed_hz)
    r.bsc.write("CLKT", s.clkt)
    edges = EdgeQueue(r.world, [r.sda, r.scl])
    samples: list[tuple[int, bool, bool, int]] = []
    gpio = r.soc.gpio

    finished = False

    def poll() -> Generator[Any, Any, None]:
        while not finished:
            samples.append((r.world.now_ns, r.sda.level, r.scl.level, gpio.read("GPLEV0")))
            yield r.world.timeout(poll_ns)

    if poll_ns:
        r.world.process(poll())
    i2c_lines._QUIET_SKIP = quiet_skip
    try:
        result: object = r.bsc.transfer(list(s.msgs))
    except BusError as e:
        result = (e.kind, e.address, e.phase, e.transferred)
    finally:
        i2c_lines._QUIET_SKIP = True
        finished = True
    r.world.run_for(1_000_000)
    return result, r.world.now_ns, edges.drain(), samples, t.log, r.bsc.read("S")


@pytest.fixture(autouse=True)
def _restore_quiet_skip() -> Generator[None, None, None]:
    yield
    i2c_lines._QUIET_SKIP = True


@given(scenarios(), st.sampled_from([0, 3_337, 20_011]))
def test_quiet_skip_is_the_same_run_as_a_timer_per_edge(s: Scenario, poll_ns: int) -> None:
    """Same results, same edges at the same times in the same order, same pin samples taken
    by another process (which bounds the skips), same device calls."""
    assert observe(s, True, poll_ns) == observe(s, False, poll_ns)


def test_every_edge_reaches_the_watchers_at_its_own_time() -> None:
    """A write of one byte then a read of two at 100 kHz: SCL makes 18 edges a byte plus START,
    Sr and STOP, falls one period apart on a clean bus (soc-facts §8.2), and GPLEV read by
    another process sees the line move."""
    s = Scenario(
        "BCM2835",
        True,
        100_000,
        0,
        (I2cMessage(0x48, False, b"\x10"), I2cMessage(0x48, True, 2)),
        (),
        False,
    )
    result, _, edges, samples, _, _ = observe(s, True, 2_500)
    assert result == [bytes([0x10, 0x11])]
    scl = [e for e in edges if e.net == "GPIO3"]
    # START (fall); 5 bytes (address, 0x10, address, two reads) x 9 clocks (rise, fall);
    # Sr (rise, fall); STOP (rise)
    assert len(scl) == 1 + 5 * 18 + 2 + 1
    falls = [e.time_ns for e in scl if not e.level]
    periods = {b - a for a, b in itertools.pairwise(falls[1:10])}  # the address byte
    assert periods == {10_000}  # 250 MHz / CDIV 2500
    # the sampling process saw SCL low and high while the transfer ran (GPLEV bit 3)
    during = [lev >> 3 & 1 for t, _, _, lev in samples if falls[0] < t < falls[-1]]
    assert 0 in during
    assert 1 in during


@pytest.mark.parametrize(("quiet_skip", "at_most"), [(True, 20), (False, None)])
def test_the_quiet_skip_schedules_no_timer_per_edge(
    monkeypatch: pytest.MonkeyPatch, quiet_skip: bool, at_most: int | None
) -> None:
    """With nothing else due, a 16-byte read (308 SCL edges) schedules a handful of SimPy events
    with the skip (the driver's and the controller's wake-ups) and one or more per edge without,
    so the comparison above really compares two ways of running."""
    scheduled = 0
    original = Scheduler.schedule

    def counting(self: Scheduler, *args: Any, **kwargs: Any) -> None:
        nonlocal scheduled
        scheduled += 1
        original(self, *args, **kwargs)

    s = Scenario("BCM2711", False, 100_000, 0, (I2cMessage(0x48, True, 16),), (), False)
    monkeypatch.setattr(Scheduler, "schedule", counting)
    result, _, edges, _, _, _ = observe(s, quiet_skip, 0)
    assert result == [bytes(range(16))]
    scl_edges = sum(e.net == "GPIO3" for e in edges)
    assert scl_edges == 1 + 17 * 18 + 1
    if at_most is not None:
        assert scheduled <= at_most, scheduled
    else:
        assert scheduled >= scl_edges, scheduled
