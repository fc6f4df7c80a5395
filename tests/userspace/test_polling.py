"""``select.poll`` and ``selectors`` inside a userspace: emulated and real descriptors together."""

from __future__ import annotations

import os
import select
import selectors
from collections.abc import Iterator

import pytest

from pihil_emulator.userspace.polling import ORIGINAL_DEFAULT_SELECTOR, ORIGINAL_POLL
from rpiboard_pihil import RpiBoard


@pytest.fixture
def mirkopc() -> Iterator[RpiBoard]:
    board = RpiBoard("local", options={"simulate": True, "board": "mirkopc"})
    yield board
    board.close()


def test_poll_sees_emulated_and_real_descriptors(mirkopc: RpiBoard) -> None:
    read_end, write_end = os.pipe()
    try:
        with mirkopc.simulation.userspace():
            fd = os.open("/dev/i2c-1", os.O_RDWR)
            poller = select.poll()
            poller.register(fd, select.POLLOUT)
            poller.register(read_end, select.POLLIN)
            assert poller.poll(0) == [(fd, select.POLLOUT)]  # the pipe is empty
            os.write(write_end, b"x")
            assert sorted(poller.poll(0)) == sorted(
                [(fd, select.POLLOUT), (read_end, select.POLLIN)]
            )
            poller.unregister(read_end)
            with pytest.raises(KeyError):
                poller.unregister(read_end)
            os.close(fd)
            assert poller.poll(0) == [(fd, select.POLLNVAL)]
        assert select.poll is ORIGINAL_POLL  # the original is back
    finally:
        os.close(read_end)
        os.close(write_end)


def test_the_default_selector_knows_emulated_files(mirkopc: RpiBoard) -> None:
    with mirkopc.simulation.userspace():
        fd = os.open("/dev/i2c-1", os.O_RDWR)
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_WRITE, data="bus")
            ((key, events),) = selector.select(timeout=1)
            assert key.data == "bus"
            assert events == selectors.EVENT_WRITE
        os.close(fd)
    assert selectors.DefaultSelector is ORIGINAL_DEFAULT_SELECTOR
