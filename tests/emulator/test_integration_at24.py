"""The 24Cxx write cycle at transaction level: it starts at the STOP's bus time.

A transaction-level BSC computes a transfer ahead of the clock and stamps each call
to the device with the time of its bus event; a device that read ``world.now_ns``
instead would start tWR before the STOP really happened.
"""

from __future__ import annotations

from typing import Any

from pihil_emulator.board import Board
from pihil_emulator.buses.i2c_master import I2cMessage
from pihil_emulator.devices.at24 import At24Eeprom
from pihil_emulator.errors import BusError

ADDRESS = 0x50  # free on the MirkoPC's i2c1


class StampedEeprom(At24Eeprom):
    """An At24Eeprom that notes the bus time of each STOP and each address it answers."""

    def __init__(self) -> None:
        super().__init__(ADDRESS, "eeprom")
        self.stops: list[int] = []
        self.answers: list[tuple[int, bool]] = []

    def stop(self) -> None:
        self.stops.append(self.now_ns)
        super().stop()

    def start(self, read: bool) -> bool:
        ack = super().start(read)
        self.answers.append((self.now_ns, ack))
        return ack


def eeprom_board() -> tuple[Board, StampedEeprom, Any]:
    board = Board.from_profile("mirkopc")
    eeprom = StampedEeprom()
    board.attach(eeprom, "i2c1")
    return board, eeprom, board.soc.blocks["bsc1"]


def poll(bsc: Any) -> bool:
    """One ACK poll (an address-only write): True when the EEPROM acknowledged."""
    try:
        bsc.transfer([I2cMessage(ADDRESS, False, b"")])
    except BusError as exc:
        if exc.kind != "nack":
            raise
        return False
    return True


def test_ack_polling_sees_the_write_cycle_end_twr_after_the_stop() -> None:
    """CAT24C32 (at24.py docstring): the self-timed write cycle (tWR) starts at the STOP and
    the part does not acknowledge its address until it ends, so a master ACK-polls."""
    board, eeprom, bsc = eeprom_board()
    page = bytes(range(32))
    bsc.transfer([I2cMessage(ADDRESS, False, b"\x00\x20" + page)])
    assert bsc.last_level == "transaction"
    (t_stop,) = eeprom.stops
    end = t_stop + eeprom.write_cycle_ns
    eeprom.answers.clear()  # keep only the polls
    # ACK polling at once: address-only writes until one is acknowledged
    starts: list[int] = []
    for _ in range(200):
        starts.append(board.now_ns)
        if poll(bsc):
            break
    polls = eeprom.answers
    assert polls[-1][1], "the EEPROM never acknowledged again"
    assert not any(ack for _, ack in polls[:-1])
    assert all(t < end for t, _ in polls[:-1])
    assert polls[-1][0] >= end
    # the edge itself: a poll whose address byte ends 1 µs before tWR is over is NACKed,
    # the next one (after it) is acknowledged
    offset = polls[-1][0] - starts[-1]  # from a poll's start to its address byte
    board2, eeprom2, bsc2 = eeprom_board()
    bsc2.transfer([I2cMessage(ADDRESS, False, b"\x00\x20" + page)])
    board2.run_for(eeprom2.stops[0] + eeprom2.write_cycle_ns - 1_000 - offset - board2.now_ns)
    assert not poll(bsc2)
    assert poll(bsc2)
    assert eeprom.write_cycles == eeprom2.write_cycles == 1


def test_write_cycle_ends_exactly_twr_after_the_stop_bus_time() -> None:
    """CAT24C32: tWR counts from the STOP condition (at its bus time, not when the
    transaction-level model computed it)."""
    board, eeprom, bsc = eeprom_board()
    bsc.transfer([I2cMessage(ADDRESS, False, b"\x01\x00\xa5\x5a")])
    (t_stop,) = eeprom.stops
    end = t_stop + eeprom.write_cycle_ns
    board.run_for(end - 1 - board.now_ns)
    assert eeprom.busy
    board.run_for(1)
    assert not eeprom.busy
    assert eeprom.contents[0x100:0x102] == b"\xa5\x5a"
