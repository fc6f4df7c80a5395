"""Hypothesis drives an EEPROM driver through the board's userspace against the 24C32 model.

The driver is the kind a user writes: page writes and random reads with smbus2's
``i2c_rdwr``, ACK polling for the write cycle. A test double of it carries a planted bug
(it forgets that a page write wraps inside its page), and Hypothesis must find it.

soc-facts §6: the HAT ID EEPROM is a 24C32 at 0x50 on i2c0 (ID_SD/ID_SC), its WP pulled up
(write-protected: the tests lift it, as the flashing jumper does). CAT24C32 data
sheet: 32-byte pages whose address counter wraps inside the page, a self-timed write
cycle (tWR ≤ 5 ms) during which the part does not acknowledge its address.
"""

from __future__ import annotations

import errno
import time

import hypothesis.strategies as st
import pytest
import smbus2
from hypothesis import HealthCheck, find, given, settings

from rpiboard_pihil import RpiBoard

PAGE = 32
SIZE = 4096


class PagedEeprom:
    """A 24C32 driver on smbus2: page writes, random reads, ACK polling."""

    def __init__(self, bus: smbus2.SMBus, address: int = 0x50, *, split_pages: bool = True):
        self.bus, self.address, self.split_pages = bus, address, split_pages

    def write(self, offset: int, data: bytes) -> None:
        while data:
            room = PAGE - offset % PAGE if self.split_pages else len(data)  # the planted bug
            chunk, data = data[:room], data[room:]
            self.bus.i2c_rdwr(
                smbus2.i2c_msg.write(self.address, [offset >> 8, offset & 0xFF, *chunk])
            )
            self._wait_for_write_cycle()
            offset += len(chunk)

    def read(self, offset: int, length: int) -> bytes:
        read = smbus2.i2c_msg.read(self.address, length)
        self.bus.i2c_rdwr(smbus2.i2c_msg.write(self.address, [offset >> 8, offset & 0xFF]), read)
        return bytes(read)

    def _wait_for_write_cycle(self) -> None:
        deadline = time.monotonic() + 0.05
        while True:
            try:
                self.bus.write_quick(self.address)
                return
            except OSError as exc:  # NACKed while the cell writes
                if exc.errno != errno.EREMOTEIO or time.monotonic() > deadline:
                    raise
                time.sleep(0.0005)


writes = st.lists(
    st.tuples(st.integers(0, SIZE - 1), st.binary(min_size=1, max_size=70)).map(
        lambda w: (w[0], w[1][: SIZE - w[0]])
    ),
    min_size=1,
    max_size=4,
)


def round_trips(eeprom: PagedEeprom, case: list[tuple[int, bytes]]) -> bool:
    expected: dict[int, int] = {}
    for offset, data in case:
        eeprom.write(offset, data)
        expected.update({offset + i: b for i, b in enumerate(data)})
    return all(
        eeprom.read(offset, len(data)) == bytes(expected[offset + i] for i in range(len(data)))
        for offset, data in case
    )


@pytest.fixture
def mirkopc() -> RpiBoard:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    board.simulation.emulator.devices["hat_eeprom"].write_protect = False  # WP jumper fitted
    yield board  # type: ignore[misc]
    board.close()


def test_write_protect_shows_as_eremoteio(mirkopc: RpiBoard) -> None:
    """CAT24C32 with WP high: the first data byte is not acknowledged (i2c-bcm2835: EREMOTEIO)."""
    mirkopc.simulation.emulator.devices["hat_eeprom"].write_protect = True
    with mirkopc.simulation.userspace(), smbus2.SMBus(0) as bus:
        with pytest.raises(OSError, match="Remote I/O") as nack:
            PagedEeprom(bus).write(0x100, b"\x42")
        assert nack.value.errno == errno.EREMOTEIO


def test_the_driver_round_trips_and_matches_the_model(mirkopc: RpiBoard) -> None:
    model = mirkopc.simulation.emulator.devices["hat_eeprom"]

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=writes)
    def check(case: list[tuple[int, bytes]]) -> None:
        with smbus2.SMBus(0) as bus:
            eeprom = PagedEeprom(bus)
            assert round_trips(eeprom, case)
            for offset, data in case[-1:]:
                assert model.contents[offset : offset + len(data)] == data

    with mirkopc.simulation.userspace():
        check()


def test_hypothesis_finds_the_planted_page_wrap_bug(mirkopc: RpiBoard) -> None:
    """The double writes across a page boundary in one go: the 24C32 wraps inside the page,
    so the bytes past the boundary land at the page's start. Hypothesis finds a case, and
    its shrunk example is one that crosses a boundary."""
    with mirkopc.simulation.userspace(), smbus2.SMBus(0) as bus:
        buggy = PagedEeprom(bus, split_pages=False)
        example = find(
            writes,
            lambda case: not round_trips(buggy, case),
            settings=settings(max_examples=200, deadline=None, database=None),
        )
    assert any(offset % PAGE + len(data) > PAGE for offset, data in example)
