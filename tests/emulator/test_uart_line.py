"""The UART waveform engine on raw nets: frames as data, receivers sampling at their own bit centres.

The oracle for mismatched settings is an independent, naive decoder that
walks the sender's explicit bit segments, so the closed-form receiver (fast
path and per-character path) is checked against a second implementation.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.buses.uart_line import Burst, Glitch, LineSettings, UartLines, parity_name
from pihil_emulator.buses.uart_rx import BE, FE, PE, ReceiverKind, UartReceiver
from pihil_emulator.buses.uart_tx import UartTransmitter
from pihil_emulator.errors import ConfigurationError
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive

from .uart_rig import received as chars

S115 = LineSettings(115_200)


class Line:
    """A TX net jumpered to an RX net, a transmitter on TX and receivers on RX."""

    def __init__(self, tx_settings: LineSettings = S115) -> None:
        self.world = World()
        self.circuit = Circuit(self.world)
        self.tx_net = self.circuit.add_net("TX")
        self.rx_net = self.circuit.add_net("RX")
        self.tx_net.drive("uart", Drive.push_pull(True))
        self.circuit.connect(self.tx_net, self.rx_net)
        self.hub = UartLines.of(self.circuit)
        self.tx = UartTransmitter(
            self.world,
            tx_settings,
            name="tx",
            hub=self.hub,
            outputs=[self.tx_net],
            drive_level=lambda level: self.tx_net.drive("uart", Drive.push_pull(level)),
        )

    def receiver(self, s: LineSettings, kind: ReceiverKind = "pl011") -> UartReceiver:
        return UartReceiver(
            self.world,
            s,
            name=f"rx{s.describe()}",
            kind=kind,
            inputs=[self.rx_net],
            hub=self.hub,
        )


def reference_decode(
    bursts: list[Burst], rx: LineSettings, *, kind: str = "pl011", flips: tuple[Glitch, ...] = ()
) -> list[tuple[int, int]]:
    """A naive receiver over explicit bit segments: the oracle for the closed-form one."""
    segs: list[tuple[float, float, bool]] = []
    for b in bursts:
        for i in range(b.count):
            t0 = b.char_start(i)
            for k in range(b.settings.frame_bits):
                v = bool((b.settings.frame_word(b.chars[i]) >> k) & 1)
                segs.append((t0 + k * b.bit_ns, t0 + (k + 1) * b.bit_ns, v))

    def level(t: float) -> bool:
        lv = True
        for a, z, v in segs:
            if a <= t < z:
                lv = v
                break
        for g in flips:
            if g.start_ns <= t < g.end_ns:
                lv = not lv
        return lv

    edges = sorted({a for a, _, _ in segs} | {z for _, z, _ in segs})
    edges += [g.start_ns for g in flips] + [g.end_ns for g in flips]
    edges.sort()
    end = max(edges) + 20 * rx.bit_ns if edges else 0.0
    out: list[tuple[int, int]] = []
    t = 0.0
    await_high = False
    bit = rx.bit_ns
    delay = {"pl011": 1 / 32, "mini": 1 / 16}[kind]
    while t < end:
        cands = [e for e in edges if e >= t]
        # find the first instant >= t where the line is low (or high when awaiting)
        probe = [t, *cands]
        found = None
        for p in probe:
            if level(p) == (not await_high):
                continue
            found = p
            break
        if found is None:
            break
        if await_high:
            await_high = False
            t = found
            continue
        centre = found + (0.5 + delay) * bit  # start-bit centre as sampled
        if level(centre):
            t = centre
            continue
        value = sum(1 << k for k in range(rx.data_bits) if level(centre + (k + 1) * bit))
        pos = 1 + rx.data_bits
        flags = 0
        par_low = True
        if rx.parity != "none":
            p = level(centre + pos * bit)
            par_low = not p
            if kind == "pl011" and int(p) != rx.parity_bit(value):
                flags |= PE
            pos += 1
        stop = level(centre + pos * bit)
        if kind == "pl011" and not stop:
            flags |= FE
            if value == 0 and par_low:
                flags = BE | FE
                await_high = True
        out.append((value, flags))
        t = centre + pos * bit
    return out


# -- frames as data ---------------------------------------------------------------------
def test_frame_word_is_start_data_lsb_first_parity_stop() -> None:
    """soc-facts §4.2: a frame is start, 5-8 data bits, optional parity, 1 or 2 stop bits."""
    s = LineSettings(9600, 8, "none", 1)
    # 'A' = 0x41: start 0, data 1000_0010 (LSB first), stop 1
    assert [(s.frame_word(0x41) >> k) & 1 for k in range(10)] == [0, 1, 0, 0, 0, 0, 0, 1, 0, 1]
    even = LineSettings(9600, 7, "even", 2)
    word = even.frame_word(0x41)  # two ones: even parity bit 0
    assert [(word >> k) & 1 for k in range(11)] == [0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1]
    odd = LineSettings(9600, 7, "odd", 1)
    assert (odd.frame_word(0x41) >> 8) & 1 == 1
    assert LineSettings(9600, 8, "mark").parity_bit(0) == 1
    assert LineSettings(9600, 8, "space").parity_bit(0xFF) == 0
    assert even.frame_bits == 11
    assert even.sampled_bits == 10


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"baud": 0}, "positive"),
        ({"baud": 9600, "data_bits": 9}, "5, 6, 7 or 8"),
        ({"baud": 9600, "data_bits": 4}, "5, 6, 7 or 8"),
        ({"baud": 9600, "parity": "sometimes"}, "parity must be one of"),
        ({"baud": 9600, "stop_bits": 3}, "1 or 2"),
    ],
)
def test_bad_line_settings_are_refused_with_what_is_valid(
    kwargs: dict[str, object], match: str
) -> None:
    """Bad input gets a clear error (issue 4: an unsupported word size)."""
    with pytest.raises(ConfigurationError, match=match):
        LineSettings(**kwargs)  # type: ignore[arg-type]


def test_parity_letters_are_accepted() -> None:
    assert LineSettings(9600, parity=parity_name("E")).parity == "even"
    assert LineSettings(9600, parity=parity_name("n")).describe() == "9600 8N1"
    with pytest.raises(ConfigurationError, match="N/E/O/M/S"):
        parity_name("x")


# -- matching receivers -------------------------------------------------------------------
def test_matching_receiver_gets_every_byte_at_its_stop_bit_centre() -> None:
    """A receiver with the sender's settings completes each character at its stop bit's centre."""
    line = Line()
    rx = line.receiver(S115)
    line.tx.send(b"Hello, world")
    line.world.run_for(2_000_000)
    got = chars(rx)
    assert bytes(c.value for c in got) == b"Hello, world"
    assert all(c.flags == 0 for c in got)
    bit = 1e9 / 115_200
    for i, c in enumerate(got):
        # stop-bit centre plus the start-detection latency (half a 16x tick)
        assert c.time_ns == pytest.approx(i * 10 * bit + (9.5 + 1 / 32) * bit)


def test_characters_become_visible_only_when_complete() -> None:
    """A character cannot be read before its stop bit has been sampled."""
    line = Line()
    rx = line.receiver(S115)
    line.tx.send(b"ABC")
    bit = 1e9 / 115_200
    line.world.run_for(int(19.5 * bit))  # just before the second completes
    assert bytes(c.value for c in chars(rx)) == b"A"
    assert rx.waiting() == 0
    line.world.run_for(int(11 * bit))
    assert bytes(c.value for c in chars(rx)) == b"BC"


def test_five_bit_receiver_keeps_the_low_bits() -> None:
    s = LineSettings(9600, 5)
    line = Line(s)
    rx = line.receiver(s)
    line.tx.send(bytes([0xFF, 0x35]))
    line.world.run_for(5_000_000)
    assert [c.value for c in chars(rx)] == [0x1F, 0x15]


# -- mismatched receivers ----------------------------------------------------------------
def test_receiver_at_twice_the_baud_sees_ff_as_fe() -> None:
    """A frame is a waveform: 0xFF at 9600 sampled at 19200 reads 0xFE (the start bit is 2 of its bits)."""
    line = Line(LineSettings(9600))
    rx = line.receiver(LineSettings(19_200))
    line.tx.send(b"\xff")
    line.world.run_for(3_000_000)
    got = chars(rx)
    assert [(c.value, c.flags) for c in got] == [(0xFE, 0)]


def test_parity_mismatch_sets_pe_on_every_character() -> None:
    """soc-facts §4.2 PL011 DR: PE when the parity bit does not match LCRH EPS/SPS."""
    line = Line(LineSettings(115_200, 8, "odd"))
    rx = line.receiver(LineSettings(115_200, 8, "even"))
    line.tx.send(b"\x00\x01\x7e")
    line.world.run_for(1_000_000)
    assert [(c.value, c.flags) for c in chars(rx)] == [(0x00, PE), (0x01, PE), (0x7E, PE)]


def test_receiver_expecting_parity_on_8n1_sees_framing_errors() -> None:
    """8N1 into an 8E1 receiver: the stop bit is read as parity and the next start bit as stop."""
    line = Line(S115)
    rx = line.receiver(LineSettings(115_200, 8, "even"))
    line.tx.send(b"\x41\x41")
    line.world.run_for(1_000_000)
    got = [(c.value, c.flags) for c in chars(rx)]
    # 0x41 has two ones (even parity bit 0) but the sampled "parity" is the stop bit (1): PE;
    # the sampled "stop" is the next start bit (0): FE
    assert got[0] == (0x41, PE | FE)


def _mismatch_cases() -> st.SearchStrategy[tuple[LineSettings, LineSettings, bytes]]:
    bauds = st.sampled_from([4800, 9600, 10_400, 19_200, 38_400, 57_600, 115_200, 125_000])
    fmt = st.tuples(
        st.sampled_from([5, 6, 7, 8]),
        st.sampled_from(["none", "even", "odd", "mark", "space"]),
        st.sampled_from([1, 2]),
    )
    return st.tuples(bauds, fmt, bauds, fmt, st.binary(min_size=1, max_size=6)).map(
        lambda c: (LineSettings(c[0], *c[1]), LineSettings(c[2], *c[3]), c[4])  # type: ignore[arg-type]
    )


@settings(max_examples=40)
@given(case=_mismatch_cases(), kind=st.sampled_from(["pl011", "mini"]))
def test_closed_form_receiver_agrees_with_a_naive_decoder(
    case: tuple[LineSettings, LineSettings, bytes], kind: ReceiverKind
) -> None:
    """Issue 4: a receiver at another baud rate or format sees what real hardware sees
    (framing errors, parity errors, wrong bytes), computed by sampling at its bit centres."""
    tx_s, rx_s, data = case
    line = Line(tx_s)
    rx = line.receiver(rx_s, kind)
    line.tx.send(data)
    line.world.run_for(int(len(data) * tx_s.frame_ns + 40 * max(tx_s.bit_ns, rx_s.bit_ns)))
    got = [(c.value, c.flags) for c in chars(rx)]
    bursts = [Burst(0.0, tx_s, data)]
    assert got == reference_decode(bursts, rx_s, kind=kind)


# -- breaks and held-low lines ---------------------------------------------------------------
def test_pl011_break_gives_one_zero_with_be_then_waits_for_high() -> None:
    """soc-facts §4.2/§8.9: a break loads exactly one 0x00 with BE; the next character needs
    the line to go high and a new start bit."""
    line = Line()
    rx = line.receiver(S115)
    line.tx.set_break(True)
    line.world.run_for(5_000_000)  # ~58 frame times low
    line.tx.set_break(False)
    line.world.run_for(100_000)
    line.tx.send(b"Z")
    line.world.run_for(200_000)
    got = [(c.value, c.flags) for c in chars(rx)]
    assert got == [(0x00, BE | FE), (ord("Z"), 0)]


def test_mini_uart_line_held_low_reads_a_stream_of_zeros_without_errors() -> None:
    """soc-facts §4.2/§8.8: a continuously low RX gives a stream of 0x00, no framing error."""
    line = Line()
    rx = line.receiver(S115, "mini")
    line.tx.set_break(True)
    line.world.run_for(1_000_000)
    got = chars(rx)
    bit = 1e9 / 115_200
    # the mini UART restarts at each stop-bit sample: one 0x00 per 9.5 bit times (+ latency)
    assert len(got) == int(1_000_000 // ((9.5 + 1 / 16) * bit))
    assert {(c.value, c.flags) for c in got} == {(0, 0)}
    line.tx.set_break(False)
    line.world.run_for(1_000_000)
    assert len(chars(rx)) <= 1  # at most the character straddling the release
    line.tx.send(b"ok")
    line.world.run_for(1_000_000)
    assert bytes(c.value for c in chars(rx)) == b"ok"


def test_receiver_decodes_a_frame_bit_banged_on_the_pin() -> None:
    """A pin driven by hand (one net change per bit) is decoded the same as a published burst."""
    world = World()
    c = Circuit(world)
    net = c.add_net("RX")
    net.drive("test", Drive.push_pull(True))
    rx = UartReceiver(world, LineSettings(9600), name="rx", inputs=[net], hub=UartLines.of(c))
    s = LineSettings(9600)
    word = s.frame_word(ord("k"))

    def bang() -> Generator[simpy.Event, None, None]:
        for k in range(s.frame_bits):
            net.drive("test", Drive.push_pull(bool((word >> k) & 1)))
            yield world.timeout(round(s.bit_ns))

    world.process(bang())
    world.run_for(3_000_000)
    assert [(x.value, x.flags) for x in chars(rx)] == [(ord("k"), 0)]


# -- noise and truncation ---------------------------------------------------------------------
def test_glitch_in_a_data_bit_flips_that_bit_only() -> None:
    """Injected noise: a glitch over the centre of data bit 3 inverts bit 3."""
    line = Line()
    rx = line.receiver(S115)
    bit = 1e9 / 115_200
    line.tx.send(b"\x00")
    line.hub.add_glitches(line.rx_net, [Glitch(4.3 * bit, 4.7 * bit)])
    line.world.run_for(200_000)
    assert [(c.value, c.flags) for c in chars(rx)] == [(0x08, 0)]


def test_short_glitch_on_an_idle_line_is_rejected_as_a_false_start() -> None:
    """A low pulse shorter than half a bit fails start-bit validation at mid-bit."""
    line = Line()
    rx = line.receiver(S115)
    bit = 1e9 / 115_200
    line.hub.add_glitches(line.rx_net, [Glitch(1000.0, 1000.0 + 0.3 * bit)])
    line.world.run_for(200_000)
    assert chars(rx) == []


def test_hold_lets_the_character_in_progress_finish_and_resumes_later() -> None:
    """A held transmitter (CTS deasserted) stops after the current character, then resumes."""
    line = Line()
    rx = line.receiver(S115)
    bit = 1e9 / 115_200
    line.tx.send(b"0123456789")
    line.world.run_for(int(25 * bit))  # third character in progress
    line.tx.hold("cts")
    line.world.run_for(1_000_000)
    assert bytes(c.value for c in chars(rx)) == b"012"
    assert line.tx.queued() == 7
    line.tx.release("cts")
    line.world.run_for(1_000_000)
    assert bytes(c.value for c in chars(rx)) == b"3456789"


def test_baud_change_mid_burst_garbles_the_rest_at_the_far_end() -> None:
    """Changing the sender's baud rate mid-stream: the far end (old rate) sees wrong bytes."""
    line = Line()
    rx = line.receiver(S115)
    bit = 1e9 / 115_200
    line.tx.send(b"U" * 20)
    line.world.run_for(int(55 * bit))
    line.tx.set_settings(LineSettings(57_600))
    line.world.run_for(10_000_000)
    got = chars(rx)
    assert bytes(c.value for c in got[:6]) == b"U" * 6
    assert bytes(c.value for c in got[6:]) != b"U" * 14
    assert any(c.flags for c in got[6:])


def test_receiver_baud_change_applies_from_the_next_character() -> None:
    """soc-facts §4.2: new divisors take effect once the current character is complete."""
    line = Line()
    rx = line.receiver(S115)
    bit = 1e9 / 115_200
    line.tx.send(b"abcdef")
    line.world.run_for(int(25 * bit))  # 'c' in progress
    rx.set_settings(LineSettings(57_600))
    line.world.run_for(2_000_000)
    got = chars(rx)
    assert bytes(c.value for c in got[:3]) == b"abc"
    assert bytes(c.value for c in got[3:]) != b"def"


def test_drained_fires_when_the_last_stop_bit_ends() -> None:
    line = Line()
    line.tx.send(b"xy")
    ev = line.tx.drained()
    line.world.run_until(ev, limit_ns=10_000_000)
    assert line.world.now_ns == pytest.approx(2 * S115.frame_ns, abs=1)
    assert not line.tx.busy()


def test_loopback_needs_the_jumper() -> None:
    """Listeners are found by electrical node: without the TX-RX wire nothing arrives."""
    world = World()
    c = Circuit(world)
    tx_net, rx_net = c.add_net("TX"), c.add_net("RX")
    hub = UartLines.of(c)
    tx = UartTransmitter(world, S115, name="tx", hub=hub, outputs=[tx_net])
    rx = UartReceiver(world, S115, name="rx", inputs=[rx_net], hub=hub)
    rx_net.drive("pull", Drive.pull_up(10_000))
    tx.send(b"a")
    world.run_for(1_000_000)
    assert chars(rx) == []
    wire = c.connect(tx_net, rx_net)
    tx.send(b"b")
    world.run_for(1_000_000)
    assert [x.value for x in chars(rx)] == [ord("b")]
    c.disconnect(wire)
    tx.send(b"c")
    world.run_for(1_000_000)
    assert chars(rx) == []


@settings(max_examples=30)
@given(
    data=st.binary(min_size=1, max_size=5),
    spans=st.lists(st.tuples(st.floats(0, 50), st.floats(0.05, 3.0)), min_size=1, max_size=6),
    kind=st.sampled_from(["pl011", "mini"]),
)
def test_noise_decodes_as_a_naive_decoder_sees_it(
    data: bytes, spans: list[tuple[float, float]], kind: ReceiverKind
) -> None:
    """Injected noise (inverted spans, in bit times) changes exactly the samples it covers."""
    line = Line()
    rx = line.receiver(S115, kind)
    bit = S115.bit_ns
    glitches = sorted((Glitch(a * bit, (a + w) * bit) for a, w in spans), key=lambda g: g.start_ns)
    merged: list[Glitch] = []
    for g in glitches:
        if merged and g.start_ns <= merged[-1].end_ns:
            merged[-1] = Glitch(merged[-1].start_ns, max(merged[-1].end_ns, g.end_ns))
        else:
            merged.append(g)
    line.hub.add_glitches(line.rx_net, merged)
    line.tx.send(data)
    line.world.run_for(int((len(data) + 8) * S115.frame_ns))
    got = [(c.value, c.flags) for c in chars(rx)]
    assert got == reference_decode([Burst(0.0, S115, data)], S115, kind=kind, flips=tuple(merged))
