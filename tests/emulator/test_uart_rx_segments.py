"""Garbage decoded a burst at a time gives exactly what the character-by-character decoder gives.

`UartReceiver` decodes a burst whose samples do not line up with the sender's bits
(wrong baud rate, format, parity or stop bits) in one pass, memoised per transmitted
character (uart_rx_memo). The reference is the same receiver with
``segment_decoding = False``: it decodes one character per world wake. Both listen to
the same line; every value, flag (FE/PE/BE) and completion time must be identical
(``==`` on the floats, no tolerance), at every point where the consumer takes.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from pihil_emulator.buses.uart_line import Glitch, LineSettings, UartLines
from pihil_emulator.buses.uart_rx import BE, FE, ReceiverKind, RxChar, UartReceiver
from pihil_emulator.buses.uart_rx_garbage import GarbageRun
from pihil_emulator.buses.uart_tx import UartTransmitter
from pihil_emulator.world.clock import World
from pihil_emulator.world.net import Circuit, Drive

from .uart_rig import received

RATE_PAIRS = [(9600, 115_200), (57_600, 115_200), (115_200, 9600), (19_200, 115_200)]
"""(sender, receiver) baud rates; plus equal rates with a format mismatch below."""


@dataclass
class Pair:
    """A transmitter on one net and two receivers on it: the reference and the new decoder."""

    world: World
    tx: UartTransmitter
    ref: UartReceiver
    new: UartReceiver
    hub: UartLines
    net: object

    def check(self) -> list[RxChar]:
        a = received(self.ref)
        b = received(self.new)
        assert [(c.value, c.flags, c.time_ns) for c in b] == [
            (c.value, c.flags, c.time_ns) for c in a
        ]
        return b


def make_pair(tx_s: LineSettings, rx_s: LineSettings, kind: ReceiverKind) -> Pair:
    world = World()
    circuit = Circuit(world)
    net = circuit.add_net("RX")
    net.drive("uart", Drive.push_pull(True))
    hub = UartLines.of(circuit)
    tx = UartTransmitter(
        world,
        tx_s,
        name="tx",
        hub=hub,
        outputs=[net],
        drive_level=lambda level: net.drive("uart", Drive.push_pull(level)),
    )
    ref = UartReceiver(world, rx_s, name="ref", kind=kind, inputs=[net], hub=hub)
    ref.segment_decoding = False
    new = UartReceiver(world, rx_s, name="new", kind=kind, inputs=[net], hub=hub)
    return Pair(world, tx, ref, new, hub, net)


formats = st.builds(
    lambda bits, parity, stop: (bits, parity, stop),
    st.sampled_from([5, 6, 7, 8]),
    st.sampled_from(["none", "even", "odd", "mark", "space"]),
    st.sampled_from([1, 2]),
)


@st.composite
def line_pairs(draw: st.DrawFn) -> tuple[LineSettings, LineSettings]:
    if draw(st.booleans()):
        txb, rxb = draw(st.sampled_from(RATE_PAIRS))
    else:
        txb = rxb = draw(st.sampled_from([9600, 115_200]))
    same_format = draw(st.booleans())
    f_tx = draw(formats)
    f_rx = f_tx if same_format and txb != rxb else draw(formats)
    return LineSettings(txb, *f_tx), LineSettings(rxb, *f_rx)


actions = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.binary(min_size=1, max_size=40)),
        st.tuples(st.just("run"), st.integers(0, 3_000_000)),
        st.tuples(st.just("take"), st.just(0)),
        st.tuples(st.just("hold"), st.integers(0, 400_000)),
        st.tuples(st.just("baud"), st.sampled_from([9600, 57_600, 115_200])),
        st.tuples(st.just("off"), st.integers(0, 400_000)),
        st.tuples(st.just("break"), st.integers(0, 400_000)),
    ),
    min_size=1,
    max_size=14,
)


def play(pair: Pair, script: list[tuple[str, object]], rx_s: LineSettings) -> list[RxChar]:
    got: list[RxChar] = []
    for op, arg in script:
        if op == "send":
            assert isinstance(arg, bytes)
            pair.tx.send(arg)
        elif op == "run":
            assert isinstance(arg, int)
            pair.world.run_for(arg)
        elif op == "take":
            got += pair.check()
        elif op == "hold":  # the sender stops after the character in progress, then resumes
            assert isinstance(arg, int)
            pair.world.run_for(arg)
            pair.tx.hold("cts")
            pair.world.run_for(arg)
            pair.tx.release("cts")
        elif op == "off":  # the receivers are disabled for a while (CR.RXE cleared)
            assert isinstance(arg, int)
            pair.ref.set_enabled(False)
            pair.new.set_enabled(False)
            pair.world.run_for(arg)
            pair.ref.set_enabled(True)
            pair.new.set_enabled(True)
        elif op == "break":  # the sender holds the line low (a DC level, not a burst)
            assert isinstance(arg, int)
            pair.tx.set_break(True)
            pair.world.run_for(arg)
            pair.tx.set_break(False)
        elif op == "baud":  # the receivers change rate mid-stream
            assert isinstance(arg, int)
            s = rx_s.with_baud(arg)
            pair.ref.set_settings(s)
            pair.new.set_settings(s)
    pair.world.run_for(200_000_000)
    got += pair.check()
    assert pair.ref.waiting() == pair.new.waiting() == 0
    return got


@settings(max_examples=150)
@given(line_pairs(), st.sampled_from(["pl011", "mini"]), actions)
def test_garbage_decoded_per_burst_equals_the_per_character_decoder(
    lines: tuple[LineSettings, LineSettings],
    kind: ReceiverKind,
    script: list[tuple[str, object]],
) -> None:
    tx_s, rx_s = lines
    pair = make_pair(tx_s, rx_s, kind)
    play(pair, script, rx_s)


@settings(max_examples=60)
@given(
    st.sampled_from(RATE_PAIRS),
    st.sampled_from(["pl011", "mini"]),
    st.binary(min_size=1, max_size=60),
    st.lists(st.tuples(st.integers(0, 6_000_000), st.integers(1, 300_000)), max_size=3),
    st.integers(0, 6_000_000),
)
def test_noise_added_while_garbage_is_decoded_ahead(
    rates: tuple[int, int],
    kind: ReceiverKind,
    data: bytes,
    glitches: list[tuple[int, int]],
    when: int,
) -> None:
    """Noise announced mid-burst forgets what was decoded ahead; both decoders agree after."""
    pair = make_pair(LineSettings(rates[0]), LineSettings(rates[1]), kind)
    pair.tx.send(data)
    pair.world.run_for(when)
    now = pair.world.now_ns
    pair.hub.add_glitches(pair.net, [Glitch(now + a, now + a + w) for a, w in glitches])  # type: ignore[arg-type]
    pair.world.run_for(200_000_000)
    pair.check()


def test_a_gps_burst_at_9600_into_115200_is_one_run_of_breaks_and_one_wake() -> None:
    """The issue's case: NMEA at 9600 into a PL011 at 115200. Every low stretch of the
    9600-baud line is longer than a 115200 frame, so each is one break (0x00, BE|FE), and
    the whole burst is decoded in one pass, not one world wake per character."""
    pair = make_pair(LineSettings(9600), LineSettings(115_200), "pl011")
    sentence = b"$GPRMC,000000.00,A,5213.78200,N,02100.73200,E,0.000,0.00,010124,,,A*6C\r\n"
    pair.tx.send(sentence)
    pair.world.run_for(1_000)
    runs = list(pair.new._runs)
    assert any(isinstance(r, GarbageRun) for r in runs)
    advances_before = pair.new._advances
    pair.world.run_for(200_000_000)
    got = pair.check()
    assert got
    assert all(c.value == 0 and c.flags == BE | FE for c in got)
    assert pair.new._advances - advances_before < 8  # the reference woke once per character
    assert pair.ref._advances > len(got)


def test_the_reference_decoder_is_still_there_and_differs_in_cost_only() -> None:
    """The flag really switches decoders (else the differential tests compare one with itself)."""
    pair = make_pair(LineSettings(57_600, 7, "even"), LineSettings(115_200), "pl011")
    pair.tx.send(bytes(range(0, 256, 7)))
    pair.world.run_for(100)
    assert not any(isinstance(r, GarbageRun) for r in pair.ref._runs)
    assert any(isinstance(r, GarbageRun) for r in pair.new._runs)
    pair.world.run_for(100_000_000)
    assert len(pair.check()) > 0


def _gps_reads(
    *, reference: bool, baud: int, data_bits: int = 8, parity: str = "none"
) -> list[tuple[bytes, int, dict[str, int]]]:
    from pihil_emulator.board import Board
    from pihil_emulator.devices.nmea_gps import NmeaGps
    from pihil_emulator.soc.pl011 import Pl011Block

    board = Board.from_profile("mirkopc")
    for wire in list(board.circuit.wires):
        if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
            board.circuit.disconnect(wire)
    board.attach(NmeaGps("gps"), bus="uart0")
    uart = board.soc.blocks["uart0"]
    assert isinstance(uart, Pl011Block)
    uart.rx.segment_decoding = not reference
    uart.configure(baud, data_bits, parity)
    out = []
    for n in (1, 7, 100, 3, 250, 1, 64, 500, 2, 90):
        data = uart.read(n, 700_000_000)
        out.append((data, board.now_ns, uart.error_counts()))
    return out


def test_a_gps_into_the_wrong_baud_reads_the_same_through_the_pl011_and_its_tty() -> None:
    """Board level: the blocking reads of an opened UART0 return the same bytes at the same
    simulated instants (a read returns when its last character completes), with the same
    error counts, whichever decoder runs (9600 8N1 into 115200, and into 57600 7E1)."""
    new = _gps_reads(reference=False, baud=115_200)
    assert new == _gps_reads(reference=True, baud=115_200)
    assert new[-1][2]["break"] > 500  # garbage indeed
    new = _gps_reads(reference=False, baud=57_600, data_bits=7, parity="even")
    assert new == _gps_reads(reference=True, baud=57_600, data_bits=7, parity="even")
    assert new[-1][2]["parity"] + new[-1][2]["framing"] > 100
