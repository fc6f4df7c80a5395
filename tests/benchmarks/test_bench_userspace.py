"""The board's userspace: what user code pays to reach the emulated board.

Issue 10 goals:

- smbus2 ``read_byte_data`` through the userspace (smbus2's ctypes structures, the patched
  ``fcntl.ioctl``, the i2c-dev SMBus emulation, the BSC) costs at most 2x our driver's own
  ``write_read`` for the same transfer (one register of the MirkoPC's PCF8523);
- ``time.sleep(1)`` in a userspace with only the RTC running costs under 5 ms of wall
  clock (the world jumps a simulated second; the RTC's second tick is the only event).

The sides run in turns, five rounds, best of each, on this thread's CPU clock (a shared
machine's scheduler does not count). No timed assertion. Run with ``tox -e bench``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import smbus2

from pihil_emulator.userspace import clock as userspace_clock
from rpiboard_pihil import RpiBoard

READS = 2_000
SLEEPS = 200
ROUNDS = 5
clock = time.thread_time


def _best(fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(ROUNDS))


def test_smbus2_read_byte_data_against_the_driver() -> None:
    with RpiBoard("local", options={"simulate": True, "board": "mirkopc"}) as board:
        bus1 = board.i2c_buses[1]

        def driver() -> float:
            t0 = clock()
            for _ in range(READS):
                bus1.write_read(0x68, b"\x03", 1)
            return (clock() - t0) / READS

        with board.simulation.userspace(), smbus2.SMBus(1) as bus:
            expected = bus1.write_read(0x68, b"\x03", 1)[0]
            assert bus.read_byte_data(0x68, 0x03) == expected

            def userspace() -> float:
                t0 = clock()
                for _ in range(READS):
                    bus.read_byte_data(0x68, 0x03)
                return (clock() - t0) / READS

            ours, theirs = [], []
            for _ in range(ROUNDS):
                ours.append(driver())
                theirs.append(userspace())
    d, u = min(ours), min(theirs)
    print(
        f"\nsmbus2 read_byte_data in the userspace: {u * 1e6:.1f} µs; "
        f"driver write_read: {d * 1e6:.1f} µs; ratio {u / d:.2f} (goal ≤ 2)"
    )


def test_sleep_one_second_with_the_rtc_running() -> None:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    with board, board.simulation.userspace() as space:
        # the wall clock, read through the module: inside a userspace a name bound to
        # the original perf_counter in a test module is rebound to the simulated one
        def sleeps() -> float:
            t0 = userspace_clock.ORIGINAL_PERF_COUNTER()
            for _ in range(SLEEPS):
                time.sleep(1)
            return (userspace_clock.ORIGINAL_PERF_COUNTER() - t0) / SLEEPS

        per_sleep = _best(sleeps)
        simulated = space.simulated_s
    assert simulated >= ROUNDS * SLEEPS  # every sleep advanced the board a second
    print(
        f"\ntime.sleep(1) in a userspace (MirkoPC, RTC ticking): {per_sleep * 1e3:.3f} ms "
        f"of wall clock per call (goal < 5 ms)"
    )
