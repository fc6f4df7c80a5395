"""Host-side checks of ci/kernel/gps_bridge.py on simulated time (no QEMU, no wall clock).

The bridge's characters are the emulator's GPS model (emulator/pihil_emulator/devices/
nmea_gps.py) decoded off its TX line at the model's 9600 8N1: RMC then GGA at the top of each
simulated second, each character complete one frame (10 bits, 1.0417 ms) after the one
before (tests/emulator/devices/test_dev_gps.py checks the model itself on a board).
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pynmea2  # type: ignore[import-untyped]
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ci" / "kernel"))
from gps_bridge import DEFAULT_PARAMS, GpsBridge  # ci/kernel/gps_bridge.py

T0 = dt.datetime(2025, 6, 30, 23, 59, 58, tzinfo=dt.UTC)
NS = 1_000_000_000


@pytest.fixture
def bridge() -> Iterator[GpsBridge]:
    b = GpsBridge(utc=T0)
    yield b
    b.stop()


def test_sentences_each_second_with_the_models_fix_and_time(bridge: GpsBridge) -> None:
    chars = bridge.pump(3 * NS + NS // 2)
    lines = [ln for ln in bytes(c.value for c in chars).decode("ascii").split("\r\n") if ln]
    parsed = [pynmea2.parse(ln, check=True) for ln in lines]
    assert [p.sentence_type for p in parsed] == ["RMC", "GGA"] * 4  # t = 0, 1, 2, 3 s
    rmc = parsed[::2]
    stamps = [dt.datetime.combine(p.datestamp, p.timestamp).replace(tzinfo=dt.UTC) for p in rmc]
    assert stamps == [T0 + dt.timedelta(seconds=s) for s in range(4)]  # across midnight
    assert rmc[0].latitude == pytest.approx(float(str(DEFAULT_PARAMS["latitude"])), abs=1e-5)
    assert int(parsed[1].num_sats) == DEFAULT_PARAMS["satellites"]
    assert all(c.flags == 0 for c in chars)


def test_characters_complete_one_frame_apart_at_9600(bridge: GpsBridge) -> None:
    """uart_rx.py: a character is complete at its stop bit's centre (9.5 bits + the start
    detection delay); back-to-back characters follow one 10-bit frame apart."""
    chars = bridge.pump(NS // 2)
    bit_ns = NS / 9600
    assert chars[0].time_ns == pytest.approx((9.5 + 1 / 32) * bit_ns)
    gaps = {round(b.time_ns - a.time_ns) for a, b in itertools.pairwise(chars)}
    assert gaps == {round(10 * bit_ns)}
    assert bridge.pump(NS // 2) == []  # nothing more until the next second


def test_the_record_and_the_chardev(bridge: GpsBridge) -> None:
    record = bridge.fix_record()
    assert record["utc_at_zero"] == T0.isoformat()
    assert (record["device"], record["baud"], record["format"]) == ("/dev/ttyS2", 9600, "9600 8N1")
    assert bridge.chardev() == f"socket,id=gps,host=127.0.0.1,port={bridge.port}"
