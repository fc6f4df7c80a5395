"""IVI Driver Core "Multithread Safety": threads sharing one session never interleave a transaction.

Each check runs twice: with the session's lock, where it must hold, and with the lock
replaced by a no-op, where the same check must see the interleaving. The second run
shows that the assertion of the first can fail.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sim_helpers import open_sim

from rpiboard_pihil import RpiBoard
from rpiboard_pihil.i2c import SCAN_FIRST, SCAN_LAST

SCAN_LENGTH = SCAN_LAST - SCAN_FIRST + 1


class NoLock:
    """Stands in for the session lock to show what happens without it."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.fixture
def board() -> Iterator[RpiBoard]:
    b = open_sim("mirkopc")
    yield b
    b.close()


@pytest.fixture(autouse=True)
def _switch_often() -> Iterator[None]:
    """Make the interpreter switch threads as often as it can, so overlaps show."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_threads(*targets: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # reported by the test thread
                errors.append(exc)

        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def overlap_seen(board: RpiBoard, rounds: int = 300, *, wait_for_company: bool = False) -> int:
    """The most session calls found inside the backend at once, with four threads calling.

    ``wait_for_company``: the first call inside waits until a second one is inside too (up
    to 5 s, only reached when calls are serialised), so an unserialised session shows its
    overlap every time instead of when the scheduler happens to switch threads there."""
    session = board._session
    inside = 0
    most = 0
    guard = threading.Condition()

    def operation() -> None:
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
            guard.notify_all()
            if wait_for_company:
                guard.wait_for(lambda: most > 1, timeout=5.0)
        os.sched_yield()  # give the other threads the CPU in the middle of the "transaction"
        with guard:
            inside -= 1

    def worker() -> None:
        for _ in range(rounds):
            session.call(operation)

    run_threads(worker, worker, worker, worker)
    return most


def test_calls_are_serialised_by_the_session_lock(board: RpiBoard) -> None:
    assert overlap_seen(board) == 1


def test_without_the_lock_the_overlap_check_fails(board: RpiBoard) -> None:
    board._session.lock = NoLock()  # type: ignore[assignment]
    assert overlap_seen(board, rounds=20, wait_for_company=True) > 1


def scan_runs(
    board: RpiBoard, monkeypatch: pytest.MonkeyPatch, *, meet_mid_scan: bool = False
) -> list[tuple[str, int]]:
    """Thread A scans i2c1 twice while thread B reads the RTC; the backend's transfer log,
    as runs of (thread, number of consecutive transfers).

    ``meet_mid_scan``: the scanner waits after its second transfer until the reader has made
    one, and the reader waits until the scanner is there (each up to 5 s, which a serialised
    session reaches), so an unserialised session shows its interleaving on every run instead
    of when the scheduler happens to switch threads inside a scan."""
    backend: Any = board._session.backend
    real = backend.i2c_transfer
    log: list[str] = []
    scanner_waiting = threading.Event()
    reader_went = threading.Event()

    def logged(bus: int, messages: Any) -> list[bytes]:
        me = threading.current_thread().name
        if meet_mid_scan and me == "read":
            scanner_waiting.wait(timeout=5.0)
        log.append(me)
        if meet_mid_scan and me == "read":
            reader_went.set()
        elif meet_mid_scan and log.count("scan") == 2:
            scanner_waiting.set()
            reader_went.wait(timeout=5.0)
        os.sched_yield()
        result: list[bytes] = real(bus, messages)
        return result

    monkeypatch.setattr(backend, "i2c_transfer", logged)
    i2c = board.i2c_buses["i2c1"]
    found: list[list[int]] = []

    def scanner() -> None:
        threading.current_thread().name = "scan"
        for _ in range(2):
            found.append(i2c.scan())

    def reader() -> None:
        threading.current_thread().name = "read"
        for _ in range(40):
            i2c.write_read(0x68, b"\x03", 1)

    run_threads(scanner, reader)
    assert found == [[0x2F, 0x48, 0x60, 0x68]] * 2  # results intact
    return [(name, len(list(group))) for name, group in itertools.groupby(log)]


def test_a_scan_is_one_transaction(board: RpiBoard, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan is 112 transfers under one lock: the reader's transfers never fall inside it."""
    runs = scan_runs(board, monkeypatch)
    assert all(n % SCAN_LENGTH == 0 for name, n in runs if name == "scan"), runs
    assert sum(n for name, n in runs if name == "read") == 40


def test_without_the_lock_a_scan_is_interleaved(
    board: RpiBoard, monkeypatch: pytest.MonkeyPatch
) -> None:
    board._session.lock = NoLock()  # type: ignore[assignment]
    try:
        runs = scan_runs(board, monkeypatch, meet_mid_scan=True)
    except Exception:
        return  # the emulator itself broke under concurrent use: interleaving seen
    assert any(n % SCAN_LENGTH for name, n in runs if name == "scan"), runs


def test_threads_hammering_gpio_and_spi_get_consistent_results(board: RpiBoard) -> None:
    """Many threads on one session: every call's result is what that call asked for."""
    flash = board.spi_buses[0].devices[0]
    lines = [board.gpios[n] for n in (22, 23, 24, 25)]
    for g in lines:
        g.set_output(False)
    jedec = bytes([0xEF, 0x40, 0x16])

    def spi_worker() -> None:
        for _ in range(100):
            assert flash.transfer(b"\x9f\x00\x00\x00")[1:] == jedec

    def gpio_worker(g: Any) -> Callable[[], None]:
        def run() -> None:
            for i in range(200):
                g.value = bool(i & 1)
                assert g.value is bool(i & 1)  # only this thread writes this line

        return run

    run_threads(spi_worker, spi_worker, *(gpio_worker(g) for g in lines))
