"""The NMEA GPS on a UART (issue 4): RMC and GGA once per simulated second at 9600 baud, valid
checksums, a position settable from the simulation, time from the simulated clock.

Sentences are checked with pynmea2, an independent NMEA 0183 parser.
"""

from __future__ import annotations

import datetime as dt

import pynmea2  # type: ignore[import-untyped]
import pytest

from pihil_emulator.board import Board
from pihil_emulator.buses.uart_line import LineSettings
from pihil_emulator.devices.nmea_gps import NmeaGps, nmea_checksum, nmea_sentence
from pihil_emulator.devices.registry import create_device
from pihil_emulator.errors import ConfigurationError
from pihil_emulator.soc.pl011 import Pl011Block
from pihil_emulator.world.clock import NS_PER_S

T0 = dt.datetime(2025, 6, 30, 23, 59, 58, tzinfo=dt.UTC)


def board_with_gps(gps: NmeaGps) -> tuple[Board, Pl011Block]:
    """The MirkoPC with its jig loopback removed and a GPS on UART0 (GPIO14/15)."""
    board = Board.from_profile("mirkopc")
    for wire in list(board.circuit.wires):
        if {wire.a.name, wire.b.name} == {"GPIO14", "GPIO15"}:
            board.circuit.disconnect(wire)
    board.attach(gps, bus="uart0")
    uart = board.soc.blocks["uart0"]
    assert isinstance(uart, Pl011Block)
    return board, uart


def lines(data: bytes) -> list[str]:
    return [ln for ln in data.decode("ascii").split("\r\n") if ln]


def test_checksum_is_the_xor_between_dollar_and_star() -> None:
    """NMEA 0183: *hh is the XOR of the characters between $ and *, in upper-case hex."""
    assert nmea_checksum("GPGGA,,,,,,0,00,99.99,,,,,,") == "48"
    sentence = nmea_sentence("GPRMC,000000.00,V,,,,,,,010125,,,N")
    assert pynmea2.parse(sentence.decode().strip(), check=True).sentence_type == "RMC"


def test_rmc_and_gga_once_per_simulated_second_at_9600() -> None:
    """Issue 4: a GPS at 9600 baud sends RMC and GGA once per simulated second with valid
    checksums, its time taken from the simulated clock."""
    gps = NmeaGps("gps", utc_at_zero=T0)
    board, uart = board_with_gps(gps)
    uart.configure(9600)
    board.run_for(3 * NS_PER_S + 500_000_000)
    text = lines(uart.read(4096, 0))
    assert len(text) == 8  # t = 0, 1, 2, 3 s: RMC + GGA each
    parsed = [pynmea2.parse(t, check=True) for t in text]
    assert [p.sentence_type for p in parsed] == ["RMC", "GGA"] * 4
    times = [p.timestamp for p in parsed[::2]]
    assert times == [
        dt.time(23, 59, 58, tzinfo=dt.UTC),
        dt.time(23, 59, 59, tzinfo=dt.UTC),
        dt.time(0, 0, 0, tzinfo=dt.UTC),
        dt.time(0, 0, 1, tzinfo=dt.UTC),
    ]
    assert [p.datestamp for p in parsed[::2]] == [dt.date(2025, 6, 30)] * 2 + [
        dt.date(2025, 7, 1)
    ] * 2
    rmc, gga = parsed[0], parsed[1]
    assert rmc.status == "A"
    assert rmc.latitude == pytest.approx(52.2297, abs=1e-5)
    assert rmc.longitude == pytest.approx(21.0122, abs=1e-5)
    assert gga.gps_qual == 1
    assert int(gga.num_sats) == 8
    assert float(gga.altitude) == pytest.approx(100.0)
    assert uart.error_counts() == {
        "framing": 0,
        "parity": 0,
        "overrun": 0,
        "break": 0,
        "buf_overrun": 0,
    }


def test_each_second_starts_on_the_second_and_lasts_its_bytes_at_9600() -> None:
    """The sentences of second k start at t = k s and take 10 bits per byte at 9600 baud."""
    gps = NmeaGps("gps", utc_at_zero=T0)
    board, uart = board_with_gps(gps)
    uart.configure(9600)
    board.run_for(NS_PER_S - 1)
    uart.discard_input()
    board.run_for(1)  # t = 1 s: the burst starts now
    burst = b"".join(gps.sentences(T0 + dt.timedelta(seconds=1)))
    first = uart.read(1, NS_PER_S)
    assert first == b"$"
    # the PL011 hands the first 16 over at its RX trigger (IFLS RX4_8), the 16th stop bit
    assert board.now_ns - NS_PER_S == pytest.approx((16 * 10 - 0.5) * 1e9 / 9600, rel=0.01)
    rest = uart.read(len(burst) - 1, NS_PER_S)
    assert first + rest == burst
    tail = 32 if len(burst) % 16 else 0  # the last ones at the receive timeout
    assert board.now_ns - NS_PER_S == pytest.approx(
        (10 * len(burst) - 0.5 + tail) * 1e9 / 9600, rel=0.01
    )


def test_position_fix_and_motion_are_settable_from_the_simulation() -> None:
    """Issue 4: a position settable from the simulation (southern/western hemispheres too)."""
    gps = NmeaGps("gps", utc_at_zero=T0)
    board, uart = board_with_gps(gps)
    uart.configure(9600)
    gps.set_position(-33.856784, -151.215297, altitude_m=12.5)
    gps.set_motion(5.5, 270.0)
    board.run_for(NS_PER_S // 2)
    rmc, gga = (pynmea2.parse(t, check=True) for t in lines(uart.read(4096, 0)))
    assert rmc.latitude == pytest.approx(-33.856784, abs=1e-5)
    assert rmc.longitude == pytest.approx(-151.215297, abs=1e-5)
    assert rmc.lat_dir == "S"
    assert rmc.lon_dir == "W"
    assert rmc.spd_over_grnd == pytest.approx(5.5)
    assert rmc.true_course == pytest.approx(270.0)
    assert float(gga.altitude) == pytest.approx(12.5)
    gps.set_fix(0, satellites=0)
    board.run_for(NS_PER_S)
    rmc, gga = (pynmea2.parse(t, check=True) for t in lines(uart.read(4096, 0)))
    assert rmc.status == "V"
    assert gga.gps_qual == 0
    assert rmc.lat == ""


def test_a_uart_at_the_wrong_baud_reads_garbage_with_errors() -> None:
    """A frame is a waveform: at 115200 the 9600 sentences are framing errors and wrong bytes."""
    gps = NmeaGps("gps", utc_at_zero=T0)
    board, uart = board_with_gps(gps)
    uart.configure(115_200)
    board.run_for(NS_PER_S // 2)
    data = uart.read(4096, 0)
    assert b"$GPRMC" not in data
    counts = uart.error_counts()
    assert counts["framing"] + counts["break"] > 0


def test_idle_time_costs_one_wake_per_second() -> None:
    """DESIGN: background behaviour costs nothing while time does not advance; the GPS wakes
    once per simulated second and sends a burst (no event per bit or per byte)."""
    gps = NmeaGps("gps", utc_at_zero=T0)
    board, uart = board_with_gps(gps)
    uart.configure(9600)
    env = board.world.env
    scheduled = 0
    original = env.schedule

    def counting(event: object, priority: int = 1, delay: float = 0) -> None:
        nonlocal scheduled
        scheduled += 1
        original(event, priority, delay)  # type: ignore[arg-type]

    env.schedule = counting  # type: ignore[method-assign]
    board.run_for(600 * NS_PER_S)  # t = 0 .. 599 s (the run stops before t = 600 s)
    assert gps.sent_seconds == 600
    assert scheduled <= 3 * 600
    assert len(uart.read(1 << 20, 0)) == 600 * len(b"".join(gps.sentences(T0)))


def test_from_the_registry_with_profile_parameters() -> None:
    """`nmea-gps` in the device registry: line settings, start time and position from the profile."""
    gps = create_device(
        "nmea-gps",
        name="gps",
        params={"baud": 4800, "utc": "2024-02-29T12:00:00Z", "latitude": 1.5, "longitude": -2.25},
    )
    assert isinstance(gps, NmeaGps)
    assert gps.settings == LineSettings(4800)
    board, uart = board_with_gps(gps)
    uart.configure(4800)
    board.run_for(NS_PER_S // 2)
    rmc = pynmea2.parse(lines(uart.read(4096, 0))[0], check=True)
    assert rmc.datestamp == dt.date(2024, 2, 29)
    assert rmc.latitude == pytest.approx(1.5)
    assert rmc.longitude == pytest.approx(-2.25)
    with pytest.raises(ConfigurationError, match="latitude must be"):
        create_device("nmea-gps", name="g", params={"latitude": 91.0})
    with pytest.raises(ConfigurationError, match="no parameter"):
        create_device("nmea-gps", name="g", params={"lat": 1.0})


def test_dropped_gps_falls_silent() -> None:
    """A dropped device (its attachment removed) no longer reaches the UART."""
    from pihil_emulator.faults import DroppedDevice

    gps = NmeaGps("gps", utc_at_zero=T0)
    board, uart = board_with_gps(gps)
    uart.configure(9600)
    board.inject(DroppedDevice(device=gps, at_ns=NS_PER_S // 2, duration_ns=2 * NS_PER_S))
    board.run_for(2 * NS_PER_S + NS_PER_S // 2)
    assert len(lines(uart.read(4096, 0))) == 2  # only t = 0
    board.run_for(NS_PER_S)
    assert len(lines(uart.read(4096, 0))) == 2  # t = 3 s: back
