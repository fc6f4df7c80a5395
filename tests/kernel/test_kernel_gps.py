"""The emulator's GPS model into a real kernel tty: pyserial + pynmea2 on the guest's /dev/ttyS2.

ci/kernel/run.py wires QEMU's third 16550 (``/dev/ttyS2``, 8250 driver) to ci/kernel/gps_bridge.py
on the host: the emulator's ``nmea-gps`` model (emulator/pihil_emulator/devices/nmea_gps.py:
RMC then GGA at the top of every second, 9600 8N1, ``*hh`` checksums) paced to the wall clock,
its simulated time 0 at a whole UTC second. The bridge records the model's fix in
``gps.json`` in the output folder (``PIHIL_GPS_RECORD``); the line counts as connected from
the first byte the guest sends. The reader is what a user's script on a Pi with a GPS HAT
does (tests/userspace/test_serial.py runs the same reader on the emulated PL011).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

import pynmea2  # type: ignore[import-untyped]
import pytest
import serial

READ_S = 6.0  # up to six seconds of sentences (the guest's tty runs in real time)


@pytest.fixture(scope="module")
def record() -> dict[str, Any]:
    path = Path(os.environ.get("PIHIL_GPS_RECORD", "/nonexistent/gps.json"))
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.fixture(scope="module")
def received(record: dict[str, Any]) -> list[tuple[float, pynmea2.NMEASentence]]:
    """Three seconds' sentences read from the port (arrival time in the guest, sentence)."""
    got: list[tuple[float, pynmea2.NMEASentence]] = []
    with serial.Serial(record["device"], 9600, timeout=2.0) as port:
        port.reset_input_buffer()
        port.write(b"\r\n")  # the bridge connects the GPS's TX once the guest talks
        port.flush()
        port.readline()  # the first line may start mid-sentence
        deadline = time.monotonic() + READ_S
        while time.monotonic() < deadline and len(got) < 6:
            line = port.readline().decode("ascii").strip()
            if line:
                got.append((time.monotonic(), pynmea2.parse(line, check=True)))
    return got


def test_sentences_arrive_as_rmc_gga_pairs(
    received: list[tuple[float, pynmea2.NMEASentence]],
) -> None:
    """nmea_gps.py: RMC then GGA each second; pynmea2 checks each ``*hh`` (check=True)."""
    kinds = [m.sentence_type for _, m in received]
    assert len(kinds) == 6, kinds
    start = kinds.index("RMC")
    assert kinds[start : start + 4] == ["RMC", "GGA", "RMC", "GGA"]


def test_position_and_fix_are_the_models(
    received: list[tuple[float, pynmea2.NMEASentence]], record: dict[str, Any]
) -> None:
    for _, m in received:
        assert m.latitude == pytest.approx(record["latitude"], abs=1e-5)
        assert m.longitude == pytest.approx(record["longitude"], abs=1e-5)
        if m.sentence_type == "GGA":
            assert int(m.gps_qual) == record["quality"]
            assert int(m.num_sats) == record["satellites"]
            assert float(m.altitude) == pytest.approx(record["altitude_m"])
        else:
            assert m.status == "A"


def test_time_is_the_models_clock_in_whole_seconds(
    received: list[tuple[float, pynmea2.NMEASentence]], record: dict[str, Any]
) -> None:
    """RMC's date and time are ``utc_at_zero`` + the model's seconds: consecutive whole
    seconds after the model's start, one a second."""
    zero = dt.datetime.fromisoformat(record["utc_at_zero"])
    stamps = [
        dt.datetime.combine(m.datestamp, m.timestamp).replace(tzinfo=dt.UTC)
        for _, m in received
        if m.sentence_type == "RMC"
    ]
    assert len(stamps) >= 2
    offsets = [(s - zero).total_seconds() for s in stamps]
    assert all(o >= 0 and o == int(o) for o in offsets), offsets
    assert [b - a for a, b in itertools.pairwise(offsets)] == [1.0] * (len(offsets) - 1)


def test_paced_to_the_wall_clock(
    received: list[tuple[float, pynmea2.NMEASentence]], record: dict[str, Any]
) -> None:
    """The bridge sends each second's pair in real time: the newest RMC read carries about the
    guest's own UTC (QEMU's RTC is the host's clock), not a time minutes behind or ahead."""
    rmc = [m for _, m in received if m.sentence_type == "RMC"][-1]
    stamp = dt.datetime.combine(rmc.datestamp, rmc.timestamp).replace(tzinfo=dt.UTC)
    lag = (dt.datetime.now(dt.UTC) - stamp).total_seconds()
    assert -1.5 < lag < 4.0, f"RMC {stamp} vs guest clock: {lag:+.2f} s"
    assert record["baud"] == 9600
    assert record["format"] == "9600 8N1"
