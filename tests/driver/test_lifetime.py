"""A closed session frees its whole board (issue 11 "Lifetime": nothing module-level holds a
world), so a property-based test may open a board per example."""

from __future__ import annotations

import gc
import weakref

import smbus2

from rpiboard_pihil import Direction, RpiBoard

BOARDS = 200


def test_closed_sessions_leave_no_board_alive() -> None:
    worlds: list[weakref.ref[object]] = []
    for i in range(BOARDS):
        board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
        worlds.append(weakref.ref(board.simulation.emulator.world))
        # traffic on every kind of block, and now and then the userspace
        board.i2c_buses[1].write_read(0x68, b"\x00", 1)
        board.uarts[0].write(b"hello")
        led = board.gpios["GPIO16"]
        led.direction = Direction.OUTPUT
        led.value = True
        if i % 20 == 0:
            with board.simulation.userspace(), smbus2.SMBus(1) as bus:
                bus.read_byte_data(0x68, 0)
        board.close()
        del board, led
    gc.collect()
    alive = sum(ref() is not None for ref in worlds)
    assert alive == 0, f"{alive} of {BOARDS} closed boards are still alive"
