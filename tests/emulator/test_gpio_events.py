"""GPIO event detect: synchronous and asynchronous edges, level detect, event queues (soc-facts §3.5)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.soc.gpio import GpioBlock
from pihil_emulator.soc.soc import Soc
from pihil_emulator.soc.variants import BCM2711, BCM2835, SocVariant
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive

LINE = 17  # reset pull-down on both chips
BIT = 1 << LINE
WINDOW = 8  # two periods of the 250 MHz system clock


def make_gpio(variant: SocVariant = BCM2835) -> GpioBlock:
    world = World(seed=0)
    return Soc(world, Circuit(world), variant).gpio


@pytest.fixture(params=[BCM2835, BCM2711], ids=["BCM2835", "BCM2711"])
def gpio(request: pytest.FixtureRequest) -> GpioBlock:
    return make_gpio(request.param)


def drive(gpio: GpioBlock, level: bool) -> None:
    gpio.net(LINE).drive("signal generator", Drive.push_pull(level))


def pulse(gpio: GpioBlock, level: bool, width_ns: int, settle_ns: int = 100) -> None:
    """Drive ``level`` for ``width_ns`` then go back, and let the sampler settle."""
    drive(gpio, level)
    if width_ns:
        gpio.world.run_for(width_ns)
    drive(gpio, not level)
    gpio.world.run_for(settle_ns)


def eds(gpio: GpioBlock) -> bool:
    return bool(gpio.read("GPEDS0") & BIT)


def test_sync_window_is_two_system_clocks() -> None:
    """soc-facts §3.5 [I]: the new level must be held for 2 system-clock samples, about 8 ns at 250 MHz."""
    assert make_gpio().sync_window_ns == 8
    fast = BCM2835.with_overrides(core_clock_hz=400_000_000)
    assert make_gpio(fast).sync_window_ns == 5


def test_rising_edge_held_for_the_window_sets_eds(gpio: GpioBlock) -> None:
    """soc-facts §3.5: GPREN looks for "011" on the sampled signal: a held rising edge is detected."""
    drive(gpio, False)
    gpio.write("GPREN0", BIT)
    drive(gpio, True)
    gpio.world.run_for(WINDOW - 1)
    assert not eds(gpio)  # not yet sampled twice
    gpio.world.run_for(1)
    assert eds(gpio)


def test_glitch_shorter_than_window_is_ignored_by_ren_and_fen(gpio: GpioBlock) -> None:
    """soc-facts §3.5 / §8 oracle 5: a pulse shorter than 2 system clocks never sets EDS through
    REN/FEN (neither its rising nor its falling edge) — it is suppressed as a glitch."""
    drive(gpio, False)
    gpio.write("GPREN0", BIT)
    gpio.write("GPFEN0", BIT)
    pulse(gpio, True, WINDOW - 1)
    assert not eds(gpio)
    pulse(gpio, True, 1)
    pulse(gpio, True, 0)  # two changes in one instant
    assert not eds(gpio)
    pulse(gpio, True, WINDOW)
    assert eds(gpio)


def test_low_glitch_is_ignored_by_fen(gpio: GpioBlock) -> None:
    """soc-facts §3.5: GPFEN looks for "100": a short low glitch on a high line is filtered."""
    drive(gpio, True)
    gpio.world.run_for(100)
    gpio.write("GPFEN0", BIT)
    pulse(gpio, False, WINDOW - 1)
    assert not eds(gpio)
    pulse(gpio, False, WINDOW + 3)
    assert eds(gpio)


@pytest.mark.parametrize(("reg", "level"), [("GPAREN0", True), ("GPAFEN0", False)])
def test_async_detection_catches_a_glitch(gpio: GpioBlock, reg: str, level: bool) -> None:
    """soc-facts §3.5: "Asynchronous means the incoming signal is not sampled by the system clock.
    As such rising edges of very short duration can be detected"."""
    drive(gpio, not level)
    gpio.world.run_for(100)
    gpio.write(reg, BIT)
    pulse(gpio, level, 1)
    assert eds(gpio)
    gpio.write("GPEDS0", BIT)
    assert not eds(gpio)
    pulse(gpio, level, 0)  # even a zero-width pulse
    assert eds(gpio)


def test_async_does_not_fire_on_the_other_edge(gpio: GpioBlock) -> None:
    """soc-facts §3.5: AREN is for rising edges only."""
    drive(gpio, True)
    gpio.write("GPAREN0", BIT)
    drive(gpio, False)
    gpio.world.run_for(50)
    assert not eds(gpio)


def test_eds_is_write_one_to_clear(gpio: GpioBlock) -> None:
    """soc-facts §3.5: "The bit is cleared by writing a "1" to the relevant bit"; 0 has no effect."""
    gpio.write("GPAREN0", BIT | (1 << 27))
    drive(gpio, False)
    drive(gpio, True)
    gpio.net(27).drive("gen", Drive.push_pull(True))
    assert gpio.read("GPEDS0") == BIT | (1 << 27)
    gpio.write("GPEDS0", 0)
    assert gpio.read("GPEDS0") == BIT | (1 << 27)
    gpio.write("GPEDS0", 1 << 27)
    assert gpio.read("GPEDS0") == BIT


def test_high_level_detect_stays_set_while_the_level_persists(gpio: GpioBlock) -> None:
    """soc-facts §3.5 GPHEN: "If the pin is still high when an attempt is made to clear the status
    bit in GPEDSn then the status bit will remain set." / §8 oracle 5."""
    drive(gpio, False)
    gpio.write("GPHEN0", BIT)
    assert not eds(gpio)
    drive(gpio, True)
    assert eds(gpio)
    gpio.write("GPEDS0", BIT)
    assert eds(gpio)  # still high: stays set
    drive(gpio, False)
    assert eds(gpio)  # status is sticky until cleared
    gpio.write("GPEDS0", BIT)
    assert not eds(gpio)


def test_low_level_detect_stays_set_while_low(gpio: GpioBlock) -> None:
    """soc-facts §3.5 GPLEN: the low-level mirror of GPHEN; enabling it while low sets EDS at once."""
    drive(gpio, False)
    gpio.write("GPLEN0", BIT)
    assert eds(gpio)
    gpio.write("GPEDS0", BIT)
    assert eds(gpio)
    drive(gpio, True)
    gpio.write("GPEDS0", BIT)
    assert not eds(gpio)


def test_detect_works_on_bank_1(gpio: GpioBlock) -> None:
    """soc-facts §3.2: GPEDS1/GPAREN1 cover lines 32 and up."""
    net = gpio.net(40)
    net.drive("gen", Drive.push_pull(False))
    gpio.write("GPAREN1", 1 << 8)
    net.drive("gen", Drive.push_pull(True))
    assert gpio.read("GPEDS1") == 1 << 8
    assert gpio.read("GPEDS0") == 0


def test_events_queue_gets_one_edge_per_hit_with_its_time(gpio: GpioBlock) -> None:
    """DESIGN "edge delivery": every detected edge is queued (the kernel's edge-event buffer)."""
    events = gpio.events(LINE)
    drive(gpio, False)
    gpio.write("GPREN0", BIT)
    gpio.write("GPFEN0", BIT)
    gpio.world.run_for(1000)
    drive(gpio, True)  # t=1000, seen at 1008
    gpio.world.run_for(500)
    pulse(gpio, False, 3, settle_ns=97)  # glitch at 1500: filtered
    drive(gpio, False)  # t=1600
    gpio.world.run_for(100)
    got = events.drain()
    assert [(e.time_ns, e.level) for e in got] == [(1008, True), (1608, False)]
    assert all(e.net == "GPIO17" for e in got)
    events.close()
    pulse(gpio, True, 50)
    assert len(events) == 0  # a closed queue gets nothing more


def test_async_and_sync_on_the_same_edge_give_one_event(gpio: GpioBlock) -> None:
    """The edge-event buffer reports a physical edge once even when AREN and REN both detect it."""
    events = gpio.events(LINE)
    drive(gpio, False)
    gpio.write("GPREN0", BIT)
    gpio.write("GPAREN0", BIT)
    drive(gpio, True)
    gpio.world.run_for(100)
    got = events.drain()
    assert [(e.time_ns, e.level) for e in got] == [(0, True)]


def test_waiting_for_an_edge_advances_simulated_time_only(gpio: GpioBlock) -> None:
    """DESIGN "Time": a wait with a timeout is measured in simulated time."""
    events = gpio.events(LINE)
    gpio.write("GPAREN0", BIT)
    gpio.world.call_at(5_000, lambda: drive(gpio, True))
    got = events.wait(timeout_ns=1_000_000)
    assert [e.time_ns for e in got] == [5_000]
    assert gpio.world.now_ns == 5_000
    assert events.wait(timeout_ns=2_000) == []
    assert gpio.world.now_ns == 7_000


def reference_sync_edges(gaps: list[int], window: int) -> list[tuple[int, bool]]:
    """Independent reference: the sampled level changes when the raw level has been stable for
    ``window``; an edge is reported at that moment (segments of a pulse train starting low)."""
    times = []
    t = 100
    for g in gaps:
        times.append(t)
        t += g
    filtered = False
    out: list[tuple[int, bool]] = []
    for i, start in enumerate(times):
        level = i % 2 == 0  # the first transition goes high
        end = times[i + 1] if i + 1 < len(times) else None
        if (end is None or end - start >= window) and level != filtered:
            filtered = level
            out.append((start + window, level))
    return out


@settings(max_examples=40)
@given(gaps=st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=30))
def test_sync_detection_matches_a_reference_filter(gaps: list[int]) -> None:
    """soc-facts §3.5: for any pulse train, REN|FEN report exactly the edges of the signal as the
    synchronous sampler sees it (held >= 2 system clocks), at the time it sees them."""
    gpio = make_gpio()
    events = gpio.events(LINE)
    drive(gpio, False)
    gpio.write("GPREN0", BIT)
    gpio.write("GPFEN0", BIT)
    gpio.world.run_for(100)
    level = False
    for g in gaps:
        level = not level
        drive(gpio, level)
        if g:
            gpio.world.run_for(g)
    gpio.world.run_for(100)
    got = [(e.time_ns, e.level) for e in events.drain()]
    assert got == reference_sync_edges(gaps, WINDOW)


def test_a_waiting_reader_wakes_when_the_sampler_accepts_the_edge(gpio: GpioBlock) -> None:
    """soc-facts §3.5: a synchronous edge is seen two system clocks after it happens; a reader
    waiting on the event buffer wakes then, in simulated time (armed before the edge)."""
    events = gpio.events(LINE)
    drive(gpio, False)
    gpio.write("GPREN0", BIT)
    gpio.world.call_at(5_000, lambda: drive(gpio, True))
    got = events.wait(timeout_ns=1_000_000)
    assert [(e.time_ns, e.level) for e in got] == [(5_000 + WINDOW, True)]
    assert gpio.world.now_ns == 5_000 + WINDOW


def test_a_reader_arriving_inside_the_window_wakes_at_its_end(gpio: GpioBlock) -> None:
    """The same when the wait starts after the edge but before the sampler has seen it twice."""
    events = gpio.events(LINE)
    drive(gpio, False)
    gpio.write("GPFEN0", BIT)
    gpio.world.run_for(100)
    drive(gpio, True)
    gpio.world.run_for(100)
    drive(gpio, False)  # t=200
    gpio.world.run_for(3)
    got = events.wait(timeout_ns=1_000)
    assert [(e.time_ns, e.level) for e in got] == [(200 + WINDOW, False)]
    assert gpio.world.now_ns == 200 + WINDOW


def test_eds_cleared_after_the_window_stays_clear(gpio: GpioBlock) -> None:
    """soc-facts §3.5: W1C clears an edge the sampler has accepted; it is not set again later."""
    drive(gpio, False)
    gpio.write("GPREN0", BIT)
    drive(gpio, True)
    gpio.world.run_for(50)
    gpio.write("GPEDS0", BIT)  # the edge was accepted at 8 ns, before this clear
    gpio.world.run_for(50)
    assert not eds(gpio)
