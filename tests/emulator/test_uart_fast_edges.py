"""The UART VCD tap's edges in one pass (issue 13 item 3) against the candidate-by-candidate walk.

`LineTimeline.edges` composes a line's level from its DC history, the bursts published on
it and noise; the VCD tap (buses/uart_vcd.py) asks it for the changes since its last
flush, at each character's stop bit. The common window (whole, separate bursts on an
idle line, back to back or apart) is computed cell by cell (`_burst_edges`); anything else
(DC changes, glitches, overlapping bursts) keeps the walk (`_walk_edges`). Both must give the same
edges, as `Edge` values with rounded nanoseconds, and the same level after.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.buses.uart_line import Burst, Glitch, LineSettings, LineTimeline

FORMATS = st.builds(
    LineSettings,
    st.sampled_from((115_200.0, 9_600.0, 1_000_000.0, 123_456.7)),
    st.sampled_from((5, 7, 8)),
    st.sampled_from(("none", "even", "odd", "mark", "space")),
    st.sampled_from((1, 2)),
)


@st.composite
def timelines(draw: st.DrawFn) -> tuple[LineTimeline, list[float]]:
    line = LineTimeline(initial=True)
    t = draw(st.floats(0, 50_000))
    cuts: list[float] = [t]
    for _ in range(draw(st.integers(1, 4))):
        fmt = draw(FORMATS)
        chars = draw(st.binary(min_size=1, max_size=5))
        slack = draw(st.sampled_from((0.0, 0.0, 1e-7, 3_000.0)))
        b = Burst(t, fmt, chars, pitch_ns=fmt.frame_ns + slack)
        if draw(st.integers(0, 5)) == 0:  # truncated after a character
            b.count = draw(st.integers(1, b.count))
        line.add_burst(b)
        stop = (fmt.frame_bits - fmt.stop_bits) * b.bit_ns
        cuts += [b.char_start(i) + stop for i in range(b.count)]  # the tap's flush instants
        cuts.append(b.end_ns)
        # back to back (the next write after a drain), a fraction of a ns apart, or idle;
        # now and then overlapping (another sender on the node)
        t = b.end_ns + draw(st.sampled_from((0.0, 0.5, 2.0, 10_000.0, -1e-7, -3.0, -5_000.0)))
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.floats(0, t))
        line.add_glitches([Glitch(at, at + draw(st.floats(1, 20_000)))])
    if draw(st.integers(0, 4)) == 0:
        line.record_dc(draw(st.floats(0, t)), False)
    cuts += draw(st.lists(st.floats(0, t + 1_000), max_size=4))
    return line, sorted(set(cuts))


@settings(max_examples=300, deadline=None)
@given(data=timelines(), start_level=st.booleans())
def test_one_pass_equals_the_walk(
    data: tuple[LineTimeline, list[float]], start_level: bool
) -> None:
    line, cuts = data
    fast_level = walk_level = start_level
    taken = 0
    for t0, t1 in itertools.pairwise(cuts):
        fast = line._burst_edges("TX", t0, t1, fast_level)
        walked, walk_level = line._walk_edges("TX", t0, t1, walk_level)
        if fast is not None:
            taken += 1
            edges, fast_level = fast
            assert edges == walked, (t0, t1)
            assert fast_level == walk_level
        else:
            fast_level = walk_level
        assert (
            line.edges("TX", t0, t1, walk_level)[0] == line._walk_edges("TX", t0, t1, walk_level)[0]
        )
    assert taken or len(cuts) < 2 or line.glitches or line.dc_times or len(line.bursts) > 1


def test_the_common_window_takes_the_one_pass() -> None:
    """Bytes written one at a time at 115200 8N1, flushed at each stop bit: one pass each."""
    line = LineTimeline(initial=True)
    fmt = LineSettings(115_200)
    t, cuts = 1_000.0, [1_000.0]
    for ch in b"Hello":
        b = Burst(t, fmt, bytes([ch]))
        line.add_burst(b)
        cuts.append(b.char_start(0) + 9 * b.bit_ns)
        t = b.end_ns + 5_000
    level = True
    for t0, t1 in itertools.pairwise(cuts):
        fast = line._burst_edges("TX", t0, t1, level)
        assert fast is not None
        walked, level = line._walk_edges("TX", t0, t1, level)
        assert fast == (walked, level)
        assert walked  # every window holds a character's edges
