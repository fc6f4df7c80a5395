"""The board's userspace: smbus2 unmodified on the emulated MirkoPC, and the simulated clock."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import pytest
import smbus2

from pihil_emulator.userspace import UserspaceError
from pihil_emulator.userspace.clock import ORIGINAL_SLEEP
from rpiboard_pihil import RpiBoard


@pytest.fixture
def mirkopc() -> RpiBoard:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board  # type: ignore[misc]
    board.close()


def test_sleep_advances_the_board_not_the_wall(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace() as space:
        start_ns = mirkopc.simulation.now_ns
        t0 = time.monotonic()
        time.sleep(1.5)
        assert time.monotonic() - t0 == pytest.approx(1.5)
        assert mirkopc.simulation.now_ns - start_ns == 1_500_000_000
        assert space.wall_s < 1.0
    assert time.sleep is ORIGINAL_SLEEP  # put back on leaving


def test_smbus2_reads_the_rtc_and_a_nack_is_eremoteio(mirkopc: RpiBoard) -> None:
    """soc-facts: the MirkoPC's PCF8523 at 0x68 on i2c1; i2c-bcm2835 maps a NACK to EREMOTEIO."""
    with mirkopc.simulation.userspace():
        with smbus2.SMBus(1) as bus:
            expected = mirkopc.i2c_buses[1].write_read(0x68, b"\x00", 1)[0]
            assert bus.read_byte_data(0x68, 0) == expected
            with pytest.raises(OSError, match="Remote I/O") as nack:
                bus.read_byte_data(0x33, 0)
            assert nack.value.errno == 121
            write, read = smbus2.i2c_msg.write(0x68, [0]), smbus2.i2c_msg.read(0x68, 1)
            bus.i2c_rdwr(write, read)
            assert list(read) == [expected]
        with pytest.raises(FileNotFoundError):
            smbus2.SMBus(7)


def test_threads_take_turns_in_simulated_time(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        done = threading.Event()
        stamps: list[int] = []

        def worker() -> None:
            for _ in range(3):
                time.sleep(0.25)
                stamps.append(mirkopc.simulation.now_ns)
            done.set()

        start = mirkopc.simulation.now_ns
        thread = threading.Thread(target=worker)
        thread.start()
        assert done.wait(5)
        thread.join()
        assert [s - start for s in stamps] == [250_000_000, 500_000_000, 750_000_000]
        q: queue.Queue[int] = queue.Queue()
        t0 = time.monotonic()
        with pytest.raises(queue.Empty):
            q.get(timeout=2)
        assert time.monotonic() - t0 == pytest.approx(2.0)


def test_userspaces_do_not_nest(mirkopc: RpiBoard) -> None:
    outer, inner = mirkopc.simulation.userspace(), mirkopc.simulation.userspace()
    with outer, pytest.raises(UserspaceError, match="do not nest"), inner:
        pass


def test_outside_a_userspace_the_real_calls_answer(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        pass
    with pytest.raises(FileNotFoundError):
        smbus2.SMBus(1)


def test_paced_time_follows_the_wall_clock_for_busy_waits(mirkopc: RpiBoard) -> None:
    """pace=N: simulated time catches up with the wall x N when read, never runs ahead."""
    with mirkopc.simulation.userspace(pace=1000.0) as space:
        start = time.monotonic()
        spins = 0
        while time.monotonic() - start < 0.5:  # a busy-wait: no sleep, no wait
            spins += 1
        assert spins > 1  # it took more than one look: time moved while nothing blocked
        # 0.5 simulated seconds at x1000 is at least 0.5 ms of wall clock
        assert space.wall_s >= 0.5 / 1000
        before = mirkopc.simulation.now_ns
        time.sleep(0.2)  # a jump waits for the wall to get there (0.2 ms here)
        assert mirkopc.simulation.now_ns - before >= 200_000_000
        assert space.simulated_s <= space.wall_s * 1000 + 1e-3


def test_pace_must_be_positive(mirkopc: RpiBoard) -> None:
    with pytest.raises(ValueError, match="pace is simulated seconds per wall-clock second"):
        mirkopc.simulation.userspace(pace=0)


def test_a_clock_read_inside_the_boards_own_step_does_not_run_the_board_again(
    mirkopc: RpiBoard,
) -> None:
    """Paced mode: code the simulation itself calls (a device's process, a log record taking
    its time) may read the patched clock; that read sees the time of its step and does not
    catch up with the wall from inside the run (a nested run takes the outer run's stop
    event: the outer run then ran out of events or never ended)."""
    world = mirkopc.simulation.emulator.world
    seen: list[tuple[int, float]] = []

    def device_process() -> Any:
        for _ in range(50):
            yield world.timeout(1_000_000)
            seen.append((world.now_ns, time.monotonic()))

    with mirkopc.simulation.userspace(pace=1000.0) as space:
        world.process(device_process())
        start = time.monotonic()
        while len(seen) < 50 and time.monotonic() - start < 5.0:
            pass
        base = space.clock.monotonic_base_s - space.clock.start_ns / 1e9
    assert len(seen) == 50
    for now_ns, read in seen:  # each read inside a step is that step's simulated time
        assert read == pytest.approx(base + now_ns / 1e9, abs=1e-9)
